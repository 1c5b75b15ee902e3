/*
 * accounts.c — the native front's account routes: register, login, refresh,
 * logout, me, and API tokens. Each handler reads its JSON, calls core, and
 * renders the result; every rule lives in core/accounts.c and core/tokens.c.
 */
#include <string.h>

#include "../core/accounts.h"
#include "../core/privacy.h"
#include "../core/tokens.h"
#include "../http/http.h"
#include "../lib/json.h"
#include "../lib/timeutil.h"
#include "native.h"

static void session_reply(req *r, int status, const session *s)
{
    json_t *doc = json_object();
    json_set_str(doc, "token", s->token);
    json_set_time(doc, "expires_at", s->expires_at);
    json_object_set_new(doc, "user", account_json(&s->user));
    resp_json(r, status, doc);
    resp_header(r, "Cache-Control", "no-store");
}

void native_register(req *r)
{
    json_t *doc = req_json(r);
    if (!doc)
        return;
    derr e;
    const char *username, *email, *password;
    if (json_str(doc, "username", true, &username, &e) < 0 || json_str(doc, "email", true, &email, &e) < 0 ||
        json_str(doc, "password", true, &password, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    size_t pwlen = json_string_length(json_object_get(doc, "password"));
    user_row u;
    if (accounts_register(r->core, r->a, username, email, password, pwlen, false, false, r->ip, &u, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    resp_json(r, 201, account_json(&u));
}

void native_login(req *r)
{
    json_t *doc = req_json(r);
    if (!doc)
        return;
    derr e;
    const char *login = NULL, *password;
    static const char *keys[] = {"username", "login", "email"};
    for (int i = 0; i < 3 && !login; i++)
        if (json_str(doc, keys[i], false, &login, &e) < 0) {
            resp_derr(r, &e);
            return;
        }
    if (!login) {
        resp_error(r, 400, "bad_request", "field 'username' (or 'email') is required");
        return;
    }
    if (json_str(doc, "password", true, &password, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    size_t pwlen = json_string_length(json_object_get(doc, "password"));
    session s;
    if (accounts_login(r->core, r->a, login, password, pwlen, r->ip, &s, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    session_reply(r, 200, &s);
}

void native_refresh(req *r)
{
    derr e;
    session s;
    if (accounts_refresh(r->core, r->a, &r->who, &s, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    session_reply(r, 200, &s);
}

void native_logout(req *r)
{
    derr e;
    if (accounts_logout(r->core, &r->who, r->ip, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    resp_empty(r, 204);
}

void native_me(req *r)
{
    user_row u;
    if (resp_account(r, &u) < 0)
        return;
    json_t *doc = account_json(&u);
    if (r->who.kind == CRED_TOKEN)
        json_object_set_new(doc, "scopes", scopes_json(r->who.scopes));
    resp_json(r, 200, doc);
}

/* The account's own settings: for now whether others see its email address (core/privacy.h). */
void native_me_settings(req *r)
{
    json_t *doc = req_json(r);
    if (!doc)
        return;
    json_t *show = json_object_get(doc, "show_email");
    if (!json_is_boolean(show)) {
        resp_error(r, 400, "bad_request", "field 'show_email' must be true or false");
        return;
    }
    derr e;
    if (privacy_set_show_email(r->core, &r->who, json_is_true(show), r->ip, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    json_t *out = json_object();
    json_object_set_new(out, "show_email", json_boolean(json_is_true(show)));
    resp_json(r, 200, out);
}

void native_tokens_list(req *r)
{
    derr e;
    token_row *ts;
    int n;
    if (tokens_may_manage(&r->who, &e) < 0 || tokens_list(r->core, r->a, r->who.user_id, &ts, &n, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, token_json(&ts[i]));
    native_list(r, "tokens", arr);
}

void native_tokens_create(req *r)
{
    json_t *doc = req_json(r);
    if (!doc)
        return;
    derr e;
    const char *name, *expires;
    json_t *scopes;
    if (tokens_may_manage(&r->who, &e) < 0 || json_str(doc, "name", true, &name, &e) < 0 ||
        json_str_array(doc, "scopes", true, &scopes, &e) < 0 ||
        json_str(doc, "expires_at", false, &expires, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    int64_t exp = 0;
    if (expires && time_parse_rfc3339(expires, &exp) < 0) {
        resp_error(r, 422, "invalid", "expires_at: expected an RFC 3339 time such as 2027-01-01T00:00:00Z");
        return;
    }
    size_t ns = json_array_size(scopes);
    if (ns > 32) {
        resp_error(r, 422, "invalid", "scopes: at most 32");
        return;
    }
    const char **list = arena_zalloc(r->a, sizeof(char *) * (ns + 1));
    for (size_t i = 0; i < ns; i++)
        list[i] = json_string_value(json_array_get(scopes, i));
    token_row t;
    const char *secret;
    if (tokens_create(r->core, r->a, &r->who, name, list, exp, r->ip, &t, &secret, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    json_t *out = token_json(&t);
    json_set_str(out, "token", secret);
    resp_json(r, 201, out);
    resp_header(r, "Cache-Control", "no-store");
}

void native_tokens_get(req *r)
{
    derr e;
    token_row t;
    if (tokens_may_manage(&r->who, &e) < 0 ||
        tokens_get(r->core, r->a, r->who.user_id, req_param(r, "name"), &t, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    resp_json(r, 200, token_json(&t));
}

void native_tokens_delete(req *r)
{
    derr e;
    if (tokens_may_delete(r->core, r->a, &r->who, req_param(r, "name"), &e) < 0 ||
        tokens_delete(r->core, r->who.user_id, req_param(r, "name"), r->ip, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    resp_empty(r, 204);
}
