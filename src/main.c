/*
 * main.c — `depot <command>`: dispatch only.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/ecosystem.h"
#include "fronts.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: depot <command> [options]\n\n"
            "Server:\n"
            "  serve            run the registry server (depot serve --help)\n"
            "  migrate          apply pending store migrations\n"
            "  user             add | list | passwd | disable | enable | promote | demote\n"
            "  token            create | list | revoke\n");
    /* the ecosystems' own commands */
    const eco_desc *eco;
    for (size_t i = 0; (eco = ecosystem_at(i)); i++)
        if (eco->command)
            fprintf(out, "  %-16s %s\n", eco->name, eco->command_help);
    fprintf(out,
            "  fsck [--repair]  check every blob, the store's integrity, stale temp files\n"
            "  backup DIR       consistent online copy of the store, blobs and secrets\n"
            "  restore DIR      into an empty data folder (server stopped)\n"
            "  migrate-store    copy a SQLite store into PostgreSQL (or any store), resumable\n"
            "  migrate-blobs    copy every referenced blob to another blob store (e.g. S3)\n"
            "  routes [--json]  every route the server answers, with its auth rule and whether it writes\n"
            "\n"
            "Every server command takes --data DIR and --store URL as `serve` does.\n\n");
    cli_client_usage(out);
    fprintf(out, "\n`depot help COMMAND` shows a command's options.\n");
}

int main(int argc, char **argv)
{
    /* Core learns the ecosystems from the table of fronts before anything reads a setting. */
    ecosystems_register(fronts_ecosystem);
    /* `depot help COMMAND` is `depot COMMAND --help` */
    char *help_argv[3];
    if (argc == 3 && strcmp(argv[1], "help") == 0) {
        help_argv[0] = argv[0];
        help_argv[1] = argv[2];
        help_argv[2] = "--help";
        argv = help_argv;
    }
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "serve") == 0)
        return cli_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "migrate") == 0 || strcmp(cmd, "user") == 0 || strcmp(cmd, "token") == 0)
        return cli_admin(argc - 1, argv + 1);
    if (strcmp(cmd, "fsck") == 0 || strcmp(cmd, "backup") == 0 || strcmp(cmd, "restore") == 0)
        return cli_ops(argc - 1, argv + 1);
    if (strcmp(cmd, "routes") == 0)
        return cli_routes(argc - 1, argv + 1);
    if (strcmp(cmd, "migrate-store") == 0 || strcmp(cmd, "migrate-blobs") == 0)
        return cli_migrate(argc - 1, argv + 1);
    const eco_desc *eco = ecosystem_find(cmd);
    if (eco && eco->command)
        return eco->command(argc - 1, argv + 1);
    if (cli_client_is(cmd))
        return cli_client(argc - 1, argv + 1);
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        puts("depot 0.1.0");
        return 0;
    }
    fprintf(stderr, "depot: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
