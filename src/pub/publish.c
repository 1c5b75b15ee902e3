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
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/packages.h"
#include "../core/uploads.h"
#include "../http/multipart.h"
#include "../lib/crypto.h"
#include "../lib/log.h"
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
    upload_row u;
    if (uploads_start(r->core, r->a, r->who.user_id, PUB, pub_opts(r->cfg)->upload_ttl, result, &u, e) < 0)
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
    if (uploads_expire(r->core, &e) < 0)
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
static void fail_upload(req *r, upload_row *u, const char *why)
{
    derr e;
    if (u && u->id) {
        if (uploads_finish(r->core, u, why, true, &e) < 0) {
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

/* What the POST carried: the upload id (a form field or the query) and the archive's file, or
 * why there is none. */
struct sent {
    const char *id, *why;
    const char *path;
    uint64_t size;
    const unsigned char *sum;
};

/* Reads the POST's body: a multipart form (fields, then `file`) or a raw archive. -1 with e on a
 * server failure; a client's mistake is a reason in s->why instead. */
static int parse_upload(req *r, struct sent *s, derr *e)
{
    const char *ct = req_header(r, "Content-Type");
    *s = (struct sent){0};
    if (!ct || strncasecmp(ct, "multipart/form-data", 19) != 0) {
        /* A raw body: the archive itself (application/octet-stream), as some tools send it. */
        s->path = r->body_path;
        s->size = r->body_len;
        s->sum = r->body_sha256;
        if (!s->path)
            s->why = "the upload is empty";
        return 0;
    }
    mp_part *parts;
    int nparts;
    if (multipart_request(r, 64, 64u << 10, &parts, &nparts, e) < 0) {
        if (e->status >= 500)
            return -1;
        s->why = arena_printf(r->a, "the upload is not valid multipart/form-data: %s", e->message);
        return 0;
    }
    const mp_part *idp = multipart_get(parts, nparts, "upload_id");
    if (idp && idp->value)
        s->id = idp->value;
    const mp_part *file = multipart_get(parts, nparts, "file");
    if (!file)
        s->why = "the upload has no part named 'file' holding the package archive";
    else if (!file->path)
        s->why = "the 'file' part must be a file (with a filename), not a plain field";
    else {
        s->path = file->path;
        s->size = file->size;
        s->sum = file->sha256;
    }
    return 0;
}

/* The open upload the POST names, into u (*known false when it names none). Returns 1 when the
 * request was answered here (an unknown, foreign, finished or expired upload), -1 with e on a
 * server failure, 0 to go on. */
static int find_open_upload(req *r, const char *id, upload_row *u, bool *known, derr *e)
{
    *known = false;
    if (!id)
        return 0;
    if (uploads_get(r->core, r->a, id, u, e) < 0) {
        if (e->status != 404)
            return -1;
        redirect(r, id); /* finalize says the id is unknown or expired */
        return 1;
    }
    *known = true;
    if (u->user_id != r->who.user_id) {
        pub_error(r, 403, "forbidden", "this upload was started by another user");
        return 1;
    }
    if (u->result || u->expires_at <= now_unix()) {
        redirect(r, u->id); /* finalized (the answer stands), or expired (finalize says so) */
        return 1;
    }
    return 0;
}

void pub_upload(req *r)
{
    derr e;
    if (!publish_allowed(r))
        return;
    struct sent s;
    if (parse_upload(r, &s, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    if (!s.id)
        s.id = req_query(r, "upload_id");
    upload_row u = {0};
    bool known;
    int rc = find_open_upload(r, s.id, &u, &known, &e);
    if (rc != 0) {
        if (rc < 0)
            resp_derr(r, &e);
        return;
    }
    if (!s.why && s.size == 0)
        s.why = "the uploaded file is empty";
    if (s.why) {
        fail_upload(r, known ? &u : NULL, s.why);
        return;
    }
    if ((!known && uploads_start(r->core, r->a, r->who.user_id, PUB, pub_opts(r->cfg)->upload_ttl, NULL, &u, &e) < 0) ||
        uploads_store(r->core, r->a, &u, s.path, s.sum, s.size, &e) < 0) {
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

/* Keeps the answer in the upload row (best effort: a lost write only costs a re-check). */
static void remember(req *r, upload_row *u, const char *result, bool failed)
{
    derr e;
    if (uploads_finish(r->core, u, result, failed, &e) < 0)
        log_warn("cannot record an upload's result", "request_id", r->request_id, NULL);
}

static void reject(req *r, upload_row *u, const derr *e)
{
    if (e->status == 403 || e->status == 401 || e->status >= 500) {
        resp_derr(r, e); /* not final: the user may fix the token's scope; 5xx may pass */
        return;
    }
    remember(r, u, e->message, true);
    pub_error(r, 400, e->code ? e->code : "invalid", "%s", e->message);
}

/* The upload the finalize URL names, still to be published, into u. Returns 1 when the request
 * was answered here (no such upload, another user's, one already answered, no bytes). */
static int load_finalizable(req *r, upload_row *u)
{
    derr e;
    const char *id = req_query(r, "upload_id");
    if (!id || !*id) {
        pub_error(r, 400, "bad_request", "the finalize URL lacks its upload_id");
        return 1;
    }
    int rc = uploads_get(r->core, r->a, id, u, &e);
    if (rc < 0 && e.status != 404) {
        resp_derr(r, &e);
        return 1;
    }
    if (rc < 0 || (!u->result && u->expires_at <= now_unix())) {
        pub_error(r, 400, "not_found",
                  "this upload is unknown or has expired (uploads are kept %ld minutes); run dart pub "
                  "publish again",
                  pub_opts(r->cfg)->upload_ttl / 60);
        return 1;
    }
    if (u->user_id != r->who.user_id) {
        pub_error(r, 403, "forbidden", "this upload was started by another user");
        return 1;
    }
    if (u->result) {
        if (u->failed)
            pub_error(r, 400, "invalid", "%s", u->result);
        else
            success(r, u->result);
        return 1;
    }
    if (!u->sha256) {
        pub_error(r, 400, "bad_request", "no package archive was uploaded for this upload id");
        return 1;
    }
    return 0;
}

/* Reads and checks the staged archive into pk. Returns 1 when the request was answered here: the
 * bytes cannot be read (the server's failure), or the archive is refused (a final answer). */
static int read_staged(req *r, upload_row *u, pub_package *pk)
{
    derr e;
    content_reader br;
    if (uploads_open(r->core, u, &br, &e) < 0) {
        resp_derr(r, &e);
        return 1;
    }
    int rc = pub_package_read(r->a, br.fd, br.size, r->cfg, pk, &e);
    content_close(&br);
    if (rc < 0) {
        reject(r, u, &e);
        return 1;
    }
    return 0;
}

/* The core's publish request for a checked archive staged as u. Options (discontinued,
 * replacedBy) live in the package's meta, which a publish rewrites: the current ones are carried
 * over. */
static int publish_request(req *r, const upload_row *u, const pub_package *pk, publish_in *in, derr *e)
{
    const pubspec *ps = &pk->ps;
    package_row existing;
    const char *meta = "{}";
    if (packages_get(r->core, r->a, PUB, ps->name, &existing, e) < 0) {
        if (e->status != 404)
            return -1;
    } else if (existing.meta) {
        meta = existing.meta;
    }
    *in = (publish_in){0};
    in->ecosystem = PUB;
    in->pkg.name = ps->name;
    in->pkg.description = ps->description;
    in->pkg.homepage = ps->homepage;
    in->pkg.repository = ps->repository;
    in->pkg.documentation = ps->documentation;
    in->pkg.keywords = ps->topics;
    in->pkg.categories = "[]";
    in->pkg.tags = "[]";
    in->pkg.authors = ps->authors;
    in->pkg.readme = pk->readme;
    in->pkg.meta = meta;
    in->version = ps->version;
    in->deps = ps->deps;
    in->ndeps = ps->ndeps;
    in->manifest = ps->json;
    in->stored_sha256 = u->sha256;
    in->size = (uint64_t)u->size;
    in->who = &r->who;
    in->ip = r->ip;
    return 0;
}

/* A 409 that is this very upload published already (a finalize retried after a lost answer, or
 * two at once): the same bytes by the same user. The message of success, or NULL. */
static const char *published_before(req *r, const upload_row *u, const pubspec *ps)
{
    package_row p;
    version_row v;
    derr e;
    if (packages_get(r->core, r->a, PUB, ps->name, &p, &e) == 0 &&
        packages_version(r->core, r->a, &p, ps->version, &v, &e) == 0 && strcmp(v.sha256, u->sha256) == 0 &&
        v.publisher_id == r->who.user_id)
        return arena_printf(r->a, "Successfully uploaded %s %s.", p.name, v.version);
    return NULL;
}

void pub_finalize(req *r)
{
    derr e;
    if (!publish_allowed(r))
        return;
    upload_row u;
    if (load_finalizable(r, &u) != 0)
        return;
    pub_package pk;
    if (read_staged(r, &u, &pk) != 0)
        return;
    publish_in in;
    if (publish_request(r, &u, &pk, &in, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    package_row pkg;
    version_row v;
    bool created;
    if (packages_publish(r->core, r->a, &in, &pkg, &v, &created, &e) < 0) {
        const char *msg = e.status == 409 ? published_before(r, &u, &pk.ps) : NULL;
        if (!msg) {
            reject(r, &u, &e);
            return;
        }
        remember(r, &u, msg, false);
        success(r, msg);
        return;
    }
    const char *msg = arena_printf(r->a, "Successfully uploaded %s %s%s.", pkg.name, v.version,
                                   created ? " (a new package; you are its owner)" : "");
    remember(r, &u, msg, false);
    success(r, msg);
}
