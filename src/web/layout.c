/*
 * layout.c — what every dashboard page shares: the document head, the
 * header with the search box and the account links, the footer, the
 * headers every HTML answer carries (security and caching), error pages,
 * redirects, and the HTML answers to a missing route or a refused credential.
 *
 * Caching: a public page seen anonymously may be kept a minute by anyone
 * (Vary: Cookie); the same page seen with a session is private and
 * revalidated; forms, account and admin pages are never stored.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../lib/log.h"
#include "web.h"

/* Content-Security-Policy of every page: nothing but this origin's own files; README images may
 * come from any https origin; no inline script or style; no framing. */
#define CSP                                                                                                  \
    "default-src 'self'; img-src 'self' https:; style-src 'self'; script-src 'self'; object-src 'none'; "    \
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

void web_security_headers(req *r)
{
    resp_header(r, "Content-Security-Policy", CSP);
    resp_header(r, "X-Content-Type-Options", "nosniff");
    resp_header(r, "Referrer-Policy", "same-origin");
    resp_header(r, "X-Frame-Options", "DENY");
    resp_header(r, "Cross-Origin-Opener-Policy", "same-origin");
}

/* Fixed notices after a redirect (?done=CODE): a code, never text from the URL. */
static const struct {
    const char *code, *text;
} notices[] = {
    {"registered", "Welcome! Your account is ready."},
    {"login", "You are logged in."},
    {"logout", "You are logged out."},
    {"token-revoked", "The token was revoked."},
    {"key-added", "The signing key was added."},
    {"key-removed", "The signing key was removed."},
    {"password", "Your password was changed."},
    {"verify-sent", "A verification link was sent to your address."},
    {"verified", "Your email address is verified."},
    {"email-shown", "Everyone can now see your email address."},
    {"email-hidden", "Your email address is now hidden from others."},
    {"reset", "Your password was reset. Log in with the new one."},
    {"yank", "The version was yanked."},
    {"unyank", "The version is available again."},
    {"retire", "The version was retired."},
    {"unretire", "The version is no longer retired."},
    {"retract", "The version was retracted."},
    {"unretract", "The version is no longer retracted."},
    {"deprecate", "The version was deprecated."},
    {"undeprecate", "The version is no longer deprecated."},
    {"discontinue", "The package is marked discontinued."},
    {"undiscontinue", "The package is no longer discontinued."},
    {"owner-add", "The owner was added."},
    {"owner-remove", "The owner was removed."},
    {"user-disable", "The account was disabled."},
    {"user-enable", "The account was enabled."},
    {"user-promote", "The user is now an admin."},
    {"user-demote", "The user is no longer an admin."},
};

static void header_nav(page *p)
{
    req *r = p->r;
    buf *b = &p->b;
    html_raw(b, "<nav class=\"account\" aria-label=\"Account\"><ul>");
    if (web_known(r)) {
        H(b, "<li><a href=\"/users/{}\">{}</a></li>", web_seg(r->a, r->who.username), r->who.username);
        if (web_session(r)) {
            html_raw(b, "<li><a href=\"/account\">Account</a></li>");
            if (r->who.is_admin)
                html_raw(b, "<li><a href=\"/admin\">Admin</a></li>");
            html_raw(b, "<li><form method=\"post\" action=\"/logout\" class=\"inline\">");
            web_csrf_field(p);
            html_raw(b, "<button type=\"submit\" class=\"link\">Log out</button></form></li>");
        }
    } else {
        html_raw(b, "<li><a href=\"/login\">Log in</a></li><li><a href=\"/register\">Register</a></li>");
    }
    html_raw(b, "</ul></nav>");
}

void page_start(page *p, req *r, const char *title, enum page_cache cache)
{
    memset(p, 0, sizeof *p);
    p->r = r;
    p->title = title;
    p->cache = cache;
    buf_init(&p->b, WEB_PAGE_MAX);
    buf *b = &p->b;
    const char *name = r->cfg->server_name && *r->cfg->server_name ? r->cfg->server_name : "depot";
    html_raw(b, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    if (title && *title)
        H(b, "<title>{} · {}</title>\n", title, name);
    else
        H(b, "<title>{}</title>\n", name);
    H(b,
      "<link rel=\"stylesheet\" href=\"{}\">\n<link rel=\"icon\" href=\"{}\" type=\"image/svg+xml\">\n"
      "<script src=\"{}\" defer></script>\n",
      web_asset("style.css"), web_asset("favicon.svg"), web_asset("app.js"));
    if (web_session(r))
        H(b, "<meta name=\"csrf-token\" content=\"{}\">\n", web_csrf(p));
    html_raw(b,
             "</head>\n<body>\n<a class=\"skip\" href=\"#main\">Skip to content</a>\n<header class=\"top\">"
             "<div class=\"wrap top-row\">");
    H(b, "<a class=\"brand\" href=\"/\"><img src=\"{}\" alt=\"\" width=\"24\" height=\"24\"> {}</a>",
      web_asset("favicon.svg"), name);
    const char *q = strcmp(r->path, "/search") == 0 ? req_query(r, "q") : NULL;
    H(b,
      "<form class=\"search\" role=\"search\" method=\"get\" action=\"/search\">"
      "<label for=\"top-q\" class=\"vh\">Search packages</label>"
      "<input id=\"top-q\" name=\"q\" type=\"search\" placeholder=\"Search packages (press /)\" value=\"{}\" "
      "maxlength=\"256\" autocomplete=\"off\"><button type=\"submit\">Search</button></form>",
      q ? q : "");
    header_nav(p);
    html_raw(b, "</div></header>\n<main id=\"main\" class=\"wrap\" tabindex=\"-1\">\n");
    const char *done = req_query(r, "done");
    for (size_t i = 0; done && i < sizeof notices / sizeof notices[0]; i++)
        if (!strcmp(done, notices[i].code))
            p->flash = notices[i].text;
    if (p->flash)
        H(b, "<p class=\"notice\" role=\"status\">{}</p>\n", p->flash);
}

void page_finish(page *p, int status)
{
    req *r = p->r;
    buf *b = &p->b;
    H(b,
      "</main>\n<footer class=\"foot\"><div class=\"wrap\"><p>{} — a package registry for Hex, pub, npm and "
      "its "
      "own clients. <a href=\"/search\">All packages</a> · <a href=\"/api/v1/openapi.json\">API</a> · "
      "<a href=\"/health\">Health</a></p></div></footer>\n</body>\n</html>\n",
      r->cfg->server_name && *r->cfg->server_name ? r->cfg->server_name : "depot");
    if (b->len >= WEB_PAGE_MAX - 1 || !b->data) {
        log_error("a web page is larger than the cap", "path", r->path, "request_id", r->request_id, NULL);
        buf_free(b);
        resp_error(r, 500, "internal", "the page is too large to show");
        return;
    }
    resp_bytes(r, status, "text/html; charset=utf-8", b->data, b->len);
    buf_free(b);
    web_security_headers(r);
    /* A session cookie that no longer works is cleared, so the browser stops sending it. */
    const char *sc = web_cookie(r, AUTH_SESSION_COOKIE);
    if (sc && !web_session(r) && p->ncookies < 4)
        p->cookies[p->ncookies++] = web_session_cookie_clear(r);
    for (int i = 0; i < p->ncookies; i++)
        resp_header(r, "Set-Cookie", p->cookies[i]);
    if (p->cache == CACHE_NO_STORE || p->ncookies)
        resp_header(r, "Cache-Control", "no-store");
    else if (web_known(r) || sc)
        resp_header(r, "Cache-Control", "private, no-cache");
    else
        resp_header(r, "Cache-Control", "public, max-age=60");
    resp_header(r, "Vary", "Cookie");
}

void web_error_page(req *r, int status, const char *title, const char *message)
{
    page p;
    page_start(&p, r, title, CACHE_NO_STORE);
    H(&p.b,
      "<div class=\"error-page\"><h1>{}</h1><p>{}</p><p><a href=\"/\">Go to the home page</a> or "
      "<a href=\"/search\">browse all packages</a>.</p></div>\n",
      title, message);
    page_finish(&p, status);
}

void web_derr_page(req *r, const derr *e)
{
    int st = e->status ? e->status : 500;
    if (st >= 500) {
        log_error("web page failed", "request_id", r->request_id, "message", e->message, NULL);
        web_error_page(
            r, st, "Something went wrong",
            arena_printf(r->a, "The server failed (request %s). Try again in a moment.", r->request_id));
        return;
    }
    const char *title = st == 404   ? "Not found"
                        : st == 403 ? "Not allowed"
                        : st == 401 ? "Log in first"
                        : st == 409 ? "Conflict"
                        : st == 429 ? "Slow down"
                                    : "That did not work";
    web_error_page(r, st, title, e->message);
    resp_retry_after(r, e->retry_after);
}

const char *web_local_path(const char *next, const char *fallback)
{
    /* A path on this site only: "/x", never "//host" or "/\host" (browsers read both as a host). */
    if (!next || next[0] != '/' || next[1] == '/' || next[1] == '\\' || strlen(next) > 1000)
        return fallback;
    for (const char *s = next; *s; s++)
        if ((unsigned char)*s < ' ' || *s == 0x7f)
            return fallback;
    return next;
}

void web_redirect(req *r, const char *path)
{
    resp_empty(r, 303);
    resp_header(r, "Location", web_local_path(path, "/"));
    resp_header(r, "Cache-Control", "no-store");
    web_security_headers(r);
}

void web_not_found(req *r)
{
    web_error_page(r, 404, "Page not found",
                   "There is nothing at this address. Check the spelling, or search for the package.");
}

void web_auth_error(req *r, const derr *e)
{
    const char *authz = req_header(r, "Authorization");
    if (e->status == 401 && !authz) {
        /* --private without a session: the login page, then back here. */
        const char *next = r->raw_url && r->raw_url[0] == '/' ? r->raw_url : "/";
        web_redirect(r, arena_printf(r->a, "/login?next=%s", web_q(r->a, next)));
        return;
    }
    web_derr_page(r, e);
}
