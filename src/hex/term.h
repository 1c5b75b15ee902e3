/*
 * term.h — a bounded parser of Erlang term text, the syntax of a Hex
 * tarball's metadata.config: a sequence of terms, each ended by a '.'
 * (what file:consult/1 reads).
 *
 * It accepts what hex_core writes and what its safe tokenizer accepts
 * (facts: hex.md §2.2): integers (with sign, base#digits, $c), floats, atoms
 * (bare and quoted), double-quoted strings with Erlang escapes, binaries
 * <<...>> of string and integer segments with an optional /utf8 (adjacent
 * string literals concatenate), lists, tuples and maps #{K => V}. Variables,
 * improper lists, bit sizes and anything executable are refused.
 *
 * The text is read as UTF-8 when it is valid UTF-8, else as Latin-1, as
 * hex_core does. A binary segment without /utf8 stores each character as one
 * byte (its code point modulo 256, Erlang's rule); with /utf8, as UTF-8.
 */
#ifndef DEPOT_HEX_TERM_H
#define DEPOT_HEX_TERM_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "../lib/arena.h"
#include "../lib/err.h"

#define TERM_MAX_DEPTH 64
#define TERM_MAX_NODES 200000

enum term_kind { TERM_INT, TERM_FLOAT, TERM_ATOM, TERM_BINARY, TERM_STRING, TERM_LIST, TERM_TUPLE, TERM_MAP };

typedef struct term {
    enum term_kind kind;
    int64_t i;     /* TERM_INT */
    double f;      /* TERM_FLOAT */
    const char *s; /* TERM_ATOM and TERM_STRING: UTF-8 text; TERM_BINARY: the bytes (NUL after them) */
    size_t len;    /* bytes of s */
    struct term *
        *items; /* TERM_LIST, TERM_TUPLE: n elements; TERM_MAP: n keys and values, interleaved (2n) */
    size_t n;
} term;

/* Parses text[0..n) into *forms (*nforms top-level terms), everything in the
 * arena. Returns 0, or -1 with e filled (422 "invalid", a message naming the
 * line and what was expected). The caller caps n. */
int term_parse(arena *a, const char *text, size_t n, term ***forms, size_t *nforms, derr *e);

/* Is t text (a binary, a string, or an atom)? Then *s and *len are its UTF-8
 * bytes (a binary that is not UTF-8 is converted from Latin-1, in the arena). */
int term_text(arena *a, const term *t, const char **s, size_t *len);

/* Is t a list of 2-tuples whose first elements are text (a "kvlist")? The empty list is one. */
int term_is_kvlist(const term *t);

/* A term as JSON (a new reference): text → string, true/false → booleans,
 * other atoms → strings, integers, floats, a non-empty kvlist → object,
 * other lists and tuples → arrays, maps with text keys → objects (other
 * keys are written as their JSON text). Never NULL. */
json_t *term_to_json(arena *a, const term *t);

#endif
