/*
 * routes.c — the native front's descriptor and its one route table: its
 * whole API at a glance. Every path under /api/v1/ also answers under /api/
 * (the router adds it).
 */
#include "native.h"

/* The prefixes every package and version route shares. */
#define V1 "/api/v1"
#define PKG V1 "/packages/{name}"
#define VER PKG "/versions/{version}"

static const route routes[] = {
    /* accounts */
    ROUTE("POST", V1 "/auth/register", native_register, BODY_JSON, AUTH_NONE, RL_AUTH, true),
    ROUTE("POST", V1 "/auth/login", native_login, BODY_JSON, AUTH_NONE, RL_AUTH, true),
    ROUTE_USER("POST", V1 "/auth/refresh", native_refresh, BODY_NONE, RL_OTHER),
    ROUTE_USER("POST", V1 "/auth/logout", native_logout, BODY_NONE, RL_OTHER),
    ROUTE_USER("GET", V1 "/auth/me", native_me, BODY_NONE, RL_OTHER),
    ROUTE_USER("GET", V1 "/me", native_me, BODY_NONE, RL_OTHER),
    ROUTE_USER("PUT", V1 "/me/settings", native_me_settings, BODY_JSON, RL_OTHER),
    ROUTE_USER("GET", V1 "/tokens", native_tokens_list, BODY_NONE, RL_OTHER),
    ROUTE_USER("POST", V1 "/tokens", native_tokens_create, BODY_JSON, RL_OTHER),
    ROUTE_USER("GET", V1 "/tokens/{name}", native_tokens_get, BODY_NONE, RL_OTHER),
    ROUTE_USER("DELETE", V1 "/tokens/{name}", native_tokens_delete, BODY_NONE, RL_OTHER),
    ROUTE_USER("GET", V1 "/me/keys", native_keys_list, BODY_NONE, RL_OTHER),
    ROUTE_USER("POST", V1 "/me/keys", native_keys_add, BODY_JSON, RL_OTHER),
    ROUTE_USER("DELETE", V1 "/me/keys/{key_id}", native_keys_delete, BODY_NONE, RL_OTHER),
    /* packages */
    ROUTE_USER("POST", V1 "/packages", native_publish, BODY_UPLOAD, RL_PUBLISH),
    ROUTE_READ(V1 "/packages", native_search, RL_SEARCH),
    ROUTE_READ(V1 "/search", native_search, RL_SEARCH),
    ROUTE_READ(PKG, native_package, RL_OTHER),
    ROUTE_READ(VER, native_version, RL_OTHER),
    ROUTE_READ(PKG "/{version}", native_version, RL_OTHER),
    ROUTE_READ(VER "/download", native_download, RL_READ),
    ROUTE_READ(PKG "/{version}/download", native_download, RL_READ),
    ROUTE_USER("PUT", VER "/yank", native_yank, BODY_NONE, RL_OTHER),
    ROUTE_USER("DELETE", VER "/yank", native_unyank, BODY_NONE, RL_OTHER),
    ROUTE("POST", VER "/docs", native_docs_upload, BODY_UPLOAD, AUTH_USER, RL_PUBLISH, true),
    ROUTE_USER("DELETE", VER "/docs", native_docs_delete, BODY_NONE, RL_OTHER),
    ROUTE_READ(PKG "/owners", native_owners, RL_OTHER),
    ROUTE_USER("PUT", PKG "/owners/{username}", native_owner_add, BODY_NONE, RL_OTHER),
    ROUTE_USER("DELETE", PKG "/owners/{username}", native_owner_remove, BODY_NONE, RL_OTHER),
    ROUTE_USER("PUT", VER "/retract", native_retract, BODY_NONE, RL_OTHER),
    ROUTE_USER("DELETE", VER "/retract", native_unretract, BODY_NONE, RL_OTHER),
    ROUTE_USER("PUT", PKG "/discontinue", native_discontinue, BODY_JSON, RL_OTHER),
    ROUTE_USER("DELETE", PKG "/discontinue", native_discontinue, BODY_NONE, RL_OTHER),
    ROUTE_USER("PUT", PKG "/settings", native_settings, BODY_JSON, RL_OTHER),
    ROUTE_READ(PKG "/stats", native_pkg_stats, RL_OTHER),
    ROUTE_READ(V1 "/stats", native_stats, RL_OTHER),
    ROUTE_READ(V1 "/users/{username}", native_user, RL_OTHER),
    ROUTE("POST", V1 "/resolve", native_resolve, BODY_JSON, AUTH_READ, RL_OTHER, false),
    ROUTE("GET", V1 "/openapi.json", native_openapi, BODY_NONE, AUTH_NONE, RL_NONE, false),
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
