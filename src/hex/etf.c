/*
 * etf.c — the Erlang External Term Format codec of the Hex API (etf.h).
 *
 * The decoder is a recursive descent over a bounds-checked cursor: every
 * read checks the bytes left first, nesting is capped, and so is the number
 * of terms, so no input can make it read out of bounds, recurse deeply or
 * allocate much more than its own size. Counts in the input (list lengths,
 * map arities) are never used to preallocate: each element consumes at
 * least one byte, so a loop over a lying count ends when the bytes do.
 */
#include "etf.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/utf8.h"

typedef struct cur {
    const unsigned char *p, *end;
    int depth;
    long terms;
    derr *e;
} cur;

static int bad(cur *c, const char *what)
{
    return derr_set(c->e, 400, "bad_request", "body is not a valid Erlang term: %s", what);
}

static int need(cur *c, size_t n)
{
    if ((size_t)(c->end - c->p) < n)
        return bad(c, "truncated");
    return 0;
}

/* Latin-1 bytes as a JSON string (each byte is the code point of that value). */
static json_t *latin1_string(const unsigned char *p, size_t n)
{
    char small[512];
    char *s = n * 2 + 1 <= sizeof small ? small : malloc(n * 2 + 1);
    if (!s)
        return NULL;
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 0x80) {
            s[w++] = (char)p[i];
        } else {
            s[w++] = (char)(0xC0 | p[i] >> 6);
            s[w++] = (char)(0x80 | (p[i] & 0x3F));
        }
    }
    s[w] = '\0';
    json_t *v = json_stringn(s, w);
    if (s != small)
        free(s);
    return v;
}

/* An atom's name (latin1: the ATOM_EXT/SMALL_ATOM_EXT encodings) as a JSON value. */
static json_t *atom_value(cur *c, const unsigned char *p, size_t n, int latin1)
{
    if (n == 4 && memcmp(p, "true", 4) == 0)
        return json_true();
    if (n == 5 && memcmp(p, "false", 5) == 0)
        return json_false();
    if (n == 3 && memcmp(p, "nil", 3) == 0)
        return json_null();
    if (latin1)
        return latin1_string(p, n);
    if (!utf8_valid((const char *)p, n)) {
        bad(c, "an atom is not UTF-8");
        return NULL;
    }
    return json_stringn((const char *)p, n);
}

static json_t *term(cur *c);

/* A big integer: n magnitude bytes, little-endian, after a sign byte. */
static json_t *bignum(cur *c, uint32_t n)
{
    if (need(c, 1 + (size_t)n) < 0)
        return NULL;
    int neg = c->p[0] != 0;
    const unsigned char *d = c->p + 1;
    c->p += 1 + n;
    uint64_t mag = 0;
    for (uint32_t i = n; i-- > 0;) {
        if (d[i] && i >= 8) {
            bad(c, "an integer is beyond 64 bits");
            return NULL;
        }
        if (i < 8)
            mag |= (uint64_t)d[i] << (8 * i);
    }
    if ((!neg && mag > (uint64_t)INT64_MAX) || (neg && mag > (uint64_t)INT64_MAX + 1)) {
        bad(c, "an integer is beyond 64 bits");
        return NULL;
    }
    int64_t v = neg ? (mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag) : (int64_t)mag;
    return json_integer((json_int_t)v);
}

static json_t *seq(cur *c, uint32_t n, int is_list)
{
    json_t *arr = json_array();
    for (uint32_t i = 0; i < n; i++) {
        json_t *v = term(c);
        if (!v) {
            json_decref(arr);
            return NULL;
        }
        json_array_append_new(arr, v);
    }
    if (is_list) {
        if (need(c, 1) < 0 || c->p[0] != ETF_NIL) {
            if (c->p < c->end)
                bad(c, "an improper list");
            json_decref(arr);
            return NULL;
        }
        c->p++;
    }
    return arr;
}

static json_t *map(cur *c, uint32_t n)
{
    json_t *obj = json_object();
    for (uint32_t i = 0; i < n; i++) {
        json_t *k = term(c);
        if (!k)
            goto fail;
        if (!json_is_string(k) || memchr(json_string_value(k), '\0', json_string_length(k))) {
            json_decref(k);
            bad(c, "a map key is not a binary or an atom (or holds a NUL byte)");
            goto fail;
        }
        json_t *v = term(c);
        if (!v) {
            json_decref(k);
            goto fail;
        }
        json_object_setn_new(obj, json_string_value(k), json_string_length(k), v);
        json_decref(k);
    }
    return obj;
fail:
    json_decref(obj);
    return NULL;
}

/* A big-endian length of width bytes (1, 2 or 4). */
static int length(cur *c, int width, uint32_t *n)
{
    if (need(c, (size_t)width) < 0)
        return -1;
    uint32_t v = 0;
    for (int i = 0; i < width; i++)
        v = v << 8 | c->p[i];
    c->p += width;
    *n = v;
    return 0;
}

/* A length of width bytes and that many bytes after it (*p, *n); the cursor moves past them. */
static int counted(cur *c, int width, const unsigned char **p, size_t *n)
{
    uint32_t len;
    if (length(c, width, &len) < 0 || need(c, len) < 0)
        return -1;
    *p = c->p;
    *n = len;
    c->p += len;
    return 0;
}

static json_t *new_float(cur *c)
{
    if (need(c, 8) < 0)
        return NULL;
    uint64_t bits = 0;
    for (int i = 0; i < 8; i++)
        bits = bits << 8 | c->p[i];
    c->p += 8;
    double d;
    memcpy(&d, &bits, sizeof d);
    if (!isfinite(d)) {
        bad(c, "a float is not finite");
        return NULL;
    }
    return json_real(d);
}

/* A binary: depot's terms carry text in binaries, so it must be UTF-8. */
static json_t *text_binary(cur *c, const unsigned char *p, size_t n)
{
    if (!utf8_valid((const char *)p, n)) {
        bad(c, "a binary is not UTF-8 text");
        return NULL;
    }
    return json_stringn((const char *)p, n);
}

/* A list, tuple or map of n elements, one level deeper. */
static json_t *nested(cur *c, unsigned char tag, uint32_t n)
{
    if (++c->depth > ETF_MAX_DEPTH) {
        bad(c, "nested too deeply");
        return NULL;
    }
    json_t *v = tag == ETF_MAP ? map(c, n) : seq(c, n, tag == ETF_LIST);
    c->depth--;
    return v;
}

static json_t *term(cur *c)
{
    if (++c->terms > ETF_MAX_TERMS) {
        bad(c, "too many terms");
        return NULL;
    }
    if (need(c, 1) < 0)
        return NULL;
    unsigned char tag = *c->p++;
    uint32_t n;
    const unsigned char *p;
    size_t len;
    switch (tag) {
    case ETF_SMALL_INTEGER:
        return length(c, 1, &n) < 0 ? NULL : json_integer(n);
    case ETF_INTEGER:
        return length(c, 4, &n) < 0 ? NULL : json_integer((json_int_t)(int32_t)n);
    case ETF_SMALL_BIG:
        return length(c, 1, &n) < 0 ? NULL : bignum(c, n);
    case ETF_LARGE_BIG:
        return length(c, 4, &n) < 0 ? NULL : bignum(c, n);
    case ETF_NEW_FLOAT:
        return new_float(c);
    case ETF_ATOM:
    case ETF_ATOM_UTF8:
        return counted(c, 2, &p, &len) < 0 ? NULL : atom_value(c, p, len, tag == ETF_ATOM);
    case ETF_SMALL_ATOM:
    case ETF_SMALL_ATOM_UTF8:
        return counted(c, 1, &p, &len) < 0 ? NULL : atom_value(c, p, len, tag == ETF_SMALL_ATOM);
    case ETF_BINARY:
        return counted(c, 4, &p, &len) < 0 ? NULL : text_binary(c, p, len);
    case ETF_STRING:
        return counted(c, 2, &p, &len) < 0 ? NULL : latin1_string(p, len);
    case ETF_NIL:
        return json_array();
    case ETF_LIST:
    case ETF_LARGE_TUPLE:
    case ETF_MAP:
        return length(c, 4, &n) < 0 ? NULL : nested(c, tag, n);
    case ETF_SMALL_TUPLE:
        return length(c, 1, &n) < 0 ? NULL : nested(c, tag, n);
    case ETF_COMPRESSED:
        bad(c, "compressed terms are not accepted");
        return NULL;
    default:
        bad(c, "an unsupported term type");
        return NULL;
    }
}

int etf_decode(const void *p, size_t n, json_t **out, derr *e)
{
    cur c = {p, (const unsigned char *)p + n, 0, 0, e};
    *out = NULL;
    if (n == 0 || c.p[0] != ETF_VERSION)
        return bad(&c, "it does not start with the version byte 131");
    c.p++;
    json_t *v = term(&c);
    if (!v)
        return -1;
    if (c.p != c.end) {
        json_decref(v);
        return bad(&c, "bytes after the term");
    }
    *out = v;
    return 0;
}

/* ---- encoding ---- */

static int put_u8(buf *b, unsigned v)
{
    unsigned char x = (unsigned char)v;
    return buf_append(b, &x, 1);
}

static int put_u32(buf *b, uint32_t v)
{
    unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
                          (unsigned char)v};
    return buf_append(b, x, 4);
}

static int put_binary(buf *b, const char *s, size_t n)
{
    if (n > UINT32_MAX)
        return -1;
    if (put_u8(b, ETF_BINARY) < 0 || put_u32(b, (uint32_t)n) < 0)
        return -1;
    return buf_append(b, s, n);
}

/* Atoms as SMALL_ATOM_UTF8_EXT, the form OTP 26 writes; every OTP since R16 reads it. */
static int put_atom(buf *b, const char *name)
{
    size_t n = strlen(name);
    if (put_u8(b, ETF_SMALL_ATOM_UTF8) < 0 || put_u8(b, (unsigned)n) < 0)
        return -1;
    return buf_append(b, name, n);
}

static int put_integer(buf *b, json_int_t v)
{
    if (v >= 0 && v <= 255)
        return put_u8(b, ETF_SMALL_INTEGER) < 0 ? -1 : put_u8(b, (unsigned)v);
    if (v >= INT32_MIN && v <= INT32_MAX)
        return put_u8(b, ETF_INTEGER) < 0 ? -1 : put_u32(b, (uint32_t)(int32_t)v);
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    unsigned char d[8];
    unsigned n = 0;
    while (mag) {
        d[n++] = (unsigned char)(mag & 0xFF);
        mag >>= 8;
    }
    if (put_u8(b, ETF_SMALL_BIG) < 0 || put_u8(b, n) < 0 || put_u8(b, v < 0) < 0)
        return -1;
    return buf_append(b, d, n);
}

static int put_float(buf *b, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    unsigned char x[9] = {ETF_NEW_FLOAT};
    for (int i = 0; i < 8; i++)
        x[1 + i] = (unsigned char)(bits >> (56 - 8 * i));
    return buf_append(b, x, sizeof x);
}

static int put_term(buf *b, const json_t *v, int depth)
{
    if (depth > 64)
        return -1;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        if (put_u8(b, ETF_MAP) < 0 || put_u32(b, (uint32_t)json_object_size(v)) < 0)
            return -1;
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            if (put_binary(b, k, strlen(k)) < 0 || put_term(b, x, depth + 1) < 0)
                return -1;
        }
        return 0;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        if (n == 0)
            return put_u8(b, ETF_NIL);
        if (put_u8(b, ETF_LIST) < 0 || put_u32(b, (uint32_t)n) < 0)
            return -1;
        for (size_t i = 0; i < n; i++)
            if (put_term(b, json_array_get(v, i), depth + 1) < 0)
                return -1;
        return put_u8(b, ETF_NIL);
    }
    case JSON_STRING:
        return put_binary(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return put_integer(b, json_integer_value(v));
    case JSON_REAL:
        return put_float(b, json_real_value(v));
    case JSON_TRUE:
        return put_atom(b, "true");
    case JSON_FALSE:
        return put_atom(b, "false");
    case JSON_NULL:
        return put_atom(b, "nil");
    }
    return -1;
}

int etf_encode(const json_t *v, buf *out)
{
    if (put_u8(out, ETF_VERSION) < 0)
        return -1;
    return put_term(out, v, 0);
}
