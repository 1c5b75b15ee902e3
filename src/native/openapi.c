/*
 * openapi.c — GET /api/v1/openapi.json: the native API's OpenAPI document.
 *
 * The document is compiled in (openapi.h). The first request for a base URL
 * renders it once with `servers` set to that URL and keeps the bytes with
 * their ETag for the life of the process; later requests only look them up
 * (a lock-free walk of a list that only grows, in practice one entry).
 */
#include "openapi.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/crypto.h"
#include "native.h"

/* More distinct base URLs than this (only tests make several) are rendered per request. */
#define OPENAPI_CACHE_MAX 16
/* The document changes only with the binary; a client may reuse it for a while, then revalidate. */
#define OPENAPI_CACHE_CONTROL "public, max-age=300"

char *openapi_render(const char *base_url, size_t *len)
{
    json_error_t je;
    json_t *doc = json_loadb(openapi_json, openapi_json_len, 0, &je);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return NULL;
    }
    if (base_url && *base_url) {
        json_t *self = json_object();
        json_object_set_new(self, "url", json_string(base_url));
        json_object_set_new(self, "description", json_string("This server."));
        json_t *servers = json_array();
        json_array_append_new(servers, self);
        json_object_set_new(doc, "servers", servers);
    }
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (text)
        *len = strlen(text);
    return text;
}

typedef struct rendered {
    struct rendered *next;
    char *base_url;
    char *text;
    size_t len;
    char etag[68]; /* "\"<sha256 hex>\"" */
} rendered;

static _Atomic(rendered *) cache;
static atomic_int ncached;
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;

static rendered *render_entry(const char *base_url)
{
    rendered *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->text = openapi_render(base_url, &d->len);
    d->base_url = strdup(base_url);
    if (!d->text || !d->base_url) {
        free(d->text);
        free(d->base_url);
        free(d);
        return NULL;
    }
    char hex[65];
    sha256_hex(d->text, d->len, hex);
    d->etag[0] = '"';
    memcpy(d->etag + 1, hex, 64);
    d->etag[65] = '"';
    d->etag[66] = '\0';
    return d;
}

static const rendered *lookup(const char *base_url)
{
    for (rendered *d = atomic_load_explicit(&cache, memory_order_acquire); d; d = d->next)
        if (strcmp(d->base_url, base_url) == 0)
            return d;
    return NULL;
}

/* The cached rendering for base_url, made on first use; NULL when the cache is full
 * (the caller renders one of its own) or on failure. */
static const rendered *cached(const char *base_url)
{
    const rendered *d = lookup(base_url);
    if (d || atomic_load(&ncached) >= OPENAPI_CACHE_MAX)
        return d;
    pthread_mutex_lock(&cache_mu);
    d = lookup(base_url);
    if (!d && atomic_load(&ncached) < OPENAPI_CACHE_MAX) {
        rendered *n = render_entry(base_url);
        if (n) {
            n->next = atomic_load_explicit(&cache, memory_order_relaxed);
            atomic_store_explicit(&cache, n, memory_order_release);
            atomic_fetch_add(&ncached, 1);
        }
        d = n;
    }
    pthread_mutex_unlock(&cache_mu);
    return d;
}

/* 304 when the client has this ETag, else the bytes (borrowed when they outlive the response). */
static void answer(req *r, const rendered *d, bool borrowed)
{
    if (!req_not_modified(r, d->etag)) {
        if (borrowed)
            resp_static(r, 200, "application/json", d->text, d->len);
        else
            resp_bytes(r, 200, "application/json", d->text, d->len);
        resp_header(r, "ETag", d->etag);
    }
    resp_header(r, "Cache-Control", OPENAPI_CACHE_CONTROL);
}

void native_openapi(req *r)
{
    const char *base = r->cfg && r->cfg->base_url ? r->cfg->base_url : "";
    const rendered *d = cached(base);
    if (d) {
        answer(r, d, true);
        return;
    }
    /* Past the cache's bound: a rendering of this request's own. */
    rendered *own = render_entry(base);
    if (!own) {
        resp_error(r, 500, "internal", "the OpenAPI document cannot be rendered");
        return;
    }
    answer(r, own, false);
    free(own->text);
    free(own->base_url);
    free(own);
}
