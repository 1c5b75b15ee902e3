/*
 * migrate.c — moving a registry onto other backends, from the console:
 *   depot migrate-store --from sqlite:PATH --to URL [--batch N]
 *   depot migrate-blobs --from URL --to URL [--store URL | --data DIR]
 *
 * migrate-store copies every row of a SQLite file in depot's schema (a
 * SQLite store, or the depot.db of a backup, which is how a PostgreSQL store
 * moves too) into any store, usually PostgreSQL. The source is opened read
 * only and read in one transaction, so the copy is one consistent snapshot
 * even if a server still writes to it. The target's migrations run first;
 * tables go in the order their foreign keys need, in batches of one
 * transaction each, through the store's rows_put (a row whose key is there
 * already is skipped), and every batch is read back and compared column by
 * column, so running the command again after an interruption resumes where
 * it stopped and a target holding other data under a key is refused, never
 * overwritten. Afterwards: identity sequences move past the copied ids, every
 * package's generation and the settings counters (revocation epoch,
 * per-ecosystem generations) move past both sides' values, so no server keeps
 * a cached document or credential check from before; and every table is
 * verified once more, its row count and a SHA-256 over its keys in order on
 * both sides.
 *
 * migrate-blobs copies every blob the store references (versions, docs
 * archives, docs files: each_blob_ref) from one blob store to another,
 * through the blob interface: it hashes the bytes it reads from the source,
 * and re-reads every blob from the target to hash it again, including those
 * found already there (a resumed run trusts nothing it did not check).
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../blob/blob.h"
#include "../core/config.h"
#include "../lib/arena.h"
#include "../lib/crypto.h"
#include "../lib/log.h"
#include "../store/migrations.h"
#include "../store/store.h"
#include "cli.h"

#define DEFAULT_BATCH 500
#define MAX_BATCH 10000
#define MAX_TABLES 64
#define MAX_COLS 64
/* Rows of the target read per page by the final verification. */
#define VERIFY_PAGE 5000

/* ---- migrate-store -------------------------------------------------------- */

/* A table of the source, with its columns reordered key first. */
struct table {
    char name[64];
    const char *cols[MAX_COLS];
    bool numeric[MAX_COLS]; /* INTEGER column: keys compare by value */
    bool ignore[MAX_COLS];  /* not compared (a counter the copy moves on) */
    int ncols, nkey;
    char deps[8][64];       /* tables its foreign keys name */
    int ndeps;
    bool done;
};

struct mig {
    sqlite3 *src;
    store *dst;
    int batch;
    struct table t[MAX_TABLES];
    int nt;
    arena *names; /* column names, for the whole run */
    long long rows, inserted;
};

/* Rows of the settings table that are counters rather than data: the copy
 * sets them past both sides' values instead of comparing them. */
static bool counter_row(const struct table *t, const char *const *row)
{
    return strcmp(t->name, "settings") == 0 &&
           (strcmp(row[0], "auth_epoch") == 0 || strncmp(row[0], "eco_gen:", 8) == 0);
}

static void report_sqlite(const struct mig *m, const char *what)
{
    fprintf(stderr, "depot migrate-store: %s: %s\n", what, sqlite3_errmsg(m->src));
}

/* Reads the source's tables (all but SQLite's own, the full-text index and
 * schema_migrations), their columns and primary keys and foreign keys. */
static int load_tables(struct mig *m)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(m->src,
                           "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                           " AND name NOT LIKE 'packages_fts%' AND name <> 'schema_migrations' ORDER BY name",
                           -1, &st, NULL) != SQLITE_OK) {
        report_sqlite(m, "reading the source's tables");
        return -1;
    }
    int rc = 0;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        if (m->nt == MAX_TABLES || strlen(name) >= sizeof m->t[0].name) {
            fprintf(stderr, "depot migrate-store: the source has more tables than depot knows\n");
            rc = -1;
            break;
        }
        struct table *t = &m->t[m->nt++];
        memset(t, 0, sizeof *t);
        snprintf(t->name, sizeof t->name, "%s", name);
    }
    sqlite3_finalize(st);
    for (int i = 0; rc == 0 && i < m->nt; i++) {
        struct table *t = &m->t[i];
        /* pk: 0 for other columns, else the column's place in the key */
        const char *cols[MAX_COLS];
        int pk[MAX_COLS], n = 0, nkey = 0;
        bool num[MAX_COLS];
        if (sqlite3_prepare_v2(m->src, "SELECT name, upper(type), pk FROM pragma_table_info(?1) ORDER BY cid", -1,
                               &st, NULL) != SQLITE_OK) {
            report_sqlite(m, "reading the source's columns");
            return -1;
        }
        sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW && n < MAX_COLS) {
            cols[n] = arena_strdup(m->names, (const char *)sqlite3_column_text(st, 0));
            const char *type = (const char *)sqlite3_column_text(st, 1);
            num[n] = type && strstr(type, "INT");
            pk[n] = sqlite3_column_int(st, 2);
            nkey += pk[n] > 0;
            n++;
        }
        sqlite3_finalize(st);
        if (nkey == 0) {
            fprintf(stderr, "depot migrate-store: table %s has no primary key; it cannot be copied\n", t->name);
            return -1;
        }
        for (int k = 1; k <= nkey; k++)
            for (int j = 0; j < n; j++)
                if (pk[j] == k) {
                    t->cols[t->ncols] = cols[j];
                    t->numeric[t->ncols++] = num[j];
                }
        for (int j = 0; j < n; j++)
            if (pk[j] == 0) {
                /* Every copy bumps the generations; they are the target's own from then on. */
                t->ignore[t->ncols] = strcmp(t->name, "packages") == 0 && strcmp(cols[j], "generation") == 0;
                t->cols[t->ncols] = cols[j];
                t->numeric[t->ncols++] = num[j];
            }
        t->nkey = nkey;
        if (sqlite3_prepare_v2(m->src, "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?1)", -1, &st,
                               NULL) != SQLITE_OK) {
            report_sqlite(m, "reading the source's foreign keys");
            return -1;
        }
        sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW && t->ndeps < 8)
            snprintf(t->deps[t->ndeps++], sizeof t->deps[0], "%s", (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    }
    return rc;
}

/* The next table whose parents are all copied (NULL when none is left). */
static struct table *next_table(struct mig *m)
{
    for (int i = 0; i < m->nt; i++) {
        struct table *t = &m->t[i];
        if (t->done)
            continue;
        bool ready = true;
        for (int d = 0; d < t->ndeps && ready; d++)
            for (int j = 0; j < m->nt; j++)
                if (j != i && !m->t[j].done && strcmp(m->t[j].name, t->deps[d]) == 0)
                    ready = false;
        if (ready)
            return t;
    }
    return NULL;
}

/* Orders two rows' keys as both stores do: integers by value, text bytewise. */
static int key_cmp(const struct table *t, const char *const *a, const char *const *b)
{
    for (int i = 0; i < t->nkey; i++) {
        int c;
        if (t->numeric[i]) {
            long long x = strtoll(a[i], NULL, 10), y = strtoll(b[i], NULL, 10);
            c = (x > y) - (x < y);
        } else {
            c = strcmp(a[i], b[i]);
        }
        if (c)
            return c;
    }
    return 0;
}

static bool same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* "id=3" or "package_id=1, tag=latest", for messages (keys hold no secrets:
 * token hashes are not keys). */
static const char *key_text(arena *a, const struct table *t, const char *const *row)
{
    const char *s = "";
    for (int i = 0; i < t->nkey; i++)
        s = arena_printf(a, "%s%s%s=%s", s, i ? ", " : "", t->cols[i], row[i]);
    return s;
}

/* Compares a batch of the source with the target's rows in the same key
 * range; 0 when the target holds exactly those rows with the same values. */
static int compare_batch(const struct table *t, arena *a, const char **src, int n, const store_rows *dst)
{
    int i = 0, j = 0, nc = t->ncols;
    while (i < n || j < dst->nrows) {
        const char *const *s = i < n ? src + (size_t)i * (size_t)nc : NULL;
        const char *const *d = j < dst->nrows ? dst->vals + (size_t)j * (size_t)nc : NULL;
        int c = !s ? 1 : !d ? -1 : key_cmp(t, s, d);
        if (c > 0) {
            fprintf(stderr,
                    "depot migrate-store: the target's %s has a row the source lacks (%s); it was not made by"
                    " this copy: migrate into an empty database\n",
                    t->name, key_text(a, t, d));
            return -1;
        }
        if (c < 0) {
            fprintf(stderr,
                    "depot migrate-store: the source's %s row %s is not in the target after the copy: another"
                    " row there holds one of its unique values; migrate into an empty database\n",
                    t->name, key_text(a, t, s));
            return -1;
        }
        if (!counter_row(t, s))
            for (int k = t->nkey; k < nc; k++)
                if (!t->ignore[k] && !same(s[k], d[k])) {
                    fprintf(stderr,
                            "depot migrate-store: the target holds other data for %s %s (column %s differs);"
                            " nothing was overwritten: migrate into an empty database, or remove that row"
                            " from the target\n",
                            t->name, key_text(a, t, s), t->cols[k]);
                    return -1;
                }
        i++;
        j++;
    }
    return 0;
}

static int count_rows(struct mig *m, const struct table *t, long long *n)
{
    sqlite3_stmt *st = NULL;
    char *sql = sqlite3_mprintf("SELECT count(*) FROM \"%w\"", t->name);
    int ok = sql && sqlite3_prepare_v2(m->src, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW;
    if (ok)
        *n = sqlite3_column_int64(st, 0);
    else
        report_sqlite(m, "counting rows");
    sqlite3_finalize(st);
    sqlite3_free(sql);
    return ok ? 0 : -1;
}

/* "SELECT cols FROM t ORDER BY key" on the source (only the key with key_only). */
static sqlite3_stmt *select_rows(struct mig *m, const struct table *t, bool key_only)
{
    char *sql = sqlite3_mprintf("SELECT ");
    int n = key_only ? t->nkey : t->ncols;
    for (int i = 0; sql && i < n; i++)
        sql = sqlite3_mprintf("%z%s\"%w\"", sql, i ? ", " : "", t->cols[i]);
    if (sql)
        sql = sqlite3_mprintf("%z FROM \"%w\" ORDER BY ", sql, t->name);
    for (int i = 0; sql && i < t->nkey; i++)
        sql = sqlite3_mprintf("%z%s\"%w\"", sql, i ? ", " : "", t->cols[i]);
    sqlite3_stmt *st = NULL;
    if (!sql || sqlite3_prepare_v2(m->src, sql, -1, &st, NULL) != SQLITE_OK) {
        report_sqlite(m, "reading the source");
        sqlite3_finalize(st);
        st = NULL;
    }
    sqlite3_free(sql);
    return st;
}

static const char *col_value(arena *a, sqlite3_stmt *st, int i)
{
    const unsigned char *p = sqlite3_column_text(st, i);
    return p ? arena_strndup(a, (const char *)p, (size_t)sqlite3_column_bytes(st, i)) : NULL;
}

/* Copies one table batch by batch; each batch is read back and compared. */
static int copy_table(struct mig *m, struct table *t)
{
    long long total = 0, done = 0, fresh = 0;
    if (count_rows(m, t, &total) < 0)
        return -1;
    sqlite3_stmt *st = select_rows(m, t, false);
    if (!st)
        return -1;
    arena *a = arena_new(0);
    const char **prev = NULL; /* the last key of the batch before, in the previous arena */
    arena *prev_arena = NULL;
    int rc = 0, step = SQLITE_ROW;
    fprintf(stderr, "migrate-store: %s: 0/%lld rows\n", t->name, total);
    while (rc == 0 && step == SQLITE_ROW) {
        const char **vals = arena_alloc(a, (size_t)m->batch * (size_t)t->ncols * sizeof *vals);
        int n = 0;
        while (n < m->batch && (step = sqlite3_step(st)) == SQLITE_ROW) {
            for (int k = 0; k < t->ncols; k++)
                vals[(size_t)n * (size_t)t->ncols + (size_t)k] = col_value(a, st, k);
            n++;
        }
        if (step != SQLITE_ROW && step != SQLITE_DONE) {
            report_sqlite(m, "reading the source");
            rc = -1;
            break;
        }
        if (n == 0)
            break;
        /* Counter rows are not copied here; the target keeps its own and they are set at the end. */
        const char **put = arena_alloc(a, (size_t)n * (size_t)t->ncols * sizeof *put);
        int nput = 0;
        for (int i = 0; i < n; i++) {
            const char **row = vals + (size_t)i * (size_t)t->ncols;
            if (!counter_row(t, row))
                memcpy(put + (size_t)nput++ * (size_t)t->ncols, row, (size_t)t->ncols * sizeof *row);
        }
        derr e;
        int ins = 0;
        store_rows r = {t->name, t->cols, t->ncols, t->nkey, put, nput};
        if (nput && store_call(m->dst, rows_put, &r, false, &ins, &e) != STORE_OK) {
            fprintf(stderr, "depot migrate-store: writing %s: %s\n", t->name, e.message);
            rc = -1;
            break;
        }
        const char **last = vals + (size_t)(n - 1) * (size_t)t->ncols;
        store_rows back = {t->name, t->cols, t->ncols, t->nkey, NULL, 0};
        if (store_call(m->dst, rows_get, a, &back, prev, last, 2 * n + 1, &e) != STORE_OK) {
            fprintf(stderr, "depot migrate-store: reading %s back: %s\n", t->name, e.message);
            rc = -1;
            break;
        }
        /* A counter row may be missing from the target or differ; it is set at the end. */
        store_rows cmp_back = back;
        const char **keep = arena_alloc(a, ((size_t)back.nrows + 1) * (size_t)t->ncols * sizeof *keep);
        cmp_back.vals = keep;
        cmp_back.nrows = 0;
        for (int i = 0; i < back.nrows; i++) {
            const char **row = back.vals + (size_t)i * (size_t)t->ncols;
            if (!counter_row(t, row))
                memcpy(keep + (size_t)cmp_back.nrows++ * (size_t)t->ncols, row, (size_t)t->ncols * sizeof *row);
        }
        if (compare_batch(t, a, put, nput, &cmp_back) < 0) {
            rc = -1;
            break;
        }
        done += n;
        fresh += ins;
        fprintf(stderr, "migrate-store: %s: %lld/%lld rows (%lld new)\n", t->name, done, total, fresh);
        arena_free(prev_arena);
        prev_arena = a;
        prev = last;
        a = arena_new(0);
    }
    sqlite3_finalize(st);
    arena_free(a);
    arena_free(prev_arena);
    m->rows += done;
    m->inserted += fresh;
    return rc;
}

/* Sets every counter row of settings to one more than the larger of the two sides' values. */
static int move_counters(struct mig *m, struct table *t)
{
    arena *a = arena_new(0);
    derr e;
    store_rows dst = {t->name, t->cols, t->ncols, t->nkey, NULL, 0};
    int rc = 0;
    if (store_call(m->dst, rows_get, a, &dst, NULL, NULL, 1000000, &e) != STORE_OK) {
        fprintf(stderr, "depot migrate-store: reading the target's %s: %s\n", t->name, e.message);
        arena_free(a);
        return -1;
    }
    int value = -1;
    for (int k = 0; k < t->ncols; k++)
        if (strcmp(t->cols[k], "value") == 0)
            value = k;
    sqlite3_stmt *st = select_rows(m, t, false);
    if (!st || value < 0) {
        sqlite3_finalize(st);
        arena_free(a);
        return -1;
    }
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        const char **row = arena_alloc(a, (size_t)t->ncols * sizeof *row);
        for (int k = 0; k < t->ncols; k++)
            row[k] = col_value(a, st, k);
        if (!counter_row(t, row))
            continue;
        long long v = row[value] ? strtoll(row[value], NULL, 10) : 0;
        for (int i = 0; i < dst.nrows; i++) {
            const char **d = dst.vals + (size_t)i * (size_t)t->ncols;
            if (key_cmp(t, row, d) == 0 && d[value] && strtoll(d[value], NULL, 10) > v)
                v = strtoll(d[value], NULL, 10);
        }
        row[value] = arena_printf(a, "%lld", v + 1);
        store_rows r = {t->name, t->cols, t->ncols, t->nkey, row, 1};
        int ins;
        if (store_call(m->dst, rows_put, &r, true, &ins, &e) != STORE_OK) {
            fprintf(stderr, "depot migrate-store: setting %s %s: %s\n", t->name, row[0], e.message);
            rc = -1;
        }
    }
    sqlite3_finalize(st);
    arena_free(a);
    return rc;
}

/* Adds one key to a running hash: its values with separators no text of ours holds. */
static void hash_key(sha256_ctx *h, const struct table *t, const char *const *row)
{
    for (int i = 0; i < t->nkey; i++) {
        sha256_update(h, row[i] ? row[i] : "", row[i] ? strlen(row[i]) : 0);
        sha256_update(h, i + 1 < t->nkey ? "\x1f" : "\x1e", 1);
    }
}

/* The final check of one table: the number of rows and a SHA-256 over the keys in key order are
 * the same on both sides (counter rows left out). */
static int verify_table(struct mig *m, const struct table *t, long long *nrows)
{
    sha256_ctx hs, hd;
    sha256_init(&hs);
    sha256_init(&hd);
    long long ns = 0, nd = 0;
    sqlite3_stmt *st = select_rows(m, t, true);
    if (!st)
        return -1;
    const char *row[MAX_COLS];
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int i = 0; i < t->nkey; i++)
            row[i] = (const char *)sqlite3_column_text(st, i);
        if (counter_row(t, row))
            continue;
        hash_key(&hs, t, row);
        ns++;
    }
    sqlite3_finalize(st);
    arena *a = arena_new(0), *prev_a = NULL;
    const char **after = NULL;
    for (;;) {
        derr e;
        store_rows r = {t->name, t->cols, t->nkey, t->nkey, NULL, 0};
        if (store_call(m->dst, rows_get, a, &r, after, NULL, VERIFY_PAGE, &e) != STORE_OK) {
            fprintf(stderr, "depot migrate-store: verifying %s: %s\n", t->name, e.message);
            arena_free(a);
            arena_free(prev_a);
            return -1;
        }
        for (int i = 0; i < r.nrows; i++) {
            const char *const *d = r.vals + (size_t)i * (size_t)t->nkey;
            if (counter_row(t, d))
                continue;
            hash_key(&hd, t, d);
            nd++;
        }
        if (r.nrows < VERIFY_PAGE)
            break;
        after = r.vals + (size_t)(r.nrows - 1) * (size_t)t->nkey;
        arena_free(prev_a);
        prev_a = a;
        a = arena_new(0);
    }
    arena_free(a);
    arena_free(prev_a);
    unsigned char ds[32], dd[32];
    sha256_final(&hs, ds);
    sha256_final(&hd, dd);
    *nrows = ns;
    if (ns != nd) {
        fprintf(stderr, "depot migrate-store: VERIFY FAILED: %s has %lld rows in the source, %lld in the target\n",
                t->name, ns, nd);
        return -1;
    }
    if (memcmp(ds, dd, sizeof ds) != 0) {
        fprintf(stderr, "depot migrate-store: VERIFY FAILED: %s holds other keys in the target\n", t->name);
        return -1;
    }
    return 0;
}

/* The source's schema must be this depot's: every migration applied, none unknown. */
static int check_schema(struct mig *m)
{
    sqlite3_stmt *st = NULL;
    int have = -1, top = -1;
    if (sqlite3_prepare_v2(m->src, "SELECT count(*), max(version) FROM schema_migrations", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        have = sqlite3_column_int(st, 0);
        top = sqlite3_column_int(st, 1);
    }
    sqlite3_finalize(st);
    int want = migrations_count ? migrations[migrations_count - 1].version : 0;
    if (have < 0) {
        fprintf(stderr, "depot migrate-store: the source is not a depot store (no schema_migrations table)\n");
        return -1;
    }
    if (top > want) {
        fprintf(stderr, "depot migrate-store: the source's schema (version %d) is newer than this depot's (%d);"
                        " use the depot that wrote it\n", top, want);
        return -1;
    }
    if (have != migrations_count || top != want) {
        fprintf(stderr,
                "depot migrate-store: the source's schema is at version %d, this depot's at %d: bring it up first"
                " with `depot migrate --store sqlite:PATH` (with its server stopped)\n",
                top, want);
        return -1;
    }
    return 0;
}

static void store_usage(FILE *out)
{
    fprintf(out,
            "usage: depot migrate-store --from sqlite:PATH --to URL [--batch N]\n\n"
            "Copies every row of a SQLite store (a data folder's depot.db, or the depot.db of a backup)\n"
            "into the store at URL, usually postgres://USER@HOST:PORT/DB, empty or partly filled by an\n"
            "earlier run of this command. Blobs are not copied: see `depot migrate-blobs`.\n\n"
            "  --from sqlite:PATH  the source, opened read only and read as one snapshot; never changed\n"
            "  --to URL            the target store (its migrations are applied first)\n"
            "  --batch N           rows per transaction (default %d, at most %d)\n\n"
            "Tables are copied in foreign-key order, each batch in one transaction, read back and compared;\n"
            "rows already in the target are skipped, so after an interruption run the same command again.\n"
            "A target holding other data under a key is refused (nothing is overwritten). Afterwards the\n"
            "target's id sequences, package generations and counters move on (no server keeps a cached\n"
            "document), and every table's row count and key checksum are compared. Progress goes to\n"
            "stderr. Exit status: 0 copied and verified, 1 refused or failed (the message says why).\n\n"
            "Stop the servers first (or keep them read only): rows written to the source after the copy\n"
            "started are not copied. See docs/migrating.md.\n",
            DEFAULT_BATCH, MAX_BATCH);
}

/* Parses "--opt VALUE" or "--opt=VALUE" at argv[*i]; NULL when argv[*i] is not opt. */
static const char *opt_value(int argc, char **argv, int *i, const char *opt, bool *missing)
{
    size_t n = strlen(opt);
    if (strncmp(argv[*i], opt, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = true;
        return NULL;
    }
    return argv[++*i];
}

/* --from, --to and, when batch is not NULL, --batch in argv[start..argc).
 * 0 to go on; -1 when --help or -h came first (the caller prints its usage);
 * 2 on an unexpected argument or a missing value (said on stderr). */
static int from_to_args(const char *cmd, int argc, char **argv, int start, const char **from, const char **to,
                        const char **batch)
{
    for (int i = start; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return -1;
        bool missing = false;
        const char *v;
        if ((v = opt_value(argc, argv, &i, "--from", &missing)))
            *from = v;
        else if ((v = opt_value(argc, argv, &i, "--to", &missing)))
            *to = v;
        else if (batch && (v = opt_value(argc, argv, &i, "--batch", &missing)))
            *batch = v;
        else {
            fprintf(stderr, "depot %s: %s '%s' (see --help)\n", cmd,
                    missing ? "a value is needed after" : "unexpected", argv[i]);
            return 2;
        }
    }
    return 0;
}

/* The source: a SQLite file other than the target, opened read only in one
 * read transaction, so every table comes from the same snapshot. 0, or the exit status. */
static int open_source(struct mig *m, const char *from, const char *to)
{
    if (strncmp(from, "sqlite:", 7) != 0 || !from[7]) {
        fprintf(stderr, "depot migrate-store: --from: expected sqlite:PATH (to move a PostgreSQL store, take a"
                        " `depot backup` and migrate its depot.db)\n");
        return 2;
    }
    const char *path = from + 7;
    struct stat sst, dst_st;
    if (stat(path, &sst) != 0) {
        fprintf(stderr, "depot migrate-store: %s: %s\n", path, strerror(errno));
        return 1;
    }
    if (strncmp(to, "sqlite:", 7) == 0 && stat(to + 7, &dst_st) == 0 && dst_st.st_dev == sst.st_dev &&
        dst_st.st_ino == sst.st_ino) {
        fprintf(stderr, "depot migrate-store: --from and --to are the same file\n");
        return 2;
    }
    log_set_level("warn");
    if (sqlite3_open_v2(path, &m->src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "depot migrate-store: cannot open %s: %s\n", path,
                m->src ? sqlite3_errmsg(m->src) : "out of memory");
        sqlite3_close(m->src);
        return 1;
    }
    sqlite3_busy_timeout(m->src, 5000);
    if (sqlite3_exec(m->src, "BEGIN; SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) != SQLITE_OK) {
        report_sqlite(m, "reading the source");
        sqlite3_close(m->src);
        return 1;
    }
    return 0;
}

/* The target store, migrated to the current schema, able to take rows. */
static int open_target(struct mig *m, const char *to)
{
    derr e;
    m->dst = store_open(to, &e);
    int applied = 0;
    if (!m->dst || store_call(m->dst, migrate, &applied, &e) != STORE_OK) {
        fprintf(stderr, "depot migrate-store: the target: %s\n", e.message);
        return -1;
    }
    if (!m->dst->ops->rows_put || !m->dst->ops->rows_get || !m->dst->ops->rows_settle) {
        fprintf(stderr, "depot migrate-store: the %s store cannot be copied into\n", m->dst->ops->name);
        return -1;
    }
    fprintf(stderr, "migrate-store: the target's schema is ready (%d migrations applied now)\n", applied);
    return 0;
}

/* Every table, parents before children (foreign keys), then the target settled and its counters moved on. */
static int copy_all(struct mig *m)
{
    struct table *t;
    while ((t = next_table(m)) != NULL) {
        if (copy_table(m, t) < 0)
            return -1;
        t->done = true;
    }
    for (int i = 0; i < m->nt; i++)
        if (!m->t[i].done) {
            fprintf(stderr, "depot migrate-store: the foreign keys of %s form a cycle\n", m->t[i].name);
            return -1;
        }
    derr e;
    if (store_call(m->dst, rows_settle, &e) != STORE_OK ||
        store_call(m->dst, bump_generations, &e) != STORE_OK) {
        fprintf(stderr, "depot migrate-store: finishing the target: %s\n", e.message);
        return -1;
    }
    for (int i = 0; i < m->nt; i++)
        if (strcmp(m->t[i].name, "settings") == 0 && move_counters(m, &m->t[i]) < 0)
            return -1;
    return 0;
}

/* Row counts and key checksums of every table, source against target. */
static int verify_all(struct mig *m)
{
    fprintf(stderr, "migrate-store: verifying\n");
    int bad = 0;
    for (int i = 0; i < m->nt; i++) {
        long long n = 0;
        if (verify_table(m, &m->t[i], &n) < 0)
            bad++;
        else
            printf("ok   %-20s %lld rows\n", m->t[i].name, n);
    }
    if (bad) {
        fprintf(stderr, "depot migrate-store: %d tables differ between the source and the target\n", bad);
        return -1;
    }
    printf("migrate-store: %d tables, %lld rows (%lld copied now, %lld there already); counts and key"
           " checksums equal\n",
           m->nt, m->rows, m->inserted, m->rows - m->inserted);
    return 0;
}

static int migrate_store(int argc, char **argv)
{
    const char *from = NULL, *to = NULL, *batch = NULL;
    int rc = from_to_args("migrate-store", argc, argv, 1, &from, &to, &batch);
    if (rc < 0) {
        store_usage(stdout);
        return 0;
    }
    if (rc)
        return rc;
    if (!from || !to) {
        store_usage(stderr);
        return 2;
    }
    struct mig m = {.batch = DEFAULT_BATCH};
    if (batch) {
        char *end;
        errno = 0;
        long b = strtol(batch, &end, 10);
        if (errno || *end || b < 1 || b > MAX_BATCH) {
            fprintf(stderr, "depot migrate-store: --batch: expected 1 to %d\n", MAX_BATCH);
            return 2;
        }
        m.batch = (int)b;
    }
    if ((rc = open_source(&m, from, to)) != 0)
        return rc;
    m.names = arena_new(0);
    rc = check_schema(&m) < 0 || load_tables(&m) < 0 || open_target(&m, to) < 0 || copy_all(&m) < 0 ||
                 verify_all(&m) < 0
             ? 1
             : 0;
    sqlite3_exec(m.src, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(m.src);
    if (m.dst)
        m.dst->ops->close(m.dst);
    arena_free(m.names);
    return rc;
}

/* ---- migrate-blobs -------------------------------------------------------- */

struct ref {
    const char *sha, *what;
    int64_t size;
};

struct refs {
    arena *a;
    struct ref *v;
    size_t n, cap;
};

static int collect_ref(void *ctx, const char *kind, const char *sha, int64_t size, const char *what)
{
    struct refs *r = ctx;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 1024;
        struct ref *nv = arena_alloc(r->a, r->cap * sizeof *nv);
        if (r->v)
            memcpy(nv, r->v, r->n * sizeof *nv);
        r->v = nv;
    }
    r->v[r->n++] = (struct ref){arena_strdup(r->a, sha), arena_printf(r->a, "%s %s", kind, what), size};
    return 0;
}

static int ref_cmp(const void *x, const void *y)
{
    return strcmp(((const struct ref *)x)->sha, ((const struct ref *)y)->sha);
}

static double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void blobs_usage(FILE *out)
{
    fprintf(out,
            "usage: depot migrate-blobs --from URL --to URL [--store URL | --data DIR]\n\n"
            "Copies every blob the store references (package tarballs, docs archives and docs files) from\n"
            "one blob store to another. URLs as for --blobs: file:DIR or s3://BUCKET[/PREFIX]?endpoint=...\n\n"
            "  --from URL    the blob store to read (never changed)\n"
            "  --to URL      the blob store to write\n"
            "  --store URL   the store whose references are copied (default: the data folder's, as for\n"
            "                `serve`); the source's or, after migrate-store, the target's\n\n"
            "The list comes from the store, not from walking the source: any blob store works on either\n"
            "side, and blobs nothing references (an upload that never became a version, a replaced\n"
            "version's tarball) stay behind, as do pub uploads not yet finished. Every blob is hashed as it\n"
            "is read from the source and read back from the target and hashed again after writing; blobs\n"
            "already in the target are read back and hashed too, then skipped, so a run that was\n"
            "interrupted resumes by running it again. Progress (blobs and bytes) goes to stderr.\n"
            "Exit status: 0 all copied and verified; 1 with the list of blobs that failed.\n");
}

/* One entry per blob (a docs file may be shared by many versions), sorted; the bytes of them all. */
static size_t unique_refs(struct refs *refs, uint64_t *total_bytes)
{
    if (refs->n)
        qsort(refs->v, refs->n, sizeof *refs->v, ref_cmp);
    size_t n = 0;
    *total_bytes = 0;
    for (size_t i = 0; i < refs->n; i++)
        if (n == 0 || strcmp(refs->v[n - 1].sha, refs->v[i].sha) != 0) {
            refs->v[n++] = refs->v[i];
            *total_bytes += refs->v[i].size > 0 ? (uint64_t)refs->v[i].size : 0;
        }
    return n;
}

enum copy_result { COPY_FAILED = -1, COPY_DONE = 0, COPY_THERE = 1 };

/* One blob into dst, unless it is there already; either way read back and
 * hashed. *got: the bytes read; why (on COPY_FAILED): what went wrong. */
static enum copy_result copy_blob(blob_store *src, blob_store *dst, const char *sha, uint64_t *got, char *why,
                                  size_t whylen)
{
    derr e;
    char w2[256];
    int there = blob_call(dst, exists, sha, &e);
    if (there < 0) {
        snprintf(why, whylen, "the target: %s", e.message);
        return COPY_FAILED;
    }
    if (there == 1) {
        if (blob_verify(dst, sha, -1, got, w2, sizeof w2) == 0)
            return COPY_THERE;
        snprintf(why, whylen, "already in the target with wrong content (%s); left as it is", w2);
        return COPY_FAILED;
    }
    if (blob_copy_to(src, dst, sha, got, why, whylen) < 0)
        return COPY_FAILED;
    if (blob_verify(dst, sha, (int64_t)*got, NULL, w2, sizeof w2) < 0) {
        snprintf(why, whylen, "read back from the target: %s", w2);
        return COPY_FAILED;
    }
    return COPY_DONE;
}

/* Copies the n unique blobs of refs with progress on stderr, then lists the
 * failures and the summary on stdout; the exit status. */
static int copy_blobs(blob_store *src, blob_store *dst, struct refs *refs, size_t n, uint64_t total_bytes)
{
    size_t count[2] = {0, 0}, failed = 0; /* COPY_DONE, COPY_THERE */
    uint64_t bytes_done = 0;
    const char **fail_lines = arena_alloc(refs->a, (n + 1) * sizeof *fail_lines);
    double last = 0;
    fprintf(stderr, "migrate-blobs: 0/%zu blobs, 0/%.1f MiB\n", n, (double)total_bytes / 1048576.0);
    for (size_t i = 0; i < n; i++) {
        const struct ref *r = &refs->v[i];
        char why[512];
        uint64_t got = 0;
        enum copy_result res = copy_blob(src, dst, r->sha, &got, why, sizeof why);
        bytes_done += got;
        if (res == COPY_FAILED) {
            fail_lines[failed++] = arena_printf(refs->a, "FAILED %s (%s): %s", r->sha, r->what, why);
            fprintf(stderr, "migrate-blobs: %s\n", fail_lines[failed - 1]);
        } else {
            count[res]++;
        }
        double t = now_mono();
        if (t - last >= 0.5 || i + 1 == n) {
            last = t;
            fprintf(stderr, "migrate-blobs: %zu/%zu blobs, %.1f/%.1f MiB (%zu copied, %zu there already, %zu failed)\n",
                    i + 1, n, (double)bytes_done / 1048576.0, (double)total_bytes / 1048576.0, count[COPY_DONE],
                    count[COPY_THERE], failed);
        }
    }
    for (size_t i = 0; i < failed; i++)
        printf("%s\n", fail_lines[i]);
    printf("migrate-blobs: %zu blobs: %zu copied, %zu there already, %zu failed; every blob read back from the"
           " target and its SHA-256 checked\n",
           n, count[COPY_DONE], count[COPY_THERE], failed);
    return failed ? 1 : 0;
}

/* The configuration (for the store's URL) and --from/--to; 0, or the exit status. */
static int blobs_args(int argc, char **argv, config *cfg, const char **from, const char **to)
{
    derr e;
    char **rest = calloc((size_t)argc + 1, sizeof(char *));
    int nrest = 0;
    if (config_load(cfg, argc, argv, rest, &nrest, stdout, &e) != 0) {
        fprintf(stderr, "depot migrate-blobs: %s\n", e.message);
        free(rest);
        return 2;
    }
    /* --help was looked for in all of argv already: rest cannot hold it. */
    int rc = from_to_args("migrate-blobs", nrest, rest, 0, from, to, NULL);
    free(rest);
    if (rc == 0 && (!*from || !*to)) {
        blobs_usage(stderr);
        rc = 2;
    }
    return rc;
}

static int migrate_blobs(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            blobs_usage(stdout);
            return 0;
        }
    config cfg;
    const char *from = NULL, *to = NULL;
    int rc = blobs_args(argc, argv, &cfg, &from, &to);
    if (rc) {
        config_free(&cfg);
        return rc;
    }
    log_set_level("warn");
    derr e;
    blob_store *src = blob_open(from, &e);
    blob_store *dst = src ? blob_open(to, &e) : NULL;
    store *st = dst ? store_open(cfg.store_url, &e) : NULL;
    struct refs refs = {arena_new(0), NULL, 0, 0};
    if (!st || store_call(st, each_blob_ref, collect_ref, &refs, &e) != STORE_OK) {
        fprintf(stderr, "depot migrate-blobs: %s\n", e.message);
        rc = 1;
    } else {
        uint64_t total_bytes;
        size_t n = unique_refs(&refs, &total_bytes);
        rc = copy_blobs(src, dst, &refs, n, total_bytes);
    }
    if (st)
        st->ops->close(st);
    if (src)
        src->ops->close(src);
    if (dst)
        dst->ops->close(dst);
    arena_free(refs.a);
    config_free(&cfg);
    return rc;
}

int cli_migrate(int argc, char **argv)
{
    if (strcmp(argv[0], "migrate-store") == 0)
        return migrate_store(argc, argv);
    return migrate_blobs(argc, argv);
}
