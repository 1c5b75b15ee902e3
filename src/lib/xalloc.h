/*
 * xalloc.h — allocation for small internal objects: out of memory is fatal.
 * Anything a client can grow is capped by its caller before it gets here.
 */
#ifndef DEPOT_XALLOC_H
#define DEPOT_XALLOC_H

#include <stddef.h>

_Noreturn void xoom(void);
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

#endif
