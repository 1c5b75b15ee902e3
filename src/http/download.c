/*
 * download.c — the one answer to a GET or HEAD of a published version's
 * tarball, for every front.
 *
 * A version's bytes never change (versions are immutable, and the URL names
 * the version), so the ETag is their SHA-256 and caches may keep them for a
 * year without asking again; under --private only the client may keep them.
 * A revalidation costs no read and counts no download.
 */
#include <string.h>

#include "../core/packages.h"
#include "http.h"

int resp_tarball(req *r, const version_row *v, const char *ctype, derr *e)
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
    resp_header(r, "Cache-Control",
                r->cfg->private_mode ? "private, max-age=31536000, immutable"
                                     : "public, max-age=31536000, immutable");
    return 1;
}
