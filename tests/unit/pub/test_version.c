/*
 * test_version.c — src/pub/version.c: Dart versions as pub_semver reads
 * them. Parsing (leading zeros accepted, identifiers that read as integers),
 * the canonical form, what is not a version, the compareTo chain with build
 * metadata ordered (no build < any build; numeric < alphanumeric; numbers
 * numerically), and prioritize (every release above every pre-release).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "pub/version.h"

#define N(t) (sizeof(t) / sizeof((t)[0]))

static const struct {
    const char *in, *canon;
} canon[] = {
    {"1.2.3", "1.2.3"},
    {"0.0.0", "0.0.0"},
    {"01.02.03", "1.2.3"},
    {"1.0.0-rc.01", "1.0.0-rc.1"},
    {"1.0.0+001", "1.0.0+1"},
    {"1.0.0-0", "1.0.0-0"},
    {"1.0.0-00", "1.0.0-0"},
    {"1.0.0-a.-01", "1.0.0-a.-1"}, /* "-01" reads as the integer -1 in Dart */
    {"1.0.0-01a", "1.0.0-01a"},    /* not an integer: kept */
    {"1.0.0-x.7.z.92", "1.0.0-x.7.z.92"},
    {"1.0.0+build.07.x", "1.0.0+build.7.x"},
    {"1.0.0-dev+1", "1.0.0-dev+1"},
    {"1.0.0----", "1.0.0----"},
    {"9223372036854775807.0.0", "9223372036854775807.0.0"},
    {"1.0.0-99999999999999999999", "1.0.0-99999999999999999999"}, /* too big for an int: a string */
};

static const char *const invalid[] = {
    "",          "1",         "1.0",    "1.0.0.0", "v1.0.0",  "1.0.0-", "1.0.0+", "1.0.0-a..b",
    "1.0.0-a_b", "1.0.0+a+b", " 1.0.0", "1.0.0 ",  "1.0.0-é", "-1.0.0", "1.-1.0", "9223372036854775808.0.0",
    "1.0.0-+",   "1..0",      "a.b.c",
};

static void test_parse(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    for (size_t i = 0; i < N(canon); i++) {
        semver v;
        const char *c = NULL;
        if (pub_version_parse(a, canon[i].in, &v, &c) < 0)
            fail_msg("'%s' should parse", canon[i].in);
        assert_string_equal(c, canon[i].canon);
    }
    for (size_t i = 0; i < N(invalid); i++) {
        semver v;
        if (pub_version_parse(a, invalid[i], &v, NULL) == 0)
            fail_msg("'%s' should not parse", invalid[i]);
    }
    semver v;
    assert_int_equal(pub_version_parse(a, "1.2.3-beta.2+exp.sha.5114f85", &v, NULL), 0);
    assert_int_equal(v.major, 1);
    assert_int_equal(v.minor, 2);
    assert_int_equal(v.patch, 3);
    assert_string_equal(v.pre, "beta.2");
    assert_string_equal(v.build, "exp.sha.5114f85");
    arena_free(a);
    printf("parse: %zu + %zu cases\n", N(canon), N(invalid));
}

/* Ascending by compareTo; each is strictly below the next. */
static const char *const chain[] = {
    "0.0.1",      "0.1.0",        "1.0.0--1",      "1.0.0-0",       "1.0.0-1",
    "1.0.0-2",    "1.0.0-10",     "1.0.0-alpha",   "1.0.0-alpha.1", "1.0.0-alpha.beta",
    "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1",    "1.0.0-rc.1+1",
    "1.0.0",      "1.0.0+0",      "1.0.0+1",       "1.0.0+1.1",     "1.0.0+2",
    "1.0.0+10",   "1.0.0+a10",    "1.0.0+a9",      "1.0.0+b",       "1.0.1",
    "1.1.0",      "2.0.0-dev",    "2.0.0",         "10.0.0",
};

static void test_order(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    semver v[N(chain)];
    for (size_t i = 0; i < N(chain); i++)
        assert_int_equal(pub_version_parse(a, chain[i], &v[i], NULL), 0);
    size_t cases = 0;
    for (size_t i = 0; i < N(chain); i++)
        for (size_t j = 0; j < N(chain); j++, cases++) {
            int c = pub_version_cmp(&v[i], &v[j]);
            int want = i < j ? -1 : i > j;
            if ((c < 0 ? -1 : c > 0) != want)
                fail_msg("cmp(%s, %s) = %d, want %d", chain[i], chain[j], c, want);
        }
    /* Equal after canonicalization: leading zeros do not make another version. */
    semver x, y;
    assert_int_equal(pub_version_parse(a, "1.0.0+01", &x, NULL), 0);
    assert_int_equal(pub_version_parse(a, "1.0.0+1", &y, NULL), 0);
    assert_int_equal(pub_version_cmp(&x, &y), 0);
    arena_free(a);
    printf("order: %zu cases\n", cases);
}

static void test_prio(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    static const char *const rows[][2] = {
        /* lower, higher */
        {"2.0.0-dev", "0.9.0"}, {"1.0.0-rc.1", "0.0.1"}, {"1.0.0", "1.0.1"},
        {"1.0.0-a", "1.0.0-b"}, {"1.0.0", "1.0.0+1"},
    };
    for (size_t i = 0; i < N(rows); i++) {
        semver lo, hi;
        assert_int_equal(pub_version_parse(a, rows[i][0], &lo, NULL), 0);
        assert_int_equal(pub_version_parse(a, rows[i][1], &hi, NULL), 0);
        if (!(pub_version_prio(&lo, &hi) < 0 && pub_version_prio(&hi, &lo) > 0))
            fail_msg("prio: %s should rank below %s", rows[i][0], rows[i][1]);
    }
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_prio),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
