/*
 * semver.h — Semantic Versioning 2.0.0 versions and the requirement
 * languages of the ecosystems depot serves.
 *
 * A version is parsed strictly as https://semver.org/spec/v2.0.0.html says
 * (no leading zeros, no "v" prefix, no spaces) and ordered by the spec's
 * precedence rules (§11); build metadata never affects precedence (§10).
 *
 * A requirement ("^1.2", "~> 2.0 or ~> 3.0", ">=1.0.0 <2.0.0") is parsed in
 * one of four dialects into one internal form: a union (||) of comparator
 * sets, each an intersection (AND) of comparators (op, version). The
 * dialects differ in grammar and in how pre-release versions are treated;
 * semver_req_match() applies the rules of the dialect the requirement was
 * parsed in. Everything a parse returns lives in the caller's arena.
 */
#ifndef DEPOT_SEMVER_H
#define DEPOT_SEMVER_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "err.h"

/* Longest version string accepted; longest requirement; OR-sets and comparators per set. */
#define SEMVER_MAX_LEN 256
#define SEMVER_REQ_MAX_LEN 1024
#define SEMVER_REQ_MAX_SETS 32
#define SEMVER_REQ_MAX_TERMS 32

typedef struct semver {
    uint64_t major, minor, patch;
    const char *pre;   /* dot-separated pre-release identifiers, NULL when absent */
    const char *build; /* build metadata, NULL when absent */
} semver;

/* Parses `s` strictly (SemVer 2.0.0 BNF): three numeric parts without
 * leading zeros that fit uint64, optional "-pre" (numeric identifiers without
 * leading zeros) and "+build", at most SEMVER_MAX_LEN bytes. Returns 0 and
 * fills *out (pre/build copied into the arena), or -1 (*out untouched). */
int semver_parse(arena *a, const char *s, semver *out);

/* Precedence per SemVer §11: <0, 0 or >0. Build metadata is ignored, so
 * 1.0.0+a and 1.0.0+b compare equal. */
int semver_cmp(const semver *x, const semver *y);

/* "M.m.p[-pre][+build]" in the arena. */
char *semver_str(arena *a, const semver *v);

/* True when v has pre-release identifiers. */
bool semver_is_prerelease(const semver *v);

enum semver_dialect {
    SEMVER_NATIVE, /* depot's own manifests: the npm grammar (with "~>" as tilde) */
    SEMVER_NPM,    /* node-semver ranges */
    SEMVER_HEX,    /* Elixir Version requirements, as mix and Hex use them */
    SEMVER_PUB,    /* Dart pub_semver constraints */
};

typedef struct semver_req semver_req; /* opaque, in the arena */

/* Parses requirement `s` in dialect `d`. Returns the requirement, or NULL
 * with e = 422 "invalid" and a message that says what is wrong. Caps:
 * SEMVER_REQ_MAX_LEN bytes, SEMVER_REQ_MAX_SETS alternatives, and
 * SEMVER_REQ_MAX_TERMS written terms per alternative. `s` is borrowed; the
 * result keeps its own copy. */
semver_req *semver_req_parse(arena *a, enum semver_dialect d, const char *s, derr *e);

/* Whether v satisfies r under r's dialect.
 *  - npm/native: a pre-release v matches a comparator set only when some
 *    comparator of that set names the same major.minor.patch with a
 *    pre-release (node-semver's rule), unless include_prerelease.
 *  - hex: Elixir's Version.match?/3 with allow_pre = include_prerelease:
 *    ">", ">=" and "~>" refuse a pre-release v unless their operand is a
 *    pre-release.
 *  - pub: pub_semver's VersionConstraint.allows(); without
 *    include_prerelease a pre-release v also needs the requirement to
 *    mention a pre-release (depot's policy; pub_semver itself only prefers
 *    stable versions in its solver).
 * Build metadata on v is ignored. */
bool semver_req_match(const semver_req *r, const semver *v, bool include_prerelease);

/* True when a version written in the requirement has a pre-release
 * ("^1.0.0-beta", "~> 2.1-dev"); bounds the parser adds itself (such as the
 * "-0" of "<2.0.0-0") do not count. */
bool semver_req_mentions_prerelease(const semver_req *r);

/* The exact version when r pins one ("1.2.3", "=1.2.3", "v1.2.3" in npm and
 * native; "1.2.3", "== 1.2.3" in hex; bare "1.2.3" in pub), else NULL. The
 * result points into r. */
const semver *semver_req_pinned(const semver_req *r);

/* Normalized text in the arena: the comparators the requirement expands to,
 * e.g. "^1.2" in npm gives ">=1.2.0 <2.0.0-0"; "*" for any version. For
 * messages and tests, not for parsing back in another dialect. */
char *semver_req_str(arena *a, const semver_req *r);

/* The requirement as written (trimmed), for messages; "" when empty. */
const char *semver_req_text(const semver_req *r);

#endif
