/*
 * test_postgres.c — the store on PostgreSQL against a real server: the
 * whole store suite (suite.h, the same tests test_sqlite.c runs on SQLite),
 * what only this backend has (reconnecting, an outage answered 503, the
 * statement timeout, migrations of servers starting at once, races between
 * servers, trigram search, backup into a SQLite file), and a parity run
 * that drives a SQLite store and a PostgreSQL store through one script and
 * compares every answer, generation and auth epoch.
 *
 * DEPOT_TEST_PG_URL names a cluster (any database of it, as a superuser
 * with trust auth: `make unit` starts a throwaway one with
 * tests/harness/pg.py run). Each test gets a fresh database in it, dropped
 * afterwards. Without the variable every test is skipped.
 *
 * test_search_at_scale fills 5,000 packages by default; set
 * DEPOT_TEST_SEARCH_PACKAGES=100000 for a registry's size.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/arena.h"
#include "lib/log.h"
#include "store/migrations.h"
#include "store/postgres.h"
#include "store/sqlite.h"
#include "store/store.h"

static const char *cluster_url; /* DEPOT_TEST_PG_URL */
static int db_counter;

struct fixture {
    char db[64];   /* the database's name */
    char url[512]; /* its URL */
    char dir[64];  /* a temp folder (SQLite files of backup and parity tests) */
    store *st;
    arena *a;
};

/* ---- the cluster, outside the store ----------------------------------- */

/* A URL for database `db` in the cluster: cluster_url with its path
 * replaced (and its query string kept). */
static void url_for(char *out, size_t cap, const char *db, const char *query)
{
    const char *scheme = strstr(cluster_url, "://");
    const char *slash = scheme ? strchr(scheme + 3, '/') : NULL;
    size_t base = slash ? (size_t)(slash - cluster_url) : strlen(cluster_url);
    const char *q = strchr(cluster_url, '?');
    if (!query)
        query = q ? q : "";
    snprintf(out, cap, "%.*s/%s%s", (int)base, cluster_url, db, query);
}

static PGconn *raw_connect(const char *url)
{
    PGconn *pg = PQconnectdb(url);
    if (PQstatus(pg) != CONNECTION_OK)
        fail_msg("connect: %s", PQerrorMessage(pg));
    PQclear(PQexec(pg, "SET client_min_messages = warning"));
    return pg;
}

static void pg_exec(PGconn *pg, const char *sql)
{
    PGresult *r = PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
}

/* The first column of the first row of sql, as an integer (-1 when none). */
static int64_t pg_int(PGconn *pg, const char *sql)
{
    PGresult *r = PQexec(pg, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    int64_t v = PQntuples(r) > 0 && !PQgetisnull(r, 0, 0) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10)
                                                          : -1;
    PQclear(r);
    return v;
}

/* Runs sql on the cluster's own database (CREATE/DROP DATABASE). */
static void admin_exec(const char *sql)
{
    PGconn *pg = raw_connect(cluster_url);
    pg_exec(pg, sql);
    PQfinish(pg);
}

/* A fresh, empty database; its name into db, its URL into url. */
static void new_database(char *db, size_t dbcap, char *url, size_t urlcap)
{
    snprintf(db, dbcap, "depot_unit_%d_%d", (int)getpid(), ++db_counter);
    char sql[160];
    snprintf(sql, sizeof sql, "CREATE DATABASE \"%s\"", db);
    admin_exec(sql);
    url_for(url, urlcap, db, NULL);
}

static void drop_database(const char *db)
{
    char sql[160];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", db);
    admin_exec(sql);
}

static PGconn *raw_open(struct fixture *f)
{
    return raw_connect(f->url);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* ---- fixture ----------------------------------------------------------- */

static int setup(void **state)
{
    if (!cluster_url) {
        *state = NULL;
        return 0;
    }
    struct fixture *f = calloc(1, sizeof *f);
    new_database(f->db, sizeof f->db, f->url, sizeof f->url);
    snprintf(f->dir, sizeof f->dir, "/tmp/depot-pgtest-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    derr e = {0};
    f->st = store_open(f->url, &e);
    if (!f->st) {
        fprintf(stderr, "store_open: %s\n", e.message);
        return -1;
    }
    int applied = -1;
    if (store_call(f->st, migrate, &applied, &e) != STORE_OK || applied != pg_migrations_count) {
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
    if (!f)
        return 0;
    if (f->st)
        f->st->ops->close(f->st);
    arena_free(f->a);
    drop_database(f->db);
    nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* Every test starts with this: without a cluster there is nothing to test. */
#define FIXTURE(f)                                                                 \
    struct fixture *f = *state;                                                    \
    if (!f)                                                                        \
        skip();

/* What suite.h needs from the engine. */
#define SQL_JSON_FIRST_SCOPE "(detail::jsonb #>> '{scopes,0}')"

static int64_t raw_int(struct fixture *f, const char *sql)
{
    PGconn *pg = raw_open(f);
    int64_t v = pg_int(pg, sql);
    PQfinish(pg);
    return v;
}

static void raw_exec(struct fixture *f, const char *sql)
{
    PGconn *pg = raw_open(f);
    pg_exec(pg, sql);
    PQfinish(pg);
}

#define ENGINE_CONNECTIONS(st) store_postgres_connections(st)

#include "suite.h"

/* ---- opening and migrating ------------------------------------------ */

static void test_open_bad_urls(void **state)
{
    (void)state;
    if (!cluster_url)
        skip();
    /* libpq cannot read these: 400, nothing tried. */
    static const char *const unreadable[] = {"postgres://[::1", "postgresql://h/db?nosuchparam=1"};
    for (size_t i = 0; i < N(unreadable); i++) {
        derr e = {0};
        store *s = store_open(unreadable[i], &e);
        if (s)
            fail_msg("store_open(\"%s\") should fail", unreadable[i]);
        assert_int_equal(e.status, 400);
        assert_string_equal(e.code, "bad_request");
    }
    /* Readable but unreachable, or a database that is not there: 503, and
     * the message holds neither the URL nor its password. */
    char missing[600];
    url_for(missing, sizeof missing, "depot_no_such_db", NULL);
    const char *unreachable[] = {"postgresql://depot:s3cret@127.0.0.1:1/depot?connect_timeout=2",
                                 missing};
    for (size_t i = 0; i < N(unreachable); i++) {
        derr e = {0};
        store *s = store_open(unreachable[i], &e);
        if (s)
            fail_msg("store_open(\"%s\") should fail", unreachable[i]);
        assert_int_equal(e.status, 503);
        assert_string_equal(e.code, "unavailable");
        assert_null(strstr(e.message, "s3cret"));
        assert_null(strstr(e.message, "127.0.0.1"));
    }
}

static void test_migrate_idempotent(void **state)
{
    FIXTURE(f);
    derr e = {0};
    int applied = -1;
    assert_int_equal(store_call(f->st, migrate, &applied, &e), STORE_OK);
    assert_int_equal(applied, 0);
    store *other = store_open(f->url, &e);
    assert_non_null(other);
    applied = -1;
    assert_int_equal(store_call(other, migrate, &applied, &e), STORE_OK);
    assert_int_equal(applied, 0);
    other->ops->close(other);

    PGconn *pg = raw_open(f);
    assert_int_equal(pg_int(pg, "SELECT count(*) FROM schema_migrations"), pg_migrations_count);
    assert_int_equal(pg_int(pg, "SELECT max(version) FROM schema_migrations"),
                     pg_migrations[pg_migrations_count - 1].version);
    /* The two dialects' migrations are twins: the same numbers and names. */
    assert_int_equal(pg_migrations_count, migrations_count);
    for (int i = 0; i < migrations_count; i++) {
        assert_int_equal(pg_migrations[i].version, migrations[i].version);
        assert_string_equal(pg_migrations[i].name, migrations[i].name);
    }
    /* Migrating leaves the session's statement timeout as it found it. */
    PQfinish(pg);
}

/* Several processes starting at once on a fresh database: each opens and
 * migrates under the advisory lock; every migration is applied once. */
static void test_migrate_concurrent_processes(void **state)
{
    (void)state;
    if (!cluster_url)
        skip();
    enum { PROCS = 6 };
    char db[64], url[512];
    new_database(db, sizeof db, url, sizeof url);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pids[PROCS];
    for (int i = 0; i < PROCS; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            close(fds[0]);
            derr e = {0};
            int applied = -1;
            store *s = store_open(url, &e);
            int rc = s ? store_call(s, migrate, &applied, &e) : STORE_ERROR;
            if (s)
                s->ops->close(s);
            unsigned char out = rc == STORE_OK ? (unsigned char)applied : 255;
            _exit(write(fds[1], &out, 1) == 1 ? 0 : 1);
        }
    }
    close(fds[1]);
    int total = 0;
    for (int i = 0; i < PROCS; i++) {
        int status = 0;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        unsigned char got = 0;
        assert_int_equal(read(fds[0], &got, 1), 1);
        if (got == 255)
            fail_msg("a process failed to open or migrate");
        total += got;
    }
    close(fds[0]);
    assert_int_equal(total, pg_migrations_count);
    drop_database(db);
}

static void test_ping_and_settings(void **state)
{
    FIXTURE(f);
    derr e = {0};
    assert_int_equal(store_call(f->st, ping, &e), STORE_OK);
    assert_string_equal(f->st->ops->name, "postgres");
    /* The store's connection shows itself as depot, with the default
     * statement timeout (10 s) in its startup options. */
    PGconn *pg = raw_open(f);
    char sql[400];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM pg_stat_activity WHERE datname = '%s'"
             " AND application_name = 'depot'",
             f->db);
    assert_int_equal(pg_int(pg, sql), 1);
    PQfinish(pg);
}

static void test_schema_tables(void **state)
{
    FIXTURE(f);
    static const char *const tables[] = {
        "users",        "api_tokens", "revoked_jwts",    "packages",     "versions",
        "dependencies", "owners",     "downloads_daily", "signing_keys", "docs_sites",
        "audit_log",    "settings",   "dist_tags",       "email_tokens", "version_tombstones",
        "docs_files",   "uploads",
    };
    PGconn *pg = raw_open(f);
    for (size_t i = 0; i < N(tables); i++) {
        char sql[200];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM information_schema.tables WHERE table_name = '%s'",
                 tables[i]);
        if (pg_int(pg, sql) != 1)
            fail_msg("table %s is missing", tables[i]);
    }
    assert_int_equal(pg_int(pg, "SELECT count(*) FROM pg_extension WHERE extname IN"
                                 " ('pg_trgm', 'unaccent')"),
                     2);
    assert_int_equal(pg_int(pg, "SELECT value::bigint FROM settings WHERE key = 'auth_epoch'"), 0);
    PQfinish(pg);
}

/* The search columns follow the searched ones, through the trigger. */
static void test_search_columns_follow_packages(void **state)
{
    FIXTURE(f);
    PGconn *pg = raw_open(f);
    pg_exec(pg, "INSERT INTO packages (ecosystem, name, normalized_name, description, keywords,"
                 " created_at, updated_at) VALUES ('hex', 'plug_cowboy', 'plug_cowboy',"
                 " 'A web server adapter', '[\"http\",\"server\"]', 1, 1)");
    struct {
        const char *after; /* SQL run first, or NULL */
        const char *word;
        int64_t hits;
    } steps[] = {
        {NULL, "cowboy", 1},
        {NULL, "adapter", 1},
        {NULL, "http", 1},
        {NULL, "ada", 1},
        {"UPDATE packages SET downloads = 10, generation = generation + 1", "adapter", 1},
        {"UPDATE packages SET description = 'Bridges Plug and Cowboy'", "adapter", 0},
        {NULL, "bridges", 1},
        {"UPDATE packages SET keywords = 'not json'", "http", 0},
        {"UPDATE packages SET keywords = '[\"caf\xc3\xa9\"]'", "cafe", 1},
        {"DELETE FROM packages", "cowboy", 0},
    };
    for (size_t i = 0; i < N(steps); i++) {
        if (steps[i].after)
            pg_exec(pg, steps[i].after);
        char sql[200];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM packages WHERE search_doc @@"
                 " depot_search_query(ARRAY['%s'])",
                 steps[i].word);
        int64_t got = pg_int(pg, sql);
        if (got != steps[i].hits)
            fail_msg("step %zu: '%s' gave %lld, want %lld", i, steps[i].word, (long long)got,
                     (long long)steps[i].hits);
    }
    PQfinish(pg);
}

/* Failures reach the caller as "internal" with no SQL text. */
static void test_errors_hide_sql(void **state)
{
    FIXTURE(f);
    char db[64], url[512];
    new_database(db, sizeof db, url, sizeof url); /* never migrated */
    derr e = {0};
    store *bare = store_open(url, &e);
    assert_non_null(bare);
    errors_hide_sql_on(f, bare);
    bare->ops->close(bare);
    drop_database(db);
}

/* ---- connections: reconnect, outage, timeout ------------------------- */

/* A connection that died while idle (network cut, server restart, an
 * admin's pg_terminate_backend) is replaced and the operation succeeds. */
static void test_reconnect(void **state)
{
    FIXTURE(f);
    int64_t alice = make_user(f, "alice");
    derr e = {0};
    store_user u;
    store_postgres_break_connection(f->st);
    assert_int_equal(store_call(f->st, user_by_id, f->a, alice, &u, &e), STORE_OK);

    PGconn *pg = raw_open(f);
    char sql[300];
    /* the timeout makes it wait until the backend is gone, so the next call
     * meets a closed connection however slow the machine (no sleep to guess) */
    snprintf(sql, sizeof sql,
             "SELECT count(pg_terminate_backend(pid, 60000)) FROM pg_stat_activity"
             " WHERE datname = '%s' AND application_name = 'depot'",
             f->db);
    for (int round = 0; round < 3; round++) {
        assert_int_equal(pg_int(pg, sql), 1);
        /* A write, a transaction and a read, each right after a kill. */
        if (round == 0)
            assert_int_equal(store_call(f->st, user_set_admin, alice, true, &e), STORE_OK);
        else if (round == 1)
            assert_int_equal(publish_at(f, "after_kill", "1.0.0", alice, 0, &e), STORE_OK);
        else
            assert_int_equal(store_call(f->st, user_by_id, f->a, alice, &u, &e), STORE_OK);
    }
    assert_true(u.is_admin);
    assert_int_equal(store_postgres_connections(f->st), 1);
    PQfinish(pg);
}

/* While the server refuses connections, operations answer 503
 * "unavailable" (never a crash, never SQL); once it takes them again, the
 * next operation works and nothing written before is lost. */
static void test_outage(void **state)
{
    FIXTURE(f);
    int64_t alice = make_user(f, "alice");
    publish_ok(f, "kept", "1.0.0", alice, 0);
    char sql[300];
    PGconn *admin = raw_connect(cluster_url);
    snprintf(sql, sizeof sql, "ALTER DATABASE \"%s\" ALLOW_CONNECTIONS false", f->db);
    pg_exec(admin, sql);
    snprintf(sql, sizeof sql,
             "SELECT count(pg_terminate_backend(pid, 60000)) FROM pg_stat_activity"
             " WHERE datname = '%s'",
             f->db);
    pg_int(admin, sql);
    derr e = {0};
    store_user u;
    assert_int_equal(store_call(f->st, user_by_id, f->a, alice, &u, &e), STORE_ERROR);
    assert_int_equal(e.status, 503);
    assert_string_equal(e.code, "unavailable");
    assert_string_equal(e.message, "the store is unreachable; try again");
    e = (derr){0};
    assert_int_equal(publish_at(f, "kept", "2.0.0", alice, 0, &e), STORE_ERROR);
    assert_int_equal(e.status, 503);
    assert_int_equal(store_call(f->st, ping, &e), STORE_ERROR);

    snprintf(sql, sizeof sql, "ALTER DATABASE \"%s\" ALLOW_CONNECTIONS true", f->db);
    pg_exec(admin, sql);
    PQfinish(admin);
    assert_int_equal(store_call(f->st, ping, &e), STORE_OK);
    assert_int_equal(store_call(f->st, user_by_id, f->a, alice, &u, &e), STORE_OK);
    assert_string_equal(get_pkg(f, "kept").latest_version, "1.0.0");
    assert_int_equal(publish_at(f, "kept", "2.0.0", alice, 0, &e), STORE_OK);
    assert_string_equal(get_pkg(f, "kept").latest_version, "2.0.0");
}

/* statement_timeout from the URL's options: a statement that waits on a
 * lock past it is cancelled and answered 503 "busy", and the connection
 * goes on serving. */
static void test_statement_timeout(void **state)
{
    FIXTURE(f);
    int64_t alice = make_user(f, "alice");
    char url[700];
    url_for(url, sizeof url, f->db, "?options=-c%20statement_timeout%3D300");
    derr e = {0};
    store *quick = store_open(url, &e);
    assert_non_null(quick);
    PGconn *pg = raw_open(f);
    pg_exec(pg, "BEGIN");
    pg_exec(pg, "LOCK TABLE users IN ACCESS EXCLUSIVE MODE");
    store_user u;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(store_call(quick, user_by_id, f->a, alice, &u, &e), STORE_ERROR);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    /* it waited for the timeout (an upper bound would be a clock's guess under load) */
    assert_true(ms >= 250);
    assert_int_equal(e.status, 503);
    assert_string_equal(e.code, "unavailable");
    pg_exec(pg, "ROLLBACK");
    assert_int_equal(store_call(quick, user_by_id, f->a, alice, &u, &e), STORE_OK);
    quick->ops->close(quick);
    PQfinish(pg);
}

/* ---- users, tokens, JWTs, audit -------------------------------------- */


/* The revocation epoch moves once per row changed, in the transaction that
 * changes it, exactly where SQLite's triggers move it. */
static void test_auth_epoch(void **state)
{
    FIXTURE(f);
    derr e = {0};
    int64_t alice = make_user(f, "alice");
    int64_t bob = make_user(f, "bob");
    store_token t1 = token(alice, "a", "h-a"), t2 = token(alice, "b", "h-b");
    assert_int_equal(store_call(f->st, token_create, &t1, &e), STORE_OK);
    assert_int_equal(store_call(f->st, token_create, &t2, &e), STORE_OK);
    int64_t later = (int64_t)time(NULL) + 3600;
#define STEP(call, want_rc, want_moves)                                                  \
    do {                                                                                 \
        int64_t before = epoch(f->st);                                                   \
        int rc_ = (call);                                                                \
        if (rc_ != (want_rc))                                                            \
            fail_msg("%s: rc %d", #call, rc_);                                           \
        if (epoch(f->st) != before + (want_moves))                                       \
            fail_msg("%s: epoch moved %lld, want %d", #call,                             \
                     (long long)(epoch(f->st) - before), (want_moves));                  \
    } while (0)
    STEP(store_call(f->st, user_set_disabled, alice, false, &e), STORE_OK, 0); /* unchanged */
    STEP(store_call(f->st, user_set_disabled, alice, true, &e), STORE_OK, 1);
    STEP(store_call(f->st, user_set_disabled, alice, true, &e), STORE_OK, 0);
    STEP(store_call(f->st, user_set_admin, bob, true, &e), STORE_OK, 1);
    STEP(store_call(f->st, user_set_password, bob, "$argon2id$x", &e), STORE_OK, 0);
    STEP(store_call(f->st, user_set_password, bob, "new", &e), STORE_OK, 1);
    STEP(store_call(f->st, user_set_password, bob, NULL, &e), STORE_OK, 1);
    STEP(store_call(f->st, token_delete, alice, "a", &e), STORE_OK, 1);
    STEP(store_call(f->st, token_delete, alice, "a", &e), STORE_NOT_FOUND, 0);
    STEP(store_call(f->st, jwt_revoke, "j1", later, &e), STORE_OK, 1);
    STEP(store_call(f->st, jwt_revoke, "j1", later, &e), STORE_OK, 0); /* already there */
    STEP(store_call(f->st, token_touch, t2.id, later, &e), STORE_OK, 0);
    /* Deleting a user (the CLI does it in SQL) moves it once for the user
     * and once for each of its tokens. */
    PGconn *pg = raw_open(f);
    int64_t before = epoch(f->st);
    char sql[120];
    snprintf(sql, sizeof sql, "DELETE FROM users WHERE id = %lld", (long long)alice);
    pg_exec(pg, sql);
    assert_int_equal(epoch(f->st), before + 2);
    PQfinish(pg);
#undef STEP
}

/* ---- publish --------------------------------------------------------- */


/* Threads (each on its own connection, as separate servers would be)
 * publish the same version of a package that does not exist yet: one
 * creates it, the others get STORE_CONFLICT. Then different users race to
 * publish new versions of it: only its owner's lands. */
/* Two different users race to create one new package: one creates it (and
 * owns it); the other finds it made and, not its owner, is refused. */
static void test_publish_create_race(void **state)
{
    FIXTURE(f);
    for (int round = 0; round < 10; round++) {
        char name[32];
        snprintf(name, sizeof name, "cr%d", round);
        int64_t a = make_user(f, arena_printf(f->a, "a%d", round));
        int64_t b = make_user(f, arena_printf(f->a, "b%d", round));
        pthread_barrier_t barrier;
        pthread_barrier_init(&barrier, NULL, 2);
        struct racer r[2] = {
            {.st = f->st, .barrier = &barrier, .user = a, .name = name, .version = "1.0.0",
             .check_owner = true},
            {.st = f->st, .barrier = &barrier, .user = b, .name = name, .version = "1.0.1",
             .check_owner = true},
        };
        pthread_t th[2];
        for (int i = 0; i < 2; i++)
            assert_int_equal(pthread_create(&th[i], NULL, racer_main, &r[i]), 0);
        for (int i = 0; i < 2; i++)
            assert_int_equal(pthread_join(th[i], NULL), 0);
        pthread_barrier_destroy(&barrier);
        int wins = (r[0].rc == STORE_OK) + (r[1].rc == STORE_OK);
        int refused = (r[0].rc == STORE_FORBIDDEN) + (r[1].rc == STORE_FORBIDDEN);
        assert_int_equal(wins, 1);
        assert_int_equal(refused, 1);
        assert_int_equal(r[0].created + r[1].created, 1);
        store_owner *o;
        int n = 0;
        derr e = {0};
        store_package p = get_pkg(f, name);
        assert_int_equal(store_call(f->st, owners_list, f->a, p.id, &o, &n, &e), STORE_OK);
        assert_int_equal(n, 1);
        assert_int_equal(o[0].user_id, r[0].rc == STORE_OK ? a : b);
    }
}

struct remover {
    store *st;
    pthread_barrier_t *barrier;
    int64_t pkg, user;
    int rc;
};

static void *remover_main(void *arg)
{
    struct remover *r = arg;
    derr e = {0};
    pthread_barrier_wait(r->barrier);
    r->rc = store_call(r->st, owner_remove, r->pkg, r->user, &e);
    return NULL;
}

/* Two owners removing each other at the same moment: the package lock
 * makes them queue up, and one owner is left. */
static void test_owner_remove_race(void **state)
{
    FIXTURE(f);
    int64_t alice = make_user(f, "alice"), bob = make_user(f, "bob");
    derr e = {0};
    for (int round = 0; round < 10; round++) {
        char name[16];
        snprintf(name, sizeof name, "two%d", round);
        int64_t pkg = publish_ok(f, name, "1.0.0", alice, 0);
        assert_int_equal(store_call(f->st, owner_add, pkg, bob, "owner", 0, &e), STORE_OK);
        pthread_barrier_t barrier;
        pthread_barrier_init(&barrier, NULL, 2);
        struct remover r[2] = {{f->st, &barrier, pkg, alice, 0}, {f->st, &barrier, pkg, bob, 0}};
        pthread_t th[2];
        for (int i = 0; i < 2; i++)
            assert_int_equal(pthread_create(&th[i], NULL, remover_main, &r[i]), 0);
        for (int i = 0; i < 2; i++)
            assert_int_equal(pthread_join(th[i], NULL), 0);
        pthread_barrier_destroy(&barrier);
        assert_int_equal((r[0].rc == STORE_OK) + (r[1].rc == STORE_OK), 1);
        assert_int_equal((r[0].rc == STORE_FORBIDDEN) + (r[1].rc == STORE_FORBIDDEN), 1);
        store_owner *o;
        int n = 0;
        assert_int_equal(store_call(f->st, owners_list, f->a, pkg, &o, &n, &e), STORE_OK);
        assert_int_equal(n, 1);
    }
}

/* ---- search ---------------------------------------------------------- */


/* The search cases every engine must answer alike. */
/* What only PostgreSQL's search does: a query whose words match nothing
 * finds names that look like it (trigram word similarity). */
static void test_search_typos(void **state)
{
    FIXTURE(f);
    seed_packages(f, f->st, search_seeds, N(search_seeds));
    static const struct search_case cases[] = {
        {{.query = "cowbuy"}, "cowboy", 1},
        {{.query = "expres"}, "express", 1}, /* a prefix: full-text matches it, no fallback */
        {{.query = "exprses"}, "express", 1},
        {{.query = "plug_cowbuy"}, "plug_cowboy", 1},
        {{.query = "jsaon"}, "", 0}, /* too far */
        {{.query = "cowbuy", .ecosystem = "npm"}, "", 0},
        {{.query = "cafe_lattte", .sort = "downloads"}, "cafe_latte", 1},
        {{.query = "zzzqqq"}, "", 0},
    };
    check_searches(f, cases, N(cases));
}

/* Fills packages straight into the table with COPY (the trigger indexes
 * them), from the vocabulary of the suite's search test. */
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
    enum { NW = N(words) };
    static const char *const ecos[] = {"hex", "npm", "pub", "native"};
    PGconn *pg = raw_open(f);
    pg_exec(pg, "BEGIN");
    PGresult *r = PQexec(pg, "COPY packages (ecosystem, name, normalized_name, description,"
                             " keywords, categories, downloads, created_at, updated_at) FROM STDIN");
    assert_int_equal(PQresultStatus(r), PGRES_COPY_IN);
    PQclear(r);
    uint32_t rnd = 12345;
    for (int i = 0; i < count; i++) {
        uint32_t x[4];
        for (int k = 0; k < 4; k++) {
            rnd = rnd * 1103515245u + 12345u;
            x[k] = (rnd >> 8) % NW;
        }
        char line[512];
        int n = snprintf(line, sizeof line,
                         "%s\t%s_%s_%d\t%s_%s_%d\tA %s library for %s and %s in the %s style\t"
                         "[\"%s\",\"%s\"]\t[\"%s\"]\t%u\t%d\t%d\n",
                         ecos[i % 4], words[x[0]], words[x[1]], i, words[x[0]], words[x[1]], i,
                         words[x[2]], words[x[3]], words[x[0]], words[x[1]], words[x[2]],
                         words[x[3]], words[x[1] % 8], rnd % 100000, 1600000000 + i,
                         1600000000 + i);
        assert_int_equal(PQputCopyData(pg, line, n), 1);
    }
    assert_int_equal(PQputCopyEnd(pg, NULL), 1);
    r = PQgetResult(pg);
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    while ((r = PQgetResult(pg)) != NULL)
        PQclear(r);
    pg_exec(pg, "COMMIT");
    pg_exec(pg, "ANALYZE packages");
    PQfinish(pg);
}

/* Every kind of search over many packages finds them, a misspelt name
 * finds the package it misspells, and the typo search's condition (the one
 * the store's fuzzy statement uses) is one the trigram index answers: a
 * plan that read every package instead is what made typo searches slow. */
static void test_search_at_scale(void **state)
{
    FIXTURE(f);
    bulk_packages(f, search_speed_count());
    search_at_scale(f, true);
    PGconn *pg = raw_open(f);
    pg_exec(pg, "SET enable_seqscan = off");
    PGresult *r = PQexec(pg, "EXPLAIN SELECT id FROM packages p WHERE p.normalized_name %"
                             " 'json_parsre' OR 'json_parsre' <% p.normalized_name");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    bool indexed = false;
    for (int i = 0; i < PQntuples(r); i++)
        indexed |= strstr(PQgetvalue(r, i, 0), "packages_name_trgm") != NULL;
    PQclear(r);
    PQfinish(pg);
    assert_true(indexed);
}

/* ---- downloads and stats --------------------------------------------- */

struct counter {
    store *st;
    int64_t v1, v2;
};

static void *counter_main(void *arg)
{
    struct counter *c = arg;
    for (int i = 0; i < 50; i++) {
        /* The two orders of a batch, so two batches lock in opposite orders
         * unless the store sorts them. */
        store_download b[2] = {{i % 2 ? c->v1 : c->v2, "2024-05-01", 1},
                               {i % 2 ? c->v2 : c->v1, "2024-05-01", 1}};
        derr e = {0};
        if (store_call(c->st, downloads_add, b, 2, &e) != STORE_OK)
            fail_msg("downloads_add: %s", e.message);
    }
    return NULL;
}

/* Batches from several servers at once add up exactly, and never deadlock. */
static void test_downloads_concurrent(void **state)
{
    FIXTURE(f);
    int64_t alice = make_user(f, "alice");
    derr e = {0};
    store_publish a = make_pub("ca", "1.0.0", alice), b = make_pub("cb", "1.0.0", alice);
    assert_int_equal(store_call(f->st, publish, &a, &e), STORE_OK);
    assert_int_equal(store_call(f->st, publish, &b, &e), STORE_OK);
    enum { T = 4 };
    struct counter c = {f->st, a.ver.id, b.ver.id};
    pthread_t th[T];
    for (int i = 0; i < T; i++)
        assert_int_equal(pthread_create(&th[i], NULL, counter_main, &c), 0);
    for (int i = 0; i < T; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    assert_int_equal(get_pkg(f, "ca").downloads, 50 * T);
    assert_int_equal(get_pkg(f, "cb").downloads, 50 * T);
}

/* ---- signing keys ---------------------------------------------------- */

/* ---- version extras, status, meta, tags ------------------------------ */

/* ---- removal and docs ------------------------------------------------- */

/* A database at schema 1 (a version in it) gains what 0002 and 0003 add. */
static void test_upgrade_from_0001(void **state)
{
    FIXTURE(f);
    char db[64], url[512];
    new_database(db, sizeof db, url, sizeof url);
    PGconn *pg = raw_connect(url);
    pg_exec(pg, "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                 " applied_at BIGINT NOT NULL)");
    pg_exec(pg, pg_migrations[0].sql);
    pg_exec(pg, "INSERT INTO schema_migrations VALUES (1, 'init', 0)");
    pg_exec(pg, "INSERT INTO packages (id, ecosystem, name, normalized_name, created_at,"
                 " updated_at) VALUES (1, 'hex', 'old', 'old', 1, 1)");
    pg_exec(pg, "INSERT INTO versions (package_id, version, major, minor, patch, sha256, size,"
                 " published_at, retired_reason, retired_at) VALUES (1, '1.0.0', 1, 0, 0, 'ab', 1,"
                 " 1, 'other', 77)");
    PQfinish(pg);
    derr e = {0};
    store *s = store_open(url, &e);
    assert_non_null(s);
    int applied = -1;
    assert_int_equal(store_call(s, migrate, &applied, &e), STORE_OK);
    assert_int_equal(applied, pg_migrations_count - 1);
    store_version v;
    assert_int_equal(store_call(s, version_get, f->a, 1, "1.0.0", &v, &e), STORE_OK);
    assert_string_equal(v.extra, "{}");
    assert_null(v.deprecated);
    assert_false(v.retracted);
    assert_string_equal(v.retired_reason, "other");
    assert_int_equal(v.retired_at, 77);
    assert_int_equal(store_call(s, version_delete, 1, "1.0.0", true, 0, &e), STORE_OK);
    assert_int_equal(store_call(s, version_tombstoned, 1, "1.0.0", &e), STORE_OK);
    assert_int_equal(epoch(s), 0);
    s->ops->close(s);
    drop_database(db);
}

/* ---- operations ------------------------------------------------------ */

struct ref_count {
    int versions, docs;
    bool stop_early;
};

static int count_ref(void *ctx, const char *kind, const char *sha256, int64_t size, const char *what)
{
    struct ref_count *c = ctx;
    (void)sha256;
    (void)size;
    (void)what;
    if (strcmp(kind, "version") == 0)
        c->versions++;
    else
        c->docs++;
    return c->stop_early && c->versions + c->docs == 2;
}

static void test_operations(void **state)
{
    FIXTURE(f);
    int64_t alice = make_user(f, "alice");
    int64_t pkg = publish_ok(f, "ops", "1.0.0", alice, 0);
    publish_ok(f, "ops", "1.1.0", alice, 0);
    store_doc_file files[] = {{"index.html", "d1", 10}, {"a.html", "d2", 20}};
    derr e = {0};
    assert_int_equal(store_call(f->st, docs_put, pkg, "1.0.0", "ar", 30, files, 2, 0, &e), STORE_OK);
    struct ref_count c = {0};
    assert_int_equal(store_call(f->st, each_blob_ref, count_ref, &c, &e), STORE_OK);
    assert_int_equal(c.versions, 2);
    assert_int_equal(c.docs, 3);
    c = (struct ref_count){.stop_early = true};
    assert_int_equal(store_call(f->st, each_blob_ref, count_ref, &c, &e), STORE_OK);
    assert_int_equal(c.versions + c.docs, 2);
    /* The connection is usable after a stream stopped early. */
    assert_int_equal(store_call(f->st, ping, &e), STORE_OK);
    int64_t gen = generation(f, "ops");
    assert_int_equal(store_call(f->st, bump_generations, &e), STORE_OK);
    assert_int_equal(generation(f, "ops"), gen + 1);
    const char *report = NULL;
    assert_int_equal(store_call(f->st, integrity, f->a, &report, &e), STORE_OK);
    assert_string_equal(report, "ok");
}

/* backup writes a SQLite file in depot's schema that a SQLite store serves
 * with the same answers, while writes go on. */
static void test_backup(void **state)
{
    FIXTURE(f);
    derr e = {0};
    seed_packages(f, f->st, search_seeds, N(search_seeds));
    int64_t alice = make_user(f, "alice");
    store_token t = token(alice, "ci", "h-ci");
    assert_int_equal(store_call(f->st, token_create, &t, &e), STORE_OK);
    assert_int_equal(store_call(f->st, jwt_revoke, "j", (int64_t)time(NULL) + 600, &e), STORE_OK);
    int64_t pkg = publish_ok(f, "bk", "1.0.0", alice, 0);
    assert_int_equal(store_call(f->st, tag_set, pkg, "latest", "1.0.0", 0, &e), STORE_OK);
    store_doc_file files[] = {{"index.html", "d1", 10}};
    assert_int_equal(store_call(f->st, docs_put, pkg, "1.0.0", "ar", 30, files, 1, 0, &e), STORE_OK);
    store_version_status retire = {.set_retired = 1, .retired_reason = "other"};
    assert_int_equal(store_call(f->st, version_set_status, pkg, "1.0.0", &retire, 0, &e), STORE_OK);

    char path[128];
    snprintf(path, sizeof path, "%s/backup.db", f->dir);
    assert_int_equal(store_call(f->st, backup, path, &e), STORE_OK);
    assert_int_equal(store_call(f->st, backup, path, &e), STORE_ERROR); /* exists */
    assert_int_equal(e.status, 409);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 077, 0);

    store *copy = store_sqlite_open(path, &e);
    assert_non_null(copy);
    int applied = -1;
    assert_int_equal(store_call(copy, migrate, &applied, &e), STORE_OK);
    assert_int_equal(applied, 0);
    assert_int_equal(epoch(copy), epoch(f->st));
    store_totals a, b;
    assert_int_equal(store_call(f->st, totals, &a, &e), STORE_OK);
    assert_int_equal(store_call(copy, totals, &b, &e), STORE_OK);
    assert_memory_equal(&a, &b, sizeof a);
    store_package p1, p2;
    assert_int_equal(store_call(f->st, pkg_get, f->a, "hex", "bk", &p1, &e), STORE_OK);
    assert_int_equal(store_call(copy, pkg_get, f->a, "hex", "bk", &p2, &e), STORE_OK);
    assert_int_equal(p1.id, p2.id);
    assert_int_equal(p1.generation, p2.generation);
    assert_string_equal(p1.latest_version, p2.latest_version);
    store_version v;
    assert_int_equal(store_call(copy, version_get, f->a, p2.id, "1.0.0", &v, &e), STORE_OK);
    assert_string_equal(v.retired_reason, "other");
    assert_false(v.yanked);
    store_token tok;
    assert_int_equal(store_call(copy, token_by_hash, f->a, "h-ci", &tok, &e), STORE_OK);
    assert_int_equal(store_call(copy, jwt_is_revoked, "j", &e), STORE_OK);
    assert_string_equal(tags_text(&(struct fixture){.st = copy, .a = f->a}, p2.id), "latest=1.0.0");
    /* The copy's search index was built as the rows went in. */
    store_search q = {.query = "cow", .limit = 20};
    int64_t total = 0;
    assert_string_equal(search_names_in(copy, f->a, &q, &total), "cowsay plug_cowboy cowboy ranch");
    /* And the copy takes writes with fresh ids. */
    assert_int_equal(store_call(copy, publish, &(store_publish){.pkg = {.ecosystem = "hex", .name = "n",
                     .normalized_name = "n"}, .ver = {.version = "1.0.0", .major = 1, .sha256 = "ab",
                     .size = 1}, .publisher_id = alice}, &e), STORE_OK);
    copy->ops->close(copy);
}

/* Every operation of the interface is there: a store.h that grew an
 * operation postgres.c lacks fails here, not with a NULL call in a server. */
static void test_every_op_is_implemented(void **state)
{
    FIXTURE(f);
    const struct store_ops *ops = f->st->ops;
    size_t first = offsetof(struct store_ops, name) + sizeof ops->name;
    size_t slots = (sizeof *ops - first) / sizeof(void (*)(void));
    assert_true(slots >= 60);
    for (size_t i = 0; i < slots; i++) {
        void (*fn)(void) = NULL;
        memcpy(&fn, (const char *)ops + first + i * sizeof fn, sizeof fn);
        if (!fn)
            fail_msg("store_ops slot %zu (counting from close) is NULL in postgres.c", i);
    }
}

/* The web dashboard's operations (mailed secrets, address verification,
 * the audit log, dependents) answer as SQLite's do. */
static void test_web_ops_match_sqlite(void **state)
{
    FIXTURE(f);
    char path[128], url[160];
    snprintf(path, sizeof path, "%s/web.db", f->dir);
    snprintf(url, sizeof url, "sqlite:%s", path);
    derr e = {0};
    store *sq = store_open(url, &e);
    assert_non_null(sq);
    int applied = 0;
    assert_int_equal(store_call(sq, migrate, &applied, &e), STORE_OK);
    store *both[2] = {sq, f->st};
    char out[2][2048];
    for (int s = 0; s < 2; s++) {
        store *st = both[s];
        char *o = out[s];
        size_t len = 0;
#define SAY(...) len += (size_t)snprintf(o + len, sizeof out[s] - len, __VA_ARGS__)
        store_user u = {.username = "mia", .email = "mia@x.org"}, v = {.username = "noa"};
        assert_int_equal(store_call(st, user_create, &u, &e), STORE_OK);
        assert_int_equal(store_call(st, user_create, &v, &e), STORE_OK);
        store_email_token t1 = {.hash = "h1", .user_id = u.id, .purpose = "reset_password",
                                .email = "mia@x.org", .created_at = 1000, .expires_at = 2000};
        store_email_token t2 = t1;
        t2.hash = "h2";
        t2.created_at = 1100;
        store_email_token old = t1;
        old.hash = "h0";
        old.purpose = "verify_email";
        old.expires_at = 1050;
        SAY("%d ", store_call(st, email_token_create, &old, &e));
        SAY("%d ", store_call(st, email_token_create, &t1, &e));
        SAY("%d ", store_call(st, email_token_create, &t2, &e)); /* h1 goes, and expired h0 */
        store_email_token got;
        SAY("%d ", store_call(st, email_token_get, f->a, "h1", "reset_password", 1200, &got, &e));
        SAY("%d ", store_call(st, email_token_get, f->a, "h0", "verify_email", 1000, &got, &e));
        SAY("%d ", store_call(st, email_token_get, f->a, "h2", "verify_email", 1200, &got, &e));
        SAY("%d ", store_call(st, email_token_get, f->a, "h2", "reset_password", 2500, &got, &e));
        SAY("%d ", store_call(st, email_token_get, f->a, "h2", "reset_password", 1200, &got, &e));
        SAY("%s %lld %lld ", got.email, (long long)got.expires_at, (long long)got.used_at);
        SAY("%d ", store_call(st, email_token_use, f->a, "h2", "reset_password", 1300, &got, &e));
        SAY("%lld ", (long long)got.used_at);
        SAY("%d ", store_call(st, email_token_use, f->a, "h2", "reset_password", 1301, &got, &e));
        SAY("%d ", store_call(st, email_token_create, &t1, &e)); /* h1 again: fine */
        SAY("%d ", store_call(st, email_token_create, &t1, &e)); /* unused h1 went first */
        store_email_token dup = t2; /* h2 is used, so it stays, and its hash is taken */
        dup.created_at = 1400;
        SAY("%d(%s) ", store_call(st, email_token_create, &dup, &e), e.message);
        int64_t at = -1;
        SAY("%d ", store_call(st, user_email_verified, u.id, &at, &e));
        SAY("%lld ", (long long)at);
        SAY("%d ", store_call(st, user_set_email_verified, u.id, 1500, &e));
        SAY("%d ", store_call(st, user_email_verified, u.id, &at, &e));
        SAY("%lld ", (long long)at);
        SAY("%d ", store_call(st, user_set_email_verified, u.id, 0, &e));
        SAY("%d ", store_call(st, user_email_verified, u.id, &at, &e));
        SAY("%lld ", (long long)at);
        SAY("%d ", store_call(st, user_set_email_verified, 999, 1, &e));
        SAY("%d ", store_call(st, user_email_verified, 999, &at, &e));
        SAY("| epoch %lld | ", (long long)epoch(st));

        /* dependents: b and c depend on a (c only as dev, d only in an old version) */
        const char *pk[] = {"a", "b", "c", "d", "d"};
        const char *ver[] = {"1.0.0", "1.0.0", "1.0.0", "1.0.0", "2.0.0"};
        const char *kind[] = {NULL, "normal", "dev", "normal", NULL};
        for (int i = 0; i < 5; i++) {
            store_dep dep = {.name = "a", .requirement = "~> 1.0", .kind = kind[i]};
            store_publish pub = make_pub(pk[i], ver[i], u.id);
            pub.ver.published_at = 100 + i;
            if (i > 0 && kind[i]) {
                pub.ver.deps = &dep;
                pub.ver.ndeps = 1;
            }
            assert_int_equal(store_call(st, publish, &pub, &e), STORE_OK);
            store_download d = {pub.ver.id, "2024-01-01", 10 * i};
            assert_int_equal(store_call(st, downloads_add, &d, 1, &e), STORE_OK);
        }
        store_package *deps;
        int n = 0;
        SAY("%d ", store_call(st, pkg_dependents, f->a, "hex", "a", 10, &deps, &n, &e));
        for (int i = 0; i < n; i++)
            SAY("%s ", deps[i].name);
        SAY("%d ", store_call(st, pkg_dependents, f->a, "npm", "a", 10, &deps, &n, &e));
        SAY("%d ", n);

        store_audit evs[] = {{.user_id = u.id, .action = "a.one", .target = "t", .ip = "1.2.3.4"},
                             {.action = "a.two", .detail = "{}"},
                             {.user_id = 999, .action = "a.three"}};
        for (int i = 0; i < 3; i++)
            assert_int_equal(store_call(st, audit, &evs[i], &e), STORE_OK);
        store_audit_row *rows;
        SAY("%d ", store_call(st, audit_recent, f->a, 2, &rows, &n, &e));
        for (int i = 0; i < n; i++)
            SAY("[%s %lld %s %s] ", rows[i].action, (long long)rows[i].user_id,
                rows[i].username ? rows[i].username : "-", rows[i].ip ? rows[i].ip : "-");
        SAY("%d %d", store_call(st, audit_recent, f->a, 10, &rows, &n, &e), n);
#undef SAY
    }
    if (strcmp(out[0], out[1]) != 0)
        fail_msg("sqlite:   %s\npostgres: %s", out[0], out[1]);
    sq->ops->close(sq);
}

/* ---- parity: one script on both stores ------------------------------- */

/* Runs the same operations on a SQLite store and on this PostgreSQL store
 * and compares every result code, error message, generation, auth epoch,
 * latest_version and search answer. */
static void test_parity_with_sqlite(void **state)
{
    FIXTURE(f);
    char path[128], url[160];
    snprintf(path, sizeof path, "%s/parity.db", f->dir);
    snprintf(url, sizeof url, "sqlite:%s", path);
    derr e = {0};
    store *sq = store_open(url, &e);
    assert_non_null(sq);
    int applied = 0;
    assert_int_equal(store_call(sq, migrate, &applied, &e), STORE_OK);
    store *both[2] = {sq, f->st};
    int64_t users[2][3];
    static const char *const names[] = {"alice", "bob", "carol"};
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < 3; i++) {
            store_user u = {.username = names[i], .email = arena_printf(f->a, "%s@x.org", names[i])};
            assert_int_equal(store_call(both[s], user_create, &u, &e), STORE_OK);
            users[s][i] = u.id;
        }
    enum { PUB, YANK, UNYANK, OWNER_ADD, OWNER_RM, TAG, UNTAG, DEL, TOMB, RETIRE, META, DOCS,
           TOKEN, TOKEN_DEL, DISABLE, ADMIN, PASSWORD, JWT, REPLACE, SIGS, BUMP_ALL, DOWNLOAD };
    struct {
        int op;
        const char *pkg, *arg;
        int user; /* index in names */
    } script[] = {
        {PUB, "p", "1.0.0", 0},       {PUB, "p", "1.0.0", 0},      {PUB, "p", "2.0.0-rc.1", 0},
        {PUB, "p", "1.1.0", 1},       {OWNER_ADD, "p", "maintainer", 1}, {PUB, "p", "1.1.0", 1},
        {YANK, "p", "1.1.0", 0},      {YANK, "p", "9.9.9", 0},     {UNYANK, "p", "1.1.0", 0},
        {TAG, "p", "1.0.0", 0},       {TAG, "p", "7.0.0", 0},      {UNTAG, "p", NULL, 0},
        {UNTAG, "p", NULL, 0},        {OWNER_ADD, "p", "owner", 1}, {OWNER_ADD, "p", "owner", 2},
        {OWNER_RM, "p", NULL, 0},     {OWNER_RM, "p", NULL, 2},    {OWNER_RM, "p", NULL, 1},
        {RETIRE, "p", "1.0.0", 0},    {RETIRE, "p", "5.0.0", 0},   {META, "p", "{\"a\":1}", 0},
        {DOCS, "p", "1.0.0", 0},      {DEL, "p", "1.1.0", 0},      {TOMB, "p", "2.0.0-rc.1", 0},
        {PUB, "p", "2.0.0-rc.1", 1},  {PUB, "p", "1.1.0", 1},      {DEL, "p", "4.0.0", 0},
        {PUB, "q", "0.1.0", 2},       {PUB, "q", "0.1.0-a", 0},    {TOKEN, NULL, "t1", 0},
        {TOKEN, NULL, "t1", 0},       {TOKEN_DEL, NULL, "t1", 0},  {TOKEN_DEL, NULL, "t1", 0},
        {DISABLE, NULL, NULL, 1},     {DISABLE, NULL, NULL, 1},    {ADMIN, NULL, NULL, 2},
        {PASSWORD, NULL, "x", 2},     {PASSWORD, NULL, "x", 2},    {JWT, NULL, "j1", 0},
        {JWT, NULL, "j1", 0},         {REPLACE, "p", "1.0.0", 0},  {REPLACE, "p", "3.0.0", 0},
        {REPLACE, "p", "2.0.0-rc.1", 1}, {SIGS, "p", NULL, 0},     {DOWNLOAD, "p", "1.0.0", 0},
        {BUMP_ALL, "p", NULL, 0},     {PUB, "r", "1.0.0", 0},      {DEL, "r", "1.0.0", 0},
    };
    for (size_t i = 0; i < N(script); i++) {
        int rc[2];
        char msg[2][256];
        int64_t gen[2] = {0, 0}, ep[2], eco[2];
        const char *latest[2] = {NULL, NULL};
        for (int s = 0; s < 2; s++) {
            store *st = both[s];
            int64_t user = users[s][script[i].user];
            derr se = {0};
            store_package p = {0};
            if (script[i].pkg)
                store_call(st, pkg_get, f->a, "hex", script[i].pkg, &p, &se);
            se = (derr){0};
            switch (script[i].op) {
            case PUB: {
                store_publish pub = make_pub(script[i].pkg, script[i].arg, user);
                pub.ver.published_at = 1000 + (int64_t)i;
                rc[s] = store_call(st, publish, &pub, &se);
                break;
            }
            case YANK:
            case UNYANK:
                rc[s] = store_call(st, version_yank, p.id, script[i].arg, script[i].op == YANK, 0,
                                   &se);
                break;
            case OWNER_ADD:
                rc[s] = store_call(st, owner_add, p.id, user, script[i].arg, 0, &se);
                break;
            case OWNER_RM:
                rc[s] = store_call(st, owner_remove, p.id, user, &se);
                break;
            case TAG:
                rc[s] = store_call(st, tag_set, p.id, "stable", script[i].arg, 0, &se);
                break;
            case UNTAG:
                rc[s] = store_call(st, tag_delete, p.id, "stable", &se);
                break;
            case DEL:
            case TOMB:
                rc[s] = store_call(st, version_delete, p.id, script[i].arg, script[i].op == TOMB, 0,
                                   &se);
                break;
            case RETIRE: {
                store_version_status rs = {.set_retired = 1, .retired_reason = "security"};
                rc[s] = store_call(st, version_set_status, p.id, script[i].arg, &rs, 0, &se);
                break;
            }
            case META:
                rc[s] = store_call(st, pkg_set_meta, p.id, script[i].arg, &se);
                break;
            case DOCS: {
                store_doc_file df[] = {{"i.html", "x", 1}};
                rc[s] = store_call(st, docs_put, p.id, script[i].arg, "ar", 1, df, 1, 0, &se);
                break;
            }
            case TOKEN: {
                store_token tk = token(user, script[i].arg, "h-parity");
                rc[s] = store_call(st, token_create, &tk, &se);
                break;
            }
            case TOKEN_DEL:
                rc[s] = store_call(st, token_delete, user, script[i].arg, &se);
                break;
            case DISABLE:
                rc[s] = store_call(st, user_set_disabled, user, true, &se);
                break;
            case ADMIN:
                rc[s] = store_call(st, user_set_admin, user, true, &se);
                break;
            case PASSWORD:
                rc[s] = store_call(st, user_set_password, user, script[i].arg, &se);
                break;
            case JWT:
                rc[s] = store_call(st, jwt_revoke, script[i].arg, 4000000000, &se);
                break;
            case REPLACE: {
                store_publish pub = make_pub(script[i].pkg, script[i].arg, user);
                pub.ver.published_at = 1000 + (int64_t)i;
                pub.ver.sha256 = "beef";
                pub.replace = true;
                rc[s] = store_call(st, publish, &pub, &se);
                break;
            }
            case SIGS:
                rc[s] = store_call(st, pkg_set_require_signatures, p.id, true, &se);
                break;
            case DOWNLOAD: {
                store_version v;
                rc[s] = store_call(st, version_get, f->a, p.id, script[i].arg, &v, &se);
                store_download d = {v.id, "2024-06-01", 3};
                if (rc[s] == STORE_OK)
                    rc[s] = store_call(st, downloads_add, &d, 1, &se);
                break;
            }
            case BUMP_ALL:
                rc[s] = store_call(st, bump_generations, &se);
                break;
            }
            snprintf(msg[s], sizeof msg[s], "%s", rc[s] == STORE_OK ? "" : se.message);
            if (script[i].pkg && store_call(st, pkg_get, f->a, "hex", script[i].pkg, &p, &se) ==
                                     STORE_OK) {
                gen[s] = p.generation;
                latest[s] = p.latest_version;
            }
            ep[s] = epoch(st);
            assert_int_equal(store_call(st, eco_generation, "hex", &eco[s], &se), STORE_OK);
        }
        if (rc[0] != rc[1] || strcmp(msg[0], msg[1]) != 0)
            fail_msg("step %zu: sqlite rc %d '%s', postgres rc %d '%s'", i, rc[0], msg[0], rc[1],
                     msg[1]);
        if (gen[0] != gen[1] || ep[0] != ep[1] || eco[0] != eco[1])
            fail_msg("step %zu: generation %lld/%lld, epoch %lld/%lld, hex generation %lld/%lld",
                     i, (long long)gen[0], (long long)gen[1], (long long)ep[0], (long long)ep[1],
                     (long long)eco[0], (long long)eco[1]);
        if ((latest[0] == NULL) != (latest[1] == NULL) ||
            (latest[0] && strcmp(latest[0], latest[1]) != 0))
            fail_msg("step %zu: latest %s/%s", i, latest[0] ? latest[0] : "NULL",
                     latest[1] ? latest[1] : "NULL");
    }
    /* Searches over the same catalogue give the same pages and totals. */
    seed_packages(f, sq, search_seeds, N(search_seeds));
    seed_packages(f, f->st, search_seeds, N(search_seeds));
    const store_search queries[] = {
        {.query = "cow", .limit = 20},      {.query = "cow", .sort = "name", .limit = 2, .offset = 1},
        {.query = "http server", .limit = 20}, {.keyword = "http", .limit = 20},
        {.ecosystem = "hex", .sort = "downloads", .limit = 20}, {.query = "caf\xc3\xa9", .limit = 20},
        {.query = "!!!", .limit = 20},      {.sort = "recent", .limit = 3},
        {.query = "zzz", .limit = 20},      {.tag = "server", .limit = 20},
    };
    for (size_t i = 0; i < N(queries); i++) {
        int64_t t0 = -1, t1 = -1;
        char *a = search_names_in(sq, f->a, &queries[i], &t0);
        char *b = search_names_in(f->st, f->a, &queries[i], &t1);
        if (strcmp(a, b) != 0 || t0 != t1)
            fail_msg("search %zu: sqlite [%s] of %lld, postgres [%s] of %lld", i, a, (long long)t0,
                     b, (long long)t1);
    }
    sq->ops->close(sq);
}

int main(void)
{
    log_set_level("error");
    cluster_url = getenv("DEPOT_TEST_PG_URL");
    if (cluster_url && !*cluster_url)
        cluster_url = NULL;
    if (!cluster_url)
        printf("test_postgres: DEPOT_TEST_PG_URL is not set; every test is skipped\n");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_bad_urls),
        cmocka_unit_test_setup_teardown(test_migrate_idempotent, setup, teardown),
        cmocka_unit_test(test_migrate_concurrent_processes),
        cmocka_unit_test_setup_teardown(test_ping_and_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_columns_follow_packages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_hide_sql, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconnect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_statement_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth_epoch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_publish_create_race, setup, teardown),
        cmocka_unit_test_setup_teardown(test_owner_remove_race, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_typos, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_at_scale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_downloads_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_from_0001, setup, teardown),
        cmocka_unit_test_setup_teardown(test_operations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parity_with_sqlite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_op_is_implemented, setup, teardown),
        cmocka_unit_test_setup_teardown(test_web_ops_match_sqlite, setup, teardown),
        STORE_SUITE(setup, teardown)
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
