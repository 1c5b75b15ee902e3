/*
 * multipart.c — a streaming multipart/form-data parser over a body file.
 *
 * The body is read with pread into a window buffer. To treat the first
 * boundary like every other one, the window starts with a CRLF that is not in
 * the body: then every delimiter is "CRLF--boundary", the preamble is
 * whatever comes before the first one, and no special case is needed for a
 * body that starts right at its boundary.
 *
 * Three states: PREAMBLE and BODY look for the next delimiter (content before
 * it goes to the current part, or nowhere); HEADERS collects one part's
 * header block up to its empty line. When no delimiter is in the window, all
 * but its last (delimiter length - 1) bytes are surely content and are
 * passed on; the tail stays in case it is the start of a delimiter split
 * across two reads.
 */
#include "multipart.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "../lib/crypto.h"
#include "../lib/xalloc.h"

#define DEFAULT_CHUNK ((size_t)64 * 1024)
#define MAX_BOUNDARY 70 /* RFC 2046 */
#define MAX_PADDING 64  /* white space allowed after a boundary */

static size_t chunk_size = DEFAULT_CHUNK;

void multipart_set_chunk_size(size_t n)
{
    chunk_size = n ? n : DEFAULT_CHUNK;
}

/* The parts so far, where the arena cleanup can find them at any time. */
struct holder {
    mp_part *parts;
    int n, cap;
};

static void holder_cleanup(void *p)
{
    struct holder *h = p;
    for (int i = 0; i < h->n; i++) {
        mp_part *pt = &h->parts[i];
        if (pt->fd >= 0)
            close(pt->fd);
        pt->fd = -1;
        if (pt->path)
            unlink(pt->path);
        pt->path = NULL;
    }
}

enum state { PREAMBLE, HEADERS, BODY };

struct mp {
    arena *a;
    int fd;
    uint64_t off, len; /* read position and size of the body */
    bool eof;
    char *b; /* window [start, end) of capacity cap */
    size_t cap, start, end;
    char delim[4 + MAX_BOUNDARY + 1]; /* "\r\n--" boundary */
    size_t dlen;
    mp_limits lim;
    const char *tmp_dir;
    struct holder *h;
    mp_part *cur; /* the part whose content is being read, or NULL */
    sha256_ctx sha;
    buf field; /* a field's content */
    derr *e;
};

/* A piece of client text as a message may show it: at most 60 bytes,
 * anything but printable ASCII as '?' (messages go into JSON). */
static const char *clip(arena *a, const char *s, size_t n)
{
    return derr_clip(arena_alloc(a, 60 + 4), s, n, 60);
}

/* "part 2 ('tarball')", or "part 2" before its name is known (cur is set as
 * soon as the part is counted, so the part being read is h->n or h->n + 1). */
static const char *part_label(struct mp *m)
{
    int idx = m->cur ? m->h->n : m->h->n + 1;
    if (m->cur && m->cur->name)
        return arena_printf(m->a, "part %d ('%s')", idx, clip(m->a, m->cur->name, strlen(m->cur->name)));
    return arena_printf(m->a, "part %d", idx);
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t';
}

/* ---- the boundary from the Content-Type ---- */

static bool is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* A quoted-string at *p (just past the opening quote) into the arena, with
 * quoted-pair escapes undone; *p moves past the closing quote. NULL when
 * the quote is not closed or a control character appears. */
static char *quoted(arena *a, const char **p, const char *end)
{
    const char *s = *p;
    char *out = arena_alloc(a, (size_t)(end - s) + 1);
    size_t n = 0;
    while (s < end && *s != '"') {
        if (*s == '\\' && s + 1 < end)
            s++;
        if ((unsigned char)*s < 0x20 && *s != '\t')
            return NULL;
        out[n++] = *s++;
    }
    if (s >= end)
        return NULL;
    out[n] = '\0';
    *p = s + 1;
    return out;
}

/* One ";name=value" parameter of a header value starting at *p. Returns 1
 * with the name (a view) and value (in the arena), 0 at the end of the
 * value, -1 when malformed. */
static int next_param(arena *a, const char **p, const char *end, const char **pn, size_t *pnl, char **val)
{
    const char *s = *p;
    while (s < end && is_ws(*s))
        s++;
    if (s >= end)
        return 0;
    if (*s != ';')
        return -1;
    s++;
    while (s < end && (is_ws(*s) || *s == ';'))
        s++;
    if (s >= end) {
        *p = s;
        return 0; /* a trailing ';' */
    }
    const char *n0 = s;
    while (s < end && is_tchar(*s))
        s++;
    if (s == n0)
        return -1;
    *pn = n0;
    *pnl = (size_t)(s - n0);
    while (s < end && is_ws(*s))
        s++;
    if (s >= end || *s != '=')
        return -1;
    s++;
    while (s < end && is_ws(*s))
        s++;
    if (s < end && *s == '"') {
        s++;
        if (!(*val = quoted(a, &s, end)))
            return -1;
    } else {
        const char *v0 = s;
        while (s < end && is_tchar(*s))
            s++;
        if (s == v0)
            return -1;
        *val = arena_strndup(a, v0, (size_t)(s - v0));
    }
    *p = s;
    return 1;
}

static bool name_is(const char *n, size_t nl, const char *want)
{
    return strlen(want) == nl && strncasecmp(n, want, nl) == 0;
}

static bool boundary_ok(const char *b)
{
    size_t n = strlen(b);
    if (n == 0 || n > MAX_BOUNDARY || b[n - 1] == ' ')
        return false;
    for (const char *s = b; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              strchr("'()+_,-./:=? ", *s)))
            return false;
    return true;
}

static int parse_boundary(arena *a, const char *ct, char **boundary, derr *e)
{
    static const char mt[] = "multipart/form-data";
    if (!ct)
        return derr_set(e, 415, "unsupported_media_type", "expected Content-Type multipart/form-data");
    const char *end = ct + strlen(ct), *s = ct;
    while (s < end && is_ws(*s))
        s++;
    if ((size_t)(end - s) < sizeof mt - 1 || strncasecmp(s, mt, sizeof mt - 1) != 0 ||
        (s[sizeof mt - 1] && s[sizeof mt - 1] != ';' && !is_ws(s[sizeof mt - 1])))
        return derr_set(e, 415, "unsupported_media_type", "expected Content-Type multipart/form-data, got %s",
                        clip(a, ct, strlen(ct)));
    s += sizeof mt - 1;
    *boundary = NULL;
    const char *pn;
    size_t pnl;
    char *val;
    int r;
    while ((r = next_param(a, &s, end, &pn, &pnl, &val)) > 0)
        if (name_is(pn, pnl, "boundary") && !*boundary)
            *boundary = val;
    if (r < 0)
        return derr_set(e, 400, "bad_request", "malformed parameters in the Content-Type header");
    if (!*boundary)
        return derr_set(e, 400, "bad_request", "the multipart Content-Type has no boundary");
    if (!boundary_ok(*boundary))
        return derr_set(
            e, 400, "bad_request",
            "the multipart boundary must be 1 to 70 letters, digits or '()+_,-./:=? (not ending in a space)");
    return 0;
}

/* ---- reading ---- */

/* Reads more of the body behind the window, moving the window to the front
 * of the buffer first. Sets eof when the body is all read. */
static int fill(struct mp *m)
{
    if (m->start > 0) {
        memmove(m->b, m->b + m->start, m->end - m->start);
        m->end -= m->start;
        m->start = 0;
    }
    if (m->off >= m->len) {
        m->eof = true;
        return 0;
    }
    size_t want = chunk_size;
    if (want > m->cap - m->end)
        want = m->cap - m->end;
    if ((uint64_t)want > m->len - m->off)
        want = (size_t)(m->len - m->off);
    for (;;) {
        ssize_t r = pread(m->fd, m->b + m->end, want, (off_t)m->off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = EIO;
            return derr_set(m->e, 500, "internal", "the server could not read the request body");
        }
        m->end += (size_t)r;
        m->off += (uint64_t)r;
        return 0;
    }
}

/* ---- parts ---- */

static mp_part *part_new(struct mp *m)
{
    if ((size_t)m->h->n >= m->lim.max_parts) {
        derr_set(m->e, 400, "bad_request", "the form has more than %zu parts", m->lim.max_parts);
        return NULL;
    }
    if (m->h->n == m->h->cap) {
        int cap = m->h->cap ? m->h->cap * 2 : 8;
        mp_part *np = arena_alloc(m->a, (size_t)cap * sizeof *np);
        if (m->h->n)
            memcpy(np, m->h->parts, (size_t)m->h->n * sizeof *np);
        m->h->parts = np;
        m->h->cap = cap;
    }
    mp_part *p = &m->h->parts[m->h->n++];
    memset(p, 0, sizeof *p);
    p->fd = -1;
    return p;
}

/* Content for the current part. */
static int sink(struct mp *m, const char *p, size_t n)
{
    mp_part *pt = m->cur;
    if (!pt || n == 0)
        return 0;
    pt->size += n;
    if (pt->filename) {
        if (pt->size > m->lim.max_file)
            return derr_set(m->e, 413, "payload_too_large", "%s is larger than %llu bytes", part_label(m),
                            (unsigned long long)m->lim.max_file);
    } else if (pt->size > m->lim.max_field) {
        return derr_set(m->e, 413, "payload_too_large", "%s is larger than %zu bytes", part_label(m),
                        m->lim.max_field);
    }
    sha256_update(&m->sha, p, n);
    if (!pt->filename) {
        buf_append(&m->field, p, n); /* capped above */
        return 0;
    }
    while (n) {
        ssize_t w = write(pt->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return derr_storage(m->e, w < 0 ? errno : ENOSPC, "the server's storage for uploads");
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int part_finish(struct mp *m)
{
    mp_part *pt = m->cur;
    if (!pt)
        return 0;
    sha256_final(&m->sha, pt->sha256);
    if (pt->filename) {
        if (lseek(pt->fd, 0, SEEK_SET) < 0)
            return derr_set(m->e, 500, "internal", "the server could not store an uploaded part");
    } else {
        pt->len = m->field.len;
        char *v = arena_alloc(m->a, pt->len + 1);
        if (pt->len)
            memcpy(v, m->field.data, pt->len);
        v[pt->len] = '\0';
        pt->value = v;
        buf_reset(&m->field);
    }
    m->cur = NULL;
    return 0;
}

static int disposition(struct mp *m, mp_part *pt, const char *v, const char *end)
{
    static const char fd[] = "form-data";
    const char *s = v;
    while (s < end && is_tchar(*s))
        s++;
    if (!name_is(v, (size_t)(s - v), fd))
        return derr_set(m->e, 400, "bad_request", "%s: Content-Disposition must be form-data", part_label(m));
    const char *pn;
    size_t pnl;
    char *val;
    int r;
    while ((r = next_param(m->a, &s, end, &pn, &pnl, &val)) > 0) {
        const char **slot = name_is(pn, pnl, "name")       ? &pt->name
                            : name_is(pn, pnl, "filename") ? &pt->filename
                                                           : NULL;
        if (!slot)
            continue; /* filename* (RFC 7578 4.2 says not to use it) and the like */
        if (*slot)
            return derr_set(m->e, 400, "bad_request", "%s: Content-Disposition repeats a parameter",
                            part_label(m));
        *slot = val;
    }
    if (r < 0)
        return derr_set(m->e, 400, "bad_request", "%s: malformed Content-Disposition", part_label(m));
    if (!pt->name)
        return derr_set(m->e, 400, "bad_request", "%s: Content-Disposition has no name", part_label(m));
    return 0;
}

/* The header block [p, end): lines, each ending in CRLF. */
static int headers(struct mp *m, mp_part *pt, const char *p, const char *end)
{
    bool seen_cd = false;
    for (const char *c = p; c + 2 < end; c++)
        if (c[0] == '\r' && c[1] == '\n' && is_ws(c[2]))
            return derr_set(m->e, 400, "bad_request", "%s: folded header lines are not supported",
                            part_label(m));
    while (p < end) {
        const char *eol = memchr(p, '\r', (size_t)(end - p));
        if (!eol || eol + 1 >= end || eol[1] != '\n')
            return derr_set(m->e, 400, "bad_request", "%s: a header line does not end in CRLF",
                            part_label(m));
        for (const char *c = p; c < eol; c++)
            if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
                return derr_set(m->e, 400, "bad_request", "%s: a header contains a control character",
                                part_label(m));
        if (is_ws(*p)) /* the first line: nothing to fold into */
            return derr_set(m->e, 400, "bad_request", "%s: a header line starts with white space",
                            part_label(m));
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (!colon)
            return derr_set(m->e, 400, "bad_request", "%s: a header line has no ':'", part_label(m));
        const char *ne = colon;
        while (ne > p && is_ws(ne[-1]))
            ne--;
        const char *v = colon + 1, *ve = eol;
        while (v < ve && is_ws(*v))
            v++;
        while (ve > v && is_ws(ve[-1]))
            ve--;
        size_t nl = (size_t)(ne - p);
        if (name_is(p, nl, "Content-Disposition")) {
            if (seen_cd)
                return derr_set(m->e, 400, "bad_request", "%s: two Content-Disposition headers",
                                part_label(m));
            seen_cd = true;
            if (disposition(m, pt, v, ve) < 0)
                return -1;
        } else if (name_is(p, nl, "Content-Type")) {
            if (pt->content_type)
                return derr_set(m->e, 400, "bad_request", "%s: two Content-Type headers", part_label(m));
            pt->content_type = arena_strndup(m->a, v, (size_t)(ve - v));
        }
        p = eol + 2;
    }
    if (!seen_cd)
        return derr_set(m->e, 400, "bad_request", "%s has no Content-Disposition header", part_label(m));
    return 0;
}

/* A part's headers are read: set it up to receive its content. */
static int part_begin(struct mp *m, mp_part *pt)
{
    sha256_init(&m->sha);
    if (!pt->filename)
        return 0;
    char *path = arena_printf(m->a, "%s/part-XXXXXX", m->tmp_dir);
    pt->fd = mkostemp(path, O_CLOEXEC);
    if (pt->fd < 0)
        return derr_storage(m->e, errno, "the server's storage for uploads");
    pt->path = path;
    return 0;
}

/* ---- the loop ---- */

/* HEADERS: one part's header block, once it is all in the buffer; then its BODY. */
static int read_headers(struct mp *m, enum state *st)
{
    size_t avail = m->end - m->start;
    const char *w = m->b + m->start;
    const char *hend = NULL;
    if (avail >= 2 && w[0] == '\r' && w[1] == '\n')
        hend = w; /* no headers at all */
    else if (avail >= 4)
        hend = memmem(w, avail, "\r\n\r\n", 4);
    if (hend && (size_t)(hend - w) + 2 > m->lim.max_header)
        hend = NULL; /* counted as too long below */
    if (!hend) {
        if (avail > m->lim.max_header + 2)
            return derr_set(m->e, 400, "bad_request", "%s: the part header is longer than %zu bytes",
                            part_label(m), m->lim.max_header);
        if (m->eof)
            return derr_set(m->e, 400, "bad_request",
                            "the body ends inside the headers of %s (no closing boundary)", part_label(m));
        return fill(m);
    }
    mp_part *pt = part_new(m);
    if (!pt)
        return -1;
    m->cur = pt;
    size_t blk = hend == w ? 0 : (size_t)(hend - w) + 2;
    if (headers(m, pt, w, w + blk) < 0 || part_begin(m, pt) < 0)
        return -1;
    m->start += blk + 2;
    *st = BODY;
    return 0;
}

/* PREAMBLE or BODY: content up to the next delimiter (sunk into the part in
 * BODY), then what the delimiter is: the close (*done), a new part (HEADERS),
 * or content that only looks like one. */
static int read_to_delimiter(struct mp *m, enum state *st, bool *done)
{
    const char *w = m->b + m->start;
    size_t avail = m->end - m->start;
    const char *d = memmem(w, avail, m->delim, m->dlen);
    if (!d) {
        if (m->eof)
            return derr_set(m->e, 400, "bad_request",
                            *st == PREAMBLE ? "the body has no multipart boundary line"
                                            : "the body ends before the closing boundary");
        size_t keep = m->dlen - 1;
        if (avail > keep) {
            if (*st == BODY && sink(m, w, avail - keep) < 0)
                return -1;
            m->start += avail - keep;
        }
        return fill(m);
    }
    size_t at = (size_t)(d - w); /* content before the delimiter */
    const char *after = d + m->dlen, *end = m->b + m->end;
    /* Decide what follows: "--" (the close), white space then CRLF (a
     * new part), or anything else (content that looks like a boundary). */
    const char *s = after;
    while (s < end && is_ws(*s) && s - after <= MAX_PADDING)
        s++;
    bool need_more = end - s < 2;
    if (need_more && !m->eof) {
        if (*st == BODY && sink(m, w, at) < 0)
            return -1;
        m->start += at;
        return fill(m);
    }
    int kind = 0; /* 1 close, 2 part, 0 content */
    if (s == after && end - s >= 2 && s[0] == '-' && s[1] == '-')
        kind = 1;
    else if (end - s >= 2 && s[0] == '\r' && s[1] == '\n' && s - after <= MAX_PADDING)
        kind = 2;
    if (kind == 0) {
        if (m->eof && need_more)
            return derr_set(m->e, 400, "bad_request", "the body ends before the closing boundary");
        /* Not a delimiter: its first byte is content; look again after it. */
        if (*st == BODY && sink(m, w, at + 1) < 0)
            return -1;
        m->start += at + 1;
        return 0;
    }
    if (*st == BODY && (sink(m, w, at) < 0 || part_finish(m) < 0))
        return -1;
    if (kind == 1) {
        *done = true; /* the epilogue is not read */
    } else {
        m->start = (size_t)(s + 2 - m->b);
        *st = HEADERS;
    }
    return 0;
}

static int run(struct mp *m)
{
    enum state st = PREAMBLE;
    bool done = false;
    while (!done)
        if ((st == HEADERS ? read_headers(m, &st) : read_to_delimiter(m, &st, &done)) < 0)
            return -1;
    return 0;
}

int multipart_parse(arena *a, int fd, uint64_t len, const char *content_type, const char *tmp_dir,
                    const mp_limits *lim, mp_part **parts, int *n, derr *e)
{
    *parts = NULL;
    *n = 0;
    char *boundary = NULL;
    if (parse_boundary(a, content_type, &boundary, e) < 0)
        return -1;

    struct mp m = {.a = a, .fd = fd, .len = len, .tmp_dir = tmp_dir, .e = e};
    if (lim)
        m.lim = *lim;
    if (!m.lim.max_parts)
        m.lim.max_parts = 64;
    if (m.lim.max_parts > INT32_MAX)
        m.lim.max_parts = INT32_MAX;
    if (!m.lim.max_field)
        m.lim.max_field = 64 * 1024;
    if (!m.lim.max_file)
        m.lim.max_file = (uint64_t)1 << 30;
    if (!m.lim.max_header)
        m.lim.max_header = 8 * 1024;
    m.dlen = (size_t)snprintf(m.delim, sizeof m.delim, "\r\n--%s", boundary);
    m.cap = chunk_size + m.lim.max_header + m.dlen + MAX_PADDING + 16;
    m.b = xmalloc(m.cap);
    memcpy(m.b, "\r\n", 2); /* the virtual CRLF before the first boundary */
    m.end = 2;
    buf_init(&m.field, m.lim.max_field);
    m.h = arena_zalloc(a, sizeof *m.h);
    arena_on_release(a, holder_cleanup, m.h);

    int rc = run(&m);
    free(m.b);
    buf_free(&m.field);
    if (rc < 0) {
        holder_cleanup(m.h); /* free the disk now, not when the request ends */
        m.h->n = 0;
        return -1;
    }
    *parts = m.h->parts;
    *n = m.h->n;
    return 0;
}

const mp_part *multipart_get(const mp_part *parts, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(parts[i].name, name) == 0)
            return &parts[i];
    return NULL;
}
