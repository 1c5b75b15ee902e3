/*
 * err.h — the one error idiom.
 *
 * A function that can fail returns 0 on success and a negative value on
 * failure, and fills the `derr` its caller passed (which may be NULL when the
 * caller does not care). A `derr` carries what a client needs: an HTTP status,
 * a stable machine code, and a message a person understands. It never carries
 * SQL text, paths of this machine, or a stack: those go to the log.
 */
#ifndef DEPOT_ERR_H
#define DEPOT_ERR_H

#include <stddef.h>

typedef struct derr {
    int status;         /* HTTP status to answer with: 400, 401, 404, 409, 500 ... */
    const char *code;   /* stable machine code: "not_found", "conflict", ... (static) */
    char message[256];  /* for a person */
    long retry_after;   /* seconds a refused client should wait (a 429's Retry-After); 0: none */
} derr;

/* Fills e (if not NULL; retry_after becomes 0) and returns -1, so `return derr_set(...)` reads well. */
int derr_set(derr *e, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* For a failed write to local storage (a temp file, the blob folder), by its
 * errno: ENOSPC, EDQUOT are 507 "insufficient_storage" ("<what> is out of
 * space"); EROFS, EIO are 503 "unavailable" (the file system refuses writes
 * for now); anything else is 500 "internal". `what` names the storage for a
 * person, without a path ("the blob store"). Returns -1. */
int derr_storage(derr *e, int errnum, const char *what);

/* Client text as a message may show it: the first max bytes of s[0..n)
 * (then "..." when there were more), anything but printable ASCII as '?'
 * (messages go into JSON, which wants UTF-8, and into logs). Writes into
 * out, which holds max + 4 bytes, and returns it. */
char *derr_clip(char *out, const char *s, size_t n, size_t max);

/* Clears e. */
void derr_clear(derr *e);

#endif
