/*
 * users.c — the Hex API's users and repositories: registration
 * (`rebar3 hex user register`), the caller (`GET /users/me`, read by
 * `mix hex.publish`, `mix hex.user whoami` and `mix hex.owner packages`),
 * profiles, the password-reset request, and the one repository this server
 * has (`/repos`).
 *
 * depot has no organizations: `organizations` is always an empty list, which
 * also keeps `mix hex.publish` from asking which organization to publish to.
 */
#include <string.h>
#include <strings.h>

#include "../core/accounts.h"
#include "../core/catalog.h"
#include "../core/privacy.h"
#include "../lib/json.h"
#include "hex.h"

/* The packages a user owns, as hex.pm lists them on a user (Hex packages only). */
static void add_packages(req *r, json_t *o, const user_row *u)
{
    derr e;
    package_row *ps;
    int n;
    json_t *list = json_array(), *owned = json_object();
    if (catalog_user_packages(r->core, r->a, u->id, &ps, &n, &e) == 0) {
        for (int i = 0; i < n; i++) {
            if (strcmp(ps[i].ecosystem, HEX) != 0 || !ps[i].latest_version)
                continue;
            const char *url = req_url(r, "/hex/api/packages/%s", ps[i].name);
            json_t *x = json_object();
            json_object_set_new(x, "name", json_string(ps[i].name));
            json_object_set_new(x, "repository", json_string(hex_opts(r->cfg)->repo));
            json_object_set_new(x, "url", json_string(url));
            json_object_set_new(x, "html_url", json_string(req_url(r, "/packages/hex/%s", ps[i].name)));
            json_array_append_new(list, x);
            json_object_set_new(owned, ps[i].name, json_string(url));
        }
    }
    json_object_set_new(o, "packages", list);
    json_object_set_new(o, "owned_packages", owned);
}

void hex_users_create(req *r)
{
    json_t *b = hex_body(r);
    if (!b)
        return;
    const char *username = json_string_value(json_object_get(b, "username"));
    const char *email = json_string_value(json_object_get(b, "email"));
    const char *password = json_string_value(json_object_get(b, "password"));
    json_t *errors = json_object();
    if (!username)
        json_object_set_new(errors, "username", json_string("can't be blank"));
    if (!email)
        json_object_set_new(errors, "email", json_string("can't be blank"));
    if (!password)
        json_object_set_new(errors, "password", json_string("can't be blank"));
    if (json_object_size(errors)) {
        hex_error(r, 422, "Validation error(s)", errors);
        return;
    }
    json_decref(errors);
    derr e;
    user_row u;
    if (accounts_register(r->core, r->a, username, email, password, strlen(password), false, false, r->ip, &u,
                          &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    json_t *o = hex_user_json(r, &u, u.email);
    add_packages(r, o, &u);
    hex_respond(r, 201, o);
    resp_header(r, "Location", req_url(r, "/hex/api/users/%s", u.username));
}

void hex_users_me(req *r)
{
    if (!hex_need_user(r))
        return;
    user_row u;
    if (resp_account(r, &u) < 0)
        return;
    json_t *o = hex_user_json(r, &u, u.email);
    json_object_set_new(o, "organizations", json_array());
    add_packages(r, o, &u);
    hex_respond(r, 200, o);
}

void hex_users_get(req *r)
{
    derr e;
    user_row u;
    /* By username, or by an address the caller may see: an address never finds its user for
     * anyone else (hex.pm: public addresses only). */
    if (privacy_find_user(r->core, r->a, &r->who, req_param(r, "user"), &u, &e) < 0) {
        if (e.status >= 500)
            resp_derr(r, &e);
        else
            hex_error(r, 404, e.message, NULL);
        return;
    }
    json_t *o = hex_user_json(r, &u, privacy_user_email(&r->who, &u));
    add_packages(r, o, &u);
    hex_respond(r, 200, o);
}

/* depot sends no mail here: the request is recorded, and an admin resets the password
 * (`depot user passwd`). The answer is hex.pm's 204 either way, so it tells nobody
 * whether the account exists. */
void hex_users_reset(req *r)
{
    const char *login = req_param(r, "user");
    core_audit(r->core, r->who.user_id, "user.password_reset_requested", login, "{\"via\":\"hex\"}", r->ip);
    resp_empty(r, 204);
}

static json_t *repo_json(req *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(hex_opts(r->cfg)->repo));
    json_object_set_new(o, "public", json_boolean(!r->cfg->private_mode));
    json_object_set_new(o, "active", json_true());
    json_object_set_new(o, "billing_active", json_true());
    json_object_set_new(o, "inserted_at", json_null());
    json_object_set_new(o, "updated_at", json_null());
    json_object_set_new(o, "url", json_string(req_url(r, "/hex/api/repos/%s", hex_opts(r->cfg)->repo)));
    return o;
}

void hex_repos_list(req *r)
{
    json_t *arr = json_array();
    json_array_append_new(arr, repo_json(r));
    hex_respond(r, 200, arr);
}

void hex_repos_get(req *r)
{
    if (!hex_repo_ok(r, true))
        return;
    hex_respond(r, 200, repo_json(r));
}
