/*
 * session.c — the browser's side of a session: cookies, HTML form bodies,
 * and CSRF tokens.
 *
 * A logged-in browser holds the session JWT in depot_session (the HTTP
 * layer checks it). Its forms carry auth_csrf_token(), an HMAC of the
 * session's id under the server's key, so a page of another site cannot
 * produce it. Forms shown before login (log in, register, reset) carry an
 * HMAC of a random depot_csrf cookie instead: another site can make the
 * browser send the cookie but can neither read it nor compute the HMAC.
 * Every POST must also come from this host when it says where it comes
 * from (Origin).
 */
#include <string.h>
#include <strings.h>

#include "../core/core.h"
#include "../http/router.h"
#include "../lib/crypto.h"
#include "../lib/utf8.h"
#include "web.h"

#define ANON_COOKIE "depot_csrf"

bool web_session(req *r)
{
    return r->who.kind == CRED_JWT && r->who.via_cookie;
}

bool web_known(req *r)
{
    return r->who.kind != CRED_NONE && r->who.username;
}

const char *web_cookie(req *r, const char *name)
{
    const char *h = req_header(r, "Cookie");
    size_t nl = strlen(name);
    for (const char *s = h; s && *s;) {
        while (*s == ' ' || *s == ';')
            s++;
        size_t n = strcspn(s, ";");
        if (n > nl && s[nl] == '=' && memcmp(s, name, nl) == 0) {
            size_t vn = n - nl - 1;
            while (vn && s[nl + 1 + vn - 1] == ' ')
                vn--;
            return arena_strndup(r->a, s + nl + 1, vn);
        }
        s += n;
    }
    return NULL;
}

static const char *cookie_attrs(req *r)
{
    return r->cfg->https ? "; Path=/; HttpOnly; SameSite=Lax; Secure" : "; Path=/; HttpOnly; SameSite=Lax";
}

const char *web_session_cookie(req *r, const char *jwt, int64_t max_age)
{
    return arena_printf(r->a, AUTH_SESSION_COOKIE "=%s; Max-Age=%lld%s", jwt, (long long)max_age,
                        cookie_attrs(r));
}

const char *web_session_cookie_clear(req *r)
{
    return arena_printf(r->a, AUTH_SESSION_COOKIE "=; Max-Age=0%s", cookie_attrs(r));
}

const char *web_anon_cookie_clear(req *r)
{
    return arena_printf(r->a, ANON_COOKIE "=; Max-Age=0%s", cookie_attrs(r));
}

/* The token for an anonymous form: HMAC of the depot_csrf cookie's value. */
static const char *anon_token(req *r, const char *cookie)
{
    unsigned char mac[32];
    const char *msg = arena_printf(r->a, "depot-anon-csrf:%s", cookie);
    core_mac(r->core, msg, strlen(msg), mac);
    return b64url_encode(r->a, mac, sizeof mac);
}

static bool anon_cookie_ok(const char *v)
{
    size_t n = v ? strlen(v) : 0;
    return n >= 20 && n <= 64 && ascii_alnum_or(v, n, "-_");
}

const char *web_csrf(page *p)
{
    req *r = p->r;
    if (p->csrf)
        return p->csrf;
    if (web_session(r)) {
        char tok[64];
        auth_csrf_token(r->core, &r->who, tok);
        p->csrf = arena_strdup(r->a, tok);
        return p->csrf;
    }
    const char *c = web_cookie(r, ANON_COOKIE);
    if (!anon_cookie_ok(c)) {
        unsigned char raw[24];
        random_bytes(raw, sizeof raw);
        c = b64url_encode(r->a, raw, sizeof raw);
        if (p->ncookies < 4)
            p->cookies[p->ncookies++] = arena_printf(r->a, ANON_COOKIE "=%s%s", c, cookie_attrs(r));
        p->cache = CACHE_NO_STORE;
    }
    p->csrf = anon_token(r, c);
    return p->csrf;
}

void web_csrf_field(page *p)
{
    H(&p->b, "<input type=\"hidden\" name=\"csrf\" value=\"{}\">", web_csrf(p));
}

/* Does the Origin header (when sent) name this host? */
static bool same_origin(req *r)
{
    const char *o = req_header(r, "Origin");
    if (!o)
        return true; /* older browsers and non-browsers: the CSRF token decides */
    const char *host = req_header(r, "Host");
    const char *sep = strstr(o, "://");
    if (!host || !sep)
        return false; /* "null" (sandboxed pages, hosted docs) and the like */
    return strcasecmp(sep + 3, host) == 0;
}

bool web_check_post(req *r)
{
    const char *tok = form_get(r, "csrf");
    bool ok = same_origin(r) && tok;
    if (ok) {
        if (web_session(r)) {
            ok = auth_csrf_ok(r->core, &r->who, tok);
        } else {
            const char *c = web_cookie(r, ANON_COOKIE);
            const char *want = anon_cookie_ok(c) ? anon_token(r, c) : NULL;
            ok = want && ct_equal(want, strlen(want), tok, strlen(tok));
        }
    }
    if (!ok)
        web_error_page(
            r, 403, "The form has expired",
            "This form was not sent from a page of this site, or it is too old. Go back, reload the "
            "page and try again.");
    return ok;
}

const char *form_get(req *r, const char *name)
{
    const char *p = r->body, *end = r->body ? r->body + r->body_len : NULL;
    size_t nl = strlen(name);
    while (p && p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        size_t n = amp ? (size_t)(amp - p) : (size_t)(end - p);
        const char *eq = memchr(p, '=', n);
        size_t kl = eq ? (size_t)(eq - p) : n;
        char *k = url_decode(r->a, p, kl, 1);
        if (k && strlen(k) == nl && memcmp(k, name, nl) == 0)
            return eq ? url_decode(r->a, eq + 1, n - kl - 1, 1) : "";
        p += n + (amp ? 1 : 0);
    }
    return NULL;
}

int form_values(req *r, const char *name, const char **out, int max)
{
    const char *p = r->body, *end = r->body ? r->body + r->body_len : NULL;
    size_t nl = strlen(name);
    int n = 0;
    while (p && p < end && n < max) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        size_t len = amp ? (size_t)(amp - p) : (size_t)(end - p);
        const char *eq = memchr(p, '=', len);
        size_t kl = eq ? (size_t)(eq - p) : len;
        char *k = url_decode(r->a, p, kl, 1);
        if (k && strlen(k) == nl && memcmp(k, name, nl) == 0) {
            const char *v = eq ? url_decode(r->a, eq + 1, len - kl - 1, 1) : "";
            if (v)
                out[n++] = v;
        }
        p += len + (amp ? 1 : 0);
    }
    return n;
}
