/*
 * assets.c — the dashboard's stylesheet, script and icon, compiled into the
 * binary from src/web/assets/ (the Makefile runs scripts/embed-file) and
 * served under /static/<version>/<file>, where the version is a hash of
 * every asset: a page names exactly the bytes it was made with, so those
 * can be cached for a year (immutable). A request with another version (a
 * page from before an upgrade) still gets the current file, kept briefly.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "../lib/crypto.h"
#include "web.h"

extern const char web_style_css[], web_app_js[], web_favicon_svg[];
extern const size_t web_style_css_len, web_app_js_len, web_favicon_svg_len;

static struct asset {
    const char *file;
    const char *ctype;
    const char *data;
    const size_t *len;
    char etag[24];
    char path[64];
} assets[] = {
    {"style.css", "text/css; charset=utf-8", web_style_css, &web_style_css_len, "", ""},
    {"app.js", "text/javascript; charset=utf-8", web_app_js, &web_app_js_len, "", ""},
    {"favicon.svg", "image/svg+xml", web_favicon_svg, &web_favicon_svg_len, "", ""},
};
#define NASSETS (sizeof assets / sizeof assets[0])

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char version[17];

static void init(void)
{
    sha256_ctx all;
    sha256_init(&all);
    for (size_t i = 0; i < NASSETS; i++) {
        unsigned char h[32];
        char hex[17];
        sha256(assets[i].data, *assets[i].len, h);
        sha256_update(&all, h, sizeof h);
        hex_encode(h, 8, hex);
        snprintf(assets[i].etag, sizeof assets[i].etag, "\"%s\"", hex);
    }
    unsigned char v[32];
    sha256_final(&all, v);
    hex_encode(v, 8, version);
    for (size_t i = 0; i < NASSETS; i++)
        snprintf(assets[i].path, sizeof assets[i].path, "/static/%s/%s", version, assets[i].file);
}

static struct asset *find(const char *file)
{
    pthread_once(&once, init);
    for (size_t i = 0; file && i < NASSETS; i++)
        if (strcmp(assets[i].file, file) == 0)
            return &assets[i];
    return NULL;
}

const char *web_asset(const char *file)
{
    struct asset *a = find(file);
    return a ? a->path : "/";
}

static void send_asset(req *r, const struct asset *a, const char *cache)
{
    if (req_not_modified(r, a->etag)) {
        resp_header(r, "Cache-Control", cache);
        return;
    }
    resp_static(r, 200, a->ctype, a->data, *a->len);
    resp_header(r, "ETag", a->etag);
    resp_header(r, "Cache-Control", cache);
    resp_header(r, "X-Content-Type-Options", "nosniff");
}

void web_static(req *r)
{
    struct asset *a = find(req_param(r, "file"));
    if (!a) {
        web_not_found(r);
        return;
    }
    bool current = strcmp(req_param(r, "version"), version) == 0;
    send_asset(r, a, current ? "public, max-age=31536000, immutable" : "public, max-age=300");
}

void web_favicon(req *r)
{
    send_asset(r, find("favicon.svg"), "public, max-age=86400");
}
