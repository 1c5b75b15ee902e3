/*
 * keys.c — the caller's signing keys: GET/POST /api/v1/me/keys and
 * DELETE /api/v1/me/keys/{key_id}. A publish may carry an Ed25519
 * signature that must verify with one of these.
 */
#include "../core/packages.h"
#include "../lib/json.h"
#include "native.h"

static json_t *key_json(const key_row *k)
{
    json_t *o = json_object();
    json_set_str(o, "key_id", k->key_id);
    json_set_str(o, "name", k->name);
    json_set_str(o, "algorithm", k->algorithm);
    json_set_str(o, "public_key", k->public_key);
    json_set_time(o, "created_at", k->created_at);
    return o;
}

void native_keys_list(req *r)
{
    derr e;
    key_row *ks;
    int n;
    if (keys_list(r->core, r->a, r->who.user_id, &ks, &n, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, key_json(&ks[i]));
    native_list(r, "keys", arr);
}

void native_keys_add(req *r)
{
    json_t *doc = req_json(r);
    if (!doc)
        return;
    derr e;
    const char *name, *pk;
    if (json_str(doc, "public_key", true, &pk, &e) < 0 || json_str(doc, "name", false, &name, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    key_row k;
    if (keys_add(r->core, r->a, &r->who, name ? name : "default", pk, &k, r->ip, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    resp_json(r, 201, key_json(&k));
}

void native_keys_delete(req *r)
{
    derr e;
    if (keys_delete(r->core, &r->who, req_param(r, "key_id"), r->ip, &e) < 0) {
        resp_derr(r, &e);
        return;
    }
    resp_empty(r, 204);
}
