/*
 * admin.c — admin commands that work on the store directly, for the person
 * who runs the server (no HTTP, no credential: file access is the authority):
 *   depot migrate
 *   depot user add NAME --email E [--password-stdin] [--admin]
 *   depot user list | passwd NAME [--password-stdin] | disable NAME | enable NAME
 *   depot user promote NAME | demote NAME
 *   depot token create USER NAME --scopes a,b [--expires RFC3339]
 *   depot token list USER | revoke USER NAME
 * Passwords come from stdin (one line), never from the command line, so they
 * stay out of shell history and `ps`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/accounts.h"
#include "../core/core_int.h"
#include "../core/tokens.h"
#include "../lib/log.h"
#include "../lib/timeutil.h"
#include "cli.h"

struct args {
    const char *pos[8];
    int npos;
    const char *email, *scopes, *expires;
    int admin;
};

static int parse(char **rest, int n, struct args *a, const char *cmd)
{
    memset(a, 0, sizeof *a);
    for (int i = 0; i < n; i++) {
        const char *s = rest[i];
        const char **dst = NULL;
        if (!strcmp(s, "--email"))
            dst = &a->email;
        else if (!strcmp(s, "--scopes"))
            dst = &a->scopes;
        else if (!strcmp(s, "--expires"))
            dst = &a->expires;
        else if (!strcmp(s, "--admin")) {
            a->admin = 1;
            continue;
        } else if (!strcmp(s, "--password-stdin"))
            continue; /* the only way passwords are read */
        else if (s[0] == '-' && s[1] == '-') {
            fprintf(stderr, "depot %s: unknown option '%s'\n", cmd, s);
            return -1;
        } else {
            if (a->npos == 8)
                return -1;
            a->pos[a->npos++] = s;
            continue;
        }
        if (i + 1 >= n) {
            fprintf(stderr, "depot %s: %s needs a value\n", cmd, s);
            return -1;
        }
        *dst = rest[++i];
    }
    return 0;
}

static char *read_password(arena *ar)
{
    if (isatty(STDIN_FILENO))
        fprintf(stderr, "password: ");
    char line[1100];
    if (!fgets(line, sizeof line, stdin))
        return NULL;
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    return arena_strdup(ar, line);
}

static int fail(const char *cmd, const derr *e)
{
    fprintf(stderr, "depot %s: %s\n", cmd, e->message);
    return 1;
}

static int user_cmd(core *c, arena *ar, struct args *a)
{
    derr e;
    const char *sub = a->npos ? a->pos[0] : "";
    const char *name = a->npos > 1 ? a->pos[1] : NULL;
    if (!strcmp(sub, "list")) {
        store_user *us;
        int n;
        if (store_call(c->st, user_list, ar, &us, &n, &e) != STORE_OK)
            return fail("user list", &e);
        printf("%-40s %-40s %-6s %-9s %s\n", "USERNAME", "EMAIL", "ADMIN", "DISABLED", "CREATED");
        for (int i = 0; i < n; i++) {
            char t[32];
            time_rfc3339(us[i].created_at, t);
            printf("%-40s %-40s %-6s %-9s %s\n", us[i].username, us[i].email, us[i].is_admin ? "yes" : "no",
                   us[i].disabled ? "yes" : "no", t);
        }
        return 0;
    }
    if (!name) {
        fprintf(stderr, "usage: depot user add|list|passwd|disable|enable|promote|demote NAME\n");
        return 2;
    }
    if (!strcmp(sub, "add")) {
        if (!a->email) {
            fprintf(stderr, "depot user add: --email is required\n");
            return 2;
        }
        char *pw = read_password(ar);
        if (!pw) {
            fprintf(stderr, "depot user add: no password on stdin\n");
            return 2;
        }
        store_user u;
        if (accounts_register(c, ar, name, a->email, pw, strlen(pw), true, a->admin, NULL, &u, &e) < 0)
            return fail("user add", &e);
        printf("added user %s%s\n", u.username, u.is_admin ? " (admin)" : "");
        return 0;
    }
    if (!strcmp(sub, "passwd")) {
        char *pw = read_password(ar);
        if (!pw || accounts_set_password(c, ar, name, pw, strlen(pw), &e) < 0)
            return pw ? fail("user passwd", &e) : 2;
        printf("password changed for %s\n", name);
        return 0;
    }
    int rc;
    if (!strcmp(sub, "disable") || !strcmp(sub, "enable"))
        rc = accounts_set_disabled(c, ar, name, !strcmp(sub, "disable"), &e);
    else if (!strcmp(sub, "promote") || !strcmp(sub, "demote"))
        rc = accounts_set_admin(c, ar, name, !strcmp(sub, "promote"), &e);
    else {
        fprintf(stderr, "depot user: unknown subcommand '%s'\n", sub);
        return 2;
    }
    if (rc < 0)
        return fail("user", &e);
    printf("%s: %sd\n", name, sub);
    return 0;
}

static int token_cmd(core *c, arena *ar, struct args *a)
{
    derr e;
    const char *sub = a->npos ? a->pos[0] : "";
    if (a->npos < 2) {
        fprintf(stderr, "usage: depot token create USER NAME --scopes read,publish [--expires TIME]\n"
                        "       depot token list USER | revoke USER NAME\n");
        return 2;
    }
    store_user u;
    if (accounts_find(c, ar, a->pos[1], &u, &e) < 0)
        return fail("token", &e);
    if (!strcmp(sub, "list")) {
        store_token *ts;
        int n;
        if (tokens_list(c, ar, u.id, &ts, &n, &e) < 0)
            return fail("token list", &e);
        printf("%-24s %-14s %-32s %-21s %s\n", "NAME", "PREFIX", "SCOPES", "EXPIRES", "LAST USED");
        for (int i = 0; i < n; i++) {
            char ex[32] = "never", lu[32] = "never";
            if (ts[i].expires_at)
                time_rfc3339(ts[i].expires_at, ex);
            if (ts[i].last_used_at)
                time_rfc3339(ts[i].last_used_at, lu);
            printf("%-24s %-14s %-32s %-21s %s\n", ts[i].name, ts[i].prefix, ts[i].scopes, ex, lu);
        }
        return 0;
    }
    if (a->npos < 3) {
        fprintf(stderr, "depot token %s: USER and NAME are needed\n", sub);
        return 2;
    }
    if (!strcmp(sub, "revoke")) {
        if (tokens_delete(c, u.id, a->pos[2], NULL, &e) < 0)
            return fail("token revoke", &e);
        printf("revoked %s's token %s\n", u.username, a->pos[2]);
        return 0;
    }
    if (strcmp(sub, "create") != 0) {
        fprintf(stderr, "depot token: unknown subcommand '%s'\n", sub);
        return 2;
    }
    const char *list[33] = {0};
    int n = 0;
    char *sc = arena_strdup(ar, a->scopes ? a->scopes : "read");
    for (char *p = sc; *p && n < 32;) {
        size_t len = strcspn(p, ", ");
        if (len) {
            list[n++] = arena_strndup(ar, p, len);
        }
        p += len;
        while (*p == ',' || *p == ' ')
            p++;
    }
    int64_t exp = 0;
    const char *when = a->expires;
    if (when && strlen(when) == 10)
        when = arena_printf(ar, "%sT00:00:00Z", when); /* a bare date means its midnight, UTC */
    if (when && time_parse_rfc3339(when, &exp) < 0) {
        fprintf(stderr, "depot token create: --expires: expected a date or an RFC 3339 time\n");
        return 2;
    }
    /* The person at the console acts with the user's full rights. */
    principal p = {.kind = CRED_PASSWORD, .user_id = u.id, .username = u.username, .is_admin = u.is_admin};
    store_token t;
    const char *secret;
    if (tokens_create(c, ar, &p, a->pos[2], list, exp, NULL, &t, &secret, &e) < 0)
        return fail("token create", &e);
    printf("%s\n", secret);
    return 0;
}

int cli_admin(int argc, char **argv)
{
    const char *cmd = argv[0];
    config cfg;
    derr e;
    char **rest = calloc((size_t)argc + 1, sizeof(char *));
    int nrest = 0;
    int rc = config_load(&cfg, argc, argv, rest, &nrest, stdout, &e);
    if (rc != 0) {
        free(rest);
        config_free(&cfg);
        if (rc < 0)
            fprintf(stderr, "depot %s: %s\n", cmd, e.message);
        return rc < 0 ? 2 : 0;
    }
    log_set_level("warn");
    struct args a;
    if (parse(rest, nrest, &a, cmd) < 0) {
        free(rest);
        config_free(&cfg);
        return 2;
    }
    core c;
    if (core_open(&c, &cfg, &e) < 0) {
        free(rest);
        config_free(&cfg);
        fprintf(stderr, "depot %s: %s\n", cmd, e.message);
        return 1;
    }
    arena *ar = arena_new(0);
    if (!strcmp(cmd, "migrate")) {
        printf("the store is at the newest schema\n");
        rc = 0;
    } else if (!strcmp(cmd, "user")) {
        rc = user_cmd(&c, ar, &a);
    } else {
        rc = token_cmd(&c, ar, &a);
    }
    arena_free(ar);
    core_close(&c);
    free(rest);
    config_free(&cfg);
    return rc;
}
