/*
 * test_sqlite.c — the store on SQLite: the whole store suite (suite.h) on a
 * real database file, and what only SQLite has: its URLs, migrations of
 * several processes starting at once, its pragmas and private file, the
 * FTS5 index and its triggers, upgrading a file made by migration 0001,
 * errors that hide SQL, one connection per thread, and search at scale.
 *
 * Each test gets a fresh temporary folder (mkdtemp) with the database one
 * level below it, so store_open's folder creation is exercised too, and a
 * migrated store. Where a behaviour is only visible in the tables the test
 * opens the file with SQLite directly, as an outsider would.
 *
 * test_search_at_scale fills the store with synthetic packages and runs
 * every kind of search over them. It uses 5,000 packages by default; set
 * DEPOT_TEST_SEARCH_PACKAGES=100000 for a registry's size.
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
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/arena.h"
#include "lib/log.h"
#include "store/migrations.h"
#include "store/sqlite.h"
#include "store/store.h"

struct fixture {
    char dir[64];
    char path[128]; /* the database file */
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
    snprintf(f->dir, sizeof f->dir, "/tmp/depot-store-XXXXXX");
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

/* Opens a database file directly, outside the store, with foreign keys on. */
static sqlite3 *db_open_path(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
    return db;
}

static sqlite3 *db_open(struct fixture *f)
{
    return db_open_path(f->path);
}

/* The first column of the first row of sql, as an integer (-1 when none). */
static int64_t db_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

static void db_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

/* What suite.h needs from the engine. */
#define FIXTURE(f) struct fixture *f = *state
#define SQL_JSON_FIRST_SCOPE "json_extract(detail, '$.scopes[0]')"

static int64_t raw_int(struct fixture *f, const char *sql)
{
    sqlite3 *db = db_open(f);
    int64_t v = db_int(db, sql);
    sqlite3_close(db);
    return v;
}

static void raw_exec(struct fixture *f, const char *sql)
{
    sqlite3 *db = db_open(f);
    db_exec(db, sql);
    sqlite3_close(db);
}

#define ENGINE_CONNECTIONS(st) store_sqlite_connections(st)

#include "suite.h"

/* ---- opening and migrating ------------------------------------------ */

static void test_open_bad_urls(void **state)
{
    (void)state;
    /* (postgres:// URLs open the PostgreSQL store: test_postgres.c tests them.) */
    static const char *const urls[] = {
        "", "mysql://x", "sqlite:", "SQLITE:x.db", "depot.db", "postgres:/x",
    };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        derr e = {0};
        store *s = store_open(urls[i], &e);
        if (s)
            fail_msg("store_open(\"%s\") should fail", urls[i]);
        assert_int_equal(e.status, 400);
        assert_string_equal(e.code, "bad_request");
    }
}

static void test_migrate_idempotent(void **state)
{
    struct fixture *f = *state;
    derr e = {0};
    int applied = -1;
    assert_int_equal(store_call(f->st, migrate, &applied, &e), STORE_OK);
    assert_int_equal(applied, 0);

    /* A second store on the same file, as a second process would be. */
    store *other = store_open(f->url, &e);
    assert_non_null(other);
    applied = -1;
    assert_int_equal(store_call(other, migrate, &applied, &e), STORE_OK);
    assert_int_equal(applied, 0);
    other->ops->close(other);

    sqlite3 *db = db_open(f);
    assert_int_equal(db_int(db, "SELECT count(*) FROM schema_migrations"), migrations_count);
    assert_int_equal(db_int(db, "SELECT max(version) FROM schema_migrations"),
                     migrations[migrations_count - 1].version);
    sqlite3_close(db);
}

static void test_migrate_concurrent_processes(void **state)
{
    (void)state;
    enum { PROCS = 6 };
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/depot-store-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char url[160];
    snprintf(url, sizeof url, "sqlite:%s/fresh/depot.db", dir);
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
    assert_int_equal(total, migrations_count);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void test_ping_and_pragmas(void **state)
{
    struct fixture *f = *state;
    derr e = {0};
    assert_int_equal(store_call(f->st, ping, &e), STORE_OK);
    assert_string_equal(f->st->ops->name, "sqlite");

    /* WAL is a property of the file, so an outside connection sees it. */
    sqlite3 *db = db_open(f);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);

    /* The file is private to its owner. */
    struct stat sb;
    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_mode & 077, 0);
}

static void test_schema_tables(void **state)
{
    struct fixture *f = *state;
    static const char *const tables[] = {
        "users",      "api_tokens",    "revoked_jwts", "packages", "versions",
        "dependencies", "owners",      "downloads_daily", "signing_keys", "docs_sites",
        "audit_log",  "settings",      "packages_fts", "dist_tags", "email_tokens",
    };
    sqlite3 *db = db_open(f);
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM sqlite_schema WHERE name = '%s'",
                 tables[i]);
        if (db_int(db, sql) != 1)
            fail_msg("table %s is missing", tables[i]);
    }
    sqlite3_close(db);
}

static void test_fts_follows_packages(void **state)
{
    struct fixture *f = *state;
    sqlite3 *db = db_open(f);
    db_exec(db, "INSERT INTO packages (ecosystem, name, normalized_name, description, keywords,"
                 " created_at, updated_at) VALUES ('hex', 'plug_cowboy', 'plug_cowboy',"
                 " 'A web server adapter', '[\"http\",\"server\"]', 1, 1)");
    static const char count_sql[] = "SELECT count(*) FROM packages_fts WHERE packages_fts MATCH ";
    struct {
        const char *after; /* SQL run first, or NULL */
        const char *query;
        int64_t hits;
    } steps[] = {
        {NULL, "'cowboy'", 1},
        {NULL, "'adapter'", 1},
        {NULL, "'http'", 1},
        {NULL, "'ada*'", 1},
        {"UPDATE packages SET downloads = 10, generation = generation + 1", "'adapter'", 1},
        {"UPDATE packages SET description = 'Bridges Plug and Cowboy'", "'adapter'", 0},
        {NULL, "'bridges'", 1},
        {"DELETE FROM packages", "'cowboy'", 0},
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        if (steps[i].after)
            db_exec(db, steps[i].after);
        char sql[200];
        snprintf(sql, sizeof sql, "%s%s", count_sql, steps[i].query);
        int64_t got = db_int(db, sql);
        if (got != steps[i].hits)
            fail_msg("step %zu: MATCH %s gave %lld, want %lld", i, steps[i].query,
                     (long long)got, (long long)steps[i].hits);
    }
    db_exec(db, "INSERT INTO packages_fts (packages_fts) VALUES ('integrity-check')");
    sqlite3_close(db);
}

static void test_errors_hide_sql(void **state)
{
    struct fixture *f = *state;
    /* A second database next to the fixture's, never migrated. */
    char url[200];
    snprintf(url, sizeof url, "sqlite:%s/bare.db", f->dir);
    derr e = {0};
    store *bare = store_open(url, &e);
    assert_non_null(bare);
    errors_hide_sql_on(f, bare);
    bare->ops->close(bare);

    /* A path under a regular file cannot be opened. */
    snprintf(url, sizeof url, "sqlite:%s/not-a-dir/x.db", f->path);
    store *bad = store_open(url, &e);
    assert_null(bad);
    assert_true(e.status >= 500);
    assert_null(strstr(e.message, f->dir));
}

static void test_upgrade_from_0001(void **state)
{
    struct fixture *f = *state;
    char path[200], url[220];
    snprintf(path, sizeof path, "%s/old.db", f->dir);
    snprintf(url, sizeof url, "sqlite:%s", path);
    assert_true(migrations_count >= 2);
    assert_int_equal(migrations[0].version, 1);
    sqlite3 *db = db_open_path(path);
    db_exec(db, "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                 " applied_at INTEGER NOT NULL)");
    db_exec(db, migrations[0].sql);
    db_exec(db, "INSERT INTO schema_migrations VALUES (1, 'init', 0)");
    db_exec(db,
             "INSERT INTO packages (id, ecosystem, name, normalized_name, created_at, updated_at)"
             " VALUES (1, 'hex', 'old', 'old', 1, 1)");
    db_exec(db,
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

/* ---- search at scale ------------------------------------------------------ */

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
    sqlite3 *db = db_open(f);
    db_exec(db, "BEGIN");
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
    db_exec(db, "COMMIT");
    db_exec(db, "ANALYZE");
    sqlite3_close(db);
}

/* Every kind of search over many packages finds them. */
static void test_search_at_scale(void **state)
{
    FIXTURE(f);
    bulk_packages(f, search_speed_count());
    search_at_scale(f, false);
}

int main(void)
{
    log_set_level("error");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_bad_urls),
        cmocka_unit_test_setup_teardown(test_migrate_idempotent, setup, teardown),
        cmocka_unit_test(test_migrate_concurrent_processes),
        cmocka_unit_test_setup_teardown(test_ping_and_pragmas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fts_follows_packages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_hide_sql, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_from_0001, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_at_scale, setup, teardown),
        STORE_SUITE(setup, teardown)
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
