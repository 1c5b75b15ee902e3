/*
 * uploads.h — staged uploads: the bytes of a package arrive first and are
 * stored as a blob, the publish is confirmed later (pub's three-step flow).
 * An upload row is a random capability bound to the user who started it,
 * open for --upload-ttl; it keeps the answer of its finalize, so a finalize
 * again answers the same. The publish itself goes through packages_publish
 * with the staged blob (publish_in.stored_sha256): the bytes are never copied
 * back out.
 */
#ifndef DEPOT_UPLOADS_H
#define DEPOT_UPLOADS_H

#include <stdint.h>

#include "core.h"

/* Deletes uploads whose time has passed (best effort: the caller may only log a failure). */
int uploads_expire(core *c, derr *e);
/* Starts an upload for user_id in the ecosystem, open for ttl seconds. With a result it is
 * finished from the start, as a failure saying `result` (an upload refused before it was known).
 * out is filled (strings in the arena). */
int uploads_start(core *c, arena *a, int64_t user_id, const char *ecosystem, long ttl, const char *result,
                  upload_row *out, derr *e);
/* The upload by id; 404 when unknown (expired rows may still be found: check expires_at). */
int uploads_get(core *c, arena *a, const char *id, upload_row *out, derr *e);
/* Keeps u's result and failed flag (the answer of its finalize). */
int uploads_finish(core *c, upload_row *u, const char *result, bool failed, derr *e);
/* Stores the bytes at path (a complete temp file with this SHA-256 and size; the blob store may
 * take it, the caller still unlinks the path, ignoring ENOENT) and records them in u, replacing
 * what an earlier attempt stored. */
int uploads_store(core *c, arena *a, upload_row *u, const char *path, const unsigned char sha256[32],
                  uint64_t size, derr *e);
/* Opens the staged bytes for reading: r->fd is the caller's to close, r->size their length. */
int uploads_open(core *c, const upload_row *u, content_reader *r, derr *e);

#endif
