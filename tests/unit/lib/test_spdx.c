/*
 * test_spdx.c — src/lib/spdx.c: a table of expressions that must pass
 * (ids in any case, deprecated ids, '+', WITH, AND/OR precedence,
 * parentheses, LicenseRef and DocumentRef forms) and a table that must fail
 * with a reason mentioning the right thing (the unknown id, the lower-case
 * operator, the dangling operator, the unbalanced parenthesis). Also the
 * generated id tables: sorted in strcasecmp order, so bsearch finds every id.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/spdx.h"

static void test_valid(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "MIT",
        "Apache-2.0",
        "MIT OR Apache-2.0",
        "(MIT AND BSD-3-Clause) OR GPL-2.0-or-later",
        "GPL-2.0+ WITH Classpath-exception-2.0",
        "LicenseRef-Custom",
        "LicenseRef-my.license-1",
        "DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2",
        "mit",
        "apache-2.0 OR Mit",
        "GPL-2.0",                    /* deprecated, still accepted */
        "GPL-3.0-with-GCC-exception", /* deprecated */
        "Apache-2.0 WITH LLVM-exception",
        "GPL-2.0-only WITH classpath-exception-2.0",
        "GPL-3.0-or-later WITH AdditionRef-my-exception",
        "MIT AND (LGPL-2.1-or-later OR BSD-3-Clause)",
        "((MIT))",
        "(MIT)AND(Apache-2.0)",
        "  MIT   OR\tApache-2.0  ",
        "MIT OR Apache-2.0 AND BSD-2-Clause OR ISC",
        "EPL-1.0+",
        "0BSD",
        "Unlicense",
        "CC0-1.0",
        "LicenseRef-Custom AND MIT",
    };
    char why[200];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (spdx_check(ok[i], why, sizeof why) != 0)
            fail_msg("'%s' rejected: %s", ok[i], why);
}

static void test_invalid(void **state)
{
    (void)state;
    static const struct {
        const char *expr, *why; /* why: a substring of the reason */
    } bad[] = {
        {"Foo", "unknown license id 'Foo'"},
        {"MIT OR Foo-1.0", "'Foo-1.0'"},
        {"MIT OR", "expected a license after OR"},
        {"AND MIT", "found the operator 'AND'"},
        {"MIT AND", "after AND"},
        {"(MIT", "missing ')'"},
        {"MIT)", "unexpected ')'"},
        {"(MIT OR Apache-2.0))", "unexpected ')'"},
        {"((MIT) AND ISC", "missing ')'"},
        {"()", "after '('"},
        {"mit or apache-2.0", "upper case (OR)"},
        {"MIT and Apache-2.0", "upper case (AND)"},
        {"GPL-2.0 with Classpath-exception-2.0", "upper case (WITH)"},
        {"(MIT or ISC)", "upper case (OR)"},
        {"", "empty"},
        {"   ", "empty"},
        {"MIT Apache-2.0", "found 'Apache-2.0'"},
        {"MIT WITH Foo-exception", "unknown license exception 'Foo-exception'"},
        {"MIT WITH", "exception after WITH"},
        {"WITH MIT", "operator 'WITH'"},
        {"MIT WITH Classpath-exception-2.0 WITH LLVM-exception", "WITH must follow a single license"},
        {"(MIT OR ISC) WITH LLVM-exception", "not a parenthesised"},
        {"Classpath-exception-2.0", "use it after WITH"},
        {"LicenseRef-", "not a valid LicenseRef"},
        {"LicenseRef-a_b", "not a valid LicenseRef"},
        {"LicenseRef-X+", "not a valid LicenseRef"},
        {"DocumentRef-x", "DocumentRef-<id>:LicenseRef-<id>"},
        {"DocumentRef-x:MIT", "must name a LicenseRef"},
        {"MIT++", "not a license id"},
        {"+", "not a license id"},
        {"MIT/Apache-2.0", "not a license id"},
        {"MIT OR OR ISC", "after OR"},
        {"Apache-2.0 +", "found '+'"},
        {"M\xc3\xa9T", "'M??T' is not a license id"},
    };
    char why[200];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (spdx_check(bad[i].expr, why, sizeof why) != -1)
            fail_msg("'%s' accepted", bad[i].expr);
        if (!strstr(why, bad[i].why))
            fail_msg("'%s': reason \"%s\" does not mention \"%s\"", bad[i].expr, why, bad[i].why);
    }
}

static void test_limits_and_buffers(void **state)
{
    (void)state;
    /* Deep nesting is refused, not recursed into without bound. */
    char deep[512];
    size_t n = 0;
    for (int i = 0; i < 100; i++)
        deep[n++] = '(';
    memcpy(deep + n, "MIT", 3);
    n += 3;
    for (int i = 0; i < 100; i++)
        deep[n++] = ')';
    deep[n] = '\0';
    char why[200];
    assert_int_equal(spdx_check(deep, why, sizeof why), -1);
    assert_non_null(strstr(why, "nest"));

    /* 32 levels are fine. */
    n = 0;
    for (int i = 0; i < 32; i++)
        deep[n++] = '(';
    memcpy(deep + n, "MIT", 3);
    n += 3;
    for (int i = 0; i < 32; i++)
        deep[n++] = ')';
    deep[n] = '\0';
    assert_int_equal(spdx_check(deep, why, sizeof why), 0);

    /* Very long expressions are refused up front. */
    static char big[8192];
    memset(big, 'A', sizeof big - 1);
    assert_int_equal(spdx_check(big, why, sizeof why), -1);
    assert_non_null(strstr(why, "longer"));

    /* A long unknown id is clipped in the message, and a tiny or absent
     * buffer is fine. */
    static char longid[300];
    memset(longid, 'Z', sizeof longid - 1);
    assert_int_equal(spdx_check(longid, why, sizeof why), -1);
    assert_true(strlen(why) < 120);
    char tiny[4];
    assert_int_equal(spdx_check("Foo", tiny, sizeof tiny), -1);
    assert_int_equal(strlen(tiny), 3);
    assert_int_equal(spdx_check("Foo", NULL, 0), -1);
    assert_int_equal(spdx_check(NULL, why, sizeof why), -1);
    assert_int_equal(spdx_check("MIT", NULL, 0), 0);
}

static void test_lookup(void **state)
{
    (void)state;
    const char *c;
    assert_true(spdx_license_known("mit", 3, &c));
    assert_string_equal(c, "MIT");
    assert_true(spdx_license_known("apache-2.0", 10, &c));
    assert_string_equal(c, "Apache-2.0");
    assert_true(spdx_license_known("MITX", 3, NULL)); /* only len bytes count */
    assert_false(spdx_license_known("MI", 2, &c));
    assert_null(c);
    assert_false(spdx_license_known("", 0, NULL));
    assert_true(spdx_exception_known("llvm-exception", 14, &c));
    assert_string_equal(c, "LLVM-exception");
    assert_false(spdx_exception_known("MIT", 3, NULL));
}

/* Every id in the generated table is found by the search, in any case:
 * that is only true when the table is sorted as the search expects. */
#include "lib/spdx_ids.inc"

static void test_tables_sorted(void **state)
{
    (void)state;
    size_t nl = sizeof spdx_licenses / sizeof spdx_licenses[0];
    size_t ne = sizeof spdx_exceptions / sizeof spdx_exceptions[0];
    assert_true(nl > 500);
    assert_true(ne > 40);
    for (size_t i = 1; i < nl; i++)
        if (strcasecmp(spdx_licenses[i - 1], spdx_licenses[i]) >= 0)
            fail_msg("licenses out of order at %s", spdx_licenses[i]);
    for (size_t i = 1; i < ne; i++)
        if (strcasecmp(spdx_exceptions[i - 1], spdx_exceptions[i]) >= 0)
            fail_msg("exceptions out of order at %s", spdx_exceptions[i]);
    char up[64];
    for (size_t i = 0; i < nl; i++) {
        const char *id = spdx_licenses[i];
        size_t n = strlen(id);
        assert_true(n < sizeof up);
        for (size_t k = 0; k <= n; k++)
            up[k] = (char)(id[k] >= 'a' && id[k] <= 'z' ? id[k] - 32 : id[k]);
        const char *c;
        if (!spdx_license_known(up, n, &c) || strcmp(c, id) != 0)
            fail_msg("%s not found as %s", id, up);
        if (spdx_check(id, NULL, 0) != 0)
            fail_msg("%s rejected as an expression", id);
    }
    for (size_t i = 0; i < ne; i++)
        if (!spdx_exception_known(spdx_exceptions[i], strlen(spdx_exceptions[i]), NULL))
            fail_msg("exception %s not found", spdx_exceptions[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_limits_and_buffers),
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_tables_sorted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
