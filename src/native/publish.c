/*
 * publish.c — POST /api/v1/packages: the native publish.
 *
 * The body is multipart/form-data with a `tarball` file part (.tar.gz), an
 * optional `metadata` part (the manifest as JSON) and an optional
 * `signature` part (base64 Ed25519 over the tarball's bytes). Without
 * metadata the manifest is `depot.json` at the tarball's root; with both,
 * their name and version must agree. The readme the manifest names (or a
 * README at the root) is stored for display, capped.
 */
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "manifest.h"
#include "../core/packages.h"
#include "../http/multipart.h"
#include "../lib/json.h"
#include "../lib/semver.h"
#include "../lib/targz.h"
#include "native.h"

#define README_MAX (512u << 10)  /* readme text kept for display */
#define WANTED_MAX (8u << 20)     /* a wanted file read from the tarball (depot.json, the readme) */

/* Categories a package may list (issue: a configurable list; this is the default). */
static const char *const categories[] = {
    "algorithms", "api-bindings", "asynchronous", "authentication", "caching", "command-line", "compilers",
    "concurrency", "cryptography", "data-structures", "database", "date-and-time", "development-tools",
    "embedded", "encoding", "filesystem", "game-development", "graphics", "gui", "hardware", "internationalization",
    "mathematics", "memory-management", "multimedia", "network-programming", "no-std", "os", "parsing",
    "science", "simulation", "template-engine", "text-processing", "testing", "visualization", "wasm",
    "web-programming", NULL};

struct want_ctx {
    const char *readme; /* a path the manifest names, or NULL */
};

static bool is_root_readme(const char *path)
{
    return !strchr(path, '/') && strncasecmp(path, "readme", 6) == 0;
}

static bool want(const char *path, void *vctx)
{
    struct want_ctx *w = vctx;
    return strcmp(path, "depot.json") == 0 || is_root_readme(path) || (w->readme && strcmp(path, w->readme) == 0);
}

static const targz_file *find(targz_file *files, int n, const char *path)
{
    for (int i = 0; i < n; i++)
        if (strcmp(files[i].path, path) == 0)
            return &files[i];
    return NULL;
}

static json_t *text_array(req *r, json_t *arr)
{
    return arr ? arr : json_array();
}

static const char *dump(req *r, json_t *v)
{
    char *s = json_dumps(v ? v : json_array(), JSON_COMPACT);
    const char *out = arena_strdup(r->a, s ? s : "[]");
    free(s);
    return out;
}

/* The text of a small part, whether sent as a field or as a file (curl -F x=@file). NULL past max. */
static const char *part_text(req *r, const mp_part *p, size_t max, size_t *len)
{
    if (p->value) {
        *len = p->len;
        return p->value;
    }
    if (p->size > max || lseek(p->fd, 0, SEEK_SET) < 0)
        return NULL;
    char *t = arena_alloc(r->a, (size_t)p->size + 1);
    size_t got = 0;
    while (got < p->size) {
        ssize_t n = read(p->fd, t + got, (size_t)p->size - got);
        if (n <= 0)
            return NULL;
        got += (size_t)n;
    }
    t[got] = '\0';
    *len = got;
    return t;
}

static int check_reqs(req *r, const manifest_dep *d, int n, const char *field, derr *e)
{
    derr why; /* the parser's own words, formatted into e (never e itself: they would overlap) */
    for (int i = 0; i < n; i++)
        if (!semver_req_parse(r->a, SEMVER_NATIVE, d[i].req, &why))
            return derr_set(e, 422, "invalid", "%s.%s: '%.100s' is not a version requirement (%s)", field,
                            d[i].name, d[i].req, why.message);
    return 0;
}

/* What the request carries: the multipart parts and, when sent, the metadata document. */
struct upload {
    const mp_part *tar, *meta, *sig;
    json_t *meta_doc;
};

/* The tarball, as read for its manifest and readme. */
struct package {
    targz_limits tl;
    struct want_ctx wc;
    targz_file *files;
    int nfiles;
    json_t *mdoc; /* the manifest document used: the metadata part, else depot.json */
    manifest m;
};

/* Reads the multipart body into u: a tarball file part is required, metadata must be a JSON
 * object of at most 1 MiB. */
static int parse_request(req *r, struct upload *u, derr *e)
{
    const char *ct = req_header(r, "Content-Type");
    if (!ct || strncasecmp(ct, "multipart/form-data", 19) != 0)
        return derr_set(
            e, 415, "unsupported_media_type",
            "publish takes multipart/form-data with a 'tarball' file part (and optional 'metadata', "
            "'signature')");
    mp_part *parts;
    int nparts;
    if (multipart_request(r, 16, 1u << 20, &parts, &nparts, e) < 0)
        return -1;
    *u = (struct upload){multipart_get(parts, nparts, "tarball"), multipart_get(parts, nparts, "metadata"),
                         multipart_get(parts, nparts, "signature"), NULL};
    if (!u->tar || !u->tar->path)
        return derr_set(e, 400, "bad_request", "tarball: a file part named 'tarball' is required");
    if (u->tar->size == 0)
        return derr_set(e, 422, "invalid", "tarball: the file is empty");
    if (!u->meta)
        return 0;
    size_t mlen;
    const char *mtext = part_text(r, u->meta, 1u << 20, &mlen);
    if (!mtext)
        return derr_set(e, 413, "payload_too_large", "metadata: at most 1 MiB");
    derr why;
    u->meta_doc = json_parse_object(mtext, mlen, &why);
    if (!u->meta_doc)
        return derr_set(e, 400, "bad_request", "metadata: %s", why.message);
    arena_on_free(r->a, (void (*)(void *))json_decref, u->meta_doc);
    return 0;
}

/* One pass over the tarball, keeping the files `want` asks for. */
static int read_tar(req *r, const mp_part *tar, struct package *pk, targz_entry **ents, int *nents,
                    targz_file **files, int *nfiles, derr *e)
{
    derr why;
    if (lseek(tar->fd, 0, SEEK_SET) < 0 ||
        targz_read(r->a, tar->fd, &pk->tl, want, &pk->wc, ents, nents, files, nfiles, &why) < 0)
        return derr_set(e, why.status ? why.status : 422, why.code ? why.code : "invalid", "tarball: %s",
                        why.message);
    return 0;
}

/* The manifest: the metadata part or depot.json (both, when both are there, naming the same
 * name and version), parsed under the rules, with a SemVer version and valid requirements. */
static int read_manifest(req *r, const struct upload *u, struct package *pk, derr *e)
{
    const targz_file *dj = find(pk->files, pk->nfiles, "depot.json");
    json_t *file_doc = NULL;
    derr why;
    if (dj) {
        file_doc = json_parse_object(dj->data, dj->len, &why);
        if (!file_doc)
            return derr_set(e, 400, "bad_request", "depot.json: %s", why.message);
        arena_on_free(r->a, (void (*)(void *))json_decref, file_doc);
    }
    pk->mdoc = u->meta_doc ? u->meta_doc : file_doc;
    if (!pk->mdoc)
        return derr_set(
            e, 400, "bad_request",
            "metadata: no 'metadata' part and no depot.json at the tarball's root; one is needed");
    manifest_rules rules = {.categories = categories, .reserved = NULL};
    manifest *m = &pk->m;
    if (manifest_parse(r->a, pk->mdoc, &rules, m, e) < 0)
        return -1;
    if (u->meta_doc && file_doc) {
        manifest fm;
        if (manifest_parse(r->a, file_doc, &rules, &fm, &why) < 0)
            return derr_set(e, why.status, why.code, "depot.json: %s", why.message);
        if (strcmp(fm.name, m->name) != 0 || strcmp(fm.version, m->version) != 0)
            return derr_set(e, 422, "invalid",
                            "name/version: the metadata says %s %s but the tarball's depot.json says %s %s",
                            m->name, m->version, fm.name, fm.version);
    }
    semver sv;
    if (semver_parse(r->a, m->version, &sv) < 0)
        return derr_set(e, 422, "invalid", "version: '%.100s' is not a SemVer 2.0.0 version (such as 1.2.3)",
                        m->version);
    if (check_reqs(r, m->deps, m->ndeps, "dependencies", e) < 0 ||
        check_reqs(r, m->dev_deps, m->ndev_deps, "dev_dependencies", e) < 0)
        return -1;
    return 0;
}

/* Reads the tarball (which must hold a file) and its manifest into pk. */
static int read_package(req *r, const struct upload *u, struct package *pk, derr *e)
{
    pk->tl = (targz_limits){.max_entries = 20000,
                            .max_total = 1u << 30,
                            .max_entry = WANTED_MAX,
                            .max_ratio = 200,
                            .flags = TARGZ_REGULAR_ONLY};
    pk->wc = (struct want_ctx){0};
    targz_entry *ents;
    int nents;
    if (read_tar(r, u->tar, pk, &ents, &nents, &pk->files, &pk->nfiles, e) < 0)
        return -1;
    /* Links and special files were refused by the read (a trap for whoever unpacks them); a
     * package also holds at least one file. */
    int nregular = 0;
    for (int i = 0; i < nents; i++)
        nregular += ents[i].type == 'f';
    if (nregular == 0)
        return derr_set(e, 422, "invalid", "tarball: it holds no file");
    return read_manifest(r, u, pk, e);
}

/* The readme's text, capped: the one the manifest names (read in a second pass when the first
 * did not keep it), else a README at the root; NULL when none. */
static int read_readme(req *r, const struct upload *u, struct package *pk, const char **readme, derr *e)
{
    const char *named = pk->m.readme;
    const targz_file *rf = named ? find(pk->files, pk->nfiles, named) : NULL;
    *readme = NULL;
    if (named && !rf) {
        pk->wc.readme = named;
        targz_entry *ents;
        targz_file *more;
        int nents, nmore;
        if (read_tar(r, u->tar, pk, &ents, &nents, &more, &nmore, e) < 0)
            return -1;
        rf = find(more, nmore, named);
        if (!rf)
            return derr_set(e, 422, "invalid", "readme: %s is not in the tarball", named);
    }
    for (int i = 0; !rf && i < pk->nfiles; i++)
        if (is_root_readme(pk->files[i].path))
            rf = &pk->files[i];
    if (!rf)
        return 0;
    size_t n = rf->len;
    if (n > README_MAX) {
        n = README_MAX;
        while (n > 0 && ((unsigned char)rf->data[n] & 0xC0) == 0x80)
            n--; /* never cut a UTF-8 sequence in two */
    }
    *readme = arena_strndup(r->a, rf->data, n);
    return 0;
}

/* The signature part's base64, without the newline a file upload leaves; NULL when none. */
static int read_signature(req *r, const mp_part *sig, const char **out, derr *e)
{
    size_t slen = 0;
    const char *stext = sig ? part_text(r, sig, 4096, &slen) : NULL;
    *out = NULL;
    if (sig && !stext)
        return derr_set(e, 422, "invalid", "signature: expected the base64 of a 64-byte Ed25519 signature");
    if (!stext)
        return 0;
    char *s = arena_strndup(r->a, stext, slen);
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
        s[--n] = '\0';
    *out = s;
    return 0;
}

/* The core's publish request for a checked package. */
static int publish_request(req *r, const struct upload *u, struct package *pk, publish_in *in, derr *e)
{
    const manifest *m = &pk->m;
    *in = (publish_in){0};
    if (read_readme(r, u, pk, &in->pkg.readme, e) < 0)
        return -1;
    in->ecosystem = NATIVE;
    in->pkg.name = m->name;
    in->pkg.description = m->description;
    in->pkg.homepage = m->homepage;
    in->pkg.repository = m->repository;
    in->pkg.documentation = m->documentation;
    in->pkg.license = m->license;
    in->pkg.keywords = dump(r, text_array(r, m->keywords));
    in->pkg.categories = dump(r, text_array(r, m->categories));
    in->pkg.tags = dump(r, text_array(r, m->tags));
    in->pkg.authors = dump(r, text_array(r, m->authors));
    in->pkg.meta = "{}";
    in->version = m->version;
    in->ndeps = m->ndeps + m->ndev_deps;
    in->deps = arena_zalloc(r->a, sizeof(dep_row) * (size_t)(in->ndeps ? in->ndeps : 1));
    for (int i = 0; i < m->ndeps; i++)
        in->deps[i] = (dep_row){m->deps[i].name, m->deps[i].req, "normal", NULL};
    for (int i = 0; i < m->ndev_deps; i++)
        in->deps[m->ndeps + i] = (dep_row){m->dev_deps[i].name, m->dev_deps[i].req, "dev", NULL};
    char *mtext = json_dumps(pk->mdoc, JSON_COMPACT | JSON_SORT_KEYS);
    in->manifest = arena_strdup(r->a, mtext ? mtext : "{}");
    free(mtext);
    in->tarball_path = u->tar->path;
    in->sha256 = u->tar->sha256;
    in->size = u->tar->size;
    in->who = &r->who;
    in->ip = r->ip;
    return read_signature(r, u->sig, &in->signature_b64, e);
}

/* Parse the multipart upload → build the core request → core publishes → 201 with the version. */
void native_publish(req *r)
{
    derr e;
    struct upload u = {0};
    struct package pk;
    publish_in in;
    package_row pkg;
    version_row v;
    bool created;
    if (parse_request(r, &u, &e) < 0 || read_package(r, &u, &pk, &e) < 0 ||
        publish_request(r, &u, &pk, &in, &e) < 0 ||
        packages_publish(r->core, r->a, &in, &pkg, &v, &created, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    json_t *out = native_version_json(r, &pkg, &v);
    json_object_set_new(out, "created_package", json_boolean(created));
    resp_json(r, 201, out);
    resp_header(
        r, "Location",
        req_url(r, "/api/v1/packages/%s/versions/%s", native_seg(r, pkg.name), native_seg(r, v.version)));
}
