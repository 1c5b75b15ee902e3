/*
 * search.c — GET /api/v1/packages?search=... and GET /api/v1/search?q=...:
 * ranked full-text search with filters, sorting and pagination.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/catalog.h"
#include "../core/core.h"
#include "../core/documents.h"
#include "../lib/json.h"
#include "../lib/url.h"
#include "../lib/timeutil.h"
#include "native.h"

#define PER_PAGE_MAX 100

static const char *first(req *r, const char *a, const char *b)
{
    const char *v = req_query(r, a);
    if (!v || !*v)
        v = b ? req_query(r, b) : NULL;
    return v && *v ? v : NULL;
}

static const char *page_link(req *r, long page, long per_page)
{
    /* Rebuild the query with another page, keeping every other parameter. */
    static const char *keep[] = {"search", "q", "tags", "tag", "keywords", "keyword", "category", "categories", "sort", NULL};
    const char *url = req_url(r, "%s?page=%ld&per_page=%ld", r->path, page, per_page);
    for (int i = 0; keep[i]; i++) {
        const char *v = req_query(r, keep[i]);
        if (!v)
            continue;
        url = arena_printf(r->a, "%s&%s=%s", url, keep[i], url_encode(r->a, v, NULL));
    }
    return url;
}

struct search_job {
    req *r;
    const package_query *q;
    long page, per_page;
};

/* Runs the search and renders the page (a documents builder). */
static int build_search(void *vctx, arena *a, char **text, size_t *len, const char **ctype, derr *e)
{
    struct search_job *job = vctx;
    req *r = job->r;
    long page = job->page, per_page = job->per_page;
    search_hits hits;
    if (catalog_search(r->core, a, job->q, &hits, e) < 0)
        return -1;
    int64_t total = hits.total;
    json_t *arr = json_array();
    for (int i = 0; i < hits.n; i++)
        json_array_append_new(arr, native_summary_json(&hits.rows[i]));
    json_t *doc = json_object();
    json_object_set_new(doc, "packages", arr);
    json_object_set_new(doc, "total", json_integer(total));
    json_object_set_new(doc, "page", json_integer(page));
    json_object_set_new(doc, "per_page", json_integer(per_page));
    json_t *links = json_object();
    json_set_str(links, "self", page_link(r, page, per_page));
    json_set_str(links, "next", (int64_t)(page * per_page) < total ? page_link(r, page + 1, per_page) : NULL);
    json_set_str(links, "prev", page > 1 ? page_link(r, page - 1, per_page) : NULL);
    json_object_set_new(doc, "links", links);
    return documents_json(doc, "application/json", text, len, ctype, e);
}

void native_search(req *r)
{
    long page, per_page;
    derr e;
    const char *pp = req_query(r, "per_page") ? "per_page" : "pageSize";
    if (req_query_num(r, "page", 1, 1, 100000, &page, &e) < 0 ||
        req_query_num(r, pp, 20, 1, PER_PAGE_MAX, &per_page, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    package_query q = {0};
    q.ecosystem = NATIVE;
    q.query = first(r, "search", "q");
    q.keyword = first(r, "keywords", "keyword");
    q.tag = first(r, "tags", "tag");
    q.category = first(r, "category", "categories");
    q.sort = first(r, "sort", NULL);
    if (!q.sort)
        q.sort = "relevance";
    if (catalog_check_sort(&q, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    if (q.query && strlen(q.query) > 256) {
        resp_error(r, 400, "bad_request", "search: at most 256 characters");
        return;
    }
    q.offset = (page - 1) * per_page;
    q.limit = per_page;
    /* A page of results is cached per query and per state of the native ecosystem; the stamp
     * also moves every two seconds, since download counts (shown, and a sort key) change without
     * a generation — they are written every few seconds anyway (core/downloads.c). */
    struct search_job job = {r, &q, page, per_page};
    int64_t gen;
    if (catalog_generation(r->core, NATIVE, &gen, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    int64_t stamp = gen * 1000000 + now_unix() / 2 % 1000000;
    const char *key = arena_printf(r->a, "native:search:%s:%s", r->path, r->query ? r->query : "");
    const cdoc *d;
    doc_ref *ref = resp_document(r, key, stamp, build_search, &job, &d);
    if (!ref)
        return;
    resp_doc(r, ref, d);
}
