/*
 * version.h — Dart package versions as pub_semver reads, orders and
 * canonicalizes them, on top of lib/semver.h's struct.
 *
 * Dart's grammar is SemVer's shape (MAJOR.MINOR.PATCH[-pre][+build]) with
 * two differences that matter to a registry:
 *   - the parser accepts leading zeros ("01.2.3", "1.0.0-rc.01"), and an
 *     identifier that reads as an integer is a number ("01" is 1, "-1" is
 *     -1); the canonical form writes every such number without them.
 *     depot, like pub.dev, only accepts versions already in canonical form.
 *   - build metadata is significant: "1.0.0+1" and "1.0.0" are different
 *     versions, and they are ordered (no build < any build; build lists
 *     compare like pre-release lists). Decision: depot follows Dart here,
 *     for pub packages only — the two are distinct versions in the store and
 *     the listing orders them as the client does. Other ecosystems keep
 *     SemVer's rule through lib/semver.c.
 */
#ifndef DEPOT_PUB_VERSION_H
#define DEPOT_PUB_VERSION_H

#include <stdbool.h>

#include "../lib/arena.h"
#include "../lib/semver.h"

/* Longest version pub.dev accepts (and so do we). */
#define PUB_VERSION_MAX 64

/* Parses s with Dart's grammar. Returns 0 and fills *out (pre and build in
 * the arena, as written) and, when canon is not NULL, *canon: the canonical
 * text in the arena. Returns -1 when s is not a Dart version or a numeric
 * part does not fit uint64. s is borrowed. */
int pub_version_parse(arena *a, const char *s, semver *out, const char **canon);

/* Dart's Version.compareTo: <0, 0, >0. Pre-release and build identifiers
 * that read as integers compare numerically and below non-numeric ones. */
int pub_version_cmp(const semver *x, const semver *y);

/* Dart's Version.prioritize order: every release above every pre-release,
 * otherwise pub_version_cmp. */
int pub_version_prio(const semver *x, const semver *y);

#endif
