/*
 * arena.h — a per-request memory pool.
 *
 * Every request owns one arena. Handlers allocate from it freely and free
 * nothing by hand; the whole pool goes in one call when the response is done.
 * Resources that are not memory (file descriptors, temp files) are released
 * through cleanup hooks registered on the arena, run in reverse order of
 * registration before the memory goes.
 *
 * Out of memory aborts the process: arena blocks are small internal
 * allocations. Anything a client can grow must be capped by the caller first.
 */
#ifndef DEPOT_ARENA_H
#define DEPOT_ARENA_H

#include <stdarg.h>
#include <stddef.h>

typedef struct arena arena;

/* A new arena whose first block holds at least `first` bytes (0: a default). */
arena *arena_new(size_t first);

/* Runs the cleanup hooks (last registered first) and frees every block. NULL is fine. */
void arena_free(arena *a);

/* `n` bytes aligned for any type; never NULL. Memory is not zeroed. */
void *arena_alloc(arena *a, size_t n);

/* `n` zeroed bytes. */
void *arena_zalloc(arena *a, size_t n);

/* Copies into the arena. NULL in gives NULL out. The result is NUL-terminated. */
char *arena_strdup(arena *a, const char *s);
char *arena_strndup(arena *a, const char *s, size_t n);
void *arena_memdup(arena *a, const void *p, size_t n);

/* An arena array `arr` of n elements of `elem` bytes, with room for *cap, made
 * to hold one more: arr itself when n < *cap, else a copy with twice the room
 * (16 at first) and *cap updated. The old array is left to the arena. */
void *arena_grow(arena *a, void *arr, int n, int *cap, size_t elem);

/* printf into the arena. */
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *arena_vprintf(arena *a, const char *fmt, va_list ap);

/* Registers fn(data) to run when the arena is freed. */
void arena_on_free(arena *a, void (*fn)(void *), void *data);

/* Registers fn(data) to run at arena_release, or else first thing at arena_free: for what must
 * be gone by the time the client reads the answer, such as a request's temp files (the server
 * releases a request's arena just before it queues the response, which may still point into
 * the arena's memory). */
void arena_on_release(arena *a, void (*fn)(void *), void *data);

/* Runs the release hooks now (last registered first), each once. */
void arena_release(arena *a);

/* Bytes handed out so far (for tests and metrics). */
size_t arena_used(const arena *a);

#endif
