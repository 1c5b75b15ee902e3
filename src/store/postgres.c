/*
 * postgres.c — the store on PostgreSQL (libpq), for several depot servers
 * sharing one database: the driver's primitives (driver.h) over libpq, and
 * what only PostgreSQL does (its migrations under an advisory lock, its
 * integrity report, a backup into a SQLite file, and its own search). The
 * operations are sql.c's; the schema in migrations_pg/ mirrors SQLite's
 * version for version.
 *
 * Connections: one per thread (driver.h's conn_set). The URL goes to libpq
 * as it is (so TLS and every other libpq parameter pass through), with
 * defaults added unless the URL sets them: statement_timeout 10 s,
 * application_name depot, connect_timeout 5 s, client_min_messages
 * warning. A connection found dead (the server restarted, a network cut) is
 * replaced and the statement tried once more when that is safe: outside a
 * transaction, which includes the BEGIN that starts one. A failure inside a
 * transaction, or a server that cannot be reached again, answers 503
 * "unavailable" and the next operation connects afresh.
 *
 * Statements are prepared once per connection, on first use, by name
 * ("q<N>" from sql.c's statement slot, "s<N>" for search shapes), with ?N
 * rewritten to $N, and run with text parameters; a session that lost them
 * (a pooler's DISCARD ALL) prepares them again. Text that is not UTF-8,
 * which PostgreSQL refuses, names nothing stored: look-ups answer "not
 * found" as SQLite would. A write is one READ COMMITTED transaction (sql.c
 * locks the package row first); reads of several queries share one
 * REPEATABLE READ READ ONLY transaction, so they agree.
 *
 * Search runs on the tsvector column the schema keeps (GIN index; weights A
 * name, B keywords and tags, C description), ranked by ts_rank_cd with the
 * package named exactly as the query first. The query text never reaches
 * SQL as written: it is cut into words here (runs of ASCII letters and
 * digits and of non-ASCII characters; invalid UTF-8 separates), at most 16
 * of at most 64 bytes, and passed as a text[] that depot_search_query()
 * turns into ANDed prefix terms. When a query written like a name (no
 * spaces) matches nothing, names are tried by trigram similarity
 * (pg_trgm's % and <% operators at their default thresholds, 0.3 and 0.6),
 * so a typo still finds the package. Pages of a text or filter search sort
 * their matches with keys no index matches, so the planner never walks a
 * whole ordered index testing each row.
 *
 * Errors: PostgreSQL's message goes to the log with the operation's name;
 * the caller's derr gets "internal", "unavailable" (unreachable, a timeout,
 * a deadlock), or for a taken unique key sql.c's sentence for that key.
 *
 * backup writes a SQLite file in depot's own schema (a consistent snapshot
 * of every table), so `depot backup` and `depot restore` work the same on
 * both stores and a backup can be served by a single SQLite server.
 */
#include "postgres.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "../lib/log.h"
#include "../lib/utf8.h"
#include "../lib/xalloc.h"
#include "driver.h"
#include "migrations.h"
#include "sqlite.h"

/* Defaults added to the URL's parameters unless it sets them. */
#define DEFAULT_STATEMENT_TIMEOUT "10s"
#define DEFAULT_CONNECT_TIMEOUT "5"
/* The advisory lock that makes servers starting at once migrate one at a time. */
#define MIGRATE_LOCK_KEY 0x6465706f74LL /* "depot" */

typedef struct pg_store pg_store;
struct conn;

/* Search statements differ by which filters are given, the sort, how
 * they match and whether they count: one slot per shape (see search_sql). */
#define SEARCH_SHAPES 512

/* A statement: its text in PostgreSQL's dialect, its text parameters, and
 * once run, its whole result, read row by row. */
struct pg_stmt {
    sql_stmt base;
    struct conn *c;
    const char *op;
    char name[16];             /* the prepared statement's name; "" for one run */
    unsigned char *prepared;   /* on this PGconn */
    char *sql;                 /* $N placeholders */
    int nparams, cap;          /* parameters bound ($1..$nparams), room for */
    const Oid *types;          /* NULL: the server infers them */
    const char **v;            /* the values; NULL is SQL NULL */
    char (*num)[24];           /* numbers written out */
    PGresult *res;             /* NULL until run */
    int row;
};

struct conn {
    sql_conn base;
    PGconn *pg;                             /* NULL until connected, and after a loss */
    unsigned char prepared[SQL_SLOTS];      /* on this PGconn */
    unsigned char sprepared[SEARCH_SHAPES]; /* likewise */
    struct pg_stmt *stmt[SQL_SLOTS];        /* made on first use */
    bool in_tx;                             /* a transaction is open */
    pg_store *owner;
};

struct pg_store {
    struct store_base base; /* first, so a store * is a pg_store * */
    char **keys, **vals; /* libpq connection parameters, NULL-terminated */
    char where[160];     /* host:port/dbname for the log; never the password */
    struct conn_set conns;
};

static const struct store_driver pg_driver;

static pg_store *self(store *s)
{
    return (pg_store *)s;
}

/* ---- errors ---------------------------------------------------------- */

/* PostgreSQL's message on one line, for the log. */
static void one_line(char *dst, size_t cap, const char *msg)
{
    snprintf(dst, cap, "%s", msg && *msg ? msg : "(no message)");
    size_t n = strlen(dst);
    while (n && (dst[n - 1] == '\n' || dst[n - 1] == ' '))
        dst[--n] = '\0';
    for (char *p = dst; *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
}

static bool state_is(const char *state, const char *want)
{
    return state && strcmp(state, want) == 0;
}

/* Whether the connection is gone (the server restarted, the network cut)
 * or the server says it cannot serve sessions now. */
static bool lost(const struct conn *c, const char *state)
{
    if (!c->pg || PQstatus(c->pg) != CONNECTION_OK)
        return true;
    return state && (strncmp(state, "08", 2) == 0 || state_is(state, "57P01") ||
                     state_is(state, "57P02") || state_is(state, "57P03") ||
                     state_is(state, "53300"));
}

static int unreachable(derr *e)
{
    derr_set(e, 503, "unavailable", "the store is unreachable; try again");
    return STORE_ERROR;
}

/* Logs PostgreSQL's message for op and fills e for the client; returns the
 * store_rc the operation should return. r is the failed result (NULL when
 * libpq gave none). */
static int fail(struct conn *c, const PGresult *r, const char *op, derr *e)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (state_is(state, "23505"))
        return store_conflict(e, NULL, PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME));
    if (state_is(state, "23503"))
        return store_no_parent(e);
    if (state_is(state, "22021")) {
        /* Text that is not UTF-8 (a name from a URL path) names nothing
         * stored: SQLite would have found nothing either. */
        derr_set(e, 404, "not_found", "no such thing");
        return STORE_NOT_FOUND;
    }
    char msg[512];
    const char *text = r ? PQresultErrorMessage(r) : NULL;
    one_line(msg, sizeof msg, text && *text ? text : c->pg ? PQerrorMessage(c->pg) : NULL);
    log_error("store error", "op", op, "error", msg, "sqlstate", state ? state : "",
              "store", c->owner->where, NULL);
    if (lost(c, state))
        return unreachable(e);
    if (state_is(state, "40001") || state_is(state, "40P01") || state_is(state, "55P03") ||
        state_is(state, "57014")) {
        derr_set(e, 503, "unavailable", "the store is busy; try again");
        return STORE_ERROR;
    }
    derr_set(e, 500, "internal", "the store failed; see the server log");
    return STORE_ERROR;
}

static void stmt_free(struct pg_stmt *s);

/* ---- connections ----------------------------------------------------- */

/* libpq's notices (ignored with client_min_messages=warning anyway) must
 * never reach stderr as they are. */
static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Drops this connection's PGconn (and with it every prepared statement). */
static void conn_drop(struct conn *c)
{
    if (c->pg)
        PQfinish(c->pg);
    c->pg = NULL;
    c->in_tx = false;
    memset(c->prepared, 0, sizeof c->prepared);
    memset(c->sprepared, 0, sizeof c->sprepared);
}

/* Connects c (again). Returns 0, or -1 with the reason in the log. */
static int conn_connect(struct conn *c)
{
    pg_store *s = c->owner;
    conn_drop(c);
    PGconn *pg = PQconnectdbParams((const char *const *)s->keys, (const char *const *)s->vals, 0);
    if (!pg || PQstatus(pg) != CONNECTION_OK) {
        char msg[512];
        one_line(msg, sizeof msg, pg ? PQerrorMessage(pg) : "out of memory");
        log_error("store error", "op", "connect", "error", msg, "store", s->where, NULL);
        if (pg)
            PQfinish(pg);
        return -1;
    }
    PQsetNoticeProcessor(pg, quiet, NULL);
    c->pg = pg;
    return 0;
}

static void conn_close(sql_conn *cb)
{
    struct conn *c = (struct conn *)cb;
    if (!c)
        return;
    conn_drop(c);
    for (int i = 0; i < SQL_SLOTS; i++)
        stmt_free(c->stmt[i]);
    free(c);
}

/* This thread's connection, connected; (re)connects when it has none or
 * lost it. NULL with e filled (503) when the server cannot be reached. */
static struct conn *conn_get(store *st, derr *e)
{
    pg_store *s = self(st);
    struct conn *c = (struct conn *)conn_set_mine(&s->conns);
    if (!c) {
        c = xcalloc(1, sizeof *c);
        c->base.drv = &pg_driver;
        c->owner = s;
        conn_set_add(&s->conns, &c->base);
    }
    if (!c->pg || PQstatus(c->pg) != CONNECTION_OK) {
        if (conn_connect(c) != 0) {
            unreachable(e);
            return NULL;
        }
    }
    return c;
}

static sql_conn *pg_conn(store *st, derr *e)
{
    struct conn *c = conn_get(st, e);
    return c ? &c->base : NULL;
}

/* ---- statements ------------------------------------------------------ */

static bool result_ok(const PGresult *r)
{
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

/* Runs one statement: the prepared statement `name` (prepared from `sql`
 * first when this connection has not yet, *prepared says), or with name
 * NULL `sql` itself (as a simple query when nparams is 0). Returns the
 * result, which the caller PQclears, or NULL with e filled and *rc the
 * store_rc to return. A connection found lost outside a transaction is
 * replaced and the statement run once more. */
static PGresult *run_stmt(struct conn *c, const char *name, unsigned char *prepared,
                          const char *sql, int nparams, const Oid *types,
                          const char *const *vals, const char *op, derr *e, int *rc)
{
    for (int attempt = 0;; attempt++) {
        PGresult *r = NULL;
        if (!c->pg || PQstatus(c->pg) != CONNECTION_OK) {
            if (c->in_tx || conn_connect(c) != 0) {
                c->in_tx = false;
                *rc = unreachable(e);
                return NULL;
            }
        }
        if (name && !*prepared) {
            r = PQprepare(c->pg, name, sql, types ? nparams : 0, types);
            if (result_ok(r)) {
                *prepared = 1;
                PQclear(r);
                r = NULL;
            }
        }
        if (!name)
            r = nparams ? PQexecParams(c->pg, sql, nparams, types, vals, NULL, NULL, 0)
                        : PQexec(c->pg, sql);
        else if (*prepared)
            r = PQexecPrepared(c->pg, name, nparams, vals, NULL, NULL, 0);
        if (result_ok(r))
            return r;
        const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
        if (attempt == 0 && !c->in_tx && lost(c, state)) {
            PQclear(r);
            log_warn("store connection lost; connecting again", "op", op, "store",
                     c->owner->where, NULL);
            conn_drop(c);
            continue;
        }
        if (attempt == 0 && !c->in_tx && name && state_is(state, "26000")) {
            /* The session lost its prepared statements (DISCARD ALL by a
             * pooler between sessions): prepare them again as needed. */
            PQclear(r);
            memset(c->prepared, 0, sizeof c->prepared);
            memset(c->sprepared, 0, sizeof c->sprepared);
            continue;
        }
        *rc = fail(c, r, op, e);
        PQclear(r);
        return NULL;
    }
}

/* NULL reads as 0, as sqlite3_column_int64 reads it; a boolean as 0 or 1. */
static int64_t pq_i64(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return 0;
    const char *v = PQgetvalue(r, row, col);
    if (v[0] == 't' || v[0] == 'f')
        return v[0] == 't';
    return strtoll(v, NULL, 10);
}

/* Runs fixed SQL (transaction control, the migration runner). */
static int simple(struct conn *c, const char *sql, const char *op, derr *e)
{
    int rc = STORE_ERROR;
    PGresult *r = run_stmt(c, NULL, NULL, sql, 0, NULL, NULL, op, e, &rc);
    if (!r)
        return rc;
    PQclear(r);
    return STORE_OK;
}

static int pg_begin(sql_conn *cb, bool write, const char *op, derr *e)
{
    struct conn *c = (struct conn *)cb;
    int ret = simple(c, write ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", op, e);
    if (ret == STORE_OK)
        c->in_tx = true;
    return ret;
}

/* Ends a transaction: commits when ret is STORE_OK (and returns the
 * commit's result), else rolls back and returns ret. */
static int pg_end(sql_conn *cb, int ret, const char *op, derr *e)
{
    struct conn *c = (struct conn *)cb;
    if (!c->in_tx)
        return ret;
    if (ret == STORE_OK)
        ret = simple(c, "COMMIT", op, e);
    if (ret != STORE_OK && c->pg && PQstatus(c->pg) == CONNECTION_OK && c->in_tx) {
        PGresult *r = PQexec(c->pg, "ROLLBACK");
        PQclear(r);
    }
    c->in_tx = false;
    return ret;
}

/* ---- the driver's statements ----------------------------------------- */

static struct pg_stmt *pq(sql_stmt *st)
{
    return (struct pg_stmt *)st;
}

/* sql with ?N rewritten to $N, in a new string; *max gets the highest N. */
static char *dollars(const char *sql, int *max)
{
    char *out = xstrdup(sql);
    *max = 0;
    for (char *p = out; *p; p++)
        if (*p == '?' && p[1] >= '0' && p[1] <= '9') {
            *p = '$';
            int n = (int)strtol(p + 1, NULL, 10);
            if (n > *max)
                *max = n;
        }
    return out;
}

static struct pg_stmt *stmt_new(struct conn *c, const char *sql, const char *op)
{
    struct pg_stmt *s = xcalloc(1, sizeof *s);
    s->base.drv = &pg_driver;
    s->c = c;
    s->op = op;
    s->sql = dollars(sql, &s->cap);
    if (s->cap < 1)
        s->cap = 1;
    s->v = xcalloc((size_t)s->cap, sizeof *s->v);
    s->num = xcalloc((size_t)s->cap, sizeof *s->num);
    return s;
}

static void stmt_free(struct pg_stmt *s)
{
    if (!s)
        return;
    PQclear(s->res);
    free(s->sql);
    free(s->v);
    free(s->num);
    free(s);
}

/* The statement of slot q, made on first use; it is prepared on the server
 * when it first runs on this connection (and again after a reconnect). */
static sql_stmt *pg_prepare(sql_conn *cb, int q, const char *sql, const char *op, derr *e)
{
    struct conn *c = (struct conn *)cb;
    if (!c->stmt[q]) {
        c->stmt[q] = stmt_new(c, sql, op);
        snprintf(c->stmt[q]->name, sizeof c->stmt[q]->name, "q%d", q);
        c->stmt[q]->prepared = &c->prepared[q];
    }
    c->stmt[q]->op = op;
    return &c->stmt[q]->base;
}

static sql_stmt *pg_prepare_once(sql_conn *cb, const char *sql, const char *op, derr *e)
{
    return &stmt_new((struct conn *)cb, sql, op)->base;
}

static void pg_bind_text(sql_stmt *st, int i, const char *v)
{
    struct pg_stmt *s = pq(st);
    if (i < 1 || i > s->cap)
        return;
    s->v[i - 1] = v;
    if (i > s->nparams)
        s->nparams = i;
}

static void pg_bind_i64(sql_stmt *st, int i, int64_t v)
{
    struct pg_stmt *s = pq(st);
    if (i < 1 || i > s->cap)
        return;
    snprintf(s->num[i - 1], sizeof s->num[i - 1], "%lld", (long long)v);
    pg_bind_text(st, i, s->num[i - 1]);
}

/* Runs the statement on its first step (see run_stmt), then walks its rows. */
static int pg_step(sql_stmt *st, derr *e)
{
    struct pg_stmt *s = pq(st);
    if (!s->res) {
        int rc = STORE_ERROR;
        s->res = run_stmt(s->c, s->name[0] ? s->name : NULL, s->prepared, s->sql, s->nparams,
                          s->types, s->v, s->op, e, &rc);
        if (!s->res)
            return rc;
        s->row = -1;
    }
    return ++s->row < PQntuples(s->res) ? SQL_ROW : SQL_DONE;
}

static int64_t pg_col_i64(sql_stmt *st, int i)
{
    return pq_i64(pq(st)->res, pq(st)->row, i);
}

/* A boolean reads as 1 or 0, as SQLite keeps it. */
static const char *pg_col_text(sql_stmt *st, int i, size_t *len)
{
    struct pg_stmt *s = pq(st);
    *len = 0;
    if (PQgetisnull(s->res, s->row, i))
        return NULL;
    const char *v = PQgetvalue(s->res, s->row, i);
    if (PQftype(s->res, i) == 16) { /* bool */
        *len = 1;
        return v[0] == 't' ? "1" : "0";
    }
    *len = (size_t)PQgetlength(s->res, s->row, i);
    return v;
}

static int64_t pg_changes(sql_stmt *st)
{
    return pq(st)->res ? strtoll(PQcmdTuples(pq(st)->res), NULL, 10) : 0;
}

static void pg_release(sql_stmt *st)
{
    struct pg_stmt *s = pq(st);
    if (!s)
        return;
    if (!s->name[0]) {
        stmt_free(s);
        return;
    }
    PQclear(s->res);
    s->res = NULL;
    memset(s->v, 0, (size_t)s->cap * sizeof *s->v);
    s->nparams = 0;
}

static int pg_exec(sql_conn *cb, const char *sql, const char *op, derr *e)
{
    return simple((struct conn *)cb, sql, op, e);
}

/* ---- lifecycle ------------------------------------------------------- */

static void free_params(pg_store *s)
{
    for (int i = 0; s->keys && s->keys[i]; i++) {
        free(s->keys[i]);
        free(s->vals[i]);
    }
    free(s->keys);
    free(s->vals);
    s->keys = s->vals = NULL;
}

static void pg_close(store *st)
{
    if (!st)
        return;
    pg_store *s = self(st);
    conn_set_close(&s->conns);
    free_params(s);
    free(s);
}

int store_postgres_connections(store *st)
{
    return conn_set_count(&self(st)->conns);
}

void store_postgres_break_connection(store *st)
{
    pg_store *s = self(st);
    struct conn *c = (struct conn *)conn_set_mine(&s->conns);
    if (c && c->pg)
        shutdown(PQsocket(c->pg), SHUT_RDWR);
}

/* ---- migrations ------------------------------------------------------ */

/* Runs one migration's SQL inside the caller's transaction. */
static int pg_migrate_script(sql_conn *cb, const struct migration *m, derr *e)
{
    struct conn *c = (struct conn *)cb;
    PGresult *r = PQexec(c->pg, m->sql);
    bool ok = result_ok(r);
    if (!ok) {
        char msg[512], version[24];
        one_line(msg, sizeof msg, r ? PQresultErrorMessage(r) : PQerrorMessage(c->pg));
        snprintf(version, sizeof version, "%d", m->version);
        log_error("store error", "op", "migrate", "version", version, "name", m->name, "error",
                  msg, NULL);
    }
    PQclear(r);
    if (ok)
        return STORE_OK;
    if (lost(c, NULL))
        return unreachable(e);
    return derr_set(e, 500, "internal", "a schema migration failed; see the server log");
}

/* Takes (or gives back) a session advisory lock, so servers starting
 * together migrate one after the other (the others then find nothing left
 * to do). The statement timeout is lifted meanwhile: building indexes over
 * a large table may take longer than any request should. When the
 * connection is gone the server released the lock with it. */
static int pg_migrate_hold(sql_conn *cb, bool hold, derr *e)
{
    struct conn *c = (struct conn *)cb;
    static const char op[] = "migrate";
    char lock[96];
    snprintf(lock, sizeof lock, "SELECT pg_advisory_%slock(%lld)", hold ? "" : "un",
             MIGRATE_LOCK_KEY);
    if (!hold) {
        if (c->pg && PQstatus(c->pg) == CONNECTION_OK) {
            PQclear(PQexec(c->pg, lock));
            PQclear(PQexec(c->pg, "RESET statement_timeout"));
        }
        return STORE_OK;
    }
    if (simple(c, "SET statement_timeout = 0", op, e) != STORE_OK)
        return STORE_ERROR;
    int ret = simple(c, lock, op, e);
    if (ret != STORE_OK)
        simple(c, "RESET statement_timeout", op, NULL);
    return ret;
}

/* ---- search ---------------------------------------------------------- */

/* Bounds on the work one query can ask for: SEARCH_MAX_TERMS and SEARCH_MAX_TERM (driver.h), and */
#define SEARCH_MAX_NAME 214 /* bytes: no name is longer (npm's limit), so no longer query is a typo of one */

/* The column and direction of each sort but relevance; ties go by id.
 * `hidden` is the same order written so that no index matches it: a page
 * of a text or filter search sorts its matches (found through a GIN
 * index) rather than walking a whole ordered index and testing every row,
 * which is slow exactly when the matches are few or far apart. */
static const struct {
    const char *column, *hidden, *dir;
} sort_keys[] = {
    [SORT_DOWNLOADS] = {"p.downloads", "(p.downloads + 0)", "DESC"},
    [SORT_RECENT] = {"p.updated_at", "(p.updated_at + 0)", "DESC"},
    [SORT_NAME] = {"p.normalized_name", "(p.normalized_name || '')", "ASC"},
};


/* Every search statement takes the same typed parameters (a shape uses
 * those it needs): $1 the words (text[]), $2 the ecosystem, $3 keyword, $4
 * category, $5 tag, $6 the exact name, $7 limit, $8 offset, $9 the text
 * names are compared with. */
#define SEARCH_NPARAMS 9
static const Oid search_types[SEARCH_NPARAMS] = {1009, 25, 25, 25, 25, 25, 20, 20, 25};

/* The length of the word character at p: an ASCII letter or digit (1), or
 * a well-formed UTF-8 sequence of a non-ASCII character (2 to 4); 0 for
 * anything else (punctuation, spaces, control bytes, invalid UTF-8). */
static int word_char_len(const unsigned char *p)
{
    if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
        return 1;
    uint32_t cp;
    size_t k = utf8_decode((const char *)p, strnlen((const char *)p, 4), &cp);
    return k >= 2 ? (int)k : 0;
}

/* Appends the words of text to out as the elements of a PostgreSQL text[]
 * literal; returns how many. A word is a run of ASCII letters and digits
 * and of non-ASCII characters (whose letters PostgreSQL's parser sorts
 * out); everything else, invalid UTF-8 included, separates words. A word
 * longer than SEARCH_MAX_TERM bytes is cut to a prefix of itself. */
static int search_words(const char *text, buf *out)
{
    int n = 0;
    const unsigned char *p = (const unsigned char *)text;
    buf_puts(out, "{");
    while (*p && n < SEARCH_MAX_TERMS) {
        int l = word_char_len(p);
        if (l == 0) {
            p++;
            continue;
        }
        const unsigned char *start = p;
        size_t len = 0;
        while ((l = word_char_len(p)) > 0) {
            if (len + (size_t)l <= SEARCH_MAX_TERM && p == start + len)
                len += (size_t)l;
            p += l;
        }
        /* letters, digits and UTF-8 only: nothing to escape in the literal */
        buf_printf(out, "%s\"%.*s\"", n ? "," : "", (int)len, (const char *)start);
        n++;
    }
    buf_puts(out, "}");
    return n;
}

/* The search statement of one shape; returns its length (cap on
 * overflow). The full-text query is computed once (a MATERIALIZED CTE)
 * and drives a GIN index scan; filters are GIN containment on the arrays
 * the schema keeps; relevance puts the package named exactly as the query
 * first, then ts_rank_cd (or trigram similarity), then id. Counting
 * statements return the count and, second, how many nodes the full-text
 * query has (0: its words held no letters PostgreSQL keeps, so it is no
 * query after all). */
static size_t search_sql(int shape, char *sql, size_t cap)
{
    size_t len = 0;
    int sort = (shape >> SH_SORT_SHIFT) & 3;
    bool match = shape & SH_MATCH, count = shape & SH_COUNT;
    if (match)
        store_sql_add(sql, cap, &len,
                "WITH q AS MATERIALIZED (SELECT depot_search_query($1::text[]) AS tsq) ");
    if (count && match)
        store_sql_add(sql, cap, &len, "SELECT (SELECT count(*)");
    else if (count)
        store_sql_add(sql, cap, &len, "SELECT count(*), 1");
    else
        store_sql_add(sql, cap, &len, "SELECT " STORE_PKG_LIST_COLS);
    if (match && !count)
        store_sql_add(sql, cap, &len, " FROM q CROSS JOIN packages p");
    else
        store_sql_add(sql, cap, &len, " FROM packages p");
    store_sql_add(sql, cap, &len, match ? " WHERE p.search_doc @@ q.tsq" : " WHERE true");
    if (shape & SH_FUZZY)
        store_sql_add(sql, cap, &len, " AND (p.normalized_name %% $9 OR $9 <%% p.normalized_name)");
    if (shape & SH_ECO)
        store_sql_add(sql, cap, &len, " AND p.ecosystem = $2");
    if (shape & SH_KEYWORD)
        store_sql_add(sql, cap, &len, " AND p.search_keywords @> ARRAY[$3]");
    if (shape & SH_CATEGORY)
        store_sql_add(sql, cap, &len, " AND p.search_categories @> ARRAY[$4]");
    if (shape & SH_TAG)
        store_sql_add(sql, cap, &len, " AND p.search_tags @> ARRAY[$5]");
    if (count && match)
        store_sql_add(sql, cap, &len, "), coalesce(numnode(q.tsq), 0) FROM q");
    if (count)
        return len;
    if (sort == SORT_RELEVANCE && match)
        store_sql_add(sql, cap, &len,
                " ORDER BY coalesce(p.normalized_name = $6, false) DESC,"
                " ts_rank_cd(p.search_doc, q.tsq) DESC, p.id");
    else if (sort == SORT_RELEVANCE)
        store_sql_add(sql, cap, &len,
                " ORDER BY coalesce(p.normalized_name = $6, false) DESC,"
                " greatest(similarity(p.normalized_name, $9), word_similarity($9, p.normalized_name))"
                " DESC, p.id");
    else if (shape & (SH_MATCH | SH_FUZZY | SH_KEYWORD | SH_CATEGORY | SH_TAG))
        store_sql_add(sql, cap, &len, " ORDER BY %s %s, (p.id + 0) %s", sort_keys[sort].hidden,
                sort_keys[sort].dir, sort_keys[sort].dir);
    else
        store_sql_add(sql, cap, &len, " ORDER BY %s %s, p.id %s", sort_keys[sort].column,
                sort_keys[sort].dir, sort_keys[sort].dir);
    store_sql_add(sql, cap, &len, " LIMIT $7 OFFSET $8");
    return len;
}

/* Runs the search statement of a shape (prepared on first use). */
static PGresult *search_run(struct conn *c, int shape, const char *const *vals, const char *op,
                            derr *e, int *rc)
{
    char sql[2048], name[16];
    size_t len = search_sql(shape, sql, sizeof sql);
    if (len >= sizeof sql) {
        log_error("store error", "op", op, "error", "search SQL does not fit its buffer", NULL);
        derr_set(e, 500, "internal", "the store failed; see the server log");
        *rc = STORE_ERROR;
        return NULL;
    }
    snprintf(name, sizeof name, "s%d", shape);
    return run_stmt(c, name, &c->sprepared[shape], sql, SEARCH_NPARAMS, search_types, vals, op, e,
                    rc);
}

/* Counts the matches of a search shape; *kept (when not NULL) says whether
 * the full-text query kept any word. */
static int search_count(struct conn *c, int shape, const char *const *vals, int64_t *total,
                        bool *kept, const char *op, derr *e)
{
    int rc = STORE_ERROR;
    PGresult *r = search_run(c, shape | SH_COUNT, vals, op, e, &rc);
    if (!r)
        return rc;
    *total = pq_i64(r, 0, 0);
    if (kept)
        *kept = pq_i64(r, 0, 1) > 0;
    PQclear(r);
    return STORE_OK;
}

/* Counts the matches, falling back when the words hold nothing PostgreSQL
 * indexes (symbols, emoji: no query), or when a query written like a name
 * matches nothing (a typo: names that look like it). */
static int search_total(struct conn *c, int *shape, int *sort, const char *exact,
                        const char *const *vals, int64_t *total, const char *op, derr *e)
{
    bool kept = false;
    int ret = search_count(c, *shape, vals, total, &kept, op, e);
    if (ret != STORE_OK || !(*shape & SH_MATCH))
        return ret;
    if (!kept) {
        *shape &= ~SH_MATCH;
        if (*sort == SORT_RELEVANCE)
            *sort = SORT_NAME;
        return search_count(c, *shape, vals, total, NULL, op, e);
    }
    if (*total == 0 && exact && !strpbrk(exact, " \t") && strlen(exact) <= SEARCH_MAX_NAME) {
        *shape = (*shape & ~SH_MATCH) | SH_FUZZY;
        return search_count(c, *shape, vals, total, NULL, op, e);
    }
    return STORE_OK;
}

/* Reads one page of a search shape. */
static int search_page(struct conn *c, int shape, const char *const *vals, arena *a,
                       store_package **out, int *n, const char *op, derr *e)
{
    int rc = STORE_ERROR;
    PGresult *r = search_run(c, shape, vals, op, e, &rc);
    if (!r)
        return rc;
    struct pg_stmt page = {.base = {&pg_driver}, .c = c, .op = op, .res = r, .row = -1};
    int ret = store_read_packages(&page.base, a, out, n, e);
    PQclear(r);
    return ret;
}

/* A query with no word in it is no query, and relevance without a query is
 * name order; a query whose words match nothing falls back to names similar
 * to it. Filter values that are not UTF-8 match nothing. */
static int pg_search(sql_conn *cb, const struct sql_search *r, derr *e)
{
    struct conn *c = (struct conn *)cb;
    const store_search *q = r->q;
    const char *filters[] = {q->ecosystem, q->keyword, q->category, q->tag};
    for (int i = 0; i < 4; i++)
        if (store_given(filters[i]) && !store_text_valid(filters[i]))
            return STORE_OK; /* nothing stored can equal it */
    buf words;
    buf_init(&words, 0);
    int nwords = store_given(q->query) ? search_words(q->query, &words) : 0;
    int sort = r->sort == SORT_RELEVANCE && nwords == 0 ? SORT_NAME : r->sort;
    const char *exact = nwords > 0 ? store_exact_name(r->a, q->query) : NULL;
    if (exact && !store_text_valid(exact))
        exact = NULL;
    int shape = store_search_shape(q, nwords > 0);
    char lim[24], off[24];
    snprintf(lim, sizeof lim, "%lld", (long long)(r->limit > 0 ? r->limit : 0));
    snprintf(off, sizeof off, "%lld", (long long)r->offset);
    const char *vals[SEARCH_NPARAMS] = {
        nwords > 0 ? words.data : "{}", q->ecosystem, q->keyword, q->category, q->tag, exact,
        lim, off, exact,
    };
    int ret = search_total(c, &shape, &sort, exact, vals, r->total, r->op, e);
    if (ret == STORE_OK && r->limit > 0 && r->offset < *r->total)
        ret = search_page(c, shape | (sort << SH_SORT_SHIFT), vals, r->a, r->out, r->n, r->op, e);
    buf_free(&words);
    return ret;
}

/* ---- operations: integrity, backup, blob references ------------------ */

/* PostgreSQL checks its own pages (with data checksums on) and enforces
 * every constraint as it writes, so there is no whole-file check to run as
 * SQLite's integrity_check; this reports what the server counted: data
 * checksum failures in this database, and packages whose search columns
 * were never filled. */
static int pg_integrity(store *s, arena *a, const char **report, derr *e)
{
    static const char op[] = "integrity";
    *report = "ok";
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    int rc = STORE_ERROR;
    PGresult *r = run_stmt(c, NULL, NULL,
                           "SELECT (SELECT coalesce(checksum_failures, 0) FROM pg_stat_database"
                           " WHERE datname = current_database()),"
                           " (SELECT count(*) FROM packages WHERE search_doc = ''::tsvector"
                           " AND name <> '')",
                           0, NULL, NULL, op, e, &rc);
    if (!r)
        return rc;
    int64_t bad_pages = pq_i64(r, 0, 0), unindexed = pq_i64(r, 0, 1);
    PQclear(r);
    if (bad_pages)
        *report = arena_printf(a, "%lld data checksum failures in this database",
                               (long long)bad_pages);
    if (unindexed)
        *report = arena_printf(a, "%s%s%lld packages missing from the search index",
                               bad_pages ? *report : "", bad_pages ? "\n" : "",
                               (long long)unindexed);
    return STORE_OK;
}

/* Streams the rows of sql (single-row mode, so a large table is never
 * held whole) to fn until it returns non-zero; *stopped says whether it
 * did. */
static int stream(struct conn *c, const char *sql, int (*fn)(void *, const PGresult *),
                  void *ctx, bool *stopped, const char *op, derr *e)
{
    *stopped = false;
    if (!c->pg || PQstatus(c->pg) != CONNECTION_OK || !PQsendQuery(c->pg, sql)) {
        int ret = fail(c, NULL, op, e);
        return ret;
    }
    PQsetSingleRowMode(c->pg);
    int ret = STORE_OK;
    PGresult *r;
    while ((r = PQgetResult(c->pg)) != NULL) {
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_SINGLE_TUPLE) {
            if (ret == STORE_OK && !*stopped && fn(ctx, r) != 0)
                *stopped = true; /* the rest is read and dropped */
        } else if (st != PGRES_TUPLES_OK && ret == STORE_OK) {
            ret = fail(c, r, op, e);
        }
        PQclear(r);
    }
    return ret;
}

/* Hands the rows streamed by stream() to a driver-level row function. */
struct row_adapter {
    int (*fn)(void *, sql_stmt *);
    void *ctx;
};

static int adapt_row(void *p, const PGresult *r)
{
    struct row_adapter *ad = p;
    struct pg_stmt row = {.base = {&pg_driver}, .res = (PGresult *)r, .row = 0};
    return ad->fn(ad->ctx, &row.base);
}

static int pg_each_row(sql_conn *cb, const char *sql, int (*fn)(void *, sql_stmt *), void *ctx,
                       bool *stopped, const char *op, derr *e)
{
    struct row_adapter ad = {fn, ctx};
    return stream((struct conn *)cb, sql, adapt_row, &ad, stopped, op, e);
}

/* rows_settle: every identity sequence moves past its column's highest
 * value (never back), so the next row made gets a new id. */
static const char rows_settle_sql[] =
    "DO $$DECLARE t record; BEGIN"
    " FOR t IN SELECT table_name, column_name FROM information_schema.columns"
    " WHERE table_schema = current_schema() AND is_identity = 'YES' LOOP"
    " EXECUTE format('SELECT setval(s, greatest(coalesce(max(%I), 0),"
    " coalesce(pg_sequence_last_value(s), 0)) + 1, false)"
    " FROM %I, (SELECT pg_get_serial_sequence(%L, %L)::regclass AS s) q GROUP BY s',"
    " t.column_name, t.table_name, quote_ident(t.table_name), t.column_name);"
    " END LOOP; END$$";

/* Copying one table into the SQLite backup. */
struct copy_ctx {
    sqlite3 *db;
    sqlite3_stmt *ins;
    int ncols;
    bool failed;
};

static int copy_row(void *p, const PGresult *r)
{
    struct copy_ctx *cc = p;
    sqlite3_reset(cc->ins);
    for (int i = 0; i < cc->ncols; i++) {
        int rc;
        if (PQgetisnull(r, 0, i)) {
            rc = sqlite3_bind_null(cc->ins, i + 1);
        } else {
            Oid t = PQftype(r, i);
            const char *v = PQgetvalue(r, 0, i);
            if (t == 16) /* bool: 0/1, as SQLite keeps it */
                rc = sqlite3_bind_int(cc->ins, i + 1, v[0] == 't');
            else if (t == 20 || t == 21 || t == 23) /* int8, int2, int4 */
                rc = sqlite3_bind_int64(cc->ins, i + 1, strtoll(v, NULL, 10));
            else
                rc = sqlite3_bind_text(cc->ins, i + 1, v, PQgetlength(r, 0, i), SQLITE_TRANSIENT);
        }
        if (rc != SQLITE_OK) {
            cc->failed = true;
            return 1;
        }
    }
    if (sqlite3_step(cc->ins) != SQLITE_DONE) {
        log_error("store error", "op", "backup", "error", sqlite3_errmsg(cc->db), NULL);
        cc->failed = true;
        return 1;
    }
    return 0;
}

/* Copies one table, the columns the SQLite schema has, from the snapshot
 * into the file. */
static int copy_table(struct conn *c, sqlite3 *db, const char *table, derr *e)
{
    static const char op[] = "backup";
    buf cols, marks, sql;
    buf_init(&cols, 0);
    buf_init(&marks, 0);
    buf_init(&sql, 0);
    sqlite3_stmt *info = NULL;
    char *q = sqlite3_mprintf("SELECT name FROM pragma_table_info(%Q) ORDER BY cid", table);
    int n = 0;
    if (q && sqlite3_prepare_v2(db, q, -1, &info, NULL) == SQLITE_OK)
        while (sqlite3_step(info) == SQLITE_ROW) {
            const char *col = (const char *)sqlite3_column_text(info, 0);
            buf_printf(&cols, "%s\"%s\"", n ? ", " : "", col);
            buf_printf(&marks, "%s?", n ? ", " : "");
            n++;
        }
    sqlite3_finalize(info);
    sqlite3_free(q);
    int ret = STORE_OK;
    struct copy_ctx cc = {db, NULL, n, false};
    /* settings already holds the rows migrations put there: the copy wins */
    buf_printf(&sql, "INSERT OR REPLACE INTO \"%s\" (%s) VALUES (%s)", table, cols.data ? cols.data : "",
               marks.data ? marks.data : "");
    if (n == 0 || sqlite3_prepare_v2(db, sql.data, -1, &cc.ins, NULL) != SQLITE_OK) {
        log_error("store error", "op", op, "table", table, "error", sqlite3_errmsg(db), NULL);
        ret = derr_set(e, 500, "internal", "the backup failed; see the server log");
    } else {
        buf_reset(&sql);
        buf_printf(&sql, "SELECT %s FROM \"%s\"", cols.data, table);
        bool stopped = false;
        ret = stream(c, sql.data, copy_row, &cc, &stopped, op, e);
        if (ret == STORE_OK && cc.failed)
            ret = derr_set(e, 500, "internal", "the backup failed; see the server log");
    }
    sqlite3_finalize(cc.ins);
    buf_free(&cols);
    buf_free(&marks);
    buf_free(&sql);
    return ret;
}

/* Writes a SQLite database in depot's schema at path (which must not
 * exist) holding one consistent snapshot of every table: a REPEATABLE
 * READ transaction on this side, one transaction on the file's side.
 * Writes go on meanwhile. */
static int pg_backup(store *s, const char *path, derr *e)
{
    static const char op[] = "backup";
    if (access(path, F_OK) == 0)
        return derr_set(e, 409, "conflict", "the backup file exists already");
    store *file = store_sqlite_open(path, e);
    if (!file)
        return STORE_ERROR;
    int applied = 0;
    int ret = store_call(file, migrate, &applied, e);
    file->ops->close(file);
    if (ret != STORE_OK)
        return ret;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        log_error("store error", "op", op, "error", db ? sqlite3_errmsg(db) : "out of memory", NULL);
        sqlite3_close(db);
        return derr_set(e, 500, "internal", "cannot write the backup file");
    }
    struct conn *c = conn_get(s, e);
    if (!c) {
        sqlite3_close(db);
        return STORE_ERROR;
    }
    ret = pg_begin(&c->base, false, op, e);
    if (ret == STORE_OK &&
        sqlite3_exec(db, "PRAGMA foreign_keys = OFF; BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        ret = derr_set(e, 500, "internal", "cannot write the backup file");
    sqlite3_stmt *tables = NULL;
    if (ret == STORE_OK &&
        sqlite3_prepare_v2(db,
                           "SELECT name FROM sqlite_master WHERE type = 'table'"
                           " AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'packages_fts%'"
                           " AND name <> 'schema_migrations' ORDER BY name = 'settings', name",
                           -1, &tables, NULL) != SQLITE_OK)
        ret = derr_set(e, 500, "internal", "cannot write the backup file");
    while (ret == STORE_OK && sqlite3_step(tables) == SQLITE_ROW) {
        char table[128];
        snprintf(table, sizeof table, "%s", (const char *)sqlite3_column_text(tables, 0));
        ret = copy_table(c, db, table, e);
    }
    sqlite3_finalize(tables);
    if (ret == STORE_OK && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        log_error("store error", "op", op, "error", sqlite3_errmsg(db), NULL);
        ret = derr_set(e, 500, "internal", "cannot write the backup file");
    }
    pg_end(&c->base, STORE_ERROR, op, NULL); /* read only: nothing to commit */
    sqlite3_close(db);
    if (ret != STORE_OK)
        unlink(path);
    return ret;
}

/* ---- the driver and the constructor --------------------------------- */

static const struct store_driver pg_driver = {
    STORE_DRIVER(pg, "postgres", SQL_POSTGRES, pg_migrations),
    .migrate_hold = pg_migrate_hold,
    .rows_settle_sql = rows_settle_sql,
};

/* Appends a connection parameter to the arrays being built. */
static void param_add(char ***keys, char ***vals, int *n, const char *k, const char *v)
{
    *keys = xrealloc(*keys, (size_t)(*n + 2) * sizeof **keys);
    *vals = xrealloc(*vals, (size_t)(*n + 2) * sizeof **vals);
    (*keys)[*n] = xstrdup(k);
    (*vals)[*n] = xstrdup(v);
    (*n)++;
    (*keys)[*n] = NULL;
    (*vals)[*n] = NULL;
}

/* The URL's parameters plus depot's defaults, into s->keys and s->vals;
 * the place for the log into s->where. -1 when libpq cannot read the URL. */
static int build_params(pg_store *s, const char *url)
{
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &err);
    if (!opts) {
        char msg[512];
        one_line(msg, sizeof msg, err ? err : "out of memory");
        log_error("store error", "op", "open", "error", msg, NULL);
        PQfreemem(err);
        return -1;
    }
    int n = 0;
    bool have_app = false, have_timeout = false;
    const char *options = NULL, *host = NULL, *port = NULL, *db = NULL;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val)
            continue;
        if (strcmp(o->keyword, "options") == 0) {
            options = o->val;
            continue;
        }
        if (strcmp(o->keyword, "application_name") == 0)
            have_app = true;
        if (strcmp(o->keyword, "connect_timeout") == 0)
            have_timeout = true;
        if (strcmp(o->keyword, "host") == 0 || strcmp(o->keyword, "hostaddr") == 0)
            host = host ? host : o->val;
        if (strcmp(o->keyword, "port") == 0)
            port = o->val;
        if (strcmp(o->keyword, "dbname") == 0)
            db = o->val;
        param_add(&s->keys, &s->vals, &n, o->keyword, o->val);
    }
    if (!have_app)
        param_add(&s->keys, &s->vals, &n, "application_name", "depot");
    if (!have_timeout)
        param_add(&s->keys, &s->vals, &n, "connect_timeout", DEFAULT_CONNECT_TIMEOUT);
    buf o;
    buf_init(&o, 0);
    if (options)
        buf_puts(&o, options);
    if (!options || !strstr(options, "statement_timeout"))
        buf_printf(&o, "%s-c statement_timeout=%s", o.len ? " " : "", DEFAULT_STATEMENT_TIMEOUT);
    if (!options || !strstr(options, "client_min_messages"))
        buf_printf(&o, " -c client_min_messages=warning");
    param_add(&s->keys, &s->vals, &n, "options", o.data);
    buf_free(&o);
    snprintf(s->where, sizeof s->where, "%s:%s/%s", host ? host : "(default host)",
             port ? port : "5432", db ? db : "(default database)");
    PQconninfoFree(opts);
    return 0;
}

store *store_postgres_open(const char *url, derr *e)
{
    if (!url || !*url) {
        derr_set(e, 400, "bad_request", "the PostgreSQL store needs a URL");
        return NULL;
    }
    pg_store *s = xcalloc(1, sizeof *s);
    s->base.base.ops = &store_postgres_ops;
    s->base.drv = &pg_driver;
    if (build_params(s, url) != 0) {
        free_params(s);
        free(s);
        derr_set(e, 400, "bad_request",
                 "the store URL is not a PostgreSQL connection URL (postgres://USER@HOST:PORT/DB)");
        return NULL;
    }
    if (conn_set_init(&s->conns, conn_close) != 0) {
        free_params(s);
        free(s);
        derr_set(e, 500, "internal", "the store failed; see the server log");
        return NULL;
    }
    struct conn *c = conn_get(&s->base.base, e);
    if (!c) {
        pg_close(&s->base.base);
        derr_set(e, 503, "unavailable",
                 "cannot connect to the PostgreSQL store; see the server log");
        return NULL;
    }
    char version[16];
    int v = PQserverVersion(c->pg);
    snprintf(version, sizeof version, "%d.%d", v / 10000, v % 10000);
    log_info("store: PostgreSQL", "at", s->where, "server", version, "tls",
             PQsslInUse(c->pg) ? "on" : "off", NULL);
    return &s->base.base;
}
