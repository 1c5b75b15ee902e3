/*
 * metadata.h — a Hex package's metadata.config, read into a struct and a
 * JSON document, and the rules hex.pm applies to names, versions and
 * requirements (facts: hex.md §2.3–2.5).
 *
 * Both shapes of `requirements` are accepted: mix's list of kvlists (each
 * with a `name`) and rebar3_hex's list of {Name, Props} tuples. Keys the
 * parser does not know are kept in the JSON document.
 */
#ifndef DEPOT_HEX_METADATA_H
#define DEPOT_HEX_METADATA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "../lib/arena.h"
#include "../lib/err.h"

typedef struct hex_requirement {
    const char *name;
    const char *requirement; /* ">= 0.0.0" when the metadata leaves it empty (hex.pm's default) */
    const char *app;         /* the name when absent */
    const char *repository;  /* as written; NULL when absent */
    bool optional;
} hex_requirement;

typedef struct hex_metadata {
    const char *name, *version, *app;
    const char *description; /* NULL when absent */
    const char *elixir;      /* NULL when absent */
    /* The whole metadata as a JSON object, with `requirements` normalised to
     * {name: {app, optional, requirement, repository?}}. Freed with the arena;
     * the members below are borrowed from it (never NULL: empty when absent). */
    json_t *json;
    json_t *licenses, *links, *files, *build_tools, *maintainers;
    hex_requirement *reqs;
    int nreqs;
} hex_metadata;

/* Parses metadata.config text (the caller caps n). Required keys: name,
 * version, app (when absent, the name). Shapes are checked: 422 "invalid"
 * with a message "FIELD: why" naming the field. build_tools, when absent,
 * is left empty for the caller to guess from the package's files. */
int hex_metadata_parse(arena *a, const char *text, size_t n, hex_metadata *out, derr *e);

/* hex.pm's package name rule: ^[a-z][a-z0-9_]*$, 2 to 64 characters, not a reserved name. */
int hex_check_name(const char *name, const char *field, derr *e);

/* hex.pm's version rule: SemVer 2.0.0 without build metadata, numeric parts at most
 * 99,999,999,999,999, a prerelease of at most 64 characters. */
int hex_check_version(arena *a, const char *version, derr *e);

/* Checks every requirement: the name rule and the requirement's syntax (Elixir's). 422 with
 * "requirements.NAME: why". */
int hex_check_requirements(arena *a, const hex_metadata *m, derr *e);

/* Guesses build_tools from the package's file paths, as hex_core does (mix.exs → mix,
 * rebar.config or rebar → rebar3, Makefile or Makefile.win → make); fills m->build_tools
 * (and the JSON) when it was empty. */
void hex_guess_build_tools(hex_metadata *m, const char *const *paths, int n);

#endif
