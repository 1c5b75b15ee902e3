/*
 * accounts.c — users and sessions.
 *
 * Passwords are hashed with Argon2id before they reach the store; the
 * session token is an HS256 JWT whose jti can be revoked (logout).
 */
#include "accounts.h"
#include "core_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/crypto.h"
#include "../lib/jwt.h"
#include "../lib/json.h"
#include "../lib/timeutil.h"
#include "authcache.h"
#include "lockout.h"

int account_check_username(const char *s, derr *e)
{
    size_t n = strlen(s);
    if (n < 1 || n > 39)
        return derr_set(e, 422, "invalid", "username: 1 to 39 characters");
    if (!isalnum((unsigned char)s[0]) || (unsigned char)s[0] > 127)
        return derr_set(e, 422, "invalid", "username: must start with a letter or digit");
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch > 127 || !(isalnum(ch) || ch == '_' || ch == '-'))
            return derr_set(e, 422, "invalid",
                            "username: only letters, digits, '_' and '-' are allowed");
    }
    return 0;
}

int account_check_email(const char *s, derr *e)
{
    size_t n = strlen(s);
    const char *at = strchr(s, '@');
    if (n > 254 || !at || at == s || strchr(at + 1, '@') || (size_t)(at - s) > 64)
        return derr_set(e, 422, "invalid", "email: expected an address like name@example.com");
    for (const char *p = s; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch <= ' ' || ch == 127 || ch == '<' || ch == '>' || ch == '(' || ch == ')' ||
            ch == ',' || ch == ';' || ch == ':' || ch == '\\' || ch == '"' || ch == '[' ||
            ch == ']')
            return derr_set(e, 422, "invalid", "email: expected an address like name@example.com");
    }
    const char *dom = at + 1, *dot = strrchr(dom, '.');
    if (!*dom || !dot || dot == dom || !dot[1] || strstr(dom, "..") || dom[0] == '-' ||
        s[0] == '.' || at[-1] == '.' || strlen(dot + 1) < 2)
        return derr_set(e, 422, "invalid", "email: expected an address like name@example.com");
    return 0;
}

int account_check_password(const char *s, size_t n, derr *e)
{
    if (n < 8)
        return derr_set(e, 422, "invalid", "password: at least 8 bytes");
    if (n > 1024)
        return derr_set(e, 422, "invalid", "password: at most 1024 bytes");
    if (memchr(s, '\0', n))
        return derr_set(e, 422, "invalid", "password: must not contain NUL");
    return 0;
}

json_t *account_json(const store_user *u)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(u->id));
    json_set_str(o, "username", u->username);
    json_set_str(o, "email", u->email);
    json_object_set_new(o, "show_email", json_boolean(u->show_email));
    json_object_set_new(o, "is_admin", json_boolean(u->is_admin));
    json_set_time(o, "created_at", u->created_at);
    return o;
}

int accounts_register(core *c, arena *a, const char *username, const char *email,
                      const char *password, size_t pwlen, bool by_admin, bool make_admin,
                      const char *ip, store_user *out, derr *e)
{
    if (!by_admin && strcmp(c->cfg->registration, "open") != 0)
        return derr_set(e, 403, "forbidden",
                        "registration is closed on this server; ask an admin for an account");
    if (account_check_username(username, e) < 0 || account_check_email(email, e) < 0 ||
        account_check_password(password, pwlen, e) < 0)
        return -1;

    /* Refuse a taken name before spending a password hash on it. */
    store_user existing;
    int rc = store_call(c->st, user_by_login, a, username, &existing, e);
    if (rc == STORE_ERROR)
        return -1;
    if (rc == STORE_OK && strcasecmp(existing.username, username) == 0)
        return derr_set(e, 409, "conflict", "username '%s' is taken", username);

    char hash[128];
    if (password_hash(password, pwlen, hash) < 0)
        return derr_set(e, 500, "internal", "password hashing failed");

    memset(out, 0, sizeof *out);
    out->username = arena_strdup(a, username);
    out->email = arena_strdup(a, email);
    out->password_hash = arena_strdup(a, hash);
    out->is_admin = make_admin; /* the store makes the first account an admin too, atomically */
    rc = store_call(c->st, user_create, out, e);
    if (rc != STORE_OK)
        return -1; /* the store said which key is taken (409) */
    out->password_hash = NULL;
    core_audit(c, out->id, "user.register", out->username, NULL, ip);
    return 0;
}

/* Signs a session JWT for u carrying u's session epoch: a new session (parent NULL: its id is the
 * token's jti, it ends --jwt-ttl from now) or a refresh of the session parent came with (same
 * session id, same end, so a refresh never outlives its session nor escapes its logout). */
static int issue(core *c, arena *a, const store_user *u, const principal *parent, session *out, derr *e)
{
    if (u->disabled)
        return derr_set(e, 401, "unauthorized", "wrong username or password");
    unsigned char jti[16];
    random_bytes(jti, sizeof jti);
    int64_t now = now_unix();
    jwt_claims cl = {
        .sub = u->id,
        .name = u->username,
        .iat = now,
        .exp = parent ? parent->expires_at : now + c->cfg->jwt_ttl,
        .jti = b64url_encode(a, jti, sizeof jti),
        .sid = parent ? parent->sid : NULL,
        .gen = u->session_epoch,
    };
    out->token = jwt_sign(a, c->jwt_key, c->jwt_keylen, &cl);
    if (!out->token)
        return derr_set(e, 500, "internal", "could not sign the session token");
    out->expires_at = cl.exp;
    out->user = *u;
    out->user.password_hash = NULL;
    return 0;
}

void accounts_audit_login_failure(core *c, const char *login, const derr *e, const char *via, const char *ip)
{
    json_t *d = json_pack("{s:s, s:s}", "reason", e->message, "via", via);
    char *detail = d ? json_dumps(d, JSON_COMPACT) : NULL;
    json_decref(d);
    char target[128];
    snprintf(target, sizeof target, "%.100s", login ? login : "");
    core_audit(c, 0, "auth.login_failed", target, detail, ip);
    free(detail);
}

int accounts_login(core *c, arena *a, const char *login, const char *password, size_t pwlen,
                   const char *ip, session *out, derr *e)
{
    principal p;
    if (pwlen > 1024 || auth_password(c, a, login, password, pwlen, &p, e) < 0) {
        if (pwlen > 1024)
            derr_set(e, 401, "unauthorized", "wrong username or password");
        if (e->status < 500)
            accounts_audit_login_failure(c, login, e, "login", ip);
        return -1;
    }
    store_user u;
    if (accounts_get(c, a, p.user_id, &u, e) < 0)
        return -1;
    if (issue(c, a, &u, NULL, out, e) < 0)
        return -1;
    core_audit(c, u.id, "user.login", u.username, NULL, ip);
    return 0;
}

int accounts_refresh(core *c, arena *a, const principal *p, session *out, derr *e)
{
    if (p->kind != CRED_JWT || !p->sid)
        return derr_set(e, 403, "forbidden", "only a session token (from login) can be refreshed");
    store_user u;
    if (accounts_get(c, a, p->user_id, &u, e) < 0)
        return -1;
    /* The session was checked against the epoch a moment ago; a change since ends it here too, so
     * a refresh racing a password change cannot carry the session past it. */
    if (u.session_epoch != p->gen)
        return derr_set(e, 401, "unauthorized", "%s", AUTH_SESSION_ENDED);
    return issue(c, a, &u, p, out, e);
}

int accounts_logout(core *c, const principal *p, const char *ip, derr *e)
{
    if (p->kind != CRED_JWT || !p->sid)
        return derr_set(e, 403, "forbidden",
                        "logout ends a session token (from login); delete API tokens instead");
    if (store_call(c->st, jwt_revoke, p->sid, p->expires_at, e) < 0)
        return -1;
    authcache_forget_user(p->user_id); /* the JWT's cache key is its secret, unknown here: drop the user's */
    core_audit(c, p->user_id, "user.logout", p->username, NULL, ip);
    return 0;
}

int accounts_get(core *c, arena *a, int64_t id, store_user *out, derr *e)
{
    int rc = store_call(c->st, user_by_id, a, id, out, e);
    if (rc == STORE_NOT_FOUND)
        return derr_set(e, 404, "not_found", "no such user");
    return rc == STORE_OK ? 0 : -1;
}

int accounts_find(core *c, arena *a, const char *login, store_user *out, derr *e)
{
    int rc = store_call(c->st, user_by_login, a, login, out, e);
    if (rc == STORE_NOT_FOUND)
        return derr_set(e, 404, "not_found", "no user '%s'", login);
    return rc == STORE_OK ? 0 : -1;
}

int accounts_profile(core *c, arena *a, const char *username, store_user *out, derr *e)
{
    int rc = store_call(c->st, user_by_login, a, username, out, e);
    bool hidden = rc == STORE_OK && (out->disabled || strcasecmp(out->username, username) != 0);
    if (rc == STORE_NOT_FOUND || hidden)
        return derr_set(e, 404, "not_found", "no user '%s'", username);
    return rc == STORE_OK ? 0 : -1;
}

int accounts_list(core *c, arena *a, store_user **out, int *n, derr *e)
{
    return store_call(c->st, user_list, a, out, n, e) == STORE_OK ? 0 : -1;
}

int accounts_audit_recent(core *c, arena *a, int limit, audit_row **out, int *n, derr *e)
{
    return store_call(c->st, audit_recent, a, limit, out, n, e) == STORE_OK ? 0 : -1;
}

int accounts_set_password(core *c, arena *a, const char *login, const char *pw, size_t n, derr *e)
{
    store_user u;
    if (accounts_find(c, a, login, &u, e) < 0 || account_check_password(pw, n, e) < 0)
        return -1;
    char hash[128];
    if (password_hash(pw, n, hash) < 0)
        return derr_set(e, 500, "internal", "password hashing failed");
    if (store_call(c->st, user_set_password, u.id, hash, e) != STORE_OK)
        return -1;
    authcache_forget_user(u.id);
    core_audit(c, u.id, "user.passwd", u.username, NULL, NULL);
    return 0;
}

/* Sets a user's disabled or admin flag; the user's cached credentials end at once. */
static int set_flag(core *c, arena *a, const char *login, bool admin, bool on, const char *action, derr *e)
{
    store_user u;
    if (accounts_find(c, a, login, &u, e) < 0)
        return -1;
    int rc = admin ? store_call(c->st, user_set_admin, u.id, on, e)
                   : store_call(c->st, user_set_disabled, u.id, on, e);
    if (rc != STORE_OK)
        return -1;
    authcache_forget_user(u.id);
    core_audit(c, u.id, action, u.username, NULL, NULL);
    return 0;
}

int accounts_set_disabled(core *c, arena *a, const char *login, bool disabled, derr *e)
{
    return set_flag(c, a, login, false, disabled, disabled ? "user.disable" : "user.enable", e);
}

int accounts_set_admin(core *c, arena *a, const char *login, bool admin, derr *e)
{
    return set_flag(c, a, login, true, admin, admin ? "user.promote" : "user.demote", e);
}

int accounts_change_password(core *c, arena *a, const principal *p, const char *current, size_t curlen,
                             const char *pw, size_t n, const char *ip, session *fresh, derr *e)
{
    if (p->kind == CRED_NONE)
        return derr_set(e, 401, "unauthorized", "log in first");
    if (account_check_password(pw, n, e) < 0)
        return -1;
    principal check;
    if (curlen > 1024 || auth_password(c, a, p->username, current, curlen, &check, e) < 0 ||
        check.user_id != p->user_id) {
        if (curlen <= 1024 && (e->status >= 500 || e->status == 429))
            return -1; /* the store failed, or the account's password checks are locked */
        derr_set(e, 401, "unauthorized", "the current password is wrong");
        accounts_audit_login_failure(c, p->username, e, "password change", ip);
        return -1;
    }
    char hash[128];
    if (password_hash(pw, n, hash) < 0)
        return derr_set(e, 500, "internal", "password hashing failed");
    if (store_call(c->st, user_set_password, p->user_id, hash, e) != STORE_OK)
        return -1;
    authcache_forget_user(p->user_id);
    core_audit(c, p->user_id, "user.passwd", p->username, NULL, ip);
    if (fresh) {
        store_user u;
        derr ignore;
        memset(fresh, 0, sizeof *fresh);
        if (accounts_get(c, a, p->user_id, &u, &ignore) < 0 || issue(c, a, &u, NULL, fresh, &ignore) < 0)
            fresh->token = NULL;
    }
    return 0;
}

/* The stored form of a mailed secret: hex SHA-256. */
static void secret_hash(const char *secret, char out[65])
{
    sha256_hex(secret, strlen(secret), out);
}

int accounts_email_secret_new(core *c, arena *a, const store_user *u, const char *purpose, int64_t ttl,
                              const char **secret, derr *e)
{
    if (!u->email)
        return derr_set(e, 422, "invalid", "this account has no email address");
    unsigned char raw[32];
    random_bytes(raw, sizeof raw);
    const char *s = b64url_encode(a, raw, sizeof raw);
    char hash[65];
    secret_hash(s, hash);
    int64_t now = now_unix();
    store_email_token t = {.hash = hash, .user_id = u->id, .purpose = purpose, .email = u->email,
                           .created_at = now, .expires_at = now + ttl};
    if (store_call(c->st, email_token_create, &t, e) != STORE_OK)
        return -1;
    *secret = s;
    return 0;
}

/* The token a secret names; peek (get) or use it. Secrets have one shape: refuse others early. */
static int email_secret(core *c, arena *a, const char *secret, const char *purpose, bool use, store_email_token *t,
                        derr *e)
{
    size_t n = secret ? strlen(secret) : 0;
    if (n < 16 || n > 128)
        return derr_set(e, 404, "not_found", "this link is not valid: it may have been used or have expired");
    char hash[65];
    secret_hash(secret, hash);
    int rc = use ? store_call(c->st, email_token_use, a, hash, purpose, now_unix(), t, e)
                 : store_call(c->st, email_token_get, a, hash, purpose, now_unix(), t, e);
    if (rc == STORE_NOT_FOUND)
        return derr_set(e, 404, "not_found", "this link is not valid: it may have been used or have expired");
    return rc == STORE_OK ? 0 : -1;
}

int accounts_email_secret_check(core *c, arena *a, const char *secret, const char *purpose, store_user *out,
                                derr *e)
{
    store_email_token t;
    if (email_secret(c, a, secret, purpose, false, &t, e) < 0)
        return -1;
    return accounts_get(c, a, t.user_id, out, e);
}

int accounts_reset_password(core *c, arena *a, const char *secret, const char *pw, size_t n, const char *ip,
                            store_user *out, derr *e)
{
    if (account_check_password(pw, n, e) < 0 || accounts_email_secret_check(c, a, secret, EMAIL_RESET, out, e) < 0)
        return -1;
    if (out->disabled)
        return derr_set(e, 403, "forbidden", "this account is disabled");
    char hash[128];
    if (password_hash(pw, n, hash) < 0)
        return derr_set(e, 500, "internal", "password hashing failed");
    store_email_token t;
    if (email_secret(c, a, secret, EMAIL_RESET, true, &t, e) < 0)
        return -1;
    if (store_call(c->st, user_set_password, t.user_id, hash, e) != STORE_OK)
        return -1;
    authcache_forget_user(t.user_id);
    lockout_clear(c, t.user_id); /* whoever holds the mailbox is the owner: the new password works at once */
    core_audit(c, t.user_id, "user.reset_password", out->username, NULL, ip);
    return 0;
}

int accounts_verify_email(core *c, arena *a, const char *secret, const char *ip, store_user *out, derr *e)
{
    store_email_token t;
    if (email_secret(c, a, secret, EMAIL_VERIFY, true, &t, e) < 0 || accounts_get(c, a, t.user_id, out, e) < 0)
        return -1;
    if (!out->email || !t.email || strcasecmp(out->email, t.email) != 0)
        return derr_set(e, 409, "conflict", "the account's address changed since this link was sent");
    if (store_call(c->st, user_set_email_verified, t.user_id, now_unix(), e) != STORE_OK)
        return -1;
    core_audit(c, t.user_id, "user.verify_email", out->username, NULL, ip);
    return 0;
}

int accounts_email_verified(core *c, int64_t user_id, int64_t *at, derr *e)
{
    int rc = store_call(c->st, user_email_verified, user_id, at, e);
    if (rc == STORE_NOT_FOUND)
        return derr_set(e, 404, "not_found", "no such user");
    return rc == STORE_OK ? 0 : -1;
}
