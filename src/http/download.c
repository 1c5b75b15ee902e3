/*
 * download.c — the one answer to a GET or HEAD of a published version's
 * tarball, for every front.
 *
 * The ETag is the bytes' SHA-256, so a revalidation costs no read and counts
 * no download. A version's bytes never change once they can no longer be
 * replaced, so caches may then keep them a year without asking again; under
 * --private only the client may keep them. Only a front that lets an owner
 * replace a version (Hex: publish --replace, or revert and publish again,
 * within --unpublish-window) has bytes that may still change: until the
 * window closes they are kept an hour.
 */
#include <string.h>

#include "../core/packages.h"
#include "../lib/timeutil.h"
#include "http.h"

#define YEAR 31536000L
#define HOUR 3600L

int resp_tarball(req *r, const version_row *v, const char *ctype, bool replaceable, derr *e)
{
    const char *etag = arena_printf(r->a, "\"%s\"", v->sha256);
    if (req_not_modified(r, etag))
        return 0;
    content_reader br;
    if (packages_open_tarball(r->core, v, strcmp(r->method, "HEAD") != 0, &br, e) < 0)
        return -1;
    if (!resp_blob(r, 200, ctype, &br))
        return 0;
    resp_header(r, "ETag", etag);
    long window = r->cfg->unpublish_window;
    bool final = !replaceable || window <= 0 || now_unix() - v->published_at > window;
    const char *scope = r->cfg->private_mode ? "private" : "public";
    resp_header(r, "Cache-Control",
                final ? arena_printf(r->a, "%s, max-age=%ld, immutable", scope, YEAR)
                      : arena_printf(r->a, "%s, max-age=%ld", scope, HOUR));
    return 1;
}

void resp_version_tarball(req *r, const char *eco, const char *name, const char *version, const char *ctype,
                          bool replaceable)
{
    package_row p;
    version_row v;
    derr e;
    if (packages_get_version(r->core, r->a, eco, name, version, &p, &v, &e) < 0 ||
        resp_tarball(r, &v, ctype, replaceable, &e) < 0)
        resp_derr(r, &e);
}
