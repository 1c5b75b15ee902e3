/*
 * ratelimit.c — the token-bucket algorithm (GCRA, see ratelimit.h) and the
 * in-memory limiter: a hash table of TATs split into shards, each with its own
 * lock, so threads rarely wait on each other. A bucket that is full again is
 * the same as no bucket, so such entries are dropped when a shard grows.
 */
#include "ratelimit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "xalloc.h"

#define SHARDS 64

struct entry {
    struct entry *next;
    int64_t tat; /* ms; the bucket is full from then on */
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

rl_rule rl_rule_per_hour(long per_hour, long burst)
{
    rl_rule r = {0, burst};
    if (per_hour > 0 && burst > 0)
        r.interval_ms = per_hour >= 3600000 ? 1 : 3600000 / per_hour;
    return r;
}

bool rl_gcra(int64_t *tat, int64_t now_ms, const rl_rule *r, bool dry)
{
    int64_t from = *tat > now_ms ? *tat : now_ms;
    bool allowed = from + r->interval_ms - now_ms <= r->burst * r->interval_ms;
    if (allowed && !dry)
        *tat = from + r->interval_ms;
    else
        *tat = from;
    return allowed;
}

/* Seconds in ms, rounded up. */
static int64_t ceil_s(int64_t ms)
{
    return ms <= 0 ? 0 : (ms + 999) / 1000;
}

void rl_fill(rl_verdict *v, bool allowed, int64_t tat, int64_t now_ms, const rl_rule *r)
{
    int64_t ahead = tat > now_ms ? tat - now_ms : 0;
    int64_t room = r->burst * r->interval_ms - ahead;
    v->allowed = allowed;
    v->limit = r->burst;
    v->remaining = room > 0 ? (long)(room / r->interval_ms) : 0;
    v->reset = ceil_s(tat > now_ms ? tat : now_ms);
    v->retry_after = 0;
    if (!allowed) {
        int64_t wait = ahead + r->interval_ms - r->burst * r->interval_ms;
        v->retry_after = wait > 0 ? ceil_s(wait) : 1;
    }
}

/* Drops the entries of full buckets; grows the table when it is still crowded. */
static void sweep(struct shard *sh, int64_t now_ms)
{
    for (size_t i = 0; i < sh->nbuckets; i++) {
        struct entry **pp = &sh->buckets[i];
        while (*pp) {
            if ((*pp)->tat <= now_ms) {
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

/* Where key's entry is linked from in sh (locked): *result is the entry, or NULL at the end of
 * its chain, where a new one goes. */
static struct entry **find(struct shard *sh, uint64_t h, const char *key)
{
    struct entry **pp = &sh->buckets[(h / SHARDS) % sh->nbuckets];
    while (*pp && strcmp((*pp)->key, key) != 0)
        pp = &(*pp)->next;
    return pp;
}

static void mem_take(ratelimit *rl, const char *key, const rl_rule *rule, int64_t now_ms, bool dry, rl_verdict *v)
{
    memrl *m = (memrl *)rl;
    uint64_t h = hash_str(key);
    struct shard *sh = &m->shards[h % SHARDS];
    pthread_mutex_lock(&sh->mu);
    struct entry **pp = find(sh, h, key);
    int64_t tat = *pp ? (*pp)->tat : 0;
    bool allowed = rl_gcra(&tat, now_ms, rule, dry);
    if (*pp) {
        (*pp)->tat = tat;
    } else if (tat > now_ms) {
        if (sh->n >= sh->nbuckets) {
            sweep(sh, now_ms);
            pp = find(sh, h, key);
        }
        size_t kl = strlen(key) + 1;
        struct entry *e = xmalloc(sizeof *e + kl);
        memcpy(e->key, key, kl);
        e->tat = tat;
        e->next = NULL;
        *pp = e;
        sh->n++;
    }
    pthread_mutex_unlock(&sh->mu);
    rl_fill(v, allowed, tat, now_ms, rule);
}

static void mem_forget(ratelimit *rl, const char *key)
{
    memrl *m = (memrl *)rl;
    uint64_t h = hash_str(key);
    struct shard *sh = &m->shards[h % SHARDS];
    pthread_mutex_lock(&sh->mu);
    struct entry **pp = find(sh, h, key);
    if (*pp) {
        struct entry *dead = *pp;
        *pp = dead->next;
        free(dead);
        sh->n--;
    }
    pthread_mutex_unlock(&sh->mu);
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

static const struct ratelimit_ops mem_ops = {mem_take, mem_forget, mem_free};

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
