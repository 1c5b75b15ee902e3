/*
 * fuzz_router.c — libFuzzer driver for router_match (src/http/router.c) over
 * the real route tables of every front (server_fronts, src/fronts.c).
 *
 * Input: one byte picking the method (GET, HEAD, PUT, POST, DELETE, PATCH,
 * OPTIONS, or a made-up one), then the raw request path.
 *
 * Checked: a found route is one of the tables' own, of the method asked for
 * (HEAD as GET); it has at most ROUTE_MAX_PARAMS parameters, each named as in
 * its pattern, and each value is a decoded string no longer than the path
 * that holds a '/' only when it is the rest parameter or the path escaped
 * one; Allow lists the method. A refusal for the method does not list it.
 *
 *   make fuzz FUZZERS=router   (see fuzz/README.md)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/router.h"
#include "http/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool in_tables(const route *r)
{
    for (unsigned i = 0; i < server_nfronts; i++) {
        const route_set *s = server_fronts[i];
        if (r >= s->routes && r < s->routes + s->n)
            return true;
    }
    return false;
}

/* Is m one of the comma-separated items of allow ("GET, HEAD, PUT")? */
static bool allow_has(const char *allow, const char *m)
{
    size_t ml = strlen(m);
    for (const char *p = allow; *p;) {
        size_t n = strcspn(p, ",");
        if (n == ml && memcmp(p, m, ml) == 0)
            return true;
        p += n;
        while (*p == ',' || *p == ' ')
            p++;
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const methods[] = {"GET", "HEAD", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "BREW"};
    static router *rt;
    if (!rt)
        rt = router_new(server_fronts, server_nfronts);
    if (size < 1)
        return 0;
    const char *method = methods[data[0] & 7];
    char *path = malloc(size);
    memcpy(path, data + 1, size - 1);
    path[size - 1] = '\0';
    size_t plen = strlen(path);
    bool escaped_slash = strstr(path, "%2F") || strstr(path, "%2f");

    arena *a = arena_new(0);
    const route *r = NULL;
    int np = -1;
    const char *names[ROUTE_MAX_PARAMS], *vals[ROUTE_MAX_PARAMS], *allow = NULL;
    enum router_result res = router_match(rt, a, method, path, &r, &np, names, vals, &allow);
    switch (res) {
    case ROUTER_FOUND:
        if (!r || !in_tables(r) || !allow || np < 0 || np > ROUTE_MAX_PARAMS)
            abort();
        if (strcmp(r->method, method) != 0 && !(strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0))
            abort();
        if (!allow_has(allow, method))
            abort();
        for (int i = 0; i < np; i++) {
            if (!names[i] || !*names[i] || !vals[i] || strlen(vals[i]) > plen)
                abort();
            const char *plain = arena_printf(a, "{%s}", names[i]);
            bool rest = strstr(r->pattern, arena_printf(a, "{%s*}", names[i])) != NULL;
            if (!rest && !strstr(r->pattern, plain))
                abort();
            if (!rest && strchr(vals[i], '/') && !escaped_slash)
                abort();
        }
        break;
    case ROUTER_METHOD_NOT_ALLOWED:
        if (!allow || allow_has(allow, method))
            abort();
        break;
    case ROUTER_NOT_FOUND:
    case ROUTER_BAD_PATH:
        break;
    default:
        abort();
    }
    arena_free(a);
    free(path);
    return 0;
}
