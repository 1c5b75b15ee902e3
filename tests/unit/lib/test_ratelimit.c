/*
 * Unit tests for the token buckets (src/lib/ratelimit.c): the GCRA arithmetic on a clock the test
 * drives (bursts, refills, Retry-After, Reset, dry looks, no reset at any turn of the hour), the
 * account-lock shape (at most N in any window), and the memory limiter's keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "lib/ratelimit.h"

#define HOUR_MS 3600000LL
/* A clock an hour boundary minus one second: nothing may change at the boundary. */
#define T0 (1800000000LL * 1000 - 1000)

static void test_rule_per_hour(void **state)
{
    (void)state;
    rl_rule r = rl_rule_per_hour(3600, 10);
    assert_int_equal(r.interval_ms, 1000);
    assert_int_equal(r.burst, 10);
    assert_false(rl_unlimited(&r));
    r = rl_rule_per_hour(0, 10);
    assert_true(rl_unlimited(&r));
    r = rl_rule_per_hour(10, 0);
    assert_true(rl_unlimited(&r));
    r = rl_rule_per_hour(100000000, 5); /* faster than a millisecond: one a millisecond */
    assert_int_equal(r.interval_ms, 1);
}

/* Table-driven: each step is (ms after T0, dry, expected allowed, remaining, retry_after). */
static void test_burst_then_refill(void **state)
{
    (void)state;
    rl_rule r = {1000, 3}; /* one a second, three at once */
    static const struct {
        int64_t at;
        bool dry, allowed;
        long remaining;
        int64_t retry;
    } steps[] = {
        {0, false, true, 2, 0},    {0, false, true, 1, 0},     {0, true, true, 1, 0}, /* a look spends nothing */
        {0, false, true, 0, 0},    {0, false, false, 0, 1},    {0, true, false, 0, 1},
        {999, false, false, 0, 1}, {1000, false, true, 0, 0},  /* one back after a second, across the hour */
        {1500, false, false, 0, 1}, {5000, false, true, 2, 0}, /* idle: the bucket fills to its burst, no more */
        {60000, false, true, 2, 0},
    };
    int64_t tat = 0;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        int64_t now = T0 + steps[i].at;
        bool ok = rl_gcra(&tat, now, &r, steps[i].dry);
        rl_verdict v;
        rl_fill(&v, ok, tat, now, &r);
        if (ok != steps[i].allowed || v.remaining != steps[i].remaining || v.retry_after != steps[i].retry)
            fail_msg("step %zu: allowed %d remaining %ld retry %lld", i, ok, v.remaining, (long long)v.retry_after);
        assert_int_equal(v.limit, 3);
        /* Reset: when the bucket is full again, never before now. */
        assert_true(v.reset * 1000 >= now);
        assert_true(v.reset * 1000 <= now + 3 * 1000 + 999);
    }
}

/* The account lock's shape (burst N, one back each window): never more than N in any window. */
static void test_at_most_n_in_any_window(void **state)
{
    (void)state;
    const int64_t W = 900000;
    rl_rule r = {W, 10};
    int64_t tat = 0;
    int64_t let[400];
    int n = 0;
    /* One attempt every 7 s for 8 hours, starting just before a turn of the hour. */
    for (int64_t t = T0 - 30000; t < T0 + 8 * HOUR_MS && n < 400; t += 7000)
        if (rl_gcra(&tat, t, &r, false))
            let[n++] = t;
    assert_true(n > 10);
    for (int i = 0; i + 10 < n; i++)
        assert_true(let[i + 10] - let[i] >= W); /* the 11th after any attempt comes a window later */
    /* The first ten go at once, the eleventh only a window after the first. */
    assert_int_equal(let[9], let[0] + 9 * 7000);
    assert_true(let[10] >= let[0] + W);
}

static void test_memory_keys(void **state)
{
    (void)state;
    ratelimit *rl = ratelimit_memory_new();
    rl_rule r = {HOUR_MS / 2, 2};
    rl_verdict v;
    rl->ops->take(rl, "k", &r, T0, false, &v);
    assert_true(v.allowed);
    assert_int_equal(v.remaining, 1);
    rl->ops->take(rl, "k", &r, T0, false, &v);
    assert_true(v.allowed);
    rl->ops->take(rl, "k", &r, T0 + 1000, false, &v); /* the hour turns: nothing comes back */
    assert_false(v.allowed);
    assert_int_equal(v.retry_after, 1800 - 1);
    assert_int_equal(v.reset, (T0 + HOUR_MS) / 1000);
    rl->ops->take(rl, "other", &r, T0, false, &v);
    assert_true(v.allowed);
    rl->ops->forget(rl, "k");
    rl->ops->take(rl, "k", &r, T0 + 1000, false, &v);
    assert_true(v.allowed);
    assert_int_equal(v.remaining, 1);
    /* A look at a key never seen stores nothing and answers a full bucket. */
    rl->ops->take(rl, "new", &r, T0, true, &v);
    assert_true(v.allowed);
    assert_int_equal(v.remaining, 2);
    rl->ops->free(rl);
}

/* Many keys: full buckets are dropped as the table grows, and live ones kept. */
static void test_many_keys(void **state)
{
    (void)state;
    ratelimit *rl = ratelimit_memory_new();
    rl_rule r = {1000, 2};
    rl_verdict v;
    char key[32];
    for (int w = 0; w < 3; w++)
        for (int i = 0; i < 20000; i++) {
            snprintf(key, sizeof key, "ip:%d", i);
            rl->ops->take(rl, key, &r, T0 + w * 10000, false, &v);
            assert_true(v.allowed);
        }
    snprintf(key, sizeof key, "ip:%d", 5);
    rl->ops->take(rl, key, &r, T0 + 20000, false, &v);
    assert_true(v.allowed); /* the second of its burst */
    rl->ops->take(rl, key, &r, T0 + 20000, false, &v);
    assert_false(v.allowed);
    rl->ops->free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_per_hour),
        cmocka_unit_test(test_burst_then_refill),
        cmocka_unit_test(test_at_most_n_in_any_window),
        cmocka_unit_test(test_memory_keys),
        cmocka_unit_test(test_many_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
