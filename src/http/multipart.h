/*
 * multipart.h — multipart/form-data (RFC 7578) bodies read from a file.
 *
 * An upload route gets its body streamed to a temp file (req->body_fd); a
 * front that takes form uploads (a tarball beside a few fields) turns that
 * file into parts here. The body is read in fixed-size chunks and never held
 * whole: small fields are kept in memory, parts that carry a filename go to
 * temp files of their own, each with its size and SHA-256. Memory stays
 * bounded by the limits: about one chunk plus one part header, plus at most
 * max_parts fields of max_field bytes.
 *
 * Strict where real clients (curl, browsers, language HTTP libraries) are
 * consistent: delimiters and header lines end in CRLF, every part has a
 * Content-Disposition of form-data with a name. Lenient where RFC 2046 asks
 * it: a preamble and an epilogue are skipped, white space after a boundary
 * is allowed, and a "--boundary" in the content that is not followed by
 * CRLF, "--" or white space is content, not a delimiter.
 */
#ifndef DEPOT_MULTIPART_H
#define DEPOT_MULTIPART_H

#include <stddef.h>
#include <stdint.h>

#include "../lib/arena.h"
#include "../lib/err.h"

typedef struct mp_part {
    const char *name;         /* from Content-Disposition; never NULL */
    const char *filename;     /* NULL when absent; present (even "") makes a file part */
    const char *content_type; /* the part's Content-Type as sent, or NULL */
    /* Fields (no filename): the content in the arena, NUL-terminated
     * (len does not count the NUL). NULL for file parts. */
    const char *value;
    size_t len;
    /* File parts: a temp file in tmp_dir, fd open for reading at offset 0.
     * NULL / -1 for fields. The arena's cleanup closes fd unless it is -1
     * and unlinks path unless it is NULL: a caller that keeps the file (say,
     * renames it into the blob store) sets path to NULL, and fd to -1 if it
     * keeps the descriptor too. */
    const char *path;
    int fd;
    uint64_t size;            /* bytes of content, for fields too */
    unsigned char sha256[32]; /* of the content, for fields too */
} mp_part;

typedef struct mp_limits {
    size_t max_parts;  /* parts in the body; 0: 64 */
    size_t max_field;  /* bytes of one field; 0: 64 KiB */
    uint64_t max_file; /* bytes of one file part; 0: 1 GiB */
    size_t max_header; /* bytes of one part's header block; 0: 8 KiB */
} mp_limits;

/* Parses the body in fd (len bytes from offset 0, read with pread so the
 * fd's position does not matter) with the boundary named in content_type
 * (the request's Content-Type header). lim may be NULL for the defaults.
 *
 * Returns 0 with *parts an arena array of *n parts in body order, or -1 with
 * e filled and no temp file left behind:
 *   415 unsupported_media_type  content_type is not multipart/form-data
 *   400 bad_request             no or malformed boundary, no delimiter in the
 *                               body, missing closing delimiter, a malformed or
 *                               too long part header, no Content-Disposition
 *                               or name, too many parts
 *   413 payload_too_large       a field over max_field, a file over max_file
 *   500 internal                the body file could not be read or a temp
 *                               file not written (the detail goes to errno,
 *                               not to the message)
 * Messages name the part ("part 2 ('tarball'): ..."). */
int multipart_parse(arena *a, int fd, uint64_t len, const char *content_type, const char *tmp_dir,
                    const mp_limits *lim, mp_part **parts, int *n, derr *e);

/* The request's body as multipart/form-data (its Content-Type as sent): file parts spooled in
 * core's upload folder and capped by --max-upload, at most max_parts parts, fields of at most
 * max_field bytes. As multipart_parse (request.c). */
struct req;
int multipart_request(struct req *r, size_t max_parts, size_t max_field, mp_part **parts, int *n, derr *e);

/* The first part called name, or NULL. */
const mp_part *multipart_get(const mp_part *parts, int n, const char *name);

/* For tests: the read size, 64 KiB by default; 0 restores it. Not thread-safe. */
void multipart_set_chunk_size(size_t n);

#endif
