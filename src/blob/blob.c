/*
 * blob.c — picks the blob store backend from the URL given in the
 * configuration. This is the only place that knows which backends exist;
 * everything else holds a blob_store and calls through its ops.
 */
#include "blob.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/crypto.h"
#include "../lib/xalloc.h"
#include "blob_int.h"

bool blob_key_ok(const char *hex)
{
    if (!hex || strnlen(hex, 65) != 64)
        return false;
    for (size_t i = 0; i < 64; i++) {
        char ch = hex[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
            return false;
    }
    return true;
}

int blob_bad_key(derr *e)
{
    return derr_set(e, 400, "bad_key", "a blob key is 64 lower-case hex characters");
}

int blob_hash_matches(int fd, const char *hex, uint64_t *size)
{
    enum { CHUNK = 64 * 1024 };
    unsigned char *chunk = xmalloc(CHUNK);
    sha256_ctx c;
    sha256_init(&c);
    uint64_t off = 0;
    int rc = -1;
    for (;;) {
        ssize_t n = pread(fd, chunk, CHUNK, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto out;
        if (n == 0)
            break;
        sha256_update(&c, chunk, (size_t)n);
        off += (uint64_t)n;
    }
    unsigned char d[32];
    char got[65];
    sha256_final(&c, d);
    hex_encode(d, sizeof d, got);
    if (size)
        *size = off;
    rc = memcmp(got, hex, 64) == 0;
out:;
    int saved = errno;
    free(chunk);
    errno = saved;
    return rc;
}

/* "file:DIR" → the folder store, "s3://..." → the S3 store. The message names
 * no path: the URL comes from the operator, who already knows it. */
blob_store *blob_open(const char *url, derr *e)
{
    static const char file_prefix[] = "file:";
    if (!url) {
        derr_set(e, 500, "bad_config", "no blob store URL given");
        return NULL;
    }
    if (strncmp(url, file_prefix, sizeof file_prefix - 1) == 0)
        return blob_file_open(url + sizeof file_prefix - 1, e);
    if (strncmp(url, "s3://", 5) == 0)
        return blob_s3_open(url, e);
    derr_set(e, 500, "bad_config", "unknown blob store URL scheme; use file:DIR or s3://BUCKET");
    return NULL;
}

int blob_open_send(blob_store *b, const char *sha256hex, unsigned flags, blob_reader *r, derr *e)
{
    memset(r, 0, sizeof *r);
    r->fd = -1;
    if (b->ops->open_send)
        return b->ops->open_send(b, sha256hex, flags, r, e);
    if (b->ops->open(b, sha256hex, r, e) < 0)
        return -1;
    r->kind = BLOB_READER_FD;
    return 0;
}

void blob_reader_close(blob_reader *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    if (r->stream)
        r->stream->ops->close(r->stream);
    free(r->url);
    memset(r, 0, sizeof *r);
    r->fd = -1;
}

/* Reads fd to its end, hashing, and writing to out when out >= 0; 0, or -1 with why filled. */
static int hash_fd(int fd, int out, char hex[65], uint64_t *total, char *why, size_t whylen)
{
    sha256_ctx c;
    sha256_init(&c);
    unsigned char buf[65536];
    ssize_t n;
    *total = 0;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        sha256_update(&c, buf, (size_t)n);
        *total += (uint64_t)n;
        if (out >= 0 && write(out, buf, (size_t)n) != n) {
            snprintf(why, whylen, "cannot write a temp file: %s", strerror(errno));
            return -1;
        }
    }
    if (n < 0) {
        snprintf(why, whylen, "unreadable: %s", strerror(errno));
        return -1;
    }
    unsigned char sum[32];
    sha256_final(&c, sum);
    hex_encode(sum, 32, hex);
    return 0;
}

/* Opens a blob for the operators' tools: 0, or -1 with why "missing" or the store's message. */
static int open_blob(blob_store *b, const char *sha256hex, blob_reader *r, uint64_t *bytes, char *why,
                     size_t whylen)
{
    derr e;
    if (bytes)
        *bytes = 0;
    if (blob_call(b, open, sha256hex, r, &e) < 0) {
        snprintf(why, whylen, "%s", e.status == 404 ? "missing" : e.message);
        return -1;
    }
    return 0;
}

int blob_verify(blob_store *b, const char *sha256hex, int64_t size, uint64_t *bytes, char *why, size_t whylen)
{
    blob_reader r;
    uint64_t total = 0;
    if (open_blob(b, sha256hex, &r, bytes, why, whylen) < 0)
        return -1;
    char hex[65];
    int rc = hash_fd(r.fd, -1, hex, &total, why, whylen);
    close(r.fd);
    if (bytes)
        *bytes = total;
    if (rc < 0)
        return -1;
    if (strcmp(hex, sha256hex) != 0) {
        snprintf(why, whylen, "content hashes to %s", hex);
        return -1;
    }
    if (size >= 0 && total != (uint64_t)size) {
        snprintf(why, whylen, "size %llu, expected %lld", (unsigned long long)total, (long long)size);
        return -1;
    }
    return 0;
}

int blob_copy_to(blob_store *from, blob_store *to, const char *sha256hex, uint64_t *bytes, char *why, size_t whylen)
{
    derr e;
    blob_reader r;
    uint64_t total = 0;
    if (open_blob(from, sha256hex, &r, bytes, why, whylen) < 0)
        return -1;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s/copy-XXXXXX", to->ops->tmp_dir(to));
    int out = mkostemp(tmp, O_CLOEXEC);
    if (out < 0) {
        snprintf(why, whylen, "cannot create a temp file: %s", strerror(errno));
        close(r.fd);
        return -1;
    }
    char hex[65];
    int rc = hash_fd(r.fd, out, hex, &total, why, whylen);
    close(r.fd);
    if (close(out) < 0 && rc == 0) {
        snprintf(why, whylen, "cannot write a temp file: %s", strerror(errno));
        rc = -1;
    }
    if (rc == 0 && strcmp(hex, sha256hex) != 0) {
        snprintf(why, whylen, "the source's content hashes to %s", hex);
        rc = -1;
    }
    if (rc == 0 && blob_call(to, put_file, sha256hex, tmp, &e) < 0) {
        snprintf(why, whylen, "storing failed: %s", e.message);
        rc = -1;
    }
    unlink(tmp);
    if (bytes)
        *bytes = total;
    return rc;
}
