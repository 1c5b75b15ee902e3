/*
 * sqlite.c — the store on SQLite, the embedded default: the driver's
 * primitives (driver.h) over SQLite's API, and what only SQLite does
 * (its migrations, integrity check, online backup and FTS5 search).
 *
 * Each thread that uses the store gets its own connection, opened on first
 * use and kept in a pthread key; the key's destructor closes it when the
 * thread exits, and close() closes whatever is left. A connection runs in WAL
 * mode (readers never wait for the writer), waits up to five seconds for a
 * lock before giving up, enforces foreign keys, and syncs at FULL: the WAL is
 * fsynced at every commit, so an acknowledged publish survives a power cut,
 * not only a crash of depot (make bench measures the publish rate with it).
 *
 * Every statement is prepared once per connection, on first use, and kept in
 * a table indexed by sql.c's statement id; after each use it is reset and its
 * bindings cleared, so a cached statement never holds a borrowed pointer.
 * A write transaction is BEGIN IMMEDIATE, which takes the write lock up front
 * so two writers wait for each other instead of failing on a lock upgrade.
 *
 * Search runs on the FTS5 index the schema keeps over packages, ranked by
 * depot_rank (weighted hits, name matches weighing most). The search text
 * never reaches MATCH as written: it is cut into tokens by the index's own
 * tokenizer and each becomes a quoted prefix term. Search statements
 * differ by which filters are given and the sort; each shape is prepared
 * once per connection too.
 *
 * Errors: SQL and SQLite's message go to the log with the operation's name;
 * the caller's derr gets only "internal" (or "unavailable" when the lock
 * wait ran out). A unique key that is taken becomes STORE_CONFLICT with a
 * sentence a person understands.
 */
#include "sqlite.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "../lib/log.h"
#include "../lib/xalloc.h"
#include "driver.h"
#include "migrations.h"

#define BUSY_TIMEOUT_MS 5000

typedef struct sqlite_store sqlite_store;

/* Search statements differ by which filters are given, the sort, and
 * whether they count or fetch a page: one slot per shape (see search_sql). */
#define SEARCH_SHAPES 256

/* A statement: cached in its connection's table, or made for one run. */
struct sq_stmt {
    sql_stmt base;
    sqlite3_stmt *st;
    struct conn *c;
    const char *op;
    int rc; /* the first binding that failed, else SQLITE_OK */
    bool once;
};

/* Transaction control, prepared once per connection like the rest. */
enum { TX_WRITE, TX_READ, TX_COMMIT, TX_ROLLBACK, TX__COUNT };
static const char *const tx_sql[TX__COUNT] = {"BEGIN IMMEDIATE", "BEGIN", "COMMIT", "ROLLBACK"};

struct conn {
    sql_conn base;
    sqlite3 *db;
    struct sq_stmt stmt[SQL_SLOTS];      /* prepared on first use */
    sqlite3_stmt *tx[TX__COUNT];         /* likewise */
    sqlite3_stmt *search[SEARCH_SHAPES]; /* likewise */
    fts5_tokenizer tok;         /* the search index's tokenizer, found on first search */
    Fts5Tokenizer *tokenizer;   /* its instance; NULL until then */
    sqlite_store *owner;
};

struct sqlite_store {
    struct store_base base; /* first, so a store * is a sqlite_store * */
    char *path;
    struct conn_set conns;
};

static const struct store_driver sqlite_driver;

static sqlite_store *self(store *s)
{
    return (sqlite_store *)s;
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
        (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY))
        return store_conflict(e, msg, NULL);
    if ((rc & 0xff) == SQLITE_CONSTRAINT && ext == SQLITE_CONSTRAINT_FOREIGNKEY)
        return store_no_parent(e);
    log_error("store error", "op", op, "error", msg, "code", sqlite3_errstr(ext), NULL);
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
        derr_set(e, 503, "unavailable", "the store is busy; try again");
        return STORE_ERROR;
    }
    /* The disk is full, failing or read-only: the client can only wait (507: for an operator). */
    if ((rc & 0xff) == SQLITE_FULL) {
        derr_set(e, 507, "insufficient_storage", "the store is out of space");
        return STORE_ERROR;
    }
    if ((rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_READONLY) {
        derr_set(e, 503, "unavailable", "the store cannot be written now; try again later");
        return STORE_ERROR;
    }
    derr_set(e, 500, "internal", "the store failed; see the server log");
    return STORE_ERROR;
}

/* ---- connections ----------------------------------------------------- */

static void conn_close(struct conn *c)
{
    if (!c)
        return;
    for (int i = 0; i < SQL_SLOTS; i++)
        sqlite3_finalize(c->stmt[i].st);
    for (int i = 0; i < TX__COUNT; i++)
        sqlite3_finalize(c->tx[i]);
    for (int i = 0; i < SEARCH_SHAPES; i++)
        sqlite3_finalize(c->search[i]);
    if (c->tokenizer)
        c->tok.xDelete(c->tokenizer);
    if (c->db) {
        /* Lets SQLite refresh its planner statistics cheaply, as advised. */
        sqlite3_exec(c->db, "PRAGMA optimize", NULL, NULL, NULL);
        sqlite3_close_v2(c->db);
    }
    free(c);
}

static void conn_free(sql_conn *c)
{
    conn_close((struct conn *)c);
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
    c->base.drv = &sqlite_driver;
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
        rc = sqlite3_exec(c->db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL", NULL,
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
    conn_set_add(&s->conns, &c->base);
    return c;
}

/* This thread's connection, opened on first use. NULL with e filled when it
 * cannot be opened. */
static struct conn *conn_get(store *st, derr *e)
{
    sqlite_store *s = self(st);
    struct conn *c = (struct conn *)conn_set_mine(&s->conns);
    return c ? c : conn_open(s, e);
}

static sql_conn *sq_conn(store *st, derr *e)
{
    struct conn *c = conn_get(st, e);
    return c ? &c->base : NULL;
}

/* ---- statements ------------------------------------------------------ */

static struct sq_stmt *sq(sql_stmt *st)
{
    return (struct sq_stmt *)st;
}

/* The cached statement of slot q, ready to bind; NULL with e filled when it
 * does not prepare (a bug, or a schema that was never migrated). */
static sql_stmt *sq_prepare(sql_conn *cb, int q, const char *sql, const char *op, derr *e)
{
    struct conn *c = (struct conn *)cb;
    struct sq_stmt *s = &c->stmt[q];
    s->op = op;
    if (s->st)
        return &s->base;
    int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->st, NULL);
    if (rc != SQLITE_OK) {
        fail(c, rc, op, e);
        sqlite3_finalize(s->st);
        s->st = NULL;
        return NULL;
    }
    *s = (struct sq_stmt){{&sqlite_driver}, s->st, c, op, SQLITE_OK, false};
    return &s->base;
}

static sql_stmt *sq_prepare_once(sql_conn *cb, const char *sql, const char *op, derr *e)
{
    struct conn *c = (struct conn *)cb;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        fail(c, rc, op, e);
        sqlite3_finalize(st);
        return NULL;
    }
    struct sq_stmt *s = xmalloc(sizeof *s);
    *s = (struct sq_stmt){{&sqlite_driver}, st, c, op, SQLITE_OK, true};
    return &s->base;
}

/* Strings are borrowed until release(). */
static void sq_bind_text(sql_stmt *st, int i, const char *v)
{
    struct sq_stmt *s = sq(st);
    if (s->rc == SQLITE_OK)
        s->rc = v ? sqlite3_bind_text(s->st, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(s->st, i);
}

static void sq_bind_i64(sql_stmt *st, int i, int64_t v)
{
    struct sq_stmt *s = sq(st);
    if (s->rc == SQLITE_OK)
        s->rc = sqlite3_bind_int64(s->st, i, v);
}

/* Must answer before the statement is reset, so fail() sees SQLite's message. */
static int sq_step(sql_stmt *st, derr *e)
{
    struct sq_stmt *s = sq(st);
    int rc = s->rc == SQLITE_OK ? sqlite3_step(s->st) : s->rc;
    if (rc == SQLITE_ROW)
        return SQL_ROW;
    if (rc == SQLITE_DONE)
        return SQL_DONE;
    return fail(s->c, rc, s->op, e);
}

static int64_t sq_col_i64(sql_stmt *st, int i)
{
    return sqlite3_column_int64(sq(st)->st, i);
}

static const char *sq_col_text(sql_stmt *st, int i, size_t *len)
{
    const unsigned char *p = sqlite3_column_text(sq(st)->st, i);
    *len = p ? (size_t)sqlite3_column_bytes(sq(st)->st, i) : 0;
    return (const char *)p;
}

static int64_t sq_changes(sql_stmt *st)
{
    return sqlite3_changes(sq(st)->c->db);
}

/* Makes a statement reusable and drops its borrowed bindings. */
static void sq_release(sql_stmt *st)
{
    struct sq_stmt *s = sq(st);
    if (!s)
        return;
    if (s->once) {
        sqlite3_finalize(s->st);
        free(s);
        return;
    }
    sqlite3_reset(s->st);
    sqlite3_clear_bindings(s->st);
    s->rc = SQLITE_OK;
}

/* ---- transactions and fixed SQL --------------------------------------- */

/* Runs one of the transaction statements. */
static int tx_run(struct conn *c, int which, const char *op, derr *e)
{
    if (!c->tx[which]) {
        int rc = sqlite3_prepare_v3(c->db, tx_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
                                    &c->tx[which], NULL);
        if (rc != SQLITE_OK) {
            int ret = fail(c, rc, op, e);
            sqlite3_finalize(c->tx[which]);
            c->tx[which] = NULL;
            return ret;
        }
    }
    int rc = sqlite3_step(c->tx[which]);
    int ret = rc == SQLITE_DONE || rc == SQLITE_ROW ? STORE_OK : fail(c, rc, op, e);
    sqlite3_reset(c->tx[which]);
    return ret;
}

static int sq_begin(sql_conn *cb, bool write, const char *op, derr *e)
{
    return tx_run((struct conn *)cb, write ? TX_WRITE : TX_READ, op, e);
}

/* Rolls back when ret is not STORE_OK, if SQLite has not already done so (it
 * does by itself after some errors); errors of the rollback go to the log. */
static int sq_end(sql_conn *cb, int ret, const char *op, derr *e)
{
    struct conn *c = (struct conn *)cb;
    if (ret == STORE_OK)
        ret = tx_run(c, TX_COMMIT, op, e);
    if (ret != STORE_OK && !sqlite3_get_autocommit(c->db))
        tx_run(c, TX_ROLLBACK, op, NULL);
    return ret;
}

static int sq_exec(sql_conn *cb, const char *sql, const char *op, derr *e)
{
    struct conn *c = (struct conn *)cb;
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? STORE_OK : fail(c, rc, op, e);
}

static int sq_each_row(sql_conn *cb, const char *sql, int (*fn)(void *, sql_stmt *), void *ctx,
                       bool *stopped, const char *op, derr *e)
{
    struct conn *c = (struct conn *)cb;
    *stopped = false;
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return fail(c, rc, op, e);
    struct sq_stmt row = {{&sqlite_driver}, st, c, op, SQLITE_OK, false};
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (fn(ctx, &row.base) != 0) {
            *stopped = true;
            rc = SQLITE_DONE;
            break;
        }
    int ret = rc == SQLITE_DONE ? STORE_OK : fail(c, rc, op, e);
    sqlite3_finalize(st);
    return ret;
}

/* ---- lifecycle ------------------------------------------------------- */

static void sq_close(store *st)
{
    if (!st)
        return;
    sqlite_store *s = self(st);
    conn_set_close(&s->conns);
    free(s->path);
    free(s);
}

int store_sqlite_connections(store *st)
{
    return conn_set_count(&self(st)->conns);
}

/* Runs one migration's SQL inside the caller's transaction. */
static int sq_migrate_script(sql_conn *cb, const struct migration *m, derr *e)
{
    struct conn *c = (struct conn *)cb;
    if (sqlite3_exec(c->db, m->sql, NULL, NULL, NULL) == SQLITE_OK)
        return STORE_OK;
    char version[24];
    snprintf(version, sizeof version, "%d", m->version);
    log_error("store error", "op", "migrate", "version", version, "name", m->name, "error",
              sqlite3_errmsg(c->db), NULL);
    return derr_set(e, 500, "internal", "a schema migration failed; see the server log");
}

/* ---- operations: integrity, backup, blob references ------------------ */

static int sq_integrity(store *s, arena *a, const char **report, derr *e)
{
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(c->db, "PRAGMA integrity_check", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return fail(c, rc, "integrity", e);
    size_t cap = 0;
    char *out = NULL;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *line = (const char *)sqlite3_column_text(st, 0);
        out = out ? arena_printf(a, "%s\n%s", out, line ? line : "") : arena_strdup(a, line ? line : "");
        if (++cap > 100)
            break;
    }
    int ret = rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : fail(c, rc, "integrity", e);
    sqlite3_finalize(st);
    *report = out ? out : "ok";
    return ret;
}

static int sq_backup(store *s, const char *path, derr *e)
{
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3 *dst;
    int rc = sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        log_error("store error", "op", "backup", "path", path, "error", sqlite3_errmsg(dst), NULL);
        sqlite3_close(dst);
        return derr_set(e, 500, "internal", "cannot create the backup file");
    }
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", c->db, "main");
    if (!b) {
        log_error("store error", "op", "backup", "error", sqlite3_errmsg(dst), NULL);
        sqlite3_close(dst);
        return derr_set(e, 500, "internal", "the backup could not start");
    }
    /* Copy in steps so writers are held up only briefly; a write between steps makes SQLite
     * restart the copy, which still ends consistent. */
    do {
        rc = sqlite3_backup_step(b, 256);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
            sqlite3_sleep(5);
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    sqlite3_backup_finish(b);
    int ret = STORE_OK;
    if (rc != SQLITE_DONE) {
        log_error("store error", "op", "backup", "error", sqlite3_errstr(rc), NULL);
        ret = derr_set(e, 500, "internal", "the backup failed");
    }
    sqlite3_close(dst);
    return ret;
}

/* ---- search ---------------------------------------------------------- */

/* Search text never reaches MATCH as written. It is cut into tokens by the
 * index's own tokenizer (so it splits exactly as the indexed text did:
 * plug_cowboy is plug + cowboy, Café is cafe), each token becomes a quoted
 * prefix term ("tok"*), and the terms are ANDed within the searched columns.
 * The arguments must match packages_fts in 0001_init.sql. */
#define FTS_TOKENIZER "unicode61"
static const char *fts_tokenizer_args[] = {"remove_diacritics", "2"};
/* The columns search text is matched against, and the weights of all five
 * (name, description, keywords, tags, categories): a name match weighs
 * most; categories serve only the filter. */
#define FTS_TEXT_COLUMNS "{name description keywords tags}"
#define FTS_RANK "depot_rank(packages_fts, 10.0, 2.0, 4.0, 4.0, 0.0)"

/* depot_rank(packages_fts, WEIGHT...), one weight per column: relevance
 * from the row's hits alone. FTS5's bm25 also reads every matched row's
 * column sizes from the index's docsize table, one B-tree lookup per row:
 * with them a two-word search over 100,000 packages took 41 M instructions
 * in the store, without them 26 M (callgrind; make bench, target 6). Here each query term's hits in a
 * column count with bm25's saturation (k1 = 1.2), so one word repeated in
 * a description weighs less than words spread over name and keywords.
 * Every match holds every term (they are ANDed), so bm25's inverse
 * document frequency would scale all rows alike and is left out. Lower is
 * better, as with bm25. */
#define RANK_K1 1.2
#define RANK_MAX_PHRASES (SEARCH_MAX_TERMS + 3) /* the query's terms and three filters */
#define RANK_MAX_COLUMNS 5

static void depot_rank(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx,
                       int nval, sqlite3_value **val)
{
    int nphrase = api->xPhraseCount(fts), ncol = api->xColumnCount(fts), ninst = 0;
    if (nphrase > RANK_MAX_PHRASES)
        nphrase = RANK_MAX_PHRASES;
    if (ncol > RANK_MAX_COLUMNS)
        ncol = RANK_MAX_COLUMNS;
    double hits[RANK_MAX_PHRASES][RANK_MAX_COLUMNS] = {{0}};
    int rc = api->xInstCount(fts, &ninst);
    for (int i = 0; rc == SQLITE_OK && i < ninst; i++) {
        int phrase = 0, col = 0, off = 0;
        rc = api->xInst(fts, i, &phrase, &col, &off);
        if (rc == SQLITE_OK && phrase >= 0 && phrase < nphrase && col >= 0 && col < ncol)
            hits[phrase][col]++;
    }
    if (rc != SQLITE_OK) {
        sqlite3_result_error_code(ctx, rc);
        return;
    }
    double score = 0;
    for (int col = 0; col < ncol; col++) {
        double w = col < nval ? sqlite3_value_double(val[col]) : 1.0;
        for (int phrase = 0; phrase < nphrase; phrase++) {
            double h = hits[phrase][col];
            score += w * h * (RANK_K1 + 1) / (h + RANK_K1);
        }
    }
    sqlite3_result_double(ctx, -score);
}

/* The column and direction of each sort but relevance; ties go by id. */
static const struct {
    const char *column, *dir;
} sort_keys[] = {
    [SORT_DOWNLOADS] = {"downloads", "DESC"},
    [SORT_RECENT] = {"updated_at", "DESC"},
    [SORT_NAME] = {"normalized_name", "ASC"},
};


/* Finds and instantiates the search index's tokenizer for this connection,
 * and gives the connection depot_rank (before any search is prepared). */
static int search_tokenizer(struct conn *c, const char *op, derr *e)
{
    if (c->tokenizer)
        return STORE_OK;
    fts5_api *api = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, "SELECT fts5(?1)", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        rc = SQLITE_OK;
    if (rc != SQLITE_OK) {
        int ret = fail(c, rc, op, e);
        sqlite3_finalize(st);
        return ret;
    }
    sqlite3_finalize(st);
    void *ud = NULL;
    rc = api ? api->xCreateFunction(api, "depot_rank", NULL, depot_rank, NULL) : SQLITE_ERROR;
    if (rc == SQLITE_OK)
        rc = api->xFindTokenizer(api, FTS_TOKENIZER, &ud, &c->tok);
    if (rc == SQLITE_OK)
        rc = c->tok.xCreate(ud, fts_tokenizer_args, 2, &c->tokenizer);
    if (rc != SQLITE_OK) {
        c->tokenizer = NULL;
        log_error("store error", "op", op, "error", "the FTS5 tokenizer or rank is not available",
                  "code", sqlite3_errstr(rc), NULL);
        return derr_set(e, 500, "internal", "the store failed; see the server log");
    }
    return STORE_OK;
}

struct fts_terms {
    buf *out;
    bool phrase; /* tokens of one phrase ("a b"), else prefix terms ("a"* AND "b"*) */
    int n;
};

static int fts_term(void *ctx, int flags, const char *tok, int len, int start, int end)
{
    struct fts_terms *t = ctx;
    if (flags & FTS5_TOKEN_COLOCATED)
        return SQLITE_OK;
    if (t->n >= SEARCH_MAX_TERMS)
        return SQLITE_DONE; /* enough: stops the tokenizer */
    if (len > SEARCH_MAX_TERM) {
        len = SEARCH_MAX_TERM;
        while (len > 0 && ((unsigned char)tok[len] & 0xc0) == 0x80)
            len--; /* not in the middle of a character */
    }
    if (len <= 0)
        return SQLITE_OK;
    if (t->n > 0)
        buf_puts(t->out, t->phrase ? " " : " AND ");
    if (!t->phrase)
        buf_puts(t->out, "\"");
    for (int i = 0; i < len; i++) /* tokens hold no quote; double one anyway */
        buf_append(t->out, tok[i] == '"' ? "\"\"" : &tok[i], tok[i] == '"' ? 2 : 1);
    if (!t->phrase)
        buf_puts(t->out, "\"*");
    t->n++;
    return SQLITE_OK;
}

/* Appends to out the FTS5 form of text: prefix terms ANDed within the text
 * columns, or, for a filter, one phrase within `column`. *n gets the number
 * of tokens (0: nothing was appended). */
static int fts_part(struct conn *c, buf *out, const char *text, const char *column, int *n,
                    const char *op, derr *e)
{
    *n = 0;
    buf part;
    buf_init(&part, 0);
    struct fts_terms t = {&part, column != NULL, 0};
    size_t len = strlen(text);
    int rc = c->tok.xTokenize(c->tokenizer, &t, FTS5_TOKENIZE_QUERY, text,
                              len > INT32_MAX ? INT32_MAX : (int)len, fts_term);
    if (rc != SQLITE_OK && rc != SQLITE_DONE) {
        buf_free(&part);
        log_error("store error", "op", op, "error", "tokenizing the search text failed", "code",
                  sqlite3_errstr(rc), NULL);
        return derr_set(e, 500, "internal", "the store failed; see the server log");
    }
    if (t.n > 0) {
        if (out->len)
            buf_puts(out, " AND ");
        if (column)
            buf_printf(out, "{%s} : \"%s\"", column, part.data);
        else
            buf_printf(out, FTS_TEXT_COLUMNS " : (%s)", part.data);
    }
    *n = t.n;
    buf_free(&part);
    return STORE_OK;
}

/* Whether a filter value can also be looked for in the index. The index
 * holds the JSON text of the arrays; the value's tokens are sure to appear
 * there as one phrase only when JSON writes it unchanged, which common
 * encoders do for printable ASCII other than '"' and '\' ('/' may become
 * "\/", which tokenizes the same). Other values are checked row by row. */
static bool index_can_narrow(const char *v)
{
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\')
            return false;
    return true;
}


/* The MATCH expression for a search, in the arena, or NULL when it needs
 * none (no word in the query, no filter the index can narrow). *words says
 * whether the query had a word. */
static int fts_expression(struct conn *c, arena *a, const store_search *q, const char **expr,
                          bool *words, const char *op, derr *e)
{
    *expr = NULL;
    *words = false;
    if (search_tokenizer(c, op, e) != STORE_OK)
        return STORE_ERROR;
    static const char *const columns[] = {"keywords", "categories", "tags"};
    const char *filters[] = {q->keyword, q->category, q->tag};
    buf out;
    buf_init(&out, 0);
    int n = 0, ret = STORE_OK;
    if (store_given(q->query)) {
        ret = fts_part(c, &out, q->query, NULL, &n, op, e);
        *words = n > 0;
    }
    for (int i = 0; i < 3 && ret == STORE_OK; i++)
        if (store_given(filters[i]) && index_can_narrow(filters[i]))
            ret = fts_part(c, &out, filters[i], columns[i], &n, op, e);
    if (ret == STORE_OK && out.len)
        *expr = arena_strndup(a, out.data, out.len);
    buf_free(&out);
    return ret;
}

/* Whether the JSON array in column `col` of alias `t` holds the string
 * bound to `param`. Text that is not JSON holds nothing (rather than
 * failing the whole search). */
static void sql_json_has(char *sql, size_t cap, size_t *len, const char *t, const char *col,
                         const char *param)
{
    store_sql_add(sql, cap, len,
            " AND CASE WHEN json_valid(%s.%s) THEN EXISTS (SELECT 1 FROM json_each(%s.%s)"
            " WHERE json_each.value = %s) ELSE 0 END",
            t, col, t, col, param);
}

/* FROM and WHERE of a search shape, packages aliased `t`. With MATCH the
 * FTS table drives (CROSS JOIN keeps the planner from starting at packages
 * and running the MATCH once per row) and packages is joined only when a
 * filter or the sort needs its columns. When only the ecosystem is needed,
 * the (id, ecosystem) index answers without reading the row (named, since
 * without statistics the planner prefers the rowid and reads every matching
 * row: a third of a two-word search over 100,000 packages); when the row is
 * read anyway, "+" keeps the planner from looking in that index first. */
static void sql_from_where(int shape, bool join, bool row, const char *t, char *sql, size_t cap,
                           size_t *len)
{
    if (shape & SH_MATCH) {
        store_sql_add(sql, cap, len, " FROM packages_fts");
        if (join)
            store_sql_add(sql, cap, len, " CROSS JOIN packages %s%s ON %s.id = packages_fts.rowid", t,
                    row ? "" : " INDEXED BY packages_id_ecosystem", t);
        store_sql_add(sql, cap, len, " WHERE packages_fts MATCH :q");
    } else {
        store_sql_add(sql, cap, len, " FROM packages %s WHERE 1", t);
    }
    if (shape & SH_ECO)
        store_sql_add(sql, cap, len, " AND %s%s.ecosystem = :eco",
                (shape & SH_MATCH) && row ? "+" : "", t);
    if (shape & SH_KEYWORD)
        sql_json_has(sql, cap, len, t, "keywords", ":keyword");
    if (shape & SH_CATEGORY)
        sql_json_has(sql, cap, len, t, "categories", ":category");
    if (shape & SH_TAG)
        sql_json_has(sql, cap, len, t, "tags", ":tag");
}

/* The search statement of one shape; returns its length (cap on overflow).
 *
 * Counting reads no package columns it does not filter on. A page from the
 * index sorts only ids and sort keys in a subquery and reads the packages
 * of the page alone afterwards; relevance is bm25 with the package named
 * exactly as the query first. A page without the index walks a packages
 * index in the sort's order and stops at the page's end. */
static size_t search_sql(int shape, char *sql, size_t cap)
{
    size_t len = 0;
    int sort = (shape >> SH_SORT_SHIFT) & 3;
    bool filtered = shape & (SH_ECO | SH_KEYWORD | SH_CATEGORY | SH_TAG);
    bool json = shape & (SH_KEYWORD | SH_CATEGORY | SH_TAG);
    if (shape & SH_COUNT) {
        store_sql_add(sql, cap, &len, "SELECT count(*)");
        sql_from_where(shape, filtered, json, "f", sql, cap, &len);
        return len;
    }
    if (!(shape & SH_MATCH)) {
        store_sql_add(sql, cap, &len, "SELECT " STORE_PKG_LIST_COLS);
        sql_from_where(shape, true, true, "p", sql, cap, &len);
        store_sql_add(sql, cap, &len, " ORDER BY p.%s %s, p.id %s LIMIT :limit OFFSET :offset",
                sort_keys[sort].column, sort_keys[sort].dir, sort_keys[sort].dir);
        return len;
    }
    if (sort == SORT_RELEVANCE) {
        store_sql_add(sql, cap, &len,
                "SELECT " STORE_PKG_LIST_COLS " FROM (SELECT packages_fts.rowid AS id,"
                " packages_fts.rowid IN (SELECT id FROM packages WHERE normalized_name = :exact)"
                " AS k1, " FTS_RANK " AS k2");
        sql_from_where(shape, filtered, json, "f", sql, cap, &len);
        store_sql_add(sql, cap, &len,
                " ORDER BY k1 DESC, k2, id LIMIT :limit OFFSET :offset) m"
                " CROSS JOIN packages p ON p.id = m.id ORDER BY m.k1 DESC, m.k2, m.id");
        return len;
    }
    const char *dir = sort_keys[sort].dir;
    store_sql_add(sql, cap, &len, "SELECT " STORE_PKG_LIST_COLS " FROM (SELECT f.id AS id, f.%s AS k1",
            sort_keys[sort].column);
    sql_from_where(shape, true, true, "f", sql, cap, &len);
    store_sql_add(sql, cap, &len,
            " ORDER BY k1 %s, id %s LIMIT :limit OFFSET :offset) m"
            " CROSS JOIN packages p ON p.id = m.id ORDER BY m.k1 %s, m.id %s",
            dir, dir, dir, dir);
    return len;
}

/* The cached statement for a search shape, prepared on first use. */
static sqlite3_stmt *search_prep(struct conn *c, int shape, const char *op, derr *e)
{
    if (c->search[shape])
        return c->search[shape];
    char sql[2048];
    size_t len = search_sql(shape, sql, sizeof sql);
    if (len >= sizeof sql) {
        log_error("store error", "op", op, "error", "search SQL does not fit its buffer", NULL);
        derr_set(e, 500, "internal", "the store failed; see the server log");
        return NULL;
    }
    int rc = sqlite3_prepare_v3(c->db, sql, (int)len, SQLITE_PREPARE_PERSISTENT,
                                &c->search[shape], NULL);
    if (rc != SQLITE_OK) {
        fail(c, rc, op, e);
        sqlite3_finalize(c->search[shape]);
        c->search[shape] = NULL;
        return NULL;
    }
    return c->search[shape];
}

/* Binds what a search statement of any shape may use; parameters a shape
 * lacks are skipped. */
static int search_bind(sqlite3_stmt *st, const store_search *q, const char *expr,
                       const char *exact, int64_t limit, int64_t offset)
{
    int rc = SQLITE_OK;
    const char *names[] = {":q", ":eco", ":keyword", ":category", ":tag", ":exact"};
    const char *texts[] = {expr, q->ecosystem, q->keyword, q->category, q->tag, exact};
    for (int i = 0; i < 6; i++) {
        int at = sqlite3_bind_parameter_index(st, names[i]);
        if (at > 0 && rc == SQLITE_OK)
            rc = texts[i] ? sqlite3_bind_text(st, at, texts[i], -1, SQLITE_STATIC)
                          : sqlite3_bind_null(st, at);
    }
    const char *nums[] = {":limit", ":offset"};
    int64_t vals[] = {limit, offset};
    for (int i = 0; i < 2; i++) {
        int at = sqlite3_bind_parameter_index(st, nums[i]);
        if (at > 0 && rc == SQLITE_OK)
            rc = sqlite3_bind_int64(st, at, vals[i]);
    }
    return rc;
}

/* Runs a search shape: with out, one page into it; else the count into *r->total. */
static int search_run(struct conn *c, int shape, const struct sql_search *r, const char *expr,
                      const char *exact, store_package **out, derr *e)
{
    bool count = out == NULL;
    sqlite3_stmt *st = search_prep(c, count ? shape | SH_COUNT : shape, r->op, e);
    if (!st)
        return STORE_ERROR;
    struct sq_stmt run = {{&sqlite_driver}, st, c, r->op,
                          search_bind(st, r->q, expr, exact, r->limit, r->offset), false};
    int ret = count ? sq_step(&run.base, e) : store_read_packages(&run.base, r->a, out, r->n, e);
    if (count && ret == SQL_ROW) {
        *r->total = sqlite3_column_int64(st, 0);
        ret = STORE_OK;
    } else if (count && ret == SQL_DONE) {
        ret = fail(c, SQLITE_DONE, r->op, e);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return ret;
}

/* A query with no word in it (only punctuation or spaces) is no query,
 * and relevance without a query is name order. */
static int sq_search(sql_conn *cb, const struct sql_search *r, derr *e)
{
    struct conn *c = (struct conn *)cb;
    const char *expr = NULL;
    bool words = false;
    if (fts_expression(c, r->a, r->q, &expr, &words, r->op, e) != STORE_OK)
        return STORE_ERROR;
    int sort = r->sort == SORT_RELEVANCE && !words ? SORT_NAME : r->sort;
    const char *exact = sort == SORT_RELEVANCE ? store_exact_name(r->a, r->q->query) : NULL;
    int shape = store_search_shape(r->q, expr != NULL);
    int ret = search_run(c, shape, r, expr, exact, NULL, e);
    if (ret == STORE_OK && r->limit > 0 && r->offset < *r->total)
        ret = search_run(c, shape | (sort << SH_SORT_SHIFT), r, expr, exact, r->out, e);
    return ret;
}

/* ---- the driver and the constructor --------------------------------- */

static const struct store_driver sqlite_driver = {STORE_DRIVER(sq, "sqlite", SQL_SQLITE, migrations)};

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
    s->base.base.ops = &store_sqlite_ops;
    s->base.drv = &sqlite_driver;
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
    if (conn_set_init(&s->conns, conn_free) != 0) {
        free(s->path);
        free(s);
        derr_set(e, 500, "internal", "the store failed; see the server log");
        return NULL;
    }
    if (!conn_get(&s->base.base, e)) {
        sq_close(&s->base.base);
        return NULL;
    }
    return &s->base.base;
}
