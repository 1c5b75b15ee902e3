/*
 * registry.h — building the Hex repository's registry resources: /names,
 * /versions and /packages/NAME as gzip(Signed(payload)), the payload being
 * the protobuf messages of src/hex/proto (encoded by protoc-c's generated
 * code) and the signature RSA/SHA-512 with the repository key (sign.h).
 *
 * What goes in follows hex.pm's registry builder (facts: hex.md §1.4–1.5):
 * the configured repository name in every payload and the package name in
 * Package; packages sorted by name, releases ascending by SemVer, each with
 * inner and outer checksums, dependencies sorted by name with `optional`
 * only when true, `app` only when it differs from the package, and
 * `repository` only when the dependency lives in another repository;
 * retired releases with reason and message.
 */
#ifndef DEPOT_HEX_REGISTRY_H
#define DEPOT_HEX_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "../core/core.h"
#include "../core/types.h"
#include "../lib/arena.h"
#include "../lib/err.h"

/* The Hex retirement reasons, indexed by the protobuf enum's values. */
extern const char
    *const hex_retire_reasons[]; /* "other", "invalid", "security", "deprecated", "renamed", NULL */

/* gzip(Signed(Package)) for a package and its versions (any order; newest first is fine).
 * *out is malloc'd (the caller owns it). 0, or -1 with e. */
int hex_registry_package(core *c, arena *a, const package_row *p, const version_row *vs, int nv, char **out,
                         size_t *len, derr *e);

/* Every Hex package (the ones with at least one version), each with its versions, read from the store. */
typedef struct hex_pkg_entry {
    const package_row *pkg;
    version_row *vs; /* ascending by SemVer */
    int nv;
} hex_pkg_entry;

/* Lists every Hex package with a cheap stamp of the whole repository: a hash of every
 * package's (key, generation), which changes with every write to any Hex package. With
 * versions false, vs is left empty (for /names, which needs no versions). */
int hex_registry_scan(core *c, arena *a, bool versions, hex_pkg_entry **out, int *n, int64_t *stamp, derr *e);

/* gzip(Signed(Names)) and gzip(Signed(Versions)) from a scan. *out is malloc'd. */
int hex_registry_names(core *c, arena *a, const hex_pkg_entry *pk, int n, char **out, size_t *len, derr *e);
int hex_registry_versions(core *c, arena *a, const hex_pkg_entry *pk, int n, char **out, size_t *len,
                          derr *e);

/* The stamp of /names and /versions: the store's per-ecosystem generation (one lookup). */
int hex_registry_stamp(core *c, arena *a, int64_t *stamp, derr *e);

/* Sorts versions ascending by SemVer, in place. */
void hex_sort_versions(arena *a, version_row *vs, int n);

/* Gzips n bytes (gzip framing, default level) into a malloc'd buffer. 0 or -1 with e. */
int hex_gzip(const void *p, size_t n, char **out, size_t *len, derr *e);

#endif
