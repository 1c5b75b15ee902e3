/*
 * etf.h — a small, bounded codec for the Erlang External Term Format, the
 * body format of the Hex HTTP API (`application/vnd.hex+erlang`).
 *
 * Terms are mapped onto JSON values (jansson), so the Hex handlers build one
 * document and render it as ETF or JSON by content negotiation:
 *
 *   ETF                          JSON
 *   map (binary/atom/charlist keys)  object
 *   binary (valid UTF-8)          string
 *   list, tuple                   array
 *   small/integer/small big       integer (int64 range)
 *   new float                     real
 *   atom true / false             true / false
 *   atom nil                      null
 *   any other atom                string (its name)
 *   string (charlist bytes)       string (Latin-1 to UTF-8)
 *
 * Encoding writes only what hex.pm's ErlangFormat writes: maps with binary
 * keys, binaries, lists, integers, floats, and the atoms true, false and nil
 * (facts: hex.md §3.2; hex_core ≥ 0.12.2 decodes with [safe], so no other atom
 * may ever be sent).
 */
#ifndef DEPOT_HEX_ETF_H
#define DEPOT_HEX_ETF_H

#include <jansson.h>
#include <stddef.h>

#include "../lib/buf.h"
#include "../lib/err.h"

/* External term format tags (erts/emulator/beam/external.h; facts, hex.md §3.2). */
enum {
    ETF_VERSION = 131,
    ETF_NEW_FLOAT = 70,
    ETF_COMPRESSED = 80,
    ETF_SMALL_INTEGER = 97,
    ETF_INTEGER = 98,
    ETF_FLOAT = 99,
    ETF_ATOM = 100,
    ETF_SMALL_TUPLE = 104,
    ETF_LARGE_TUPLE = 105,
    ETF_NIL = 106,
    ETF_STRING = 107,
    ETF_LIST = 108,
    ETF_BINARY = 109,
    ETF_SMALL_BIG = 110,
    ETF_LARGE_BIG = 111,
    ETF_MAP = 116,
    ETF_SMALL_ATOM = 115,
    ETF_ATOM_UTF8 = 118,
    ETF_SMALL_ATOM_UTF8 = 119,
};

/* Nesting allowed in a decoded term, and terms (of any kind) in all. */
#define ETF_MAX_DEPTH 32
#define ETF_MAX_TERMS 100000

/* Decodes one complete term (version byte first, nothing after it) into a new
 * JSON value (*out, a new reference). The input size is the caller's cap.
 * Returns 0, or -1 with e filled: 400 "bad_request" naming what is wrong
 * (truncated, trailing bytes, an unsupported or compressed tag, a binary that
 * is not UTF-8, a map key that is not text, an integer beyond 64 bits, too
 * deep, too many terms). */
int etf_decode(const void *p, size_t n, json_t **out, derr *e);

/* Appends the ETF of v (version byte first) to out. Returns 0, or -1 when out's
 * cap is reached (out then holds a partial term) or v holds something ETF
 * cannot carry here (never for what jansson makes). */
int etf_encode(const json_t *v, buf *out);

#endif
