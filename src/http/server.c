/*
 * server.c — libmicrohttpd glue and the life of one request.
 *
 * libmicrohttpd calls the access handler several times per request:
 *   1. headers are in: the body framed one way only (400, connection closed:
 *      framing.h), limits (414, 431), routing (404, 405), the body's declared
 *      size against the route's limit (413), the credential of a route that
 *      needs a user when a body follows (401; a password is checked on
 *      the worker pool first, the connection suspended), content type (415);
 *   2. once per piece of body: into memory (JSON) or a temp file with its
 *      SHA-256 (uploads), counted against the route's limit;
 *   3. body complete: authenticate, rate-limit, run the handler, queue the
 *      response. Requests that need slow work (password hashing) are
 *      suspended and run on the worker pool, then resumed; the handler is
 *      called a last time and queues what the worker produced.
 * Responses are queued on the call after the body is read, never on the
 * first call, except for early rejections: queuing early makes
 * libmicrohttpd drop keep-alive.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "../lib/crypto.h"
#include "../lib/log.h"
#include "../lib/netaddr.h"
#include "../lib/ratelimit.h"
#include "../lib/tempfile.h"
#include "../lib/timeutil.h"
#include "../lib/xalloc.h"
#include "../core/lockout.h"
#include "framing.h"
#include "front.h"
#include "metrics.h"
#include "redact.h"
#include "router.h"
#include "tls.h"
#include "workers.h"

struct server {
    const config *cfg;
    core *core;
    router *rt;
    ratelimit *rl;
    rl_rule rules[RL_NCLASS]; /* --rate-CLASS and --rate-CLASS-burst */
    workers *wk;
    struct MHD_Daemon *d;
    atomic_bool stopping;
    int port;
    char **cors;
    int ncors;
    int cors_any;
    char *bound_url; /* base URL made from the bound port, when --base-url was not given */
    tls_pem tls;     /* --tls-cert and --tls-key as read at start (kept while the daemon runs) */
    netaddr_list proxies; /* --trusted-proxies */
    pthread_mutex_t mhd_err_lock;
    char mhd_err[256]; /* libmicrohttpd's last complaint, for the message when it will not start */
};

/* RS_CHECKING: a password credential is checked on the worker pool before the body is read;
 * RS_CHECKED: it was, and the connection is resumed. */
enum rstate { RS_NEW, RS_CHECKING, RS_CHECKED, RS_BODY, RS_RUNNING, RS_READY, RS_QUEUED };

struct upload {
    temp_file *f;
    sha256_ctx sha;
};

typedef struct conn_ctx {
    req r;
    enum rstate st;
    uint64_t t0;
    buf body;
    struct upload *up;
    uint64_t body_seen, body_cap;
    rl_verdict rlv;
    int rl_set;
    const char *origin_ok; /* the request's Origin, when CORS allows it */
    const char *allow;
    int failed; /* an error response is set while the body still arrives */
    int authed; /* the credential was checked before the body */
    int hash_first; /* a password credential to check on the worker pool before the body */
    int counted; /* metrics_request_done was called */
    int drain; /* a refusal decided before the body waits for a small body to arrive (drain_first) */
} conn_ctx;

/* libmicrohttpd 0.9.75 can queue a response only before the body is read or
 * after all of it: a body found too large midway (chunked) is read on and
 * dropped, up to this much more, and then answered 413; past it, the
 * connection is closed. */
#define DRAIN_MAX (16u << 20)

/* A request refused before its body (no credential, wrong Content-Type) whose declared body is
 * at most this is still read, into nothing, before the answer: clients such as npm or fetch send
 * the whole body before they read, and a connection closed under a body they are still sending
 * reaches them as a reset instead of the 401 that says what to do. Nothing of it is kept. A larger
 * body, a chunked one, or a client waiting for `100 Continue` is answered at once. */
#define DRAIN_SMALL (1u << 20)

/* ---- small helpers ---- */

static const char *client_ip(arena *a, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char ip[INET6_ADDRSTRLEN] = "unknown";
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, ip, sizeof ip);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, ip, sizeof ip);
    }
    return arena_strdup(a, ip);
}

static int sane_request_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return 0;
    for (; *s; s++)
        if (!(('a' <= *s && *s <= 'z') || ('A' <= *s && *s <= 'Z') || ('0' <= *s && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.'))
            return 0;
    return 1;
}

static enum MHD_Result sum_header(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
    size_t *total = cls;
    *total += strlen(k) + (v ? strlen(v) : 0) + 4;
    return MHD_YES;
}

/* ---- CORS ---- */

static void cors_parse(server *s)
{
    const char *p = s->cfg->cors_origins;
    while (*p) {
        while (*p == ',' || *p == ' ')
            p++;
        size_t n = strcspn(p, ", ");
        if (!n)
            break;
        if (n == 1 && *p == '*') {
            s->cors_any = 1;
        } else {
            s->cors = xrealloc(s->cors, sizeof(char *) * (size_t)(s->ncors + 1));
            char *o = xmalloc(n + 1);
            memcpy(o, p, n);
            o[n] = '\0';
            while (n > 0 && o[n - 1] == '/')
                o[--n] = '\0';
            s->cors[s->ncors++] = o;
        }
        p += n;
    }
}

static const char *cors_origin(server *s, req *r)
{
    const char *o = req_header(r, "Origin");
    /* "null" is the origin of sandboxed pages (hosted docs) and local files: never trusted,
     * not even under "*", since credentials are allowed. */
    if (!o || (!s->ncors && !s->cors_any) || strcmp(o, "null") == 0)
        return NULL;
    if (s->cors_any)
        return o;
    for (int i = 0; i < s->ncors; i++)
        if (strcmp(s->cors[i], o) == 0)
            return o;
    return NULL;
}

static const route_set *front_of(const route *rt);

/* ---- the request's phases ---- */

/* An error the server itself gives, in the shape of the route's front when it has one. */
static void front_error(req *r, int status, const char *code, const char *msg)
{
    const route_set *rs = r->route ? front_of(r->route) : NULL;
    if (rs && rs->error) {
        derr e;
        derr_set(&e, status, code, "%s", msg);
        rs->error(r, &e);
        if (r->resp)
            return;
    }
    resp_error(r, status, code, "%s", msg);
}

/* Answers now with an error whose message is fmt with one %s. */
__attribute__((format(printf, 4, 5))) static void fail_now(conn_ctx *x, int status, const char *code,
                                                           const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    front_error(&x->r, status, code, msg);
    x->failed = 1;
}

static int rate_check(server *s, conn_ctx *x, enum rl_class cls, bool dry);
static void auth_fail(req *r, const derr *e);
static void session_cookie(server *s, req *r, const route *rt);

/* What a request is, for the audit log: "METHOD /path" (query left out, secrets redacted, long
 * paths cut). */
static const char *audit_target(req *r)
{
    return arena_printf(r->a, "%s %.200s", r->method, redact_path(r->a, r->raw_url, r->route));
}

/* An audit entry for a credential that was sent and refused (wrong, expired, revoked, of a
 * disabled account): the scheme, the reason, and for Basic the login it named; never the
 * secret. Counted by the rate limiter first, so a flood of them is cut off at the limit. */
static void audit_bad_credential(server *s, req *r, const char *authz, const derr *e)
{
    if (e->status >= 500)
        return;
    while (*authz == ' ')
        authz++;
    const char *scheme = strncasecmp(authz, "Bearer ", 7) == 0  ? "bearer"
                         : strncasecmp(authz, "Basic ", 6) == 0 ? "basic"
                                                                : "token";
    json_t *d = json_pack("{s:s, s:s}", "credential", scheme, "reason", e->message);
    if (d && strcmp(scheme, "basic") == 0) {
        unsigned char *dec;
        size_t dlen;
        const char *v = authz + 6;
        while (*v == ' ')
            v++;
        if (b64_decode(r->a, v, strlen(v), &dec, &dlen) == 0) {
            const unsigned char *colon = memchr(dec, ':', dlen);
            size_t n = colon ? (size_t)(colon - dec) : 0;
            json_t *login = json_stringn((const char *)dec, n > 100 ? 100 : n);
            if (login)
                json_object_set_new(d, "login", login);
        }
    }
    char *text = d ? json_dumps(d, JSON_COMPACT) : NULL;
    json_decref(d);
    core_audit(s->core, 0, "auth.bad_credential", audit_target(r), text, r->ip);
    free(text);
}

/* Who the Authorization header names, into r->who: 0, or -1 once the refusal is
 * answered. A failed credential spends from the caller's IP in the authentication class and is
 * audited; a password (Basic) is not even checked while that bucket is empty, so one address
 * cannot guess on through Basic on routes of other classes. */
static int check_credential(server *s, conn_ctx *x, const char *authz)
{
    req *r = &x->r;
    derr e;
    if (auth_header_is_slow(authz) && rate_check(s, x, RL_AUTH, true) < 0)
        return -1;
    if (auth_header(s->core, r->a, authz, &r->who, &e) >= 0)
        return 0;
    memset(&r->who, 0, sizeof r->who);
    if (e.status >= 500)
        metrics_store_error();
    if (rate_check(s, x, RL_AUTH, false) == 0) {
        audit_bad_credential(s, r, authz, &e);
        auth_fail(r, &e);
    }
    return -1;
}

/* A route that needs a user has its credential checked before its body is read, so an
 * anonymous or bad one is refused (401) before a byte of the body is stored: 0 to go on
 * (x->authed set when the credential was checked here), -1 after answering. The answer is queued
 * at once, after which libmicrohttpd reads no more of the request and closes the connection (a
 * client waiting for `100 Continue` never sends the body) — unless the body is small and already
 * on its way (x->drain, DRAIN_SMALL): then it is read into nothing first.
 * Password credentials (Basic) cost a hash: x->hash_first is set, and begin has the worker
 * pool check them (check_first) before the body is read. */
static int early_auth(server *s, conn_ctx *x)
{
    req *r = &x->r;
    const route *rt = r->route;
    const char *authz = req_header(r, "Authorization");
    if (authz && auth_header_is_slow(authz)) {
        x->hash_first = 1;
        return 0;
    }
    if (authz) {
        if (check_credential(s, x, authz) < 0) {
            x->failed = 1;
            return -1;
        }
    } else {
        session_cookie(s, r, rt);
    }
    if (r->who.kind == CRED_NONE) {
        derr e;
        derr_set(&e, 401, "unauthorized", "this needs a credential: log in or send a token");
        auth_fail(r, &e);
        x->failed = 1;
        return -1;
    }
    x->authed = 1;
    return 0;
}

/* Who is asking: the client's address (through trusted proxies), the request id, CORS. */
static void identify(server *s, conn_ctx *x, struct MHD_Connection *conn)
{
    req *r = &x->r;
    r->ip = client_ip(r->a, conn);
    if (s->proxies.n) {
        char ip[INET6_ADDRSTRLEN];
        const char *xff = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Forwarded-For");
        if (xff)
            r->ip = arena_strdup(r->a, netaddr_client(&s->proxies, r->ip, xff, ip, sizeof ip));
    }
    const char *rid = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
    if (rid && sane_request_id(rid)) {
        snprintf(r->request_id, sizeof r->request_id, "%s", rid);
    } else {
        unsigned char raw[8];
        random_bytes(raw, sizeof raw);
        hex_encode(raw, sizeof raw, r->request_id);
    }
    x->origin_ok = cors_origin(s, r);
}

/* The URL and the headers within their caps; -1 when the request failed. */
static int check_head_size(server *s, conn_ctx *x, struct MHD_Connection *conn)
{
    req *r = &x->r;
    if (strlen(r->raw_url) > (size_t)s->cfg->max_url) {
        fail_now(x, 414, "uri_too_long", "the URL is longer than %s bytes",
                 arena_printf(r->a, "%ld", s->cfg->max_url));
        return -1;
    }
    size_t hsize = 0;
    MHD_get_connection_values(conn, MHD_HEADER_KIND, sum_header, &hsize);
    if (hsize > (size_t)s->cfg->max_headers) {
        fail_now(x, 431, "headers_too_large", "the request headers are larger than %s bytes",
                 arena_printf(r->a, "%ld", s->cfg->max_headers));
        return -1;
    }
    return 0;
}

/* The header fields, gathered for framing_problem. */
struct fields {
    http_field *f;
    size_t n, cap;
};

static enum MHD_Result gather_field(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
    struct fields *fs = cls;
    if (fs->n == fs->cap)
        return MHD_NO;
    fs->f[fs->n++] = (http_field){k, v};
    return MHD_YES;
}

/* The body framed one way only (framing.h), checked before any of it is read; -1 after a 400
 * that also closes the connection: what follows on it cannot be told from this body. An
 * HTTP/1.0 request has no transfer codings (RFC 9112, section 6.1): one that names one is
 * framed for some other reader. */
static int check_framing(conn_ctx *x, struct MHD_Connection *conn, const char *version)
{
    int n = MHD_get_connection_values(conn, MHD_HEADER_KIND, NULL, NULL);
    struct fields fs = {.cap = n > 0 ? (size_t)n : 0};
    fs.f = arena_alloc(x->r.a, (fs.cap ? fs.cap : 1) * sizeof *fs.f);
    MHD_get_connection_values(conn, MHD_HEADER_KIND, gather_field, &fs);
    const char *why = framing_problem(fs.f, fs.n);
    if (!why && strcmp(version, MHD_HTTP_VERSION_1_0) == 0 &&
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING))
        why = "an HTTP/1.0 request may not have a Transfer-Encoding";
    if (!why)
        return 0;
    fail_now(x, 400, "bad_request", "%s", why);
    resp_header(&x->r, "Connection", "close");
    log_info("refused a request of ambiguous length", "reason", why, "request_id", x->r.request_id, "ip",
             x->r.ip, NULL);
    return -1;
}

/* Splits the path from the query and finds the route; 0 when one was found for a
 * method other than OPTIONS (the body checks follow), -1 otherwise. */
static int find_route(server *s, conn_ctx *x, struct MHD_Connection *conn, const char *method)
{
    req *r = &x->r;
    const char *q = strchr(r->raw_url, '?');
    r->path = q ? arena_strndup(r->a, r->raw_url, (size_t)(q - r->raw_url)) : r->raw_url;
    r->query = q ? q + 1 : NULL;

    const char *route_method = method;
    bool options = strcmp(method, "OPTIONS") == 0;
    if (options) {
        const char *pre = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Access-Control-Request-Method");
        route_method = pre ? pre : "OPTIONS";
    }
    int rc = router_match(s->rt, r->a, route_method, r->path, &r->route, &r->nparams, r->param_names,
                          r->param_vals, &x->allow);
    if (options) {
        /* Answered in phase 3 (CORS preflight or the list of methods), never routed. */
        r->route = NULL;
        if (rc == ROUTER_NOT_FOUND || rc == ROUTER_BAD_PATH)
            x->allow = NULL;
        return -1;
    }
    if (rc == ROUTER_BAD_PATH) {
        fail_now(x, 400, "bad_request", "the path has a malformed %%-escape%s", "");
        return -1;
    }
    return rc == ROUTER_FOUND ? 0 : -1; /* 404/405 after the body is drained, in phase 3 */
}

/* The body's declared length: true with *n set when Content-Length is a plain number. */
static bool declared_length(struct MHD_Connection *conn, uint64_t *n)
{
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!cl)
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(cl, &end, 10);
    if (errno || end == cl || *end)
        return false;
    *n = v;
    return true;
}

/* The body the route takes: its size cap, an early answer to `Expect: 100-continue`,
 * its Content-Type; -1 when the request failed. */
static int check_body(server *s, conn_ctx *x, struct MHD_Connection *conn)
{
    req *r = &x->r;
    const route *rt = r->route;
    if (rt->body == BODY_UPLOAD)
        x->body_cap = (uint64_t)s->cfg->max_upload;
    if (rt->max_body)
        x->body_cap = rt->max_body(s->cfg);
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    uint64_t n;
    if (declared_length(conn, &n)) {
        if (n > x->body_cap) {
            fail_now(x, 413, "payload_too_large", "the request body is larger than %s bytes",
                     arena_printf(r->a, "%llu", (unsigned long long)x->body_cap));
            return -1;
        }
    }
    const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    bool has_body = (cl && strcmp(cl, "0") != 0) || te;
    if (has_body && (rt->auth == AUTH_USER || (rt->auth == AUTH_READ && s->cfg->private_mode)) &&
        early_auth(s, x) < 0)
        return -1;
    const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (rt->body == BODY_JSON) {
        if (has_body && ct && strncasecmp(ct, "application/json", 16) != 0 &&
            !(strncasecmp(ct, "application/", 12) == 0 && strstr(ct, "+json"))) {
            fail_now(x, 415, "unsupported_media_type", "expected Content-Type application/json, got %s",
                     arena_strndup(r->a, ct, 100));
            return -1;
        }
    }
    if (rt->body == BODY_FORM && (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0)) {
        fail_now(x, 415, "unsupported_media_type",
                 "expected an HTML form (application/x-www-form-urlencoded)%s", "");
        return -1;
    }
    return 0;
}

/* An upload goes to a temp file in the blob store's folder, hashed as it arrives. */
static void open_upload(server *s, conn_ctx *x)
{
    req *r = &x->r;
    struct upload *up = arena_zalloc(r->a, sizeof *up);
    const char *dir = core_tmp_dir(s->core);
    up->f = temp_file_new(r->a, dir, "upload");
    if (!up->f) {
        derr se;
        derr_storage(&se, errno, "the server's storage for uploads");
        log_error("cannot create an upload file", "dir", dir, "error", strerror(errno), NULL);
        fail_now(x, se.status, se.code, "%s", se.message);
        return;
    }
    sha256_init(&up->sha);
    x->up = up;
}

/* On a worker, while the connection is suspended before its body: the password credential of
 * a route that needs a user (early_auth). libmicrohttpd calls the handler again as on the first
 * call when the connection is resumed (RS_CHECKED). */
static void check_first(void *p)
{
    conn_ctx *x = p;
    server *s = x->r.srv;
    if (check_credential(s, x, req_header(&x->r, "Authorization")) < 0)
        x->failed = 1;
    else
        x->authed = 1;
    x->st = RS_CHECKED;
    MHD_resume_connection(x->r.conn);
}

/* Is the request well framed (checked before) with a small declared body and no `Expect:
 * 100-continue`, so that a refusal decided now is answered after its body (DRAIN_SMALL)? */
static int drain_first(struct MHD_Connection *conn)
{
    const char *ex = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
    uint64_t n;
    if (ex && strcasecmp(ex, "100-continue") == 0)
        return 0;
    return declared_length(conn, &n) && n > 0 && n <= DRAIN_SMALL;
}

/* Phase 1: headers are in. */
static void begin(server *s, conn_ctx *x, struct MHD_Connection *conn, const char *method, const char *version)
{
    req *r = &x->r;
    r->conn = conn;
    r->method = arena_strdup(r->a, method);
    identify(s, x, conn);
    x->st = RS_BODY;
    if (check_framing(x, conn, version) < 0 || check_head_size(s, x, conn) < 0)
        return;
    x->drain = drain_first(conn);
    x->body_cap = (uint64_t)s->cfg->max_body;
    if (find_route(s, x, conn, method) < 0 || check_body(s, x, conn) < 0)
        return;
    if (x->hash_first) {
        x->st = RS_CHECKING;
        MHD_suspend_connection(conn);
        workers_submit(s->wk, check_first, x);
        return;
    }
    if (r->route->body == BODY_UPLOAD)
        open_upload(s, x);
}

/* Phase 2: a piece of the body. */
static void absorb(server *s, conn_ctx *x, const char *data, size_t n)
{
    req *r = &x->r;
    x->body_seen += n;
    if (x->failed)
        return;
    if (x->body_seen > x->body_cap) {
        fail_now(x, 413, "payload_too_large", "the request body is larger than %s bytes",
                 arena_printf(r->a, "%llu", (unsigned long long)x->body_cap));
        return;
    }
    if (x->up) {
        sha256_update(&x->up->sha, data, n);
        while (n) {
            ssize_t w = write(x->up->f->fd, data, n);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                derr se;
                derr_storage(&se, w < 0 ? errno : ENOSPC, "the server's storage for uploads");
                log_error("cannot write an upload", "error", strerror(w < 0 ? errno : ENOSPC), NULL);
                metrics_blob_error();
                fail_now(x, se.status, se.code, "%s", se.message);
                temp_file_drop(x->up->f); /* free the disk now: the rest of the body is dropped */
                return;
            }
            data += w;
            n -= (size_t)w;
        }
        return;
    }
    if (r->route && (r->route->body == BODY_JSON || r->route->body == BODY_FORM))
        buf_append(&x->body, data, n); /* capped above */
}

/* The bucket a request spent from, as its client sees it: the most it holds (Limit), what is
 * left after this request (Remaining), and when it is full again (Reset, unix seconds). */
static void ratelimit_headers(conn_ctx *x)
{
    if (!x->rl_set || !x->r.resp)
        return;
    char v[32];
    snprintf(v, sizeof v, "%ld", x->rlv.limit);
    resp_header(&x->r, "X-RateLimit-Limit", v);
    snprintf(v, sizeof v, "%ld", x->rlv.remaining < 0 ? 0 : x->rlv.remaining);
    resp_header(&x->r, "X-RateLimit-Remaining", v);
    snprintf(v, sizeof v, "%lld", (long long)x->rlv.reset);
    resp_header(&x->r, "X-RateLimit-Reset", v);
}

/* Spends one request of cls's bucket: the client's IP for authentication and for anonymous
 * callers, the user otherwise. With dry, only looks. 0 when the request may go on, -1 after
 * answering 429 with Retry-After. */
static int rate_check(server *s, conn_ctx *x, enum rl_class cls, bool dry)
{
    req *r = &x->r;
    if (!s->cfg->rate_limit || cls < 0 || cls >= RL_NCLASS || rl_unlimited(&s->rules[cls]))
        return 0;
    char key[128];
    if (cls == RL_AUTH || r->who.kind == CRED_NONE)
        snprintf(key, sizeof key, "%s|ip:%s", route_rl_name(cls), r->ip);
    else
        snprintf(key, sizeof key, "%s|u:%lld", route_rl_name(cls), (long long)r->who.user_id);
    rl_verdict v;
    s->rl->ops->take(s->rl, key, &s->rules[cls], now_unix_ms(), dry, &v);
    if (!dry || !v.allowed) {
        x->rlv = v;
        x->rl_set = 1;
    }
    if (v.allowed)
        return 0;
    char msg[96];
    snprintf(msg, sizeof msg, "too many requests; try again in %lld seconds", (long long)v.retry_after);
    front_error(r, 429, "rate_limited", msg);
    resp_retry_after(r, v.retry_after);
    return -1;
}

/* The route set (front) a route belongs to, or NULL. */
static const route_set *front_of(const route *rt)
{
    const front *f = front_of_route(rt);
    return f ? &f->routes : NULL;
}

/* An authentication failure, in the front's own shape when it has one (route_set.auth_error);
 * a locked account's 429 (lockout.h) as the server's own 429s are. */
static void auth_fail(req *r, const derr *e)
{
    const route_set *rs = front_of(r->route);
    if (e->status == 429) {
        front_error(r, 429, e->code, e->message);
        resp_retry_after(r, e->retry_after);
    } else if (rs && rs->auth_error) {
        rs->auth_error(r, e);
    } else {
        resp_derr(r, e);
    }
}

/* A browser's session cookie (when no Authorization header was sent) becomes the principal.
 * A cookie that fails is ignored (the request is anonymous; the web front clears it), so a stale
 * cookie never turns a page into an error. Cookies ride along on cross-site requests, so on
 * another front's writes (anything but GET, HEAD, OPTIONS, and the GETs that write, such as pub's
 * publish steps) the cookie counts only with the session's CSRF token in X-CSRF-Token; the web
 * front checks its forms itself. */
static void session_cookie(server *s, req *r, const route *rt)
{
    const char *cookie = req_header(r, "Cookie");
    if (!cookie || !strstr(cookie, AUTH_SESSION_COOKIE "="))
        return;
    derr e;
    principal p;
    if (auth_session_cookie(s->core, r->a, cookie, &p, &e) != 1)
        return;
    const route_set *rs = front_of(rt);
    bool web = rs && strcmp(rs->front, "web") == 0;
    bool safe = (!strcmp(r->method, "GET") || !strcmp(r->method, "HEAD") || !strcmp(r->method, "OPTIONS")) &&
                !(rt && rt->get_writes);
    if (!web && !safe && !auth_csrf_ok(s->core, &p, req_header(r, "X-CSRF-Token")))
        return;
    r->who = p;
}

/* A GET or HEAD that matched no route, from a browser: the first front with a not_found hook
 * answers (an HTML 404). False when none does. */
static bool html_not_found(req *r)
{
    const char *accept = req_header(r, "Accept");
    if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD"))
        return false;
    if (!accept || !strstr(accept, "text/html"))
        return false;
    for (unsigned i = 0; i < server_nfronts; i++)
        if (server_fronts[i]->not_found) {
            server_fronts[i]->not_found(r);
            return r->resp != NULL;
        }
    return false;
}

/* What a request that matched no route spends from (it is answered 404, 405 or OPTIONS). */
static enum rl_class unrouted_class(const req *r)
{
    return strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0 ? RL_READ : RL_WRITE;
}

/* Phase 3 proper: authenticate, limit, handle. Runs on an event thread or a worker. */
static void run(server *s, conn_ctx *x)
{
    req *r = &x->r;
    const route *rt = r->route;
    if (x->up) {
        sha256_final(&x->up->sha, r->body_sha256);
        r->body_path = x->up->f->path;
        r->body_fd = x->up->f->fd;
        lseek(r->body_fd, 0, SEEK_SET);
    }
    r->body = x->body.data ? x->body.data : "";
    r->body_len = x->up ? (size_t)x->body_seen : x->body.len;

    /* Operational routes (health, metrics, the API description) ignore credentials, so a
     * probe that sends a stale one never sees the server as down. */
    const char *authz = x->authed || (rt && rt->auth == AUTH_NONE && rt->rl == RL_NONE)
                            ? NULL
                            : req_header(r, "Authorization");
    if (authz) {
        if (check_credential(s, x, authz) < 0)
            return;
    } else if (!x->authed && !(rt && rt->auth == AUTH_NONE && rt->rl == RL_NONE)) {
        session_cookie(s, r, rt);
    }
    if (rate_check(s, x, rt ? route_rate_class(rt) : unrouted_class(r), false) < 0)
        return;

    if (strcmp(r->method, "OPTIONS") == 0) {
        if (!x->allow) {
            resp_error(r, 404, "not_found", "no route for %s", r->path);
            return;
        }
        resp_empty(r, 204);
        resp_header(r, "Allow", x->allow);
        if (x->origin_ok) {
            resp_header(r, "Access-Control-Allow-Methods", x->allow);
            const char *h = req_header(r, "Access-Control-Request-Headers");
            resp_header(r, "Access-Control-Allow-Headers",
                        h ? h : "Authorization, Content-Type, X-Request-Id");
            resp_header(r, "Access-Control-Max-Age", "600");
        }
        return;
    }
    if (!rt) {
        if (x->allow) {
            resp_error(r, 405, "method_not_allowed", "%s is not allowed on %s; use %s", r->method,
                       r->path, x->allow);
            resp_header(r, "Allow", x->allow);
        } else if (!html_not_found(r)) {
            resp_error(r, 404, "not_found", "no route for %s %s", r->method, r->path);
        }
        return;
    }
    if (r->who.kind == CRED_NONE &&
        (rt->auth == AUTH_USER || (rt->auth == AUTH_READ && s->cfg->private_mode))) {
        derr e;
        derr_set(&e, 401, "unauthorized", "%s",
                 rt->auth == AUTH_USER ? "this needs a credential: log in or send a token"
                                       : "this server is private: send a token to read");
        auth_fail(r, &e);
        return;
    }
    rt->fn(r);
    if (!r->resp)
        resp_error(r, 500, "internal", "the handler gave no response");
    /* Every refusal of an action (not an owner, a token without the scope, a forged form, a
     * disabled account) is written down with who tried it. */
    if (r->status == 403)
        core_audit(s->core, r->who.user_id, "auth.forbidden", audit_target(r), NULL, r->ip);
}

static void run_job(void *p)
{
    conn_ctx *x = p;
    run(x->r.srv, x);
    x->st = RS_READY;
    MHD_resume_connection(x->r.conn);
}

/* Whether a route's handler may wait on a remote blob store (S3): when the
 * store is remote, every route that may reach it runs on the worker pool, so
 * that no event thread waits on the network. They are the uploads (publishing,
 * docs), the downloads (tarballs, docs sites, the registry documents of the
 * RL_READ class), the writes (pub's finalize reads the upload back, removing
 * docs deletes their blobs) and the operational routes (/health checks the
 * bucket). */
static bool reaches_remote_blobs(const server *s, const route *rt)
{
    if (!rt || !core_remote_blobs(s->core))
        return false;
    return rt->body == BODY_UPLOAD || rt->rl == RL_READ || route_writes(rt) ||
           (rt->auth == AUTH_NONE && rt->rl == RL_NONE);
}

static void dispatch(server *s, conn_ctx *x)
{
    req *r = &x->r;
    const char *authz = req_header(r, "Authorization");
    /* Uploads write and fsync blobs: a disk that stalls its writeback (seconds, under load) must
     * hold only the publishing request, never an event thread and every connection on it. */
    bool fsyncs = r->route && r->route->body == BODY_UPLOAD;
    if ((r->route && r->route->slow) || fsyncs || auth_header_is_slow(authz) || reaches_remote_blobs(s, r->route)) {
        x->st = RS_RUNNING;
        MHD_suspend_connection(r->conn);
        workers_submit(s->wk, run_job, x);
        return;
    }
    run(s, x);
    x->st = RS_READY;
}

/* The request in the metrics, once: when its answer is queued (so that a scrape right after an
 * answer counts it, and the duration is the time to the answer), else when it ends unanswered. */
static void count_request(conn_ctx *x)
{
    req *r = &x->r;
    if (x->counted)
        return;
    x->counted = 1;
    const char *rname = r->route ? (r->route->name ? r->route->name : r->route->pattern) : "unmatched";
    metrics_request_done(rname, r->method ? r->method : "?", r->status ? r->status : 499,
                         now_mono_ns() - x->t0);
}

static enum MHD_Result queue(server *s, conn_ctx *x)
{
    req *r = &x->r;
    if (!r->resp)
        resp_error(r, 500, "internal", "no response");
    ratelimit_headers(x);
    resp_header(r, "X-Request-Id", r->request_id);
    if (x->origin_ok) {
        resp_header(r, "Access-Control-Allow-Origin", x->origin_ok);
        resp_header(r, "Access-Control-Allow-Credentials", "true");
        resp_header(r, "Access-Control-Expose-Headers",
                    "ETag, X-Request-Id, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After");
        resp_header(r, "Vary", "Origin");
    }
    /* A response that sets no policy of its own (everything but the dashboard's pages and the
     * hosted docs: JSON, registry files, tarballs) is never sniffed, rendered with script,
     * or framed, should a browser be led to open it. */
    if (!MHD_get_response_header(r->resp, "X-Content-Type-Options"))
        resp_header(r, "X-Content-Type-Options", "nosniff");
    if (!MHD_get_response_header(r->resp, "Content-Security-Policy"))
        resp_header(r, "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; sandbox");
    /* Browsers reach this server over HTTPS only (TLS here, or an https:// --base-url behind a
     * TLS proxy): they are told to never try plain HTTP again (a year, this host only). */
    if (s->cfg->https)
        resp_header(r, "Strict-Transport-Security", "max-age=31536000");
    if (atomic_load(&s->stopping))
        resp_header(r, "Connection", "close");
    x->st = RS_QUEUED;
    count_request(x);
    arena_release(r->a); /* the request's temp files are gone before the client reads its answer */
    enum MHD_Result ok = MHD_queue_response(r->conn, (unsigned)r->status, r->resp);
    MHD_destroy_response(r->resp);
    r->resp = NULL;
    return ok;
}

/* ---- libmicrohttpd callbacks ---- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    server *s = cls;
    conn_ctx *x;
    arena *a = arena_new(8192);
    x = arena_zalloc(a, sizeof *x);
    x->r.a = a;
    x->r.srv = s;
    x->r.cfg = s->cfg;
    x->r.core = s->core;
    x->r.body_fd = -1;
    x->r.raw_url = arena_strdup(a, uri);
    x->t0 = now_mono_ns();
    buf_init(&x->body, 0);
    metrics_request_start();
    return x;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **cc)
{
    server *s = cls;
    conn_ctx *x = *cc;
    if (!x)
        return MHD_NO;
    switch (x->st) {
    case RS_NEW:
        begin(s, x, conn, method, version);
        return x->failed && !x->drain ? queue(s, x) : MHD_YES;
    case RS_CHECKING:
        *size = 0;
        return MHD_YES;
    case RS_CHECKED:
        x->st = RS_BODY;
        if (!x->failed && x->r.route->body == BODY_UPLOAD)
            open_upload(s, x);
        if (x->failed && !x->drain)
            return queue(s, x);
        if (!*size)
            return MHD_YES;
        __attribute__((fallthrough));
    case RS_BODY:
        if (*size) {
            absorb(s, x, data, *size);
            *size = 0;
            if (x->body_seen > x->body_cap + DRAIN_MAX ||
                now_mono_ns() - x->t0 > (uint64_t)s->cfg->request_timeout * 1000000000u) {
                log_warn("closing a connection: request body too large or too slow", "request_id",
                         x->r.request_id, "ip", x->r.ip, NULL);
                return MHD_NO;
            }
            return MHD_YES;
        }
        if (x->failed)
            return queue(s, x);
        dispatch(s, x);
        return x->st == RS_READY ? queue(s, x) : MHD_YES;
    case RS_RUNNING:
        /* Should not be called while suspended; be safe. */
        *size = 0;
        return MHD_YES;
    case RS_READY:
        *size = 0;
        return queue(s, x);
    case RS_QUEUED:
        *size = 0;
        return MHD_YES;
    }
    return MHD_NO;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **cc,
                         enum MHD_RequestTerminationCode why)
{
    conn_ctx *x = *cc;
    if (!x)
        return;
    *cc = NULL;
    req *r = &x->r;
    count_request(x);
    uint64_t ns = now_mono_ns() - x->t0;
    int status = r->status ? r->status : 499;
    if (log_enabled(LOG_INFO)) {
        char st[16], bytes[32], dur[32];
        snprintf(st, sizeof st, "%d", status);
        snprintf(bytes, sizeof bytes, "%llu", (unsigned long long)r->resp_bytes);
        snprintf(dur, sizeof dur, "%.3f", (double)ns / 1e6);
        log_info("request", "method", r->method ? r->method : "?", "path",
                 redact_path(r->a, r->raw_url, r->route),
                 "status", st, "bytes", bytes, "duration_ms", dur, "request_id", r->request_id, "user",
                 r->who.username ? r->who.username : "-", "ip", r->ip ? r->ip : "-",
                 why == MHD_REQUEST_TERMINATED_COMPLETED_OK ? NULL : "aborted",
                 why == MHD_REQUEST_TERMINATED_COMPLETED_OK ? NULL : "true", NULL);
    }
    buf_free(&x->body);
    if (r->resp)
        MHD_destroy_response(r->resp);
    arena_free(r->a);
}

static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
    return strlen(s);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    server *s = cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    pthread_mutex_lock(&s->mhd_err_lock);
    size_t keep = n < sizeof s->mhd_err ? n : sizeof s->mhd_err - 1; /* a long complaint is cut */
    memcpy(s->mhd_err, msg, keep);
    s->mhd_err[keep] = '\0';
    pthread_mutex_unlock(&s->mhd_err_lock);
    log_debug("libmicrohttpd", "detail", msg, NULL);
}

/* ---- life cycle ---- */

server *server_new(const config *cfg, core *c, derr *e)
{
    server *s = xcalloc(1, sizeof *s);
    s->cfg = cfg;
    s->core = c;
    s->rt = router_new(server_fronts, server_nfronts);
    if (netaddr_list_parse(cfg->trusted_proxies, &s->proxies, e) < 0) {
        router_free(s->rt);
        free(s);
        return NULL;
    }
    s->rl = cfg->redis_url && cfg->redis_url[0] ? ratelimit_redis_new(cfg->redis_url, e) : ratelimit_memory_new();
    if (!s->rl) {
        router_free(s->rt);
        free(s);
        return NULL;
    }
    for (int i = 0; i < RL_NCLASS; i++)
        s->rules[i] = rl_rule_per_hour(cfg->rate[i][0], cfg->rate[i][1]);
    if (cfg->rate_limit)
        core_set_limiter(c, s->rl); /* failed logins per account (lockout.h) */
    pthread_mutex_init(&s->mhd_err_lock, NULL);
    cors_parse(s);
    metrics_init();
    return s;
}

static int resolve_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len, derr *e)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    size_t hl = (size_t)(colon - listen);
    if (hl >= sizeof host)
        return derr_set(e, 400, "config", "--listen: host too long");
    memcpy(host, listen, hl);
    host[hl] = '\0';
    char *h = host;
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
        h[hl - 1] = '\0';
        h++;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *res;
    int rc = getaddrinfo(*h ? h : NULL, colon + 1, &hints, &res);
    if (rc != 0)
        return derr_set(e, 400, "config", "--listen %s: %s", listen, gai_strerror(rc));
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

/* Binds here, so a taken port fails plainly and port 0 is known before serving:
 * the listening socket, or -1 (e filled). */
static int bind_listener(server *s, const struct sockaddr_storage *ss, socklen_t sl, derr *e)
{
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (const struct sockaddr *)ss, sl) < 0 || listen(fd, 1024) < 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        return derr_set(e, 500, "listen", "cannot listen on %s: %s", s->cfg->listen, strerror(err));
    }
    return fd;
}

/* The port the daemon got, the base URL made from it when it was derived, and the log line. */
static void announce(server *s, bool tls, unsigned threads)
{
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : 0;
    char addr[300], url[600];
    const char *colon = strrchr(s->cfg->listen, ':');
    snprintf(addr, sizeof addr, "%.*s:%d", (int)(colon - s->cfg->listen), s->cfg->listen, s->port);
    snprintf(url, sizeof url, "%s://%s", tls ? "https" : "http", addr);
    char nt[16];
    snprintf(nt, sizeof nt, "%u", threads);
    if (s->cfg->base_url_derived) {
        /* Port 0 became a real port: every URL the server prints must carry it. Nothing
         * is served yet, so the settings may still change. */
        s->bound_url = xstrdup(url);
        ((config *)s->cfg)->base_url = s->bound_url;
    }
    log_info("listening", "addr", addr, "url", url, "base_url", s->cfg->base_url, "threads", nt, "tls",
             tls ? "on" : "off", NULL);
}

int server_start(server *s, derr *e)
{
    struct sockaddr_storage ss;
    socklen_t sl = 0;
    bool tls = s->cfg->tls_cert[0] != '\0';
    if (tls && !tls_supported())
        return derr_set(e, 500, "config",
                        "--tls-cert: this libmicrohttpd was built without TLS; serve plain HTTP behind a "
                        "TLS-terminating proxy, or link one built with GnuTLS");
    if (tls && !s->tls.cert && tls_load(s->cfg->tls_cert, s->cfg->tls_key, &s->tls, e) < 0)
        return -1;
    if (resolve_listen(s->cfg->listen, &ss, &sl, e) < 0)
        return -1;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (ncpu < 1)
        ncpu = 1;
    unsigned threads = (unsigned)(s->cfg->threads ? s->cfg->threads : ncpu);
    int nworkers = (int)(s->cfg->workers ? s->cfg->workers : (ncpu < 2 ? 2 : ncpu));
    /* Work that waits on a remote blob store waits on the network, not a core: more threads. */
    if (!s->cfg->workers && core_remote_blobs(s->core) && nworkers < 16)
        nworkers = 16;
    s->wk = workers_start(nworkers);

    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* With TLS, libmicrohttpd never uses sendfile: file responses (resp_fd) are read and
     * encrypted piece by piece, so every response path works the same. TLS 1.2 and 1.3 only. */
    struct MHD_OptionItem tls_opts[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls.cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls.key},
        {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"},
        {MHD_OPTION_END, 0, NULL},
    };
    if (tls)
        flags |= MHD_USE_TLS;
    else
        tls_opts[0].option = MHD_OPTION_END;
    int fd = bind_listener(s, &ss, sl, e);
    if (fd < 0) {
        workers_stop(s->wk);
        s->wk = NULL;
        return -1;
    }
    size_t memlimit = (size_t)(s->cfg->max_headers + s->cfg->max_url) + 16384;
    s->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)s->cfg->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)s->cfg->max_connections_per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)s->cfg->connection_timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT, memlimit,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
        MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
    if (!s->d) {
        close(fd);
        workers_stop(s->wk);
        s->wk = NULL;
        pthread_mutex_lock(&s->mhd_err_lock);
        derr_set(e, 500, "listen", "cannot serve on %s%s%.160s", s->cfg->listen, s->mhd_err[0] ? ": " : "",
                 s->mhd_err);
        pthread_mutex_unlock(&s->mhd_err_lock);
        return -1;
    }
    announce(s, tls, threads);
    return 0;
}

int server_port(const server *s)
{
    return s->port;
}

void server_stop(server *s)
{
    if (!s->d)
        return;
    atomic_store(&s->stopping, true);
    MHD_socket ls = MHD_quiesce_daemon(s->d);
    if (ls != MHD_INVALID_SOCKET)
        close(ls);
    uint64_t deadline = now_mono_ns() + (uint64_t)s->cfg->shutdown_timeout * 1000000000u;
    long left;
    while ((left = metrics_in_flight()) > 0 && now_mono_ns() < deadline)
        usleep(10000);
    if (left > 0) {
        char n[24];
        snprintf(n, sizeof n, "%ld", left);
        log_warn("shutdown timeout: closing requests still in flight", "count", n, NULL);
    }
    MHD_stop_daemon(s->d);
    s->d = NULL;
    workers_stop(s->wk);
    s->wk = NULL;
}

void server_free(server *s)
{
    if (!s)
        return;
    if (s->d)
        server_stop(s);
    router_free(s->rt);
    core_set_limiter(s->core, NULL);
    if (s->rl)
        s->rl->ops->free(s->rl);
    for (int i = 0; i < s->ncors; i++)
        free(s->cors[i]);
    free(s->cors);
    free(s->bound_url);
    tls_pem_free(&s->tls);
    pthread_mutex_destroy(&s->mhd_err_lock);
    free(s);
}
