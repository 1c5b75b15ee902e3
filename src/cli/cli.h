/*
 * cli.h — the commands of the depot binary. Each takes (argc, argv) with
 * argv[0] the command's own name and returns the process exit status.
 */
#ifndef DEPOT_CLI_H
#define DEPOT_CLI_H

int cli_serve(int argc, char **argv);
/* migrate, user ..., token ...: work on the store directly. */
int cli_admin(int argc, char **argv);

#endif
