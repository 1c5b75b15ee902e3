/*
 * routes.c — the pub front's descriptor and its one route table. The hosted URL is
 * <base-url>/pub; the client resolves `api/packages/...` against it.
 *
 * The literal `versions/new` paths outrank `{name}` (the router prefers the
 * pattern with the most literal segments), so a package called `versions`
 * still has a listing at /pub/api/packages/versions.
 */
#include "pub.h"

#define R(m, p, fn, body, auth, rl) ROUTE(m, PUB_MOUNT p, fn, body, auth, rl, false)

/* A GET of the publish flow: it starts an upload or publishes one (route.get_writes). */
#define GW(p, fn)                                                                                            \
    {                                                                                                        \
        ROUTE_FIELDS("GET", PUB_MOUNT p, fn, BODY_NONE, AUTH_USER, RL_PUBLISH, false), .get_writes = true    \
    }

static const route routes[] = {
    /* publishing: the three steps */
    GW("/api/packages/versions/new", pub_versions_new),
    R("POST", "/api/packages/versions/newUpload", pub_upload, BODY_UPLOAD, AUTH_USER, RL_PUBLISH),
    GW("/api/packages/versions/newUploadFinish", pub_finalize),
    /* reads */
    R("GET", "/api/packages/{name}", pub_listing, BODY_NONE, AUTH_READ, RL_OTHER),
    R("GET", "/api/packages/{name}/advisories", pub_advisories, BODY_NONE, AUTH_READ, RL_OTHER),
    R("GET", "/api/packages/{name}/versions/{version}", pub_version, BODY_NONE, AUTH_READ, RL_OTHER),
    R("GET", "/packages/{name}/versions/{archive}", pub_archive, BODY_NONE, AUTH_READ, RL_READ),
    R("GET", "/api/search", pub_search, BODY_NONE, AUTH_READ, RL_SEARCH),
    /* options: discontinue, retract (pub.dev's shapes) */
    R("GET", "/api/packages/{name}/options", pub_get_options, BODY_NONE, AUTH_READ, RL_OTHER),
    R("PUT", "/api/packages/{name}/options", pub_put_options, BODY_JSON, AUTH_USER, RL_OTHER),
    R("GET", "/api/packages/{name}/versions/{version}/options", pub_get_version_options, BODY_NONE, AUTH_READ,
      RL_OTHER),
    R("PUT", "/api/packages/{name}/versions/{version}/options", pub_put_version_options, BODY_JSON, AUTH_USER,
      RL_OTHER),
    /* uploaders: the shared owner model */
    R("GET", "/api/packages/{name}/uploaders", pub_uploaders, BODY_NONE, AUTH_READ, RL_OTHER),
    R("PUT", "/api/packages/{name}/uploaders/{username}", pub_uploader_add, BODY_NONE, AUTH_USER, RL_OTHER),
    R("DELETE", "/api/packages/{name}/uploaders/{username}", pub_uploader_remove, BODY_NONE, AUTH_USER,
      RL_OTHER),
};

const front pub_front = {
    .eco =
        {
            .name = PUB,
            .label = "pub",
            .build_metadata = true, /* Dart orders build metadata */
            .dialect = SEMVER_PUB,
            .verbs = ECO_RETRACT | ECO_DISCONTINUE,
            .opts = pub_option_table,
            .opts_size = sizeof(pub_options),
        },
    /* The server's own errors (413, 429 ...) keep depot's shape on these routes. */
    .routes = {ROUTE_SET(PUB, routes), .auth_error = pub_auth_error},
    .error = pub_front_error,
    .snippets = pub_snippets,
    .publish_label = "dart pub",
    .publish_lines = pub_publish_lines,
    .actions = pub_actions,
};
