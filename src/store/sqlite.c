/*
 * sqlite.c — the store on SQLite, the embedded default.
 *
 * Each thread that uses the store gets its own connection, opened on first
 * use and kept in a pthread key; the key's destructor closes it when the
 * thread exits, and close() closes whatever is left. A connection runs in WAL
 * mode (readers never wait for the writer), waits up to five seconds for a
 * lock before giving up, enforces foreign keys, and syncs at NORMAL (a power
 * cut may lose the last transactions, never corrupt the file).
 *
 * Every statement is prepared once per connection, on first use, and kept in
 * a table indexed by `enum query`; after each use it is reset and its
 * bindings cleared, so a cached statement never holds a borrowed pointer.
 * Operations that write more than one statement run inside BEGIN IMMEDIATE,
 * which takes the write lock up front so two writers wait for each other
 * instead of failing on a lock upgrade.
 *
 * Errors: SQL and SQLite's message go to the log with the operation's name;
 * the caller's derr gets only "internal" (or "unavailable" when the lock
 * wait ran out). A unique key that is taken becomes STORE_CONFLICT with a
 * sentence a person understands.
 */
#include "sqlite.h"

#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../lib/log.h"
#include "../lib/xalloc.h"
#include "migrations.h"

#define BUSY_TIMEOUT_MS 5000
/* token_touch skips the write when the stored time is at most this old. */
#define TOUCH_SLACK_S 60

/* Every statement this backend runs, by name; the SQL is in sql_text[]. */
enum query {
    Q_BEGIN,
    Q_COMMIT,
    Q_ROLLBACK,
    Q_PING,
    Q_MIG_MAX,
    Q_MIG_HAS,
    Q_MIG_ADD,
    Q_USER_INSERT,
    Q_USER_BY_ID,
    Q_USER_BY_LOGIN,
    Q_USER_LIST,
    Q_USER_SET_PASSWORD,
    Q_USER_SET_DISABLED,
    Q_USER_SET_ADMIN,
    Q_TOKEN_INSERT,
    Q_TOKEN_BY_HASH,
    Q_TOKEN_BY_NAME,
    Q_TOKEN_LIST,
    Q_TOKEN_DELETE,
    Q_TOKEN_TOUCH,
    Q_JWT_PURGE,
    Q_JWT_INSERT,
    Q_JWT_CHECK,
    Q_AUDIT_INSERT,
    Q__COUNT
};

#define USER_COLS "id, username, email, password_hash, is_admin, disabled, created_at"
#define TOKEN_COLS \
    "id, user_id, name, hash, prefix, scopes, created_at, expires_at, last_used_at"

/* Written in the SQL both SQLite and PostgreSQL accept, so the PostgreSQL
 * backend can start from the same text (with $n for ?n). */
static const char *const sql_text[Q__COUNT] = {
    [Q_BEGIN] = "BEGIN IMMEDIATE",
    [Q_COMMIT] = "COMMIT",
    [Q_ROLLBACK] = "ROLLBACK",
    [Q_PING] = "SELECT 1",
    [Q_MIG_MAX] = "SELECT coalesce(max(version), 0) FROM schema_migrations",
    [Q_MIG_HAS] = "SELECT 1 FROM schema_migrations WHERE version = ?1",
    [Q_MIG_ADD] = "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
    [Q_USER_INSERT] = "INSERT INTO users (username, username_lower, email, email_lower,"
                      " password_hash, is_admin, disabled, created_at, updated_at)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) RETURNING id",
    [Q_USER_BY_ID] = "SELECT " USER_COLS " FROM users WHERE id = ?1",
    /* A username wins over another account's email of the same text. */
    [Q_USER_BY_LOGIN] = "SELECT " USER_COLS " FROM users"
                        " WHERE username_lower = ?1 OR email_lower = ?1"
                        " ORDER BY username_lower = ?1 DESC LIMIT 1",
    [Q_USER_LIST] = "SELECT " USER_COLS " FROM users ORDER BY username_lower, id",
    [Q_USER_SET_PASSWORD] = "UPDATE users SET password_hash = ?2, updated_at = ?3 WHERE id = ?1",
    [Q_USER_SET_DISABLED] = "UPDATE users SET disabled = ?2, updated_at = ?3 WHERE id = ?1",
    [Q_USER_SET_ADMIN] = "UPDATE users SET is_admin = ?2, updated_at = ?3 WHERE id = ?1",
    [Q_TOKEN_INSERT] = "INSERT INTO api_tokens (user_id, name, hash, prefix, scopes, created_at,"
                       " expires_at, last_used_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                       " RETURNING id",
    [Q_TOKEN_BY_HASH] = "SELECT " TOKEN_COLS " FROM api_tokens WHERE hash = ?1",
    [Q_TOKEN_BY_NAME] = "SELECT " TOKEN_COLS " FROM api_tokens WHERE user_id = ?1 AND name = ?2",
    [Q_TOKEN_LIST] = "SELECT " TOKEN_COLS " FROM api_tokens WHERE user_id = ?1 ORDER BY name",
    [Q_TOKEN_DELETE] = "DELETE FROM api_tokens WHERE user_id = ?1 AND name = ?2",
    [Q_TOKEN_TOUCH] = "UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1"
                      " AND (last_used_at IS NULL OR last_used_at < ?2 - ?3)",
    [Q_JWT_PURGE] = "DELETE FROM revoked_jwts WHERE expires_at < ?1",
    [Q_JWT_INSERT] = "INSERT INTO revoked_jwts (jti, expires_at) VALUES (?1, ?2)"
                     " ON CONFLICT (jti) DO NOTHING",
    [Q_JWT_CHECK] = "SELECT 1 FROM revoked_jwts WHERE jti = ?1",
    [Q_AUDIT_INSERT] = "INSERT INTO audit_log (at, user_id, action, target, detail, ip)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
};

/* Which unique key a constraint message names, and how to say it to a
 * person. Matched against SQLite's "UNIQUE constraint failed: t.c, ..." */
static const struct {
    const char *columns;
    const char *message;
} conflict_messages[] = {
    {"users.username_lower", "username is taken"},
    {"users.email_lower", "email is taken"},
    {"api_tokens.user_id, api_tokens.name", "a token with this name exists"},
    {"api_tokens.hash", "a token with this secret exists"},
};

typedef struct sqlite_store sqlite_store;

struct conn {
    sqlite3 *db;
    sqlite3_stmt *stmt[Q__COUNT]; /* prepared on first use */
    sqlite_store *owner;
    struct conn *prev, *next; /* in owner->conns, under owner->mu */
};

struct sqlite_store {
    store base; /* first, so a store * is a sqlite_store * */
    char *path;
    pthread_key_t key; /* this thread's struct conn */
    pthread_mutex_t mu;
    struct conn *conns; /* every open connection, to close them all in close() */
    int nconns;
};

static sqlite_store *self(store *s)
{
    return (sqlite_store *)s;
}

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

/* ---- errors ---------------------------------------------------------- */

/* Logs SQLite's message for op and fills e for the client; returns the
 * store_rc the operation should return. rc is the failing call's result.
 * Must run before the statement is reset. */
static int fail(struct conn *c, int rc, const char *op, derr *e)
{
    const char *msg = sqlite3_errmsg(c->db);
    int ext = sqlite3_extended_errcode(c->db);
    if ((rc & 0xff) == SQLITE_CONSTRAINT &&
        (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)) {
        const char *say = "it already exists";
        for (size_t i = 0; i < sizeof conflict_messages / sizeof conflict_messages[0]; i++)
            if (strstr(msg, conflict_messages[i].columns)) {
                say = conflict_messages[i].message;
                break;
            }
        derr_set(e, 409, "conflict", "%s", say);
        return STORE_CONFLICT;
    }
    if ((rc & 0xff) == SQLITE_CONSTRAINT && ext == SQLITE_CONSTRAINT_FOREIGNKEY) {
        /* The row names a parent that is not there (a token for a user that
         * was never created or is gone). */
        derr_set(e, 404, "not_found", "what it refers to does not exist");
        return STORE_NOT_FOUND;
    }
    log_error("store error", "op", op, "error", msg, "code", sqlite3_errstr(ext), NULL);
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
        derr_set(e, 503, "unavailable", "the store is busy; try again");
        return STORE_ERROR;
    }
    derr_set(e, 500, "internal", "the store failed; see the server log");
    return STORE_ERROR;
}

static int not_found(derr *e, const char *what)
{
    derr_set(e, 404, "not_found", "no such %s", what);
    return STORE_NOT_FOUND;
}

/* ---- connections ----------------------------------------------------- */

static void conn_close(struct conn *c)
{
    if (!c)
        return;
    for (int i = 0; i < Q__COUNT; i++)
        sqlite3_finalize(c->stmt[i]);
    if (c->db) {
        /* Lets SQLite refresh its planner statistics cheaply, as advised. */
        sqlite3_exec(c->db, "PRAGMA optimize", NULL, NULL, NULL);
        sqlite3_close_v2(c->db);
    }
    free(c);
}

/* The pthread key's destructor: a worker thread is exiting. */
static void conn_destroy(void *p)
{
    struct conn *c = p;
    sqlite_store *s = c->owner;
    pthread_mutex_lock(&s->mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nconns--;
    pthread_mutex_unlock(&s->mu);
    conn_close(c);
}

/* Switches the database to WAL. Switching needs a moment of exclusive
 * access, and several processes or threads may open a fresh file at once,
 * so a busy answer is retried for about as long as the busy timeout. */
static int set_wal(sqlite3 *db)
{
    for (int attempt = 0; attempt < BUSY_TIMEOUT_MS / 50; attempt++) {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
        if (rc == SQLITE_OK) {
            rc = sqlite3_step(st);
            if (rc == SQLITE_ROW) {
                const char *mode = (const char *)sqlite3_column_text(st, 0);
                if (!mode || strcmp(mode, "wal") != 0)
                    log_warn("sqlite: WAL is not available; using the rollback journal",
                             "journal_mode", mode ? mode : "", NULL);
                rc = SQLITE_OK;
            }
        }
        sqlite3_finalize(st);
        if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
            return rc;
        sqlite3_sleep(50);
    }
    return SQLITE_BUSY;
}

/* Opens and configures a new connection for this thread and registers it. */
static struct conn *conn_open(sqlite_store *s, derr *e)
{
    struct conn *c = xcalloc(1, sizeof *c);
    c->owner = s;
    /* NOMUTEX: a connection is only ever used by the thread that opened it. */
    int rc = sqlite3_open_v2(s->path, &c->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    const char *step = "open";
    if (rc == SQLITE_OK) {
        sqlite3_extended_result_codes(c->db, 1);
        sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
        step = "configure";
        rc = sqlite3_exec(c->db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL", NULL,
                          NULL, NULL);
    }
    if (rc == SQLITE_OK)
        rc = set_wal(c->db);
    if (rc != SQLITE_OK) {
        log_error("store error", "op", step, "path", s->path, "error",
                  c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc), NULL);
        derr_set(e, 503, "unavailable", "cannot open the database; see the server log");
        conn_close(c);
        return NULL;
    }
    pthread_mutex_lock(&s->mu);
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    pthread_mutex_unlock(&s->mu);
    pthread_setspecific(s->key, c);
    return c;
}

/* This thread's connection, opened on first use. NULL with e filled when it
 * cannot be opened. */
static struct conn *conn_get(store *st, derr *e)
{
    sqlite_store *s = self(st);
    struct conn *c = pthread_getspecific(s->key);
    return c ? c : conn_open(s, e);
}

/* ---- statements ------------------------------------------------------ */

/* The cached statement for q, ready to bind; NULL with e filled when it does
 * not prepare (a bug, or a schema that was never migrated). */
static sqlite3_stmt *prep(struct conn *c, enum query q, const char *op, derr *e)
{
    if (c->stmt[q])
        return c->stmt[q];
    int rc = sqlite3_prepare_v3(c->db, sql_text[q], -1, SQLITE_PREPARE_PERSISTENT, &c->stmt[q],
                                NULL);
    if (rc != SQLITE_OK) {
        fail(c, rc, op, e);
        sqlite3_finalize(c->stmt[q]);
        c->stmt[q] = NULL;
        return NULL;
    }
    return c->stmt[q];
}

/* Makes a statement reusable and drops its borrowed bindings. NULL is fine. */
static void release(sqlite3_stmt *st)
{
    if (!st)
        return;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* Binders return SQLite's result code; NULL strings and zero times bind as
 * SQL NULL. Strings are borrowed until release(). */
static int bind_text(sqlite3_stmt *st, int i, const char *v)
{
    return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

static int bind_i64(sqlite3_stmt *st, int i, int64_t v)
{
    return sqlite3_bind_int64(st, i, v);
}

static int bind_time(sqlite3_stmt *st, int i, int64_t v)
{
    return v ? sqlite3_bind_int64(st, i, v) : sqlite3_bind_null(st, i);
}

static const char *col_text(arena *a, sqlite3_stmt *st, int i)
{
    const unsigned char *p = sqlite3_column_text(st, i);
    return p ? arena_strndup(a, (const char *)p, (size_t)sqlite3_column_bytes(st, i)) : NULL;
}

/* Runs a statement that returns no rows (or whose rows do not matter). */
static int run(struct conn *c, enum query q, const char *op, derr *e)
{
    sqlite3_stmt *st = prep(c, q, op, e);
    if (!st)
        return STORE_ERROR;
    int rc = sqlite3_step(st);
    int ret = rc == SQLITE_DONE || rc == SQLITE_ROW ? STORE_OK : fail(c, rc, op, e);
    release(st);
    return ret;
}

static int tx_begin(struct conn *c, const char *op, derr *e)
{
    return run(c, Q_BEGIN, op, e);
}

static int tx_commit(struct conn *c, const char *op, derr *e)
{
    return run(c, Q_COMMIT, op, e);
}

/* Rolls back the open transaction, if SQLite has not already done so (it
 * does by itself after some errors). Errors here only go to the log. */
static void tx_rollback(struct conn *c, const char *op)
{
    if (!sqlite3_get_autocommit(c->db))
        run(c, Q_ROLLBACK, op, NULL);
}

/* Lower-cases ASCII letters into a new string the caller frees. Done here,
 * not with SQL lower(), so every backend folds the same way. */
static char *ascii_lower(const char *s)
{
    if (!s)
        return NULL;
    char *d = xstrdup(s);
    for (char *p = d; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return d;
}

/* Grows an arena array to hold one more element past *n; returns it. */
static void *grow(arena *a, void *arr, int n, int *cap, size_t size)
{
    if (n < *cap)
        return arr;
    int ncap = *cap ? *cap * 2 : 8;
    void *bigger = arena_alloc(a, (size_t)ncap * size);
    if (n)
        memcpy(bigger, arr, (size_t)n * size);
    *cap = ncap;
    return bigger;
}

/* ---- lifecycle ------------------------------------------------------- */

/* Closes every connection, this thread's and every other's. The caller
 * guarantees no other thread is using the store or still exiting from it. */
static void sq_close(store *st)
{
    if (!st)
        return;
    sqlite_store *s = self(st);
    /* Deleting the key first means no destructor starts from here on. */
    pthread_key_delete(s->key);
    pthread_mutex_lock(&s->mu);
    struct conn *c = s->conns;
    while (c) {
        struct conn *next = c->next;
        conn_close(c);
        c = next;
    }
    s->conns = NULL;
    s->nconns = 0;
    pthread_mutex_unlock(&s->mu);
    pthread_mutex_destroy(&s->mu);
    free(s->path);
    free(s);
}

int store_sqlite_connections(store *st)
{
    sqlite_store *s = self(st);
    pthread_mutex_lock(&s->mu);
    int n = s->nconns;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* Applies one migration in its own IMMEDIATE transaction, after checking
 * under the write lock that no other process applied it meanwhile. Returns
 * 1 when applied, 0 when it already was, STORE_ERROR on failure. */
static int apply_migration(struct conn *c, const struct migration *m, derr *e)
{
    static const char op[] = "migrate";
    char version[24];
    snprintf(version, sizeof version, "%d", m->version);
    if (tx_begin(c, op, e) != STORE_OK)
        return STORE_ERROR;
    int ret = STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_MIG_HAS, op, e);
    if (!st)
        goto out;
    int rc = bind_i64(st, 1, m->version);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        ret = fail(c, rc, op, e);
        goto out;
    }
    release(st);
    st = NULL;
    if (rc == SQLITE_ROW) {
        ret = tx_commit(c, op, e) == STORE_OK ? 0 : STORE_ERROR;
        goto out;
    }

    rc = sqlite3_exec(c->db, m->sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        log_error("store error", "op", op, "version", version, "name", m->name, "error",
                  sqlite3_errmsg(c->db), NULL);
        derr_set(e, 500, "internal", "a schema migration failed; see the server log");
        goto out;
    }
    st = prep(c, Q_MIG_ADD, op, e);
    if (!st)
        goto out;
    rc = bind_i64(st, 1, m->version);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 2, m->name);
    if (rc == SQLITE_OK)
        rc = bind_i64(st, 3, now_s());
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        ret = fail(c, rc, op, e);
        goto out;
    }
    release(st);
    st = NULL;
    if (tx_commit(c, op, e) != STORE_OK)
        goto out;
    log_info("schema migration applied", "version", version, "name", m->name, NULL);
    ret = 1;
out:
    release(st);
    if (ret < 0)
        tx_rollback(c, op);
    return ret;
}

static int sq_migrate(store *s, int *applied, derr *e)
{
    static const char op[] = "migrate";
    int count = 0;
    if (applied)
        *applied = 0;
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    int rc = sqlite3_exec(c->db,
                          "CREATE TABLE IF NOT EXISTS schema_migrations ("
                          " version INTEGER PRIMARY KEY,"
                          " name TEXT NOT NULL,"
                          " applied_at INTEGER NOT NULL)",
                          NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return fail(c, rc, op, e);

    /* A database migrated by a newer depot may hold tables this one would
     * misuse: refuse rather than guess. */
    int known = 0;
    for (int i = 0; i < migrations_count; i++)
        if (migrations[i].version > known)
            known = migrations[i].version;
    sqlite3_stmt *st = prep(c, Q_MIG_MAX, op, e);
    if (!st)
        return STORE_ERROR;
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        int ret = fail(c, rc, op, e);
        release(st);
        return ret;
    }
    int64_t have = sqlite3_column_int64(st, 0);
    release(st);
    if (have > known) {
        char h[24], k[24];
        snprintf(h, sizeof h, "%lld", (long long)have);
        snprintf(k, sizeof k, "%d", known);
        log_error("the database schema is newer than this program", "database", h, "program", k,
                  NULL);
        return derr_set(e, 500, "internal",
                        "the database was migrated by a newer depot (schema %lld, this one knows "
                        "%d); upgrade depot",
                        (long long)have, known);
    }

    for (int i = 0; i < migrations_count; i++) {
        int r = apply_migration(c, &migrations[i], e);
        if (r < 0) {
            if (applied)
                *applied = count;
            return STORE_ERROR;
        }
        count += r;
    }
    if (applied)
        *applied = count;
    return STORE_OK;
}

static int sq_ping(store *s, derr *e)
{
    struct conn *c = conn_get(s, e);
    return c ? run(c, Q_PING, "ping", e) : STORE_ERROR;
}

/* ---- users ----------------------------------------------------------- */

static void read_user(arena *a, sqlite3_stmt *st, store_user *u)
{
    u->id = sqlite3_column_int64(st, 0);
    u->username = col_text(a, st, 1);
    u->email = col_text(a, st, 2);
    u->password_hash = col_text(a, st, 3);
    u->is_admin = sqlite3_column_int(st, 4) != 0;
    u->disabled = sqlite3_column_int(st, 5) != 0;
    u->created_at = sqlite3_column_int64(st, 6);
}

/* Runs a query that yields at most one user; ?1 is `text` when given, else `id`. */
static int user_one(store *s, arena *a, enum query q, int64_t id, const char *text,
                    store_user *out, const char *op, derr *e)
{
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, q, op, e);
    if (!st)
        return STORE_ERROR;
    int rc = text ? bind_text(st, 1, text) : bind_i64(st, 1, id);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    int ret;
    if (rc == SQLITE_ROW) {
        read_user(a, st, out);
        ret = STORE_OK;
    } else if (rc == SQLITE_DONE) {
        ret = not_found(e, "user");
    } else {
        ret = fail(c, rc, op, e);
    }
    release(st);
    return ret;
}

static int sq_user_create(store *s, store_user *u, derr *e)
{
    static const char op[] = "user_create";
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_USER_INSERT, op, e);
    if (!st)
        return STORE_ERROR;
    char *ulower = ascii_lower(u->username);
    char *elower = ascii_lower(u->email);
    int64_t created = u->created_at > 0 ? u->created_at : now_s();
    int rc = bind_text(st, 1, u->username);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 2, ulower);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 3, u->email);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 4, elower);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 5, u->password_hash);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 6, u->is_admin ? 1 : 0);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 7, u->disabled ? 1 : 0);
    if (rc == SQLITE_OK)
        rc = bind_i64(st, 8, created);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    int ret;
    if (rc == SQLITE_ROW) {
        u->id = sqlite3_column_int64(st, 0);
        u->created_at = created;
        ret = STORE_OK;
    } else {
        ret = fail(c, rc, op, e);
    }
    release(st);
    free(ulower);
    free(elower);
    return ret;
}

static int sq_user_by_id(store *s, arena *a, int64_t id, store_user *out, derr *e)
{
    return user_one(s, a, Q_USER_BY_ID, id, NULL, out, "user_by_id", e);
}

static int sq_user_by_login(store *s, arena *a, const char *login, store_user *out, derr *e)
{
    if (!login)
        return not_found(e, "user");
    char *lower = ascii_lower(login);
    int ret = user_one(s, a, Q_USER_BY_LOGIN, 0, lower, out, "user_by_login", e);
    free(lower);
    return ret;
}

static int sq_user_list(store *s, arena *a, store_user **out, int *n, derr *e)
{
    static const char op[] = "user_list";
    *out = NULL;
    *n = 0;
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_USER_LIST, op, e);
    if (!st)
        return STORE_ERROR;
    store_user *arr = NULL;
    int count = 0, cap = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        arr = grow(a, arr, count, &cap, sizeof *arr);
        read_user(a, st, &arr[count++]);
    }
    int ret = rc == SQLITE_DONE ? STORE_OK : fail(c, rc, op, e);
    release(st);
    if (ret == STORE_OK) {
        *out = arr;
        *n = count;
    }
    return ret;
}

/* Runs one of the single-column user updates: ?1 id, ?2 value, ?3 now. */
static int user_update(store *s, enum query q, int64_t id, const char *text, int flag,
                       const char *op, derr *e)
{
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, q, op, e);
    if (!st)
        return STORE_ERROR;
    int rc = bind_i64(st, 1, id);
    if (rc == SQLITE_OK)
        rc = q == Q_USER_SET_PASSWORD ? bind_text(st, 2, text) : sqlite3_bind_int(st, 2, flag);
    if (rc == SQLITE_OK)
        rc = bind_i64(st, 3, now_s());
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    int ret;
    if (rc == SQLITE_DONE)
        ret = sqlite3_changes(c->db) > 0 ? STORE_OK : not_found(e, "user");
    else
        ret = fail(c, rc, op, e);
    release(st);
    return ret;
}

static int sq_user_set_password(store *s, int64_t id, const char *hash, derr *e)
{
    return user_update(s, Q_USER_SET_PASSWORD, id, hash, 0, "user_set_password", e);
}

static int sq_user_set_disabled(store *s, int64_t id, bool disabled, derr *e)
{
    return user_update(s, Q_USER_SET_DISABLED, id, NULL, disabled ? 1 : 0, "user_set_disabled",
                       e);
}

static int sq_user_set_admin(store *s, int64_t id, bool admin, derr *e)
{
    return user_update(s, Q_USER_SET_ADMIN, id, NULL, admin ? 1 : 0, "user_set_admin", e);
}

/* ---- tokens ---------------------------------------------------------- */

static void read_token(arena *a, sqlite3_stmt *st, store_token *t)
{
    t->id = sqlite3_column_int64(st, 0);
    t->user_id = sqlite3_column_int64(st, 1);
    t->name = col_text(a, st, 2);
    t->hash = col_text(a, st, 3);
    t->prefix = col_text(a, st, 4);
    t->scopes = col_text(a, st, 5);
    t->created_at = sqlite3_column_int64(st, 6);
    t->expires_at = sqlite3_column_int64(st, 7);   /* NULL reads as 0: never */
    t->last_used_at = sqlite3_column_int64(st, 8); /* NULL reads as 0: never */
}

/* Fills t->id, and t->created_at when the caller left it 0. STORE_CONFLICT
 * when the user already has a token of this name; STORE_NOT_FOUND when the
 * user does not exist. */
static int sq_token_create(store *s, store_token *t, derr *e)
{
    static const char op[] = "token_create";
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_TOKEN_INSERT, op, e);
    if (!st)
        return STORE_ERROR;
    int64_t created = t->created_at > 0 ? t->created_at : now_s();
    int rc = bind_i64(st, 1, t->user_id);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 2, t->name);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 3, t->hash);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 4, t->prefix);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 5, t->scopes ? t->scopes : "");
    if (rc == SQLITE_OK)
        rc = bind_i64(st, 6, created);
    if (rc == SQLITE_OK)
        rc = bind_time(st, 7, t->expires_at);
    if (rc == SQLITE_OK)
        rc = bind_time(st, 8, t->last_used_at);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    int ret;
    if (rc == SQLITE_ROW) {
        t->id = sqlite3_column_int64(st, 0);
        t->created_at = created;
        ret = STORE_OK;
    } else {
        ret = fail(c, rc, op, e);
        if (ret == STORE_NOT_FOUND)
            not_found(e, "user");
    }
    release(st);
    return ret;
}

/* Runs a query yielding at most one token; binds ?1 as text or as id and
 * ?2 as text when name is given. */
static int token_one(store *s, arena *a, enum query q, const char *key, int64_t user_id,
                     const char *name, store_token *out, const char *op, derr *e)
{
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, q, op, e);
    if (!st)
        return STORE_ERROR;
    int rc = key ? bind_text(st, 1, key) : bind_i64(st, 1, user_id);
    if (rc == SQLITE_OK && name)
        rc = bind_text(st, 2, name);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    int ret;
    if (rc == SQLITE_ROW) {
        read_token(a, st, out);
        ret = STORE_OK;
    } else if (rc == SQLITE_DONE) {
        ret = not_found(e, "token");
    } else {
        ret = fail(c, rc, op, e);
    }
    release(st);
    return ret;
}

static int sq_token_by_hash(store *s, arena *a, const char *hash, store_token *out, derr *e)
{
    if (!hash)
        return not_found(e, "token");
    return token_one(s, a, Q_TOKEN_BY_HASH, hash, 0, NULL, out, "token_by_hash", e);
}

static int sq_token_by_name(store *s, arena *a, int64_t user_id, const char *name,
                            store_token *out, derr *e)
{
    if (!name)
        return not_found(e, "token");
    return token_one(s, a, Q_TOKEN_BY_NAME, NULL, user_id, name, out, "token_by_name", e);
}

static int sq_token_list(store *s, arena *a, int64_t user_id, store_token **out, int *n, derr *e)
{
    static const char op[] = "token_list";
    *out = NULL;
    *n = 0;
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_TOKEN_LIST, op, e);
    if (!st)
        return STORE_ERROR;
    store_token *arr = NULL;
    int count = 0, cap = 0;
    int rc = bind_i64(st, 1, user_id);
    if (rc == SQLITE_OK)
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            arr = grow(a, arr, count, &cap, sizeof *arr);
            read_token(a, st, &arr[count++]);
        }
    int ret = rc == SQLITE_DONE ? STORE_OK : fail(c, rc, op, e);
    release(st);
    if (ret == STORE_OK) {
        *out = arr;
        *n = count;
    }
    return ret;
}

static int sq_token_delete(store *s, int64_t user_id, const char *name, derr *e)
{
    static const char op[] = "token_delete";
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_TOKEN_DELETE, op, e);
    if (!st)
        return STORE_ERROR;
    int rc = bind_i64(st, 1, user_id);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 2, name);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    int ret;
    if (rc == SQLITE_DONE)
        ret = sqlite3_changes(c->db) > 0 ? STORE_OK : not_found(e, "token");
    else
        ret = fail(c, rc, op, e);
    release(st);
    return ret;
}

/* Sets last_used_at = now unless it is already within TOUCH_SLACK_S of now,
 * so a token used in a burst costs one write a minute, not one a request.
 * STORE_OK also when nothing was written (recent, or no such token). */
static int sq_token_touch(store *s, int64_t id, int64_t now, derr *e)
{
    static const char op[] = "token_touch";
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_TOKEN_TOUCH, op, e);
    if (!st)
        return STORE_ERROR;
    int rc = bind_i64(st, 1, id);
    if (rc == SQLITE_OK)
        rc = bind_i64(st, 2, now);
    if (rc == SQLITE_OK)
        rc = bind_i64(st, 3, TOUCH_SLACK_S);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    int ret = rc == SQLITE_DONE ? STORE_OK : fail(c, rc, op, e);
    release(st);
    return ret;
}

/* ---- revoked JWTs ---------------------------------------------------- */

/* Records the jti (again is fine) and, in the same transaction, forgets
 * every revoked JWT that has expired by now: they fail on expiry anyway. */
static int sq_jwt_revoke(store *s, const char *jti, int64_t expires_at, derr *e)
{
    static const char op[] = "jwt_revoke";
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    if (tx_begin(c, op, e) != STORE_OK)
        return STORE_ERROR;
    int ret = STORE_ERROR, rc;
    sqlite3_stmt *st = prep(c, Q_JWT_PURGE, op, e);
    if (!st)
        goto out;
    rc = bind_i64(st, 1, now_s());
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        ret = fail(c, rc, op, e);
        goto out;
    }
    release(st);
    st = prep(c, Q_JWT_INSERT, op, e);
    if (!st)
        goto out;
    rc = bind_text(st, 1, jti);
    if (rc == SQLITE_OK)
        rc = bind_i64(st, 2, expires_at);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        ret = fail(c, rc, op, e);
        goto out;
    }
    release(st);
    st = NULL;
    ret = tx_commit(c, op, e);
out:
    release(st);
    if (ret != STORE_OK)
        tx_rollback(c, op);
    return ret;
}

static int sq_jwt_is_revoked(store *s, const char *jti, derr *e)
{
    static const char op[] = "jwt_is_revoked";
    if (!jti)
        return STORE_NOT_FOUND;
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_JWT_CHECK, op, e);
    if (!st)
        return STORE_ERROR;
    int rc = bind_text(st, 1, jti);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    int ret;
    if (rc == SQLITE_ROW)
        ret = STORE_OK;
    else if (rc == SQLITE_DONE)
        ret = STORE_NOT_FOUND; /* the common answer: not an error, so e is left alone */
    else
        ret = fail(c, rc, op, e);
    release(st);
    return ret;
}

/* ---- audit ----------------------------------------------------------- */

static int sq_audit(store *s, const store_audit *ev, derr *e)
{
    static const char op[] = "audit";
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_AUDIT_INSERT, op, e);
    if (!st)
        return STORE_ERROR;
    int rc = bind_i64(st, 1, now_s());
    if (rc == SQLITE_OK)
        rc = ev->user_id ? bind_i64(st, 2, ev->user_id) : sqlite3_bind_null(st, 2);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 3, ev->action);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 4, ev->target);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 5, ev->detail);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 6, ev->ip);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    int ret = rc == SQLITE_DONE ? STORE_OK : fail(c, rc, op, e);
    release(st);
    return ret;
}

/* ---- the vtable and the constructor --------------------------------- */

static const struct store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .migrate = sq_migrate,
    .ping = sq_ping,
    .user_create = sq_user_create,
    .user_by_id = sq_user_by_id,
    .user_by_login = sq_user_by_login,
    .user_list = sq_user_list,
    .user_set_password = sq_user_set_password,
    .user_set_disabled = sq_user_set_disabled,
    .user_set_admin = sq_user_set_admin,
    .token_create = sq_token_create,
    .token_by_hash = sq_token_by_hash,
    .token_by_name = sq_token_by_name,
    .token_list = sq_token_list,
    .token_delete = sq_token_delete,
    .token_touch = sq_token_touch,
    .jwt_revoke = sq_jwt_revoke,
    .jwt_is_revoked = sq_jwt_is_revoked,
    .audit = sq_audit,
};

store *store_sqlite_open(const char *path, derr *e)
{
    if (!path || !*path) {
        derr_set(e, 400, "bad_request", "the SQLite store needs a file path");
        return NULL;
    }
    /* Create the file ourselves so it (and the -wal/-shm files SQLite makes
     * with the same mode) is private: it holds password and token hashes. */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd); /* when this fails, sqlite3_open_v2 below reports why */

    sqlite_store *s = xcalloc(1, sizeof *s);
    s->base.ops = &sqlite_ops;
    /* SQLite reads names starting with "file:" as URIs; "./" keeps a
     * relative path a path (and ":memory:" a file, which per-thread
     * connections need). */
    size_t n = strlen(path);
    s->path = xmalloc(n + 3);
    if (path[0] == '/') {
        memcpy(s->path, path, n + 1);
    } else {
        memcpy(s->path, "./", 2);
        memcpy(s->path + 2, path, n + 1);
    }
    if (pthread_key_create(&s->key, conn_destroy) != 0) {
        free(s->path);
        free(s);
        log_error("store error", "op", "open", "error", "no pthread key left", NULL);
        derr_set(e, 500, "internal", "the store failed; see the server log");
        return NULL;
    }
    pthread_mutex_init(&s->mu, NULL);
    if (!conn_get(&s->base, e)) {
        sq_close(&s->base);
        return NULL;
    }
    return &s->base;
}
