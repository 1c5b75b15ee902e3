/*
 * repository.c — the Hex repository mount (/hex/repo): the signed registry
 * files, tarballs, docs tarballs and the public key.
 *
 * Registry files are built once per change and served from the read cache
 * (core/documents.h): /packages/NAME is stamped with the package's
 * generation (one indexed lookup per read); /names and /versions span every
 * Hex package and are stamped with the store's per-ecosystem generation (one lookup;
 * no client resolves with them, see hex.md §1.1). They are gzip bytes
 * in the body and never carry Content-Encoding (hex.md §0 fact 1).
 * Tarballs carry an ETag and honour If-None-Match, which rebar3 needs
 * (fact 2), and are sent from the blob file with zero copies.
 */
#include <stdlib.h>
#include <string.h>

#include "../core/catalog.h"
#include "../core/docs.h"
#include "../core/documents.h"
#include "../core/packages.h"
#include "hex.h"
#include "registry.h"
#include "sign.h"

static const char *cache_control(req *r, long max_age)
{
    return arena_printf(r->a, "%s, max-age=%ld", r->cfg->private_mode ? "private" : "public", max_age);
}

/* Sends a cached registry file: gzip bytes as they are, with the cache's ETag. */
static void send_registry(req *r, doc_ref *ref, const cdoc *d)
{
    arena_on_free(r->a, (void (*)(void *))documents_release, ref);
    if (req_not_modified(r, d->etag))
        return;
    resp_static(r, 200, "application/octet-stream", d->data, d->len);
    resp_header(r, "ETag", d->etag);
    resp_header(r, "Cache-Control", cache_control(r, 60));
}

struct pkg_ctx {
    req *r;
    const char *name;
};

static int build_package(void *vctx, arena *a, char **text, size_t *len, const char **ctype, derr *e)
{
    struct pkg_ctx *pc = vctx;
    package_row p;
    version_row *vs;
    int nv;
    if (packages_get_versions(pc->r->core, a, HEX, pc->name, &p, &vs, &nv, e) < 0)
        return -1;
    if (nv == 0)
        return derr_set(e, 404, "not_found", "no package named '%s'", pc->name);
    *ctype = "application/octet-stream";
    return hex_registry_package(pc->r->core, a, &p, vs, nv, text, len, e);
}

void hex_repo_package(req *r)
{
    if (!hex_repo_ok(r, false))
        return;
    derr e;
    const char *name = req_param(r, "name");
    const char *key = package_key(r->a, HEX, name);
    int64_t gen;
    if (catalog_package_generation(r->core, r->a, HEX, name, &gen, &e) < 0) {
        if (e.status == 404)
            hex_no_package(r, name);
        else
            resp_derr(r, &e);
        return;
    }
    struct pkg_ctx pc = {r, name};
    const cdoc *d;
    doc_ref *ref = resp_document(r, arena_printf(r->a, "hex:pkg:%s", key), gen, build_package, &pc, &d);
    if (!ref)
        return;
    send_registry(r, ref, d);
}

struct all_ctx {
    req *r;
    bool versions;
};

static int build_all(void *vctx, arena *a, char **text, size_t *len, const char **ctype, derr *e)
{
    struct all_ctx *ac = vctx;
    hex_pkg_entry *pk;
    int n;
    int64_t stamp;
    if (hex_registry_scan(ac->r->core, a, ac->versions, &pk, &n, &stamp, e) < 0)
        return -1;
    *ctype = "application/octet-stream";
    return ac->versions ? hex_registry_versions(ac->r->core, a, pk, n, text, len, e)
                        : hex_registry_names(ac->r->core, a, pk, n, text, len, e);
}

static void all(req *r, bool versions)
{
    if (!hex_repo_ok(r, false))
        return;
    derr e;
    int64_t stamp;
    if (hex_registry_stamp(r->core, r->a, &stamp, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    struct all_ctx ac = {r, versions};
    const cdoc *d;
    doc_ref *ref = resp_document(r, versions ? "hex:versions" : "hex:names", stamp, build_all, &ac, &d);
    if (!ref)
        return;
    send_registry(r, ref, d);
}

void hex_repo_names(req *r)
{
    all(r, false);
}

void hex_repo_versions(req *r)
{
    all(r, true);
}

/* The package and version of the repository file the path names, "NAME-VERSION<suffix>"; names
 * have no '-' (hex.md §2.5), so the first '-' divides. False after answering: 404 for another
 * repository (hex_repo_ok), or "<what> are named NAME-VERSION<suffix>". */
static bool repo_file(req *r, const char *suffix, const char *what, const char **name, const char **version)
{
    if (!hex_repo_ok(r, false))
        return false;
    const char *file = req_param(r, "file");
    size_t n = strlen(file), sl = strlen(suffix);
    const char *dash = strchr(file, '-');
    if (n <= sl || strcmp(file + n - sl, suffix) != 0 || !dash || dash == file || dash + 1 >= file + n - sl) {
        hex_error(r, 404, arena_printf(r->a, "%s are named NAME-VERSION%s", what, suffix), NULL);
        return false;
    }
    *name = arena_strndup(r->a, file, (size_t)(dash - file));
    *version = arena_strndup(r->a, dash + 1, (size_t)(file + n - sl - dash - 1));
    return true;
}

void hex_repo_tarball(req *r)
{
    const char *name, *version;
    if (!repo_file(r, ".tar", "tarballs", &name, &version))
        return;
    resp_version_tarball(r, HEX, name, version, "application/octet-stream");
}

void hex_repo_docs(req *r)
{
    const char *name, *version;
    if (!repo_file(r, ".tar.gz", "docs tarballs", &name, &version))
        return;
    derr e;
    content_reader br;
    if (docs_open_archive(r->core, r->a, HEX, name, version, &br, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    if (resp_blob(r, 200, "application/gzip", &br))
        resp_header(r, "Cache-Control", cache_control(r, 3600));
}

void hex_repo_public_key(req *r)
{
    if (!hex_repo_ok(r, false))
        return;
    derr e;
    const hex_key *k;
    if (hex_key_get(r->cfg, &k, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    const char *pem = hex_key_public_pem(k);
    resp_static(r, 200, "application/x-pem-file", pem, strlen(pem));
    resp_header(r, "X-Hex-Fingerprint", hex_key_fingerprint(k));
}
