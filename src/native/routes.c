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
    R("GET", "/api/v1/me/keys", native_keys_list, BODY_NONE, AUTH_USER, RL_OTHER, false),
    R("POST", "/api/v1/me/keys", native_keys_add, BODY_JSON, AUTH_USER, RL_OTHER, false),
    R("DELETE", "/api/v1/me/keys/{key_id}", native_keys_delete, BODY_NONE, AUTH_USER, RL_OTHER, false),
    /* packages */
    R("POST", "/api/v1/packages", native_publish, BODY_UPLOAD, AUTH_USER, RL_PUBLISH, false),
    R("GET", "/api/v1/packages", native_search, BODY_NONE, AUTH_READ, RL_SEARCH, false),
    R("GET", "/api/v1/search", native_search, BODY_NONE, AUTH_READ, RL_SEARCH, false),
    R("GET", "/api/v1/packages/{name}", native_package, BODY_NONE, AUTH_READ, RL_OTHER, false),
    R("GET", "/api/v1/packages/{name}/versions/{version}", native_version, BODY_NONE, AUTH_READ, RL_OTHER, false),
    R("GET", "/api/v1/packages/{name}/{version}", native_version, BODY_NONE, AUTH_READ, RL_OTHER, false),
    R("GET", "/api/v1/packages/{name}/versions/{version}/download", native_download, BODY_NONE, AUTH_READ,
      RL_DOWNLOAD, false),
    R("GET", "/api/v1/packages/{name}/{version}/download", native_download, BODY_NONE, AUTH_READ, RL_DOWNLOAD,
      false),
    R("PUT", "/api/v1/packages/{name}/versions/{version}/yank", native_yank, BODY_NONE, AUTH_USER, RL_PUBLISH,
      false),
    R("DELETE", "/api/v1/packages/{name}/versions/{version}/yank", native_unyank, BODY_NONE, AUTH_USER,
      RL_PUBLISH, false),
    R("POST", "/api/v1/packages/{name}/versions/{version}/docs", native_docs_upload, BODY_UPLOAD, AUTH_USER,
      RL_PUBLISH, true),
    R("DELETE", "/api/v1/packages/{name}/versions/{version}/docs", native_docs_delete, BODY_NONE, AUTH_USER,
      RL_PUBLISH, false),
    R("GET", "/api/v1/packages/{name}/owners", native_owners, BODY_NONE, AUTH_READ, RL_OTHER, false),
    R("PUT", "/api/v1/packages/{name}/owners/{username}", native_owner_add, BODY_NONE, AUTH_USER, RL_OTHER, false),
    R("DELETE", "/api/v1/packages/{name}/owners/{username}", native_owner_remove, BODY_NONE, AUTH_USER, RL_OTHER,
      false),
    R("PUT", "/api/v1/packages/{name}/versions/{version}/retract", native_retract, BODY_NONE, AUTH_USER,
      RL_PUBLISH, false),
    R("DELETE", "/api/v1/packages/{name}/versions/{version}/retract", native_unretract, BODY_NONE, AUTH_USER,
      RL_PUBLISH, false),
    R("PUT", "/api/v1/packages/{name}/discontinue", native_discontinue, BODY_JSON, AUTH_USER, RL_PUBLISH, false),
    R("DELETE", "/api/v1/packages/{name}/discontinue", native_discontinue, BODY_NONE, AUTH_USER, RL_PUBLISH,
      false),
    R("PUT", "/api/v1/packages/{name}/settings", native_settings, BODY_JSON, AUTH_USER, RL_OTHER, false),
    R("GET", "/api/v1/packages/{name}/stats", native_pkg_stats, BODY_NONE, AUTH_READ, RL_OTHER, false),
    R("GET", "/api/v1/stats", native_stats, BODY_NONE, AUTH_READ, RL_OTHER, false),
    R("GET", "/api/v1/users/{username}", native_user, BODY_NONE, AUTH_READ, RL_OTHER, false),
    R("POST", "/api/v1/resolve", native_resolve, BODY_JSON, AUTH_READ, RL_OTHER, false),
    R("GET", "/api/v1/openapi.json", native_openapi, BODY_NONE, AUTH_NONE, RL_NONE, false),
};

const route_set native_route_set = {.front = "native", .routes = routes, .n = sizeof routes / sizeof routes[0]};
