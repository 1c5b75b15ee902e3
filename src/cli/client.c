/*
 * client.c — the depot client's front door: `depot login | logout | whoami |
 * keygen | key | publish | search | info | install | yank | owner`.
 *
 * It finds the command, takes the global `--registry URL` option out of the
 * arguments, works out the registry (--registry, else $DEPOT_REGISTRY, else
 * "registry" in $XDG_CONFIG_HOME/depot/config.json, else
 * http://127.0.0.1:4000) and the saved credential for it ($DEPOT_TOKEN, else
 * credentials.json), and runs the command with one client whose arena holds
 * everything the command allocates. It also holds the option parser every
 * command uses. Commands print plain text to stdout and errors to stderr
 * prefixed `depot: `, and exit 0 on success, 1 on failure, 2 on a usage
 * error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/crypto.h"
#include "cli.h"
#include "client.h"

#define DEFAULT_REGISTRY "http://127.0.0.1:4000"

typedef struct client_cmd {
    const char *name;
    int (*run)(client *c, int argc, char **argv);
    const char *summary;
} client_cmd;

static const client_cmd commands[] = {
    {"login", client_login, "log in and save an API token for the registry"},
    {"logout", client_logout, "revoke the saved token and forget it"},
    {"whoami", client_whoami, "show the account of the saved token"},
    {"keygen", client_keygen, "make an Ed25519 signing key pair"},
    {"key", client_key, "register | list | remove signing keys on the registry"},
    {"publish", client_publish, "pack the package folder and upload it"},
    {"search", client_search, "search packages"},
    {"info", client_info, "show a package or one of its versions"},
    {"install", client_install, "add dependencies, resolve, download, verify and unpack them"},
    {"yank", client_yank, "yank (or --undo: unyank) a version"},
    {"owner", client_owner, "add | remove | list the owners of a package"},
};

static const client_cmd *find_cmd(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

bool cli_client_is(const char *name)
{
    return find_cmd(name) != NULL;
}

void cli_client_usage(FILE *out)
{
    fprintf(out, "Client (for the native ecosystem; every command takes --registry URL and --help):\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-16s %s\n", commands[i].name, commands[i].summary);
}

/* ---- option parsing ------------------------------------------------------------------------ */

static const client_opt *find_opt(const client_opt *opts, const char *arg, size_t len)
{
    for (const client_opt *o = opts; o && o->name; o++)
        if (strlen(o->name) == len && strncmp(o->name, arg, len) == 0)
            return o;
    return NULL;
}

static int usage_error(const char *usage, const char *what, const char *arg)
{
    fprintf(stderr, "depot: %s '%s'\n%s", what, arg, usage);
    return CLIENT_PARSE_BAD;
}

int client_parse(int argc, char **argv, const client_opt *opts, const char **pos, int maxpos,
                 const char *usage)
{
    int npos = 0;
    bool only_pos = false;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!only_pos && (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0)) {
            fputs(usage, stdout);
            return CLIENT_PARSE_HELP;
        }
        if (!only_pos && strcmp(s, "--") == 0) {
            only_pos = true;
            continue;
        }
        if (only_pos || s[0] != '-' || s[1] == '\0') {
            if (npos >= maxpos)
                return usage_error(usage, "unexpected argument", s);
            pos[npos++] = s;
            continue;
        }
        const char *eq = strchr(s, '=');
        size_t len = eq ? (size_t)(eq - s) : strlen(s);
        const client_opt *o = find_opt(opts, s, len);
        if (!o)
            return usage_error(usage, "unknown option", s);
        if (!o->has_value) {
            if (eq)
                return usage_error(usage, "this option takes no value:", o->name);
            *o->flag = true;
            continue;
        }
        if (eq) {
            *o->value = eq + 1;
        } else {
            if (i + 1 >= argc)
                return usage_error(usage, "this option needs a value:", o->name);
            *o->value = argv[++i];
        }
    }
    return npos;
}

int client_parse_exit(int r)
{
    return r == CLIENT_PARSE_HELP ? EXIT_OK : EXIT_USAGE;
}

int client_usage_error(const char *what, const char *usage)
{
    fprintf(stderr, "depot: %s\n%s", what, usage);
    return EXIT_USAGE;
}

/* ---- errors -------------------------------------------------------------------------------- */

int client_fail(const derr *e)
{
    fprintf(stderr, "depot: %s\n", e->message);
    return EXIT_FAIL;
}

/* ---- setup --------------------------------------------------------------------------------- */

static const char *config_dir(arena *a)
{
    const char *x = getenv("XDG_CONFIG_HOME");
    if (x && x[0] == '/')
        return arena_printf(a, "%s/depot", x);
    const char *home = getenv("HOME");
    if (!home || !home[0])
        home = ".";
    return arena_printf(a, "%s/.config/depot", home);
}

static const char *normalise_registry(arena *a, const char *url, derr *e)
{
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        derr_set(e, 400, "bad_request", "the registry URL must start with http:// or https:// (got '%.200s')",
                 url);
        return NULL;
    }
    size_t n = strlen(url);
    while (n > 8 && url[n - 1] == '/')
        n--;
    return arena_strndup(a, url, n);
}

static void free_config(void *p)
{
    json_decref(p);
}

/* Takes `--registry URL` / `--registry=URL` out of argv (before any "--"); returns the new argc. */
static int take_registry(int argc, char **argv, const char **registry, bool *bad)
{
    int out = 0;
    bool only_pos = false;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        if (!only_pos && strcmp(s, "--") == 0)
            only_pos = true;
        if (!only_pos && i > 0 && strcmp(s, "--registry") == 0) {
            if (i + 1 >= argc) {
                *bad = true;
                continue;
            }
            *registry = argv[++i];
            continue;
        }
        if (!only_pos && i > 0 && strncmp(s, "--registry=", 11) == 0) {
            *registry = s + 11;
            continue;
        }
        argv[out++] = argv[i];
    }
    argv[out] = NULL;
    return out;
}

CURL *client_curl(client *c)
{
    if (!c->curl) {
        c->curl = curl_easy_init();
        if (!c->curl) {
            fprintf(stderr, "depot: cannot start libcurl\n");
            exit(EXIT_FAIL);
        }
    }
    return c->curl;
}

int cli_client(int argc, char **argv)
{
    const client_cmd *cmd = find_cmd(argv[0]);
    if (!cmd) {
        fprintf(stderr, "depot: unknown command '%s'\n", argv[0]);
        return EXIT_USAGE;
    }
    arena *a = arena_new(0);
    char **av = arena_zalloc(a, sizeof(char *) * ((size_t)argc + 1));
    memcpy(av, argv, sizeof(char *) * (size_t)argc);
    const char *reg_flag = NULL;
    bool bad = false;
    int ac = take_registry(argc, av, &reg_flag, &bad);
    if (bad) {
        fprintf(stderr, "depot: option '--registry' needs a value\n");
        arena_free(a);
        return EXIT_USAGE;
    }

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || crypto_init() < 0) {
        fprintf(stderr, "depot: cannot initialise libcurl or libsodium\n");
        arena_free(a);
        return EXIT_FAIL;
    }

    client c = {.a = a, .cmd = cmd->name};
    c.config_dir = config_dir(a);
    derr e;
    derr_clear(&e);
    int rc = EXIT_FAIL;
    json_t *cfg = NULL;
    if (client_read_json(&c, client_path(&c, c.config_dir, "config.json"), true, &cfg, &e) < 0)
        goto out;
    if (!cfg) {
        cfg = json_object();
        arena_on_free(a, free_config, cfg);
    }
    c.config = cfg;

    const char *reg = reg_flag;
    if (!reg || !reg[0])
        reg = getenv("DEPOT_REGISTRY");
    if (!reg || !reg[0])
        reg = json_string_value(json_object_get(cfg, "registry"));
    if (!reg || !reg[0])
        reg = DEFAULT_REGISTRY;
    c.registry = normalise_registry(a, reg, &e);
    if (!c.registry) {
        rc = EXIT_USAGE;
        goto out;
    }

    const char *tok = getenv("DEPOT_TOKEN");
    if (tok && tok[0])
        c.token = tok;
    else if (client_creds_get(&c, &c.token, NULL, NULL, &e) < 0) {
        /* a broken credentials file must not lock the user out of `depot login`, which rewrites it */
        fprintf(stderr, "depot: warning: ignoring the saved credentials: %s\n", e.message);
        c.token = NULL;
        derr_clear(&e);
    }
    if (c.token)
        c.auth = arena_printf(a, "Bearer %s", c.token);

    rc = cmd->run(&c, ac, av);
    goto done;
out:
    client_fail(&e);
done:
    if (c.curl)
        curl_easy_cleanup(c.curl);
    arena_free(a);
    curl_global_cleanup();
    return rc;
}
