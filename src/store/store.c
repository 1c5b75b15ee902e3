/*
 * store.c — picks a store backend from a URL.
 *
 * This is the one place that knows which backends exist: "sqlite:PATH" opens
 * the embedded SQLite backend (creating the folder that will hold the file);
 * "postgres://..." and "postgresql://..." open the PostgreSQL one (the URL
 * goes to libpq as it is). Everything else about a backend lives in its own
 * file.
 */
#include "store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../lib/buf.h"
#include "../lib/log.h"
#include "../lib/xalloc.h"
#include "postgres.h"
#include "sqlite.h"

/* Creates every missing folder above the file at `path` (mkdir -p of its
 * dirname), with mode 0700: the data folder holds secrets. Returns 0 or -1
 * with e filled; the path and errno go to the log, not to e. */
static int make_parent_dirs(const char *path, derr *e)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return 0; /* in the working folder, or directly under / */
    char *dir = xstrdup(path);
    dir[slash - path] = '\0';
    int rc = 0;
    for (char *p = dir + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            log_error("cannot create the database folder", "path", dir, "error", strerror(errno),
                      NULL);
            rc = derr_set(e, 500, "internal",
                          "cannot create the folder for the database; see the log");
            break;
        }
        *p = c;
        if (c == '\0')
            break;
    }
    free(dir);
    return rc;
}

store *store_open(const char *url, derr *e)
{
    static const char sqlite_scheme[] = "sqlite:";
    if (!url)
        url = "";
    if (strncmp(url, sqlite_scheme, sizeof sqlite_scheme - 1) == 0) {
        const char *path = url + sizeof sqlite_scheme - 1;
        if (*path == '\0') {
            derr_set(e, 400, "bad_request",
                     "the store URL sqlite: needs a file path (sqlite:PATH)");
            return NULL;
        }
        if (make_parent_dirs(path, e) != 0)
            return NULL;
        return store_sqlite_open(path, e);
    }
    if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0)
        return store_postgres_open(url, e);
    derr_set(e, 400, "bad_request",
             "unsupported store URL (expected sqlite:PATH or postgres://USER@HOST:PORT/DB)");
    return NULL;
}

/* ---- the SQL of copying rows (migrate-store) ---------------------------- */

bool store_rows_names_ok(const store_rows *r)
{
    if (!r->table || !*r->table || strchr(r->table, '"') || r->ncols <= 0 || r->nkey <= 0 ||
        r->nkey > r->ncols || r->ncols > STORE_ROWS_MAX_PARAMS || 2 * r->nkey > STORE_ROWS_MAX_PARAMS)
        return false;
    for (int i = 0; i < r->ncols; i++)
        if (!r->cols[i] || !*r->cols[i] || strchr(r->cols[i], '"'))
            return false;
    return true;
}

/* "c1", "c2", ... for columns [from, to) of r. */
static void rows_cols(buf *b, const store_rows *r, int from, int to)
{
    for (int i = from; i < to; i++)
        buf_printf(b, "%s\"%s\"", i > from ? ", " : "", r->cols[i]);
}

void store_rows_insert_sql(buf *b, const store_rows *r, int nrows, bool replace, char mark)
{
    buf_printf(b, "INSERT INTO \"%s\" (", r->table);
    rows_cols(b, r, 0, r->ncols);
    buf_puts(b, ") VALUES ");
    int p = 1;
    for (int i = 0; i < nrows; i++) {
        buf_puts(b, i ? ", (" : "(");
        for (int j = 0; j < r->ncols; j++)
            buf_printf(b, "%s%c%d", j ? ", " : "", mark, p++);
        buf_puts(b, ")");
    }
    buf_puts(b, " ON CONFLICT (");
    rows_cols(b, r, 0, r->nkey);
    if (replace && r->nkey < r->ncols) {
        buf_puts(b, ") DO UPDATE SET ");
        for (int i = r->nkey; i < r->ncols; i++)
            buf_printf(b, "%s\"%s\" = excluded.\"%s\"", i > r->nkey ? ", " : "", r->cols[i], r->cols[i]);
    } else {
        buf_puts(b, ") DO NOTHING");
    }
}

void store_rows_select_sql(buf *b, const store_rows *r, bool after, bool upto, int limit, char mark)
{
    buf_puts(b, "SELECT ");
    rows_cols(b, r, 0, r->ncols);
    buf_printf(b, " FROM \"%s\" WHERE true", r->table);
    bool bounds[2] = {after, upto};
    int p = 1;
    for (int k = 0; k < 2; k++) {
        if (!bounds[k])
            continue;
        buf_puts(b, " AND (");
        rows_cols(b, r, 0, r->nkey);
        buf_printf(b, ") %s (", k ? "<=" : ">");
        for (int i = 0; i < r->nkey; i++)
            buf_printf(b, "%s%c%d", i ? ", " : "", mark, p++);
        buf_puts(b, ")");
    }
    buf_puts(b, " ORDER BY ");
    rows_cols(b, r, 0, r->nkey);
    buf_printf(b, " LIMIT %d", limit > 0 ? limit : 0);
}
