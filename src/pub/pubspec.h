/*
 * pubspec.h — a Dart package's pubspec.yaml, read as the client reads it.
 *
 * The client resolves from the listing's JSON and then checks the YAML
 * inside the archive, so the JSON must mean exactly what the YAML means.
 * pub_yaml_to_json turns the YAML into JSON the way Dart's package:yaml
 * types plain scalars (the YAML 1.2 core schema: `yes`, `on`, `1.0.0` and
 * `>=3.0.0 <4.0.0` stay strings; `true`, `null`, `~`, `12`, `0x1F`,
 * `0o17`, `1.5` do not; quoted and block scalars are always strings), keeps
 * the key order, and refuses what cannot round-trip: anchors and aliases,
 * duplicate keys, keys that are not strings, unknown tags, several
 * documents, `.inf`/`.nan`, and anything past the size and depth caps.
 *
 * pub_json_write renders JSON as ASCII (non-ASCII as \u escapes, so no
 * client can mis-decode it whatever charset it assumes) with numbers
 * spelled as Dart's jsonEncode spells them (1.0 stays 1.0).
 *
 * pubspec_parse does both and then reads the fields a registry needs,
 * checking the name, the canonical version and the dependency constraints.
 */
#ifndef DEPOT_PUB_PUBSPEC_H
#define DEPOT_PUB_PUBSPEC_H

#include <jansson.h>
#include <stddef.h>

#include "../core/types.h"
#include "../lib/arena.h"
#include "../lib/buf.h"
#include "../lib/err.h"
#include "../lib/semver.h"

#define PUBSPEC_MAX_BYTES (128u << 10) /* pub.dev's cap on pubspec.yaml */
#define PUBSPEC_MAX_DEPTH 64
#define PUBSPEC_MAX_NODES 20000
#define PUBSPEC_MAX_DEPS 256 /* dependencies + dev_dependencies */
#define PUB_NAME_MAX 64

/* Converts one YAML document to JSON. Returns a new reference (the caller
 * decrefs), or NULL with e = 422 "invalid" and a message that names the line
 * and column ("pubspec.yaml line 3, column 7: ..."). The text need not be
 * NUL-terminated; more than PUBSPEC_MAX_BYTES is refused. */
json_t *pub_yaml_to_json(const char *text, size_t len, derr *e);

/* Appends v as compact ASCII JSON to b. Returns 0, or -1 when b's cap is hit
 * or v holds a non-finite number. */
int pub_json_write(buf *b, const json_t *v);

/* The JSON text of v in the arena (pub_json_write), or NULL when it cannot be
 * written. */
const char *pub_json_text(arena *a, const json_t *v);

/* Is s a valid pub package name: ^[a-zA-Z_][a-zA-Z0-9_]*$, at most 64
 * characters, not a Dart reserved word? */
bool pub_name_valid(const char *s);

typedef struct pubspec {
    const char *json; /* the whole pubspec as JSON text (pub_json_write), in the arena */
    const char *name;
    const char *version; /* canonical, as written */
    semver v;
    const char *description, *homepage, *repository, *documentation; /* NULL when absent */
    const char *authors; /* JSON array text of `author`/`authors` */
    const char *topics;  /* JSON array text of the usable `topics` */
    dep_row *deps;       /* dependencies (kind "normal") then dev_dependencies ("dev"); the
                          * requirement is the constraint ("any" when none); extra is the JSON
                          * text of a map-shaped dependency (hosted/git/path/sdk), else NULL */
    int ndeps;
} pubspec;

/* Reads pubspec.yaml's bytes into *out (everything in the arena). Returns 0,
 * or -1 with e = 422 "invalid" and a message a user can act on
 * ("pubspec.yaml: version: ..."). */
int pubspec_parse(arena *a, const char *text, size_t len, pubspec *out, derr *e);

#endif
