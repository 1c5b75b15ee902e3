/*
 * ops.c — the server's own routes: /health and /metrics. Neither needs a
 * credential nor counts against a rate limit, so that a load balancer and a
 * Prometheus scraper can always reach them.
 */
#include "../core/core.h"
#include "../lib/buf.h"
#include "../lib/log.h"
#include "front.h"
#include "http.h"
#include "metrics.h"

#define DEPOT_VERSION "0.1.0"

static void health(req *r)
{
    bool up[2];
    core_health(r->core, &up[0], &up[1]);
    static const struct {
        const char *name, *failure;
        void (*count)(void);
    } checks[] = {{"store", "fail: the store does not answer", metrics_store_error},
                  {"blobs", "fail: the blob store cannot be written", metrics_blob_error}};
    bool ok = true;
    json_t *list = json_object();
    for (int i = 0; i < 2; i++) {
        if (!up[i])
            checks[i].count();
        ok &= up[i];
        json_object_set_new(list, checks[i].name, json_string(up[i] ? "ok" : checks[i].failure));
    }
    json_t *doc = json_object();
    json_object_set_new(doc, "status", json_string(ok ? "ok" : "fail"));
    json_object_set_new(doc, "version", json_string(DEPOT_VERSION));
    json_object_set_new(doc, "checks", list);
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

/* In the table of fronts; no ecosystem. */
const front ops_front = {.routes = {ROUTE_SET("ops", ops_routes)}};
