/*
 * publish.c — the writes npm makes with package documents.
 *
 *   PUT    /npm/NAME                 publish (the body has a .tgz attachment), or a metadata
 *                                    update: npm deprecate/undeprecate PUT the whole packument
 *                                    back with empty _attachments
 *   PUT    /npm/NAME/-rev/REV        npm unpublish NAME@V (the packument minus V) and
 *                                    npm owner add/rm ({_id, _rev, maintainers})
 *   DELETE /npm/NAME/-rev/REV        npm unpublish NAME --force (every version)
 *   DELETE /npm/NAME/-/FILE/-rev/REV the last step of unpublishing one version
 *
 * A publish body holds only the new version and its dist-tag; it is merged
 * into what is stored, never a replacement. Its tarball is decoded from
 * base64 straight into a temp file in the blob store's tmp folder (see
 * pubdoc.h), checked against the client's dist.shasum and dist.integrity,
 * and opened to check that package/package.json names the same package and
 * version. dist is rebuilt by depot at read time; the client's dist.tarball
 * is never kept.
 *
 * Removal always leaves a tombstone (a version number is never reused) and
 * is bounded by core's unpublish window. A PUT or DELETE that would remove
 * versions must name the package's current _rev, so a document npm read
 * before someone else published cannot unpublish that newer version.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../core/accounts.h"
#include "../core/packages.h"
#include "../lib/crypto.h"
#include "../lib/semver.h"
#include "../lib/targz.h"
#include "../lib/tempfile.h"
#include "../lib/timeutil.h"
#include "npm.h"
#include "pubdoc.h"

#define DOC_MAX (8u << 20)      /* a publish document without its tarball */
#define README_MAX (512u << 10) /* readme text kept for display */
#define DEPRECATE_MAX 1024
#define DEPS_MAX 4096
#define OWNERS_MAX 256

/* ---- the body ---- */

struct mapping {
    void *p;
    size_t n;
};

static void unmap(void *vm)
{
    struct mapping *m = vm;
    munmap(m->p, m->n);
}

/* The request body, parsed (npm_doc_parse); NULL after answering. *raw is the mapped body. */
static npm_doc *load_doc(req *r, const char **raw)
{
    derr e;
    npm_doc *d = arena_zalloc(r->a, sizeof *d);
    const char *p = "";
    if (r->body_len > 0) {
        void *m = mmap(NULL, r->body_len, PROT_READ, MAP_PRIVATE, r->body_fd, 0);
        if (m == MAP_FAILED) {
            npm_error(r, 500, "internal", "cannot map the request body");
            return NULL;
        }
        struct mapping *mp = arena_alloc(r->a, sizeof *mp);
        mp->p = m;
        mp->n = r->body_len;
        arena_on_free(r->a, unmap, mp);
        p = m;
    }
    if (npm_doc_parse(r->a, p, r->body_len, DOC_MAX, d, &e) < 0) {
        resp_derr(r, &e);
        return NULL;
    }
    *raw = p;
    return d;
}

/* The document's own name and _id, when present, must be the URL's. */
static int names_agree(req *r, json_t *doc, const char *name)
{
    static const char *const keys[] = {"name", "_id"};
    for (int i = 0; i < 2; i++) {
        json_t *v = json_object_get(doc, keys[i]);
        if (v && (!json_is_string(v) || strcasecmp(json_string_value(v), name) != 0)) {
            npm_error(r, 400, "bad_request", "%s: the document says '%.100s' but the URL names '%s'", keys[i],
                      json_is_string(v) ? json_string_value(v) : "(not a string)", name);
            return -1;
        }
    }
    return 0;
}

/* ---- publish ---- */

static void decref(void *p)
{
    json_decref(p);
}

/* Why a publish is refused: npm's error answer, rendered once by the handler. The message is
 * cut at npm_error's 512 bytes (in the arena). */
typedef struct refusal {
    int status;
    const char *code;
    const char *message;
} refusal;

static int refuse(req *r, refusal *f, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int refuse(req *r, refusal *f, int status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    *f = (refusal){status, code, arena_strdup(r->a, msg)};
    return -1;
}

/* A core error as npm answers it (resp_derr through the front's error hook). */
static int refuse_derr(req *r, refusal *f, const derr *e)
{
    return refuse(r, f, e->status ? e->status : 500, e->code ? e->code : "internal", "%s", e->message);
}

/* Checks dist.integrity (any sha1/sha256/sha512 entries of an SRI list) and dist.shasum
 * against the decoded bytes. */
static int check_integrity(req *r, json_t *integ, const npm_sums *s, refusal *f)
{
    const char *p = integ ? json_string_value(integ) : "";
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        size_t n = strcspn(p, " \t\n");
        if (!n)
            break;
        const char *item = arena_strndup(r->a, p, n);
        p += n;
        const char *dash = strchr(item, '-');
        if (!dash)
            continue;
        size_t vlen = strcspn(dash + 1, "?"); /* SRI options follow a '?' */
        const char *got = dash + 1;
        const char *want = NULL;
        if (strncmp(item, "sha512-", 7) == 0)
            want = b64_encode(r->a, s->sha512, sizeof s->sha512);
        else if (strncmp(item, "sha256-", 7) == 0)
            want = b64_encode(r->a, s->sha256, sizeof s->sha256);
        else if (strncmp(item, "sha1-", 5) == 0)
            want = b64_encode(r->a, s->sha1, sizeof s->sha1);
        if (want && (strlen(want) != vlen || memcmp(want, got, vlen) != 0))
            return refuse(r, f, 400, "bad_request",
                          "dist.integrity does not match the tarball in _attachments (the bytes have %.7s%s)",
                          item, want);
    }
    return 0;
}

static int check_dist(req *r, json_t *dist, const npm_sums *s, refusal *f)
{
    if (dist && !json_is_object(dist))
        return refuse(r, f, 400, "bad_request", "dist: expected an object");
    json_t *integ = json_object_get(dist, "integrity");
    if (integ && !json_is_string(integ))
        return refuse(r, f, 400, "bad_request", "dist.integrity: expected a string");
    if (check_integrity(r, integ, s, f) < 0)
        return -1;
    json_t *shasum = json_object_get(dist, "shasum");
    if (!shasum)
        return 0;
    char hex[41];
    hex_encode(s->sha1, sizeof s->sha1, hex);
    if (!json_is_string(shasum) || strcasecmp(json_string_value(shasum), hex) != 0)
        return refuse(r, f, 400, "bad_request",
                      "dist.shasum does not match the tarball in _attachments (its SHA-1 is %s)", hex);
    return 0;
}

/* npm unpacks a tarball dropping each path's first folder ("package/" from npm pack, but any
 * name works), so the package.json that counts is one folder down. */
static bool want_package_json(const char *path, void *ctx)
{
    const char *slash = strchr(path, '/');
    return slash && slash != path && strcmp(slash + 1, "package.json") == 0;
}

/* "v1.2.3" and "=1.2.3" as npm's loose parse takes them. */
static const char *loose(const char *v)
{
    while (*v == ' ' || *v == 'v' || *v == '=')
        v++;
    return v;
}

/* The package.json inside the tarball must name the package and version published. */
static int check_package_json(req *r, const targz_file *pjf, const char *name, const char *version,
                              refusal *f)
{
    json_error_t je;
    json_t *pj = json_loadb(pjf->data, pjf->len, 0, &je);
    if (!json_is_object(pj)) {
        json_decref(pj);
        return refuse(r, f, 422, "invalid", "tarball: package/package.json is not a JSON object");
    }
    const char *pn = json_string_value(json_object_get(pj, "name"));
    const char *pv = json_string_value(json_object_get(pj, "version"));
    int rc = 0;
    if (!pn || !pv || strcmp(pn, name) != 0 || strcmp(loose(pv), loose(version)) != 0)
        rc = refuse(r, f, 422, "invalid",
                    "tarball: its package.json says %.100s@%.60s but the document publishes %s@%s",
                    pn ? pn : "(no name)", pv ? pv : "(no version)", name, version);
    json_decref(pj);
    return rc;
}

/* Opens the tarball: it must be a gzip tar whose package/package.json names the package and
 * version; counts its files and bytes. */
static int check_tarball(req *r, int fd, const char *name, const char *version, int64_t *files,
                         int64_t *bytes, refusal *f)
{
    derr e;
    /* npm pack writes regular files and folders only; a link or a device is a trap for whoever
     * unpacks it. */
    targz_limits lim = {.max_entries = 100000, .max_total = 1u << 30, .max_entry = 1u << 20,
                        .max_ratio = 200, .flags = TARGZ_REGULAR_ONLY};
    targz_entry *ents;
    targz_file *fs;
    int nents, nfs;
    if (lseek(fd, 0, SEEK_SET) < 0 ||
        targz_read(r->a, fd, &lim, want_package_json, NULL, &ents, &nents, &fs, &nfs, &e) < 0)
        return refuse(r, f, e.status ? e.status : 400, e.code ? e.code : "bad_request", "tarball: %s",
                      e.message);
    *files = 0;
    *bytes = 0;
    for (int i = 0; i < nents; i++)
        if (ents[i].type == 'f') {
            (*files)++;
            *bytes += (int64_t)ents[i].size;
        }
    if (nfs != 1)
        return refuse(r, f, 422, "invalid", "%s",
                      nfs ? "tarball: more than one top folder has a package.json"
                          : "tarball: there is no package/package.json in it");
    return check_package_json(r, &fs[0], name, version, f);
}

/* A string field of an object, or NULL. */
static const char *str_of(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static const char *dump(req *r, json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT);
    const char *out = arena_strdup(r->a, s ? s : "null");
    free(s);
    return out;
}

/* Cuts s to at most max bytes without splitting a UTF-8 sequence. */
static const char *cap_utf8(req *r, const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max)
        return s;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return arena_strndup(r->a, s, max);
}

/* package.json's person fields: "Name <mail> (url)" or {name, email, url}. */
static const char *person(req *r, json_t *v)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (!json_is_object(v) || !str_of(v, "name"))
        return NULL;
    const char *s = str_of(v, "name");
    if (str_of(v, "email"))
        s = arena_printf(r->a, "%s <%s>", s, str_of(v, "email"));
    if (str_of(v, "url"))
        s = arena_printf(r->a, "%s (%s)", s, str_of(v, "url"));
    return s;
}

static const struct {
    const char *field, *kind;
} dep_kinds[] = {{"dependencies", "normal"},
                 {"optionalDependencies", "optional"},
                 {"devDependencies", "dev"},
                 {"peerDependencies", "peer"}};

/* The dependencies of all four kinds. */
static int collect_deps(req *r, json_t *man, dep_row **out, int *n, refusal *f)
{
    size_t total = 0;
    for (int k = 0; k < 4; k++) {
        json_t *o = json_object_get(man, dep_kinds[k].field);
        if (o && !json_is_object(o))
            return refuse(r, f, 400, "bad_request", "%s: expected an object of name: range",
                          dep_kinds[k].field);
        total += json_object_size(o);
    }
    if (total > DEPS_MAX)
        return refuse(r, f, 422, "invalid", "at most %d dependencies in all", DEPS_MAX);
    dep_row *deps = arena_zalloc(r->a, sizeof *deps * (total ? total : 1));
    int nd = 0;
    json_t *optional = json_object_get(man, "optionalDependencies");
    for (int k = 0; k < 4; k++) {
        const char *dn;
        json_t *dv;
        json_object_foreach(json_object_get(man, dep_kinds[k].field), dn, dv)
        {
            if (!json_is_string(dv) || !*dn || strlen(dn) > NPM_NAME_MAX || json_string_length(dv) > 1024)
                return refuse(r, f, 422, "invalid",
                              "%s.%.100s: expected a name of 1 to %d characters and a range as a string",
                              dep_kinds[k].field, dn, NPM_NAME_MAX);
            /* npm lists optional dependencies under dependencies too; keep them once, as optional. */
            if (k == 0 && json_object_get(optional, dn))
                continue;
            deps[nd++] = (dep_row){arena_strdup(r->a, dn), arena_strdup(r->a, json_string_value(dv)),
                                   dep_kinds[k].kind, NULL};
        }
    }
    *out = deps;
    *n = nd;
    return 0;
}

/* What one publish document says and carries, as the steps below fill it in. */
struct npm_publish {
    const char *name, *version, *tag;
    json_t *doc, *vobj; /* the document and its one version's package.json (borrowed) */
    temp_file *t;       /* the decoded tarball */
    npm_sums sums;
    int64_t nfiles, nbytes;
    json_t *man; /* what is kept of the version's package.json */
};

/* The document's one version: its package.json must name the package and that version, which
 * must be SemVer. */
static int parse_version(req *r, struct npm_publish *p, refusal *f)
{
    json_t *versions = json_object_get(p->doc, "versions");
    if (!json_is_object(versions) || json_object_size(versions) != 1)
        return refuse(r, f, 400, "bad_request", "versions: a publish carries exactly one version");
    const char *k;
    json_t *v;
    json_object_foreach(versions, k, v)
    {
        p->version = k;
        p->vobj = v;
    }
    if (!json_is_object(p->vobj))
        return refuse(r, f, 400, "bad_request", "versions.%.100s: expected the package.json object",
                      p->version);
    const char *vn = str_of(p->vobj, "name"), *vv = str_of(p->vobj, "version");
    if (!vn || strcmp(vn, p->name) != 0 || !vv || strcmp(vv, p->version) != 0)
        return refuse(r, f, 400, "bad_request", "versions.%.100s: its name and version must be %s and %.100s",
                      p->version, p->name, p->version);
    semver sv;
    if (semver_parse(r->a, p->version, &sv) < 0)
        return refuse(r, f, 422, "invalid", "version: '%.100s' is not a SemVer 2.0.0 version (such as 1.2.3)",
                      p->version);
    return 0;
}

/* The one dist-tag a publish sets ("latest" unless npm publish --tag). */
static int parse_tag(req *r, struct npm_publish *p, refusal *f)
{
    p->tag = "latest";
    json_t *tags = json_object_get(p->doc, "dist-tags");
    if (tags && !json_is_object(tags))
        return refuse(r, f, 400, "bad_request", "dist-tags: expected an object");
    if (json_object_size(tags) > 1)
        return refuse(r, f, 400, "bad_request", "dist-tags: a publish sets one tag");
    const char *k;
    json_t *v;
    json_object_foreach(tags, k, v)
    {
        if (!json_is_string(v) || strcmp(json_string_value(v), p->version) != 0)
            return refuse(r, f, 400, "bad_request",
                          "dist-tags.%.64s: must name the version published (%.100s)", k, p->version);
        p->tag = k;
    }
    derr scratch;
    if (!*p->tag || strlen(p->tag) > 64 || strpbrk(p->tag, " /\\%?#") ||
        semver_req_parse(r->a, SEMVER_NPM, p->tag, &scratch))
        return refuse(r, f, 422, "invalid",
                      "dist-tags: '%.64s' is not a tag name (tags are names such as next, not ranges)",
                      p->tag);
    return 0;
}

/* Refuses a number already used (published, or unpublished: core's rule) before spending time
 * on the tarball. */
static int check_number_free(req *r, const struct npm_publish *p, refusal *f)
{
    derr e;
    package_row existing;
    if (packages_get(r->core, r->a, NPM, p->name, &existing, &e) < 0)
        return 0;
    int used = packages_version_used(r->core, r->a, &existing, p->version, &e);
    if (used == VERSION_PUBLISHED)
        return refuse(r, f, 409, "conflict", "cannot publish over the previously published version %s of %s",
                      p->version, existing.name);
    if (used == VERSION_REMOVED)
        return refuse_derr(r, f, &e);
    return 0;
}

/* The tarball, decoded to a temp file with its sums and checked against the document. */
static int decode_tarball(req *r, struct npm_publish *p, const char *raw, const npm_att *tgz, refusal *f)
{
    derr e;
    json_t *length = json_object_get(tgz->obj, "length");
    p->t = temp_file_new(r->a, core_tmp_dir(r->core), "npm");
    if (!p->t) {
        derr_storage(&e, errno, "the server's storage for uploads");
        return refuse(r, f, e.status, e.code, "%s", e.message);
    }
    if (npm_b64_decode_fd(raw + tgz->data_off, tgz->data_len, p->t->fd, (uint64_t)r->cfg->max_upload,
                          &p->sums, &e) < 0)
        return refuse(r, f, e.status, e.code, "_attachments.%.100s: %s", tgz->name, e.message);
    if (p->sums.size == 0)
        return refuse(r, f, 400, "bad_request", "_attachments.%.100s: the tarball is empty", tgz->name);
    if (length && (!json_is_integer(length) || (uint64_t)json_integer_value(length) != p->sums.size))
        return refuse(r, f, 400, "bad_request", "_attachments.%.100s.length: the data decodes to %llu bytes",
                      tgz->name, (unsigned long long)p->sums.size);
    if (check_dist(r, json_object_get(p->vobj, "dist"), &p->sums, f) < 0)
        return -1;
    return check_tarball(r, p->t->fd, p->name, p->version, &p->nfiles, &p->nbytes, f);
}

/* What is kept of the version's package.json: dist is rebuilt at read time, the readme is kept
 * once per package, status fields are depot's; _npmUser names the publisher (with the no-reply
 * address: the document is public). */
static int kept_manifest(req *r, struct npm_publish *p, refusal *f)
{
    p->man = json_deep_copy(p->vobj);
    arena_on_free(r->a, decref, p->man);
    static const char *const drop[] = {
        "dist", "readme", "deprecated", "maintainers", "_attachments", "_npmUser", "_npmOperationalInternal",
        "_rev", NULL};
    for (int i = 0; drop[i]; i++)
        json_object_del(p->man, drop[i]);
    json_object_set_new(p->man, "_id", json_string(arena_printf(r->a, "%s@%s", p->name, p->version)));
    json_object_set_new(p->man, "_npmUser", npm_person(r, "name", r->who.username));
    return 0;
}

/* keywords: an array, or npm's "a, b c" string. */
static const char *keywords(req *r, json_t *kw)
{
    json_t *kwa = json_array(), *v;
    if (json_is_string(kw)) {
        const char *s = json_string_value(kw);
        while (*s) {
            size_t n = strcspn(s, ", ");
            if (n)
                json_array_append_new(kwa, json_stringn(s, n));
            s += n;
            s += strspn(s, ", ");
        }
    } else if (json_is_array(kw)) {
        size_t i;
        json_array_foreach(kw, i, v) if (json_is_string(v) && json_array_size(kwa) < 64)
            json_array_append(kwa, v);
    }
    const char *out = dump(r, kwa);
    json_decref(kwa);
    return out;
}

/* The package fields a publish refreshes, from the version's package.json. */
static void package_fields(req *r, const struct npm_publish *p, package_row *pkg)
{
    json_t *vobj = p->vobj;
    pkg->name = p->name;
    const char *desc = str_of(vobj, "description");
    pkg->description = desc ? cap_utf8(r, desc, 4096) : NULL;
    pkg->keywords = keywords(r, json_object_get(vobj, "keywords"));
    json_t *lic = json_object_get(vobj, "license");
    pkg->license = json_is_string(lic) ? json_string_value(lic) : str_of(lic, "type");
    pkg->homepage = str_of(vobj, "homepage");
    json_t *repo = json_object_get(vobj, "repository");
    pkg->repository = json_is_string(repo) ? json_string_value(repo) : str_of(repo, "url");
    json_t *authors = json_array();
    const char *author = person(r, json_object_get(vobj, "author"));
    if (author)
        json_array_append_new(authors, json_string(author));
    pkg->authors = dump(r, authors);
    json_decref(authors);
    pkg->categories = "[]";
    pkg->tags = "[]";
    pkg->meta = "{}";
    const char *readme = str_of(vobj, "readme");
    if (!readme || strcmp(readme, "ERROR: No README data found!") == 0)
        readme = str_of(p->doc, "readme");
    if (readme && strcmp(readme, "ERROR: No README data found!") == 0)
        readme = NULL;
    pkg->readme = readme ? cap_utf8(r, readme, README_MAX) : NULL;
}

/* The version's npm extras, computed once here: shasum, integrity, file count, unpacked size. */
static const char *extras(req *r, const struct npm_publish *p)
{
    json_t *extra = json_object();
    char hex[41];
    hex_encode(p->sums.sha1, sizeof p->sums.sha1, hex);
    json_object_set_new(extra, "shasum", json_string(hex));
    json_object_set_new(extra, "integrity",
                        json_string(arena_printf(r->a, "sha512-%s",
                                                 b64_encode(r->a, p->sums.sha512, sizeof p->sums.sha512))));
    json_object_set_new(extra, "fileCount", json_integer(p->nfiles));
    json_object_set_new(extra, "unpackedSize", json_integer(p->nbytes));
    const char *out = dump(r, extra);
    json_decref(extra);
    return out;
}

/* The core's publish request for a checked document. */
static int publish_request(req *r, const struct npm_publish *p, publish_in *in, refusal *f)
{
    *in = (publish_in){0};
    in->ecosystem = NPM;
    if (collect_deps(r, p->man, &in->deps, &in->ndeps, f) < 0)
        return -1;
    package_fields(r, p, &in->pkg);
    in->version = p->version;
    in->manifest = dump(r, p->man);
    in->extra = extras(r, p);
    in->tag = p->tag;
    in->tarball_path = p->t->path;
    in->sha256 = p->sums.sha256;
    in->size = p->sums.size;
    in->who = &r->who;
    in->ip = r->ip;
    return 0;
}

/* Parse the document → check the tarball → build the core request → core publishes → 201. */
static void publish(req *r, const char *name, npm_doc *d, const char *raw, const npm_att *tgz)
{
    derr e;
    if (npm_name_check(name, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    struct npm_publish p = {.name = name, .doc = d->doc};
    publish_in in;
    refusal f;
    if (parse_version(r, &p, &f) < 0 || parse_tag(r, &p, &f) < 0 || check_number_free(r, &p, &f) < 0 ||
        decode_tarball(r, &p, raw, tgz, &f) < 0 || kept_manifest(r, &p, &f) < 0 ||
        publish_request(r, &p, &in, &f) < 0) {
        npm_error(r, f.status, f.code, "%s", f.message);
        return;
    }
    package_row pkg;
    version_row out;
    bool created;
    if (packages_publish(r->core, r->a, &in, &pkg, &out, &created, &e) < 0) {
        if (e.status == 409 && strstr(e.message, "already exists"))
            npm_error(r, 409, "conflict", "cannot publish over the previously published version %s of %s",
                      p.version, name);
        else
            resp_derr(r, &e);
        return;
    }
    json_t *res = json_object();
    json_object_set_new(res, "ok", json_string(created ? "created new package" : "published a new version"));
    json_object_set_new(res, "success", json_true());
    json_object_set_new(res, "id", json_string(pkg.name));
    json_object_set_new(res, "rev", json_string(npm_rev(r->a, &pkg)));
    resp_json(r, 201, res);
}

/* ---- metadata: deprecation, removal, owners ---- */

/* Applies the `deprecated` field of every stored version the document lists: a non-empty
 * string deprecates (or changes the message), "" or null undeprecates, absent leaves it.
 * Versions the document lists that are not stored are refused (a publish needs its
 * tarball). *changed counts the changes. 0, or -1 after answering. */
static int apply_deprecations(req *r, const package_row *p, const version_row *vs, int nv, json_t *versions,
                              int *changed)
{
    derr e;
    const char *k;
    json_t *v;
    json_object_foreach(versions, k, v)
    {
        int i = 0;
        while (i < nv && strcmp(vs[i].version, k) != 0)
            i++;
        if (i == nv) {
            npm_error(
                r, 400, "bad_request",
                "versions.%.100s: %s has no such version; a publish carries its tarball in _attachments", k,
                p->name);
            return -1;
        }
        if (!json_is_object(v)) {
            npm_error(r, 400, "bad_request", "versions.%.100s: expected an object", k);
            return -1;
        }
        json_t *dep = json_object_get(v, "deprecated");
        if (!dep)
            continue;
        if (!json_is_string(dep) && !json_is_null(dep) && !json_is_false(dep)) {
            npm_error(r, 400, "bad_request", "versions.%.100s.deprecated: expected a message", k);
            return -1;
        }
        const char *msg = json_is_string(dep) ? json_string_value(dep) : "";
        if (strlen(msg) > DEPRECATE_MAX) {
            npm_error(r, 422, "invalid", "versions.%.100s.deprecated: at most %d bytes", k, DEPRECATE_MAX);
            return -1;
        }
        const char *now = vs[i].deprecated && *vs[i].deprecated ? vs[i].deprecated : NULL;
        version_status st = {0};
        if (*msg && (!now || strcmp(now, msg) != 0)) {
            st.set_deprecated = 1;
            st.deprecated = msg;
        } else if (!*msg && now) {
            st.set_deprecated = -1;
        } else {
            continue;
        }
        if (packages_set_status(r->core, r->a, &r->who, NPM, p->name, k, &st,
                                st.set_deprecated > 0 ? "version.deprecate" : "version.undeprecate", r->ip,
                                &e) < 0) {
            resp_derr(r, &e);
            return -1;
        }
        (*changed)++;
    }
    return 0;
}

/* Removes versions for good (tombstoned). Every one must be inside the unpublish window, checked
 * for all before the first goes, so a refusal removes nothing (core checks each again). */
static int remove_versions(req *r, const package_row *p, const version_row *const *vs, int n)
{
    derr e;
    long window = r->cfg->unpublish_window;
    int64_t now = now_unix();
    if (window <= 0 && n > 0) {
        npm_error(r, 403, "forbidden",
                  "this server does not allow unpublishing; deprecate the version instead");
        return -1;
    }
    for (int i = 0; i < n; i++)
        if (now - vs[i]->published_at > window) {
            npm_error(
                r, 403, "forbidden",
                "%s@%s was published more than %ld hours ago and can no longer be unpublished; deprecate it "
                "instead",
                p->name, vs[i]->version, window / 3600);
            return -1;
        }
    for (int i = 0; i < n; i++)
        if (packages_remove_version(r->core, r->a, &r->who, NPM, p->name, vs[i]->version, true, r->ip, &e) <
            0) {
            resp_derr(r, &e);
            return -1;
        }
    return 0;
}

/* Whether name is among names[0..n) (user names compare ignoring case). */
static bool listed(const char **names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(names[i], name) == 0)
            return true;
    return false;
}

/* Makes the owners the `maintainers` list names. 0, or -1 after answering. */
static int apply_maintainers(req *r, const package_row *p, json_t *ms, int *changed)
{
    derr e;
    if (!json_is_array(ms)) {
        npm_error(r, 400, "bad_request", "maintainers: expected a list of {name, email}");
        return -1;
    }
    size_t n = json_array_size(ms);
    if (n == 0) {
        npm_error(r, 409, "conflict", "%s needs at least one owner", p->name);
        return -1;
    }
    if (n > OWNERS_MAX) {
        npm_error(r, 422, "invalid", "maintainers: at most %d", OWNERS_MAX);
        return -1;
    }
    const char **want = arena_zalloc(r->a, sizeof *want * n);
    for (size_t i = 0; i < n; i++) {
        json_t *m = json_array_get(ms, i);
        const char *nm = json_is_string(m) ? json_string_value(m) : str_of(m, "name");
        if (!nm || !*nm) {
            npm_error(r, 400, "bad_request", "maintainers[%zu]: expected {name, email}", i);
            return -1;
        }
        /* "name <email>" as older clients write people. */
        want[i] = arena_strndup(r->a, nm, strcspn(nm, " <"));
    }
    owner_row *os;
    int no;
    if (packages_owners(r->core, r->a, p, &os, &no, &e) < 0) {
        resp_derr(r, &e);
        return -1;
    }
    const char **have = arena_zalloc(r->a, sizeof *have * (size_t)(no ? no : 1));
    for (int j = 0; j < no; j++)
        have[j] = os[j].username;
    for (size_t i = 0; i < n; i++) {
        if (listed(have, (size_t)no, want[i]))
            continue;
        if (packages_owner_add(r->core, r->a, &r->who, NPM, p->name, want[i], r->ip, &e) < 0 &&
            e.status != 409) {
            resp_derr(r, &e);
            return -1;
        }
        (*changed)++;
    }
    for (int j = 0; j < no; j++) {
        if (listed(want, n, have[j]))
            continue;
        if (packages_owner_remove(r->core, r->a, &r->who, NPM, p->name, os[j].username, r->ip, &e) < 0) {
            resp_derr(r, &e);
            return -1;
        }
        (*changed)++;
    }
    return 0;
}

/* 0 when rev is the package's current _rev, else -1 after answering 409. */
static int rev_current(req *r, const package_row *p, const char *rev)
{
    const char *now = npm_rev(r->a, p);
    if (rev && strcmp(rev, now) == 0)
        return 0;
    npm_error(r, 409, "conflict",
              "%s changed since npm read it (revision %.60s, now %s); run the command again", p->name,
              rev ? rev : "(none)", now);
    return -1;
}

/* The package and its versions; -1 after answering. */
static int load_versions(req *r, const char *name, package_row *p, version_row **vs, int *nv)
{
    derr e;
    if (packages_get_versions(r->core, r->a, NPM, name, p, vs, nv, &e) < 0) {
        resp_derr(r, &e);
        return -1;
    }
    return 0;
}

/* A document without a tarball: deprecations (any PUT), and with -rev removals and owners. */
static void update(req *r, const char *name, npm_doc *d, const char *rev)
{
    json_t *doc = d->doc;
    package_row p;
    version_row *vs;
    int nv;
    if (load_versions(r, name, &p, &vs, &nv) < 0)
        return;
    json_t *versions = json_object_get(doc, "versions");
    if (versions && !json_is_object(versions)) {
        npm_error(r, 400, "bad_request", "versions: expected an object");
        return;
    }
    int changed = 0;
    if (versions && apply_deprecations(r, &p, vs, nv, versions, &changed) < 0)
        return;
    if (rev && versions) {
        const version_row **gone = arena_zalloc(r->a, sizeof *gone * (size_t)(nv ? nv : 1));
        int ng = 0;
        for (int i = 0; i < nv; i++)
            if (!json_object_get(versions, vs[i].version))
                gone[ng++] = &vs[i];
        if (ng && (rev_current(r, &p, rev) < 0 || remove_versions(r, &p, gone, ng) < 0))
            return;
        changed += ng;
    }
    json_t *ms = json_object_get(doc, "maintainers");
    if (rev && ms && apply_maintainers(r, &p, ms, &changed) < 0)
        return;
    npm_ok(r, 200, changed ? "package changed" : "no change");
}

/* ---- handlers ---- */

/* The name in the path, checked against the caller's publish scope before the body is read. */
static const char *write_name(req *r)
{
    const char *name = npm_req_name_or_404(r);
    if (!name)
        return NULL;
    if (!principal_can(&r->who, scope_publish(r->a, NPM, name))) {
        npm_error(r, 403, "forbidden", "your credential may not change %s (scope publish:npm/%s needed)",
                  name, name);
        return NULL;
    }
    return name;
}

/* The name and the document of a PUT, checked; NULL after answering. */
static npm_doc *put_doc(req *r, const char **name, const char **raw)
{
    *name = write_name(r);
    npm_doc *d = *name ? load_doc(r, raw) : NULL;
    return d && names_agree(r, d->doc, *name) == 0 ? d : NULL;
}

void npm_put(req *r)
{
    const char *name, *raw;
    npm_doc *d = put_doc(r, &name, &raw);
    if (!d)
        return;
    const npm_att *tgz = NULL;
    int ntgz = 0;
    for (int i = 0; i < d->natt; i++) {
        size_t n = strlen(d->att[i].name);
        if (n > 4 && strcmp(d->att[i].name + n - 4, ".tgz") == 0) {
            tgz = &d->att[i];
            ntgz++;
        }
    }
    if (ntgz > 1) {
        npm_error(r, 400, "bad_request", "_attachments: a publish carries one .tgz");
        return;
    }
    if (tgz && !tgz->has_data) {
        npm_error(r, 400, "bad_request", "_attachments.%.100s.data: expected the tarball as a base64 string",
                  tgz->name);
        return;
    }
    if (tgz)
        publish(r, name, d, raw, tgz);
    else
        update(r, name, d, NULL);
}

void npm_put_rev(req *r)
{
    const char *name, *raw;
    npm_doc *d = put_doc(r, &name, &raw);
    if (!d)
        return;
    for (int i = 0; i < d->natt; i++)
        if (d->att[i].has_data) {
            npm_error(r, 400, "bad_request",
                      "_attachments: a revision update carries no tarball; publish with PUT /npm/%s", name);
            return;
        }
    update(r, name, d, req_param(r, "rev"));
}

void npm_delete_package(req *r)
{
    const char *name = write_name(r);
    if (!name)
        return;
    package_row p;
    version_row *vs;
    int nv;
    if (load_versions(r, name, &p, &vs, &nv) < 0)
        return;
    derr e;
    if (packages_may_change(r->core, r->a, &r->who, &p, PKG_MANAGE, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    if (rev_current(r, &p, req_param(r, "rev")) < 0)
        return;
    const version_row **all = arena_zalloc(r->a, sizeof *all * (size_t)(nv ? nv : 1));
    for (int i = 0; i < nv; i++)
        all[i] = &vs[i];
    if (remove_versions(r, &p, all, nv) < 0)
        return;
    npm_ok(r, 200, "package removed");
}

void npm_delete_tarball(req *r)
{
    derr e;
    const char *name = write_name(r);
    if (!name)
        return;
    const char *version = npm_tarball_version(r->a, name, req_param(r, "file"));
    if (!version) {
        npm_error(r, 404, "not_found", "no tarball %s", req_param(r, "file"));
        return;
    }
    package_row p;
    version_row v;
    if (packages_get(r->core, r->a, NPM, name, &p, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    if (packages_version(r->core, r->a, &p, version, &v, &e) < 0) {
        /* Gone already: the PUT before this DELETE removed it. */
        derr e2;
        if (e.status == 404 && packages_version_used(r->core, r->a, &p, version, &e2) == VERSION_REMOVED)
            npm_ok(r, 200, "tarball removed");
        else
            resp_derr(r, &e);
        return;
    }
    const version_row *one = &v;
    if (remove_versions(r, &p, &one, 1) < 0)
        return;
    npm_ok(r, 200, "tarball removed");
}
