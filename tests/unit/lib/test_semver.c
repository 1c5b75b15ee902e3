/*
 * test_semver.c — src/lib/semver.c, table by table: strict parsing (the
 * valid and invalid examples of semver.org, uint64 limits, the length cap),
 * precedence (the spec's §11 chain and its rules one by one), requirement
 * matching per dialect (node-semver's documented desugaring and its test
 * conventions, caret/tilde rules shared with cargo, the Elixir Version docs'
 * allow_pre table, pub_semver's caret and pre-release rules), requirements
 * that must be refused, and the normalized text requirements expand to.
 * Every table row is one case; the total is printed at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "lib/semver.h"

#define N(t) (sizeof(t) / sizeof((t)[0]))

static size_t ncases;

/* ---- parse ------------------------------------------------------------ */

static const struct {
    const char *s;
    uint64_t major, minor, patch;
    const char *pre, *build;
} valid[] = {
    /* semver.org's "valid" examples and the spec's own ones */
    {"0.0.4", 0, 0, 4, NULL, NULL},
    {"1.2.3", 1, 2, 3, NULL, NULL},
    {"10.20.30", 10, 20, 30, NULL, NULL},
    {"1.1.2-prerelease+meta", 1, 1, 2, "prerelease", "meta"},
    {"1.1.2+meta", 1, 1, 2, NULL, "meta"},
    {"1.1.2+meta-valid", 1, 1, 2, NULL, "meta-valid"},
    {"1.0.0-alpha", 1, 0, 0, "alpha", NULL},
    {"1.0.0-beta", 1, 0, 0, "beta", NULL},
    {"1.0.0-alpha.beta", 1, 0, 0, "alpha.beta", NULL},
    {"1.0.0-alpha.beta.1", 1, 0, 0, "alpha.beta.1", NULL},
    {"1.0.0-alpha.1", 1, 0, 0, "alpha.1", NULL},
    {"1.0.0-alpha0.valid", 1, 0, 0, "alpha0.valid", NULL},
    {"1.0.0-alpha.0valid", 1, 0, 0, "alpha.0valid", NULL},
    {"1.0.0-alpha-a.b-c-somethinglong+build.1-aef.1-its-okay", 1, 0, 0, "alpha-a.b-c-somethinglong",
     "build.1-aef.1-its-okay"},
    {"1.0.0-rc.1+build.1", 1, 0, 0, "rc.1", "build.1"},
    {"2.0.0-rc.1+build.123", 2, 0, 0, "rc.1", "build.123"},
    {"1.2.3-beta", 1, 2, 3, "beta", NULL},
    {"10.2.3-DEV-SNAPSHOT", 10, 2, 3, "DEV-SNAPSHOT", NULL},
    {"1.2.3-SNAPSHOT-123", 1, 2, 3, "SNAPSHOT-123", NULL},
    {"2.0.0+build.1848", 2, 0, 0, NULL, "build.1848"},
    {"2.0.1-alpha.1227", 2, 0, 1, "alpha.1227", NULL},
    {"1.0.0-alpha+beta", 1, 0, 0, "alpha", "beta"},
    {"1.2.3----RC-SNAPSHOT.12.9.1--.12+788", 1, 2, 3, "---RC-SNAPSHOT.12.9.1--.12", "788"},
    {"1.2.3----R-S.12.9.1--.12+meta", 1, 2, 3, "---R-S.12.9.1--.12", "meta"},
    {"1.0.0+0.build.1-rc.10000aaa-kk-0.1", 1, 0, 0, NULL, "0.build.1-rc.10000aaa-kk-0.1"},
    {"1.0.0-0A.is.legal", 1, 0, 0, "0A.is.legal", NULL},
    {"1.0.0-x.7.z.92", 1, 0, 0, "x.7.z.92", NULL},
    {"1.0.0-x-y-z.--", 1, 0, 0, "x-y-z.--", NULL},
    {"1.0.0+20130313144700", 1, 0, 0, NULL, "20130313144700"},
    {"1.0.0-beta+exp.sha.5114f85", 1, 0, 0, "beta", "exp.sha.5114f85"},
    {"1.0.0+21AF26D3----117B344092BD", 1, 0, 0, NULL, "21AF26D3----117B344092BD"},
    {"1.0.0+001", 1, 0, 0, NULL, "001"}, /* §10: build identifiers may have leading zeros */
    {"1.0.0-0", 1, 0, 0, "0", NULL},
    {"0.0.0", 0, 0, 0, NULL, NULL},
    {"18446744073709551615.18446744073709551615.18446744073709551615", UINT64_MAX, UINT64_MAX, UINT64_MAX,
     NULL, NULL},
    {"1.0.0-99999999999999999999999", 1, 0, 0, "99999999999999999999999", NULL},
};

static const char *const invalid[] = {
    /* semver.org's "invalid" examples */
    "1", "1.2", "1.2.3-0123", "1.2.3-0123.0123", "1.1.2+.123", "+invalid", "-invalid", "-invalid+invalid",
    "-invalid.01", "alpha", "alpha.beta", "alpha.beta.1", "alpha.1", "alpha+beta", "alpha_beta", "alpha.",
    "alpha..", "beta", "1.0.0-alpha_beta", "-alpha.", "1.0.0-alpha..", "1.0.0-alpha..1", "1.0.0-alpha...1",
    "01.1.1", "1.01.1", "1.1.01", "1.2.3.DEV", "1.2-SNAPSHOT", "1.2.31.2.3----RC-SNAPSHOT.12.09.1--..12+788",
    "1.2-RC-SNAPSHOT", "-1.0.3-gamma+b7718", "+justmeta", "9.8.7+meta+meta", "9.8.7-whatever+meta+meta",
    "99999999999999999999999.999999999999999999.99999999999999999",
    /* ours: strictness and limits */
    "18446744073709551616.0.0", "0.18446744073709551616.0", "v1.2.3", "=1.2.3", " 1.2.3", "1.2.3 ", "",
    "1.2.3-", "1.2.3+", "1.2.3-a b", "1.2.3-beta.01", "1.2.3-é", "1.2.3.4", "1..3", "1.2.x", "00.0.0"};

static void test_parse(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    for (size_t i = 0; i < N(valid); i++) {
        semver v;
        if (semver_parse(a, valid[i].s, &v) != 0)
            fail_msg("should parse: %s", valid[i].s);
        assert_true(v.major == valid[i].major && v.minor == valid[i].minor && v.patch == valid[i].patch);
        if (valid[i].pre)
            assert_string_equal(v.pre, valid[i].pre);
        else
            assert_null(v.pre);
        if (valid[i].build)
            assert_string_equal(v.build, valid[i].build);
        else
            assert_null(v.build);
        assert_int_equal(semver_is_prerelease(&v), valid[i].pre != NULL);
        assert_string_equal(semver_str(a, &v), valid[i].s); /* round trip */
    }
    for (size_t i = 0; i < N(invalid); i++) {
        semver v = {.major = 42};
        if (semver_parse(a, invalid[i], &v) != -1)
            fail_msg("should not parse: \"%s\"", invalid[i]);
        assert_true(v.major == 42); /* untouched on failure */
    }
    /* The 256-byte cap: a long pre-release fits exactly, one byte more does not. */
    char s[300] = "1.0.0-";
    memset(s + 6, 'a', 250);
    s[256] = '\0';
    semver v;
    assert_int_equal(semver_parse(a, s, &v), 0);
    s[256] = 'a';
    s[257] = '\0';
    assert_int_equal(semver_parse(a, s, &v), -1);
    assert_int_equal(semver_parse(a, NULL, &v), -1);
    ncases += N(valid) + N(invalid) + 2;
    arena_free(a);
}

/* ---- precedence ------------------------------------------------------- */

/* SemVer §11.4's example, lowest first. */
static const char *const chain[] = {"1.0.0-alpha",  "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
                                    "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1",       "1.0.0"};

static const struct {
    const char *x, *y;
    int want;
} cmps[] = {
    {"1.0.0", "2.0.0", -1}, /* §11.2 */
    {"2.0.0", "2.1.0", -1},
    {"2.1.0", "2.1.1", -1},
    {"1.9.0", "1.10.0", -1},      /* numerically, not as text */
    {"1.0.0-alpha", "1.0.0", -1}, /* §11.3 */
    {"1.0.0+a", "1.0.0+b", 0},    /* §10: build metadata has no precedence */
    {"1.0.0-alpha+1", "1.0.0-alpha+2", 0},
    {"1.0.0+build", "1.0.0", 0},
    {"1.0.0-2", "1.0.0-10", -1},          /* numeric identifiers numerically */
    {"1.0.0-a10", "1.0.0-a2", -1},        /* alphanumeric ones in ASCII order */
    {"1.0.0-1", "1.0.0-a", -1},           /* numeric lower than alphanumeric */
    {"1.0.0-Z", "1.0.0-a", -1},           /* ASCII: upper case first */
    {"1.0.0-alpha", "1.0.0-alpha.0", -1}, /* more identifiers wins a tie */
    {"1.0.0-rc.1", "1.0.0-rc.1.0", -1},
    {"1.0.0-99999999999999999999999", "1.0.0-9", 1}, /* beyond uint64, still numeric */
    {"1.0.0-0", "1.0.0-00a", -1},
    {"1.0.0-alpha-1", "1.0.0-alpha.1", 1}, /* one identifier "alpha-1" outranks "alpha" */
    {"18446744073709551615.0.0", "18446744073709551614.99.99", 1},
    {"0.0.0-0", "0.0.0", -1},
    {"1.2.3", "1.2.3", 0},
};

static void test_cmp(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    semver v[N(chain)];
    for (size_t i = 0; i < N(chain); i++)
        assert_int_equal(semver_parse(a, chain[i], &v[i]), 0);
    for (size_t i = 0; i < N(chain); i++)
        for (size_t j = 0; j < N(chain); j++) {
            int c = semver_cmp(&v[i], &v[j]);
            int want = i < j ? -1 : i > j;
            if ((c > 0) - (c < 0) != want)
                fail_msg("%s vs %s: %d", chain[i], chain[j], c);
        }
    for (size_t i = 0; i < N(cmps); i++) {
        semver x, y;
        assert_int_equal(semver_parse(a, cmps[i].x, &x), 0);
        assert_int_equal(semver_parse(a, cmps[i].y, &y), 0);
        int c = semver_cmp(&x, &y), r = semver_cmp(&y, &x);
        if ((c > 0) - (c < 0) != cmps[i].want || (r > 0) - (r < 0) != -cmps[i].want)
            fail_msg("%s vs %s: %d, want %d", cmps[i].x, cmps[i].y, c, cmps[i].want);
    }
    ncases += N(chain) + N(cmps);
    arena_free(a);
}

/* ---- matching ---------------------------------------------------------- */

enum { NPM = SEMVER_NPM, NAT = SEMVER_NATIVE, HEX = SEMVER_HEX, PUB = SEMVER_PUB };

static const struct {
    int d;
    const char *req, *v;
    bool pre; /* include_prerelease */
    bool want;
} matches[] = {
    /* npm: node-semver's documented ranges, included */
    {NPM, "1.0.0 - 2.0.0", "1.2.3", 0, 1},
    {NPM, "^1.2.3+build", "1.2.3", 0, 1},
    {NPM, "^1.2.3+build", "1.3.0", 0, 1},
    {NPM, "1.2.3-pre+asdf - 2.4.3-pre+asdf", "1.2.3", 0, 1},
    {NPM, "1.2.3-pre+asdf - 2.4.3-pre+asdf", "1.2.3-pre.2", 0, 1},
    {NPM, "1.2.3-pre+asdf - 2.4.3-pre+asdf", "2.4.3-alpha", 0, 1},
    {NPM, "1.2.3+asdf - 2.4.3+asdf", "1.2.3", 0, 1},
    {NPM, "1.0.0", "1.0.0", 0, 1},
    {NPM, ">=*", "0.2.4", 0, 1},
    {NPM, "", "1.0.0", 0, 1},
    {NPM, "*", "1.2.3", 0, 1},
    {NPM, ">=1.0.0", "1.0.0", 0, 1},
    {NPM, ">1.0.0", "1.0.1", 0, 1},
    {NPM, "<=2.0.0", "2.0.0", 0, 1},
    {NPM, "<=2.0.0", "0.2.9", 0, 1},
    {NPM, "<2.0.0", "1.9999.9999", 0, 1},
    {NPM, ">= 1.0.0", "1.0.0", 0, 1},
    {NPM, "<    2.0.0", "0.2.9", 0, 1},
    {NPM, "0.1.20 || 1.2.4", "1.2.4", 0, 1},
    {NPM, ">=0.2.3 || <0.0.1", "0.0.0", 0, 1},
    {NPM, "||", "1.3.4", 0, 1},
    {NPM, "2.x.x", "2.1.3", 0, 1},
    {NPM, "1.2.x || 2.x", "2.1.3", 0, 1},
    {NPM, "x", "1.2.3", 0, 1},
    {NPM, "2.*.*", "2.1.3", 0, 1},
    {NPM, "2", "2.1.2", 0, 1},
    {NPM, "2.3", "2.3.1", 0, 1},
    {NPM, "~0.0.1", "0.0.2", 0, 1},
    {NPM, "~x", "0.0.9", 0, 1},
    {NPM, "~2.4", "2.4.5", 0, 1},
    {NPM, "~>3.2.1", "3.2.2", 0, 1},
    {NPM, "~> 1", "1.2.3", 0, 1},
    {NPM, "~ 1.0.3", "1.0.12", 0, 1},
    {NPM, ">=1", "1.0.0", 0, 1},
    {NPM, "< 1.2", "1.1.1", 0, 1},
    {NPM, "~v0.5.4-pre", "0.5.5", 0, 1},
    {NPM, "=0.7.x", "0.7.2", 0, 1},
    {NPM, "<=0.7.x", "0.7.2", 0, 1},
    {NPM, "~1.2.1 >=1.2.3 1.2.3", "1.2.3", 0, 1},
    {NPM, "1.2.3 >=1.2.1", "1.2.3", 0, 1},
    {NPM, "^1.2.3", "1.8.1", 0, 1},
    {NPM, "^0.1.2", "0.1.2", 0, 1},
    {NPM, "^0.1", "0.1.2", 0, 1},
    {NPM, "^1.2 ^1", "1.4.2", 0, 1},
    {NPM, "^1.2.3-alpha", "1.2.3-pre", 0, 1},
    {NPM, "^0.0.1-alpha", "0.0.1-beta", 0, 1},
    {NPM, "^0.0.1-alpha", "0.0.1", 0, 1},
    {NPM, "^x", "1.2.3", 0, 1},
    {NPM, "x - 1.0.0", "0.9.7", 0, 1},
    {NPM, "1.0.0 - x", "1.9.7", 0, 1},
    {NPM, "<=7.x", "7.9.9", 0, 1},
    {NPM, "v1.2.3", "1.2.3", 0, 1},
    {NPM, ">=v1.2.3", "1.2.4", 0, 1},
    {NPM, "1.2.3 - 2.3", "2.3.9", 0, 1},
    {NPM, "1.2.3 - 2", "2.9.9", 0, 1},
    {NPM, "1.2 - 2.3.4", "1.2.0", 0, 1},
    {NPM, "~1.2.3-beta.2", "1.2.3-beta.4", 0, 1},
    {NPM, "~1.2.3-beta.2", "1.2.9", 0, 1},
    {NPM, ">1.2.3-alpha.3", "1.2.3-alpha.7", 0, 1},
    {NPM, ">1.2.3-alpha.3", "3.4.5", 0, 1},
    {NPM, "^0.2.3", "0.2.9", 0, 1},
    {NPM, "^0.0", "0.0.9", 0, 1},
    {NPM, "^0.x", "0.9.0", 0, 1},
    {NPM, ">1", "2.0.0", 0, 1},
    {NPM, "1.x.3", "1.5.0", 0, 1}, /* after an x, the rest is ignored */
    {NPM, "^18446744073709551615.0.0", "18446744073709551615.9.9", 0, 1}, /* no overflowing bound */
    /* npm, excluded */
    {NPM, "1.0.0 - 2.0.0", "2.2.3", 0, 0},
    {NPM, "1.2.3+asdf - 2.4.3+asdf", "1.2.3-pre.2", 0, 0},
    {NPM, "^1.2.3+build", "2.0.0", 0, 0},
    {NPM, "^1.2.3+build", "1.2.0", 0, 0},
    {NPM, "^1.2.3", "1.2.3-pre", 0, 0},
    {NPM, "^1.2", "1.2.0-pre", 0, 0},
    {NPM, ">1.2", "1.3.0-beta", 0, 0},
    {NPM, "<=1.2.3", "1.2.3-beta", 0, 0},
    {NPM, "=0.7.x", "0.7.0-asdf", 0, 0},
    {NPM, ">=0.7.x", "0.7.0-asdf", 0, 0},
    {NPM, "1.0.0", "1.0.1", 0, 0},
    {NPM, ">=1.0.0", "0.1.0", 0, 0},
    {NPM, ">1.0.0", "1.0.0", 0, 0},
    {NPM, "<=2.0.0", "2.2.9", 0, 0},
    {NPM, "<2.0.0", "2.0.0", 0, 0},
    {NPM, "0.1.20 || 1.2.4", "1.2.3", 0, 0},
    {NPM, ">=0.2.3 || <0.0.1", "0.2.2", 0, 0},
    {NPM, "1.2.x || 2.x", "3.1.3", 0, 0},
    {NPM, "2.3", "2.4.1", 0, 0},
    {NPM, "~0.0.1", "0.1.0", 0, 0},
    {NPM, "~2.4", "2.3.9", 0, 0},
    {NPM, "~>3.2.1", "3.3.2", 0, 0},
    {NPM, "~1", "2.0.0", 0, 0},
    {NPM, "<1", "1.0.0", 0, 0},
    {NPM, "~v0.5.4-beta", "0.5.4-alpha", 0, 0},
    {NPM, "<0.7.x", "0.7.2", 0, 0},
    {NPM, "<1.2.3", "1.2.3-beta", 0, 0},
    {NPM, "=1.2.3", "1.2.3-beta", 0, 0},
    {NPM, ">1.2", "1.2.8", 0, 0},
    {NPM, "^0.0.1", "0.0.2", 0, 0},
    {NPM, "^1.2.3", "2.0.0-alpha", 0, 0},
    {NPM, "^1.2", "1.1.9", 0, 0},
    {NPM, "*", "1.2.3-foo", 0, 0},
    {NPM, "~1.2.3-beta.2", "1.2.4-beta.2", 0, 0},
    {NPM, ">1.2.3-alpha.3", "3.4.5-alpha.9", 0, 0},
    {NPM, "^0.2.3", "0.3.0", 0, 0},
    {NPM, "^0.0.3", "0.0.4", 0, 0},
    {NPM, "^0.0", "0.1.0", 0, 0},
    {NPM, "^0.x", "1.0.0", 0, 0},
    {NPM, "1.2.3 - 2.3", "2.4.0", 0, 0},
    {NPM, ">*", "1.0.0", 0, 0},
    {NPM, "<*", "0.0.0", 0, 0},
    /* npm with includePrerelease (node-semver's fixtures) */
    {NPM, "*", "1.0.0-rc1", 1, 1},
    {NPM, "^1.0.0-0", "1.0.1-rc1", 1, 1},
    {NPM, "^1.0.0-rc2", "1.0.1-rc1", 1, 1},
    {NPM, "^1.0.0", "1.1.0-rc1", 1, 1},
    {NPM, "1 - 2", "2.0.0-pre", 1, 1},
    {NPM, "1 - 2", "1.0.0-pre", 1, 1},
    {NPM, "1.0 - 2", "1.0.0-pre", 1, 1},
    {NPM, "=0.7.x", "0.7.0-asdf", 1, 1},
    {NPM, ">=0.7.x", "0.7.0-asdf", 1, 1},
    {NPM, ">=1.0.0 <=1.1.0", "1.1.0-pre", 1, 1},
    {NPM, "^0.2.3", "0.2.3-beta", 1, 1}, /* node adds -0 to 0.x caret floors */
    {NPM, "^1.2.3", "1.2.3-beta", 1, 0}, /* ...but not to 1.x ones */
    {NPM, "^1.0.0", "2.0.0-rc1", 1, 0},
    {NPM, "1 - 2", "3.0.0-pre", 1, 0},
    {NPM, "~1.2", "1.2.0-beta", 1, 0}, /* no -0 on tilde floors */
    /* native: the npm grammar */
    {NAT, "~>1.2", "1.2.9", 0, 1},
    {NAT, "~>1.2", "1.3.0", 0, 0},
    {NAT, "^1.0 || ^2.0", "2.5.0", 0, 1},
    {NAT, ">=1.0.0 <1.5.0", "1.5.0", 0, 0},
    /* hex: the Elixir Version docs' table (allow_pre = include_prerelease) */
    {HEX, "~> 2.0", "2.1.0", 0, 1},
    {HEX, "~> 2.0", "3.0.0", 0, 0},
    {HEX, "~> 2.0.0", "2.0.5", 0, 1},
    {HEX, "~> 2.0.0", "2.1.0", 0, 0},
    {HEX, "~> 2.1.2", "2.1.6-dev", 1, 1},
    {HEX, "~> 2.1.2", "2.1.6-dev", 0, 0},
    {HEX, "~> 2.1-dev", "2.2.0-dev", 0, 1},
    {HEX, "~> 2.1.2-dev", "2.1.6-dev", 0, 1},
    {HEX, ">= 2.1.0", "2.2.0-dev", 1, 1},
    {HEX, ">= 2.1.0", "2.2.0-dev", 0, 0},
    {HEX, ">= 2.1.0-dev", "2.2.6-dev", 0, 1},
    /* hex: operators, bare versions, and/or */
    {HEX, "== 2.0.0", "2.0.0", 0, 1},
    {HEX, "== 2.0.0", "2.0.1", 0, 0},
    {HEX, "2.0.0", "2.0.0", 0, 1},
    {HEX, "> 2.0.0", "2.0.1", 0, 1},
    {HEX, "> 2.0.0", "2.0.0", 0, 0},
    {HEX, "<= 1.0.0", "1.0.0", 0, 1},
    {HEX, ">= 2.0.0 and < 2.1.0", "2.0.5", 0, 1},
    {HEX, ">= 2.0.0 and < 2.1.0", "2.1.0", 0, 0},
    {HEX, "~> 2.0 or ~> 3.0", "3.1.0", 0, 1},
    {HEX, "~> 2.0 or ~> 3.0", "4.0.0", 0, 0},
    {HEX, "!= 1.0.0", "1.0.0", 0, 0},
    {HEX, "!= 1.0.0", "1.0.1", 0, 1},
    {HEX, "< 2.0.0", "1.0.0-rc.1", 0, 1}, /* Elixir gates only >, >= and ~> */
    {HEX, "~> 2.0", "3.0.0-rc.1", 1, 0},  /* ~> never admits pre-releases of its bound */
    {HEX, "~> 2.1", "2.0.9", 0, 0},
    {HEX, "~>2.1", "2.5.0", 0, 1},
    {HEX, ">= 1.0.0 and < 2.0.0 or >= 3.0.0", "3.5.0", 0, 1},
    {HEX, ">= 1.0.0 and < 2.0.0 or >= 3.0.0", "2.5.0", 0, 0},
    {HEX, ">= 1.0.0 and < 2.0.0 or >= 3.0.0", "1.5.0", 0, 1},
    {HEX, "== 1.0.0+build", "1.0.0", 0, 1},
    /* pub: pub_semver's constraints */
    {PUB, "any", "1.2.3", 0, 1},
    {PUB, "1.2.3", "1.2.3", 0, 1},
    {PUB, "1.2.3", "1.2.4", 0, 0},
    {PUB, "^1.2.3", "1.9.0", 0, 1},
    {PUB, "^1.2.3", "2.0.0", 0, 0},
    {PUB, "^1.2.3", "1.2.2", 0, 0},
    {PUB, "^0.1.2", "0.1.9", 0, 1},
    {PUB, "^0.1.2", "0.2.0", 0, 0},
    {PUB, "^0.0.3", "0.0.9", 0, 1}, /* Dart: ^0.x bumps the minor even for 0.0.x */
    {PUB, "^0.0.3", "0.1.0", 0, 0},
    {PUB, ">=1.0.0 <2.0.0", "1.5.0", 0, 1},
    {PUB, ">=1.0.0 <2.0.0", "2.0.0", 0, 0},
    {PUB, ">=1.0.0 <2.0.0", "2.0.0-beta", 1, 0},      /* <2.0.0 means <2.0.0-0 */
    {PUB, ">=2.0.0-dev <2.0.0", "2.0.0-dev.2", 0, 1}, /* ...unless the min is a 2.0.0 pre-release */
    {PUB, ">=1.0.0 <2.0.0", "1.5.0-beta", 1, 1},
    {PUB, ">=1.0.0 <2.0.0", "1.5.0-beta", 0, 0},
    {PUB, ">2.0.4 <=2.4.6", "2.4.6", 0, 1},
    {PUB, ">2.0.4 <=2.4.6", "2.0.4", 0, 0},
    {PUB, "<=5.1.4", "5.1.4", 0, 1},
    {PUB, ">1.0.0 >1.5.0", "1.4.0", 0, 0},
    {PUB, ">1.0.0 >1.5.0", "1.6.0", 0, 1},
    {PUB, ">=1.0.0<2.0.0", "1.5.0", 0, 1},
    {PUB, "^1.0.0-alpha", "1.0.0-beta", 0, 1},
    {PUB, ">=2.0.0 <1.0.0", "1.5.0", 0, 0},
    {PUB, ">=1.2.3 <=1.2.3", "1.2.3", 0, 1},
    {PUB, "<2.0.0", "2.0.0-dev", 1, 0},
    {PUB, "  ^1.2.3  ", "1.2.3", 0, 1},
};

static void test_match(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    for (size_t i = 0; i < N(matches); i++) {
        derr e;
        derr_clear(&e);
        semver_req *r = semver_req_parse(a, (enum semver_dialect)matches[i].d, matches[i].req, &e);
        if (!r)
            fail_msg("row %zu: \"%s\" should parse: %s", i, matches[i].req, e.message);
        semver v;
        if (semver_parse(a, matches[i].v, &v) != 0)
            fail_msg("row %zu: bad version %s", i, matches[i].v);
        bool got = semver_req_match(r, &v, matches[i].pre);
        if (got != matches[i].want)
            fail_msg("row %zu: \"%s\" (%s) vs %s%s: got %d", i, matches[i].req, semver_req_str(a, r),
                     matches[i].v, matches[i].pre ? " incl-pre" : "", got);
    }
    ncases += N(matches);
    arena_free(a);
}

/* ---- refused requirements ---------------------------------------------- */

static const struct {
    int d;
    const char *req;
} bad_reqs[] = {
    {NPM, "blerg"},
    {NPM, ">="},
    {NPM, "1.2.3 -"},
    {NPM, "1.2.3 - 2.3.4 - 5"},
    {NPM, ">=1.2.3 - 2.3.4"},
    {NPM, "01.2.3"},
    {NPM, "1.2.3-01"},
    {NPM, "1.2.x-beta"},
    {NPM, "1.2.3.4"},
    {NPM, "^"},
    {NPM, "~"},
    {NPM, "1.2.3 >"},
    {NPM, "a || b"},
    {NPM, ">>1.0.0"},
    {NPM, "1.2.3|2.0.0"},
    {NPM, "18446744073709551616"},
    {NPM, "1.2.3-"},
    {NPM, "V1.2.3"},
    {NAT, "~>"},
    {NAT, "="},
    {HEX, ""},
    {HEX, "~> 2"},
    {HEX, ">= 2.0"},
    {HEX, "== == 2.0.0"},
    {HEX, "2.0.0 and"},
    {HEX, "and 2.0.0"},
    {HEX, "2.0.0 2.1.0"},
    {HEX, "~> 2.0 xor ~> 3.0"},
    {HEX, "v1.0.0"},
    {HEX, "01.0.0"},
    {HEX, "~>"},
    {HEX, ">= 1.0.0-01"},
    {HEX, "^1.0.0"},
    {HEX, "1.0.0 || 2.0.0"},
    {HEX, ">=1.0.0,<2.0.0"},
    {PUB, ""},
    {PUB, "^1.2"},
    {PUB, "^1.2.3 <2.0.0"},
    {PUB, "1.2"},
    {PUB, ">=1.0"},
    {PUB, "any >=1.0.0"},
    {PUB, "=1.2.3"},
    {PUB, "~1.2.3"},
    {PUB, "1.2.3 || 2.0.0"},
    {PUB, ">=01.0.0"},
    {PUB, "x"},
    {PUB, "<"},
};

static void test_bad_reqs(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    for (size_t i = 0; i < N(bad_reqs); i++) {
        derr e;
        derr_clear(&e);
        semver_req *r = semver_req_parse(a, (enum semver_dialect)bad_reqs[i].d, bad_reqs[i].req, &e);
        if (r)
            fail_msg("row %zu: \"%s\" should be refused, got %s", i, bad_reqs[i].req, semver_req_str(a, r));
        assert_int_equal(e.status, 422);
        assert_string_equal(e.code, "invalid");
        assert_non_null(strstr(e.message, "invalid requirement"));
    }
    ncases += N(bad_reqs);

    /* Caps: length, alternatives, terms. */
    char big[2048];
    derr e;
    memset(big, '1', sizeof big);
    big[1025] = '\0';
    assert_null(semver_req_parse(a, SEMVER_NPM, big, &e));
    assert_non_null(strstr(e.message, "longer than"));
    size_t n = 0;
    for (int i = 0; i < 33; i++)
        n += (size_t)snprintf(big + n, sizeof big - n, "%s%d", i ? "||" : "", i);
    assert_null(semver_req_parse(a, SEMVER_NPM, big, &e));
    assert_non_null(strstr(e.message, "alternatives"));
    big[0] = '\0';
    n = 0;
    for (int i = 0; i < 33; i++)
        n += (size_t)snprintf(big + n, sizeof big - n, ">=%d.0.0 ", i);
    assert_null(semver_req_parse(a, SEMVER_NPM, big, &e));
    assert_non_null(strstr(e.message, "terms"));
    big[n - 1 - strlen(">=32.0.0")] = '\0'; /* 32 terms are fine */
    assert_non_null(semver_req_parse(a, SEMVER_NPM, big, &e));
    n = 0;
    for (int i = 0; i < 33; i++)
        n += (size_t)snprintf(big + n, sizeof big - n, "%s~> %d.0", i ? " or " : "", i);
    assert_null(semver_req_parse(a, SEMVER_HEX, big, &e));
    ncases += 5;
    arena_free(a);
}

/* ---- normalized text, mentions and pins -------------------------------- */

static const struct {
    int d;
    const char *req, *norm;
    bool mentions, pinned;
} norms[] = {
    {NPM, "^1.2.3", ">=1.2.3 <2.0.0-0", 0, 0},
    {NPM, "~1.2", ">=1.2.0 <1.3.0-0", 0, 0},
    {NPM, "1.2.3 - 2.3", ">=1.2.3 <2.4.0-0", 0, 0},
    {NPM, "*", "*", 0, 0},
    {NPM, "", "*", 0, 0},
    {NPM, "1.x || >=2.5.0", ">=1.0.0 <2.0.0-0 || >=2.5.0", 0, 0},
    {NPM, "^0.0.3", ">=0.0.3 <0.0.4-0", 0, 0},
    {NPM, "^0.0.3-beta", ">=0.0.3-beta <0.0.4-0", 1, 0},
    {NPM, ">1", ">=2.0.0", 0, 0},
    {NPM, "<=1.2", "<1.3.0-0", 0, 0},
    {NPM, "=1.2.3", "1.2.3", 0, 1},
    {NPM, "v1.2.3", "1.2.3", 0, 1},
    {NPM, "1.2.3", "1.2.3", 0, 1},
    {NPM, "1.2", ">=1.2.0 <1.3.0-0", 0, 0},
    {NPM, ">*", "<0.0.0-0", 0, 0},
    {NPM, "^1.2.3-beta.1", ">=1.2.3-beta.1 <2.0.0-0", 1, 0},
    {NAT, "~>1.2.3", ">=1.2.3 <1.3.0-0", 0, 0},
    {HEX, "~> 2.1", ">= 2.1.0 and < 3.0.0-0", 0, 0},
    {HEX, "~> 2.1.3-dev", ">= 2.1.3-dev and < 2.2.0-0", 1, 0},
    {HEX, "1.0.0 or 2.0.0", "== 1.0.0 or == 2.0.0", 0, 0},
    {HEX, "== 1.2.3", "== 1.2.3", 0, 1},
    {HEX, "1.2.3", "== 1.2.3", 0, 1},
    {HEX, "~> 1.2.3", ">= 1.2.3 and < 1.3.0-0", 0, 0},
    {HEX, ">= 1.0.0 and < 2.0.0 or == 3.0.0", ">= 1.0.0 and < 2.0.0 or == 3.0.0", 0, 0},
    {PUB, "^0.1.2", ">=0.1.2 <0.2.0-0", 0, 0},
    {PUB, "^1.0.0-alpha", ">=1.0.0-alpha <2.0.0-0", 1, 0},
    {PUB, ">=1.0.0 <2.0.0", ">=1.0.0 <2.0.0-0", 0, 0},
    {PUB, "any", "any", 0, 0},
    {PUB, ">=2.0.0-dev <2.0.0", ">=2.0.0-dev <2.0.0", 1, 0},
    {PUB, ">=1.2.3 <=1.2.3", "1.2.3", 0, 1},
    {PUB, "1.2.3", "1.2.3", 0, 1},
    {PUB, ">2.0.0 <1.0.0", "<0.0.0-0", 0, 0},
    {PUB, "<2.0.0+build", "<2.0.0+build", 0, 0}, /* a build on the max keeps it as written */
};

static void test_norm(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    for (size_t i = 0; i < N(norms); i++) {
        derr e;
        semver_req *r = semver_req_parse(a, (enum semver_dialect)norms[i].d, norms[i].req, &e);
        if (!r)
            fail_msg("row %zu: \"%s\": %s", i, norms[i].req, e.message);
        const char *got = semver_req_str(a, r);
        if (strcmp(got, norms[i].norm) != 0)
            fail_msg("row %zu: \"%s\" gave \"%s\", want \"%s\"", i, norms[i].req, got, norms[i].norm);
        assert_int_equal(semver_req_mentions_prerelease(r), norms[i].mentions);
        assert_int_equal(semver_req_pinned(r) != NULL, norms[i].pinned);
    }
    ncases += N(norms);

    derr e;
    semver_req *r = semver_req_parse(a, SEMVER_NPM, "  ^1.2  ", &e);
    assert_string_equal(semver_req_text(r), "^1.2");
    const semver *pin = semver_req_pinned(semver_req_parse(a, SEMVER_HEX, "== 1.2.3-rc.1", &e));
    assert_non_null(pin);
    assert_string_equal(semver_str(a, pin), "1.2.3-rc.1");
    ncases += 2;
    arena_free(a);
}

static int report(void **state)
{
    (void)state;
    printf("semver: %zu table cases\n", ncases);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),    cmocka_unit_test(test_cmp),  cmocka_unit_test(test_match),
        cmocka_unit_test(test_bad_reqs), cmocka_unit_test(test_norm),
    };
    return cmocka_run_group_tests(tests, NULL, report);
}
