/*
 * router.h — maps (method, raw path) to a route and its decoded path
 * parameters, from the route tables of the fronts (see routes.c).
 *
 * Patterns are split into segments once, at start. A segment "{name}" takes
 * one path segment, "{name*}" as the last segment takes the rest of the
 * path. Literal segments win over parameters when both match. Every pattern
 * under "/api/v1/" also answers under "/api/". HEAD is routed as GET.
 * Parameters are percent-decoded per segment, so "%2F" inside a segment
 * stays inside that parameter (npm's "@scope%2fname").
 */
#ifndef DEPOT_ROUTER_H
#define DEPOT_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "../lib/url.h" /* url_decode, which the request and form readers use */
#include "http.h"

typedef struct router router;

router *router_new(const route_set *const *sets, size_t nsets);
void router_free(router *rt);

/* The words `depot routes` and the OpenAPI document use for a route's
 * properties: "none" | "read" | "user"; "none" | "json" | "upload" | "form";
 * "none" | "auth" | "publish" | "write" | "search" | "read" (route_rate_class's). */
const char *route_auth_name(enum route_auth a);
const char *route_body_name(enum body_kind b);
const char *route_rl_name(enum rl_class c);

/* Whether a route changes stored state: every method but GET, and the GETs marked get_writes. */
bool route_writes(const route *rt);
/* The rate-limit class a route's requests spend from: its declared class, where RL_OTHER is a
 * read for a route that does not write and a write for one that does. RL_NONE: not limited. */
enum rl_class route_rate_class(const route *rt);

enum router_result {
    ROUTER_FOUND = 0,
    ROUTER_NOT_FOUND = 1,
    ROUTER_METHOD_NOT_ALLOWED = 2, /* *allow lists the methods, "GET, HEAD, PUT" */
    ROUTER_BAD_PATH = 3,           /* malformed percent-encoding or a NUL in a segment */
};

/* Matches; parameter names are borrowed from the table, values allocated in `a`.
 * *allow is set (in `a`) on ROUTER_METHOD_NOT_ALLOWED, and on ROUTER_FOUND too
 * (for OPTIONS and CORS). */
enum router_result router_match(const router *rt, arena *a, const char *method, const char *path,
                                const route **out, int *nparams, const char **names, const char **vals,
                                const char **allow);

#endif
