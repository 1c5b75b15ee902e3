/*
 * targz.c — tar.gz reading under limits and reproducible writing, over
 * libarchive.
 *
 * Reading pulls every entry's data through archive_read_data_block rather
 * than letting libarchive skip it: skipping a gzip stream decompresses it
 * anyway, and reading block by block lets us check the compression ratio
 * between blocks, so a bomb is stopped after a bounded amount of work
 * instead of after it has been inflated. Declared entry sizes are summed
 * against max_total before any of an entry's data is read.
 *
 * Duplicate paths are found with a small open-addressing table of entry
 * indexes in the arena.
 */
#include "targz.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "utf8.h"
#include "xalloc.h"

#define PATH_MAX_BYTES 1024
#define RATIO_GRACE ((int64_t)1 << 20)
#define READ_BLOCK 65536

/* A path as a message may show it: at most 80 bytes, non-printable ASCII as '?'. */
static const char *clip(arena *a, const char *s)
{
    size_t n = strlen(s);
    return derr_clip(arena_alloc(a, 80 + 4), s, n, 80);
}

/* Strict UTF-8 without control characters; *why names what comes first. */
static int utf8_check(const char *s, const char **why)
{
    size_t len = strlen(s), ok = utf8_valid_prefix(s, len);
    for (size_t i = 0; i < ok; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            *why = "contains a control character";
            return -1;
        }
    }
    if (ok < len) {
        *why = "is not valid UTF-8";
        return -1;
    }
    return 0;
}

/* Normalises an archive path (see targz.h). *out is "" for an entry that is
 * the root itself (or the stripped "package" directory): not listed. */
static int norm_path(arena *a, const char *raw, unsigned flags, const char **out, derr *e)
{
    if (!raw)
        return derr_set(e, 400, "bad_request", "an entry has a name that cannot be read");
    size_t len = strlen(raw);
    if (len > PATH_MAX_BYTES)
        return derr_set(e, 422, "invalid", "entry %s has a path longer than %d bytes", clip(a, raw),
                        PATH_MAX_BYTES);
    if (len == 0)
        return derr_set(e, 422, "invalid", "an entry has an empty path");
    if (raw[0] == '/')
        return derr_set(e, 422, "invalid", "entry %s is an absolute path", clip(a, raw));
    const char *why;
    if (utf8_check(raw, &why) < 0)
        return derr_set(e, 422, "invalid", "entry %s has a path that %s", clip(a, raw), why);
    char *res = arena_alloc(a, len + 1);
    size_t n = 0;
    const char *p = raw;
    bool first = true;
    while (*p) {
        const char *c = p;
        while (*p && *p != '/')
            p++;
        size_t cl = (size_t)(p - c);
        if (*p == '/')
            p++;
        if (cl == 0 || (cl == 1 && c[0] == '.'))
            continue;
        if (cl == 2 && c[0] == '.' && c[1] == '.')
            return derr_set(e, 422, "invalid", "entry %s escapes the archive", clip(a, raw));
        if (first && (flags & TARGZ_STRIP_PACKAGE) && cl == 7 && memcmp(c, "package", 7) == 0) {
            first = false;
            continue;
        }
        first = false;
        if (n)
            res[n++] = '/';
        memcpy(res + n, c, cl);
        n += cl;
    }
    res[n] = '\0';
    *out = res;
    return 0;
}

/* ---- reading ---- */

struct reader {
    arena *a;
    struct archive *ar;
    targz_limits lim;
    derr *e;
    targz_entry *ents;
    int nents, capents;
    targz_file *files;
    int nfiles, capfiles;
    int *slots; /* entry index + 1, 0 empty */
    size_t nslots;
    uint64_t total;
};

static void set_insert(struct reader *r, int idx)
{
    size_t mask = r->nslots - 1, i = (size_t)hash_str(r->ents[idx].path) & mask;
    while (r->slots[i])
        i = (i + 1) & mask;
    r->slots[i] = idx + 1;
}

/* Adds entry idx to the set; -1 when a previous entry has the same path and
 * the two are not both directories. */
static int set_add(struct reader *r, int idx)
{
    if ((size_t)(idx + 1) * 2 > r->nslots) {
        size_t ns = r->nslots ? r->nslots * 2 : 64;
        r->slots = arena_zalloc(r->a, ns * sizeof *r->slots);
        r->nslots = ns;
        for (int i = 0; i < idx; i++)
            set_insert(r, i);
    }
    const targz_entry *x = &r->ents[idx];
    size_t mask = r->nslots - 1, i = (size_t)hash_str(x->path) & mask;
    for (; r->slots[i]; i = (i + 1) & mask) {
        const targz_entry *y = &r->ents[r->slots[i] - 1];
        if (strcmp(x->path, y->path) == 0) {
            if (x->type == 'd' && y->type == 'd')
                return 0;
            return -1;
        }
    }
    r->slots[i] = idx + 1;
    return 0;
}

static int ratio_check(struct reader *r)
{
    int64_t out = archive_filter_bytes(r->ar, 0), in = archive_filter_bytes(r->ar, -1);
    if (out <= RATIO_GRACE || in <= 0)
        return 0;
    if ((uint64_t)out / (uint64_t)in >= r->lim.max_ratio && (uint64_t)out > (uint64_t)in * r->lim.max_ratio)
        return derr_set(r->e, 422, "invalid", "compression ratio over %llu",
                        (unsigned long long)r->lim.max_ratio);
    return 0;
}

static int corrupt(struct reader *r)
{
    const char *m = archive_error_string(r->ar);
    return derr_set(r->e, 400, "bad_request", "corrupt archive: %s", clip(r->a, m ? m : "unknown error"));
}

/* Reads the current entry's data, into dst (size bytes, zeroed) or nowhere. */
static int entry_data(struct reader *r, char *dst, uint64_t size)
{
    for (;;) {
        const void *blk;
        size_t n;
        la_int64_t off;
        int rc = archive_read_data_block(r->ar, &blk, &n, &off);
        if (rc == ARCHIVE_EOF)
            return 0;
        if (rc < ARCHIVE_WARN)
            return corrupt(r);
        if (dst) {
            if (off < 0 || (uint64_t)off > size || n > size - (uint64_t)off)
                return derr_set(r->e, 400, "bad_request", "corrupt archive: data beyond an entry's size");
            memcpy(dst + off, blk, n);
        }
        if (ratio_check(r) < 0)
            return -1;
    }
}

/* The entry's type ('f' file, 'd' folder, 'l' symlink, 'h' hard link, 'o' anything else)
 * and, for a link, its target (in the arena; NULL otherwise). */
static int entry_type(struct reader *r, struct archive_entry *ae, const char **link)
{
    *link = NULL;
    const char *hl = archive_entry_hardlink_utf8(ae);
    if (!hl)
        hl = archive_entry_hardlink(ae);
    if (hl) {
        *link = arena_strdup(r->a, hl);
        return 'h';
    }
    switch (archive_entry_filetype(ae)) {
    case AE_IFREG:
        return 'f';
    case AE_IFDIR:
        return 'd';
    case AE_IFLNK: {
        const char *sl = archive_entry_symlink_utf8(ae);
        *link = arena_strdup(r->a, sl ? sl : archive_entry_symlink(ae));
        return 'l';
    }
    default:
        return 'o';
    }
}

/* Lists the entry (a path given twice is refused) and, for a file the caller
 * wants, makes room for its bytes (*dst, within max_entry) among the files read. */
static int record(struct reader *r, const targz_entry *ent, bool (*want)(const char *, void *), void *ctx,
                  char **dst)
{
    r->ents = arena_grow(r->a, r->ents, r->nents, &r->capents, sizeof *r->ents);
    r->ents[r->nents] = *ent;
    if (set_add(r, r->nents) < 0)
        return derr_set(r->e, 422, "invalid", "entry %s appears twice in the archive", clip(r->a, ent->path));
    r->nents++;
    if (ent->type != 'f' || !want || !want(ent->path, ctx))
        return 0;
    if (ent->size > r->lim.max_entry)
        return derr_set(r->e, 422, "invalid", "entry %s is larger than %llu bytes", clip(r->a, ent->path),
                        (unsigned long long)r->lim.max_entry);
    *dst = arena_zalloc(r->a, (size_t)ent->size + 1);
    r->files = arena_grow(r->a, r->files, r->nfiles, &r->capfiles, sizeof *r->files);
    r->files[r->nfiles++] = (targz_file){.path = ent->path, .data = *dst, .len = (size_t)ent->size};
    return 0;
}

static int read_all(struct reader *r, bool (*want)(const char *, void *), void *ctx)
{
    struct archive_entry *ae;
    uint64_t seen = 0;
    for (;;) {
        int rc = archive_read_next_header(r->ar, &ae);
        if (rc == ARCHIVE_EOF)
            return 0;
        if (rc < ARCHIVE_WARN)
            return corrupt(r);
        if (++seen > r->lim.max_entries)
            return derr_set(r->e, 422, "invalid", "the archive has more than %llu entries",
                            (unsigned long long)r->lim.max_entries);
        if (ratio_check(r) < 0)
            return -1;
        const char *raw = archive_entry_pathname_utf8(ae);
        if (!raw)
            raw = archive_entry_pathname(ae);
        const char *path;
        if (norm_path(r->a, raw, r->lim.flags, &path, r->e) < 0)
            return -1;

        const char *link;
        int type = entry_type(r, ae, &link);
        if ((r->lim.flags & TARGZ_REGULAR_ONLY) && type != 'f' && type != 'd')
            return derr_set(r->e, 422, "invalid",
                            "%s is a link or a special file; a package holds regular files and folders only",
                            clip(r->a, path));
        int64_t ssz = archive_entry_size_is_set(ae) ? archive_entry_size(ae) : 0;
        uint64_t size = ssz > 0 ? (uint64_t)ssz : 0;
        if (size > r->lim.max_total || r->total + size > r->lim.max_total)
            return derr_set(r->e, 422, "invalid", "archive expands beyond %llu bytes",
                            (unsigned long long)r->lim.max_total);
        r->total += size;

        char *dst = NULL;
        targz_entry ent = {.path = path, .size = size, .type = type, .link = link};
        if (path[0] && record(r, &ent, want, ctx, &dst) < 0)
            return -1;
        if (entry_data(r, dst, size) < 0)
            return -1;
    }
}

int targz_read(arena *a, int fd, const targz_limits *lim, bool (*want)(const char *path, void *ctx),
               void *ctx, targz_entry **entries, int *nentries, targz_file **files, int *nfiles, derr *e)
{
    *entries = NULL;
    *files = NULL;
    *nentries = *nfiles = 0;
    struct reader r = {.a = a, .e = e};
    if (lim)
        r.lim = *lim;
    if (!r.lim.max_entries)
        r.lim.max_entries = 10000;
    if (r.lim.max_entries > INT32_MAX / 4)
        r.lim.max_entries = INT32_MAX / 4;
    if (!r.lim.max_total)
        r.lim.max_total = (uint64_t)1 << 30;
    if (!r.lim.max_entry)
        r.lim.max_entry = (uint64_t)1 << 20;
    if (r.lim.max_entry > SIZE_MAX / 2)
        r.lim.max_entry = SIZE_MAX / 2;
    if (!r.lim.max_ratio)
        r.lim.max_ratio = 100;

    int rc = -1;
    r.ar = archive_read_new();
    if (!r.ar)
        xoom();
    if (archive_read_support_filter_gzip(r.ar) != ARCHIVE_OK ||
        archive_read_support_format_tar(r.ar) != ARCHIVE_OK) {
        /* ARCHIVE_WARN from the gzip filter means it would run an external gzip: not here. */
        derr_set(e, 500, "internal", "the server cannot read gzip tar archives");
        goto out;
    }
    if (archive_read_open_fd(r.ar, fd, READ_BLOCK) != ARCHIVE_OK) {
        derr_set(e, 400, "bad_request", "not a gzip tar archive");
        goto out;
    }
    bool gz = archive_filter_count(r.ar) >= 2 && archive_filter_code(r.ar, 0) == ARCHIVE_FILTER_GZIP;
    if (!gz && !(r.lim.flags & TARGZ_ALLOW_PLAIN)) {
        derr_set(e, 400, "bad_request", "not a gzip tar archive (an uncompressed tar)");
        goto out;
    }
    if (read_all(&r, want, ctx) < 0)
        goto out;
    *entries = r.ents;
    *nentries = r.nents;
    *files = r.files;
    *nfiles = r.nfiles;
    rc = 0;
out:
    archive_read_free(r.ar);
    return rc;
}

/* ---- writing ---- */

static int by_path(const void *x, const void *y, void *paths)
{
    const char *const *p = paths;
    return strcmp(p[*(const int *)x], p[*(const int *)y]);
}

static int write_file(struct archive *ar, const char *arc, const char *disk, derr *e)
{
    int rc = -1;
    struct archive_entry *ae = NULL;
    char *block = NULL;
    int fd = open(disk, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        derr_set(e, 400, "bad_request", "cannot read %s: %s", disk, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        derr_set(e, 400, "bad_request", "%s is not a regular file", disk);
        goto out;
    }
    ae = archive_entry_new();
    if (!ae)
        xoom();
    archive_entry_set_pathname_utf8(ae, arc);
    archive_entry_set_filetype(ae, AE_IFREG);
    archive_entry_set_perm(ae, 0644);
    archive_entry_set_size(ae, st.st_size);
    archive_entry_set_mtime(ae, 0, 0);
    archive_entry_set_uid(ae, 0);
    archive_entry_set_gid(ae, 0);
    if (archive_write_header(ar, ae) != ARCHIVE_OK) {
        derr_set(e, 500, "internal", "cannot write %s into the archive: %s", arc, archive_error_string(ar));
        goto out;
    }
    block = xmalloc(READ_BLOCK);
    off_t left = st.st_size;
    while (left > 0) {
        ssize_t n = read(fd, block, (size_t)(left < READ_BLOCK ? left : READ_BLOCK));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            derr_set(e, 500, "internal", "cannot read %s: %s", disk,
                     n < 0 ? strerror(errno) : "it shrank while packing");
            goto out;
        }
        if (archive_write_data(ar, block, (size_t)n) != n) {
            derr_set(e, 500, "internal", "cannot write the archive: %s", archive_error_string(ar));
            goto out;
        }
        left -= n;
    }
    rc = 0;
out:
    free(block);
    archive_entry_free(ae);
    if (fd >= 0)
        close(fd);
    return rc;
}

int targz_write(const char *out_path, const char *const *arc_paths, const char *const *disk_paths, int n,
                derr *e)
{
    int rc = -1, fd = -1;
    struct archive *ar = NULL;
    arena *a = arena_new(0);
    int *order = arena_alloc(a, (size_t)(n > 0 ? n : 1) * sizeof *order);
    for (int i = 0; i < n; i++) {
        const char *norm;
        if (norm_path(a, arc_paths[i], 0, &norm, e) < 0)
            goto out;
        if (strcmp(norm, arc_paths[i]) != 0) {
            derr_set(e, 400, "bad_request", "archive path %s is not in normal form (%s)",
                     clip(a, arc_paths[i]), norm[0] ? clip(a, norm) : "empty");
            goto out;
        }
        order[i] = i;
    }
    qsort_r(order, (size_t)n, sizeof *order, by_path, (void *)arc_paths);
    for (int i = 1; i < n; i++)
        if (strcmp(arc_paths[order[i]], arc_paths[order[i - 1]]) == 0) {
            derr_set(e, 400, "bad_request", "archive path %s is given twice", clip(a, arc_paths[order[i]]));
            goto out;
        }

    fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        derr_set(e, 500, "internal", "cannot create %s: %s", out_path, strerror(errno));
        goto out;
    }
    ar = archive_write_new();
    if (!ar)
        xoom();
    if (archive_write_add_filter_gzip(ar) != ARCHIVE_OK ||
        archive_write_set_format_pax_restricted(ar) != ARCHIVE_OK ||
        archive_write_set_options(ar, "gzip:!timestamp") != ARCHIVE_OK ||
        archive_write_open_fd(ar, fd) != ARCHIVE_OK) {
        derr_set(e, 500, "internal", "cannot start the archive: %s", archive_error_string(ar));
        goto out;
    }
    for (int i = 0; i < n; i++)
        if (write_file(ar, arc_paths[order[i]], disk_paths[order[i]], e) < 0)
            goto out;
    if (archive_write_close(ar) != ARCHIVE_OK) {
        derr_set(e, 500, "internal", "cannot finish the archive: %s", archive_error_string(ar));
        goto out;
    }
    if (fsync(fd) < 0 && errno != EINVAL) {
        derr_set(e, 500, "internal", "cannot write %s: %s", out_path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (ar)
        archive_write_free(ar);
    if (fd >= 0) {
        if (close(fd) < 0 && rc == 0)
            rc = derr_set(e, 500, "internal", "cannot write %s: %s", out_path, strerror(errno));
        if (rc < 0)
            unlink(out_path);
    }
    arena_free(a);
    return rc;
}
