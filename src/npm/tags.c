/*
 * tags.c — npm dist-tag ls|add|rm:
 *   GET    /npm/-/package/NAME/dist-tags       {"latest": "1.0.0", "next": "1.1.0-rc.1"}
 *   PUT    /npm/-/package/NAME/dist-tags/TAG   body: the version as a JSON string ("1.1.0")
 *   DELETE /npm/-/package/NAME/dist-tags/TAG
 * Owners change tags (core's rule); `latest` can be moved but not removed.
 */
#include <string.h>

#include "../core/packages.h"
#include "npm.h"

void npm_tags_get(req *r)
{
    derr e;
    const char *name = npm_req_name_or_404(r);
    if (!name)
        return;
    package_row p;
    tag_row *tags;
    int nt;
    if (packages_get(r->core, r->a, NPM, name, &p, &e) < 0 ||
        packages_tags(r->core, r->a, &p, &tags, &nt, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    resp_json(r, 200, npm_dist_tags_json(&p, tags, nt));
    resp_header(r, "Cache-Control", "no-cache");
}

void npm_tag_put(req *r)
{
    derr e;
    const char *name = npm_req_name_or_404(r);
    if (!name)
        return;
    /* The body is a bare JSON string; some clients send the version unquoted. */
    json_error_t je;
    json_t *v = json_loadb(r->body, r->body_len, JSON_DECODE_ANY, &je);
    const char *version = NULL;
    if (json_is_string(v))
        version = arena_strdup(r->a, json_string_value(v));
    json_decref(v);
    if (!version && r->body_len > 0 && r->body_len < 256 && !memchr(r->body, '"', r->body_len))
        version = arena_strndup(r->a, r->body, r->body_len);
    if (!version || !*version) {
        npm_error(r, 400, "bad_request", "the body must be the version as a JSON string, such as \"1.1.0\"");
        return;
    }
    if (packages_tag_set(r->core, r->a, &r->who, NPM, name, req_param(r, "tag"), version, r->ip, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    npm_ok(r, 201, "package tagged");
}

void npm_tag_delete(req *r)
{
    derr e;
    const char *name = npm_req_name_or_404(r);
    if (!name)
        return;
    if (packages_tag_delete(r->core, r->a, &r->who, NPM, name, req_param(r, "tag"), r->ip, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    npm_ok(r, 200, "tag removed");
}
