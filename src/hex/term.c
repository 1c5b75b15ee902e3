/*
 * term.c — the Erlang term text parser (term.h).
 *
 * The input is first decoded into code points (UTF-8 when valid, else
 * Latin-1), then a recursive-descent parser reads terms straight from the
 * code points: there is no separate token list. Every loop consumes input,
 * nesting is capped at TERM_MAX_DEPTH and nodes at TERM_MAX_NODES, and all
 * memory comes from the caller's arena, so a hostile metadata.config costs
 * at most a small multiple of its (capped) size.
 */
#include "term.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/utf8.h"

typedef struct parser {
    arena *a;
    const uint32_t *cp;
    size_t n, i;
    int line;
    int depth;
    long nodes;
    derr *e;
} parser;

/* A growable array of code points or bytes, in the arena. */
typedef struct vec {
    unsigned char *p;
    size_t len, cap;
} vec;

static void vec_put(arena *a, vec *v, const void *p, size_t n)
{
    if (v->len + n > v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        while (cap < v->len + n)
            cap *= 2;
        unsigned char *np = arena_alloc(a, cap + 1);
        if (v->len)
            memcpy(np, v->p, v->len);
        v->p = np;
        v->cap = cap;
    }
    memcpy(v->p + v->len, p, n);
    v->len += n;
    v->p[v->len] = '\0';
}

/* Decodes UTF-8 into code points (out holds n); -1 when it is not valid UTF-8. */
static long utf8_to_cps(const char *s, size_t n, uint32_t *out)
{
    size_t i = 0, w = 0;
    while (i < n) {
        size_t k = utf8_decode(s + i, n - i, &out[w++]);
        if (k == 0)
            return -1;
        i += k;
    }
    return (long)w;
}

static int fail(parser *p, const char *what)
{
    return derr_set(p->e, 422, "invalid", "metadata.config: line %d: %s", p->line, what);
}

static int at_end(const parser *p)
{
    return p->i >= p->n;
}

static uint32_t peek(const parser *p, size_t ahead)
{
    return p->i + ahead < p->n ? p->cp[p->i + ahead] : 0;
}

static uint32_t next(parser *p)
{
    uint32_t c = p->cp[p->i++];
    if (c == '\n')
        p->line++;
    return c;
}

static void skip_space(parser *p)
{
    while (!at_end(p)) {
        uint32_t c = peek(p, 0);
        if (c == '%') {
            while (!at_end(p) && peek(p, 0) != '\n')
                next(p);
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == 0xA0) {
            next(p);
        } else {
            return;
        }
    }
}

static term *node(parser *p, enum term_kind k)
{
    if (++p->nodes > TERM_MAX_NODES) {
        fail(p, "too many terms");
        return NULL;
    }
    term *t = arena_zalloc(p->a, sizeof *t);
    t->kind = k;
    return t;
}

static int is_digit(uint32_t c)
{
    return c >= '0' && c <= '9';
}

static int is_name_char(uint32_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '@' ||
           (c >= 0xC0 && c <= 0xFF && c != 0xD7 && c != 0xF7);
}

static int digit_value(uint32_t c)
{
    if (is_digit(c))
        return (int)(c - '0');
    if (c >= 'a' && c <= 'z')
        return (int)(c - 'a') + 10;
    if (c >= 'A' && c <= 'Z')
        return (int)(c - 'A') + 10;
    return 99;
}

/* One character of a quoted string or atom, after its backslash when esc. -1 on a bad escape. */
static int64_t escape(parser *p)
{
    if (at_end(p))
        return -1;
    uint32_t c = next(p);
    switch (c) {
    case 'b':
        return 8;
    case 'd':
        return 127;
    case 'e':
        return 27;
    case 'f':
        return 12;
    case 'n':
        return 10;
    case 'r':
        return 13;
    case 's':
        return 32;
    case 't':
        return 9;
    case 'v':
        return 11;
    case '^':
        if (at_end(p))
            return -1;
        return next(p) & 31;
    case 'x': {
        uint32_t v = 0;
        if (peek(p, 0) == '{') {
            next(p);
            int nd = 0;
            while (!at_end(p) && peek(p, 0) != '}') {
                int d = digit_value(next(p));
                if (d > 15 || ++nd > 6)
                    return -1;
                v = v * 16 + (uint32_t)d;
            }
            if (at_end(p) || nd == 0)
                return -1;
            next(p);
        } else {
            for (int k = 0; k < 2; k++) {
                int d = at_end(p) ? 99 : digit_value(next(p));
                if (d > 15)
                    return -1;
                v = v * 16 + (uint32_t)d;
            }
        }
        if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
            return -1;
        return v;
    }
    default:
        if (c >= '0' && c <= '7') {
            uint32_t v = c - '0';
            for (int k = 0; k < 2 && peek(p, 0) >= '0' && peek(p, 0) <= '7' && !at_end(p); k++)
                v = v * 8 + (next(p) - '0');
            return v;
        }
        return c; /* \\ \" \' and any other character stand for themselves */
    }
}

/* A quoted run up to the closing quote, as code points. */
static int quoted(parser *p, uint32_t quote, vec *out)
{
    next(p); /* the opening quote */
    for (;;) {
        if (at_end(p))
            return fail(p, quote == '"' ? "a string is not closed" : "a quoted atom is not closed");
        uint32_t c = next(p);
        if (c == quote)
            return 0;
        int64_t v = c;
        if (c == '\\') {
            v = escape(p);
            if (v < 0)
                return fail(p, "a bad escape sequence");
        }
        uint32_t cp = (uint32_t)v;
        vec_put(p->a, out, &cp, sizeof cp);
    }
}

static const char *cps_utf8(parser *p, const vec *cps, size_t *len)
{
    vec out = {0};
    const uint32_t *c = (const uint32_t *)(const void *)cps->p;
    size_t n = cps->len / sizeof(uint32_t);
    for (size_t i = 0; i < n; i++) {
        char b[4];
        vec_put(p->a, &out, b, utf8_encode(c[i], b));
    }
    *len = out.len;
    return out.p ? (const char *)out.p : "";
}

/* An atom or a string of the code points in cps. */
static term *text_node(parser *p, enum term_kind kind, const vec *cps)
{
    term *t = node(p, kind);
    if (t)
        t->s = cps_utf8(p, cps, &t->len);
    return t;
}

/* Adjacent string literals ("a" "b"), concatenated into cps. */
static int strings(parser *p, vec *cps)
{
    while (peek(p, 0) == '"' && !at_end(p)) {
        if (quoted(p, '"', cps) < 0)
            return -1;
        skip_space(p);
    }
    return 0;
}

/* $c (p at the '$'): the character's code point, or -1 after failing. */
static int64_t char_literal(parser *p)
{
    next(p);
    if (at_end(p))
        return fail(p, "a character literal is cut short");
    uint32_t ch = next(p);
    int64_t v = ch == '\\' ? escape(p) : ch;
    if (v < 0)
        return fail(p, "a bad escape sequence");
    return v;
}

static term *parse_term(parser *p);

/* A float (p after its integer digits, which start at start): digits '.' digits [e [+-] digits]. */
static term *parse_float(parser *p, size_t start, int neg)
{
    next(p);
    while (is_digit(peek(p, 0)))
        next(p);
    if ((peek(p, 0) == 'e' || peek(p, 0) == 'E') &&
        (is_digit(peek(p, 1)) || ((peek(p, 1) == '-' || peek(p, 1) == '+') && is_digit(peek(p, 2))))) {
        next(p);
        if (peek(p, 0) == '-' || peek(p, 0) == '+')
            next(p);
        while (is_digit(peek(p, 0)))
            next(p);
    }
    char tmp[64];
    size_t w = 0;
    for (size_t k = start; k < p->i; k++) {
        if (p->cp[k] == '_')
            continue;
        if (w + 1 >= sizeof tmp) {
            fail(p, "a float is too long");
            return NULL;
        }
        tmp[w++] = (char)p->cp[k];
    }
    tmp[w] = '\0';
    term *t = node(p, TERM_FLOAT);
    if (!t)
        return NULL;
    t->f = strtod(tmp, NULL);
    if (!isfinite(t->f)) {
        fail(p, "a float is out of range");
        return NULL;
    }
    if (neg)
        t->f = -t->f;
    return t;
}

static term *parse_number(parser *p, int neg)
{
    size_t start = p->i;
    uint64_t v = 0;
    int overflow = 0;
    while (is_digit(peek(p, 0)) || (peek(p, 0) == '_' && is_digit(peek(p, 1)) && p->i > start)) {
        uint32_t c = next(p);
        if (c == '_')
            continue;
        if (v > (UINT64_MAX - 9) / 10)
            overflow = 1;
        v = v * 10 + (c - '0');
    }
    if (peek(p, 0) == '#') {
        if (overflow || v < 2 || v > 36) {
            fail(p, "a bad integer base");
            return NULL;
        }
        uint64_t base = v;
        next(p);
        v = 0;
        size_t nd = 0;
        while (!at_end(p) && (unsigned)digit_value(peek(p, 0)) < base) {
            uint64_t d = (uint64_t)digit_value(next(p));
            if (v > (UINT64_MAX - d) / base)
                overflow = 1;
            v = v * base + d;
            nd++;
        }
        if (!nd) {
            fail(p, "an integer with a base has no digits");
            return NULL;
        }
    } else if (peek(p, 0) == '.' && is_digit(peek(p, 1))) {
        return parse_float(p, start, neg);
    }
    if (overflow || v > (uint64_t)INT64_MAX + (uint64_t)neg) {
        fail(p, "an integer is beyond 64 bits");
        return NULL;
    }
    term *t = node(p, TERM_INT);
    if (!t)
        return NULL;
    t->i = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    return t;
}

/* Elements up to `close`, separated by commas; for maps, K => V pairs. */
static int parse_seq(parser *p, uint32_t close, int is_map, term *t)
{
    term *small[16];
    term **items = small;
    size_t n = 0, cap = 16;
    skip_space(p);
    if (peek(p, 0) == close && !at_end(p)) {
        next(p);
        t->items = NULL;
        t->n = 0;
        return 0;
    }
    for (;;) {
        for (int kv = 0; kv < (is_map ? 2 : 1); kv++) {
            if (kv == 1) {
                skip_space(p);
                if (peek(p, 0) != '=' || peek(p, 1) != '>')
                    return fail(p, "expected '=>' in a map");
                next(p);
                next(p);
            }
            term *x = parse_term(p);
            if (!x)
                return -1;
            if (n == cap) {
                term **ni = arena_alloc(p->a, sizeof *ni * cap * 2);
                memcpy(ni, items, sizeof *ni * n);
                items = ni;
                cap *= 2;
            }
            items[n++] = x;
        }
        skip_space(p);
        if (at_end(p))
            return fail(p, "a list, tuple or map is not closed");
        uint32_t c = next(p);
        if (c == close)
            break;
        if (c == '|' && close == ']')
            return fail(p, "improper lists are not accepted");
        if (c != ',')
            return fail(p, "expected ',' or a closing bracket");
    }
    t->items = arena_memdup(p->a, items, sizeof *items * n);
    t->n = is_map ? n / 2 : n;
    return 0;
}

/* A segment's value: string literals (concatenated), an integer or $c, as code points into cps. */
static int segment_value(parser *p, vec *cps)
{
    uint32_t c = peek(p, 0);
    if (c == '"')
        return strings(p, cps);
    if (!is_digit(c) && c != '$')
        return fail(p, "expected a string or an integer in a binary");
    int64_t v;
    if (c == '$') {
        if ((v = char_literal(p)) < 0)
            return -1;
    } else {
        term *num = parse_number(p, 0);
        if (!num)
            return -1;
        if (num->kind != TERM_INT)
            return fail(p, "a float in a binary");
        v = num->i;
    }
    uint32_t cp = (uint32_t)(v & 0xFFFFFFFF);
    vec_put(p->a, cps, &cp, sizeof cp);
    skip_space(p);
    return 0;
}

/* An optional "/utf8" after a segment (*utf8 says whether it was there); no other type is accepted. */
static int segment_type(parser *p, bool *utf8)
{
    *utf8 = false;
    if (peek(p, 0) != '/')
        return 0;
    next(p);
    skip_space(p);
    char spec[16];
    size_t w = 0;
    while (is_name_char(peek(p, 0)) && !at_end(p) && w + 1 < sizeof spec)
        spec[w++] = (char)next(p);
    spec[w] = '\0';
    if (strcmp(spec, "utf8") != 0)
        return fail(p, "only the /utf8 type is accepted in a binary");
    *utf8 = true;
    skip_space(p);
    return 0;
}

/* A segment's code points as bytes: UTF-8 encoded with /utf8, else each the low byte. */
static int segment_bytes(parser *p, const vec *cps, bool utf8, vec *bytes)
{
    const uint32_t *cv = (const uint32_t *)(const void *)cps->p;
    for (size_t k = 0; k < cps->len / sizeof(uint32_t); k++) {
        char b[4];
        if (utf8) {
            if (cv[k] > 0x10FFFF || (cv[k] >= 0xD800 && cv[k] <= 0xDFFF))
                return fail(p, "a character is not a Unicode code point");
            vec_put(p->a, bytes, b, utf8_encode(cv[k], b));
        } else {
            b[0] = (char)(cv[k] & 0xFF);
            vec_put(p->a, bytes, b, 1);
        }
    }
    return 0;
}

/* <<Seg, Seg, ...>>: each segment is string literals (concatenated), an integer or $c, optionally /utf8. */
static term *parse_binary(parser *p)
{
    next(p);
    next(p);
    term *t = node(p, TERM_BINARY);
    if (!t)
        return NULL;
    vec bytes = {0};
    skip_space(p);
    if (peek(p, 0) == '>' && peek(p, 1) == '>') {
        next(p);
        next(p);
        t->s = "";
        return t;
    }
    for (;;) {
        skip_space(p);
        vec cps = {0};
        bool utf8;
        if (segment_value(p, &cps) < 0 || segment_type(p, &utf8) < 0 ||
            segment_bytes(p, &cps, utf8, &bytes) < 0)
            return NULL;
        if (at_end(p)) {
            fail(p, "a binary is not closed");
            return NULL;
        }
        uint32_t c = next(p);
        if (c == '>' && peek(p, 0) == '>') {
            next(p);
            break;
        }
        if (c != ',') {
            fail(p, "expected ',' or '>>' in a binary");
            return NULL;
        }
    }
    t->s = bytes.p ? (const char *)bytes.p : "";
    t->len = bytes.len;
    return t;
}

static term *parse_term(parser *p)
{
    if (++p->depth > TERM_MAX_DEPTH) {
        fail(p, "nested too deeply");
        return NULL;
    }
    skip_space(p);
    term *t = NULL;
    if (at_end(p)) {
        fail(p, "a term is cut short");
        goto out;
    }
    uint32_t c = peek(p, 0);
    if (c == '<' && peek(p, 1) == '<') {
        t = parse_binary(p);
    } else if (c == '[' || c == '{') {
        next(p);
        t = node(p, c == '[' ? TERM_LIST : TERM_TUPLE);
        if (t && parse_seq(p, c == '[' ? ']' : '}', 0, t) < 0)
            t = NULL;
    } else if (c == '#' && peek(p, 1) == '{') {
        next(p);
        next(p);
        t = node(p, TERM_MAP);
        if (t && parse_seq(p, '}', 1, t) < 0)
            t = NULL;
    } else if (c == '"') {
        vec cps = {0};
        if (strings(p, &cps) == 0)
            t = text_node(p, TERM_STRING, &cps);
    } else if (c == '\'') {
        vec cps = {0};
        if (quoted(p, '\'', &cps) == 0)
            t = text_node(p, TERM_ATOM, &cps);
    } else if (c == '-' || c == '+') {
        next(p);
        skip_space(p);
        if (is_digit(peek(p, 0)) && !at_end(p))
            t = parse_number(p, c == '-');
        else
            fail(p, "a sign without a number");
    } else if (is_digit(c)) {
        t = parse_number(p, 0);
    } else if (c == '$') {
        int64_t v = char_literal(p);
        if (v >= 0 && (t = node(p, TERM_INT)))
            t->i = v;
    } else if ((c >= 'a' && c <= 'z') || (c >= 0xDF && c <= 0xFF && c != 0xF7)) {
        vec cps = {0};
        while (!at_end(p) && is_name_char(peek(p, 0))) {
            uint32_t ch = next(p);
            vec_put(p->a, &cps, &ch, sizeof ch);
        }
        t = text_node(p, TERM_ATOM, &cps);
    } else if ((c >= 'A' && c <= 'Z') || c == '_') {
        fail(p, "variables are not accepted");
    } else {
        char what[64];
        if (c >= 0x20 && c < 0x7F)
            snprintf(what, sizeof what, "unexpected '%c'", (char)c);
        else
            snprintf(what, sizeof what, "unexpected character U+%04X", (unsigned)c);
        fail(p, what);
    }
out:
    p->depth--;
    return t;
}

int term_parse(arena *a, const char *text, size_t n, term ***forms, size_t *nforms, derr *e)
{
    uint32_t *cps = arena_alloc(a, sizeof *cps * (n ? n : 1));
    long m = utf8_to_cps(text, n, cps);
    if (m < 0) {
        for (size_t i = 0; i < n; i++)
            cps[i] = (unsigned char)text[i];
        m = (long)n;
    }
    parser p = {a, cps, (size_t)m, 0, 1, 0, 0, e};
    term **out = NULL;
    size_t cnt = 0, cap = 0;
    for (;;) {
        skip_space(&p);
        if (at_end(&p))
            break;
        term *t = parse_term(&p);
        if (!t)
            return -1;
        skip_space(&p);
        if (at_end(&p) || peek(&p, 0) != '.')
            return fail(&p, "expected '.' after a term");
        next(&p);
        if (cnt == cap) {
            size_t nc = cap ? cap * 2 : 16;
            term **no = arena_alloc(a, sizeof *no * nc);
            if (cnt)
                memcpy(no, out, sizeof *no * cnt);
            out = no;
            cap = nc;
        }
        out[cnt++] = t;
    }
    *forms = out;
    *nforms = cnt;
    return 0;
}

/* ---- reading terms ---- */

int term_text(arena *a, const term *t, const char **s, size_t *len)
{
    if (!t)
        return 0;
    if (t->kind == TERM_ATOM || t->kind == TERM_STRING) {
        *s = t->s;
        *len = t->len;
        return 1;
    }
    if (t->kind != TERM_BINARY)
        return 0;
    if (utf8_valid(t->s, t->len)) {
        *s = t->s;
        *len = t->len;
        return 1;
    }
    vec out = {0};
    for (size_t i = 0; i < t->len; i++) {
        char b[4];
        size_t k = utf8_encode((unsigned char)t->s[i], b);
        vec_put(a, &out, b, k);
    }
    *s = (const char *)out.p;
    *len = out.len;
    return 1;
}

int term_is_kvlist(const term *t)
{
    if (!t || t->kind != TERM_LIST)
        return 0;
    for (size_t i = 0; i < t->n; i++) {
        const term *x = t->items[i];
        if (x->kind != TERM_TUPLE || x->n != 2 ||
            (x->items[0]->kind != TERM_BINARY && x->items[0]->kind != TERM_STRING &&
             x->items[0]->kind != TERM_ATOM))
            return 0;
    }
    return 1;
}

json_t *term_to_json(arena *a, const term *t)
{
    const char *s;
    size_t len;
    switch (t->kind) {
    case TERM_INT:
        return json_integer((json_int_t)t->i);
    case TERM_FLOAT:
        return json_real(t->f);
    case TERM_ATOM:
        if (t->len == 4 && memcmp(t->s, "true", 4) == 0)
            return json_true();
        if (t->len == 5 && memcmp(t->s, "false", 5) == 0)
            return json_false();
        if ((t->len == 3 && memcmp(t->s, "nil", 3) == 0) ||
            (t->len == 9 && memcmp(t->s, "undefined", 9) == 0))
            return json_null();
        return json_stringn(t->s, t->len);
    case TERM_BINARY:
    case TERM_STRING:
        term_text(a, t, &s, &len);
        return json_stringn(s, len);
    case TERM_LIST:
        if (t->n > 0 && term_is_kvlist(t)) {
            json_t *o = json_object();
            for (size_t i = 0; i < t->n; i++) {
                term_text(a, t->items[i]->items[0], &s, &len);
                json_object_setn_new(o, s, len, term_to_json(a, t->items[i]->items[1]));
            }
            return o;
        }
        /* fall through */
    case TERM_TUPLE: {
        json_t *arr = json_array();
        for (size_t i = 0; i < t->n; i++)
            json_array_append_new(arr, term_to_json(a, t->items[i]));
        return arr;
    }
    case TERM_MAP: {
        json_t *o = json_object();
        for (size_t i = 0; i < t->n; i++) {
            const term *k = t->items[2 * i];
            json_t *v = term_to_json(a, t->items[2 * i + 1]);
            if (term_text(a, k, &s, &len)) {
                json_object_setn_new(o, s, len, v);
            } else {
                json_t *kj = term_to_json(a, k);
                char *ks = json_dumps(kj, JSON_COMPACT | JSON_ENCODE_ANY);
                json_decref(kj);
                json_object_set_new(o, ks ? ks : "?", v);
                free(ks);
            }
        }
        return o;
    }
    }
    return json_null();
}
