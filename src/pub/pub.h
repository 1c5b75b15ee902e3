/*
 * pub.h — the Dart pub front: the Hosted Pub Repository Specification v2
 * as the real `dart pub` client reads it, mounted at /pub (the hosted URL
 * is the public base URL + "/pub"). Packages are stored under ecosystem
 * "pub"; versions follow Dart's rules (version.h); the listing serves each
 * version's pubspec exactly as converted at publish (pubspec.h).
 *
 * Every absolute URL the front prints (archive_url, the upload url, the
 * finalize Location) is built from the configured base URL, never from the
 * request's Host header. Every error is {"error":{"code","message"}}; 401
 * and 403 carry `WWW-Authenticate: Bearer realm="pub", message="..."`, the
 * one form the client shows to the user.
 */
#ifndef DEPOT_PUB_H
#define DEPOT_PUB_H

#include <jansson.h>
#include <stdbool.h>

#include "../http/front.h"
#include "../core/types.h"
#include "../http/http.h"
#include "../lib/semver.h"
#include "options.h"

#define PUB "pub"
#define PUB_MOUNT "/pub"
#define PUB_CTYPE "application/vnd.pub.v2+json; charset=utf-8"

/* The hosted URL (base URL + "/pub"), in the arena. */
const char *pub_hosted_url(req *r);
/* An absolute URL: the hosted URL followed by the printf-formatted path (which starts with '/'). */
const char *pub_url(req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Percent-encodes one path or query component (a version's '+' becomes %2B). In the arena. */
const char *pub_seg(req *r, const char *s);

/* Sends doc (stolen) as pub JSON: ASCII only, Content-Type PUB_CTYPE. */
void pub_json(req *r, int status, json_t *doc);
/* Sends an error in the pub shape. 401 and 403 carry pub's WWW-Authenticate challenge and never
 * depot's own; 5xx hide their detail (it goes to the log) as resp_derr does. */
void pub_error(req *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The front's error hook (resp_derr on its routes): pub_error from a core error; a 5xx in
 * depot's own shape, its detail hidden. */
void pub_front_error(req *r, const derr *e);
/* route_set.auth_error: credential failures found before a handler runs, in pub's form. */
void pub_auth_error(req *r, const derr *e);

/* The package named exactly `name` (the client compares names case-sensitively, so a
 * listing under another case would be refused by it anyway): 0, or -1 after answering
 * 404 (or 5xx). */
int pub_load_package(req *r, const char *name, package_row *p);

/* The package's versions sorted by Dart's order, ascending, each with its parsed version in
 * sv[i] (both arrays in the arena). */
int pub_sorted_versions(req *r, arena *a, const package_row *p, version_row **vs, semver **sv, int *n,
                        derr *e);
/* Index of the version the listing calls latest: the highest non-retracted release by Dart's
 * order, else the highest non-retracted pre-release; when every version is retracted, the same
 * rule over all of them. -1 when there is none. */
int pub_latest_index(const version_row *vs, const semver *sv, int n);

/* A version's entry in the listing, as JSON text (pubspec spliced in verbatim). */
const char *pub_version_entry(req *r, arena *a, const package_row *p, const version_row *v);

/* The package's options (isDiscontinued, replacedBy) from its meta JSON. */
void pub_meta_options(const package_row *p, bool *discontinued, const char **replaced_by, arena *a);

/* ---- the descriptor's pieces (front.c; the descriptor is in routes.c) ---- */

extern const front pub_front;
extern const config_opt pub_option_table[]; /* ended by a NULL name */
extern const front_action pub_actions[];    /* ended by a NULL code */
/* The dashboard's install lines: the pubspec.yaml dependency and `dart pub add`. */
int pub_snippets(req *r, const char *name, const char *version, front_snippet *out, int max);
/* The account page's lines to add the token and publish with dart pub. */
const char *pub_publish_lines(req *r, const char *token);

/* Handlers (one table in routes.c). */
handler pub_listing, pub_version, pub_advisories, pub_archive, pub_versions_new, pub_upload, pub_finalize,
    pub_get_options, pub_put_options, pub_get_version_options, pub_put_version_options, pub_search,
    pub_uploaders, pub_uploader_add, pub_uploader_remove;

#endif
