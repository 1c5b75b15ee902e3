/*
 * misc.c — the npm front's small answers: its error shape, ping, the audit
 * endpoint, and the catch-all that keeps unknown /npm/ paths in npm's shape.
 *
 * Audit: npm install, ci and audit POST every installed name and version
 * (gzip-compressed JSON) to .../security/advisories/bulk. depot keeps no
 * advisory database, so the answer is always {} ("no vulnerabilities"),
 * which makes installs print "found 0 vulnerabilities" instead of an
 * error. The body is not even read: its size is capped by the route.
 */
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../lib/json.h"
#include "../lib/log.h"
#include "npm.h"

/* A 401 names both challenges, Bearer first: npm then says "your authentication token seems to
 * be invalid" and suggests npm login. */
void npm_error(req *r, int status, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = resp_vmessage(r, fmt, ap);
    va_end(ap);
    if (status >= 500)
        log_error("request failed", "request_id", r->request_id, "status", code, "message", msg, NULL);
    if (status >= 500 && status != 503 && status != 507) { /* those say what to do, not how */
        snprintf(msg, RESP_MESSAGE_MAX, "the server failed (request %s); the log has the detail", r->request_id);
    }
    json_t *doc = json_object();
    json_object_set_new(doc, "error", json_string(msg));
    json_object_set_new(doc, "code", json_string(code));
    resp_json(r, status, doc);
    if (status == 401) {
        resp_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"depot\"");
        resp_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic realm=\"depot\"");
    }
}

void npm_front_error(req *r, const derr *e)
{
    int status = e->status ? e->status : 500;
    npm_error(r, status, e->code ? e->code : "internal", "%s", e->message);
}

void npm_ok(req *r, int status, const char *ok)
{
    json_t *doc = json_object();
    json_object_set_new(doc, "ok", json_string(ok));
    json_object_set_new(doc, "success", json_true());
    resp_json(r, status, doc);
}

void npm_ping(req *r)
{
    resp_json(r, 200, json_object());
}

void npm_audit(req *r)
{
    resp_json(r, 200, json_object());
}

void npm_not_found(req *r)
{
    npm_error(r, 404, "not_found", "depot's npm registry has no %s %s", r->method, r->path);
}
