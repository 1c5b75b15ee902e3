/*
 * docs.c — hosted documentation sites: checking and storing an uploaded
 * archive, and finding a site's files when it is read.
 *
 * An upload is never unpacked to disk as a tree. The archive is read once
 * with no file kept, which checks everything (types, paths, sizes, counts,
 * compression ratio) before a single blob is written; then it is read again
 * in passes, each keeping only a bounded slice of the files (in archive
 * order, at most BATCH_BYTES of contents), and each kept file is hashed and
 * stored as a blob unless a blob with those bytes is already there. So a
 * 200 MiB site costs a few passes of inflation but never 200 MiB of memory,
 * and a hostile archive costs one bounded read and leaves nothing behind.
 * The site's rows go into the store in one transaction at the end.
 */
#include "docs.h"
#include "core_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../lib/crypto.h"
#include "../lib/log.h"
#include "../lib/targz.h"
#include "../lib/timeutil.h"
#include "../lib/url.h"
#include "packages.h"

/* Contents held in memory at once while storing a site's files (one file
 * may be up to DOCS_MAX_FILE on its own). */
#define BATCH_BYTES ((uint64_t)32 << 20)

static const struct {
    const char *ext;
    const char *type;
} types[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"ico", "image/x-icon"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"otf", "font/otf"},
    {"eot", "application/vnd.ms-fontobject"},
    {"txt", "text/plain; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"},
    {"xml", "application/xml"},
    {"wasm", "application/wasm"},
    {"pdf", "application/pdf"},
    {"epub", "application/epub+zip"},
};

const char *docs_content_type(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    if (dot && dot != base)
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcasecmp(dot + 1, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

/* A path as a message may show it (derr_clip: 80 bytes, printable ASCII). */
static const char *clip(arena *a, const char *s)
{
    size_t n = strlen(s);
    return derr_clip(arena_alloc(a, (n > 80 ? 80 : n) + 4), s, n, 80);
}

/* Prefixes targz's message with what it is about. */
static int archive_err(derr *e)
{
    char msg[sizeof e->message];
    memcpy(msg, e->message, sizeof msg);
    msg[sizeof msg - 1] = '\0';
    return derr_set(e, e->status ? e->status : 422, e->code ? e->code : "invalid", "docs archive: %s", msg);
}

/* True when path has no empty, "." or ".." segment (so it can name a stored file). */
static bool path_ok(const char *path)
{
    const char *p = path;
    for (;;) {
        size_t n = strcspn(p, "/");
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        if (!p[n])
            return true;
        p += n + 1;
    }
}

static const char *kind_name(int type)
{
    switch (type) {
    case 'l':
        return "a symbolic link";
    case 'h':
        return "a hard link";
    default:
        return "a special file (device, FIFO or socket)";
    }
}

/* The prefix to strip from every path ("doc/"), or "": see docs.h. */
static const char *site_root(arena *a, const targz_entry *ents, int n)
{
    const char *top = NULL;
    size_t toplen = 0;
    for (int i = 0; i < n; i++) {
        const char *p = ents[i].path;
        const char *slash = strchr(p, '/');
        size_t l = slash ? (size_t)(slash - p) : strlen(p);
        if (!slash && ents[i].type != 'd')
            return ""; /* a file at the root (index.html among them) */
        if (!top) {
            top = p;
            toplen = l;
        } else if (l != toplen || memcmp(p, top, l) != 0) {
            return "";
        }
    }
    if (!top)
        return "";
    for (int i = 0; i < n; i++) {
        const char *p = ents[i].path;
        if (ents[i].type == 'f' && strlen(p) == toplen + 11 && memcmp(p + toplen, "/index.html", 11) == 0)
            return arena_printf(a, "%.*s/", (int)toplen, top);
    }
    return "";
}

/* Stores n bytes as a blob unless one with these bytes exists; hex gets its key. */
static int put_bytes(core *c, arena *a, const char *data, size_t n, char hex[65], derr *e)
{
    sha256_hex(data, n, hex);
    int have = blob_call(c->blobs, exists, hex, e);
    if (have < 0)
        return -1;
    if (have == 1)
        return 0;
    char *path = arena_printf(a, "%s/docs-XXXXXX", blob_call(c->blobs, tmp_dir));
    int fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0) {
        log_error("cannot create a temp file for a docs file", "error", strerror(errno), NULL);
        return derr_set(e, 500, "internal", "the server could not store a docs file");
    }
    int rc = -1;
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, data + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            log_error("cannot write a docs file", "error", w < 0 ? strerror(errno) : "short write", NULL);
            derr_set(e, 500, "internal", "the server could not store a docs file");
            break;
        }
        done += (size_t)w;
    }
    if (close(fd) < 0 && done == n) {
        log_error("cannot write a docs file", "error", strerror(errno), NULL);
        derr_set(e, 500, "internal", "the server could not store a docs file");
        done = 0;
    }
    if (done == n)
        rc = blob_call(c->blobs, put_file, hex, path, e);
    if (unlink(path) < 0 && errno != ENOENT)
        log_warn("cannot remove a temp file", "error", strerror(errno), NULL);
    return rc;
}

/* want callback of the storing passes: the files numbered [lo, hi) in archive order. */
struct slice {
    int lo, hi, seen;
};

static bool want_slice(const char *path, void *ctx)
{
    struct slice *s = ctx;
    int i = s->seen++;
    return i >= s->lo && i < s->hi;
}

/* What pass 1 learnt of an archive: its entries and, for each regular file in archive order, its
 * entry and its row of the site (path under the site's root; blob key filled by the storing
 * passes). */
struct site {
    targz_limits lim;
    targz_entry *ents;
    int nents;
    const targz_entry **order;
    store_doc_file *files;
    int nfiles;
    uint64_t total;
};

/* Pass 1: checks every entry (only files and directories, none over DOCS_MAX_FILE, at least one
 * file) and plans the site, keeping no bytes. */
static int check_archive(arena *a, int fd, struct site *st, derr *e)
{
    st->lim = (targz_limits){.max_entries = DOCS_MAX_ENTRIES,
                             .max_total = DOCS_MAX_TOTAL,
                             .max_entry = DOCS_MAX_FILE,
                             .max_ratio = DOCS_MAX_RATIO};
    targz_file *kept;
    int nkept;
    if (targz_read(a, fd, &st->lim, NULL, NULL, &st->ents, &st->nents, &kept, &nkept, e) < 0)
        return archive_err(e);
    st->nfiles = 0;
    st->total = 0;
    for (int i = 0; i < st->nents; i++) {
        const targz_entry *x = &st->ents[i];
        if (x->type != 'f' && x->type != 'd')
            return derr_set(e, 422, "invalid",
                            "docs archive: entry %s is %s; only regular files and directories are allowed",
                            clip(a, x->path), kind_name(x->type));
        if (x->type != 'f')
            continue;
        if (x->size > DOCS_MAX_FILE)
            return derr_set(e, 422, "invalid", "docs archive: entry %s is larger than %llu bytes",
                            clip(a, x->path), (unsigned long long)DOCS_MAX_FILE);
        st->nfiles++;
        st->total += x->size;
    }
    if (st->nfiles == 0)
        return derr_set(e, 422, "invalid", "docs archive: it holds no files");
    size_t rootlen = strlen(site_root(a, st->ents, st->nents));
    st->order = arena_alloc(a, (size_t)st->nfiles * sizeof *st->order);
    st->files = arena_zalloc(a, (size_t)st->nfiles * sizeof *st->files);
    for (int i = 0, k = 0; i < st->nents; i++)
        if (st->ents[i].type == 'f') {
            st->order[k] = &st->ents[i];
            st->files[k].path = st->ents[i].path + rootlen;
            st->files[k].size = (int64_t)st->ents[i].size;
            k++;
        }
    return 0;
}

/* One storing pass: reads the files [lo, hi) again (into a scratch arena) and stores each as a
 * blob, filling their keys. */
static int store_slice(core *c, arena *a, int fd, struct site *st, int lo, int hi, derr *e)
{
    arena *t = arena_new(0);
    struct slice sl = {lo, hi, 0};
    targz_entry *ents;
    targz_file *kept;
    int nents, got = 0, rc = -1;
    if (lseek(fd, 0, SEEK_SET) < 0) {
        log_error("cannot rewind a docs upload", "error", strerror(errno), NULL);
        derr_set(e, 500, "internal", "the server could not read the upload");
    } else if (targz_read(t, fd, &st->lim, want_slice, &sl, &ents, &nents, &kept, &got, e) < 0) {
        archive_err(e);
    } else if (got != hi - lo) {
        derr_set(e, 500, "internal", "the archive read differently the second time");
    } else {
        rc = 0;
        for (int k = 0; k < got && rc == 0; k++) {
            char hex[65];
            if (strcmp(kept[k].path, st->order[lo + k]->path) != 0) {
                rc = derr_set(e, 500, "internal", "the archive read differently the second time");
                break;
            }
            rc = put_bytes(c, t, kept[k].data, kept[k].len, hex, e);
            st->files[lo + k].sha256 = arena_strdup(a, hex);
        }
    }
    arena_free(t);
    return rc;
}

/* Passes 2..: stores the files, a bounded slice at a time. */
static int store_files(core *c, arena *a, int fd, struct site *st, derr *e)
{
    for (int lo = 0; lo < st->nfiles;) {
        uint64_t bytes = 0;
        int hi = lo;
        while (hi < st->nfiles && (hi == lo || bytes + st->order[hi]->size <= BATCH_BYTES))
            bytes += st->order[hi++]->size;
        if (store_slice(c, a, fd, st, lo, hi, e) < 0)
            return -1;
        lo = hi;
    }
    return 0;
}

/* The archive itself, then the site's rows in one go. */
static int record_site(core *c, const store_package *p, const char *name, const char *version,
                       const char *archive_path, const char ahex[65], uint64_t size, const struct site *st,
                       derr *e)
{
    if (blob_call(c->blobs, put_file, ahex, archive_path, e) < 0)
        return -1;
    int rc = store_call(c->st, docs_put, p->id, version, ahex, (int64_t)size, st->files, st->nfiles,
                        now_unix(), e);
    if (rc == STORE_NOT_FOUND)
        return derr_set(e, 404, "not_found", "no package named '%s'", name);
    if (rc == STORE_CONFLICT)
        return derr_set(e, 422, "invalid", "docs archive: a path appears twice");
    return rc == STORE_OK ? 0 : -1;
}

int docs_publish(core *c, arena *a, const principal *who, const char *ecosystem, const char *name,
                 const char *version, const char *archive_path, const unsigned char sha256[32], uint64_t size,
                 const char *ip, derr *e)
{
    derr local;
    if (!e)
        e = &local;
    store_package p;
    store_version v;
    if (packages_for_change(c, a, who, ecosystem, name, PKG_PUBLISH, &p, e) < 0 ||
        packages_version(c, a, &p, version, &v, e) < 0)
        return -1;
    int fd = open(archive_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        log_error("cannot open a docs upload", "error", strerror(errno), NULL);
        return derr_set(e, 500, "internal", "the server could not read the upload");
    }
    struct site st;
    char ahex[65];
    hex_encode(sha256, 32, ahex);
    int rc = check_archive(a, fd, &st, e) < 0 || store_files(c, a, fd, &st, e) < 0 ||
                     record_site(c, &p, name, v.version, archive_path, ahex, size, &st, e) < 0
                 ? -1
                 : 0;
    close(fd);
    if (rc == 0)
        core_audit(c, who->user_id, "docs.publish", arena_printf(a, "%s/%s@%s", ecosystem, p.name, v.version),
                   arena_printf(a, "{\"files\":%d,\"bytes\":%llu,\"sha256\":\"%s\"}", st.nfiles,
                                (unsigned long long)st.total, ahex),
                   ip);
    return rc;
}

/* Removing docs is managing the package, except for a version its publisher could remove
 * itself: one already gone, or one still inside its removal window (packages_removal_window: a
 * Hex revert deletes the docs before the release, with the same credential). */
static enum pkg_right remove_right(core *c, arena *a, const store_package *p, const char *version)
{
    store_version v;
    derr ignore;
    if (packages_version(c, a, p, version, &v, &ignore) < 0)
        return ignore.status == 404 ? PKG_PUBLISH : PKG_MANAGE;
    long window = packages_removal_window(c, p->ecosystem);
    return window > 0 && now_unix() - v.published_at <= window ? PKG_PUBLISH : PKG_MANAGE;
}

int docs_remove(core *c, arena *a, const principal *who, const char *ecosystem, const char *name,
                const char *version, const char *ip, derr *e)
{
    store_package p;
    if (packages_get(c, a, ecosystem, name, &p, e) < 0 ||
        packages_may_change(c, a, who, &p, remove_right(c, a, &p, version), e) < 0)
        return -1;
    int rc = store_call(c->st, docs_delete, p.id, version, e);
    return change_done(c, rc, arena_printf(a, "%s %s has no docs", p.name, clip(a, version)), who->user_id,
                       "docs.remove", arena_printf(a, "%s/%s@%s", ecosystem, p.name, version), NULL, ip, e);
}

/* Opens a blob the store names, for sending (blob_open_send); a missing one is our fault, not the
 * client's. */
static int open_blob(core *c, const char *hex, unsigned flags, blob_reader *r, derr *e)
{
    if (blob_open_send(c->blobs, hex, flags, r, e) == 0)
        return 0;
    if (e && e->status == 404) {
        log_error("a docs blob the store names is missing", "sha256", hex, NULL);
        return derr_set(e, 500, "internal", "a stored file is missing");
    }
    return -1;
}

int docs_open(core *c, arena *a, const char *ecosystem, const char *name, const char *version,
              const char *path, blob_reader *r, const char **ctype, const char **sha256, derr *e)
{
    store_package p;
    if (packages_get(c, a, ecosystem, name, &p, e) < 0)
        return -1;
    size_t n = strlen(path);
    const char *full = n == 0 || path[n - 1] == '/' ? arena_printf(a, "%sindex.html", path) : path;
    if (!path_ok(full))
        return derr_set(e, 404, "not_found", "the docs of %s %s have no file %s", p.name, clip(a, version),
                        clip(a, full));
    store_doc_file f;
    int rc = store_call(c->st, docs_file, a, p.id, version, full, &f, e);
    if (rc == STORE_NOT_FOUND)
        return derr_set(e, 404, "not_found", "the docs of %s %s have no file %s", p.name, clip(a, version),
                        clip(a, full));
    /* Never a redirect: a docs page needs its own Content-Type and sandbox headers. */
    if (rc != STORE_OK || open_blob(c, f.sha256, 0, r, e) < 0)
        return -1;
    *ctype = docs_content_type(full);
    *sha256 = f.sha256;
    return 0;
}

int docs_open_archive(core *c, arena *a, const char *ecosystem, const char *name, const char *version,
                      blob_reader *r, derr *e)
{
    store_package p;
    if (packages_get(c, a, ecosystem, name, &p, e) < 0)
        return -1;
    const char *hex;
    int64_t size;
    int rc = store_call(c->st, docs_archive, a, p.id, version, &hex, &size, e);
    if (rc == STORE_NOT_FOUND)
        return derr_set(e, 404, "not_found", "%s %s has no docs", p.name, clip(a, version));
    if (rc != STORE_OK)
        return -1;
    return open_blob(c, hex, c->cfg->blob_redirect ? BLOB_SEND_REDIRECT : 0, r, e);
}

int docs_latest(core *c, arena *a, const char *ecosystem, const char *name, const char **version, derr *e)
{
    store_package p;
    if (packages_get(c, a, ecosystem, name, &p, e) < 0)
        return -1;
    const char **dv;
    int n;
    if (store_call(c->st, docs_versions, a, p.id, &dv, &n, e) != STORE_OK)
        return -1;
    if (n == 0)
        return derr_set(e, 404, "not_found", "%s has no docs", p.name);
    store_version *vs;
    int nv;
    if (packages_versions(c, a, &p, &vs, &nv, e) < 0)
        return -1;
    const char *release = NULL, *any = NULL;
    for (int i = 0; i < n && !release; i++)
        for (int j = 0; j < nv; j++) {
            if (strcmp(vs[j].version, dv[i]) != 0)
                continue;
            if (!vs[j].yanked) {
                if (!any)
                    any = dv[i];
                if (!vs[j].prerelease || !*vs[j].prerelease)
                    release = dv[i];
            }
            break;
        }
    *version = release ? release : any ? any : dv[0];
    return 0;
}

/* Percent-encodes s: unreserved characters and '@' stay, '/' too when keep_slash. */
const char *docs_site_url(core *c, arena *a, const char *ecosystem, const char *name, const char *version)
{
    const char *docs = c->cfg->docs_url;
    const char *base = docs && *docs ? docs : arena_printf(a, "%s/docs", c->cfg->base_url);
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/')
        bl--;
    /* '@' stays everywhere; '/' only inside a scoped npm name. */
    return arena_printf(a, "%.*s/%s/%s/%s/", (int)bl, base, url_encode(a, ecosystem, "@"),
                        url_encode(a, name, name[0] == '@' ? "@/" : "@"), url_encode(a, version, "@"));
}

int docs_versions(core *c, arena *a, const package_row *p, const char ***out, int *n, derr *e)
{
    return store_call(c->st, docs_versions, a, p->id, out, n, e) == STORE_OK ? 0 : -1;
}
