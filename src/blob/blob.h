/*
 * blob.h — the blob store: content-addressed, immutable bytes (tarballs,
 * docs archives). An interface with one implementation per file: file.c (a
 * folder) now, s3.c later. Keys are lower-case hex SHA-256 of the content.
 *
 * put is atomic and idempotent: a blob is either wholly there or absent, and
 * putting bytes already present succeeds without writing again.
 */
#ifndef DEPOT_BLOB_H
#define DEPOT_BLOB_H

#include <stdint.h>
#include <sys/types.h>

#include "../lib/err.h"

typedef struct blob_store blob_store;

/* Where a blob's bytes can be read from for sending. For the folder store an
 * open fd (the caller owns it and closes it) so the response goes out with
 * sendfile. */
typedef struct blob_reader {
    int fd;
    uint64_t size;
} blob_reader;

struct blob_ops {
    const char *name;
    void (*close)(blob_store *b);
    /* Stores the contents of the file at `path` (already fully written) under
     * `sha256hex`, after checking the content really has that hash. `path`
     * should be in tmp_dir() so that it can be renamed into place.
     * Ownership of `path`: the caller owns it before and after the call. On
     * success it has usually been moved into the store (so it no longer
     * exists), but when the blob was already present it is left untouched,
     * and on failure it is always left untouched. So the caller removes
     * `path` afterwards in every case, ignoring ENOENT (an arena cleanup hook
     * that unlinks the temp file does exactly this).
     * Errors: 400 "bad_key" (not 64 lower-case hex characters),
     * 400 "checksum_mismatch" (the content has another hash), 500 "internal". */
    int (*put_file)(blob_store *b, const char *sha256hex, const char *path, derr *e);
    /* 0 and fills r; -1 with e->status 404 "not_found" when absent (400
     * "bad_key" for a malformed key). */
    int (*open)(blob_store *b, const char *sha256hex, blob_reader *r, derr *e);
    /* 1 present, 0 absent, -1 error. */
    int (*exists)(blob_store *b, const char *sha256hex, derr *e);
    /* Removes it; the caller has checked that nothing references it. Absent is fine. */
    int (*remove)(blob_store *b, const char *sha256hex, derr *e);
    /* Can we write? For /health. */
    int (*check)(blob_store *b, derr *e);
    /* A folder for temporary files on the same file system as the blobs
     * (uploads land there first so that put_file can rename). */
    const char *(*tmp_dir)(blob_store *b);
};

struct blob_store {
    const struct blob_ops *ops;
};

/* "file:DIR" (created if missing). Returns NULL and fills e on failure. */
blob_store *blob_open(const char *url, derr *e);

/* The backends, for blob_open; callers use blob_open. */
blob_store *blob_file_open(const char *dir, derr *e);

/* blob_call(b, open, hex, &r, e) is b->ops->open(b, hex, &r, e). The GNU `, ##`
 * drops the comma for the ops that take nothing but b (close, tmp_dir). */
#define blob_call(b, op, ...) ((b)->ops->op((b), ##__VA_ARGS__))

#endif
