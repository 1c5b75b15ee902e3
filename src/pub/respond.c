/*
 * respond.c — how the pub front answers: absolute URLs from the configured
 * base URL, ASCII JSON with pub's content type, and errors in the pub
 * shape. 401 and 403 carry exactly one challenge,
 *   WWW-Authenticate: Bearer realm="pub", message="..."
 * because the client drops the message unless it can parse every challenge
 * in the header (RFC 7235 list syntax), and only reads a bearer challenge
 * whose realm is "pub" (fact sheet §3.4; dart-lang/pub
 * lib/src/authentication/client.dart). A 401 makes the client delete its
 * stored token, so 401 is kept for credentials that are missing or wrong;
 * a valid credential without permission gets 403.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/packages.h"
#include "../lib/log.h"
#include "../lib/url.h"
#include "pub.h"

const char *pub_hosted_url(req *r)
{
    return arena_printf(r->a, "%s%s", r->cfg->base_url, PUB_MOUNT);
}

const char *pub_url(req *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *path = arena_vprintf(r->a, fmt, ap);
    va_end(ap);
    return arena_printf(r->a, "%s%s%s", r->cfg->base_url, PUB_MOUNT, path);
}

const char *pub_seg(req *r, const char *s)
{
    return url_encode(r->a, s, NULL);
}

void pub_json(req *r, int status, json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(doc);
    if (!text) {
        resp_error(r, 500, "internal", "cannot render the response");
        return;
    }
    resp_bytes(r, status, PUB_CTYPE, text, strlen(text));
    free(text);
}

/* The message as a quoted-string the client's challenge parser takes whole: printable ASCII
 * only, '"' as '\'', '\\' as '/', white space runs as one space, at most 1024 characters
 * (pub.dev escapes the same way; the client sanitizes to code points 32..127 anyway). */
static const char *challenge(req *r, const char *msg)
{
    size_t n = strlen(msg);
    char *o = arena_alloc(r->a, (n < 1024 ? n : 1024) + 1);
    size_t w = 0;
    bool space = false;
    for (size_t i = 0; i < n && w < 1024; i++) {
        unsigned char c = (unsigned char)msg[i];
        if (c <= ' ' || c >= 127) {
            if (!space && w > 0)
                o[w++] = ' ';
            space = true;
            continue;
        }
        space = false;
        o[w++] = c == '"' ? '\'' : c == '\\' ? '/' : (char)c;
    }
    while (w > 0 && o[w - 1] == ' ')
        w--;
    o[w] = '\0';
    return arena_printf(r->a, "Bearer realm=\"pub\", message=\"%s\"", o);
}

void pub_error(req *r, int status, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = resp_vmessage(r, fmt, ap);
    va_end(ap);
    if (status >= 500) {
        /* Logged with the request id; the client sees only that much. */
        resp_error(r, status, code, "%s", msg);
        return;
    }
    pub_json(r, status, resp_error_doc(code, msg));
    if (status == 401 || status == 403) {
        const char *text = msg;
        if (status == 401)
            text = arena_printf(r->a,
                                "%s. Create a depot API token with the scopes read and publish:pub (POST "
                                "%s/api/v1/tokens, or `depot token create` on the server)",
                                msg, r->cfg->base_url);
        resp_header(r, "WWW-Authenticate", challenge(r, text));
    }
}

void pub_front_error(req *r, const derr *e)
{
    int status = e->status ? e->status : 500;
    if (status >= 500) {
        resp_derr_plain(r, e);
        return;
    }
    pub_error(r, status, e->code ? e->code : "bad_request", "%s", e->message);
}

void pub_auth_error(req *r, const derr *e)
{
    pub_front_error(r, e);
}

int pub_load_package(req *r, const char *name, package_row *p)
{
    derr e;
    if (packages_get(r->core, r->a, PUB, name, p, &e) < 0) {
        resp_derr(r, &e);
        return -1;
    }
    if (strcmp(p->name, name) != 0) {
        pub_error(r, 404, "not_found",
                  "no package named '%s' (package names are case-sensitive; did you mean '%s'?)", name,
                  p->name);
        return -1;
    }
    return 0;
}
