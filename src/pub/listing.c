/*
 * listing.c — what `dart pub get` reads: the package listing (every version
 * with its pubspec, absolute archive_url and archive_sha256, retracted,
 * published; isDiscontinued, replacedBy, advisoriesUpdated; latest), the
 * deprecated single-version document, and the advisories document.
 *
 * The listing is built once per package generation and served from the
 * read cache as bytes with a strong ETag (core/documents.h); it is gzipped
 * only for a client that sends Accept-Encoding: gzip (dart:io does, and
 * decompresses it). The pubspec of each version is the JSON text stored at
 * publish, spliced in verbatim, so what the client resolves from is
 * byte-for-byte what the archive's pubspec.yaml converts to. Versions are
 * listed ascending in Dart's order (build metadata counts).
 */
#include <stdlib.h>
#include <string.h>

#include "../core/catalog.h"
#include "../core/documents.h"
#include "../core/packages.h"
#include "../lib/buf.h"
#include "../lib/timeutil.h"
#include "pub.h"
#include "pubspec.h"
#include "version.h"

struct sort_item {
    version_row v;
    semver s;
};

static int by_version(const void *x, const void *y)
{
    return pub_version_cmp(&((const struct sort_item *)x)->s, &((const struct sort_item *)y)->s);
}

int pub_sorted_versions(req *r, arena *a, const package_row *p, version_row **vs, semver **sv, int *n,
                        derr *e)
{
    version_row *raw;
    int nraw;
    if (packages_versions(r->core, a, p, &raw, &nraw, e) < 0)
        return -1;
    struct sort_item *items = arena_alloc(a, sizeof *items * (size_t)(nraw ? nraw : 1));
    int k = 0;
    for (int i = 0; i < nraw; i++) {
        items[k].v = raw[i];
        /* Every stored pub version parsed at publish; one that does not is skipped, not fatal. */
        if (pub_version_parse(a, raw[i].version, &items[k].s, NULL) == 0)
            k++;
    }
    qsort(items, (size_t)k, sizeof *items, by_version);
    *vs = arena_alloc(a, sizeof **vs * (size_t)(k ? k : 1));
    *sv = arena_alloc(a, sizeof **sv * (size_t)(k ? k : 1));
    for (int i = 0; i < k; i++) {
        (*vs)[i] = items[i].v;
        (*sv)[i] = items[i].s;
    }
    *n = k;
    return 0;
}

int pub_latest_index(const version_row *vs, const semver *sv, int n)
{
    for (int pass = 0; pass < 2; pass++) {
        int best = -1;
        for (int i = 0; i < n; i++) {
            if (pass == 0 && vs[i].retracted)
                continue;
            if (best < 0 || pub_version_prio(&sv[i], &sv[best]) > 0)
                best = i;
        }
        if (best >= 0)
            return best;
    }
    return -1;
}

void pub_meta_options(const package_row *p, bool *discontinued, const char **replaced_by, arena *a)
{
    *discontinued = false;
    *replaced_by = NULL;
    json_t *m = p->meta ? json_loads(p->meta, 0, NULL) : NULL;
    if (json_is_object(m)) {
        *discontinued = json_is_true(json_object_get(m, "isDiscontinued"));
        json_t *rb = json_object_get(m, "replacedBy");
        if (json_is_string(rb))
            *replaced_by = arena_strdup(a, json_string_value(rb));
    }
    json_decref(m);
}

static void put_str(buf *b, const char *s)
{
    json_t *j = json_string(s ? s : "");
    if (!j || pub_json_write(b, j) < 0)
        buf_puts(b, "\"\"");
    json_decref(j);
}

static void put_time(buf *b, int64_t t)
{
    char ts[32];
    time_rfc3339(t, ts);
    put_str(b, ts);
}

static const char *archive_url(req *r, const package_row *p, const version_row *v)
{
    return pub_url(r, "/packages/%s/versions/%s.tar.gz", pub_seg(r, p->name), pub_seg(r, v->version));
}

const char *pub_version_entry(req *r, arena *a, const package_row *p, const version_row *v)
{
    buf b;
    buf_init(&b, 0);
    buf_puts(&b, "{\"version\":");
    put_str(&b, v->version);
    buf_puts(&b, v->retracted ? ",\"retracted\":true" : ",\"retracted\":false");
    buf_puts(&b, ",\"archive_url\":");
    put_str(&b, archive_url(r, p, v));
    buf_puts(&b, ",\"archive_sha256\":");
    put_str(&b, v->sha256);
    buf_puts(&b, ",\"pubspec\":");
    buf_puts(&b, v->manifest && v->manifest[0] == '{' ? v->manifest : "{}");
    buf_puts(&b, ",\"published\":");
    put_time(&b, v->published_at);
    buf_puts(&b, "}");
    const char *out = arena_strndup(a, b.data, b.len);
    buf_free(&b);
    return out;
}

/* ---- the listing ---- */

struct build_ctx {
    req *r;
    const char *name;
    package_row p;
};

static int build_listing(void *vctx, arena *a, char **text, size_t *len, const char **ctype, derr *e)
{
    struct build_ctx *bc = vctx;
    req *r = bc->r;
    if (packages_get(r->core, a, PUB, bc->name, &bc->p, e) < 0)
        return -1;
    const package_row *p = &bc->p;
    version_row *vs;
    semver *sv;
    int n;
    if (pub_sorted_versions(r, a, p, &vs, &sv, &n, e) < 0)
        return -1;
    bool discontinued;
    const char *replaced_by;
    pub_meta_options(p, &discontinued, &replaced_by, a);

    buf b;
    buf_init(&b, 0);
    buf_puts(&b, "{\"name\":");
    put_str(&b, p->name);
    buf_puts(&b, discontinued ? ",\"isDiscontinued\":true" : ",\"isDiscontinued\":false");
    if (discontinued && replaced_by) {
        buf_puts(&b, ",\"replacedBy\":");
        put_str(&b, replaced_by);
    }
    /* The advisories endpoint exists (and lists none), so the client may ask it; the stamp only
     * moves when advisories would, which is never yet: the package's creation time. */
    buf_puts(&b, ",\"advisoriesUpdated\":");
    put_time(&b, p->created_at);
    int li = pub_latest_index(vs, sv, n);
    if (li >= 0) {
        buf_puts(&b, ",\"latest\":");
        buf_puts(&b, pub_version_entry(r, a, p, &vs[li]));
    }
    buf_puts(&b, ",\"versions\":[");
    for (int i = 0; i < n; i++) {
        if (i)
            buf_puts(&b, ",");
        buf_puts(&b, pub_version_entry(r, a, p, &vs[i]));
    }
    buf_puts(&b, "]}");
    *text = b.data ? b.data : strdup("{}");
    *len = b.data ? b.len : 2;
    *ctype = PUB_CTYPE;
    return 0;
}

/* The hot path of every `pub get`: one indexed lookup of the package's generation, then the
 * cached bytes. The package row is read only when the document is (re)built. */
void pub_listing(req *r)
{
    const char *name = req_param(r, "name");
    size_t nlen = strlen(name);
    bool plain = nlen > 0 && nlen <= PUB_NAME_MAX;
    for (size_t i = 0; plain && i < nlen; i++)
        plain = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
                (name[i] >= '0' && name[i] <= '9') || name[i] == '_';
    if (!plain) {
        pub_error(r, 404, "not_found", "no package named '%.100s'", name);
        return;
    }
    const char *key = package_key(r->a, PUB, name);
    int64_t gen;
    derr e;
    if (catalog_package_generation(r->core, r->a, PUB, name, &gen, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    struct build_ctx bc = {.r = r, .name = name};
    const cdoc *d;
    doc_ref *ref = resp_document(r, arena_printf(r->a, "pub:listing:%s", key), gen, build_listing, &bc, &d);
    if (!ref)
        return;
    /* The document starts {"name":"<the package's name>" (names need no escaping): a name that
     * matches only ignoring case is not this package to the client. */
    if (d->len < nlen + 11 || memcmp(d->data + 9, name, nlen) != 0 || d->data[9 + nlen] != '"') {
        documents_release(ref);
        package_row p;
        if (pub_load_package(r, name, &p) == 0) /* answers the 404 naming the real one */
            pub_error(r, 404, "not_found", "no package named '%s'", name);
        return;
    }
    resp_doc(r, ref, d);
}

/* GET /api/packages/{name}/versions/{version}: deprecated since Dart 2.8, still specified. */
void pub_version(req *r)
{
    package_row p;
    version_row v;
    derr e;
    if (pub_load_package(r, req_param(r, "name"), &p) < 0)
        return;
    if (packages_version(r->core, r->a, &p, req_param(r, "version"), &v, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    const char *t = pub_version_entry(r, r->a, &p, &v);
    resp_bytes(r, 200, PUB_CTYPE, t, strlen(t));
}

/* GET /api/packages/{name}/advisories: the OSV-shaped list the client reads (none yet) and the
 * stamp the listing advertises. */
void pub_advisories(req *r)
{
    package_row p;
    if (pub_load_package(r, req_param(r, "name"), &p) < 0)
        return;
    json_t *o = json_object();
    json_object_set_new(o, "advisories", json_array());
    json_object_set_new(o, "advisoriesUpdated", json_string(time_rfc3339_a(r->a, p.created_at)));
    pub_json(r, 200, o);
}
