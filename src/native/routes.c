/*
 * routes.c — the native front's one route table: its whole API at a glance.
 * Every path under /api/v1/ also answers under /api/ (the router adds it).
 */
#include "native.h"

#define R(m, p, fn, body, auth, rl, slow) {m, p, fn, NULL, body, auth, rl, slow}

static const route routes[] = {
    /* accounts */
    R("POST", "/api/v1/auth/register", native_register, BODY_JSON, AUTH_NONE, RL_OTHER, true),
    R("POST", "/api/v1/auth/login", native_login, BODY_JSON, AUTH_NONE, RL_OTHER, true),
    R("POST", "/api/v1/auth/refresh", native_refresh, BODY_NONE, AUTH_USER, RL_OTHER, false),
    R("POST", "/api/v1/auth/logout", native_logout, BODY_NONE, AUTH_USER, RL_OTHER, false),
    R("GET", "/api/v1/auth/me", native_me, BODY_NONE, AUTH_USER, RL_OTHER, false),
    R("GET", "/api/v1/me", native_me, BODY_NONE, AUTH_USER, RL_OTHER, false),
    R("GET", "/api/v1/tokens", native_tokens_list, BODY_NONE, AUTH_USER, RL_OTHER, false),
    R("POST", "/api/v1/tokens", native_tokens_create, BODY_JSON, AUTH_USER, RL_OTHER, false),
    R("GET", "/api/v1/tokens/{name}", native_tokens_get, BODY_NONE, AUTH_USER, RL_OTHER, false),
    R("DELETE", "/api/v1/tokens/{name}", native_tokens_delete, BODY_NONE, AUTH_USER, RL_OTHER, false),
};

const route_set native_route_set = {"native", routes, sizeof routes / sizeof routes[0]};
