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
#include "web.h"

#define P(m, p, fn, body, auth, rl, slow)                                                                    \
    {                                                                                                        \
        m, p, fn, NULL, body, auth, rl, slow                                                                 \
    }

static const route routes[] = {
    /* Page views count as reads in the download class (500 an hour per anonymous IP, 5000 per
     * user): browsing a registry must not run into the 100 an hour of "other" requests. */
    P("GET", "/", web_home, BODY_NONE, AUTH_READ, RL_DOWNLOAD, false),
    P("GET", "/search", web_search, BODY_NONE, AUTH_READ, RL_SEARCH, false),
    P("GET", "/packages/{ecosystem}/{rest*}", web_package_get, BODY_NONE, AUTH_READ, RL_DOWNLOAD, false),
    P("POST", "/packages/{ecosystem}/{rest*}", web_package_post, BODY_FORM, AUTH_READ, RL_OTHER, false),
    P("GET", "/users/{username}", web_user, BODY_NONE, AUTH_READ, RL_DOWNLOAD, false),
    /* accounts */
    P("GET", "/register", web_register_get, BODY_NONE, AUTH_NONE, RL_DOWNLOAD, false),
    P("POST", "/register", web_register_post, BODY_FORM, AUTH_NONE, RL_OTHER, true),
    P("GET", "/login", web_login_get, BODY_NONE, AUTH_NONE, RL_DOWNLOAD, false),
    P("POST", "/login", web_login_post, BODY_FORM, AUTH_NONE, RL_OTHER, true),
    P("POST", "/logout", web_logout, BODY_FORM, AUTH_NONE, RL_OTHER, false),
    P("GET", "/account", web_account, BODY_NONE, AUTH_NONE, RL_DOWNLOAD, false),
    P("POST", "/account/{action}", web_account_post, BODY_FORM, AUTH_NONE, RL_OTHER, true),
    P("GET", "/password/forgot", web_forgot_get, BODY_NONE, AUTH_NONE, RL_DOWNLOAD, false),
    P("POST", "/password/forgot", web_forgot_post, BODY_FORM, AUTH_NONE, RL_OTHER, false),
    P("GET", "/password/reset", web_reset_get, BODY_NONE, AUTH_NONE, RL_DOWNLOAD, false),
    P("POST", "/password/reset", web_reset_post, BODY_FORM, AUTH_NONE, RL_OTHER, true),
    P("GET", "/email/verify", web_verify_get, BODY_NONE, AUTH_NONE, RL_DOWNLOAD, false),
    P("POST", "/email/verify", web_verify_post, BODY_FORM, AUTH_NONE, RL_OTHER, false),
    /* admin */
    P("GET", "/admin", web_admin, BODY_NONE, AUTH_NONE, RL_DOWNLOAD, false),
    P("POST", "/admin/{action}", web_admin_post, BODY_FORM, AUTH_NONE, RL_OTHER, false),
    /* assets */
    P("GET", "/static/{version}/{file}", web_static, BODY_NONE, AUTH_NONE, RL_NONE, false),
    P("GET", "/favicon.ico", web_favicon, BODY_NONE, AUTH_NONE, RL_NONE, false),
};

const route_set web_route_set = {
    .front = "web",
    .routes = routes,
    .n = sizeof routes / sizeof routes[0],
    .auth_error = web_auth_error,
    .not_found = web_not_found,
};
