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
