/*
 * packages.h — what every front does with packages: publish, read, yank,
 * owners, signatures and downloads. The rules live here once:
 *   - a version is immutable: the same version again is 409; only an ecosystem with a replace
 *     window (Hex) lets an owner replace a version's bytes, asked for explicitly and within that
 *     window of its publication, and the audit log records it as a replacement;
 *   - the first publish makes the publisher the owner; later ones need an
 *     owner whose credential holds publish:<ecosystem>/<name>;
 *   - a package that requires signatures refuses unsigned or badly signed
 *     versions; a signature must verify with a key the publisher registered;
 *   - the tarball goes into the blob store before the version row exists,
 *     so a version never points at missing bytes.
 */
#ifndef DEPOT_PACKAGES_H
#define DEPOT_PACKAGES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "../lib/semver.h"
#include "../store/store.h"
#include "auth.h"
#include "core.h"

/* The uniqueness key of a name in an ecosystem: lower case, then folded further by the
 * ecosystem's fold_name when it has one (ecosystem.h). In the arena. */
const char *package_key(arena *a, const char *ecosystem, const char *name);

typedef struct publish_in {
    const char *ecosystem;
    store_package pkg;          /* name and descriptive fields (JSON-text arrays) */
    const char *version;
    store_dep *deps;
    int ndeps;
    const char *manifest;       /* JSON text kept with the version */
    const char *tarball_path;   /* the exact bytes; the blob store takes them */
    const unsigned char *sha256; /* of the tarball */
    const char *stored_sha256;   /* or: the bytes are already stored under this key (a staged upload,
                                  * uploads.h); tarball_path and sha256 are then unused */
    uint64_t size;
    const char *signature_b64;  /* detached Ed25519 over the tarball bytes, or NULL */
    const char *tag;            /* dist-tag to point at the new version (npm), or NULL */
    const char *extra;          /* JSON object text of ecosystem extras kept with the version, or NULL */
    bool replace;               /* an existing version of that number is replaced, by an owner, within the
                                 * ecosystem's replace window of its publication (ecosystem.h; none: never);
                                 * one transaction */
    const principal *who;
    const char *ip;
} publish_in;

/* Publishes; on success out holds the stored version (and created tells whether the
 * package was new). Errors: 403 scope/owner, 403 "too_late" a replace past the window, 409
 * version exists (without replace), 422 bad version or signature, 500/503 store or blob
 * failure. A replace is audited as "version.replace" with the old and new SHA-256. */
int packages_publish(core *c, arena *a, publish_in *in, store_package *pkg, store_version *out, bool *created,
                     derr *e);

/* The package (404 when absent). */
int packages_get(core *c, arena *a, const char *ecosystem, const char *name, store_package *out, derr *e);
/* The package and one of its versions (404 when either is absent). */
int packages_get_version(core *c, arena *a, const char *ecosystem, const char *name, const char *version,
                         store_package *p, store_version *v, derr *e);
/* The package and all its versions, newest first (404 when there is no such package). */
int packages_get_versions(core *c, arena *a, const char *ecosystem, const char *name, store_package *p,
                          store_version **vs, int *n, derr *e);
/* All versions, newest first. */
int packages_versions(core *c, arena *a, const store_package *p, store_version **out, int *n, derr *e);
/* One version (404 when absent). */
int packages_version(core *c, arena *a, const store_package *p, const char *version, store_version *out,
                     derr *e);

/* The two rights over a package (auth.h has the scopes that carry them):
 *   PKG_PUBLISH  its versions: yank and unyank, retire, deprecate, retract, dist-tags, docs
 *                uploads, removing one version within --unpublish-window (npm unpublish of a
 *                version, Hex revert). Needs publish:<eco>/<name>.
 *   PKG_MANAGE   the package itself: owners (every front), settings (require signatures,
 *                discontinued, options), removing the whole package (npm unpublish of a package)
 *                or its docs. Needs manage:<eco>/<name>, which no publish scope carries: only a
 *                password, a session, or a token made with a manage scope.
 * Publishing a new version is packages_publish's own check (publish scope, and an owner). */
enum pkg_right { PKG_PUBLISH, PKG_MANAGE };

/* May who exercise right over p? The one rule for every write on an existing package, for every
 * front and the dashboard: who's credential holds the right's scope for the package and who is
 * an owner. Being an admin gives nothing here: admins are made owners like anyone else (the
 * server-side `depot token create` is the audited way round for a package whose owners are
 * gone). 0, or -1 with 403 (or a store failure). */
int packages_may_change(core *c, arena *a, const principal *who, const store_package *p, enum pkg_right right,
                        derr *e);

/* The package, after packages_may_change(who, right). 404 no such package, 403 not allowed. For
 * operations of other modules (docs sites) and fronts that check before they act. */
int packages_for_change(core *c, arena *a, const principal *who, const char *ecosystem, const char *name,
                        enum pkg_right right, store_package *out, derr *e);

/* Has p ever had this version number? A number, once published, is never published again: not
 * while the version stands (versions are immutable), nor after it was removed with a tombstone
 * (npm unpublish). VERSION_FREE, or VERSION_PUBLISHED / VERSION_REMOVED with e holding the 409 to
 * answer; -1 with e on failure. publish checks it itself; a front may ask first, to refuse
 * before reading a large upload. */
enum { VERSION_FREE = 0, VERSION_PUBLISHED = 1, VERSION_REMOVED = 2 };
int packages_version_used(core *c, arena *a, const store_package *p, const char *version, derr *e);

/* Yank or unyank (PKG_PUBLISH). */
int packages_yank(core *c, arena *a, const principal *who, const char *ecosystem, const char *name,
                  const char *version, bool yanked, const char *ip, derr *e);
/* Require signatures from now on, or not (PKG_MANAGE). */
int packages_require_signatures(core *c, arena *a, const principal *who, const char *ecosystem, const char *name,
                                bool on, const char *ip, derr *e);

/* Owners: listing is public; changes are PKG_MANAGE. */
int packages_owners(core *c, arena *a, const store_package *p, store_owner **out, int *n, derr *e);
int packages_owner_add(core *c, arena *a, const principal *who, const char *ecosystem, const char *name,
                       const char *username, const char *ip, derr *e);
int packages_owner_remove(core *c, arena *a, const principal *who, const char *ecosystem, const char *name,
                          const char *username, const char *ip, derr *e);

/* Version status, for owners: retire/unretire (Hex), deprecate (npm), retract (pub). `action` names
 * the change in the audit log ("version.retire" ...). 404 when the version does not exist. PKG_PUBLISH. */
int packages_set_status(core *c, arena *a, const principal *who, const char *ecosystem, const char *name,
                        const char *version, const store_version_status *st, const char *action, const char *ip,
                        derr *e);
/* Replaces the package's ecosystem extras (JSON object text); PKG_MANAGE. */
int packages_set_meta(core *c, arena *a, const principal *who, const char *ecosystem, const char *name,
                      const char *meta, const char *ip, derr *e);
/* Discontinues a package (pub's isDiscontinued, optionally replacedBy another package's name), or
 * lifts it; PKG_MANAGE. Other keys of the package's extras stay. */
int packages_discontinue(core *c, arena *a, const principal *who, const char *ecosystem, const char *name, bool on,
                         const char *replaced_by, const char *ip, derr *e);
/* Dist-tags: anyone who may read lists them; setting and deleting are PKG_PUBLISH. */
int packages_tags(core *c, arena *a, const store_package *p, store_tag **out, int *n, derr *e);
int packages_tag_set(core *c, arena *a, const principal *who, const char *ecosystem, const char *name,
                     const char *tag, const char *version, const char *ip, derr *e);
int packages_tag_delete(core *c, arena *a, const principal *who, const char *ecosystem, const char *name,
                        const char *tag, const char *ip, derr *e);
/* Removes a version (npm unpublish, Hex revert), for owners, only within its ecosystem's replace
 * window of its publication when it has one (403 "too_late" after), else within
 * --unpublish-window (403 after). With tombstone the version number is never usable again.
 * PKG_PUBLISH: a front removing a whole package checks PKG_MANAGE first. */
int packages_remove_version(core *c, arena *a, const principal *who, const char *ecosystem, const char *name,
                            const char *version, bool tombstone, const char *ip, derr *e);
/* Seconds after publication during which a version of the ecosystem may be removed (above): its
 * replace window when it has one, else --unpublish-window; 0: never. */
long packages_removal_window(core *c, const char *ecosystem);

/* Opens a version's tarball for sending (blob_open_send): counts the download when count, i.e. for
 * a GET; false (a HEAD) asks the store for the size only. Under --blob-redirect the reader may be a
 * presigned URL. Send it with resp_blob. */
int packages_open_tarball(core *c, const store_version *v, bool count, blob_reader *r, derr *e);

/* Signing keys (Ed25519, base64 public keys). key_id: hex of the first 8 bytes of SHA-256 of the key. */
int keys_add(core *c, arena *a, const principal *who, const char *name, const char *public_b64, store_key *out,
             const char *ip, derr *e);
int keys_list(core *c, arena *a, int64_t user_id, store_key **out, int *n, derr *e);
int keys_delete(core *c, const principal *who, const char *key_id, const char *ip, derr *e);

/* The latest version a resolver or a reader should pick: highest non-yanked
 * release, else highest non-yanked prerelease; NULL when none. */
const store_version *packages_latest(const store_version *v, int n);

#endif
