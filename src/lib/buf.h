/*
 * buf.h — a growable byte buffer with a hard cap.
 *
 * Used where a size is not known up front (a request body before it spills to
 * disk, a rendered document). Appending past the cap fails instead of growing,
 * so a client can never make one grow without bound. The data is always kept
 * NUL-terminated for convenience; `len` does not count the NUL.
 */
#ifndef DEPOT_BUF_H
#define DEPOT_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct buf {
    char *data;
    size_t len, cap, max;
} buf;

/* An empty buffer that refuses to hold more than `max` bytes (0: no cap). */
void buf_init(buf *b, size_t max);
/* Frees the data; the buffer is empty and reusable after. NULL is fine. */
void buf_free(buf *b);
/* Appends; returns 0, or -1 when the cap would be passed (nothing appended). */
int buf_append(buf *b, const void *p, size_t n);
int buf_puts(buf *b, const char *s);
int buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drops the contents, keeps the memory. */
void buf_reset(buf *b);

#endif
