/*
 * metrics.c — a fixed table of (route, method, status) counters, probed
 * linearly under one mutex (a few hundred entries at most), and a global
 * latency histogram with atomic buckets.
 */
#include "metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "../core/documents.h"

#define MAX_SERIES 1024

static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                0.1,    0.25,  0.5,    1,     2.5,  5,     10};
#define NB (sizeof bounds / sizeof bounds[0])

struct series {
    const char *route; /* static: route names live in the route tables */
    char method[8];
    int status;
    uint64_t count;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct series series[MAX_SERIES];
static int nseries;
static atomic_long in_flight;
static atomic_ullong hist[NB + 1], hist_count, hist_sum_us;
static atomic_ullong n_store_errors, n_blob_errors;

void metrics_init(void)
{
    nseries = 0;
}

void metrics_request_start(void)
{
    atomic_fetch_add(&in_flight, 1);
}

long metrics_in_flight(void)
{
    return atomic_load(&in_flight);
}

void metrics_request_done(const char *route, const char *method, int status, uint64_t ns)
{
    atomic_fetch_sub(&in_flight, 1);
    double s = (double)ns / 1e9;
    size_t b = 0;
    while (b < NB && s > bounds[b])
        b++;
    atomic_fetch_add(&hist[b], 1);
    atomic_fetch_add(&hist_count, 1);
    atomic_fetch_add(&hist_sum_us, ns / 1000);

    pthread_mutex_lock(&mu);
    int i;
    for (i = 0; i < nseries; i++)
        if (series[i].status == status && series[i].route == route &&
            strcmp(series[i].method, method) == 0)
            break;
    if (i == nseries && nseries < MAX_SERIES) {
        series[i].route = route;
        snprintf(series[i].method, sizeof series[i].method, "%s", method);
        series[i].status = status;
        series[i].count = 0;
        nseries++;
    }
    if (i < nseries)
        series[i].count++;
    pthread_mutex_unlock(&mu);
}

void metrics_store_error(void)
{
    atomic_fetch_add(&n_store_errors, 1);
}

void metrics_blob_error(void)
{
    atomic_fetch_add(&n_blob_errors, 1);
}

void metrics_render(buf *o)
{
    buf_puts(o, "# HELP depot_http_requests_total HTTP requests by route, method and status.\n"
                "# TYPE depot_http_requests_total counter\n");
    pthread_mutex_lock(&mu);
    for (int i = 0; i < nseries; i++)
        buf_printf(o, "depot_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} %llu\n",
                   series[i].route, series[i].method, series[i].status,
                   (unsigned long long)series[i].count);
    pthread_mutex_unlock(&mu);

    buf_puts(o, "# HELP depot_http_request_duration_seconds Time from first byte to response.\n"
                "# TYPE depot_http_request_duration_seconds histogram\n");
    unsigned long long cum = 0;
    for (size_t b = 0; b < NB; b++) {
        cum += atomic_load(&hist[b]);
        buf_printf(o, "depot_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n", bounds[b], cum);
    }
    cum += atomic_load(&hist[NB]);
    buf_printf(o, "depot_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n", cum);
    buf_printf(o, "depot_http_request_duration_seconds_sum %.6f\n",
               (double)atomic_load(&hist_sum_us) / 1e6);
    buf_printf(o, "depot_http_request_duration_seconds_count %llu\n",
               (unsigned long long)atomic_load(&hist_count));

    buf_printf(o,
               "# HELP depot_http_requests_in_flight Requests being handled now.\n"
               "# TYPE depot_http_requests_in_flight gauge\n"
               "depot_http_requests_in_flight %ld\n"
               "# HELP depot_store_errors_total Failed store operations.\n"
               "# TYPE depot_store_errors_total counter\n"
               "depot_store_errors_total %llu\n"
               "# HELP depot_blob_errors_total Failed blob store operations.\n"
               "# TYPE depot_blob_errors_total counter\n"
               "depot_blob_errors_total %llu\n",
               atomic_load(&in_flight), (unsigned long long)atomic_load(&n_store_errors),
               (unsigned long long)atomic_load(&n_blob_errors));

    size_t bytes, entries, budget;
    documents_stats(&bytes, &entries, &budget);
    buf_printf(o,
               "# HELP depot_document_cache_bytes Bytes held by the cache of built documents.\n"
               "# TYPE depot_document_cache_bytes gauge\n"
               "depot_document_cache_bytes %zu\n"
               "# HELP depot_document_cache_budget_bytes The cache's budget (--cache-size).\n"
               "# TYPE depot_document_cache_budget_bytes gauge\n"
               "depot_document_cache_budget_bytes %zu\n"
               "# HELP depot_document_cache_entries Documents in the cache.\n"
               "# TYPE depot_document_cache_entries gauge\n"
               "depot_document_cache_entries %zu\n",
               bytes, budget, entries);
}
