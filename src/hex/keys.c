/*
 * keys.c — Hex API keys, which are depot API tokens, so one token works
 * for every ecosystem (`mix hex.organization key ...`, the deprecated
 * `mix hex.organization auth`, `rebar3 hex user auth`), and the key check
 * `GET /auth?domain=&resource=`.
 *
 * Hex permissions {domain, resource} (hex.md §3.3) map onto depot scopes:
 *   api (or api:write)        publish:hex manage:hex (publish and manage every Hex package the
 *                             user owns, owners included, as hex.pm's write key does)
 *   api:read                  read
 *   repository:NAME, repositories, docs:NAME   read
 *   package:NAME              publish:hex/NAME (publish only: no owners, no settings)
 * and back, for listing. A repository permission must name this server's
 * repository. /orgs/{org}/keys are the same keys; {org} must be the
 * repository's name, since depot has no organizations.
 *
 * Who may list, make and revoke keys through the Hex API is core's rule for every front
 * (tokens_may_manage): a password (Basic, what clients use to create their first key), a
 * session, or a token holding a manage scope, such as a full `api` key (what HEX_API_KEY holds
 * when `mix hex.organization key` runs). A new key never holds more, nor lives longer, than the
 * credential that makes it, and a key revokes only keys it covers (core/tokens.c).
 */
#include <ctype.h>
#include <string.h>

#include "../core/tokens.h"
#include "../lib/timeutil.h"
#include "hex.h"

static bool org_ok(req *r)
{
    const char *org = req_param(r, "org");
    if (!org || strcmp(org, hex_opts(r->cfg)->repo) == 0)
        return true;
    hex_error(r, 404,
              arena_printf(r->a, "no organization named '%.100s' (this server's repository is '%s')", org,
                           hex_opts(r->cfg)->repo),
              NULL);
    return false;
}

/* core's rule for managing keys; false after answering 403 in Hex's shape. */
static bool may_manage(req *r)
{
    derr e;
    if (tokens_may_manage(&r->who, &e) == 0)
        return true;
    hex_error(r, e.status, e.message, NULL);
    return false;
}

static const char *key_url(req *r, const char *name)
{
    const char *org = req_param(r, "org");
    return org ? req_url(r, "/hex/api/orgs/%s/keys/%s", org, name) : req_url(r, "/hex/api/keys/%s", name);
}

static void add_perm(json_t *arr, const char *domain, const char *resource)
{
    json_t *p = json_object();
    json_object_set_new(p, "domain", json_string(domain));
    json_object_set_new(p, "resource", resource ? json_string(resource) : json_null());
    json_array_append_new(arr, p);
}

/* A token's scopes as Hex permissions. */
static json_t *permissions(req *r, const char *scopes)
{
    json_t *arr = json_array();
    bool api = false;
    const char *s = scopes ? scopes : "";
    while (*s) {
        size_t n = strcspn(s, " ");
        const char *sc = arena_strndup(r->a, s, n);
        if (!api &&
            (strcmp(sc, "admin") == 0 || strcmp(sc, "publish") == 0 || strcmp(sc, "publish:hex") == 0 ||
             strcmp(sc, "manage") == 0 || strcmp(sc, "manage:hex") == 0)) {
            add_perm(arr, "api", NULL);
            api = true;
        } else if (strncmp(sc, "publish:hex/", 12) == 0 || strncmp(sc, "manage:hex/", 11) == 0) {
            add_perm(arr, "package",
                     arena_printf(r->a, "%s/%s", hex_opts(r->cfg)->repo, strchr(sc, '/') + 1));
        }
        s += n;
        while (*s == ' ')
            s++;
    }
    if (!api)
        add_perm(arr, "api", "read");
    add_perm(arr, "repositories", NULL);
    return arr;
}

static json_t *key_json(req *r, const token_row *t, const char *secret)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(t->name));
    json_object_set_new(o, "authing_key",
                        json_boolean(r->who.kind == CRED_TOKEN && r->who.token_id == t->id));
    json_object_set_new(o, "secret", secret ? json_string(secret) : json_null());
    json_object_set_new(o, "permissions", permissions(r, t->scopes));
    json_object_set_new(o, "revoke_at", hex_time(t->expires_at));
    json_object_set_new(o, "revoked_at", json_null());
    json_object_set_new(o, "inserted_at", hex_time(t->created_at));
    json_object_set_new(o, "updated_at", hex_time(t->created_at));
    json_object_set_new(o, "url", json_string(key_url(r, t->name)));
    if (t->last_used_at) {
        json_t *lu = json_object();
        json_object_set_new(lu, "used_at", hex_time(t->last_used_at));
        json_object_set_new(lu, "ip", json_null());
        json_object_set_new(lu, "user_agent", json_null());
        json_object_set_new(o, "last_use", lu);
    } else {
        json_object_set_new(o, "last_use", json_null());
    }
    return o;
}

/* The caller's keys; -1 after answering. */
static int list_keys(req *r, token_row **ts, int *n)
{
    derr e;
    if (tokens_list(r->core, r->a, r->who.user_id, ts, n, &e) < 0) {
        resp_derr(r, &e);
        return -1;
    }
    return 0;
}

void hex_keys_list(req *r)
{
    if (!org_ok(r) || !hex_need_user(r) || !may_manage(r))
        return;
    token_row *ts;
    int n;
    if (list_keys(r, &ts, &n) < 0)
        return;
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, key_json(r, &ts[i], NULL));
    hex_respond(r, 200, arr);
}

void hex_keys_get(req *r)
{
    if (!org_ok(r) || !hex_need_user(r) || !may_manage(r))
        return;
    derr e;
    token_row t;
    if (tokens_get(r->core, r->a, r->who.user_id, req_param(r, "key"), &t, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    hex_respond(r, 200, key_json(r, &t, NULL));
}

/* One Hex permission as a depot scope; NULL after filling why. */
static const char *perm_scope(req *r, json_t *p, const char **why)
{
    const char *domain = json_string_value(json_object_get(p, "domain"));
    json_t *res = json_object_get(p, "resource");
    const char *resource = json_is_string(res) ? json_string_value(res) : NULL;
    if (resource && !*resource)
        resource = NULL; /* mix sends "" for "no resource" (a full API key), as hex.pm reads it */
    if (!json_is_object(p) || !domain) {
        *why = "each permission is a map with a domain";
        return NULL;
    }
    if (res && !json_is_null(res) && !resource) {
        *why = "a permission's resource should be a string";
        return NULL;
    }
    if (strcmp(domain, "api") == 0) {
        if (!resource || strcmp(resource, "write") == 0)
            return "publish:hex";
        if (strcmp(resource, "read") == 0)
            return "read";
        *why = "the api domain's resource is read or write";
        return NULL;
    }
    if (strcmp(domain, "repositories") == 0)
        return "read";
    if (strcmp(domain, "repository") == 0 || strcmp(domain, "docs") == 0) {
        if (resource && (strcmp(resource, hex_opts(r->cfg)->repo) == 0 || strcmp(resource, "hexpm") == 0))
            return "read";
        *why = arena_printf(r->a, "no repository named '%.80s' (this server's is '%s')",
                            resource ? resource : "", hex_opts(r->cfg)->repo);
        return NULL;
    }
    if (strcmp(domain, "package") == 0 && resource) {
        const char *slash = strchr(resource, '/');
        const char *name = slash ? slash + 1 : resource;
        if (slash && strncmp(resource, hex_opts(r->cfg)->repo, (size_t)(slash - resource)) != 0 &&
            strncmp(resource, "hexpm/", 6) != 0) {
            *why = "a package permission names a package of this server's repository";
            return NULL;
        }
        derr ne;
        if (hex_check_name(name, "package", &ne) < 0) {
            *why = "a package permission names a package";
            return NULL;
        }
        return arena_printf(r->a, "publish:hex/%s", name);
    }
    *why =
        arena_printf(r->a, "unknown domain '%.40s' (api, repository, repositories, package, docs)", domain);
    return NULL;
}

/* The scopes of a full api key (api or api:write) appended at scopes[n]; the new count. */
static int api_scopes(const char **scopes, int n)
{
    scopes[n++] = "publish:hex";
    scopes[n++] = "manage:hex";
    return n;
}

/* A Hex key name as a token name: other characters become '-', at most 60 characters. */
static const char *token_name(req *r, const char *name)
{
    size_t n = strlen(name);
    if (n > 60)
        n = 60;
    char *t = arena_alloc(r->a, n + 2), *w = t;
    if (!isalnum((unsigned char)name[0]))
        *w++ = 'k';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        *w++ = (c < 128 && (isalnum(c) || c == '.' || c == '_' || c == '-')) ? (char)c : '-';
    }
    *w = '\0';
    return t;
}

void hex_keys_create(req *r)
{
    if (!org_ok(r) || !hex_need_user(r))
        return;
    json_t *b = hex_body(r);
    if (!b)
        return;
    if (!may_manage(r))
        return;
    const char *name = json_string_value(json_object_get(b, "name"));
    json_t *errors = json_object();
    if (!name || !*name)
        json_object_set_new(errors, "name", json_string("can't be blank"));
    json_t *perms = json_object_get(b, "permissions");
    const char *scopes[2 * 32 + 1]; /* a full api permission is two scopes */
    int ns = 0;
    if (perms && !json_is_null(perms) && !json_is_array(perms))
        json_object_set_new(errors, "permissions", json_string("should be a list"));
    else if (!perms || json_is_null(perms) || json_array_size(perms) == 0)
        ns = api_scopes(scopes, ns);
    else if (json_array_size(perms) > 32)
        json_object_set_new(errors, "permissions", json_string("at most 32"));
    else
        for (size_t i = 0; i < json_array_size(perms); i++) {
            const char *why = NULL;
            const char *sc = perm_scope(r, json_array_get(perms, i), &why);
            if (!sc) {
                json_object_set_new(errors, "permissions", json_string(why));
                break;
            }
            if (strcmp(sc, "publish:hex") == 0)
                ns = api_scopes(scopes, ns);
            else
                scopes[ns++] = sc;
        }
    scopes[ns] = NULL;
    int64_t expires = 0;
    json_t *ra = json_object_get(b, "revoke_at");
    if (ra && !json_is_null(ra) &&
        (!json_is_string(ra) || time_parse_rfc3339(json_string_value(ra), &expires) < 0 ||
         expires <= now_unix()))
        json_object_set_new(errors, "revoke_at", json_string("should be a time in the future (ISO 8601)"));
    if (json_object_size(errors)) {
        hex_error(r, 422, "Validation error(s)", errors);
        return;
    }
    json_decref(errors);
    /* hex.pm renames on a clash: name-2, name-3 ... */
    const char *base = token_name(r, name);
    derr e;
    token_row t;
    const char *secret;
    for (int i = 1;; i++) {
        const char *tn = i == 1 ? base : arena_printf(r->a, "%s-%d", base, i);
        if (tokens_create(r->core, r->a, &r->who, tn, scopes, expires, r->ip, &t, &secret, &e) == 0)
            break;
        if (e.status != 409 || i >= 100) {
            resp_derr(r, &e);
            return;
        }
    }
    hex_respond(r, 201, key_json(r, &t, secret));
    resp_header(r, "Location", key_url(r, t.name));
}

void hex_keys_delete(req *r)
{
    if (!org_ok(r) || !hex_need_user(r))
        return;
    const char *name = req_param(r, "key");
    derr e;
    token_row t;
    if (tokens_get(r->core, r->a, r->who.user_id, name, &t, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    if (tokens_may_delete(r->core, r->a, &r->who, name, &e) < 0) {
        hex_error(r, e.status, e.message, NULL);
        return;
    }
    if (tokens_delete(r->core, r->who.user_id, name, r->ip, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    json_t *o = key_json(r, &t, NULL);
    json_object_set_new(o, "revoked_at", hex_time(now_unix()));
    hex_respond(r, 200, o);
}

void hex_keys_delete_all(req *r)
{
    if (!org_ok(r) || !hex_need_user(r) || !may_manage(r))
        return;
    token_row *ts;
    int n;
    if (list_keys(r, &ts, &n) < 0)
        return;
    json_t *authing = NULL;
    derr e;
    /* All or nothing: a key that cannot revoke one of them revokes none. */
    for (int i = 0; i < n; i++)
        if (tokens_may_delete(r->core, r->a, &r->who, ts[i].name, &e) < 0) {
            hex_error(r, e.status, e.message, NULL);
            return;
        }
    for (int i = 0; i < n; i++) {
        if (r->who.kind == CRED_TOKEN && r->who.token_id == ts[i].id)
            authing = key_json(r, &ts[i], NULL);
        if (tokens_delete(r->core, r->who.user_id, ts[i].name, r->ip, &e) < 0 && e.status != 404) {
            json_decref(authing);
            resp_derr(r, &e);
            return;
        }
    }
    if (authing)
        json_object_set_new(authing, "revoked_at", hex_time(now_unix()));
    hex_respond(r, 200, authing ? authing : json_object());
}

void hex_auth_check(req *r)
{
    if (!hex_need_user(r))
        return;
    const char *domain = req_query(r, "domain");
    const char *resource = req_query(r, "resource");
    if (!domain || !*domain) {
        hex_error(r, 400, "the domain parameter is required", NULL);
        return;
    }
    json_t *p = json_object();
    json_object_set_new(p, "domain", json_string(domain));
    if (resource && *resource)
        json_object_set_new(p, "resource", json_string(resource));
    const char *why = NULL;
    const char *scope = perm_scope(r, p, &why);
    json_decref(p);
    if (!scope || !principal_can(&r->who, scope)) {
        hex_error(r, 403, "key not authorized for this action", NULL);
        return;
    }
    resp_empty(r, 204);
}
