/*
 * test_postgres.c — the PostgreSQL store against a real server: the
 * scenarios of test_sqlite.c, test_sqlite_packages.c and
 * test_sqlite_fronts.c (same steps, same expected answers), what only this
 * backend has (reconnecting, an outage answered 503, the statement
 * timeout, migrations of servers starting at once, backup into a SQLite
 * file), and a parity run that drives a SQLite store and a PostgreSQL store
 * through one script and compares every answer, generation and auth epoch.
 *
 * DEPOT_TEST_PG_URL names a cluster (any database of it, as a superuser
 * with trust auth: `make unit` starts a throwaway one with
 * tests/harness/pg.py run). Each test gets a fresh database in it, dropped
 * afterwards. Without the variable every test is skipped.
 *
 * test_search_speed fills 5,000 packages by default; set
 * DEPOT_TEST_SEARCH_PACKAGES=100000 for the full-size measurement.
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

#define N(arr) (sizeof(arr) / sizeof((arr)[0]))

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

static void raw_exec(PGconn *pg, const char *sql)
{
    PGresult *r = PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
}

/* The first column of the first row of sql, as an integer (-1 when none). */
static int64_t raw_int(PGconn *pg, const char *sql)
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
    raw_exec(pg, sql);
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

static int64_t make_user_email(struct fixture *f, const char *username, const char *email)
{
    store_user u = {.username = username, .email = email, .password_hash = "$argon2id$x"};
    derr e = {0};
    if (store_call(f->st, user_create, &u, &e) != STORE_OK)
        fail_msg("user_create(%s): %s", username, e.message);
    assert_true(u.id > 0);
    return u.id;
}

static int64_t make_user(struct fixture *f, const char *username)
{
    char email[96];
    snprintf(email, sizeof email, "%s@example.com", username);
    return make_user_email(f, username, email);
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

static int publish_at(struct fixture *f, const char *name, const char *version, int64_t user,
                      int64_t at, derr *e)
{
    store_publish p = make_pub(name, version, user);
    p.ver.published_at = at;
    return store_call(f->st, publish, &p, e);
}

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

static int64_t epoch(store *st)
{
    int64_t v = -1;
    derr e = {0};
    assert_int_equal(store_call(st, auth_epoch, &v, &e), STORE_OK);
    return v;
}

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
    assert_int_equal(raw_int(pg, "SELECT count(*) FROM schema_migrations"), pg_migrations_count);
    assert_int_equal(raw_int(pg, "SELECT max(version) FROM schema_migrations"),
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

static void test_migrate_refuses_newer_schema(void **state)
{
    FIXTURE(f);
    PGconn *pg = raw_open(f);
    raw_exec(pg, "INSERT INTO schema_migrations VALUES (99999, 'future', 0)");
    PQfinish(pg);
    derr e = {0};
    int applied = -1;
    assert_int_equal(store_call(f->st, migrate, &applied, &e), STORE_ERROR);
    assert_int_equal(applied, 0);
    assert_int_equal(e.status, 500);
    assert_non_null(strstr(e.message, "newer depot"));
    /* The lock went with the failed run: the store still works. */
    assert_int_equal(store_call(f->st, ping, &e), STORE_OK);
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
    assert_int_equal(raw_int(pg, sql), 1);
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
        if (raw_int(pg, sql) != 1)
            fail_msg("table %s is missing", tables[i]);
    }
    assert_int_equal(raw_int(pg, "SELECT count(*) FROM pg_extension WHERE extname IN"
                                 " ('pg_trgm', 'unaccent')"),
                     2);
    assert_int_equal(raw_int(pg, "SELECT value::bigint FROM settings WHERE key = 'auth_epoch'"), 0);
    PQfinish(pg);
}

/* The search columns follow the searched ones, through the trigger. */
static void test_search_columns_follow_packages(void **state)
{
    FIXTURE(f);
    PGconn *pg = raw_open(f);
    raw_exec(pg, "INSERT INTO packages (ecosystem, name, normalized_name, description, keywords,"
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
            raw_exec(pg, steps[i].after);
        char sql[200];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM packages WHERE search_doc @@"
                 " depot_search_query(ARRAY['%s'])",
                 steps[i].word);
        int64_t got = raw_int(pg, sql);
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
    snprintf(sql, sizeof sql,
             "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
             " WHERE datname = '%s' AND application_name = 'depot'",
             f->db);
    for (int round = 0; round < 3; round++) {
        assert_int_equal(raw_int(pg, sql), 1);
        usleep(100 * 1000);
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
    raw_exec(admin, sql);
    snprintf(sql, sizeof sql,
             "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '%s'",
             f->db);
    raw_int(admin, sql);
    usleep(100 * 1000);
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
    raw_exec(admin, sql);
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
    raw_exec(pg, "BEGIN");
    raw_exec(pg, "LOCK TABLE users IN ACCESS EXCLUSIVE MODE");
    store_user u;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(store_call(quick, user_by_id, f->a, alice, &u, &e), STORE_ERROR);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    assert_true(ms >= 250 && ms < 5000);
    assert_int_equal(e.status, 503);
    assert_string_equal(e.code, "unavailable");
    raw_exec(pg, "ROLLBACK");
    assert_int_equal(store_call(quick, user_by_id, f->a, alice, &u, &e), STORE_OK);
    quick->ops->close(quick);
    PQfinish(pg);
}

/* ---- users, tokens, JWTs, audit -------------------------------------- */

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
    assert_false(got.is_admin);
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
}

static void test_user_setters(void **state)
{
    FIXTURE(f);
    int64_t id = make_user(f, "grace");
    derr e = {0};
    store_user got;
    assert_int_equal(store_call(f->st, user_set_password, id, "newhash", &e), STORE_OK);
    assert_int_equal(store_call(f->st, user_by_id, f->a, id, &got, &e), STORE_OK);
    assert_string_equal(got.password_hash, "newhash");
    assert_int_equal(store_call(f->st, user_set_password, id, NULL, &e), STORE_OK);
    assert_int_equal(store_call(f->st, user_by_id, f->a, id, &got, &e), STORE_OK);
    assert_null(got.password_hash);
    const bool flips[] = {true, true, false, true, false};
    for (size_t i = 0; i < N(flips); i++) {
        assert_int_equal(store_call(f->st, user_set_disabled, id, flips[i], &e), STORE_OK);
        assert_int_equal(store_call(f->st, user_set_admin, id, !flips[i], &e), STORE_OK);
        assert_int_equal(store_call(f->st, user_by_id, f->a, id, &got, &e), STORE_OK);
        assert_int_equal(got.disabled, flips[i]);
        assert_int_equal(got.is_admin, !flips[i]);
    }
    assert_int_equal(store_call(f->st, user_set_password, 9999, "x", &e), STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, user_set_disabled, 9999, true, &e), STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, user_set_admin, 9999, true, &e), STORE_NOT_FOUND);
}

static store_token token(int64_t user_id, const char *name, const char *hash)
{
    return (store_token){.user_id = user_id,
                         .name = name,
                         .hash = hash,
                         .prefix = "dpt_abcdef",
                         .scopes = "read publish:hex/foo"};
}

static void test_tokens(void **state)
{
    FIXTURE(f);
    int64_t alice = make_user(f, "alice");
    int64_t bob = make_user(f, "bob");
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
    assert_string_equal(got.prefix, "dpt_abcdef");
    assert_string_equal(got.scopes, "read publish:hex/foo");
    assert_int_equal(got.created_at, t.created_at);
    assert_int_equal(got.expires_at, 2000000000);
    assert_int_equal(got.last_used_at, 0);
    assert_int_equal(store_call(f->st, token_by_name, f->a, alice, "ci", &got, &e), STORE_OK);
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
        {bob, "ci", "h-bob-ci", STORE_OK, NULL},
        {alice, "laptop", "h-laptop", STORE_OK, NULL},
        {alice, "deploy", "h-deploy", STORE_OK, NULL},
        {9999, "ghost", "h-ghost", STORE_NOT_FOUND, NULL},
    };
    for (size_t i = 0; i < N(cases); i++) {
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
}

static void test_token_touch(void **state)
{
    FIXTURE(f);
    int64_t uid = make_user(f, "toucher");
    derr e = {0};
    store_token t = token(uid, "t", "h-touch");
    assert_int_equal(store_call(f->st, token_create, &t, &e), STORE_OK);
    const int64_t base = 1700000000;
    struct {
        int64_t now, want;
    } steps[] = {
        {base, base},           {base + 30, base},      {base + 60, base},
        {base + 61, base + 61}, {base + 62, base + 61}, {base + 500, base + 500},
    };
    for (size_t i = 0; i < N(steps); i++) {
        assert_int_equal(store_call(f->st, token_touch, t.id, steps[i].now, &e), STORE_OK);
        store_token got;
        assert_int_equal(store_call(f->st, token_by_hash, f->a, "h-touch", &got, &e), STORE_OK);
        if (got.last_used_at != steps[i].want)
            fail_msg("step %zu: last_used_at %lld, want %lld", i, (long long)got.last_used_at,
                     (long long)steps[i].want);
    }
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
    assert_int_equal(store_call(f->st, jwt_revoke, "j1", later, &e), STORE_OK);
    assert_int_equal(store_call(f->st, jwt_is_revoked, "j2", &e), STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, jwt_revoke, "old", 1000, &e), STORE_OK);
    assert_int_equal(store_call(f->st, jwt_is_revoked, "old", &e), STORE_OK);
    assert_int_equal(store_call(f->st, jwt_revoke, "j3", later, &e), STORE_OK);
    assert_int_equal(store_call(f->st, jwt_is_revoked, "old", &e), STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, jwt_is_revoked, "j1", &e), STORE_OK);
}

static void test_audit(void **state)
{
    FIXTURE(f);
    int64_t uid = make_user(f, "auditor");
    derr e = {0};
    const store_audit events[] = {
        {.user_id = uid, .action = "user.register", .target = "auditor", .ip = "127.0.0.1"},
        {.user_id = 0, .action = "token.create", .target = "ci", .detail = "{\"scopes\":[\"read\"]}"},
        {.user_id = uid, .action = "user.disable"},
    };
    for (size_t i = 0; i < N(events); i++)
        assert_int_equal(store_call(f->st, audit, &events[i], &e), STORE_OK);
    PGconn *pg = raw_open(f);
    assert_int_equal(raw_int(pg, "SELECT count(*) FROM audit_log"), 3);
    assert_int_equal(raw_int(pg, "SELECT count(*) FROM audit_log WHERE user_id IS NULL"), 1);
    assert_int_equal(raw_int(pg, "SELECT count(*) FROM audit_log WHERE ip = '127.0.0.1'"
                                 " AND action = 'user.register' AND target = 'auditor'"),
                     1);
    assert_int_equal(raw_int(pg, "SELECT count(*) FROM audit_log WHERE"
                                 " detail::jsonb #>> '{scopes,0}' = 'read'"),
                     1);
    assert_true(raw_int(pg, "SELECT min(at) FROM audit_log") > 1700000000);
    PQfinish(pg);
}

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
    raw_exec(pg, sql);
    assert_int_equal(epoch(f->st), before + 2);
    PQfinish(pg);
#undef STEP
}

#define THREAD_USERS 50

struct worker {
    store *st;
    pthread_barrier_t *barrier;
    int index;
    int failures;
};

static void *worker_main(void *p)
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
    pthread_barrier_wait(w->barrier);
    pthread_barrier_wait(w->barrier);
    return NULL;
}

static void test_threads(void **state)
{
    FIXTURE(f);
    assert_int_equal(store_postgres_connections(f->st), 1);
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, 3);
    struct worker w[2];
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        w[i] = (struct worker){.st = f->st, .barrier = &barrier, .index = i};
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    pthread_barrier_wait(&barrier);
    assert_int_equal(store_postgres_connections(f->st), 3);
    pthread_barrier_wait(&barrier);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(w[i].failures, 0);
    }
    pthread_barrier_destroy(&barrier);
    assert_int_equal(store_postgres_connections(f->st), 1);
    store_user *all;
    int n = 0;
    derr e = {0};
    assert_int_equal(store_call(f->st, user_list, f->a, &all, &n, &e), STORE_OK);
    assert_int_equal(n, 2 * THREAD_USERS);
    assert_int_equal(epoch(f->st), 2 * THREAD_USERS); /* one per revoked JWT */
}

/* ---- publish --------------------------------------------------------- */

static void test_publish_new(void **state)
{
    FIXTURE(f);
    int64_t alice = make_user(f, "alice");
    derr e = {0};
    store_dep deps[] = {
        {.name = "plug", .requirement = "~> 1.0", .kind = "normal"},
        {.name = "ex_doc", .requirement = ">= 0.0.0", .kind = "dev", .extra = "{\"app\":\"ex_doc\"}"},
        {.name = "jason", .requirement = "~> 1.2"},
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

    store_version v = get_version(f, p.pkg.id, "1.0.0");
    assert_int_equal(v.id, p.ver.id);
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
    assert_null(v.deps[0].extra);
    assert_string_equal(v.deps[1].kind, "dev");
    assert_string_equal(v.deps[1].extra, "{\"app\":\"ex_doc\"}");
    assert_string_equal(v.deps[2].kind, "normal");

    store_owner *owners;
    int n = 0;
    assert_int_equal(store_call(f->st, owners_list, f->a, p.pkg.id, &owners, &n, &e), STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(owners[0].user_id, alice);
    assert_string_equal(owners[0].level, "owner");
    assert_int_equal(owners[0].added_at, 1700000000);

    assert_int_equal(store_call(f->st, pkg_get, f->a, "npm", "plug_cowboy", &got, &e),
                     STORE_NOT_FOUND);
    assert_int_equal(e.status, 404);
    assert_int_equal(store_call(f->st, pkg_get, f->a, "hex", "\xff\xfe", &got, &e),
                     STORE_NOT_FOUND);
    int64_t gen;
    assert_int_equal(store_call(f->st, pkg_generation, "hex", "nope", &gen, &e), STORE_NOT_FOUND);
    store_version miss;
    assert_int_equal(store_call(f->st, version_get, f->a, p.pkg.id, "9.9.9", &miss, &e),
                     STORE_NOT_FOUND);
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
    assert_string_equal(got.latest_version, "1.1.0");
    assert_int_equal(got.created_at, 1000);
    assert_int_equal(got.updated_at, 2000);

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

    e = (derr){0};
    p = make_pub("jason", "2.0.0", bob);
    assert_int_equal(store_call(f->st, publish, &p, &e), STORE_FORBIDDEN);
    assert_int_equal(e.status, 403);
    assert_string_equal(e.message, "you are not an owner of this package");
    got = get_pkg(f, "jason");
    assert_string_equal(got.latest_version, "1.1.0");
    assert_int_equal(got.generation, 2);
    p.check_owner = false;
    assert_int_equal(store_call(f->st, publish, &p, &e), STORE_OK);
    assert_int_equal(store_call(f->st, owner_is, got.id, bob, &e), STORE_NOT_FOUND);
    assert_string_equal(get_version(f, got.id, "2.0.0").publisher, "bob");
    assert_int_equal(store_call(f->st, owner_add, got.id, bob, "maintainer", 3000, &e), STORE_OK);
    assert_int_equal(publish_at(f, "jason", "2.1.0", bob, 0, &e), STORE_OK);

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
    const char *name; /* NULL: "raced" */
    const char *version;
    bool check_owner;
    int rc;
    bool created;
};

static void *racer_main(void *arg)
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
    PGconn *pg = raw_open(f);
    assert_int_equal(raw_int(pg, "SELECT count(*) FROM packages WHERE normalized_name = 'raced'"),
                     1);
    assert_int_equal(raw_int(pg, "SELECT count(*) FROM versions"), 2);
    assert_int_equal(raw_int(pg, "SELECT count(*) FROM owners"), 1);
    PQfinish(pg);
    assert_int_equal(generation(f, "raced"), 2);
    assert_string_equal(get_pkg(f, "raced").latest_version, "2.0.0");
}

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

static void test_latest_version(void **state)
{
    FIXTURE(f);
    int64_t alice = make_user(f, "alice");
    derr e = {0};
    enum { PUB, YANK, UNYANK };
    struct {
        int what;
        const char *version;
        const char *latest;
    } steps[] = {
        {PUB, "1.0.0-beta", "1.0.0-beta"}, {PUB, "0.9.0", "0.9.0"},
        {PUB, "1.0.0", "1.0.0"},           {PUB, "2.0.0-rc.1", "1.0.0"},
        {PUB, "1.0.1", "1.0.1"},           {PUB, "1.0.10", "1.0.10"},
        {YANK, "1.0.10", "1.0.1"},         {YANK, "1.0.1", "1.0.0"},
        {YANK, "1.0.0", "0.9.0"},          {YANK, "0.9.0", "2.0.0-rc.1"},
        {PUB, "2.0.0-rc.0", "2.0.0-rc.0"}, {YANK, "2.0.0-rc.0", "2.0.0-rc.1"},
        {YANK, "2.0.0-rc.1", "1.0.0-beta"}, {YANK, "1.0.0-beta", NULL},
        {YANK, "1.0.0-beta", NULL},        {UNYANK, "1.0.0", "1.0.0"},
        {UNYANK, "1.0.10", "1.0.10"},
    };
    int64_t gen = 0, pkg = 0;
    for (size_t i = 0; i < N(steps); i++) {
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
        assert_opt_string(p.latest_version, steps[i].latest, "latest_version");
        if (i > 0 && p.generation != gen + 1)
            fail_msg("step %zu: generation %lld after %lld", i, (long long)p.generation,
                     (long long)gen);
        gen = p.generation;
    }
    store_version v = get_version(f, pkg, "1.0.1");
    assert_true(v.yanked);
    assert_int_equal(v.yanked_at, 5007);
    assert_int_equal(get_version(f, pkg, "1.0.0-beta").yanked_at, 5013);
    v = get_version(f, pkg, "1.0.0");
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
        const char *version, *description, *want;
    } steps[] = {
        {"2.0.0", "two", "two"},
        {"1.5.1", "old patch", "two"},
        {"2.0.0-rc.9", "late rc", "two"},
        {"2.1.0-beta", "beta", "beta"},
        {"2.1.0", "two one", "two one"},
        {"2.1.0-rc.1", "rc after release", "two one"},
        {"3.0.0", "three", "three"},
    };
    for (size_t i = 0; i < N(steps); i++) {
        store_publish p = make_pub("meta", steps[i].version, alice);
        p.pkg.description = steps[i].description;
        p.pkg.keywords = "[\"kw\"]";
        assert_int_equal(store_call(f->st, publish, &p, &e), STORE_OK);
        store_package got = get_pkg(f, "meta");
        if (strcmp(got.description, steps[i].want) != 0)
            fail_msg("step %zu (%s): description '%s', want '%s'", i, steps[i].version,
                     got.description, steps[i].want);
    }
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
    static const char *const published[] = {
        "1.0.0", "1.10.0", "1.2.0", "1.10.0-beta", "2.0.0-alpha",
        "0.1.0", "1.2.0-rc.0", "1.2.0-rc.1", "0.0.1",
    };
    static const char *const want[] = {
        "2.0.0-alpha", "1.10.0", "1.10.0-beta", "1.2.0", "1.2.0-rc.1",
        "1.2.0-rc.0", "1.0.0", "0.1.0", "0.0.1",
    };
    enum { NV = N(published) };
    int64_t pkg = 0;
    for (int i = 0; i < NV; i++) {
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
    }
    assert_null(vs[1].prerelease);
    assert_string_equal(vs[2].prerelease, "beta");
    assert_int_equal(store_call(f->st, pkg_versions, f->a, pkg + 100, &vs, &n, &e), STORE_OK);
    assert_int_equal(n, 0);

    int64_t bob = make_user(f, "bob");
    assert_int_equal(store_call(f->st, owner_add, pkg, bob, NULL, 1, &e), STORE_OK);
    assert_int_equal(publish_at(f, "ordered", "9.0.0", bob, 0, &e), STORE_OK);
    PGconn *pg = raw_open(f);
    raw_exec(pg, "DELETE FROM users WHERE username = 'bob'");
    PQfinish(pg);
    store_version v = get_version(f, pkg, "9.0.0");
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
    int64_t alice = make_user(f, "alice"), bob = make_user(f, "bob"), carol = make_user(f, "carol");
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
    assert_string_equal(o[0].username, "alice");
    assert_string_equal(o[1].username, "carol");
    assert_string_equal(o[1].level, "maintainer");
    assert_string_equal(o[1].email, "carol@example.com");
    assert_string_equal(o[2].username, "bob");
    store_package *mine;
    assert_int_equal(store_call(f->st, user_packages, f->a, alice, &mine, &n, &e), STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(mine[0].name, "another");
    assert_string_equal(mine[1].name, "owned");
    assert_null(mine[0].readme);

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
    assert_int_equal(store_call(f->st, owner_remove, p.id, carol, &e), STORE_OK);
    assert_int_equal(generation(f, "owned"), ++gen);
    assert_int_equal(publish_at(f, "owned", "1.1.0", alice, 0, &e), STORE_FORBIDDEN);
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

struct seed {
    const char *eco, *name, *description, *keywords, *categories, *tags;
    int64_t at, downloads;
};

static void seed_packages(struct fixture *f, store *st, const struct seed *seeds, size_t n)
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

static char *search_names_in(store *st, arena *a, const store_search *q, int64_t *total)
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

static char *search_names(struct fixture *f, const store_search *q, int64_t *total)
{
    return search_names_in(f->st, f->a, q, total);
}

/* The cases of test_sqlite_packages.c's test_search, with the same answers. */
static void test_search(void **state)
{
    FIXTURE(f);
    seed_packages(f, f->st, search_seeds, N(search_seeds));
    struct {
        store_search q;
        const char *names;
        int64_t total;
    } cases[] = {
        {{.query = "cowboy"}, "cowboy plug_cowboy ranch", 3},
        {{.query = "Cowboy "}, "cowboy plug_cowboy ranch", 3},
        {{.query = "cow"}, "cowsay plug_cowboy cowboy ranch", 4},
        {{.query = "talking cow"}, "cowsay", 1},
        {{.query = "plug cow"}, "plug_cowboy", 1},
        {{.query = "plug_cowboy"}, "plug_cowboy", 1},
        {{.query = "fast"}, "jason cowboy express", 3},
        {{.query = "zzz"}, "", 0},
        {{.query = "CAFE"}, "cafe_latte", 1},
        {{.query = "caf\xc3\xa9"}, "cafe_latte", 1},
        {{.query = "creme"}, "cafe_latte", 1},
        {{.query = "cow", .ecosystem = "npm"}, "cowsay", 1},
        {{.query = "http", .keyword = "server"}, "cowboy express", 2},
        {{.keyword = "http", .sort = "name"}, "cowboy express plug_cowboy", 3},
        {{.keyword = "htt"}, "", 0},
        {{.keyword = "caf\xc3\xa9"}, "cafe_latte", 1},
        {{.category = "web", .sort = "downloads"}, "express plug_cowboy cowboy", 3},
        {{.tag = "server"}, "http_server", 1},
        {{.tag = "server", .ecosystem = "hex"}, "", 0},
        {{.ecosystem = "hex", .category = "web", .keyword = "adapter"}, "plug_cowboy", 1},
        {{.ecosystem = "hex"}, "cowboy jason plug_cowboy ranch", 4},
        {{.ecosystem = "hex", .sort = "relevance"}, "cowboy jason plug_cowboy ranch", 4},
        {{.ecosystem = "hex", .sort = "downloads"}, "jason plug_cowboy ranch cowboy", 4},
        {{.ecosystem = "hex", .sort = "recent"}, "jason ranch plug_cowboy cowboy", 4},
        {{.sort = "name"}, "cafe_latte cowboy cowsay express http_server jason plug_cowboy ranch", 8},
        {{.query = "cow", .sort = "downloads"}, "plug_cowboy ranch cowboy cowsay", 4},
        {{.query = "cow", .sort = "name"}, "cowboy cowsay plug_cowboy ranch", 4},
        {{.query = "cow", .sort = "recent"}, "cowsay ranch plug_cowboy cowboy", 4},
        {{.query = "cow", .sort = "name", .limit = 2}, "cowboy cowsay", 4},
        {{.query = "cow", .sort = "name", .limit = 2, .offset = 2}, "plug_cowboy ranch", 4},
        {{.query = "cow", .sort = "name", .limit = 2, .offset = 4}, "", 4},
        {{.sort = "name", .limit = 3, .offset = 6}, "plug_cowboy ranch", 8},
        {{.query = "cow", .limit = -1}, "", 4},
        {{.sort = "downloads", .limit = -1, .offset = 100}, "", 8},
        /* Filter values that are not UTF-8 match nothing (no error). */
        {{.keyword = "\xff"}, "", 0},
        {{.ecosystem = "\xc3"}, "", 0},
    };
    for (size_t i = 0; i < N(cases); i++) {
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
    store_search bad = {.sort = "popularity", .limit = 5};
    store_package *out;
    int n;
    int64_t total;
    derr e = {0};
    assert_int_equal(store_call(f->st, search, f->a, &bad, &out, &n, &total, &e), STORE_ERROR);
    assert_int_equal(e.status, 500);
    assert_null(strstr(e.message, "SELECT"));
}

/* What only PostgreSQL's search does: a query whose words match nothing
 * finds names that look like it (trigram word similarity). */
static void test_search_typos(void **state)
{
    FIXTURE(f);
    seed_packages(f, f->st, search_seeds, N(search_seeds));
    struct {
        store_search q;
        const char *names;
        int64_t total;
    } cases[] = {
        {{.query = "cowbuy"}, "cowboy", 1},
        {{.query = "expres"}, "express", 1}, /* a prefix: full-text matches it, no fallback */
        {{.query = "exprses"}, "express", 1},
        {{.query = "plug_cowbuy"}, "plug_cowboy", 1},
        {{.query = "jsaon"}, "", 0}, /* too far */
        {{.query = "cowbuy", .ecosystem = "npm"}, "", 0},
        {{.query = "cafe_lattte", .sort = "downloads"}, "cafe_latte", 1},
        {{.query = "zzzqqq"}, "", 0},
    };
    for (size_t i = 0; i < N(cases); i++) {
        store_search q = cases[i].q;
        q.limit = 20;
        int64_t total = -1;
        char *names = search_names(f, &q, &total);
        if (strcmp(names, cases[i].names) != 0 || total != cases[i].total)
            fail_msg("case %zu (query '%s'): got [%s] of %lld, want [%s] of %lld", i,
                     q.query ? q.query : "", names, (long long)total, cases[i].names,
                     (long long)cases[i].total);
    }
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

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Fills packages straight into the table with COPY (the trigger indexes
 * them), from the vocabulary test_sqlite_packages.c uses. */
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
    raw_exec(pg, "BEGIN");
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
    raw_exec(pg, "COMMIT");
    raw_exec(pg, "ANALYZE packages");
    PQfinish(pg);
}

static void test_search_speed(void **state)
{
    FIXTURE(f);
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
        {"typo (trigram)", {.query = "json_parsre", .limit = 20}},
    };
    printf("postgres: search over %d packages (filled in %.0f ms); median of 7 runs:\n", count,
           filled);
    for (size_t i = 0; i < N(cases); i++) {
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
        printf("  %-22s %8.2f ms  (%lld matches)\n", cases[i].label, runs[3], (long long)total);
        assert_true(total > 0);
        if (count <= 10000 && runs[3] > 250)
            fail_msg("%s took %.0f ms over %d packages", cases[i].label, runs[3], count);
    }
}

/* ---- downloads and stats --------------------------------------------- */

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
        {a1.ver.id, "2024-03-01", 5},  {a2.ver.id, "2024-03-01", 7}, {a1.ver.id, "2024-03-02", 1},
        {a1.ver.id, "2024-03-01", 2},  {b1.ver.id, "2024-03-02", 40}, {999999, "2024-03-02", 3},
        {a2.ver.id, "2024-03-03", 0},
    };
    assert_int_equal(store_call(f->st, downloads_add, batch, 7, &e), STORE_OK);
    store_download more = {a2.ver.id, "2024-03-03", 10};
    assert_int_equal(store_call(f->st, downloads_add, &more, 1, &e), STORE_OK);
    assert_int_equal(store_call(f->st, downloads_add, NULL, 0, &e), STORE_OK);
    store_package p = get_pkg(f, "dl");
    assert_int_equal(p.downloads, 25);
    assert_int_equal(p.generation, gen);
    assert_int_equal(get_version(f, p.id, "1.0.0").downloads, 8);
    assert_int_equal(get_version(f, p.id, "2.0.0").downloads, 17);

    store_day_count *days;
    int n = 0;
    assert_int_equal(store_call(f->st, pkg_daily_downloads, f->a, p.id, "2024-03-01", &days, &n, &e),
                     STORE_OK);
    struct {
        const char *day, *version;
        int64_t count;
    } want[] = {
        {"2024-03-01", NULL, 14}, {"2024-03-01", "2.0.0", 7}, {"2024-03-01", "1.0.0", 7},
        {"2024-03-02", NULL, 1},  {"2024-03-02", "1.0.0", 1}, {"2024-03-03", NULL, 10},
        {"2024-03-03", "2.0.0", 10},
    };
    assert_int_equal(n, 7);
    for (int i = 0; i < n; i++) {
        assert_string_equal(days[i].day, want[i].day);
        assert_opt_string(days[i].version, want[i].version, "version");
        assert_int_equal(days[i].count, want[i].count);
    }
    assert_int_equal(store_call(f->st, pkg_daily_downloads, f->a, p.id, "2024-03-02", &days, &n, &e),
                     STORE_OK);
    assert_int_equal(n, 4);
    assert_int_equal(store_call(f->st, pkg_daily_downloads, f->a, p.id, NULL, &days, &n, &e),
                     STORE_OK);
    assert_int_equal(n, 7);
    assert_int_equal(store_call(f->st, pkg_daily_downloads, f->a, p.id, "2025-01-01", &days, &n, &e),
                     STORE_OK);
    assert_int_equal(n, 0);

    store_totals t;
    assert_int_equal(store_call(f->st, totals, &t, &e), STORE_OK);
    assert_int_equal(t.packages, 2);
    assert_int_equal(t.versions, 3);
    assert_int_equal(t.users, 1);
    assert_int_equal(t.downloads, 65);

    struct {
        const char *eco, *which;
        int limit;
        const char *names;
    } tops[] = {
        {NULL, "downloads", 10, "other dl"}, {"hex", "downloads", 10, "dl"},
        {NULL, "new", 10, "other dl"},       {NULL, "updated", 1, "other"},
        {"npm", "updated", 10, "other"},     {"pub", "new", 10, ""},
        {NULL, "downloads", 0, ""},
    };
    for (size_t i = 0; i < N(tops); i++) {
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
    assert_int_equal(publish_at(f, "dl", "1.0.1", alice, 400, &e), STORE_OK);
    store_package *out;
    assert_int_equal(store_call(f->st, pkg_top, f->a, NULL, "updated", 1, &out, &n, &e), STORE_OK);
    assert_string_equal(out[0].name, "dl");
    assert_int_equal(store_call(f->st, pkg_top, f->a, NULL, "bogus", 1, &out, &n, &e), STORE_ERROR);
}

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

static void test_keys(void **state)
{
    FIXTURE(f);
    int64_t alice = make_user(f, "alice"), bob = make_user(f, "bob");
    derr e = {0};
    store_key k1 = {.user_id = alice, .key_id = "aaaa000000000001", .public_key = "cHViMQ==",
                    .name = "laptop"};
    assert_int_equal(store_call(f->st, key_add, &k1, &e), STORE_OK);
    assert_true(k1.id > 0);
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
        {bob, "bbbb000000000001", "laptop", STORE_OK, NULL},
        {9999, "cccc000000000001", "x", STORE_NOT_FOUND, NULL},
    };
    for (size_t i = 0; i < N(cases); i++) {
        store_key k = {.user_id = cases[i].user, .key_id = cases[i].key_id, .public_key = "cA==",
                       .name = cases[i].name};
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
    store_key got;
    assert_int_equal(store_call(f->st, key_get, f->a, "aaaa000000000001", &got, &e), STORE_OK);
    assert_int_equal(got.user_id, alice);
    assert_int_equal(store_call(f->st, key_delete, bob, "aaaa000000000001", &e), STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, key_delete, alice, "aaaa000000000001", &e), STORE_OK);
    assert_int_equal(store_call(f->st, key_delete, alice, "aaaa000000000001", &e), STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, key_get, f->a, "aaaa000000000001", &got, &e),
                     STORE_NOT_FOUND);
    store_key again = {.user_id = alice, .key_id = "aaaa000000000004", .public_key = "cA==",
                       .name = "laptop"};
    assert_int_equal(store_call(f->st, key_add, &again, &e), STORE_OK);
    store_key back = {.user_id = alice, .key_id = "aaaa000000000001", .public_key = "cA==",
                      .name = "old"};
    assert_int_equal(store_call(f->st, key_add, &back, &e), STORE_CONFLICT);
}

/* ---- version extras, status, meta, tags ------------------------------ */

static void test_version_extra(void **state)
{
    FIXTURE(f);
    int64_t alice = make_user(f, "alice");
    derr e = {0};
    store_publish p = make_pub("extras", "1.0.0", alice);
    p.ver.extra = "{\"shasum\":\"abc\",\"integrity\":\"sha512-xyz\"}";
    assert_int_equal(store_call(f->st, publish, &p, &e), STORE_OK);
    int64_t pkg = p.pkg.id;
    publish_ok(f, "extras", "1.1.0", alice, 0);
    store_version v = get_version(f, pkg, "1.0.0");
    assert_string_equal(v.extra, "{\"shasum\":\"abc\",\"integrity\":\"sha512-xyz\"}");
    assert_null(v.deprecated);
    assert_false(v.retracted);
    assert_int_equal(v.retired_at, 0);
    assert_string_equal(get_version(f, pkg, "1.1.0").extra, "{}");
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
    status reretire = {.set_retired = 1, .retired_reason = "renamed"};
    status unretire = {.set_retired = -1};
    status undeprecate = {.set_deprecated = -1, .deprecated = "ignored"};
    status unretract = {.set_retracted = -1};
    status all = {.set_retired = 5, .retired_reason = "other", .retired_message = "m",
                  .set_deprecated = 2, .deprecated = "d", .set_retracted = 3};
    status none = {.set_retired = -3, .set_deprecated = -2, .set_retracted = -9};
    struct {
        const store_version_status *change;
        int64_t now;
        const char *reason, *message;
        int64_t retired_at;
        const char *deprecated;
        bool retracted;
        int bump;
    } steps[] = {
        {&retire, 1000, "security", "CVE-1", 1000, NULL, false, 1},
        {&deprecate, 1001, "security", "CVE-1", 1000, "use 2.x", false, 1},
        {&retract, 1002, "security", "CVE-1", 1000, "use 2.x", true, 1},
        {&nothing, 1003, "security", "CVE-1", 1000, "use 2.x", true, 0},
        {&reretire, 1004, "renamed", NULL, 1004, "use 2.x", true, 1},
        {&unretire, 1005, NULL, NULL, 0, "use 2.x", true, 1},
        {&undeprecate, 1006, NULL, NULL, 0, NULL, true, 1},
        {&unretract, 1007, NULL, NULL, 0, NULL, false, 1},
        {&all, 1008, "other", "m", 1008, "d", true, 1},
        {&none, 1009, NULL, NULL, 0, NULL, false, 1},
    };
    for (size_t i = 0; i < N(steps); i++) {
        int64_t gen = generation(f, "st");
        if (store_call(f->st, version_set_status, pkg, "1.0.0", steps[i].change, steps[i].now, &e) !=
            STORE_OK)
            fail_msg("step %zu: %s", i, e.message);
        if (generation(f, "st") != gen + steps[i].bump)
            fail_msg("step %zu: generation moved wrong", i);
        store_version one = get_version(f, pkg, "1.0.0");
        store_version *vs;
        int n = 0;
        assert_int_equal(store_call(f->st, pkg_versions, f->a, pkg, &vs, &n, &e), STORE_OK);
        const store_version *both[] = {&one, find_version(vs, n, "1.0.0")};
        for (size_t k = 0; k < N(both); k++) {
            assert_opt_string(both[k]->retired_reason, steps[i].reason, "retired_reason");
            assert_opt_string(both[k]->retired_message, steps[i].message, "retired_message");
            assert_int_equal(both[k]->retired_at, steps[i].retired_at);
            assert_opt_string(both[k]->deprecated, steps[i].deprecated, "deprecated");
            assert_int_equal(both[k]->retracted, steps[i].retracted);
        }
        const store_version *other = find_version(vs, n, "2.0.0");
        assert_null(other->retired_reason);
        assert_false(other->retracted);
    }
    int64_t gen = generation(f, "st");
    assert_int_equal(store_call(f->st, version_set_status, pkg, "9.9.9", &retire, 1, &e),
                     STORE_NOT_FOUND);
    assert_int_equal(e.status, 404);
    assert_int_equal(store_call(f->st, version_set_status, pkg + 100, "1.0.0", &retire, 1, &e),
                     STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, version_set_status, pkg, NULL, &retire, 1, &e),
                     STORE_NOT_FOUND);
    assert_int_equal(generation(f, "st"), gen);
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
        const char *after;
    } steps[] = {
        {SET, "latest", "1.0.0", STORE_OK, "latest=1.0.0"},
        {SET, "next", "2.0.0-beta.1", STORE_OK, "latest=1.0.0 next=2.0.0-beta.1"},
        {SET, "latest", "1.1.0", STORE_OK, "latest=1.1.0 next=2.0.0-beta.1"},
        {SET, "latest", "1.1.0", STORE_OK, "latest=1.1.0 next=2.0.0-beta.1"},
        {SET, "beta", "2.0.0-beta.1", STORE_OK, "beta=2.0.0-beta.1 latest=1.1.0 next=2.0.0-beta.1"},
        {SET, "old", "0.1.0", STORE_NOT_FOUND, "beta=2.0.0-beta.1 latest=1.1.0 next=2.0.0-beta.1"},
        {SET, "old", "5.0.0", STORE_NOT_FOUND, "beta=2.0.0-beta.1 latest=1.1.0 next=2.0.0-beta.1"},
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
        assert_int_equal(generation(f, "tagged"), gen + (rc == STORE_OK ? 1 : 0));
    }
    store_tag *tags;
    int n;
    assert_int_equal(store_call(f->st, tags_list, f->a, pkg, &tags, &n, &e), STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(tags[1].tag, "latest");
    assert_int_equal(tags[1].updated_at, 1003);
    assert_string_equal(tags_text(f, other), "");
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
    int64_t pkg = p.pkg.id;
    assert_string_equal(tags_text(f, pkg), "latest=1.0.0");
    struct {
        const char *version, *tag;
        int rc;
        const char *after;
    } steps[] = {
        {"2.0.0-rc.1", "next", STORE_OK, "latest=1.0.0 next=2.0.0-rc.1"},
        {"1.1.0", "latest", STORE_OK, "latest=1.1.0 next=2.0.0-rc.1"},
        {"1.2.0", NULL, STORE_OK, "latest=1.1.0 next=2.0.0-rc.1"},
        {"1.0.0", "latest", STORE_CONFLICT, "latest=1.1.0 next=2.0.0-rc.1"},
    };
    for (size_t i = 0; i < N(steps); i++) {
        int64_t gen = generation(f, "pt");
        store_publish q = make_pub("pt", steps[i].version, alice);
        q.tag = steps[i].tag;
        int rc = store_call(f->st, publish, &q, &e);
        if (rc != steps[i].rc)
            fail_msg("step %zu: rc %d, want %d (%s)", i, rc, steps[i].rc, e.message);
        assert_string_equal(tags_text(f, pkg), steps[i].after);
        int64_t want = gen + (rc == STORE_OK ? 1 : 0);
        assert_int_equal(generation(f, "pt"), want);
        if (rc == STORE_OK)
            assert_int_equal(q.pkg.generation, want);
    }
    assert_string_equal(get_pkg(f, "pt").latest_version, "1.2.0");
}

/* ---- removal and docs ------------------------------------------------- */

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
    store_download dl[] = {{ids[0], "2024-01-01", 3}, {ids[2], "2024-01-01", 10},
                           {ids[2], "2024-01-02", 5}};
    assert_int_equal(store_call(f->st, downloads_add, dl, 3, &e), STORE_OK);
    assert_int_equal(store_call(f->st, tag_set, pkg, "latest", "2.0.0", 0, &e), STORE_OK);
    assert_int_equal(store_call(f->st, tag_set, pkg, "stable", "1.0.0", 0, &e), STORE_OK);
    assert_int_equal(get_pkg(f, "del").downloads, 18);

    int64_t gen = generation(f, "del");
    assert_int_equal(store_call(f->st, version_delete, pkg, "2.0.0", false, 2000, &e), STORE_OK);
    store_package p = get_pkg(f, "del");
    assert_string_equal(p.latest_version, "1.1.0");
    assert_int_equal(p.generation, gen + 1);
    assert_int_equal(p.downloads, 3);
    assert_string_equal(tags_text(f, pkg), "stable=1.0.0");
    assert_int_equal(store_call(f->st, version_tombstoned, pkg, "2.0.0", &e), STORE_NOT_FOUND);
    PGconn *pg = raw_open(f);
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM dependencies WHERE version_id = %lld",
             (long long)ids[2]);
    assert_int_equal(raw_int(pg, sql), 0);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM downloads_daily WHERE version_id = %lld",
             (long long)ids[2]);
    assert_int_equal(raw_int(pg, sql), 0);
    assert_int_equal(raw_int(pg, "SELECT count(*) FROM dependencies"), 4);
    assert_int_equal(raw_int(pg, "SELECT count(*) FROM downloads_daily"), 1);
    publish_ok(f, "del", "2.0.0", alice, 3000);
    assert_string_equal(get_pkg(f, "del").latest_version, "2.0.0");

    gen = generation(f, "del");
    assert_int_equal(store_call(f->st, version_delete, pkg, "2.0.0", true, 4000, &e), STORE_OK);
    assert_int_equal(generation(f, "del"), gen + 1);
    assert_int_equal(store_call(f->st, version_tombstoned, pkg, "2.0.0", &e), STORE_OK);
    assert_int_equal(store_call(f->st, version_tombstoned, pkg, "1.0.0", &e), STORE_NOT_FOUND);
    assert_int_equal(raw_int(pg, "SELECT deleted_at FROM version_tombstones"), 4000);
    gen = generation(f, "del");
    store_publish again = make_pub("del", "2.0.0", alice);
    again.tag = "latest";
    derr ce = {0};
    assert_int_equal(store_call(f->st, publish, &again, &ce), STORE_CONFLICT);
    assert_int_equal(ce.status, 409);
    assert_string_equal(ce.message, "version 2.0.0 of del was removed and cannot be published again");
    assert_int_equal(generation(f, "del"), gen);
    publish_ok(f, "fresh", "2.0.0", alice, 0);
    assert_int_equal(store_call(f->st, version_delete, pkg, "2.0.0", true, 0, &e), STORE_NOT_FOUND);
    assert_int_equal(e.status, 404);
    assert_int_equal(store_call(f->st, version_delete, pkg + 100, "1.0.0", false, 0, &e),
                     STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, version_delete, pkg, "1.0.0", true, 0, &e), STORE_OK);
    assert_int_equal(store_call(f->st, version_delete, pkg, "1.1.0", false, 0, &e), STORE_OK);
    p = get_pkg(f, "del");
    assert_null(p.latest_version);
    assert_int_equal(p.downloads, 0);
    assert_string_equal(tags_text(f, pkg), "");
    assert_int_equal(raw_int(pg, "SELECT count(*) FROM version_tombstones"), 2);
    PQfinish(pg);
}

static void test_delete_recomputes_latest(void **state)
{
    FIXTURE(f);
    int64_t alice = make_user(f, "alice");
    derr e = {0};
    const char *published[] = {"0.9.0", "1.0.0-beta", "1.0.0", "1.0.1", "1.0.10", "2.0.0-rc.1",
                               "2.0.0-rc.2"};
    int64_t pkg = 0;
    for (size_t i = 0; i < N(published); i++)
        pkg = publish_ok(f, "lat", published[i], alice, 100 + (int64_t)i);
    assert_int_equal(store_call(f->st, version_yank, pkg, "1.0.1", true, 0, &e), STORE_OK);
    struct {
        const char *remove, *latest;
    } steps[] = {
        {"1.0.10", "1.0.0"},          {"0.9.0", "1.0.0"},          {"1.0.0", "2.0.0-rc.2"},
        {"2.0.0-rc.2", "2.0.0-rc.1"}, {"2.0.0-rc.1", "1.0.0-beta"}, {"1.0.0-beta", NULL},
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
        {"index.html", "aa01", 120}, {"api/Plug.html", "aa02", 4000}, {"dist/app.js", "aa03", 9000}};
    int64_t gen = generation(f, "docs");
    assert_int_equal(store_call(f->st, docs_put, pkg, "1.0.0", "ar01", 5000, site1, 3, 700, &e),
                     STORE_OK);
    assert_int_equal(generation(f, "docs"), gen + 1);
    store_doc_file file;
    assert_int_equal(store_call(f->st, docs_file, f->a, pkg, "1.0.0", "api/Plug.html", &file, &e),
                     STORE_OK);
    assert_string_equal(file.sha256, "aa02");
    assert_int_equal(file.size, 4000);
    assert_int_equal(store_call(f->st, docs_file, f->a, pkg, "1.0.0", "api/plug.html", &file, &e),
                     STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, docs_file, f->a, pkg, "1.0.1", "index.html", &file, &e),
                     STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, docs_file, f->a, pkg, "1.0.0", "\xff/x", &file, &e),
                     STORE_NOT_FOUND);
    const char *sha = NULL;
    int64_t size = 0;
    assert_int_equal(store_call(f->st, docs_archive, f->a, pkg, "1.0.0", &sha, &size, &e), STORE_OK);
    assert_string_equal(sha, "ar01");
    assert_int_equal(size, 5000);

    store_doc_file site2[] = {{"index.html", "bb01", 130}, {"search.html", "bb02", 50}};
    assert_int_equal(store_call(f->st, docs_put, pkg, "1.0.0", "ar02", 6000, site2, 2, 800, &e),
                     STORE_OK);
    assert_int_equal(store_call(f->st, docs_file, f->a, pkg, "1.0.0", "api/Plug.html", &file, &e),
                     STORE_NOT_FOUND);
    PGconn *pg = raw_open(f);
    assert_int_equal(raw_int(pg, "SELECT count(*) FROM docs_files"), 2);
    store_doc_file dup[] = {{"a.html", "cc01", 1}, {"a.html", "cc02", 2}};
    gen = generation(f, "docs");
    assert_int_equal(store_call(f->st, docs_put, pkg, "1.0.0", "ar03", 3, dup, 2, 900, &e),
                     STORE_CONFLICT);
    assert_int_equal(e.status, 409);
    assert_string_equal(e.message, "the docs site names a file twice");
    assert_int_equal(generation(f, "docs"), gen);
    assert_int_equal(store_call(f->st, docs_archive, f->a, pkg, "1.0.0", &sha, &size, &e), STORE_OK);
    assert_string_equal(sha, "ar02");
    assert_int_equal(store_call(f->st, docs_put, pkg, "0.5.0", "ar04", 10, NULL, 0, 0, &e), STORE_OK);
    assert_int_equal(store_call(f->st, docs_put, pkg + 100, "1.0.0", "ar05", 10, site2, 2, 0, &e),
                     STORE_NOT_FOUND);
    gen = generation(f, "docs");
    assert_int_equal(store_call(f->st, docs_delete, pkg, "1.0.0", &e), STORE_OK);
    assert_int_equal(generation(f, "docs"), gen + 1);
    assert_int_equal(raw_int(pg, "SELECT count(*) FROM docs_files"), 0);
    assert_int_equal(store_call(f->st, docs_delete, pkg, "1.0.0", &e), STORE_NOT_FOUND);
    assert_string_equal(docs_text(f, pkg), "0.5.0");
    PQfinish(pg);
}

static void test_docs_versions_order(void **state)
{
    FIXTURE(f);
    int64_t alice = make_user(f, "alice");
    derr e = {0};
    const char *published[] = {"1.0.0", "1.10.0", "1.2.0", "2.0.0-rc.1", "2.0.0", "0.1.0", "10.0.0"};
    int64_t pkg = 0;
    for (size_t i = 0; i < N(published); i++)
        pkg = publish_ok(f, "ord", published[i], alice, 100 + (int64_t)i);
    const char *sites[] = {"1.2.0",  "0.1.0", "2.0.0-rc.1", "3.0.0", "10.0.0",
                           "1.10.0", "2.0.0", "9.0.0",      "1.0.0", "0.0.1-old"};
    for (size_t i = 0; i < N(sites); i++)
        assert_int_equal(store_call(f->st, docs_put, pkg, sites[i], "ar", 1, NULL, 0, 0, &e), STORE_OK);
    assert_string_equal(docs_text(f, pkg),
                        "10.0.0 2.0.0 2.0.0-rc.1 1.10.0 1.2.0 1.0.0 0.1.0 9.0.0 3.0.0 0.0.1-old");
    assert_int_equal(store_call(f->st, version_delete, pkg, "10.0.0", true, 0, &e), STORE_OK);
    assert_int_equal(store_call(f->st, version_delete, pkg, "1.2.0", false, 0, &e), STORE_OK);
    assert_string_equal(docs_text(f, pkg),
                        "2.0.0 2.0.0-rc.1 1.10.0 1.0.0 0.1.0 10.0.0 9.0.0 3.0.0 1.2.0 0.0.1-old");
}

static void test_uploads(void **state)
{
    FIXTURE(f);
    int64_t alice = make_user(f, "alice");
    derr e = {0};
    store_upload u = {.id = "up-1", .user_id = alice, .ecosystem = "pub", .created_at = 1000,
                      .expires_at = 1600};
    assert_int_equal(store_call(f->st, upload_create, &u, &e), STORE_OK);
    store_upload got;
    assert_int_equal(store_call(f->st, upload_get, f->a, "up-1", &got, &e), STORE_OK);
    assert_int_equal(got.user_id, alice);
    assert_null(got.sha256);
    assert_null(got.result);
    assert_false(got.failed);
    u.sha256 = "beef";
    u.size = 4096;
    u.result = "1.2.3";
    assert_int_equal(store_call(f->st, upload_update, &u, &e), STORE_OK);
    assert_int_equal(store_call(f->st, upload_get, f->a, "up-1", &got, &e), STORE_OK);
    assert_string_equal(got.sha256, "beef");
    assert_int_equal(got.size, 4096);
    assert_string_equal(got.result, "1.2.3");
    assert_int_equal(got.created_at, 1000);
    store_upload bad = {.id = "up-2", .user_id = alice, .ecosystem = "pub", .created_at = 1000,
                        .expires_at = 1200, .sha256 = "f00d", .size = 10};
    assert_int_equal(store_call(f->st, upload_create, &bad, &e), STORE_OK);
    bad.result = "pubspec.yaml is missing";
    bad.failed = true;
    assert_int_equal(store_call(f->st, upload_update, &bad, &e), STORE_OK);
    assert_int_equal(store_call(f->st, upload_get, f->a, "up-2", &got, &e), STORE_OK);
    assert_true(got.failed);
    store_upload anon = {.id = "up-3", .ecosystem = "pub", .created_at = 1000, .expires_at = 1400};
    assert_int_equal(store_call(f->st, upload_create, &anon, &e), STORE_OK);
    assert_int_equal(store_call(f->st, upload_get, f->a, "up-3", &got, &e), STORE_OK);
    assert_int_equal(got.user_id, 0);
    store_upload now = {.id = "up-4", .user_id = alice, .ecosystem = "pub", .expires_at = 1500};
    assert_int_equal(store_call(f->st, upload_create, &now, &e), STORE_OK);
    store_upload dup = {.id = "up-1", .user_id = alice, .ecosystem = "pub", .expires_at = 1};
    assert_int_equal(store_call(f->st, upload_create, &dup, &e), STORE_CONFLICT);
    assert_string_equal(e.message, "an upload with this id exists");
    store_upload ghost = {.id = "up-9", .user_id = alice + 100, .ecosystem = "pub", .expires_at = 1};
    assert_int_equal(store_call(f->st, upload_create, &ghost, &e), STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, upload_update, &ghost, &e), STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, upload_get, f->a, "up-9", &got, &e), STORE_NOT_FOUND);
    struct {
        int64_t now;
        int removed;
    } expiries[] = {{1100, 0}, {1200, 1}, {1450, 1}, {1450, 0}, {2000, 2}};
    for (size_t i = 0; i < N(expiries); i++) {
        int n = -1;
        assert_int_equal(store_call(f->st, upload_expire, expiries[i].now, &n, &e), STORE_OK);
        if (n != expiries[i].removed)
            fail_msg("expiry %zu: removed %d, want %d", i, n, expiries[i].removed);
    }
}

/* A database at schema 1 (a version in it) gains what 0002 and 0003 add. */
static void test_upgrade_from_0001(void **state)
{
    FIXTURE(f);
    char db[64], url[512];
    new_database(db, sizeof db, url, sizeof url);
    PGconn *pg = raw_connect(url);
    raw_exec(pg, "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                 " applied_at BIGINT NOT NULL)");
    raw_exec(pg, pg_migrations[0].sql);
    raw_exec(pg, "INSERT INTO schema_migrations VALUES (1, 'init', 0)");
    raw_exec(pg, "INSERT INTO packages (id, ecosystem, name, normalized_name, created_at,"
                 " updated_at) VALUES (1, 'hex', 'old', 'old', 1, 1)");
    raw_exec(pg, "INSERT INTO versions (package_id, version, major, minor, patch, sha256, size,"
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
        cmocka_unit_test_setup_teardown(test_migrate_refuses_newer_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ping_and_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_columns_follow_packages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_hide_sql, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconnect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_statement_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_create_and_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_conflicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_setters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_touch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jwt_revoke, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth_epoch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_publish_new, setup, teardown),
        cmocka_unit_test_setup_teardown(test_publish_existing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_publish_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_publish_create_race, setup, teardown),
        cmocka_unit_test_setup_teardown(test_latest_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metadata_follows_highest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_versions_order_and_deps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_require_signatures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_owners, setup, teardown),
        cmocka_unit_test_setup_teardown(test_owner_remove_race, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_typos, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_hostile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_speed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_downloads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_downloads_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
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
        cmocka_unit_test_setup_teardown(test_operations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parity_with_sqlite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_op_is_implemented, setup, teardown),
        cmocka_unit_test_setup_teardown(test_web_ops_match_sqlite, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
