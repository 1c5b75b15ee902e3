/*
 * markdown.c — READMEs to safe HTML with cmark (markdown.h).
 *
 * Three layers, each enough on its own for what it covers: cmark's safe
 * mode; a pass over the parsed tree that drops raw HTML, unwraps links and
 * images whose URL is not on the allow list, and moves headings down a
 * level; and a check of the HTML that comes out, which falls back to
 * escaped text if anything it did not expect is there. The tree pass does
 * the real work; the output check guards against a cmark change or bug.
 */
#include "markdown.h"

#include <cmark.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xalloc.h"

bool markdown_url_ok(const char *url)
{
    if (!url)
        return true;
    /* What a browser's URL parser does first: trim C0 controls and spaces, drop tabs and
     * newlines anywhere. Any other control character is refused outright. */
    const char *s = url;
    while (*s && (unsigned char)*s <= ' ')
        s++;
    size_t end = strlen(s);
    while (end && (unsigned char)s[end - 1] <= ' ')
        end--;
    char scheme[16];
    size_t sl = 0;
    bool have_colon = false;
    for (size_t i = 0; i < end; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\t' || c == '\n' || c == '\r')
            continue;
        if (c < ' ' || c == 0x7f)
            return false;
        if (have_colon)
            continue;
        if (c == ':') {
            have_colon = true;
            break;
        }
        if (c == '/' || c == '?' || c == '#')
            return true; /* a path, query or fragment before any colon: relative */
        bool scheme_char = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (sl > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'));
        if (!scheme_char)
            return true; /* "./x:y", "1:2", "%6Aavascript:" are paths, never schemes */
        if (sl + 1 >= sizeof scheme)
            return false; /* a long "scheme" we do not know */
        scheme[sl++] = (char)(c | 0x20);
    }
    if (!have_colon)
        return true;
    scheme[sl] = '\0';
    return strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0 || strcmp(scheme, "mailto") == 0;
}

/* ---- the output check ---- */

static const struct {
    const char *tag;
    const char *attrs; /* space-separated, with spaces around */
} allowed[] = {
    {"p", " "},
    {"h1", " "},
    {"h2", " "},
    {"h3", " "},
    {"h4", " "},
    {"h5", " "},
    {"h6", " "},
    {"blockquote", " "},
    {"ul", " "},
    {"ol", " start "},
    {"li", " "},
    {"pre", " "},
    {"code", " class "},
    {"hr", " "},
    {"br", " "},
    {"em", " "},
    {"strong", " "},
    {"a", " rel href title "},
    {"img", " loading src alt title "},
};

/* Decodes the few entities cmark writes in attribute values (and numeric ones) into out. */
static void attr_decode(const char *v, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 4 < cap;) {
        if (v[i] != '&') {
            out[o++] = v[i++];
            continue;
        }
        const char *semi = memchr(v + i, ';', n - i);
        size_t len = semi ? (size_t)(semi - (v + i)) + 1 : 0;
        if (len == 5 && !memcmp(v + i, "&amp;", 5))
            out[o++] = '&';
        else if (len == 4 && !memcmp(v + i, "&lt;", 4))
            out[o++] = '<';
        else if (len == 4 && !memcmp(v + i, "&gt;", 4))
            out[o++] = '>';
        else if (len == 6 && !memcmp(v + i, "&quot;", 6))
            out[o++] = '"';
        else if (len > 3 && v[i + 1] == '#') {
            long cp = (v[i + 2] == 'x' || v[i + 2] == 'X') ? strtol(v + i + 3, NULL, 16)
                                                           : strtol(v + i + 2, NULL, 10);
            /* Anything that decodes to a control or non-ASCII character stays unusual: keep a
             * marker the URL check refuses. */
            out[o++] = cp > 0 && cp < 0x7f && cp >= ' ' ? (char)cp : '\x01';
        } else {
            out[o++] = '\x01';
            len = 1;
        }
        i += len ? len : 1;
    }
    out[o] = '\0';
}

bool markdown_html_safe(const char *html)
{
    const char *p = html;
    while ((p = strchr(p, '<'))) {
        p++;
        if (*p == '/')
            p++;
        const char *name = p;
        while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
            p++;
        size_t nl = (size_t)(p - name);
        int k = -1;
        for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
            if (strlen(allowed[i].tag) == nl && !memcmp(allowed[i].tag, name, nl))
                k = (int)i;
        if (k < 0)
            return false;
        for (;;) {
            while (*p == ' ')
                p++;
            if (*p == '>') {
                p++;
                break;
            }
            if (p[0] == '/' && p[1] == '>') {
                p += 2;
                break;
            }
            const char *an = p;
            while ((*p >= 'a' && *p <= 'z') || *p == '-')
                p++;
            size_t al = (size_t)(p - an);
            if (!al || al > 20 || p[0] != '=' || p[1] != '"')
                return false;
            char probe[24];
            probe[0] = ' ';
            memcpy(probe + 1, an, al);
            probe[al + 1] = ' ';
            probe[al + 2] = '\0';
            if (!strstr(allowed[k].attrs, probe))
                return false;
            p += 2;
            const char *v = p, *q = strchr(p, '"');
            if (!q)
                return false;
            if ((al == 4 && !memcmp(an, "href", 4)) || (al == 3 && !memcmp(an, "src", 3))) {
                size_t vn = (size_t)(q - v);
                char *dec = xmalloc(vn + 8);
                attr_decode(v, vn, dec, vn + 8);
                bool ok = markdown_url_ok(dec) && !strchr(dec, '\x01');
                free(dec);
                if (!ok)
                    return false;
            }
            p = q + 1;
        }
    }
    return true;
}

/* ---- rendering ---- */

struct fixes {
    cmark_node **drop, **unwrap;
    size_t ndrop, nunwrap, cap_drop, cap_unwrap;
};

static void push(cmark_node ***arr, size_t *n, size_t *cap, cmark_node *x)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        *arr = xrealloc(*arr, *cap * sizeof **arr);
    }
    (*arr)[(*n)++] = x;
}

/* Walks the tree once, noting what to drop and unwrap (the tree is changed after the walk), and
 * moves headings down a level. */
static void sanitize(cmark_node *doc)
{
    struct fixes f = {0};
    cmark_iter *it = cmark_iter_new(doc);
    cmark_event_type ev;
    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        if (ev != CMARK_EVENT_ENTER)
            continue;
        cmark_node *n = cmark_iter_get_node(it);
        switch (cmark_node_get_type(n)) {
        case CMARK_NODE_HTML_BLOCK:
        case CMARK_NODE_HTML_INLINE:
        case CMARK_NODE_CUSTOM_BLOCK:
        case CMARK_NODE_CUSTOM_INLINE:
            push(&f.drop, &f.ndrop, &f.cap_drop, n);
            break;
        case CMARK_NODE_LINK:
        case CMARK_NODE_IMAGE:
            if (!markdown_url_ok(cmark_node_get_url(n)))
                push(&f.unwrap, &f.nunwrap, &f.cap_unwrap, n);
            break;
        case CMARK_NODE_HEADING: {
            int lv = cmark_node_get_heading_level(n);
            cmark_node_set_heading_level(n, lv < 6 ? lv + 1 : 6);
            break;
        }
        default:
            break;
        }
    }
    cmark_iter_free(it);
    for (size_t i = 0; i < f.nunwrap; i++) {
        cmark_node *n = f.unwrap[i], *ch;
        while ((ch = cmark_node_first_child(n)))
            cmark_node_insert_before(n, ch);
        cmark_node_free(n);
    }
    for (size_t i = 0; i < f.ndrop; i++)
        cmark_node_free(f.drop[i]);
    free(f.drop);
    free(f.unwrap);
}

/* Appends one rendered block, giving links rel="nofollow noopener" and images loading="lazy". */
static int append_block(buf *b, const char *h)
{
    static const struct {
        const char *from, *to;
    } adds[] = {
        {"<a href=\"", "<a rel=\"nofollow noopener\" href=\""},
        {"<img src=\"", "<img loading=\"lazy\" src=\""},
    };
    const char *p = h;
    while (*p) {
        const char *next = strchr(p, '<');
        if (!next) {
            if (buf_puts(b, p) < 0)
                return -1;
            break;
        }
        if (buf_append(b, p, (size_t)(next - p)) < 0)
            return -1;
        p = next;
        bool done = false;
        for (size_t i = 0; i < 2 && !done; i++) {
            size_t fl = strlen(adds[i].from);
            if (!strncmp(p, adds[i].from, fl)) {
                if (buf_puts(b, adds[i].to) < 0)
                    return -1;
                p += fl;
                done = true;
            }
        }
        if (!done) {
            if (buf_append(b, "<", 1) < 0)
                return -1;
            p++;
        }
    }
    return 0;
}

static char *escaped_text(const char *md, size_t n, size_t max_out, bool *truncated)
{
    buf b;
    buf_init(&b, 0);
    buf_puts(&b, "<pre class=\"readme-text\">");
    for (size_t i = 0; i < n; i++) {
        if (max_out && b.len + 16 > max_out) {
            *truncated = true;
            break;
        }
        char ch = md[i];
        const char *ent = ch == '<'   ? "&lt;"
                          : ch == '>' ? "&gt;"
                          : ch == '&' ? "&amp;"
                          : ch == '"' ? "&quot;"
                                      : NULL;
        if (ent)
            buf_puts(&b, ent);
        else if (ch != '\0')
            buf_append(&b, &md[i], 1);
    }
    buf_puts(&b, "</pre>\n");
    return b.data;
}

char *markdown_to_html(const char *md, size_t n, size_t max_out, bool *truncated)
{
    bool cut = false;
    if (!md)
        n = 0;
    if (n > MARKDOWN_MAX_INPUT) {
        size_t m = MARKDOWN_MAX_INPUT;
        while (m > 0 && md[m - 1] != '\n')
            m--;
        n = m ? m : MARKDOWN_MAX_INPUT;
        cut = true;
    }
    int opts = CMARK_OPT_DEFAULT | CMARK_OPT_SAFE | CMARK_OPT_VALIDATE_UTF8;
    cmark_node *doc = cmark_parse_document(n ? md : "", n, opts);
    if (!doc)
        xoom();
    sanitize(doc);
    buf b;
    buf_init(&b, 0);
    for (cmark_node *ch = cmark_node_first_child(doc); ch; ch = cmark_node_next(ch)) {
        char *h = cmark_render_html(ch, opts);
        if (!h)
            xoom();
        size_t before = b.len;
        int rc = append_block(&b, h);
        free(h);
        if (rc < 0 || (max_out && b.len > max_out)) {
            b.len = before;
            b.data[before] = '\0';
            cut = true;
            break;
        }
    }
    cmark_node_free(doc);
    if (!b.data)
        buf_puts(&b, "");
    if (!markdown_html_safe(b.data)) {
        buf_free(&b);
        bool t2 = cut;
        char *out = escaped_text(md, n, max_out, &t2);
        if (truncated)
            *truncated = t2;
        return out;
    }
    if (truncated)
        *truncated = cut;
    return b.data;
}
