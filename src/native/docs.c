/*
 * docs.c — the native front's docs uploads:
 *   POST   /api/v1/packages/{name}/versions/{version}/docs   a .tar.gz of the site
 *   DELETE /api/v1/packages/{name}/versions/{version}/docs
 *
 * The archive comes either as the raw body (Content-Type application/gzip,
 * application/x-gzip, application/octet-stream, or none) or as a
 * multipart/form-data part named `docs` (what `curl -F docs=@site.tar.gz`
 * sends). Everything else — checks, storage, ownership — is core/docs.c.
 */
#include <string.h>
#include <strings.h>

#include "../core/docs.h"
#include "../core/packages.h"
#include "../http/multipart.h"
#include "native.h"

static bool raw_type(const char *ct)
{
    static const char *const ok[] = {
        "application/gzip",       "application/x-gzip",           "application/octet-stream",
        "application/x-tar+gzip", "application/x-compressed-tar", NULL};
    size_t n = strcspn(ct, "; \t");
    for (int i = 0; ok[i]; i++)
        if (strlen(ok[i]) == n && strncasecmp(ct, ok[i], n) == 0)
            return true;
    return false;
}

void native_docs_upload(req *r)
{
    derr e;
    const char *ct = req_header(r, "Content-Type");
    const char *path = r->body_path;
    const unsigned char *sha = r->body_sha256;
    uint64_t size = r->body_len;
    if (ct && strncasecmp(ct, "multipart/form-data", 19) == 0) {
        mp_part *parts;
        int nparts;
        if (multipart_request(r, 8, 64u << 10, &parts, &nparts, &e) < 0) {
            resp_derr(r, &e);
            return;
        }
        const mp_part *p = multipart_get(parts, nparts, "docs");
        if (!p || !p->path) {
            resp_error(r, 400, "bad_request",
                       "docs: a file part named 'docs' (the .tar.gz of the site) is required");
            return;
        }
        path = p->path;
        sha = p->sha256;
        size = p->size;
    } else if (ct && !raw_type(ct)) {
        resp_error(r, 415, "unsupported_media_type",
                   "docs: send the .tar.gz as the body (application/gzip or application/octet-stream) or as "
                   "the 'docs' part of multipart/form-data");
        return;
    }
    if (!path || size == 0) {
        resp_error(r, 400, "bad_request", "docs: the archive is empty; send the site as a .tar.gz");
        return;
    }
    const char *name = req_param(r, "name"), *version = req_param(r, "version");
    if (docs_publish(r->core, r->a, &r->who, NATIVE, name, version, path, sha, size, r->ip, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    /* The package's own spelling of its name, for the URL. */
    package_row pkg;
    const char *shown = name;
    if (packages_get(r->core, r->a, NATIVE, name, &pkg, &e) == 0)
        shown = pkg.name;
    const char *url = docs_site_url(r->core, r->a, NATIVE, shown, version);
    json_t *out = json_object();
    json_object_set_new(out, "name", json_string(shown));
    json_object_set_new(out, "version", json_string(version));
    json_object_set_new(out, "url", json_string(url));
    resp_json(r, 201, out);
    resp_header(r, "Location", url);
}

void native_docs_delete(req *r)
{
    derr e;
    if (docs_remove(r->core, r->a, &r->who, NATIVE, req_param(r, "name"), req_param(r, "version"), r->ip,
                    &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    resp_empty(r, 204);
}
