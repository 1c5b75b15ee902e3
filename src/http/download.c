/*
 * download.c — the one answer to a GET or HEAD of a published version's
 * tarball, for every front.
 *
 * The ETag is the bytes' SHA-256, so a revalidation costs no read and counts
 * no download. A version's bytes never change once they can no longer be
 * replaced, so caches may then keep them a year without asking again; under
 * --private only the client may keep them. Only an ecosystem that lets an
 * owner replace a version (Hex: publish --replace within
 * --hex-replace-window) has bytes that may still change: until its window
 * closes they are kept an hour.
 */
#include <string.h>

#include "../core/ecosystem.h"
#include "../core/packages.h"
#include "../lib/timeutil.h"
#include "http.h"

#define YEAR 31536000L
#define HOUR 3600L

int resp_tarball(req *r, const version_row *v, const char *ctype, long replace_window, derr *e)
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
    bool final = replace_window <= 0 || now_unix() - v->published_at > replace_window;
    const char *scope = r->cfg->private_mode ? "private" : "public";
    resp_header(r, "Cache-Control",
                final ? arena_printf(r->a, "%s, max-age=%ld, immutable", scope, YEAR)
                      : arena_printf(r->a, "%s, max-age=%ld", scope, HOUR));
    return 1;
}

void resp_version_tarball(req *r, const char *eco, const char *name, const char *version, const char *ctype)
{
    package_row p;
    version_row v;
    derr e;
    if (packages_get_version(r->core, r->a, eco, name, version, &p, &v, &e) < 0 ||
        resp_tarball(r, &v, ctype, ecosystem_replace_window(r->cfg, eco), &e) < 0)
        resp_derr(r, &e);
}
