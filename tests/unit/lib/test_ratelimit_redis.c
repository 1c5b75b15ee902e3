/*
 * test_ratelimit_redis.c — src/lib/ratelimit_redis.c. Without a server: the URLs it takes and
 * refuses, and failing open when Redis cannot be reached. With one (DEPOT_TEST_REDIS_URL, set by
 * `python3 tests/harness/redis.py -- ...`): the same verdicts as the memory limiter for the same
 * requests on the same clock (the test's, so nothing depends on the hour), a bucket that holds
 * across threads (each with its own connection), and forgetting a bucket.
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

#include "lib/ratelimit.h"
#include "lib/timeutil.h"
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

/* The clock of these tests: now, so that the keys' expiry (in Redis's own time) keeps them. */
static int64_t clock0(void)
{
    return now_unix_ms();
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
    rl_rule r = {1000, 2};
    int64_t t = clock0();
    for (int i = 0; i < 10; i++) {
        rl_verdict v;
        rl->ops->take(rl, "k", &r, t, false, &v);
        assert_true(v.allowed);
        assert_int_equal(v.limit, 2);
        assert_int_equal(v.remaining, 2);
        assert_int_equal(v.retry_after, 0);
    }
    rl->ops->forget(rl, "k"); /* harmless too */
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

/* The same requests through both limiters, on the same clock, give the same verdicts. */
static void test_same_verdicts_as_memory(void **state)
{
    (void)state;
    ratelimit *rd = redis_or_skip();
    ratelimit *mem = ratelimit_memory_new();
    static const struct {
        const char *key;
        int64_t interval_ms;
        long burst;
        int64_t at; /* ms after the start */
        bool dry;
    } reqs[] = {
        {"a", 1000, 3, 0, false},   {"a", 1000, 3, 1, false},   {"b", 60000, 1, 2, false},
        {"a", 1000, 3, 3, true},    {"a", 1000, 3, 4, false},   {"a", 1000, 3, 5, false},
        {"b", 60000, 1, 5, false},  {"a", 1000, 3, 1004, false}, {"a", 1000, 3, 1005, false},
        {"b", 60000, 1, 60001, true}, {"b", 60000, 1, 60002, false}, {"b", 60000, 1, 60003, false},
        {"c|x:1", 500, 2, 0, false}, {"c|x:1", 500, 2, 1, false}, {"c|x:1", 500, 2, 2, false},
        {"c|x:1", 500, 2, 5000, false},
    };
    int64_t t = clock0();
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        char key[64];
        snprintf(key, sizeof key, "%s:%s", g_run, reqs[i].key);
        rl_rule r = {reqs[i].interval_ms, reqs[i].burst};
        rl_verdict vm, vr;
        mem->ops->take(mem, key, &r, t + reqs[i].at, reqs[i].dry, &vm);
        rd->ops->take(rd, key, &r, t + reqs[i].at, reqs[i].dry, &vr);
        if (vm.allowed != vr.allowed || vm.remaining != vr.remaining || vm.limit != vr.limit ||
            vm.reset != vr.reset || vm.retry_after != vr.retry_after)
            fail_msg("request %zu (%s): memory %d/%ld/%lld/%lld, redis %d/%ld/%lld/%lld", i, key, vm.allowed,
                     vm.remaining, (long long)vm.reset, (long long)vm.retry_after, vr.allowed, vr.remaining,
                     (long long)vr.reset, (long long)vr.retry_after);
    }
    /* Forgetting a bucket fills it again. */
    char key[64];
    snprintf(key, sizeof key, "%s:b", g_run);
    rl_rule r = {60000, 1};
    rl_verdict v;
    rd->ops->forget(rd, key);
    rd->ops->take(rd, key, &r, t + 60004, false, &v);
    assert_true(v.allowed);
    mem->ops->free(mem);
    rd->ops->free(rd);
}

struct hammer {
    ratelimit *rl;
    const char *key;
    int64_t now;
    int allowed;
};

static const rl_rule hammer_rule = {60000, 150};

static void *hammer_run(void *p)
{
    struct hammer *h = p;
    for (int i = 0; i < 60; i++) {
        rl_verdict v;
        h->rl->ops->take(h->rl, h->key, &hammer_rule, h->now, false, &v);
        h->allowed += v.allowed;
    }
    return NULL;
}

/* Six threads, each on its own connection, spend one bucket exactly (on a clock that stands). */
static void test_threads_share_one_count(void **state)
{
    (void)state;
    ratelimit *rd = redis_or_skip();
    char key[64];
    snprintf(key, sizeof key, "%s:threads", g_run);
    struct hammer h[6];
    pthread_t th[6];
    for (int i = 0; i < 6; i++) {
        h[i] = (struct hammer){rd, key, clock0(), 0};
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
