/*
 * web.h — the web dashboard: pages rendered on the server, as HTML, for
 * people with a browser. One route table (routes.c); everything is read and
 * changed through core and the store interface, as any other front does.
 *
 * Output is built with a small template helper: H(b, "<a href=\"{u}\">{}</a>",
 * url, text) appends the template with each {} replaced by its argument
 * HTML-escaped, each {u} by a URL that must pass markdown_url_ok (else "#"),
 * escaped the same way, and each {!} by its argument as it is: only HTML this
 * front made itself (a rendered README, a chart) goes through {!}. Arguments
 * are strings (NULL prints nothing); numbers go through web_num() first. The
 * count of arguments is checked against the template at run time (a mismatch
 * is a bug and aborts), and their types at compile time.
 *
 * Sessions: logging in sets the cookie depot_session=<session JWT> (HttpOnly,
 * SameSite=Lax, Secure when the base URL is https); the HTTP layer turns it
 * into the request's principal (with via_cookie set). Every POST form carries
 * a CSRF token: for a session, an HMAC of the session's id (auth_csrf_token);
 * before login, an HMAC of a random depot_csrf cookie (signed double submit).
 * Forms that change anything need a cookie session: credentials a browser
 * attaches by itself (Basic) never work a form.
 */
#ifndef DEPOT_WEB_H
#define DEPOT_WEB_H

#include <stdbool.h>
#include <stdint.h>

#include "../http/front.h"
#include "../core/types.h"
#include "../http/http.h"
#include "../lib/buf.h"

/* The largest page we render; past it the page is a 500 (every list is paginated long before). */
#define WEB_PAGE_MAX ((size_t)1 << 20)
/* A rendered README is cut (by whole blocks) at this size, so a page stays under 100 KB. */
#define WEB_README_MAX ((size_t)60 * 1024)

/* ---- templates (html.c) ---- */

void html_tpl_(buf *b, const char *tpl, const char *const *args, size_t n);
#define H(b, tpl, ...)                                                                                       \
    html_tpl_((b), (tpl), (const char *const[]){__VA_ARGS__},                                                \
              sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))
/* Appends trusted text as it is. */
void html_raw(buf *b, const char *s);
/* Appends s HTML-escaped (& < > " '). NULL appends nothing. */
void html_text(buf *b, const char *s);
/* Opens a scrollable table up to its body: <div class="table-wrap"><table><thead><tr>, one
 * <th scope="col"> for each of the NULL-ended column headings (trusted HTML), then
 * </tr></thead><tbody>. */
void html_table_head(buf *b, const char *const *cols);

/* Percent-encodes for one path segment (unreserved characters and '@' stay). In the arena. */
const char *web_seg(arena *a, const char *s);
/* Percent-encodes a query value. In the arena. */
const char *web_q(arena *a, const char *s);
/* The path of a package page: /packages/{eco}/{name}, an npm scope's '/' kept. In the arena. */
const char *web_pkg_path(arena *a, const char *ecosystem, const char *name);
/* A number as text, "12345"; web_count groups thousands, "12,345". In the arena. */
const char *web_num(arena *a, int64_t n);
const char *web_count(arena *a, int64_t n);
/* "2026-11-22" (UTC), "" for 0. In the arena. */
const char *web_date(arena *a, int64_t t);
/* A byte size for people: "812 B", "14.2 KB", "3.1 MB". In the arena. */
const char *web_size(arena *a, int64_t n);
/* Is this an ecosystem we know (the table of fronts)? */
bool web_ecosystem_ok(const char *s);
/* A label for an ecosystem: its descriptor's ("Hex", "depot"); the name itself when unknown. */
const char *web_ecosystem_label(const char *eco);

/* ---- pages (layout.c) ---- */

enum page_cache {
    CACHE_PUBLIC,  /* anonymous: public, max-age=60; with a session: private, no-cache */
    CACHE_NO_STORE /* account pages, forms, anything with a secret */
};

typedef struct page {
    req *r;
    buf b;
    const char *title;
    enum page_cache cache;
    const char *cookies[4]; /* Set-Cookie values to send */
    int ncookies;
    const char *csrf;  /* this page's CSRF token, once made */
    const char *flash; /* a notice shown under the header (escaped) */
    bool flash_error;
} page;

/* Starts a page: the document head, the header with the search box and the account links. */
void page_start(page *p, req *r, const char *title, enum page_cache cache);
/* Ends the page (footer) and sets it as the response with every header a page needs. */
void page_finish(page *p, int status);
/* A whole page saying what went wrong (escaped). */
void web_error_page(req *r, int status, const char *title, const char *message);
/* The same for a derr (5xx messages are replaced by a generic one with the request id). */
void web_derr_page(req *r, const derr *e);
/* 303 See Other to a local path (never a full URL: "next" parameters cannot send people away). */
void web_redirect(req *r, const char *path);
/* A local path that is safe to redirect to, or fallback. */
const char *web_local_path(const char *next, const char *fallback);
/* Adds the headers every HTML answer carries (CSP, nosniff, referrer policy, framing). */
void web_security_headers(req *r);
/* The route set's hooks: an HTML 404 for browsers, and auth failures as pages. */
void web_not_found(req *r);
void web_auth_error(req *r, const derr *e);

/* ---- sessions, forms and CSRF (session.c) ---- */

/* Is the request made with a session cookie (a logged-in browser)? */
bool web_session(req *r);
/* Someone is known (a session, or a credential header): pages may show their name. */
bool web_known(req *r);
/* A cookie of the request, or NULL. In the arena. */
const char *web_cookie(req *r, const char *name);
/* The CSRF token for this page's forms (making the depot_csrf cookie when there is no session). */
const char *web_csrf(page *p);
/* Appends the hidden CSRF field. */
void web_csrf_field(page *p);
/* Checks a POST: its Origin (when sent) is this host, and its csrf field is right. Answers 403 and
 * returns false when not. */
bool web_check_post(req *r);
/* A field of an application/x-www-form-urlencoded body (percent-decoded), or NULL. */
const char *form_get(req *r, const char *name);
/* Every value of a repeated form field (checkboxes), up to max; returns how many. */
int form_values(req *r, const char *name, const char **out, int max);
/* Set-Cookie values for the session cookie, and for clearing it. In the arena. */
const char *web_session_cookie(req *r, const char *jwt, int64_t max_age);
const char *web_session_cookie_clear(req *r);
/* The Set-Cookie value that drops the anonymous forms' CSRF cookie (after a login). In the arena. */
const char *web_anon_cookie_clear(req *r);

/* ---- assets (assets.c) ---- */

/* The versioned path of an embedded asset: "/static/<hash>/style.css". */
const char *web_asset(const char *file);
handler web_static, web_favicon;

/* ---- pieces used by several pages ---- */

/* The install lines for an ecosystem's package (snippets.c): what to write, where, and how it
 * is labelled (the front's snippets hook); how many. In the arena. */
typedef front_snippet snippet;
int web_snippets(req *r, const char *ecosystem, const char *name, const char *version, snippet *out, int max);
/* The SVG chart of daily downloads (chart.c): days[i] counts on day since+i, n days. */
void web_chart_svg(buf *b, arena *a, const int64_t *days, int n, const char *first_day, const char *last_day);
/* A list of package summaries as HTML (home.c). */
void web_package_list(buf *b, arena *a, const package_row *ps, int n, bool show_eco);
/* A README rendered (and cached by the package's generation): HTML in the arena. */
const char *web_readme_html(req *r, const package_row *p, bool *truncated);

/* ---- handlers (routes.c) ---- */
handler web_home, web_search, web_package_get, web_package_post, web_user, web_register_get,
    web_register_post, web_login_get, web_login_post, web_logout, web_account, web_account_post, web_admin,
    web_admin_post, web_forgot_get, web_forgot_post, web_reset_get, web_reset_post, web_verify_get,
    web_verify_post;

/* The owner-action part of a package page (owner.c): confirmation pages and their POSTs. */
void web_owner_confirm(req *r, const package_row *p, const char *action);
void web_owner_post(req *r, const package_row *p);
/* Owner controls for one version row of the versions table. */
void web_version_actions(page *pg, const package_row *p, const version_row *v);

/* Email (mail.c): sends a plain-text message through --smtp-url. 0, or -1 with e (503 when no
 * SMTP server is set up). */
int web_mail_send(req *r, const char *to, const char *subject, const char *body, derr *e);
/* Is sending mail configured? */
bool web_mail_on(req *r);
/* Sends the address-verification mail for user u (account page, registration). */
int web_send_verification(req *r, const user_row *u, derr *e);

#endif
