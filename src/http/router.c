/*
 * router.c — a linear scan over precompiled patterns.
 *
 * Route tables hold well under a few hundred patterns; comparing segments
 * in order is cheaper than anything that would need hashing per request.
 * Among the patterns that match a path, the one with the most literal
 * segments wins, so "/api/v1/tokens/new" beats "/api/v1/tokens/{name}".
 */
#include "router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/xalloc.h"

#define MAX_SEGS 16

struct seg {
    const char *text; /* literal text, or the parameter name */
    size_t len;
    enum { SEG_LIT, SEG_PARAM, SEG_REST } kind;
};

struct cpattern {
    const route *r;
    int nsegs;
    int nlit;
    struct seg segs[MAX_SEGS];
};

/* Patterns whose first segment is a literal and that have no {rest*} segment,
 * grouped by that literal and their segment count: a path is only tried
 * against its own group and the patterns no group could hold (`general`). */
struct bucket {
    const char *lit;
    size_t len;
    int nsegs;
    size_t *idx, n;
};

struct router {
    struct cpattern *pats;
    size_t n;
    struct bucket *buckets;
    size_t nbuckets;
    size_t *general, ngeneral;
};

static int groupable(const struct cpattern *cp)
{
    if (cp->nsegs == 0 || cp->segs[0].kind != SEG_LIT)
        return 0;
    for (int i = 0; i < cp->nsegs; i++)
        if (cp->segs[i].kind == SEG_REST)
            return 0;
    return 1;
}

static struct bucket *find_bucket(const router *rt, const char *lit, size_t len, int nsegs)
{
    for (size_t i = 0; i < rt->nbuckets; i++) {
        struct bucket *b = &rt->buckets[i];
        if (b->nsegs == nsegs && b->len == len && memcmp(b->lit, lit, len) == 0)
            return b;
    }
    return NULL;
}

static void index_patterns(router *rt)
{
    rt->buckets = xcalloc(rt->n ? rt->n : 1, sizeof *rt->buckets);
    rt->general = xcalloc(rt->n ? rt->n : 1, sizeof *rt->general);
    for (size_t i = 0; i < rt->n; i++) {
        const struct cpattern *cp = &rt->pats[i];
        if (!groupable(cp)) {
            rt->general[rt->ngeneral++] = i;
            continue;
        }
        struct bucket *b = find_bucket(rt, cp->segs[0].text, cp->segs[0].len, cp->nsegs);
        if (!b) {
            b = &rt->buckets[rt->nbuckets++];
            b->lit = cp->segs[0].text;
            b->len = cp->segs[0].len;
            b->nsegs = cp->nsegs;
            b->idx = xcalloc(rt->n, sizeof *b->idx);
        }
        b->idx[b->n++] = i;
    }
}

/* Splits the raw path into segments (views into path). Returns the count or -1. */
static int split(const char *path, const char **starts, size_t *lens, int cap)
{
    int n = 0;
    const char *p = path;
    if (*p != '/')
        return -1;
    while (*p == '/') {
        p++;
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (n == cap)
            return -1;
        starts[n] = p;
        lens[n] = len;
        n++;
        p += len;
    }
    return n;
}

static int compile(struct cpattern *cp, const route *r, const char *pattern)
{
    cp->r = r;
    cp->nsegs = 0;
    cp->nlit = 0;
    const char *starts[MAX_SEGS];
    size_t lens[MAX_SEGS];
    int n = split(pattern, starts, lens, MAX_SEGS);
    if (n < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        const char *p = starts[i];
        size_t len = lens[i];
        struct seg *s = &cp->segs[cp->nsegs++];
        if (len >= 2 && p[0] == '{' && p[len - 1] == '}') {
            if (len >= 3 && p[len - 2] == '*') {
                s->kind = SEG_REST;
                s->text = p + 1;
                s->len = len - 3;
            } else {
                s->kind = SEG_PARAM;
                s->text = p + 1;
                s->len = len - 2;
            }
        } else {
            s->kind = SEG_LIT;
            s->text = p;
            s->len = len;
            cp->nlit++;
        }
    }
    return 0;
}

router *router_new(const route_set *const *sets, size_t nsets)
{
    size_t total = 0;
    for (size_t i = 0; i < nsets; i++)
        for (size_t j = 0; j < sets[i]->n; j++)
            total += strncmp(sets[i]->routes[j].pattern, "/api/v1/", 8) == 0 ? 2 : 1;
    router *rt = xcalloc(1, sizeof *rt);
    rt->pats = xcalloc(total, sizeof *rt->pats);
    for (size_t i = 0; i < nsets; i++)
        for (size_t j = 0; j < sets[i]->n; j++) {
            const route *r = &sets[i]->routes[j];
            if (compile(&rt->pats[rt->n], r, r->pattern) < 0)
                continue;
            rt->n++;
            if (strncmp(r->pattern, "/api/v1/", 8) == 0) {
                /* The /api/ alias: the same segments without "v1". */
                struct cpattern *alias = &rt->pats[rt->n++];
                *alias = rt->pats[rt->n - 2];
                memmove(&alias->segs[1], &alias->segs[2], sizeof(struct seg) * (size_t)(alias->nsegs - 2));
                alias->nsegs--;
                alias->nlit--;
            }
        }
    index_patterns(rt);
    return rt;
}

void router_free(router *rt)
{
    if (!rt)
        return;
    for (size_t i = 0; i < rt->nbuckets; i++)
        free(rt->buckets[i].idx);
    free(rt->buckets);
    free(rt->general);
    free(rt->pats);
    free(rt);
}

/* Does cp match the segments? Does not decode. */
static int matches(const struct cpattern *cp, const char **starts, const size_t *lens, int n)
{
    for (int i = 0; i < cp->nsegs; i++) {
        const struct seg *s = &cp->segs[i];
        if (s->kind == SEG_REST)
            return i < n && lens[i] > 0;
        if (i >= n)
            return 0;
        if (s->kind == SEG_LIT) {
            if (lens[i] != s->len || memcmp(starts[i], s->text, s->len) != 0)
                return 0;
        } else if (lens[i] == 0) {
            return 0;
        }
    }
    return cp->nsegs == n;
}

static int same_method(const char *route_m, const char *m)
{
    if (strcmp(route_m, m) == 0)
        return 1;
    return strcmp(m, "HEAD") == 0 && strcmp(route_m, "GET") == 0;
}

enum router_result router_match(const router *rt, arena *a, const char *method, const char *path,
                                const route **out, int *nparams, const char **names,
                                const char **vals, const char **allow)
{
    const char *starts[64];
    size_t lens[64];
    int n = split(path, starts, lens, 64);
    *allow = NULL;
    if (n < 0)
        return ROUTER_NOT_FOUND;

    const struct cpattern *best = NULL;
    char methods[128] = "";
    size_t mlen = 0;
    int any = 0;
    /* The path's group and the general patterns, merged in table order (the
     * order decides ties and the order of Allow). */
    const struct bucket *b = n > 0 ? find_bucket(rt, starts[0], lens[0], n) : NULL;
    size_t bi = 0, gi = 0, bn = b ? b->n : 0;
    while (bi < bn || gi < rt->ngeneral) {
        size_t i;
        if (gi == rt->ngeneral || (bi < bn && b->idx[bi] < rt->general[gi]))
            i = b->idx[bi++];
        else
            i = rt->general[gi++];
        const struct cpattern *cp = &rt->pats[i];
        if (!matches(cp, starts, lens, n))
            continue;
        any = 1;
        const char *m = cp->r->method;
        /* Collect the methods of every pattern matching this path, once each. */
        char probe[16];
        snprintf(probe, sizeof probe, "%s,", m);
        if (!strstr(methods, probe) && mlen + strlen(probe) < sizeof methods) {
            memcpy(methods + mlen, probe, strlen(probe) + 1);
            mlen += strlen(probe);
        }
        if (same_method(m, method) && (!best || cp->nlit > best->nlit))
            best = cp;
    }
    if (!any)
        return ROUTER_NOT_FOUND;

    /* "GET,PUT," → "GET, HEAD, PUT" */
    char pretty[192] = "";
    size_t pl = 0;
    for (const char *p = methods; *p;) {
        const char *c = strchr(p, ',');
        int w = snprintf(pretty + pl, sizeof pretty - pl, "%s%.*s", pl ? ", " : "", (int)(c - p), p);
        pl += (size_t)w;
        if ((size_t)(c - p) == 3 && memcmp(p, "GET", 3) == 0)
            pl += (size_t)snprintf(pretty + pl, sizeof pretty - pl, ", HEAD");
        p = c + 1;
    }
    *allow = arena_strdup(a, pretty);
    if (!best)
        return ROUTER_METHOD_NOT_ALLOWED;

    int np = 0;
    for (int i = 0; i < best->nsegs; i++) {
        const struct seg *s = &best->segs[i];
        if (s->kind == SEG_LIT)
            continue;
        if (np == ROUTE_MAX_PARAMS)
            break;
        size_t len = s->kind == SEG_REST ? strlen(starts[i]) : lens[i];
        char *v = url_decode(a, starts[i], len, 0);
        if (!v)
            return ROUTER_BAD_PATH;
        names[np] = arena_strndup(a, s->text, s->len);
        vals[np] = v;
        np++;
    }
    *nparams = np;
    *out = best->r;
    return ROUTER_FOUND;
}

/* ---- names of a route's properties (depot routes, the OpenAPI check) ---- */

/* names[v], or fallback when v is outside names[0..n) or has no name there. */
static const char *enum_name(const char *const *names, size_t n, int v, const char *fallback)
{
    return v >= 0 && (size_t)v < n && names[v] ? names[v] : fallback;
}

#define ENUM_NAME(names, v, fallback) enum_name(names, sizeof names / sizeof *names, (int)(v), fallback)

const char *route_auth_name(enum route_auth a)
{
    static const char *const names[] = {[AUTH_NONE] = "none", [AUTH_READ] = "read", [AUTH_USER] = "user"};
    return ENUM_NAME(names, a, "?");
}

const char *route_body_name(enum body_kind b)
{
    static const char *const names[] = {
        [BODY_NONE] = "none", [BODY_JSON] = "json", [BODY_UPLOAD] = "upload", [BODY_FORM] = "form"};
    return ENUM_NAME(names, b, "?");
}

const char *route_rl_name(enum rl_class c)
{
    static const char *const names[RL_NCLASS] = {[RL_AUTH] = "auth", [RL_PUBLISH] = "publish", [RL_WRITE] = "write",
                                                 [RL_SEARCH] = "search", [RL_READ] = "read"};
    return ENUM_NAME(names, c, "none");
}

bool route_writes(const route *rt)
{
    return strcmp(rt->method, "GET") != 0 || rt->get_writes;
}

enum rl_class route_rate_class(const route *rt)
{
    if (rt->rl != RL_OTHER)
        return rt->rl;
    return route_writes(rt) ? RL_WRITE : RL_READ;
}
