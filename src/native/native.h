/*
 * native.h — shared pieces of the native front: how its documents look.
 * The native ecosystem's packages are stored under ecosystem "native".
 */
#ifndef DEPOT_NATIVE_H
#define DEPOT_NATIVE_H

#include <jansson.h>

#include "../http/front.h"
#include "../core/types.h"
#include "../http/http.h"

#define NATIVE "native"

/* The version document: dependencies, checksum, size, signature, publisher, dates, yanked,
 * download URL. */
json_t *native_version_json(req *r, const package_row *p, const version_row *v);
/* A version's signature {algorithm, key_id, signature}, or null. */
json_t *native_signature_json(const version_row *v);
/* Percent-encodes one path segment (in the arena). */
const char *native_seg(req *r, const char *s);
/* A package summary for lists and search results. */
json_t *native_summary_json(const package_row *p);
/* Parses a JSON-array text column into a new JSON array (empty on bad text). */
json_t *native_json_array(const char *text);
/* Answers 200 with the list document {"<key>": arr}. Takes arr. */
void native_list(req *r, const char *key, json_t *arr);

/* ---- the descriptor's hooks (front.c; the descriptor is in routes.c) ---- */

/* A name's uniqueness key: '-' and '_' are the same. */
void native_fold_name(char *key);
/* The dashboard's install lines: the depot client's command and the depot.json requirement. */
int native_snippets(req *r, const char *name, const char *version, front_snippet *out, int max);
/* The account page's lines to log in and publish with the depot client. */
const char *native_publish_lines(req *r, const char *token);

/* Handlers (one table in routes.c). */
handler native_register, native_login, native_refresh, native_logout, native_me, native_tokens_list,
    native_tokens_create, native_tokens_get, native_tokens_delete, native_keys_list, native_keys_add,
    native_keys_delete, native_publish, native_search, native_package, native_version, native_download,
    native_yank, native_unyank, native_owners, native_owner_add, native_owner_remove, native_settings,
    native_retract, native_unretract, native_discontinue, native_pkg_stats, native_stats, native_user,
    native_resolve, native_openapi, native_docs_upload, native_docs_delete, native_me_settings;

#endif
