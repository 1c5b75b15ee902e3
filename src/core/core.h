/*
 * core.h — the registry's shared context: settings, the store, the blob
 * store and the session-token key. One per process, shared by every thread;
 * everything in it is read-only after core_open.
 */
#ifndef DEPOT_CORE_H
#define DEPOT_CORE_H

#include <stddef.h>

#include "../blob/blob.h"
#include "../lib/err.h"
#include "../store/store.h"
#include "config.h"

typedef struct core {
    const config *cfg;
    store *st;
    blob_store *blobs;
    unsigned char jwt_key[64];
    size_t jwt_keylen;
} core;

/* Creates the data folder if needed, opens the store (applying migrations)
 * and the blob store, and loads or makes the JWT secret. */
int core_open(core *c, const config *cfg, derr *e);
void core_close(core *c);

/* Writes an audit event; failures are logged, never fatal to the caller. */
void core_audit(core *c, int64_t user_id, const char *action, const char *target, const char *detail,
                const char *ip);

#endif
