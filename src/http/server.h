/*
 * server.h — the HTTP server: libmicrohttpd with a thread pool over epoll,
 * the router, request limits, authentication, rate limits, CORS, the access
 * log and metrics. Handlers come from the fronts' route tables (the table of fronts, src/fronts.c).
 */
#ifndef DEPOT_SERVER_H
#define DEPOT_SERVER_H

#include "../core/core.h"

typedef struct server server;

/* Builds the server (nothing is bound yet). */
server *server_new(const config *cfg, core *c, derr *e);
/* Binds and starts serving; logs the "listening" line with the bound address. */
int server_start(server *s, derr *e);
/* The bound port (useful with port 0). */
int server_port(const server *s);
/* Graceful stop: stop accepting, let in-flight requests finish (up to
 * --shutdown-timeout), then close every connection. */
void server_stop(server *s);
void server_free(server *s);

/* The route tables of every front, in the table of fronts (src/fronts.c). */
extern const struct route_set *const server_fronts[];
extern const unsigned server_nfronts;

#endif
