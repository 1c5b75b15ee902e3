/*
 * docs.h — hosted documentation sites, for every ecosystem.
 *
 * A docs archive (.tar.gz) uploaded for a version is unpacked safely (no
 * absolute paths, '..', links or special files; caps on entries, bytes and
 * compression ratio), each file stored as a blob, and the site recorded in
 * the store; the archive itself is kept too (Hex serves it back). Sites are
 * served read-only under /docs/{ecosystem}/{name}/{version}/... (src/docs).
 */
#ifndef DEPOT_DOCS_H
#define DEPOT_DOCS_H

#include <stdint.h>

#include "../blob/blob.h"
#include "auth.h"
#include "core.h"

/* Publishes (or replaces) the docs of an existing version; owners only (with publish scope).
 * archive_path is a complete temp file whose SHA-256 is sha256; the blob store may take it. */
int docs_publish(core *c, arena *a, const principal *who, const char *ecosystem, const char *name,
                 const char *version, const char *archive_path, const unsigned char sha256[32], uint64_t size,
                 const char *ip, derr *e);
/* Removes a version's docs; owners only. 404 when there are none. */
int docs_remove(core *c, arena *a, const principal *who, const char *ecosystem, const char *name,
                const char *version, const char *ip, derr *e);
/* Opens one file of a site for sending; *ctype is its content type (static). 404 when absent.
 * An empty path or one ending in '/' means its index.html. */
int docs_open(core *c, arena *a, const char *ecosystem, const char *name, const char *version, const char *path,
              blob_reader *r, const char **ctype, derr *e);
/* Opens the uploaded archive of a version's docs (Hex serves /docs/NAME-VERSION.tar.gz). */
int docs_open_archive(core *c, arena *a, const char *ecosystem, const char *name, const char *version,
                      blob_reader *r, derr *e);
/* The newest version that has docs (404 when none). */
int docs_latest(core *c, arena *a, const char *ecosystem, const char *name, const char **version, derr *e);

#endif
