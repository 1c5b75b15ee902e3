/*
 * routes.c — the native front's descriptor and its one route table: its
 * whole API at a glance. Every path under /api/v1/ also answers under /api/
 * (the router adds it).
 */
#include "native.h"

static const route routes[] = {
    /* accounts */
    ROUTE("POST", "/api/v1/auth/register", native_register, BODY_JSON, AUTH_NONE, RL_OTHER, true),
    ROUTE("POST", "/api/v1/auth/login", native_login, BODY_JSON, AUTH_NONE, RL_OTHER, true),
    ROUTE("POST", "/api/v1/auth/refresh", native_refresh, BODY_NONE, AUTH_USER, RL_OTHER, false),
    ROUTE("POST", "/api/v1/auth/logout", native_logout, BODY_NONE, AUTH_USER, RL_OTHER, false),
    ROUTE("GET", "/api/v1/auth/me", native_me, BODY_NONE, AUTH_USER, RL_OTHER, false),
    ROUTE("GET", "/api/v1/me", native_me, BODY_NONE, AUTH_USER, RL_OTHER, false),
    ROUTE("GET", "/api/v1/tokens", native_tokens_list, BODY_NONE, AUTH_USER, RL_OTHER, false),
    ROUTE("POST", "/api/v1/tokens", native_tokens_create, BODY_JSON, AUTH_USER, RL_OTHER, false),
    ROUTE("GET", "/api/v1/tokens/{name}", native_tokens_get, BODY_NONE, AUTH_USER, RL_OTHER, false),
    ROUTE("DELETE", "/api/v1/tokens/{name}", native_tokens_delete, BODY_NONE, AUTH_USER, RL_OTHER, false),
    ROUTE("GET", "/api/v1/me/keys", native_keys_list, BODY_NONE, AUTH_USER, RL_OTHER, false),
    ROUTE("POST", "/api/v1/me/keys", native_keys_add, BODY_JSON, AUTH_USER, RL_OTHER, false),
    ROUTE("DELETE", "/api/v1/me/keys/{key_id}", native_keys_delete, BODY_NONE, AUTH_USER, RL_OTHER, false),
    /* packages */
    ROUTE("POST", "/api/v1/packages", native_publish, BODY_UPLOAD, AUTH_USER, RL_PUBLISH, false),
    ROUTE("GET", "/api/v1/packages", native_search, BODY_NONE, AUTH_READ, RL_SEARCH, false),
    ROUTE("GET", "/api/v1/search", native_search, BODY_NONE, AUTH_READ, RL_SEARCH, false),
    ROUTE("GET", "/api/v1/packages/{name}", native_package, BODY_NONE, AUTH_READ, RL_OTHER, false),
    ROUTE("GET", "/api/v1/packages/{name}/versions/{version}", native_version, BODY_NONE, AUTH_READ, RL_OTHER,
          false),
    ROUTE("GET", "/api/v1/packages/{name}/{version}", native_version, BODY_NONE, AUTH_READ, RL_OTHER, false),
    ROUTE("GET", "/api/v1/packages/{name}/versions/{version}/download", native_download, BODY_NONE, AUTH_READ,
          RL_DOWNLOAD, false),
    ROUTE("GET", "/api/v1/packages/{name}/{version}/download", native_download, BODY_NONE, AUTH_READ,
          RL_DOWNLOAD, false),
    ROUTE("PUT", "/api/v1/packages/{name}/versions/{version}/yank", native_yank, BODY_NONE, AUTH_USER,
          RL_PUBLISH, false),
    ROUTE("DELETE", "/api/v1/packages/{name}/versions/{version}/yank", native_unyank, BODY_NONE, AUTH_USER,
          RL_PUBLISH, false),
    ROUTE("POST", "/api/v1/packages/{name}/versions/{version}/docs", native_docs_upload, BODY_UPLOAD,
          AUTH_USER, RL_PUBLISH, true),
    ROUTE("DELETE", "/api/v1/packages/{name}/versions/{version}/docs", native_docs_delete, BODY_NONE,
          AUTH_USER, RL_PUBLISH, false),
    ROUTE("GET", "/api/v1/packages/{name}/owners", native_owners, BODY_NONE, AUTH_READ, RL_OTHER, false),
    ROUTE("PUT", "/api/v1/packages/{name}/owners/{username}", native_owner_add, BODY_NONE, AUTH_USER,
          RL_OTHER, false),
    ROUTE("DELETE", "/api/v1/packages/{name}/owners/{username}", native_owner_remove, BODY_NONE, AUTH_USER,
          RL_OTHER, false),
    ROUTE("PUT", "/api/v1/packages/{name}/versions/{version}/retract", native_retract, BODY_NONE, AUTH_USER,
          RL_PUBLISH, false),
    ROUTE("DELETE", "/api/v1/packages/{name}/versions/{version}/retract", native_unretract, BODY_NONE,
          AUTH_USER, RL_PUBLISH, false),
    ROUTE("PUT", "/api/v1/packages/{name}/discontinue", native_discontinue, BODY_JSON, AUTH_USER, RL_PUBLISH,
          false),
    ROUTE("DELETE", "/api/v1/packages/{name}/discontinue", native_discontinue, BODY_NONE, AUTH_USER,
          RL_PUBLISH, false),
    ROUTE("PUT", "/api/v1/packages/{name}/settings", native_settings, BODY_JSON, AUTH_USER, RL_OTHER, false),
    ROUTE("GET", "/api/v1/packages/{name}/stats", native_pkg_stats, BODY_NONE, AUTH_READ, RL_OTHER, false),
    ROUTE("GET", "/api/v1/stats", native_stats, BODY_NONE, AUTH_READ, RL_OTHER, false),
    ROUTE("GET", "/api/v1/users/{username}", native_user, BODY_NONE, AUTH_READ, RL_OTHER, false),
    ROUTE("POST", "/api/v1/resolve", native_resolve, BODY_JSON, AUTH_READ, RL_OTHER, false),
    ROUTE("GET", "/api/v1/openapi.json", native_openapi, BODY_NONE, AUTH_NONE, RL_NONE, false),
};

const front native_front = {
    .eco =
        {
            .name = NATIVE,
            .label = "depot",
            .fold_name = native_fold_name,
            .dialect = SEMVER_NATIVE,
        },
    .routes = {ROUTE_SET(NATIVE, routes)},
    .snippets = native_snippets,
    .publish_label = "depot",
    .publish_lines = native_publish_lines,
};
