/* Unit tests for the in-memory rate limiter: counting, windows, keys, many keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "http/ratelimit.h"

static void test_window(void **state)
{
    (void)state;
    ratelimit *rl = ratelimit_memory_new();
    rl_verdict v;
    int64_t t = 1800000000; /* on an hour boundary */
    for (int i = 0; i < 3; i++) {
        rl->ops->hit(rl, "k", 3, t + i, &v);
        assert_true(v.allowed);
        assert_int_equal(v.remaining, 2 - i);
        assert_int_equal(v.limit, 3);
        assert_int_equal(v.reset, t + RL_WINDOW);
    }
    rl->ops->hit(rl, "k", 3, t + 10, &v);
    assert_false(v.allowed);
    assert_int_equal(v.remaining, 0);
    rl->ops->hit(rl, "other", 3, t + 10, &v);
    assert_true(v.allowed);
    rl->ops->hit(rl, "k", 3, t + RL_WINDOW, &v);
    assert_true(v.allowed);
    assert_int_equal(v.remaining, 2);
    rl->ops->free(rl);
}

static void test_many_keys(void **state)
{
    (void)state;
    ratelimit *rl = ratelimit_memory_new();
    rl_verdict v;
    char key[32];
    for (int w = 0; w < 3; w++)
        for (int i = 0; i < 20000; i++) {
            snprintf(key, sizeof key, "ip:%d", i);
            rl->ops->hit(rl, key, 2, 1800000000 + w * RL_WINDOW, &v);
            assert_true(v.allowed);
        }
    snprintf(key, sizeof key, "ip:%d", 5);
    rl->ops->hit(rl, key, 2, 1800000000 + 2 * RL_WINDOW, &v);
    assert_true(v.allowed);
    rl->ops->hit(rl, key, 2, 1800000000 + 2 * RL_WINDOW, &v);
    assert_false(v.allowed);
    rl->ops->free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_many_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
