/*
 * packages.c — the Hex API's package and release reads: search
 * (`mix hex.package search`, `rebar3 hex search`), a package
 * (`mix hex.info NAME`, the publish owner prompt), a release
 * (`mix hex.info NAME VERSION`), and the redirect to a release's docs
 * tarball.
 */
#include <stdlib.h>
#include <string.h>

#include "../core/catalog.h"
#include "../core/packages.h"
#include "hex.h"

#define PAGE 100

/* hex.pm's sorts onto the store's (name, downloads, recent). */
static const char *sort_of(const char *sort)
{
    if (!sort || !*sort || strcmp(sort, "name") == 0)
        return "name";
    if (strcmp(sort, "downloads") == 0 || strcmp(sort, "total_downloads") == 0 ||
        strcmp(sort, "recent_downloads") == 0)
        return "downloads";
    if (strcmp(sort, "updated_at") == 0 || strcmp(sort, "inserted_at") == 0 ||
        strcmp(sort, "recently_published") == 0)
        return "recent";
    return NULL;
}

/* hex.pm's search syntax ("name:foo*", "description:bar") reduced to free text. */
static const char *search_text(req *r, const char *q)
{
    if (!q)
        return NULL;
    char *t = arena_strdup(r->a, q);
    for (char *p = t; *p; p++)
        if (*p == '*' || *p == '"')
            *p = ' ';
    const char *prefixes[] = {"name:", "description:"};
    for (size_t i = 0; i < 2; i++) {
        size_t n = strlen(prefixes[i]);
        for (char *p = t; (p = strstr(p, prefixes[i]));)
            memset(p, ' ', n);
    }
    return t;
}

void hex_packages_search(req *r)
{
    if (!hex_repo_ok(r, true))
        return;
    const char *sort = sort_of(req_query(r, "sort"));
    if (!sort) {
        hex_error(r, 400,
                  "sort: one of name, downloads, total_downloads, recent_downloads, inserted_at, updated_at",
                  NULL);
        return;
    }
    long page;
    derr e;
    if (req_query_num(r, "page", 1, 1, 100000, &page, &e) < 0) {
        hex_error(r, 400, "page: a positive number", NULL);
        return;
    }
    const char *text = search_text(r, req_query(r, "search"));
    package_query q = {
        .ecosystem = HEX, .query = text, .sort = sort, .offset = (page - 1) * PAGE, .limit = PAGE};
    search_hits hits;
    if (resp_search(r, &q, &hits) < 0)
        return;
    json_t *arr = json_array();
    for (int i = 0; i < hits.n; i++) {
        const package_row *p = &hits.rows[i];
        version_row *vs;
        int nv;
        if (!p->latest_version || packages_versions(r->core, r->a, p, &vs, &nv, &e) < 0 || nv == 0)
            continue;
        json_array_append_new(arr, hex_package_json(r, p, vs, nv, false));
    }
    hex_respond(r, 200, arr);
}

void hex_packages_get(req *r)
{
    if (!hex_repo_ok(r, true))
        return;
    package_row p;
    version_row *vs;
    int nv;
    if (hex_load_package(r, req_param(r, "name"), &p, &vs, &nv) < 0)
        return;
    hex_respond(r, 200, hex_package_json(r, &p, vs, nv, true));
}

void hex_release_get(req *r)
{
    if (!hex_repo_ok(r, true))
        return;
    derr e;
    package_row p;
    version_row v;
    const char *name = req_param(r, "name"), *version = req_param(r, "version");
    if (packages_get_version(r->core, r->a, HEX, name, version, &p, &v, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    hex_respond(r, 200, hex_release_json(r, &p, &v));
}

void hex_release_docs_redirect(req *r)
{
    if (!hex_repo_ok(r, true))
        return;
    const char *name = req_param(r, "name"), *version = req_param(r, "version");
    derr e;
    package_row p;
    if (packages_get(r->core, r->a, HEX, name, &p, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    if (!hex_has_docs(r, &p, version)) {
        hex_error(r, 404, arena_printf(r->a, "%s %s has no docs", p.name, version), NULL);
        return;
    }
    resp_empty(r, 302);
    resp_header(r, "Location", req_url(r, "/hex/repo/docs/%s-%s.tar.gz", p.name, version));
}
