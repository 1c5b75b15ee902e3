/*
 * test_names.c — src/npm/names.c, table-driven: npm's rules for new package
 * names, the package a path's parameters name (one escaped segment or
 * scope + name), tarball file names to versions, depot's canonical tarball
 * URLs, npm's time format, and choosing the abbreviated packument from an
 * Accept header.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "core/config.h"
#include "http/http.h"
#include "npm/npm.h"

static void test_name_check(void **state)
{
    (void)state;
    static const char *const good[] = {
        "a", "left-pad", "lodash.merge", "x_y", "a1", "@s/a", "@my-org/the.pkg", "a~b", "a!b", "(x)", NULL};
    static const struct {
        const char *name, *why;
    } bad[] = {
        {"", "1 to 214"},
        {"Foo", "lower-case"},
        {".hidden", "start with"},
        {"_x", "start with"},
        {"a b", "may hold"},
        {"a/b", "may hold"},
        {"@s", "@scope/name"},
        {"@/a", "scope is empty"},
        {"@s/", "is empty"},
        {"@S/a", "lower-case"},
        {"@s/_a", "start with"},
        {"node_modules", "not allowed"},
        {"favicon.ico", "not allowed"},
        {"a:b", "may hold"},
        {"@s/a/b", "may hold"},
        {"é", "may hold"},
    };
    derr e;
    for (int i = 0; good[i]; i++)
        if (npm_name_check(good[i], &e) != 0)
            fail_msg("%s refused: %s", good[i], e.message);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (npm_name_check(bad[i].name, &e) != -1)
            fail_msg("'%s' accepted", bad[i].name);
        assert_int_equal(e.status, 400);
        if (!strstr(e.message, bad[i].why))
            fail_msg("'%s': %s (wanted '%s')", bad[i].name, e.message, bad[i].why);
    }
    char longname[300];
    memset(longname, 'a', 214);
    longname[214] = '\0';
    assert_int_equal(npm_name_check(longname, &e), 0);
    longname[214] = 'a';
    longname[215] = '\0';
    assert_int_equal(npm_name_check(longname, &e), -1);
}

static void test_req_name(void **state)
{
    (void)state;
    static const struct {
        const char *scope, *name, *want;
    } cases[] = {
        {NULL, "foo", "foo"}, {NULL, "@s/foo", "@s/foo"}, {"@s", "foo", "@s/foo"},
        {NULL, "@s", NULL},   {NULL, "a/b", NULL},        {NULL, "@s/a/b", NULL},
        {"s", "foo", NULL},   {"@s", "a/b", NULL},        {"@s/x", "foo", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        req r = {0};
        r.a = arena_new(0);
        int n = 0;
        if (cases[i].scope) {
            r.param_names[n] = "scope";
            r.param_vals[n++] = cases[i].scope;
        }
        r.param_names[n] = "name";
        r.param_vals[n++] = cases[i].name;
        r.nparams = n;
        const char *got = npm_req_name(&r);
        if (!cases[i].want ? got != NULL : (!got || strcmp(got, cases[i].want) != 0))
            fail_msg("%s + %s: got %s", cases[i].scope ? cases[i].scope : "-", cases[i].name,
                     got ? got : "NULL");
        arena_free(r.a);
    }
}

static void test_tarball_version(void **state)
{
    (void)state;
    static const struct {
        const char *name, *file, *want;
    } cases[] = {
        {"foo", "foo-1.0.0.tgz", "1.0.0"},
        {"foo", "foo-1.0.0-rc.1.tgz", "1.0.0-rc.1"},
        {"@s/foo", "foo-2.1.3.tgz", "2.1.3"},
        {"foo-bar", "foo-bar-0.0.1.tgz", "0.0.1"},
        {"foo", "FOO-1.0.0.tgz", "1.0.0"},
        {"foo", "bar-1.0.0.tgz", NULL},
        {"foo", "foo-.tgz", NULL},
        {"foo", "foo-1.0.0.tar.gz", NULL},
        {"foo", "foo1.0.0.tgz", NULL},
        {"foo", ".tgz", NULL},
        {"@s/foo", "@s/foo-1.0.0.tgz", NULL},
    };
    arena *a = arena_new(0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = npm_tarball_version(a, cases[i].name, cases[i].file);
        if (!cases[i].want ? got != NULL : (!got || strcmp(got, cases[i].want) != 0))
            fail_msg("%s %s: got %s", cases[i].name, cases[i].file, got ? got : "NULL");
    }
    assert_string_equal(npm_base_name("@scope/x"), "x");
    assert_string_equal(npm_base_name("x"), "x");
    arena_free(a);
}

static void test_urls_and_times(void **state)
{
    (void)state;
    config cfg = {0};
    cfg.base_url = "http://reg.example:8080";
    req r = {0};
    r.a = arena_new(0);
    r.cfg = &cfg;
    assert_string_equal(npm_tarball_url(&r, "foo", "1.0.0"),
                        "http://reg.example:8080/npm/foo/-/foo-1.0.0.tgz");
    assert_string_equal(npm_tarball_url(&r, "@my-org/foo", "1.0.0-beta.1"),
                        "http://reg.example:8080/npm/@my-org/foo/-/foo-1.0.0-beta.1.tgz");
    assert_string_equal(npm_tarball_url(&r, "foo", "1.0.0+b.1"),
                        "http://reg.example:8080/npm/foo/-/foo-1.0.0%2Bb.1.tgz");
    assert_string_equal(npm_time(r.a, 1700000000), "2023-11-14T22:13:20.000Z");
    assert_null(npm_time(r.a, 0));
    assert_string_equal(npm_seg(r.a, "a b/c"), "a%20b%2Fc");
    arena_free(r.a);
}

static void test_accept(void **state)
{
    (void)state;
    static const struct {
        const char *accept;
        bool corgi;
    } cases[] = {
        {"application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*", true},
        {"application/json", false},
        {"*/*", false},
        {NULL, false},
        {"", false},
        {"application/vnd.npm.install-v1+json", true},
        {"APPLICATION/VND.NPM.INSTALL-V1+JSON", true},
        {"application/vnd.npm.install-v1+json;q=0, application/json", false},
        {"application/vnd.npm.install-v1+json; q=0.0", false},
        {"application/vnd.npm.install-v1+json; q=0.5", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (npm_accepts_abbreviated(cases[i].accept) != cases[i].corgi)
            fail_msg("Accept %s: wanted %d", cases[i].accept ? cases[i].accept : "(none)", cases[i].corgi);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_check),      cmocka_unit_test(test_req_name),
        cmocka_unit_test(test_tarball_version), cmocka_unit_test(test_urls_and_times),
        cmocka_unit_test(test_accept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
