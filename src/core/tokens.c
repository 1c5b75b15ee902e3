/*
 * tokens.c — API tokens.
 */
#include "tokens.h"
#include "core_int.h"

#include <ctype.h>
#include <string.h>

#include "../lib/crypto.h"
#include "../lib/json.h"
#include "../lib/timeutil.h"
#include "authcache.h"

int token_check_name(const char *s, derr *e)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64 || !isalnum((unsigned char)s[0]) || (unsigned char)s[0] > 127)
        return derr_set(e, 422, "invalid",
                        "name: 1 to 64 characters, starting with a letter or digit");
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch > 127 || !(isalnum(ch) || ch == '.' || ch == '_' || ch == '-'))
            return derr_set(e, 422, "invalid", "name: only letters, digits, '.', '_' and '-'");
    }
    return 0;
}

int tokens_may_manage(const principal *p, derr *e)
{
    if (p->kind == CRED_NONE)
        return derr_set(e, 401, "unauthorized", "a credential is needed");
    if (!principal_manages_any(p))
        return derr_set(e, 403, "forbidden",
                        "managing tokens needs a password, a session, or a token with a manage scope "
                        "(manage, manage:<ecosystem>, manage:<ecosystem>/<package>) or the admin scope");
    return 0;
}

/* The expiry of a token that creator makes asking for expires_at (0: never): an expiring API
 * token makes only tokens that end no later than itself, and one asked for without an expiry
 * ends with its creator. 0 with *out set, or -1 with 403 for a later one. */
static int minted_expiry(const principal *creator, int64_t expires_at, int64_t *out, derr *e)
{
    *out = expires_at;
    if (creator->kind != CRED_TOKEN || !creator->expires_at)
        return 0;
    if (!expires_at) {
        *out = creator->expires_at;
        return 0;
    }
    if (expires_at > creator->expires_at)
        return derr_set(e, 403, "forbidden",
                        "expires_at: a token cannot make a token that outlives it (it expires at %lld)",
                        (long long)creator->expires_at);
    return 0;
}

int tokens_create(core *c, arena *a, const principal *creator, const char *name,
                  const char *const *scopes, int64_t expires_at, const char *ip, store_token *out,
                  const char **secret, derr *e)
{
    if (token_check_name(name, e) < 0 || tokens_may_manage(creator, e) < 0)
        return -1;
    if (!scopes || !scopes[0])
        return derr_set(e, 422, "invalid", "scopes: at least one scope is needed (read, publish, ...)");
    size_t total = 0, count = 0;
    for (const char *const *s = scopes; *s; s++, count++) {
        if (count >= 32)
            return derr_set(e, 422, "invalid", "scopes: at most 32");
        if (!scope_valid(*s))
            return derr_set(e, 422, "invalid",
                            "scopes: '%.80s' is not a scope (read, publish, publish:<ecosystem>, "
                            "publish:<ecosystem>/<package>, manage, manage:<ecosystem>, "
                            "manage:<ecosystem>/<package>, admin)",
                            *s);
        if (!principal_can(creator, *s))
            return derr_set(e, 403, "forbidden", "scopes: you cannot grant '%.80s'", *s);
        total += strlen(*s) + 1;
    }
    if (expires_at && expires_at <= now_unix())
        return derr_set(e, 422, "invalid", "expires_at: must be in the future");
    if (minted_expiry(creator, expires_at, &expires_at, e) < 0)
        return -1;

    char *joined = arena_alloc(a, total + 1), *w = joined;
    for (const char *const *s = scopes; *s; s++) {
        size_t n = strlen(*s);
        /* Skip duplicates. */
        int dup = 0;
        for (const char *const *t = scopes; t < s; t++)
            dup |= strcmp(*t, *s) == 0;
        if (dup)
            continue;
        if (w != joined)
            *w++ = ' ';
        memcpy(w, *s, n);
        w += n;
    }
    *w = '\0';

    unsigned char raw[32];
    random_bytes(raw, sizeof raw);
    char *sec = arena_printf(a, TOKEN_PREFIX "%s", b64url_encode(a, raw, sizeof raw));
    char hash[65];
    sha256_hex(sec, strlen(sec), hash);

    memset(out, 0, sizeof *out);
    out->user_id = creator->user_id;
    out->name = arena_strdup(a, name);
    out->hash = arena_strdup(a, hash);
    out->prefix = arena_strndup(a, sec, strlen(TOKEN_PREFIX) + 6);
    out->scopes = joined;
    out->created_at = now_unix();
    out->expires_at = expires_at;
    int rc = store_call(c->st, token_create, out, e);
    if (rc == STORE_CONFLICT)
        return derr_set(e, 409, "conflict", "you already have a token named '%s'", name);
    if (change_done(c, rc, NULL, creator->user_id, "token.create", name, NULL, ip, e) < 0)
        return -1;
    *secret = sec;
    return 0;
}

int tokens_list(core *c, arena *a, int64_t user_id, store_token **out, int *n, derr *e)
{
    return store_call(c->st, token_list, a, user_id, out, n, e) == STORE_OK ? 0 : -1;
}

int tokens_get(core *c, arena *a, int64_t user_id, const char *name, store_token *out, derr *e)
{
    int rc = store_call(c->st, token_by_name, a, user_id, name, out, e);
    if (rc == STORE_NOT_FOUND)
        return derr_set(e, 404, "not_found", "no token named '%s'", name);
    return rc == STORE_OK ? 0 : -1;
}

int tokens_delete(core *c, int64_t user_id, const char *name, const char *ip, derr *e)
{
    arena *a = arena_new(0);
    store_token t;
    unsigned char key[32];
    bool have = store_call(c->st, token_by_name, a, user_id, name, &t, e) == STORE_OK &&
                hex_decode(t.hash, strlen(t.hash), key, sizeof key, NULL) == 0;
    arena_free(a);
    int rc = store_call(c->st, token_delete, user_id, name, e);
    if (have)
        authcache_forget(key); /* the cache is keyed by the secret's SHA-256, which is the stored hash */
    if (rc == STORE_NOT_FOUND)
        return derr_set(e, 404, "not_found", "no token named '%s'", name);
    return change_done(c, rc, NULL, user_id, "token.delete", name, NULL, ip, e);
}

json_t *scopes_json(const char *s)
{
    json_t *sc = json_array();
    while (s && *s) {
        size_t n = strcspn(s, " ");
        if (n)
            json_array_append_new(sc, json_stringn(s, n));
        s += n;
        while (*s == ' ')
            s++;
    }
    return sc;
}

json_t *token_json(const store_token *t)
{
    json_t *o = json_object();
    json_set_str(o, "name", t->name);
    json_object_set_new(o, "scopes", scopes_json(t->scopes));
    json_set_str(o, "prefix", t->prefix);
    json_set_time(o, "created_at", t->created_at);
    json_set_time(o, "expires_at", t->expires_at);
    json_set_time(o, "last_used_at", t->last_used_at);
    return o;
}

int tokens_may_delete(core *c, arena *a, const principal *p, const char *name, derr *e)
{
    if (p->kind != CRED_TOKEN)
        return tokens_may_manage(p, e);
    store_token t;
    int rc = store_call(c->st, token_by_name, a, p->user_id, name, &t, e);
    if (rc == STORE_ERROR)
        return -1;
    if (rc == STORE_OK && t.id == p->token_id)
        return 0;
    if (tokens_may_manage(p, e) < 0)
        return -1;
    if (rc == STORE_OK && !principal_covers(p, t.scopes, t.expires_at))
        return derr_set(e, 403, "forbidden",
                        "this token cannot delete the token '%s': it holds scopes or a lifetime beyond this "
                        "token's",
                        name);
    return 0;
}
