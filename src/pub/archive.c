/*
 * archive.c — GET /pub/packages/{name}/versions/{version}.tar.gz: a
 * version's archive, the exact bytes whose SHA-256 the listing gives as
 * archive_sha256, sent from the blob's file with zero copies.
 *
 * Never with Content-Encoding: dart:io would silently gunzip the body and
 * the client's hash check and extraction would both fail (fact sheet §1.5,
 * §7 item 10). The ETag is the SHA-256, so a revalidation costs no read and
 * counts no download. Retracted versions stay downloadable (a lock file may
 * pin one).
 */
#include <string.h>

#include "../core/packages.h"
#include "pub.h"

void pub_archive(req *r)
{
    const char *file = req_param(r, "archive");
    size_t n = strlen(file);
    static const char ext[] = ".tar.gz";
    if (n <= sizeof ext - 1 || strcmp(file + n - (sizeof ext - 1), ext) != 0) {
        pub_error(r, 404, "not_found", "no archive %s (archives are named VERSION.tar.gz)", file);
        return;
    }
    const char *version = arena_strndup(r->a, file, n - (sizeof ext - 1));
    package_row p;
    version_row v;
    derr e;
    if (pub_load_package(r, req_param(r, "name"), &p) < 0)
        return;
    if (packages_version(r->core, r->a, &p, version, &v, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    if (resp_tarball(r, &v, "application/octet-stream", 0, &e) < 0)
        resp_derr(r, &e);
}
