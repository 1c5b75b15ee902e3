/*
 * blob.c — picks the blob store backend from the URL given in the
 * configuration. This is the only place that knows which backends exist;
 * everything else holds a blob_store and calls through its ops.
 */
#include "blob.h"

#include <string.h>

/* "file:DIR" → the folder store. "s3://..." is reserved for the S3 store that
 * is not written yet. The message names no path: the URL comes from the
 * operator, who already knows it. */
blob_store *blob_open(const char *url, derr *e)
{
    static const char file_prefix[] = "file:";
    if (!url) {
        derr_set(e, 500, "bad_config", "no blob store URL given");
        return NULL;
    }
    if (strncmp(url, file_prefix, sizeof file_prefix - 1) == 0)
        return blob_file_open(url + sizeof file_prefix - 1, e);
    if (strncmp(url, "s3://", 5) == 0) {
        derr_set(e, 500, "bad_config", "the S3 blob store is not supported yet; use file:DIR");
        return NULL;
    }
    derr_set(e, 500, "bad_config", "unknown blob store URL scheme; use file:DIR");
    return NULL;
}
