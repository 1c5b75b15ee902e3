/*
 * packages.c — publish, read, yank, owners, signatures, downloads.
 */
#include "packages.h"
#include "core_int.h"

#include <ctype.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/crypto.h"
#include "../lib/log.h"
#include "../lib/timeutil.h"
#include "downloads.h"
#include "ecosystem.h"

const char *package_key(arena *a, const char *ecosystem, const char *name)
{
    char *k = arena_strdup(a, name);
    for (char *p = k; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    const eco_desc *eco = ecosystem_find(ecosystem);
    if (eco && eco->fold_name)
        eco->fold_name(k);
    return k;
}

/* Does the ecosystem order versions by their build metadata, so that two which differ only
 * there may both exist? */
static bool orders_build_metadata(const char *ecosystem)
{
    const eco_desc *eco = ecosystem_find(ecosystem);
    return eco && eco->build_metadata;
}

static int store_rc(int rc, derr *e, const char *what)
{
    if (rc == STORE_NOT_FOUND && what)
        return derr_set(e, 404, "not_found", "%s", what);
    return rc == STORE_OK ? 0 : -1;
}

int packages_get(core *c, arena *a, const char *ecosystem, const char *name, store_package *out, derr *e)
{
    int rc = store_call(c->st, pkg_get, a, ecosystem, package_key(a, ecosystem, name), out, e);
    if (rc == STORE_NOT_FOUND)
        return derr_set(e, 404, "not_found", "no package named '%s'", name);
    return rc == STORE_OK ? 0 : -1;
}

int packages_versions(core *c, arena *a, const store_package *p, store_version **out, int *n, derr *e)
{
    return store_call(c->st, pkg_versions, a, p->id, out, n, e) == STORE_OK ? 0 : -1;
}

int packages_version(core *c, arena *a, const store_package *p, const char *version, store_version *out,
                     derr *e)
{
    int rc = store_call(c->st, version_get, a, p->id, version, out, e);
    if (rc == STORE_NOT_FOUND)
        return derr_set(e, 404, "not_found", "%s has no version %s", p->name, version);
    return rc == STORE_OK ? 0 : -1;
}

int packages_get_version(core *c, arena *a, const char *ecosystem, const char *name, const char *version,
                         store_package *p, store_version *v, derr *e)
{
    if (packages_get(c, a, ecosystem, name, p, e) < 0)
        return -1;
    return packages_version(c, a, p, version, v, e);
}

int packages_get_versions(core *c, arena *a, const char *ecosystem, const char *name, store_package *p,
                          store_version **vs, int *n, derr *e)
{
    if (packages_get(c, a, ecosystem, name, p, e) < 0)
        return -1;
    return packages_versions(c, a, p, vs, n, e);
}

/* Verifies a detached Ed25519 signature over the size bytes of fd against the publisher's
 * registered keys; sets *key_id to the one that verifies. */
static int verify_signature(core *c, arena *a, const principal *who, int fd, uint64_t size,
                            const char *sig_b64, const char **key_id, derr *e)
{
    unsigned char *sig;
    size_t siglen;
    if (b64_decode(a, sig_b64, strlen(sig_b64), &sig, &siglen) < 0 || siglen != crypto_sign_BYTES)
        return derr_set(e, 422, "invalid", "signature: expected the base64 of a 64-byte Ed25519 signature");
    store_key *keys;
    int nkeys;
    if (store_call(c->st, key_list, a, who->user_id, &keys, &nkeys, e) != STORE_OK)
        return -1;
    if (nkeys == 0)
        return derr_set(e, 422, "invalid",
                        "signature: you have no registered signing key (POST /api/v1/me/keys)");
    void *map = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    if (size && map == MAP_FAILED)
        return derr_set(e, 500, "internal", "cannot read the upload");
    int found = -1;
    for (int i = 0; i < nkeys && found < 0; i++) {
        unsigned char *pk;
        size_t pklen;
        if (b64_decode(a, keys[i].public_key, strlen(keys[i].public_key), &pk, &pklen) < 0 ||
            pklen != crypto_sign_PUBLICKEYBYTES)
            continue;
        if (crypto_sign_verify_detached(sig, size ? map : (const unsigned char *)"", size, pk) == 0)
            found = i;
    }
    if (size)
        munmap(map, size);
    if (found < 0)
        return derr_set(e, 422, "invalid",
                        "signature: does not verify with any of your registered keys over these exact bytes");
    *key_id = keys[found].key_id;
    return 0;
}

/* The signature check of a publish: the bytes come from the upload's file, or from the blob a
 * staged upload already stored. */
static int check_signature(core *c, arena *a, const publish_in *in, const char **key_id, derr *e)
{
    int fd;
    if (in->stored_sha256) {
        blob_reader br;
        if (core_blob_read(c, in->stored_sha256, &br, e) < 0)
            return -1;
        fd = br.fd; /* the check closes it */
    } else {
        fd = open(in->tarball_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return derr_set(e, 500, "internal", "cannot read the upload");
    }
    int rc = verify_signature(c, a, in->who, fd, in->size, in->signature_b64, key_id, e);
    close(fd);
    return rc;
}

/* Does the ecosystem replace versions (it has a replace window, ecosystem.h)? *window is that
 * window in seconds (0: the server allows no replacement), or 0 when it does not. */
static bool replaces(core *c, const char *ecosystem, long *window)
{
    const eco_desc *eco = ecosystem_find(ecosystem);
    *window = eco && eco->replace_window ? eco->replace_window(c->cfg) : 0;
    return eco && eco->replace_window;
}

long packages_removal_window(core *c, const char *ecosystem)
{
    /* An ecosystem that replaces versions reverts them within the same window (Hex); the others
     * follow --unpublish-window. */
    long window;
    return replaces(c, ecosystem, &window) ? window : c->cfg->unpublish_window;
}

/* A change refused because the version is older than the window that allows it (`what`:
 * "replaced", "removed"): 403 "too_late", which a front may word in its clients' terms. */
static int too_late(arena *a, derr *e, const char *name, const char *version, long window, const char *what)
{
    if (window <= 0)
        return derr_set(e, 403, "too_late", "%s %s is published and can no longer be %s on this server", name,
                        version, what);
    return derr_set(e, 403, "too_late", "%s %s was published more than %s ago and can no longer be %s", name,
                    version, time_span_words(a, window), what);
}

/* The checks that need the package as it stands: the name is this package's spelling, the
 * publisher owns it, the version is new (or, with replace, young enough to be replaced: within
 * its ecosystem's replace window, the only way a version's bytes ever change), and no version
 * differs from it only in build metadata. *replaced is the checksum of the version a replace
 * takes the place of, or NULL. */
static int check_existing(core *c, arena *a, const publish_in *in, const semver *v,
                          const store_package *existing, const char **replaced, derr *e)
{
    const char *name = in->pkg.name;
    *replaced = NULL;
    if (strcmp(existing->name, name) != 0)
        return derr_set(e, 409, "conflict",
                        "the name '%s' is taken by the package '%s' (names differing only in case, '-' or "
                        "'_' are the same package)",
                        name, existing->name);
    if (store_call(c->st, owner_is, existing->id, in->who->user_id, e) == STORE_NOT_FOUND)
        return derr_set(e, 403, "forbidden", "you are not an owner of %s", name);
    store_version old;
    int rc = store_call(c->st, version_get, a, existing->id, in->version, &old, e);
    if (rc == STORE_OK) {
        /* As hex.pm: past the window that is the answer, with or without replace. */
        long window;
        bool can = replaces(c, in->ecosystem, &window);
        if (can && (window <= 0 || now_unix() - old.published_at > window))
            return too_late(a, e, name, in->version, window, "replaced");
        if (!can || !in->replace)
            return derr_set(e, 409, "conflict", "%s %s already exists; versions are immutable", name,
                            in->version);
        *replaced = old.sha256;
    }
    if (rc == STORE_ERROR)
        return -1;
    if (rc == STORE_NOT_FOUND && packages_version_used(c, a, existing, in->version, e) != VERSION_FREE)
        return -1;
    /* SemVer gives versions that differ only in build metadata equal precedence, so two of them
     * would make "latest" and "=X.Y.Z" ambiguous, unless the ecosystem orders build metadata. */
    if (!v->build || orders_build_metadata(in->ecosystem))
        return 0;
    store_version *vs;
    int nv;
    if (store_call(c->st, pkg_versions, a, existing->id, &vs, &nv, e) != STORE_OK)
        return -1;
    for (int i = 0; i < nv; i++) {
        semver o;
        if (semver_parse(a, vs[i].version, &o) == 0 && semver_cmp(&o, v) == 0)
            return derr_set(
                e, 409, "conflict",
                "%s %s exists; %s differs from it only in build metadata, which SemVer ignores when "
                "ordering",
                name, vs[i].version, in->version);
    }
    return 0;
}

/* The store's publish request for in, whose bytes are the blob `hex`. */
static void publish_request(const publish_in *in, const semver *v, const char *key, const char *hex,
                            const char *key_id, store_publish *p)
{
    memset(p, 0, sizeof *p);
    p->pkg = in->pkg;
    p->pkg.ecosystem = in->ecosystem;
    p->pkg.normalized_name = key;
    p->ver.version = in->version;
    p->ver.major = (int64_t)v->major;
    p->ver.minor = (int64_t)v->minor;
    p->ver.patch = (int64_t)v->patch;
    p->ver.prerelease = v->pre;
    p->ver.sha256 = hex;
    p->ver.size = (int64_t)in->size;
    p->ver.manifest = in->manifest ? in->manifest : "{}";
    p->ver.signature = key_id ? in->signature_b64 : NULL;
    p->ver.signing_key_id = key_id;
    p->ver.publisher_id = in->who->user_id;
    p->ver.published_at = now_unix();
    p->ver.deps = in->deps;
    p->ver.ndeps = in->ndeps;
    p->ver.extra = in->extra;
    p->publisher_id = in->who->user_id;
    p->check_owner = true;
    p->tag = in->tag;
    p->replace = in->replace;
}

int packages_publish(core *c, arena *a, publish_in *in, store_package *pkg, store_version *out, bool *created,
                     derr *e)
{
    const char *name = in->pkg.name;
    if (!principal_can(in->who, scope_publish(a, in->ecosystem, name)))
        return derr_set(e, 403, "forbidden", "your credential may not publish %s (scope publish:%s/%s needed)",
                        name, in->ecosystem, name);
    semver v;
    if (semver_parse(a, in->version, &v) < 0)
        return derr_set(e, 422, "invalid", "version: '%.100s' is not a SemVer 2.0.0 version (such as 1.2.3)",
                        in->version);
    const char *key = package_key(a, in->ecosystem, name);

    /* Cheap checks before the bytes are stored. */
    store_package existing;
    int rc = store_call(c->st, pkg_get, a, in->ecosystem, key, &existing, e);
    if (rc == STORE_ERROR)
        return -1;
    bool exists = rc == STORE_OK;
    const char *replaced = NULL;
    if (exists && check_existing(c, a, in, &v, &existing, &replaced, e) < 0)
        return -1;
    const char *key_id = NULL;
    if (in->signature_b64 && *in->signature_b64) {
        if (check_signature(c, a, in, &key_id, e) < 0)
            return -1;
    } else if (exists && existing.require_signatures) {
        return derr_set(e, 422, "invalid", "signature: %s requires signed versions", name);
    }

    char hex[65];
    if (in->stored_sha256) {
        snprintf(hex, sizeof hex, "%s", in->stored_sha256);
    } else {
        hex_encode(in->sha256, 32, hex);
        if (blob_call(c->blobs, put_file, hex, in->tarball_path, e) < 0)
            return -1;
    }
    store_publish p;
    publish_request(in, &v, key, hex, key_id, &p);
    rc = store_call(c->st, publish, &p, e);
    if (rc == STORE_CONFLICT)
        return derr_set(e, 409, "conflict", "%s %s already exists; versions are immutable", name, in->version);
    if (rc == STORE_FORBIDDEN)
        return derr_set(e, 403, "forbidden", "you are not an owner of %s", name);
    if (rc != STORE_OK)
        return -1;
    *created = p.created;
    /* A replacement is recorded as one, with the checksums of the bytes it took out and put in. */
    core_audit(c, in->who->user_id, replaced ? "version.replace" : "package.publish",
               arena_printf(a, "%s/%s@%s", in->ecosystem, name, in->version),
               replaced ? arena_printf(a, "{\"old_sha256\":\"%s\",\"new_sha256\":\"%s\"}", replaced, hex) : NULL,
               in->ip);
    if (packages_get(c, a, in->ecosystem, name, pkg, e) < 0)
        return -1;
    return packages_version(c, a, pkg, in->version, out, e);
}

int packages_may_change(core *c, arena *a, const principal *who, const store_package *p, enum pkg_right right,
                        derr *e)
{
    bool manage = right == PKG_MANAGE;
    const char *need =
        manage ? scope_manage(a, p->ecosystem, p->name) : scope_publish(a, p->ecosystem, p->name);
    if (!principal_can(who, need))
        return derr_set(e, 403, "forbidden", "your credential may not %s %s (scope %s needed%s)",
                        manage ? "manage" : "change", p->name, need,
                        manage ? "; a publish scope never carries it" : "");
    int rc = store_call(c->st, owner_is, p->id, who->user_id, e);
    if (rc == STORE_NOT_FOUND)
        return derr_set(e, 403, "forbidden", "you are not an owner of %s", p->name);
    return rc == STORE_OK ? 0 : -1;
}

/* The package, and a check that who holds right over it. */
static int for_change(core *c, arena *a, const principal *who, const char *ecosystem, const char *name,
                      enum pkg_right right, store_package *p, derr *e)
{
    if (packages_get(c, a, ecosystem, name, p, e) < 0)
        return -1;
    return packages_may_change(c, a, who, p, right, e);
}

int packages_for_change(core *c, arena *a, const principal *who, const char *ecosystem, const char *name,
                        enum pkg_right right, store_package *out, derr *e)
{
    return for_change(c, a, who, ecosystem, name, right, out, e);
}

int packages_version_used(core *c, arena *a, const store_package *p, const char *version, derr *e)
{
    store_version old;
    int rc = store_call(c->st, version_get, a, p->id, version, &old, e);
    if (rc == STORE_OK) {
        derr_set(e, 409, "conflict", "%s %s already exists; versions are immutable", p->name, version);
        return VERSION_PUBLISHED;
    }
    if (rc != STORE_NOT_FOUND)
        return -1;
    rc = store_call(c->st, version_tombstoned, p->id, version, e);
    if (rc == STORE_OK) {
        derr_set(e, 409, "conflict",
                 "%s@%s was unpublished, and a version number is never used again; publish a new version",
                 p->name, version);
        return VERSION_REMOVED;
    }
    return rc == STORE_NOT_FOUND ? VERSION_FREE : -1;
}

int change_done(core *c, int rc, const char *missing, int64_t user_id, const char *action, const char *subject,
                const char *detail, const char *ip, derr *e)
{
    if (store_rc(rc, e, missing) < 0)
        return -1;
    core_audit(c, user_id, action, subject, detail, ip);
    return 0;
}

/* The audit subject of package p: "ecosystem/name", or "ecosystem/name@version". */
static const char *subject(arena *a, const store_package *p, const char *version)
{
    return version ? arena_printf(a, "%s/%s@%s", p->ecosystem, p->name, version)
                   : arena_printf(a, "%s/%s", p->ecosystem, p->name);
}

/* Ends a change of one of p's versions that the store answered with rc (change_done): a missing
 * version is a 404. */
static int version_changed(core *c, arena *a, int rc, const principal *who, const char *action,
                           const store_package *p, const char *version, const char *detail, const char *ip,
                           derr *e)
{
    return change_done(c, rc, arena_printf(a, "%s has no version %s", p->name, version), who->user_id, action,
                       subject(a, p, version), detail, ip, e);
}

int packages_yank(core *c, arena *a, const principal *who, const char *ecosystem, const char *name,
                  const char *version, bool yanked, const char *ip, derr *e)
{
    store_package p;
    if (for_change(c, a, who, ecosystem, name, PKG_PUBLISH, &p, e) < 0)
        return -1;
    int rc = store_call(c->st, version_yank, p.id, version, yanked, now_unix(), e);
    return version_changed(c, a, rc, who, yanked ? "version.yank" : "version.unyank", &p, version, NULL, ip,
                           e);
}

int packages_require_signatures(core *c, arena *a, const principal *who, const char *ecosystem, const char *name,
                                bool on, const char *ip, derr *e)
{
    store_package p;
    if (for_change(c, a, who, ecosystem, name, PKG_MANAGE, &p, e) < 0)
        return -1;
    int rc = store_call(c->st, pkg_set_require_signatures, p.id, on, e);
    return change_done(c, rc, NULL, who->user_id, on ? "package.require_signatures" : "package.allow_unsigned",
                       subject(a, &p, NULL), NULL, ip, e);
}

int packages_owners(core *c, arena *a, const store_package *p, store_owner **out, int *n, derr *e)
{
    return store_call(c->st, owners_list, a, p->id, out, n, e) == STORE_OK ? 0 : -1;
}

/* Adds (add) or removes the owner named by username only: owners are named by username, so that
 * an email address never reveals whose it is. Only an active user can become an owner. */
static int owner_change(core *c, arena *a, const principal *who, const char *ecosystem, const char *name,
                        const char *username, bool add, const char *ip, derr *e)
{
    store_package p;
    store_user u;
    if (for_change(c, a, who, ecosystem, name, PKG_MANAGE, &p, e) < 0)
        return -1;
    int rc = store_call(c->st, user_by_login, a, username, &u, e);
    if (rc == STORE_OK && strcasecmp(u.username, username) != 0)
        rc = STORE_NOT_FOUND;
    if (rc == STORE_NOT_FOUND || (rc == STORE_OK && add && u.disabled))
        return derr_set(e, 404, "not_found", "no user '%s'", username);
    if (rc != STORE_OK)
        return -1;
    rc = add ? store_call(c->st, owner_add, p.id, u.id, "owner", now_unix(), e)
             : store_call(c->st, owner_remove, p.id, u.id, e);
    if (add && rc == STORE_CONFLICT)
        return derr_set(e, 409, "conflict", "%s is already an owner of %s", u.username, p.name);
    if (!add && rc == STORE_FORBIDDEN)
        return derr_set(e, 409, "conflict", "%s is the last owner of %s; add another owner first", u.username,
                        p.name);
    return change_done(c, rc, add ? NULL : arena_printf(a, "%s is not an owner of %s", u.username, p.name),
                       who->user_id, add ? "owner.add" : "owner.remove", subject(a, &p, NULL), u.username, ip,
                       e);
}

int packages_owner_add(core *c, arena *a, const principal *who, const char *ecosystem, const char *name,
                       const char *username, const char *ip, derr *e)
{
    return owner_change(c, a, who, ecosystem, name, username, true, ip, e);
}

int packages_owner_remove(core *c, arena *a, const principal *who, const char *ecosystem, const char *name,
                          const char *username, const char *ip, derr *e)
{
    return owner_change(c, a, who, ecosystem, name, username, false, ip, e);
}

int packages_set_status(core *c, arena *a, const principal *who, const char *ecosystem, const char *name,
                        const char *version, const store_version_status *st, const char *action, const char *ip,
                        derr *e)
{
    store_package p;
    if (for_change(c, a, who, ecosystem, name, PKG_PUBLISH, &p, e) < 0)
        return -1;
    int rc = store_call(c->st, version_set_status, p.id, version, st, now_unix(), e);
    return version_changed(c, a, rc, who, action, &p, version, NULL, ip, e);
}

int packages_set_meta(core *c, arena *a, const principal *who, const char *ecosystem, const char *name,
                      const char *meta, const char *ip, derr *e)
{
    store_package p;
    if (for_change(c, a, who, ecosystem, name, PKG_MANAGE, &p, e) < 0)
        return -1;
    int rc = store_call(c->st, pkg_set_meta, p.id, meta, e);
    return change_done(c, rc, NULL, who->user_id, "package.options", subject(a, &p, NULL), meta, ip, e);
}

int packages_discontinue(core *c, arena *a, const principal *who, const char *ecosystem, const char *name, bool on,
                         const char *replaced_by, const char *ip, derr *e)
{
    store_package p;
    if (packages_for_change(c, a, who, ecosystem, name, PKG_MANAGE, &p, e) < 0)
        return -1;
    if (replaced_by && *replaced_by && (!on || strcmp(replaced_by, p.name) == 0 || strlen(replaced_by) > 214))
        return derr_set(e, 422, "invalid", "replaced_by: another package's name, and only when discontinued");
    json_t *m = p.meta ? json_loads(p.meta, 0, NULL) : NULL;
    if (!json_is_object(m)) {
        json_decref(m);
        m = json_object();
    }
    json_object_set_new(m, "isDiscontinued", json_boolean(on));
    if (on && replaced_by && *replaced_by)
        json_object_set_new(m, "replacedBy", json_string(replaced_by));
    else
        json_object_del(m, "replacedBy");
    char *text = json_dumps(m, JSON_COMPACT);
    json_decref(m);
    if (!text)
        return derr_set(e, 500, "internal", "cannot write the package's options");
    const char *meta = arena_strdup(a, text);
    free(text);
    int rc = store_call(c->st, pkg_set_meta, p.id, meta, e);
    return change_done(c, rc, NULL, who->user_id, on ? "package.discontinue" : "package.undiscontinue",
                       subject(a, &p, NULL), replaced_by, ip, e);
}

int packages_tags(core *c, arena *a, const store_package *p, store_tag **out, int *n, derr *e)
{
    return store_call(c->st, tags_list, a, p->id, out, n, e) == STORE_OK ? 0 : -1;
}

int packages_tag_set(core *c, arena *a, const principal *who, const char *ecosystem, const char *name,
                     const char *tag, const char *version, const char *ip, derr *e)
{
    store_package p;
    if (for_change(c, a, who, ecosystem, name, PKG_PUBLISH, &p, e) < 0)
        return -1;
    if (!tag || !*tag || strlen(tag) > 64)
        return derr_set(e, 422, "invalid", "tag: 1 to 64 characters");
    semver v;
    if (semver_parse(a, tag, &v) == 0)
        return derr_set(e, 422, "invalid", "tag: '%s' looks like a version; tags are names such as 'next'", tag);
    int rc = store_call(c->st, tag_set, p.id, tag, version, now_unix(), e);
    return version_changed(c, a, rc, who, "tag.set", &p, version, tag, ip, e);
}

int packages_tag_delete(core *c, arena *a, const principal *who, const char *ecosystem, const char *name,
                        const char *tag, const char *ip, derr *e)
{
    store_package p;
    if (for_change(c, a, who, ecosystem, name, PKG_PUBLISH, &p, e) < 0)
        return -1;
    if (strcmp(tag, "latest") == 0)
        return derr_set(e, 422, "invalid", "tag: 'latest' cannot be removed; point it at another version");
    int rc = store_call(c->st, tag_delete, p.id, tag, e);
    return change_done(c, rc, arena_printf(a, "%s has no tag %s", p.name, tag), who->user_id, "tag.delete",
                       subject(a, &p, NULL), tag, ip, e);
}

int packages_remove_version(core *c, arena *a, const principal *who, const char *ecosystem, const char *name,
                            const char *version, bool tombstone, const char *ip, derr *e)
{
    store_package p;
    store_version v;
    if (for_change(c, a, who, ecosystem, name, PKG_PUBLISH, &p, e) < 0 || packages_version(c, a, &p, version, &v, e) < 0)
        return -1;
    long window = packages_removal_window(c, ecosystem), ignored;
    bool windowed = replaces(c, ecosystem, &ignored);
    if (window <= 0 && !windowed)
        return derr_set(e, 403, "forbidden", "this server does not allow removing published versions; yank it");
    if (window <= 0 || now_unix() - v.published_at > window)
        return windowed ? too_late(a, e, p.name, version, window, "removed")
                        : derr_set(e, 403, "forbidden",
                                   "%s %s was published more than %s ago and can no longer be removed; yank or "
                                   "deprecate it instead",
                                   p.name, version, time_span_words(a, window));
    int rc = store_call(c->st, version_delete, p.id, version, tombstone, now_unix(), e);
    return version_changed(c, a, rc, who, "version.remove", &p, version,
                           tombstone ? "{\"tombstone\":true}" : NULL, ip, e);
}

int packages_open_tarball(core *c, const store_version *v, bool count, blob_reader *r, derr *e)
{
    unsigned flags = (count ? 0 : BLOB_SEND_HEAD) | (c->cfg->blob_redirect ? BLOB_SEND_REDIRECT : 0);
    if (blob_open_send(c->blobs, v->sha256, flags, r, e) < 0)
        return -1;
    if (count)
        downloads_count(v->id);
    return 0;
}

/* Signing keys are the account's: managed with a password, a session, or a token that may publish
 * anything (a narrower token could otherwise plant a key for packages beyond its reach). */
static int may_manage_keys(const principal *who, derr *e)
{
    if (who->kind == CRED_TOKEN && !principal_can(who, "publish"))
        return derr_set(e, 403, "forbidden",
                        "managing signing keys needs a password, a session, or a token with the publish scope");
    return 0;
}

int keys_add(core *c, arena *a, const principal *who, const char *name, const char *public_b64, store_key *out,
             const char *ip, derr *e)
{
    if (may_manage_keys(who, e) < 0)
        return -1;
    if (!name || !*name || strlen(name) > 64)
        return derr_set(e, 422, "invalid", "name: 1 to 64 characters");
    unsigned char *pk;
    size_t pklen;
    if (b64_decode(a, public_b64, strlen(public_b64), &pk, &pklen) < 0 || pklen != crypto_sign_PUBLICKEYBYTES)
        return derr_set(e, 422, "invalid", "public_key: expected the base64 of a 32-byte Ed25519 public key");
    unsigned char sum[32];
    sha256(pk, pklen, sum);
    char id[17];
    hex_encode(sum, 8, id);
    memset(out, 0, sizeof *out);
    out->user_id = who->user_id;
    out->key_id = arena_strdup(a, id);
    out->algorithm = "ed25519";
    out->public_key = b64_encode(a, pk, pklen);
    out->name = arena_strdup(a, name);
    out->created_at = now_unix();
    int rc = store_call(c->st, key_add, out, e);
    if (rc == STORE_CONFLICT)
        return derr_set(e, 409, "conflict", "this key, or a key named '%s', is already registered", name);
    return change_done(c, rc, NULL, who->user_id, "key.add", id, NULL, ip, e);
}

int keys_list(core *c, arena *a, int64_t user_id, store_key **out, int *n, derr *e)
{
    return store_call(c->st, key_list, a, user_id, out, n, e) == STORE_OK ? 0 : -1;
}

int keys_delete(core *c, const principal *who, const char *key_id, const char *ip, derr *e)
{
    if (may_manage_keys(who, e) < 0)
        return -1;
    int rc = store_call(c->st, key_delete, who->user_id, key_id, e);
    if (rc == STORE_NOT_FOUND)
        return derr_set(e, 404, "not_found", "you have no key %s", key_id);
    return change_done(c, rc, NULL, who->user_id, "key.delete", key_id, NULL, ip, e);
}

const store_version *packages_latest(const store_version *v, int n)
{
    /* Versions come newest first, releases before their prereleases. */
    for (int i = 0; i < n; i++)
        if (!v[i].yanked && !v[i].prerelease)
            return &v[i];
    for (int i = 0; i < n; i++)
        if (!v[i].yanked)
            return &v[i];
    return NULL;
}
