/*
 * routes.c — the web dashboard's one route table: every page at a glance.
 *
 * Pages follow the server's read rule (AUTH_READ: under --private, the
 * route set's auth_error sends the browser to the login page); the pages
 * that let someone in (log in, register, password reset, address check) are
 * open to all (AUTH_NONE). Pages that need a session check it themselves and
 * send the browser to the login page. Every POST is an HTML form
 * (BODY_FORM) whose CSRF token the handler checks first. Log in and register
 * hash a password, so they run on the worker pool (slow).
 */
#include "../http/front.h"
#include "web.h"

/* A page open to all, and a form posted to it (its CSRF token checked by the handler). */
#define PAGE(p, fn) ROUTE("GET", p, fn, BODY_NONE, AUTH_NONE, RL_READ, false)
#define FORM(p, fn, slow) ROUTE("POST", p, fn, BODY_FORM, AUTH_NONE, RL_OTHER, slow)
/* A form that logs in, registers or resets a password: the authentication class, per IP. */
#define AUTH_FORM(p, fn, slow) ROUTE("POST", p, fn, BODY_FORM, AUTH_NONE, RL_AUTH, slow)

static const route routes[] = {
    /* Page views are reads, like the registry documents: browsing must never run into the
     * smaller budgets of writes or authentication. */
    ROUTE_READ("/", web_home, RL_READ),
    ROUTE_READ("/search", web_search, RL_SEARCH),
    ROUTE_READ("/packages/{ecosystem}/{rest*}", web_package_get, RL_READ),
    ROUTE("POST", "/packages/{ecosystem}/{rest*}", web_package_post, BODY_FORM, AUTH_READ, RL_OTHER, false),
    ROUTE_READ("/users/{username}", web_user, RL_READ),
    /* accounts */
    PAGE("/register", web_register_get),
    AUTH_FORM("/register", web_register_post, true),
    PAGE("/login", web_login_get),
    AUTH_FORM("/login", web_login_post, true),
    FORM("/logout", web_logout, false),
    PAGE("/account", web_account),
    FORM("/account/{action}", web_account_post, true),
    PAGE("/password/forgot", web_forgot_get),
    AUTH_FORM("/password/forgot", web_forgot_post, false),
    PAGE("/password/reset", web_reset_get),
    AUTH_FORM("/password/reset", web_reset_post, true),
    PAGE("/email/verify", web_verify_get),
    FORM("/email/verify", web_verify_post, false),
    /* admin */
    PAGE("/admin", web_admin),
    FORM("/admin/{action}", web_admin_post, false),
    /* assets */
    ROUTE("GET", "/static/{version}/{file}", web_static, BODY_NONE, AUTH_NONE, RL_NONE, false),
    ROUTE("GET", "/favicon.ico", web_favicon, BODY_NONE, AUTH_NONE, RL_NONE, false),
};

/* In the table of fronts; no ecosystem. */
const front web_front = {
    .routes = {ROUTE_SET("web", routes), .auth_error = web_auth_error, .not_found = web_not_found}};
