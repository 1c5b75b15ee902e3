/*
 * arena.c — bump allocator over a chain of blocks, with cleanup hooks.
 *
 * Blocks double in size up to a cap; a request larger than the cap gets a
 * block of its own. Cleanup hooks live in the arena itself.
 */
#include "arena.h"

#include <limits.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define ARENA_ALIGN 16
#define ARENA_DEFAULT 4096
#define ARENA_BLOCK_CAP (1u << 20)

struct block {
    struct block *next;
    size_t size, used;
    alignas(ARENA_ALIGN) unsigned char data[];
};

struct hook {
    struct hook *next;
    void (*fn)(void *);
    void *data;
};

struct arena {
    struct block *head;
    struct hook *hooks, *release; /* release: run by arena_release, or first by arena_free */
    size_t next_size, total;
};

static struct block *block_new(size_t size)
{
    struct block *b = xmalloc(sizeof *b + size);
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

arena *arena_new(size_t first)
{
    arena *a = xmalloc(sizeof *a);
    if (first == 0)
        first = ARENA_DEFAULT;
    a->head = block_new(first);
    a->hooks = NULL;
    a->release = NULL;
    a->next_size = first * 2 > ARENA_BLOCK_CAP ? ARENA_BLOCK_CAP : first * 2;
    a->total = 0;
    return a;
}

void arena_free(arena *a)
{
    if (!a)
        return;
    arena_release(a);
    for (struct hook *h = a->hooks; h; h = h->next)
        h->fn(h->data);
    struct block *b = a->head;
    while (b) {
        struct block *n = b->next;
        free(b);
        b = n;
    }
    free(a);
}

void *arena_alloc(arena *a, size_t n)
{
    size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (need < n)
        xoom();
    struct block *b = a->head;
    if (b->size - b->used < need) {
        if (need > a->next_size / 2) {
            /* A large piece gets its own block, placed behind the current one
             * so the current block keeps serving small pieces. */
            struct block *big = block_new(need);
            big->used = need;
            big->next = b->next;
            b->next = big;
            a->total += need;
            return big->data;
        }
        b = block_new(a->next_size);
        if (a->next_size < ARENA_BLOCK_CAP)
            a->next_size *= 2;
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += need;
    a->total += need;
    return p;
}

void *arena_zalloc(arena *a, size_t n)
{
    void *p = arena_alloc(a, n);
    memset(p, 0, n);
    return p;
}

void *arena_memdup(arena *a, const void *p, size_t n)
{
    void *d = arena_alloc(a, n ? n : 1);
    if (n)
        memcpy(d, p, n);
    return d;
}

void *arena_grow(arena *a, void *arr, int n, int *cap, size_t elem)
{
    if (n < *cap)
        return arr;
    if (*cap > INT_MAX / 2)
        xoom();
    int ncap = *cap ? *cap * 2 : 16;
    void *bigger = arena_alloc(a, (size_t)ncap * elem);
    if (n)
        memcpy(bigger, arr, (size_t)n * elem);
    *cap = ncap;
    return bigger;
}

char *arena_strndup(arena *a, const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *d = arena_alloc(a, n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *arena_strdup(arena *a, const char *s)
{
    return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

char *arena_vprintf(arena *a, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        return arena_strdup(a, "");
    char *d = arena_alloc(a, (size_t)n + 1);
    vsnprintf(d, (size_t)n + 1, fmt, ap);
    return d;
}

char *arena_printf(arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = arena_vprintf(a, fmt, ap);
    va_end(ap);
    return s;
}

/* Puts fn(data) first on a hook list: the lists run last registered first. */
static void push_hook(arena *a, struct hook **list, void (*fn)(void *), void *data)
{
    struct hook *h = arena_alloc(a, sizeof *h);
    h->fn = fn;
    h->data = data;
    h->next = *list;
    *list = h;
}

void arena_on_free(arena *a, void (*fn)(void *), void *data)
{
    push_hook(a, &a->hooks, fn, data);
}

void arena_on_release(arena *a, void (*fn)(void *), void *data)
{
    push_hook(a, &a->release, fn, data);
}

void arena_release(arena *a)
{
    struct hook *h = a->release;
    a->release = NULL; /* each runs once, even should one register another */
    for (; h; h = h->next)
        h->fn(h->data);
}

size_t arena_used(const arena *a)
{
    return a->total;
}
