/*
 * spdx.c — a recursive-descent checker for SPDX license expressions.
 *
 * The expression is cut into tokens: "(", ")", and words (runs of anything
 * else that is not white space). A word is an operator only when it is
 * exactly AND, OR or WITH; "and" or "or" are reported as operators written in
 * the wrong case rather than as unknown licenses, because that is what the
 * author meant. Ids are looked up by binary search in the generated tables of
 * spdx_ids.inc, which are sorted in strcasecmp order.
 *
 *   or   := and ("OR" and)*
 *   and  := term ("AND" term)*
 *   term := "(" or ")" | simple ["WITH" exception]
 */
#include "spdx.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "utf8.h"
#include "spdx_ids.inc"

#define SPDX_MAX_DEPTH 32
#define SPDX_MAX_LEN 4096
#define SHOW 60 /* at most this many bytes of a token in a message */

enum tok { T_END, T_LP, T_RP, T_AND, T_OR, T_WITH, T_WORD };

struct parser {
    const char *s;  /* the whole expression */
    size_t pos;     /* where the next token starts (after skipping space) */
    enum tok t;     /* the current token */
    const char *tp; /* its text */
    size_t tl;      /* its length */
    int depth;
    char clipped[SHOW + 4]; /* a token made safe to show in a message */
    char *why;
    size_t whylen;
};

static int spdx_fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int spdx_fail(struct parser *p, const char *fmt, ...)
{
    if (p->why && p->whylen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->why, p->whylen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* strcasecmp order of the (key, len) against a NUL-terminated id. */
static int idcmp(const char *key, size_t len, const char *id)
{
    for (size_t i = 0; i < len; i++) {
        int a = lower((unsigned char)key[i]), b = lower((unsigned char)id[i]);
        if (a != b)
            return a - b; /* id ended (b == 0) means key is longer: key > id */
    }
    return id[len] ? -1 : 0;
}

static const char *spdx_lookup(const char *const *tab, size_t n, const char *key, size_t len)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = idcmp(key, len, tab[mid]);
        if (c == 0)
            return tab[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

bool spdx_license_known(const char *id, size_t len, const char **canonical)
{
    const char *c = spdx_lookup(spdx_licenses, sizeof spdx_licenses / sizeof spdx_licenses[0], id, len);
    if (canonical)
        *canonical = c;
    return c != NULL;
}

bool spdx_exception_known(const char *id, size_t len, const char **canonical)
{
    const char *c = spdx_lookup(spdx_exceptions, sizeof spdx_exceptions / sizeof spdx_exceptions[0], id, len);
    if (canonical)
        *canonical = c;
    return c != NULL;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* idstring = 1*(ALPHA / DIGIT / "-" / "." ) */
static bool is_idstring(const char *s, size_t n)
{
    return n > 0 && ascii_alnum_or(s, n, "-.");
}

static bool has_prefix(const char *s, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    if (n < k)
        return false;
    for (size_t i = 0; i < k; i++)
        if (lower((unsigned char)s[i]) != lower((unsigned char)prefix[i]))
            return false;
    return true;
}

static void spdx_next(struct parser *p)
{
    const char *s = p->s;
    while (is_space(s[p->pos]))
        p->pos++;
    p->tp = s + p->pos;
    if (!s[p->pos]) {
        p->t = T_END;
        p->tl = 0;
        return;
    }
    if (s[p->pos] == '(' || s[p->pos] == ')') {
        p->t = s[p->pos] == '(' ? T_LP : T_RP;
        p->tl = 1;
        p->pos++;
        return;
    }
    size_t start = p->pos;
    while (s[p->pos] && !is_space(s[p->pos]) && s[p->pos] != '(' && s[p->pos] != ')')
        p->pos++;
    p->tl = p->pos - start;
    p->t = T_WORD;
    if (p->tl == 3 && memcmp(p->tp, "AND", 3) == 0)
        p->t = T_AND;
    else if (p->tl == 2 && memcmp(p->tp, "OR", 2) == 0)
        p->t = T_OR;
    else if (p->tl == 4 && memcmp(p->tp, "WITH", 4) == 0)
        p->t = T_WITH;
}

/* A token as a message may show it: at most SHOW bytes, anything but
 * printable ASCII as '?' (messages end up in JSON, which wants UTF-8). */
static const char *spdx_clip(struct parser *p, const char *s, size_t n)
{
    return derr_clip(p->clipped, s, n, SHOW);
}

/* A word that reads as an operator in the wrong case. */
static const char *misspelt_operator(const char *w, size_t n)
{
    static const char *const ops[] = {"AND", "OR", "WITH"};
    for (size_t i = 0; i < 3; i++)
        if (strlen(ops[i]) == n && has_prefix(w, n, ops[i]))
            return ops[i];
    return NULL;
}

/* A token where an operator (or the end) was expected. */
static int stray(struct parser *p, const char *expected)
{
    if (p->t == T_WITH)
        return spdx_fail(p, "WITH must follow a single license");
    const char *op = p->t == T_WORD ? misspelt_operator(p->tp, p->tl) : NULL;
    if (op)
        return spdx_fail(p, "operator '%s' must be written in upper case (%s)", spdx_clip(p, p->tp, p->tl),
                         op);
    return spdx_fail(p, "expected %s, found '%s'", expected, spdx_clip(p, p->tp, p->tl));
}

/* "DocumentRef-x:" in front of a LicenseRef- or AdditionRef-: checks and skips it. */
static int document_ref(struct parser *p, const char **w, size_t *n)
{
    if (!has_prefix(*w, *n, "DocumentRef-"))
        return 0;
    const char *colon = memchr(*w, ':', *n);
    size_t k = strlen("DocumentRef-");
    if (!colon || !is_idstring(*w + k, (size_t)(colon - *w) - k))
        return spdx_fail(p, "'%s' is not of the form DocumentRef-<id>:LicenseRef-<id>", spdx_clip(p, *w, *n));
    *n -= (size_t)(colon + 1 - *w);
    *w = colon + 1;
    return 0;
}

/* A license term: an id with an optional '+', or a LicenseRef. */
static int simple(struct parser *p)
{
    const char *w = p->tp;
    size_t n = p->tl;
    const char *op = misspelt_operator(w, n);
    if (op)
        return spdx_fail(p, "operator '%s' must be written in upper case (%s)", spdx_clip(p, w, n), op);
    bool docref = has_prefix(w, n, "DocumentRef-");
    if (document_ref(p, &w, &n) < 0)
        return -1;
    if (has_prefix(w, n, "LicenseRef-")) {
        if (!is_idstring(w + 11, n - 11))
            return spdx_fail(p,
                             "'%s' is not a valid LicenseRef (LicenseRef- then letters, digits, '-' or '.')",
                             spdx_clip(p, p->tp, p->tl));
        return 0;
    }
    if (docref)
        return spdx_fail(p, "'%s' must name a LicenseRef after the ':'", spdx_clip(p, p->tp, p->tl));
    if (n > 1 && w[n - 1] == '+')
        n--; /* "or later": only directly after a listed id */
    if (!is_idstring(w, n))
        return spdx_fail(p, "'%s' is not a license id", spdx_clip(p, p->tp, p->tl));
    if (!spdx_license_known(w, n, NULL)) {
        if (spdx_exception_known(w, n, NULL))
            return spdx_fail(p, "'%s' is a license exception; use it after WITH", spdx_clip(p, w, n));
        return spdx_fail(p, "unknown license id '%s'", spdx_clip(p, w, n));
    }
    return 0;
}

static int exception(struct parser *p)
{
    const char *w = p->tp;
    size_t n = p->tl;
    if (p->t != T_WORD)
        return spdx_fail(p, "expected a license exception after WITH");
    if (document_ref(p, &w, &n) < 0)
        return -1;
    if (has_prefix(w, n, "AdditionRef-")) {
        if (!is_idstring(w + 12, n - 12))
            return spdx_fail(p, "'%s' is not a valid AdditionRef", spdx_clip(p, p->tp, p->tl));
        return 0;
    }
    if (!is_idstring(w, n) || !spdx_exception_known(w, n, NULL))
        return spdx_fail(p, "unknown license exception '%s'", spdx_clip(p, w, n));
    return 0;
}

static int or_expr(struct parser *p);

static int spdx_term(struct parser *p, const char *after)
{
    switch (p->t) {
    case T_LP:
        if (++p->depth > SPDX_MAX_DEPTH)
            return spdx_fail(p, "parentheses nest deeper than %d", SPDX_MAX_DEPTH);
        spdx_next(p);
        if (or_expr(p) < 0)
            return -1;
        if (p->t != T_RP) {
            if (p->t == T_END)
                return spdx_fail(p, "missing ')'");
            return stray(p, "')' or an operator");
        }
        p->depth--;
        spdx_next(p);
        if (p->t == T_WITH)
            return spdx_fail(p, "WITH must follow a single license, not a parenthesised expression");
        return 0;
    case T_WORD:
        if (simple(p) < 0)
            return -1;
        spdx_next(p);
        if (p->t == T_WITH) {
            spdx_next(p);
            if (exception(p) < 0)
                return -1;
            spdx_next(p);
        }
        return 0;
    case T_END:
        return after ? spdx_fail(p, "expected a license after %s", after)
                     : spdx_fail(p, "the license expression is empty");
    case T_RP:
        if (after)
            return spdx_fail(p, "expected a license after %s, found ')'", after);
        return spdx_fail(p, "unexpected ')'");
    default:
        if (after)
            return spdx_fail(p, "expected a license after %s, found '%s'", after, spdx_clip(p, p->tp, p->tl));
        return spdx_fail(p, "expected a license, found the operator '%s'", spdx_clip(p, p->tp, p->tl));
    }
}

static int and_expr(struct parser *p, const char *after)
{
    if (spdx_term(p, after) < 0)
        return -1;
    while (p->t == T_AND) {
        spdx_next(p);
        if (spdx_term(p, "AND") < 0)
            return -1;
    }
    return 0;
}

static int or_expr(struct parser *p)
{
    const char *after = p->depth ? "'('" : NULL;
    if (and_expr(p, after) < 0)
        return -1;
    while (p->t == T_OR) {
        spdx_next(p);
        if (and_expr(p, "OR") < 0)
            return -1;
    }
    return 0;
}

int spdx_check(const char *expr, char *why, size_t whylen)
{
    struct parser p = {.s = expr ? expr : "", .why = why, .whylen = whylen};
    if (why && whylen)
        why[0] = '\0';
    if (strnlen(p.s, SPDX_MAX_LEN + 1) > SPDX_MAX_LEN)
        return spdx_fail(&p, "the license expression is longer than %d bytes", SPDX_MAX_LEN);
    spdx_next(&p);
    if (or_expr(&p) < 0)
        return -1;
    switch (p.t) {
    case T_END:
        return 0;
    case T_RP:
        return spdx_fail(&p, "unexpected ')'");
    case T_WORD:
    case T_WITH:
        return stray(&p, "AND, OR or the end");
    default:
        return spdx_fail(&p, "unexpected '%s'", spdx_clip(&p, p.tp, p.tl));
    }
}
