/*
 * driver.h — what a store backend supplies: the primitives of its engine.
 *
 * Every operation of store.h is written once, in sql.c, over this narrow
 * interface (as a TLS layer writes its logic once over each library's
 * primitives). A backend supplies a per-thread connection, statements
 * prepared once per connection and kept by statement id, binding, stepping
 * and reading columns, transactions, and how its errors map onto store_rc;
 * and the few operations where the engines truly differ: migrating,
 * checking integrity, backing up, and search.
 *
 * SQL reaches a backend in the text sql.c holds: placeholders are ?N (the
 * PostgreSQL driver rewrites them to $N), and where the dialects differ
 * sql.c holds both texts side by side and gives each driver its own.
 *
 * Errors: every primitive that can fail logs the engine's message with the
 * operation's name and fills the derr for the client: a unique key that is
 * taken is STORE_CONFLICT with a sentence a person understands, a missing
 * parent row STORE_NOT_FOUND, a busy or unreachable engine "unavailable",
 * anything else "internal" (the detail goes to the log only).
 */
#ifndef DEPOT_STORE_DRIVER_H
#define DEPOT_STORE_DRIVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../lib/list.h"
#include "migrations.h"
#include "store.h"

/* step's answers besides a store_rc: a row is ready, or the statement is done. */
enum { SQL_ROW = 100, SQL_DONE = 101 };

/* Which text of a statement written in two dialects a driver takes. */
enum sql_dialect { SQL_SQLITE = 0, SQL_POSTGRES = 1 };

/* The most statements sql.c keeps prepared per connection. */
#define SQL_SLOTS 128
/* The most parameters a cached statement takes. */
#define SQL_MAX_PARAMS 20

/* One search as sql.c hands it to an engine: the total goes into *total and, when limit > 0 and
 * offset < *total, that page into *out (an arena array of *n). sort is one of SORT_*, limit
 * capped. */
struct sql_search {
    const store_search *q;
    int sort;
    int64_t limit, offset;
    arena *a;
    store_package **out;
    int *n;
    int64_t *total;
    const char *op;
};

typedef struct sql_conn sql_conn;
typedef struct sql_stmt sql_stmt;
struct conn_set;

/* A backend's connection and statements start with these, so sql.c can
 * reach the driver from either. */
struct sql_conn {
    const struct store_driver *drv;
    struct conn_set *set;        /* the store's connections, this one among them */
    list_node link;              /* in set, under its lock */
};
struct sql_stmt {
    const struct store_driver *drv;
};

struct store_driver {
    const char *name;
    enum sql_dialect dialect;

    /* This thread's connection, opened (or opened again) when needed; NULL
     * with e filled when it cannot be. */
    sql_conn *(*conn)(store *s, derr *e);
    /* The statement of slot q (< SQL_SLOTS) with text sql, prepared on first
     * use on this connection and kept; NULL with e filled when it does not
     * prepare. op names the operation for the log. */
    sql_stmt *(*prepare)(sql_conn *c, int q, const char *sql, const char *op, derr *e);
    /* A statement made for one run (built SQL), freed by release. */
    sql_stmt *(*prepare_once)(sql_conn *c, const char *sql, const char *op, derr *e);
    /* Binders: parameters count from 1; text is borrowed until release, NULL binds SQL NULL. A
     * binding that fails makes the next step fail. */
    void (*bind_i64)(sql_stmt *st, int i, int64_t v);
    void (*bind_text)(sql_stmt *st, int i, const char *v);
    /* SQL_ROW, SQL_DONE, or a store_rc with e filled. */
    int (*step)(sql_stmt *st, derr *e);
    /* Columns of the current row, from 0. NULL reads as 0 (and as a NULL pointer); a boolean as
     * 0 or 1. Text is borrowed until the next step or release; *len gets its length. */
    int64_t (*col_i64)(sql_stmt *st, int i);
    const char *(*col_text)(sql_stmt *st, int i, size_t *len);
    /* Rows the finished statement inserted, updated or deleted. */
    int64_t (*changes)(sql_stmt *st);
    /* Makes a cached statement reusable (dropping its borrowed bindings) or frees one made by
     * prepare_once. NULL is fine. */
    void (*release)(sql_stmt *st);

    /* Transactions: begin a read (one snapshot for several reads) or a write (the engine's way
     * of making writers queue); end commits when ret is STORE_OK and returns the commit's
     * answer, else rolls back and returns ret. */
    int (*begin)(sql_conn *c, bool write, const char *op, derr *e);
    int (*end)(sql_conn *c, int ret, const char *op, derr *e);
    /* Runs fixed SQL without parameters for its effect (several statements allowed). */
    int (*exec)(sql_conn *c, const char *sql, const char *op, derr *e);
    /* Runs fixed SQL and hands each row to fn until it returns non-zero (*stopped then says
     * so); rows are streamed, never held all at once. */
    int (*each_row)(sql_conn *c, const char *sql, int (*fn)(void *ctx, sql_stmt *row), void *ctx,
                    bool *stopped, const char *op, derr *e);

    /* Migrations: the engine's list (migrations.h), a hold that keeps other servers from
     * migrating meanwhile (NULL: each migration's write transaction is enough), and running
     * one migration's SQL inside the caller's transaction (on failure it logs why and fills
     * e). */
    const struct migration *migrations;
    const int *migrations_count;
    int (*migrate_hold)(sql_conn *c, bool hold, derr *e);
    int (*migrate_script)(sql_conn *c, const struct migration *m, derr *e);

    /* What differs between the engines as a whole. */
    void (*close)(store *s);
    int (*integrity)(store *s, arena *a, const char **report, derr *e);
    int (*backup)(store *s, const char *path, derr *e);
    /* Search, inside the read transaction sql.c opened (see struct sql_search). */
    int (*search)(sql_conn *c, const struct sql_search *r, derr *e);
    /* Run by rows_settle when not NULL (PostgreSQL's identity sequences). */
    const char *rows_settle_sql;
};

/* Every connection of a store, one per thread that used it: kept in a
 * pthread key whose destructor closes a thread's connection when the thread
 * exits; conn_set_close closes whatever is left. */
struct conn_set {
    pthread_key_t key;
    pthread_mutex_t mu;
    list conns;
    int n;
    void (*close)(sql_conn *c); /* the backend's: frees one connection */
};

/* 0, or -1 (logged) when no pthread key is left. */
int conn_set_init(struct conn_set *cs, void (*close)(sql_conn *c));
/* The calling thread's connection, or NULL when it has none yet. */
sql_conn *conn_set_mine(struct conn_set *cs);
/* Makes c the calling thread's connection. */
void conn_set_add(struct conn_set *cs, sql_conn *c);
int conn_set_count(struct conn_set *cs);
/* Closes every connection, this thread's and every other's. The caller
 * guarantees no other thread is using the store or still exiting from it. */
void conn_set_close(struct conn_set *cs);

/* A driver table's name, dialect, migrations (migs and migs_count) and primitives, for a
 * backend that names them <p>_conn, <p>_prepare, ... */
#define STORE_DRIVER(p, label, dial, migs)                                                    \
    .name = label, .dialect = dial, .migrations = migs, .migrations_count = &migs##_count,    \
    .migrate_script = p##_migrate_script, .conn = p##_conn, .prepare = p##_prepare,           \
    .prepare_once = p##_prepare_once, .bind_i64 = p##_bind_i64, .bind_text = p##_bind_text,   \
    .step = p##_step, .col_i64 = p##_col_i64, .col_text = p##_col_text,                       \
    .changes = p##_changes, .release = p##_release, .begin = p##_begin, .end = p##_end,       \
    .exec = p##_exec, .each_row = p##_each_row, .close = p##_close,                           \
    .integrity = p##_integrity, .backup = p##_backup, .search = p##_search

/* A backend's store starts with this. */
struct store_base {
    store base;
    const struct store_driver *drv;
};

/* Every operation, once (sql.c), under each backend's name; a backend's store points its
 * base.ops at its table. */
extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_postgres_ops;

/* ---- pieces of sql.c the backends' own operations use ----------------- */

/* The most rows one page of a search or a ranking returns. */
#define STORE_MAX_PAGE 1000
/* Bounds on the work one search can ask for. */
#define SEARCH_MAX_TERMS 16
#define SEARCH_MAX_TERM 64 /* bytes; a longer word is cut to a prefix of itself */

enum { SORT_RELEVANCE, SORT_DOWNLOADS, SORT_RECENT, SORT_NAME };

/* Shape bits: which parts an engine's search statement has; each shape is
 * prepared once per connection. */
enum {
    SH_MATCH = 1 << 0, /* the text index (a query, or on SQLite a filter it can narrow) */
    SH_ECO = 1 << 1,
    SH_KEYWORD = 1 << 2,
    SH_CATEGORY = 1 << 3,
    SH_TAG = 1 << 4,
    SH_SORT_SHIFT = 5, /* two bits of sort */
    SH_COUNT = 1 << 7,
    SH_FUZZY = 1 << 8, /* PostgreSQL: names by trigram similarity instead of the text query */
};

int64_t store_now(void);
/* The shape bits of a search's filters, with SH_MATCH when match. */
int store_search_shape(const store_search *q, bool match);
int store_not_found(derr *e, const char *what);
/* A unique key that is taken: STORE_CONFLICT with the sentence a person understands, found by
 * SQLite's message ("UNIQUE constraint failed: t.c, ...") or PostgreSQL's constraint name. */
int store_conflict(derr *e, const char *sqlite_msg, const char *pg_constraint);
/* A row that names a parent that is not there (a token for a user never created or gone). */
int store_no_parent(derr *e);
int64_t store_clamp_limit(int64_t limit);
bool store_given(const char *s);
/* The query as normalized names are written (trimmed, ASCII-folded), in the arena. */
char *store_exact_name(arena *a, const char *query);
/* Reads every row of a bound statement as a package (list columns) into an arena array. */
int store_read_packages(sql_stmt *st, arena *a, store_package **out, int *n, derr *e);
/* Package columns in the package reader's order, alias p. Lists leave out the readme (it can be
 * large and no list shows it): STORE_PKG_LIST_COLS reads it as NULL. */
#define STORE_PKG_COLS_HEAD                                                                 \
    "p.id, p.ecosystem, p.name, p.normalized_name, p.description, p.homepage, p.repository," \
    " p.documentation, p.license, p.keywords, p.categories, p.tags, p.authors, "
#define STORE_PKG_COLS_TAIL                                                               \
    ", p.require_signatures, p.latest_version, p.generation, p.downloads, p.meta,"         \
    " p.created_at, p.updated_at"
#define STORE_PKG_COLS STORE_PKG_COLS_HEAD "p.readme" STORE_PKG_COLS_TAIL
#define STORE_PKG_LIST_COLS STORE_PKG_COLS_HEAD "NULL" STORE_PKG_COLS_TAIL
/* Appends printf-style to a fixed SQL buffer; on overflow *len becomes cap. */
void store_sql_add(char *sql, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Whether the C string s is well-formed UTF-8 (PostgreSQL refuses text that is not). */
bool store_text_valid(const char *s);

#endif
