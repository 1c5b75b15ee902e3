/*
 * redact.c — the path of a request as the logs write it (redact.h).
 *
 * Two rules, so that neither alone must be perfect: the route says which of its parameters is a
 * secret (counted from the end of its pattern, so the "/api/" alias of "/api/v1/" patterns
 * changes nothing), and any segment that looks like a credential is cut whatever the route.
 */
#include "redact.h"

#include <stdbool.h>
#include <string.h>

#include "../core/tokens.h"
#include "../lib/buf.h"
#include "../lib/url.h"

static bool b64url_char(char c)
{
    return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') || c == '-' || c == '_';
}

/* An API token ("dpt_" and base64url) or a JWT (three base64url parts, the first "eyJ", the
 * encoding of '{"'); short runs such as the token prefixes that listings show are not secrets. */
static bool looks_secret(const char *s)
{
    size_t np = strlen(TOKEN_PREFIX);
    if (strncmp(s, TOKEN_PREFIX, np) == 0) {
        size_t n = 0;
        for (const char *p = s + np; *p; p++, n++)
            if (!b64url_char(*p))
                return false;
        return n >= 20;
    }
    if (strncmp(s, "eyJ", 3) != 0)
        return false;
    int dots = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '.')
            dots++;
        else if (!b64url_char(*p))
            return false;
    }
    return dots == 2;
}

/* How many segments of rt's pattern follow its secret parameter (0: it is the last), or -1. */
static int secret_from_end(const route *rt)
{
    if (!rt || !rt->secret_param)
        return -1;
    size_t n = strlen(rt->secret_param);
    const char *p = rt->pattern;
    for (const char *seg = strchr(p, '/'); seg; seg = strchr(seg + 1, '/')) {
        if (seg[1] == '{' && strncmp(seg + 2, rt->secret_param, n) == 0 && seg[2 + n] == '}') {
            int after = 0;
            for (const char *q = seg + 1; (q = strchr(q, '/')); q++)
                after++;
            return after;
        }
    }
    return -1;
}

const char *redact_path(arena *a, const char *url, const route *rt)
{
    size_t len = strcspn(url, "?");
    int nsegs = 0;
    for (size_t i = 0; i < len; i++)
        nsegs += url[i] == '/';
    int secret_at = secret_from_end(rt);
    buf out;
    buf_init(&out, 0);
    int idx = 0; /* segments seen, a segment is what follows a '/' */
    size_t i = 0;
    while (i < len) {
        size_t start = i, n = strcspn(url + i, "/");
        if (n > len - i)
            n = len - i;
        const char *seg = arena_strndup(a, url + start, n);
        const char *dec = url_decode(a, seg, n, false);
        bool cut = n && ((secret_at >= 0 && idx == nsegs - secret_at) || looks_secret(seg) ||
                         (dec && looks_secret(dec)));
        if (cut)
            buf_append(&out, REDACTED, strlen(REDACTED));
        else
            buf_append(&out, seg, n);
        i += n;
        if (i < len) {
            buf_append(&out, "/", 1);
            i++;
            idx++;
        }
    }
    const char *res = arena_strndup(a, out.data ? out.data : "", out.len);
    buf_free(&out);
    return res;
}
