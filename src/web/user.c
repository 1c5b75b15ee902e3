/*
 * user.c — a user's public page: name, when they joined, and the packages
 * they own in every ecosystem. An email address is shown only when its user
 * chose to show it to everyone (the page is cached as public, so not even
 * its own user sees a hidden one here); a disabled account has no page.
 */
#include <string.h>
#include <strings.h>

#include "../core/accounts.h"
#include "../core/catalog.h"
#include "../core/core.h"
#include "../core/privacy.h"
#include "web.h"

void web_user(req *r)
{
    const char *name = req_param(r, "username");
    derr e;
    user_row u;
    if (accounts_profile(r->core, r->a, name, &u, &e) < 0) {
        if (e.status == 404)
            web_error_page(r, 404, "User not found", "There is no user by that name.");
        else
            web_derr_page(r, &e);
        return;
    }
    package_row *ps;
    int n;
    if (catalog_user_packages(r->core, r->a, u.id, &ps, &n, &e) < 0) {
        web_derr_page(r, &e);
        return;
    }
    page pg;
    page_start(&pg, r, u.username, CACHE_PUBLIC);
    buf *b = &pg.b;
    H(b, "<h1>{}</h1><p class=\"meta\">Joined {}{}</p>", u.username, web_date(r->a, u.created_at),
      u.is_admin ? " · administrator of this registry" : "");
    const char *email = privacy_user_email(NULL, &u);
    if (email)
        H(b, "<p>Email: <a href=\"mailto:{}\">{}</a></p>", email, email);
    if (web_session(r) && r->who.user_id == u.id)
        html_raw(b, "<p><a href=\"/account\">Manage your account and API tokens</a></p>");
    H(b, "<section aria-labelledby=\"h-pkgs\"><h2 id=\"h-pkgs\">Packages ({})</h2>", web_num(r->a, n));
    web_package_list(b, r->a, ps, n, true);
    html_raw(b, "</section>\n");
    page_finish(&pg, 200);
}
