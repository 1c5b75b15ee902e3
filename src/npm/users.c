/*
 * users.c — npm login, whoami, logout and tokens, on depot's accounts.
 *
 * npm login first tries the web flow (POST /-/v1/login); depot answers 404,
 * which makes npm fall back to its username and password prompts and the
 * CouchDB-style PUT /-/user/org.couchdb.user:NAME. That PUT checks the
 * password (or, with an email and a new name — npm adduser — registers the
 * user when registration is open) and answers a new depot API token with
 * the scopes read and publish, which npm saves in .npmrc as
 * //HOST/npm/:_authToken. Adding an existing user with the right password
 * is a login, as on the public registry. npm logout deletes that token.
 *
 * npm token list|create|revoke map to depot's tokens. For the npm CLI the
 * login token is the session (npm has no other credential), so a token
 * holding the full publish scope may list its user's tokens and revoke
 * them here, which depot's own API keeps for passwords, sessions and admin
 * tokens; creating one still needs the password, which npm token create
 * always sends.
 */
#include <microhttpd.h>
#include <string.h>
#include <strings.h>

#include "../core/accounts.h"
#include "../core/privacy.h"
#include "../core/tokens.h"
#include "../lib/crypto.h"
#include "../lib/json.h"
#include "../lib/timeutil.h"
#include "npm.h"

#define COUCH_PREFIX "org.couchdb.user:"

void npm_web_login(req *r)
{
    /* Any 4xx makes npm fall back to the username and password prompts. */
    npm_error(r, 404, "not_found", "web login is not available; npm falls back to username and password");
}

/* The user name in /-/user/org.couchdb.user:NAME, or NULL. */
static const char *couch_user(req *r)
{
    const char *u = req_param(r, "user");
    if (!u || strncmp(u, COUCH_PREFIX, strlen(COUCH_PREFIX)) != 0 || !u[strlen(COUCH_PREFIX)])
        return NULL;
    return u + strlen(COUCH_PREFIX);
}

/* A wrong password: 401 with only a Basic challenge. npm reads every challenge as one list and
 * prefers Bearer ("your authentication token seems to be invalid"); Basic alone makes it say
 * "Incorrect or missing password." (npm's lib/utils/error-message.js). */
static void bad_password(req *r)
{
    json_t *doc = json_object();
    json_object_set_new(doc, "error", json_string("wrong username or password"));
    json_object_set_new(doc, "code", json_string("unauthorized"));
    resp_json(r, 401, doc);
    resp_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic realm=\"depot\"");
}

/* A new read+publish token for a password principal, named after where it came from. */
static int login_token(req *r, const principal *who, const char *prefix, const char *name,
                       const char *const *scopes, int64_t expires_at, token_row *t, const char **secret,
                       derr *e)
{
    if (!name) {
        unsigned char rnd[3];
        char hex[7], when[32];
        random_bytes(rnd, sizeof rnd);
        hex_encode(rnd, sizeof rnd, hex);
        time_rfc3339(now_unix(), when); /* 2026-11-22T02:40:48Z → 20261122-024048 */
        name = arena_printf(r->a, "%s-%.4s%.2s%.2s-%.2s%.2s%.2s-%s", prefix, when, when + 5, when + 8,
                            when + 11, when + 14, when + 17, hex);
    }
    return tokens_create(r->core, r->a, who, name, scopes, expires_at, r->ip, t, secret, e);
}

void npm_couch_login(req *r)
{
    derr e;
    const char *user = couch_user(r);
    if (!user) {
        npm_not_found(r);
        return;
    }
    json_t *doc = req_json_front(r);
    if (!doc)
        return;
    const char *name, *password, *email;
    if (json_str(doc, "name", true, &name, &e) < 0 || json_str(doc, "password", true, &password, &e) < 0 ||
        json_str(doc, "email", false, &email, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    if (strcmp(name, user) != 0) {
        npm_error(r, 400, "bad_request", "name: the body says '%.100s' but the URL names '%.100s'", name,
                  user);
        return;
    }
    size_t pwlen = json_string_length(json_object_get(doc, "password"));
    principal who;
    user_row found;
    bool exists =
        accounts_find(r->core, r->a, name, &found, &e) == 0 && strcasecmp(found.username, name) == 0;
    bool created = false;
    if (!exists && email) {
        /* npm adduser with a new name: register. */
        user_row u;
        if (accounts_register(r->core, r->a, name, email, password, pwlen, false, false, r->ip, &u, &e) < 0) {
            resp_derr(r, &e);
            return;
        }
        created = true;
    }
    if (auth_password(r->core, r->a, name, password, pwlen, &who, &e) < 0) {
        if (e.status < 500)
            accounts_audit_login_failure(r->core, name, &e, "npm login", r->ip);
        if (e.status == 401)
            bad_password(r);
        else
            resp_derr(r, &e);
        return;
    }
    /* npm keeps this one token for everything a person does with npm, owners included (npm owner,
     * npm unpublish of a package): it manages npm packages, made with the password. */
    static const char *const scopes[] = {"read", "publish", "manage:npm", NULL};
    token_row t;
    const char *secret;
    if (login_token(r, &who, "npm-login", NULL, scopes, 0, &t, &secret, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    json_t *out = json_object();
    json_object_set_new(out, "ok",
                        json_string(created
                                        ? arena_printf(r->a, "user '%s' created", who.username)
                                        : arena_printf(r->a, "you are authenticated as '%s'", who.username)));
    json_object_set_new(out, "id", json_string(arena_printf(r->a, COUCH_PREFIX "%s", who.username)));
    json_object_set_new(out, "token", json_string(secret));
    resp_json(r, 201, out);
    resp_header(r, "Cache-Control", "no-store");
}

void npm_auth_error(req *r, const derr *e)
{
    /* npm sends the token in .npmrc with its login PUT, even one revoked or expired: logging in
     * again is how a user gets out of that, and the password in the body is the proof. The failed
     * credential was already counted against the caller's address by the rate limiter. */
    if (e->status == 401 && r->route && r->route->fn == npm_couch_login && r->who.kind == CRED_NONE) {
        npm_couch_login(r);
        return;
    }
    resp_derr(r, e);
}

void npm_user_get(req *r)
{
    derr e;
    const char *user = couch_user(r);
    user_row u;
    if (!user || accounts_find(r->core, r->a, user, &u, &e) < 0 || u.disabled ||
        strcasecmp(u.username, user) != 0) {
        npm_error(r, 404, "not_found", "no user '%.100s'", user ? user : "");
        return;
    }
    /* npm owner add reads the email and fails without one: a reader who may not see the address
     * gets the no-reply one. */
    const char *email = privacy_user_email(&r->who, &u);
    json_t *doc = json_object();
    json_object_set_new(doc, "_id", json_string(arena_printf(r->a, COUCH_PREFIX "%s", u.username)));
    json_object_set_new(doc, "name", json_string(u.username));
    json_object_set_new(doc, "email", json_string(email ? email : npm_noreply_email(r, u.username)));
    json_object_set_new(doc, "type", json_string("user"));
    json_object_set_new(doc, "roles", json_array());
    json_object_set_new(doc, "date", json_string(npm_time(r->a, u.created_at)));
    resp_json(r, 200, doc);
}

void npm_profile(req *r)
{
    user_row u;
    if (resp_account(r, &u) < 0)
        return;
    json_t *doc = json_object();
    json_object_set_new(doc, "name", json_string(u.username));
    json_object_set_new(doc, "email", json_string(u.email));
    json_object_set_new(doc, "email_verified", json_false());
    json_object_set_new(doc, "tfa", json_false());
    json_object_set_new(doc, "created", json_string(npm_time(r->a, u.created_at)));
    json_object_set_new(doc, "updated", json_string(npm_time(r->a, u.created_at)));
    resp_json(r, 200, doc);
}

void npm_whoami(req *r)
{
    json_t *doc = json_object();
    json_object_set_new(doc, "username", json_string(r->who.username));
    resp_json(r, 200, doc);
}

/* The user's token whose stored hash (or name) is key; NULL when none. */
static const token_row *find_token(req *r, const char *key, derr *e)
{
    token_row *ts;
    int n;
    if (tokens_list(r->core, r->a, r->who.user_id, &ts, &n, e) < 0)
        return NULL;
    for (int i = 0; i < n; i++)
        if (strcmp(ts[i].hash, key) == 0)
            return &ts[i];
    for (int i = 0; i < n; i++)
        if (strcmp(ts[i].name, key) == 0)
            return &ts[i];
    derr_set(e, 404, "not_found", "you have no such token");
    return NULL;
}

void npm_logout(req *r)
{
    derr e;
    const char *secret = req_param(r, "token");
    if (r->who.kind == CRED_JWT) {
        if (accounts_logout(r->core, &r->who, r->ip, &e) < 0) {
            resp_derr(r, &e);
            return;
        }
        npm_ok(r, 200, "Logged out");
        return;
    }
    char hash[65];
    sha256_hex(secret, strlen(secret), hash);
    const token_row *t = find_token(r, hash, &e);
    if (!t || tokens_may_delete(r->core, r->a, &r->who, t->name, &e) < 0 ||
        tokens_delete(r->core, r->who.user_id, t->name, r->ip, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    npm_ok(r, 200, "Logged out");
}

static json_t *token_obj(req *r, const token_row *t)
{
    json_t *o = json_object();
    json_object_set_new(o, "token", json_string(t->prefix));
    json_object_set_new(o, "key", json_string(t->hash));
    json_object_set_new(o, "name", json_string(t->name));
    json_object_set_new(o, "readonly",
                        json_boolean(!strstr(t->scopes, "publish") && !strstr(t->scopes, "manage") &&
                                     !strstr(t->scopes, "admin")));
    json_object_set_new(o, "automation", json_false());
    json_object_set_new(o, "cidr_whitelist", json_null());
    json_object_set_new(o, "scopes", scopes_json(t->scopes));
    json_object_set_new(o, "created", json_string(npm_time(r->a, t->created_at)));
    json_object_set_new(o, "updated",
                        json_string(npm_time(r->a, t->last_used_at ? t->last_used_at : t->created_at)));
    if (t->expires_at)
        json_object_set_new(o, "expires", json_string(npm_time(r->a, t->expires_at)));
    return o;
}

void npm_tokens_list(req *r)
{
    derr e;
    token_row *ts;
    int n;
    if (tokens_may_manage(&r->who, &e) < 0 || tokens_list(r->core, r->a, r->who.user_id, &ts, &n, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, token_obj(r, &ts[i]));
    json_t *doc = json_object();
    json_object_set_new(doc, "objects", arr);
    json_object_set_new(doc, "total", json_integer(n));
    json_object_set_new(doc, "urls", json_object());
    resp_json(r, 200, doc);
    resp_header(r, "Cache-Control", "no-store");
}

void npm_tokens_create(req *r)
{
    derr e;
    /* The password in the body proves the user; the credential must still be one that may manage
     * tokens (core's rule for every front: a password, a session, or a token with a manage scope,
     * as npm login's has), as for listing and revoking them. */
    if (tokens_may_manage(&r->who, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    json_t *doc = req_json_front(r);
    if (!doc)
        return;
    const char *password, *name;
    if (json_str(doc, "password", true, &password, &e) < 0 || json_str(doc, "name", false, &name, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    json_t *cidr = json_object_get(doc, "cidr_whitelist");
    if (json_array_size(cidr) > 0) {
        npm_error(r, 422, "invalid", "cidr_whitelist: depot tokens cannot be limited to addresses");
        return;
    }
    int64_t expires = 0;
    json_t *days = json_object_get(doc, "expires");
    if (days && !json_is_null(days)) {
        if (!json_is_integer(days) || json_integer_value(days) < 1 || json_integer_value(days) > 3650) {
            npm_error(r, 422, "invalid", "expires: a number of days from 1 to 3650");
            return;
        }
        expires = now_unix() + json_integer_value(days) * 86400;
    }
    /* npm's fine-grained options, as far as depot's scopes go: --packages limits publishing to
     * those packages; a read-only permission makes a read token. */
    const char *perm = NULL;
    if (json_str(doc, "packages_and_scopes_permission", false, &perm, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    json_t *pkgs = json_object_get(doc, "packages");
    size_t np = json_array_size(pkgs);
    if (np > 30) {
        npm_error(r, 422, "invalid", "packages: at most 30");
        return;
    }
    const char **scopes = arena_zalloc(r->a, sizeof *scopes * (np + 3));
    int ns = 0;
    scopes[ns++] = "read";
    if (!perm || strcmp(perm, "read-only") != 0) {
        if (np == 0)
            scopes[ns++] = "publish";
        for (size_t i = 0; i < np; i++) {
            const char *pn = json_string_value(json_array_get(pkgs, i));
            if (!pn || npm_name_check(pn, &e) < 0) {
                npm_error(r, 422, "invalid", "packages[%zu]: not a package name", i);
                return;
            }
            scopes[ns++] = arena_printf(r->a, "publish:npm/%s", pn);
        }
    }
    principal who;
    size_t pwlen = json_string_length(json_object_get(doc, "password"));
    if (auth_password(r->core, r->a, r->who.username, password, pwlen, &who, &e) < 0) {
        if (e.status < 500)
            accounts_audit_login_failure(r->core, r->who.username, &e, "npm token create", r->ip);
        if (e.status == 401)
            bad_password(r);
        else
            resp_derr(r, &e);
        return;
    }
    token_row t;
    const char *secret;
    if (login_token(r, &who, "npm-token", name && *name ? name : NULL, scopes, expires, &t, &secret, &e) <
        0) {
        resp_derr(r, &e);
        return;
    }
    json_t *out = token_obj(r, &t);
    json_object_set_new(out, "token", json_string(secret));
    resp_json(r, 200, out);
    resp_header(r, "Cache-Control", "no-store");
}

void npm_tokens_delete(req *r)
{
    derr e;
    const token_row *t = find_token(r, req_param(r, "key"), &e);
    if (!t || tokens_may_delete(r->core, r->a, &r->who, t->name, &e) < 0 ||
        tokens_delete(r->core, r->who.user_id, t->name, r->ip, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    resp_json(r, 200, json_object());
}
