/*
 * suite.h — the store's test suite: every test here runs on every backend.
 *
 * One set of scenarios, run once per configuration (as sqlite's
 * test/permutations.test runs one set of tests under several): the
 * including file supplies the fixture and the few things that are the
 * engine's own, then lists STORE_SUITE(setup, teardown) among its tests.
 * test_sqlite.c runs it on a SQLite file in a temporary folder,
 * test_postgres.c on a fresh PostgreSQL database (skipped, and saying so,
 * without DEPOT_TEST_PG_URL). What only one engine has (SQLite's pragmas,
 * PostgreSQL's reconnect, backup and races across servers) stays in that
 * engine's file.
 *
 * The includer defines, before including this:
 *   struct fixture { ... store *st; arena *a; ... };
 *   FIXTURE(f)        declares f from the test's state (or skips the test);
 *   raw_int(f, sql)   the first column of sql's first row as an integer
 *                     (-1 when none), read outside the store;
 *   raw_exec(f, sql)  runs sql outside the store (foreign keys enforced);
 *   SQL_JSON_FIRST_SCOPE  SQL for the first element of audit_log.detail's
 *                     "scopes" array, as text;
 *   ENGINE_CONNECTIONS(st)  how many connections the store holds open.
 */
#ifndef DEPOT_TEST_STORE_SUITE_H
#define DEPOT_TEST_STORE_SUITE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/arena.h"
#include "store/store.h"

#define N(arr) (sizeof(arr) / sizeof((arr)[0]))
/* Helpers a backend's own tests may leave unused. */
#define SUITE_HELPER __attribute__((unused)) static

/* ---- helpers ---- */

SUITE_HELPER int64_t make_user_email(struct fixture *f, const char *username, const char *email)
{
    store_user u = {.username = username, .email = email, .password_hash = "$argon2id$x"};
    derr e = {0};
    if (store_call(f->st, user_create, &u, &e) != STORE_OK)
        fail_msg("user_create(%s): %s", username, e.message);
    assert_true(u.id > 0);
    return u.id;
}

SUITE_HELPER int64_t make_user(struct fixture *f, const char *username)
{
    char email[96];
    snprintf(email, sizeof email, "%s@example.com", username);
    return make_user_email(f, username, email);
}

/* Splits "1.2.3-beta.1" into its numbers and prerelease (a pointer into v). */
SUITE_HELPER void parse_version(const char *v, store_version *out)
{
    char *end;
    out->major = strtol(v, &end, 10);
    out->minor = *end == '.' ? strtol(end + 1, &end, 10) : 0;
    out->patch = *end == '.' ? strtol(end + 1, &end, 10) : 0;
    out->prerelease = *end == '-' ? end + 1 : NULL;
}

SUITE_HELPER store_publish make_pub(const char *name, const char *version, int64_t user)
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

SUITE_HELPER int publish_at(struct fixture *f, const char *name, const char *version, int64_t user,
                      int64_t at, derr *e)
{
    store_publish p = make_pub(name, version, user);
    p.ver.published_at = at;
    return store_call(f->st, publish, &p, e);
}

SUITE_HELPER int64_t publish_ok(struct fixture *f, const char *name, const char *version, int64_t user,
                          int64_t at)
{
    store_publish p = make_pub(name, version, user);
    p.ver.published_at = at;
    derr e = {0};
    if (store_call(f->st, publish, &p, &e) != STORE_OK)
        fail_msg("publish %s %s: %s", name, version, e.message);
    return p.pkg.id;
}

SUITE_HELPER store_package get_pkg(struct fixture *f, const char *name)
{
    store_package p;
    derr e = {0};
    if (store_call(f->st, pkg_get, f->a, "hex", name, &p, &e) != STORE_OK)
        fail_msg("pkg_get(%s): %s", name, e.message);
    return p;
}

SUITE_HELPER int64_t generation(struct fixture *f, const char *name)
{
    int64_t gen = -1;
    derr e = {0};
    assert_int_equal(store_call(f->st, pkg_generation, "hex", name, &gen, &e), STORE_OK);
    return gen;
}

SUITE_HELPER store_version get_version(struct fixture *f, int64_t pkg, const char *version)
{
    store_version v;
    derr e = {0};
    if (store_call(f->st, version_get, f->a, pkg, version, &v, &e) != STORE_OK)
        fail_msg("version_get(%s): %s", version, e.message);
    return v;
}

SUITE_HELPER const store_version *find_version(const store_version *vs, int n, const char *version)
{
    for (int i = 0; i < n; i++)
        if (strcmp(vs[i].version, version) == 0)
            return &vs[i];
    fail_msg("version %s is not listed", version);
    return NULL;
}

SUITE_HELPER void assert_opt_string(const char *got, const char *want, const char *what)
{
    if (want == NULL ? got != NULL : !got || strcmp(got, want) != 0)
        fail_msg("%s: [%s], want [%s]", what, got ? got : "NULL", want ? want : "NULL");
}

SUITE_HELPER const char *tags_text(struct fixture *f, int64_t pkg)
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

SUITE_HELPER const char *docs_text(struct fixture *f, int64_t pkg)
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

SUITE_HELPER int64_t epoch(store *st)
{
    int64_t v = -1;
    derr e = {0};
    assert_int_equal(store_call(st, auth_epoch, &v, &e), STORE_OK);
    return v;
}

SUITE_HELPER store_token token(int64_t user_id, const char *name, const char *hash)
{
    return (store_token){.user_id = user_id,
                         .name = name,
                         .hash = hash,
                         .prefix = "dpt_abcdef",
                         .scopes = "read publish:hex/foo"};
}

#define RACERS 8

struct racer {
    store *st;
    pthread_barrier_t *barrier;
    int64_t user;
    const char *name; /* NULL: "raced" */
    const char *version;
    bool check_owner;
    int rc;
    bool created;
};

SUITE_HELPER void *racer_main(void *arg)
{
    struct racer *r = arg;
    store_publish p = make_pub(r->name ? r->name : "raced", r->version, r->user);
    p.check_owner = r->check_owner;
    derr e = {0};
    pthread_barrier_wait(r->barrier);
    r->rc = store_call(r->st, publish, &p, &e);
    r->created = p.created;
    return NULL;
}

/* Threads (each on its own connection, as separate servers would be)
 * publish the same version of a package that does not exist yet: one
 * creates it, the others get STORE_CONFLICT. Then different users race to
 * publish new versions of it: only its owner's lands. */
struct seed {
    const char *eco, *name, *description, *keywords, *categories, *tags;
    int64_t at, downloads;
};

SUITE_HELPER void seed_packages(struct fixture *f, store *st, const struct seed *seeds, size_t n)
{
    store_user u = {.username = "seeder", .email = "seeder@example.com"};
    derr e = {0};
    assert_int_equal(store_call(st, user_create, &u, &e), STORE_OK);
    for (size_t i = 0; i < n; i++) {
        store_publish p = make_pub(seeds[i].name, "1.0.0", u.id);
        p.pkg.ecosystem = seeds[i].eco;
        p.pkg.description = seeds[i].description;
        p.pkg.keywords = seeds[i].keywords;
        p.pkg.categories = seeds[i].categories;
        p.pkg.tags = seeds[i].tags;
        p.ver.published_at = seeds[i].at;
        if (store_call(st, publish, &p, &e) != STORE_OK)
            fail_msg("seed %s: %s", seeds[i].name, e.message);
        store_download d = {.version_id = p.ver.id, .day = "2024-01-01", .count = seeds[i].downloads};
        assert_int_equal(store_call(st, downloads_add, &d, 1, &e), STORE_OK);
    }
    (void)f;
}

__attribute__((unused)) static const struct seed search_seeds[] = {
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

SUITE_HELPER char *search_names_in(store *st, arena *a, const store_search *q, int64_t *total)
{
    store_package *out;
    int n = -1;
    int64_t t = -1;
    derr e = {0};
    int rc = store_call(st, search, a, q, &out, &n, &t, &e);
    if (rc != STORE_OK)
        fail_msg("search '%s': rc %d (%s)", q->query ? q->query : "", rc, e.message);
    char *s = arena_strdup(a, "");
    for (int i = 0; i < n; i++) {
        assert_null(out[i].readme);
        s = arena_printf(a, "%s%s%s", s, i ? " " : "", out[i].name);
    }
    if (total)
        *total = t;
    return s;
}

SUITE_HELPER char *search_names(struct fixture *f, const store_search *q, int64_t *total)
{
    return search_names_in(f->st, f->a, q, total);
}

/* The search cases every engine must answer alike. */

/* A search and what it must answer: the names in order, and the total. */
struct search_case {
    store_search q; /* limit 0 is taken as 20; a negative one reads only the total */
    const char *names;
    int64_t total;
};

SUITE_HELPER void check_searches(struct fixture *f, const struct search_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
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
}

/* How many packages a search-at-scale test fills: DEPOT_TEST_SEARCH_PACKAGES, else 5,000. */
SUITE_HELPER int search_speed_count(void)
{
    const char *env = getenv("DEPOT_TEST_SEARCH_PACKAGES");
    int count = env ? (int)strtol(env, NULL, 10) : 5000;
    return count < 100 ? 100 : count;
}

/* Runs every kind of search over the count packages an engine's test filled
 * and checks each finds packages; with typo, a misspelt name too
 * (PostgreSQL's trigram search), whose best match must be a package of the
 * words misspelt. No clock: how fast these run is `make bench`'s business;
 * whether the engine can use its index is each engine's own test. */
SUITE_HELPER void search_at_scale(struct fixture *f, bool typo)
{
    static const store_search cases[] = {
        {.query = "json", .limit = 20},
        {.query = "se", .limit = 20},
        {.query = "c", .limit = 20},
        {.query = "http server", .limit = 20},
        {.query = "se", .ecosystem = "npm", .limit = 20},
        {.query = "se", .sort = "downloads", .limit = 20},
        {.sort = "name", .limit = 20},
        {.sort = "downloads", .limit = 20},
        {.ecosystem = "hex", .sort = "recent", .limit = 20},
        {.keyword = "json", .limit = 20},
        {.query = "http_server_1", .limit = 20},
        {.query = "json_parsre", .limit = 20},
    };
    for (size_t i = 0; i < N(cases) - (typo ? 0 : 1); i++) {
        int64_t total = 0;
        char *names = search_names(f, &cases[i], &total);
        if (total <= 0 || names[0] == '\0')
            fail_msg("case %zu (query '%s'): no matches", i, cases[i].query ? cases[i].query : "");
        if (cases[i].query && strcmp(cases[i].query, "json_parsre") == 0 &&
            strncmp(names, "json_parser_", 12) != 0)
            fail_msg("typo search: got [%s]", names);
    }
}

/* Every failure on a store that was never migrated reaches the caller as
 * "internal", with no table or SQL in the message (the log has them). */
SUITE_HELPER void errors_hide_sql_on(struct fixture *f, store *bare)
{
    derr e = {0};
    store_user u;
    assert_int_equal(store_call(bare, user_by_id, f->a, 1, &u, &e), STORE_ERROR);
    assert_int_equal(e.status, 500);
    assert_string_equal(e.code, "internal");
    assert_null(strstr(e.message, "users"));
    assert_null(strstr(e.message, "SELECT"));
    assert_int_equal(store_call(bare, ping, &e), STORE_OK);
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
    store_version_status retire = {.set_retired = 1};
    store_tag *tags;
    const char **vs;
    store_upload up = {.id = "x", .ecosystem = "pub", .expires_at = 1};
    int rcs[] = {
        store_call(bare, version_set_status, 1, "1.0.0", &retire, 0, &e),
        store_call(bare, pkg_set_meta, 1, "{}", &e),
        store_call(bare, tags_list, f->a, 1, &tags, &n, &e),
        store_call(bare, tag_set, 1, "latest", "1.0.0", 0, &e),
        store_call(bare, version_delete, 1, "1.0.0", true, 0, &e),
        store_call(bare, version_tombstoned, 1, "1.0.0", &e),
        store_call(bare, docs_put, 1, "1.0.0", "ab", 1, NULL, 0, 0, &e),
        store_call(bare, docs_versions, f->a, 1, &vs, &n, &e),
        store_call(bare, upload_create, &up, &e),
        store_call(bare, upload_expire, 0, &n, &e),
    };
    for (size_t i = 0; i < N(rcs); i++)
        if (rcs[i] != STORE_ERROR)
            fail_msg("call %zu: rc %d", i, rcs[i]);
    assert_string_equal(e.code, "internal");
    assert_null(strstr(e.message, "uploads"));
    assert_null(strstr(e.message, "SELECT"));
}

/* ---- the tests ---- */

#define THREAD_USERS 50

struct worker {
    store *st;
    pthread_barrier_t *barrier;
    int index;
    int failures;
};

/* Creates users and tokens and reads them back, interleaved with the other
 * worker's writes; then waits at the barrier (so the main thread can count
 * connections while both are alive) and exits. */
SUITE_HELPER void *worker_main(void *p)
{
    struct worker *w = p;
    arena *a = arena_new(0);
    for (int i = 0; i < THREAD_USERS; i++) {
        char name[32], hash[32];
        snprintf(name, sizeof name, "w%d-user%d", w->index, i);
        snprintf(hash, sizeof hash, "w%d-hash%d", w->index, i);
        derr e = {0};
        store_user u = {.username = name};
        if (store_call(w->st, user_create, &u, &e) != STORE_OK) {
            w->failures++;
            continue;
        }
        store_token t = {.user_id = u.id, .name = "t", .hash = hash, .prefix = "p"};
        if (store_call(w->st, token_create, &t, &e) != STORE_OK)
            w->failures++;
        store_user got;
        if (store_call(w->st, user_by_login, a, name, &got, &e) != STORE_OK || got.id != u.id)
            w->failures++;
        if (store_call(w->st, jwt_revoke, hash, (int64_t)time(NULL) + 60, &e) != STORE_OK)
            w->failures++;
    }
    arena_free(a);
    pthread_barrier_wait(w->barrier); /* 1: work done, connections open */
    pthread_barrier_wait(w->barrier); /* 2: main has counted */
    return NULL;
}

/* Workers on two threads each get their own connection, which closes when
 * the thread exits; what they wrote is all there, and every revoked JWT
 * moved the auth epoch once. */
static void test_threads(void **state)
{
    FIXTURE(f);
    /* The fixture's thread has its connection. */
    assert_int_equal(ENGINE_CONNECTIONS(f->st), 1);
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, 3);
    struct worker w[2];
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        w[i] = (struct worker){.st = f->st, .barrier = &barrier, .index = i};
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    pthread_barrier_wait(&barrier);
    assert_int_equal(ENGINE_CONNECTIONS(f->st), 3); /* one per thread */
    pthread_barrier_wait(&barrier);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(w[i].failures, 0);
    }
    pthread_barrier_destroy(&barrier);
    /* Exiting threads closed their own connections. */
    assert_int_equal(ENGINE_CONNECTIONS(f->st), 1);
    store_user *all;
    int n = 0;
    derr e = {0};
    assert_int_equal(store_call(f->st, user_list, f->a, &all, &n, &e), STORE_OK);
    assert_int_equal(n, 2 * THREAD_USERS);
    assert_int_equal(epoch(f->st), 2 * THREAD_USERS); /* one per revoked JWT */
}

static void test_migrate_refuses_newer_schema(void **state)
{
    FIXTURE(f);
    raw_exec(f, "INSERT INTO schema_migrations VALUES (99999, 'future', 0)");
    derr e = {0};
    int applied = -1;
    assert_int_equal(store_call(f->st, migrate, &applied, &e), STORE_ERROR);
    assert_int_equal(applied, 0);
    assert_int_equal(e.status, 500);
    assert_non_null(strstr(e.message, "newer depot"));
    /* Whatever the failed run held (PostgreSQL's lock) went with it: the store still works. */
    assert_int_equal(store_call(f->st, ping, &e), STORE_OK);
}

static void test_user_create_and_get(void **state)
{
    FIXTURE(f);
    derr e = {0};
    time_t before = time(NULL);
    store_user u = {.username = "Alice", .email = "Alice@Example.COM", .password_hash = "h1"};
    assert_int_equal(store_call(f->st, user_create, &u, &e), STORE_OK);
    assert_true(u.id > 0);
    assert_true(u.created_at >= before && u.created_at <= time(NULL));

    store_user got;
    assert_int_equal(store_call(f->st, user_by_id, f->a, u.id, &got, &e), STORE_OK);
    assert_int_equal(got.id, u.id);
    assert_string_equal(got.username, "Alice");
    assert_string_equal(got.email, "Alice@Example.COM");
    assert_string_equal(got.password_hash, "h1");
    assert_true(got.is_admin); /* the store's first account */
    assert_true(u.is_admin);
    assert_false(got.disabled);
    assert_int_equal(got.created_at, u.created_at);

    static const char *const logins[] = {"alice", "ALICE", "Alice", "alice@example.com",
                                         "ALICE@EXAMPLE.COM"};
    for (size_t i = 0; i < N(logins); i++) {
        memset(&got, 0, sizeof got);
        if (store_call(f->st, user_by_login, f->a, logins[i], &got, &e) != STORE_OK)
            fail_msg("user_by_login(%s) failed", logins[i]);
        assert_int_equal(got.id, u.id);
    }
    static const char *const misses[] = {"bob", "alic", "alice@example", "", "\xff\xfe"};
    for (size_t i = 0; i < N(misses); i++)
        assert_int_equal(store_call(f->st, user_by_login, f->a, misses[i], &got, &e),
                         STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, user_by_id, f->a, u.id + 100, &got, &e), STORE_NOT_FOUND);
    assert_int_equal(e.status, 404);

    store_user bare = {.username = "bare"};
    assert_int_equal(store_call(f->st, user_create, &bare, &e), STORE_OK);
    assert_int_equal(store_call(f->st, user_by_id, f->a, bare.id, &got, &e), STORE_OK);
    assert_null(got.email);
    assert_null(got.password_hash);
}

/* The first account of a store is an admin, whoever asked; later ones only when asked. */
static void test_user_first_is_admin(void **state)
{
    FIXTURE(f);
    derr e = {0};
    store_user first = {.username = "first"}, second = {.username = "second"},
               asked = {.username = "asked", .is_admin = true};
    assert_int_equal(store_call(f->st, user_create, &first, &e), STORE_OK);
    assert_int_equal(store_call(f->st, user_create, &second, &e), STORE_OK);
    assert_int_equal(store_call(f->st, user_create, &asked, &e), STORE_OK);
    assert_true(first.is_admin);
    assert_false(second.is_admin);
    assert_true(asked.is_admin);
    store_user got;
    assert_int_equal(store_call(f->st, user_by_id, f->a, second.id, &got, &e), STORE_OK);
    assert_false(got.is_admin);
}

#define FIRST_THREADS 8

struct first_worker {
    store *st;
    pthread_barrier_t *barrier;
    int index;
    bool admin;
    int rc;
};

static void *first_main(void *p)
{
    struct first_worker *w = p;
    char name[32];
    snprintf(name, sizeof name, "racer%d", w->index);
    store_user u = {.username = name};
    derr e = {0};
    pthread_barrier_wait(w->barrier);
    w->rc = store_call(w->st, user_create, &u, &e);
    w->admin = u.is_admin;
    return NULL;
}

/* Registrations racing on an empty store make exactly one admin. */
static void test_user_first_admin_race(void **state)
{
    FIXTURE(f);
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, FIRST_THREADS);
    struct first_worker w[FIRST_THREADS];
    pthread_t th[FIRST_THREADS];
    for (int i = 0; i < FIRST_THREADS; i++) {
        w[i] = (struct first_worker){.st = f->st, .barrier = &barrier, .index = i};
        assert_int_equal(pthread_create(&th[i], NULL, first_main, &w[i]), 0);
    }
    int admins = 0;
    for (int i = 0; i < FIRST_THREADS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(w[i].rc, STORE_OK);
        admins += w[i].admin;
    }
    pthread_barrier_destroy(&barrier);
    assert_int_equal(admins, 1);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM users WHERE is_admin"), 1);
}

/* A new password moves the session epoch; the disabled flag moves it when it changes. */
static void test_user_session_epoch(void **state)
{
    FIXTURE(f);
    int64_t id = make_user(f, "epoch");
    derr e = {0};
    store_user got;
    const struct {
        int op; /* 0: password, 1: disable, 2: enable */
        int64_t want;
    } steps[] = {{0, 1}, {0, 2}, {1, 3}, {1, 3}, {2, 4}, {2, 4}, {0, 5}};
    assert_int_equal(store_call(f->st, user_by_id, f->a, id, &got, &e), STORE_OK);
    assert_int_equal(got.session_epoch, 0);
    for (size_t i = 0; i < N(steps); i++) {
        int rc = steps[i].op == 0 ? store_call(f->st, user_set_password, id, "h", &e)
                                  : store_call(f->st, user_set_disabled, id, steps[i].op == 1, &e);
        assert_int_equal(rc, STORE_OK);
        assert_int_equal(store_call(f->st, user_by_id, f->a, id, &got, &e), STORE_OK);
        if (got.session_epoch != steps[i].want)
            fail_msg("step %zu: epoch %lld, want %lld", i, (long long)got.session_epoch,
                     (long long)steps[i].want);
    }
}

/* Email addresses are unique, and found, by their key (lib/emailkey.h). */
static void test_user_email_key(void **state)
{
    FIXTURE(f);
    int64_t id = make_user_email(f, "kay", "Kay@Stra\xc3\x9f" "e.example");
    derr e = {0};
    store_user u = {.username = "kay2", .email = "\xef\xbd\x8b" "ay@xn--strae-oqa.example"};
    assert_int_equal(store_call(f->st, user_create, &u, &e), STORE_CONFLICT);
    assert_string_equal(e.message, "email is taken");
    static const char *const logins[] = {"kay@strasse.example", "\xe2\x84\xaa" "AY@STRASSE.EXAMPLE",
                                         "kay@xn--strae-oqa.example"};
    store_user got;
    for (size_t i = 0; i < N(logins); i++) {
        if (store_call(f->st, user_by_login, f->a, logins[i], &got, &e) != STORE_OK || got.id != id)
            fail_msg("user_by_login(%s)", logins[i]);
    }
    assert_int_equal(store_call(f->st, user_by_login, f->a, "kay@strase.example", &got, &e),
                     STORE_NOT_FOUND);
}

/* Addresses stored before keys existed (their ASCII lower case) get their key at migrate; one
 * whose key another account holds keeps its old one. */
static void test_user_email_rekey(void **state)
{
    FIXTURE(f);
    make_user_email(f, "plain", "plain@example.com");
    raw_exec(f, "INSERT INTO users (username, username_lower, email, email_lower, created_at, updated_at)"
                " VALUES ('old', 'old', '\xef\xbc\xafld@Example.com', '\xef\xbc\xafld@example.com', 0, 0),"
                " ('twin', 'twin', '\xef\xbd\x90lain@example.com', '\xef\xbd\x90lain@example.com', 0, 0)");
    derr e = {0};
    int applied = -1;
    assert_int_equal(store_call(f->st, migrate, &applied, &e), STORE_OK);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM users WHERE email_lower = 'old@example.com'"), 1);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM users WHERE email_lower = 'plain@example.com'"), 1);
    store_user got;
    assert_int_equal(store_call(f->st, user_by_login, f->a, "OLD@example.com", &got, &e), STORE_OK);
    assert_string_equal(got.username, "old");
    store_user u = {.username = "new", .email = "old@EXAMPLE.com"};
    assert_int_equal(store_call(f->st, user_create, &u, &e), STORE_CONFLICT);
}

static void test_user_conflicts(void **state)
{
    FIXTURE(f);
    make_user_email(f, "carol", "carol@example.com");
    struct {
        const char *username, *email;
        int rc;
        const char *message;
    } cases[] = {
        {"carol", "other@example.com", STORE_CONFLICT, "username is taken"},
        {"CAROL", "other@example.com", STORE_CONFLICT, "username is taken"},
        {"Carol", "other@example.com", STORE_CONFLICT, "username is taken"},
        {"dave", "carol@example.com", STORE_CONFLICT, "email is taken"},
        {"dave", "CAROL@Example.com", STORE_CONFLICT, "email is taken"},
        {"dave", "dave@example.com", STORE_OK, NULL},
        {"erin", NULL, STORE_OK, NULL},
        {"frank", NULL, STORE_OK, NULL},
    };
    for (size_t i = 0; i < N(cases); i++) {
        store_user u = {.username = cases[i].username, .email = cases[i].email};
        derr e = {0};
        int rc = store_call(f->st, user_create, &u, &e);
        if (rc != cases[i].rc)
            fail_msg("case %zu (%s): rc %d, want %d", i, cases[i].username, rc, cases[i].rc);
        if (cases[i].message) {
            assert_int_equal(e.status, 409);
            assert_string_equal(e.code, "conflict");
            assert_string_equal(e.message, cases[i].message);
        }
    }
}

static void test_user_list(void **state)
{
    FIXTURE(f);
    derr e = {0};
    store_user *all = (store_user *)1;
    int n = -1;
    assert_int_equal(store_call(f->st, user_list, f->a, &all, &n, &e), STORE_OK);
    assert_int_equal(n, 0);
    static const char *const names[] = {"zed",    "Bob",   "alice", "Mallory", "carol",
                                        "dave",   "Erin",  "frank", "grace",   "heidi",
                                        "ivan",   "judy",  "ken",   "leo",     "nick",
                                        "olivia", "peggy", "quinn", "rupert",  "sybil",
                                        "a-b",    "a_b",   "ab"};
    for (size_t i = 0; i < N(names); i++)
        make_user_email(f, names[i], NULL);
    assert_int_equal(store_call(f->st, user_list, f->a, &all, &n, &e), STORE_OK);
    assert_int_equal(n, (int)N(names));
    /* bytewise, as SQLite orders: '-' < '_' < letters */
    assert_string_equal(all[0].username, "a-b");
    assert_string_equal(all[1].username, "a_b");
    assert_string_equal(all[2].username, "ab");
    assert_string_equal(all[3].username, "alice");
    assert_string_equal(all[4].username, "Bob");
    assert_string_equal(all[n - 1].username, "zed");
    for (int i = 1; i < n; i++)
        assert_true(strcasecmp(all[i - 1].username, all[i].username) < 0);
}

static void test_user_setters(void **state)
{
    FIXTURE(f);
    int64_t id = make_user_email(f, "grace", "grace@example.com");
    derr e = {0};
    store_user got;

    assert_int_equal(store_call(f->st, user_set_password, id, "newhash", &e), STORE_OK);
    assert_int_equal(store_call(f->st, user_by_id, f->a, id, &got, &e), STORE_OK);
    assert_string_equal(got.password_hash, "newhash");
    assert_int_equal(store_call(f->st, user_set_password, id, NULL, &e), STORE_OK);
    assert_int_equal(store_call(f->st, user_by_id, f->a, id, &got, &e), STORE_OK);
    assert_null(got.password_hash);

    const bool flips[] = {true, true, false, true, false};
    for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
        assert_int_equal(store_call(f->st, user_set_disabled, id, flips[i], &e), STORE_OK);
        assert_int_equal(store_call(f->st, user_set_admin, id, !flips[i], &e), STORE_OK);
        assert_int_equal(store_call(f->st, user_by_id, f->a, id, &got, &e), STORE_OK);
        assert_int_equal(got.disabled, flips[i]);
        assert_int_equal(got.is_admin, !flips[i]);
    }
    /* An address is private until its user shows it; owners' rows carry the choice too. */
    assert_false(got.show_email);
    assert_int_equal(store_call(f->st, user_set_show_email, id, true, &e), STORE_OK);
    assert_int_equal(store_call(f->st, user_by_id, f->a, id, &got, &e), STORE_OK);
    assert_true(got.show_email);
    assert_int_equal(store_call(f->st, user_set_show_email, 9999, true, &e), STORE_NOT_FOUND);

    assert_int_equal(store_call(f->st, user_set_password, 9999, "x", &e), STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, user_set_disabled, 9999, true, &e), STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, user_set_admin, 9999, true, &e), STORE_NOT_FOUND);
}

static void test_tokens(void **state)
{
    FIXTURE(f);
    int64_t alice = make_user_email(f, "alice", "alice@example.com");
    int64_t bob = make_user_email(f, "bob", "bob@example.com");
    derr e = {0};

    store_token t = token(alice, "ci", "h-ci");
    t.expires_at = 2000000000;
    assert_int_equal(store_call(f->st, token_create, &t, &e), STORE_OK);
    assert_true(t.id > 0);
    assert_true(t.created_at > 0);

    store_token got;
    assert_int_equal(store_call(f->st, token_by_hash, f->a, "h-ci", &got, &e), STORE_OK);
    assert_int_equal(got.id, t.id);
    assert_int_equal(got.user_id, alice);
    assert_string_equal(got.name, "ci");
    assert_string_equal(got.hash, "h-ci");
    assert_string_equal(got.prefix, "dpt_abcdef");
    assert_string_equal(got.scopes, "read publish:hex/foo");
    assert_int_equal(got.created_at, t.created_at);
    assert_int_equal(got.expires_at, 2000000000);
    assert_int_equal(got.last_used_at, 0);

    assert_int_equal(store_call(f->st, token_by_name, f->a, alice, "ci", &got, &e), STORE_OK);
    assert_int_equal(got.id, t.id);
    assert_int_equal(store_call(f->st, token_by_name, f->a, bob, "ci", &got, &e),
                     STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, token_by_hash, f->a, "nope", &got, &e), STORE_NOT_FOUND);

    struct {
        int64_t user_id;
        const char *name, *hash;
        int rc;
        const char *message;
    } cases[] = {
        {alice, "ci", "h-other", STORE_CONFLICT, "a token with this name exists"},
        {alice, "laptop", "h-ci", STORE_CONFLICT, "a token with this secret exists"},
        {bob, "ci", "h-bob-ci", STORE_OK, NULL}, /* names are per user */
        {alice, "laptop", "h-laptop", STORE_OK, NULL},
        {alice, "deploy", "h-deploy", STORE_OK, NULL},
        {9999, "ghost", "h-ghost", STORE_NOT_FOUND, NULL}, /* no such user */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        store_token c = token(cases[i].user_id, cases[i].name, cases[i].hash);
        derr ce = {0};
        int rc = store_call(f->st, token_create, &c, &ce);
        if (rc != cases[i].rc)
            fail_msg("case %zu (%s): rc %d, want %d", i, cases[i].name, rc, cases[i].rc);
        if (cases[i].message)
            assert_string_equal(ce.message, cases[i].message);
    }

    store_token *list;
    int n = -1;
    assert_int_equal(store_call(f->st, token_list, f->a, alice, &list, &n, &e), STORE_OK);
    assert_int_equal(n, 3);
    assert_string_equal(list[0].name, "ci");
    assert_string_equal(list[1].name, "deploy");
    assert_string_equal(list[2].name, "laptop");
    assert_int_equal(store_call(f->st, token_list, f->a, 9999, &list, &n, &e), STORE_OK);
    assert_int_equal(n, 0);

    assert_int_equal(store_call(f->st, token_delete, alice, "deploy", &e), STORE_OK);
    assert_int_equal(store_call(f->st, token_delete, alice, "deploy", &e), STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, token_delete, bob, "laptop", &e), STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, token_list, f->a, alice, &list, &n, &e), STORE_OK);
    assert_int_equal(n, 2);
    assert_int_equal(store_call(f->st, token_by_hash, f->a, "h-bob-ci", &got, &e), STORE_OK);
}

static void test_token_touch(void **state)
{
    FIXTURE(f);
    int64_t uid = make_user_email(f, "toucher", NULL);
    derr e = {0};
    store_token t = token(uid, "t", "h-touch");
    assert_int_equal(store_call(f->st, token_create, &t, &e), STORE_OK);

    const int64_t base = 1700000000;
    struct {
        int64_t now, want;
    } steps[] = {
        {base, base},            /* first use is always written */
        {base + 30, base},       /* within a minute: skipped */
        {base + 60, base},       /* exactly a minute: still skipped */
        {base + 61, base + 61},  /* past a minute: written */
        {base + 62, base + 61},
        {base + 500, base + 500},
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        assert_int_equal(store_call(f->st, token_touch, t.id, steps[i].now, &e), STORE_OK);
        store_token got;
        assert_int_equal(store_call(f->st, token_by_hash, f->a, "h-touch", &got, &e), STORE_OK);
        if (got.last_used_at != steps[i].want)
            fail_msg("step %zu: last_used_at %lld, want %lld", i, (long long)got.last_used_at,
                     (long long)steps[i].want);
    }
    /* A token that is gone is not an error for touch. */
    assert_int_equal(store_call(f->st, token_touch, 9999, base, &e), STORE_OK);
}

static void test_jwt_revoke(void **state)
{
    FIXTURE(f);
    derr e = {0};
    int64_t later = (int64_t)time(NULL) + 3600;
    assert_int_equal(store_call(f->st, jwt_is_revoked, "j1", &e), STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, jwt_revoke, "j1", later, &e), STORE_OK);
    assert_int_equal(store_call(f->st, jwt_is_revoked, "j1", &e), STORE_OK);
    assert_int_equal(store_call(f->st, jwt_revoke, "j1", later, &e), STORE_OK); /* again: fine */
    assert_int_equal(store_call(f->st, jwt_is_revoked, "j2", &e), STORE_NOT_FOUND);

    /* An already-expired entry is forgotten on the next revocation. */
    assert_int_equal(store_call(f->st, jwt_revoke, "old", 1000, &e), STORE_OK);
    assert_int_equal(store_call(f->st, jwt_is_revoked, "old", &e), STORE_OK);
    assert_int_equal(store_call(f->st, jwt_revoke, "j3", later, &e), STORE_OK);
    assert_int_equal(store_call(f->st, jwt_is_revoked, "old", &e), STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, jwt_is_revoked, "j1", &e), STORE_OK);
    assert_int_equal(store_call(f->st, jwt_is_revoked, "j3", &e), STORE_OK);
}

static void test_audit(void **state)
{
    FIXTURE(f);
    int64_t uid = make_user_email(f, "auditor", NULL);
    derr e = {0};
    const store_audit events[] = {
        {.user_id = uid, .action = "user.register", .target = "auditor", .ip = "127.0.0.1"},
        {.user_id = 0,
         .action = "token.create",
         .target = "ci",
         .detail = "{\"scopes\":[\"read\"]}"},
        {.user_id = uid, .action = "user.disable"},
    };
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++)
        assert_int_equal(store_call(f->st, audit, &events[i], &e), STORE_OK);

    assert_int_equal(raw_int(f, "SELECT count(*) FROM audit_log"), 3);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM audit_log WHERE user_id IS NULL"), 1);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM audit_log WHERE ip = '127.0.0.1'"
                                 " AND action = 'user.register' AND target = 'auditor'"),
                     1);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM audit_log WHERE " SQL_JSON_FIRST_SCOPE
                                 " = 'read'"),
                     1);
    assert_true(raw_int(f, "SELECT min(at) FROM audit_log") > 1700000000);
}

static void test_publish_new(void **state)
{
    FIXTURE(f);
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
    assert_false(owners[0].show_email);

    /* Misses (text that is not UTF-8 names nothing stored). */
    assert_int_equal(store_call(f->st, pkg_get, f->a, "hex", "\xff\xfe", &got, &e),
                     STORE_NOT_FOUND);
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
    FIXTURE(f);
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

static void test_publish_concurrent(void **state)
{
    FIXTURE(f);
    int64_t users[RACERS];
    char name[32];
    for (int i = 0; i < RACERS; i++) {
        snprintf(name, sizeof name, "racer%d", i);
        users[i] = make_user(f, name);
    }
    for (int round = 0; round < 2; round++) {
        pthread_barrier_t barrier;
        pthread_barrier_init(&barrier, NULL, RACERS);
        struct racer r[RACERS];
        pthread_t th[RACERS];
        char versions[RACERS][16];
        for (int i = 0; i < RACERS; i++) {
            snprintf(versions[i], sizeof versions[i], "2.0.%d", i);
            r[i] = (struct racer){.st = f->st,
                                  .barrier = &barrier,
                                  .user = round == 0 ? users[0] : users[i],
                                  .version = round == 0 ? "1.0.0" : versions[i],
                                  .check_owner = true};
            assert_int_equal(pthread_create(&th[i], NULL, racer_main, &r[i]), 0);
        }
        int ok = 0, conflict = 0, forbidden = 0, created = 0;
        for (int i = 0; i < RACERS; i++) {
            assert_int_equal(pthread_join(th[i], NULL), 0);
            ok += r[i].rc == STORE_OK;
            conflict += r[i].rc == STORE_CONFLICT;
            forbidden += r[i].rc == STORE_FORBIDDEN;
            created += r[i].created;
        }
        pthread_barrier_destroy(&barrier);
        assert_int_equal(ok, 1);
        if (round == 0) {
            assert_int_equal(conflict, RACERS - 1);
            assert_int_equal(created, 1);
        } else {
            assert_int_equal(forbidden, RACERS - 1);
            assert_int_equal(r[0].rc, STORE_OK); /* the owner's */
            assert_int_equal(created, 0);
        }
    }
    assert_int_equal(raw_int(f, "SELECT count(*) FROM packages WHERE normalized_name = 'raced'"),
                     1);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM versions"), 2);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM owners"), 1);
    assert_int_equal(generation(f, "raced"), 2);
    assert_string_equal(get_pkg(f, "raced").latest_version, "2.0.0");
}

static void test_latest_version(void **state)
{
    FIXTURE(f);
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

static void test_metadata_follows_highest(void **state)
{
    FIXTURE(f);
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
    FIXTURE(f);
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
    int64_t bob = make_user(f, "bob");
    assert_int_equal(store_call(f->st, owner_add, pkg, bob, NULL, 1, &e), STORE_OK);
    assert_int_equal(publish_at(f, "ordered", "9.0.0", bob, 0, &e), STORE_OK);
    raw_exec(f, "DELETE FROM users WHERE username = 'bob'");
    store_version v;
    assert_int_equal(store_call(f->st, version_get, f->a, pkg, "9.0.0", &v, &e), STORE_OK);
    assert_null(v.publisher);
    assert_int_equal(v.publisher_id, 0);
}

static void test_require_signatures(void **state)
{
    FIXTURE(f);
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

static void test_owners(void **state)
{
    FIXTURE(f);
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
    assert_string_equal(e.message, "already an owner of this package");
    assert_int_equal(generation(f, "owned"), gen);
    assert_int_equal(store_call(f->st, owner_add, p.id + 50, bob, "owner", 300, &e),
                     STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, owner_add, p.id, 9999, "owner", 300, &e), STORE_NOT_FOUND);
    assert_string_equal(e.message, "no such package or user");

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

static void test_search(void **state)
{
    FIXTURE(f);
    seed_packages(f, f->st, search_seeds, sizeof search_seeds / sizeof search_seeds[0]);
    static const struct search_case cases[] = {
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
        /* Filter values that are not UTF-8 match nothing (no error). */
        {{.keyword = "\xff"}, "", 0},
        {{.ecosystem = "\xc3"}, "", 0},
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
    check_searches(f, cases, N(cases));
}

static void test_search_hostile(void **state)
{
    FIXTURE(f);
    seed_packages(f, f->st, search_seeds, N(search_seeds));
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
        {"AND(", 1},
        {"AND", 1},
        {"cow AND", 0},
        {"cow OR ranch", 0},
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
        {"\xc2\xab\xc2\xbb", 8},
        {"cow \xc2\xab", 4},
        {"\xff\xfe\xfd", -1},
        {"cow\x01\x02", 4},
        {long_query, 4},
        {long_word, 0},
        /* to_tsquery syntax, in case it ever reached it */
        {"cow & say", 0}, /* say starts no word */
        {"cow | ranch", 1}, /* ranch: its name, and cowboy in its description */
        {"!cow", 4},
        {"cow <-> talking", 1},
        {"cow:*", 4},
        {"'cow':*A", 2}, /* cow and a word starting with a */
        {"\xe2\x80\x98" "cow" "\xe2\x80\x99", 4}, /* quotes unaccent makes ASCII */
        {"\xf0\x9f\x98\x80", 8},                   /* an emoji alone */
    };
    for (size_t i = 0; i < N(cases); i++) {
        store_search q = {.query = cases[i].query, .limit = 10};
        int64_t total = -1;
        search_names(f, &q, &total);
        if (cases[i].total >= 0 && total != cases[i].total)
            fail_msg("case %zu: total %lld, want %lld", i, (long long)total,
                     (long long)cases[i].total);
    }
    store_search all = {.limit = 10};
    int64_t total = 0;
    search_names(f, &all, &total);
    assert_int_equal(total, 8);
}

static void test_downloads(void **state)
{
    FIXTURE(f);
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

static void test_keys(void **state)
{
    FIXTURE(f);
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

    assert_int_equal(raw_int(f, "SELECT count(*) FROM signing_keys WHERE revoked_at IS NOT NULL"),
                     1);
}

static void test_version_extra(void **state)
{
    FIXTURE(f);
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

static void test_version_status(void **state)
{
    FIXTURE(f);
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
    FIXTURE(f);
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

static void test_tags(void **state)
{
    FIXTURE(f);
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
    FIXTURE(f);
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

static void test_version_delete(void **state)
{
    FIXTURE(f);
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
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM dependencies WHERE version_id = %lld",
             (long long)ids[2]);
    assert_int_equal(raw_int(f, sql), 0);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM downloads_daily WHERE version_id = %lld",
             (long long)ids[2]);
    assert_int_equal(raw_int(f, sql), 0);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM dependencies"), 4); /* the others' stay */
    assert_int_equal(raw_int(f, "SELECT count(*) FROM downloads_daily"), 1);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM version_tombstones"), 0);
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
    assert_int_equal(raw_int(f, "SELECT deleted_at FROM version_tombstones"), 4000);
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
    assert_int_equal(raw_int(f, "SELECT count(*) FROM version_tombstones"), 2);
}

static void test_delete_recomputes_latest(void **state)
{
    FIXTURE(f);
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

static void test_docs(void **state)
{
    FIXTURE(f);
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
        {"1.0.0", "\xff/x", STORE_NOT_FOUND, NULL, 0},         /* not UTF-8 */
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
    assert_int_equal(raw_int(f, "SELECT count(*) FROM docs_files"), 2);
    assert_int_equal(raw_int(f, "SELECT created_at FROM docs_sites"), 800);

    /* A site naming a path twice is refused whole: the previous site stays. */
    store_doc_file dup[] = {{"a.html", "cc01", 1}, {"a.html", "cc02", 2}};
    gen = generation(f, "docs");
    assert_int_equal(store_call(f->st, docs_put, pkg, "1.0.0", "ar03", 3, dup, 2, 900, &e),
                     STORE_CONFLICT);
    assert_int_equal(e.status, 409);
    assert_string_equal(e.message, "the docs site names a file twice");
    assert_int_equal(generation(f, "docs"), gen);
    assert_int_equal(store_call(f->st, docs_archive, f->a, pkg, "1.0.0", &sha, &size, &e),
                     STORE_OK);
    assert_string_equal(sha, "ar02");
    assert_int_equal(raw_int(f, "SELECT count(*) FROM docs_files"), 2);

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
    assert_int_equal(raw_int(f, "SELECT count(*) FROM docs_files"), 0);
    assert_int_equal(store_call(f->st, docs_file, f->a, pkg, "1.0.0", "index.html", &file, &e),
                     STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, docs_delete, pkg, "1.0.0", &e), STORE_NOT_FOUND);
    assert_int_equal(e.status, 404);
    assert_int_equal(generation(f, "docs"), gen + 1);
    assert_string_equal(docs_text(f, pkg), "0.5.0");
}

static void test_docs_versions_order(void **state)
{
    FIXTURE(f);
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

static void test_uploads(void **state)
{
    FIXTURE(f);
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
    assert_string_equal(e.message, "an upload with this id exists");
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

/* Every test of the suite, each with the includer's setup and teardown. */
#define STORE_SUITE(setup, teardown) \
    cmocka_unit_test_setup_teardown(test_threads, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_migrate_refuses_newer_schema, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_user_create_and_get, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_user_first_is_admin, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_user_first_admin_race, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_user_session_epoch, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_user_email_key, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_user_email_rekey, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_user_conflicts, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_user_list, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_user_setters, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_tokens, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_token_touch, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_jwt_revoke, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_audit, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_publish_new, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_publish_existing, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_publish_concurrent, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_latest_version, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_metadata_follows_highest, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_versions_order_and_deps, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_require_signatures, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_owners, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_search, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_search_hostile, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_downloads, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_keys, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_version_extra, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_version_status, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_pkg_set_meta, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_tags, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_publish_with_tag, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_version_delete, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_delete_recomputes_latest, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_docs, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_docs_versions_order, setup, teardown), \
    cmocka_unit_test_setup_teardown(test_uploads, setup, teardown),

#endif
