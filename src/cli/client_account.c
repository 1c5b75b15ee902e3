/*
 * client_account.c — `depot login`, `depot logout` and `depot whoami`.
 *
 * login trades a password for a short-lived session (POST /auth/login), uses
 * that session to make a long-lived API token named cli-<host>-<time> with
 * the scopes read, publish and manage:native (or --scopes), saves only that token (per registry URL, in
 * credentials.json, mode 0600), revokes the token an earlier login saved for
 * the same registry, and ends the session. logout revokes the saved token on
 * the server and forgets it. The password is read from a terminal without
 * echo, or as one line from stdin; it never appears in argv, output or files.
 */
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

static const char login_usage[] =
    "usage: depot login [--username U] [--password-stdin] [--scopes LIST] [--registry URL]\n"
    "\n"
    "Logs in with a password, creates an API token named cli-<hostname>-<time>\n"
    "with the scopes LIST (comma-separated; default read,publish,manage:native:\n"
    "publish anything, and manage your native packages, as `depot owner` does;\n"
    "--scopes read,publish makes a token that cannot change owners or settings)\n"
    "and saves it for the registry in\n"
    "$XDG_CONFIG_HOME/depot/credentials.json (mode 0600). On a terminal the\n"
    "password is asked for without echo; otherwise it is read as one line from stdin.\n";

static const char logout_usage[] =
    "usage: depot logout [--password-stdin] [--registry URL]\n"
    "\n"
    "Revokes the saved API token on the registry and forgets it. When the\n"
    "registry does not let a token revoke itself, the password is used (asked for\n"
    "on a terminal, or read from stdin with --password-stdin).\n";

static const char whoami_usage[] = "usage: depot whoami [--registry URL]\n"
                                   "\n"
                                   "Prints the username the saved token belongs to.\n";

/* One line from stdin without its line end, in the arena; NULL at EOF. Echo off when asked. */
static char *read_line(client *c, const char *prompt, bool secret)
{
    bool tty = isatty(STDIN_FILENO);
    struct termios old, raw;
    bool restore = false;
    if (tty && prompt) {
        fprintf(stderr, "%s", prompt);
        fflush(stderr);
    }
    if (tty && secret && tcgetattr(STDIN_FILENO, &old) == 0) {
        raw = old;
        raw.c_lflag &= ~(tcflag_t)ECHO;
        raw.c_lflag |= ECHONL;
        restore = tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == 0;
    }
    char line[1100];
    char *got = fgets(line, sizeof line, stdin);
    if (restore)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    if (!got)
        return NULL;
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    char *out = arena_strndup(c->a, line, n);
    sodium_memzero(line, sizeof line);
    return out;
}

static void wipe(char *s)
{
    if (s)
        sodium_memzero(s, strlen(s));
}

/* A token name: cli-<host>-<UTC time>, host cut to the characters a token name allows. */
static const char *token_name(client *c, int attempt)
{
    char host[256] = "";
    if (gethostname(host, sizeof host - 1) < 0 || !host[0])
        memcpy(host, "host", 5);
    host[sizeof host - 1] = '\0';
    char clean[33];
    size_t n = 0;
    for (const char *p = host; *p && n < sizeof clean - 1; p++) {
        unsigned char ch = (unsigned char)*p;
        clean[n++] = (char)(isalnum(ch) || ch == '.' || ch == '_' || ch == '-' ? ch : '-');
    }
    clean[n] = '\0';
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y%m%d%H%M%S", &tm);
    if (attempt == 0)
        return arena_printf(c->a, "cli-%s-%s", clean, when);
    return arena_printf(c->a, "cli-%s-%s-%d", clean, when, attempt + 1);
}

/* Logs in with username and password; on success *jwt holds the session token. */
static int password_login(client *c, const char *username, const char *password, const char **jwt,
                          const char **user_out)
{
    json_t *body = json_object();
    json_object_set_new(body, strchr(username, '@') ? "email" : "username", json_string(username));
    json_object_set_new(body, "password", json_string(password));
    const char *saved_auth = c->auth;
    c->auth = NULL; /* a stale saved token must not turn the login into a 401 */
    client_resp r;
    derr e;
    int rc = client_call(c, "POST", "/api/v1/auth/login", body, NULL, &r, &e);
    c->auth = saved_auth;
    /* the password is in the body: wipe it before it goes back to the allocator */
    json_t *pw = json_object_get(body, "password");
    if (pw)
        wipe((char *)json_string_value(pw));
    json_decref(body);
    if (rc < 0)
        return client_fail(&e);
    if (r.status != 200) {
        fprintf(stderr, "depot: login to %s failed: %s (HTTP %ld)\n", c->registry, client_errmsg(c, &r),
                r.status);
        return EXIT_FAIL;
    }
    const char *t = json_string_value(json_object_get(r.json, "token"));
    if (!t) {
        fprintf(stderr, "depot: login to %s: the answer has no token\n", c->registry);
        return EXIT_FAIL;
    }
    *jwt = t;
    if (user_out) {
        const char *u = json_string_value(json_object_get(json_object_get(r.json, "user"), "username"));
        *user_out = u ? u : username;
    }
    return EXIT_OK;
}

/* Ends a session; failures do not matter (the session expires on its own). */
static void end_session(client *c, const char *jwt)
{
    const char *saved = c->auth;
    c->auth = arena_printf(c->a, "Bearer %s", jwt);
    client_resp r;
    derr e;
    client_call(c, "POST", "/api/v1/auth/logout", NULL, NULL, &r, &e);
    c->auth = saved;
}

static char *get_password(client *c, bool from_stdin)
{
    if (!from_stdin && isatty(STDIN_FILENO))
        return read_line(c, "Password: ", true);
    return read_line(c, NULL, false);
}

/* The username (asked on a terminal when not given) and the password; 0, or the exit status (said). */
static int ask_credentials(client *c, const char **username, bool pw_stdin, char **password)
{
    if (!*username || !(*username)[0]) {
        if (pw_stdin || !isatty(STDIN_FILENO)) {
            fprintf(stderr, "depot: --username is needed when the password comes from stdin\n");
            return EXIT_USAGE;
        }
        *username = read_line(c, "Username: ", false);
        if (!*username || !(*username)[0]) {
            fprintf(stderr, "depot: no username\n");
            return EXIT_USAGE;
        }
    }
    *password = get_password(c, pw_stdin);
    if (!*password || !(*password)[0]) {
        fprintf(stderr, "depot: no password given\n");
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* The default scopes of `depot login`'s token. */
#define LOGIN_SCOPES "read,publish,manage:native"

/* A JSON array of the comma-separated scopes in csv. */
static json_t *scopes_array(const char *csv)
{
    json_t *arr = json_array();
    while (*csv) {
        size_t n = strcspn(csv, ", ");
        if (n)
            json_array_append_new(arr, json_stringn(csv, n));
        csv += n;
        while (*csv == ',' || *csv == ' ')
            csv++;
    }
    return arr;
}

/* A new API token with the scopes in csv under the session in c->auth, named by token_name (the
 * next name after a clash, ten tries): EXIT_OK with *name and *secret, or the exit status (said). */
static int create_token(client *c, const char *csv, const char **name, const char **secret)
{
    client_resp r;
    derr e;
    for (int attempt = 0; attempt < 10; attempt++) {
        *name = token_name(c, attempt);
        json_t *body = json_object();
        json_object_set_new(body, "name", json_string(*name));
        json_object_set_new(body, "scopes", scopes_array(csv));
        int crc = client_call(c, "POST", "/api/v1/tokens", body, NULL, &r, &e);
        json_decref(body);
        if (crc < 0)
            return client_fail(&e);
        if (r.status != 409)
            break;
    }
    if (r.status != 201)
        return client_fail_resp(c, "cannot create an API token", &r);
    *secret = json_string_value(json_object_get(r.json, "token"));
    if (!*secret) {
        fprintf(stderr, "depot: the registry did not return the new token\n");
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

int client_login(client *c, int argc, char **argv)
{
    const char *username = NULL, *scopes = LOGIN_SCOPES;
    bool pw_stdin = false;
    client_opt opts[] = {{"--username", true, &username, NULL},
                         {"--password-stdin", false, NULL, &pw_stdin},
                         {"--scopes", true, &scopes, NULL},
                         {0}};
    const char *pos[1];
    int npos = client_parse(argc, argv, opts, pos, 0, login_usage);
    if (npos < 0)
        return client_parse_exit(npos);
    char *password;
    int rc = ask_credentials(c, &username, pw_stdin, &password);
    if (rc != EXIT_OK)
        return rc;
    const char *jwt = NULL, *user = NULL;
    rc = password_login(c, username, password, &jwt, &user);
    wipe(password);
    if (rc != EXIT_OK)
        return rc;

    const char *old_token, *old_name;
    derr e;
    if (client_creds_get(c, &old_token, &old_name, NULL, &e) < 0)
        old_token = old_name = NULL;

    c->auth = arena_printf(c->a, "Bearer %s", jwt);
    const char *name = NULL, *secret = NULL;
    if ((rc = create_token(c, scopes, &name, &secret)) != EXIT_OK) {
        end_session(c, jwt);
        return rc;
    }
    client_resp r;
    if (client_creds_put(c, secret, name, user, &e) < 0) {
        /* do not leave a live token nobody knows about */
        client_call(c, "DELETE", arena_printf(c->a, "/api/v1/tokens/%s", client_esc(c, name)), NULL, NULL, &r,
                    NULL);
        end_session(c, jwt);
        return client_fail(&e);
    }
    /* the token an earlier login saved for this registry is replaced: revoke it */
    if (old_token && old_name && old_name[0] && strcmp(old_name, name) != 0)
        client_call(c, "DELETE", arena_printf(c->a, "/api/v1/tokens/%s", client_esc(c, old_name)), NULL, NULL,
                    &r, &e);
    end_session(c, jwt);
    printf("Logged in to %s as %s (API token %s saved in %s/credentials.json)\n", c->registry, user, name,
           c->config_dir);
    return EXIT_OK;
}

int client_logout(client *c, int argc, char **argv)
{
    bool pw_stdin = false;
    client_opt opts[] = {{"--password-stdin", false, NULL, &pw_stdin}, {0}};
    const char *pos[1];
    int npos = client_parse(argc, argv, opts, pos, 0, logout_usage);
    if (npos < 0)
        return client_parse_exit(npos);
    const char *token, *name, *username;
    derr e;
    if (client_creds_get(c, &token, &name, &username, &e) < 0)
        return client_fail(&e);
    if (!token) {
        fprintf(stderr, "depot: not logged in to %s\n", c->registry);
        return EXIT_FAIL;
    }
    c->auth = arena_printf(c->a, "Bearer %s", token);
    client_resp r = {0};
    if (name && name[0]) {
        const char *path = arena_printf(c->a, "/api/v1/tokens/%s", client_esc(c, name));
        if (client_call(c, "DELETE", path, NULL, NULL, &r, &e) < 0)
            return client_fail(&e);
        if (r.status == 403 && username && username[0] && (pw_stdin || isatty(STDIN_FILENO))) {
            /* the registry does not let a token revoke itself: use the password */
            char *password = get_password(c, pw_stdin);
            if (!password || !password[0]) {
                fprintf(stderr, "depot: no password given\n");
                return EXIT_USAGE;
            }
            const char *jwt;
            int rc = password_login(c, username, password, &jwt, NULL);
            wipe(password);
            if (rc != EXIT_OK)
                return rc;
            c->auth = arena_printf(c->a, "Bearer %s", jwt);
            int crc = client_call(c, "DELETE", path, NULL, NULL, &r, &e);
            end_session(c, jwt);
            if (crc < 0)
                return client_fail(&e);
        }
        /* 401 or 404: the token is already gone (revoked or expired) */
        if (r.status != 204 && r.status != 200 && r.status != 401 && r.status != 404) {
            client_fail_resp(c, "cannot revoke the saved token", &r);
            if (r.status == 403)
                fprintf(stderr, "depot: the registry does not let a token revoke itself; run "
                                "`depot logout --password-stdin` (or on a terminal) to revoke it "
                                "with your password\n");
            return EXIT_FAIL;
        }
    }
    if (client_creds_put(c, NULL, NULL, NULL, &e) < 0)
        return client_fail(&e);
    printf("Logged out of %s\n", c->registry);
    return EXIT_OK;
}

int client_whoami(client *c, int argc, char **argv)
{
    const char *pos[1];
    int npos = client_parse(argc, argv, NULL, pos, 0, whoami_usage);
    if (npos < 0)
        return client_parse_exit(npos);
    if (!c->auth) {
        fprintf(stderr, "depot: not logged in to %s; run `depot login`\n", c->registry);
        return EXIT_FAIL;
    }
    client_resp r;
    if (client_expect(c, "GET", "/api/v1/me", NULL, 200, "whoami", &r) < 0)
        return EXIT_FAIL;
    const char *u = json_string_value(json_object_get(r.json, "username"));
    if (!u) {
        fprintf(stderr, "depot: whoami: the registry's answer has no username\n");
        return EXIT_FAIL;
    }
    printf("%s\n", u);
    return EXIT_OK;
}
