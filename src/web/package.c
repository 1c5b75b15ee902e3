/*
 * package.c — a package's page, /packages/{ecosystem}/{name}, for every
 * ecosystem: its README (rendered from Markdown once per generation and
 * cached), install lines with copy buttons, versions with their status,
 * dependencies and dependents, owners, license and links, the latest
 * version's checksum and signature, a 90-day downloads chart, and hosted
 * docs. /versions lists every version; /confirm and POST /action are the
 * owners' changes (owner.c).
 *
 * A scoped name has a '/' ("@scope/name"), so the route takes the rest of
 * the path and the name is cut from it here: two segments when it starts
 * with '@' in an ecosystem with scoped names, one otherwise; what follows is
 * the sub-page.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../core/catalog.h"
#include "../core/docs.h"
#include "../core/documents.h"
#include "../core/packages.h"
#include "../lib/markdown.h"
#include "../lib/timeutil.h"
#include "web.h"

#define VERSIONS_ON_PAGE 15
#define CHART_DAYS 90

/* Splits {rest} into the package name and the sub-page ("" for the package page). */
static int split_rest(req *r, const char *eco, const char **name, const char **sub)
{
    const char *rest = req_param(r, "rest");
    if (!rest || !*rest)
        return -1;
    const char *slash = strchr(rest, '/');
    const eco_desc *x = ecosystem_find(eco);
    if (slash && rest[0] == '@' && x && x->scoped_names)
        slash = strchr(slash + 1, '/');
    *name = slash ? arena_strndup(r->a, rest, (size_t)(slash - rest)) : rest;
    *sub = slash ? slash + 1 : "";
    return **name ? 0 : -1;
}

/* The package a request names, or an answered 404/5xx (returns -1). */
static int load(req *r, package_row *p, const char **sub)
{
    const char *eco = req_param(r, "ecosystem"), *name;
    if (!web_ecosystem_ok(eco) || split_rest(r, eco, &name, sub) < 0) {
        web_not_found(r);
        return -1;
    }
    derr e;
    if (packages_get(r->core, r->a, eco, name, p, &e) < 0) {
        if (e.status == 404)
            web_error_page(r, 404, "Package not found",
                           arena_printf(r->a, "There is no %s package named “%s”. Try a search.",
                                        web_ecosystem_label(eco), name));
        else
            web_derr_page(r, &e);
        return -1;
    }
    return 0;
}

/* ---- README, cached by generation ---- */

struct readme_ctx {
    const package_row *p;
};

static int build_readme(void *vctx, arena *a, char **text, size_t *len, const char **ctype, derr *e)
{
    const package_row *p = ((struct readme_ctx *)vctx)->p;
    bool cut = false;
    char *html = markdown_to_html(p->readme, strlen(p->readme), WEB_README_MAX, &cut);
    size_t n = strlen(html);
    /* One byte in front says whether the README was cut. */
    *text = malloc(n + 2);
    if (!*text) {
        free(html);
        return derr_set(e, 500, "internal", "out of memory");
    }
    (*text)[0] = cut ? '1' : '0';
    memcpy(*text + 1, html, n + 1);
    free(html);
    *len = n + 1;
    *ctype = "text/html";
    return 0;
}

const char *web_readme_html(req *r, const package_row *p, bool *truncated)
{
    *truncated = false;
    if (!p->readme || !*p->readme)
        return NULL;
    struct readme_ctx ctx = {p};
    const cdoc *d;
    derr e;
    doc_ref *ref = documents_get(arena_printf(r->a, "web:readme:%s:%s", p->ecosystem, p->normalized_name),
                                 p->generation, build_readme, &ctx, r->a, &d, &e);
    if (!ref)
        return NULL;
    *truncated = d->len > 0 && d->data[0] == '1';
    const char *html = d->len > 1 ? arena_strndup(r->a, d->data + 1, d->len - 1) : "";
    documents_release(ref);
    return html;
}

/* ---- pieces ---- */

static json_t *json_list(const char *text)
{
    json_t *v = text ? json_loads(text, 0, NULL) : NULL;
    if (!json_is_array(v)) {
        json_decref(v);
        return NULL;
    }
    return v;
}

/* Links from a JSON array of strings to searches filtered by them (key=value). */
static void term_links(buf *b, arena *a, const char *text, const char *key, const char *label)
{
    json_t *arr = json_list(text);
    if (!arr || !json_array_size(arr)) {
        json_decref(arr);
        return;
    }
    H(b, "<dt>{}</dt><dd>", label);
    size_t i;
    json_t *v;
    int shown = 0;
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v) || shown >= 20)
            continue;
        H(b, "{!}<a href=\"/search?{}={}\">{}</a>", shown ? ", " : "", key, web_q(a, json_string_value(v)),
          json_string_value(v));
        shown++;
    }
    html_raw(b, "</dd>");
    json_decref(arr);
}

/* Does the page show owner controls? Only to a browser session that core lets change p. */
static bool may_change(req *r, const package_row *p)
{
    derr e;
    return web_session(r) && packages_may_change(r->core, r->a, &r->who, p, PKG_PUBLISH, &e) == 0;
}

static void status_badges(buf *b, const version_row *v)
{
    if (v->yanked)
        html_raw(b, " <span class=\"badge bad\">yanked</span>");
    if (v->retired_reason)
        H(b, " <span class=\"badge warn\" title=\"{}\">retired: {}</span>",
          v->retired_message ? v->retired_message : "", v->retired_reason);
    if (v->retracted)
        html_raw(b, " <span class=\"badge warn\">retracted</span>");
    if (v->deprecated)
        H(b, " <span class=\"badge warn\" title=\"{}\">deprecated</span>", v->deprecated);
    if (v->prerelease)
        html_raw(b, " <span class=\"badge\">pre-release</span>");
}

static void versions_table(page *pg, const package_row *p, const version_row *vs, int n, int limit,
                           bool owner)
{
    buf *b = &pg->b;
    arena *a = pg->r->a;
    html_raw(
        b,
        "<div class=\"table-wrap\"><table><caption class=\"vh\">Versions, newest first</caption><thead><tr>"
        "<th scope=\"col\">Version</th><th scope=\"col\">Published</th><th scope=\"col\" class=\"num\">"
        "Downloads</th><th scope=\"col\" class=\"num\">Size</th>");
    if (owner)
        html_raw(b, "<th scope=\"col\">Owner actions</th>");
    html_raw(b, "</tr></thead><tbody>\n");
    for (int i = 0; i < n && i < limit; i++) {
        const version_row *v = &vs[i];
        H(b, "<tr{!}><td><span class=\"ver\">{}</span>", v->yanked ? " class=\"yanked\"" : "", v->version);
        status_badges(b, v);
        H(b, "</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>",
          web_date(a, v->published_at), web_count(a, v->downloads), web_size(a, v->size));
        if (owner) {
            html_raw(b, "<td>");
            web_version_actions(pg, p, v);
            html_raw(b, "</td>");
        }
        html_raw(b, "</tr>\n");
    }
    html_raw(b, "</tbody></table></div>\n");
}

static void day_string(int64_t t, char out[16])
{
    char b[32];
    time_rfc3339(t, b);
    memcpy(out, b, 10);
    out[10] = '\0';
}

static void chart(page *pg, const package_row *p)
{
    req *r = pg->r;
    char days[CHART_DAYS][16];
    int64_t counts[CHART_DAYS] = {0};
    int64_t now = now_unix();
    for (int i = 0; i < CHART_DAYS; i++)
        day_string(now - (int64_t)(CHART_DAYS - 1 - i) * 86400, days[i]);
    day_count *rows;
    int n;
    derr e;
    if (catalog_daily_downloads(r->core, r->a, p, days[0], &rows, &n, &e) < 0)
        return;
    for (int k = 0; k < n; k++) {
        if (rows[k].version)
            continue;
        for (int i = 0; i < CHART_DAYS; i++)
            if (!strcmp(rows[k].day, days[i])) {
                counts[i] += rows[k].count;
                break;
            }
    }
    H(&pg->b,
      "<section aria-labelledby=\"h-dl\"><h2 id=\"h-dl\">Downloads</h2><p><strong>{}</strong> in all</p>",
      web_count(r->a, p->downloads));
    web_chart_svg(&pg->b, r->a, counts, CHART_DAYS, days[0], days[CHART_DAYS - 1]);
    html_raw(&pg->b, "<p class=\"hint\">Downloads per day over the last 90 days (UTC).</p></section>\n");
}

static void install(page *pg, const package_row *p, const char *version)
{
    snippet sn[4];
    int n = web_snippets(pg->r, p->ecosystem, p->name, version, sn, 4);
    buf *b = &pg->b;
    html_raw(b, "<section aria-labelledby=\"h-install\"><h2 id=\"h-install\">Install</h2>");
    for (int i = 0; i < n; i++) {
        const char *id = arena_printf(pg->r->a, "snippet-%d", i);
        H(b,
          "<div class=\"snippet\"><div class=\"label\"><span>{}</span><button type=\"button\" class=\"small "
          "secondary\" data-copy=\"{}\" hidden>Copy<span class=\"vh\"> {}</span></button></div>"
          "<pre id=\"{}\"><code>{}</code></pre></div>",
          sn[i].label, id, sn[i].label, id, sn[i].text);
    }
    html_raw(b, "</section>\n");
}

static void deps_section(page *pg, const package_row *p, const version_row *v)
{
    buf *b = &pg->b;
    arena *a = pg->r->a;
    int normal = 0, dev = 0;
    for (int i = 0; v && i < v->ndeps; i++) {
        if (v->deps[i].kind && !strcmp(v->deps[i].kind, "dev"))
            dev++;
        else
            normal++;
    }
    H(b, "<section aria-labelledby=\"h-deps\"><h2 id=\"h-deps\">Dependencies{}</h2>",
      v ? arena_printf(a, " of %s", v->version) : "");
    if (!normal)
        html_raw(b, "<p class=\"meta\">None.</p>");
    for (int pass = 0; pass < 2; pass++) {
        int count = pass == 0 ? normal : dev;
        if (!count)
            continue;
        if (pass == 1)
            H(b, "<details><summary>{} development dependencies</summary>", web_num(a, dev));
        html_raw(b, "<ul class=\"deps\">");
        for (int i = 0; i < v->ndeps; i++) {
            const dep_row *d = &v->deps[i];
            bool isdev = d->kind && !strcmp(d->kind, "dev");
            if (isdev != (pass == 1))
                continue;
            H(b, "<li><a href=\"{}\">{}</a> <code>{}</code>{}</li>", web_pkg_path(a, p->ecosystem, d->name),
              d->name, d->requirement,
              d->kind && strcmp(d->kind, "normal") && !isdev ? arena_printf(a, " (%s)", d->kind) : "");
        }
        html_raw(b, "</ul>");
        if (pass == 1)
            html_raw(b, "</details>");
    }
    html_raw(b, "</section>\n");
}

static void dependents_section(page *pg, const package_row *p)
{
    package_row *ds;
    int n;
    derr e;
    req *r = pg->r;
    if (catalog_dependents(r->core, r->a, p, 20, &ds, &n, &e) < 0)
        return;
    html_raw(&pg->b, "<section aria-labelledby=\"h-rdeps\"><h2 id=\"h-rdeps\">Used by</h2>");
    if (!n) {
        html_raw(&pg->b, "<p class=\"meta\">No package here depends on it yet.</p>");
    } else {
        html_raw(&pg->b, "<ul class=\"deps\">");
        for (int i = 0; i < n; i++)
            H(&pg->b, "<li><a href=\"{}\">{}</a></li>", web_pkg_path(r->a, ds[i].ecosystem, ds[i].name),
              ds[i].name);
        html_raw(&pg->b, "</ul>");
        if (n == 20)
            html_raw(&pg->b, "<p class=\"meta\">The 20 most downloaded are shown.</p>");
    }
    html_raw(&pg->b, "</section>\n");
}

static void side_details(page *pg, const package_row *p, const version_row *latest, owner_row *os, int no)
{
    req *r = pg->r;
    buf *b = &pg->b;
    html_raw(b, "<section aria-labelledby=\"h-about\"><h2 id=\"h-about\">About</h2><dl>");
    H(b, "<dt>License</dt><dd>{}</dd>", p->license && *p->license ? p->license : "Not stated");
    const char *links[][2] = {
        {"Homepage", p->homepage}, {"Repository", p->repository}, {"Documentation", p->documentation}};
    for (int i = 0; i < 3; i++)
        if (links[i][1] && *links[i][1])
            H(b, "<dt>{}</dt><dd><a rel=\"nofollow noopener\" href=\"{u}\">{}</a></dd>", links[i][0],
              links[i][1], links[i][1]);
    const char *docs_version;
    derr e;
    if (docs_latest(r->core, r->a, p->ecosystem, p->name, &docs_version, &e) == 0)
        H(b, "<dt>Hosted docs</dt><dd><a href=\"{u}\">Documentation for {}</a></dd>",
          docs_site_url(r->core, r->a, p->ecosystem, p->name, docs_version), docs_version);
    term_links(b, r->a, p->keywords, "keyword", "Keywords");
    term_links(b, r->a, p->categories, "category", "Categories");
    term_links(b, r->a, p->tags, "tag", "Tags");
    H(b, "<dt>Published</dt><dd>first {}, last {}</dd>", web_date(r->a, p->created_at),
      web_date(r->a, p->updated_at));
    html_raw(b, "</dl></section>\n");

    if (latest) {
        H(b,
          "<section aria-labelledby=\"h-check\"><h2 id=\"h-check\">Checksum of {}</h2><p "
          "class=\"hash\">sha256:{}</p>",
          latest->version, latest->sha256);
        if (latest->signature)
            H(b, "<p><span class=\"badge ok\">signed</span> Ed25519, key <code>{}</code></p>",
              latest->signing_key_id);
        else
            H(b, "<p class=\"meta\">Not signed{}.</p>",
              p->require_signatures ? " (the package requires signatures from now on)" : "");
        html_raw(b, "</section>\n");
    }

    html_raw(b, "<section aria-labelledby=\"h-owners\"><h2 id=\"h-owners\">Owners</h2><ul class=\"deps\">");
    for (int i = 0; i < no; i++)
        H(b, "<li><a href=\"/users/{}\">{}</a>{}</li>", web_seg(r->a, os[i].username), os[i].username,
          os[i].level && strcmp(os[i].level, "owner") ? arena_printf(r->a, " (%s)", os[i].level) : "");
    html_raw(b, "</ul></section>\n");

    tag_row *tags;
    int nt;
    const eco_desc *x = ecosystem_find(p->ecosystem);
    if (x && x->dist_tags && packages_tags(r->core, r->a, p, &tags, &nt, &e) == 0 && nt > 0) {
        html_raw(b, "<section aria-labelledby=\"h-tags\"><h2 id=\"h-tags\">Dist-tags</h2><dl>");
        for (int i = 0; i < nt && i < 20; i++)
            H(b, "<dt>{}</dt><dd>{}</dd>", tags[i].tag, tags[i].version);
        html_raw(b, "</dl></section>\n");
    }
}

/* The "discontinued" flag of the package's meta (ECO_DISCONTINUE), and what replaces it. */
static bool discontinued(const package_row *p, const char **replaced_by, arena *a)
{
    *replaced_by = NULL;
    json_t *m = p->meta ? json_loads(p->meta, 0, NULL) : NULL;
    bool on = json_is_true(json_object_get(m, "isDiscontinued"));
    json_t *rb = json_object_get(m, "replacedBy");
    if (on && json_is_string(rb))
        *replaced_by = arena_strdup(a, json_string_value(rb));
    json_decref(m);
    return on;
}

/* The breadcrumbs and the heading: name, latest version, ecosystem, status badges, description. */
static void head_section(page *pg, const package_row *p, const version_row *latest)
{
    req *r = pg->r;
    buf *b = &pg->b;
    const char *eco = p->ecosystem;
    H(b,
      "<nav class=\"crumbs\" aria-label=\"Breadcrumb\"><ol><li><a href=\"/\">Home</a></li><li><a "
      "href=\"/search?ecosystem={}\">{}</a></li><li><a href=\"{}\" "
      "aria-current=\"page\">{}</a></li></ol></nav>\n",
      eco, web_ecosystem_label(eco), web_pkg_path(r->a, eco, p->name), p->name);
    H(b,
      "<div class=\"pkg-head\"><h1>{} <span class=\"ver\">{}</span></h1><span class=\"eco eco-{}\">{}</span>",
      p->name, latest ? latest->version : "", eco, web_ecosystem_label(eco));
    const char *replaced;
    if (discontinued(p, &replaced, r->a)) {
        html_raw(b, " <span class=\"badge bad\">discontinued</span>");
        if (replaced)
            H(b, " <span class=\"meta\">replaced by <a href=\"{}\">{}</a></span>",
              web_pkg_path(r->a, eco, replaced), replaced);
    }
    if (latest && latest->yanked)
        html_raw(b, " <span class=\"badge bad\">every version is yanked</span>");
    if (p->description && *p->description)
        H(b, "<p class=\"desc\">{}</p>", p->description);
    html_raw(b, "</div>\n<div class=\"pkg-grid\"><div class=\"pkg-body\">\n");
}

static void readme_section(page *pg, const package_row *p)
{
    buf *b = &pg->b;
    bool cut;
    const char *readme = web_readme_html(pg->r, p, &cut);
    html_raw(b, "<section aria-labelledby=\"h-readme\"><h2 id=\"h-readme\">README</h2>");
    if (readme && *readme) {
        H(b, "<div class=\"readme\">{!}</div>", readme);
        if (cut)
            html_raw(b,
                     "<p class=\"meta\">The README is longer than this page shows; the package holds all of "
                     "it.</p>");
    } else {
        html_raw(b, "<p class=\"meta\">This package has no README.</p>");
    }
    html_raw(b, "</section>\n");
}

/* The owners' tools: add or remove an owner, discontinue (pub). */
static void manage_section(page *pg, const package_row *p, const owner_row *os, int no)
{
    req *r = pg->r;
    buf *b = &pg->b;
    const char *eco = p->ecosystem;
    html_raw(b,
             "<section class=\"owner-tools\" aria-labelledby=\"h-manage\"><h2 id=\"h-manage\">Manage</h2>"
             "<p class=\"hint\">You can change this package. Every change asks you to confirm it first.</p>");
    H(b,
      "<form class=\"row-form\" method=\"get\" action=\"{}/confirm\"><input type=\"hidden\" "
      "name=\"action\" "
      "value=\"owner-add\"><div><label for=\"new-owner\">Add an owner</label><input id=\"new-owner\" "
      "type=\"text\" "
      "name=\"user\" required maxlength=\"39\" autocomplete=\"off\" placeholder=\"username\"></div>"
      "<div><button type=\"submit\" class=\"secondary\">Add owner…</button></div></form>",
      web_pkg_path(r->a, eco, p->name));
    if (no > 1) {
        html_raw(b, "<p>Remove an owner: ");
        for (int i = 0; i < no; i++)
            H(b, "{!}<a href=\"{}/confirm?action=owner-remove&amp;user={}\">{}</a>", i ? ", " : "",
              web_pkg_path(r->a, eco, p->name), web_q(r->a, os[i].username), os[i].username);
        html_raw(b, "</p>");
    }
    if (ecosystem_has(eco, ECO_DISCONTINUE)) {
        const char *rb;
        bool disc = discontinued(p, &rb, r->a);
        H(b, "<p><a class=\"button secondary\" href=\"{}/confirm?action={}\">{}</a></p>",
          web_pkg_path(r->a, eco, p->name), disc ? "undiscontinue" : "discontinue",
          disc ? "Mark as not discontinued…" : "Mark as discontinued…");
    }
    html_raw(b, "</section>\n");
}

static void package_page(req *r, const package_row *p)
{
    derr e;
    version_row *vs;
    int nv;
    owner_row *os;
    int no;
    if (packages_versions(r->core, r->a, p, &vs, &nv, &e) < 0 ||
        packages_owners(r->core, r->a, p, &os, &no, &e) < 0) {
        web_derr_page(r, &e);
        return;
    }
    const version_row *latest = NULL;
    for (int i = 0; p->latest_version && i < nv; i++)
        if (!strcmp(vs[i].version, p->latest_version))
            latest = &vs[i];
    if (!latest && nv)
        latest = &vs[0];
    bool owner = may_change(r, p);

    page pg;
    page_start(&pg, r, arena_printf(r->a, "%s (%s)", p->name, web_ecosystem_label(p->ecosystem)),
               CACHE_PUBLIC);
    buf *b = &pg.b;
    head_section(&pg, p, latest);
    readme_section(&pg, p);
    H(b, "<section aria-labelledby=\"h-versions\"><h2 id=\"h-versions\">Versions ({})</h2>",
      web_num(r->a, nv));
    versions_table(&pg, p, vs, nv, VERSIONS_ON_PAGE, owner);
    if (nv > VERSIONS_ON_PAGE)
        H(b, "<p><a href=\"{}/versions\">All {} versions</a></p>", web_pkg_path(r->a, p->ecosystem, p->name),
          web_num(r->a, nv));
    html_raw(b, "</section>\n");
    deps_section(&pg, p, latest);
    dependents_section(&pg, p);
    if (owner)
        manage_section(&pg, p, os, no);
    html_raw(b, "</div>\n<aside class=\"side\" aria-label=\"Package details\">\n");
    install(&pg, p, latest ? latest->version : NULL);
    chart(&pg, p);
    side_details(&pg, p, latest, os, no);
    html_raw(b, "</aside></div>\n");
    page_finish(&pg, 200);
}

static void versions_page(req *r, const package_row *p)
{
    derr e;
    version_row *vs;
    int nv;
    if (packages_versions(r->core, r->a, p, &vs, &nv, &e) < 0) {
        web_derr_page(r, &e);
        return;
    }
    page pg;
    page_start(&pg, r, arena_printf(r->a, "%s versions", p->name), CACHE_PUBLIC);
    const char *path = web_pkg_path(r->a, p->ecosystem, p->name);
    H(&pg.b, "<p class=\"crumbs\"><a href=\"{}\">← {}</a></p><h1>Every version of {}</h1>", path, p->name,
      p->name);
    versions_table(&pg, p, vs, nv, 2000, may_change(r, p));
    if (nv > 2000)
        html_raw(&pg.b, "<p class=\"meta\">The 2,000 newest are shown.</p>");
    page_finish(&pg, 200);
}

void web_package_get(req *r)
{
    package_row p;
    const char *sub;
    if (load(r, &p, &sub) < 0)
        return;
    if (!*sub)
        package_page(r, &p);
    else if (!strcmp(sub, "versions"))
        versions_page(r, &p);
    else if (!strcmp(sub, "confirm"))
        web_owner_confirm(r, &p, req_query(r, "action"));
    else
        web_not_found(r);
}

void web_package_post(req *r)
{
    package_row p;
    const char *sub;
    if (load(r, &p, &sub) < 0)
        return;
    if (strcmp(sub, "action")) {
        web_not_found(r);
        return;
    }
    web_owner_post(r, &p);
}
