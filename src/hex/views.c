/*
 * views.c — the documents of hex.pm's HTTP API, in the shapes of hexpm's
 * lib/hexpm_web/views/api/ (one view per resource) as the Hex clients read them (facts:
 * hex.md §3.6 and the captures' README): users, packages and releases.
 *
 * Fields clients depend on are always present: a package's
 * configs["mix.exs"] (mix hex.info crashes without it), a release's
 * `retirement` key (nil when not retired: a missing key is shown as
 * retired), `organizations` as a list.
 */
#include <string.h>

#include "../core/docs.h"
#include "../core/packages.h"
#include "../core/privacy.h"
#include "../lib/semver.h"
#include "hex.h"
#include "registry.h"

/* Versions that have hosted docs, from the store (newest first). */
static int site_versions(req *r, const package_row *p, const char ***out, int *n)
{
    derr e;
    *out = NULL;
    *n = 0;
    return docs_versions(r->core, r->a, p, out, n, &e);
}

static bool in_list(const char *const *l, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (strcmp(l[i], s) == 0)
            return true;
    return false;
}

bool hex_has_docs(req *r, const package_row *p, const char *version)
{
    const char **l;
    int n;
    return site_versions(r, p, &l, &n) == 0 && in_list(l, n, version);
}

json_t *hex_user_json(req *r, const user_row *u, const char *email)
{
    json_t *o = json_object();
    json_object_set_new(o, "username", json_string(u->username));
    json_object_set_new(o, "email", email ? json_string(email) : json_null());
    json_object_set_new(o, "full_name", json_null());
    json_object_set_new(o, "handles", json_object());
    json_object_set_new(o, "inserted_at", hex_time(u->created_at));
    json_object_set_new(o, "updated_at", hex_time(u->created_at));
    json_object_set_new(o, "url", json_string(req_url(r, "/hex/api/users/%s", u->username)));
    return o;
}

/* The dependency snippets of hex.pm's package view, for a version. */
static json_t *configs(req *r, const char *name, const char *version)
{
    json_t *o = json_object();
    semver v;
    const char *req_text = version;
    if (version && semver_parse(r->a, version, &v) == 0 && !v.pre)
        req_text = v.major > 0 ? arena_printf(r->a, "~> %llu.%llu", (unsigned long long)v.major,
                                              (unsigned long long)v.minor)
                               : arena_printf(r->a, "~> %s", version);
    const char *repo = hex_opts(r->cfg)->repo;
    bool hexpm = strcmp(repo, "hexpm") == 0;
    json_object_set_new(
        o, "mix.exs",
        json_string(hexpm ? arena_printf(r->a, "{:%s, \"%s\"}", name, req_text ? req_text : ">= 0.0.0")
                          : arena_printf(r->a, "{:%s, \"%s\", repo: \"%s\"}", name,
                                         req_text ? req_text : ">= 0.0.0", repo)));
    json_object_set_new(o, "rebar.config",
                        json_string(arena_printf(r->a, "{%s, \"%s\"}", name, version ? version : "")));
    json_object_set_new(o, "erlang.mk",
                        json_string(arena_printf(r->a, "dep_%s = hex %s", name, version ? version : "")));
    return o;
}

static json_t *retirement(const version_row *v)
{
    if (!v->retired_reason)
        return json_null();
    json_t *o = json_object();
    json_object_set_new(o, "reason", json_string(v->retired_reason));
    json_object_set_new(o, "message", v->retired_message ? json_string(v->retired_message) : json_null());
    return o;
}

/* The package's meta (description, licenses, links, maintainers) from its stored extras. */
static json_t *package_meta(const package_row *p)
{
    json_t *m = p->meta ? json_loads(p->meta, 0, NULL) : NULL;
    json_t *o = json_object();
    json_object_set_new(o, "description", p->description ? json_string(p->description) : json_null());
    const char *keys[] = {"licenses", "links", "maintainers", "extra"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_t *v = json_object_get(m, keys[i]);
        if (v)
            json_object_set(o, keys[i], v);
        else if (i != 3)
            json_object_set_new(o, keys[i], i == 1 ? json_object() : json_array());
    }
    json_decref(m);
    return o;
}

int hex_load_package(req *r, const char *name, package_row *p, version_row **vs, int *nv)
{
    derr e;
    if (packages_get_versions(r->core, r->a, HEX, name, p, vs, nv, &e) < 0) {
        resp_derr(r, &e);
        return -1;
    }
    if (*nv == 0) {
        hex_no_package(r, name);
        return -1;
    }
    return 0;
}

json_t *hex_package_json(req *r, const package_row *p, const version_row *vs, int nv, bool full)
{
    version_row *sorted = arena_memdup(r->a, vs, sizeof *vs * (size_t)(nv ? nv : 1));
    hex_sort_versions(r->a, sorted, nv);
    const char **docs;
    int ndocs;
    if (site_versions(r, p, &docs, &ndocs) < 0)
        ndocs = 0;
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(p->name));
    json_object_set_new(o, "repository", json_string(hex_opts(r->cfg)->repo));
    json_object_set_new(o, "url", json_string(req_url(r, "/hex/api/packages/%s", p->name)));
    json_object_set_new(o, "html_url", json_string(req_url(r, "/packages/hex/%s", p->name)));
    json_object_set_new(o, "docs_html_url",
                        ndocs ? json_string(hex_docs_url(r, p->name, NULL)) : json_null());
    json_object_set_new(o, "meta", package_meta(p));
    json_t *rels = json_array(), *retired = json_object();
    const char *latest = NULL, *stable = NULL;
    for (int i = nv - 1; i >= 0; i--) {
        const version_row *v = &sorted[i];
        json_t *x = json_object();
        json_object_set_new(x, "version", json_string(v->version));
        json_object_set_new(x, "url",
                            json_string(req_url(r, "/hex/api/packages/%s/releases/%s", p->name, v->version)));
        json_object_set_new(x, "has_docs", json_boolean(in_list(docs, ndocs, v->version)));
        json_object_set_new(x, "inserted_at", hex_time(v->published_at));
        json_array_append_new(rels, x);
        if (v->retired_reason)
            json_object_set_new(retired, v->version, retirement(v));
        if (!latest)
            latest = v->version;
        if (!stable && !v->prerelease)
            stable = v->version;
    }
    json_object_set_new(o, "releases", rels);
    json_object_set_new(o, "retirements", retired);
    json_t *dl = json_object();
    json_object_set_new(dl, "all", json_integer(p->downloads));
    json_object_set_new(o, "downloads", dl);
    json_object_set_new(o, "latest_version", latest ? json_string(latest) : json_null());
    json_object_set_new(o, "latest_stable_version", stable ? json_string(stable) : json_null());
    json_object_set_new(o, "configs", configs(r, p->name, stable ? stable : latest));
    json_object_set_new(o, "inserted_at", hex_time(p->created_at));
    json_object_set_new(o, "updated_at", hex_time(p->updated_at));
    if (full) {
        derr e;
        owner_row *os;
        int no;
        json_t *owners = json_array();
        if (packages_owners(r->core, r->a, p, &os, &no, &e) == 0)
            for (int i = 0; i < no; i++) {
                json_t *ow = json_object();
                json_object_set_new(ow, "username", json_string(os[i].username));
                const char *email = privacy_owner_email(&r->who, &os[i]);
                json_object_set_new(ow, "email", email ? json_string(email) : json_null());
                json_object_set_new(ow, "url", json_string(req_url(r, "/hex/api/users/%s", os[i].username)));
                json_array_append_new(owners, ow);
            }
        json_object_set_new(o, "owners", owners);
    }
    return o;
}

json_t *hex_release_json(req *r, const package_row *p, const version_row *v)
{
    json_t *o = json_object();
    json_object_set_new(o, "version", json_string(v->version));
    json_object_set_new(o, "checksum", json_string(v->sha256));
    bool docs = hex_has_docs(r, p, v->version);
    json_object_set_new(o, "has_docs", json_boolean(docs));
    json_object_set_new(o, "inserted_at", hex_time(v->published_at));
    json_object_set_new(o, "updated_at",
                        hex_time(v->retired_at > v->published_at ? v->retired_at : v->published_at));
    json_object_set_new(o, "retirement", retirement(v));
    json_object_set_new(o, "package_url", json_string(req_url(r, "/hex/api/packages/%s", p->name)));
    json_object_set_new(o, "url",
                        json_string(req_url(r, "/hex/api/packages/%s/releases/%s", p->name, v->version)));
    /* The dashboard's package page lists every release (it has no page per release). */
    json_object_set_new(o, "html_url", json_string(req_url(r, "/packages/hex/%s", p->name)));
    json_object_set_new(o, "docs_html_url",
                        docs ? json_string(hex_docs_url(r, p->name, v->version)) : json_null());
    json_t *reqs = json_object();
    for (int i = 0; i < v->ndeps; i++) {
        json_t *x = v->deps[i].extra ? json_loads(v->deps[i].extra, 0, NULL) : NULL;
        json_t *d = json_object();
        json_t *app = json_object_get(x, "app");
        json_object_set_new(d, "app", json_is_string(app) ? json_copy(app) : json_string(v->deps[i].name));
        json_object_set_new(d, "optional", json_boolean(json_is_true(json_object_get(x, "optional"))));
        json_object_set_new(d, "requirement",
                            json_string(v->deps[i].requirement ? v->deps[i].requirement : ""));
        json_t *repo = json_object_get(x, "repository");
        if (json_is_string(repo) && strcmp(json_string_value(repo), hex_opts(r->cfg)->repo) != 0)
            json_object_set_new(d, "repository", json_copy(repo));
        json_decref(x);
        json_object_set_new(reqs, v->deps[i].name, d);
    }
    json_object_set_new(o, "requirements", reqs);
    json_object_set_new(o, "configs", configs(r, p->name, v->version));
    json_t *man = v->manifest ? json_loads(v->manifest, 0, NULL) : NULL;
    json_t *meta = json_object();
    json_t *app = json_object_get(man, "app"), *bt = json_object_get(man, "build_tools"),
           *ex = json_object_get(man, "elixir");
    json_object_set_new(meta, "app", json_is_string(app) ? json_copy(app) : json_string(p->name));
    json_object_set_new(meta, "build_tools", json_is_array(bt) ? json_deep_copy(bt) : json_array());
    json_object_set_new(meta, "elixir", json_is_string(ex) ? json_copy(ex) : json_null());
    json_decref(man);
    json_object_set_new(o, "meta", meta);
    json_object_set_new(o, "downloads", json_integer(v->downloads));
    if (v->publisher) {
        json_t *pub = json_object();
        json_object_set_new(pub, "username", json_string(v->publisher));
        json_object_set_new(pub, "email", json_null());
        json_object_set_new(pub, "url", json_string(req_url(r, "/hex/api/users/%s", v->publisher)));
        json_object_set_new(o, "publisher", pub);
    } else {
        json_object_set_new(o, "publisher", json_null());
    }
    return o;
}
