/*
 * ratelimit.c — the in-memory rate limiter: a hash table split into shards,
 * each with its own lock, so threads rarely wait on each other. Entries from
 * past windows are reused in place or dropped when a shard grows.
 */
#include "ratelimit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/hash.h"
#include "../lib/xalloc.h"

#define SHARDS 64

struct entry {
    struct entry *next;
    int64_t window;
    long count;
    char key[];
};

struct shard {
    pthread_mutex_t mu;
    struct entry **buckets;
    size_t nbuckets, n;
};

typedef struct memrl {
    ratelimit base;
    struct shard shards[SHARDS];
} memrl;

/* Drops entries of past windows; grows the table when it is still crowded. */
static void sweep(struct shard *sh, int64_t window)
{
    for (size_t i = 0; i < sh->nbuckets; i++) {
        struct entry **pp = &sh->buckets[i];
        while (*pp) {
            if ((*pp)->window < window) {
                struct entry *dead = *pp;
                *pp = dead->next;
                free(dead);
                sh->n--;
            } else {
                pp = &(*pp)->next;
            }
        }
    }
    if (sh->n * 2 < sh->nbuckets)
        return;
    size_t nb = sh->nbuckets * 2;
    struct entry **b = xcalloc(nb, sizeof *b);
    for (size_t i = 0; i < sh->nbuckets; i++) {
        struct entry *e = sh->buckets[i];
        while (e) {
            struct entry *next = e->next;
            size_t j = (hash_str(e->key) / SHARDS) % nb;
            e->next = b[j];
            b[j] = e;
            e = next;
        }
    }
    free(sh->buckets);
    sh->buckets = b;
    sh->nbuckets = nb;
}

static void mem_hit(ratelimit *rl, const char *key, long limit, int64_t now, rl_verdict *v)
{
    memrl *m = (memrl *)rl;
    int64_t window = now / RL_WINDOW;
    uint64_t h = hash_str(key);
    struct shard *sh = &m->shards[h % SHARDS];
    pthread_mutex_lock(&sh->mu);
    size_t b = (h / SHARDS) % sh->nbuckets;
    struct entry *e = sh->buckets[b];
    while (e && strcmp(e->key, key) != 0)
        e = e->next;
    if (!e) {
        if (sh->n >= sh->nbuckets) {
            sweep(sh, window);
            b = (h / SHARDS) % sh->nbuckets;
        }
        size_t kl = strlen(key) + 1;
        e = xmalloc(sizeof *e + kl);
        memcpy(e->key, key, kl);
        e->window = window;
        e->count = 0;
        e->next = sh->buckets[b];
        sh->buckets[b] = e;
        sh->n++;
    }
    if (e->window != window) {
        e->window = window;
        e->count = 0;
    }
    bool allowed = e->count < limit;
    if (allowed)
        e->count++;
    long count = e->count;
    pthread_mutex_unlock(&sh->mu);
    v->allowed = allowed;
    v->limit = limit;
    v->remaining = limit - count;
    v->reset = (window + 1) * RL_WINDOW;
}

static void mem_free(ratelimit *rl)
{
    memrl *m = (memrl *)rl;
    if (!m)
        return;
    for (int i = 0; i < SHARDS; i++) {
        struct shard *sh = &m->shards[i];
        for (size_t j = 0; j < sh->nbuckets; j++) {
            struct entry *e = sh->buckets[j];
            while (e) {
                struct entry *n = e->next;
                free(e);
                e = n;
            }
        }
        free(sh->buckets);
        pthread_mutex_destroy(&sh->mu);
    }
    free(m);
}

static const struct ratelimit_ops mem_ops = {mem_hit, mem_free};

ratelimit *ratelimit_memory_new(void)
{
    memrl *m = xcalloc(1, sizeof *m);
    m->base.ops = &mem_ops;
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_init(&m->shards[i].mu, NULL);
        m->shards[i].nbuckets = 64;
        m->shards[i].buckets = xcalloc(64, sizeof(struct entry *));
    }
    return &m->base;
}
