/*
 * owner.c — what a package's owners change from its page:
 * yank and unyank and adding or removing owners (every ecosystem), and the
 * status actions its front offers (retire, retract, deprecate, discontinue:
 * front.h's actions).
 *
 * Every change goes through a confirmation page first (a GET that shows what
 * will happen and asks for the details the change needs), whose form POSTs
 * to /packages/{eco}/{name}/action with the CSRF token. The rules (who may,
 * what exists) are core's: this file only maps a form to a core call, so
 * the same change through the API and through the page behaves the same.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../core/packages.h"
#include "web.h"

enum need { NEED_NONE, NEED_VERSION, NEED_USER };

typedef struct action {
    const char *code;
    enum need need;
    const char *title;   /* "Yank {name} {version}" without the names */
    const char *explain; /* what it means */
    bool danger;
} action;

/* The changes of every ecosystem; each front adds its status actions (front.h). */
static const action actions[] = {
    {"yank", NEED_VERSION, "Yank",
     "A yanked version stays downloadable by its exact number (so existing lock files keep working), but "
     "resolvers no longer choose it and it stops being the latest.",
     true},
    {"unyank", NEED_VERSION, "Unyank", "The version becomes available to resolvers again.", false},
    {"owner-add", NEED_USER, "Add owner",
     "An owner can publish new versions, change versions and manage the owners of this package.", false},
    {"owner-remove", NEED_USER, "Remove owner",
     "The user can no longer publish or change this package. The last owner cannot be removed.", true},
};

static const char *const retire_reasons[] = {"other", "invalid", "security", "deprecated", "renamed", NULL};

/* The change called code on p's page: one of every ecosystem's, or one of its front's. */
static bool find_action(const package_row *p, const char *code, action *out)
{
    if (!code)
        return false;
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++) {
        if (!strcmp(actions[i].code, code)) {
            *out = actions[i];
            return true;
        }
    }
    const front *f = front_find(p->ecosystem);
    for (const front_action *fa = f ? f->actions : NULL; fa && fa->code; fa++) {
        if (!strcmp(fa->code, code)) {
            *out = (action){fa->code, fa->per_version ? NEED_VERSION : NEED_NONE, fa->title, fa->explain,
                            fa->danger};
            return true;
        }
    }
    return false;
}

static void action_link(page *pg, const package_row *p, const char *code, const char *label,
                        const char *version)
{
    req *r = pg->r;
    H(&pg->b,
      "<a class=\"button small secondary\" href=\"{}/confirm?action={}&amp;version={}\">{}<span "
      "class=\"vh\"> "
      "{}</span></a> ",
      web_pkg_path(r->a, p->ecosystem, p->name), code, web_q(r->a, version), label, version);
}

/* Does v have the status of verb (enum eco_verb)? */
static bool version_has(const version_row *v, unsigned verb)
{
    switch (verb) {
    case ECO_RETIRE:
        return v->retired_reason != NULL;
    case ECO_RETRACT:
        return v->retracted;
    case ECO_DEPRECATE:
        return v->deprecated != NULL;
    default:
        return false;
    }
}

void web_version_actions(page *pg, const package_row *p, const version_row *v)
{
    action_link(pg, p, v->yanked ? "unyank" : "yank", v->yanked ? "Unyank" : "Yank", v->version);
    const front *f = front_find(p->ecosystem);
    for (const front_action *fa = f ? f->actions : NULL; fa && fa->code; fa++) {
        if (!fa->per_version || fa->on == version_has(v, fa->verb))
            continue; /* the one that applies: set when the version lacks the status, lift when it has it */
        action_link(pg, p, fa->code, fa->title, v->version);
    }
}

/* Checks that the requester may change p; answers (login redirect or 403) and returns false if not. */
static bool allowed(req *r, const package_row *p)
{
    if (!web_session(r)) {
        web_redirect(
            r, arena_printf(r->a, "/login?next=%s", web_q(r->a, web_pkg_path(r->a, p->ecosystem, p->name))));
        return false;
    }
    derr e;
    if (packages_may_change(r->core, r->a, &r->who, p, PKG_PUBLISH, &e) < 0) {
        web_error_page(r, 403, "Not allowed", "Only the owners of this package can change it.");
        return false;
    }
    return true;
}

void web_owner_confirm(req *r, const package_row *p, const char *code)
{
    if (!allowed(r, p))
        return;
    action a;
    if (!find_action(p, code, &a)) {
        web_error_page(r, 404, "Unknown change", "This package has no such change.");
        return;
    }
    const action *act = &a;
    const char *version = req_query(r, "version"), *user = req_query(r, "user");
    derr e;
    if (act->need == NEED_VERSION) {
        version_row v;
        if (!version || packages_version(r->core, r->a, p, version, &v, &e) < 0) {
            web_error_page(r, 404, "No such version", "The package has no such version.");
            return;
        }
    }
    if (act->need == NEED_USER && (!user || !*user)) {
        web_error_page(r, 400, "Who?", "Name the user.");
        return;
    }
    const char *path = web_pkg_path(r->a, p->ecosystem, p->name);
    const char *what = act->need == NEED_VERSION ? arena_printf(r->a, "%s %s", p->name, version)
                       : act->need == NEED_USER  ? arena_printf(r->a, "%s for %s", user, p->name)
                                                 : p->name;
    page pg;
    page_start(&pg, r, arena_printf(r->a, "%s %s", act->title, what), CACHE_NO_STORE);
    buf *b = &pg.b;
    H(b, "<section class=\"confirm\" aria-labelledby=\"h-confirm\"><h1 id=\"h-confirm\">{} {}?</h1><p>{}</p>",
      act->title, what, act->explain);
    H(b,
      "<form method=\"post\" action=\"{}/action\" class=\"form\"><input type=\"hidden\" name=\"action\" "
      "value=\"{}\">",
      path, act->code);
    web_csrf_field(&pg);
    if (version)
        H(b, "<input type=\"hidden\" name=\"version\" value=\"{}\">", version);
    if (user)
        H(b, "<input type=\"hidden\" name=\"user\" value=\"{}\">", user);
    if (!strcmp(act->code, "retire")) {
        html_raw(b, "<div class=\"field\"><label for=\"reason\">Reason</label><select id=\"reason\" "
                    "name=\"reason\">");
        for (int i = 0; retire_reasons[i]; i++)
            H(b, "<option>{}</option>", retire_reasons[i]);
        html_raw(
            b,
            "</select></div><div class=\"field\"><label for=\"message\">Message (3 to 140 characters, "
            "optional)</label><input id=\"message\" type=\"text\" name=\"message\" maxlength=\"140\"></div>");
    } else if (!strcmp(act->code, "deprecate")) {
        html_raw(b,
                 "<div class=\"field\"><label for=\"message\">Message shown to people who install it</label>"
                 "<input id=\"message\" type=\"text\" name=\"message\" required maxlength=\"1000\"></div>");
    } else if (!strcmp(act->code, "discontinue")) {
        html_raw(b,
                 "<div class=\"field\"><label for=\"replaced\">Replaced by (a package name, optional)</label>"
                 "<input id=\"replaced\" type=\"text\" name=\"replaced_by\" maxlength=\"214\"></div>");
    }
    H(b,
      "<div class=\"actions\"><button type=\"submit\" class=\"{}\">{} {}</button><a "
      "href=\"{}\">Cancel</a></div>"
      "</form></section>\n",
      act->danger ? "danger" : "", act->title, what, path);
    page_finish(&pg, 200);
}

/* The discontinued flag: the rule is core's. */
static int set_discontinued(req *r, const package_row *p, bool on, const char *replaced_by, derr *e)
{
    return packages_discontinue(r->core, r->a, &r->who, p->ecosystem, p->name, on, replaced_by, r->ip, e);
}

void web_owner_post(req *r, const package_row *p)
{
    if (!web_check_post(r) || !allowed(r, p))
        return;
    action a;
    if (!find_action(p, form_get(r, "action"), &a)) {
        web_error_page(r, 400, "Unknown change", "This package has no such change.");
        return;
    }
    const action *act = &a;
    const char *version = form_get(r, "version"), *user = form_get(r, "user");
    const char *message = form_get(r, "message");
    if ((act->need == NEED_VERSION && !version) || (act->need == NEED_USER && (!user || !*user))) {
        web_error_page(r, 400, "Something is missing", "The form lacks the version or the user.");
        return;
    }
    const char *eco = p->ecosystem, *name = p->name, *code = act->code;
    derr e;
    int rc;
    version_status st = {0};
    if (!strcmp(code, "yank") || !strcmp(code, "unyank")) {
        rc = packages_yank(r->core, r->a, &r->who, eco, name, version, code[0] == 'y', r->ip, &e);
    } else if (!strcmp(code, "retire")) {
        const char *reason = form_get(r, "reason");
        bool known = false;
        for (int i = 0; reason && retire_reasons[i]; i++)
            known |= !strcmp(reason, retire_reasons[i]);
        size_t ml = message ? strlen(message) : 0;
        if (!known || (ml && (ml < 3 || ml > 140))) {
            web_error_page(r, 422, "Check the form", "Pick a reason; a message has 3 to 140 characters.");
            return;
        }
        st.set_retired = 1;
        st.retired_reason = reason;
        st.retired_message = ml ? message : NULL;
        rc =
            packages_set_status(r->core, r->a, &r->who, eco, name, version, &st, "version.retire", r->ip, &e);
    } else if (!strcmp(code, "unretire")) {
        st.set_retired = -1;
        rc = packages_set_status(r->core, r->a, &r->who, eco, name, version, &st, "version.unretire", r->ip,
                                 &e);
    } else if (!strcmp(code, "retract") || !strcmp(code, "unretract")) {
        st.set_retracted = code[0] == 'r' ? 1 : -1;
        rc = packages_set_status(r->core, r->a, &r->who, eco, name, version, &st,
                                 code[0] == 'r' ? "version.retract" : "version.unretract", r->ip, &e);
    } else if (!strcmp(code, "deprecate")) {
        if (!message || !*message || strlen(message) > 1000) {
            web_error_page(r, 422, "Check the form",
                           "A deprecation needs a message (at most 1000 characters).");
            return;
        }
        st.set_deprecated = 1;
        st.deprecated = message;
        rc = packages_set_status(r->core, r->a, &r->who, eco, name, version, &st, "version.deprecate", r->ip,
                                 &e);
    } else if (!strcmp(code, "undeprecate")) {
        st.set_deprecated = -1;
        rc = packages_set_status(r->core, r->a, &r->who, eco, name, version, &st, "version.undeprecate",
                                 r->ip, &e);
    } else if (!strcmp(code, "discontinue") || !strcmp(code, "undiscontinue")) {
        const char *rb = form_get(r, "replaced_by");
        if (rb && strlen(rb) > 214) {
            web_error_page(r, 422, "Check the form", "A package name has at most 214 characters.");
            return;
        }
        rc = set_discontinued(r, p, code[0] == 'd', rb, &e);
    } else if (!strcmp(code, "owner-add")) {
        rc = packages_owner_add(r->core, r->a, &r->who, eco, name, user, r->ip, &e);
    } else {
        rc = packages_owner_remove(r->core, r->a, &r->who, eco, name, user, r->ip, &e);
    }
    if (rc < 0) {
        web_derr_page(r, &e);
        return;
    }
    web_redirect(r, arena_printf(r->a, "%s?done=%s", web_pkg_path(r->a, eco, name), code));
}
