/*
 * documents.h — the read cache: documents that clients fetch to resolve
 * dependencies, built once after a write and then served as bytes.
 *
 * An entry is keyed by a string (ecosystem, kind and package name) and
 * stamped with the package's generation. A reader asks the store for the
 * current generation (one indexed lookup) and gets the cached bytes when
 * the stamp matches; otherwise the builder runs and its result replaces the
 * entry. Every server sharing a store sees a write on its next read, since
 * the write bumps the generation in its own transaction.
 *
 * Each entry keeps a gzip variant and a strong ETag (SHA-256 of the bytes).
 */
#ifndef DEPOT_DOCUMENTS_H
#define DEPOT_DOCUMENTS_H

#include <stddef.h>
#include <stdint.h>

#include "../lib/arena.h"
#include "../lib/err.h"

typedef struct cdoc {
    const char *data; /* the bytes; valid while the caller holds the reference */
    size_t len;
    const char *gz;   /* gzip of data (NULL when it would not be smaller) */
    size_t gzlen;
    char etag[70];    /* "\"<hex>\"" */
    const char *content_type;
} cdoc;

/* Builds the document for key at generation gen into *text and *len (malloc'd,
 * ownership passes to the cache) and sets its content type (static). */
typedef int (*doc_builder)(void *ctx, arena *a, char **text, size_t *len, const char **ctype, derr *e);

typedef struct doc_ref doc_ref;

/* The usual end of a builder: doc (taken) rendered as compact JSON into *text and *len (malloc'd,
 * as a builder hands them on), *ctype set to type (static). 500 when it cannot be rendered. */
struct json_t;
int documents_json(struct json_t *doc, const char *type, char **text, size_t *len, const char **ctype,
                   derr *e);

/* max_bytes: the cache's budget (0: the default, 64 MiB). Entries are counted
 * with their gzip variant, key and bookkeeping; a document larger than the
 * whole budget is served but not kept. */
void documents_init(size_t max_bytes);
/* What the cache holds now, for /metrics. */
void documents_stats(size_t *bytes, size_t *entries, size_t *max_bytes);
void documents_shutdown(void);

/* The cached document for key at generation gen, or the builder's fresh one.
 * Returns a reference the caller must release (documents_release) after the
 * response is sent; NULL with e filled when the builder fails. */
doc_ref *documents_get(const char *key, int64_t gen, doc_builder build, void *ctx, arena *a, const cdoc **out,
                       derr *e);
void documents_release(doc_ref *r);

/* Drops every entry whose key starts with prefix (tests, admin). */
void documents_forget(const char *prefix);

#endif
