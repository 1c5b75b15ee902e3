/*
 * test_ratelimit_redis.c — src/http/ratelimit_redis.c. Without a server: the URLs it takes and
 * refuses, and failing open when Redis cannot be reached. With one (DEPOT_TEST_REDIS_URL, set by
 * `python3 tests/harness/redis.py -- ...`; `make redis-unit`): the same verdicts as the memory
 * limiter for the same hits, counts that hold across threads (each with its own connection),
 * and keys that expire after their window.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/ratelimit.h"
#include "lib/crypto.h"

static const char *g_url;
static char g_run[32]; /* a key prefix of this run's own */

static int group_setup(void **state)
{
    (void)state;
    if (crypto_init() < 0)
        return -1;
    g_url = getenv("DEPOT_TEST_REDIS_URL");
    if (g_url && !*g_url)
        g_url = NULL;
    unsigned char r[4];
    random_bytes(r, sizeof r);
    snprintf(g_run, sizeof g_run, "t%02x%02x%02x%02x", r[0], r[1], r[2], r[3]);
    return 0;
}

/* The start of the next clock hour: a window that has not begun, so its keys cannot expire
 * during the test (EXPIREAT in the past would delete them at once). */
static int64_t next_hour(void)
{
    int64_t now = (int64_t)time(NULL);
    return (now / RL_WINDOW + 1) * RL_WINDOW;
}

static void test_urls(void **state)
{
    (void)state;
    static const char *bad[] = {
        "",
        "http://127.0.0.1:6379",
        "redis://",
        "redis://:6379",
        "redis://127.0.0.1:0",
        "redis://127.0.0.1:65536",
        "redis://127.0.0.1:abc",
        "redis://127.0.0.1:6379/x",
        "redis://127.0.0.1:6379/0?timeout_ms=0",
        "redis://127.0.0.1:6379/0?nope=1",
        "redis://user@127.0.0.1:6379",
        "redis://:pa%zzss@127.0.0.1:6379",
        "redis://[::1:6379",
        "rediss://127.0.0.1:6379",
        "unix://relative/path",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        derr e = {0};
        ratelimit *rl = ratelimit_redis_new(bad[i], &e);
        if (rl)
            fail_msg("accepted '%s'", bad[i]);
        assert_int_equal(e.status, 400);
        assert_null(strstr(e.message, "pa%zzss"));
    }
    /* Well-formed, though nothing listens there: made, failing open. */
    static const char *good[] = {
        "redis://127.0.0.1:1",
        "redis://127.0.0.1:1/3",
        "redis://:secret@127.0.0.1:1/0?timeout_ms=50",
        "redis://user:secret@localhost:1",
        "redis://[::1]:1",
        "unix:///nonexistent/redis.sock?db=2&password=x",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        derr e = {0};
        ratelimit *rl = ratelimit_redis_new(good[i], &e);
        if (!rl)
            fail_msg("refused '%s': %s", good[i], e.message);
        rl->ops->free(rl);
    }
}

static void test_fails_open(void **state)
{
    (void)state;
    derr e;
    ratelimit *rl = ratelimit_redis_new("redis://127.0.0.1:1?timeout_ms=100", &e);
    assert_non_null(rl);
    int64_t t = next_hour();
    for (int i = 0; i < 10; i++) {
        rl_verdict v;
        rl->ops->hit(rl, "k", 2, t, &v);
        assert_true(v.allowed);
        assert_int_equal(v.limit, 2);
        assert_int_equal(v.remaining, 2);
        assert_int_equal(v.reset, t + RL_WINDOW);
    }
    rl->ops->free(rl);
}

static ratelimit *redis_or_skip(void)
{
    if (!g_url)
        skip();
    derr e;
    ratelimit *rl = ratelimit_redis_new(g_url, &e);
    assert_non_null(rl);
    return rl;
}

/* The same hits through both limiters give the same verdicts. */
static void test_same_verdicts_as_memory(void **state)
{
    (void)state;
    ratelimit *rd = redis_or_skip();
    ratelimit *mem = ratelimit_memory_new();
    static const struct {
        const char *key;
        long limit;
        int window; /* 0: this hour, 1: the next */
        int second;
    } hits[] = {
        {"a", 3, 0, 0},   {"a", 3, 0, 1},    {"b", 1, 0, 2},    {"a", 3, 0, 3},    {"a", 3, 0, 4},
        {"b", 1, 0, 5},   {"a", 3, 0, 3599}, {"a", 3, 1, 0},    {"b", 1, 1, 1},    {"b", 1, 1, 2},
        {"c", 0, 0, 0},   {"a", 3, 1, 10},   {"a", 3, 1, 11},   {"a", 3, 1, 12},   {"c|x:1", 2, 1, 0},
        {"c|x:1", 2, 1, 1}, {"c|x:1", 2, 1, 2},
    };
    int64_t t = next_hour();
    for (size_t i = 0; i < sizeof hits / sizeof hits[0]; i++) {
        char key[64];
        snprintf(key, sizeof key, "%s:%s", g_run, hits[i].key);
        int64_t now = t + hits[i].window * RL_WINDOW + hits[i].second;
        rl_verdict vm, vr;
        mem->ops->hit(mem, key, hits[i].limit, now, &vm);
        rd->ops->hit(rd, key, hits[i].limit, now, &vr);
        if (vm.allowed != vr.allowed || vm.remaining != vr.remaining || vm.limit != vr.limit ||
            vm.reset != vr.reset)
            fail_msg("hit %zu (%s): memory %d/%ld/%lld, redis %d/%ld/%lld", i, key, vm.allowed, vm.remaining,
                     (long long)vm.reset, vr.allowed, vr.remaining, (long long)vr.reset);
    }
    mem->ops->free(mem);
    rd->ops->free(rd);
}

struct hammer {
    ratelimit *rl;
    const char *key;
    int64_t now;
    int allowed;
};

static void *hammer_run(void *p)
{
    struct hammer *h = p;
    for (int i = 0; i < 60; i++) {
        rl_verdict v;
        h->rl->ops->hit(h->rl, h->key, 150, h->now, &v);
        h->allowed += v.allowed;
    }
    return NULL;
}

/* Six threads, each on its own connection, spend one budget exactly. */
static void test_threads_share_one_count(void **state)
{
    (void)state;
    ratelimit *rd = redis_or_skip();
    char key[64];
    snprintf(key, sizeof key, "%s:threads", g_run);
    struct hammer h[6];
    pthread_t th[6];
    for (int i = 0; i < 6; i++) {
        h[i] = (struct hammer){rd, key, next_hour(), 0};
        assert_int_equal(pthread_create(&th[i], NULL, hammer_run, &h[i]), 0);
    }
    int total = 0;
    for (int i = 0; i < 6; i++) {
        pthread_join(th[i], NULL);
        total += h[i].allowed;
    }
    assert_int_equal(total, 150);
    rd->ops->free(rd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_fails_open),
        cmocka_unit_test(test_same_verdicts_as_memory),
        cmocka_unit_test(test_threads_share_one_count),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
