/*
 * core_int.h — the layout of struct core, for core/ itself and for the
 * command-line tools (cli/) that open one and work on the store directly
 * (fsck, backup, migrations, admin). Fronts and http never include it.
 */
#ifndef DEPOT_CORE_INT_H
#define DEPOT_CORE_INT_H

#include "../blob/blob.h"
#include "../lib/ratelimit.h"
#include "../store/store.h"
#include "core.h"

struct core {
    const config *cfg;
    store *st;
    blob_store *blobs;
    unsigned char jwt_key[64];
    size_t jwt_keylen;
    ratelimit *limiter; /* the server's, for the account lock (lockout.h); NULL: none */
};

/* Ends a change that the store answered with rc: STORE_NOT_FOUND is a 404 saying missing (NULL:
 * the store's own error stays), any other failure stays as the store said; on success, the audit
 * entry of user_id (action, subject, detail, ip). 0 or -1. */
int change_done(core *c, int rc, const char *missing, int64_t user_id, const char *action,
                const char *subject, const char *detail, const char *ip, derr *e);

/* Opens the stored blob sha256 (hex) for reading into r, which it clears first (the blob store's
 * open fills only the descriptor and size, and blob_reader_close reads every field). 0, or -1
 * with e filled (404 when absent). */
int core_blob_read(core *c, const char *sha256, blob_reader *r, derr *e);

#endif
