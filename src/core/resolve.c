/*
 * resolve.c — a backtracking resolver with forward checking and
 * conflict-directed backjumping.
 *
 * The search assigns one package per level. Every requirement in force is a
 * constraint on its target package, pushed by the level that introduced it
 * (level 0: the roots). Each candidate version keeps a count of the
 * constraints that reject it, so "how many versions of X are still allowed"
 * is always at hand: the next package to decide is the needed one with the
 * fewest allowed versions (a forced choice first, as pub and cargo do), and
 * trying a version fails at once when one of its dependencies would have no
 * allowed version left (forward checking).
 *
 * Each level keeps a conflict set: the earlier levels its failures depend
 * on. When a level runs out of versions the search jumps straight back to
 * the latest level in that set instead of the previous one, so a conflict
 * that involves only the roots ends the search after a handful of tries
 * however many unrelated packages were decided in between. When the set
 * holds only the roots there is no solution, and the message of the first
 * failure at that level (carried up through the jumps) says why. A version
 * whose failure depends on no decision at all (it needs a package that does
 * not exist, or conflicts with the roots) is struck off for the rest of the
 * search, so a hopeless corner of the graph is explored once, not once per
 * way of reaching it.
 *
 * Requirements are parsed once per (package, text) and matched once per
 * candidate; provider answers are cached per name. Everything lives in the
 * caller's arena; the per-level message buffers are reused, so memory does
 * not grow with the number of steps.
 */
#include "resolve.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pkg pkg;

typedef struct edge { /* one requirement text on one package, parsed and matched once */
    pkg *to;
    const char *text;  /* as given (the cache key) */
    const char *shown; /* trimmed, for messages; "" for any version */
    unsigned char *ok; /* ok[i]: candidate i of `to` satisfies it */
} edge;

typedef struct cons { /* an edge in force, pushed by a level */
    const edge *e;
    int level;
    const pkg *from; /* NULL: a root requirement */
    int from_cand;
} cons;

typedef struct cinfo { /* a candidate's dependencies, built the first time it is tried */
    bool ready;
    const char *bad; /* why this version can never be used, or NULL */
    int nedges;
    edge **edges;
} cinfo;

struct pkg {
    const char *name; /* as first asked for, for messages and picks */
    const char *key;  /* the provider's canonical key (the name when it has none) */
    resolve_candidate *c; /* highest first */
    int n;
    int *nblock; /* per candidate: constraints rejecting it, +1 when unusable for good */
    bool *gone;  /* yanked (and not pinned by a root) or invalid */
    cinfo *info;
    int nlive; /* candidates with nblock == 0 */
    cons *cons;
    int ncons, capcons;
    int pick;  /* candidate index, or -1 */
    int level; /* where it was picked */
    int order; /* discovery order, for ties */
    int open;  /* index in rs.open while needed and undecided, else -1 */
};

#define MSG_MAX 256

typedef struct level {
    pkg *p;
    int idx;
    int next;       /* next candidate index to consider */
    int tried;      /* candidates tried and rejected */
    int npushed;    /* constraints pushed by the current pick */
    int ncul;       /* culprits recorded while trying the current candidate */
    uint64_t *conf; /* levels 1..idx-1 the failures here depend on */
    int nwords;
    bool has_msg;
    char msg[MSG_MAX]; /* why the first rejected candidate failed */
} level;

typedef struct rs {
    arena *a;
    const resolve_provider *prov;
    enum semver_dialect dialect;
    bool incl;
    derr *e;
    pkg **tab; /* by name, open addressing */
    size_t tabcap, npkgs;
    pkg **all; /* in discovery order */
    size_t capall;
    pkg **open; /* needed (some constraint) and undecided: where choose() looks */
    int nopen;
    edge **etab; /* by (package, text) */
    size_t etabcap, nedges;
    level **lv; /* lv[1..depth] in use */
    int caplv, depth;
    unsigned char *seen; /* scratch for wipeout(), reused */
    int capseen;
    long steps, max_steps;
} rs;

/* ---- small helpers --------------------------------------------------- */

static uint64_t fnv(const char *s, uint64_t h)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

#define FNV_BASIS 14695981039346656037ULL

static void *grow(arena *a, void *old, size_t size, size_t oldn, size_t newn)
{
    void *p = arena_zalloc(a, size * newn);
    if (oldn)
        memcpy(p, old, size * oldn);
    return p;
}

static const char *cand_version(arena *a, const resolve_candidate *c)
{
    return c->version ? c->version : semver_str(a, &c->v);
}

typedef struct mbuf {
    char s[MSG_MAX];
    size_t n;
} mbuf;

static void mput(mbuf *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void mput(mbuf *m, const char *fmt, ...)
{
    if (m->n >= sizeof m->s - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(m->s + m->n, sizeof m->s - m->n, fmt, ap);
    va_end(ap);
    if (k > 0)
        m->n += (size_t)k;
    if (m->n >= sizeof m->s)
        m->n = sizeof m->s - 1;
}

/* "a 1.0.0" or "the root" */
static void put_source(rs *s, mbuf *m, const pkg *from, int fc)
{
    if (from)
        mput(m, "%s %s", from->name, cand_version(s->a, &from->c[fc]));
    else
        mput(m, "the root");
}

/* "c ^1.0", or "c" when any version will do */
static void put_req(mbuf *m, const edge *e)
{
    mput(m, "%s%s%s", e->to->name, e->shown[0] ? " " : "", e->shown);
}

/* ---- packages -------------------------------------------------------- */

static int cand_order(const void *x, const void *y)
{
    const resolve_candidate *a = x, *b = y;
    int c = semver_cmp(&b->v, &a->v);
    if (c)
        return c;
    return strcmp(a->version ? a->version : "", b->version ? b->version : "");
}

static void tab_insert(pkg **tab, size_t cap, pkg *p)
{
    size_t i = fnv(p->key, FNV_BASIS) & (cap - 1);
    while (tab[i])
        i = (i + 1) & (cap - 1);
    tab[i] = p;
}

/* The package called `name`, asking the provider the first time; NULL + e on failure. */
static pkg *get_pkg(rs *s, const char *name)
{
    /* Names a provider treats as one package (case, '-' and '_') are one package here too. */
    const char *key = s->prov->key ? s->prov->key(s->prov->ctx, s->a, name) : name;
    size_t i = fnv(key, FNV_BASIS) & (s->tabcap - 1);
    for (; s->tab[i]; i = (i + 1) & (s->tabcap - 1))
        if (strcmp(s->tab[i]->key, key) == 0)
            return s->tab[i];

    resolve_candidate *got = NULL;
    int n = 0;
    if (s->prov->versions(s->prov->ctx, s->a, name, &got, &n, s->e) < 0)
        return NULL;
    if (n < 0 || !got)
        n = 0;

    pkg *p = arena_zalloc(s->a, sizeof *p);
    p->name = arena_strdup(s->a, name);
    p->key = key == name ? p->name : key;
    p->n = n;
    p->pick = -1;
    p->open = -1;
    p->order = (int)s->npkgs;
    p->c = n ? arena_memdup(s->a, got, sizeof *got * (size_t)n) : NULL;
    if (n > 1)
        qsort(p->c, (size_t)n, sizeof *p->c, cand_order);
    p->nblock = arena_zalloc(s->a, sizeof *p->nblock * (size_t)(n ? n : 1));
    p->gone = arena_zalloc(s->a, sizeof *p->gone * (size_t)(n ? n : 1));
    p->info = arena_zalloc(s->a, sizeof *p->info * (size_t)(n ? n : 1));
    for (int k = 0; k < n; k++) {
        p->gone[k] = p->c[k].yanked;
        p->nblock[k] = p->gone[k];
        p->nlive += !p->gone[k];
    }

    if ((s->npkgs + 1) * 2 > s->tabcap) {
        size_t cap = s->tabcap * 2;
        pkg **tab = arena_zalloc(s->a, sizeof *tab * cap);
        for (size_t k = 0; k < s->tabcap; k++)
            if (s->tab[k])
                tab_insert(tab, cap, s->tab[k]);
        s->tab = tab;
        s->tabcap = cap;
    }
    tab_insert(s->tab, s->tabcap, p);
    if (s->npkgs == s->capall) {
        s->all = grow(s->a, s->all, sizeof *s->all, s->capall, s->capall * 2);
        s->open = grow(s->a, s->open, sizeof *s->open, s->capall, s->capall * 2);
        s->capall *= 2;
    }
    s->all[s->npkgs++] = p;
    return p;
}

/* The open set: packages that are needed and not decided yet. */
static void open_add(rs *s, pkg *p)
{
    p->open = s->nopen;
    s->open[s->nopen++] = p;
}

static void open_del(rs *s, pkg *p)
{
    pkg *last = s->open[--s->nopen];
    s->open[p->open] = last;
    last->open = p->open;
    p->open = -1;
}

static void set_pick(rs *s, pkg *p, int k, int at)
{
    if (p->open >= 0)
        open_del(s, p);
    p->pick = k;
    p->level = at;
}

static void clear_pick(rs *s, pkg *p)
{
    p->pick = -1;
    if (p->ncons > 0 && p->open < 0)
        open_add(s, p);
}

/* Marks candidate k of p unusable for good. */
static void make_gone(pkg *p, int k)
{
    if (p->gone[k])
        return;
    p->gone[k] = true;
    if (p->nblock[k]++ == 0)
        p->nlive--;
}

static void push_cons(rs *s, pkg *q, const edge *e, int at, const pkg *from, int fc)
{
    if (q->ncons == q->capcons) {
        int cap = q->capcons ? q->capcons * 2 : 4;
        q->cons = grow(s->a, q->cons, sizeof *q->cons, (size_t)q->capcons, (size_t)cap);
        q->capcons = cap;
    }
    q->cons[q->ncons++] = (cons){.e = e, .level = at, .from = from, .from_cand = fc};
    if (q->ncons == 1 && q->pick < 0)
        open_add(s, q);
    for (int k = 0; k < q->n; k++)
        if (!e->ok[k] && q->nblock[k]++ == 0)
            q->nlive--;
}

static void pop_cons(rs *s, pkg *q)
{
    const edge *e = q->cons[--q->ncons].e;
    if (q->ncons == 0 && q->open >= 0)
        open_del(s, q);
    for (int k = 0; k < q->n; k++)
        if (!e->ok[k] && --q->nblock[k] == 0)
            q->nlive++;
}

/* Candidates of q still allowed if e were added. */
static int live_with(const pkg *q, const edge *e)
{
    int n = 0;
    for (int k = 0; k < q->n; k++)
        n += q->nblock[k] == 0 && e->ok[k];
    return n;
}

/* The constraint of lowest level that rejects candidate k of q: its index in
 * q->cons, or -1 when k is gone for good (or nothing rejects it). */
static int blame(const pkg *q, int k)
{
    if (q->gone[k])
        return -1;
    for (int i = 0; i < q->ncons; i++)
        if (!q->cons[i].e->ok[k])
            return i;
    return -1;
}

/* ---- requirements ---------------------------------------------------- */

/* The edge for requirement `text` (NULL: any) on q, parsed and matched once. NULL
 * with e filled when the text does not parse. */
static edge *get_edge(rs *s, pkg *q, const char *text, derr *e)
{
    if (!text)
        text = "";
    uint64_t h = fnv(text, FNV_BASIS ^ (uint64_t)(uintptr_t)q);
    size_t i = h & (s->etabcap - 1);
    for (; s->etab[i]; i = (i + 1) & (s->etabcap - 1))
        if (s->etab[i]->to == q && strcmp(s->etab[i]->text, text) == 0)
            return s->etab[i];

    const char *src = text;
    if (!*text) /* any version, spelled in the dialect */
        src = s->dialect == SEMVER_HEX ? ">= 0.0.0" : s->dialect == SEMVER_PUB ? "any" : "";
    semver_req *r = semver_req_parse(s->a, s->dialect, src, e);
    if (!r)
        return NULL;
    edge *ed = arena_zalloc(s->a, sizeof *ed);
    ed->to = q;
    ed->text = arena_strdup(s->a, text);
    ed->shown = *text ? semver_req_text(r) : "";
    ed->ok = arena_zalloc(s->a, (size_t)(q->n ? q->n : 1));
    bool pre_ok = s->incl || semver_req_mentions_prerelease(r);
    for (int k = 0; k < q->n; k++)
        ed->ok[k] = semver_req_match(r, &q->c[k].v, s->incl) && (pre_ok || !semver_is_prerelease(&q->c[k].v));

    if ((s->nedges + 1) * 2 > s->etabcap) {
        size_t cap = s->etabcap * 2;
        edge **tab = arena_zalloc(s->a, sizeof *tab * cap);
        for (size_t k = 0; k < s->etabcap; k++) {
            edge *x = s->etab[k];
            if (!x)
                continue;
            size_t j = fnv(x->text, FNV_BASIS ^ (uint64_t)(uintptr_t)x->to) & (cap - 1);
            while (tab[j])
                j = (j + 1) & (cap - 1);
            tab[j] = x;
        }
        s->etab = tab;
        s->etabcap = cap;
        i = h & (cap - 1);
        while (s->etab[i])
            i = (i + 1) & (cap - 1);
    }
    s->etab[i] = ed;
    s->nedges++;
    return ed;
}

/* Builds the edges of candidate k of p. -1 only when the provider fails. */
static int ensure_info(rs *s, pkg *p, int k)
{
    cinfo *ci = &p->info[k];
    if (ci->ready)
        return 0;
    const resolve_candidate *c = &p->c[k];
    int nd = c->ndeps > 0 && c->dep_names ? c->ndeps : 0;
    ci->edges = arena_zalloc(s->a, sizeof *ci->edges * (size_t)(nd ? nd : 1));
    for (int j = 0; j < nd; j++) {
        const char *name = c->dep_names[j];
        const char *text = c->dep_reqs ? c->dep_reqs[j] : NULL;
        if (!name || !*name) {
            ci->bad =
                arena_printf(s->a, "%s %s has a dependency without a name", p->name, cand_version(s->a, c));
            break;
        }
        pkg *q = get_pkg(s, name);
        if (!q)
            return -1;
        derr pe;
        derr_clear(&pe);
        edge *ed = get_edge(s, q, text, &pe);
        if (!ed) {
            ci->bad = arena_printf(s->a, "%s %s has an unusable requirement on %s: %s", p->name,
                                   cand_version(s->a, c), name, pe.message);
            break;
        }
        ci->edges[ci->nedges++] = ed;
    }
    ci->ready = true;
    return 0;
}

/* ---- levels and conflict sets ---------------------------------------- */

static level *level_at(rs *s, int idx)
{
    if (idx >= s->caplv) {
        int cap = s->caplv * 2 > idx + 1 ? s->caplv * 2 : idx + 1;
        s->lv = grow(s->a, s->lv, sizeof *s->lv, (size_t)s->caplv, (size_t)cap);
        s->caplv = cap;
    }
    if (!s->lv[idx]) {
        level *l = arena_zalloc(s->a, sizeof *l);
        l->idx = idx;
        l->nwords = idx / 64 + 1;
        l->conf = arena_zalloc(s->a, sizeof *l->conf * (size_t)l->nwords);
        s->lv[idx] = l;
    }
    return s->lv[idx];
}

/* Records that the current failure at l depends on level k (0 and l itself hold anyway). */
static void culprit(level *l, int k)
{
    if (k > 0 && k < l->idx) {
        l->conf[k / 64] |= 1ULL << (k % 64);
        l->ncul++;
    }
}

/* Whether l's conflict set holds a level other than h. */
static bool conf_beyond(const level *l, int h)
{
    for (int w = 0; w < l->nwords; w++) {
        uint64_t bits = l->conf[w];
        if (w == h / 64)
            bits &= ~(1ULL << (h % 64));
        if (bits)
            return true;
    }
    return false;
}

static int conf_max(const level *l)
{
    for (int w = l->nwords - 1; w >= 0; w--)
        if (l->conf[w])
            return w * 64 + 63 - __builtin_clzll(l->conf[w]);
    return 0;
}

static void set_msg(level *l, const mbuf *m)
{
    if (l->has_msg)
        return;
    memcpy(l->msg, m->s, m->n);
    l->msg[m->n] = '\0';
    l->has_msg = true;
}

/* ---- failures -------------------------------------------------------- */

/* Adding e (from `from` candidate fc) to q leaves no version of q: blames the
 * constraints that rule out every version e allows, and explains. */
static void wipeout(rs *s, level *l, const pkg *q, const edge *e, const pkg *from, int fc)
{
    mbuf m = {.n = 0};
    if (q->n == 0) {
        if (l && l->has_msg)
            return;
        put_source(s, &m, from, fc);
        mput(&m, " needs %s, which does not exist", q->name);
        if (l)
            set_msg(l, &m);
        else
            derr_set(s->e, 422, "unresolvable", "%s", m.s);
        return;
    }
    /* Which earlier constraints are to blame (distinct, in the order pushed). */
    if (q->ncons > s->capseen) {
        s->capseen = q->ncons * 2;
        s->seen = arena_alloc(s->a, (size_t)s->capseen);
    }
    unsigned char *seen = s->seen;
    if (q->ncons)
        memset(seen, 0, (size_t)q->ncons);
    int nblamed = 0, yanked = 0, first[3];
    for (int k = 0; k < q->n; k++) {
        if (!e->ok[k])
            continue;
        int b = blame(q, k);
        if (b < 0) {
            yanked += q->c[k].yanked;
            continue;
        }
        if (l)
            culprit(l, q->cons[b].level);
        if (!seen[b]) {
            seen[b] = 1;
            nblamed++;
        }
    }
    if (l && l->has_msg) /* only the first failure at a level is explained */
        return;
    int nfirst = 0;
    for (int i = 0; i < q->ncons && nfirst < 3; i++)
        if (seen[i])
            first[nfirst++] = i;

    if (nblamed == 0) {
        put_source(s, &m, from, fc);
        mput(&m, " needs ");
        put_req(&m, e);
        mput(&m, " but no%s version of %s matches; %s has ", yanked ? " unyanked" : "", q->name, q->name);
        for (int k = 0; k < q->n && k < 4; k++)
            mput(&m, "%s%s", k ? ", " : "", cand_version(s->a, &q->c[k]));
        if (q->n > 4)
            mput(&m, " and %d more", q->n - 4);
    } else {
        for (int i = 0; i < nfirst; i++) {
            const cons *c = &q->cons[first[i]];
            if (i)
                mput(&m, i == nfirst - 1 && nblamed == nfirst ? " and " : ", ");
            put_source(s, &m, c->from, c->from_cand);
            mput(&m, " needs ");
            put_req(&m, c->e);
        }
        if (nblamed > nfirst)
            mput(&m, " and %d other requirements", nblamed - nfirst);
        mput(&m, " but ");
        put_source(s, &m, from, fc);
        mput(&m, " needs ");
        put_req(&m, e);
        mput(&m, "; no version of %s satisfies %s", q->name, nblamed == 1 ? "both" : "all of them");
    }
    if (l)
        set_msg(l, &m);
    else
        derr_set(s->e, 422, "unresolvable", "%s", m.s);
}

/* ---- the search ------------------------------------------------------ */

static void undo_pick(rs *s, level *l)
{
    pkg *p = l->p;
    if (p->pick < 0)
        return;
    const cinfo *ci = &p->info[p->pick];
    for (int k = l->npushed - 1; k >= 0; k--)
        pop_cons(s, ci->edges[k]->to);
    l->npushed = 0;
    clear_pick(s, p);
}

/* Tries candidate k at level l: 1 picked, 0 rejected (culprits and message
 * recorded on l), -1 provider failure. */
static int try_cand(rs *s, level *l, int k)
{
    pkg *p = l->p;
    if (ensure_info(s, p, k) < 0)
        return -1;
    const cinfo *ci = &p->info[k];
    if (ci->bad) {
        mbuf m = {.n = 0};
        mput(&m, "%s", ci->bad);
        set_msg(l, &m);
        make_gone(p, k);
        return 0;
    }
    set_pick(s, p, k, l->idx);
    l->npushed = 0;
    for (int j = 0; j < ci->nedges; j++) {
        edge *e = ci->edges[j];
        pkg *q = e->to;
        if (live_with(q, e) == 0) {
            wipeout(s, l, q, e, p, k);
            undo_pick(s, l);
            return 0;
        }
        if (q->pick >= 0 && !e->ok[q->pick]) {
            culprit(l, q->level);
            if (!l->has_msg) {
                mbuf m = {.n = 0};
                put_source(s, &m, p, k);
                mput(&m, " needs ");
                put_req(&m, e);
                mput(&m, " but %s %s was picked", q->name, cand_version(s->a, &q->c[q->pick]));
                set_msg(l, &m);
            }
            undo_pick(s, l);
            return 0;
        }
        push_cons(s, q, e, l->idx, p, k);
        l->npushed++;
    }
    return 1;
}

/* The needed, undecided package with the fewest allowed versions (earliest found on a tie). */
static pkg *choose(rs *s)
{
    pkg *best = NULL;
    for (int i = 0; i < s->nopen; i++) {
        pkg *p = s->open[i];
        if (!best || p->nlive < best->nlive || (p->nlive == best->nlive && p->order < best->order))
            best = p;
    }
    return best;
}

static void enter(level *l, pkg *p)
{
    l->p = p;
    l->next = 0;
    l->tried = 0;
    l->npushed = 0;
    l->has_msg = false;
    memset(l->conf, 0, sizeof *l->conf * (size_t)l->nwords);
    /* Versions ruled out before we start depend on whoever ruled them out, and
     * that p is needed at all on whoever first required it. */
    for (int k = 0; k < p->n; k++) {
        if (p->nblock[k] > 0) {
            int b = blame(p, k);
            if (b >= 0)
                culprit(l, p->cons[b].level);
        }
    }
    culprit(l, p->cons[0].level);
}

/* Why level l ran out of versions, in m. */
static void exhausted_msg(const level *l, mbuf *m)
{
    m->n = 0;
    m->s[0] = '\0';
    if (l->has_msg)
        mput(m, "%s", l->msg);
    else
        mput(m, "no version of %s can be used", l->p->name);
    if (l->tried > 1 && !strstr(m->s, " works either") && m->n + strlen(l->p->name) + 40 < sizeof m->s)
        mput(m, "; no other version of %s works either", l->p->name);
}

static int search(rs *s)
{
    for (;;) {
        pkg *p = choose(s);
        if (!p)
            return 0;
        level *l = level_at(s, ++s->depth);
        enter(l, p);
        for (;;) {
            int r = 0;
            while (l->next < l->p->n) {
                int k = l->next++;
                if (l->p->nblock[k] > 0)
                    continue;
                if (++s->steps > s->max_steps)
                    return derr_set(s->e, 422, "unresolvable", "resolution gave up after %ld steps",
                                    s->max_steps);
                l->ncul = 0;
                r = try_cand(s, l, k);
                if (r != 0)
                    break;
                /* A version rejected for reasons that involve no decision can
                 * never be part of a solution: learn that once and for all. */
                if (l->ncul == 0)
                    make_gone(l->p, k);
                l->tried++;
            }
            if (r < 0)
                return -1;
            if (r == 1)
                break; /* decide the next package */

            /* Out of versions: jump back to the latest level this failure depends on. */
            mbuf m;
            exhausted_msg(l, &m);
            int h = conf_max(l);
            if (h == 0)
                return derr_set(s->e, 422, "unresolvable", "%s", m.s);
            for (int k = l->idx - 1; k > h; k--)
                undo_pick(s, s->lv[k]);
            level *back = s->lv[h];
            if (!conf_beyond(l, h)) /* the failure depends on back's pick alone */
                make_gone(back->p, back->p->pick);
            for (int w = 0; w < back->nwords; w++)
                back->conf[w] |= l->conf[w];
            back->conf[h / 64] &= ~(1ULL << (h % 64));
            undo_pick(s, back);
            set_msg(back, &m);
            back->tried++;
            s->depth = h;
            l = back;
        }
    }
}

static int pick_order(const void *x, const void *y)
{
    const resolve_pick *a = x, *b = y;
    return strcmp(a->name, b->name);
}

int resolve(arena *a, const resolve_provider *p, const char *const *names, const char *const *reqs, int n,
            const resolve_opts *o, resolve_pick **out, int *nout, derr *e)
{
    rs s = {.a = a, .prov = p, .e = e};
    s.dialect = o ? o->dialect : SEMVER_NATIVE;
    s.incl = o && o->include_prerelease;
    s.max_steps = o && o->max_steps > 0 ? o->max_steps : RESOLVE_DEFAULT_STEPS;
    s.tabcap = 64;
    s.tab = arena_zalloc(a, sizeof *s.tab * s.tabcap);
    s.capall = 32;
    s.all = arena_zalloc(a, sizeof *s.all * s.capall);
    s.open = arena_zalloc(a, sizeof *s.open * s.capall);
    s.etabcap = 64;
    s.etab = arena_zalloc(a, sizeof *s.etab * s.etabcap);
    s.caplv = 16;
    s.lv = arena_zalloc(a, sizeof *s.lv * (size_t)s.caplv);
    *out = NULL;
    *nout = 0;
    if (n < 0)
        n = 0;

    /* The roots: their packages, their requirements, then the yanked versions they pin. */
    pkg **rp = arena_zalloc(a, sizeof *rp * (size_t)(n ? n : 1));
    edge **re = arena_zalloc(a, sizeof *re * (size_t)(n ? n : 1));
    for (int i = 0; i < n; i++) {
        if (!names[i] || !*names[i])
            return derr_set(e, 422, "invalid", "a root requirement has no package name");
        if (!(rp[i] = get_pkg(&s, names[i])))
            return -1;
    }
    for (int i = 0; i < n; i++) {
        derr pe;
        derr_clear(&pe);
        const char *text = reqs ? reqs[i] : NULL;
        if (!(re[i] = get_edge(&s, rp[i], text, &pe)))
            return derr_set(e, 422, "invalid", "%s: %s", names[i], pe.message);
        semver_req *r = text && *text ? semver_req_parse(a, s.dialect, text, NULL) : NULL;
        const semver *pin = r ? semver_req_pinned(r) : NULL;
        for (int k = 0; pin && k < rp[i]->n; k++) {
            pkg *q = rp[i];
            if (q->c[k].yanked && q->gone[k] && semver_cmp(&q->c[k].v, pin) == 0) {
                q->gone[k] = false;
                if (--q->nblock[k] == 0)
                    q->nlive++;
            }
        }
    }
    for (int i = 0; i < n; i++) {
        if (live_with(rp[i], re[i]) == 0) {
            wipeout(&s, NULL, rp[i], re[i], NULL, 0);
            return -1;
        }
        push_cons(&s, rp[i], re[i], 0, NULL, 0);
    }

    if (search(&s) < 0)
        return -1;

    int np = 0;
    for (size_t i = 0; i < s.npkgs; i++)
        np += s.all[i]->pick >= 0;
    resolve_pick *picks = arena_zalloc(a, sizeof *picks * (size_t)(np ? np : 1));
    np = 0;
    for (size_t i = 0; i < s.npkgs; i++) {
        pkg *q = s.all[i];
        if (q->pick >= 0)
            picks[np++] = (resolve_pick){.name = q->name, .c = &q->c[q->pick]};
    }
    qsort(picks, (size_t)np, sizeof *picks, pick_order);
    *out = picks;
    *nout = np;
    return 0;
}
