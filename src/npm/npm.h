/*
 * npm.h — the npm front: what its files share.
 *
 * The stock npm CLI talks to depot with `registry=http://HOST/npm/` in its
 * .npmrc. Packages are stored under ecosystem "npm" with npm's own names
 * (lower case; scoped ones as "@scope/name"). The front parses npm's wire
 * shapes (the publish document, the couch login, dist-tag bodies), maps each
 * endpoint to core, and renders npm's documents (packuments, search results,
 * token lists). Every rule (owners, immutable versions, the unpublish window,
 * scopes) is core's.
 *
 * Errors are {"error": "<message>", "code": "<depot code>"}, not depot's
 * usual {"error": {"code", "message"}}: npm prints the `error` string of a
 * failed answer ("404 Not Found - GET <url> - <error>"), and an object there
 * would print as "[object Object]". Errors raised by the HTTP layer before a
 * handler runs (401 for a bad credential, 413, 429) keep depot's shape; for a
 * 401 npm shows its own text chosen by WWW-Authenticate anyway.
 *
 * Facts about the wire come from the shared npm fact sheet
 * (docs/protocols/npm.md of the founding team), observed with npm 11.19.
 */
#ifndef DEPOT_NPM_H
#define DEPOT_NPM_H

#include <jansson.h>
#include <stdbool.h>

#include "../http/front.h"
#include "../core/types.h"
#include "../http/http.h"

#define NPM "npm"

/* The longest npm package name, scope included (npm's validate-npm-package-name). */
#define NPM_NAME_MAX 214

/* Answers an npm-shaped error. A 401 carries WWW-Authenticate Bearer and Basic (npm's message is
 * then the one about an invalid token). 5xx messages never reach the client (they go to the
 * log). */
void npm_error(req *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The front's error hook (resp_derr on its routes, and the server's own errors): npm_error
 * from a core error. */
void npm_front_error(req *r, const derr *e);
/* The route set's auth_error: resp_derr, except that a failed credential on the login PUT is
 * ignored (the password in the body decides). */
void npm_auth_error(req *r, const derr *e);
/* Answers {"ok": ok, "success": true} with status. */
void npm_ok(req *r, int status, const char *ok);

/* ---- names (names.c) ---- */

/* Checks a name for a new package by npm's rules: 1 to 214 characters, lower case, only
 * URL-safe characters [a-z0-9-._~!*'()], not starting with '.' or '_', optionally scoped as
 * "@scope/name" (each part by the same rules). 0, or -1 with a 400 saying what is wrong. */
int npm_name_check(const char *name, derr *e);
/* The package name a request's path carries: the "name" parameter ("foo", or "@scope/foo"
 * when the client sent "@scope%2ffoo"), or "scope"/"name" when the route has both and scope
 * starts with '@'. NULL when the path names no package. In the arena. */
const char *npm_req_name(req *r);
/* The same, but a path that names no package is answered by npm_not_found (NULL returned). */
const char *npm_req_name_or_404(req *r);
/* The part of a name after its scope ("@s/foo" → "foo", "foo" → "foo"). Borrowed from name. */
const char *npm_base_name(const char *name);
/* The version a tarball file name stands for: "foo-1.2.3.tgz" for foo (and for "@s/foo") is
 * "1.2.3". NULL when the file name does not belong to the package. In the arena. */
const char *npm_tarball_version(arena *a, const char *name, const char *file);
/* depot's canonical absolute tarball URL: BASE/npm/NAME/-/BASENAME-VERSION.tgz (a scoped name
 * keeps its literal '/', as the public registry's URLs do). In the arena. */
const char *npm_tarball_url(req *r, const char *name, const char *version);
/* The address npm documents give a user instead of theirs: USERNAME@users.noreply.HOST (the
 * base URL's host), which npm accepts where it wants an email and which reveals and reaches
 * nothing. Packuments, version documents and search results (the same for every reader, and
 * cached) always carry it; a user document carries it unless the reader may see the real
 * address (core/privacy.h). In the arena. */
const char *npm_noreply_email(req *r, const char *username);
/* A person as npm documents carry them: {key: username, "email": the no-reply address}. */
json_t *npm_person(req *r, const char *key, const char *username);
/* A time as npm writes them: "2026-11-22T02:40:48.000Z". In the arena; NULL for 0. */
const char *npm_time(arena *a, int64_t t);
/* Percent-encodes every byte outside [A-Za-z0-9-._~] (for one path segment). In the arena. */
const char *npm_seg(arena *a, const char *s);
/* Does the Accept header ask for the abbreviated ("corgi") packument with a non-zero q? */
bool npm_accepts_abbreviated(const char *accept);

/* ---- packuments (packument.c) ---- */

/* One version's object as a packument holds it: the stored package.json with depot's `dist`
 * (absolute tarball URL, shasum, integrity) and `deprecated`; abbreviated keeps only what an
 * installer needs. A new reference. */
json_t *npm_version_json(req *r, const package_row *p, const version_row *v, bool abbreviated);
/* The dist-tags of a package as npm shows them: the stored tags, and `latest` (when no tag
 * holds it) pointing at the highest release. A new reference. */
json_t *npm_dist_tags_json(const package_row *p, const tag_row *tags, int ntags);
/* The package's `_rev`, "<generation>-<16 hex>", opaque to npm. In the arena. */
const char *npm_rev(arena *a, const package_row *p);

/* ---- the descriptor's pieces (front.c; the descriptor is in routes.c) ---- */

/* The dashboard's install lines: the npm command and the package.json requirement. */
int npm_snippets(req *r, const char *name, const char *version, front_snippet *out, int max);
/* The account page's lines to set the token and publish with npm. */
const char *npm_publish_lines(req *r, const char *token);
extern const front_action npm_actions[]; /* ended by a NULL code */

/* ---- handlers (one table in routes.c) ---- */

/* packument.c */
handler npm_packument, npm_get_two, npm_scoped_version, npm_tarball;
/* publish.c */
handler npm_put, npm_put_rev, npm_delete_package, npm_delete_tarball;
/* tags.c */
handler npm_tags_get, npm_tag_put, npm_tag_delete;
/* users.c */
handler npm_web_login, npm_couch_login, npm_user_get, npm_whoami, npm_profile, npm_logout, npm_tokens_list,
    npm_tokens_create, npm_tokens_delete;
/* search.c */
void npm_search(req *r);
/* misc.c */
handler npm_ping, npm_audit, npm_not_found;

#endif
