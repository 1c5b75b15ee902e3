/*
 * ops.c — the server's own routes: /health and /metrics. Neither needs a
 * credential nor counts against a rate limit, so that a load balancer and a
 * Prometheus scraper can always reach them.
 */
#include "../core/core.h"
#include "../lib/buf.h"
#include "../lib/log.h"
#include "http.h"
#include "metrics.h"

#define DEPOT_VERSION "0.1.0"

static void health(req *r)
{
    int ok = 1;
    bool meta_ok, bytes_ok;
    core_health(r->core, &meta_ok, &bytes_ok);
    json_t *checks = json_object();
    if (!meta_ok) {
        metrics_store_error();
        ok = 0;
        json_object_set_new(checks, "store", json_string("fail: the store does not answer"));
    } else {
        json_object_set_new(checks, "store", json_string("ok"));
    }
    if (!bytes_ok) {
        metrics_blob_error();
        ok = 0;
        json_object_set_new(checks, "blobs", json_string("fail: the blob store cannot be written"));
    } else {
        json_object_set_new(checks, "blobs", json_string("ok"));
    }
    json_t *doc = json_object();
    json_object_set_new(doc, "status", json_string(ok ? "ok" : "fail"));
    json_object_set_new(doc, "version", json_string(DEPOT_VERSION));
    json_object_set_new(doc, "checks", checks);
    resp_json(r, ok ? 200 : 503, doc);
    resp_header(r, "Cache-Control", "no-store");
}

static void metrics(req *r)
{
    buf b;
    buf_init(&b, 0);
    metrics_render(&b);
    resp_bytes(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
    buf_free(&b);
}

static const route ops_routes[] = {
    {"GET", "/health", health, "health", BODY_NONE, AUTH_NONE, RL_NONE, false},
    {"GET", "/metrics", metrics, "metrics", BODY_NONE, AUTH_NONE, RL_NONE, false},
};

const route_set ops_route_set = {.front = "ops", .routes = ops_routes, .n = sizeof ops_routes / sizeof ops_routes[0]};
