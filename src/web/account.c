/*
 * account.c — registering, logging in and out, and the account page: API
 * tokens (made with scopes and an expiry, the secret shown once, revoked),
 * signing keys, the password, the address check, and how to point each
 * client at this registry.
 *
 * Register and log in go through core/accounts (the same rules as the API)
 * and end with the session cookie. The account page and its forms never go
 * into a cache (no-store), and a new token's secret appears only in the
 * answer to the POST that made it, never in a URL.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/accounts.h"
#include "../core/packages.h"
#include "../core/privacy.h"
#include "../core/tokens.h"
#include "../lib/log.h"
#include "../lib/timeutil.h"
#include "web.h"

/* Sends a browser without a session to the login page (and back); false when it did. */
static bool need_session(req *r, const char *back)
{
    if (web_session(r))
        return true;
    web_redirect(r, arena_printf(r->a, "/login?next=%s", web_q(r->a, back)));
    return false;
}

static void alert(buf *b, const char *error)
{
    if (error)
        H(b, "<p class=\"alert\" role=\"alert\">{}</p>", error);
}

/* ---- register ---- */

static void register_form(req *r, int status, const char *error, const char *username, const char *email)
{
    page pg;
    page_start(&pg, r, "Register", CACHE_NO_STORE);
    buf *b = &pg.b;
    html_raw(b, "<div class=\"form\"><h1>Create an account</h1>");
    if (strcmp(r->cfg->registration, "open") != 0) {
        html_raw(b,
                 "<p>Registration is closed on this server: ask an administrator for an account.</p></div>");
        page_finish(&pg, 403);
        return;
    }
    alert(b, error);
    html_raw(b, "<form method=\"post\" action=\"/register\">");
    web_csrf_field(&pg);
    H(b,
      "<div class=\"field\"><label for=\"username\">Username</label><input id=\"username\" name=\"username\" "
      "type=\"text\" required maxlength=\"39\" pattern=\"[A-Za-z0-9][A-Za-z0-9_\\-]*\" "
      "autocomplete=\"username\" "
      "aria-describedby=\"username-hint\" value=\"{}\"><p class=\"hint\" id=\"username-hint\">Letters, "
      "digits, _ and -; "
      "up to 39.</p></div>"
      "<div class=\"field\"><label for=\"email\">Email</label><input id=\"email\" name=\"email\" "
      "type=\"email\" "
      "required maxlength=\"254\" autocomplete=\"email\" value=\"{}\"></div>"
      "<div class=\"field\"><label for=\"password\">Password</label><input id=\"password\" name=\"password\" "
      "type=\"password\" required minlength=\"8\" maxlength=\"1024\" autocomplete=\"new-password\" "
      "aria-describedby=\"pw-hint\"><p class=\"hint\" id=\"pw-hint\">At least 8 characters.</p></div>"
      "<button type=\"submit\">Create account</button></form><p>Have an account? <a href=\"/login\">Log "
      "in</a>.</p>"
      "</div>",
      username ? username : "", email ? email : "");
    page_finish(&pg, status);
}

void web_register_get(req *r)
{
    if (web_session(r)) {
        web_redirect(r, "/account");
        return;
    }
    register_form(r, 200, NULL, NULL, NULL);
}

/* Logs in after a registration or a login form: the cookie, then the next page. */
static void start_session(req *r, const session *s, const char *next)
{
    web_redirect(r, next);
    resp_header(r, "Set-Cookie", web_session_cookie(r, s->token, s->expires_at - now_unix()));
    /* The form's anonymous CSRF cookie is done with. */
    resp_header(r, "Set-Cookie", web_anon_cookie_clear(r));
}

void web_register_post(req *r)
{
    if (!web_check_post(r))
        return;
    const char *username = form_get(r, "username"), *email = form_get(r, "email"),
               *pw = form_get(r, "password");
    if (!username || !email || !pw) {
        register_form(r, 400, "Fill in every field.", username, email);
        return;
    }
    derr e;
    user_row u;
    if (accounts_register(r->core, r->a, username, email, pw, strlen(pw), false, false, r->ip, &u, &e) < 0) {
        if (e.status >= 500) {
            web_derr_page(r, &e);
            return;
        }
        register_form(r, e.status, e.message, username, email);
        return;
    }
    session s;
    if (accounts_login(r->core, r->a, username, pw, strlen(pw), r->ip, &s, &e) < 0) {
        web_derr_page(r, &e);
        return;
    }
    if (web_mail_on(r) && web_send_verification(r, &u, &e) < 0)
        log_warn("could not send the verification mail", "user", u.username, "message", e.message, NULL);
    start_session(r, &s, "/account?done=registered");
}

/* ---- log in, log out ---- */

static void login_form(req *r, int status, const char *error, const char *login)
{
    page pg;
    page_start(&pg, r, "Log in", CACHE_NO_STORE);
    buf *b = &pg.b;
    html_raw(b, "<div class=\"form\"><h1>Log in</h1>");
    alert(b, error);
    const char *next = web_local_path(req_query(r, "next"), NULL);
    if (!next)
        next = web_local_path(form_get(r, "next"), "/account");
    html_raw(b, "<form method=\"post\" action=\"/login\">");
    web_csrf_field(&pg);
    H(b,
      "<input type=\"hidden\" name=\"next\" value=\"{}\"><div class=\"field\"><label for=\"login\">Username "
      "or email"
      "</label><input id=\"login\" name=\"login\" type=\"text\" required maxlength=\"254\" "
      "autocomplete=\"username\" "
      "value=\"{}\"></div><div class=\"field\"><label for=\"password\">Password</label><input "
      "id=\"password\" "
      "name=\"password\" type=\"password\" required maxlength=\"1024\" "
      "autocomplete=\"current-password\"></div>"
      "<button type=\"submit\">Log in</button></form>",
      next, login ? login : "");
    if (web_mail_on(r))
        html_raw(b, "<p><a href=\"/password/forgot\">Forgot your password?</a></p>");
    if (!strcmp(r->cfg->registration, "open"))
        html_raw(b, "<p>New here? <a href=\"/register\">Create an account</a>.</p>");
    html_raw(b, "</div>");
    page_finish(&pg, status);
}

void web_login_get(req *r)
{
    if (web_session(r)) {
        web_redirect(r, web_local_path(req_query(r, "next"), "/account"));
        return;
    }
    login_form(r, 200, NULL, NULL);
}

void web_login_post(req *r)
{
    if (!web_check_post(r))
        return;
    const char *login = form_get(r, "login"), *pw = form_get(r, "password");
    if (!login || !*login || !pw) {
        login_form(r, 400, "Give your username (or email) and password.", login);
        return;
    }
    derr e;
    session s;
    if (accounts_login(r->core, r->a, login, pw, strlen(pw), r->ip, &s, &e) < 0) {
        if (e.status >= 500) {
            web_derr_page(r, &e);
            return;
        }
        login_form(r, e.status, e.status == 401 ? "Wrong username or password." : e.message, login);
        resp_retry_after(r, e.retry_after);
        return;
    }
    start_session(r, &s, web_local_path(form_get(r, "next"), "/account"));
}

void web_logout(req *r)
{
    if (!web_check_post(r))
        return;
    derr e;
    if (web_session(r) && accounts_logout(r->core, &r->who, r->ip, &e) < 0 && e.status >= 500) {
        web_derr_page(r, &e);
        return;
    }
    web_redirect(r, "/?done=logout");
    resp_header(r, "Set-Cookie", web_session_cookie_clear(r));
}

/* ---- the account page ---- */

struct made {
    const char *secret; /* a token just made: shown once */
    const char *name;
};

static const char *scopes_text(arena *a, const char *scopes)
{
    return scopes && *scopes ? scopes : arena_strdup(a, "(none)");
}

static void tokens_section(page *pg, const token_row *ts, int n)
{
    req *r = pg->r;
    buf *b = &pg->b;
    html_raw(
        b,
        "<section aria-labelledby=\"h-tokens\"><h2 id=\"h-tokens\">API tokens</h2><p class=\"hint\">Clients "
        "(mix, dart pub, npm, depot) use a token instead of your password. A token can do only what its "
        "scopes allow, and never more than your account.</p>");
    if (!n) {
        html_raw(b, "<p class=\"meta\">You have no tokens yet.</p>");
    } else {
        html_table_head(b, (const char *const[]){"Name", "Scopes", "Starts with", "Created", "Expires",
                                                  "Last used", "<span class=\"vh\">Revoke</span>", NULL});
        for (int i = 0; i < n; i++) {
            const token_row *t = &ts[i];
            H(b,
              "<tr><td>{}</td><td><code>{}</code></td><td><code>{}…</code></td><td>{}</td><td>{}</td><td>{}</"
              "td><td>",
              t->name, scopes_text(r->a, t->scopes), t->prefix, web_date(r->a, t->created_at),
              t->expires_at ? web_date(r->a, t->expires_at) : "never",
              t->last_used_at ? web_date(r->a, t->last_used_at) : "never");
            html_raw(b, "<form method=\"post\" action=\"/account/token-revoke\" class=\"inline\">");
            web_csrf_field(pg);
            H(b,
              "<input type=\"hidden\" name=\"name\" value=\"{}\"><button type=\"submit\" class=\"small "
              "danger\">"
              "Revoke<span class=\"vh\"> {}</span></button></form></td></tr>",
              t->name, t->name);
        }
        html_raw(b, "</tbody></table></div>");
    }
    html_raw(b, "<h3>New token</h3><form method=\"post\" action=\"/account/token-create\" class=\"form\">");
    web_csrf_field(pg);
    html_raw(
        b,
        "<div class=\"field\"><label for=\"token-name\">Name</label><input id=\"token-name\" name=\"name\" "
        "type=\"text\" required maxlength=\"64\" pattern=\"[A-Za-z0-9][A-Za-z0-9._\\-]*\" "
        "placeholder=\"laptop\" aria-describedby=\"token-name-hint\"><p class=\"hint\" "
        "id=\"token-name-hint\">"
        "Letters, digits, '.', '_' and '-'.</p></div>"
        "<fieldset class=\"checks\"><legend>Scopes</legend>"
        "<label><input type=\"checkbox\" name=\"scope\" value=\"read\" checked> read</label>"
        "<label><input type=\"checkbox\" name=\"scope\" value=\"publish\"> publish (every "
        "ecosystem)</label>");
    const eco_desc *x;
    for (size_t i = 0; (x = ecosystem_at(i)); i++)
        H(b, "<label><input type=\"checkbox\" name=\"scope\" value=\"publish:{}\"> publish:{}</label>",
          x->name, x->name);
    html_raw(b, "<label><input type=\"checkbox\" name=\"scope\" value=\"manage\"> manage (owners, settings "
                "and removal of your packages, and your tokens; publish alone never carries it)</label>");
    if (r->who.is_admin)
        html_raw(b, "<label><input type=\"checkbox\" name=\"scope\" value=\"admin\"> admin</label>");
    html_raw(
        b,
        "</fieldset><div class=\"field\"><label for=\"token-pkg\">Only one package (optional)</label>"
        "<input id=\"token-pkg\" name=\"package_scope\" type=\"text\" maxlength=\"250\" "
        "placeholder=\"publish:npm/left-pad\" aria-describedby=\"token-pkg-hint\"><p class=\"hint\" "
        "id=\"token-pkg-hint\">A scope such as <code>publish:hex/my_lib</code> or "
        "<code>manage:hex/my_lib</code>, added to the ones ticked.</p>"
        "</div><div class=\"field\"><label for=\"token-exp\">Expires</label><select id=\"token-exp\" "
        "name=\"expires_days\"><option value=\"30\">in 30 days</option><option value=\"90\">in 90 days"
        "</option><option value=\"365\">in a year</option><option value=\"0\">never</option></select></div>"
        "<button type=\"submit\">Create token</button></form></section>\n");
}

static void keys_section(page *pg, const key_row *ks, int n)
{
    req *r = pg->r;
    buf *b = &pg->b;
    html_raw(
        b,
        "<section aria-labelledby=\"h-keys\"><h2 id=\"h-keys\">Signing keys</h2><p class=\"hint\">Ed25519 "
        "public keys that your releases may be signed with (<code>depot key register</code> makes and adds "
        "one). A package can require signatures.</p>");
    if (n) {
        html_raw(b, "<ul class=\"pkgs\">");
        for (int i = 0; i < n; i++) {
            H(b, "<li><strong>{}</strong> <code>{}</code> <span class=\"meta\">added {}</span> ", ks[i].name,
              ks[i].key_id, web_date(r->a, ks[i].created_at));
            html_raw(b, "<form method=\"post\" action=\"/account/key-remove\" class=\"inline\">");
            web_csrf_field(pg);
            H(b,
              "<input type=\"hidden\" name=\"key_id\" value=\"{}\"><button type=\"submit\" class=\"small "
              "danger\">"
              "Remove<span class=\"vh\"> key {}</span></button></form></li>",
              ks[i].key_id, ks[i].name);
        }
        html_raw(b, "</ul>");
    }
    html_raw(b, "<form method=\"post\" action=\"/account/key-add\" class=\"form\">");
    web_csrf_field(pg);
    html_raw(
        b,
        "<div class=\"field\"><label for=\"key-name\">Key name</label><input id=\"key-name\" name=\"name\" "
        "type=\"text\" required maxlength=\"64\"></div><div class=\"field\"><label for=\"key-pub\">Public "
        "key "
        "(base64)</label><input id=\"key-pub\" name=\"public_key\" type=\"text\" required maxlength=\"100\" "
        "autocomplete=\"off\"></div><button type=\"submit\" class=\"secondary\">Add key</button></form>"
        "</section>\n");
}

static void clients_section(page *pg, const char *secret)
{
    req *r = pg->r;
    buf *b = &pg->b;
    const char *tok = secret ? secret : "dpt_YOUR_TOKEN";
    html_raw(b, "<section aria-labelledby=\"h-clients\"><h2 id=\"h-clients\">Publish from a client</h2>");
    if (!secret)
        html_raw(b, "<p class=\"hint\">Create a token with a publish scope above; its secret replaces "
                    "<code>dpt_YOUR_TOKEN</code>.</p>");
    const front *f;
    for (size_t i = 0; (f = front_at(i)); i++) {
        if (!f->publish_lines)
            continue;
        const char *id = arena_printf(r->a, "client-%zu", i), *label = f->publish_label;
        H(b,
          "<div class=\"snippet\"><div class=\"label\"><span>{}</span><button type=\"button\" class=\"small "
          "secondary\" data-copy=\"{}\" hidden>Copy<span class=\"vh\"> the {} "
          "lines</span></button></div><pre "
          "id=\"{}\"><code>{}</code></pre></div>",
          label, id, label, id, f->publish_lines(r, tok));
    }
    html_raw(b, "</section>\n");
}

/* The address, whether it is verified, and whether others may see it (core/privacy.h). */
static void email_section(page *pg, const user_row *u, int64_t verified)
{
    req *r = pg->r;
    buf *b = &pg->b;
    H(b, "<section aria-labelledby=\"h-email\"><h2 id=\"h-email\">Email</h2><p>{} ",
      u->email ? u->email : "(none)");
    if (verified)
        H(b, "<span class=\"badge ok\">verified {}</span></p>", web_date(r->a, verified));
    else
        html_raw(b, "<span class=\"badge warn\">not verified</span></p>");
    if (!verified && u->email && web_mail_on(r)) {
        html_raw(b, "<form method=\"post\" action=\"/account/verify-send\">");
        web_csrf_field(pg);
        html_raw(b,
                 "<button type=\"submit\" class=\"secondary\">Send me a verification link</button></form>");
    }
    H(b,
      "<p id=\"email-visibility\">{}</p><form method=\"post\" action=\"/account/email-visibility\">"
      "<input type=\"hidden\" name=\"show\" value=\"{}\">",
      u->show_email ? "Everyone can see this address: your profile, Hex owner lists and npm user documents show it."
                    : "Only you and administrators see this address. Hex shows none, and npm documents show "
                      "a no-reply address instead.",
      u->show_email ? "0" : "1");
    web_csrf_field(pg);
    H(b, "<button type=\"submit\" class=\"secondary\">{}</button></form></section>\n",
      u->show_email ? "Hide my address" : "Show my address to everyone");
}

static void account_page(req *r, int status, const char *error, const struct made *made)
{
    derr e;
    user_row u;
    token_row *ts;
    key_row *ks;
    int nt, nk;
    int64_t verified = 0;
    if (accounts_get(r->core, r->a, r->who.user_id, &u, &e) < 0 ||
        tokens_list(r->core, r->a, r->who.user_id, &ts, &nt, &e) < 0 ||
        keys_list(r->core, r->a, r->who.user_id, &ks, &nk, &e) < 0 ||
        accounts_email_verified(r->core, r->who.user_id, &verified, &e) < 0) {
        web_derr_page(r, &e);
        return;
    }
    page pg;
    page_start(&pg, r, "Your account", CACHE_NO_STORE);
    buf *b = &pg.b;
    H(b, "<h1>Your account</h1><p><a href=\"/users/{}\">{}</a>{}</p>", web_seg(r->a, u.username), u.username,
      u.is_admin ? " · administrator" : "");
    alert(b, error);
    if (made && made->secret) {
        H(b,
          "<div class=\"secret\" role=\"status\"><h2>Token “{}” created</h2><p>Copy its secret now: it is "
          "shown only "
          "this once.</p><p><code id=\"new-token\">{}</code> <button type=\"button\" class=\"small\" "
          "data-copy=\"new-token\" hidden>Copy<span class=\"vh\"> the token</span></button></p></div>",
          made->name, made->secret);
    }
    email_section(&pg, &u, verified);
    tokens_section(&pg, ts, nt);
    clients_section(&pg, made ? made->secret : NULL);
    keys_section(&pg, ks, nk);
    html_raw(b, "<section aria-labelledby=\"h-pw\"><h2 id=\"h-pw\">Change password</h2><form method=\"post\" "
                "action=\"/account/password\" class=\"form\">");
    web_csrf_field(&pg);
    html_raw(
        b, "<div class=\"field\"><label for=\"pw-current\">Current password</label><input id=\"pw-current\" "
           "name=\"current\" type=\"password\" required maxlength=\"1024\" autocomplete=\"current-password\">"
           "</div><div class=\"field\"><label for=\"pw-new\">New password</label><input id=\"pw-new\" "
           "name=\"password\" type=\"password\" required minlength=\"8\" maxlength=\"1024\" "
           "autocomplete=\"new-password\"></div><button type=\"submit\" class=\"secondary\">Change password"
           "</button></form></section>\n");
    page_finish(&pg, status);
}

void web_account(req *r)
{
    if (!need_session(r, "/account"))
        return;
    account_page(r, 200, NULL, NULL);
}

static void token_create(req *r)
{
    const char *name = form_get(r, "name"), *extra = form_get(r, "package_scope"),
               *days = form_get(r, "expires_days");
    const char *scopes[16];
    int ns = form_values(r, "scope", scopes, 14);
    if (extra && *extra)
        scopes[ns++] = extra;
    scopes[ns] = NULL;
    if (ns == 0) {
        account_page(r, 422, "Tick at least one scope.", NULL);
        return;
    }
    long d = 0;
    if (days && *days) {
        char *end;
        errno = 0;
        d = strtol(days, &end, 10);
        if (errno || *end || d < 0 || d > 3660)
            d = 30;
    }
    derr e;
    token_row t;
    const char *secret;
    if (tokens_create(r->core, r->a, &r->who, name ? name : "", scopes, d ? now_unix() + d * 86400 : 0, r->ip,
                      &t, &secret, &e) < 0) {
        if (e.status >= 500)
            web_derr_page(r, &e);
        else
            account_page(r, e.status, e.message, NULL);
        return;
    }
    struct made m = {secret, t.name};
    account_page(r, 201, NULL, &m);
}

void web_account_post(req *r)
{
    if (!web_check_post(r) || !need_session(r, "/account"))
        return;
    const char *action = req_param(r, "action");
    derr e;
    const char *done = NULL;
    session fresh = {0};
    int rc = 0;
    if (!strcmp(action, "token-create")) {
        token_create(r);
        return;
    } else if (!strcmp(action, "token-revoke")) {
        const char *name = form_get(r, "name");
        rc = tokens_delete(r->core, r->who.user_id, name ? name : "", r->ip, &e);
        done = "token-revoked";
    } else if (!strcmp(action, "key-add")) {
        key_row k;
        const char *name = form_get(r, "name"), *pub = form_get(r, "public_key");
        rc = keys_add(r->core, r->a, &r->who, name ? name : "", pub ? pub : "", &k, r->ip, &e);
        done = "key-added";
    } else if (!strcmp(action, "key-remove")) {
        const char *id = form_get(r, "key_id");
        rc = keys_delete(r->core, &r->who, id ? id : "", r->ip, &e);
        done = "key-removed";
    } else if (!strcmp(action, "password")) {
        const char *cur = form_get(r, "current"), *pw = form_get(r, "password");
        if (!cur || !pw) {
            account_page(r, 400, "Give the current and the new password.", NULL);
            return;
        }
        rc = accounts_change_password(r->core, r->a, &r->who, cur, strlen(cur), pw, strlen(pw), r->ip, &fresh,
                                      &e);
        done = "password";
    } else if (!strcmp(action, "email-visibility")) {
        const char *show = form_get(r, "show");
        bool on = show && strcmp(show, "1") == 0;
        rc = privacy_set_show_email(r->core, &r->who, on, r->ip, &e);
        done = on ? "email-shown" : "email-hidden";
    } else if (!strcmp(action, "verify-send")) {
        user_row u;
        rc = accounts_get(r->core, r->a, r->who.user_id, &u, &e);
        if (rc == 0)
            rc = web_send_verification(r, &u, &e);
        done = "verify-sent";
    } else {
        web_not_found(r);
        return;
    }
    if (rc < 0) {
        if (e.status >= 500 && e.status != 503)
            web_derr_page(r, &e);
        else
            account_page(r, e.status, e.message, NULL);
        return;
    }
    web_redirect(r, arena_printf(r->a, "/account?done=%s", done));
    /* A new password ends every session issued before it (this one too): keep this browser
     * signed in with the fresh one the change made. */
    if (fresh.token)
        resp_header(r, "Set-Cookie", web_session_cookie(r, fresh.token, fresh.expires_at - now_unix()));
}
