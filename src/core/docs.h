/*
 * docs.h — hosted documentation sites, for every ecosystem.
 *
 * A docs archive (.tar.gz) uploaded for a version is unpacked safely (no
 * absolute paths, '..', links or special files; caps on entries, bytes and
 * compression ratio), each file stored as a blob, and the site recorded in
 * the store; the archive itself is kept too (Hex serves it back). Sites are
 * served read-only under /docs/{ecosystem}/{name}/{version}/... (src/docs),
 * or from a separate origin (--docs-url) that proxies to those routes.
 *
 * Nothing here is ever written to disk as a tree: a site is a table of
 * (path → blob) rows, so a path in an archive can never name a file of
 * this machine.
 */
#ifndef DEPOT_DOCS_H
#define DEPOT_DOCS_H

#include <stdint.h>

#include "../blob/blob.h"
#include "auth.h"
#include "core.h"

/* Limits on one archive (every one a 422 naming it when exceeded). */
#define DOCS_MAX_ENTRIES 10000u              /* entries of any type */
#define DOCS_MAX_TOTAL ((uint64_t)200 << 20) /* uncompressed bytes of all files */
#define DOCS_MAX_FILE ((uint64_t)20 << 20)   /* uncompressed bytes of one file */
#define DOCS_MAX_RATIO 100u                  /* uncompressed / compressed, past the first MiB */

/* Publishes (or replaces) the docs of an existing version; owners whose credential
 * holds publish:<ecosystem>/<name>. archive_path is a complete temp file whose SHA-256 is sha256
 * and length size; the blob store may take it (the caller still unlinks its path afterwards,
 * ignoring ENOENT). Borrowed: every argument.
 *
 * The archive must be a gzip tar of regular files and directories only. Its root is the site's
 * root, except when it has no index.html at its root and every entry sits under one top-level
 * directory that has one (`tar czf docs.tar.gz doc/`): then that directory is the root. Each
 * file becomes a blob (deduplicated by content), the archive too, and the site's rows replace
 * the old ones in one store transaction: a failure leaves the old site as it was (at most some
 * unreferenced blobs). Memory stays bounded: the archive is read once to check it, then in
 * passes that each hold at most a few tens of MiB of file contents.
 *
 * Errors: 404 no such package or version; 403 not allowed; 400 not a gzip tar (or corrupt);
 * 422 with the entry named: a link or special file, an absolute path, '..', a duplicate path,
 * too many entries, too many bytes, a file over DOCS_MAX_FILE, a compression ratio over
 * DOCS_MAX_RATIO, no file at all; 500/503 store or blob failures. Messages begin "docs archive: ". */
int docs_publish(core *c, arena *a, const principal *who, const char *ecosystem, const char *name,
                 const char *version, const char *archive_path, const unsigned char sha256[32], uint64_t size,
                 const char *ip, derr *e);
/* Removes a version's docs (the blobs stay for fsck). Publishing docs is PKG_PUBLISH (packages.h);
 * removing them is PKG_MANAGE, or PKG_PUBLISH for a version that is gone or still inside
 * --unpublish-window (what a revert removes anyway). 404 when the package or the site does not
 * exist. The version need not exist any more. */
int docs_remove(core *c, arena *a, const principal *who, const char *ecosystem, const char *name,
                const char *version, const char *ip, derr *e);
/* Opens one file of a site for sending: r->fd is the caller's to close. *ctype is its content
 * type by extension (static; application/octet-stream when unknown) and *sha256 the hex
 * SHA-256 of its bytes (in the arena; a strong validator for ETag). An empty path or one ending
 * in '/' means its index.html. 404 when the package, the site or the file is absent (a path
 * with an empty, "." or ".." segment is never present). */
int docs_open(core *c, arena *a, const char *ecosystem, const char *name, const char *version,
              const char *path, blob_reader *r, const char **ctype, const char **sha256, derr *e);
/* Opens the uploaded archive of a version's docs (Hex serves /docs/NAME-VERSION.tar.gz); r->fd is
 * the caller's to close. 404 when there is none. */
int docs_open_archive(core *c, arena *a, const char *ecosystem, const char *name, const char *version,
                      blob_reader *r, derr *e);
/* The version whose docs a reader should land on (in the arena): the newest non-yanked release
 * that has docs, else the newest non-yanked version that has docs, else the newest that has
 * docs. 404 when the package has no docs at all. */
int docs_latest(core *c, arena *a, const char *ecosystem, const char *name, const char **version, derr *e);

/* The versions of p that have docs, newest first by SemVer order (in the arena). */
int docs_versions(core *c, arena *a, const package_row *p, const char ***out, int *n, derr *e);

/* The public URL of a site's root, ending in '/' (in the arena): under --docs-url when it is set
 * ("{docs_url}/{ecosystem}/{name}/{version}/"), else "{base_url}/docs/{ecosystem}/{name}/{version}/".
 * Segments are percent-encoded; an npm scope's '/' stays a '/'. */
const char *docs_site_url(core *c, arena *a, const char *ecosystem, const char *name, const char *version);

/* The content type a site file is served with, by the extension of path (static). */
const char *docs_content_type(const char *path);

#endif
