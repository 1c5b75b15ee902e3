/*
 * version.c — Dart versions: parsing with pub_semver's grammar, the
 * canonical form, and compareTo/prioritize order (see version.h). Facts from
 * dart-lang/tools pkgs/pub_semver lib/src/version.dart (Version.parse,
 * _splitParts, compareTo, prioritize, canonicalizedVersion), as summarized
 * in the pub fact sheet §6.
 */
#include "version.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/buf.h"

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_ident(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

/* A MAJOR/MINOR/PATCH part: \d+ (leading zeros allowed) that fits Dart's int. */
static int num_part(const char *p, size_t n, uint64_t *out)
{
    if (n == 0)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(p[i]))
            return -1;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > ((uint64_t)INT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* Dart's int.tryParse on one identifier: -?\d+ within int64 is a number. */
static bool ident_num(const char *p, size_t n, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (n && p[0] == '-') {
        neg = true;
        i = 1;
    }
    if (i == n)
        return false;
    uint64_t v = 0;
    uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        if (!is_digit(p[i]))
            return false;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (lim - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    return true;
}

/* Checks [p, p+n) as dot-separated [0-9A-Za-z-]+ identifiers and appends their
 * canonical spelling to b. */
static int idents(const char *p, size_t n, buf *b)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && p[i] != '.') {
            if (!is_ident(p[i]))
                return -1;
            continue;
        }
        size_t len = i - start;
        if (len == 0)
            return -1;
        if (start)
            buf_puts(b, ".");
        int64_t v;
        if (ident_num(p + start, len, &v))
            buf_printf(b, "%" PRId64, v);
        else
            buf_append(b, p + start, len);
        start = i + 1;
    }
    return 0;
}

int pub_version_parse(arena *a, const char *s, semver *out, const char **canon)
{
    if (!s)
        return -1;
    size_t n = strnlen(s, SEMVER_MAX_LEN + 1);
    if (n == 0 || n > SEMVER_MAX_LEN)
        return -1;
    const char *plus = memchr(s, '+', n);
    size_t head = plus ? (size_t)(plus - s) : n;
    const char *dash = memchr(s, '-', head);
    size_t core = dash ? (size_t)(dash - s) : head;

    uint64_t part[3];
    int k = 0;
    size_t start = 0;
    for (size_t i = 0; i <= core; i++) {
        if (i < core && s[i] != '.')
            continue;
        if (k == 3 || num_part(s + start, i - start, &part[k]) < 0)
            return -1;
        k++;
        start = i + 1;
    }
    if (k != 3)
        return -1;

    buf b;
    buf_init(&b, 0);
    buf_printf(&b, "%" PRIu64 ".%" PRIu64 ".%" PRIu64, part[0], part[1], part[2]);
    int rc = 0;
    if (dash) {
        buf_puts(&b, "-");
        rc = idents(dash + 1, head - core - 1, &b);
    }
    if (rc == 0 && plus) {
        buf_puts(&b, "+");
        rc = idents(plus + 1, n - head - 1, &b);
    }
    if (rc == 0) {
        out->major = part[0];
        out->minor = part[1];
        out->patch = part[2];
        out->pre = dash ? arena_strndup(a, dash + 1, head - core - 1) : NULL;
        out->build = plus ? arena_strndup(a, plus + 1, n - head - 1) : NULL;
        if (canon)
            *canon = arena_strndup(a, b.data, b.len);
    }
    buf_free(&b);
    return rc;
}

static int cmp_i64(int64_t x, int64_t y)
{
    return x < y ? -1 : x > y;
}

/* pub_semver's _compareLists over dot-separated identifier lists (NULL or ""
 * is the empty list): a missing part first, numbers numerically and before
 * strings, strings by code unit (bytes, since identifiers are ASCII). */
static int cmp_list(const char *x, const char *y)
{
    x = x ? x : "";
    y = y ? y : "";
    for (;;) {
        if (!*x || !*y)
            return *x ? 1 : *y ? -1 : 0;
        size_t nx = strcspn(x, "."), ny = strcspn(y, ".");
        int64_t vx, vy;
        bool dx = ident_num(x, nx, &vx), dy = ident_num(y, ny, &vy);
        int c;
        if (dx && dy) {
            c = cmp_i64(vx, vy);
        } else if (dx != dy) {
            c = dx ? -1 : 1;
        } else {
            c = memcmp(x, y, nx < ny ? nx : ny);
            if (c == 0)
                c = nx < ny ? -1 : nx > ny;
        }
        if (c)
            return c < 0 ? -1 : 1;
        x += nx;
        y += ny;
        if (*x == '.')
            x++;
        if (*y == '.')
            y++;
    }
}

static int cmp_u64(uint64_t x, uint64_t y)
{
    return x < y ? -1 : x > y;
}

static bool nonempty(const char *s)
{
    return s && *s;
}

int pub_version_cmp(const semver *x, const semver *y)
{
    int c = cmp_u64(x->major, y->major);
    if (!c)
        c = cmp_u64(x->minor, y->minor);
    if (!c)
        c = cmp_u64(x->patch, y->patch);
    if (c)
        return c;
    bool px = nonempty(x->pre), py = nonempty(y->pre);
    if (px != py)
        return px ? -1 : 1;
    c = cmp_list(x->pre, y->pre);
    if (c)
        return c;
    bool bx = nonempty(x->build), by = nonempty(y->build);
    if (bx != by)
        return bx ? 1 : -1;
    return cmp_list(x->build, y->build);
}

int pub_version_prio(const semver *x, const semver *y)
{
    bool px = nonempty(x->pre), py = nonempty(y->pre);
    if (px != py)
        return px ? -1 : 1;
    return pub_version_cmp(x, y);
}
