/*
 * cli.c — `depot hex fingerprint | public-key` (cli.h): the operator's view
 * of the Hex repository key, for the README's client set-up
 * (`mix hex.repo add NAME URL --fetch-public-key FINGERPRINT`, rebar3's
 * repo_public_key).
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "../core/config.h"
#include "../lib/crypto.h"
#include "sign.h"

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: depot hex fingerprint | public-key [--data DIR] [--hex-key FILE] [--hex-repo NAME]\n"
        "  fingerprint   the SHA256 fingerprint for `mix hex.repo add ... --fetch-public-key`\n"
        "  public-key    the repository's public key (PEM), for --public-key and rebar3's repo_public_key\n"
        "The key is made (DATA/hex_repo_key.pem) when there is none yet, as `depot serve` would.\n");
}

int hex_cli(int argc, char **argv)
{
    config cfg;
    derr e;
    char *rest[64];
    int nrest = 0;
    if (argc > 64) {
        usage(stderr);
        return 2;
    }
    int rc = config_load(&cfg, argc, argv, rest, &nrest, stdout, &e);
    if (rc != 0) {
        config_free(&cfg);
        if (rc < 0)
            fprintf(stderr, "depot hex: %s\n", e.message);
        else
            usage(stdout);
        return rc < 0 ? 2 : 0;
    }
    int status = 2;
    if (nrest != 1 || (strcmp(rest[0], "fingerprint") != 0 && strcmp(rest[0], "public-key") != 0)) {
        usage(stderr);
        goto out;
    }
    const hex_key *k;
    if (crypto_init() < 0 || hex_key_get(&cfg, &k, &e) < 0) {
        fprintf(stderr, "depot hex: %s\n", e.message);
        status = 1;
        goto out;
    }
    if (strcmp(rest[0], "fingerprint") == 0)
        printf("%s\n", hex_key_fingerprint(k));
    else
        fputs(hex_key_public_pem(k), stdout);
    status = 0;
out:
    config_free(&cfg);
    return status;
}
