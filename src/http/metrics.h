/*
 * metrics.h — counters for /metrics in the Prometheus text format:
 * requests by route, method and status; a latency histogram; requests in
 * flight; store and blob errors. Recording is lock-free for the gauges and
 * takes one short lock for the per-route counters.
 */
#ifndef DEPOT_METRICS_H
#define DEPOT_METRICS_H

#include <stdint.h>

#include "../lib/buf.h"

void metrics_init(void);
void metrics_request_start(void);
/* route: the route's name ("unmatched" when none). */
void metrics_request_done(const char *route, const char *method, int status, uint64_t duration_ns);
void metrics_store_error(void);
void metrics_blob_error(void);
long metrics_in_flight(void);
/* Appends the exposition text. */
void metrics_render(buf *out);

#endif
