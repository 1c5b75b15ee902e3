/*
 * options.c — the package and version options pub.dev exposes, in its
 * shapes (pub-dev pkg/_pub_shared/lib/data/package_api.dart: PkgOptions,
 * VersionOptions):
 *   GET/PUT /pub/api/packages/{name}/options                 {isDiscontinued, replacedBy, isUnlisted}
 *   GET/PUT /pub/api/packages/{name}/versions/{v}/options    {isRetracted}
 * and the uploaders, through the shared owner model:
 *   GET /pub/api/packages/{name}/uploaders, PUT/DELETE .../uploaders/{username}
 *
 * A PUT changes only the fields it sends. Discontinued and replacedBy are
 * the package's meta JSON (core keeps it; the listing shows it);
 * retraction is the version's status. Changes need an owner whose
 * credential holds publish:pub/<name> (core/packages.c decides). Unlike
 * pub.dev, retraction has no 7-day window: a private registry's owners may
 * retract whenever they need to. isUnlisted is not supported (always false):
 * depot's search shows every package.
 */
#include <string.h>

#include "../core/packages.h"
#include "../lib/timeutil.h"
#include "pub.h"
#include "pubspec.h"

static json_t *pkg_options(const package_row *p, arena *a)
{
    bool disc;
    const char *rb;
    pub_meta_options(p, &disc, &rb, a);
    json_t *o = json_object();
    json_object_set_new(o, "isDiscontinued", json_boolean(disc));
    json_object_set_new(o, "replacedBy", disc && rb ? json_string(rb) : json_null());
    json_object_set_new(o, "isUnlisted", json_false());
    return o;
}

void pub_get_options(req *r)
{
    package_row p;
    if (pub_load_package(r, req_param(r, "name"), &p) < 0)
        return;
    pub_json(r, 200, pkg_options(&p, r->a));
}

void pub_put_options(req *r)
{
    json_t *body = req_json(r);
    if (!body)
        return;
    package_row p;
    if (pub_load_package(r, req_param(r, "name"), &p) < 0)
        return;
    bool disc;
    const char *rb;
    pub_meta_options(&p, &disc, &rb, r->a);
    json_t *d = json_object_get(body, "isDiscontinued");
    if (d) {
        if (!json_is_boolean(d)) {
            pub_error(r, 400, "bad_request", "isDiscontinued must be true or false");
            return;
        }
        disc = json_is_true(d);
        if (!disc)
            rb = NULL;
    }
    json_t *jrb = json_object_get(body, "replacedBy");
    if (jrb) {
        if (!json_is_null(jrb) && !json_is_string(jrb)) {
            pub_error(r, 400, "bad_request", "replacedBy must be a package name or null");
            return;
        }
        rb = json_is_string(jrb) && *json_string_value(jrb) ? json_string_value(jrb) : NULL;
        if (rb && !disc) {
            pub_error(r, 422, "invalid", "replacedBy needs isDiscontinued: true");
            return;
        }
        if (rb && (!pub_name_valid(rb) || strcmp(rb, p.name) == 0)) {
            pub_error(r, 422, "invalid", "replacedBy: '%.64s' is not another package's name", rb);
            return;
        }
    }
    json_t *unl = json_object_get(body, "isUnlisted");
    if (json_is_true(unl)) {
        pub_error(r, 422, "invalid", "isUnlisted is not supported by this server");
        return;
    }
    derr e;
    if (packages_discontinue(r->core, r->a, &r->who, PUB, p.name, disc, rb, r->ip, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    /* Answer with the options as stored. */
    if (pub_load_package(r, p.name, &p) < 0)
        return;
    pub_json(r, 200, pkg_options(&p, r->a));
}

static int load_version(req *r, package_row *p, version_row *v)
{
    derr e;
    if (pub_load_package(r, req_param(r, "name"), p) < 0)
        return -1;
    if (packages_version(r->core, r->a, p, req_param(r, "version"), v, &e) < 0) {
        resp_derr(r, &e);
        return -1;
    }
    return 0;
}

static void version_options(req *r, bool retracted)
{
    json_t *o = json_object();
    json_object_set_new(o, "isRetracted", json_boolean(retracted));
    pub_json(r, 200, o);
}

void pub_get_version_options(req *r)
{
    package_row p;
    version_row v;
    if (load_version(r, &p, &v) < 0)
        return;
    version_options(r, v.retracted);
}

void pub_put_version_options(req *r)
{
    json_t *body = req_json(r);
    if (!body)
        return;
    package_row p;
    version_row v;
    if (load_version(r, &p, &v) < 0)
        return;
    json_t *ret = json_object_get(body, "isRetracted");
    if (!ret) {
        version_options(r, v.retracted);
        return;
    }
    if (!json_is_boolean(ret)) {
        pub_error(r, 400, "bad_request", "isRetracted must be true or false");
        return;
    }
    bool want = json_is_true(ret);
    version_status st = {.set_retracted = want ? 1 : -1};
    derr e;
    if (packages_set_status(r->core, r->a, &r->who, PUB, p.name, v.version, &st,
                            want ? "version.retract" : "version.unretract", r->ip, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    version_options(r, want);
}

/* ---- uploaders ---- */

void pub_uploaders(req *r)
{
    package_row p;
    if (pub_load_package(r, req_param(r, "name"), &p) < 0)
        return;
    owner_row *os;
    int n;
    derr e;
    if (packages_owners(r->core, r->a, &p, &os, &n, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "username", json_string(os[i].username));
        json_object_set_new(o, "level", json_string(os[i].level ? os[i].level : "owner"));
        json_object_set_new(o, "added_at", json_string(time_rfc3339_a(r->a, os[i].added_at)));
        json_array_append_new(arr, o);
    }
    json_t *doc = json_object();
    json_object_set_new(doc, "owners", arr);
    pub_json(r, 200, doc);
}

static void change_uploader(req *r, bool add)
{
    package_row p;
    if (pub_load_package(r, req_param(r, "name"), &p) < 0)
        return;
    const char *user = req_param(r, "username");
    derr e;
    int rc = add ? packages_owner_add(r->core, r->a, &r->who, PUB, p.name, user, r->ip, &e)
                 : packages_owner_remove(r->core, r->a, &r->who, PUB, p.name, user, r->ip, &e);
    if (rc < 0) {
        resp_derr(r, &e);
        return;
    }
    pub_uploaders(r);
}

void pub_uploader_add(req *r)
{
    change_uploader(r, true);
}

void pub_uploader_remove(req *r)
{
    change_uploader(r, false);
}
