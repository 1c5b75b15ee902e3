/*
 * email.c — the flows that go through a person's mailbox: password reset
 * ("forgot your password?") and the email-address check.
 *
 * Each mail carries a single-use secret in a link (core/accounts keeps only
 * its SHA-256). Opening a link never changes anything by itself: it shows a
 * form whose POST does (mail scanners that fetch links cannot spend them).
 * The "forgot" form answers the same whether or not the account exists, so
 * it cannot be used to find out who has an account here.
 */
#include <string.h>

#include "../core/accounts.h"
#include "../lib/log.h"
#include "web.h"

static const char *server_name(req *r)
{
    return r->cfg->server_name && *r->cfg->server_name ? r->cfg->server_name : "depot";
}

int web_send_verification(req *r, const user_row *u, derr *e)
{
    const char *secret;
    if (!web_mail_on(r))
        return derr_set(e, 503, "unavailable", "this server cannot send mail");
    if (accounts_email_secret_new(r->core, r->a, u, EMAIL_VERIFY, EMAIL_VERIFY_TTL, &secret, e) < 0)
        return -1;
    const char *body =
        arena_printf(r->a,
                     "Hello %s,\n\nplease confirm that this is your address for your account on %s "
                     "(%s):\n\n%s/email/verify?token=%s\n\nThe link works once, for 7 days. If you did "
                     "not make this account, ignore this mail.\n",
                     u->username, server_name(r), r->cfg->base_url, r->cfg->base_url, secret);
    return web_mail_send(r, u->email, arena_printf(r->a, "[%s] Confirm your email address", server_name(r)),
                         body, e);
}

/* ---- forgot ---- */

void web_forgot_get(req *r)
{
    page pg;
    page_start(&pg, r, "Reset your password", CACHE_NO_STORE);
    buf *b = &pg.b;
    html_raw(b, "<div class=\"form\"><h1>Reset your password</h1>");
    if (!web_mail_on(r)) {
        html_raw(b, "<p>This server does not send mail, so passwords are reset by an administrator "
                    "(<code>depot user passwd NAME</code>).</p></div>");
        page_finish(&pg, 200);
        return;
    }
    html_raw(b, "<p>We will mail a link to set a new password to the address of your account.</p>"
                "<form method=\"post\" action=\"/password/forgot\">");
    web_csrf_field(&pg);
    html_raw(b, "<div class=\"field\"><label for=\"login\">Username or email</label><input id=\"login\" "
                "name=\"login\" "
                "type=\"text\" required maxlength=\"254\" autocomplete=\"username\"></div>"
                "<button type=\"submit\">Send the link</button></form></div>");
    page_finish(&pg, 200);
}

void web_forgot_post(req *r)
{
    if (!web_check_post(r))
        return;
    const char *login = form_get(r, "login");
    derr e;
    user_row u;
    if (web_mail_on(r) && login && *login && strlen(login) <= 254 &&
        accounts_find(r->core, r->a, login, &u, &e) == 0 && u.email && !u.disabled) {
        const char *secret;
        if (accounts_email_secret_new(r->core, r->a, &u, EMAIL_RESET, EMAIL_RESET_TTL, &secret, &e) == 0) {
            const char *body = arena_printf(
                r->a,
                "Hello %s,\n\nsomeone (we hope you) asked to reset the password of your account on %s (%s). "
                "Choose a new one here:\n\n%s/password/reset?token=%s\n\nThe link works once, for an hour. "
                "If you "
                "did not ask for it, ignore this mail: your password stays as it is.\n",
                u.username, server_name(r), r->cfg->base_url, r->cfg->base_url, secret);
            if (web_mail_send(r, u.email, arena_printf(r->a, "[%s] Reset your password", server_name(r)),
                              body, &e) < 0)
                log_warn("password reset mail not sent", "user", u.username, NULL);
        }
    }
    page pg;
    page_start(&pg, r, "Check your mail", CACHE_NO_STORE);
    html_raw(&pg.b,
             "<div class=\"form\"><h1>Check your mail</h1><p>If an account has that name or address, a link "
             "to set a new password is on its way to the account's address. It works once, for an hour.</p>"
             "<p><a href=\"/login\">Back to log in</a></p></div>");
    page_finish(&pg, 200);
}

/* ---- reset ---- */

static void reset_form(req *r, int status, const char *token, const char *error)
{
    page pg;
    page_start(&pg, r, "Choose a new password", CACHE_NO_STORE);
    buf *b = &pg.b;
    html_raw(b, "<div class=\"form\"><h1>Choose a new password</h1>");
    if (error)
        H(b, "<p class=\"alert\" role=\"alert\">{}</p>", error);
    html_raw(b, "<form method=\"post\" action=\"/password/reset\">");
    web_csrf_field(&pg);
    H(b,
      "<input type=\"hidden\" name=\"token\" value=\"{}\"><div class=\"field\"><label for=\"password\">New "
      "password"
      "</label><input id=\"password\" name=\"password\" type=\"password\" required minlength=\"8\" "
      "maxlength=\"1024\" "
      "autocomplete=\"new-password\"></div><button type=\"submit\">Set the password</button></form></div>",
      token);
    page_finish(&pg, status);
}

static void bad_link(req *r)
{
    web_error_page(
        r, 404, "This link does not work",
        "The link was used already, has expired, or was replaced by a newer one. Ask for a new one.");
}

/* Whether the link's secret (from the query) is live for purpose; if not, the page that says so
 * is the answer: the server's failure, or that the link does not work. */
static bool link_live(req *r, const char *token, const char *purpose, user_row *u)
{
    derr e;
    if (accounts_email_secret_check(r->core, r->a, token, purpose, u, &e) == 0)
        return true;
    if (e.status >= 500)
        web_derr_page(r, &e);
    else
        bad_link(r);
    return false;
}

void web_reset_get(req *r)
{
    const char *token = req_query(r, "token");
    user_row u;
    if (!link_live(r, token, EMAIL_RESET, &u))
        return;
    reset_form(r, 200, token, NULL);
}

void web_reset_post(req *r)
{
    if (!web_check_post(r))
        return;
    const char *token = form_get(r, "token"), *pw = form_get(r, "password");
    derr e;
    user_row u;
    if (!token || !pw) {
        bad_link(r);
        return;
    }
    if (accounts_reset_password(r->core, r->a, token, pw, strlen(pw), r->ip, &u, &e) < 0) {
        if (e.status == 422)
            reset_form(r, 422, token, e.message);
        else if (e.status == 404)
            bad_link(r);
        else
            web_derr_page(r, &e);
        return;
    }
    web_redirect(r, "/login?done=reset");
}

/* ---- verify ---- */

void web_verify_get(req *r)
{
    const char *token = req_query(r, "token");
    user_row u;
    if (!link_live(r, token, EMAIL_VERIFY, &u))
        return;
    page pg;
    page_start(&pg, r, "Confirm your address", CACHE_NO_STORE);
    buf *b = &pg.b;
    H(b,
      "<div class=\"form\"><h1>Confirm your address</h1><p>Confirm <strong>{}</strong> as the address of the "
      "account <strong>{}</strong>.</p><form method=\"post\" action=\"/email/verify\">",
      u.email, u.username);
    web_csrf_field(&pg);
    H(b,
      "<input type=\"hidden\" name=\"token\" value=\"{}\"><button "
      "type=\"submit\">Confirm</button></form></div>",
      token);
    page_finish(&pg, 200);
}

void web_verify_post(req *r)
{
    if (!web_check_post(r))
        return;
    derr e;
    user_row u;
    if (accounts_verify_email(r->core, r->a, form_get(r, "token"), r->ip, &u, &e) < 0) {
        if (e.status == 404)
            bad_link(r);
        else
            web_derr_page(r, &e);
        return;
    }
    if (web_session(r)) {
        web_redirect(r, "/account?done=verified");
        return;
    }
    page pg;
    page_start(&pg, r, "Address confirmed", CACHE_NO_STORE);
    H(&pg.b,
      "<div class=\"form\"><h1>Address confirmed</h1><p>{} is now the verified address of {}.</p>"
      "<p><a href=\"/login\">Log in</a></p></div>",
      u.email, u.username);
    page_finish(&pg, 200);
}
