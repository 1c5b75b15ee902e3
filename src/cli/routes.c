/*
 * routes.c — `depot routes [--json]`: every route the server answers, read
 * from the same front tables the router compiles (src/fronts.c), so tools
 * and tests see the real list, never a copy kept by hand.
 *
 * Each route is printed with its method, pattern, front, the auth rule the
 * server checks before the handler (none, read, user: finer checks such as
 * scopes and ownership are the handler's), how it takes a body, its
 * rate-limit class, and whether it writes: every method but GET and HEAD,
 * and the GETs a table marks (route.get_writes). Patterns under /api/v1/
 * also answer under /api/ (the router adds the alias); the JSON names it.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../http/http.h"
#include "../http/router.h"
#include "../http/server.h"
#include "cli.h"


static void usage(FILE *out)
{
    fprintf(out, "usage: depot routes [--json]\n\n"
                 "Lists every route of the server: method, pattern, front, auth rule, body, rate-limit\n"
                 "class, and whether it writes. --json prints one JSON array of objects.\n");
}

int cli_routes(int argc, char **argv)
{
    bool as_json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            as_json = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "depot routes: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    json_t *all = as_json ? json_array() : NULL;
    for (unsigned f = 0; f < server_nfronts; f++) {
        const route_set *rs = server_fronts[f];
        for (size_t i = 0; i < rs->n; i++) {
            const route *rt = &rs->routes[i];
            bool alias = strncmp(rt->pattern, "/api/v1/", 8) == 0;
            if (!as_json) {
                printf("%-6s %-58s %-6s auth=%-4s body=%-6s rl=%-8s%s\n", rt->method, rt->pattern, rs->front,
                       route_auth_name(rt->auth), route_body_name(rt->body), route_rl_name(route_rate_class(rt)),
                       route_writes(rt) ? " writes" : "");
                continue;
            }
            json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:b}", "method", rt->method, "pattern",
                                  rt->pattern, "front", rs->front, "auth", route_auth_name(rt->auth), "body",
                                  route_body_name(rt->body), "rate_class", route_rl_name(route_rate_class(rt)), "writes",
                                  route_writes(rt), "slow", rt->slow);
            json_object_set_new(o, "name", rt->name ? json_string(rt->name) : json_null());
            char also[512];
            if (alias && snprintf(also, sizeof also, "/api/%s", rt->pattern + 8) < (int)sizeof also)
                json_object_set_new(o, "alias", json_string(also));
            else
                json_object_set_new(o, "alias", json_null());
            json_array_append_new(all, o);
        }
    }
    if (as_json) {
        char *text = json_dumps(all, JSON_INDENT(1));
        json_decref(all);
        if (!text) {
            fprintf(stderr, "depot routes: out of memory\n");
            return 1;
        }
        puts(text);
        free(text);
    }
    return 0;
}
