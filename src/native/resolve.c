/*
 * resolve.c — POST /api/v1/resolve {"dependencies": {name: requirement},
 * "include_prerelease": false}: the full set of versions that satisfies the
 * requirements and their dependencies, or 422 naming the conflict.
 */
#include <string.h>

#include <stdlib.h>

#include "../core/catalog.h"
#include "../core/core.h"
#include "../core/documents.h"
#include "../core/packages.h"
#include "../core/resolve.h"
#include "../lib/crypto.h"
#include "../lib/json.h"
#include "native.h"

#define RESOLVE_ROOTS_MAX 500

struct provider_ctx {
    req *r;
};

/* What a candidate carries back to the answer: its stored version and its package's name as published. */
struct pick_info {
    version_row v;
    const char *name;
};

/* Every version of a package, as candidates with their normal dependencies. */
static int versions(void *vctx, arena *a, const char *name, resolve_candidate **out, int *n, derr *e)
{
    struct provider_ctx *pc = vctx;
    package_row p;
    *n = 0;
    *out = NULL;
    if (packages_get(pc->r->core, a, NATIVE, name, &p, e) < 0)
        return e->status == 404 ? 0 : -1;
    version_row *vs;
    int nv;
    if (packages_versions(pc->r->core, a, &p, &vs, &nv, e) < 0)
        return -1;
    resolve_candidate *c = arena_zalloc(a, sizeof *c * (size_t)(nv ? nv : 1));
    int k = 0;
    for (int i = 0; i < nv; i++) {
        if (semver_parse(a, vs[i].version, &c[k].v) < 0)
            continue;
        c[k].version = vs[i].version;
        c[k].yanked = vs[i].yanked;
        const char **names = arena_zalloc(a, sizeof(char *) * (size_t)(vs[i].ndeps + 1));
        const char **reqs = arena_zalloc(a, sizeof(char *) * (size_t)(vs[i].ndeps + 1));
        int nd = 0;
        for (int j = 0; j < vs[i].ndeps; j++) {
            if (vs[i].deps[j].kind && strcmp(vs[i].deps[j].kind, "normal") != 0)
                continue;
            names[nd] = vs[i].deps[j].name;
            reqs[nd] = vs[i].deps[j].requirement;
            nd++;
        }
        c[k].ndeps = nd;
        c[k].dep_names = names;
        c[k].dep_reqs = reqs;
        struct pick_info *keep = arena_zalloc(a, sizeof *keep);
        keep->v = vs[i];
        keep->v.deps = NULL;
        keep->v.ndeps = 0;
        keep->name = p.name;
        c[k].user = keep;
        k++;
    }
    *out = c;
    *n = k;
    return 0;
}

static const char *native_key(void *vctx, arena *a, const char *name)
{
    (void)vctx;
    return package_key(a, NATIVE, name);
}

struct resolve_job {
    req *r;
    const char **names, **reqs;
    int n;
    bool include_prerelease;
};

/* Resolves and renders the answer (a documents builder). */
static int build_resolve(void *vctx, arena *a, char **text, size_t *len, const char **ctype, derr *e)
{
    struct resolve_job *job = vctx;
    req *r = job->r;
    struct provider_ctx pc = {r};
    resolve_provider prov = {versions, native_key, &pc};
    resolve_opts opts = {.dialect = SEMVER_NATIVE, .include_prerelease = job->include_prerelease, .max_steps = 0};
    resolve_pick *picks;
    int np;
    if (resolve(a, &prov, job->names, job->reqs, job->n, &opts, &picks, &np, e) < 0)
        return -1;
    json_t *out = json_object();
    for (int j = 0; j < np; j++) {
        const struct pick_info *pi = picks[j].c->user;
        const version_row *sv = &pi->v;
        json_t *o = json_object();
        json_set_str(o, "version", sv->version);
        json_object_set_new(o, "checksum", json_string(arena_printf(a, "sha256:%s", sv->sha256)));
        json_set_str(o, "sha256", sv->sha256);
        json_object_set_new(o, "yanked", json_boolean(sv->yanked));
        json_object_set_new(o, "signature", native_signature_json(sv));
        json_set_str(o, "download_url",
                     req_url(r, "/api/v1/packages/%s/versions/%s/download", native_seg(r, pi->name),
                             native_seg(r, sv->version)));
        json_object_set_new(out, pi->name, o);
    }
    json_t *res = json_object();
    json_object_set_new(res, "packages", out);
    return documents_json(res, "application/json", text, len, ctype, e);
}

void native_resolve(req *r)
{
    json_t *doc = req_json(r);
    if (!doc)
        return;
    json_t *deps = json_object_get(doc, "dependencies");
    if (!json_is_object(deps)) {
        resp_error(r, 400, "bad_request", "field 'dependencies' must be an object {name: requirement}");
        return;
    }
    json_t *pre = json_object_get(doc, "include_prerelease");
    if (pre && !json_is_boolean(pre)) {
        resp_error(r, 400, "bad_request", "field 'include_prerelease' must be true or false");
        return;
    }
    size_t n = json_object_size(deps);
    if (n > RESOLVE_ROOTS_MAX) {
        resp_error(r, 422, "invalid", "dependencies: at most %d", RESOLVE_ROOTS_MAX);
        return;
    }
    const char **names = arena_zalloc(r->a, sizeof(char *) * (n + 1));
    const char **reqs = arena_zalloc(r->a, sizeof(char *) * (n + 1));
    size_t i = 0;
    const char *k;
    json_t *v;
    derr e;
    json_object_foreach(deps, k, v)
    {
        if (!json_is_string(v)) {
            resp_error(r, 400, "bad_request", "dependencies.%s: the requirement must be a string", k);
            return;
        }
        if (!semver_req_parse(r->a, SEMVER_NATIVE, json_string_value(v), &e)) {
            resp_error(r, 422, "invalid", "dependencies.%s: %s", k, e.message);
            return;
        }
        names[i] = k;
        reqs[i] = json_string_value(v);
        i++;
    }
    /* Answers are cached per request and per state of the native ecosystem: a CI fleet resolving
     * the same graph again costs one counter lookup. A conflict (422) is never cached. */
    struct resolve_job job = {r, names, reqs, (int)n, json_is_true(pre)};
    int64_t gen;
    if (catalog_generation(r->core, NATIVE, &gen, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    char *canon = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    char hex[65];
    sha256_hex(canon ? canon : "", canon ? strlen(canon) : 0, hex);
    free(canon);
    const cdoc *d;
    doc_ref *ref =
        resp_document(r, arena_printf(r->a, "native:resolve:%s", hex), gen, build_resolve, &job, &d);
    if (!ref)
        return;
    resp_doc(r, ref, d);
}
