/*
 * publish.c — `dart pub publish` in its three steps (fact sheet §2):
 *
 *   1. GET  /pub/api/packages/versions/new       → {"url", "fields": {"upload_id"}}
 *   2. POST <url> (multipart: fields in order, `file` last; or a raw body)
 *                                                 → 303, Location: <finalize URL>
 *   3. GET  <Location>                            → {"success": {"message"}} or
 *                                                   400 {"error": {"code", "message"}}
 *
 * The POST only stores the bytes (a blob) and records their SHA-256 in the
 * upload row; every reason to refuse a package is given at finalize,
 * because the client prints a JSON error message only there (on the POST it
 * shows nothing but "Failed to upload the package."). Both steps are
 * idempotent, since the client retries on 5xx and on lost connections: a
 * POST again replaces the bytes of an unfinished upload, and a finalize
 * again answers what the first one answered (the upload row keeps the
 * result; a version already published from these same bytes by this same
 * user counts as success). Rejections are 400 — never 5xx, which the client
 * retries for half a minute first — except a permission failure, which is
 * 403 with pub's challenge so the client says "Insufficient permissions".
 *
 * The upload id is a random capability bound to the user who asked for it;
 * the POST and the finalize must come from that same user (the client sends
 * its token to both, since both URLs are under the hosted URL). Rows expire
 * after --upload-ttl and are deleted when a new upload starts; their blobs,
 * content-addressed and possibly shared with a published version, are left
 * to fsck like every unreferenced blob.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../core/packages.h"
#include "../http/multipart.h"
#include "../lib/crypto.h"
#include "../lib/log.h"
#include "../lib/tempfile.h"
#include "../lib/timeutil.h"
#include "package.h"
#include "pub.h"

/* May this principal publish some pub package at all? Passwords and sessions hold their user's
 * scopes; a token needs admin, publish, publish:pub or some publish:pub/<name>. */
static bool may_publish_pub(const principal *p)
{
    if (p->kind != CRED_TOKEN)
        return p->kind != CRED_NONE;
    if (principal_can(p, "publish:pub"))
        return true;
    for (const char *s = p->scopes ? p->scopes : ""; *s;) {
        size_t n = strcspn(s, " ");
        if (n > 12 && strncmp(s, "publish:pub/", 12) == 0)
            return true;
        s += n;
        while (*s == ' ')
            s++;
    }
    return false;
}

static const char *finalize_url(req *r, const char *id)
{
    return pub_url(r, "/api/packages/versions/newUploadFinish?upload_id=%s", pub_seg(r, id));
}

static const char *new_upload(req *r, const char *result, derr *e)
{
    unsigned char rnd[18];
    random_bytes(rnd, sizeof rnd);
    store_upload u = {0};
    u.id = b64url_encode(r->a, rnd, sizeof rnd);
    u.user_id = r->who.user_id;
    u.ecosystem = PUB;
    u.created_at = now_unix();
    u.expires_at = u.created_at + pub_opts(r->cfg)->upload_ttl;
    u.result = result;
    u.failed = result != NULL;
    if (store_call(r->core->st, upload_create, &u, e) != STORE_OK)
        return NULL;
    return u.id;
}

/* ---- step 1 ---- */

/* Answers 403 and returns false when the caller may not publish pub packages at all (each step
 * checks: a client may start at the upload or the finalize URL). */
static bool publish_allowed(req *r)
{
    if (may_publish_pub(&r->who))
        return true;
    pub_error(r, 403, "forbidden",
              "your token may not publish pub packages; it needs the scope publish, publish:pub or "
              "publish:pub/<package>");
    return false;
}

void pub_versions_new(req *r)
{
    derr e;
    if (!publish_allowed(r))
        return;
    int expired = 0;
    if (store_call(r->core->st, upload_expire, now_unix(), &expired, &e) != STORE_OK)
        log_warn("cannot delete expired uploads", "request_id", r->request_id, NULL);
    const char *id = new_upload(r, NULL, &e);
    if (!id) {
        resp_derr(r, &e);
        return;
    }
    json_t *fields = json_object();
    json_object_set_new(fields, "upload_id", json_string(id));
    json_t *o = json_object();
    json_object_set_new(o, "url", json_string(pub_url(r, "/api/packages/versions/newUpload")));
    json_object_set_new(o, "fields", fields);
    pub_json(r, 200, o);
}

/* ---- step 2 ---- */

static void redirect(req *r, const char *id)
{
    resp_empty(r, 303);
    resp_header(r, "Location", finalize_url(r, id));
}

/* Records why this upload cannot be published, for finalize to say, and redirects there. When
 * the upload is not known (no id, or none by that id), a new one holding the reason is made, so
 * the user still reads it. */
static void fail_upload(req *r, store_upload *u, const char *why)
{
    derr e;
    if (u && u->id) {
        u->result = why;
        u->failed = true;
        if (store_call(r->core->st, upload_update, u, &e) != STORE_OK) {
            resp_derr(r, &e);
            return;
        }
        redirect(r, u->id);
        return;
    }
    const char *id = new_upload(r, why, &e);
    if (!id) {
        resp_derr(r, &e);
        return;
    }
    redirect(r, id);
}

void pub_upload(req *r)
{
    derr e;
    if (!publish_allowed(r))
        return;
    const char *ct = req_header(r, "Content-Type");
    const char *id = NULL, *why = NULL;
    const char *path = NULL;
    uint64_t size = 0;
    const unsigned char *sum = NULL;

    if (ct && strncasecmp(ct, "multipart/form-data", 19) == 0) {
        mp_limits lim = {.max_parts = 64,
                         .max_field = 64u << 10,
                         .max_file = (uint64_t)r->cfg->max_upload,
                         .max_header = 8192};
        mp_part *parts;
        int nparts;
        const char *tmp = blob_call(r->core->blobs, tmp_dir);
        if (multipart_parse(r->a, r->body_fd, r->body_len, ct, tmp, &lim, &parts, &nparts, &e) < 0) {
            if (e.status >= 500) {
                resp_derr(r, &e);
                return;
            }
            why = arena_printf(r->a, "the upload is not valid multipart/form-data: %s", e.message);
        } else {
            const mp_part *idp = multipart_get(parts, nparts, "upload_id");
            if (idp && idp->value)
                id = idp->value;
            const mp_part *file = multipart_get(parts, nparts, "file");
            if (!file)
                why = "the upload has no part named 'file' holding the package archive";
            else if (!file->path)
                why = "the 'file' part must be a file (with a filename), not a plain field";
            else {
                path = file->path;
                size = file->size;
                sum = file->sha256;
            }
        }
    } else {
        /* A raw body: the archive itself (application/octet-stream), as some tools send it. */
        path = r->body_path;
        size = r->body_len;
        sum = r->body_sha256;
        if (!path)
            why = "the upload is empty";
    }
    if (!id)
        id = req_query(r, "upload_id");

    store_upload u = {0};
    bool known = false;
    if (id) {
        int rc = store_call(r->core->st, upload_get, r->a, id, &u, &e);
        if (rc == STORE_ERROR) {
            resp_derr(r, &e);
            return;
        }
        known = rc == STORE_OK;
        if (!known) {
            /* Finalize says the id is unknown or expired. */
            redirect(r, id);
            return;
        }
        if (u.user_id != r->who.user_id) {
            pub_error(r, 403, "forbidden", "this upload was started by another user");
            return;
        }
        if (u.result || u.expires_at <= now_unix()) {
            redirect(r, u.id); /* finalized (the answer stands), or expired (finalize says so) */
            return;
        }
    }
    if (!why && size == 0)
        why = "the uploaded file is empty";
    if (why) {
        fail_upload(r, known ? &u : NULL, why);
        return;
    }
    if (!known) {
        id = new_upload(r, NULL, &e);
        if (!id || store_call(r->core->st, upload_get, r->a, id, &u, &e) != STORE_OK) {
            resp_derr(r, &e);
            return;
        }
    }
    char hex[65];
    hex_encode(sum, 32, hex);
    if (blob_call(r->core->blobs, put_file, hex, path, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    u.sha256 = hex;
    u.size = (int64_t)size;
    if (store_call(r->core->st, upload_update, &u, &e) != STORE_OK) {
        resp_derr(r, &e);
        return;
    }
    redirect(r, u.id);
}

/* ---- step 3 ---- */

static void success(req *r, const char *message)
{
    json_t *s = json_object();
    json_object_set_new(s, "message", json_string(message));
    json_t *o = json_object();
    json_object_set_new(o, "success", s);
    pub_json(r, 200, o);
}


/* Copies the upload's blob to a temp file (packages_publish takes a path), registered on the
 * arena for removal when the answer is queued. */
static int blob_copy(req *r, const char *hex, temp_file **out, uint64_t *size, derr *e)
{
    blob_reader br;
    if (blob_call(r->core->blobs, open, hex, &br, e) < 0)
        return -1;
    temp_file *t = temp_file_new(r->a, blob_call(r->core->blobs, tmp_dir), "pub-finalize");
    if (!t) {
        int err = errno;
        close(br.fd);
        return derr_storage(e, err, "the server's storage for uploads");
    }
    char chunk[64 * 1024];
    uint64_t done = 0;
    for (;;) {
        ssize_t n = read(br.fd, chunk, sizeof chunk);
        if (n == 0)
            break;
        if (n < 0 || write(t->fd, chunk, (size_t)n) != n) {
            int err = n < 0 ? EIO : errno ? errno : ENOSPC;
            close(br.fd);
            return derr_storage(e, err, "the server's storage for uploads");
        }
        done += (uint64_t)n;
    }
    close(br.fd);
    *out = t;
    *size = done;
    return 0;
}

/* Keeps the answer in the upload row (best effort: a lost write only costs a re-check). */
static void remember(req *r, store_upload *u, const char *result, bool failed)
{
    derr e;
    u->result = result;
    u->failed = failed;
    if (store_call(r->core->st, upload_update, u, &e) != STORE_OK)
        log_warn("cannot record an upload's result", "request_id", r->request_id, NULL);
}

static void reject(req *r, store_upload *u, const derr *e)
{
    if (e->status == 403 || e->status == 401 || e->status >= 500) {
        resp_derr(r, e); /* not final: the user may fix the token's scope; 5xx may pass */
        return;
    }
    remember(r, u, e->message, true);
    pub_error(r, 400, e->code ? e->code : "invalid", "%s", e->message);
}

void pub_finalize(req *r)
{
    derr e;
    if (!publish_allowed(r))
        return;
    const char *id = req_query(r, "upload_id");
    if (!id || !*id) {
        pub_error(r, 400, "bad_request", "the finalize URL lacks its upload_id");
        return;
    }
    store_upload u;
    int rc = store_call(r->core->st, upload_get, r->a, id, &u, &e);
    if (rc == STORE_ERROR) {
        resp_derr(r, &e);
        return;
    }
    if (rc == STORE_NOT_FOUND || (!u.result && u.expires_at <= now_unix())) {
        pub_error(r, 400, "not_found",
                  "this upload is unknown or has expired (uploads are kept %ld minutes); run dart pub "
                  "publish again",
                  pub_opts(r->cfg)->upload_ttl / 60);
        return;
    }
    if (u.user_id != r->who.user_id) {
        pub_error(r, 403, "forbidden", "this upload was started by another user");
        return;
    }
    if (u.result) {
        if (u.failed)
            pub_error(r, 400, "invalid", "%s", u.result);
        else
            success(r, u.result);
        return;
    }
    if (!u.sha256) {
        pub_error(r, 400, "bad_request", "no package archive was uploaded for this upload id");
        return;
    }

    temp_file *t;
    uint64_t size;
    if (blob_copy(r, u.sha256, &t, &size, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    pub_package pk;
    if (pub_package_read(r->a, t->fd, size, r->cfg, &pk, &e) < 0) {
        reject(r, &u, &e);
        return;
    }
    const pubspec *ps = &pk.ps;

    /* Options (discontinued, replacedBy) live in the package's meta, which a publish rewrites: carry
     * the current ones over. */
    store_package existing;
    const char *meta = "{}";
    rc = store_call(r->core->st, pkg_get, r->a, PUB, package_key(r->a, PUB, ps->name), &existing, &e);
    if (rc == STORE_ERROR) {
        resp_derr(r, &e);
        return;
    }
    if (rc == STORE_OK && existing.meta)
        meta = existing.meta;

    unsigned char sum[32];
    size_t sumlen = 0;
    if (hex_decode(u.sha256, strlen(u.sha256), sum, sizeof sum, &sumlen) < 0 || sumlen != 32) {
        derr_set(&e, 500, "internal", "an upload holds a malformed checksum");
        resp_derr(r, &e);
        return;
    }
    publish_in in = {0};
    in.ecosystem = PUB;
    in.pkg.name = ps->name;
    in.pkg.description = ps->description;
    in.pkg.homepage = ps->homepage;
    in.pkg.repository = ps->repository;
    in.pkg.documentation = ps->documentation;
    in.pkg.keywords = ps->topics;
    in.pkg.categories = "[]";
    in.pkg.tags = "[]";
    in.pkg.authors = ps->authors;
    in.pkg.readme = pk.readme;
    in.pkg.meta = meta;
    in.version = ps->version;
    in.deps = ps->deps;
    in.ndeps = ps->ndeps;
    in.manifest = ps->json;
    in.tarball_path = t->path;
    in.sha256 = sum;
    in.size = size;
    in.who = &r->who;
    in.ip = r->ip;

    store_package pkg;
    store_version v;
    bool created;
    if (packages_publish(r->core, r->a, &in, &pkg, &v, &created, &e) < 0) {
        if (e.status == 409) {
            /* Published already from these very bytes by this user (a finalize retried after a
             * lost answer, or two at once): that is success. */
            store_package p2;
            store_version v2;
            derr e2;
            if (packages_get(r->core, r->a, PUB, ps->name, &p2, &e2) == 0 &&
                packages_version(r->core, r->a, &p2, ps->version, &v2, &e2) == 0 &&
                strcmp(v2.sha256, u.sha256) == 0 && v2.publisher_id == r->who.user_id) {
                const char *msg = arena_printf(r->a, "Successfully uploaded %s %s.", p2.name, v2.version);
                remember(r, &u, msg, false);
                success(r, msg);
                return;
            }
        }
        reject(r, &u, &e);
        return;
    }
    const char *msg = arena_printf(r->a, "Successfully uploaded %s %s%s.", pkg.name, v.version,
                                   created ? " (a new package; you are its owner)" : "");
    remember(r, &u, msg, false);
    success(r, msg);
}
