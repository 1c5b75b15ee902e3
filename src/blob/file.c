/*
 * file.c — the blob store as a folder on the local file system.
 *
 * A blob lives at DIR/ab/cd/<sha256hex>, where ab and cd are the first two
 * pairs of hex digits of its key: two levels of fan-out keep every folder
 * small (65,536 leaves) however many blobs there are. DIR/tmp/ holds files
 * being uploaded; being on the same file system, they can be renamed into
 * place, which is what makes a put atomic: a blob's final path either does
 * not exist or names complete, fsynced bytes whose hash has been checked.
 * A put of a key already present does nothing, so puts are idempotent and
 * concurrent puts of the same bytes are harmless (the later rename replaces
 * identical content).
 *
 * A process killed in the middle of an upload leaves its temp file behind.
 * Every process that opens the store holds a shared lock on DIR/tmp.lock for
 * as long as it has it open; one that can take that lock exclusively at open
 * is alone with the folder, so whatever is in tmp/ belongs to a process that
 * is gone, and is removed then (a restart after a crash cleans up).
 *
 * Paths of this machine go to the log, never into a derr (err.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <unistd.h>

#include "../lib/crypto.h"
#include "../lib/log.h"
#include "../lib/xalloc.h"
#include "blob.h"
#include "blob_int.h"

#define DIR_MODE 0750
#define READ_CHUNK (64 * 1024)
/* "/ab/cd/" plus 64 hex digits plus the NUL. */
#define BLOB_SUFFIX_LEN (7 + 64 + 1)

typedef struct file_store {
    blob_store base; /* first, so a blob_store * is a file_store * */
    char *dir;       /* absolute, no trailing slash */
    char *tmp;       /* dir + "/tmp" */
    dev_t tmp_dev;   /* the file system of tmp: a source elsewhere is copied, not renamed */
    int lock_fd;     /* DIR/tmp.lock, share-locked while the store is open */
} file_store;

/* Logs what failed, with the path and errno text, and answers without them:
 * 507 when the disk is full, 503 when it refuses writes, else 500 (derr_storage). */
static int internal(derr *e, const char *what, const char *path, int errnum)
{
    char eb[128];
    const char *why = errnum ? strerror_r(errnum, eb, sizeof eb) : "";
    log_error("blob store failed", "op", what, "path", path ? path : "", "error", why, NULL);
    return derr_storage(e, errnum, "the blob store");
}

/* DIR/ab/cd/<hex>; blob_file_open has checked that it fits. */
/* DIR/ab/cd/<hex>, once hex is checked to be a key: 0, or -1 (400 bad_key). */
static int blob_path(const file_store *fs, const char *hex, char out[PATH_MAX], derr *e)
{
    if (!blob_key_ok(hex))
        return blob_bad_key(e);
    snprintf(out, PATH_MAX, "%s/%.2s/%.2s/%s", fs->dir, hex, hex + 2, hex);
    return 0;
}

static int fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

/* Creates `path` if missing; a new entry is made durable by syncing `parent`. */
static int ensure_dir(const char *path, const char *parent, derr *e)
{
    if (mkdir(path, DIR_MODE) == 0) {
        if (fsync_dir(parent) < 0)
            return internal(e, "fsync", parent, errno);
        return 0;
    }
    if (errno != EEXIST)
        return internal(e, "mkdir", path, errno);
    return 0;
}

/* mkdir -p: every missing component of `path` is created. */
static int mkdir_all(const char *path, derr *e)
{
    char p[PATH_MAX];
    size_t len = strlen(path);
    if (len >= sizeof p)
        return derr_set(e, 500, "bad_config", "the blob store folder name is too long");
    memcpy(p, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char saved = p[i];
        p[i] = '\0';
        if (mkdir(p, DIR_MODE) < 0 && errno != EEXIST)
            return internal(e, "mkdir", p, errno);
        p[i] = saved;
    }
    struct stat st;
    if (stat(path, &st) < 0)
        return internal(e, "stat", path, errno);
    if (!S_ISDIR(st.st_mode))
        return internal(e, "mkdir", path, ENOTDIR);
    return 0;
}

/* 1 when a regular file is at `path`, 0 when nothing is, -1 (logged) otherwise. */
static int present(const char *path, derr *e)
{
    struct stat st;
    if (stat(path, &st) == 0)
        return 1;
    if (errno == ENOENT || errno == ENOTDIR)
        return 0;
    return internal(e, "stat", path, errno);
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Copies src_fd into a new file in tmp/ (its name into `copy`). Returns the
 * copy's fd, or -1 (logged; the copy removed). For a source on another file
 * system, which rename(2) cannot move. */
static int copy_to_tmp(const file_store *fs, int src_fd, const char *src, char copy[PATH_MAX],
                       derr *e)
{
    snprintf(copy, PATH_MAX, "%s/put-XXXXXX", fs->tmp);
    int fd = mkostemp(copy, O_CLOEXEC);
    if (fd < 0) {
        internal(e, "mkstemp", copy, errno);
        copy[0] = '\0';
        return -1;
    }
    unsigned char *chunk = xmalloc(READ_CHUNK);
    off_t off = 0;
    for (;;) {
        ssize_t n = pread(src_fd, chunk, READ_CHUNK, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            internal(e, "read", src, errno);
            goto fail;
        }
        if (n == 0)
            break;
        if (write_all(fd, chunk, (size_t)n) < 0) {
            internal(e, "write", copy, errno);
            goto fail;
        }
        off += n;
    }
    free(chunk);
    return fd;
fail:
    free(chunk);
    close(fd);
    unlink(copy);
    copy[0] = '\0';
    return -1;
}

/* The order is what makes it safe: hash and fsync the bytes, make sure the
 * fan-out folders exist (durably), rename, then fsync the folder that now
 * names the blob. Until the rename nothing is visible at the final path. */
static int file_put_file(blob_store *b, const char *hex, const char *path, derr *e)
{
    file_store *fs = (file_store *)b;
    char final[PATH_MAX];
    if (blob_path(fs, hex, final, e) < 0)
        return -1;
    if (!path)
        return internal(e, "put", "(null)", EINVAL);
    int have = present(final, e);
    if (have != 0)
        return have < 0 ? -1 : 0;

    int rc = -1;
    char copy[PATH_MAX] = "";
    const char *src = path;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return internal(e, "open", path, errno);
    struct stat st;
    if (fstat(fd, &st) < 0) {
        internal(e, "fstat", path, errno);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        internal(e, "put", path, EINVAL);
        goto out;
    }
    if (st.st_dev != fs->tmp_dev) {
        int cfd = copy_to_tmp(fs, fd, path, copy, e);
        if (cfd < 0)
            goto out;
        close(fd);
        fd = cfd;
        src = copy;
    }

    int ok = blob_hash_matches(fd, hex, NULL);
    if (ok < 0) {
        internal(e, "read", src, errno);
        goto out;
    }
    if (ok == 0) {
        derr_set(e, 400, "checksum_mismatch",
                 "the content does not have the SHA-256 it was stored under");
        goto out;
    }
    if (fsync(fd) < 0) {
        internal(e, "fsync", src, errno);
        goto out;
    }

    /* final is DIR/ab/cd/<hex>: cut it back to DIR/ab and DIR/ab/cd. */
    size_t dlen = strlen(fs->dir);
    char level1[PATH_MAX], level2[PATH_MAX];
    snprintf(level1, sizeof level1, "%.*s", (int)(dlen + 3), final);
    snprintf(level2, sizeof level2, "%.*s", (int)(dlen + 6), final);
    if (ensure_dir(level1, fs->dir, e) < 0 || ensure_dir(level2, level1, e) < 0)
        goto out;
    if (rename(src, final) < 0) {
        internal(e, "rename", final, errno);
        goto out;
    }
    copy[0] = '\0'; /* the copy is the blob now */
    if (fsync_dir(level2) < 0) {
        internal(e, "fsync", level2, errno);
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (copy[0])
        unlink(copy);
    return rc;
}

static int file_open(blob_store *b, const char *hex, blob_reader *r, derr *e)
{
    file_store *fs = (file_store *)b;
    char path[PATH_MAX];
    if (blob_path(fs, hex, path, e) < 0)
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return derr_set(e, 404, "not_found", "no such blob");
        return internal(e, "open", path, errno);
    }
    struct stat st;
    int err = fstat(fd, &st) < 0 ? errno : S_ISREG(st.st_mode) ? 0 : EINVAL;
    if (err) {
        close(fd);
        return internal(e, "fstat", path, err);
    }
    r->fd = fd;
    r->size = (uint64_t)st.st_size;
    return 0;
}

static int file_exists(blob_store *b, const char *hex, derr *e)
{
    file_store *fs = (file_store *)b;
    char path[PATH_MAX];
    if (blob_path(fs, hex, path, e) < 0)
        return -1;
    return present(path, e);
}

/* The fan-out folders stay: removing them would race with a put that has just
 * created them. */
static int file_remove(blob_store *b, const char *hex, derr *e)
{
    file_store *fs = (file_store *)b;
    char path[PATH_MAX];
    if (blob_path(fs, hex, path, e) < 0)
        return -1;
    if (unlink(path) < 0 && errno != ENOENT && errno != ENOTDIR)
        return internal(e, "unlink", path, errno);
    return 0;
}

/* Proves the folder is there and writable and its file system neither
 * read-only nor full, without writing: /health calls this on every probe. */
static int file_check(blob_store *b, derr *e)
{
    file_store *fs = (file_store *)b;
    struct statvfs sv;
    if (access(fs->tmp, W_OK | X_OK) < 0)
        return internal(e, "access", fs->tmp, errno);
    if (statvfs(fs->tmp, &sv) < 0)
        return internal(e, "statvfs", fs->tmp, errno);
    if (sv.f_flag & ST_RDONLY)
        return internal(e, "statvfs (read-only)", fs->tmp, EROFS);
    if (sv.f_bavail == 0)
        return internal(e, "statvfs (full)", fs->tmp, ENOSPC);
    return 0;
}

static const char *file_tmp_dir(blob_store *b)
{
    return ((file_store *)b)->tmp;
}

static void file_close(blob_store *b)
{
    if (!b)
        return;
    file_store *fs = (file_store *)b;
    if (fs->lock_fd >= 0)
        close(fs->lock_fd);
    free(fs->dir);
    free(fs->tmp);
    free(fs);
}

static const struct blob_ops file_ops = {
    .name = "file",
    .close = file_close,
    .put_file = file_put_file,
    .open = file_open,
    .exists = file_exists,
    .remove = file_remove,
    .check = file_check,
    .tmp_dir = file_tmp_dir,
};

/* Removes every regular file in tmp (their writers are gone: see the top). */
static void sweep_tmp(const char *tmp)
{
    DIR *d = opendir(tmp);
    if (!d) {
        log_warn("cannot list the blob store's temp folder", "path", tmp, "error", strerror(errno), NULL);
        return;
    }
    long n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        struct stat st;
        if (de->d_name[0] == '.' || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISREG(st.st_mode))
            continue;
        if (unlinkat(dirfd(d), de->d_name, 0) == 0)
            n++;
    }
    closedir(d);
    if (n) {
        char count[24];
        snprintf(count, sizeof count, "%ld", n);
        log_info("removed temp files left by a stopped process", "path", tmp, "files", count, NULL);
    }
}

/* Opens and share-locks DIR/tmp.lock, first sweeping tmp when no other
 * process has the store open. Returns the fd, or -1 (logged, e filled). */
static int claim_tmp(const char *dir, const char *tmp, derr *e)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/tmp.lock", dir);
    /* Read-only: an fd open for writing would keep the file system from being remounted
     * read-only, and flock does not need one. */
    int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        return internal(e, "open", path, errno);
    if (flock(fd, LOCK_EX | LOCK_NB) == 0)
        sweep_tmp(tmp);
    /* Turns the exclusive lock into a shared one, or waits for a process sweeping now. */
    while (flock(fd, LOCK_SH) < 0) {
        if (errno != EINTR) {
            internal(e, "flock", path, errno);
            close(fd);
            return -1;
        }
    }
    return fd;
}

/* Creates DIR and DIR/tmp when missing and remembers DIR as an absolute path
 * (realpath: no trailing slash, no symlinks), so that a later chdir cannot
 * move the store. */
blob_store *blob_file_open(const char *dir, derr *e)
{
    if (!dir || !*dir) {
        derr_set(e, 500, "bad_config", "the blob store URL names no folder (file:DIR)");
        return NULL;
    }
    if (mkdir_all(dir, e) < 0)
        return NULL;
    char *abs = realpath(dir, NULL);
    if (!abs) {
        internal(e, "realpath", dir, errno);
        return NULL;
    }
    size_t len = strlen(abs);
    if (len + BLOB_SUFFIX_LEN > PATH_MAX || len + sizeof "/tmp/check-XXXXXX" > PATH_MAX) {
        free(abs);
        derr_set(e, 500, "bad_config", "the blob store folder name is too long");
        return NULL;
    }
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s/tmp", abs);
    struct stat st;
    if ((mkdir(tmp, DIR_MODE) < 0 && errno != EEXIST) || stat(tmp, &st) < 0) {
        internal(e, "mkdir", tmp, errno);
        free(abs);
        return NULL;
    }
    if (!S_ISDIR(st.st_mode)) {
        internal(e, "mkdir", tmp, ENOTDIR);
        free(abs);
        return NULL;
    }

    int lock_fd = claim_tmp(abs, tmp, e);
    if (lock_fd < 0) {
        free(abs);
        return NULL;
    }

    file_store *fs = xcalloc(1, sizeof *fs);
    fs->base.ops = &file_ops;
    fs->dir = abs;
    fs->tmp = xstrdup(tmp);
    fs->tmp_dev = st.st_dev;
    fs->lock_fd = lock_fd;
    return &fs->base;
}
