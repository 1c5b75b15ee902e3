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

static const route routes[] = {
    /* Page views count as reads in the download class (500 an hour per anonymous IP, 5000 per
     * user): browsing a registry must not run into the 100 an hour of "other" requests. */
    ROUTE("GET", "/", web_home, BODY_NONE, AUTH_READ, RL_DOWNLOAD, false),
    ROUTE("GET", "/search", web_search, BODY_NONE, AUTH_READ, RL_SEARCH, false),
    ROUTE("GET", "/packages/{ecosystem}/{rest*}", web_package_get, BODY_NONE, AUTH_READ, RL_DOWNLOAD, false),
    ROUTE("POST", "/packages/{ecosystem}/{rest*}", web_package_post, BODY_FORM, AUTH_READ, RL_OTHER, false),
    ROUTE("GET", "/users/{username}", web_user, BODY_NONE, AUTH_READ, RL_DOWNLOAD, false),
    /* accounts */
    ROUTE("GET", "/register", web_register_get, BODY_NONE, AUTH_NONE, RL_DOWNLOAD, false),
    ROUTE("POST", "/register", web_register_post, BODY_FORM, AUTH_NONE, RL_OTHER, true),
    ROUTE("GET", "/login", web_login_get, BODY_NONE, AUTH_NONE, RL_DOWNLOAD, false),
    ROUTE("POST", "/login", web_login_post, BODY_FORM, AUTH_NONE, RL_OTHER, true),
    ROUTE("POST", "/logout", web_logout, BODY_FORM, AUTH_NONE, RL_OTHER, false),
    ROUTE("GET", "/account", web_account, BODY_NONE, AUTH_NONE, RL_DOWNLOAD, false),
    ROUTE("POST", "/account/{action}", web_account_post, BODY_FORM, AUTH_NONE, RL_OTHER, true),
    ROUTE("GET", "/password/forgot", web_forgot_get, BODY_NONE, AUTH_NONE, RL_DOWNLOAD, false),
    ROUTE("POST", "/password/forgot", web_forgot_post, BODY_FORM, AUTH_NONE, RL_OTHER, false),
    ROUTE("GET", "/password/reset", web_reset_get, BODY_NONE, AUTH_NONE, RL_DOWNLOAD, false),
    ROUTE("POST", "/password/reset", web_reset_post, BODY_FORM, AUTH_NONE, RL_OTHER, true),
    ROUTE("GET", "/email/verify", web_verify_get, BODY_NONE, AUTH_NONE, RL_DOWNLOAD, false),
    ROUTE("POST", "/email/verify", web_verify_post, BODY_FORM, AUTH_NONE, RL_OTHER, false),
    /* admin */
    ROUTE("GET", "/admin", web_admin, BODY_NONE, AUTH_NONE, RL_DOWNLOAD, false),
    ROUTE("POST", "/admin/{action}", web_admin_post, BODY_FORM, AUTH_NONE, RL_OTHER, false),
    /* assets */
    ROUTE("GET", "/static/{version}/{file}", web_static, BODY_NONE, AUTH_NONE, RL_NONE, false),
    ROUTE("GET", "/favicon.ico", web_favicon, BODY_NONE, AUTH_NONE, RL_NONE, false),
};

/* In the table of fronts; no ecosystem. */
const front web_front = {
    .routes = {ROUTE_SET("web", routes), .auth_error = web_auth_error, .not_found = web_not_found}};
