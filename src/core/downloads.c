/*
 * downloads.c — an open-addressing table of (version id → count) for the
 * current day, swapped out whole under a lock by the flusher so counting
 * never waits on the store.
 */
#include "downloads.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/log.h"
#include "../lib/timeutil.h"
#include "../lib/xalloc.h"

struct slot {
    int64_t version_id; /* 0: empty */
    int64_t count;
};

struct table {
    struct slot *slots;
    size_t cap, used;
    char day[16];
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct table cur;
static store *st_;
static pthread_t flusher;
static bool running, stopping;
static int interval;

static void today(char out[16])
{
    time_t t = (time_t)now_unix();
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 16, "%Y-%m-%d", &tm);
}

static void table_init(struct table *t, size_t cap)
{
    t->slots = xcalloc(cap, sizeof *t->slots);
    t->cap = cap;
    t->used = 0;
    today(t->day);
}

static void table_add(struct table *t, int64_t id, int64_t n)
{
    if ((t->used + 1) * 2 > t->cap) {
        struct table big;
        table_init(&big, t->cap * 2);
        memcpy(big.day, t->day, sizeof big.day);
        for (size_t i = 0; i < t->cap; i++)
            if (t->slots[i].version_id)
                table_add(&big, t->slots[i].version_id, t->slots[i].count);
        free(t->slots);
        *t = big;
    }
    size_t i = (size_t)((uint64_t)id * 11400714819323198485ull) & (t->cap - 1);
    while (t->slots[i].version_id && t->slots[i].version_id != id)
        i = (i + 1) & (t->cap - 1);
    if (!t->slots[i].version_id) {
        t->slots[i].version_id = id;
        t->used++;
    }
    t->slots[i].count += n;
}

static void write_table(struct table *t)
{
    if (!t->used || !st_)
        return;
    store_download *d = xcalloc(t->used, sizeof *d);
    int n = 0;
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].version_id) {
            d[n].version_id = t->slots[i].version_id;
            d[n].day = t->day;
            d[n].count = t->slots[i].count;
            n++;
        }
    derr e;
    if (store_call(st_, downloads_add, d, n, &e) < 0) {
        /* Put them back so the next flush tries again. */
        pthread_mutex_lock(&mu);
        for (int i = 0; i < n; i++)
            table_add(&cur, d[i].version_id, d[i].count);
        pthread_mutex_unlock(&mu);
        log_warn("download counts not written; will retry", "error", e.message, NULL);
    }
    free(d);
}

void downloads_count(int64_t version_id)
{
    pthread_mutex_lock(&mu);
    if (!cur.slots)
        table_init(&cur, 1024);
    table_add(&cur, version_id, 1);
    pthread_mutex_unlock(&mu);
}

void downloads_flush(void)
{
    pthread_mutex_lock(&mu);
    if (!cur.slots || !cur.used) {
        pthread_mutex_unlock(&mu);
        return;
    }
    struct table t = cur;
    table_init(&cur, 1024);
    pthread_mutex_unlock(&mu);
    write_table(&t);
    free(t.slots);
}

static void *run(void *p)
{
    (void)p;
    pthread_mutex_lock(&mu);
    while (!stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += interval / 1000;
        ts.tv_nsec += (long)(interval % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&cv, &mu, &ts);
        pthread_mutex_unlock(&mu);
        downloads_flush();
        pthread_mutex_lock(&mu);
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}

void downloads_start(store *st, int interval_ms)
{
    st_ = st;
    interval = interval_ms > 0 ? interval_ms : 5000;
    stopping = false;
    if (pthread_create(&flusher, NULL, run, NULL) == 0)
        running = true;
}

void downloads_stop(void)
{
    if (running) {
        pthread_mutex_lock(&mu);
        stopping = true;
        pthread_cond_signal(&cv);
        pthread_mutex_unlock(&mu);
        pthread_join(flusher, NULL);
        running = false;
    }
    downloads_flush();
    pthread_mutex_lock(&mu);
    free(cur.slots);
    memset(&cur, 0, sizeof cur);
    pthread_mutex_unlock(&mu);
}
