/*
 * search.c — GET /pub/api/search?q=&page=: pub.dev's search API shape
 * (pub-dev app/lib/frontend/handlers/custom_api.dart, apiSearchHandler):
 *   {"packages": [{"package": NAME}, ...], "next": URL of the next page}
 * with "next" present only when there is a next page. Backed by the core's
 * full-text search over pub packages (name, description, topics), ranked,
 * ten a page like pub.dev; page runs from 1.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/catalog.h"
#include "../core/core.h"
#include "pub.h"

#define PER_PAGE 10
#define MAX_PAGE 1000

void pub_search(req *r)
{
    const char *q = req_query(r, "q");
    long page;
    derr e;
    if (req_query_num(r, "page", 1, 1, MAX_PAGE, &page, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    const char *text = q && *q ? q : NULL;
    package_query s = {.ecosystem = PUB, .query = text, .offset = (page - 1) * PER_PAGE, .limit = PER_PAGE};
    s.sort = text ? "relevance" : "downloads";
    search_hits hits;
    if (resp_search(r, &s, &hits) < 0)
        return;
    json_t *arr = json_array();
    for (int i = 0; i < hits.n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "package", json_string(hits.rows[i].name));
        json_array_append_new(arr, o);
    }
    json_t *doc = json_object();
    json_object_set_new(doc, "packages", arr);
    if (s.offset + hits.n < hits.total && page < MAX_PAGE)
        json_object_set_new(
            doc, "next",
            json_string(pub_url(r, "/api/search?q=%s&page=%ld", pub_seg(r, q ? q : ""), page + 1)));
    pub_json(r, 200, doc);
}
