/*
 * packages.c — the native front's package reads and changes: the package
 * document (cached, see core/documents.h), version details, tarball
 * downloads, yank, owners, settings, stats and user profiles.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/accounts.h"
#include "../core/catalog.h"
#include "../core/documents.h"
#include "../core/packages.h"
#include "../core/privacy.h"
#include "../lib/json.h"
#include "../lib/timeutil.h"
#include "native.h"

json_t *native_json_array(const char *text)
{
    json_t *v = text ? json_loads(text, 0, NULL) : NULL;
    if (!json_is_array(v)) {
        json_decref(v);
        return json_array();
    }
    return v;
}

void native_list(req *r, const char *key, json_t *arr)
{
    json_t *doc = json_object();
    json_object_set_new(doc, key, arr);
    resp_json(r, 200, doc);
}

/* Percent-encodes a path segment (names and versions are URL-safe by their rules, but
 * a version's '+' build metadata is not). */
const char *native_seg(req *r, const char *s)
{
    size_t n = strlen(s);
    char *o = arena_alloc(r->a, n * 3 + 1), *w = o;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '.' || c == '~') {
            *w++ = (char)c;
        } else {
            snprintf(w, 4, "%%%02X", c);
            w += 3;
        }
    }
    *w = '\0';
    return o;
}

static json_t *deps_json(const version_row *v, const char *kind)
{
    json_t *o = json_object();
    for (int i = 0; i < v->ndeps; i++)
        if (strcmp(v->deps[i].kind ? v->deps[i].kind : "normal", kind) == 0)
            json_object_set_new(o, v->deps[i].name, json_string(v->deps[i].requirement));
    return o;
}

json_t *native_signature_json(const version_row *v)
{
    if (!v->signature)
        return json_null();
    json_t *sig = json_object();
    json_set_str(sig, "algorithm", "ed25519");
    json_set_str(sig, "key_id", v->signing_key_id);
    json_set_str(sig, "signature", v->signature);
    return sig;
}

json_t *native_version_json(req *r, const package_row *p, const version_row *v)
{
    json_t *o = json_object();
    json_set_str(o, "name", p->name);
    json_set_str(o, "version", v->version);
    json_t *man = v->manifest ? json_loads(v->manifest, 0, NULL) : NULL;
    json_t *desc = json_object_get(man, "description");
    json_object_set(o, "description", json_is_string(desc) ? desc : json_null());
    json_t *lic = json_object_get(man, "license");
    json_object_set(o, "license", json_is_string(lic) ? lic : json_null());
    json_decref(man);
    json_object_set_new(o, "dependencies", deps_json(v, "normal"));
    json_object_set_new(o, "dev_dependencies", deps_json(v, "dev"));
    json_object_set_new(o, "checksum", json_string(arena_printf(r->a, "sha256:%s", v->sha256)));
    json_set_str(o, "sha256", v->sha256);
    json_object_set_new(o, "size", json_integer(v->size));
    json_object_set_new(o, "signature", native_signature_json(v));
    json_set_str(o, "publisher", v->publisher);
    json_set_time(o, "published_at", v->published_at);
    json_object_set_new(o, "yanked", json_boolean(v->yanked));
    json_set_time(o, "yanked_at", v->yanked ? v->yanked_at : 0);
    json_object_set_new(o, "downloads", json_integer(v->downloads));
    json_set_str(o, "download_url",
                 req_url(r, "/api/v1/packages/%s/versions/%s/download", native_seg(r, p->name),
                         native_seg(r, v->version)));
    return o;
}

json_t *native_summary_json(const package_row *p)
{
    json_t *o = json_object();
    json_set_str(o, "name", p->name);
    json_set_str(o, "description", p->description);
    json_set_str(o, "latest", p->latest_version);
    json_set_str(o, "license", p->license);
    json_object_set_new(o, "keywords", native_json_array(p->keywords));
    json_object_set_new(o, "categories", native_json_array(p->categories));
    json_object_set_new(o, "downloads", json_integer(p->downloads));
    json_set_time(o, "updated_at", p->updated_at);
    return o;
}

/* ---- the package document ---- */

struct build_ctx {
    req *r;
    package_row p;
};

static int build_package(void *vctx, arena *a, char **text, size_t *len, const char **ctype, derr *e)
{
    struct build_ctx *bc = vctx;
    req *r = bc->r;
    const package_row *p = &bc->p;
    version_row *vs;
    int nv;
    owner_row *os;
    int no;
    if (packages_versions(r->core, a, p, &vs, &nv, e) < 0 || packages_owners(r->core, a, p, &os, &no, e) < 0)
        return -1;
    json_t *o = native_summary_json(p);
    json_set_str(o, "homepage", p->homepage);
    json_set_str(o, "repository", p->repository);
    json_set_str(o, "documentation", p->documentation);
    json_object_set_new(o, "authors", native_json_array(p->authors));
    json_object_set_new(o, "tags", native_json_array(p->tags));
    json_set_str(o, "readme", p->readme);
    json_object_set_new(o, "require_signatures", json_boolean(p->require_signatures));
    json_set_time(o, "created_at", p->created_at);
    json_t *owners = json_array();
    for (int i = 0; i < no; i++) {
        json_t *ow = json_object();
        json_set_str(ow, "username", os[i].username);
        json_set_time(ow, "added_at", os[i].added_at);
        json_array_append_new(owners, ow);
    }
    json_object_set_new(o, "owners", owners);
    json_t *versions = json_array();
    for (int i = 0; i < nv; i++) {
        json_t *v = json_object();
        json_set_str(v, "version", vs[i].version);
        json_object_set_new(v, "yanked", json_boolean(vs[i].yanked));
        json_set_time(v, "published_at", vs[i].published_at);
        json_set_str(v, "sha256", vs[i].sha256);
        json_object_set_new(v, "size", json_integer(vs[i].size));
        json_object_set_new(v, "dependencies", deps_json(&vs[i], "normal"));
        json_object_set_new(v, "signed", json_boolean(vs[i].signature != NULL));
        json_set_str(v, "download_url",
                     req_url(r, "/api/v1/packages/%s/versions/%s/download", native_seg(r, p->name),
                             native_seg(r, vs[i].version)));
        json_array_append_new(versions, v);
    }
    json_object_set_new(o, "versions", versions);
    /* Counts move with every download; the document carries the count as of its build. */
    return documents_json(o, "application/json", text, len, ctype, e);
}

void native_package(req *r)
{
    derr e;
    struct build_ctx bc = {.r = r};
    if (packages_get(r->core, r->a, NATIVE, req_param(r, "name"), &bc.p, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    const cdoc *d;
    doc_ref *ref = resp_document(r, arena_printf(r->a, "native:pkg:%s", bc.p.normalized_name),
                                 bc.p.generation, build_package, &bc, &d);
    if (!ref)
        return;
    resp_doc(r, ref, d);
}

static int load_version(req *r, package_row *p, version_row *v)
{
    derr e;
    if (packages_get_version(r->core, r->a, NATIVE, req_param(r, "name"), req_param(r, "version"), p, v, &e) <
        0) {
        resp_derr(r, &e);
        return -1;
    }
    return 0;
}

/* Answers with the version the URL names. */
static void version_json(req *r)
{
    package_row p;
    version_row v;
    if (load_version(r, &p, &v) == 0)
        resp_json(r, 200, native_version_json(r, &p, &v));
}

void native_version(req *r)
{
    version_json(r);
}

void native_download(req *r)
{
    package_row p;
    version_row v;
    if (load_version(r, &p, &v) < 0)
        return;
    derr e;
    int sent = resp_tarball(r, &v, "application/gzip", 0, &e);
    if (sent < 0)
        resp_derr(r, &e);
    if (sent <= 0)
        return;
    resp_header(r, "X-Checksum-SHA256", v.sha256);
    resp_header(r, "Content-Disposition",
                arena_printf(r->a, "attachment; filename=\"%s-%s.tar.gz\"", p.name, v.version));
    if (v.signature) {
        resp_header(r, "X-Signature", v.signature);
        resp_header(r, "X-Signature-Key-Id", v.signing_key_id);
    }
}

static void yank(req *r, bool on)
{
    derr e;
    if (packages_yank(r->core, r->a, &r->who, NATIVE, req_param(r, "name"), req_param(r, "version"), on, r->ip,
                      &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    package_row p;
    version_row v;
    if (load_version(r, &p, &v) < 0)
        return;
    resp_json(r, 200, native_version_json(r, &p, &v));
}

void native_yank(req *r)
{
    yank(r, true);
}

void native_unyank(req *r)
{
    yank(r, false);
}

/* The ecosystem a cross-ecosystem endpoint acts on: ?ecosystem= (any of the table of fronts),
 * native when absent. NULL after answering 400 for an unknown one. One owner model serves every
 * ecosystem, so owners (and retract and discontinue) are reachable here for all of them. */
static const char *ecosystem_of(req *r)
{
    const char *eco = req_query(r, "ecosystem");
    if (!eco || !*eco)
        return NATIVE;
    const eco_desc *x = ecosystem_find(eco);
    if (x)
        return x->name;
    resp_error(r, 400, "bad_request", "ecosystem: expected %s", ecosystem_names(r->a, ", ", " or "));
    return NULL;
}

void native_owners(req *r)
{
    derr e;
    package_row p;
    owner_row *os;
    int n;
    const char *eco = ecosystem_of(r);
    if (!eco)
        return;
    if (packages_get(r->core, r->a, eco, req_param(r, "name"), &p, &e) < 0 ||
        packages_owners(r->core, r->a, &p, &os, &n, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        json_t *o = json_object();
        json_set_str(o, "username", os[i].username);
        json_set_str(o, "level", os[i].level);
        json_set_time(o, "added_at", os[i].added_at);
        json_array_append_new(arr, o);
    }
    native_list(r, "owners", arr);
}

void native_owner_add(req *r)
{
    derr e;
    const char *eco = ecosystem_of(r);
    if (!eco)
        return;
    if (packages_owner_add(r->core, r->a, &r->who, eco, req_param(r, "name"), req_param(r, "username"), r->ip,
                           &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    native_owners(r);
}

void native_owner_remove(req *r)
{
    derr e;
    const char *eco = ecosystem_of(r);
    if (!eco)
        return;
    if (packages_owner_remove(r->core, r->a, &r->who, eco, req_param(r, "name"), req_param(r, "username"),
                              r->ip, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    native_owners(r);
}

/* PUT/DELETE .../versions/{version}/retract?ecosystem=E: the retraction of an ecosystem that has
 * one (pub), from the native API. */
static void retract(req *r, bool on)
{
    const char *eco = ecosystem_of(r);
    if (!eco)
        return;
    if (!ecosystem_has(eco, ECO_RETRACT)) {
        const eco_desc *x = NULL;
        for (size_t i = 0; (x = ecosystem_at(i)) && !(x->verbs & ECO_RETRACT); i++)
            ;
        const char *who = x ? x->name : "";
        resp_error(r, 422, "invalid", "ecosystem: retraction is %s's (use ?ecosystem=%s); yank elsewhere",
                   who, who);
        return;
    }
    version_status st = {.set_retracted = on ? 1 : -1};
    derr e;
    if (packages_set_status(r->core, r->a, &r->who, eco, req_param(r, "name"), req_param(r, "version"), &st,
                            on ? "version.retract" : "version.unretract", r->ip, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    json_t *doc = json_object();
    json_set_str(doc, "ecosystem", eco);
    json_set_str(doc, "version", req_param(r, "version"));
    json_object_set_new(doc, "retracted", json_boolean(on));
    resp_json(r, 200, doc);
}

void native_retract(req *r)
{
    retract(r, true);
}

void native_unretract(req *r)
{
    retract(r, false);
}

/* PUT .../discontinue?ecosystem=pub {"replaced_by": NAME?}, DELETE to lift it. */
void native_discontinue(req *r)
{
    const char *eco = ecosystem_of(r);
    if (!eco)
        return;
    bool on = strcmp(r->method, "PUT") == 0;
    const char *rb = NULL;
    if (on && r->body_len) {
        json_t *doc = req_json(r);
        if (!doc)
            return;
        derr e;
        if (json_str(doc, "replaced_by", false, &rb, &e) < 0) {
            resp_derr(r, &e);
            return;
        }
    }
    derr e;
    if (packages_discontinue(r->core, r->a, &r->who, eco, req_param(r, "name"), on, rb, r->ip, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    json_t *doc = json_object();
    json_set_str(doc, "ecosystem", eco);
    json_set_str(doc, "name", req_param(r, "name"));
    json_object_set_new(doc, "discontinued", json_boolean(on));
    json_set_str(doc, "replaced_by", on ? rb : NULL);
    resp_json(r, 200, doc);
}

void native_settings(req *r)
{
    json_t *doc = req_json(r);
    if (!doc)
        return;
    json_t *rs = json_object_get(doc, "require_signatures");
    if (!json_is_boolean(rs)) {
        resp_error(r, 400, "bad_request", "field 'require_signatures' must be true or false");
        return;
    }
    derr e;
    if (packages_require_signatures(r->core, r->a, &r->who, NATIVE, req_param(r, "name"), json_is_true(rs), r->ip,
                                    &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    json_t *out = json_object();
    json_object_set_new(out, "require_signatures", json_boolean(json_is_true(rs)));
    resp_json(r, 200, out);
}

static void day_str(int64_t t, char out[16])
{
    char b[32];
    time_rfc3339(t, b);
    memcpy(out, b, 10);
    out[10] = '\0';
}

void native_pkg_stats(req *r)
{
    derr e;
    package_row p;
    if (packages_get(r->core, r->a, NATIVE, req_param(r, "name"), &p, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    char since[16];
    day_str(now_unix() - 89 * 86400, since);
    day_count *rows;
    int n;
    if (catalog_daily_downloads(r->core, r->a, &p, since, &rows, &n, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    json_t *total = json_object(), *per = json_object();
    int64_t sum = 0;
    for (int i = 0; i < n; i++) {
        if (!rows[i].version) {
            json_object_set_new(total, rows[i].day, json_integer(rows[i].count));
            sum += rows[i].count;
            continue;
        }
        json_t *v = json_object_get(per, rows[i].version);
        if (!v) {
            v = json_object();
            json_object_set_new(per, rows[i].version, v);
        }
        json_object_set_new(v, rows[i].day, json_integer(rows[i].count));
    }
    json_t *doc = json_object();
    json_set_str(doc, "name", p.name);
    json_set_str(doc, "since", since);
    json_object_set_new(doc, "downloads", json_integer(p.downloads));
    json_object_set_new(doc, "downloads_90_days", json_integer(sum));
    json_object_set_new(doc, "daily", total);
    json_object_set_new(doc, "daily_by_version", per);
    resp_json(r, 200, doc);
}

static json_t *top(req *r, const char *which, derr *e)
{
    package_row *ps;
    int n;
    if (catalog_top(r->core, r->a, NATIVE, which, 10, &ps, &n, e) < 0)
        return NULL;
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, native_summary_json(&ps[i]));
    return arr;
}

void native_stats(req *r)
{
    derr e;
    registry_totals t;
    if (catalog_totals(r->core, &t, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    json_t *most = top(r, "downloads", &e), *newest = most ? top(r, "new", &e) : NULL,
           *updated = newest ? top(r, "updated", &e) : NULL;
    if (!updated) {
        json_decref(most);
        json_decref(newest);
        resp_derr(r, &e);
        return;
    }
    json_t *doc = json_object();
    json_object_set_new(doc, "packages", json_integer(t.packages));
    json_object_set_new(doc, "versions", json_integer(t.versions));
    json_object_set_new(doc, "users", json_integer(t.users));
    json_object_set_new(doc, "downloads", json_integer(t.downloads));
    json_object_set_new(doc, "most_downloaded", most);
    json_object_set_new(doc, "newest", newest);
    json_object_set_new(doc, "recently_updated", updated);
    resp_json(r, 200, doc);
}

void native_user(req *r)
{
    derr e;
    user_row u;
    package_row *ps;
    int n;
    if (accounts_profile(r->core, r->a, req_param(r, "username"), &u, &e) < 0 ||
        catalog_user_packages(r->core, r->a, u.id, &ps, &n, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        json_t *s = native_summary_json(&ps[i]);
        json_set_str(s, "ecosystem", ps[i].ecosystem);
        json_array_append_new(arr, s);
    }
    json_t *doc = json_object();
    json_set_str(doc, "username", u.username);
    json_set_str(doc, "email", privacy_user_email(&r->who, &u)); /* only one the caller may see */
    json_set_time(doc, "created_at", u.created_at);
    json_object_set_new(doc, "packages", arr);
    resp_json(r, 200, doc);
}
