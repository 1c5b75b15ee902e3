/*
 * url.h — percent-encoding (RFC 3986 §2.1), one contract for every place
 * that reads or writes it: request paths and query strings, form bodies,
 * the options of the S3 and Redis URLs, links the fronts print.
 *
 * Decoding is strict: "%" must be followed by two hex digits (either case),
 * and the result must be a C string, so an escaped NUL ("%00") or a raw NUL
 * byte in the input is refused. Nothing else is checked: the decoded bytes
 * need not be UTF-8 (callers that need text check with utf8_valid).
 * Encoding keeps the unreserved characters (letters, digits, "-._~") and
 * writes every other byte as "%XX" with upper-case hex digits.
 */
#ifndef DEPOT_URL_H
#define DEPOT_URL_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "buf.h"

/* Percent-decodes s[0..n) into a NUL-terminated string allocated in a; '+'
 * becomes a space when plus_space (query strings and form bodies), else it
 * stays a '+'. NULL on a malformed escape, an escaped NUL or a raw NUL. */
char *url_decode(arena *a, const char *s, size_t n, bool plus_space);

/* The same, into memory from malloc that the caller frees (for values that
 * outlive any request, such as the options of a configuration URL). */
char *url_decode_dup(const char *s, size_t n, bool plus_space);

/* Percent-encodes the C string s into the arena; the bytes of keep (NULL
 * for none: "/" keeps path separators, "@" npm scopes) stay as they are
 * besides the unreserved ones. Never NULL. */
char *url_encode(arena *a, const char *s, const char *keep);

/* The same, appended to out; 0, or -1 when out would pass its cap. */
int url_encode_buf(buf *out, const char *s, const char *keep);

#endif
