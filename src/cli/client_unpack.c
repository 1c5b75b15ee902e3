/*
 * client_unpack.c — unpacking a downloaded package tarball into a folder,
 * safely.
 *
 * A tarball comes from the network, so nothing in it is trusted: only the tar
 * formats and the gzip filter are enabled in libarchive; every path is made
 * relative and checked (no absolute paths, no "..", no control characters,
 * at most 1024 bytes); only regular files and folders are accepted — a
 * symlink, a hard link or a device refuses the whole package; the entry
 * count, the unpacked bytes and the compression ratio are capped as the data
 * is read. Files are created with O_EXCL | O_NOFOLLOW under a folder this
 * code just made and into which it never puts a link, so no entry can write
 * outside it. install unpacks into a temp folder and renames it into place.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/xalloc.h"
#include "client.h"

#define UNPACK_MAX_ENTRIES 10000
#define UNPACK_MAX_TOTAL (1024ull << 20)
#define UNPACK_MAX_RATIO 100
#define UNPACK_MAX_PATH 1024

/* Normalises an entry's path into out ("./a//b/" → "a/b"); returns the length,
 * 0 for the root itself, or -1 when the path is not acceptable. */
static int clean_path(const char *in, char *out, size_t cap)
{
    if (!in || in[0] == '/')
        return -1;
    size_t n = 0;
    const char *p = in;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 1 && p[0] == '.') {
            p += len;
            continue;
        }
        if (len == 2 && p[0] == '.' && p[1] == '.')
            return -1;
        for (size_t i = 0; i < len; i++)
            if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f || p[i] == '\\')
                return -1;
        if (n + len + 2 > cap)
            return -1;
        if (n)
            out[n++] = '/';
        memcpy(out + n, p, len);
        n += len;
        p += len;
    }
    out[n] = '\0';
    return (int)n;
}

/* Makes every folder on the way to path (exclusive of its last component, unless whole). */
static int make_dirs(int dfd, char *path, bool whole, derr *e)
{
    for (char *s = path;; s++) {
        bool last = *s == '\0';
        if (*s != '/' && !last)
            continue;
        if (last && !whole)
            break;
        char saved = *s;
        *s = '\0';
        struct stat st;
        int rc = mkdirat(dfd, path, 0755);
        if (rc < 0 && errno == EEXIST) {
            if (fstatat(dfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode)) {
                derr_set(e, 422, "invalid", "entry %s is both a file and a folder", path);
                *s = saved;
                return -1;
            }
        } else if (rc < 0) {
            derr_set(e, 500, "internal", "cannot create the folder %s: %s", path, strerror(errno));
            *s = saved;
            return -1;
        }
        *s = saved;
        if (last)
            break;
    }
    return 0;
}

static const char *kind(mode_t t)
{
    switch (t) {
    case AE_IFLNK:
        return "a symlink";
    case AE_IFCHR:
    case AE_IFBLK:
        return "a device";
    case AE_IFIFO:
        return "a fifo";
    case AE_IFSOCK:
        return "a socket";
    default:
        return "not a regular file";
    }
}

/* One unpacking: the archive, the destination folder and the caps' counters. */
typedef struct unpack {
    struct archive *ar;
    int dfd;
    uint64_t entries, total, packed;
    char path[UNPACK_MAX_PATH + 2];
    char data[64 * 1024];
} unpack;

/* Copies the current entry's data to out, counting it against the caps. */
static int copy_data(unpack *u, int out, derr *e)
{
    for (;;) {
        la_ssize_t got = archive_read_data(u->ar, u->data, sizeof u->data);
        if (got == 0)
            return 0;
        if (got < 0)
            return derr_set(e, 422, "invalid", "corrupt archive at %s: %s", u->path,
                            archive_error_string(u->ar));
        u->total += (uint64_t)got;
        if (u->total > UNPACK_MAX_TOTAL)
            return derr_set(e, 422, "invalid", "the package expands beyond %llu bytes",
                            (unsigned long long)UNPACK_MAX_TOTAL);
        if (u->total > (1u << 20) && u->total / u->packed > UNPACK_MAX_RATIO)
            return derr_set(e, 422, "invalid", "compression ratio over %d", UNPACK_MAX_RATIO);
        for (la_ssize_t off = 0; off < got;) {
            ssize_t w = write(out, u->data + off, (size_t)(got - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                return derr_set(e, 500, "internal", "cannot write %s: %s", u->path, strerror(errno));
            off += w;
        }
    }
}

/* A regular file at u->path (a new file: an entry that appears twice is refused). */
static int unpack_file(unpack *u, struct archive_entry *ent, derr *e)
{
    if (make_dirs(u->dfd, u->path, false, e) < 0)
        return -1;
    mode_t mode = (archive_entry_perm(ent) & 0111) ? 0755 : 0644;
    int out = openat(u->dfd, u->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (out < 0) {
        if (errno == EEXIST)
            return derr_set(e, 422, "invalid", "entry %s appears twice", u->path);
        return derr_set(e, 500, "internal", "cannot create %s: %s", u->path, strerror(errno));
    }
    if (copy_data(u, out, e) < 0) {
        close(out);
        return -1;
    }
    if (close(out) < 0)
        return derr_set(e, 500, "internal", "cannot write %s: %s", u->path, strerror(errno));
    return 0;
}

/* One entry: its path checked, a folder made or a file written, anything else refused. */
static int unpack_entry(unpack *u, struct archive_entry *ent, derr *e)
{
    if (++u->entries > UNPACK_MAX_ENTRIES)
        return derr_set(e, 422, "invalid", "more than %d entries", UNPACK_MAX_ENTRIES);
    const char *raw = archive_entry_pathname(ent);
    int len = clean_path(raw, u->path, sizeof u->path);
    if (len < 0)
        return derr_set(e, 422, "invalid",
                        "entry '%.200s' has a path that is absolute, escapes the package or "
                        "is not acceptable",
                        raw ? raw : "(none)");
    mode_t type = archive_entry_filetype(ent);
    if (archive_entry_hardlink(ent))
        return derr_set(e, 422, "invalid", "entry %s is a hard link; refusing to unpack", u->path);
    if (type == AE_IFDIR)
        return len ? make_dirs(u->dfd, u->path, true, e) : 0;
    if (type != AE_IFREG)
        return derr_set(e, 422, "invalid", "entry %s is %s; refusing to unpack", len ? u->path : "(root)",
                        kind(type));
    if (!len)
        return derr_set(e, 422, "invalid", "a file entry without a name");
    return unpack_file(u, ent, e);
}

int unpack_targz(const char *tarball, const char *dest, derr *e)
{
    struct stat tst;
    if (stat(tarball, &tst) < 0)
        return derr_set(e, 500, "internal", "cannot read the tarball: %s", strerror(errno));
    if (mkdir(dest, 0755) < 0)
        return derr_set(e, 500, "internal", "cannot create %s: %s", dest, strerror(errno));
    int dfd = open(dest, O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (dfd < 0)
        return derr_set(e, 500, "internal", "cannot open %s: %s", dest, strerror(errno));
    unpack *u = xcalloc(1, sizeof *u);
    u->dfd = dfd;
    u->packed = tst.st_size > 0 ? (uint64_t)tst.st_size : 1;
    u->ar = archive_read_new();
    if (!u->ar) {
        close(dfd);
        free(u);
        return derr_set(e, 500, "internal", "cannot start libarchive");
    }
    archive_read_support_filter_gzip(u->ar);
    archive_read_support_format_tar(u->ar);
    int rc = -1;
    if (archive_read_open_filename(u->ar, tarball, sizeof u->data) != ARCHIVE_OK) {
        derr_set(e, 422, "invalid", "not a .tar.gz archive: %s", archive_error_string(u->ar));
        goto out;
    }
    struct archive_entry *ent;
    int r;
    while ((r = archive_read_next_header(u->ar, &ent)) == ARCHIVE_OK || r == ARCHIVE_WARN)
        if (unpack_entry(u, ent, e) < 0)
            goto out;
    if (r != ARCHIVE_EOF) {
        derr_set(e, 422, "invalid", "corrupt archive: %s", archive_error_string(u->ar));
        goto out;
    }
    rc = 0;
out:
    archive_read_free(u->ar);
    close(dfd);
    free(u);
    return rc;
}
