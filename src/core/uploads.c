/*
 * uploads.c — staged uploads over the store's upload rows and the blob store.
 */
#include "uploads.h"

#include "../lib/crypto.h"
#include "../lib/timeutil.h"
#include "core_int.h"

int uploads_expire(core *c, derr *e)
{
    int n = 0;
    return store_call(c->st, upload_expire, now_unix(), &n, e) == STORE_OK ? 0 : -1;
}

int uploads_start(core *c, arena *a, int64_t user_id, const char *ecosystem, long ttl, const char *result,
                  upload_row *out, derr *e)
{
    unsigned char rnd[18];
    random_bytes(rnd, sizeof rnd);
    *out = (upload_row){0};
    out->id = b64url_encode(a, rnd, sizeof rnd);
    out->user_id = user_id;
    out->ecosystem = ecosystem;
    out->created_at = now_unix();
    out->expires_at = out->created_at + ttl;
    out->result = result;
    out->failed = result != NULL;
    return store_call(c->st, upload_create, out, e) == STORE_OK ? 0 : -1;
}

int uploads_get(core *c, arena *a, const char *id, upload_row *out, derr *e)
{
    int rc = store_call(c->st, upload_get, a, id, out, e);
    if (rc == STORE_NOT_FOUND)
        return derr_set(e, 404, "not_found", "no upload %s", id);
    return rc == STORE_OK ? 0 : -1;
}

int uploads_finish(core *c, upload_row *u, const char *result, bool failed, derr *e)
{
    u->result = result;
    u->failed = failed;
    return store_call(c->st, upload_update, u, e) == STORE_OK ? 0 : -1;
}

int uploads_store(core *c, arena *a, upload_row *u, const char *path, const unsigned char sha256[32],
                  uint64_t size, derr *e)
{
    char hex[65];
    hex_encode(sha256, 32, hex);
    if (blob_call(c->blobs, put_file, hex, path, e) < 0)
        return -1;
    u->sha256 = arena_strdup(a, hex);
    u->size = (int64_t)size;
    return store_call(c->st, upload_update, u, e) == STORE_OK ? 0 : -1;
}

int uploads_open(core *c, const upload_row *u, content_reader *r, derr *e)
{
    return core_blob_read(c, u->sha256, r, e);
}
