/*
 * resolve.h — dependency resolution over SemVer requirements.
 *
 * Given root requirements (name + requirement text), picks one version per
 * package so that every requirement of the roots and of every picked version
 * holds. Where the versions come from is abstract: a provider answers "all
 * versions of package X, each with its dependencies", so the same resolver
 * serves every ecosystem (the requirement dialect is an option) and tests
 * run without a store.
 *
 * Rules: the highest allowed version of a package is tried first; a yanked
 * version is never picked unless a root requirement pins exactly that
 * version; a pre-release is only picked when the requirement names a
 * pre-release (or include_prerelease); cycles are fine. The search is
 * backtracking with forward checking and conflict-directed backjumping, and
 * gives up after a fixed number of candidate tries, so it always ends.
 */
#ifndef DEPOT_RESOLVE_H
#define DEPOT_RESOLVE_H

#include <stdbool.h>

#include "../lib/arena.h"
#include "../lib/err.h"
#include "../lib/semver.h"

typedef struct resolve_candidate {
    const char *version; /* as published, for messages and the result */
    semver v;            /* the parse of `version` */
    bool yanked;
    int ndeps;
    const char *const *dep_names;
    const char *const *dep_reqs; /* requirement text in the resolve dialect; NULL (array or item): any */
    void *user;                  /* the provider's, passed through untouched */
} resolve_candidate;

typedef struct resolve_provider {
    /* All versions of `name` (any order); n = 0 when the package does not exist;
     * -1 + e on failure (resolve then fails with that error). *out must stay
     * valid for the arena's life (allocate it from `a`). Called at most once
     * per name within one resolve. */
    int (*versions)(void *ctx, arena *a, const char *name, resolve_candidate **out, int *n, derr *e);
    /* The canonical key of a name: names with one key are one package. NULL: names are keys. */
    const char *(*key)(void *ctx, arena *a, const char *name);
    void *ctx;
} resolve_provider;

typedef struct resolve_opts {
    enum semver_dialect dialect;
    bool include_prerelease;
    long max_steps; /* candidate tries before giving up; <= 0: RESOLVE_DEFAULT_STEPS */
} resolve_opts;

#define RESOLVE_DEFAULT_STEPS 100000L

typedef struct resolve_pick {
    const char *name;
    const resolve_candidate *c; /* a copy resolve made in `a`; c->user is the provider's */
} resolve_pick;

/* Resolves root requirements names[i] with reqs[i] (reqs or reqs[i] NULL:
 * any version). On success returns 0 and *out, *nout hold one pick per
 * package needed, sorted by name (allocated from `a`). Fails with -1 and:
 *  - 422 "invalid" when a root requirement does not parse;
 *  - 422 "unresolvable" with a message naming the packages and requirements
 *    that cannot all hold ("a 1.0.0 needs c ^1.0 but b 2.0.0 needs c ^2.0; no
 *    version of c satisfies both"), a missing package, or no matching version;
 *  - 422 "unresolvable" "resolution gave up after N steps" past max_steps;
 *  - the provider's error when it fails.
 * A dependency whose requirement does not parse makes only the version that
 * declares it unusable. `o` may be NULL (native dialect, no pre-releases). */
int resolve(arena *a, const resolve_provider *p, const char *const *names, const char *const *reqs, int n,
            const resolve_opts *o, resolve_pick **out, int *nout, derr *e);

#endif
