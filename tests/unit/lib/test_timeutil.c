/*
 * test_timeutil.c — src/lib/timeutil.c's lengths of time in words, table by
 * table: each unit once and many times, a length that is no whole number of
 * a larger unit falling to the next one, and zero. Hex's refusals quote them
 * ("can only modify a release up to one hour after publication").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "lib/timeutil.h"

#define N(t) (sizeof(t) / sizeof((t)[0]))

static const struct {
    long seconds;
    const char *words;
} spans[] = {
    {3600, "one hour"},     {7200, "2 hours"},      {86400, "one day"},     {259200, "3 days"},
    {90000, "25 hours"},    {60, "one minute"},     {5400, "90 minutes"},   {1, "one second"},
    {2, "2 seconds"},       {3601, "3601 seconds"}, {0, "0 seconds"},
};

static void test_span_words(void **state)
{
    (void)state;
    arena *a = arena_new(256);
    for (size_t i = 0; i < N(spans); i++)
        assert_string_equal(time_span_words(a, spans[i].seconds), spans[i].words);
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_span_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
