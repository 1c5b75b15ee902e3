/*
 * hex.h — shared pieces of the Hex front: how its answers are rendered,
 * how request bodies are read, and its handlers (one table in routes.c).
 *
 * The front has two mounts (facts: hexpm/specifications and the clients' sources):
 *   /hex/repo  the repository (read protocol): signed, gzipped protobuf
 *              registry files, tarballs, docs tarballs, the public key;
 *   /hex/api   the HTTP API of hex.pm that mix and rebar3 call: users, keys,
 *              packages, releases, publishing, retirement, docs, owners.
 * Both also answer under /repos/NAME/ where NAME is the configured
 * repository name (--hex-repo); the API also takes NAME "hexpm", since mix
 * addresses the default repository by that name in some flows.
 *
 * Hex packages are stored under ecosystem "hex". API answers are Erlang
 * terms (application/vnd.hex+erlang) when the client accepts them, which mix
 * and rebar3 always do, and JSON otherwise; errors have hex.pm's shape
 * {status, message, errors?}.
 */
#ifndef DEPOT_HEX_H
#define DEPOT_HEX_H

#include <jansson.h>
#include <stdbool.h>

#include "../http/front.h"
#include "../core/types.h"
#include "../http/http.h"
#include "options.h"
#include "tarball.h"

#define HEX "hex"
#define HEX_ETF_TYPE "application/vnd.hex+erlang; charset=utf-8"

/* ---- rendering (render.c) ---- */

/* Answers doc (stolen) as ETF when the client accepts application/vnd.hex+erlang, else JSON. */
void hex_respond(req *r, int status, json_t *doc);
/* An error in hex.pm's shape: {status, message, errors?}; errors is stolen (NULL: none).
 * A 401 carries WWW-Authenticate. */
void hex_error(req *r, int status, const char *message, json_t *errors);
/* The 404 for a package this repository does not have, in hex.pm's words. */
void hex_no_package(req *r, const char *name);
/* A 422 that one field of the request is invalid: "Validation error(s)", errors {field: why}. */
void hex_invalid(req *r, const char *field, const char *why);
/* The front's error hook (resp_derr on its routes): a derr as a Hex error. A 422 whose message
 * reads "FIELD: why" (FIELD may be dotted, as in "requirements.foo") becomes message "Validation
 * error(s)" with errors {FIELD: why} (nested for dotted fields), the shape Hex clients print.
 * 5xx detail never reaches the client. */
void hex_front_error(req *r, const derr *e);
/* The request body as a JSON object: ETF (application/vnd.hex+erlang), JSON, or an empty
 * body (an empty object). NULL after answering 400/413/415. The object lives with the request. */
json_t *hex_body(req *r);
/* Checks the {repo} path parameter when the route has one: the configured name or "hexpm"
 * (api) / the configured name (repo mount). False after answering 404. */
bool hex_repo_ok(req *r, bool api);
/* The server's answer to a failed or missing credential on a Hex route (route_set.auth_error). */
void hex_auth_error(req *r, const derr *e);
/* Does the caller hold a credential? False after answering 401 in the Hex shape. */
bool hex_need_user(req *r);
/* A write through the API: the {repo} is ours (hex_repo_ok) and the caller holds a credential
 * (hex_need_user). False after answering. */
bool hex_may_write(req *r);

/* ---- URLs (render.c) ---- */

/* Where a version's hosted docs are browsed (core/docs.h's docs_site_url), or with version
 * NULL the package's docs root. */
const char *hex_docs_url(req *r, const char *name, const char *version);
/* An RFC 3339 time, or NULL for 0. */
json_t *hex_time(int64_t t);

/* ---- limits ---- */

/* The tarball limits from the settings. */
hex_limits hex_limits_of(const config *cfg);

/* ---- views (views.c) ---- */

/* Does this version have hosted docs? */
bool hex_has_docs(req *r, const package_row *p, const char *version);
/* The user object of hex.pm's API (username, email, url, timestamps, ...); email is the address
 * the caller may see (core/privacy.h), or NULL for none. */
json_t *hex_user_json(req *r, const user_row *u, const char *email);
/* The package object (hex.pm's package view); versions newest first. */
json_t *hex_package_json(req *r, const package_row *p, const version_row *vs, int nv, bool full);
/* The release object (hex.pm's release view). */
json_t *hex_release_json(req *r, const package_row *p, const version_row *v);
/* Loads a hex package with at least one version; answers 404 (Hex shape) and returns -1 otherwise. */
int hex_load_package(req *r, const char *name, package_row *p, version_row **vs, int *nv);

/* ---- the descriptor's pieces (front.c; the descriptor is in routes.c) ---- */

extern const front hex_front;
extern const config_opt hex_option_table[]; /* ended by a NULL name */
extern const front_action hex_actions[];    /* ended by a NULL code */
/* Loads (or makes, at first start) the repository key. */
int hex_start(const config *cfg, derr *e);
/* The dashboard's install lines: the mix.exs dependency and the repository set-up. */
int hex_snippets(req *r, const char *name, const char *version, front_snippet *out, int max);
/* The account page's lines to add the repository and publish with mix. */
const char *hex_publish_lines(req *r, const char *token);

/* ---- handlers ---- */

/* repository.c */
handler hex_repo_names, hex_repo_versions, hex_repo_package, hex_repo_tarball, hex_repo_docs,
    hex_repo_public_key;

/* users.c */
handler hex_users_create, hex_users_me, hex_users_get, hex_users_reset, hex_repos_list, hex_repos_get;

/* keys.c */
handler hex_keys_list, hex_keys_create, hex_keys_get, hex_keys_delete, hex_keys_delete_all, hex_auth_check;

/* packages.c */
handler hex_packages_search, hex_packages_get, hex_release_get, hex_release_docs_redirect;

/* publish.c */
handler hex_publish, hex_release_revert, hex_release_retire, hex_release_unretire, hex_docs_publish,
    hex_docs_delete;

/* owners.c */
handler hex_owners_list, hex_owners_get, hex_owners_add, hex_owners_remove;

#endif
