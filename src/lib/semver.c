/*
 * semver.c — SemVer 2.0.0 versions and requirements in four dialects.
 *
 * Versions follow the BNF of https://semver.org/spec/v2.0.0.html (§2, §9,
 * §10) and its precedence rules (§11). Requirements are parsed by one small
 * hand-written scanner per dialect into a union of comparator sets:
 *
 *  - npm and native: node-semver's range grammar (its README "Range Grammar"
 *    and "Advanced Range Syntax" sections): x-ranges, partial versions,
 *    tilde, caret, hyphen ranges, "||". Expansions follow node-semver's
 *    desugaring, including the "-0" upper bounds (^1.2.3 is >=1.2.3
 *    <2.0.0-0) and the lower bounds that admit pre-releases of their own
 *    major.minor.patch when include_prerelease is set.
 *  - hex: Elixir's Version requirements (hexdocs.pm/elixir/Version.html):
 *    ==, !=, >, >=, <, <=, ~> joined by "and" / "or"; ~> with two parts
 *    bumps the major, with three the minor, and its upper bound never
 *    admits pre-releases of the bound (< X.Y.0-0). Elixir folds "and" and
 *    "or" without precedence (and the fold changed direction between
 *    releases); we read "and" as binding tighter than "or", which agrees
 *    with Elixir for every requirement that uses only one of the two.
 *  - pub: pub_semver's VersionConstraint.parse: "any", "^V" alone, or bare
 *    versions and comparisons intersected into one range; an exclusive
 *    maximum that is not a pre-release becomes its first pre-release
 *    (<2.0.0 means <2.0.0-0) unless the minimum is a pre-release of the
 *    same version (pub_semver's VersionRange constructor); ^0.x.y bumps the
 *    minor (Version.nextBreaking).
 *
 * Deliberate strictness everywhere: numeric parts never have leading zeros
 * and must fit uint64 (pub would accept "01.2.3"), and npm partials such as
 * "1.2.x-beta" that carry a pre-release on an x-range are refused. Build
 * metadata never takes part in comparisons (pub_semver orders by it).
 */
#include "semver.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"

/* ---- characters and numbers ---------------------------------------- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_ident(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool has_pre(const semver *v)
{
    return v->pre && v->pre[0];
}

/* A numeric part: "0" or [1-9][0-9]* that fits uint64. */
static int parse_num(const char *p, size_t n, uint64_t *out, const char **why)
{
    if (n == 0) {
        *why = "a numeric part is empty";
        return -1;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(p[i])) {
            *why = "a numeric part has a character that is not a digit";
            return -1;
        }
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            *why = "a numeric part is too large";
            return -1;
        }
        v = v * 10 + d;
    }
    if (n > 1 && p[0] == '0') {
        *why = "a numeric part has a leading zero";
        return -1;
    }
    *out = v;
    return 0;
}

/* Dot-separated identifiers (SemVer §9, §10): none empty, [0-9A-Za-z-] only,
 * and for a pre-release no numeric identifier with a leading zero. */
static int check_idents(const char *p, size_t n, bool pre, const char **why)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && p[i] != '.') {
            if (!is_ident(p[i])) {
                *why = pre ? "a pre-release may hold only [0-9A-Za-z-] and dots"
                           : "build metadata may hold only [0-9A-Za-z-] and dots";
                return -1;
            }
            continue;
        }
        size_t len = i - start;
        if (len == 0) {
            *why = pre ? "a pre-release identifier is empty" : "a build identifier is empty";
            return -1;
        }
        if (pre && len > 1 && p[start] == '0') {
            bool numeric = true;
            for (size_t k = start; k < i; k++)
                numeric = numeric && is_digit(p[k]);
            if (numeric) {
                *why = "a numeric pre-release identifier has a leading zero";
                return -1;
            }
        }
        start = i + 1;
    }
    return 0;
}

/* Splits [s, s+n) at the first '+' (build) and then the first '-' (pre). */
static void split_qualifiers(const char *s, size_t n, size_t *core, const char **pre, size_t *npre,
                             const char **build, size_t *nbuild)
{
    const char *plus = memchr(s, '+', n);
    size_t head = plus ? (size_t)(plus - s) : n;
    const char *dash = memchr(s, '-', head);
    *core = dash ? (size_t)(dash - s) : head;
    *pre = dash ? dash + 1 : NULL;
    *npre = dash ? head - *core - 1 : 0;
    *build = plus ? plus + 1 : NULL;
    *nbuild = plus ? n - head - 1 : 0;
}

/* A version from [s, s+n). With `two_ok`, MAJOR.MINOR[-pre][+build] is also
 * accepted (Elixir's ~> operand) and *nparts says 2 or 3. */
static int parse_span(arena *a, const char *s, size_t n, bool two_ok, semver *out, int *nparts,
                      const char **why)
{
    if (n == 0) {
        *why = "a version is missing";
        return -1;
    }
    if (n > SEMVER_MAX_LEN) {
        *why = "a version is longer than 256 bytes";
        return -1;
    }
    size_t core, npre, nbuild;
    const char *pre, *build;
    split_qualifiers(s, n, &core, &pre, &npre, &build, &nbuild);

    uint64_t part[3] = {0, 0, 0};
    int k = 0;
    size_t start = 0;
    for (size_t i = 0; i <= core; i++) {
        if (i < core && s[i] != '.')
            continue;
        if (k == 3) {
            *why = "a version has more than three numeric parts";
            return -1;
        }
        if (parse_num(s + start, i - start, &part[k], why) < 0)
            return -1;
        k++;
        start = i + 1;
    }
    if (k < 2 || (k == 2 && !two_ok)) {
        *why = two_ok ? "~> needs MAJOR.MINOR or MAJOR.MINOR.PATCH" : "a version needs MAJOR.MINOR.PATCH";
        return -1;
    }
    if (pre && check_idents(pre, npre, true, why) < 0)
        return -1;
    if (build && check_idents(build, nbuild, false, why) < 0)
        return -1;
    out->major = part[0];
    out->minor = part[1];
    out->patch = part[2];
    out->pre = pre ? arena_strndup(a, pre, npre) : NULL;
    out->build = build ? arena_strndup(a, build, nbuild) : NULL;
    if (nparts)
        *nparts = k;
    return 0;
}

/* ---- versions -------------------------------------------------------- */

int semver_parse(arena *a, const char *s, semver *out)
{
    const char *why = NULL;
    if (!s)
        return -1;
    size_t n = strnlen(s, SEMVER_MAX_LEN + 1);
    if (n > SEMVER_MAX_LEN)
        return -1;
    semver v;
    if (parse_span(a, s, n, false, &v, NULL, &why) < 0)
        return -1;
    *out = v;
    return 0;
}

static int cmp_u64(uint64_t x, uint64_t y)
{
    return x < y ? -1 : x > y;
}

/* One identifier [p, p+n): numeric when all digits. */
static bool all_digits(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_digit(p[i]))
            return false;
    return true;
}

/* Pre-release precedence (§11.4): identifier by identifier; numeric ones
 * numerically (no leading zeros, so by length first), alphanumeric ones by
 * ASCII order, numeric before alphanumeric, and a longer list wins a tie. */
static int cmp_pre(const char *x, const char *y)
{
    for (;;) {
        size_t nx = strcspn(x, "."), ny = strcspn(y, ".");
        bool dx = all_digits(x, nx), dy = all_digits(y, ny);
        int c;
        if (dx && dy) {
            c = nx != ny ? (nx < ny ? -1 : 1) : memcmp(x, y, nx);
        } else if (dx != dy) {
            c = dx ? -1 : 1;
        } else {
            c = memcmp(x, y, nx < ny ? nx : ny);
            if (c == 0)
                c = cmp_u64(nx, ny);
        }
        if (c)
            return c < 0 ? -1 : 1;
        x += nx;
        y += ny;
        if (!*x || !*y)
            return *x ? 1 : *y ? -1 : 0;
        x++;
        y++;
    }
}

static int cmp_tuple(const semver *x, const semver *y)
{
    int c = cmp_u64(x->major, y->major);
    if (!c)
        c = cmp_u64(x->minor, y->minor);
    if (!c)
        c = cmp_u64(x->patch, y->patch);
    return c;
}

int semver_cmp(const semver *x, const semver *y)
{
    int c = cmp_tuple(x, y);
    if (c)
        return c;
    bool px = has_pre(x), py = has_pre(y);
    if (px != py)
        return px ? -1 : 1; /* §11.3: a pre-release is lower than the normal version */
    return px ? cmp_pre(x->pre, y->pre) : 0;
}

char *semver_str(arena *a, const semver *v)
{
    return arena_printf(a, "%" PRIu64 ".%" PRIu64 ".%" PRIu64 "%s%s%s%s", v->major, v->minor, v->patch,
                        has_pre(v) ? "-" : "", has_pre(v) ? v->pre : "", v->build && *v->build ? "+" : "",
                        v->build && *v->build ? v->build : "");
}

bool semver_is_prerelease(const semver *v)
{
    return has_pre(v);
}

/* ---- requirements: representation ---------------------------------- */

enum op { OP_EQ, OP_NE, OP_GT, OP_GE, OP_LT, OP_LE };

typedef struct comparator {
    enum op op;
    bool written_pre; /* the pre-release was written by the user, not added by us */
    bool floor;       /* npm: a derived lower bound that node-semver writes as X.Y.Z-0 under
                         includePrerelease, admitting pre-releases of X.Y.Z */
    bool gate;        /* hex: Elixir's >, >=, ~> with a non-pre-release operand refuse a
                         pre-release version unless allow_pre */
    semver v;
} comparator;

typedef struct cset {
    comparator *c;
    int n;
} cset;

struct semver_req {
    enum semver_dialect d;
    cset *sets;
    int nsets;
    const char *text;
    bool mentions_pre;
};

/* Comparators one written term may expand to, at most. */
#define TERM_EXPANSION 2

/* The parser builds the current set in scratch space and copies it into the
 * arena, exactly sized, when the set is complete. */
typedef struct rparser {
    arena *a;
    derr *e;
    semver_req *r;
    cset sets[SEMVER_REQ_MAX_SETS];
    comparator cur[SEMVER_REQ_MAX_TERMS * TERM_EXPANSION];
    int ncur;
    bool open; /* a set is being built in cur */
    int terms; /* written terms in the current set */
} rparser;

static int rfail(rparser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int rfail(rparser *p, const char *fmt, ...)
{
    char why[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return derr_set(p->e, 422, "invalid", "invalid requirement \"%.64s%s\": %s", p->r->text,
                    strlen(p->r->text) > 64 ? "..." : "", why);
}

/* Moves the set being built into p->sets. */
static void end_set(rparser *p)
{
    if (!p->open)
        return;
    cset *set = &p->sets[p->r->nsets++];
    set->n = p->ncur;
    set->c = p->ncur ? arena_memdup(p->a, p->cur, sizeof *p->cur * (size_t)p->ncur) : NULL;
    p->open = false;
}

static int new_set(rparser *p)
{
    end_set(p);
    if (p->r->nsets == SEMVER_REQ_MAX_SETS)
        return rfail(p, "more than %d alternatives", SEMVER_REQ_MAX_SETS);
    p->open = true;
    p->ncur = 0;
    p->terms = 0;
    return 0;
}

/* Counts one written term against the cap. */
static int count_term(rparser *p)
{
    if (++p->terms > SEMVER_REQ_MAX_TERMS)
        return rfail(p, "more than %d terms in one alternative", SEMVER_REQ_MAX_TERMS);
    return 0;
}

static comparator *add_cmp(rparser *p, enum op op, uint64_t M, uint64_t m, uint64_t pt, const char *pre)
{
    comparator *c = &p->cur[p->ncur++];
    memset(c, 0, sizeof *c);
    c->op = op;
    c->v.major = M;
    c->v.minor = m;
    c->v.patch = pt;
    c->v.pre = pre;
    return c;
}

/* A comparator on a version the user wrote. */
static comparator *add_written(rparser *p, enum op op, const semver *v)
{
    comparator *c = add_cmp(p, op, v->major, v->minor, v->patch, v->pre);
    c->v.build = v->build;
    c->written_pre = has_pre(v);
    if (c->written_pre)
        p->r->mentions_pre = true;
    return c;
}

/* Nothing matches: node-semver's "<0.0.0-0". */
static void add_none(rparser *p)
{
    add_cmp(p, OP_LT, 0, 0, 0, "0");
}

/* A derived lower bound >=M.m.pt, with node's includePrerelease "-0" when `floor`. */
static void add_lower(rparser *p, uint64_t M, uint64_t m, uint64_t pt, bool floor)
{
    add_cmp(p, OP_GE, M, m, pt, NULL)->floor = floor;
}

/* Derived upper bounds <X-0. An increment that would overflow has no bound. */
static void add_upper_major(rparser *p, uint64_t M)
{
    if (M < UINT64_MAX)
        add_cmp(p, OP_LT, M + 1, 0, 0, "0");
}

static void add_upper_minor(rparser *p, uint64_t M, uint64_t m)
{
    if (m < UINT64_MAX)
        add_cmp(p, OP_LT, M, m + 1, 0, "0");
}

static void add_upper_patch(rparser *p, uint64_t M, uint64_t m, uint64_t pt)
{
    if (pt < UINT64_MAX)
        add_cmp(p, OP_LT, M, m, pt + 1, "0");
}

static const char *trim(arena *a, const char *s)
{
    while (is_space(*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && is_space(s[n - 1]))
        n--;
    return arena_strndup(a, s, n);
}

/* ---- npm / native ---------------------------------------------------- */

/* A node-semver partial: up to three parts; from `nparts` on they are wildcards (x, X, *) or missing. */
typedef struct partial {
    int nparts; /* numeric parts before the first wildcard or the end: 0..3 */
    semver v;   /* parts beyond nparts are 0 */
} partial;

static int parse_partial(rparser *p, const char *s, size_t n, partial *out)
{
    const char *why = NULL;
    if (n > 0 && s[0] == 'v') { /* node-semver accepts a leading "v" */
        s++;
        n--;
    }
    if (n == 0)
        return rfail(p, "a version is missing");
    if (n > SEMVER_MAX_LEN)
        return rfail(p, "a version is longer than %d bytes", SEMVER_MAX_LEN);
    size_t core, npre, nbuild;
    const char *pre, *build;
    split_qualifiers(s, n, &core, &pre, &npre, &build, &nbuild);

    memset(out, 0, sizeof *out);
    uint64_t part[3] = {0, 0, 0};
    int k = 0, first_x = -1;
    size_t start = 0;
    for (size_t i = 0; i <= core; i++) {
        if (i < core && s[i] != '.')
            continue;
        const char *t = s + start;
        size_t len = i - start;
        if (k == 3)
            return rfail(p, "\"%.*s\" has more than three parts", (int)(n > 40 ? 40 : n), s);
        if (len == 1 && (t[0] == 'x' || t[0] == 'X' || t[0] == '*')) {
            if (first_x < 0)
                first_x = k;
        } else if (parse_num(t, len, &part[k], &why) < 0) {
            return rfail(p, "\"%.*s\": %s", (int)(n > 40 ? 40 : n), s, why);
        }
        k++;
        start = i + 1;
    }
    out->nparts = first_x >= 0 ? first_x : k;
    if ((pre || build) && out->nparts < 3)
        return rfail(p, "\"%.*s\": a pre-release or build needs a full MAJOR.MINOR.PATCH",
                     (int)(n > 40 ? 40 : n), s);
    if (pre && check_idents(pre, npre, true, &why) < 0)
        return rfail(p, "\"%.*s\": %s", (int)(n > 40 ? 40 : n), s, why);
    if (build && check_idents(build, nbuild, false, &why) < 0)
        return rfail(p, "\"%.*s\": %s", (int)(n > 40 ? 40 : n), s, why);
    out->v.major = out->nparts > 0 ? part[0] : 0;
    out->v.minor = out->nparts > 1 ? part[1] : 0;
    out->v.patch = out->nparts > 2 ? part[2] : 0;
    out->v.pre = pre ? arena_strndup(p->a, pre, npre) : NULL;
    out->v.build = NULL; /* node-semver ignores build metadata in ranges */
    return 0;
}

enum npm_op { N_NONE, N_EQ, N_GT, N_GE, N_LT, N_LE, N_TILDE, N_CARET };

/* node-semver's replaceXRange for a primitive or bare partial. */
static void npm_primitive(rparser *p, enum npm_op op, const partial *x)
{
    const semver *v = &x->v;
    if (x->nparts == 3) {
        static const enum op map[] = {
            [N_NONE] = OP_EQ, [N_EQ] = OP_EQ, [N_GT] = OP_GT, [N_GE] = OP_GE, [N_LT] = OP_LT, [N_LE] = OP_LE};
        add_written(p, map[op], v);
        return;
    }
    if (x->nparts == 0) { /* "*": nothing for > and <, anything otherwise */
        if (op == N_GT || op == N_LT)
            add_none(p);
        return;
    }
    bool major_only = x->nparts == 1;
    switch (op) {
    case N_NONE:
    case N_EQ: /* 1 := >=1.0.0 <2.0.0-0; 1.2 := >=1.2.0 <1.3.0-0 */
        add_lower(p, v->major, v->minor, 0, true);
        if (major_only)
            add_upper_major(p, v->major);
        else
            add_upper_minor(p, v->major, v->minor);
        break;
    case N_GT: /* >1 := >=2.0.0; >1.2 := >=1.3.0 */
        if (major_only ? v->major == UINT64_MAX : v->minor == UINT64_MAX)
            add_none(p);
        else if (major_only)
            add_lower(p, v->major + 1, 0, 0, true);
        else
            add_lower(p, v->major, v->minor + 1, 0, true);
        break;
    case N_GE:
        add_lower(p, v->major, v->minor, 0, true);
        break;
    case N_LT: /* <1.2 := <1.2.0-0 */
        add_cmp(p, OP_LT, v->major, v->minor, 0, "0");
        break;
    case N_LE: /* <=1.2 := <1.3.0-0 */
        if (major_only)
            add_upper_major(p, v->major);
        else
            add_upper_minor(p, v->major, v->minor);
        break;
    default:
        break;
    }
}

/* node-semver's replaceTilde: ~1.2.3 := >=1.2.3 <1.3.0-0, ~1.2 := >=1.2.0 <1.3.0-0, ~1 := >=1.0.0 <2.0.0-0.
 */
static void npm_tilde(rparser *p, const partial *x)
{
    const semver *v = &x->v;
    if (x->nparts == 0)
        return;
    if (x->nparts == 3)
        add_written(p, OP_GE, v);
    else /* the missing parts are 0 */
        add_lower(p, v->major, v->minor, 0, false);
    if (x->nparts == 1)
        add_upper_major(p, v->major);
    else
        add_upper_minor(p, v->major, v->minor);
}

/* node-semver's replaceCaret: the upper bound bumps the left-most non-zero
 * part of MAJOR.MINOR.PATCH (^0.2.3 := >=0.2.3 <0.3.0-0, ^0.0.3 := >=0.0.3
 * <0.0.4-0), and of the given parts for partials (^0.x := <1.0.0-0,
 * ^0.0 := <0.1.0-0). */
static void npm_caret(rparser *p, const partial *x)
{
    const semver *v = &x->v;
    switch (x->nparts) {
    case 0:
        return;
    case 1:
        add_lower(p, v->major, 0, 0, true);
        add_upper_major(p, v->major);
        return;
    case 2:
        add_lower(p, v->major, v->minor, 0, true);
        if (v->major == 0)
            add_upper_minor(p, 0, v->minor);
        else
            add_upper_major(p, v->major);
        return;
    default:
        /* node adds "-0" to the lower bound only for 0.x versions without a pre-release */
        add_written(p, OP_GE, v)->floor = !has_pre(v) && v->major == 0;
        if (v->major != 0)
            add_upper_major(p, v->major);
        else if (v->minor != 0)
            add_upper_minor(p, 0, v->minor);
        else
            add_upper_patch(p, 0, 0, v->patch);
    }
}

/* node-semver's hyphenReplace: "1.2 - 2.3.4" := >=1.2.0 <=2.3.4; a partial
 * upper end means "below the next": "1.2.3 - 2.3" := >=1.2.3 <2.4.0-0. */
static void npm_hyphen(rparser *p, const partial *lo, const partial *hi)
{
    if (lo->nparts == 3)
        add_written(p, OP_GE, &lo->v)->floor = !has_pre(&lo->v);
    else if (lo->nparts > 0)
        add_lower(p, lo->v.major, lo->v.minor, 0, true);
    if (hi->nparts == 3)
        add_written(p, OP_LE, &hi->v);
    else if (hi->nparts == 2)
        add_upper_minor(p, hi->v.major, hi->v.minor);
    else if (hi->nparts == 1)
        add_upper_major(p, hi->v.major);
}

typedef struct ntoken {
    enum npm_op op;
    const char *word;
    size_t n;
} ntoken;

/* One alternative (the text between "||"): hyphen range, or terms joined by spaces. */
static int npm_alternative(rparser *p, const char *s, size_t n)
{
    ntoken tok[SEMVER_REQ_MAX_TERMS + 1];
    int ntok = 0;
    size_t i = 0;
    if (new_set(p) < 0)
        return -1;
    for (;;) {
        while (i < n && is_space(s[i]))
            i++;
        if (i == n)
            break;
        if (ntok == SEMVER_REQ_MAX_TERMS + 1)
            return rfail(p, "more than %d terms in one alternative", SEMVER_REQ_MAX_TERMS);
        ntoken *t = &tok[ntok++];
        t->op = N_NONE;
        static const struct {
            const char *text;
            enum npm_op op;
        } ops[] = {{"<=", N_LE}, {">=", N_GE}, {"~>", N_TILDE}, {"<", N_LT},
                   {">", N_GT},  {"=", N_EQ},  {"~", N_TILDE},  {"^", N_CARET}};
        for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
            size_t len = strlen(ops[k].text);
            if (n - i >= len && memcmp(s + i, ops[k].text, len) == 0) {
                t->op = ops[k].op;
                i += len;
                break;
            }
        }
        if (t->op != N_NONE)
            while (i < n && is_space(s[i]))
                i++;
        t->word = s + i;
        while (i < n && !is_space(s[i]))
            i++;
        t->n = (size_t)(s + i - t->word);
        if (t->op != N_NONE && t->n == 0)
            return rfail(p, "an operator is not followed by a version");
    }

    for (int k = 0; k < ntok; k++) {
        if (tok[k].op == N_NONE && tok[k].n == 1 && tok[k].word[0] == '-') {
            if (ntok != 3 || k != 1 || tok[0].op != N_NONE || tok[2].op != N_NONE)
                return rfail(p, "a hyphen range is \"A - B\" on its own");
            partial lo, hi;
            if (count_term(p) < 0 || parse_partial(p, tok[0].word, tok[0].n, &lo) < 0 ||
                parse_partial(p, tok[2].word, tok[2].n, &hi) < 0)
                return -1;
            npm_hyphen(p, &lo, &hi);
            return 0;
        }
    }
    for (int k = 0; k < ntok; k++) {
        partial x;
        if (count_term(p) < 0 || parse_partial(p, tok[k].word, tok[k].n, &x) < 0)
            return -1;
        if (tok[k].op == N_TILDE)
            npm_tilde(p, &x);
        else if (tok[k].op == N_CARET)
            npm_caret(p, &x);
        else
            npm_primitive(p, tok[k].op, &x);
    }
    return 0;
}

static int parse_npm(rparser *p, const char *s)
{
    for (;;) {
        const char *bar = strstr(s, "||");
        size_t n = bar ? (size_t)(bar - s) : strlen(s);
        if (npm_alternative(p, s, n) < 0)
            return -1;
        if (!bar)
            return 0;
        s = bar + 2;
    }
}

/* ---- hex (Elixir) -------------------------------------------------- */

static bool word_is(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && memcmp(s, w, n) == 0;
}

static int hex_term(rparser *p, const char *s, size_t n, size_t *used)
{
    static const struct {
        const char *text;
        enum op op;
        bool approx;
    } ops[] = {{">=", OP_GE, false}, {"<=", OP_LE, false}, {"~>", OP_GE, true},  {">", OP_GT, false},
               {"<", OP_LT, false},  {"==", OP_EQ, false}, {"!=", OP_NE, false}, {"!", OP_NE, false}};
    size_t i = 0;
    enum op op = OP_EQ; /* a bare version means == */
    bool approx = false;
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        size_t len = strlen(ops[k].text);
        if (n >= len && memcmp(s, ops[k].text, len) == 0) {
            op = ops[k].op;
            approx = ops[k].approx;
            i = len;
            break;
        }
    }
    while (i < n && is_space(s[i]))
        i++;
    size_t start = i;
    while (i < n && (is_ident(s[i]) || s[i] == '.' || s[i] == '+'))
        i++;
    if (i < n && !is_space(s[i]))
        return rfail(p, "unexpected \"%c\"", s[i]);
    if (i == start)
        return rfail(p, "an operator is not followed by a version");

    semver v;
    int nparts;
    const char *why = NULL;
    if (parse_span(p->a, s + start, i - start, approx, &v, &nparts, &why) < 0)
        return rfail(p, "\"%.*s\": %s%s", (int)(i - start > 40 ? 40 : i - start), s + start, why,
                     approx ? "" : " (only ~> takes MAJOR.MINOR)");
    if (count_term(p) < 0)
        return -1;
    if (approx) {
        /* ~> 2.1 := >= 2.1.0 and < 3.0.0; ~> 2.1.3 := >= 2.1.3 and < 2.2.0; the
         * upper bound never admits its own pre-releases. */
        add_written(p, OP_GE, &v)->gate = !has_pre(&v);
        if (nparts == 2)
            add_upper_major(p, v.major);
        else
            add_upper_minor(p, v.major, v.minor);
    } else {
        add_written(p, op, &v)->gate = (op == OP_GT || op == OP_GE) && !has_pre(&v);
    }
    *used = i;
    return 0;
}

static int parse_hex(rparser *p, const char *s)
{
    size_t n = strlen(s), i = 0;
    if (n == 0)
        return rfail(p, "it is empty");
    if (new_set(p) < 0)
        return -1;
    bool want_term = true;
    for (;;) {
        while (i < n && is_space(s[i]))
            i++;
        if (i == n)
            break;
        size_t w = i;
        while (w < n && !is_space(s[w]))
            w++;
        if (!want_term) {
            if (word_is(s + i, w - i, "and")) {
                want_term = true;
            } else if (word_is(s + i, w - i, "or")) {
                if (new_set(p) < 0)
                    return -1;
                want_term = true;
            } else {
                return rfail(p, "expected \"and\" or \"or\" before \"%.*s\"", (int)(w - i > 40 ? 40 : w - i),
                             s + i);
            }
            i = w;
            continue;
        }
        size_t used = 0;
        if (hex_term(p, s + i, n - i, &used) < 0)
            return -1;
        i += used;
        want_term = false;
    }
    if (want_term)
        return rfail(p, "it ends without a version");
    return 0;
}

/* ---- pub ------------------------------------------------------------- */

static int dart_version(rparser *p, const char *s, size_t n, size_t *i, semver *v)
{
    size_t start = *i;
    while (*i < n && (is_ident(s[*i]) || s[*i] == '.' || s[*i] == '+'))
        (*i)++;
    if (*i == start)
        return rfail(p, "expected a version at \"%.*s\"", (int)(n - start > 40 ? 40 : n - start), s + start);
    const char *why = NULL;
    if (parse_span(p->a, s + start, *i - start, false, v, NULL, &why) < 0)
        return rfail(p, "\"%.*s\": %s", (int)(*i - start > 40 ? 40 : *i - start), s + start, why);
    return 0;
}

/* "^V" alone: >=V <nextBreaking(V)-0. */
static int pub_caret(rparser *p, const char *s, size_t n)
{
    semver v;
    size_t i = 1;
    while (i < n && is_space(s[i]))
        i++;
    if (dart_version(p, s, n, &i, &v) < 0)
        return -1;
    if (i != n)
        return rfail(p, "nothing may follow a \"^\" constraint");
    if (count_term(p) < 0)
        return -1;
    add_written(p, OP_GE, &v);
    if (v.major > 0)
        add_upper_major(p, v.major);
    else
        add_upper_minor(p, 0, v.minor);
    return 0;
}

/* One end of a pub range: the tightest bound written so far. */
typedef struct pub_bound {
    semver v;
    bool has, inc;
} pub_bound;

/* Tightens b with v: a minimum (dir 1) keeps the larger, a maximum (dir -1) the smaller; of two
 * equal bounds the exclusive one wins. */
static void tighten(pub_bound *b, const semver *v, bool inc, int dir)
{
    int c = b->has ? semver_cmp(v, &b->v) * dir : 1;
    if (c > 0) {
        b->v = *v;
        b->inc = inc;
    } else if (c == 0 && !inc) {
        b->inc = false;
    }
    b->has = true;
}

/* The comparators of the intersected range [min, max]. */
static void add_pub_range(rparser *p, const pub_bound *min, const pub_bound *max)
{
    if (min->has && max->has) {
        int c = semver_cmp(&min->v, &max->v);
        if (c > 0 || (c == 0 && !(min->inc && max->inc))) {
            add_none(p);
            return;
        }
        if (c == 0) {
            add_written(p, OP_EQ, &min->v);
            return;
        }
    }
    if (min->has)
        add_written(p, min->inc ? OP_GE : OP_GT, &min->v);
    if (max->has) {
        /* pub_semver: an exclusive maximum that is not a pre-release (and has no
         * build) excludes its own pre-releases, unless the minimum is a
         * pre-release of that same version. */
        if (!max->inc && !has_pre(&max->v) && !max->v.build &&
            !(min->has && has_pre(&min->v) && cmp_tuple(&min->v, &max->v) == 0))
            add_cmp(p, OP_LT, max->v.major, max->v.minor, max->v.patch, "0");
        else
            add_written(p, max->inc ? OP_LE : OP_LT, &max->v);
    }
}

static int parse_pub(rparser *p, const char *s)
{
    size_t n = strlen(s), i = 0;
    if (new_set(p) < 0)
        return -1;
    if (strcmp(s, "any") == 0)
        return 0;
    if (n == 0)
        return rfail(p, "it is empty");
    if (s[0] == '^')
        return pub_caret(p, s, n);

    /* Bare versions and comparisons, intersected into one range as pub_semver does. */
    pub_bound min = {0}, max = {0};
    while (i < n) {
        while (i < n && is_space(s[i]))
            i++;
        if (i == n)
            break;
        bool lo = false, hi = false, inc = true;
        if (s[i] == '<' || s[i] == '>') {
            lo = s[i] == '>';
            hi = !lo;
            i++;
            inc = i < n && s[i] == '=';
            if (inc)
                i++;
            while (i < n && is_space(s[i]))
                i++;
        } else if (is_digit(s[i])) {
            lo = hi = true;
        } else {
            return rfail(p, "unknown text at \"%.*s\"", (int)(n - i > 40 ? 40 : n - i), s + i);
        }
        semver v;
        if (count_term(p) < 0 || dart_version(p, s, n, &i, &v) < 0)
            return -1;
        if (lo)
            tighten(&min, &v, inc, 1);
        if (hi)
            tighten(&max, &v, inc, -1);
    }
    add_pub_range(p, &min, &max);
    return 0;
}

/* ---- requirements: API ----------------------------------------------- */

semver_req *semver_req_parse(arena *a, enum semver_dialect d, const char *s, derr *e)
{
    semver_req *r = arena_zalloc(a, sizeof *r);
    rparser p;
    p.a = a;
    p.e = e;
    p.r = r;
    p.ncur = 0;
    p.open = false;
    p.terms = 0;
    r->d = d;
    r->text = "";
    if (!s)
        s = "";
    size_t n = strnlen(s, SEMVER_REQ_MAX_LEN + 1);
    if (n > SEMVER_REQ_MAX_LEN) {
        derr_set(e, 422, "invalid", "invalid requirement: longer than %d bytes", SEMVER_REQ_MAX_LEN);
        return NULL;
    }
    r->text = trim(a, s);
    int rc;
    switch (d) {
    case SEMVER_NATIVE:
    case SEMVER_NPM:
        rc = parse_npm(&p, r->text);
        break;
    case SEMVER_HEX:
        rc = parse_hex(&p, r->text);
        break;
    case SEMVER_PUB:
        rc = parse_pub(&p, r->text);
        break;
    default:
        derr_set(e, 422, "invalid", "invalid requirement: unknown dialect");
        return NULL;
    }
    if (rc < 0)
        return NULL;
    end_set(&p);
    r->sets = arena_memdup(a, p.sets, sizeof *p.sets * (size_t)r->nsets);
    return r;
}

static bool cmp_ok(const comparator *c, const semver *v, bool incl)
{
    if (c->gate && !incl && has_pre(v))
        return false;
    int k = c->floor && incl ? cmp_tuple(v, &c->v) : semver_cmp(v, &c->v);
    switch (c->op) {
    case OP_EQ:
        return k == 0;
    case OP_NE:
        return k != 0;
    case OP_GT:
        return k > 0;
    case OP_GE:
        return k >= 0;
    case OP_LT:
        return k < 0;
    case OP_LE:
        return k <= 0;
    }
    return false;
}

static bool set_ok(const semver_req *r, const cset *s, const semver *v, bool incl)
{
    for (int i = 0; i < s->n; i++)
        if (!cmp_ok(&s->c[i], v, incl))
            return false;
    if (incl || !has_pre(v))
        return true;
    switch (r->d) {
    case SEMVER_NATIVE:
    case SEMVER_NPM:
        /* node-semver testSet: a pre-release passes only if a comparator of this
         * set is a pre-release of the same major.minor.patch */
        for (int i = 0; i < s->n; i++)
            if (has_pre(&s->c[i].v) && cmp_tuple(&s->c[i].v, v) == 0)
                return true;
        return false;
    case SEMVER_PUB:
        return r->mentions_pre;
    default:
        return true; /* hex: gates on the comparators already applied */
    }
}

bool semver_req_match(const semver_req *r, const semver *v, bool include_prerelease)
{
    for (int i = 0; i < r->nsets; i++)
        if (set_ok(r, &r->sets[i], v, include_prerelease))
            return true;
    return false;
}

bool semver_req_mentions_prerelease(const semver_req *r)
{
    return r->mentions_pre;
}

const semver *semver_req_pinned(const semver_req *r)
{
    if (r->nsets == 1 && r->sets[0].n == 1 && r->sets[0].c[0].op == OP_EQ)
        return &r->sets[0].c[0].v;
    return NULL;
}

const char *semver_req_text(const semver_req *r)
{
    return r->text;
}

char *semver_req_str(arena *a, const semver_req *r)
{
    static const char *const sym[] = {
        [OP_EQ] = "", [OP_NE] = "!=", [OP_GT] = ">", [OP_GE] = ">=", [OP_LT] = "<", [OP_LE] = "<="};
    static const char *const hexsym[] = {
        [OP_EQ] = "== ", [OP_NE] = "!= ", [OP_GT] = "> ", [OP_GE] = ">= ", [OP_LT] = "< ", [OP_LE] = "<= "};
    bool hex = r->d == SEMVER_HEX;
    buf b;
    buf_init(&b, 0);
    for (int i = 0; i < r->nsets; i++) {
        if (i)
            buf_puts(&b, hex ? " or " : " || ");
        const cset *s = &r->sets[i];
        if (s->n == 0)
            buf_puts(&b, r->d == SEMVER_PUB ? "any" : "*");
        for (int k = 0; k < s->n; k++) {
            if (k)
                buf_puts(&b, hex ? " and " : " ");
            buf_puts(&b, hex ? hexsym[s->c[k].op] : sym[s->c[k].op]);
            buf_puts(&b, semver_str(a, &s->c[k].v));
        }
    }
    char *out = arena_strndup(a, b.data ? b.data : "", b.len);
    buf_free(&b);
    return out;
}
