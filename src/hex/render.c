/*
 * render.c — how the Hex front answers and reads: content negotiation
 * between Erlang terms and JSON, hex.pm's error shape, request bodies in
 * either format, the repository-name check of /repos/NAME routes, and URLs.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../core/docs.h"
#include "../lib/buf.h"
#include "../lib/json.h"
#include "../lib/timeutil.h"
#include "etf.h"
#include "hex.h"

/* Rendered answers are ours, not a client's; the cap only guards against a bug. */
#define MAX_RENDERED (64u << 20)

static bool wants_etf(req *r)
{
    const char *acc = req_header(r, "Accept");
    return acc && strcasestr(acc, "application/vnd.hex+erlang") != NULL;
}

void hex_respond(req *r, int status, json_t *doc)
{
    if (!wants_etf(r)) {
        resp_json(r, status, doc);
        return;
    }
    buf b;
    buf_init(&b, MAX_RENDERED);
    int rc = etf_encode(doc, &b);
    json_decref(doc);
    if (rc < 0) {
        buf_free(&b);
        resp_error(r, 500, "internal", "cannot render the answer");
        return;
    }
    resp_bytes(r, status, HEX_ETF_TYPE, b.data, b.len);
    buf_free(&b);
}

void hex_error(req *r, int status, const char *message, json_t *errors)
{
    json_t *doc = json_object();
    json_object_set_new(doc, "status", json_integer(status));
    json_object_set_new(doc, "message", json_string(message));
    if (errors)
        json_object_set_new(doc, "errors", errors);
    hex_respond(r, status, doc);
    if (status == 401) {
        resp_header(r, "WWW-Authenticate", "Basic realm=\"depot\"");
        resp_header(r, "WWW-Authenticate", "Bearer realm=\"depot\"");
    }
}

/* "FIELD: why" with FIELD of word characters and dots; *flen is FIELD's length. */
static const char *field_of(const char *msg, size_t *flen)
{
    size_t n = 0;
    while ((msg[n] >= 'a' && msg[n] <= 'z') || (msg[n] >= 'A' && msg[n] <= 'Z') ||
           (msg[n] >= '0' && msg[n] <= '9') || msg[n] == '_' || msg[n] == '.')
        n++;
    if (n == 0 || msg[n] != ':' || msg[n + 1] != ' ')
        return NULL;
    *flen = n;
    return msg + n + 2;
}

void hex_front_error(req *r, const derr *e)
{
    int status = e->status ? e->status : 500;
    if (status >= 500 && status != 503 && status != 507) {
        resp_derr_plain(r, e); /* logs, and says only "the server failed" */
        const char *msg =
            arena_printf(r->a, "the server failed (request %s); the log has the detail", r->request_id);
        hex_error(r, status, msg, NULL);
        return;
    }
    size_t fl;
    const char *why = status == 422 ? field_of(e->message, &fl) : NULL;
    if (!why) {
        hex_error(r, status, e->message, NULL);
        return;
    }
    json_t *errors = json_object();
    const char *field = arena_strndup(r->a, e->message, fl);
    if (strncmp(field, "requirements.", 13) == 0 && field[13]) {
        json_t *inner = json_object();
        json_object_set_new(inner, field + 13, json_string(why));
        json_object_set_new(errors, "requirements", inner);
    } else {
        json_object_set_new(errors, field, json_string(why));
    }
    hex_error(r, 422, "Validation error(s)", errors);
}

void hex_no_package(req *r, const char *name)
{
    hex_error(r, 404, arena_printf(r->a, "no package named '%.100s'", name), NULL);
}

void hex_invalid(req *r, const char *field, const char *why)
{
    json_t *errors = json_object();
    json_object_set_new(errors, field, json_string(why));
    hex_error(r, 422, "Validation error(s)", errors);
}

json_t *hex_body(req *r)
{
    size_t n = r->body_len;
    const char *p = r->body;
    if (r->body_fd >= 0) {
        if (n > (size_t)r->cfg->max_body) {
            hex_error(r, 413,
                      arena_printf(r->a, "the request body is larger than %ld bytes", r->cfg->max_body),
                      NULL);
            return NULL;
        }
        char *t = arena_alloc(r->a, n + 1);
        size_t got = 0;
        while (got < n) {
            ssize_t k = pread(r->body_fd, t + got, n - got, (off_t)got);
            if (k <= 0) {
                hex_error(r, 400, "the request body could not be read", NULL);
                return NULL;
            }
            got += (size_t)k;
        }
        t[n] = '\0';
        p = t;
    }
    json_t *doc = NULL;
    const char *ct = req_header(r, "Content-Type");
    derr e;
    if (n == 0) {
        doc = json_object();
    } else if (ct && strncasecmp(ct, "application/vnd.hex+erlang", 26) == 0) {
        if (etf_decode(p, n, &doc, &e) < 0) {
            hex_error(r, 400, e.message, NULL);
            return NULL;
        }
    } else if (ct && (strncasecmp(ct, "application/json", 16) == 0 || strcasestr(ct, "+json"))) {
        doc = json_parse_object(p, n, &e);
        if (!doc) {
            hex_error(r, 400, e.message, NULL);
            return NULL;
        }
    } else {
        hex_error(r, 415, "send the body as application/vnd.hex+erlang or application/json", NULL);
        return NULL;
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        hex_error(r, 400, "the body should be a map", NULL);
        return NULL;
    }
    arena_on_free(r->a, (void (*)(void *))json_decref, doc);
    return doc;
}

bool hex_repo_ok(req *r, bool api)
{
    const char *repo = req_param(r, "repo");
    if (!repo || strcmp(repo, hex_opts(r->cfg)->repo) == 0 || (api && strcmp(repo, "hexpm") == 0))
        return true;
    hex_error(
        r, 404,
        arena_printf(r->a, "no repository named '%.100s' (this server's is '%s')", repo, hex_opts(r->cfg)->repo),
        NULL);
    return false;
}

void hex_auth_error(req *r, const derr *e)
{
    if (e->status >= 500) {
        resp_derr(r, e);
        return;
    }
    /* hex.pm's messages: "invalid API key", "missing authentication information" (hex.md §3.3). */
    const char *msg = e->status == 401 && r->who.kind == CRED_NONE && !req_header(r, "Authorization")
                          ? "missing authentication information"
                          : e->message;
    hex_error(r, e->status ? e->status : 401, msg, NULL);
}

bool hex_need_user(req *r)
{
    if (r->who.kind != CRED_NONE)
        return true;
    hex_error(r, 401, "missing authentication information", NULL);
    return false;
}

bool hex_may_write(req *r)
{
    return hex_repo_ok(r, true) && hex_need_user(r);
}

const char *hex_docs_url(req *r, const char *name, const char *version)
{
    if (version)
        return docs_site_url(r->core, r->a, HEX, name, version);
    /* The package's docs root, which redirects to its latest version (core/docs.h's layout). */
    if (r->cfg->docs_url && r->cfg->docs_url[0]) {
        size_t bl = strlen(r->cfg->docs_url);
        while (bl && r->cfg->docs_url[bl - 1] == '/')
            bl--;
        return arena_printf(r->a, "%.*s/hex/%s/", (int)bl, r->cfg->docs_url, name);
    }
    return arena_printf(r->a, "%s/docs/hex/%s/", r->cfg->base_url, name);
}

json_t *hex_time(int64_t t)
{
    if (!t)
        return json_null();
    char b[32];
    time_rfc3339(t, b);
    return json_string(b);
}

hex_limits hex_limits_of(const config *cfg)
{
    hex_limits l = {(uint64_t)hex_opts(cfg)->max_tarball, (uint64_t)hex_opts(cfg)->max_uncompressed};
    return l;
}
