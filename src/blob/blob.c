/*
 * blob.c — picks the blob store backend from the URL given in the
 * configuration. This is the only place that knows which backends exist;
 * everything else holds a blob_store and calls through its ops.
 */
#include "blob.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
