/*
 * cli.h — `depot hex ...`: the Hex repository's key as an operator needs it
 * to configure clients.
 */
#ifndef DEPOT_HEX_CLI_H
#define DEPOT_HEX_CLI_H

/* `depot hex fingerprint` prints the fingerprint `mix hex.repo add --fetch-public-key` takes;
 * `depot hex public-key` prints the PEM public key. Both take the server's options (--data,
 * --hex-key ...) and make the key, as the server would, when there is none yet. argv[0] is
 * "hex". Returns the exit status. */
int hex_cli(int argc, char **argv);

#endif
