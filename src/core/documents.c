/*
 * documents.c — a byte-budgeted hash map of reference-counted documents.
 *
 * Readers take a reference under the lock and serve the bytes after
 * releasing it, so a replacement never frees bytes still being sent.
 * When the budget is passed, the least recently used entries go.
 */
#include "documents.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../lib/crypto.h"
#include "../lib/hash.h"
#include "../lib/xalloc.h"

struct doc_ref {
    atomic_int refs;
    cdoc d;
    char *owned_data;
    char *owned_gz;
};

struct entry {
    struct entry *next;        /* bucket chain */
    struct entry *lru_prev, *lru_next;
    char *key;
    int64_t gen;
    struct doc_ref *ref;
    size_t bytes;
};

#define NBUCKETS 4096

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct entry *buckets[NBUCKETS];
static struct entry *lru_head, *lru_tail; /* head: most recent */
static size_t total, count, budget = 64u << 20;

void documents_init(size_t max_bytes)
{
    if (max_bytes)
        budget = max_bytes;
}

void documents_stats(size_t *bytes, size_t *entries, size_t *max_bytes)
{
    pthread_mutex_lock(&mu);
    *bytes = total;
    *entries = count;
    *max_bytes = budget;
    pthread_mutex_unlock(&mu);
}

void documents_release(doc_ref *r)
{
    if (!r)
        return;
    if (atomic_fetch_sub(&r->refs, 1) == 1) {
        free(r->owned_data);
        free(r->owned_gz);
        free(r);
    }
}

static void lru_unlink(struct entry *e)
{
    if (e->lru_prev)
        e->lru_prev->lru_next = e->lru_next;
    else
        lru_head = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else
        lru_tail = e->lru_prev;
    e->lru_prev = e->lru_next = NULL;
}

static void lru_front(struct entry *e)
{
    e->lru_next = lru_head;
    e->lru_prev = NULL;
    if (lru_head)
        lru_head->lru_prev = e;
    lru_head = e;
    if (!lru_tail)
        lru_tail = e;
}

static void drop(struct entry *e)
{
    struct entry **pp = &buckets[hash_str(e->key) % NBUCKETS];
    while (*pp && *pp != e)
        pp = &(*pp)->next;
    if (*pp)
        *pp = e->next;
    lru_unlink(e);
    total -= e->bytes;
    count--;
    documents_release(e->ref);
    free(e->key);
    free(e);
}

static char *gzip_bytes(const char *p, size_t n, size_t *outlen)
{
    z_stream z = {0};
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    size_t cap = deflateBound(&z, n) + 32;
    char *out = xmalloc(cap);
    z.next_in = (Bytef *)p;
    z.avail_in = (uInt)n;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    deflateEnd(&z);
    if (rc != Z_STREAM_END || z.total_out >= n) {
        free(out);
        return NULL;
    }
    *outlen = z.total_out;
    return out;
}

doc_ref *documents_get(const char *key, int64_t gen, doc_builder build, void *ctx, arena *a, const cdoc **out,
                       derr *e)
{
    uint64_t h = hash_str(key) % NBUCKETS;
    pthread_mutex_lock(&mu);
    for (struct entry *en = buckets[h]; en; en = en->next) {
        if (strcmp(en->key, key) == 0 && en->gen == gen) {
            atomic_fetch_add(&en->ref->refs, 1);
            lru_unlink(en);
            lru_front(en);
            doc_ref *r = en->ref;
            pthread_mutex_unlock(&mu);
            *out = &r->d;
            return r;
        }
    }
    pthread_mutex_unlock(&mu);

    /* Build outside the lock: two threads may build the same document at
     * once; the second simply replaces the first. */
    char *text = NULL;
    size_t len = 0;
    const char *ctype = "application/json";
    if (build(ctx, a, &text, &len, &ctype, e) < 0)
        return NULL;
    doc_ref *r = xcalloc(1, sizeof *r);
    atomic_init(&r->refs, 2); /* the cache's and the caller's */
    r->owned_data = text;
    r->d.data = text;
    r->d.len = len;
    r->d.content_type = ctype;
    r->owned_gz = len >= 512 ? gzip_bytes(text, len, &r->d.gzlen) : NULL;
    r->d.gz = r->owned_gz;
    unsigned char sum[32];
    sha256(text, len, sum);
    char hex[65];
    hex_encode(sum, 16, hex);
    snprintf(r->d.etag, sizeof r->d.etag, "\"%s\"", hex);

    struct entry *ne = xcalloc(1, sizeof *ne);
    ne->key = xstrdup(key);
    ne->gen = gen;
    ne->ref = r;
    ne->bytes = len + r->d.gzlen + strlen(key) + sizeof *ne + sizeof *r;

    pthread_mutex_lock(&mu);
    for (struct entry *en = buckets[h]; en; en = en->next)
        if (strcmp(en->key, key) == 0) {
            drop(en);
            break;
        }
    if (ne->bytes > budget) {
        /* larger than the whole budget: served this once, never kept */
        pthread_mutex_unlock(&mu);
        atomic_fetch_sub(&r->refs, 1);
        free(ne->key);
        free(ne);
        *out = &r->d;
        return r;
    }
    ne->next = buckets[h];
    buckets[h] = ne;
    lru_front(ne);
    total += ne->bytes;
    count++;
    while (total > budget && lru_tail && lru_tail != ne)
        drop(lru_tail);
    pthread_mutex_unlock(&mu);
    *out = &r->d;
    return r;
}

void documents_forget(const char *prefix)
{
    size_t n = strlen(prefix);
    pthread_mutex_lock(&mu);
    struct entry *en = lru_head;
    while (en) {
        struct entry *next = en->lru_next;
        if (strncmp(en->key, prefix, n) == 0)
            drop(en);
        en = next;
    }
    pthread_mutex_unlock(&mu);
}

void documents_shutdown(void)
{
    documents_forget("");
}

int documents_json(json_t *doc, const char *type, char **text, size_t *len, const char **ctype, derr *e)
{
    *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!*text)
        return derr_set(e, 500, "internal", "cannot render a document");
    *len = strlen(*text);
    *ctype = type;
    return 0;
}
