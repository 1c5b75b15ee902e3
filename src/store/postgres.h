/*
 * postgres.h — the PostgreSQL store backend's constructor and its few extras.
 *
 * Callers outside src/store use store_open() from store.h with a
 * "postgres://..." or "postgresql://..." URL and never include this; it
 * exists so store.c can reach the backend and tests can look at what only
 * this backend has (its per-thread connections).
 */
#ifndef DEPOT_STORE_POSTGRES_H
#define DEPOT_STORE_POSTGRES_H

#include "store.h"

/* Opens a store on the PostgreSQL database the URL names (libpq's URI form:
 * postgres://user:password@host:port/dbname?sslmode=verify-full&...; every
 * libpq parameter, TLS included, passes through). Unless the URL's
 * `options` set them, each connection gets statement_timeout=10s and
 * application_name=depot, and connecting gives up after 5 s. The calling
 * thread's connection is opened at once, so a wrong URL or an unreachable
 * server fails here. `url` is not kept. Returns NULL and fills e on failure
 * (the log says why; e never holds the URL, which may carry a password).
 * Close with store_call's close op. */
store *store_postgres_open(const char *url, derr *e);

/* How many connections the store holds open right now: one per thread that
 * has used it and not yet exited. For tests and metrics. */
int store_postgres_connections(store *s);

/* Closes the calling thread's connection without telling the server, as a
 * dropped network would; the next operation must find it dead and connect
 * again. For tests of the reconnect path. */
void store_postgres_break_connection(store *s);

#endif
