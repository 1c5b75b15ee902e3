/*
 * test_sqlite_fronts.c — the SQLite store's operations for the npm, Hex and
 * pub fronts (migration 0002): version extras and status (retire,
 * deprecate, retract), package meta, dist-tags (also set by a publish),
 * removing versions with tombstones, hosted docs sites and two-step
 * uploads; and that every change a package document shows bumps the
 * generation in the same transaction.
 *
 * Each test gets a fresh temporary folder and a migrated store, as in
 * test_sqlite_packages.c. Where a behaviour is only visible in the tables
 * (rows removed by cascade, counters) the test opens the file with SQLite
 * directly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/arena.h"
#include "lib/log.h"
#include "store/migrations.h"
#include "store/sqlite.h"
#include "store/store.h"

#define N(arr) (sizeof(arr) / sizeof((arr)[0]))

struct fixture {
    char dir[64];
    char path[128];
    char url[160];
    store *st;
    arena *a;
};

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/depot-fronts-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/data/depot.db", f->dir);
    snprintf(f->url, sizeof f->url, "sqlite:%s", f->path);
    derr e = {0};
    f->st = store_open(f->url, &e);
    if (!f->st) {
        fprintf(stderr, "store_open: %s\n", e.message);
        return -1;
    }
    int applied = -1;
    if (store_call(f->st, migrate, &applied, &e) != STORE_OK || applied != migrations_count) {
        fprintf(stderr, "migrate: %s (applied %d)\n", e.message, applied);
        return -1;
    }
    f->a = arena_new(0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->st)
        f->st->ops->close(f->st);
    arena_free(f->a);
    nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static sqlite3 *raw_open(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static int64_t raw_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

static void raw_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

static int64_t make_user(struct fixture *f, const char *username)
{
    char email[96];
    snprintf(email, sizeof email, "%s@example.com", username);
    store_user u = {.username = username, .email = email};
    derr e = {0};
    assert_int_equal(store_call(f->st, user_create, &u, &e), STORE_OK);
    return u.id;
}

/* Splits "1.2.3-beta.1" into its numbers and prerelease (a pointer into v). */
static void parse_version(const char *v, store_version *out)
{
    char *end;
    out->major = strtol(v, &end, 10);
    out->minor = *end == '.' ? strtol(end + 1, &end, 10) : 0;
    out->patch = *end == '.' ? strtol(end + 1, &end, 10) : 0;
    out->prerelease = *end == '-' ? end + 1 : NULL;
}

static store_publish make_pub(const char *name, const char *version, int64_t user)
{
    store_publish p = {0};
    p.pkg.ecosystem = "hex";
    p.pkg.name = name;
    p.pkg.normalized_name = name;
    p.pkg.description = "a package";
    p.ver.version = version;
    parse_version(version, &p.ver);
    p.ver.sha256 = "00ff";
    p.ver.size = 100;
    p.publisher_id = user;
    p.check_owner = true;
    return p;
}

/* Publishes and returns the package id; fails the test on error. */
static int64_t publish_ok(struct fixture *f, const char *name, const char *version, int64_t user,
                          int64_t at)
{
    store_publish p = make_pub(name, version, user);
    p.ver.published_at = at;
    derr e = {0};
    if (store_call(f->st, publish, &p, &e) != STORE_OK)
        fail_msg("publish %s %s: %s", name, version, e.message);
    return p.pkg.id;
}

static store_package get_pkg(struct fixture *f, const char *name)
{
    store_package p;
    derr e = {0};
    if (store_call(f->st, pkg_get, f->a, "hex", name, &p, &e) != STORE_OK)
        fail_msg("pkg_get(%s): %s", name, e.message);
    return p;
}

static int64_t generation(struct fixture *f, const char *name)
{
    int64_t gen = -1;
    derr e = {0};
    assert_int_equal(store_call(f->st, pkg_generation, "hex", name, &gen, &e), STORE_OK);
    return gen;
}

static store_version get_version(struct fixture *f, int64_t pkg, const char *version)
{
    store_version v;
    derr e = {0};
    if (store_call(f->st, version_get, f->a, pkg, version, &v, &e) != STORE_OK)
        fail_msg("version_get(%s): %s", version, e.message);
    return v;
}

/* The version of that name in a pkg_versions list; fails when absent. */
static const store_version *find_version(const store_version *vs, int n, const char *version)
{
    for (int i = 0; i < n; i++)
        if (strcmp(vs[i].version, version) == 0)
            return &vs[i];
    fail_msg("version %s is not listed", version);
    return NULL;
}

static void assert_opt_string(const char *got, const char *want, const char *what)
{
    if (want == NULL ? got != NULL : !got || strcmp(got, want) != 0)
        fail_msg("%s: [%s], want [%s]", what, got ? got : "NULL", want ? want : "NULL");
}

/* The tags as "tag=version tag=version", in list order, in the arena. */
static const char *tags_text(struct fixture *f, int64_t pkg)
{
    store_tag *tags = NULL;
    int n = -1;
    derr e = {0};
    assert_int_equal(store_call(f->st, tags_list, f->a, pkg, &tags, &n, &e), STORE_OK);
    char *s = arena_strdup(f->a, "");
    for (int i = 0; i < n; i++)
        s = arena_printf(f->a, "%s%s%s=%s", s, i ? " " : "", tags[i].tag, tags[i].version);
    return s;
}

/* The docs versions as one space-separated string, in the arena. */
static const char *docs_text(struct fixture *f, int64_t pkg)
{
    const char **vs = NULL;
    int n = -1;
    derr e = {0};
    assert_int_equal(store_call(f->st, docs_versions, f->a, pkg, &vs, &n, &e), STORE_OK);
    char *s = arena_strdup(f->a, "");
    for (int i = 0; i < n; i++)
        s = arena_printf(f->a, "%s%s%s", s, i ? " " : "", vs[i]);
    return s;
}

/* ---- version extras -------------------------------------------------- */

static void test_version_extra(void **state)
{
    struct fixture *f = *state;
    int64_t alice = make_user(f, "alice");
    derr e = {0};
    store_publish p = make_pub("extras", "1.0.0", alice);
    p.ver.extra = "{\"shasum\":\"abc\",\"integrity\":\"sha512-xyz\"}";
    assert_int_equal(store_call(f->st, publish, &p, &e), STORE_OK);
    int64_t pkg = p.pkg.id;
    publish_ok(f, "extras", "1.1.0", alice, 0); /* no extra: "{}" */

    store_version v = get_version(f, pkg, "1.0.0");
    assert_string_equal(v.extra, "{\"shasum\":\"abc\",\"integrity\":\"sha512-xyz\"}");
    assert_null(v.deprecated);
    assert_false(v.retracted);
    assert_int_equal(v.retired_at, 0);
    v = get_version(f, pkg, "1.1.0");
    assert_string_equal(v.extra, "{}");

    store_version *vs;
    int n = 0;
    assert_int_equal(store_call(f->st, pkg_versions, f->a, pkg, &vs, &n, &e), STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(find_version(vs, n, "1.0.0")->extra,
                        "{\"shasum\":\"abc\",\"integrity\":\"sha512-xyz\"}");
    assert_string_equal(find_version(vs, n, "1.1.0")->extra, "{}");
}

/* ---- version status -------------------------------------------------- */

static void test_version_status(void **state)
{
    struct fixture *f = *state;
    int64_t alice = make_user(f, "alice");
    int64_t pkg = publish_ok(f, "st", "1.0.0", alice, 100);
    publish_ok(f, "st", "2.0.0", alice, 200);
    derr e = {0};
    typedef const store_version_status status;
    status retire = {.set_retired = 1, .retired_reason = "security", .retired_message = "CVE-1"};
    status deprecate = {.set_deprecated = 1, .deprecated = "use 2.x"};
    status retract = {.set_retracted = 1};
    status nothing = {0};
    status reretire = {.set_retired = 1, .retired_reason = "renamed"}; /* no message */
    status unretire = {.set_retired = -1};
    status undeprecate = {.set_deprecated = -1, .deprecated = "ignored"};
    status unretract = {.set_retracted = -1};
    /* any positive or negative value counts; several parts at once */
    status all = {.set_retired = 5,
                  .retired_reason = "other",
                  .retired_message = "m",
                  .set_deprecated = 2,
                  .deprecated = "d",
                  .set_retracted = 3};
    status none = {.set_retired = -3, .set_deprecated = -2, .set_retracted = -9};
    struct {
        const store_version_status *change;
        int64_t now;
        /* the state of 1.0.0 afterwards */
        const char *reason, *message;
        int64_t retired_at;
        const char *deprecated;
        bool retracted;
        int bump; /* generation change */
    } steps[] = {
        {&retire, 1000, "security", "CVE-1", 1000, NULL, false, 1},
        {&deprecate, 1001, "security", "CVE-1", 1000, "use 2.x", false, 1},
        {&retract, 1002, "security", "CVE-1", 1000, "use 2.x", true, 1},
        {&nothing, 1003, "security", "CVE-1", 1000, "use 2.x", true, 0}, /* no bump */
        /* retiring again replaces the reason, the message and the time */
        {&reretire, 1004, "renamed", NULL, 1004, "use 2.x", true, 1},
        {&unretire, 1005, NULL, NULL, 0, "use 2.x", true, 1},
        {&undeprecate, 1006, NULL, NULL, 0, NULL, true, 1}, /* the text is ignored */
        {&unretract, 1007, NULL, NULL, 0, NULL, false, 1},
        {&all, 1008, "other", "m", 1008, "d", true, 1},
        {&none, 1009, NULL, NULL, 0, NULL, false, 1},
    };
    for (size_t i = 0; i < N(steps); i++) {
        int64_t gen = generation(f, "st");
        if (store_call(f->st, version_set_status, pkg, "1.0.0", steps[i].change, steps[i].now,
                       &e) != STORE_OK)
            fail_msg("step %zu: %s", i, e.message);
        if (generation(f, "st") != gen + steps[i].bump)
            fail_msg("step %zu: generation %lld after %lld", i, (long long)generation(f, "st"),
                     (long long)gen);

        store_version one = get_version(f, pkg, "1.0.0");
        store_version *vs;
        int n = 0;
        assert_int_equal(store_call(f->st, pkg_versions, f->a, pkg, &vs, &n, &e), STORE_OK);
        const store_version *listed = find_version(vs, n, "1.0.0");
        const store_version *both[] = {&one, listed};
        for (size_t k = 0; k < N(both); k++) {
            const store_version *v = both[k];
            assert_opt_string(v->retired_reason, steps[i].reason, "retired_reason");
            assert_opt_string(v->retired_message, steps[i].message, "retired_message");
            assert_int_equal(v->retired_at, steps[i].retired_at);
            assert_opt_string(v->deprecated, steps[i].deprecated, "deprecated");
            assert_int_equal(v->retracted, steps[i].retracted);
        }
        /* the other version is never touched */
        const store_version *other = find_version(vs, n, "2.0.0");
        assert_null(other->retired_reason);
        assert_null(other->deprecated);
        assert_false(other->retracted);
    }

    /* A version that does not exist: 404, no bump. */
    int64_t gen = generation(f, "st");
    assert_int_equal(store_call(f->st, version_set_status, pkg, "9.9.9", &retire, 1, &e),
                     STORE_NOT_FOUND);
    assert_int_equal(e.status, 404);
    assert_int_equal(store_call(f->st, version_set_status, pkg + 100, "1.0.0", &retire, 1, &e),
                     STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, version_set_status, pkg, NULL, &retire, 1, &e),
                     STORE_NOT_FOUND);
    assert_int_equal(generation(f, "st"), gen);
    /* Status never moves latest_version; now 0 means the clock. */
    assert_int_equal(store_call(f->st, version_set_status, pkg, "2.0.0", &all, 0, &e), STORE_OK);
    assert_string_equal(get_pkg(f, "st").latest_version, "2.0.0");
    assert_true(get_version(f, pkg, "2.0.0").retired_at > 0);
}

static void test_pkg_set_meta(void **state)
{
    struct fixture *f = *state;
    int64_t alice = make_user(f, "alice");
    int64_t pkg = publish_ok(f, "meta", "1.0.0", alice, 0);
    derr e = {0};
    struct {
        const char *meta, *want;
    } cases[] = {
        {"{\"isDiscontinued\":true,\"replacedBy\":\"other\"}",
         "{\"isDiscontinued\":true,\"replacedBy\":\"other\"}"},
        {"{}", "{}"},
        {NULL, "{}"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        int64_t gen = generation(f, "meta");
        assert_int_equal(store_call(f->st, pkg_set_meta, pkg, cases[i].meta, &e), STORE_OK);
        store_package p = get_pkg(f, "meta");
        assert_string_equal(p.meta, cases[i].want);
        assert_int_equal(p.generation, gen + 1);
    }
    assert_int_equal(store_call(f->st, pkg_set_meta, pkg + 100, "{}", &e), STORE_NOT_FOUND);
    assert_int_equal(e.status, 404);
}

/* ---- dist-tags ------------------------------------------------------- */

static void test_tags(void **state)
{
    struct fixture *f = *state;
    int64_t alice = make_user(f, "alice");
    int64_t pkg = publish_ok(f, "tagged", "1.0.0", alice, 100);
    publish_ok(f, "tagged", "1.1.0", alice, 200);
    publish_ok(f, "tagged", "2.0.0-beta.1", alice, 300);
    int64_t other = publish_ok(f, "other", "5.0.0", alice, 400);
    derr e = {0};
    enum { SET, DEL };
    struct {
        int what;
        const char *tag, *version;
        int rc;
        const char *after; /* the list afterwards */
    } steps[] = {
        {SET, "latest", "1.0.0", STORE_OK, "latest=1.0.0"},
        {SET, "next", "2.0.0-beta.1", STORE_OK, "latest=1.0.0 next=2.0.0-beta.1"},
        {SET, "latest", "1.1.0", STORE_OK, "latest=1.1.0 next=2.0.0-beta.1"}, /* moved */
        {SET, "latest", "1.1.0", STORE_OK, "latest=1.1.0 next=2.0.0-beta.1"}, /* same again */
        {SET, "beta", "2.0.0-beta.1", STORE_OK, "beta=2.0.0-beta.1 latest=1.1.0 next=2.0.0-beta.1"},
        {SET, "old", "0.1.0", STORE_NOT_FOUND, "beta=2.0.0-beta.1 latest=1.1.0 next=2.0.0-beta.1"},
        {SET, "old", "5.0.0", STORE_NOT_FOUND, /* another package's version */
         "beta=2.0.0-beta.1 latest=1.1.0 next=2.0.0-beta.1"},
        {DEL, "next", NULL, STORE_OK, "beta=2.0.0-beta.1 latest=1.1.0"},
        {DEL, "next", NULL, STORE_NOT_FOUND, "beta=2.0.0-beta.1 latest=1.1.0"},
        {DEL, "nope", NULL, STORE_NOT_FOUND, "beta=2.0.0-beta.1 latest=1.1.0"},
    };
    for (size_t i = 0; i < N(steps); i++) {
        int64_t gen = generation(f, "tagged");
        int rc = steps[i].what == SET ? store_call(f->st, tag_set, pkg, steps[i].tag,
                                                   steps[i].version, 1000 + (int64_t)i, &e)
                                      : store_call(f->st, tag_delete, pkg, steps[i].tag, &e);
        if (rc != steps[i].rc)
            fail_msg("step %zu: rc %d, want %d (%s)", i, rc, steps[i].rc, e.message);
        if (rc == STORE_NOT_FOUND)
            assert_int_equal(e.status, 404);
        const char *got = tags_text(f, pkg);
        if (strcmp(got, steps[i].after) != 0)
            fail_msg("step %zu: tags [%s], want [%s]", i, got, steps[i].after);
        int64_t want = gen + (rc == STORE_OK ? 1 : 0);
        if (generation(f, "tagged") != want)
            fail_msg("step %zu: generation %lld, want %lld", i, (long long)generation(f, "tagged"),
                     (long long)want);
    }
    store_tag *tags;
    int n;
    assert_int_equal(store_call(f->st, tags_list, f->a, pkg, &tags, &n, &e), STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(tags[1].tag, "latest");
    assert_int_equal(tags[1].updated_at, 1003); /* the last set, even to the same version */
    assert_string_equal(tags_text(f, other), "");
    assert_int_equal(store_call(f->st, tags_list, f->a, pkg + 100, &tags, &n, &e), STORE_OK);
    assert_int_equal(n, 0);
    /* Tags are per package. */
    assert_int_equal(store_call(f->st, tag_set, other, "latest", "5.0.0", 0, &e), STORE_OK);
    assert_string_equal(tags_text(f, other), "latest=5.0.0");
    assert_string_equal(tags_text(f, pkg), "beta=2.0.0-beta.1 latest=1.1.0");
}

static void test_publish_with_tag(void **state)
{
    struct fixture *f = *state;
    int64_t alice = make_user(f, "alice");
    derr e = {0};
    store_publish p = make_pub("pt", "1.0.0", alice);
    p.tag = "latest";
    p.ver.published_at = 500;
    assert_int_equal(store_call(f->st, publish, &p, &e), STORE_OK);
    assert_true(p.created);
    int64_t pkg = p.pkg.id;
    assert_string_equal(tags_text(f, pkg), "latest=1.0.0");
    store_tag *tags;
    int n;
    assert_int_equal(store_call(f->st, tags_list, f->a, pkg, &tags, &n, &e), STORE_OK);
    assert_int_equal(tags[0].updated_at, 500);

    struct {
        const char *version, *tag;
        int rc;
        const char *after;
    } steps[] = {
        {"2.0.0-rc.1", "next", STORE_OK, "latest=1.0.0 next=2.0.0-rc.1"},
        {"1.1.0", "latest", STORE_OK, "latest=1.1.0 next=2.0.0-rc.1"},
        {"1.2.0", NULL, STORE_OK, "latest=1.1.0 next=2.0.0-rc.1"}, /* no tag: tags stay */
        /* The version exists: the whole publish is refused, the tag does not move. */
        {"1.0.0", "latest", STORE_CONFLICT, "latest=1.1.0 next=2.0.0-rc.1"},
    };
    for (size_t i = 0; i < N(steps); i++) {
        int64_t gen = generation(f, "pt");
        store_publish q = make_pub("pt", steps[i].version, alice);
        q.tag = steps[i].tag;
        int rc = store_call(f->st, publish, &q, &e);
        if (rc != steps[i].rc)
            fail_msg("step %zu: rc %d, want %d (%s)", i, rc, steps[i].rc, e.message);
        const char *got = tags_text(f, pkg);
        if (strcmp(got, steps[i].after) != 0)
            fail_msg("step %zu: tags [%s], want [%s]", i, got, steps[i].after);
        /* one bump for the publish and its tag together */
        int64_t want = gen + (rc == STORE_OK ? 1 : 0);
        assert_int_equal(generation(f, "pt"), want);
        if (rc == STORE_OK)
            assert_int_equal(q.pkg.generation, want);
    }
    /* The tag is the publish's, not latest_version's. */
    assert_string_equal(get_pkg(f, "pt").latest_version, "1.2.0");
}

/* ---- removal --------------------------------------------------------- */

static void test_version_delete(void **state)
{
    struct fixture *f = *state;
    int64_t alice = make_user(f, "alice");
    derr e = {0};
    store_dep deps[] = {{.name = "plug", .requirement = "~> 1.0"},
                        {.name = "jason", .requirement = "~> 1.2"}};
    const char *versions[] = {"1.0.0", "1.1.0", "2.0.0"};
    int64_t ids[3], pkg = 0;
    for (int i = 0; i < 3; i++) {
        store_publish p = make_pub("del", versions[i], alice);
        p.ver.deps = deps;
        p.ver.ndeps = 2;
        p.ver.published_at = 100 + i;
        assert_int_equal(store_call(f->st, publish, &p, &e), STORE_OK);
        ids[i] = p.ver.id;
        pkg = p.pkg.id;
    }
    store_download dl[] = {
        {ids[0], "2024-01-01", 3}, {ids[2], "2024-01-01", 10}, {ids[2], "2024-01-02", 5}};
    assert_int_equal(store_call(f->st, downloads_add, dl, 3, &e), STORE_OK);
    assert_int_equal(store_call(f->st, tag_set, pkg, "latest", "2.0.0", 0, &e), STORE_OK);
    assert_int_equal(store_call(f->st, tag_set, pkg, "stable", "1.0.0", 0, &e), STORE_OK);
    assert_string_equal(get_pkg(f, "del").latest_version, "2.0.0");
    assert_int_equal(get_pkg(f, "del").downloads, 18);

    /* Remove 2.0.0 without a tombstone. */
    int64_t gen = generation(f, "del");
    assert_int_equal(store_call(f->st, version_delete, pkg, "2.0.0", false, 2000, &e), STORE_OK);
    store_package p = get_pkg(f, "del");
    assert_string_equal(p.latest_version, "1.1.0");
    assert_int_equal(p.generation, gen + 1);
    assert_int_equal(p.downloads, 3);
    store_version v;
    assert_int_equal(store_call(f->st, version_get, f->a, pkg, "2.0.0", &v, &e), STORE_NOT_FOUND);
    assert_string_equal(tags_text(f, pkg), "stable=1.0.0");
    assert_int_equal(store_call(f->st, version_tombstoned, pkg, "2.0.0", &e), STORE_NOT_FOUND);
    sqlite3 *db = raw_open(f->path);
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM dependencies WHERE version_id = %lld",
             (long long)ids[2]);
    assert_int_equal(raw_int(db, sql), 0);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM downloads_daily WHERE version_id = %lld",
             (long long)ids[2]);
    assert_int_equal(raw_int(db, sql), 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM dependencies"), 4); /* the others' stay */
    assert_int_equal(raw_int(db, "SELECT count(*) FROM downloads_daily"), 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM version_tombstones"), 0);
    /* Without a tombstone the version can come back. */
    publish_ok(f, "del", "2.0.0", alice, 3000);
    assert_string_equal(get_pkg(f, "del").latest_version, "2.0.0");

    /* With a tombstone it cannot, ever. */
    gen = generation(f, "del");
    assert_int_equal(store_call(f->st, version_delete, pkg, "2.0.0", true, 4000, &e), STORE_OK);
    assert_int_equal(generation(f, "del"), gen + 1);
    assert_int_equal(store_call(f->st, version_tombstoned, pkg, "2.0.0", &e), STORE_OK);
    assert_int_equal(store_call(f->st, version_tombstoned, pkg, "1.0.0", &e), STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, version_tombstoned, pkg + 100, "2.0.0", &e),
                     STORE_NOT_FOUND);
    assert_int_equal(raw_int(db, "SELECT deleted_at FROM version_tombstones"), 4000);
    gen = generation(f, "del");
    store_publish again = make_pub("del", "2.0.0", alice);
    again.tag = "latest";
    derr ce = {0};
    assert_int_equal(store_call(f->st, publish, &again, &ce), STORE_CONFLICT);
    assert_int_equal(ce.status, 409);
    assert_string_equal(ce.code, "conflict");
    assert_string_equal(ce.message,
                        "version 2.0.0 of del was removed and cannot be published again");
    assert_int_equal(generation(f, "del"), gen);
    assert_string_equal(tags_text(f, pkg), "stable=1.0.0");
    assert_string_equal(get_pkg(f, "del").latest_version, "1.1.0");
    /* Another package may have that version. */
    publish_ok(f, "fresh", "2.0.0", alice, 0);

    /* Absent versions. */
    assert_int_equal(store_call(f->st, version_delete, pkg, "2.0.0", true, 0, &e), STORE_NOT_FOUND);
    assert_int_equal(e.status, 404);
    assert_int_equal(store_call(f->st, version_delete, pkg, "7.0.0", false, 0, &e),
                     STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, version_delete, pkg + 100, "1.0.0", false, 0, &e),
                     STORE_NOT_FOUND);
    assert_int_equal(generation(f, "del"), gen);

    /* Removing the rest leaves a package with no latest, no tags, no downloads. */
    assert_int_equal(store_call(f->st, version_delete, pkg, "1.0.0", true, 0, &e), STORE_OK);
    assert_int_equal(store_call(f->st, version_delete, pkg, "1.1.0", false, 0, &e), STORE_OK);
    p = get_pkg(f, "del");
    assert_null(p.latest_version);
    assert_int_equal(p.downloads, 0);
    assert_string_equal(tags_text(f, pkg), "");
    store_version *vs;
    int n = -1;
    assert_int_equal(store_call(f->st, pkg_versions, f->a, pkg, &vs, &n, &e), STORE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM version_tombstones"), 2);
    sqlite3_close(db);
}

/* latest_version after each removal follows the publish/yank rule. */
static void test_delete_recomputes_latest(void **state)
{
    struct fixture *f = *state;
    int64_t alice = make_user(f, "alice");
    derr e = {0};
    const char *published[] = {"0.9.0",  "1.0.0-beta", "1.0.0",     "1.0.1",
                               "1.0.10", "2.0.0-rc.1", "2.0.0-rc.2"};
    int64_t pkg = 0;
    for (size_t i = 0; i < N(published); i++)
        pkg = publish_ok(f, "lat", published[i], alice, 100 + (int64_t)i);
    assert_int_equal(store_call(f->st, version_yank, pkg, "1.0.1", true, 0, &e), STORE_OK);
    assert_string_equal(get_pkg(f, "lat").latest_version, "1.0.10");
    struct {
        const char *remove;
        const char *latest; /* NULL: none */
    } steps[] = {
        {"1.0.10", "1.0.0"},     /* 1.0.1 is yanked */
        {"0.9.0", "1.0.0"},      /* not the latest: it stays */
        {"1.0.0", "2.0.0-rc.2"}, /* no release left that is not yanked */
        {"2.0.0-rc.2", "2.0.0-rc.1"},
        {"2.0.0-rc.1", "1.0.0-beta"},
        {"1.0.0-beta", NULL}, /* only a yanked one left */
        {"1.0.1", NULL},
    };
    for (size_t i = 0; i < N(steps); i++) {
        int64_t gen = generation(f, "lat");
        if (store_call(f->st, version_delete, pkg, steps[i].remove, i % 2 == 0, 0, &e) != STORE_OK)
            fail_msg("step %zu: %s", i, e.message);
        store_package p = get_pkg(f, "lat");
        assert_opt_string(p.latest_version, steps[i].latest, "latest_version");
        assert_int_equal(p.generation, gen + 1);
    }
}

/* ---- hosted docs ----------------------------------------------------- */

static void test_docs(void **state)
{
    struct fixture *f = *state;
    int64_t alice = make_user(f, "alice");
    int64_t pkg = publish_ok(f, "docs", "1.0.0", alice, 100);
    derr e = {0};
    store_doc_file site1[] = {
        {"index.html", "aa01", 120},
        {"api/Plug.html", "aa02", 4000},
        {"dist/app.js", "aa03", 9000},
    };
    int64_t gen = generation(f, "docs");
    assert_int_equal(store_call(f->st, docs_put, pkg, "1.0.0", "ar01", 5000, site1, 3, 700, &e),
                     STORE_OK);
    assert_int_equal(generation(f, "docs"), gen + 1);

    store_doc_file file;
    struct {
        const char *version, *path;
        int rc;
        const char *sha256;
        int64_t size;
    } lookups[] = {
        {"1.0.0", "index.html", STORE_OK, "aa01", 120},
        {"1.0.0", "api/Plug.html", STORE_OK, "aa02", 4000},
        {"1.0.0", "api/plug.html", STORE_NOT_FOUND, NULL, 0}, /* paths are exact */
        {"1.0.0", "missing.html", STORE_NOT_FOUND, NULL, 0},
        {"1.0.1", "index.html", STORE_NOT_FOUND, NULL, 0},
    };
    for (size_t i = 0; i < N(lookups); i++) {
        int rc =
            store_call(f->st, docs_file, f->a, pkg, lookups[i].version, lookups[i].path, &file, &e);
        if (rc != lookups[i].rc)
            fail_msg("lookup %zu: rc %d, want %d", i, rc, lookups[i].rc);
        if (rc == STORE_OK) {
            assert_string_equal(file.path, lookups[i].path);
            assert_string_equal(file.sha256, lookups[i].sha256);
            assert_int_equal(file.size, lookups[i].size);
        } else {
            assert_int_equal(e.status, 404);
        }
    }
    const char *sha = NULL;
    int64_t size = 0;
    assert_int_equal(store_call(f->st, docs_archive, f->a, pkg, "1.0.0", &sha, &size, &e),
                     STORE_OK);
    assert_string_equal(sha, "ar01");
    assert_int_equal(size, 5000);
    assert_int_equal(store_call(f->st, docs_archive, f->a, pkg, "2.0.0", &sha, &size, &e),
                     STORE_NOT_FOUND);

    /* Replacing: the old files are gone, the new ones are there. */
    store_doc_file site2[] = {{"index.html", "bb01", 130}, {"search.html", "bb02", 50}};
    gen = generation(f, "docs");
    assert_int_equal(store_call(f->st, docs_put, pkg, "1.0.0", "ar02", 6000, site2, 2, 800, &e),
                     STORE_OK);
    assert_int_equal(generation(f, "docs"), gen + 1);
    assert_int_equal(store_call(f->st, docs_file, f->a, pkg, "1.0.0", "api/Plug.html", &file, &e),
                     STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, docs_file, f->a, pkg, "1.0.0", "index.html", &file, &e),
                     STORE_OK);
    assert_string_equal(file.sha256, "bb01");
    assert_int_equal(store_call(f->st, docs_archive, f->a, pkg, "1.0.0", &sha, &size, &e),
                     STORE_OK);
    assert_string_equal(sha, "ar02");
    sqlite3 *db = raw_open(f->path);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM docs_files"), 2);
    assert_int_equal(raw_int(db, "SELECT created_at FROM docs_sites"), 800);

    /* A site naming a path twice is refused whole: the previous site stays. */
    store_doc_file dup[] = {{"a.html", "cc01", 1}, {"a.html", "cc02", 2}};
    gen = generation(f, "docs");
    assert_int_equal(store_call(f->st, docs_put, pkg, "1.0.0", "ar03", 3, dup, 2, 900, &e),
                     STORE_CONFLICT);
    assert_int_equal(e.status, 409);
    assert_int_equal(generation(f, "docs"), gen);
    assert_int_equal(store_call(f->st, docs_archive, f->a, pkg, "1.0.0", &sha, &size, &e),
                     STORE_OK);
    assert_string_equal(sha, "ar02");
    assert_int_equal(raw_int(db, "SELECT count(*) FROM docs_files"), 2);

    /* An empty site, and a site for a package that does not exist. */
    assert_int_equal(store_call(f->st, docs_put, pkg, "0.5.0", "ar04", 10, NULL, 0, 0, &e),
                     STORE_OK);
    assert_int_equal(store_call(f->st, docs_put, pkg + 100, "1.0.0", "ar05", 10, site2, 2, 0, &e),
                     STORE_NOT_FOUND);
    assert_int_equal(e.status, 404);

    /* Deleting. */
    gen = generation(f, "docs");
    assert_int_equal(store_call(f->st, docs_delete, pkg, "1.0.0", &e), STORE_OK);
    assert_int_equal(generation(f, "docs"), gen + 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM docs_files"), 0);
    assert_int_equal(store_call(f->st, docs_file, f->a, pkg, "1.0.0", "index.html", &file, &e),
                     STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, docs_delete, pkg, "1.0.0", &e), STORE_NOT_FOUND);
    assert_int_equal(e.status, 404);
    assert_int_equal(generation(f, "docs"), gen + 1);
    assert_string_equal(docs_text(f, pkg), "0.5.0");
    sqlite3_close(db);
}

/* Newest first by SemVer; a release before its prereleases; sites of
 * versions that are gone (or never were) after the known ones. */
static void test_docs_versions_order(void **state)
{
    struct fixture *f = *state;
    int64_t alice = make_user(f, "alice");
    derr e = {0};
    const char *published[] = {"1.0.0", "1.10.0", "1.2.0", "2.0.0-rc.1",
                               "2.0.0", "0.1.0",  "10.0.0"};
    int64_t pkg = 0;
    for (size_t i = 0; i < N(published); i++)
        pkg = publish_ok(f, "ord", published[i], alice, 100 + (int64_t)i);
    assert_string_equal(docs_text(f, pkg), "");
    /* Sites in an order unlike the answer; 3.0.0, 9.0.0 and 0.0.1-old never
     * had a version row. */
    const char *sites[] = {"1.2.0",  "0.1.0", "2.0.0-rc.1", "3.0.0", "10.0.0",
                           "1.10.0", "2.0.0", "9.0.0",      "1.0.0", "0.0.1-old"};
    for (size_t i = 0; i < N(sites); i++)
        assert_int_equal(store_call(f->st, docs_put, pkg, sites[i], "ar", 1, NULL, 0, 0, &e),
                         STORE_OK);
    assert_string_equal(docs_text(f, pkg),
                        "10.0.0 2.0.0 2.0.0-rc.1 1.10.0 1.2.0 1.0.0 0.1.0 9.0.0 3.0.0 0.0.1-old");

    /* Removing versions keeps their docs, now listed after the known ones. */
    assert_int_equal(store_call(f->st, version_delete, pkg, "10.0.0", true, 0, &e), STORE_OK);
    assert_int_equal(store_call(f->st, version_delete, pkg, "1.2.0", false, 0, &e), STORE_OK);
    assert_string_equal(docs_text(f, pkg),
                        "2.0.0 2.0.0-rc.1 1.10.0 1.0.0 0.1.0 10.0.0 9.0.0 3.0.0 1.2.0 0.0.1-old");
    const char *sha;
    int64_t size;
    assert_int_equal(store_call(f->st, docs_archive, f->a, pkg, "10.0.0", &sha, &size, &e),
                     STORE_OK);

    /* Another package's sites are its own. */
    int64_t other = publish_ok(f, "ord2", "1.0.0", alice, 0);
    assert_string_equal(docs_text(f, other), "");
    assert_int_equal(store_call(f->st, docs_delete, other, "1.0.0", &e), STORE_NOT_FOUND);
}

/* ---- uploads --------------------------------------------------------- */

static void test_uploads(void **state)
{
    struct fixture *f = *state;
    int64_t alice = make_user(f, "alice");
    derr e = {0};
    store_upload u = {
        .id = "up-1", .user_id = alice, .ecosystem = "pub", .created_at = 1000, .expires_at = 1600};
    assert_int_equal(store_call(f->st, upload_create, &u, &e), STORE_OK);

    store_upload got;
    assert_int_equal(store_call(f->st, upload_get, f->a, "up-1", &got, &e), STORE_OK);
    assert_string_equal(got.id, "up-1");
    assert_int_equal(got.user_id, alice);
    assert_string_equal(got.ecosystem, "pub");
    assert_null(got.sha256);
    assert_int_equal(got.size, 0);
    assert_int_equal(got.created_at, 1000);
    assert_int_equal(got.expires_at, 1600);
    assert_null(got.result);
    assert_false(got.failed);

    /* The bytes arrive, then the publish succeeds. */
    u.sha256 = "beef";
    u.size = 4096;
    assert_int_equal(store_call(f->st, upload_update, &u, &e), STORE_OK);
    assert_int_equal(store_call(f->st, upload_get, f->a, "up-1", &got, &e), STORE_OK);
    assert_string_equal(got.sha256, "beef");
    assert_int_equal(got.size, 4096);
    assert_null(got.result);
    u.result = "1.2.3";
    assert_int_equal(store_call(f->st, upload_update, &u, &e), STORE_OK);
    assert_int_equal(store_call(f->st, upload_get, f->a, "up-1", &got, &e), STORE_OK);
    assert_string_equal(got.result, "1.2.3");
    assert_false(got.failed);
    assert_int_equal(got.created_at, 1000); /* update leaves the times alone */
    assert_int_equal(got.expires_at, 1600);

    /* A failed one; one without an account; one made "now". */
    store_upload bad = {.id = "up-2",
                        .user_id = alice,
                        .ecosystem = "pub",
                        .created_at = 1000,
                        .expires_at = 1200,
                        .sha256 = "f00d",
                        .size = 10};
    assert_int_equal(store_call(f->st, upload_create, &bad, &e), STORE_OK);
    bad.result = "pubspec.yaml is missing";
    bad.failed = true;
    assert_int_equal(store_call(f->st, upload_update, &bad, &e), STORE_OK);
    assert_int_equal(store_call(f->st, upload_get, f->a, "up-2", &got, &e), STORE_OK);
    assert_true(got.failed);
    assert_string_equal(got.result, "pubspec.yaml is missing");
    store_upload anon = {.id = "up-3", .ecosystem = "pub", .created_at = 1000, .expires_at = 1400};
    assert_int_equal(store_call(f->st, upload_create, &anon, &e), STORE_OK);
    assert_int_equal(store_call(f->st, upload_get, f->a, "up-3", &got, &e), STORE_OK);
    assert_int_equal(got.user_id, 0);
    store_upload now = {.id = "up-4", .user_id = alice, .ecosystem = "pub", .expires_at = 1500};
    assert_int_equal(store_call(f->st, upload_create, &now, &e), STORE_OK);
    assert_int_equal(store_call(f->st, upload_get, f->a, "up-4", &got, &e), STORE_OK);
    assert_true(got.created_at > 1000000000);

    /* Refusals. */
    store_upload dup = {.id = "up-1", .user_id = alice, .ecosystem = "pub", .expires_at = 1};
    assert_int_equal(store_call(f->st, upload_create, &dup, &e), STORE_CONFLICT);
    assert_int_equal(e.status, 409);
    store_upload ghost = {
        .id = "up-9", .user_id = alice + 100, .ecosystem = "pub", .expires_at = 1};
    assert_int_equal(store_call(f->st, upload_create, &ghost, &e), STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, upload_update, &ghost, &e), STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, upload_get, f->a, "up-9", &got, &e), STORE_NOT_FOUND);
    assert_int_equal(e.status, 404);

    /* Expiry: expires_at <= now goes; the rest stays. */
    struct {
        int64_t now;
        int removed;
        const char *left[4];
    } expiries[] = {
        {1100, 0, {"up-1", "up-2", "up-3", "up-4"}},
        {1200, 1, {"up-1", "up-3", "up-4"}},
        {1450, 1, {"up-1", "up-4"}},
        {1450, 0, {"up-1", "up-4"}},
        {2000, 2, {NULL}},
    };
    const char *all[] = {"up-1", "up-2", "up-3", "up-4"};
    for (size_t i = 0; i < N(expiries); i++) {
        int n = -1;
        assert_int_equal(store_call(f->st, upload_expire, expiries[i].now, &n, &e), STORE_OK);
        if (n != expiries[i].removed)
            fail_msg("expiry %zu: removed %d, want %d", i, n, expiries[i].removed);
        for (size_t k = 0; k < N(all); k++) {
            bool want = false;
            for (size_t j = 0; j < 4 && expiries[i].left[j]; j++)
                want = want || strcmp(expiries[i].left[j], all[k]) == 0;
            int rc = store_call(f->st, upload_get, f->a, all[k], &got, &e);
            if (rc != (want ? STORE_OK : STORE_NOT_FOUND))
                fail_msg("expiry %zu: %s rc %d", i, all[k], rc);
        }
    }
}

/* ---- the migration ---------------------------------------------------- */

/* A database made by the previous release (0001 only, with a version in
 * it) gains the new columns with their defaults and the new tables. */
static void test_upgrade_from_0001(void **state)
{
    struct fixture *f = *state;
    char path[200], url[220];
    snprintf(path, sizeof path, "%s/old.db", f->dir);
    snprintf(url, sizeof url, "sqlite:%s", path);
    assert_true(migrations_count >= 2);
    assert_int_equal(migrations[0].version, 1);
    sqlite3 *db = raw_open(path);
    raw_exec(db, "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                 " applied_at INTEGER NOT NULL)");
    raw_exec(db, migrations[0].sql);
    raw_exec(db, "INSERT INTO schema_migrations VALUES (1, 'init', 0)");
    raw_exec(db,
             "INSERT INTO packages (id, ecosystem, name, normalized_name, created_at, updated_at)"
             " VALUES (1, 'hex', 'old', 'old', 1, 1)");
    raw_exec(db,
             "INSERT INTO versions (package_id, version, major, minor, patch, sha256, size,"
             " published_at, retired_reason, retired_at) VALUES (1, '1.0.0', 1, 0, 0, 'ab', 1, 1,"
             " 'other', 77)");
    sqlite3_close(db);

    derr e = {0};
    store *s = store_open(url, &e);
    assert_non_null(s);
    int applied = -1;
    assert_int_equal(store_call(s, migrate, &applied, &e), STORE_OK);
    assert_int_equal(applied, migrations_count - 1);
    store_version v;
    assert_int_equal(store_call(s, version_get, f->a, 1, "1.0.0", &v, &e), STORE_OK);
    assert_string_equal(v.extra, "{}");
    assert_null(v.deprecated);
    assert_false(v.retracted);
    assert_string_equal(v.retired_reason, "other");
    assert_int_equal(v.retired_at, 77);
    assert_int_equal(store_call(s, version_delete, 1, "1.0.0", true, 0, &e), STORE_OK);
    assert_int_equal(store_call(s, version_tombstoned, 1, "1.0.0", &e), STORE_OK);
    s->ops->close(s);
}

/* Failures of the new operations say "internal" with no SQL. */
static void test_errors_hide_sql(void **state)
{
    struct fixture *f = *state;
    char url[200];
    snprintf(url, sizeof url, "sqlite:%s/bare.db", f->dir);
    derr e = {0};
    store *bare = store_open(url, &e);
    assert_non_null(bare);
    store_version_status retire = {.set_retired = 1};
    store_tag *tags;
    const char **vs;
    int n;
    store_upload u = {.id = "x", .ecosystem = "pub", .expires_at = 1};
    int rcs[] = {
        store_call(bare, version_set_status, 1, "1.0.0", &retire, 0, &e),
        store_call(bare, pkg_set_meta, 1, "{}", &e),
        store_call(bare, tags_list, f->a, 1, &tags, &n, &e),
        store_call(bare, tag_set, 1, "latest", "1.0.0", 0, &e),
        store_call(bare, version_delete, 1, "1.0.0", true, 0, &e),
        store_call(bare, version_tombstoned, 1, "1.0.0", &e),
        store_call(bare, docs_put, 1, "1.0.0", "ab", 1, NULL, 0, 0, &e),
        store_call(bare, docs_versions, f->a, 1, &vs, &n, &e),
        store_call(bare, upload_create, &u, &e),
        store_call(bare, upload_expire, 0, &n, &e),
    };
    for (size_t i = 0; i < N(rcs); i++)
        if (rcs[i] != STORE_ERROR)
            fail_msg("call %zu: rc %d", i, rcs[i]);
    assert_string_equal(e.code, "internal");
    assert_null(strstr(e.message, "uploads"));
    assert_null(strstr(e.message, "SELECT"));
    bare->ops->close(bare);
}

int main(void)
{
    log_set_level("error");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_version_extra, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pkg_set_meta, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_publish_with_tag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_recomputes_latest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_docs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_docs_versions_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uploads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_from_0001, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_hide_sql, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
