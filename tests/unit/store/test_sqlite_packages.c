/*
 * test_sqlite_packages.c — the SQLite store's package operations against a
 * real database file: publishing (new, existing, duplicate, not an owner,
 * racing threads), latest_version, versions and their dependencies,
 * yanking, owners, search, downloads and stats, signing keys.
 *
 * Each test gets a fresh temporary folder and a migrated store, as in
 * test_sqlite.c. Where a behaviour is only visible in the tables the test
 * opens the file with SQLite directly.
 *
 * test_search_speed fills the store with synthetic packages and times a
 * few searches. It uses 5,000 packages by default (a second or so); set
 * DEPOT_TEST_SEARCH_PACKAGES=100000 for the full-size measurement.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/arena.h"
#include "lib/log.h"
#include "store/migrations.h"
#include "store/sqlite.h"
#include "store/store.h"

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
    snprintf(f->dir, sizeof f->dir, "/tmp/depot-pkgs-XXXXXX");
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
    if (store_call(f->st, migrate, &applied, &e) != STORE_OK) {
        fprintf(stderr, "migrate: %s\n", e.message);
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

static sqlite3 *raw_open(struct fixture *f)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
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

/* A publish of `version` of hex/`name` by `user`, owner checked, with
 * placeholder fields the tests override as they need. */
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

static int publish_at(struct fixture *f, const char *name, const char *version, int64_t user,
                      int64_t at, derr *e)
{
    store_publish p = make_pub(name, version, user);
    p.ver.published_at = at;
    return store_call(f->st, publish, &p, e);
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

/* ---- publish --------------------------------------------------------- */

static void test_publish_new(void **state)
{
    struct fixture *f = *state;
    int64_t alice = make_user(f, "alice");
    derr e = {0};
    store_dep deps[] = {
        {.name = "plug", .requirement = "~> 1.0", .kind = "normal"},
        {.name = "ex_doc", .requirement = ">= 0.0.0", .kind = "dev",
         .extra = "{\"app\":\"ex_doc\"}"},
        {.name = "jason", .requirement = "~> 1.2"}, /* kind defaults to normal */
    };
    store_publish p = make_pub("Plug_Cowboy", "1.0.0", alice);
    p.pkg.normalized_name = "plug_cowboy";
    p.pkg.description = "A Plug adapter for Cowboy";
    p.pkg.homepage = "https://example.com";
    p.pkg.repository = "https://git.example.com/plug_cowboy";
    p.pkg.documentation = "https://docs.example.com";
    p.pkg.license = "Apache-2.0";
    p.pkg.keywords = "[\"http\",\"server\"]";
    p.pkg.categories = "[\"web\"]";
    p.pkg.tags = "[\"adapter\"]";
    p.pkg.authors = "[\"Alice\"]";
    p.pkg.readme = "# Plug.Cowboy";
    p.pkg.meta = "{\"build_tools\":[\"mix\"]}";
    p.ver.manifest = "{\"inner_checksum\":\"abcd\"}";
    p.ver.signature = "c2ln";
    p.ver.signing_key_id = "0011223344556677";
    p.ver.published_at = 1700000000;
    p.ver.deps = deps;
    p.ver.ndeps = 3;
    assert_int_equal(store_call(f->st, publish, &p, &e), STORE_OK);
    assert_true(p.created);
    assert_true(p.pkg.id > 0);
    assert_true(p.ver.id > 0);
    assert_int_equal(p.pkg.generation, 1);

    store_package got = get_pkg(f, "plug_cowboy");
    assert_int_equal(got.id, p.pkg.id);
    assert_string_equal(got.ecosystem, "hex");
    assert_string_equal(got.name, "Plug_Cowboy");
    assert_string_equal(got.normalized_name, "plug_cowboy");
    assert_string_equal(got.description, "A Plug adapter for Cowboy");
    assert_string_equal(got.homepage, "https://example.com");
    assert_string_equal(got.repository, "https://git.example.com/plug_cowboy");
    assert_string_equal(got.documentation, "https://docs.example.com");
    assert_string_equal(got.license, "Apache-2.0");
    assert_string_equal(got.keywords, "[\"http\",\"server\"]");
    assert_string_equal(got.categories, "[\"web\"]");
    assert_string_equal(got.tags, "[\"adapter\"]");
    assert_string_equal(got.authors, "[\"Alice\"]");
    assert_string_equal(got.readme, "# Plug.Cowboy");
    assert_string_equal(got.meta, "{\"build_tools\":[\"mix\"]}");
    assert_string_equal(got.latest_version, "1.0.0");
    assert_int_equal(got.generation, 1);
    assert_int_equal(got.created_at, 1700000000);
    assert_int_equal(got.updated_at, 1700000000);
    assert_false(got.require_signatures);
    assert_int_equal(generation(f, "plug_cowboy"), 1);

    store_version v;
    assert_int_equal(store_call(f->st, version_get, f->a, p.pkg.id, "1.0.0", &v, &e), STORE_OK);
    assert_int_equal(v.id, p.ver.id);
    assert_int_equal(v.package_id, p.pkg.id);
    assert_int_equal(v.major, 1);
    assert_null(v.prerelease);
    assert_string_equal(v.sha256, "00ff");
    assert_int_equal(v.size, 100);
    assert_string_equal(v.manifest, "{\"inner_checksum\":\"abcd\"}");
    assert_string_equal(v.signature, "c2ln");
    assert_string_equal(v.signing_key_id, "0011223344556677");
    assert_int_equal(v.publisher_id, alice);
    assert_string_equal(v.publisher, "alice");
    assert_int_equal(v.published_at, 1700000000);
    assert_false(v.yanked);
    assert_int_equal(v.ndeps, 3);
    assert_string_equal(v.deps[0].name, "plug");
    assert_string_equal(v.deps[0].requirement, "~> 1.0");
    assert_string_equal(v.deps[0].kind, "normal");
    assert_null(v.deps[0].extra);
    assert_string_equal(v.deps[1].kind, "dev");
    assert_string_equal(v.deps[1].extra, "{\"app\":\"ex_doc\"}");
    assert_string_equal(v.deps[2].kind, "normal");

    store_owner *owners;
    int n = 0;
    assert_int_equal(store_call(f->st, owners_list, f->a, p.pkg.id, &owners, &n, &e), STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(owners[0].user_id, alice);
    assert_string_equal(owners[0].username, "alice");
    assert_string_equal(owners[0].level, "owner");
    assert_int_equal(owners[0].added_at, 1700000000);

    /* Misses. */
    assert_int_equal(store_call(f->st, pkg_get, f->a, "npm", "plug_cowboy", &got, &e),
                     STORE_NOT_FOUND);
    assert_int_equal(e.status, 404);
    int64_t gen;
    assert_int_equal(store_call(f->st, pkg_generation, "hex", "nope", &gen, &e), STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, version_get, f->a, p.pkg.id, "9.9.9", &v, &e),
                     STORE_NOT_FOUND);

    /* The same name in another ecosystem is another package. */
    store_publish q = make_pub("plug_cowboy", "0.1.0", alice);
    q.pkg.ecosystem = "npm";
    assert_int_equal(store_call(f->st, publish, &q, &e), STORE_OK);
    assert_true(q.created);
    assert_true(q.pkg.id != p.pkg.id);
}

static void test_publish_existing(void **state)
{
    struct fixture *f = *state;
    int64_t alice = make_user(f, "alice"), bob = make_user(f, "bob");
    derr e = {0};
    assert_int_equal(publish_at(f, "jason", "1.0.0", alice, 1000, &e), STORE_OK);

    store_publish p = make_pub("jason", "1.1.0", alice);
    p.pkg.description = "A fast JSON library";
    p.pkg.keywords = "[\"json\"]";
    p.ver.published_at = 2000;
    assert_int_equal(store_call(f->st, publish, &p, &e), STORE_OK);
    assert_false(p.created);
    assert_int_equal(p.pkg.generation, 2);
    store_package got = get_pkg(f, "jason");
    assert_string_equal(got.description, "A fast JSON library");
    assert_string_equal(got.keywords, "[\"json\"]");
    assert_string_equal(got.latest_version, "1.1.0");
    assert_int_equal(got.created_at, 1000);
    assert_int_equal(got.updated_at, 2000);

    /* The same version again: 409, and nothing changes. */
    e = (derr){0};
    p = make_pub("jason", "1.1.0", alice);
    p.pkg.description = "overwritten?";
    assert_int_equal(store_call(f->st, publish, &p, &e), STORE_CONFLICT);
    assert_int_equal(e.status, 409);
    assert_string_equal(e.code, "conflict");
    assert_string_equal(e.message, "version 1.1.0 of jason already exists");
    assert_false(p.created);
    got = get_pkg(f, "jason");
    assert_string_equal(got.description, "A fast JSON library");
    assert_int_equal(got.generation, 2);

    /* Someone who is not an owner: 403, nothing written. */
    e = (derr){0};
    p = make_pub("jason", "2.0.0", bob);
    assert_int_equal(store_call(f->st, publish, &p, &e), STORE_FORBIDDEN);
    assert_int_equal(e.status, 403);
    assert_string_equal(e.code, "forbidden");
    assert_string_equal(e.message, "you are not an owner of this package");
    got = get_pkg(f, "jason");
    assert_string_equal(got.latest_version, "1.1.0");
    assert_int_equal(got.generation, 2);
    store_version v;
    assert_int_equal(store_call(f->st, version_get, f->a, got.id, "2.0.0", &v, &e),
                     STORE_NOT_FOUND);

    /* Without the check (an admin's publish) it goes through, and bob does
     * not become an owner. */
    p.check_owner = false;
    assert_int_equal(store_call(f->st, publish, &p, &e), STORE_OK);
    assert_int_equal(store_call(f->st, owner_is, got.id, bob, &e), STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, version_get, f->a, got.id, "2.0.0", &v, &e), STORE_OK);
    assert_string_equal(v.publisher, "bob");

    /* A maintainer may publish. */
    assert_int_equal(store_call(f->st, owner_add, got.id, bob, "maintainer", 3000, &e), STORE_OK);
    assert_int_equal(publish_at(f, "jason", "2.1.0", bob, 0, &e), STORE_OK);

    /* A publisher that does not exist creates nothing. */
    p = make_pub("ghost", "1.0.0", 9999);
    assert_int_equal(store_call(f->st, publish, &p, &e), STORE_NOT_FOUND);
    assert_false(p.created);
    assert_int_equal(store_call(f->st, pkg_get, f->a, "hex", "ghost", &got, &e), STORE_NOT_FOUND);
}

#define RACERS 8

struct racer {
    store *st;
    pthread_barrier_t *barrier;
    int64_t user;
    int rc;
    bool created;
};

static void *racer_main(void *arg)
{
    struct racer *r = arg;
    store_publish p = make_pub("raced", "1.0.0", r->user);
    derr e = {0};
    pthread_barrier_wait(r->barrier);
    r->rc = store_call(r->st, publish, &p, &e);
    r->created = p.created;
    return NULL;
}

/* Threads publish the same version of a package that does not exist yet:
 * one creates it, the others get STORE_CONFLICT. */
static void test_publish_concurrent(void **state)
{
    struct fixture *f = *state;
    int64_t alice = make_user(f, "alice");
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, RACERS);
    struct racer r[RACERS];
    pthread_t th[RACERS];
    for (int i = 0; i < RACERS; i++) {
        r[i] = (struct racer){.st = f->st, .barrier = &barrier, .user = alice};
        assert_int_equal(pthread_create(&th[i], NULL, racer_main, &r[i]), 0);
    }
    int ok = 0, conflict = 0, created = 0;
    for (int i = 0; i < RACERS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        ok += r[i].rc == STORE_OK;
        conflict += r[i].rc == STORE_CONFLICT;
        created += r[i].created;
    }
    pthread_barrier_destroy(&barrier);
    assert_int_equal(ok, 1);
    assert_int_equal(conflict, RACERS - 1);
    assert_int_equal(created, 1);

    sqlite3 *db = raw_open(f);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM packages WHERE normalized_name = 'raced'"),
                     1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM versions"), 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM owners"), 1);
    sqlite3_close(db);
    assert_int_equal(generation(f, "raced"), 1);
}

/* latest_version after each step, and the generation going up by one. */
static void test_latest_version(void **state)
{
    struct fixture *f = *state;
    int64_t alice = make_user(f, "alice");
    derr e = {0};
    enum { PUB, YANK, UNYANK };
    struct {
        int what;
        const char *version;
        const char *latest; /* NULL: none */
    } steps[] = {
        {PUB, "1.0.0-beta", "1.0.0-beta"}, /* only a prerelease */
        {PUB, "0.9.0", "0.9.0"},           /* a release beats a higher prerelease */
        {PUB, "1.0.0", "1.0.0"},
        {PUB, "2.0.0-rc.1", "1.0.0"},
        {PUB, "1.0.1", "1.0.1"},
        {PUB, "1.0.10", "1.0.10"}, /* numbers, not text */
        {YANK, "1.0.10", "1.0.1"},
        {YANK, "1.0.1", "1.0.0"},
        {YANK, "1.0.0", "0.9.0"},
        {YANK, "0.9.0", "2.0.0-rc.1"}, /* only prereleases left */
        {PUB, "2.0.0-rc.0", "2.0.0-rc.0"}, /* same number: the later publish */
        {YANK, "2.0.0-rc.0", "2.0.0-rc.1"},
        {YANK, "2.0.0-rc.1", "1.0.0-beta"},
        {YANK, "1.0.0-beta", NULL}, /* all yanked */
        {YANK, "1.0.0-beta", NULL}, /* again: fine */
        {UNYANK, "1.0.0", "1.0.0"},
        {UNYANK, "1.0.10", "1.0.10"},
    };
    int64_t gen = 0, pkg = 0;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        int rc;
        if (steps[i].what == PUB)
            rc = publish_at(f, "latest", steps[i].version, alice, 1000 + (int64_t)i, &e);
        else
            rc = store_call(f->st, version_yank, pkg, steps[i].version, steps[i].what == YANK,
                            5000 + (int64_t)i, &e);
        if (rc != STORE_OK)
            fail_msg("step %zu: rc %d (%s)", i, rc, e.message);
        store_package p = get_pkg(f, "latest");
        pkg = p.id;
        if (steps[i].latest == NULL ? p.latest_version != NULL
                                    : !p.latest_version ||
                                          strcmp(p.latest_version, steps[i].latest) != 0)
            fail_msg("step %zu: latest %s, want %s", i,
                     p.latest_version ? p.latest_version : "NULL",
                     steps[i].latest ? steps[i].latest : "NULL");
        if (i > 0 && p.generation != gen + 1)
            fail_msg("step %zu: generation %lld after %lld", i, (long long)p.generation,
                     (long long)gen);
        gen = p.generation;
    }

    store_version v;
    assert_int_equal(store_call(f->st, version_get, f->a, pkg, "1.0.1", &v, &e), STORE_OK);
    assert_true(v.yanked);
    assert_int_equal(v.yanked_at, 5007);
    assert_int_equal(store_call(f->st, version_get, f->a, pkg, "1.0.0-beta", &v, &e), STORE_OK);
    assert_int_equal(v.yanked_at, 5013); /* yanking again kept the first time */
    assert_int_equal(store_call(f->st, version_get, f->a, pkg, "1.0.0", &v, &e), STORE_OK);
    assert_false(v.yanked);
    assert_int_equal(v.yanked_at, 0);

    assert_int_equal(store_call(f->st, version_yank, pkg, "3.0.0", true, 1, &e), STORE_NOT_FOUND);
    assert_int_equal(e.status, 404);
    assert_int_equal(store_call(f->st, version_yank, pkg + 100, "1.0.0", true, 1, &e),
                     STORE_NOT_FOUND);
    assert_int_equal(get_pkg(f, "latest").generation, gen);
}

/* The package's fields follow the highest version: an older patch
 * published later does not overwrite them. */
static void test_metadata_follows_highest(void **state)
{
    struct fixture *f = *state;
    int64_t alice = make_user(f, "alice");
    derr e = {0};
    struct {
        const char *version, *description;
        const char *want; /* the description after */
    } steps[] = {
        {"2.0.0", "two", "two"},
        {"1.5.1", "old patch", "two"},
        {"2.0.0-rc.9", "late rc", "two"},
        {"2.1.0-beta", "beta", "beta"}, /* a higher number, even as a prerelease */
        {"2.1.0", "two one", "two one"}, /* the release of that number */
        {"2.1.0-rc.1", "rc after release", "two one"},
        {"3.0.0", "three", "three"},
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        store_publish p = make_pub("meta", steps[i].version, alice);
        p.pkg.description = steps[i].description;
        p.pkg.keywords = "[\"kw\"]";
        assert_int_equal(store_call(f->st, publish, &p, &e), STORE_OK);
        store_package got = get_pkg(f, "meta");
        if (strcmp(got.description, steps[i].want) != 0)
            fail_msg("step %zu (%s): description '%s', want '%s'", i, steps[i].version,
                     got.description, steps[i].want);
    }
    /* Once 3.0.0 is yanked, 2.1.0 is the latest again and a 2.1.1 refreshes. */
    store_package got = get_pkg(f, "meta");
    assert_int_equal(store_call(f->st, version_yank, got.id, "3.0.0", true, 1, &e), STORE_OK);
    store_publish p = make_pub("meta", "2.1.1", alice);
    p.pkg.description = "two one one";
    assert_int_equal(store_call(f->st, publish, &p, &e), STORE_OK);
    got = get_pkg(f, "meta");
    assert_string_equal(got.description, "two one one");
    assert_string_equal(got.latest_version, "2.1.1");
}

static void test_versions_order_and_deps(void **state)
{
    struct fixture *f = *state;
    int64_t alice = make_user(f, "alice");
    derr e = {0};
    /* Published in this order, with published_at rising. */
    static const char *const published[] = {
        "1.0.0", "1.10.0", "1.2.0", "1.10.0-beta", "2.0.0-alpha",
        "0.1.0", "1.2.0-rc.0", "1.2.0-rc.1", "0.0.1",
    };
    static const char *const want[] = {
        "2.0.0-alpha", "1.10.0", "1.10.0-beta", "1.2.0", "1.2.0-rc.1",
        "1.2.0-rc.0", "1.0.0", "0.1.0", "0.0.1",
    };
    enum { NV = sizeof published / sizeof published[0] };
    int64_t pkg = 0;
    for (int i = 0; i < NV; i++) {
        /* Version i has i dependencies named after it, so a mix-up shows. */
        store_dep deps[NV];
        char names[NV][32];
        for (int d = 0; d < i; d++) {
            snprintf(names[d], sizeof names[d], "%s-dep%d", published[i], d);
            deps[d] = (store_dep){.name = names[d], .requirement = ">= 0", .kind = "normal"};
        }
        store_publish p = make_pub("ordered", published[i], alice);
        p.ver.published_at = 1000 + i;
        p.ver.deps = deps;
        p.ver.ndeps = i;
        assert_int_equal(store_call(f->st, publish, &p, &e), STORE_OK);
        pkg = p.pkg.id;
    }
    store_version *vs;
    int n = 0;
    assert_int_equal(store_call(f->st, pkg_versions, f->a, pkg, &vs, &n, &e), STORE_OK);
    assert_int_equal(n, NV);
    for (int i = 0; i < NV; i++) {
        if (strcmp(vs[i].version, want[i]) != 0)
            fail_msg("position %d: %s, want %s", i, vs[i].version, want[i]);
        int k = 0;
        while (strcmp(published[k], vs[i].version) != 0)
            k++;
        assert_int_equal(vs[i].ndeps, k);
        for (int d = 0; d < k; d++) {
            char name[32];
            snprintf(name, sizeof name, "%s-dep%d", published[k], d);
            assert_string_equal(vs[i].deps[d].name, name);
        }
        assert_string_equal(vs[i].publisher, "alice");
        assert_int_equal(vs[i].package_id, pkg);
    }
    assert_null(vs[1].prerelease);
    assert_string_equal(vs[2].prerelease, "beta");

    /* A package without versions, and one that does not exist. */
    assert_int_equal(store_call(f->st, pkg_versions, f->a, pkg + 100, &vs, &n, &e), STORE_OK);
    assert_int_equal(n, 0);

    /* A publisher whose account is gone still leaves the version readable. */
    sqlite3 *db = raw_open(f);
    raw_exec(db, "PRAGMA foreign_keys = ON");
    int64_t bob = make_user(f, "bob");
    assert_int_equal(store_call(f->st, owner_add, pkg, bob, NULL, 1, &e), STORE_OK);
    assert_int_equal(publish_at(f, "ordered", "9.0.0", bob, 0, &e), STORE_OK);
    raw_exec(db, "DELETE FROM users WHERE username = 'bob'");
    sqlite3_close(db);
    store_version v;
    assert_int_equal(store_call(f->st, version_get, f->a, pkg, "9.0.0", &v, &e), STORE_OK);
    assert_null(v.publisher);
    assert_int_equal(v.publisher_id, 0);
}

static void test_require_signatures(void **state)
{
    struct fixture *f = *state;
    int64_t alice = make_user(f, "alice");
    derr e = {0};
    assert_int_equal(publish_at(f, "signed", "1.0.0", alice, 0, &e), STORE_OK);
    store_package p = get_pkg(f, "signed");
    assert_false(p.require_signatures);
    assert_int_equal(store_call(f->st, pkg_set_require_signatures, p.id, true, &e), STORE_OK);
    store_package q = get_pkg(f, "signed");
    assert_true(q.require_signatures);
    assert_int_equal(q.generation, p.generation + 1);
    assert_int_equal(store_call(f->st, pkg_set_require_signatures, p.id, false, &e), STORE_OK);
    assert_false(get_pkg(f, "signed").require_signatures);
    assert_int_equal(store_call(f->st, pkg_set_require_signatures, p.id + 9, true, &e),
                     STORE_NOT_FOUND);
}

/* ---- owners ---------------------------------------------------------- */

static void test_owners(void **state)
{
    struct fixture *f = *state;
    int64_t alice = make_user(f, "alice"), bob = make_user(f, "bob"),
            carol = make_user(f, "carol");
    derr e = {0};
    assert_int_equal(publish_at(f, "owned", "1.0.0", alice, 100, &e), STORE_OK);
    assert_int_equal(publish_at(f, "another", "1.0.0", alice, 100, &e), STORE_OK);
    store_package p = get_pkg(f, "owned");
    int64_t gen = p.generation;

    assert_int_equal(store_call(f->st, owner_is, p.id, alice, &e), STORE_OK);
    assert_int_equal(store_call(f->st, owner_is, p.id, bob, &e), STORE_NOT_FOUND);

    assert_int_equal(store_call(f->st, owner_add, p.id, bob, "owner", 200, &e), STORE_OK);
    assert_int_equal(generation(f, "owned"), ++gen);
    assert_int_equal(store_call(f->st, owner_add, p.id, carol, "maintainer", 150, &e), STORE_OK);
    assert_int_equal(generation(f, "owned"), ++gen);
    e = (derr){0};
    assert_int_equal(store_call(f->st, owner_add, p.id, bob, "owner", 300, &e), STORE_CONFLICT);
    assert_int_equal(e.status, 409);
    assert_int_equal(generation(f, "owned"), gen);
    assert_int_equal(store_call(f->st, owner_add, p.id + 50, bob, "owner", 300, &e),
                     STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, owner_add, p.id, 9999, "owner", 300, &e), STORE_NOT_FOUND);

    store_owner *o;
    int n = 0;
    assert_int_equal(store_call(f->st, owners_list, f->a, p.id, &o, &n, &e), STORE_OK);
    assert_int_equal(n, 3);
    assert_string_equal(o[0].username, "alice"); /* by added_at: 100, 150, 200 */
    assert_string_equal(o[1].username, "carol");
    assert_string_equal(o[1].level, "maintainer");
    assert_string_equal(o[1].email, "carol@example.com");
    assert_string_equal(o[2].username, "bob");
    assert_int_equal(o[2].added_at, 200);

    store_package *mine;
    assert_int_equal(store_call(f->st, user_packages, f->a, alice, &mine, &n, &e), STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(mine[0].name, "another");
    assert_string_equal(mine[1].name, "owned");
    assert_null(mine[0].readme);
    assert_int_equal(store_call(f->st, user_packages, f->a, carol, &mine, &n, &e), STORE_OK);
    assert_int_equal(n, 1);

    /* Removing: not an owner; an owner; the last owner; a maintainer. */
    e = (derr){0};
    int64_t dave = make_user(f, "dave");
    assert_int_equal(store_call(f->st, owner_remove, p.id, dave, &e), STORE_NOT_FOUND);
    assert_int_equal(e.status, 404);
    assert_int_equal(store_call(f->st, owner_remove, p.id, alice, &e), STORE_OK);
    assert_int_equal(generation(f, "owned"), ++gen);
    e = (derr){0};
    assert_int_equal(store_call(f->st, owner_remove, p.id, bob, &e), STORE_FORBIDDEN);
    assert_int_equal(e.status, 403);
    assert_string_equal(e.message, "a package must keep at least one owner");
    assert_int_equal(generation(f, "owned"), gen);
    assert_int_equal(store_call(f->st, owner_is, p.id, bob, &e), STORE_OK);
    assert_int_equal(store_call(f->st, owner_remove, p.id, carol, &e), STORE_OK);
    assert_int_equal(generation(f, "owned"), ++gen);
    assert_int_equal(store_call(f->st, owners_list, f->a, p.id, &o, &n, &e), STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(o[0].username, "bob");

    /* alice is no longer an owner: her publish is refused. */
    assert_int_equal(publish_at(f, "owned", "1.1.0", alice, 0, &e), STORE_FORBIDDEN);
}

/* ---- search ---------------------------------------------------------- */

struct seed {
    const char *eco, *name, *description, *keywords, *categories, *tags;
    int64_t at, downloads;
};

/* Publishes each seed as version 1.0.0 at its time, then gives its version
 * its download count. */
static void seed_packages(struct fixture *f, const struct seed *seeds, size_t n)
{
    int64_t user = make_user(f, "seeder");
    derr e = {0};
    for (size_t i = 0; i < n; i++) {
        store_publish p = make_pub(seeds[i].name, "1.0.0", user);
        p.pkg.ecosystem = seeds[i].eco;
        p.pkg.description = seeds[i].description;
        p.pkg.keywords = seeds[i].keywords;
        p.pkg.categories = seeds[i].categories;
        p.pkg.tags = seeds[i].tags;
        p.ver.published_at = seeds[i].at;
        if (store_call(f->st, publish, &p, &e) != STORE_OK)
            fail_msg("seed %s: %s", seeds[i].name, e.message);
        store_download d = {.version_id = p.ver.id, .day = "2024-01-01",
                            .count = seeds[i].downloads};
        assert_int_equal(store_call(f->st, downloads_add, &d, 1, &e), STORE_OK);
    }
}

static const struct seed search_seeds[] = {
    {"hex", "cowboy", "Small, fast, modern HTTP server", "[\"http\",\"server\"]", "[\"web\"]",
     "[\"erlang\"]", 100, 500},
    {"hex", "plug_cowboy", "A Plug adapter for Cowboy", "[\"http\",\"adapter\"]", "[\"web\"]",
     "[]", 200, 900},
    {"hex", "ranch", "Socket acceptor pool, used by cowboy", "[\"tcp\"]", "[\"net\"]", "[]", 300,
     800},
    {"hex", "jason", "A blazing fast JSON parser and generator", "[\"json\"]", "[\"encoding\"]",
     "[\"fast\"]", 400, 1000},
    {"npm", "cowsay", "Configurable talking cow", "[\"cow\",\"fun\"]", "[]", "[]", 500, 50},
    {"npm", "express", "Fast, unopinionated, minimalist web framework",
     "[\"http\",\"web\",\"server\"]", "[\"web\"]", "[\"framework\"]", 600, 5000},
    {"pub", "cafe_latte", "Caf\xc3\xa9 helpers with cr\xc3\xa8me", "[\"caf\xc3\xa9\"]", "[]",
     "[]", 700, 10},
    {"pub", "http_server", "Serve HTTP", "not json", "[]", "[\"server\"]", 800, 20},
};

/* The names a search returns, joined by spaces. */
static char *search_names(struct fixture *f, const store_search *q, int64_t *total)
{
    store_package *out;
    int n = -1;
    int64_t t = -1;
    derr e = {0};
    int rc = store_call(f->st, search, f->a, q, &out, &n, &t, &e);
    if (rc != STORE_OK)
        fail_msg("search '%s': rc %d (%s)", q->query ? q->query : "", rc, e.message);
    char *s = arena_strdup(f->a, "");
    for (int i = 0; i < n; i++) {
        assert_null(out[i].readme);
        s = arena_printf(f->a, "%s%s%s", s, i ? " " : "", out[i].name);
    }
    if (total)
        *total = t;
    return s;
}

static void test_search(void **state)
{
    struct fixture *f = *state;
    seed_packages(f, search_seeds, sizeof search_seeds / sizeof search_seeds[0]);
    struct {
        store_search q; /* limit 0 is taken as 20; a negative one reads only the total */
        const char *names;
        int64_t total;
    } cases[] = {
        /* A package named as the query first, then name matches above
         * description matches. */
        {{.query = "cowboy"}, "cowboy plug_cowboy ranch", 3},
        {{.query = "Cowboy "}, "cowboy plug_cowboy ranch", 3},
        /* Prefixes, and every word must match. */
        {{.query = "cow"}, "cowsay plug_cowboy cowboy ranch", 4}, /* cowsay: name, keyword, description */
        {{.query = "talking cow"}, "cowsay", 1},
        {{.query = "plug cow"}, "plug_cowboy", 1},
        {{.query = "plug_cowboy"}, "plug_cowboy", 1},
        {{.query = "fast"}, "jason cowboy express", 3}, /* tag above description */
        {{.query = "zzz"}, "", 0},
        /* Diacritics and case fold the same way in text and query. */
        {{.query = "CAFE"}, "cafe_latte", 1},
        {{.query = "caf\xc3\xa9"}, "cafe_latte", 1},
        {{.query = "creme"}, "cafe_latte", 1},
        /* Filters. */
        {{.query = "cow", .ecosystem = "npm"}, "cowsay", 1},
        {{.query = "http", .keyword = "server"}, "cowboy express", 2},
        {{.keyword = "http", .sort = "name"}, "cowboy express plug_cowboy", 3},
        {{.keyword = "htt"}, "", 0}, /* exact, not a prefix */
        {{.keyword = "caf\xc3\xa9"}, "cafe_latte", 1},
        {{.category = "web", .sort = "downloads"}, "express plug_cowboy cowboy", 3},
        {{.tag = "server"}, "http_server", 1},
        {{.tag = "server", .ecosystem = "hex"}, "", 0},
        {{.ecosystem = "hex", .category = "web", .keyword = "adapter"}, "plug_cowboy", 1},
        /* Sorts without a query. */
        {{.ecosystem = "hex"}, "cowboy jason plug_cowboy ranch", 4},
        {{.ecosystem = "hex", .sort = "relevance"}, "cowboy jason plug_cowboy ranch", 4},
        {{.ecosystem = "hex", .sort = "downloads"}, "jason plug_cowboy ranch cowboy", 4},
        {{.ecosystem = "hex", .sort = "recent"}, "jason ranch plug_cowboy cowboy", 4},
        {{.sort = "name"},
         "cafe_latte cowboy cowsay express http_server jason plug_cowboy ranch", 8},
        /* Sorts with a query. */
        {{.query = "cow", .sort = "downloads"}, "plug_cowboy ranch cowboy cowsay", 4},
        {{.query = "cow", .sort = "name"}, "cowboy cowsay plug_cowboy ranch", 4},
        {{.query = "cow", .sort = "recent"}, "cowsay ranch plug_cowboy cowboy", 4},
        /* Pages: the total counts every match. */
        {{.query = "cow", .sort = "name", .limit = 2}, "cowboy cowsay", 4},
        {{.query = "cow", .sort = "name", .limit = 2, .offset = 2}, "plug_cowboy ranch", 4},
        {{.query = "cow", .sort = "name", .limit = 2, .offset = 4}, "", 4},
        {{.sort = "name", .limit = 3, .offset = 6}, "plug_cowboy ranch", 8},
        {{.query = "cow", .limit = -1}, "", 4},
        {{.sort = "downloads", .limit = -1, .offset = 100}, "", 8},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        store_search q = cases[i].q;
        if (q.limit == 0)
            q.limit = 20;
        int64_t total = -1;
        char *names = search_names(f, &q, &total);
        if (strcmp(names, cases[i].names) != 0 || total != cases[i].total)
            fail_msg("case %zu (query '%s'): got [%s] of %lld, want [%s] of %lld", i,
                     q.query ? q.query : "", names, (long long)total, cases[i].names,
                     (long long)cases[i].total);
    }

    /* An unknown sort is a caller's bug: internal, no SQL in the message. */
    store_search bad = {.sort = "popularity", .limit = 5};
    store_package *out;
    int n;
    int64_t total;
    derr e = {0};
    assert_int_equal(store_call(f->st, search, f->a, &bad, &out, &n, &total, &e), STORE_ERROR);
    assert_int_equal(e.status, 500);
    assert_null(strstr(e.message, "SELECT"));
}

/* Text that would be FTS5 syntax (or nonsense) is searched as words: no
 * error, ever. Text without a word is no query. */
static void test_search_hostile(void **state)
{
    struct fixture *f = *state;
    seed_packages(f, search_seeds, sizeof search_seeds / sizeof search_seeds[0]);
    char long_query[20000];
    for (size_t i = 0; i + 1 < sizeof long_query; i++)
        long_query[i] = "cow "[i % 4];
    long_query[sizeof long_query - 1] = '\0';
    char long_word[5000];
    memset(long_word, 'a', sizeof long_word - 1);
    long_word[sizeof long_word - 1] = '\0';
    struct {
        const char *query;
        int64_t total; /* -1: any */
    } cases[] = {
        {"\"", 8},
        {"\"\"", 8},
        {"AND(", 1}, /* the word "and", in jason's description */
        {"AND", 1},
        {"cow AND", 0},
        {"cow OR ranch", 0}, /* OR is a word here, and no package has it */
        {"NOT cow", 0},
        {"NEAR(cow say)", 0},
        {"cow*", 4},
        {"*", 8},
        {"^cow", 4},
        {"-cow", 4},
        {"+cow", 4},
        {"name:cow", 0},
        {"{name}: cow", 0},
        {"cow\"; DROP TABLE packages; --", 0},
        {"'", 8},
        {"\\", 8},
        {"()", 8},
        {"   ", 8},
        {"\xc2\xab\xc2\xbb", 8},        /* only punctuation, outside ASCII */
        {"cow \xc2\xab", 4},            /* a word and punctuation */
        {"\xff\xfe\xfd", -1},           /* not UTF-8 */
        {"cow\x01\x02", 4},
        {long_query, 4},
        {long_word, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        store_search q = {.query = cases[i].query, .limit = 10};
        int64_t total = -1;
        search_names(f, &q, &total);
        if (cases[i].total >= 0 && total != cases[i].total)
            fail_msg("case %zu: total %lld, want %lld", i, (long long)total,
                     (long long)cases[i].total);
    }
    /* Still all there. */
    store_search all = {.limit = 10};
    int64_t total = 0;
    search_names(f, &all, &total);
    assert_int_equal(total, 8);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Fills packages straight into the tables in one transaction (the FTS
 * triggers index them), with names and descriptions made of a small
 * vocabulary so that words and prefixes recur as they do in a registry. */
static void bulk_packages(struct fixture *f, int count)
{
    static const char *const words[] = {
        "http",   "server", "client", "json",   "parser", "logger", "cache",  "crypto",
        "auth",   "router", "socket", "stream", "queue",  "worker", "pool",   "config",
        "test",   "mock",   "bench",  "cli",    "color",  "date",   "time",   "uuid",
        "image",  "video",  "audio",  "math",   "matrix", "graph",  "tree",   "list",
        "string", "regex",  "yaml",   "toml",   "xml",    "csv",    "sql",    "mongo",
        "redis",  "kafka",  "grpc",   "proto",  "oauth",  "jwt",    "email",  "smtp",
        "ftp",    "ssh",    "tls",    "dns",    "proxy",  "load",   "retry",  "limit",
        "metric", "trace",  "event",  "bus",    "actor",  "fiber",  "async",  "sync",
    };
    enum { NW = sizeof words / sizeof words[0] };
    sqlite3 *db = raw_open(f);
    raw_exec(db, "BEGIN");
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO packages (ecosystem, name, normalized_name,"
                                        " description, keywords, categories, downloads,"
                                        " created_at, updated_at) VALUES (?1, ?2, ?2, ?3, ?4,"
                                        " ?5, ?6, ?7, ?7)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    static const char *const ecos[] = {"hex", "npm", "pub", "native"};
    uint32_t rnd = 12345;
    for (int i = 0; i < count; i++) {
        uint32_t r[4];
        for (int k = 0; k < 4; k++) {
            rnd = rnd * 1103515245u + 12345u;
            r[k] = (rnd >> 8) % NW;
        }
        char name[64], desc[160], kw[64], cat[32];
        snprintf(name, sizeof name, "%s_%s_%d", words[r[0]], words[r[1]], i);
        snprintf(desc, sizeof desc, "A %s library for %s and %s in the %s style", words[r[2]],
                 words[r[3]], words[r[0]], words[r[1]]);
        snprintf(kw, sizeof kw, "[\"%s\",\"%s\"]", words[r[2]], words[r[3]]);
        snprintf(cat, sizeof cat, "[\"%s\"]", words[r[1] % 8]);
        sqlite3_bind_text(st, 1, ecos[i % 4], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, desc, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, kw, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 5, cat, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 6, (int64_t)(rnd % 100000));
        sqlite3_bind_int64(st, 7, 1600000000 + i);
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    raw_exec(db, "COMMIT");
    raw_exec(db, "ANALYZE");
    sqlite3_close(db);
}

/* Times searches over many packages; prints the median of several runs. */
static void test_search_speed(void **state)
{
    struct fixture *f = *state;
    const char *env = getenv("DEPOT_TEST_SEARCH_PACKAGES");
    int count = env ? (int)strtol(env, NULL, 10) : 5000;
    if (count < 100)
        count = 100;
    double t0 = now_ms();
    bulk_packages(f, count);
    double filled = now_ms() - t0;
    struct {
        const char *label;
        store_search q;
    } cases[] = {
        {"word 'json'", {.query = "json", .limit = 20}},
        {"prefix 'se'", {.query = "se", .limit = 20}},
        {"prefix 'c'", {.query = "c", .limit = 20}},
        {"two words", {.query = "http server", .limit = 20}},
        {"prefix + eco", {.query = "se", .ecosystem = "npm", .limit = 20}},
        {"prefix by downloads", {.query = "se", .sort = "downloads", .limit = 20}},
        {"no query, name", {.sort = "name", .limit = 20}},
        {"no query, downloads", {.sort = "downloads", .limit = 20}},
        {"no query, eco recent", {.ecosystem = "hex", .sort = "recent", .limit = 20}},
        {"keyword filter", {.keyword = "json", .limit = 20}},
        {"name exact", {.query = "http_server_1", .limit = 20}},
    };
    printf("search over %d packages (filled in %.0f ms); median of 7 runs:\n", count, filled);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double runs[7];
        int64_t total = 0;
        for (int k = 0; k < 7; k++) {
            double s = now_ms();
            store_package *out;
            int n;
            derr e = {0};
            assert_int_equal(store_call(f->st, search, f->a, &cases[i].q, &out, &n, &total, &e),
                             STORE_OK);
            runs[k] = now_ms() - s;
        }
        for (int a = 0; a < 7; a++)
            for (int b = a + 1; b < 7; b++)
                if (runs[b] < runs[a]) {
                    double t = runs[a];
                    runs[a] = runs[b];
                    runs[b] = t;
                }
        printf("  %-22s %8.2f ms  (%lld matches)\n", cases[i].label, runs[3],
               (long long)total);
        assert_true(total > 0);
        /* Not a benchmark, a tripwire: a plan that runs the MATCH once per
         * package, or reads every package for a page, is seconds here. */
        if (count <= 10000 && runs[3] > 250)
            fail_msg("%s took %.0f ms over %d packages", cases[i].label, runs[3], count);
    }
}

/* ---- downloads and stats --------------------------------------------- */

static void test_downloads(void **state)
{
    struct fixture *f = *state;
    int64_t alice = make_user(f, "alice");
    derr e = {0};
    store_publish a1 = make_pub("dl", "1.0.0", alice), a2 = make_pub("dl", "2.0.0", alice),
                  b1 = make_pub("other", "1.0.0", alice);
    a1.ver.published_at = 100;
    a2.ver.published_at = 200;
    b1.ver.published_at = 300;
    b1.pkg.ecosystem = "npm";
    assert_int_equal(store_call(f->st, publish, &a1, &e), STORE_OK);
    assert_int_equal(store_call(f->st, publish, &a2, &e), STORE_OK);
    assert_int_equal(store_call(f->st, publish, &b1, &e), STORE_OK);
    int64_t gen = generation(f, "dl");

    store_download batch[] = {
        {a1.ver.id, "2024-03-01", 5},
        {a2.ver.id, "2024-03-01", 7},
        {a1.ver.id, "2024-03-02", 1},
        {a1.ver.id, "2024-03-01", 2}, /* the same day again: added */
        {b1.ver.id, "2024-03-02", 40},
        {999999, "2024-03-02", 3},    /* no such version: skipped */
        {a2.ver.id, "2024-03-03", 0}, /* nothing to add */
    };
    assert_int_equal(store_call(f->st, downloads_add, batch, 7, &e), STORE_OK);
    store_download more = {a2.ver.id, "2024-03-03", 10};
    assert_int_equal(store_call(f->st, downloads_add, &more, 1, &e), STORE_OK);
    assert_int_equal(store_call(f->st, downloads_add, NULL, 0, &e), STORE_OK);

    store_package p = get_pkg(f, "dl");
    assert_int_equal(p.downloads, 25);
    assert_int_equal(p.generation, gen); /* counts do not bump it */
    store_version v;
    assert_int_equal(store_call(f->st, version_get, f->a, p.id, "1.0.0", &v, &e), STORE_OK);
    assert_int_equal(v.downloads, 8);
    assert_int_equal(store_call(f->st, version_get, f->a, p.id, "2.0.0", &v, &e), STORE_OK);
    assert_int_equal(v.downloads, 17);

    store_day_count *days;
    int n = 0;
    assert_int_equal(store_call(f->st, pkg_daily_downloads, f->a, p.id, "2024-03-01", &days, &n,
                                &e),
                     STORE_OK);
    struct {
        const char *day, *version;
        int64_t count;
    } want[] = {
        {"2024-03-01", NULL, 14},   {"2024-03-01", "2.0.0", 7}, {"2024-03-01", "1.0.0", 7},
        {"2024-03-02", NULL, 1},    {"2024-03-02", "1.0.0", 1}, {"2024-03-03", NULL, 10},
        {"2024-03-03", "2.0.0", 10},
    };
    assert_int_equal(n, 7);
    for (int i = 0; i < n; i++) {
        assert_string_equal(days[i].day, want[i].day);
        if (want[i].version)
            assert_string_equal(days[i].version, want[i].version);
        else
            assert_null(days[i].version);
        assert_int_equal(days[i].count, want[i].count);
    }
    assert_int_equal(store_call(f->st, pkg_daily_downloads, f->a, p.id, "2024-03-02", &days, &n,
                                &e),
                     STORE_OK);
    assert_int_equal(n, 4);
    assert_string_equal(days[0].day, "2024-03-02");
    assert_int_equal(store_call(f->st, pkg_daily_downloads, f->a, p.id, NULL, &days, &n, &e),
                     STORE_OK);
    assert_int_equal(n, 7);
    assert_int_equal(store_call(f->st, pkg_daily_downloads, f->a, p.id, "2025-01-01", &days, &n,
                                &e),
                     STORE_OK);
    assert_int_equal(n, 0);

    store_totals t;
    assert_int_equal(store_call(f->st, totals, &t, &e), STORE_OK);
    assert_int_equal(t.packages, 2);
    assert_int_equal(t.versions, 3);
    assert_int_equal(t.users, 1);
    assert_int_equal(t.downloads, 65);

    /* Rankings. */
    struct {
        const char *eco, *which;
        int limit;
        const char *names;
    } tops[] = {
        {NULL, "downloads", 10, "other dl"},
        {"hex", "downloads", 10, "dl"},
        {NULL, "new", 10, "other dl"},
        {NULL, "updated", 1, "other"},
        {"npm", "updated", 10, "other"},
        {"pub", "new", 10, ""},
        {NULL, "downloads", 0, ""},
    };
    for (size_t i = 0; i < sizeof tops / sizeof tops[0]; i++) {
        store_package *out;
        assert_int_equal(store_call(f->st, pkg_top, f->a, tops[i].eco, tops[i].which,
                                    tops[i].limit, &out, &n, &e),
                         STORE_OK);
        char *names = arena_strdup(f->a, "");
        for (int k = 0; k < n; k++)
            names = arena_printf(f->a, "%s%s%s", names, k ? " " : "", out[k].name);
        if (strcmp(names, tops[i].names) != 0)
            fail_msg("top %zu: [%s], want [%s]", i, names, tops[i].names);
    }
    /* A 1.0.1 of dl makes it the most recently updated. */
    assert_int_equal(publish_at(f, "dl", "1.0.1", alice, 400, &e), STORE_OK);
    store_package *out;
    assert_int_equal(store_call(f->st, pkg_top, f->a, NULL, "updated", 1, &out, &n, &e),
                     STORE_OK);
    assert_string_equal(out[0].name, "dl");
    assert_int_equal(store_call(f->st, pkg_top, f->a, NULL, "bogus", 1, &out, &n, &e),
                     STORE_ERROR);
}

/* ---- signing keys ---------------------------------------------------- */

static void test_keys(void **state)
{
    struct fixture *f = *state;
    int64_t alice = make_user(f, "alice"), bob = make_user(f, "bob");
    derr e = {0};
    store_key k1 = {.user_id = alice, .key_id = "aaaa000000000001", .public_key = "cHViMQ==",
                    .name = "laptop"};
    assert_int_equal(store_call(f->st, key_add, &k1, &e), STORE_OK);
    assert_true(k1.id > 0);
    assert_true(k1.created_at > 0);
    store_key k2 = {.user_id = alice, .key_id = "aaaa000000000002", .algorithm = "ed25519",
                    .public_key = "cHViMg==", .name = "ci", .created_at = k1.created_at + 10};
    assert_int_equal(store_call(f->st, key_add, &k2, &e), STORE_OK);

    struct {
        int64_t user;
        const char *key_id, *name;
        int rc;
        const char *message;
    } cases[] = {
        {bob, "aaaa000000000001", "mine", STORE_CONFLICT, "this key is already registered"},
        {alice, "aaaa000000000003", "laptop", STORE_CONFLICT, "a key with this name exists"},
        {bob, "bbbb000000000001", "laptop", STORE_OK, NULL}, /* names are per user */
        {9999, "cccc000000000001", "x", STORE_NOT_FOUND, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        store_key k = {.user_id = cases[i].user, .key_id = cases[i].key_id,
                       .public_key = "cA==", .name = cases[i].name};
        derr ke = {0};
        int rc = store_call(f->st, key_add, &k, &ke);
        if (rc != cases[i].rc)
            fail_msg("case %zu: rc %d, want %d", i, rc, cases[i].rc);
        if (cases[i].message)
            assert_string_equal(ke.message, cases[i].message);
    }

    store_key *list;
    int n = 0;
    assert_int_equal(store_call(f->st, key_list, f->a, alice, &list, &n, &e), STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].name, "laptop");
    assert_string_equal(list[0].algorithm, "ed25519");
    assert_string_equal(list[1].name, "ci");

    store_key got;
    assert_int_equal(store_call(f->st, key_get, f->a, "aaaa000000000001", &got, &e), STORE_OK);
    assert_int_equal(got.user_id, alice);
    assert_string_equal(got.public_key, "cHViMQ==");

    /* Revoking: only one's own, only once. */
    assert_int_equal(store_call(f->st, key_delete, bob, "aaaa000000000001", &e), STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, key_delete, alice, "aaaa000000000001", &e), STORE_OK);
    assert_int_equal(store_call(f->st, key_delete, alice, "aaaa000000000001", &e),
                     STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, key_get, f->a, "aaaa000000000001", &got, &e),
                     STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, key_list, f->a, alice, &list, &n, &e), STORE_OK);
    assert_int_equal(n, 1);

    /* The name is free again; the key itself can never come back. */
    store_key again = {.user_id = alice, .key_id = "aaaa000000000004", .public_key = "cA==",
                       .name = "laptop"};
    assert_int_equal(store_call(f->st, key_add, &again, &e), STORE_OK);
    store_key back = {.user_id = alice, .key_id = "aaaa000000000001", .public_key = "cA==",
                      .name = "old"};
    assert_int_equal(store_call(f->st, key_add, &back, &e), STORE_CONFLICT);

    sqlite3 *db = raw_open(f);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM signing_keys WHERE revoked_at IS NOT NULL"),
                     1);
    sqlite3_close(db);
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
    store_search q = {.query = "x", .limit = 5};
    store_package *out;
    int n;
    int64_t total;
    assert_int_equal(store_call(bare, search, f->a, &q, &out, &n, &total, &e), STORE_ERROR);
    assert_string_equal(e.code, "internal");
    assert_null(strstr(e.message, "packages"));
    store_publish p = make_pub("x", "1.0.0", 1);
    assert_int_equal(store_call(bare, publish, &p, &e), STORE_ERROR);
    assert_string_equal(e.code, "internal");
    assert_null(strstr(e.message, "packages"));
    bare->ops->close(bare);
}

int main(void)
{
    log_set_level("error");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_publish_new, setup, teardown),
        cmocka_unit_test_setup_teardown(test_publish_existing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_publish_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_latest_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metadata_follows_highest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_versions_order_and_deps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_require_signatures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_owners, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_hostile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_speed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_downloads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_hide_sql, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
