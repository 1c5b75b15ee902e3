/*
 * owners.c — the Hex API's package owners (`mix hex.owner list | add |
 * remove | transfer`), by username or email (the path segment keeps its
 * '@', hex.md §3.1). depot's core names owners by username only; an
 * email address is resolved here, only for a caller who may change the
 * package, and only to a user who shows it (or the caller, or for an
 * admin), as hex.pm resolves public addresses only: an owner cannot learn
 * whose a private address is by adding it. Owner answers carry an address
 * under the same rule (core/privacy.h).
 *
 * Levels: depot's "owner" is Hex's "full". Hex's "maintainer" level (may
 * publish but not manage owners) has no rule in core yet, so it is refused
 * rather than silently granting full ownership. A `transfer` makes the
 * named user the only owner (hex.pm uses it for organizations; depot has
 * none, so it hands the package to a user). Adding an existing owner is a
 * success, as on hex.pm.
 */
#include <string.h>
#include <strings.h>

#include "../core/accounts.h"
#include "../core/packages.h"
#include "../core/privacy.h"
#include "hex.h"

/* The username an owner change names: a username, or (hex.md §3.6: "add by username or
 * email") an address the caller may see, resolved only after the caller proved it may change
 * the package. NULL after answering. */
static const char *resolve_user(req *r, const char *name, const char *who)
{
    derr e;
    package_row p;
    if (packages_for_change(r->core, r->a, &r->who, HEX, name, PKG_MANAGE, &p, &e) < 0) {
        resp_derr(r, &e);
        return NULL;
    }
    if (!strchr(who, '@'))
        return who;
    user_row u;
    if (privacy_find_user(r->core, r->a, &r->who, who, &u, &e) < 0) {
        if (e.status >= 500)
            resp_derr(r, &e);
        else
            hex_error(r, 404, e.message, NULL);
        return NULL;
    }
    return u.username;
}

static const char *hex_level(const char *level)
{
    return level && strcmp(level, "maintainer") == 0 ? "maintainer" : "full";
}

static json_t *owner_json(req *r, const owner_row *o)
{
    user_row u = {.id = o->user_id, .username = o->username, .created_at = o->added_at};
    json_t *x = hex_user_json(r, &u, privacy_owner_email(&r->who, o));
    json_object_set_new(x, "level", json_string(hex_level(o->level)));
    return x;
}

/* A package and its owners. */
struct owners {
    package_row p;
    owner_row *os;
    int n;
};

/* The package the URL names and its owners; -1 after answering. */
static int load(req *r, struct owners *o)
{
    version_row *vs;
    int nv;
    derr e;
    if (!hex_repo_ok(r, true) || hex_load_package(r, req_param(r, "name"), &o->p, &vs, &nv) < 0)
        return -1;
    if (packages_owners(r->core, r->a, &o->p, &o->os, &o->n, &e) < 0) {
        resp_derr(r, &e);
        return -1;
    }
    return 0;
}

void hex_owners_list(req *r)
{
    struct owners o;
    if (load(r, &o) < 0)
        return;
    json_t *arr = json_array();
    for (int i = 0; i < o.n; i++)
        json_array_append_new(arr, owner_json(r, &o.os[i]));
    hex_respond(r, 200, arr);
}

/* The owner named by username, or by an address the caller may see. */
static const owner_row *find(req *r, const owner_row *os, int n, const char *who)
{
    for (int i = 0; i < n; i++) {
        const char *email = privacy_owner_email(&r->who, &os[i]);
        if (strcasecmp(os[i].username, who) == 0 || (email && strcasecmp(email, who) == 0))
            return &os[i];
    }
    return NULL;
}

void hex_owners_get(req *r)
{
    struct owners all;
    if (load(r, &all) < 0)
        return;
    const owner_row *o = find(r, all.os, all.n, req_param(r, "user"));
    if (!o) {
        hex_error(r, 404,
                  arena_printf(r->a, "%.100s is not an owner of %s", req_param(r, "user"), all.p.name), NULL);
        return;
    }
    hex_respond(r, 200, owner_json(r, o));
}

void hex_owners_add(req *r)
{
    json_t *b = hex_may_write(r) ? hex_body(r) : NULL;
    if (!b)
        return;
    json_t *lv = json_object_get(b, "level");
    const char *level = json_string_value(lv);
    if (lv && !json_is_null(lv) &&
        (!level || (strcmp(level, "full") != 0 && strcmp(level, "maintainer") != 0))) {
        hex_invalid(r, "level", "should be full or maintainer");
        return;
    }
    if (level && strcmp(level, "maintainer") == 0) {
        hex_invalid(r, "level", "maintainer is not supported by this server yet; use full");
        return;
    }
    bool transfer = json_is_true(json_object_get(b, "transfer"));
    const char *name = req_param(r, "name");
    const char *who = resolve_user(r, name, req_param(r, "user"));
    if (!who)
        return;
    derr e;
    if (packages_owner_add(r->core, r->a, &r->who, HEX, name, who, r->ip, &e) < 0 && e.status != 409) {
        resp_derr(r, &e);
        return;
    }
    if (transfer) {
        package_row p;
        owner_row *os;
        int n;
        user_row u;
        if (packages_get(r->core, r->a, HEX, name, &p, &e) < 0 ||
            packages_owners(r->core, r->a, &p, &os, &n, &e) < 0 ||
            accounts_find(r->core, r->a, who, &u, &e) < 0) {
            resp_derr(r, &e);
            return;
        }
        /* Everyone but the new owner goes, the caller last (each removal needs an owner). */
        for (int pass = 0; pass < 2; pass++)
            for (int i = 0; i < n; i++) {
                bool caller = os[i].user_id == r->who.user_id;
                if (os[i].user_id == u.id || caller != (pass == 1))
                    continue;
                if (packages_owner_remove(r->core, r->a, &r->who, HEX, name, os[i].username, r->ip, &e) < 0) {
                    resp_derr(r, &e);
                    return;
                }
            }
    }
    resp_empty(r, 204);
}

void hex_owners_remove(req *r)
{
    if (!hex_may_write(r))
        return;
    const char *who = resolve_user(r, req_param(r, "name"), req_param(r, "user"));
    if (!who)
        return;
    derr e;
    if (packages_owner_remove(r->core, r->a, &r->who, HEX, req_param(r, "name"), who, r->ip, &e) < 0) {
        if (e.status == 409) {
            /* hex.pm's wording and status for the last owner. */
            hex_invalid(r, "user", "cannot remove last owner of package");
            return;
        }
        resp_derr(r, &e);
        return;
    }
    resp_empty(r, 204);
}
