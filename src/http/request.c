/*
 * request.c — reading a request and setting its response (http.h).
 */
#include <errno.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/accounts.h"
#include "../core/catalog.h"
#include "../core/core.h"
#include "../core/documents.h"
#include "../lib/json.h"
#include "../lib/log.h"
#include "../lib/xalloc.h"
#include "front.h"
#include "http.h"
#include "multipart.h"
#include "router.h"

const char *req_param(req *r, const char *name)
{
    for (int i = 0; i < r->nparams; i++)
        if (strcmp(r->param_names[i], name) == 0)
            return r->param_vals[i];
    return NULL;
}

int req_query_num(req *r, const char *name, long def, long min, long max, long *out, derr *e)
{
    const char *v = req_query(r, name);
    if (!v || !*v) {
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || n < min || n > max)
        return derr_set(e, 400, "bad_request", "%s: expected a whole number from %ld to %ld", name, min, max);
    *out = n;
    return 0;
}

const char *req_query(req *r, const char *name)
{
    const char *p = r->query;
    size_t nl = strlen(name);
    while (p && *p) {
        size_t n = strcspn(p, "&");
        const char *eq = memchr(p, '=', n);
        size_t kl = eq ? (size_t)(eq - p) : n;
        char *k = url_decode(r->a, p, kl, 1);
        if (k && strlen(k) == nl && memcmp(k, name, nl) == 0) {
            if (!eq)
                return "";
            return url_decode(r->a, eq + 1, n - kl - 1, 1);
        }
        p += n;
        if (*p == '&')
            p++;
    }
    return NULL;
}

const char *req_header(req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *req_url(req *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *path = arena_vprintf(r->a, fmt, ap);
    va_end(ap);
    return arena_printf(r->a, "%s%s", r->cfg->base_url, path);
}

const char *req_host(req *r)
{
    const char *h = strstr(r->cfg->base_url, "://");
    h = h ? h + 3 : r->cfg->base_url;
    size_t n = *h == '[' ? strcspn(h, "]/") + (strchr(h, ']') ? 1 : 0) : strcspn(h, ":/");
    return n ? arena_strndup(r->a, h, n) : "localhost";
}

static json_t *body_json(req *r, void (*answer)(req *r, const derr *e))
{
    derr e;
    json_t *doc = json_parse_object(r->body, r->body_len, &e);
    if (!doc) {
        answer(r, &e);
        return NULL;
    }
    arena_on_free(r->a, (void (*)(void *))json_decref, doc); /* freed with the request */
    return doc;
}

json_t *req_json(req *r)
{
    return body_json(r, resp_derr_plain);
}

json_t *req_json_front(req *r)
{
    return body_json(r, resp_derr);
}

static void set(req *r, int status, struct MHD_Response *resp, uint64_t bytes, const char *ctype)
{
    if (r->resp)
        MHD_destroy_response(r->resp);
    if (!resp) {
        log_error("cannot create a response", "request_id", r->request_id, NULL);
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        status = 500;
        ctype = NULL;
    }
    r->resp = resp;
    r->status = status;
    r->resp_bytes = bytes;
    if (ctype)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
}

void resp_json(req *r, int status, json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!text) {
        set(r, 500, NULL, 0, NULL);
        return;
    }
    size_t n = strlen(text);
    set(r, status, MHD_create_response_from_buffer(n, text, MHD_RESPMEM_MUST_FREE), n,
        "application/json");
}

void resp_bytes(req *r, int status, const char *ctype, const void *p, size_t n)
{
    set(r, status, MHD_create_response_from_buffer(n, (void *)p, MHD_RESPMEM_MUST_COPY), n, ctype);
}

void resp_static(req *r, int status, const char *ctype, const void *p, size_t n)
{
    set(r, status, MHD_create_response_from_buffer(n, (void *)p, MHD_RESPMEM_PERSISTENT), n, ctype);
}

void resp_fd(req *r, int status, const char *ctype, int fd, uint64_t size)
{
    struct MHD_Response *resp = MHD_create_response_from_fd64(size, fd);
    if (!resp)
        close(fd);
    set(r, status, resp, size, ctype);
}

/* A response from a content_stream: MHD asks for bytes when the socket can take them. When none
 * has arrived yet the connection is suspended (the event thread goes on with others) and the
 * stream's wake-up resumes it; libmicrohttpd allows suspending from a content reader. */
struct stream_send {
    content_stream *s;
    struct MHD_Connection *conn;
};

static void stream_wake(void *conn)
{
    MHD_resume_connection(conn);
}

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
    struct stream_send *ss = cls;
    long n = ss->s->ops->read(ss->s, pos, out, max);
    if (n > 0)
        return n;
    if (n == CONTENT_STREAM_END)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (n < 0)
        return MHD_CONTENT_READER_END_WITH_ERROR; /* the client sees a cut body, never a wrong one */
    MHD_suspend_connection(ss->conn);
    if (ss->s->ops->wait(ss->s, pos, stream_wake, ss->conn) != 0)
        MHD_resume_connection(ss->conn); /* it moved on meanwhile */
    return 0;
}

static void stream_free(void *cls)
{
    struct stream_send *ss = cls;
    ss->s->ops->close(ss->s);
    free(ss);
}

bool resp_blob(req *r, int status, const char *ctype, content_reader *br)
{
    bool bytes = br->kind != CONTENT_REDIRECT;
    switch (br->kind) {
    case CONTENT_FD:
        resp_fd(r, status, ctype, br->fd, br->size);
        br->fd = -1;
        break;
    case CONTENT_REDIRECT:
        resp_empty(r, 302);
        resp_header(r, "Location", br->url);
        resp_header(r, "Cache-Control", "no-store"); /* the URL expires */
        break;
    case CONTENT_STREAM: {
        struct stream_send *ss = xmalloc(sizeof *ss);
        ss->s = br->stream;
        ss->conn = r->conn;
        br->stream = NULL;
        struct MHD_Response *resp =
            MHD_create_response_from_callback(br->size, 32 * 1024, stream_read, ss, stream_free);
        if (!resp)
            stream_free(ss);
        set(r, status, resp, br->size, ctype);
        break;
    }
    }
    content_close(br);
    return bytes;
}

void resp_empty(req *r, int status)
{
    set(r, status, MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT), 0, NULL);
}

int resp_account(req *r, user_row *u)
{
    derr e;
    if (accounts_get(r->core, r->a, r->who.user_id, u, &e) < 0) {
        resp_derr(r, &e);
        return -1;
    }
    return 0;
}

doc_ref *resp_document(req *r, const char *key, int64_t gen, doc_builder build, void *ctx, const cdoc **out)
{
    derr e;
    doc_ref *ref = documents_get(key, gen, build, ctx, r->a, out, &e);
    if (!ref)
        resp_derr(r, &e);
    return ref;
}

int resp_search(req *r, const package_query *q, search_hits *hits)
{
    derr e;
    if (catalog_search(r->core, r->a, q, hits, &e) < 0) {
        resp_derr(r, &e);
        return -1;
    }
    return 0;
}

json_t *resp_error_doc(const char *code, const char *message)
{
    json_t *err = json_object();
    json_object_set_new(err, "code", json_string(code));
    json_object_set_new(err, "message", json_string(message));
    json_t *doc = json_object();
    json_object_set_new(doc, "error", err);
    return doc;
}

char *resp_vmessage(req *r, const char *fmt, va_list ap)
{
    char *msg = arena_alloc(r->a, RESP_MESSAGE_MAX);
    vsnprintf(msg, RESP_MESSAGE_MAX, fmt, ap);
    return msg;
}

void resp_error(req *r, int status, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = resp_vmessage(r, fmt, ap);
    va_end(ap);
    resp_json(r, status, resp_error_doc(code, msg));
    if (status == 401) {
        MHD_add_response_header(r->resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"depot\"");
        MHD_add_response_header(r->resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic realm=\"depot\"");
    }
    if (status >= 500)
        log_error("request failed", "request_id", r->request_id, "status", code, "message", msg, NULL);
}

void resp_retry_after(req *r, int64_t seconds)
{
    if (seconds <= 0)
        return;
    char v[32];
    snprintf(v, sizeof v, "%lld", (long long)seconds);
    resp_header(r, "Retry-After", v);
}

void resp_derr(req *r, const derr *e)
{
    const front *f = front_of_route(r->route);
    if (f && f->error) {
        f->error(r, e);
        resp_retry_after(r, e->retry_after);
        return;
    }
    resp_derr_plain(r, e);
}

void resp_derr_plain(req *r, const derr *e)
{
    int status = e->status ? e->status : 500;
    const char *code = e->code ? e->code : "internal";
    if (status >= 500 && status != 503 && status != 507) {
        /* Never hand internals to a client: the detail went to the log. A 503 or 507 says
         * what the client can act on (try again, the server is full), never how. */
        resp_error(r, status, code, "the server failed (request %s); the log has the detail",
                   r->request_id);
        return;
    }
    resp_error(r, status, code, "%s", e->message);
    resp_retry_after(r, e->retry_after);
}

void resp_header(req *r, const char *name, const char *value)
{
    if (r->resp)
        MHD_add_response_header(r->resp, name, value);
}

bool req_not_modified(req *r, const char *etag)
{
    const char *inm = req_header(r, "If-None-Match");
    if (!inm || !*inm)
        return false; /* rebar3 sends an empty If-None-Match on first downloads */
    size_t n = strlen(etag);
    for (const char *p = inm; (p = strstr(p, etag)); p += n) {
        char after = p[n];
        if (after == '\0' || after == ',' || after == ' ') {
            resp_empty(r, 304);
            resp_header(r, "ETag", etag);
            return true;
        }
    }
    if (strcmp(inm, "*") == 0) {
        resp_empty(r, 304);
        resp_header(r, "ETag", etag);
        return true;
    }
    return false;
}

static bool accepts_gzip(req *r)
{
    const char *ae = req_header(r, "Accept-Encoding");
    if (!ae)
        return false;
    const char *g = strstr(ae, "gzip");
    if (!g)
        return false;
    /* "gzip;q=0" refuses it. */
    const char *q = g + 4;
    while (*q == ' ')
        q++;
    return !(strncmp(q, ";q=0", 4) == 0 && (q[4] == '\0' || q[4] == ',' || (q[4] == '.' && q[5] == '0' && q[6] != '.')));
}

void resp_doc(req *r, struct doc_ref *ref, const struct cdoc *d)
{
    arena_on_free(r->a, (void (*)(void *))documents_release, ref);
    if (req_not_modified(r, d->etag))
        return;
    if (d->gz && accepts_gzip(r)) {
        resp_static(r, 200, d->content_type, d->gz, d->gzlen);
        resp_header(r, "Content-Encoding", "gzip");
    } else {
        resp_static(r, 200, d->content_type, d->data, d->len);
    }
    resp_header(r, "ETag", d->etag);
    resp_header(r, "Vary", "Accept-Encoding");
}

int multipart_request(req *r, size_t max_parts, size_t max_field, mp_part **parts, int *n, derr *e)
{
    mp_limits lim = {.max_parts = max_parts,
                     .max_field = max_field,
                     .max_file = (uint64_t)r->cfg->max_upload,
                     .max_header = 8192};
    return multipart_parse(r->a, r->body_fd, r->body_len, req_header(r, "Content-Type"), core_tmp_dir(r->core),
                           &lim, parts, n, e);
}
