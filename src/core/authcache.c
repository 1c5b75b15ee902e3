/*
 * authcache.c — a fixed-size, lock-striped table of principals keyed by the
 * SHA-256 of the credential. Collisions evict; nothing here allocates on a
 * hit except the strings copied into the caller's arena.
 */
#include "authcache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/xalloc.h"

#define SLOTS 4096
#define STRIPES 64

struct slot {
    unsigned char key[32];
    int64_t until; /* 0: empty */
    int64_t epoch;
    principal p;   /* strings owned by the slot */
};

static struct slot *slots;
static pthread_mutex_t locks[STRIPES];
static long ttl;

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static void clear(struct slot *s)
{
    free((char *)s->p.username);
    free((char *)s->p.scopes);
    free((char *)s->p.jti);
    free((char *)s->p.sid);
    memset(s, 0, sizeof *s);
}

void authcache_init(long ttl_seconds)
{
    ttl = ttl_seconds;
    if (ttl <= 0 || slots)
        return;
    slots = xcalloc(SLOTS, sizeof *slots);
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_init(&locks[i], NULL);
}

void authcache_shutdown(void)
{
    if (!slots)
        return;
    for (int i = 0; i < SLOTS; i++)
        clear(&slots[i]);
    free(slots);
    slots = NULL;
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_destroy(&locks[i]);
}

static unsigned index_of(const unsigned char key[32])
{
    unsigned v;
    memcpy(&v, key, sizeof v);
    return v % SLOTS;
}

bool authcache_on(void)
{
    return slots != NULL;
}

bool authcache_get(const unsigned char key[32], int64_t now, int64_t epoch, arena *a, principal *p)
{
    if (!slots)
        return false;
    unsigned i = index_of(key);
    pthread_mutex_t *mu = &locks[i % STRIPES];
    bool hit = false;
    pthread_mutex_lock(mu);
    struct slot *s = &slots[i];
    if (s->until > now && s->epoch == epoch && memcmp(s->key, key, 32) == 0 &&
        (!s->p.expires_at || s->p.expires_at > now)) {
        *p = s->p;
        p->username = arena_strdup(a, s->p.username);
        p->scopes = arena_strdup(a, s->p.scopes);
        p->jti = arena_strdup(a, s->p.jti);
        p->sid = arena_strdup(a, s->p.sid);
        hit = true;
    }
    pthread_mutex_unlock(mu);
    return hit;
}

void authcache_put(const unsigned char key[32], int64_t now, int64_t epoch, const principal *p)
{
    if (!slots)
        return;
    unsigned i = index_of(key);
    pthread_mutex_t *mu = &locks[i % STRIPES];
    pthread_mutex_lock(mu);
    struct slot *s = &slots[i];
    clear(s);
    memcpy(s->key, key, 32);
    s->p = *p;
    s->p.username = dup_or_null(p->username);
    s->p.scopes = dup_or_null(p->scopes);
    s->p.jti = dup_or_null(p->jti);
    s->p.sid = dup_or_null(p->sid);
    s->until = now + ttl;
    s->epoch = epoch;
    pthread_mutex_unlock(mu);
}

void authcache_forget(const unsigned char key[32])
{
    if (!slots)
        return;
    unsigned i = index_of(key);
    pthread_mutex_t *mu = &locks[i % STRIPES];
    pthread_mutex_lock(mu);
    if (memcmp(slots[i].key, key, 32) == 0)
        clear(&slots[i]);
    pthread_mutex_unlock(mu);
}

void authcache_forget_user(int64_t user_id)
{
    if (!slots)
        return;
    for (int i = 0; i < SLOTS; i++) {
        pthread_mutex_t *mu = &locks[i % STRIPES];
        pthread_mutex_lock(mu);
        if (slots[i].until && slots[i].p.user_id == user_id)
            clear(&slots[i]);
        pthread_mutex_unlock(mu);
    }
}
