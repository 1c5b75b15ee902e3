/*
 * admin.c — the admin page: the health of the store and the blob store,
 * counts, the users (disable or enable, promote or demote, each confirmed
 * first), and the newest entries of the audit log. Admins only; it is
 * never cached. An admin cannot disable or demote their own account here,
 * so the last admin cannot lock everyone out by a slip (the CLI still can).
 */
#include <string.h>

#include "../core/accounts.h"
#include "../core/catalog.h"
#include "../core/core.h"
#include "../lib/timeutil.h"
#include "web.h"

#define AUDIT_ROWS 50
#define USERS_MAX 500

static const struct {
    const char *code, *title, *explain;
} user_actions[] = {
    {"disable", "Disable", "They can no longer log in, and their sessions and tokens stop working at once."},
    {"enable", "Enable", "They can log in again; their tokens work again, their earlier sessions do not."},
    {"promote", "Make admin", "They can manage users and change any package."},
    {"demote", "Remove admin", "They keep their account and packages, but lose admin rights."},
};

static bool need_admin(req *r)
{
    if (!web_session(r)) {
        web_redirect(r, "/login?next=/admin");
        return false;
    }
    if (!r->who.is_admin) {
        web_error_page(r, 403, "Admins only", "This page is for the administrators of this registry.");
        return false;
    }
    return true;
}

static int find_action(const char *code)
{
    for (int i = 0; code && i < 4; i++)
        if (!strcmp(code, user_actions[i].code))
            return i;
    return -1;
}

static void health(page *pg)
{
    req *r = pg->r;
    derr e;
    bool st, bl;
    core_health(r->core, &st, &bl);
    registry_totals t = {0};
    catalog_totals(r->core, &t, &e);
    H(&pg->b,
      "<section aria-labelledby=\"h-health\"><h2 id=\"h-health\">Health and storage</h2><div "
      "class=\"table-wrap\">"
      "<table><tbody><tr><th scope=\"row\">Metadata store</th><td>{} <span class=\"badge "
      "{}\">{}</span></td></tr>"
      "<tr><th scope=\"row\">Blob store</th><td><span class=\"badge {}\">{}</span></td></tr>"
      "<tr><th scope=\"row\">Packages</th><td>{}</td></tr><tr><th scope=\"row\">Versions</th><td>{}</td></tr>"
      "<tr><th scope=\"row\">Downloads</th><td>{}</td></tr><tr><th scope=\"row\">Users</th><td>{}</td></tr>"
      "<tr><th scope=\"row\">Registration</th><td>{}</td></tr><tr><th "
      "scope=\"row\">Reads</th><td>{}</td></tr>"
      "<tr><th scope=\"row\">Mail</th><td>{}</td></tr></tbody></table></div>"
      "<p class=\"hint\">Machine-readable: <a href=\"/health\">/health</a> and <a "
      "href=\"/metrics\">/metrics</a>.</p>"
      "</section>\n",
      core_store_name(r->core), st ? "ok" : "bad", st ? "ok" : "failing", bl ? "ok" : "bad",
      bl ? "ok" : "failing", web_count(r->a, t.packages), web_count(r->a, t.versions),
      web_count(r->a, t.downloads), web_count(r->a, t.users), r->cfg->registration,
      r->cfg->private_mode ? "private (a credential is needed)" : "public",
      web_mail_on(r) ? "on" : "off (no --smtp-url)");
}

static void confirm_box(page *pg, const char *code, const char *user)
{
    int k = find_action(code);
    if (k < 0 || !user || !*user)
        return;
    H(&pg->b,
      "<section class=\"confirm\" aria-labelledby=\"h-confirm\"><h2 id=\"h-confirm\">{} {}?</h2><p>{}</p>"
      "<form method=\"post\" action=\"/admin/user\">",
      user_actions[k].title, user, user_actions[k].explain);
    web_csrf_field(pg);
    H(&pg->b,
      "<input type=\"hidden\" name=\"action\" value=\"{}\"><input type=\"hidden\" name=\"user\" value=\"{}\">"
      "<div class=\"actions\"><button type=\"submit\" class=\"danger\">{} {}</button><a "
      "href=\"/admin\">Cancel</a>"
      "</div></form></section>\n",
      code, user, user_actions[k].title, user);
}

static void users(page *pg)
{
    req *r = pg->r;
    derr e;
    user_row *us;
    int n;
    if (accounts_list(r->core, r->a, &us, &n, &e) < 0) {
        html_raw(&pg->b, "<p class=\"alert\">The users could not be read.</p>");
        return;
    }
    H(&pg->b, "<section aria-labelledby=\"h-users\"><h2 id=\"h-users\">Users ({})</h2>", web_num(r->a, n));
    html_table_head(&pg->b, (const char *const[]){"User", "Email", "Joined", "Status", "Actions", NULL});
    for (int i = 0; i < n && i < USERS_MAX; i++) {
        const user_row *u = &us[i];
        const char *q = web_q(r->a, u->username);
        H(&pg->b, "<tr><td><a href=\"/users/{}\">{}</a></td><td>{}</td><td>{}</td><td>{!}{!}</td><td>",
          web_seg(r->a, u->username), u->username, u->email ? u->email : "", web_date(r->a, u->created_at),
          u->disabled ? "<span class=\"badge bad\">disabled</span> " : "",
          u->is_admin ? "<span class=\"badge ok\">admin</span>" : "");
        if (u->id != r->who.user_id) {
            H(&pg->b,
              "<a class=\"button small secondary\" href=\"/admin?action={}&amp;user={}\">{}<span "
              "class=\"vh\"> {}"
              "</span></a> ",
              u->disabled ? "enable" : "disable", q, u->disabled ? "Enable" : "Disable", u->username);
            H(&pg->b,
              "<a class=\"button small secondary\" href=\"/admin?action={}&amp;user={}\">{}<span "
              "class=\"vh\"> {}"
              "</span></a>",
              u->is_admin ? "demote" : "promote", q, u->is_admin ? "Remove admin" : "Make admin",
              u->username);
        } else {
            html_raw(&pg->b, "<span class=\"meta\">you</span>");
        }
        html_raw(&pg->b, "</td></tr>\n");
    }
    html_raw(&pg->b, "</tbody></table></div>");
    if (n > USERS_MAX)
        html_raw(&pg->b, "<p class=\"meta\">The first 500 users by name are shown; the CLI lists all "
                         "(<code>depot user list</code>).</p>");
    html_raw(&pg->b, "</section>\n");
}

static void audit(page *pg)
{
    req *r = pg->r;
    derr e;
    audit_row *rows;
    int n;
    if (accounts_audit_recent(r->core, r->a, AUDIT_ROWS, &rows, &n, &e) < 0) {
        html_raw(&pg->b, "<p class=\"alert\">The audit log could not be read.</p>");
        return;
    }
    html_raw(&pg->b, "<section aria-labelledby=\"h-audit\"><h2 id=\"h-audit\">Recent activity</h2>");
    html_table_head(&pg->b,
                    (const char *const[]){"When (UTC)", "Who", "What", "On", "From", "Detail", NULL});
    for (int i = 0; i < n; i++) {
        const audit_row *a = &rows[i];
        char when[32];
        time_rfc3339(a->at, when);
        when[10] = ' ';
        when[19] = '\0';
        H(&pg->b, "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>\n", when,
          a->username  ? a->username
          : a->user_id ? "(deleted user)"
                       : "—",
          a->action, a->target ? a->target : "", a->ip ? a->ip : "", a->detail ? a->detail : "");
    }
    html_raw(&pg->b, "</tbody></table></div></section>\n");
}

void web_admin(req *r)
{
    if (!need_admin(r))
        return;
    page pg;
    page_start(&pg, r, "Admin", CACHE_NO_STORE);
    html_raw(&pg.b, "<h1>Admin</h1>");
    confirm_box(&pg, req_query(r, "action"), req_query(r, "user"));
    health(&pg);
    users(&pg);
    audit(&pg);
    page_finish(&pg, 200);
}

void web_admin_post(req *r)
{
    if (!web_check_post(r) || !need_admin(r))
        return;
    if (strcmp(req_param(r, "action"), "user")) {
        web_not_found(r);
        return;
    }
    const char *code = form_get(r, "action"), *user = form_get(r, "user");
    int k = find_action(code);
    if (k < 0 || !user || !*user) {
        web_error_page(r, 400, "Unknown change", "Pick a user and a change from the admin page.");
        return;
    }
    derr e;
    user_row u;
    if (accounts_find(r->core, r->a, user, &u, &e) < 0) {
        web_derr_page(r, &e);
        return;
    }
    if (u.id == r->who.user_id) {
        web_error_page(r, 409, "Not on yourself",
                       "Disable or demote your own account with the CLI, not here.");
        return;
    }
    int rc = k < 2 ? accounts_set_disabled(r->core, r->a, u.username, k == 0, &e)
                   : accounts_set_admin(r->core, r->a, u.username, k == 2, &e);
    if (rc < 0) {
        web_derr_page(r, &e);
        return;
    }
    web_redirect(r, arena_printf(r->a, "/admin?done=user-%s", code));
}
