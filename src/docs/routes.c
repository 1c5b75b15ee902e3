/*
 * routes.c — the hosted-docs front's one route table. Every pattern goes to
 * docs_serve, which tells them apart (an npm scope spelled with a real '/'
 * shifts the segments by one, so the patterns alone cannot).
 */
#include "../http/front.h"
#include "front.h"

#define R(p)                                                                                                 \
    {                                                                                                        \
        .method = "GET", .pattern = p, .fn = docs_serve, .name = "/docs", .body = BODY_NONE,                 \
        .auth = AUTH_READ, .rl = RL_READ, .slow = false                                                  \
    }

static const route routes[] = {
    R("/docs/{ecosystem}/{name}"),
    R("/docs/{ecosystem}/{name}/"),
    R("/docs/{ecosystem}/{name}/{version}"),
    R("/docs/{ecosystem}/{name}/{version}/"),
    R("/docs/{ecosystem}/{name}/{version}/{path*}"),
};

/* In the table of fronts; no ecosystem. */
const front docs_front = {.routes = {ROUTE_SET("docs", routes)}};
