/*
 * cli.h — the commands of the depot binary. Each takes (argc, argv) with
 * argv[0] the command's own name and returns the process exit status.
 */
#ifndef DEPOT_CLI_H
#define DEPOT_CLI_H

#include <stdbool.h>
#include <stdio.h>

int cli_serve(int argc, char **argv);
/* migrate, user ..., token ...: work on the store directly. */
int cli_admin(int argc, char **argv);
/* fsck, backup, restore: operate on the store and blobs directly (ops.c). */
int cli_ops(int argc, char **argv);
/* migrate-store, migrate-blobs: copy a registry onto other backends (migrate.c). */
int cli_migrate(int argc, char **argv);
/* routes [--json]: every route of the server's front tables (routes.c). */
int cli_routes(int argc, char **argv);

/* The client commands (login, publish, install ...; client.c): talk to a
 * registry over HTTP. cli_client_is tells whether a name is one of them;
 * cli_client_usage lists them for `depot help`. */
int cli_client(int argc, char **argv);
bool cli_client_is(const char *name);
void cli_client_usage(FILE *out);

#endif
