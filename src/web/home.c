/*
 * home.c — the home page (search box, counts, newest and most downloaded
 * packages, an ecosystem filter, how to start) and the search page (ranked
 * results across every ecosystem with filters, sorting and pages).
 *
 * Both read through the store's search and ranking operations with
 * ecosystem NULL for "every ecosystem". Search is a GET form, so results
 * have addresses people can share and the browser's history works.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/auth.h"
#include "../core/catalog.h"
#include "../core/core.h"
#include "web.h"

#define PER_PAGE 20

/* A string field holding a JSON array of strings, as the first few entries joined by ", ". */
static void eco_badge(buf *b, const char *eco)
{
    H(b, "<span class=\"eco eco-{}\">{}</span>", eco, web_ecosystem_label(eco));
}

void web_package_list(buf *b, arena *a, const package_row *ps, int n, bool show_eco)
{
    if (n == 0) {
        html_raw(b, "<p class=\"meta\">No packages yet.</p>\n");
        return;
    }
    html_raw(b, "<ul class=\"pkgs\">\n");
    for (int i = 0; i < n; i++) {
        const package_row *p = &ps[i];
        H(b, "<li><a class=\"name\" href=\"{}\">{}</a> ", web_pkg_path(a, p->ecosystem, p->name), p->name);
        if (show_eco)
            eco_badge(b, p->ecosystem);
        if (p->latest_version)
            H(b, " <span class=\"meta\">{}</span>", p->latest_version);
        if (p->description && *p->description)
            H(b, "<p>{}</p>", p->description);
        H(b, "<span class=\"meta\">{} downloads · updated {}</span></li>\n", web_count(a, p->downloads),
          web_date(a, p->updated_at));
    }
    html_raw(b, "</ul>\n");
}

static void ecosystem_filter(buf *b, arena *a, const char *base, const char *current, const char *extra)
{
    html_raw(b, "<ul class=\"filters\" aria-label=\"Ecosystem\">");
    H(b, "<li><a href=\"{}{}\"{!}>All</a></li>", base, extra ? extra : "",
      current ? "" : " aria-current=\"page\"");
    const eco_desc *x;
    for (size_t i = 0; (x = ecosystem_at(i)); i++) {
        bool on = current && !strcmp(current, x->name);
        H(b, "<li><a href=\"{}{}ecosystem={}\"{!}>{}</a></li>", base, extra ? extra : "?", x->name,
          on ? " aria-current=\"page\"" : "", x->label);
    }
    html_raw(b, "</ul>\n");
}

/* The <option>s of an ecosystem <select>, current (or NULL) selected. */
static void eco_options(buf *b, const char *current)
{
    const eco_desc *x;
    for (size_t i = 0; (x = ecosystem_at(i)); i++)
        H(b, "<option value=\"{}\"{!}>{}</option>", x->name,
          current && !strcmp(current, x->name) ? " selected" : "", x->label);
}

static const char *eco_param(req *r)
{
    const char *e = req_query(r, "ecosystem");
    return e && web_ecosystem_ok(e) ? e : NULL;
}

void web_home(req *r)
{
    derr e;
    registry_totals t;
    package_row *newest, *top;
    int nn, nt;
    const char *eco = eco_param(r);
    if (catalog_totals(r->core, &t, &e) < 0 ||
        catalog_top(r->core, r->a, eco, "new", 10, &newest, &nn, &e) < 0 ||
        catalog_top(r->core, r->a, eco, "downloads", 10, &top, &nt, &e) < 0) {
        web_derr_page(r, &e);
        return;
    }
    page p;
    page_start(&p, r, NULL, CACHE_PUBLIC);
    buf *b = &p.b;
    const char *name = r->cfg->server_name;
    H(b,
      "<section class=\"hero\"><h1>{}</h1><p>One registry for Hex, pub, npm and depot packages: find them, "
      "read "
      "their documentation, and publish your own.</p>",
      name);
    html_raw(
        b, "<form class=\"big-search\" role=\"search\" method=\"get\" action=\"/search\">"
           "<label for=\"home-q\" class=\"vh\">Search packages</label>"
           "<input id=\"home-q\" type=\"search\" name=\"q\" placeholder=\"Search by name, description or "
           "keyword\" maxlength=\"256\">"
           "<label for=\"home-eco\" class=\"vh\">Ecosystem</label><select id=\"home-eco\" name=\"ecosystem\">"
           "<option value=\"\">All ecosystems</option>");
    eco_options(b, eco);
    html_raw(b, "</select><button type=\"submit\">Search</button></form></section>\n");
    H(b,
      "<h2 class=\"vh\">Counts</h2><ul "
      "class=\"stats\"><li><strong>{}</strong>packages</li><li><strong>{}</strong>"
      "versions</li><li><strong>{}</strong>downloads</li><li><strong>{}</strong>users</li></ul>\n",
      web_count(r->a, t.packages), web_count(r->a, t.versions), web_count(r->a, t.downloads),
      web_count(r->a, t.users));
    ecosystem_filter(b, r->a, "/", eco, NULL);
    html_raw(b, "<div class=\"cols\"><section aria-labelledby=\"h-new\"><h2 id=\"h-new\">Newest</h2>");
    web_package_list(b, r->a, newest, nn, !eco);
    html_raw(b, "</section><section aria-labelledby=\"h-top\"><h2 id=\"h-top\">Most downloaded</h2>");
    web_package_list(b, r->a, top, nt, !eco);
    html_raw(b, "</section></div>\n");
    if (!web_known(r))
        html_raw(
            b,
            "<section aria-labelledby=\"h-start\"><h2 id=\"h-start\">Publish here</h2><p><a "
            "href=\"/register\">Register</a> (or <a href=\"/login\">log in</a>), create an API token on your "
            "account page, and publish with <code>mix hex.publish</code>, <code>dart pub publish</code>, "
            "<code>npm publish</code> or <code>depot publish</code>: the account page shows the exact "
            "settings for each client.</p></section>\n");
    page_finish(&p, 200);
}

/* ---- search ---- */

static const char *const sorts[][2] = {{"relevance", "Best match"},
                                       {"downloads", "Most downloaded"},
                                       {"recent", "Recently updated"},
                                       {"name", "Name"}};

static const char *nonempty(const char *s)
{
    return s && *s ? s : NULL;
}

/* The search URL with one parameter replaced (NULL value: removed) and the page reset. */
static const char *search_url(req *r, const char *key, const char *val, long pageno)
{
    static const char *keys[] = {"q", "ecosystem", "keyword", "category", "tag", "sort", NULL};
    const char *u = "/search";
    char sep = '?';
    for (int i = 0; keys[i]; i++) {
        const char *v = strcmp(keys[i], key) == 0 ? val : nonempty(req_query(r, keys[i]));
        if (!v)
            continue;
        u = arena_printf(r->a, "%s%c%s=%s", u, sep, keys[i], web_q(r->a, v));
        sep = '&';
    }
    if (pageno > 1)
        u = arena_printf(r->a, "%s%cpage=%ld", u, sep, pageno);
    return u;
}

void web_search(req *r)
{
    package_query q = {.query = nonempty(req_query(r, "q")),
                       .ecosystem = eco_param(r),
                       .keyword = nonempty(req_query(r, "keyword")),
                       .category = nonempty(req_query(r, "category")),
                       .tag = nonempty(req_query(r, "tag")),
                       .sort = nonempty(req_query(r, "sort"))};
    derr e;
    if (!q.sort || catalog_check_sort(&q, &e) < 0)
        q.sort = q.query ? "relevance" : "downloads";
    long pageno;
    if (req_query_num(r, "page", 1, 1, 500, &pageno, &e) < 0)
        pageno = 1; /* a page past the end, or no number: the first */
    const char *fields[] = {q.query, q.keyword, q.category, q.tag};
    for (int i = 0; i < 4; i++)
        if (fields[i] && strlen(fields[i]) > 256) {
            web_error_page(r, 400, "Search text too long", "Search for at most 256 characters.");
            return;
        }
    q.offset = (pageno - 1) * PER_PAGE;
    q.limit = PER_PAGE;
    search_hits hits;
    if (catalog_search(r->core, r->a, &q, &hits, &e) < 0) {
        web_derr_page(r, &e);
        return;
    }
    page p;
    page_start(&p, r, q.query ? arena_printf(r->a, "Search: %s", q.query) : "All packages", CACHE_PUBLIC);
    buf *b = &p.b;
    if (q.query)
        H(b, "<h1>Results for “{}”</h1>\n", q.query);
    else
        html_raw(b, "<h1>All packages</h1>\n");

    /* The same query, refined: ecosystem and sort in a form that works without script. */
    html_raw(b, "<form class=\"search-tools\" method=\"get\" action=\"/search\">");
    H(b,
      "<div><label for=\"s-q\">Search</label><input id=\"s-q\" type=\"search\" name=\"q\" value=\"{}\" "
      "maxlength=\"256\"></div>",
      q.query ? q.query : "");
    html_raw(b, "<div><label for=\"s-eco\">Ecosystem</label><select id=\"s-eco\" name=\"ecosystem\">"
                "<option value=\"\">All</option>");
    eco_options(b, q.ecosystem);
    html_raw(b,
             "</select></div><div><label for=\"s-sort\">Sort by</label><select id=\"s-sort\" name=\"sort\">");
    for (int i = 0; i < 4; i++)
        H(b, "<option value=\"{}\"{!}>{}</option>", sorts[i][0],
          !strcmp(q.sort, sorts[i][0]) ? " selected" : "", sorts[i][1]);
    html_raw(b, "</select></div>");
    const char *kept[][2] = {{"keyword", q.keyword}, {"category", q.category}, {"tag", q.tag}};
    for (int i = 0; i < 3; i++)
        if (kept[i][1])
            H(b, "<input type=\"hidden\" name=\"{}\" value=\"{}\">", kept[i][0], kept[i][1]);
    html_raw(b, "<div><button type=\"submit\">Update</button></div></form>\n");

    bool any_filter = q.keyword || q.category || q.tag;
    if (any_filter) {
        html_raw(b, "<ul class=\"chips\" aria-label=\"Filters\">");
        for (int i = 0; i < 3; i++)
            if (kept[i][1])
                H(b,
                  "<li>{}: <strong>{}</strong> <a href=\"{}\">remove<span class=\"vh\"> the {} "
                  "filter</span></a></li>",
                  kept[i][0], kept[i][1], search_url(r, kept[i][0], NULL, 1), kept[i][0]);
        html_raw(b, "</ul>\n");
    }
    H(b, "<p class=\"meta\" role=\"status\">{} {} found{}</p>\n", web_count(r->a, hits.total),
      hits.total == 1 ? "package" : "packages",
      hits.total > PER_PAGE ? arena_printf(r->a, " · page %ld of %lld", pageno,
                                           (long long)((hits.total + PER_PAGE - 1) / PER_PAGE))
                            : "");
    web_package_list(b, r->a, hits.rows, hits.n, true);
    if (pageno > 1 || (int64_t)pageno * PER_PAGE < hits.total) {
        html_raw(b, "<nav class=\"pager\" aria-label=\"Pages\">");
        if (pageno > 1)
            H(b, "<a rel=\"prev\" href=\"{}\">← Previous</a>", search_url(r, "page", NULL, pageno - 1));
        if ((int64_t)pageno * PER_PAGE < hits.total)
            H(b, "<a rel=\"next\" href=\"{}\">Next →</a>", search_url(r, "page", NULL, pageno + 1));
        html_raw(b, "</nav>\n");
    }
    page_finish(&p, 200);
}
