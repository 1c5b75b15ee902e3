/*
 * blob.h — the blob store: content-addressed, immutable bytes (tarballs,
 * docs archives). An interface with one implementation per file: file.c (a
 * folder) and s3.c (S3-compatible object storage). Keys are lower-case hex
 * SHA-256 of the content.
 *
 * put is atomic and idempotent: a blob is either wholly there or absent, and
 * putting bytes already present succeeds without writing again.
 */
#ifndef DEPOT_BLOB_H
#define DEPOT_BLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../lib/err.h"

typedef struct blob_store blob_store;

typedef struct blob_stream blob_stream;

/* How a blob's bytes reach whoever asked. `open` always gives BLOB_READER_FD;
 * blob_open_send (for answering a client) may give any kind. */
enum blob_reader_kind {
    BLOB_READER_FD = 0,   /* fd: an open file of exactly size bytes (sendfile) */
    BLOB_READER_STREAM,   /* stream: bytes still arriving from a remote store */
    BLOB_READER_REDIRECT, /* url: a signed URL the client may fetch the bytes from */
};

/* Where a blob's bytes can be read from. For the folder store an open fd (the
 * caller owns it and closes it) so the response goes out with sendfile. The
 * reader owns what its kind names (fd, stream or url) until the caller hands
 * it on (resp_blob in http.h takes it) or calls blob_reader_close. */
typedef struct blob_reader {
    int fd;
    uint64_t size; /* in bytes (0 for BLOB_READER_REDIRECT: not asked) */
    enum blob_reader_kind kind;
    blob_stream *stream;
    char *url; /* malloc'd */
} blob_reader;

/* A blob's bytes that a remote store is still fetching (into a local spool
 * file). Reads never block: they give what has arrived. The last byte is held
 * back until the whole blob has been checked against its SHA-256, so a reader
 * never sees a complete blob with the wrong content. */
#define BLOB_STREAM_END (-1L)   /* read: pos is at the end */
#define BLOB_STREAM_ERROR (-2L) /* read: the fetch failed (logged); give up */
struct blob_stream_ops {
    /* Copies up to n bytes from offset pos: the count (> 0), 0 when none has
     * arrived yet (then wait), BLOB_STREAM_END or BLOB_STREAM_ERROR. */
    long (*read)(blob_stream *s, uint64_t pos, void *buf, size_t n);
    /* Arms wake(arg) to be called once, from another thread, when reading at
     * pos can make progress (bytes, end or error); returns 0 when armed, 1 when
     * it can already (then nothing is armed and wake is never called). */
    int (*wait)(blob_stream *s, uint64_t pos, void (*wake)(void *arg), void *arg);
    /* Drops the reader's interest (disarms wake); the fetch may stop. */
    void (*close)(blob_stream *s);
};
struct blob_stream {
    const struct blob_stream_ops *ops;
};

/* Flags of blob_open_send. */
#define BLOB_SEND_HEAD 1u     /* only the size is needed (a HEAD request): no byte will be read */
#define BLOB_SEND_REDIRECT 2u /* a BLOB_READER_REDIRECT is acceptable (the operator's --blob-redirect) */

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
    /* Optional (NULL: blob_open_send uses open): like open, for sending the
     * bytes to a client, so the reader may be of any kind (see the flags).
     * Fills every field of r. */
    int (*open_send)(blob_store *b, const char *sha256hex, unsigned flags, blob_reader *r, derr *e);
    /* Every call but tmp_dir and close may wait on the network (S3): never
     * make one on an HTTP event thread (the server runs the routes that may on
     * its worker pool). Failing to reach the store is 503 "unavailable". */
    bool remote;
};

struct blob_store {
    const struct blob_ops *ops;
};

/* "file:DIR" (created if missing) or "s3://BUCKET[/PREFIX]?OPTIONS" (s3.c
 * lists them). Returns NULL and fills e on failure. */
blob_store *blob_open(const char *url, derr *e);

/* Opens a blob to answer a client with: b's open_send, or else its open (an
 * fd). r is filled in full. 0, or -1 with e as for open. */
int blob_open_send(blob_store *b, const char *sha256hex, unsigned flags, blob_reader *r, derr *e);

/* Releases what a reader filled by blob_open_send holds, whatever its kind (a
 * reader not handed to resp_blob, e.g. after a 304); empties it. NULL and an
 * emptied reader are fine. (A reader from `open` has only fd and size: close
 * the fd.) */
void blob_reader_close(blob_reader *r);

/* Reads a blob back through `open` and hashes it: 0 when its bytes hash to sha256hex (and number
 * `size`, when size >= 0); -1 otherwise, with why (the caller's buffer) saying "missing",
 * "unreadable: ...", "content hashes to ..." or "size ..., expected ...". *bytes (when not NULL)
 * gets how many bytes were read. For operators' tools (fsck, backup, migrate-blobs). */
int blob_verify(blob_store *b, const char *sha256hex, int64_t size, uint64_t *bytes, char *why, size_t whylen);

/* Copies one blob from `from` into `to` through a temp file in to's tmp_dir: the bytes are hashed
 * as they are read and must match sha256hex before put_file (which checks again) stores them.
 * 0 copied (or already there: put_file is idempotent); -1 with why filled as for blob_verify, or
 * naming the step that failed. *bytes (when not NULL) gets the size copied. */
int blob_copy_to(blob_store *from, blob_store *to, const char *sha256hex, uint64_t *bytes, char *why, size_t whylen);

/* The backends, for blob_open; callers use blob_open. */
blob_store *blob_file_open(const char *dir, derr *e);
blob_store *blob_s3_open(const char *url, derr *e);

/* blob_call(b, open, hex, &r, e) is b->ops->open(b, hex, &r, e). The GNU `, ##`
 * drops the comma for the ops that take nothing but b (close, tmp_dir). */
#define blob_call(b, op, ...) ((b)->ops->op((b), ##__VA_ARGS__))

#endif
