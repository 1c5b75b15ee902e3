/*
 * auth.c — credentials to principals, and the scope lattice.
 */
#include "auth.h"
#include "core_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../lib/crypto.h"
#include "../lib/jwt.h"
#include "../lib/log.h"
#include "../lib/timeutil.h"
#include "authcache.h"
#include "core.h"
#include "ecosystem.h"

static int unauthorized(derr *e, const char *msg)
{
    return derr_set(e, 401, "unauthorized", "%s", msg);
}

static void from_user(principal *p, const store_user *u, enum cred_kind kind)
{
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->user_id = u->id;
    p->username = u->username;
    p->is_admin = u->is_admin;
}

int auth_password(core *c, arena *a, const char *login, const char *pw, size_t pwlen, principal *p,
                  derr *e)
{
    store_user u;
    int rc = store_call(c->st, user_by_login, a, login, &u, e);
    if (rc == STORE_ERROR)
        return -1;
    if (rc == STORE_NOT_FOUND || !u.password_hash) {
        password_dummy_verify(pw, pwlen);
        return unauthorized(e, "wrong username or password");
    }
    /* A disabled account answers as a wrong password does, after the same hash: no oracle. */
    if (!password_verify(u.password_hash, pw, pwlen) || u.disabled)
        return unauthorized(e, "wrong username or password");
    from_user(p, &u, CRED_PASSWORD);
    return 0;
}

/* The account a session or token names (user_id): 0, or -1 with the store's error, or a 401
 * saying gone when the account is gone or disabled. */
static int credential_user(core *c, arena *a, int64_t user_id, store_user *u, const char *gone, derr *e)
{
    int rc = store_call(c->st, user_by_id, a, user_id, u, e);
    if (rc == STORE_ERROR)
        return -1;
    if (rc == STORE_NOT_FOUND || u->disabled)
        return unauthorized(e, gone);
    return 0;
}

static int auth_jwt(core *c, arena *a, const char *tok, size_t n, principal *p, derr *e)
{
    jwt_claims cl;
    enum jwt_result jr = jwt_verify(a, c->jwt_key, c->jwt_keylen, tok, n, now_unix(), &cl);
    if (jr == JWT_EXPIRED)
        return unauthorized(e, "the session token has expired; log in again");
    if (jr != JWT_OK)
        return unauthorized(e, "the session token is not valid");
    /* A logout revokes the whole session: the login's token and every refresh of it. */
    int rc = store_call(c->st, jwt_is_revoked, cl.sid, e);
    if (rc == STORE_ERROR)
        return -1;
    if (rc == STORE_OK)
        return unauthorized(e, "the session token was revoked; log in again");
    store_user u;
    if (credential_user(c, a, cl.sub, &u, "the session token's account is gone or disabled", e) < 0)
        return -1;
    /* The epoch moved (password changed or reset, account disabled or enabled) since the session
     * began: over. The time test keeps tokens signed before the epoch existed (gen 0) honest. */
    if (cl.gen != u.session_epoch || cl.iat < u.password_changed_at)
        return unauthorized(e, AUTH_SESSION_ENDED);
    from_user(p, &u, CRED_JWT);
    p->jti = cl.jti;
    p->sid = cl.sid;
    p->gen = cl.gen;
    p->expires_at = cl.exp;
    return 0;
}

static int auth_token(core *c, arena *a, const char *tok, size_t n, principal *p, derr *e)
{
    char hash[65];
    if (n < 8 || n > 256)
        return unauthorized(e, "the API token is not valid");
    sha256_hex(tok, n, hash);
    store_token t;
    int rc = store_call(c->st, token_by_hash, a, hash, &t, e);
    if (rc == STORE_ERROR)
        return -1;
    if (rc == STORE_NOT_FOUND)
        return unauthorized(e, "the API token is not valid");
    int64_t now = now_unix();
    if (t.expires_at && t.expires_at <= now)
        return unauthorized(e, "the API token has expired");
    store_user u;
    if (credential_user(c, a, t.user_id, &u, "the API token's account is gone or disabled", e) < 0)
        return -1;
    from_user(p, &u, CRED_TOKEN);
    p->scopes = t.scopes;
    p->token_id = t.id;
    p->expires_at = t.expires_at;
    /* Last use is kept to the minute: skip the write (and its lock) when recent. */
    if (!t.last_used_at || now - t.last_used_at >= 60) {
        derr ignore;
        store_call(c->st, token_touch, t.id, now, &ignore);
    }
    return 0;
}

int auth_secret(core *c, arena *a, const char *secret, size_t n, principal *p, derr *e)
{
    unsigned char key[32];
    int64_t now = now_unix();
    if (n > 8192)
        return unauthorized(e, "the credential is not valid");
    int64_t epoch = 0;
    bool cache = authcache_on() && store_call(c->st, auth_epoch, &epoch, e) == STORE_OK;
    if (cache) {
        sha256(secret, n, key);
        if (authcache_get(key, now, epoch, a, p))
            return 0;
    }
    int rc = jwt_looks_like(secret, n) ? auth_jwt(c, a, secret, n, p, e) : auth_token(c, a, secret, n, p, e);
    if (rc == 0 && cache)
        authcache_put(key, now, epoch, p);
    return rc;
}

void auth_forget_secret(const char *secret, size_t n)
{
    unsigned char key[32];
    sha256(secret, n, key);
    authcache_forget(key);
}

bool auth_header_is_slow(const char *v)
{
    return v && strncasecmp(v, "Basic ", 6) == 0;
}

int auth_header(core *c, arena *a, const char *v, principal *p, derr *e)
{
    while (*v == ' ')
        v++;
    if (strncasecmp(v, "Bearer ", 7) == 0) {
        v += 7;
        while (*v == ' ')
            v++;
        return auth_secret(c, a, v, strlen(v), p, e);
    }
    if (strncasecmp(v, "Basic ", 6) == 0) {
        v += 6;
        while (*v == ' ')
            v++;
        unsigned char *dec;
        size_t dlen;
        if (b64_decode(a, v, strlen(v), &dec, &dlen) < 0)
            return unauthorized(e, "the Basic credential is not valid base64");
        const unsigned char *colon = memchr(dec, ':', dlen);
        if (!colon || memchr(dec, '\0', dlen))
            return unauthorized(e, "the Basic credential must be user:password");
        char *login = arena_strndup(a, (const char *)dec, (size_t)(colon - dec));
        const char *pw = (const char *)colon + 1;
        size_t pwlen = dlen - (size_t)(colon - dec) - 1;
        if (pwlen > 1024)
            return unauthorized(e, "wrong username or password");
        return auth_password(c, a, login, pw, pwlen, p, e);
    }
    /* A bare token, as Hex clients send it. */
    size_t n = strlen(v);
    while (n && v[n - 1] == ' ')
        n--;
    if (!n)
        return unauthorized(e, "the Authorization header is empty");
    return auth_secret(c, a, v, n, p, e);
}

int auth_session_cookie(core *c, arena *a, const char *h, principal *p, derr *e)
{
    static const char name[] = AUTH_SESSION_COOKIE "=";
    const size_t nl = sizeof name - 1;
    for (const char *s = h; s && *s;) {
        while (*s == ' ' || *s == ';')
            s++;
        size_t n = strcspn(s, ";");
        if (n > nl && memcmp(s, name, nl) == 0) {
            const char *v = s + nl;
            size_t vn = n - nl;
            while (vn && v[vn - 1] == ' ')
                vn--;
            if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"') {
                v++;
                vn -= 2;
            }
            if (!jwt_looks_like(v, vn))
                return unauthorized(e, "the session cookie is not valid");
            char *tok = arena_strndup(a, v, vn);
            if (auth_secret(c, a, tok, vn, p, e) < 0)
                return -1;
            if (p->kind != CRED_JWT)
                return unauthorized(e, "the session cookie is not valid");
            p->via_cookie = true;
            return 1;
        }
        s += n;
    }
    return 0;
}

int auth_csrf_token(const core *c, const principal *p, char out[64])
{
    out[0] = '\0';
    if (p->kind != CRED_JWT || !p->jti)
        return -1;
    unsigned char mac[32];
    char msg[160];
    int n = snprintf(msg, sizeof msg, "depot-csrf:%s", p->jti);
    if (n < 0 || (size_t)n >= sizeof msg)
        return -1;
    hmac_sha256(c->jwt_key, c->jwt_keylen, msg, (size_t)n, mac);
    /* base64url without padding, by hand: no arena here. */
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < 32; i += 3) {
        unsigned v = (unsigned)mac[i] << 16 | (i + 1 < 32 ? (unsigned)mac[i + 1] << 8 : 0) |
                     (i + 2 < 32 ? mac[i + 2] : 0);
        size_t chars = i + 2 < 32 ? 4 : i + 1 < 32 ? 3 : 2;
        for (size_t k = 0; k < chars; k++)
            out[o++] = al[(v >> (18 - 6 * k)) & 63];
    }
    out[o] = '\0';
    return 0;
}

bool auth_csrf_ok(const core *c, const principal *p, const char *token)
{
    char want[64];
    if (!token || auth_csrf_token(c, p, want) < 0)
        return false;
    return ct_equal(want, strlen(want), token, strlen(token));
}

/* A parsed scope: its right, and the packages it reaches (eco NULL: every ecosystem; pkg NULL:
 * every package of eco). Views into the scope string. */
enum scope_right { RIGHT_READ, RIGHT_PUBLISH, RIGHT_MANAGE, RIGHT_ADMIN };
typedef struct scope_parts {
    enum scope_right right;
    const char *eco, *pkg;
    size_t elen, plen;
} scope_parts;

/* Splits s into its parts. false when s is not a scope. A lenient parse takes any package name
 * (a scope asked for names a package as a request spelled it; the front judges the name). */
static bool scope_parse(const char *s, size_t n, bool lenient, scope_parts *out)
{
    static const struct {
        const char *word;
        enum scope_right right;
        bool ranged;
    } rights[] = {{"read", RIGHT_READ, false},
                  {"admin", RIGHT_ADMIN, false},
                  {"publish", RIGHT_PUBLISH, true},
                  {"manage", RIGHT_MANAGE, true}};
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < sizeof rights / sizeof rights[0]; i++) {
        size_t wl = strlen(rights[i].word);
        if (n < wl || memcmp(s, rights[i].word, wl) != 0 || (n > wl && (!rights[i].ranged || s[wl] != ':')))
            continue;
        out->right = rights[i].right;
        if (n == wl)
            return true;
        const char *eco = s + wl + 1, *end = s + n, *slash = memchr(eco, '/', (size_t)(end - eco));
        out->eco = eco;
        out->elen = (size_t)((slash ? slash : end) - eco);
        if (!ecosystem_findn(eco, out->elen))
            return false;
        if (!slash)
            return true;
        out->pkg = slash + 1;
        out->plen = (size_t)(end - out->pkg);
        if (out->plen == 0 || (!lenient && out->plen > 214))
            return false;
        for (const char *q = out->pkg; !lenient && q < end; q++)
            if ((unsigned char)*q <= ' ' || *q == '"' || *q == '\\')
                return false;
        return true;
    }
    return false;
}

bool scope_valid(const char *s)
{
    scope_parts sp;
    return scope_parse(s, strlen(s), false, &sp);
}

/* Does the held scope cover the wanted one? A right covers the rights below it on the same
 * packages; a range covers the ranges inside it. read and admin reach everything. */
static bool covers(const scope_parts *held, const scope_parts *want)
{
    if (held->right < want->right)
        return false;
    if (held->right == RIGHT_ADMIN || want->right == RIGHT_READ)
        return true;
    if (!held->eco)
        return true;
    if (!want->eco || held->elen != want->elen || memcmp(held->eco, want->eco, held->elen) != 0)
        return false;
    if (!held->pkg)
        return true;
    return want->pkg && held->plen == want->plen && memcmp(held->pkg, want->pkg, held->plen) == 0;
}

/* Calls each(scope, n, ctx) for every scope of a space-separated list until it returns true. */
static bool scopes_any(const char *s, bool (*each)(const char *, size_t, void *), void *ctx)
{
    while (s && *s) {
        while (*s == ' ')
            s++;
        size_t n = strcspn(s, " ");
        if (n && each(s, n, ctx))
            return true;
        s += n;
    }
    return false;
}

static bool held_covers(const char *s, size_t n, void *want)
{
    scope_parts held;
    return scope_parse(s, n, false, &held) && covers(&held, want);
}

bool principal_can(const principal *p, const char *scope)
{
    scope_parts want;
    if (p->kind == CRED_NONE || !scope_parse(scope, strlen(scope), true, &want))
        return false;
    if (want.right == RIGHT_ADMIN && !p->is_admin)
        return false;
    if (!p->scopes)
        return true;
    return scopes_any(p->scopes, held_covers, &want);
}

static bool manages(const char *s, size_t n, void *p)
{
    scope_parts held;
    return scope_parse(s, n, false, &held) &&
           (held.right == RIGHT_MANAGE || (held.right == RIGHT_ADMIN && ((const principal *)p)->is_admin));
}

bool principal_manages_any(const principal *p)
{
    if (p->kind == CRED_NONE)
        return false;
    return !p->scopes || scopes_any(p->scopes, manages, (void *)p);
}

static bool not_held(const char *s, size_t n, void *p)
{
    char one[256];
    if (n >= sizeof one)
        return true;
    memcpy(one, s, n);
    one[n] = '\0';
    return !principal_can(p, one);
}

bool principal_covers(const principal *p, const char *scopes, int64_t expires_at)
{
    if (p->kind == CRED_NONE || scopes_any(scopes, not_held, (void *)p))
        return false;
    return p->kind != CRED_TOKEN || !p->expires_at || (expires_at && expires_at <= p->expires_at);
}

const char *scope_publish(arena *a, const char *ecosystem, const char *package)
{
    return arena_printf(a, "publish:%s/%s", ecosystem, package);
}

const char *scope_manage(arena *a, const char *ecosystem, const char *package)
{
    return arena_printf(a, "manage:%s/%s", ecosystem, package);
}
