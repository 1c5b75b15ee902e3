/*
 * http.h — what a handler sees: the request, its principal, and the calls
 * that set its response. Everything here lives in the request's arena.
 *
 * A handler runs to completion on one thread (an event thread, or a worker
 * for routes marked slow) and must set exactly one response through the
 * resp_* calls; a handler that sets none answers 500.
 */
#ifndef DEPOT_HTTP_H
#define DEPOT_HTTP_H

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/auth.h"
#include "../core/config.h"
#include "../core/documents.h"
#include "../core/types.h"
#include "../lib/arena.h"
#include "../lib/err.h"

struct MHD_Connection;
struct MHD_Response;
typedef struct server server;
typedef struct req req;

#define ROUTE_MAX_PARAMS 8

/* How a route takes a request body. */
enum body_kind {
    BODY_NONE,   /* none expected; one sent is read and dropped, capped by max-body */
    BODY_JSON,   /* kept in memory, capped by --max-body, Content-Type must be JSON */
    BODY_UPLOAD, /* streamed to a temp file with its SHA-256, capped by --max-upload */
    BODY_FORM,   /* an HTML form: kept in memory, capped by --max-body, Content-Type must be
                  * application/x-www-form-urlencoded */
};

/* Who may call a route, checked before the handler runs. */
enum route_auth {
    AUTH_READ,  /* anyone, unless --private (then the read scope) */
    AUTH_USER,  /* any valid credential */
    AUTH_NONE,  /* anyone, even with --private (health, register, login) */
};

/* What a route runs; fronts declare theirs with it ("handler a, b, c;"), one list a file. */
typedef void handler(req *r);
typedef handler *handler_fn;

typedef struct route {
    const char *method;
    const char *pattern; /* "/api/v1/tokens/{name}"; a last segment "{rest*}" takes the rest */
    handler_fn fn;
    const char *name;    /* for metrics and logs; the pattern when NULL */
    enum body_kind body;
    enum route_auth auth;
    enum rl_class rl;    /* rate-limit class, RL_NONE: not limited */
    bool slow;           /* run on the worker pool (password hashing and the like) */
    /* The largest body this route takes, from the settings; NULL: --max-body for JSON and
     * forms, --max-upload for uploads. A declared size over it is refused before the body. */
    uint64_t (*max_body)(const config *cfg);
    /* A GET that changes stored state (pub's publish steps, which the client sends as GETs).
     * Every route of another method is taken to write; `depot routes` lists both. */
    bool get_writes;
    /* The name of a path parameter that is a secret (npm's logout names its token in the path):
     * the access log and the audit log show "[redacted]" in its place (redact.h). */
    const char *secret_param;
} route;

/* A front's routes: one table per front, in its descriptor (front.h), listed once in the table
 * of fronts. */
typedef struct route_set {
    const char *front;
    const route *routes;
    size_t n;
    /* Optional: answers an authentication failure on this front's routes in the front's own
     * shape (pub's `WWW-Authenticate: Bearer realm="pub"`, Hex's error terms) instead of the
     * generic resp_derr. The server calls it for a credential that fails (e carries the 401, or
     * 403 for a disabled account, or a 5xx when the store failed) and for the 401 of an AUTH_USER
     * route, or an AUTH_READ route under --private, called without a credential. It must set a
     * response. NULL: the generic error. */
    void (*auth_error)(req *r, const derr *e);
    /* Optional: answers the errors the server itself gives on this front's routes once they are
     * routed (413 too large, 415 content type, 429 rate limited, 400 malformed path) in the front's
     * own shape, so its clients print the message (npm shows an object as "[object Object]").
     * It must set a response; the server adds Retry-After to a 429 after it. NULL: the generic. */
    void (*error)(req *r, const derr *e);
    /* Optional: answers a GET or HEAD that no route matches when the client asks for HTML (a
     * browser: Accept has text/html), in place of the JSON 404. The first front that has one
     * answers. It must set a response. */
    void (*not_found)(req *r);
} route_set;

struct req {
    arena *a;
    server *srv;
    const config *cfg;
    struct core *core;
    struct MHD_Connection *conn;

    const char *method;   /* "GET" ... (HEAD routes as GET) */
    const char *raw_url;  /* as sent: path and query */
    const char *path;     /* raw path, not decoded */
    const char *query;    /* raw query without '?', or NULL */
    const route *route;
    int nparams;
    const char *param_names[ROUTE_MAX_PARAMS];
    const char *param_vals[ROUTE_MAX_PARAMS]; /* percent-decoded */
    const char *ip;
    char request_id[72];

    /* Body: in memory for BODY_JSON; in body_path (an open fd) for BODY_UPLOAD. */
    const char *body;
    size_t body_len;
    const char *body_path;
    int body_fd;
    unsigned char body_sha256[32];

    principal who;        /* kind CRED_NONE when anonymous */

    /* Response, set by resp_*. */
    int status;
    struct MHD_Response *resp;
    uint64_t resp_bytes;
    bool no_cache_headers;
};

/* The value of a path parameter, percent-decoded; NULL when the route has none by that name. */
const char *req_param(req *r, const char *name);
/* A query parameter, percent-decoded ('+' is a space); NULL when absent. */
const char *req_query(req *r, const char *name);
/* A request header (case-insensitive name); NULL when absent. */
const char *req_header(req *r, const char *name);
/* A whole number from the query: def when the parameter is absent or empty. 0, or -1 with a
 * 400 "bad_request" "<name>: expected a whole number from <min> to <max>" (nothing answered). */
int req_query_num(req *r, const char *name, long def, long min, long max, long *out, derr *e);
/* The absolute URL of a path under the server's base URL (printf-style, in the arena). */
const char *req_url(req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The host name of the base URL, without scheme, port or path ("localhost" when it has none): the
 * domain of addresses the server makes up (mail's sender, npm's no-reply addresses). */
const char *req_host(req *r);
/* The body as a JSON object (freed with the request), or NULL after answering 400 (the handler
 * just returns): req_json in depot's own error shape, req_json_front in the route's front's. */
json_t *req_json(req *r);
json_t *req_json_front(req *r);

/* Responses. Each replaces any earlier one. */
void resp_json(req *r, int status, json_t *doc);                /* steals doc */
void resp_bytes(req *r, int status, const char *ctype, const void *p, size_t n); /* copies */
void resp_static(req *r, int status, const char *ctype, const void *p, size_t n); /* borrowed, must outlive the response */
void resp_fd(req *r, int status, const char *ctype, int fd, uint64_t size);   /* takes the fd */
/* Sends stored bytes whatever core handed out (core/types.h): an fd with sendfile; bytes a remote
 * store is still fetching, the connection suspended while the client is ahead of them; or, for a
 * CONTENT_REDIRECT, a 302 to its URL (status and ctype unused; `Cache-Control: no-store`, since
 * the URL expires). Takes what br holds and empties it. Returns true when the response carries
 * the bytes (add ETag, Cache-Control ... then), false for the redirect (add nothing: a
 * long-lived cache header would outlive the URL). */
bool resp_blob(req *r, int status, const char *ctype, content_reader *br);
/* Answers a GET or HEAD of a version's tarball (download.c), the same way for every front: 304
 * when If-None-Match names its SHA-256; else the bytes (a download counted for a GET) with
 * ETag and `Cache-Control: public, max-age=31536000, immutable` (private under --private), or
 * the redirect of --blob-redirect. `replace_window`: seconds after publication during which
 * owners may still replace a version's bytes (its ecosystem's replace window; 0: never); until
 * then they are kept an hour, not a year.
 * Returns 1 when the bytes went out (the front may add its own headers), 0 when answered
 * otherwise, -1 with e filled when the bytes cannot be opened: nothing was sent, the front
 * answers in its own error shape. */
int resp_tarball(req *r, const version_row *v, const char *ctype, long replace_window, derr *e);
/* The same for the version of ecosystem eco's package that the names give, with eco's replace
 * window; a package or version that is not there, or bytes that cannot be opened, are answered
 * by resp_derr. */
void resp_version_tarball(req *r, const char *eco, const char *name, const char *version, const char *ctype);
void resp_empty(req *r, int status);
/* Runs the catalog search q for the request (catalog_search, rows in the request's arena).
 * Returns 0 with hits filled, or -1 when it failed and the failure was answered by resp_derr,
 * in the route's front's shape. Borrowed: q. */
/* The caller's own account (r->who's user). Returns 0 with u filled, or -1 when it failed and
 * the failure was answered by resp_derr. */
int resp_account(req *r, user_row *u);
/* documents_get for the request (its arena): the cached document for key at generation gen, or
 * the builder's fresh one. NULL when the builder failed and the failure was answered by
 * resp_derr; else a reference to release (documents_release) after the response is sent. */
doc_ref *resp_document(req *r, const char *key, int64_t gen, doc_builder build, void *ctx, const cdoc **out);
struct search_hits;
int resp_search(req *r, const package_query *q, struct search_hits *hits);
/* The longest error message a client is sent, with its terminating NUL; longer ones are cut. */
#define RESP_MESSAGE_MAX 512
/* fmt with ap, formatted into the request's arena in a buffer of RESP_MESSAGE_MAX bytes, cut
 * like every error message so that each front's answers stay the same. */
char *resp_vmessage(req *r, const char *fmt, va_list ap);
/* The error document {"error": {"code": code, "message": message}} that resp_error sends (pub
 * answers in the same shape, with its own escaping). */
json_t *resp_error_doc(const char *code, const char *message);
void resp_error(req *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A core error in the shape of the route's front (front.h's error hook); depot's own shape when
 * the front has none or the request was not routed. 5xx detail never reaches the client. */
void resp_derr(req *r, const derr *e);
/* The same in depot's own shape {"error": {"code", "message"}}, whatever the front. */
void resp_derr_plain(req *r, const derr *e);
/* Adds Retry-After: seconds, when seconds > 0 (a 429's wait; resp_derr and resp_derr_plain add
 * derr.retry_after themselves). */
void resp_retry_after(req *r, int64_t seconds);
/* Sends a cached document (core/documents.h) and keeps it alive until sent: 304 when
 * If-None-Match has its ETag, the gzip variant when the client accepts gzip. Takes the
 * reference. */
struct cdoc;
struct doc_ref;
void resp_doc(req *r, struct doc_ref *ref, const struct cdoc *d);
/* 304 when the request's If-None-Match names etag (a quoted strong tag); then the handler is done. */
bool req_not_modified(req *r, const char *etag);

/* Adds a header to the response already set. */
void resp_header(req *r, const char *name, const char *value);

#endif
