/*
 * test_resolve.c — src/core/resolve.c over a fake provider that serves a
 * "universe" written as lines ("a 1.0.0 [yanked]; dep req; dep2"). A table
 * of scenarios covers chains, a diamond, conflicts and their messages,
 * backtracking, pre-releases, yanked versions and root pins, missing
 * packages, cycles, bad requirements and provider failures. Then: a
 * generated 50-package graph that needs backtracking (solved in
 * milliseconds), two adversarial graphs that must end within max_steps, and
 * a cross-check against brute force on hundreds of random small universes
 * (the resolver succeeds exactly when some valid assignment exists, and
 * what it returns is valid). Every answer is also checked independently:
 * one pick per name, sorted, every requirement holding, providers asked at
 * most once per name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/resolve.h"

#define N(t) (sizeof(t) / sizeof((t)[0]))

/* ---- the fake provider ------------------------------------------------ */

typedef struct fake {
    const char *const *lines;
    int nlines;
    const char *asked[512];
    int nasked, repeats;
    const char *fail_on; /* a name whose lookup fails */
} fake;

static const char *skip_space(const char *s)
{
    while (*s == ' ')
        s++;
    return s;
}

/* Parses "name version [yanked]; dep [req]; ..." into c when the name is `name`. */
static bool parse_line(arena *a, const char *line, const char *name, resolve_candidate *c)
{
    size_t nl = strcspn(line, " ");
    if (strlen(name) != nl || memcmp(line, name, nl) != 0)
        return false;
    const char *p = skip_space(line + nl);
    size_t vl = strcspn(p, " ;");
    memset(c, 0, sizeof *c);
    c->version = arena_strndup(a, p, vl);
    if (semver_parse(a, c->version, &c->v) != 0)
        fail_msg("bad version in test data: %s", line);
    p = skip_space(p + vl);
    if (strncmp(p, "yanked", 6) == 0) {
        c->yanked = true;
        p = skip_space(p + 6);
    }
    const char **names = arena_zalloc(a, sizeof *names * 16);
    const char **reqs = arena_zalloc(a, sizeof *reqs * 16);
    while (*p == ';') {
        p = skip_space(p + 1);
        size_t seg = strcspn(p, ";");
        size_t dn = strcspn(p, " ;");
        names[c->ndeps] = arena_strndup(a, p, dn);
        const char *r = skip_space(p + dn);
        size_t rl = (size_t)(p + seg - r);
        while (rl > 0 && r[rl - 1] == ' ')
            rl--;
        reqs[c->ndeps] = rl ? arena_strndup(a, r, rl) : NULL;
        c->ndeps++;
        p += seg;
    }
    c->dep_names = names;
    c->dep_reqs = reqs;
    c->user = (void *)line;
    return true;
}

static int line_order(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static int fake_versions(void *ctx, arena *a, const char *name, resolve_candidate **out, int *n, derr *e)
{
    fake *f = ctx;
    for (int i = 0; i < f->nasked; i++)
        if (strcmp(f->asked[i], name) == 0)
            f->repeats++;
    if (f->nasked < (int)N(f->asked))
        f->asked[f->nasked++] = arena_strdup(a, name);
    if (f->fail_on && strcmp(name, f->fail_on) == 0)
        return derr_set(e, 503, "unavailable", "the store is down");
    /* The lines are sorted: the versions of `name` start at the first line >= "name ". */
    size_t nl = strlen(name);
    char *key = arena_printf(a, "%s ", name);
    int lo = 0, hi = f->nlines;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (strcmp(f->lines[mid], key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    int count = 0;
    while (lo + count < f->nlines && strncmp(f->lines[lo + count], key, nl + 1) == 0)
        count++;
    resolve_candidate *c = arena_zalloc(a, sizeof *c * (size_t)(count ? count : 1));
    int k = 0;
    for (int i = lo; i < lo + count; i++)
        k += parse_line(a, f->lines[i], name, &c[k]);
    *out = c;
    *n = k;
    return 0;
}

/* ---- checking an answer ------------------------------------------------ */

static bool allowed(arena *a, enum semver_dialect d, bool incl, const char *req, const semver *v)
{
    derr e;
    const char *text = req ? req : d == SEMVER_HEX ? ">= 0.0.0" : d == SEMVER_PUB ? "any" : "";
    semver_req *r = semver_req_parse(a, d, text, &e);
    assert_non_null(r);
    return semver_req_match(r, v, incl) &&
           (incl || !semver_is_prerelease(v) || semver_req_mentions_prerelease(r));
}

static const resolve_pick *find_pick(const resolve_pick *p, int n, const char *name)
{
    int lo = 0, hi = n; /* picks are sorted by name (checked first) */
    while (lo < hi) {
        int mid = (lo + hi) / 2, c = strcmp(p[mid].name, name);
        if (c == 0)
            return &p[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Every root and every dependency of every pick holds; names sorted and
 * unique; yanked picks only where a root pins them. */
static void verify(arena *a, const resolve_pick *p, int n, const char *const *names, const char *const *reqs,
                   int nroots, enum semver_dialect d, bool incl)
{
    for (int i = 1; i < n; i++)
        assert_true(strcmp(p[i - 1].name, p[i].name) < 0);
    for (int i = 0; i < nroots; i++) {
        const resolve_pick *q = find_pick(p, n, names[i]);
        if (!q)
            fail_msg("root %s not picked", names[i]);
        if (!allowed(a, d, incl, reqs[i], &q->c->v))
            fail_msg("root %s %s not met by %s", names[i], reqs[i], q->c->version);
    }
    for (int i = 0; i < n; i++) {
        const resolve_candidate *c = p[i].c;
        for (int k = 0; k < c->ndeps; k++) {
            const resolve_pick *q = find_pick(p, n, c->dep_names[k]);
            if (!q)
                fail_msg("%s %s needs %s, not picked", p[i].name, c->version, c->dep_names[k]);
            if (!allowed(a, d, incl, c->dep_reqs[k], &q->c->v))
                fail_msg("%s %s needs %s %s, got %s", p[i].name, c->version, c->dep_names[k], c->dep_reqs[k],
                         q->c->version);
        }
        if (c->yanked) {
            bool pinned = false;
            for (int k = 0; k < nroots; k++) {
                derr e;
                semver_req *r = reqs[k] ? semver_req_parse(a, d, reqs[k], &e) : NULL;
                const semver *pin = r ? semver_req_pinned(r) : NULL;
                pinned = pinned || (strcmp(names[k], p[i].name) == 0 && pin && semver_cmp(pin, &c->v) == 0);
            }
            if (!pinned)
                fail_msg("yanked %s %s picked without a root pin", p[i].name, c->version);
        }
    }
}

typedef struct run {
    int rc;
    derr e;
    char picks[32768]; /* "a 1.0.0 b 2.0.0" */
    double ms;
} run;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Resolves roots ("name [req]") over the universe, verifies a success, and
 * checks the provider was asked once per name. */
static void solve(const char *const *lines, int nlines, const char *const *roots, int nroots,
                  const resolve_opts *o, const char *fail_on, run *r)
{
    arena *a = arena_new(0);
    const char **sorted = arena_memdup(a, lines, sizeof *lines * (size_t)(nlines ? nlines : 1));
    qsort(sorted, (size_t)nlines, sizeof *sorted, line_order);
    fake f = {.lines = sorted, .nlines = nlines, .fail_on = fail_on};
    resolve_provider prov = {.versions = fake_versions, .ctx = &f};
    const char **names = arena_zalloc(a, sizeof *names * (size_t)(nroots + 1));
    const char **reqs = arena_zalloc(a, sizeof *reqs * (size_t)(nroots + 1));
    for (int i = 0; i < nroots; i++) {
        size_t nl = strcspn(roots[i], " ");
        names[i] = arena_strndup(a, roots[i], nl);
        reqs[i] = roots[i][nl] ? arena_strdup(a, skip_space(roots[i] + nl)) : NULL;
    }
    resolve_pick *picks = NULL;
    int n = -1;
    derr_clear(&r->e);
    double t0 = now_ms();
    r->rc = resolve(a, &prov, names, reqs, nroots, o, &picks, &n, &r->e);
    r->ms = now_ms() - t0;
    r->picks[0] = '\0';
    assert_int_equal(f.repeats, 0);
    if (r->rc == 0) {
        enum semver_dialect d = o ? o->dialect : SEMVER_NATIVE;
        verify(a, picks, n, names, reqs, nroots, d, o && o->include_prerelease);
        size_t len = 0;
        for (int i = 0; i < n && len < sizeof r->picks; i++)
            len += (size_t)snprintf(r->picks + len, sizeof r->picks - len, "%s%s %s", i ? " " : "",
                                    picks[i].name, picks[i].c->version);
        assert_true(len < sizeof r->picks);
    } else {
        assert_int_equal(r->rc, -1);
        assert_null(picks);
        assert_int_equal(n, 0);
    }
    arena_free(a);
}

/* ---- scenarios ----------------------------------------------------------- */

enum { NAT = SEMVER_NATIVE, NPM = SEMVER_NPM, HEX = SEMVER_HEX, PUB = SEMVER_PUB };

static const struct scenario {
    const char *what;
    const char *universe[16];
    const char *roots[4];
    int dialect;
    bool pre;
    const char *want; /* the picks, or NULL when it must fail */
    const char *msg;  /* on failure: the exact message, or "~text" for a part of it */
} scenarios[] = {
    {"chain: highest everywhere",
     {"a 1.0.0; b ^1.0", "a 1.1.0; b ^1.1", "b 1.0.0; c ^1", "b 1.1.0; c ^1", "b 1.2.0; c ^1", "b 2.0.0",
      "c 1.0.0", "c 1.5.0", "c 2.0.0"},
     {"a"},
     NAT,
     0,
     "a 1.1.0 b 1.2.0 c 1.5.0",
     NULL},
    {"diamond: the shared dependency meets both sides",
     {"app 1.0.0; left ^1; right ^1", "left 1.0.0; shared >=1.2.0", "right 1.0.0; shared >=1.0.0 <1.5.0",
      "shared 1.0.0", "shared 1.2.0", "shared 1.4.0", "shared 1.6.0", "shared 2.0.0"},
     {"app"},
     NPM,
     0,
     "app 1.0.0 left 1.0.0 right 1.0.0 shared 1.4.0",
     NULL},
    {"conflict between two packages",
     {"a 1.0.0; c ^1.0", "b 2.0.0; c ^2.0", "c 1.0.0", "c 2.0.0"},
     {"a ^1.0", "b ^2.0"},
     NAT,
     0,
     NULL,
     "a 1.0.0 needs c ^1.0 but b 2.0.0 needs c ^2.0; no version of c satisfies both"},
    {"conflict between the roots",
     {"c 1.0.0", "c 2.0.0"},
     {"c ^1.0", "c ^2.0"},
     NAT,
     0,
     NULL,
     "the root needs c ^1.0 but the root needs c ^2.0; no version of c satisfies both"},
    {"conflict with a root, every version tried",
     {"a 2.0.0; c ^2", "a 1.0.0; c ^3", "c 1.0.0", "c 2.0.0"},
     {"c ^1", "a"},
     NAT,
     0,
     NULL,
     "the root needs c ^1 but a 2.0.0 needs c ^2; no version of c satisfies both; no other version of a "
     "works "
     "either"},
    {"backtracking: the newest lib wants another util",
     {"app 1.0.0; lib; util ^1.0", "lib 2.0.0; util ^2.0", "lib 1.5.0; util ^1.0", "util 1.0.0",
      "util 2.0.0"},
     {"app"},
     NAT,
     0,
     "app 1.0.0 lib 1.5.0 util 1.0.0",
     NULL},
    {"backtracking two hops away",
     {"a 2.0.0; x ^1", "a 1.0.0; x ^1", "x 1.1.0; y ^2", "x 1.0.0; y ^1", "b 1.0.0; z ^1", "z 1.0.0; y ^1",
      "y 1.0.0", "y 2.0.0"},
     {"a", "b"},
     NAT,
     0,
     "a 2.0.0 b 1.0.0 x 1.0.0 y 1.0.0 z 1.0.0",
     NULL},
    {"backtracking over a decision made early",
     {"top 1.0.0; m1 ^1; m2 ^1", "m1 1.1.0; leaf ^2", "m1 1.0.0; leaf ^1", "m2 1.1.0; deep ^1",
      "m2 1.0.0; deep ^1", "deep 1.0.0; leaf ^1", "leaf 1.0.0", "leaf 2.0.0"},
     {"top"},
     NAT,
     0,
     "deep 1.0.0 leaf 1.0.0 m1 1.0.0 m2 1.1.0 top 1.0.0",
     NULL},
    {"pre-releases are skipped", {"c 1.0.0", "c 1.1.0-beta.1"}, {"c ^1.0.0"}, NPM, 0, "c 1.0.0", NULL},
    {"pre-releases when asked for",
     {"c 1.0.0", "c 1.1.0-beta.1"},
     {"c ^1.0.0"},
     NPM,
     1,
     "c 1.1.0-beta.1",
     NULL},
    {"pre-releases when the requirement names one",
     {"c 1.0.0", "c 1.1.0-beta.1", "c 1.1.0-beta.2"},
     {"c ^1.1.0-beta.1"},
     NPM,
     0,
     "c 1.1.0-beta.2",
     NULL},
    {"only pre-releases exist",
     {"d 2.0.0-rc.1"},
     {"d"},
     NAT,
     0,
     NULL,
     "the root needs d but no version of d matches; d has 2.0.0-rc.1"},
    {"hex: a pre-release through ~> with a pre-release operand",
     {"c 1.0.0", "c 1.1.0-rc.0"},
     {"c ~> 1.1.0-rc.0"},
     HEX,
     0,
     "c 1.1.0-rc.0",
     NULL},
    {"hex: < alone does not admit pre-releases to the resolver",
     {"c 1.0.0", "c 1.1.0-rc.0"},
     {"c < 2.0.0"},
     HEX,
     0,
     "c 1.0.0",
     NULL},
    {"hex: ~> and a dependency",
     {"phoenix 1.7.2; plug ~> 1.14", "phoenix 1.7.1; plug ~> 1.13", "plug 1.15.0", "plug 1.14.2",
      "plug 2.0.0"},
     {"phoenix ~> 1.7"},
     HEX,
     0,
     "phoenix 1.7.2 plug 1.15.0",
     NULL},
    {"pub: caret on 0.x",
     {"http 0.13.6", "http 0.13.5", "http 1.1.0", "app 1.0.0; http ^0.13.0"},
     {"app any"},
     PUB,
     0,
     "app 1.0.0 http 0.13.6",
     NULL},
    {"pub: <2.0.0 keeps 2.0.0 pre-releases out",
     {"c 1.5.0", "c 2.0.0-dev.1"},
     {"c >=1.0.0 <2.0.0"},
     PUB,
     1,
     "c 1.5.0",
     NULL},
    {"yanked versions are skipped", {"c 1.2.0 yanked", "c 1.1.0"}, {"c ^1.0"}, NAT, 0, "c 1.1.0", NULL},
    {"a root pin allows a yanked version (=)",
     {"c 1.2.0 yanked", "c 1.1.0"},
     {"c =1.2.0"},
     NAT,
     0,
     "c 1.2.0",
     NULL},
    {"a root pin allows a yanked version (bare)",
     {"c 1.2.0 yanked", "c 1.1.0"},
     {"c 1.2.0"},
     NPM,
     0,
     "c 1.2.0",
     NULL},
    {"a root pin allows a yanked version (hex ==)",
     {"c 1.2.0 yanked", "c 1.1.0"},
     {"c == 1.2.0"},
     HEX,
     0,
     "c 1.2.0",
     NULL},
    {"a root pin allows a yanked version (pub)",
     {"c 1.2.0 yanked", "c 1.1.0"},
     {"c 1.2.0"},
     PUB,
     0,
     "c 1.2.0",
     NULL},
    {"a root pin allows a yanked version for that root only",
     {"c 1.2.0 yanked; d ^1.0", "c 1.1.0", "d 1.2.0 yanked", "d 1.1.0"},
     {"c =1.2.0"},
     NAT,
     0,
     "c 1.2.0 d 1.1.0",
     NULL},
    {"a dependency cannot pin a yanked version",
     {"a 1.0.0; c =1.2.0", "c 1.2.0 yanked", "c 1.1.0"},
     {"a"},
     NAT,
     0,
     NULL,
     "a 1.0.0 needs c =1.2.0 but no unyanked version of c matches; c has 1.2.0, 1.1.0"},
    {"a range cannot reach a yanked version",
     {"c 1.2.0 yanked", "c 1.1.0"},
     {"c ^1.2.0"},
     NAT,
     0,
     NULL,
     "the root needs c ^1.2.0 but no unyanked version of c matches; c has 1.2.0, 1.1.0"},
    {"missing root package",
     {"c 1.0.0"},
     {"nope ^1"},
     NAT,
     0,
     NULL,
     "the root needs nope, which does not exist"},
    {"missing dependency",
     {"a 1.0.0; ghost ^1"},
     {"a"},
     NAT,
     0,
     NULL,
     "a 1.0.0 needs ghost, which does not exist"},
    {"missing dependency of the newest version only",
     {"a 2.0.0; ghost ^1", "a 1.0.0"},
     {"a"},
     NAT,
     0,
     "a 1.0.0",
     NULL},
    {"no matching version",
     {"c 1.0.0", "c 2.0.0"},
     {"c ^3.0"},
     NAT,
     0,
     NULL,
     "the root needs c ^3.0 but no version of c matches; c has 2.0.0, 1.0.0"},
    {"no matching version, many available",
     {"c 1.0.0", "c 1.1.0", "c 1.2.0", "c 1.3.0", "c 1.4.0", "c 1.5.0"},
     {"c ^2"},
     NAT,
     0,
     NULL,
     "the root needs c ^2 but no version of c matches; c has 1.5.0, 1.4.0, 1.3.0, 1.2.0 and 2 more"},
    {"a cycle", {"a 1.0.0; b ^1", "b 1.0.0; a ^1"}, {"a"}, NAT, 0, "a 1.0.0 b 1.0.0", NULL},
    {"a cycle through an older version",
     {"a 2.0.0; b ^1", "a 1.0.0; b ^1", "b 1.0.0; a ^1"},
     {"a"},
     NAT,
     0,
     "a 1.0.0 b 1.0.0",
     NULL},
    {"a package needing itself", {"s 1.0.0; s ^1"}, {"s"}, NAT, 0, "s 1.0.0", NULL},
    {"a version contradicting itself", {"t 2.0.0; t ^1", "t 1.0.0"}, {"t"}, NAT, 0, "t 1.0.0", NULL},
    {"an unusable dependency requirement skips that version",
     {"a 2.0.0; c ^^1", "a 1.0.0; c ^1", "c 1.0.0"},
     {"a"},
     NAT,
     0,
     "a 1.0.0 c 1.0.0",
     NULL},
    {"an unusable dependency requirement everywhere",
     {"b 1.0.0; c blerg", "c 1.0.0"},
     {"b"},
     NAT,
     0,
     NULL,
     "~b 1.0.0 has an unusable requirement on c"},
    {"no roots", {"c 1.0.0"}, {NULL}, NAT, 0, "", NULL},
    {"the same root twice", {"c 1.0.0", "c 1.5.0", "c 2.0.0"}, {"c ^1", "c <1.5.0"}, NAT, 0, "c 1.0.0", NULL},
};

static int count_roots(const char *const *roots, int max)
{
    int n = 0;
    while (n < max && roots[n])
        n++;
    return n;
}

static int count_lines(const char *const *lines, int max)
{
    int n = 0;
    while (n < max && lines[n])
        n++;
    return n;
}

static void test_scenarios(void **state)
{
    (void)state;
    for (size_t i = 0; i < N(scenarios); i++) {
        const struct scenario *s = &scenarios[i];
        resolve_opts o = {.dialect = (enum semver_dialect)s->dialect, .include_prerelease = s->pre};
        run r;
        solve(s->universe, count_lines(s->universe, 16), s->roots, count_roots(s->roots, 4), &o, NULL, &r);
        if (s->want) {
            if (r.rc != 0)
                fail_msg("%s: failed: %s", s->what, r.e.message);
            if (strcmp(r.picks, s->want) != 0)
                fail_msg("%s: got \"%s\", want \"%s\"", s->what, r.picks, s->want);
        } else {
            if (r.rc == 0)
                fail_msg("%s: should fail, got \"%s\"", s->what, r.picks);
            assert_int_equal(r.e.status, 422);
            assert_string_equal(r.e.code, "unresolvable");
            bool ok =
                s->msg[0] == '~' ? strstr(r.e.message, s->msg + 1) != NULL : strcmp(r.e.message, s->msg) == 0;
            if (!ok)
                fail_msg("%s: message \"%s\", want \"%s\"", s->what, r.e.message, s->msg);
        }
    }
    printf("resolve: %zu scenarios\n", N(scenarios));
}

static void test_errors(void **state)
{
    (void)state;
    const char *const uni[] = {"a 1.0.0; boom ^1", "c 1.0.0"};
    run r;
    /* An invalid root requirement. */
    const char *const bad[] = {"c blerg"};
    solve(uni, 2, bad, 1, NULL, NULL, &r);
    assert_int_equal(r.rc, -1);
    assert_int_equal(r.e.status, 422);
    assert_string_equal(r.e.code, "invalid");
    assert_non_null(strstr(r.e.message, "c: invalid requirement"));
    /* The provider failing, at the root and deeper. */
    const char *const root_boom[] = {"boom"};
    solve(uni, 2, root_boom, 1, NULL, "boom", &r);
    assert_int_equal(r.e.status, 503);
    assert_string_equal(r.e.code, "unavailable");
    const char *const deep_boom[] = {"a"};
    solve(uni, 2, deep_boom, 1, NULL, "boom", &r);
    assert_int_equal(r.rc, -1);
    assert_int_equal(r.e.status, 503);
    /* NULL opts and NULL requirement arrays mean native, any version. */
    arena *a = arena_new(0);
    fake f = {.lines = uni, .nlines = 2};
    resolve_provider prov = {.versions = fake_versions, .ctx = &f};
    const char *names[] = {"c"};
    resolve_pick *picks;
    int n;
    derr e;
    assert_int_equal(resolve(a, &prov, names, NULL, 1, NULL, &picks, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_string_equal(picks[0].c->version, "1.0.0");
    assert_ptr_equal(picks[0].c->user, uni[1]); /* the provider's pointer, passed through */
    arena_free(a);
}

/* ---- generated graphs -------------------------------------------------- */

static const char **gen_lines(arena *a, int cap)
{
    return arena_zalloc(a, sizeof(const char *) * (size_t)cap);
}

/* 50 packages, four versions each; p_i depends on p_{i+1}, p_{i+3}, p_{i+7}
 * with ^2.0 from its 2.0.0 and ^1.0 from its 1.x versions. The roots want
 * p00 (any) and p30 ^1.0, so the all-2.0.0 graph the search tries first
 * fails deep down and every package has to fall back to 1.2.0. */
static void test_graph50(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    const char **lines = gen_lines(a, 256);
    int n = 0;
    static const char *const vers[] = {"1.0.0", "1.1.0", "1.2.0", "2.0.0"};
    for (int i = 0; i < 50; i++) {
        for (int v = 0; v < 4; v++) {
            char buf[256];
            size_t len = (size_t)snprintf(buf, sizeof buf, "p%02d %s", i, vers[v]);
            static const int step[] = {1, 3, 7};
            for (int k = 0; k < 3; k++)
                if (i + step[k] < 50)
                    len += (size_t)snprintf(buf + len, sizeof buf - len, "; p%02d %s", i + step[k],
                                            v == 3 ? "^2.0" : "^1.0");
            lines[n++] = arena_strdup(a, buf);
        }
    }
    const char *const roots[] = {"p00", "p30 ^1.0"};
    run r;
    solve(lines, n, roots, 2, NULL, NULL, &r);
    if (r.rc != 0)
        fail_msg("graph50: %s", r.e.message);
    for (int i = 0; i < 50; i++) {
        char want[32];
        snprintf(want, sizeof want, "p%02d 1.2.0", i);
        assert_non_null(strstr(r.picks, want));
    }
    printf("resolve: 50-package graph in %.2f ms\n", r.ms);
    assert_true(r.ms < 1000);

    /* The same graph without the p30 root: all 2.0.0. */
    const char *const roots2[] = {"p00"};
    solve(lines, n, roots2, 1, NULL, NULL, &r);
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.picks, "p00 2.0.0"));
    assert_non_null(strstr(r.picks, "p49 2.0.0"));
    arena_free(a);
}

/* A wide random graph: 2000 packages, three versions each, up to four
 * dependencies on later packages; the newest versions of one in ten
 * packages want ^2.0 of something that only has 1.x, so the search has to
 * step back in many places. */
static void test_graph_large(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    enum { NP = 2000 };
    const char **lines = gen_lines(a, NP * 3);
    int n = 0;
    uint64_t x = 42;
    for (int i = 0; i < NP; i++) {
        for (int v = 0; v < 3; v++) {
            char buf[256];
            size_t len = (size_t)snprintf(buf, sizeof buf, "n%04d 1.%d.0", i, v);
            for (int k = 0; k < 4 && i + 1 < NP; k++) {
                x = x * 6364136223846793005ULL + 1442695040888963407ULL;
                int to = i + 1 + (int)((x >> 33) % (uint64_t)(NP - i - 1 < 50 ? NP - i - 1 : 50));
                bool bad = v == 2 && i % 10 == 0 && k == 0;
                len += (size_t)snprintf(buf + len, sizeof buf - len, "; n%04d %s", to, bad ? "^2.0" : "^1.0");
            }
            lines[n++] = arena_strdup(a, buf);
        }
    }
    const char *const roots[] = {"n0000"};
    run r;
    solve(lines, n, roots, 1, NULL, NULL, &r);
    if (r.rc != 0)
        fail_msg("graph2000: %s", r.e.message);
    assert_non_null(strstr(r.picks, "n0000 1.1.0")); /* 1.2.0 wants ^2.0 of something */
    printf("resolve: 2000-package graph in %.2f ms\n", r.ms);
    assert_true(r.ms < 2000);
    arena_free(a);
}

/* 20 packages of 20 versions in a chain whose last link needs a package
 * that does not exist: nothing resolves, and the search must say why
 * without trying 20^20 combinations. */
static void test_adversarial_chain(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    const char **lines = gen_lines(a, 400);
    int n = 0;
    for (int i = 0; i < 20; i++)
        for (int v = 1; v <= 20; v++)
            lines[n++] = i == 19 ? arena_printf(a, "q19 %d.0.0; missing", v)
                                 : arena_printf(a, "q%02d %d.0.0; q%02d >=%d.0.0", i, v, i + 1, v);
    const char *const roots[] = {"q00"};
    resolve_opts o = {.max_steps = 2000};
    run r;
    solve(lines, n, roots, 1, &o, NULL, &r);
    assert_int_equal(r.rc, -1);
    assert_string_equal(r.e.code, "unresolvable");
    if (!strstr(r.e.message, "q19 20.0.0 needs missing, which does not exist"))
        fail_msg("chain: %s", r.e.message);
    printf("resolve: unsatisfiable 20x20 chain refuted in %.2f ms: %s\n", r.ms, r.e.message);
    arena_free(a);
}

/* The pigeonhole principle as packages: 11 pigeons p1..p11 each pick one of
 * 10 holes (version k.0.0 of p_i needs h_k =i.0.0), and a hole takes one
 * pigeon. Hard for any backtracking search; it must stop at max_steps. */
static void test_adversarial_pigeonhole(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    const char **lines = gen_lines(a, 256);
    const char **roots = gen_lines(a, 16);
    int n = 0;
    for (int i = 1; i <= 11; i++) {
        roots[i - 1] = arena_printf(a, "p%02d", i);
        for (int k = 1; k <= 10; k++)
            lines[n++] = arena_printf(a, "p%02d %d.0.0; h%02d =%d.0.0", i, k, k, i);
    }
    for (int k = 1; k <= 10; k++)
        for (int i = 1; i <= 11; i++)
            lines[n++] = arena_printf(a, "h%02d %d.0.0", k, i);
    run r;
    solve(lines, n, roots, 11, NULL, NULL, &r);
    assert_int_equal(r.rc, -1);
    assert_string_equal(r.e.code, "unresolvable");
    printf("resolve: pigeonhole 11/10 with default steps: %.0f ms: %s\n", r.ms, r.e.message);
    assert_true(r.ms < 10000);

    resolve_opts o = {.max_steps = 1000};
    solve(lines, n, roots, 11, &o, NULL, &r);
    assert_int_equal(r.rc, -1);
    assert_string_equal(r.e.message, "resolution gave up after 1000 steps");
    assert_true(r.ms < 1000);
    arena_free(a);
}

/* ---- brute force cross-check -------------------------------------------- */

#ifndef SEED
#define SEED 88172645463325252ULL
#endif
static uint64_t rng = SEED;

static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

#ifndef BP
#define BP 5 /* packages */
#endif
#define BV 3 /* versions at most */
#ifndef ROUNDS
#define ROUNDS 600
#endif

typedef struct bdep {
    int to;
    const char *req;
} bdep;

typedef struct bver {
    const char *version;
    semver v;
    bool yanked;
    int ndeps;
    bdep deps[2];
} bver;

static const char *const b_versions[] = {"1.0.0", "1.1.0", "2.0.0", "2.1.0-beta"};
static const char *const b_reqs[] = {"^1.0",   "^2.0",   ">=1.1.0",     "<2.0.0",         NULL,
                                     "=1.1.0", "~1.0.0", "^2.1.0-beta", "1.0.0 || 2.0.0", ">1.0.0 <2.1.0"};

/* A universe with every requirement matched against every version up front. */
typedef struct btab {
    bver u[BP][BV];
    int nv[BP];
    bool dep_ok[BP][BV][2][BV]; /* dependency d of u[p][k] accepts u[to][k2] */
    int nroots;
    int rpkg[2];
    const char *rreq[2];
    bool root_ok[2][BV];
    bool usable[BP][BV]; /* not yanked, or pinned by a root */
} btab;

static void b_tables(arena *a, btab *t, bool incl)
{
    for (int p = 0; p < BP; p++)
        for (int k = 0; k < t->nv[p]; k++) {
            const bver *v = &t->u[p][k];
            for (int d = 0; d < v->ndeps; d++)
                for (int k2 = 0; k2 < t->nv[v->deps[d].to]; k2++)
                    t->dep_ok[p][k][d][k2] =
                        allowed(a, SEMVER_NATIVE, incl, v->deps[d].req, &t->u[v->deps[d].to][k2].v);
            t->usable[p][k] = !v->yanked;
        }
    for (int i = 0; i < t->nroots; i++) {
        int p = t->rpkg[i];
        derr e;
        semver_req *r = t->rreq[i] ? semver_req_parse(a, SEMVER_NATIVE, t->rreq[i], &e) : NULL;
        const semver *pin = r ? semver_req_pinned(r) : NULL;
        for (int k = 0; k < t->nv[p]; k++) {
            t->root_ok[i][k] = allowed(a, SEMVER_NATIVE, incl, t->rreq[i], &t->u[p][k].v);
            if (pin && semver_cmp(pin, &t->u[p][k].v) == 0)
                t->usable[p][k] = true;
        }
    }
}

/* Whether assignment ch (index per package, -1 absent) is a valid answer. */
static bool b_valid(const btab *t, const int *ch)
{
    for (int i = 0; i < t->nroots; i++)
        if (ch[t->rpkg[i]] < 0 || !t->root_ok[i][ch[t->rpkg[i]]])
            return false;
    for (int p = 0; p < BP; p++) {
        if (ch[p] < 0)
            continue;
        if (!t->usable[p][ch[p]])
            return false;
        const bver *v = &t->u[p][ch[p]];
        for (int d = 0; d < v->ndeps; d++) {
            int q = v->deps[d].to;
            if (ch[q] < 0 || !t->dep_ok[p][ch[p]][d][ch[q]])
                return false;
        }
    }
    return true;
}

static void test_brute_force(void **state)
{
    (void)state;
    int solvable = 0, unsolvable = 0;
    for (int round = 0; round < ROUNDS; round++) {
        arena *a = arena_new(0);
        btab *t = arena_zalloc(a, sizeof *t);
        const char **lines = gen_lines(a, BP * BV + 1);
        int nlines = 0;
        for (int p = 0; p < BP; p++) {
            t->nv[p] = (int)rnd(BV + 1); /* 0: the package does not exist */
            int used = 0;
            for (int k = 0; k < t->nv[p]; k++) {
                int vi;
                do
                    vi = (int)rnd(N(b_versions));
                while (used & (1 << vi));
                used |= 1 << vi;
                bver *v = &t->u[p][k];
                v->version = b_versions[vi];
                assert_int_equal(semver_parse(a, v->version, &v->v), 0);
                v->yanked = rnd(8) == 0;
                v->ndeps = (int)rnd(3);
                char buf[200];
                size_t len =
                    (size_t)snprintf(buf, sizeof buf, "b%d %s%s", p, v->version, v->yanked ? " yanked" : "");
                for (int d = 0; d < v->ndeps; d++) {
                    v->deps[d].to = (int)rnd(BP);
                    v->deps[d].req = b_reqs[rnd(N(b_reqs))];
                    len += (size_t)snprintf(buf + len, sizeof buf - len, "; b%d %s", v->deps[d].to,
                                            v->deps[d].req ? v->deps[d].req : "");
                }
                lines[nlines++] = arena_strdup(a, buf);
            }
        }
        t->nroots = 1 + (int)rnd(2);
        const char *roots[2];
        for (int i = 0; i < t->nroots; i++) {
            int p = (int)rnd(BP);
            t->rpkg[i] = p;
            t->rreq[i] =
                rnd(4) == 0 && t->nv[p] ? t->u[p][rnd((unsigned)t->nv[p])].version : b_reqs[rnd(N(b_reqs))];
            roots[i] = arena_printf(a, "b%d %s", p, t->rreq[i] ? t->rreq[i] : "");
        }
        bool incl = rnd(4) == 0;
        b_tables(a, t, incl);

        /* Brute force over every assignment, "absent" included. */
        int ch[BP];
        bool exists = false;
        int total = 1;
        for (int p = 0; p < BP; p++)
            total *= t->nv[p] + 1;
        for (int c = 0; c < total && !exists; c++) {
            int x = c;
            for (int p = 0; p < BP; p++) {
                ch[p] = x % (t->nv[p] + 1) - 1;
                x /= t->nv[p] + 1;
            }
            exists = b_valid(t, ch);
        }

        resolve_opts o = {.dialect = SEMVER_NATIVE, .include_prerelease = incl};
        run r;
        solve(lines, nlines, roots, t->nroots, &o, NULL, &r); /* verifies any answer */
        if (exists != (r.rc == 0)) {
            for (int i = 0; i < nlines; i++)
                fprintf(stderr, "  %s\n", lines[i]);
            for (int i = 0; i < t->nroots; i++)
                fprintf(stderr, "  root: %s\n", roots[i]);
            fail_msg("round %d: brute force says %s, resolve says %s (%s)", round,
                     exists ? "solvable" : "not", r.rc == 0 ? r.picks : "fail", r.rc == 0 ? "" : r.e.message);
        }
        if (r.rc != 0)
            assert_true(strcmp(r.e.code, "unresolvable") == 0 && r.e.message[0]);
        exists ? solvable++ : unsolvable++;
        arena_free(a);
    }
    printf("resolve: brute force agrees on %d solvable and %d unsolvable universes\n", solvable, unsolvable);
    assert_true(solvable > 50 && unsolvable > 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenarios),         cmocka_unit_test(test_errors),
        cmocka_unit_test(test_graph50),           cmocka_unit_test(test_graph_large),
        cmocka_unit_test(test_adversarial_chain), cmocka_unit_test(test_adversarial_pigeonhole),
        cmocka_unit_test(test_brute_force),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
