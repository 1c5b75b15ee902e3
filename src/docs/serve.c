/*
 * serve.c — serving hosted docs sites: GET /docs/{ecosystem}/{name}/{version}/{path}.
 *
 * A site's files are sent from their blobs with zero copies, with the file's
 * SHA-256 as a strong ETag. A version without its trailing slash is
 * redirected to it (301) so that the pages' relative links resolve inside
 * the site, and a package's URL to its latest docs (302). Locations are
 * relative ("./1.2.0/"), so they stay right behind a proxy that serves
 * /docs under another origin or prefix (--docs-url).
 *
 * Uploaded pages are untrusted HTML and scripts on our origin. Every
 * response here carries `Content-Security-Policy: sandbox ...` without
 * allow-same-origin: a page (and any SVG or HTML file opened directly) runs
 * with an opaque origin, so it cannot read the registry's storage or
 * cookies, and the browser treats its requests to the API as cross-origin.
 * There is deliberately no Cross-Origin-Resource-Policy: same-origin — a
 * sandboxed page's origin is opaque, so that header would block the site's
 * own stylesheets, scripts and images (checked in Chromium). For the same
 * reason a page's own requests that need CORS (ES modules, fetch of its
 * search index) arrive with `Origin: null`; files answer those with
 * `Access-Control-Allow-Origin: *`, which lets no credentialed request
 * through, so it shows nothing a credential-less request could not get.
 *
 * npm scoped packages may be spelled "@scope%2Fname" (one segment) or
 * "@scope/name" (two); the second shifts every later segment by one, which
 * docs_serve undoes before it looks anything up.
 */
#include <string.h>
#include <unistd.h>

#include "../core/docs.h"
#include "../core/ecosystem.h"
#include "../lib/url.h"
#include "front.h"

static const char CSP[] = "sandbox allow-scripts allow-popups allow-forms; "
                          "default-src 'self' 'unsafe-inline' data:";

/* The headers every docs response carries, errors and redirects included. */
static void guard(req *r)
{
    resp_header(r, "Content-Security-Policy", CSP);
    resp_header(r, "X-Content-Type-Options", "nosniff");
    resp_header(r, "Referrer-Policy", "no-referrer");
}

/* Is "*" one of the --cors-origins (then the server reflects every Origin itself)? */
static bool cors_any(const char *list)
{
    for (const char *p = list ? list : ""; *p;) {
        p += strspn(p, ", ");
        size_t n = strcspn(p, ", ");
        if (n == 1 && *p == '*')
            return true;
        p += n;
    }
    return false;
}

/* What a file answer adds for a sandboxed page's own CORS requests (see the top). */
static void cors_for_sandbox(req *r)
{
    const char *origin = req_header(r, "Origin");
    resp_header(r, "Vary", "Origin");
    if (origin && strcmp(origin, "null") == 0 && !cors_any(r->cfg->cors_origins))
        resp_header(r, "Access-Control-Allow-Origin", "*");
}

static void fail(req *r, const derr *e)
{
    resp_derr(r, e);
    guard(r);
}

/* Percent-encodes one path segment (in the arena); "@" stays, for npm scopes. */
static const char *seg(req *r, const char *s)
{
    return url_encode(r->a, s, "@");
}

/* The raw last segment of the request's path (after its last '/'). */
static const char *last_seg(req *r)
{
    const char *s = strrchr(r->path, '/');
    return s ? s + 1 : r->path;
}

static void redirect(req *r, int status, const char *location, const char *cache)
{
    resp_empty(r, status);
    resp_header(r, "Location", location);
    resp_header(r, "Cache-Control", cache);
    guard(r);
}

/* A URL path segment of "." or ".." (a browser resolves them before asking; only a crafted
 * request carries one). */
static bool has_dot_segment(const char *path)
{
    for (const char *p = path;;) {
        size_t n = strcspn(p, "/");
        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return true;
        if (!p[n])
            return false;
        p += n + 1;
    }
}

void docs_serve(req *r)
{
    derr e;
    const char *eco = req_param(r, "ecosystem");
    const char *name = req_param(r, "name");
    const char *version = req_param(r, "version"); /* NULL on the package routes */
    const char *path = req_param(r, "path");       /* NULL unless the URL goes past the version */
    size_t plen = strlen(r->path);
    bool slash = plen && r->path[plen - 1] == '/';

    if (!ecosystem_find(eco)) {
        derr_set(&e, 404, "not_found", "no ecosystem '%s' (one of %s)", seg(r, eco),
                 ecosystem_names(r->a, ", ", ", "));
        fail(r, &e);
        return;
    }
    if (name[0] == '@' && !strchr(name, '/')) {
        /* "@scope/name/..." spelled with a real slash: shift by one. */
        if (!version) {
            derr_set(&e, 404, "not_found", "'%s' is a scope, not a package", seg(r, name));
            fail(r, &e);
            return;
        }
        name = arena_printf(r->a, "%s/%s", name, version);
        version = NULL;
        if (path) {
            const char *s = strchr(path, '/');
            version = s ? arena_strndup(r->a, path, (size_t)(s - path)) : path;
            path = s ? s + 1 : NULL;
        }
    }

    if (!version) {
        const char *latest;
        if (docs_latest(r->core, r->a, eco, name, &latest, &e) < 0) {
            fail(r, &e);
            return;
        }
        const char *loc = slash ? arena_printf(r->a, "./%s/", seg(r, latest))
                                : arena_printf(r->a, "./%s/%s/", last_seg(r), seg(r, latest));
        redirect(r, 302, loc, "no-cache");
        return;
    }
    if (!path && !slash) {
        redirect(r, 301, arena_printf(r->a, "./%s/", last_seg(r)), "public, max-age=3600");
        return;
    }
    if (!path)
        path = "";
    if (*path && has_dot_segment(path)) {
        derr_set(&e, 400, "bad_request", "the path has a '.' or '..' segment");
        fail(r, &e);
        return;
    }

    content_reader br;
    const char *ctype, *sha;
    if (docs_open(r->core, r->a, eco, name, version, path, &br, &ctype, &sha, &e) < 0) {
        /* A folder asked for without its trailing slash: send the browser into it. */
        size_t n = strlen(path);
        if (e.status == 404 && n && path[n - 1] != '/') {
            derr e2;
            if (docs_open(r->core, r->a, eco, name, version, arena_printf(r->a, "%s/", path), &br, &ctype,
                          &sha, &e2) == 0) {
                content_close(&br);
                redirect(r, 301, arena_printf(r->a, "./%s/", last_seg(r)), "public, max-age=3600");
                return;
            }
        }
        fail(r, &e);
        return;
    }
    /* Files change only by a new upload, which changes their hash and so the ETag; a short
     * max-age keeps a replaced or removed site from lingering in browsers. */
    const char *cache = r->cfg->private_mode ? "private, max-age=300" : "public, max-age=300";
    const char *etag = arena_printf(r->a, "\"%s\"", sha);
    if (req_not_modified(r, etag)) {
        content_close(&br);
        resp_header(r, "Cache-Control", cache);
        cors_for_sandbox(r);
        guard(r);
        return;
    }
    resp_blob(r, 200, ctype, &br);
    resp_header(r, "ETag", etag);
    resp_header(r, "Cache-Control", cache);
    cors_for_sandbox(r);
    guard(r);
}
