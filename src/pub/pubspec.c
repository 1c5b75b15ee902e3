/*
 * pubspec.c — pubspec.yaml to JSON with libyaml's event parser, typed as
 * Dart's package:yaml types scalars, and the fields a registry reads from
 * it (see pubspec.h).
 *
 * Typing follows dart-lang/yaml lib/src/loader.dart (_loadScalar,
 * _parseByTag, _tryParseScalar, _parseNumberValue): a scalar with the
 * non-specific tag "!" — which every quoted or block scalar carries by
 * default — is a string; an explicit core tag (!!str, !!int, !!float,
 * !!bool, !!null) forces its type or is an error; a plain scalar is null,
 * a bool, an int (decimal, 0x hex, 0o octal, within int64) or a double
 * (Dart's double.parse grammar) when its first character and length say it
 * may be, and a string otherwise. libyaml parses the syntax (it is a YAML
 * 1.1 parser, but its syntax differs from 1.2 only in corners pubspecs do
 * not use); it never types anything, so none of YAML 1.1's `yes`/`on`
 * booleans or sexagesimal numbers can appear.
 */
#include "pubspec.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "version.h"

/* ---- YAML to JSON ------------------------------------------------------ */

struct yctx {
    yaml_parser_t p;
    derr *e;
    size_t nodes;
};

static int yfail(struct yctx *y, const yaml_mark_t *m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int yfail(struct yctx *y, const yaml_mark_t *m, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return derr_set(y->e, 422, "invalid", "pubspec.yaml line %zu, column %zu: %s", m->line + 1, m->column + 1,
                    msg);
}

static int next(struct yctx *y, yaml_event_t *ev)
{
    if (yaml_parser_parse(&y->p, ev))
        return 0;
    const char *why = y->p.problem ? y->p.problem : "not valid YAML";
    if (y->p.context)
        return yfail(y, &y->p.problem_mark, "%s %s", y->p.context, why);
    return yfail(y, &y->p.problem_mark, "%s", why);
}

static bool all_digits(const char *p, size_t n, int base)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)p[i];
        bool ok = base == 16 ? isxdigit(c) : base == 8 ? (c >= '0' && c <= '7') : (c >= '0' && c <= '9');
        if (!ok)
            return false;
    }
    return true;
}

/* Dart's int.tryParse(s, radix: base) for [+-]?digits within int64; false when not. */
static bool parse_int(const char *p, size_t n, int base, bool sign_ok, int64_t *out)
{
    bool neg = false;
    if (sign_ok && n && (p[0] == '+' || p[0] == '-')) {
        neg = p[0] == '-';
        p++;
        n--;
    }
    if (!all_digits(p, n, base))
        return false;
    uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, v = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)p[i];
        unsigned d = (unsigned)(isdigit(c) ? c - '0' : tolower(c) - 'a' + 10);
        if (v > (lim - d) / (unsigned)base)
            return false;
        v = v * (unsigned)base + d;
    }
    *out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    return true;
}

/* Dart's double.tryParse grammar: [+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)? (the
 * NaN/Infinity spellings cannot reach it from a YAML scalar). */
static bool parse_double(const char *p, size_t n, double *out)
{
    size_t i = 0, digits = 0;
    if (i < n && (p[i] == '+' || p[i] == '-'))
        i++;
    while (i < n && isdigit((unsigned char)p[i]))
        i++, digits++;
    if (i < n && p[i] == '.') {
        i++;
        while (i < n && isdigit((unsigned char)p[i]))
            i++, digits++;
    }
    if (digits == 0)
        return false;
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        size_t ed = 0;
        while (i < n && isdigit((unsigned char)p[i]))
            i++, ed++;
        if (ed == 0)
            return false;
    }
    if (i != n || n > 400)
        return false;
    char tmp[416];
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    errno = 0;
    *out = strtod(tmp, NULL);
    return true;
}

/* A number per _parseNumberValue, or NULL when the text is not one. *nonfinite
 * is set when it is .inf/.nan or overflows (JSON cannot carry it). */
static json_t *number(const char *s, size_t n, bool allow_int, bool allow_float, bool *nonfinite)
{
    int64_t iv;
    double dv;
    if (allow_int && n == 1)
        return s[0] >= '0' && s[0] <= '9' ? json_integer(s[0] - '0') : NULL;
    char c0 = s[0], c1 = n > 1 ? s[1] : '\0';
    if (allow_int && c0 == '0') {
        if (c1 == 'x')
            return parse_int(s + 2, n - 2, 16, false, &iv) ? json_integer(iv) : NULL;
        if (c1 == 'o')
            return parse_int(s + 2, n - 2, 8, true, &iv) ? json_integer(iv) : NULL;
    }
    if (isdigit((unsigned char)c0) || ((c0 == '+' || c0 == '-') && isdigit((unsigned char)c1))) {
        if (allow_int && parse_int(s, n, 10, true, &iv))
            return json_integer(iv);
        if (allow_float && parse_double(s, n, &dv)) {
            if (!isfinite(dv)) {
                *nonfinite = true;
                return NULL;
            }
            return json_real(dv);
        }
        return NULL;
    }
    if (!allow_float)
        return NULL;
    if ((c0 == '.' && isdigit((unsigned char)c1)) || ((c0 == '+' || c0 == '-') && c1 == '.')) {
        if (n == 5 && (strncmp(s + 1, ".inf", 4) == 0 || strncmp(s + 1, ".Inf", 4) == 0 ||
                       strncmp(s + 1, ".INF", 4) == 0)) {
            *nonfinite = true;
            return NULL;
        }
        if (parse_double(s, n, &dv)) {
            if (!isfinite(dv)) {
                *nonfinite = true;
                return NULL;
            }
            return json_real(dv);
        }
        return NULL;
    }
    if (n == 4 && c0 == '.') {
        static const char *const special[] = {".inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN"};
        for (size_t i = 0; i < sizeof special / sizeof special[0]; i++)
            if (memcmp(s, special[i], 4) == 0)
                *nonfinite = true;
    }
    return NULL;
}

static bool word_in(const char *s, size_t n, const char *const *words)
{
    for (; *words; words++)
        if (strlen(*words) == n && memcmp(s, *words, n) == 0)
            return true;
    return false;
}

static const char *const null_words[] = {"null", "Null", "NULL", "~", NULL};
static const char *const true_words[] = {"true", "True", "TRUE", NULL};
static const char *const false_words[] = {"false", "False", "FALSE", NULL};

static json_t *scalar(struct yctx *y, const yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    const char *tag = (const char *)ev->data.scalar.tag;
    if (!tag && ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        tag = "!"; /* package:yaml gives every non-plain scalar the "!" tag */
    bool nonfinite = false;
    json_t *v = NULL;
    if (tag && strcmp(tag, "!") != 0) {
        if (strcmp(tag, YAML_STR_TAG) == 0) {
            tag = "!";
        } else if (strcmp(tag, YAML_NULL_TAG) == 0) {
            if (n == 0 || word_in(s, n, null_words))
                return json_null();
            yfail(y, &ev->start_mark, "not a null for !!null");
            return NULL;
        } else if (strcmp(tag, YAML_BOOL_TAG) == 0) {
            if (word_in(s, n, true_words) || word_in(s, n, false_words))
                return json_boolean(word_in(s, n, true_words));
            yfail(y, &ev->start_mark, "not a bool for !!bool");
            return NULL;
        } else if (strcmp(tag, YAML_INT_TAG) == 0 || strcmp(tag, YAML_FLOAT_TAG) == 0) {
            bool is_int = strcmp(tag, YAML_INT_TAG) == 0;
            v = n ? number(s, n, is_int, !is_int, &nonfinite) : NULL;
            if (!v && !nonfinite) {
                yfail(y, &ev->start_mark, "not a number for %s", is_int ? "!!int" : "!!float");
                return NULL;
            }
        } else {
            yfail(y, &ev->start_mark, "the tag %.60s is not supported", tag);
            return NULL;
        }
    }
    if (!v && !nonfinite && tag) /* "!" */
        v = json_stringn(s, n);
    if (!v && !nonfinite) {
        if (n == 0)
            return json_null();
        switch (s[0]) {
        case '.':
        case '+':
        case '-':
            v = number(s, n, true, true, &nonfinite);
            break;
        case 'n':
        case 'N':
        case '~':
            if (word_in(s, n, null_words))
                return json_null();
            break;
        case 't':
        case 'T':
        case 'f':
        case 'F':
            if (word_in(s, n, true_words) || word_in(s, n, false_words))
                return json_boolean(word_in(s, n, true_words));
            break;
        default:
            if (s[0] >= '0' && s[0] <= '9')
                v = number(s, n, true, true, &nonfinite);
        }
        if (!v && !nonfinite)
            v = json_stringn(s, n);
    }
    if (nonfinite) {
        yfail(y, &ev->start_mark, "'%.*s' is not a finite number and cannot be represented in JSON; quote it",
              (int)(n > 40 ? 40 : n), s);
        return NULL;
    }
    if (!v)
        yfail(y, &ev->start_mark, "a string is not valid UTF-8");
    return v;
}

static const char *anchor_of(const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        return (const char *)ev->data.scalar.anchor;
    case YAML_SEQUENCE_START_EVENT:
        return (const char *)ev->data.sequence_start.anchor;
    case YAML_MAPPING_START_EVENT:
        return (const char *)ev->data.mapping_start.anchor;
    default:
        return NULL;
    }
}

static const char *short_text(const json_t *k)
{
    static __thread char b[64];
    if (json_is_string(k))
        snprintf(b, sizeof b, "'%.40s'", json_string_value(k));
    else if (json_is_integer(k))
        snprintf(b, sizeof b, "%" JSON_INTEGER_FORMAT, json_integer_value(k));
    else
        snprintf(b, sizeof b, "%s", json_is_null(k) ? "null" : json_is_boolean(k) ? "a bool" : "a number");
    return b;
}

/* The node that starts with ev (the caller deletes ev). NULL with y->e filled. */
static json_t *load(struct yctx *y, yaml_event_t *ev, int depth)
{
    if (++y->nodes > PUBSPEC_MAX_NODES) {
        yfail(y, &ev->start_mark, "more than %u nodes", PUBSPEC_MAX_NODES);
        return NULL;
    }
    if (depth > PUBSPEC_MAX_DEPTH) {
        yfail(y, &ev->start_mark, "nested more than %d levels deep", PUBSPEC_MAX_DEPTH);
        return NULL;
    }
    if (ev->type == YAML_ALIAS_EVENT) {
        yfail(y, &ev->start_mark, "aliases (*%.40s) are not allowed", (const char *)ev->data.alias.anchor);
        return NULL;
    }
    const char *anchor = anchor_of(ev);
    if (anchor) {
        yfail(y, &ev->start_mark, "anchors (&%.40s) are not allowed", anchor);
        return NULL;
    }
    if (ev->type == YAML_SCALAR_EVENT)
        return scalar(y, ev);

    bool seq = ev->type == YAML_SEQUENCE_START_EVENT;
    if (!seq && ev->type != YAML_MAPPING_START_EVENT) {
        yfail(y, &ev->start_mark, "unexpected YAML event");
        return NULL;
    }
    const char *tag = (const char *)(seq ? ev->data.sequence_start.tag : ev->data.mapping_start.tag);
    if (tag && strcmp(tag, "!") != 0 && strcmp(tag, seq ? YAML_SEQ_TAG : YAML_MAP_TAG) != 0) {
        yfail(y, &ev->start_mark, "the tag %.60s is not valid for a %s", tag, seq ? "sequence" : "mapping");
        return NULL;
    }
    json_t *out = seq ? json_array() : json_object();
    for (;;) {
        yaml_event_t kev;
        if (next(y, &kev) < 0)
            goto fail;
        if (kev.type == (seq ? YAML_SEQUENCE_END_EVENT : YAML_MAPPING_END_EVENT)) {
            yaml_event_delete(&kev);
            return out;
        }
        yaml_mark_t kmark = kev.start_mark;
        json_t *k = load(y, &kev, depth + 1);
        yaml_event_delete(&kev);
        if (!k)
            goto fail;
        if (seq) {
            json_array_append_new(out, k);
            continue;
        }
        if (!json_is_string(k)) {
            yfail(y, &kmark, "the key %s is not a string; JSON keys must be strings (quote it)",
                  short_text(k));
            json_decref(k);
            goto fail;
        }
        yaml_event_t vev;
        if (next(y, &vev) < 0) {
            json_decref(k);
            goto fail;
        }
        json_t *v = load(y, &vev, depth + 1);
        yaml_event_delete(&vev);
        if (!v) {
            json_decref(k);
            goto fail;
        }
        const char *ks = json_string_value(k);
        size_t kn = json_string_length(k);
        if (memchr(ks, '\0', kn)) {
            /* Legal YAML ("\0"), but many JSON readers refuse a NUL in a key. */
            yfail(y, &kmark, "a key holds a NUL character");
            json_decref(k);
            json_decref(v);
            goto fail;
        }
        if (json_object_getn(out, ks, kn)) {
            yfail(y, &kmark, "the key %s appears twice in one mapping", short_text(k));
            json_decref(k);
            json_decref(v);
            goto fail;
        }
        json_object_setn_new(out, ks, kn, v);
        json_decref(k);
    }
fail:
    json_decref(out);
    return NULL;
}

json_t *pub_yaml_to_json(const char *text, size_t len, derr *e)
{
    if (len > PUBSPEC_MAX_BYTES) {
        derr_set(e, 422, "invalid", "pubspec.yaml is larger than %u KiB", PUBSPEC_MAX_BYTES >> 10);
        return NULL;
    }
    struct yctx y = {.e = e};
    if (!yaml_parser_initialize(&y.p)) {
        derr_set(e, 500, "internal", "cannot set up the YAML parser");
        return NULL;
    }
    yaml_parser_set_input_string(&y.p, (const unsigned char *)text, len);
    yaml_parser_set_encoding(&y.p, YAML_UTF8_ENCODING);
    json_t *doc = NULL;
    yaml_event_t ev;
    int ndocs = 0;
    bool done = false;
    while (!done) {
        if (next(&y, &ev) < 0)
            goto fail;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++ndocs > 1) {
                yfail(&y, &ev.start_mark, "only one YAML document is allowed");
                yaml_event_delete(&ev);
                goto fail;
            }
            break;
        case YAML_SCALAR_EVENT:
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
        case YAML_ALIAS_EVENT:
            doc = load(&y, &ev, 1);
            if (!doc) {
                yaml_event_delete(&ev);
                goto fail;
            }
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&y.p);
    if (!doc)
        doc = json_null(); /* an empty stream is an empty document: null */
    return doc;
fail:
    json_decref(doc);
    yaml_parser_delete(&y.p);
    return NULL;
}

/* ---- JSON, as ASCII ---------------------------------------------------- */

static int write_string(buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (buf_puts(b, "\"") < 0)
        return -1;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        char esc[16];
        size_t elen = 0;
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            elen = 2;
            i++;
        } else if (c < 0x20) {
            const char *named = c == '\n'   ? "\\n"
                                : c == '\r' ? "\\r"
                                : c == '\t' ? "\\t"
                                : c == '\b' ? "\\b"
                                : c == '\f' ? "\\f"
                                            : NULL;
            if (named) {
                memcpy(esc, named, 2);
                elen = 2;
            } else {
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
                elen = 6;
            }
            i++;
        } else if (c < 0x80) {
            esc[0] = (char)c;
            elen = 1;
            i++;
        } else {
            /* jansson holds valid UTF-8 only; decode one code point. */
            uint32_t cp;
            size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
            if (i + len > n)
                return -1;
            cp = c & (len == 4 ? 0x07 : len == 3 ? 0x0F : 0x1F);
            for (size_t k = 1; k < len; k++)
                cp = (cp << 6) | ((unsigned char)s[i + k] & 0x3F);
            i += len;
            uint32_t units[2];
            int nu = 0;
            if (cp >= 0x10000) {
                cp -= 0x10000;
                units[nu++] = 0xD800 + (cp >> 10);
                units[nu++] = 0xDC00 + (cp & 0x3FF);
            } else {
                units[nu++] = cp;
            }
            for (int u = 0; u < nu; u++) {
                esc[elen++] = '\\';
                esc[elen++] = 'u';
                for (int sh = 12; sh >= 0; sh -= 4)
                    esc[elen++] = hex[(units[u] >> sh) & 15];
            }
        }
        if (buf_append(b, esc, elen) < 0)
            return -1;
    }
    return buf_puts(b, "\"");
}

/* A double as Dart's double.toString spells it: the shortest digits that read
 * back the same, fixed notation for 1e-7 < |d| < 1e21 (".0" on integral values),
 * exponent notation otherwise ("1e+21", "1.5e-7"). */
static int write_double(buf *b, double d)
{
    if (!isfinite(d))
        return -1;
    if (d == 0)
        return buf_puts(b, signbit(d) ? "-0.0" : "0.0");
    char t[48];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(t, sizeof t, "%.*e", prec - 1, d);
        if (strtod(t, NULL) == d)
            break;
    }
    /* t is "[-]D[.DDD]e[+-]XX" */
    const char *p = t;
    bool neg = *p == '-';
    if (neg)
        p++;
    char digits[24];
    int k = 0;
    for (; *p && *p != 'e'; p++)
        if (*p != '.' && k < 20)
            digits[k++] = *p;
    while (k > 1 && digits[k - 1] == '0')
        k--;
    long ex = *p == 'e' ? strtol(p + 1, NULL, 10) : 0;
    long n = ex + 1; /* the decimal point sits after n digits */
    char o[64];
    size_t w = 0;
    if (neg)
        o[w++] = '-';
    if (k <= n && n <= 21) {
        memcpy(o + w, digits, (size_t)k);
        w += (size_t)k;
        for (long z = k; z < n; z++)
            o[w++] = '0';
        memcpy(o + w, ".0", 2);
        w += 2;
    } else if (0 < n && n <= 21) {
        memcpy(o + w, digits, (size_t)n);
        w += (size_t)n;
        o[w++] = '.';
        memcpy(o + w, digits + n, (size_t)(k - n));
        w += (size_t)(k - n);
    } else if (-6 < n && n <= 0) {
        o[w++] = '0';
        o[w++] = '.';
        for (long z = 0; z < -n; z++)
            o[w++] = '0';
        memcpy(o + w, digits, (size_t)k);
        w += (size_t)k;
    } else {
        o[w++] = digits[0];
        if (k > 1) {
            o[w++] = '.';
            memcpy(o + w, digits + 1, (size_t)(k - 1));
            w += (size_t)(k - 1);
        }
        w += (size_t)snprintf(o + w, sizeof o - w, "e%c%ld", n - 1 >= 0 ? '+' : '-', labs(n - 1));
    }
    return buf_append(b, o, w);
}

int pub_json_write(buf *b, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        if (buf_puts(b, "{") < 0)
            return -1;
        const char *k;
        size_t kn;
        json_t *x;
        bool first = true;
        json_object_keylen_foreach((json_t *)v, k, kn, x)
        {
            if ((!first && buf_puts(b, ",") < 0) || write_string(b, k, kn) < 0 || buf_puts(b, ":") < 0 ||
                pub_json_write(b, x) < 0)
                return -1;
            first = false;
        }
        return buf_puts(b, "}");
    }
    case JSON_ARRAY: {
        if (buf_puts(b, "[") < 0)
            return -1;
        for (size_t i = 0; i < json_array_size(v); i++)
            if ((i && buf_puts(b, ",") < 0) || pub_json_write(b, json_array_get(v, i)) < 0)
                return -1;
        return buf_puts(b, "]");
    }
    case JSON_STRING:
        return write_string(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    case JSON_REAL:
        return write_double(b, json_real_value(v));
    case JSON_TRUE:
        return buf_puts(b, "true");
    case JSON_FALSE:
        return buf_puts(b, "false");
    case JSON_NULL:
        return buf_puts(b, "null");
    }
    return -1;
}

const char *pub_json_text(arena *a, const json_t *v)
{
    buf b;
    buf_init(&b, 16u << 20);
    const char *out = pub_json_write(&b, v) == 0 ? arena_strndup(a, b.data ? b.data : "", b.len) : NULL;
    buf_free(&b);
    return out;
}

/* ---- the pubspec's fields ---------------------------------------------- */

/* Dart's reserved words and built-in identifiers, which cannot name a library
 * to import (pub's own name validator refuses them too). `async`, `base`,
 * `when` and the like stay allowed, as in pub. */
static const char *const reserved[] = {
    "abstract", "as",        "assert",     "await",    "break", "case",      "catch",   "class",    "const",
    "continue", "covariant", "default",    "deferred", "do",    "dynamic",   "else",    "enum",     "export",
    "extends",  "extension", "external",   "factory",  "false", "final",     "finally", "for",      "get",
    "hide",     "if",        "implements", "import",   "in",    "interface", "is",      "late",     "library",
    "mixin",    "new",       "null",       "of",       "on",    "operator",  "part",    "required", "rethrow",
    "return",   "set",       "show",       "static",   "super", "switch",    "sync",    "this",     "throw",
    "true",     "try",       "typedef",    "var",      "void",  "while",     "with",    "yield",    NULL};

bool pub_name_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > PUB_NAME_MAX)
        return false;
    if (!(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
            return false;
    for (const char *const *w = reserved; *w; w++)
        if (strcmp(*w, s) == 0)
            return false;
    return true;
}

static const char *opt_str(json_t *doc, const char *key)
{
    json_t *v = json_object_get(doc, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A topic usable as a search keyword (pub.dev's topic shape, lower case). */
static bool topic_ok(const char *t)
{
    size_t n = strlen(t);
    if (n < 2 || n > 32 || !(t[0] >= 'a' && t[0] <= 'z'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= '0' && t[i] <= '9') || t[i] == '-'))
            return false;
    return t[n - 1] != '-';
}

static int read_deps(arena *a, json_t *doc, const char *field, const char *kind, dep_row *deps, int *n,
                     derr *e)
{
    json_t *m = json_object_get(doc, field);
    if (!m || json_is_null(m))
        return 0;
    if (!json_is_object(m))
        return derr_set(e, 422, "invalid", "pubspec.yaml: %s must be a map of package names", field);
    const char *name;
    json_t *v;
    json_object_foreach(m, name, v)
    {
        if (*n >= PUBSPEC_MAX_DEPS)
            return derr_set(e, 422, "invalid", "pubspec.yaml: more than %d dependencies", PUBSPEC_MAX_DEPS);
        if (!name[0] || strlen(name) > PUB_NAME_MAX)
            return derr_set(e, 422, "invalid", "pubspec.yaml: %s: '%.64s' is not a package name", field,
                            name);
        for (const char *c = name; *c; c++)
            if (!(isalnum((unsigned char)*c) || *c == '_'))
                return derr_set(e, 422, "invalid", "pubspec.yaml: %s: '%.64s' is not a package name", field,
                                name);
        const char *constraint = "any", *extra = NULL;
        json_t *ver = NULL;
        if (json_is_string(v)) {
            ver = v;
        } else if (json_is_object(v)) {
            ver = json_object_get(v, "version");
            if (ver && !json_is_string(ver) && !json_is_null(ver))
                return derr_set(e, 422, "invalid",
                                "pubspec.yaml: %s.%.64s.version must be a string such as ^1.2.0", field,
                                name);
            extra = pub_json_text(a, v);
        } else if (!json_is_null(v)) {
            return derr_set(
                e, 422, "invalid",
                "pubspec.yaml: %s.%.64s must be a version constraint (a string such as ^1.2.0) or a map",
                field, name);
        }
        if (ver && json_is_string(ver)) {
            constraint = arena_strdup(a, json_string_value(ver));
            derr pe;
            if (!semver_req_parse(a, SEMVER_PUB, constraint, &pe))
                return derr_set(e, 422, "invalid",
                                "pubspec.yaml: %s.%.64s: '%.60s' is not a version constraint (%s)", field,
                                name, constraint, pe.message);
        }
        deps[*n] = (dep_row){arena_strdup(a, name), constraint, kind, extra};
        (*n)++;
    }
    return 0;
}

static const char *string_array(arena *a, json_t *arr, bool (*keep)(const char *), int max)
{
    json_t *o = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (json_is_string(v) && (!keep || keep(json_string_value(v))) && (int)json_array_size(o) < max)
            json_array_append(o, v);
    }
    const char *t = pub_json_text(a, o);
    json_decref(o);
    return t ? t : "[]";
}

int pubspec_parse(arena *a, const char *text, size_t len, pubspec *out, derr *e)
{
    memset(out, 0, sizeof *out);
    json_t *doc = pub_yaml_to_json(text, len, e);
    if (!doc)
        return -1;
    arena_on_free(a, (void (*)(void *))json_decref, doc);
    if (!json_is_object(doc))
        return derr_set(e, 422, "invalid", "pubspec.yaml must be a YAML map (name: ..., version: ...)");
    out->json = pub_json_text(a, doc);
    if (!out->json)
        return derr_set(e, 422, "invalid", "pubspec.yaml cannot be written as JSON");

    json_t *name = json_object_get(doc, "name");
    if (!name)
        return derr_set(e, 422, "invalid", "pubspec.yaml: the field 'name' is missing");
    if (!json_is_string(name) || !pub_name_valid(json_string_value(name)))
        return derr_set(
            e, 422, "invalid",
            "pubspec.yaml: name: %s%.64s%s is not a valid package name (letters, digits and '_', not "
            "starting with a digit, at most %d characters, not a Dart reserved word)",
            json_is_string(name) ? "'" : "", json_is_string(name) ? json_string_value(name) : "a non-string",
            json_is_string(name) ? "'" : "", PUB_NAME_MAX);
    out->name = arena_strdup(a, json_string_value(name));

    json_t *ver = json_object_get(doc, "version");
    if (!ver)
        return derr_set(e, 422, "invalid", "pubspec.yaml: the field 'version' is missing");
    if (!json_is_string(ver)) {
        const char *shown = pub_json_text(a, ver);
        return derr_set(e, 422, "invalid",
                        "pubspec.yaml: version: %.40s is read as a %s, not a string; write a version such as "
                        "1.0.0 (quote it if needed)",
                        shown ? shown : "?", json_is_number(ver) ? "number" : "non-string");
    }
    const char *vs = json_string_value(ver);
    const char *canon;
    if (strlen(vs) > PUB_VERSION_MAX || pub_version_parse(a, vs, &out->v, &canon) < 0)
        return derr_set(e, 422, "invalid",
                        "pubspec.yaml: version: '%.70s' is not a version (MAJOR.MINOR.PATCH with an optional "
                        "-prerelease and +build, at most %d characters)",
                        vs, PUB_VERSION_MAX);
    if (strcmp(canon, vs) != 0)
        return derr_set(e, 422, "invalid",
                        "pubspec.yaml: version: '%.70s' is not in canonical form; use '%.70s'", vs, canon);
    out->version = arena_strdup(a, vs);

    out->description = arena_strdup(a, opt_str(doc, "description"));
    out->homepage = arena_strdup(a, opt_str(doc, "homepage"));
    out->repository = arena_strdup(a, opt_str(doc, "repository"));
    out->documentation = arena_strdup(a, opt_str(doc, "documentation"));

    json_t *authors = json_array();
    json_t *au = json_object_get(doc, "authors");
    if (json_is_string(json_object_get(doc, "author")))
        json_array_append(authors, json_object_get(doc, "author"));
    if (json_is_array(au))
        json_array_extend(authors, au);
    out->authors = string_array(a, authors, NULL, 50);
    json_decref(authors);
    json_t *topics = json_object_get(doc, "topics");
    out->topics = json_is_array(topics) ? string_array(a, topics, topic_ok, 10) : "[]";

    json_t *env = json_object_get(doc, "environment");
    if (env && !json_is_null(env)) {
        if (!json_is_object(env))
            return derr_set(e, 422, "invalid", "pubspec.yaml: environment must be a map (sdk: ...)");
        const char *k;
        json_t *c;
        json_object_foreach(env, k, c)
        {
            if (json_is_null(c))
                continue;
            derr pe;
            if (!json_is_string(c) || !semver_req_parse(a, SEMVER_PUB, json_string_value(c), &pe))
                return derr_set(
                    e, 422, "invalid",
                    "pubspec.yaml: environment.%.32s must be a version constraint such as '^3.0.0'", k);
        }
    }

    out->deps = arena_zalloc(a, sizeof(dep_row) * PUBSPEC_MAX_DEPS);
    if (read_deps(a, doc, "dependencies", "normal", out->deps, &out->ndeps, e) < 0 ||
        read_deps(a, doc, "dev_dependencies", "dev", out->deps, &out->ndeps, e) < 0)
        return -1;
    return 0;
}
