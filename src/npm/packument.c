/*
 * packument.c — what npm reads: packuments (full and abbreviated), single
 * version documents, and tarballs.
 *
 * A packument is built once per package generation and then served as
 * bytes from the read cache (core/documents.h) with a strong ETag and a gzip
 * variant. npm 11 asks the full document (Accept: application/json) for
 * install, view and owner, and the abbreviated "corgi" one
 * (application/vnd.npm.install-v1+json) for publish pre-checks, unpublish and
 * audit; both are cached separately. Each version's object is the
 * package.json stored at publish with `dist` rebuilt by depot (its own
 * absolute tarball URL, shasum, integrity), never the client's.
 *
 * A package whose every version was unpublished is answered 404, as if it
 * never existed; its name stays with its owners.
 */
#include <string.h>

#include "../core/catalog.h"
#include "../core/documents.h"
#include "../core/packages.h"
#include "../lib/crypto.h"
#include "npm.h"

/* Fields an installer needs, kept in the abbreviated document (the registry's documented
 * corgi fields, plus those Verdaccio and the public registry also keep). */
static const char *const corgi_fields[] = {"dependencies",
                                           "optionalDependencies",
                                           "devDependencies",
                                           "bundleDependencies",
                                           "bundledDependencies",
                                           "peerDependencies",
                                           "peerDependenciesMeta",
                                           "acceptDependencies",
                                           "bin",
                                           "directories",
                                           "engines",
                                           "os",
                                           "cpu",
                                           "libc",
                                           "funding",
                                           "_hasShrinkwrap",
                                           "license",
                                           NULL};

/* Package-level fields a full packument copies from its latest version. */
static const char *const top_fields[] = {"description",    "homepage", "keywords", "repository",
                                         "author",         "bugs",     "license",  "contributors",
                                         "readmeFilename", NULL};

const char *npm_rev(arena *a, const package_row *p)
{
    char seed[300];
    unsigned char sum[32];
    char hex[65];
    int n = snprintf(seed, sizeof seed, "%s\n%lld", p->normalized_name ? p->normalized_name : p->name,
                     (long long)p->generation);
    sha256(seed, (size_t)(n < 0 ? 0 : n), sum);
    hex_encode(sum, 8, hex);
    return arena_printf(a, "%lld-%s", (long long)p->generation, hex);
}

static json_t *extra_json(const version_row *v)
{
    json_t *x = v->extra ? json_loads(v->extra, 0, NULL) : NULL;
    if (!json_is_object(x)) {
        json_decref(x);
        x = json_object();
    }
    return x;
}

static bool has_install_script(json_t *man)
{
    json_t *scripts = json_object_get(man, "scripts");
    return json_object_get(scripts, "preinstall") || json_object_get(scripts, "install") ||
           json_object_get(scripts, "postinstall");
}

json_t *npm_version_json(req *r, const package_row *p, const version_row *v, bool abbreviated)
{
    json_t *man = v->manifest ? json_loads(v->manifest, 0, NULL) : NULL;
    if (!json_is_object(man)) {
        json_decref(man);
        man = json_object();
    }
    json_t *o;
    if (abbreviated) {
        o = json_object();
        json_object_set_new(o, "name", json_string(p->name));
        json_object_set_new(o, "version", json_string(v->version));
        for (int i = 0; corgi_fields[i]; i++) {
            json_t *f = json_object_get(man, corgi_fields[i]);
            if (f)
                json_object_set(o, corgi_fields[i], f);
        }
        if (has_install_script(man))
            json_object_set_new(o, "hasInstallScript", json_true());
        json_decref(man);
    } else {
        o = man;
        json_object_set_new(o, "name", json_string(p->name));
        json_object_set_new(o, "version", json_string(v->version));
        json_object_set_new(o, "_id", json_string(arena_printf(r->a, "%s@%s", p->name, v->version)));
        /* The publisher with the no-reply address, whatever was stored (earlier versions of depot
         * kept the real one). */
        const char *by = json_string_value(json_object_get(json_object_get(o, "_npmUser"), "name"));
        if (by || v->publisher)
            json_object_set_new(o, "_npmUser", npm_person(r, "name", by ? by : v->publisher));
    }
    json_t *x = extra_json(v);
    json_t *dist = json_object();
    json_object_set_new(dist, "tarball", json_string(npm_tarball_url(r, p->name, v->version)));
    static const char *const dist_fields[] = {"shasum", "integrity", "fileCount", "unpackedSize", NULL};
    for (int i = 0; dist_fields[i]; i++) {
        json_t *f = json_object_get(x, dist_fields[i]);
        if (f)
            json_object_set(dist, dist_fields[i], f);
    }
    json_decref(x);
    json_object_set_new(o, "dist", dist);
    if (v->deprecated && *v->deprecated)
        json_object_set_new(o, "deprecated", json_string(v->deprecated));
    else
        json_object_del(o, "deprecated");
    return o;
}

json_t *npm_dist_tags_json(const package_row *p, const tag_row *tags, int ntags)
{
    json_t *o = json_object();
    for (int i = 0; i < ntags; i++)
        json_object_set_new(o, tags[i].tag, json_string(tags[i].version));
    if (!json_object_get(o, "latest") && p->latest_version)
        json_object_set_new(o, "latest", json_string(p->latest_version));
    return o;
}

struct build_ctx {
    req *r;
    const char *name;
    bool abbreviated;
};

static int build(void *vctx, arena *a, char **text, size_t *len, const char **ctype, derr *e)
{
    struct build_ctx *bc = vctx;
    req *r = bc->r;
    package_row p;
    version_row *vs;
    tag_row *tags;
    int nv, nt;
    if (packages_get_versions(r->core, a, NPM, bc->name, &p, &vs, &nv, e) < 0 ||
        packages_tags(r->core, a, &p, &tags, &nt, e) < 0)
        return -1;
    if (nv == 0)
        return derr_set(e, 404, "not_found", "no package named '%s' (every version was unpublished)", p.name);
    json_t *tagdoc = npm_dist_tags_json(&p, tags, nt);
    int64_t modified = p.updated_at;
    for (int i = 0; i < nv; i++)
        if (vs[i].published_at > modified)
            modified = vs[i].published_at;

    json_t *doc = json_object();
    json_t *versions = json_object();
    json_t *latest_man = NULL;
    const char *latest = json_string_value(json_object_get(tagdoc, "latest"));
    /* Oldest first, as the public registry lists them. */
    for (int i = nv - 1; i >= 0; i--) {
        json_t *vo = npm_version_json(r, &p, &vs[i], bc->abbreviated);
        json_object_set_new(versions, vs[i].version, vo);
        if (latest && strcmp(latest, vs[i].version) == 0)
            latest_man = vo;
    }
    if (!latest_man)
        latest_man = json_object_get(versions, vs[0].version);

    if (bc->abbreviated) {
        json_object_set_new(doc, "name", json_string(p.name));
        json_object_set_new(doc, "modified", json_string(npm_time(a, modified)));
        json_object_set_new(doc, "dist-tags", tagdoc);
        json_object_set_new(doc, "versions", versions);
    } else {
        owner_row *os;
        int no;
        if (packages_owners(r->core, a, &p, &os, &no, e) < 0) {
            json_decref(doc);
            json_decref(versions);
            json_decref(tagdoc);
            return -1;
        }
        json_object_set_new(doc, "_id", json_string(p.name));
        json_object_set_new(doc, "_rev", json_string(npm_rev(a, &p)));
        json_object_set_new(doc, "name", json_string(p.name));
        for (int i = 0; top_fields[i]; i++) {
            json_t *f = json_object_get(latest_man, top_fields[i]);
            if (f)
                json_object_set(doc, top_fields[i], f);
        }
        json_object_set_new(doc, "dist-tags", tagdoc);
        json_object_set_new(doc, "versions", versions);
        json_t *time = json_object();
        json_object_set_new(time, "created", json_string(npm_time(a, p.created_at)));
        json_object_set_new(time, "modified", json_string(npm_time(a, modified)));
        for (int i = nv - 1; i >= 0; i--)
            json_object_set_new(time, vs[i].version, json_string(npm_time(a, vs[i].published_at)));
        json_object_set_new(doc, "time", time);
        json_t *ms = json_array();
        for (int i = 0; i < no; i++)
            json_array_append_new(ms, npm_person(r, "name", os[i].username));
        json_object_set_new(doc, "maintainers", ms);
        json_object_set_new(doc, "readme", json_string(p.readme ? p.readme : ""));
        json_object_set_new(doc, "users", json_object());
    }
    return documents_json(doc, bc->abbreviated ? "application/vnd.npm.install-v1+json" : "application/json",
                          text, len, ctype, e);
}

/* npm must see a publish at once; revalidating costs a 304. */
static void cache_headers(req *r)
{
    resp_header(r, "Cache-Control", r->cfg->private_mode ? "private, no-cache" : "public, no-cache");
}

static void packument(req *r, const char *name)
{
    derr e;
    struct build_ctx bc = {
        .r = r, .name = name, .abbreviated = npm_accepts_abbreviated(req_header(r, "Accept"))};
    const char *key = package_key(r->a, NPM, name);
    int64_t gen;
    if (catalog_package_generation(r->core, r->a, NPM, name, &gen, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    const cdoc *d;
    doc_ref *ref = resp_document(r, arena_printf(r->a, "npm:%s:%s", bc.abbreviated ? "abbr" : "full", key),
                                 gen, build, &bc, &d);
    if (!ref)
        return;
    resp_doc(r, ref, d);
    resp_header(r, "Vary", "Accept");
    cache_headers(r);
}

void npm_packument(req *r)
{
    const char *name = npm_req_name_or_404(r);
    if (!name)
        return;
    packument(r, name);
}

/* One version (or the version a dist-tag names) of a package. */
static void version_doc(req *r, const char *name, const char *which)
{
    derr e;
    package_row p;
    version_row v;
    if (packages_get(r->core, r->a, NPM, name, &p, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    const char *version = which;
    tag_row *tags;
    int nt;
    if (packages_tags(r->core, r->a, &p, &tags, &nt, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    json_t *td = npm_dist_tags_json(&p, tags, nt);
    const char *tagged = json_string_value(json_object_get(td, which));
    if (tagged)
        version = arena_strdup(r->a, tagged);
    json_decref(td);
    if (packages_version(r->core, r->a, &p, version, &v, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    resp_json(r, 200, npm_version_json(r, &p, &v, false));
    cache_headers(r);
}

void npm_get_two(req *r)
{
    /* GET /npm/{a}/{b}: the packument of "@scope/name" written with a literal slash, or
     * version (or dist-tag) b of package a. */
    const char *a = req_param(r, "scope"), *b = req_param(r, "name");
    if (a[0] == '@' && !strchr(a, '/')) {
        const char *name = npm_req_name_or_404(r);
        if (!name)
            return;
        packument(r, name);
        return;
    }
    version_doc(r, a, b);
}

void npm_scoped_version(req *r)
{
    const char *name = npm_req_name_or_404(r);
    if (!name)
        return;
    version_doc(r, name, req_param(r, "version"));
}

void npm_tarball(req *r)
{
    const char *name = npm_req_name(r);
    const char *version = name ? npm_tarball_version(r->a, name, req_param(r, "file")) : NULL;
    if (!version) {
        npm_error(r, 404, "not_found", "no tarball %s", r->path);
        return;
    }
    resp_version_tarball(r, NPM, name, version, "application/octet-stream");
}
