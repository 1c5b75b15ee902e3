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
/* The absolute URL of a path under the base URL (in the arena). */
const char *native_url(req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- the descriptor's hooks (front.c; the descriptor is in routes.c) ---- */

/* A name's uniqueness key: '-' and '_' are the same. */
void native_fold_name(char *key);
/* The dashboard's install lines: the depot client's command and the depot.json requirement. */
int native_snippets(req *r, const char *name, const char *version, front_snippet *out, int max);
/* The account page's lines to log in and publish with the depot client. */
const char *native_publish_lines(req *r, const char *token);

/* Handlers (one table in routes.c). */
void native_register(req *r);
void native_login(req *r);
void native_refresh(req *r);
void native_logout(req *r);
void native_me(req *r);
void native_tokens_list(req *r);
void native_tokens_create(req *r);
void native_tokens_get(req *r);
void native_tokens_delete(req *r);
void native_keys_list(req *r);
void native_keys_add(req *r);
void native_keys_delete(req *r);
void native_publish(req *r);
void native_search(req *r);
void native_package(req *r);
void native_version(req *r);
void native_download(req *r);
void native_yank(req *r);
void native_unyank(req *r);
void native_owners(req *r);
void native_owner_add(req *r);
void native_owner_remove(req *r);
void native_settings(req *r);
void native_retract(req *r);
void native_unretract(req *r);
void native_discontinue(req *r);
void native_pkg_stats(req *r);
void native_stats(req *r);
void native_user(req *r);
void native_resolve(req *r);
void native_openapi(req *r);
void native_docs_upload(req *r);
void native_docs_delete(req *r);

#endif
