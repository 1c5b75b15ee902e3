/*
 * publish.c — the Hex API's writes to releases: publish (both paths:
 * `POST /publish` of hex_core ≤ 0.11 and `POST /packages/NAME/releases` of
 * hex_core ≥ 0.12, which sends Expect: 100-continue), revert, retire and
 * unretire, and docs publish and delete (`mix hex.publish [docs]`,
 * `--revert`, `mix hex.retire`).
 *
 * A publish reads the tarball (tarball.c: members, checksum, metadata,
 * contents), applies hex.pm's rules (name, version, requirements; a
 * requirement on this repository must name a package it has), and stores
 * the version through core/packages.c with the metadata as the manifest,
 * the inner checksum and build tools as extras, and each requirement's app,
 * optional flag and (foreign) repository as the dependency's extras.
 *
 * `replace` (hex.md §2.5): an existing version is an error unless the
 * request says replace=true (an absent parameter counts as false, stricter
 * than hex.pm: mix and rebar3 always send it); then the owner may replace it
 * within --hex-replace-window of its publication (hex.pm's public
 * repository: one hour), which also bounds a revert. Core holds the rule;
 * the refusals are worded here as hex.pm words them.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/docs.h"
#include "../core/packages.h"
#include "../lib/buf.h"
#include "../lib/json.h"
#include "../lib/timeutil.h"
#include "hex.h"
#include "registry.h"

static const char *dump(req *r, json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    const char *out = arena_strdup(r->a, s ? s : "null");
    free(s);
    return out;
}

/* The first link whose name is one of the given ones (case-insensitive). */
static const char *link_named(json_t *links, const char *const *names)
{
    const char *k;
    json_t *v;
    for (const char *const *n = names; *n; n++)
        json_object_foreach(links, k, v)
        {
            if (strcasecmp(k, *n) == 0 && json_is_string(v))
                return json_string_value(v);
        }
    return NULL;
}

/* Text cut to at most max bytes on a UTF-8 character boundary. */
static const char *clip_utf8(req *r, const char *s, size_t n, size_t max)
{
    if (n > max) {
        n = max;
        while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    return arena_strndup(r->a, s, n);
}

/* Is a requirement's repository this one? Absent means this one: a private package's
 * requirements are on the packages beside it unless they name another repository. */
static bool local_repo(req *r, const char *repo)
{
    return !repo || strcmp(repo, hex_opts(r->cfg)->repo) == 0;
}

static int check_local_deps(req *r, const hex_metadata *m, derr *e)
{
    for (int i = 0; i < m->nreqs; i++) {
        const hex_requirement *q = &m->reqs[i];
        if (!local_repo(r, q->repository) || strcmp(q->name, m->name) == 0)
            continue;
        package_row p;
        derr pe;
        if (packages_get(r->core, r->a, HEX, q->name, &p, &pe) < 0 || !p.latest_version) {
            if (pe.status >= 500)
                return derr_set(e, pe.status, pe.code, "%s", pe.message);
            return derr_set(e, 422, "invalid", "requirements.%s: package does not exist in repository %s",
                            q->name, hex_opts(r->cfg)->repo);
        }
    }
    return 0;
}

static void fill_publish(req *r, const hex_tarball *t, publish_in *in)
{
    const hex_metadata *m = &t->meta;
    memset(in, 0, sizeof *in);
    in->ecosystem = HEX;
    in->pkg.name = m->name;
    in->pkg.description = m->description;
    static const char *const home[] = {"homepage", "website", NULL};
    static const char *const repo[] = {"github", "gitlab", "source", "repository", "bitbucket", NULL};
    in->pkg.homepage = link_named(m->links, home);
    in->pkg.repository = link_named(m->links, repo);
    if (json_array_size(m->licenses)) {
        buf b;
        buf_init(&b, 4096);
        size_t i;
        json_t *x;
        json_array_foreach(m->licenses, i, x)
        {
            if (i)
                buf_puts(&b, ", ");
            buf_puts(&b, json_string_value(x));
        }
        in->pkg.license = arena_strdup(r->a, b.data ? b.data : "");
        buf_free(&b);
    }
    in->pkg.keywords = "[]";
    in->pkg.categories = "[]";
    in->pkg.tags = "[]";
    in->pkg.authors = dump(r, m->maintainers);
    in->pkg.readme = t->readme ? clip_utf8(r, t->readme, t->readme_len, HEX_MAX_README) : NULL;
    json_t *meta = json_object();
    json_object_set(meta, "licenses", m->licenses);
    json_object_set(meta, "links", m->links);
    json_object_set(meta, "maintainers", m->maintainers);
    json_t *extra = json_object_get(m->json, "extra");
    if (json_is_object(extra))
        json_object_set(meta, "extra", extra);
    in->pkg.meta = dump(r, meta);
    json_decref(meta);
    in->version = m->version;
    in->ndeps = m->nreqs;
    in->deps = arena_zalloc(r->a, sizeof *in->deps * (size_t)(m->nreqs ? m->nreqs : 1));
    for (int i = 0; i < m->nreqs; i++) {
        const hex_requirement *q = &m->reqs[i];
        json_t *x = json_object();
        json_object_set_new(x, "app", json_string(q->app));
        json_object_set_new(x, "optional", json_boolean(q->optional));
        if (!local_repo(r, q->repository))
            json_object_set_new(x, "repository", json_string(q->repository));
        in->deps[i] = (dep_row){q->name, q->requirement, q->optional ? "optional" : "normal", dump(r, x)};
        json_decref(x);
    }
    in->manifest = dump(r, m->json);
    json_t *vx = json_object();
    json_object_set_new(vx, "inner_checksum", json_string(t->inner_checksum));
    json_object_set(vx, "build_tools", m->build_tools);
    json_object_set_new(vx, "app", json_string(m->app));
    if (m->elixir)
        json_object_set_new(vx, "elixir", json_string(m->elixir));
    in->extra = dump(r, vx);
    json_decref(vx);
    in->tarball_path = r->body_path;
    in->sha256 = r->body_sha256;
    in->size = r->body_len;
    in->who = &r->who;
    in->ip = r->ip;
}

static void version_exists(req *r)
{
    hex_invalid(r, "inserted_at", "must include the --replace flag to update an existing release");
}

/* hex.pm's refusal of a change to a release past the window (`verb`: "modify", "delete"). */
static void past_window(req *r, const char *verb)
{
    long window = hex_opts(r->cfg)->replace_window;
    hex_invalid(r, "inserted_at",
                window > 0 ? arena_printf(r->a, "can only %s a release up to %s after publication", verb,
                                          time_span_words(r->a, window))
                           : arena_printf(r->a, "cannot %s a release after publication on this server", verb));
}

/* Is this version of the package already published? -1 after answering a store failure. */
static int published(req *r, const char *name, const char *version)
{
    package_row p;
    version_row v;
    derr e;
    if (packages_get_version(r->core, r->a, HEX, name, version, &p, &v, &e) == 0)
        return 1;
    if (e.status == 404)
        return 0;
    resp_derr(r, &e);
    return -1;
}

/* The publish's refusals in hex.pm's words; anything else as core said it. */
static void publish_refused(req *r, const derr *e)
{
    if (strcmp(e->code, "too_late") == 0)
        past_window(r, "modify");
    else if (e->status == 409 && strstr(e->message, "already exists"))
        version_exists(r); /* also when a concurrent publish of the same version won */
    else
        resp_derr(r, e);
}

void hex_publish(req *r)
{
    if (!hex_may_write(r))
        return;
    /* Only an explicit replace=true replaces (hex.pm takes an absent one as true). */
    const char *rq = req_query(r, "replace");
    bool replace = rq && (strcmp(rq, "true") == 0 || strcmp(rq, "1") == 0);
    if (r->body_fd < 0 || r->body_len == 0) {
        derr e;
        derr_set(&e, 422, "invalid", "tar: the request has no package tarball");
        resp_derr(r, &e);
        return;
    }
    derr e;
    hex_limits lim = hex_limits_of(r->cfg);
    hex_tarball t;
    if (hex_tarball_read(r->a, r->body_fd, r->body_len, &lim, &t, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    const hex_metadata *m = &t.meta;
    const char *url_name = req_param(r, "name");
    if (url_name && strcmp(url_name, m->name) != 0) {
        derr_set(&e, 422, "invalid", "name: metadata does not match package name");
        resp_derr(r, &e);
        return;
    }
    if (hex_check_name(m->name, "name", &e) < 0 || hex_check_version(r->a, m->version, &e) < 0 ||
        hex_check_requirements(r->a, m, &e) < 0 || check_local_deps(r, m, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    int existed = published(r, m->name, m->version); /* hex.pm answers a replacement 200 */
    if (existed < 0)
        return;

    publish_in in;
    fill_publish(r, &t, &in);
    in.replace = replace;
    package_row pkg;
    version_row v;
    bool created;
    if (packages_publish(r->core, r->a, &in, &pkg, &v, &created, &e) < 0) {
        publish_refused(r, &e);
        return;
    }
    hex_respond(r, existed ? 200 : 201, hex_release_json(r, &pkg, &v));
    if (!existed) /* hex.pm sends a location with a new release only */
        resp_header(r, "Location", req_url(r, "/hex/api/packages/%s/releases/%s", pkg.name, v.version));
}

void hex_release_revert(req *r)
{
    if (!hex_may_write(r))
        return;
    const char *name = req_param(r, "name"), *version = req_param(r, "version");
    derr e;
    if (packages_remove_version(r->core, r->a, &r->who, HEX, name, version, false, r->ip, &e) < 0) {
        if (strcmp(e.code, "too_late") == 0)
            past_window(r, "delete");
        else
            resp_derr(r, &e);
        return;
    }
    /* The version's docs go with it (mix deletes them first; other clients may not). */
    derr ignored;
    docs_remove(r->core, r->a, &r->who, HEX, name, version, r->ip, &ignored);
    resp_empty(r, 204);
}

/* Sets the status of the release the path names (retire, unretire); 204, or core's error. */
static void set_status(req *r, const version_status *st, const char *action)
{
    derr e;
    if (packages_set_status(r->core, r->a, &r->who, HEX, req_param(r, "name"), req_param(r, "version"), st,
                            action, r->ip, &e) < 0)
        resp_derr(r, &e);
    else
        resp_empty(r, 204);
}

void hex_release_retire(req *r)
{
    json_t *b = hex_may_write(r) ? hex_body(r) : NULL;
    if (!b)
        return;
    json_t *errors = json_object();
    const char *reason = json_string_value(json_object_get(b, "reason"));
    bool known = false;
    for (int i = 0; reason && hex_retire_reasons[i]; i++)
        known |= strcmp(reason, hex_retire_reasons[i]) == 0;
    if (!known)
        json_object_set_new(errors, "reason",
                            json_string("is invalid (other, invalid, security, deprecated, renamed)"));
    json_t *mj = json_object_get(b, "message");
    const char *message = json_string_value(mj);
    if (mj && !json_is_null(mj) && (!message || strlen(message) < 3 || strlen(message) > 140))
        json_object_set_new(errors, "message", json_string("should be 3 to 140 characters"));
    if (json_object_size(errors)) {
        hex_error(r, 422, "Validation error(s)", errors);
        return;
    }
    json_decref(errors);
    version_status st = {.set_retired = 1, .retired_reason = reason, .retired_message = message};
    set_status(r, &st, "version.retire");
}

void hex_release_unretire(req *r)
{
    if (!hex_may_write(r))
        return;
    version_status st = {.set_retired = -1};
    set_status(r, &st, "version.unretire");
}

void hex_docs_publish(req *r)
{
    if (!hex_may_write(r))
        return;
    const char *name = req_param(r, "name"), *version = req_param(r, "version");
    derr e;
    if (r->body_fd < 0 || r->body_len == 0) {
        derr_set(&e, 422, "invalid", "tar: the request has no docs tarball");
        resp_derr(r, &e);
        return;
    }
    if (r->body_len > (size_t)hex_opts(r->cfg)->max_tarball) {
        derr_set(&e, 422, "invalid", "tar: too big (at most %ld bytes)", hex_opts(r->cfg)->max_tarball);
        resp_derr(r, &e);
        return;
    }
    if (docs_publish(r->core, r->a, &r->who, HEX, name, version, r->body_path, r->body_sha256, r->body_len,
                     r->ip, &e) < 0) {
        if (e.status == 422 || e.status == 400) {
            /* Hex clients print errors per field; the docs archive is the "tar". */
            derr te;
            const char *msg = strncmp(e.message, "docs archive: ", 14) == 0 ? e.message + 14 : e.message;
            derr_set(&te, 422, "invalid", "tar: %s", msg);
            resp_derr(r, &te);
            return;
        }
        resp_derr(r, &e);
        return;
    }
    resp_empty(r, 201);
    resp_header(r, "Location", hex_docs_url(r, name, version));
}

void hex_docs_delete(req *r)
{
    if (!hex_may_write(r))
        return;
    derr e;
    if (docs_remove(r->core, r->a, &r->who, HEX, req_param(r, "name"), req_param(r, "version"), r->ip, &e) <
        0) {
        resp_derr(r, &e);
        return;
    }
    resp_empty(r, 204);
}
