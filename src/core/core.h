/*
 * core.h — the registry's shared context: settings, the store, the blob
 * store and the session-token key. One per process, shared by every thread;
 * everything in it is read-only after core_open.
 *
 * Outside core/ (and the command-line tools in cli/, which open one) a core
 * is opaque: fronts and http reach the store and the blob store only through
 * core's functions, and read the little else they need through the accessors
 * below. core_int.h holds the layout.
 */
#ifndef DEPOT_CORE_H
#define DEPOT_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../lib/err.h"
#include "config.h"
#include "types.h"

typedef struct core core;

/* Creates the data folder if needed, opens the store (applying migrations)
 * and the blob store, and loads or makes the JWT secret. */
int core_open(core *c, const config *cfg, derr *e);
void core_close(core *c);

/* Writes an audit event; failures are logged, never fatal to the caller. */
void core_audit(core *c, int64_t user_id, const char *action, const char *target, const char *detail,
                const char *ip);

/* The settings core was opened with (borrowed, read-only). */
const config *core_config(const core *c);
/* A folder for uploads on the blob store's file system, so storing them is a rename (borrowed). */
const char *core_tmp_dir(core *c);
/* Does reaching stored bytes wait on the network (S3)? Then such work belongs on a worker. */
bool core_remote_blobs(const core *c);
/* The store backend's name ("sqlite", "postgres"), for the admin page. */
const char *core_store_name(const core *c);
/* HMAC-SHA-256 of msg under the server's session key (for tokens that only this server makes
 * and checks, such as an anonymous form's CSRF token). */
void core_mac(const core *c, const void *msg, size_t n, unsigned char out[32]);

/* For /health and the admin page: does the metadata store answer (*meta_ok), and can the blob
 * store be written (*bytes_ok)? */
void core_health(core *c, bool *meta_ok, bool *bytes_ok);

#endif
