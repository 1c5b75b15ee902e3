/*
 * pubdoc.h — reading the document npm PUTs to /npm/NAME without holding its
 * tarballs in memory.
 *
 * A publish body is JSON: the package.json of the new version under
 * `versions`, the dist-tag under `dist-tags`, and the tarball itself as a
 * base64 string under `_attachments.<file>.data` — most of the body's bytes.
 * npm_doc_parse walks the raw bytes once with a strict JSON scanner, notes
 * where each attachment's `data` string lies, and hands jansson the document
 * with those strings emptied, so only the small remainder is parsed into
 * memory (capped by max_doc). npm_b64_decode_fd then decodes one `data`
 * string straight from the body into a file, in fixed-size pieces, with the
 * sums npm's integrity fields need.
 *
 * The same parser reads the whole-document PUTs of `npm deprecate`,
 * `npm unpublish` and `npm owner`, whose `_attachments` are empty.
 */
#ifndef DEPOT_NPM_PUBDOC_H
#define DEPOT_NPM_PUBDOC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../lib/arena.h"
#include "../lib/err.h"

#define NPM_MAX_ATTACHMENTS 16
#define NPM_MAX_DEPTH 128

typedef struct npm_att {
    const char *name; /* the key under _attachments (borrowed from doc) */
    json_t *obj;      /* its object in doc (borrowed; `data` is "" when has_data) */
    bool has_data;    /* a `data` string was found and cut out */
    size_t data_off;  /* where its text starts in the body (after the opening quote) */
    size_t data_len;  /* its length in bytes, JSON escapes as sent */
} npm_att;

typedef struct npm_doc {
    json_t *doc; /* the document without attachment data; freed with the arena */
    int natt;
    npm_att att[NPM_MAX_ATTACHMENTS];
} npm_doc;

/* Parses the body p[0..n) (borrowed; it must stay mapped while the spans are used). The body
 * must be one JSON object; at most NPM_MAX_DEPTH levels deep, NPM_MAX_ATTACHMENTS
 * attachments, and max_doc bytes once the attachment data is cut out. Duplicate keys are
 * refused. Returns 0, or -1 with e: 400 bad_request (malformed, too deep, an attachment's data
 * not a plain string), 413 payload_too_large (over max_doc). */
int npm_doc_parse(arena *a, const char *p, size_t n, size_t max_doc, npm_doc *out, derr *e);

typedef struct npm_sums {
    uint64_t size;
    unsigned char sha1[20];
    unsigned char sha256[32];
    unsigned char sha512[64];
} npm_sums;

/* Decodes the standard base64 text p[0..n) — the raw inside of a JSON string, so the escapes
 * "\/" (a '/'), "\n" and "\r" (skipped) are understood — into fd, writing at most max bytes,
 * and fills out with the decoded size and its SHA-1, SHA-256 and SHA-512. Padding is optional
 * at the end and refused elsewhere. Returns 0, or -1 with e: 400 bad_request (not base64),
 * 413 payload_too_large (over max), 500 internal (a write failed). */
int npm_b64_decode_fd(const char *p, size_t n, int fd, uint64_t max, npm_sums *out, derr *e);

#endif
