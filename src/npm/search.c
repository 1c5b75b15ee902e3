/*
 * search.c — npm search: GET /npm/-/v1/search?text=&size=&from= in the
 * registry's shape, answered from core's full-text search over npm packages.
 *
 * The text may carry npm's qualifiers; "keywords:a" becomes the keyword
 * filter, the others (author:, maintainer:, scope:, is:, not:, boost-exact:)
 * are dropped rather than searched as words. Every result has a
 * `maintainers` array (npm 11 crashes on a result without one) and a
 * version, date and publisher (npm prints "Version undefined published
 * prehistoric by ???" without them). Scores are not computed: every result
 * scores 1, in core's relevance order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/accounts.h"
#include "../core/catalog.h"
#include "../core/packages.h"
#include "../lib/timeutil.h"
#include "npm.h"

#define SIZE_MAX_NPM 250

static json_t *keywords(const char *text)
{
    json_t *v = text ? json_loads(text, 0, NULL) : NULL;
    if (!json_is_array(v)) {
        json_decref(v);
        v = json_array();
    }
    return v;
}

/* One result: {package, score, searchScore}. */
static json_t *result(req *r, const package_row *p, derr *e)
{
    json_t *pkg = json_object();
    json_object_set_new(pkg, "name", json_string(p->name));
    const char *slash = p->name[0] == '@' ? strchr(p->name, '/') : NULL;
    json_object_set_new(
        pkg, "scope",
        json_string(slash ? arena_strndup(r->a, p->name + 1, (size_t)(slash - p->name - 1)) : "unscoped"));
    /* The version the latest dist-tag names (the highest release when none does). */
    tag_row *tags;
    int nt;
    if (packages_tags(r->core, r->a, p, &tags, &nt, e) < 0) {
        json_decref(pkg);
        return NULL;
    }
    json_t *td = npm_dist_tags_json(p, tags, nt);
    const char *latest = json_string_value(json_object_get(td, "latest"));
    latest = latest ? arena_strdup(r->a, latest) : NULL;
    json_decref(td);
    if (latest)
        json_object_set_new(pkg, "version", json_string(latest));
    if (p->description)
        json_object_set_new(pkg, "description", json_string(p->description));
    json_object_set_new(pkg, "keywords", keywords(p->keywords));
    json_object_set_new(pkg, "date", json_string(npm_time(r->a, p->updated_at)));
    json_t *links = json_object();
    if (p->homepage)
        json_object_set_new(links, "homepage", json_string(p->homepage));
    if (p->repository)
        json_object_set_new(links, "repository", json_string(p->repository));
    json_object_set_new(pkg, "links", links);

    owner_row *os = NULL;
    int no = 0;
    if (packages_owners(r->core, r->a, p, &os, &no, e) < 0) {
        json_decref(pkg);
        return NULL;
    }
    json_t *ms = json_array();
    for (int i = 0; i < no; i++)
        json_array_append_new(ms, npm_person(r, "username", os[i].username));
    json_object_set_new(pkg, "maintainers", ms);
    /* The publisher of the latest version, else the first owner. */
    const char *pub = no ? os[0].username : NULL;
    version_row v;
    derr ignore;
    if (latest && packages_version(r->core, r->a, p, latest, &v, &ignore) == 0) {
        json_object_set_new(pkg, "date", json_string(npm_time(r->a, v.published_at)));
        if (v.publisher)
            pub = v.publisher;
    }
    json_object_set_new(pkg, "publisher", npm_person(r, "username", pub));

    json_t *o = json_object();
    json_object_set_new(o, "package", pkg);
    json_t *detail = json_object();
    json_object_set_new(detail, "quality", json_real(1.0));
    json_object_set_new(detail, "popularity", json_real(1.0));
    json_object_set_new(detail, "maintenance", json_real(1.0));
    json_t *score = json_object();
    json_object_set_new(score, "final", json_real(1.0));
    json_object_set_new(score, "detail", detail);
    json_object_set_new(o, "score", score);
    json_object_set_new(o, "searchScore", json_real(1.0));
    return o;
}

void npm_search(req *r)
{
    long size, from;
    derr e;
    if (req_query_num(r, "size", 20, 1, SIZE_MAX_NPM, &size, &e) < 0 ||
        req_query_num(r, "from", 0, 0, 100000, &from, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    const char *text = req_query(r, "text");
    if (text && strlen(text) > 256) {
        npm_error(r, 400, "bad_request", "text: at most 256 characters");
        return;
    }
    /* Words, with npm's qualifiers taken out. */
    char *words = arena_alloc(r->a, (text ? strlen(text) : 0) * 2 + 2), *w = words;
    const char *keyword = NULL;
    for (const char *p = text ? text : ""; *p;) {
        size_t n = strcspn(p, " \t");
        const char *colon = memchr(p, ':', n);
        if (colon && (size_t)(colon - p) == 8 && strncasecmp(p, "keywords", 8) == 0 && n > 9)
            keyword = arena_strndup(r->a, colon + 1, strcspn(colon + 1, ", \t"));
        else if (!colon && n) {
            memcpy(w, p, n);
            w += n;
            *w++ = ' ';
        }
        p += n;
        p += strspn(p, " \t");
    }
    *w = '\0';
    package_query q = {
        .ecosystem = NPM, .query = *words ? words : NULL, .keyword = keyword, .offset = from, .limit = size};
    search_hits hits;
    if (resp_search(r, &q, &hits) < 0)
        return;
    json_t *objs = json_array();
    for (int i = 0; i < hits.n; i++) {
        json_t *o = result(r, &hits.rows[i], &e);
        if (!o) {
            json_decref(objs);
            resp_derr(r, &e);
            return;
        }
        json_array_append_new(objs, o);
    }
    json_t *doc = json_object();
    json_object_set_new(doc, "objects", objs);
    json_object_set_new(doc, "total", json_integer(hits.total));
    json_object_set_new(doc, "time", json_string(npm_time(r->a, now_unix())));
    resp_json(r, 200, doc);
}
