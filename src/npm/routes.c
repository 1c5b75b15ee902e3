/*
 * routes.c — the npm front's descriptor and its one route table: the registry npm sees at
 * BASE/npm/ (users set `registry=BASE/npm/`, with the trailing slash, in
 * .npmrc).
 *
 * A scoped name arrives as one segment ("@scope%2fname", decoded by the
 * router to "@scope/name") in npm's packument, publish, dist-tag and owner
 * URLs, and as two ("@scope", "name") in tarball URLs and in clients that do
 * not escape it. Literal segments win over parameters, so "/npm/-/whoami" is
 * never taken for a package. Packument and tarball reads are in the
 * download rate-limit class: an install fetches one packument per package.
 * Anything else under /npm/ is an npm-shaped 404, and the server's own
 * authentication failures on these routes are npm-shaped too (auth_error).
 */
#include "npm.h"

/* Anything else under /npm/ with this method: an npm-shaped 404. */
#define REST(m) ROUTE(m, "/npm/{rest*}", npm_not_found, BODY_NONE, AUTH_NONE, RL_OTHER, false)

static const route routes[] = {
    /* packuments, versions, tarballs */
    ROUTE_READ("/npm/{name}", npm_packument, RL_READ),
    ROUTE_READ("/npm/{scope}/{name}", npm_get_two, RL_READ),
    ROUTE_READ("/npm/{scope}/{name}/{version}", npm_scoped_version, RL_READ),
    ROUTE_READ("/npm/{name}/-/{file}", npm_tarball, RL_READ),
    ROUTE_READ("/npm/{scope}/{name}/-/{file}", npm_tarball, RL_READ),
    /* publish, deprecate, unpublish, owners */
    ROUTE_USER("PUT", "/npm/{name}", npm_put, BODY_UPLOAD, RL_PUBLISH),
    ROUTE_USER("PUT", "/npm/{scope}/{name}", npm_put, BODY_UPLOAD, RL_PUBLISH),
    ROUTE_USER("PUT", "/npm/{name}/-rev/{rev}", npm_put_rev, BODY_UPLOAD, RL_OTHER),
    ROUTE_USER("DELETE", "/npm/{name}/-rev/{rev}", npm_delete_package, BODY_NONE, RL_OTHER),
    ROUTE_USER("DELETE", "/npm/{name}/-/{file}/-rev/{rev}", npm_delete_tarball, BODY_NONE, RL_OTHER),
    ROUTE_USER("DELETE", "/npm/{scope}/{name}/-/{file}/-rev/{rev}", npm_delete_tarball, BODY_NONE,
               RL_OTHER),
    /* dist-tags */
    ROUTE_READ("/npm/-/package/{name}/dist-tags", npm_tags_get, RL_OTHER),
    ROUTE_USER("PUT", "/npm/-/package/{name}/dist-tags/{tag}", npm_tag_put, BODY_JSON, RL_OTHER),
    ROUTE_USER("DELETE", "/npm/-/package/{name}/dist-tags/{tag}", npm_tag_delete, BODY_NONE, RL_OTHER),
    /* users and tokens */
    ROUTE("POST", "/npm/-/v1/login", npm_web_login, BODY_NONE, AUTH_NONE, RL_AUTH, false),
    ROUTE("PUT", "/npm/-/user/{user}", npm_couch_login, BODY_JSON, AUTH_NONE, RL_AUTH, true),
    ROUTE("PUT", "/npm/-/user/{user}/-rev/{rev}", npm_couch_login, BODY_JSON, AUTH_NONE, RL_AUTH, true),
    ROUTE_READ("/npm/-/user/{user}", npm_user_get, RL_OTHER),
    ROUTE_USER("GET", "/npm/-/whoami", npm_whoami, BODY_NONE, RL_OTHER),
    ROUTE_USER("GET", "/npm/-/npm/v1/user", npm_profile, BODY_NONE, RL_OTHER),
    {ROUTE_FIELDS("DELETE", "/npm/-/user/token/{token}", npm_logout, BODY_NONE, AUTH_USER, RL_OTHER, false),
     .secret_param = "token"},
    ROUTE_USER("GET", "/npm/-/npm/v1/tokens", npm_tokens_list, BODY_NONE, RL_OTHER),
    ROUTE("POST", "/npm/-/npm/v1/tokens", npm_tokens_create, BODY_JSON, AUTH_USER, RL_OTHER, true),
    ROUTE_USER("DELETE", "/npm/-/npm/v1/tokens/token/{key}", npm_tokens_delete, BODY_NONE, RL_OTHER),
    /* search, ping, audit */
    ROUTE_READ("/npm/-/v1/search", npm_search, RL_SEARCH),
    ROUTE("GET", "/npm/-/ping", npm_ping, BODY_NONE, AUTH_NONE, RL_OTHER, false),
    ROUTE("POST", "/npm/-/npm/v1/security/advisories/bulk", npm_audit, BODY_NONE, AUTH_READ, RL_OTHER, false),
    /* the rest of /npm/ */
    REST("GET"),
    REST("PUT"),
    REST("POST"),
    REST("DELETE"),
};

/* Authentication failures, and the server's own errors, in npm's error shape too (and see
 * npm_auth_error on logging in). */
const front npm_front = {
    .eco =
        {
            .name = NPM,
            .label = "npm",
            .scoped_names = true,
            .dist_tags = true,
            .dialect = SEMVER_NPM,
            .verbs = ECO_DEPRECATE,
        },
    .routes = {ROUTE_SET(NPM, routes), .auth_error = npm_auth_error, .error = npm_front_error},
    .error = npm_front_error,
    .snippets = npm_snippets,
    .publish_label = "npm",
    .publish_lines = npm_publish_lines,
    .actions = npm_actions,
};
