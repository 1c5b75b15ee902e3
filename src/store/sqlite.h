/*
 * sqlite.h — the SQLite store backend's constructor and its few extras.
 *
 * Callers outside src/store use store_open() from store.h and never include
 * this; it exists so store.c can reach the backend and so tests can look at
 * what only this backend has (its per-thread connections).
 */
#ifndef DEPOT_STORE_SQLITE_H
#define DEPOT_STORE_SQLITE_H

#include "store.h"

/* Opens (creating when missing, mode 0600) the database file at `path`, whose
 * folder must exist, and opens the calling thread's connection at once so a
 * bad path fails here rather than on the first request. `path` is copied.
 * Returns NULL and fills e on failure. Close with store_call's close op. */
store *store_sqlite_open(const char *path, derr *e);

/* How many connections the store holds open right now: one per thread that
 * has used it and not yet exited. For tests and metrics. */
int store_sqlite_connections(store *s);

#endif
