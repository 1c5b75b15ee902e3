/*
 * manifest.h — the native ecosystem's package manifest (depot.json), checked
 * into a struct.
 *
 * A manifest is a JSON object: name and version, the metadata shown on a
 * package's page (description, license, links, authors, keywords,
 * categories, tags, readme) and two maps of dependencies. manifest_parse
 * checks the registry's rules for each field and reports the first problem
 * with the field's name at the start of the message ("keywords[2]: ...").
 * Version and requirement syntax are left to the caller (lib/semver), so this
 * module depends only on the JSON shape and lib/spdx.
 *
 * Package names: ^[a-z][a-z0-9_-]{0,63}$. Two names that differ only in '-'
 * versus '_' are the same package: native_name_normalize gives the key
 * uniqueness and reserved names are compared on.
 */
#ifndef DEPOT_NATIVE_MANIFEST_H
#define DEPOT_NATIVE_MANIFEST_H

#include <jansson.h>

#include "../lib/arena.h"
#include "../lib/err.h"

typedef struct manifest_dep {
    const char *name; /* as written (not normalised) */
    const char *req;  /* requirement text, unchecked beyond "non-empty, ≤ 1024 bytes" */
} manifest_dep;

typedef struct manifest {
    /* Borrowed from the JSON document (live as long as it does), except
     * readme, which is normalised into the arena. NULL when absent, except
     * name and version. */
    const char *name, *version, *description, *license, *homepage, *repository, *documentation, *readme;
    /* Arrays of strings, borrowed from the document; an empty array (owned
     * by the arena) when absent. Never NULL after a successful parse. */
    json_t *authors, *keywords, *categories, *tags;
    /* In the arena, in document order; names and reqs borrowed from the document. */
    manifest_dep *deps;
    int ndeps;
    manifest_dep *dev_deps;
    int ndev_deps;
} manifest;

typedef struct manifest_rules {
    const char *const *categories; /* the allowed categories, NULL-terminated; NULL: any */
    const char *const *reserved;   /* names no package may take, NULL-terminated; NULL: none.
                                      Compared after native_name_normalize. */
} manifest_rules;

/* Checks doc (a JSON object; borrowed, must outlive *out) against the rules
 * and fills *out. rules may be NULL (any category, nothing reserved).
 * Unknown top-level fields are ignored. Returns 0, or -1 with e filled:
 *   400 bad_request  a field of the wrong JSON type ("authors: must be an
 *                    array of strings"), or doc not an object
 *   422 invalid      a value breaking a rule ("name: is required",
 *                    "license: unknown license id 'Foo'", ...)
 * The rules: name valid and not reserved; version a non-empty string ≤ 256
 * bytes; description ≤ 1000 characters; license a valid SPDX expression;
 * homepage, repository, documentation http(s) URLs ≤ 2048 bytes; authors ≤ 50
 * non-empty strings of ≤ 200 characters; keywords ≤ 10, each
 * ^[a-z0-9][a-z0-9_-]{0,31}$; categories ≤ 5, each in rules->categories
 * when given (else ≤ 64 bytes); tags ≤ 20 non-empty strings of ≤ 50
 * characters; dependencies and dev_dependencies objects of ≤ 500
 * {name: requirement}, names valid and distinct after normalising,
 * requirements non-empty strings ≤ 1024 bytes; readme a relative path ≤ 256
 * bytes without "..", normalised like tarball paths ("./README.md" is
 * "README.md"). */
int manifest_parse(arena *a, json_t *doc, const manifest_rules *rules, manifest *out, derr *e);

/* 0 when name matches ^[a-z][a-z0-9_-]{0,63}$, else -1 with a 422 "invalid"
 * derr whose message starts "name: ". NULL is not a valid name. */
int native_name_check(const char *name, derr *e);

/* The uniqueness key of a name: lower-cased, '-' turned into '_'. In the arena. */
char *native_name_normalize(arena *a, const char *name);

#endif
