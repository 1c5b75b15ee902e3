/*
 * test_sqlite.c — the SQLite store against a real database file.
 *
 * Each test gets a fresh temporary folder (mkdtemp) with the database one
 * level below it, so store_open's folder creation is exercised too, and a
 * migrated store. Where a behaviour is only visible in the tables (the audit
 * row, the full-text triggers, purged JWTs) the test opens the file with
 * SQLite directly, as an outsider would.
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

/* Opens the database file directly, outside the store. */
static sqlite3 *raw_open(struct fixture *f)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

/* The first column of the first row of sql, as an integer (-1 when none). */
static int64_t raw_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

static void raw_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

static int64_t make_user(struct fixture *f, const char *username, const char *email)
{
    store_user u = {.username = username, .email = email, .password_hash = "$argon2id$x"};
    derr e = {0};
    assert_int_equal(store_call(f->st, user_create, &u, &e), STORE_OK);
    assert_true(u.id > 0);
    return u.id;
}

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

    sqlite3 *db = raw_open(f);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM schema_migrations"), migrations_count);
    assert_int_equal(raw_int(db, "SELECT max(version) FROM schema_migrations"),
                     migrations[migrations_count - 1].version);
    sqlite3_close(db);
}

/* Several processes starting at once on a fresh file: each opens and
 * migrates; every migration is applied exactly once in all. */
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

static void test_migrate_refuses_newer_schema(void **state)
{
    struct fixture *f = *state;
    sqlite3 *db = raw_open(f);
    raw_exec(db, "INSERT INTO schema_migrations VALUES (99999, 'future', 0)");
    sqlite3_close(db);
    derr e = {0};
    int applied = -1;
    assert_int_equal(store_call(f->st, migrate, &applied, &e), STORE_ERROR);
    assert_int_equal(applied, 0);
    assert_int_equal(e.status, 500);
    assert_non_null(strstr(e.message, "newer depot"));
}

static void test_ping_and_pragmas(void **state)
{
    struct fixture *f = *state;
    derr e = {0};
    assert_int_equal(store_call(f->st, ping, &e), STORE_OK);
    assert_string_equal(f->st->ops->name, "sqlite");

    /* WAL is a property of the file, so an outside connection sees it. */
    sqlite3 *db = raw_open(f);
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
    sqlite3 *db = raw_open(f);
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM sqlite_schema WHERE name = '%s'",
                 tables[i]);
        if (raw_int(db, sql) != 1)
            fail_msg("table %s is missing", tables[i]);
    }
    sqlite3_close(db);
}

static void test_fts_follows_packages(void **state)
{
    struct fixture *f = *state;
    sqlite3 *db = raw_open(f);
    raw_exec(db, "INSERT INTO packages (ecosystem, name, normalized_name, description, keywords,"
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
            raw_exec(db, steps[i].after);
        char sql[200];
        snprintf(sql, sizeof sql, "%s%s", count_sql, steps[i].query);
        int64_t got = raw_int(db, sql);
        if (got != steps[i].hits)
            fail_msg("step %zu: MATCH %s gave %lld, want %lld", i, steps[i].query,
                     (long long)got, (long long)steps[i].hits);
    }
    raw_exec(db, "INSERT INTO packages_fts (packages_fts) VALUES ('integrity-check')");
    sqlite3_close(db);
}

/* Failures reach the caller as "internal"/"unavailable" with no SQL text. */
static void test_errors_hide_sql(void **state)
{
    struct fixture *f = *state;
    /* A second database next to the fixture's, never migrated. */
    char url[200];
    snprintf(url, sizeof url, "sqlite:%s/bare.db", f->dir);
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
    bare->ops->close(bare);

    /* A path under a regular file cannot be opened. */
    snprintf(url, sizeof url, "sqlite:%s/not-a-dir/x.db", f->path);
    store *bad = store_open(url, &e);
    assert_null(bad);
    assert_true(e.status >= 500);
    assert_null(strstr(e.message, f->dir));
}

/* ---- users ----------------------------------------------------------- */

static void test_user_create_and_get(void **state)
{
    struct fixture *f = *state;
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
    for (size_t i = 0; i < sizeof logins / sizeof logins[0]; i++) {
        memset(&got, 0, sizeof got);
        if (store_call(f->st, user_by_login, f->a, logins[i], &got, &e) != STORE_OK)
            fail_msg("user_by_login(%s) failed", logins[i]);
        assert_int_equal(got.id, u.id);
    }

    static const char *const misses[] = {"bob", "alic", "alice@example", ""};
    for (size_t i = 0; i < sizeof misses / sizeof misses[0]; i++)
        assert_int_equal(store_call(f->st, user_by_login, f->a, misses[i], &got, &e),
                         STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, user_by_id, f->a, u.id + 100, &got, &e), STORE_NOT_FOUND);
    assert_int_equal(e.status, 404);

    /* No email, no password: both stay NULL. */
    store_user bare = {.username = "bare"};
    assert_int_equal(store_call(f->st, user_create, &bare, &e), STORE_OK);
    assert_int_equal(store_call(f->st, user_by_id, f->a, bare.id, &got, &e), STORE_OK);
    assert_null(got.email);
    assert_null(got.password_hash);
}

static void test_user_conflicts(void **state)
{
    struct fixture *f = *state;
    make_user(f, "carol", "carol@example.com");
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
        {"frank", NULL, STORE_OK, NULL}, /* several accounts without email */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        store_user u = {.username = cases[i].username, .email = cases[i].email};
        derr e = {0};
        int rc = store_call(f->st, user_create, &u, &e);
        if (rc != cases[i].rc)
            fail_msg("case %zu (%s, %s): rc %d, want %d", i, cases[i].username,
                     cases[i].email ? cases[i].email : "NULL", rc, cases[i].rc);
        if (cases[i].message) {
            assert_int_equal(e.status, 409);
            assert_string_equal(e.code, "conflict");
            assert_string_equal(e.message, cases[i].message);
        }
    }
}

static void test_user_list(void **state)
{
    struct fixture *f = *state;
    derr e = {0};
    store_user *all = (store_user *)1;
    int n = -1;
    assert_int_equal(store_call(f->st, user_list, f->a, &all, &n, &e), STORE_OK);
    assert_int_equal(n, 0);

    /* Enough rows to make the array grow more than once. */
    static const char *const names[] = {"zed", "Bob", "alice", "Mallory", "carol",
                                        "dave", "Erin", "frank", "grace", "heidi",
                                        "ivan", "judy", "ken", "leo", "nick",
                                        "olivia", "peggy", "quinn", "rupert", "sybil"};
    size_t count = sizeof names / sizeof names[0];
    for (size_t i = 0; i < count; i++)
        make_user(f, names[i], NULL);
    assert_int_equal(store_call(f->st, user_list, f->a, &all, &n, &e), STORE_OK);
    assert_int_equal(n, (int)count);
    assert_string_equal(all[0].username, "alice");
    assert_string_equal(all[1].username, "Bob");
    assert_string_equal(all[2].username, "carol");
    assert_string_equal(all[n - 1].username, "zed");
    for (int i = 1; i < n; i++)
        assert_true(strcasecmp(all[i - 1].username, all[i].username) < 0);
}

static void test_user_setters(void **state)
{
    struct fixture *f = *state;
    int64_t id = make_user(f, "grace", "grace@example.com");
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

    assert_int_equal(store_call(f->st, user_set_password, 9999, "x", &e), STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, user_set_disabled, 9999, true, &e), STORE_NOT_FOUND);
    assert_int_equal(store_call(f->st, user_set_admin, 9999, true, &e), STORE_NOT_FOUND);
}

/* ---- tokens ---------------------------------------------------------- */

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
    struct fixture *f = *state;
    int64_t alice = make_user(f, "alice", "alice@example.com");
    int64_t bob = make_user(f, "bob", "bob@example.com");
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
    struct fixture *f = *state;
    int64_t uid = make_user(f, "toucher", NULL);
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

/* ---- JWTs and audit ---------------------------------------------------- */

static void test_jwt_revoke(void **state)
{
    struct fixture *f = *state;
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
    struct fixture *f = *state;
    int64_t uid = make_user(f, "auditor", NULL);
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

    sqlite3 *db = raw_open(f);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM audit_log"), 3);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM audit_log WHERE user_id IS NULL"), 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM audit_log WHERE ip = '127.0.0.1'"
                                 " AND action = 'user.register' AND target = 'auditor'"),
                     1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM audit_log WHERE"
                                 " json_extract(detail, '$.scopes[0]') = 'read'"),
                     1);
    assert_true(raw_int(db, "SELECT min(at) FROM audit_log") > 1700000000);
    sqlite3_close(db);
}

/* ---- threads --------------------------------------------------------- */

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
    pthread_barrier_wait(w->barrier); /* 1: work done, connections open */
    pthread_barrier_wait(w->barrier); /* 2: main has counted */
    return NULL;
}

static void test_threads(void **state)
{
    struct fixture *f = *state;
    /* The fixture's thread has its connection. */
    assert_int_equal(store_sqlite_connections(f->st), 1);

    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, 3);
    struct worker w[2];
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        w[i] = (struct worker){.st = f->st, .barrier = &barrier, .index = i};
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    pthread_barrier_wait(&barrier);
    assert_int_equal(store_sqlite_connections(f->st), 3); /* one per thread */
    pthread_barrier_wait(&barrier);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(w[i].failures, 0);
    }
    pthread_barrier_destroy(&barrier);
    /* Exiting threads closed their own connections. */
    assert_int_equal(store_sqlite_connections(f->st), 1);

    store_user *all;
    int n = 0;
    derr e = {0};
    assert_int_equal(store_call(f->st, user_list, f->a, &all, &n, &e), STORE_OK);
    assert_int_equal(n, 2 * THREAD_USERS);
}

int main(void)
{
    log_set_level("error");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_bad_urls),
        cmocka_unit_test_setup_teardown(test_migrate_idempotent, setup, teardown),
        cmocka_unit_test(test_migrate_concurrent_processes),
        cmocka_unit_test_setup_teardown(test_migrate_refuses_newer_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ping_and_pragmas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fts_follows_packages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_hide_sql, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_create_and_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_conflicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_setters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_touch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jwt_revoke, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
