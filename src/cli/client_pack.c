/*
 * client_pack.c — which files of a package folder go into its tarball.
 *
 * pack_list walks the folder (never following symlinks) and keeps the
 * regular files that the folder's .depotignore does not exclude. .git and
 * depot_modules (the installed dependencies) are never packed, at any depth,
 * nor any file named in the skip list (the signing key, when it lives inside
 * the folder); symlinks and special files are left out with a warning, since
 * the tarball holds regular files only. depot.json is always packed.
 *
 * .depotignore follows .gitignore: one glob per line; blank lines and lines
 * starting with '#' are ignored; '*' matches within one path component, '?'
 * one character, [a-z] a class, `**` as a whole component any number of
 * components (`**`/x is x at any depth, a/`**` all that is inside a,
 * a/`**`/b is b at any depth below a); a trailing '/' matches folders only;
 * a pattern with a '/' at its start or in its middle is anchored at the
 * package folder, otherwise it matches a name at any depth; '!' re-includes
 * what an earlier line excluded (the last matching line wins; a file in an
 * excluded folder stays excluded, as with git); '\' escapes a leading '#'
 * or '!'.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client.h"

#define PACK_MAX_FILES 10000
#define PACK_MAX_DEPTH 64
#define PACK_MAX_PATH 1024

typedef struct ignore_rule {
    const char *pat;
    bool neg, dir_only, anchored;
} ignore_rule;

struct ignore_rules {
    ignore_rule *r;
    int n;
};

ignore_rules *ignore_parse(arena *a, const char *text)
{
    ignore_rules *rules = arena_zalloc(a, sizeof *rules);
    int cap = 0;
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        const char *next = nl ? nl + 1 : NULL;
        /* trailing CR and unescaped trailing spaces go */
        while (len &&
               (line[len - 1] == '\r' || (line[len - 1] == ' ' && !(len > 1 && line[len - 2] == '\\'))))
            len--;
        const char *s = line;
        line = next;
        if (!len || s[0] == '#')
            continue;
        ignore_rule r = {0};
        if (s[0] == '!') {
            r.neg = true;
            s++, len--;
        } else if (s[0] == '\\' && len > 1 && (s[1] == '#' || s[1] == '!')) {
            s++, len--;
        }
        if (len && s[len - 1] == '/') {
            r.dir_only = true;
            len--;
        }
        if (len && s[0] == '/') {
            r.anchored = true;
            s++, len--;
        }
        if (!len)
            continue;
        if (memchr(s, '/', len))
            r.anchored = true;
        r.pat = arena_strndup(a, s, len);
        if (rules->n == cap) {
            cap = cap ? cap * 2 : 16;
            ignore_rule *grown = arena_alloc(a, sizeof *grown * (size_t)cap);
            if (rules->n)
                memcpy(grown, rules->r, sizeof *grown * (size_t)rules->n);
            rules->r = grown;
        }
        rules->r[rules->n++] = r;
    }
    return rules;
}

/* A bracket class at p ('[' ... ']') against ch; *end gets the character after ']'.
 * Returns -1 when p is not a well-formed class (then '[' is literal). */
static int class_match(const char *p, char ch, const char **end)
{
    const char *q = p + 1;
    bool neg = false;
    if (*q == '!' || *q == '^') {
        neg = true;
        q++;
    }
    bool hit = false;
    bool first = true;
    while (*q && (*q != ']' || first)) {
        first = false;
        char lo = *q;
        if (lo == '\\' && q[1])
            lo = *++q;
        char hi = lo;
        if (q[1] == '-' && q[2] && q[2] != ']') {
            hi = q[2];
            q += 2;
        }
        if (ch != '/' && ch >= lo && ch <= hi)
            hit = true;
        q++;
    }
    if (*q != ']')
        return -1;
    *end = q + 1;
    return hit != neg;
}

/* Does the glob p (pattern start: pat) match all of s? */
static bool gmatch(const char *pat, const char *p, const char *s)
{
    for (;;) {
        if (p[0] == '*' && p[1] == '*' && (p == pat || p[-1] == '/') && (p[2] == '/' || p[2] == '\0')) {
            if (p[2] == '\0')
                return true; /* a trailing double star: everything below */
            const char *rest = p + 3;
            if (gmatch(pat, rest, s)) /* zero components */
                return true;
            for (const char *t = s; *t; t++)
                if (*t == '/' && gmatch(pat, rest, t + 1))
                    return true;
            return false;
        }
        if (*p == '*') {
            while (*p == '*')
                p++;
            for (const char *t = s;; t++) {
                if (gmatch(pat, p, t))
                    return true;
                if (*t == '\0' || *t == '/')
                    return false;
            }
        }
        if (*p == '\0')
            return *s == '\0';
        if (*s == '\0')
            return false;
        if (*p == '?') {
            if (*s == '/')
                return false;
            p++, s++;
            continue;
        }
        if (*p == '[') {
            const char *end;
            int m = class_match(p, *s, &end);
            if (m >= 0) {
                if (!m)
                    return false;
                p = end, s++;
                continue;
            }
        }
        if (*p == '\\' && p[1])
            p++;
        if (*p != *s)
            return false;
        p++, s++;
    }
}

bool ignore_match(const ignore_rules *r, const char *path, bool is_dir)
{
    if (!r)
        return false;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    bool ignored = false;
    for (int i = 0; i < r->n; i++) {
        const ignore_rule *x = &r->r[i];
        if (x->dir_only && !is_dir)
            continue;
        if (x->neg != ignored)
            continue; /* cannot change the outcome */
        if (gmatch(x->pat, x->pat, x->anchored ? path : base))
            ignored = !x->neg;
    }
    return ignored;
}

/* ---- the walk ------------------------------------------------------------------------------ */

typedef struct walk {
    client *c;
    const ignore_rules *rules;
    struct stat *skip;
    int nskip;
    pack_file *files;
    int n, cap;
    derr *e;
} walk;

static bool in_skip(const walk *w, const struct stat *st)
{
    for (int i = 0; i < w->nskip; i++)
        if (w->skip[i].st_dev == st->st_dev && w->skip[i].st_ino == st->st_ino)
            return true;
    return false;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int walk_dir(walk *w, const char *disk, const char *rel, int depth)
{
    if (depth > PACK_MAX_DEPTH)
        return derr_set(w->e, 422, "invalid", "%s: folders nest deeper than %d levels", rel, PACK_MAX_DEPTH);
    DIR *d = opendir(disk);
    if (!d)
        return derr_set(w->e, 500, "internal", "cannot read the folder %s: %s", disk, strerror(errno));
    /* read the names first, sorted, so warnings and errors come in a stable order */
    char **names = NULL;
    size_t nn = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (nn == cap) {
            cap = cap ? cap * 2 : 32;
            char **grown = arena_alloc(w->c->a, sizeof *grown * cap);
            if (nn)
                memcpy(grown, names, sizeof *grown * nn);
            names = grown;
        }
        names[nn++] = arena_strdup(w->c->a, de->d_name);
    }
    closedir(d);
    if (nn)
        qsort(names, nn, sizeof *names, cmp_name);

    for (size_t i = 0; i < nn; i++) {
        const char *name = names[i];
        const char *r = rel[0] ? arena_printf(w->c->a, "%s/%s", rel, name) : name;
        const char *p = arena_printf(w->c->a, "%s/%s", disk, name);
        if (strlen(r) > PACK_MAX_PATH)
            return derr_set(w->e, 422, "invalid", "the path %.80s... is longer than %d bytes", r,
                            PACK_MAX_PATH);
        struct stat st;
        if (lstat(p, &st) < 0)
            return derr_set(w->e, 500, "internal", "cannot stat %s: %s", p, strerror(errno));
        bool is_dir = S_ISDIR(st.st_mode);
        if (strcmp(name, ".git") == 0 || (is_dir && strcmp(name, "depot_modules") == 0) || in_skip(w, &st))
            continue;
        bool manifest = !rel[0] && strcmp(name, "depot.json") == 0;
        if (!manifest && ignore_match(w->rules, r, is_dir))
            continue;
        if (is_dir) {
            if (walk_dir(w, p, r, depth + 1) < 0)
                return -1;
            continue;
        }
        if (S_ISLNK(st.st_mode)) {
            fprintf(stderr, "depot: warning: leaving out the symlink %s (only regular files are packed)\n",
                    r);
            continue;
        }
        if (!S_ISREG(st.st_mode)) {
            fprintf(stderr, "depot: warning: leaving out %s (not a regular file)\n", r);
            continue;
        }
        if (w->n >= PACK_MAX_FILES)
            return derr_set(w->e, 422, "invalid", "more than %d files to pack (use .depotignore)",
                            PACK_MAX_FILES);
        if (w->n == w->cap) {
            w->cap = w->cap ? w->cap * 2 : 64;
            pack_file *grown = arena_alloc(w->c->a, sizeof *grown * (size_t)w->cap);
            if (w->n)
                memcpy(grown, w->files, sizeof *grown * (size_t)w->n);
            w->files = grown;
        }
        w->files[w->n++] = (pack_file){.arc = r, .disk = p, .size = (uint64_t)st.st_size};
    }
    return 0;
}

static int cmp_arc(const void *a, const void *b)
{
    return strcmp(((const pack_file *)a)->arc, ((const pack_file *)b)->arc);
}

int pack_list(client *c, const char *dir, const char *const *skip, int nskip, pack_file **out, int *n,
              derr *e)
{
    walk w = {.c = c, .e = e};
    w.skip = arena_zalloc(c->a, sizeof *w.skip * (size_t)(nskip + 1));
    for (int i = 0; i < nskip; i++)
        if (skip[i] && stat(skip[i], &w.skip[w.nskip]) == 0)
            w.nskip++;
    char *text;
    const char *ign = arena_printf(c->a, "%s/.depotignore", dir);
    if (client_read_file(c->a, ign, 1u << 20, &text, NULL, e) == 0)
        w.rules = ignore_parse(c->a, text);
    else if (errno != ENOENT)
        return -1;
    derr_clear(e);
    if (walk_dir(&w, dir, "", 0) < 0)
        return -1;
    if (w.n)
        qsort(w.files, (size_t)w.n, sizeof *w.files, cmp_arc);
    *out = w.files;
    *n = w.n;
    return 0;
}
