/*
 * registry.c — the Hex registry resources (registry.h).
 *
 * Messages are filled from store rows in the request's arena, packed by the
 * protoc-c generated code, wrapped in Signed with the repository key's
 * signature and gzipped. The protobuf structs point into the arena, so
 * nothing here is freed by hand but the packed buffers.
 */
#include "registry.h"
#include "../core/catalog.h"
#include "../core/packages.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../lib/crypto.h"
#include "../lib/semver.h"
#include "hex/names.pb-c.h"
#include "hex/package.pb-c.h"
#include "hex/signed.pb-c.h"
#include "hex/versions.pb-c.h"
#include "options.h"
#include "sign.h"

const char *const hex_retire_reasons[] = {"other", "invalid", "security", "deprecated", "renamed", NULL};

int hex_gzip(const void *p, size_t n, char **out, size_t *len, derr *e)
{
    z_stream z = {0};
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return derr_set(e, 500, "internal", "cannot compress the registry");
    size_t cap = deflateBound(&z, (uLong)n) + 32;
    char *b = malloc(cap);
    if (!b) {
        deflateEnd(&z);
        return derr_set(e, 500, "internal", "out of memory");
    }
    z.next_in = (Bytef *)(uintptr_t)p;
    z.avail_in = (uInt)n;
    z.next_out = (Bytef *)b;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    size_t got = cap - z.avail_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(b);
        return derr_set(e, 500, "internal", "cannot compress the registry");
    }
    *out = b;
    *len = got;
    return 0;
}

/* Signs the payload, wraps it in Signed and gzips the result. */
static int seal(core *c, arena *a, const void *payload, size_t n, char **out, size_t *len, derr *e)
{
    const hex_key *k;
    unsigned char *sig;
    size_t siglen;
    if (hex_key_get(core_config(c), &k, e) < 0 || hex_sign(k, a, payload, n, &sig, &siglen, e) < 0)
        return -1;
    Hex__Signed__Signed s = HEX__SIGNED__SIGNED__INIT;
    s.payload.data = (uint8_t *)(uintptr_t)payload;
    s.payload.len = n;
    s.has_signature = 1;
    s.signature.data = sig;
    s.signature.len = siglen;
    size_t sn = hex__signed__signed__get_packed_size(&s);
    uint8_t *buf = arena_alloc(a, sn ? sn : 1);
    hex__signed__signed__pack(&s, buf);
    return hex_gzip(buf, sn, out, len, e);
}

static int cmp_semver_ctx(const version_row *x, const version_row *y, arena *a)
{
    semver sx, sy;
    int okx = semver_parse(a, x->version, &sx) == 0, oky = semver_parse(a, y->version, &sy) == 0;
    if (okx && oky)
        return semver_cmp(&sx, &sy);
    return strcmp(x->version, y->version);
}

void hex_sort_versions(arena *a, version_row *vs, int n)
{
    /* Insertion sort: packages have tens of versions, and the store already returns them
     * almost in order (newest first), which reversing first makes nearly sorted. */
    for (int i = 0, j = n - 1; i < j; i++, j--) {
        version_row t = vs[i];
        vs[i] = vs[j];
        vs[j] = t;
    }
    for (int i = 1; i < n; i++) {
        version_row t = vs[i];
        int j = i - 1;
        while (j >= 0 && cmp_semver_ctx(&vs[j], &t, a) > 0) {
            vs[j + 1] = vs[j];
            j--;
        }
        vs[j + 1] = t;
    }
}

static int cmp_dep(const void *x, const void *y)
{
    const Hex__Package__Dependency *const *a = x, *const *b = y;
    return strcmp((*a)->package, (*b)->package);
}

/* A 32-byte checksum from 64 hex digits; NULL when malformed. */
static uint8_t *raw32(arena *a, const char *hex)
{
    uint8_t *out = arena_alloc(a, 32);
    size_t n = 0;
    if (!hex || hex_decode(hex, strlen(hex), out, 32, &n) < 0 || n != 32)
        return NULL;
    return out;
}

static int reason_code(const char *reason)
{
    for (int i = 0; hex_retire_reasons[i]; i++)
        if (reason && strcmp(reason, hex_retire_reasons[i]) == 0)
            return i;
    return 0;
}

static Hex__Package__Release *release(core *c, arena *a, const version_row *v, derr *e)
{
    Hex__Package__Release *rel = arena_alloc(a, sizeof *rel);
    hex__package__release__init(rel);
    rel->version = (char *)v->version;
    json_t *extra = v->extra ? json_loads(v->extra, 0, NULL) : NULL;
    const char *inner = json_string_value(json_object_get(extra, "inner_checksum"));
    uint8_t *in = raw32(a, inner);
    json_decref(extra);
    uint8_t *out = raw32(a, v->sha256);
    if (!in || !out) {
        derr_set(e, 500, "internal", "a Hex release lacks its checksums");
        return NULL;
    }
    rel->inner_checksum.data = in;
    rel->inner_checksum.len = 32;
    rel->has_outer_checksum = 1;
    rel->outer_checksum.data = out;
    rel->outer_checksum.len = 32;
    rel->n_dependencies = (size_t)v->ndeps;
    rel->dependencies = arena_alloc(a, sizeof *rel->dependencies * (size_t)(v->ndeps ? v->ndeps : 1));
    for (int i = 0; i < v->ndeps; i++) {
        const dep_row *d = &v->deps[i];
        Hex__Package__Dependency *dep = arena_alloc(a, sizeof *dep);
        hex__package__dependency__init(dep);
        dep->package = (char *)d->name;
        dep->requirement = (char *)(d->requirement && *d->requirement ? d->requirement : ">= 0.0.0");
        json_t *x = d->extra ? json_loads(d->extra, 0, NULL) : NULL;
        if (json_is_true(json_object_get(x, "optional"))) {
            dep->has_optional = 1;
            dep->optional = 1;
        }
        const char *app = json_string_value(json_object_get(x, "app"));
        if (app && strcmp(app, d->name) != 0)
            dep->app = arena_strdup(a, app);
        const char *repo = json_string_value(json_object_get(x, "repository"));
        if (repo && strcmp(repo, hex_opts(core_config(c))->repo) != 0)
            dep->repository = arena_strdup(a, repo);
        json_decref(x);
        rel->dependencies[i] = dep;
    }
    qsort(rel->dependencies, rel->n_dependencies, sizeof *rel->dependencies, cmp_dep);
    if (v->retired_reason) {
        Hex__Package__RetirementStatus *rs = arena_alloc(a, sizeof *rs);
        hex__package__retirement_status__init(rs);
        rs->reason = (Hex__Package__RetirementReason)reason_code(v->retired_reason);
        if (v->retired_message && *v->retired_message)
            rs->message = (char *)v->retired_message;
        rel->retired = rs;
    }
    if (v->published_at) {
        Hex__Package__Timestamp *ts = arena_alloc(a, sizeof *ts);
        hex__package__timestamp__init(ts);
        ts->seconds = v->published_at;
        rel->published_at = ts;
    }
    return rel;
}

int hex_registry_package(core *c, arena *a, const package_row *p, const version_row *vs, int nv, char **out,
                         size_t *len, derr *e)
{
    version_row *sorted = arena_memdup(a, vs, sizeof *vs * (size_t)(nv ? nv : 1));
    hex_sort_versions(a, sorted, nv);
    Hex__Package__Package pkg = HEX__PACKAGE__PACKAGE__INIT;
    pkg.name = (char *)p->name;
    pkg.repository = (char *)hex_opts(core_config(c))->repo;
    pkg.n_releases = (size_t)nv;
    pkg.releases = arena_alloc(a, sizeof *pkg.releases * (size_t)(nv ? nv : 1));
    for (int i = 0; i < nv; i++)
        if (!(pkg.releases[i] = release(c, a, &sorted[i], e)))
            return -1;
    size_t n = hex__package__package__get_packed_size(&pkg);
    uint8_t *payload = arena_alloc(a, n ? n : 1);
    hex__package__package__pack(&pkg, payload);
    return seal(c, a, payload, n, out, len, e);
}

/* ---- the whole repository ---- */

static int cmp_entry(const void *x, const void *y)
{
    const hex_pkg_entry *a = x, *b = y;
    return strcmp(a->pkg->name, b->pkg->name);
}

static void fnv(uint64_t *h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        *h ^= s[i];
        *h *= 1099511628211ULL;
    }
}

int hex_registry_scan(core *c, arena *a, bool versions, hex_pkg_entry **out, int *n, int64_t *stamp, derr *e)
{
    uint64_t h = 14695981039346656037ULL;
    hex_pkg_entry *list = NULL;
    int cnt = 0, cap = 0;
    int64_t offset = 0, total = 0;
    do {
        package_query q = {.ecosystem = "hex", .sort = "name", .offset = offset, .limit = 1000};
        search_hits hits;
        if (catalog_search(c, a, &q, &hits, e) < 0)
            return -1;
        package_row *ps = hits.rows;
        int np = hits.n;
        total = hits.total;
        for (int i = 0; i < np; i++) {
            fnv(&h, ps[i].normalized_name, strlen(ps[i].normalized_name) + 1);
            fnv(&h, &ps[i].generation, sizeof ps[i].generation);
            if (!ps[i].latest_version || !out)
                continue;
            if (cnt == cap) {
                int nc = cap ? cap * 2 : 64;
                hex_pkg_entry *nl = arena_alloc(a, sizeof *nl * (size_t)nc);
                if (cnt)
                    memcpy(nl, list, sizeof *nl * (size_t)cnt);
                list = nl;
                cap = nc;
            }
            hex_pkg_entry *en = &list[cnt++];
            en->pkg = &ps[i];
            en->vs = NULL;
            en->nv = 0;
            if (versions) {
                if (packages_versions(c, a, &ps[i], &en->vs, &en->nv, e) < 0)
                    return -1;
                hex_sort_versions(a, en->vs, en->nv);
            }
        }
        offset += np;
        if (np == 0)
            break;
    } while (offset < total);
    fnv(&h, &total, sizeof total);
    if (out) {
        if (cnt)
            qsort(list, (size_t)cnt, sizeof *list, cmp_entry);
        *out = list;
        *n = cnt;
    }
    *stamp = (int64_t)(h & INT64_MAX);
    return 0;
}

int hex_registry_stamp(core *c, arena *a, int64_t *stamp, derr *e)
{
    /* The store's per-ecosystem counter moves with every change to any Hex package. */
    (void)a;
    return catalog_generation(c, "hex", stamp, e);
}

int hex_registry_names(core *c, arena *a, const hex_pkg_entry *pk, int n, char **out, size_t *len, derr *e)
{
    Hex__Names__Names names = HEX__NAMES__NAMES__INIT;
    names.repository = (char *)hex_opts(core_config(c))->repo;
    names.n_packages = (size_t)n;
    names.packages = arena_alloc(a, sizeof *names.packages * (size_t)(n ? n : 1));
    for (int i = 0; i < n; i++) {
        Hex__Names__Package *p = arena_alloc(a, sizeof *p);
        hex__names__package__init(p);
        p->name = (char *)pk[i].pkg->name;
        Hex__Names__Timestamp *ts = arena_alloc(a, sizeof *ts);
        hex__names__timestamp__init(ts);
        ts->seconds = pk[i].pkg->updated_at;
        p->updated_at = ts;
        names.packages[i] = p;
    }
    size_t sz = hex__names__names__get_packed_size(&names);
    uint8_t *payload = arena_alloc(a, sz ? sz : 1);
    hex__names__names__pack(&names, payload);
    return seal(c, a, payload, sz, out, len, e);
}

int hex_registry_versions(core *c, arena *a, const hex_pkg_entry *pk, int n, char **out, size_t *len, derr *e)
{
    Hex__Versions__Versions vers = HEX__VERSIONS__VERSIONS__INIT;
    vers.repository = (char *)hex_opts(core_config(c))->repo;
    vers.n_packages = (size_t)n;
    vers.packages = arena_alloc(a, sizeof *vers.packages * (size_t)(n ? n : 1));
    for (int i = 0; i < n; i++) {
        Hex__Versions__Package *p = arena_alloc(a, sizeof *p);
        hex__versions__package__init(p);
        p->name = (char *)pk[i].pkg->name;
        p->n_versions = (size_t)pk[i].nv;
        p->versions = arena_alloc(a, sizeof *p->versions * (size_t)(pk[i].nv ? pk[i].nv : 1));
        p->retired = arena_alloc(a, sizeof *p->retired * (size_t)(pk[i].nv ? pk[i].nv : 1));
        for (int k = 0; k < pk[i].nv; k++) {
            p->versions[k] = (char *)pk[i].vs[k].version;
            if (pk[i].vs[k].retired_reason)
                p->retired[p->n_retired++] = k;
        }
        vers.packages[i] = p;
    }
    size_t sz = hex__versions__versions__get_packed_size(&vers);
    uint8_t *payload = arena_alloc(a, sz ? sz : 1);
    hex__versions__versions__pack(&vers, payload);
    return seal(c, a, payload, sz, out, len, e);
}
