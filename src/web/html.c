/*
 * html.c — the dashboard's template helper and the small formatters pages
 * share: escaping, URL encoding, numbers, dates and sizes.
 *
 * Escaping is the default: a template placeholder {} escapes its argument,
 * {u} also refuses a URL whose scheme is not http(s) or mailto (a package's
 * homepage is whatever its publisher wrote), and only {!} inserts HTML as it
 * is, for fragments this front rendered itself.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/auth.h"
#include "../lib/log.h"
#include "../lib/markdown.h"
#include "../lib/timeutil.h"
#include "../lib/url.h"
#include "web.h"

void html_raw(buf *b, const char *s)
{
    if (s)
        buf_puts(b, s);
}

void html_table_head(buf *b, const char *const *cols)
{
    buf_puts(b, "<div class=\"table-wrap\"><table><thead><tr>");
    for (; *cols; cols++) {
        buf_puts(b, "<th scope=\"col\">");
        buf_puts(b, *cols);
        buf_puts(b, "</th>");
    }
    buf_puts(b, "</tr></thead><tbody>");
}

void html_text(buf *b, const char *s)
{
    if (!s)
        return;
    const char *run = s;
    for (const char *p = s; *p; p++) {
        const char *rep = NULL;
        switch (*p) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            continue;
        }
        buf_append(b, run, (size_t)(p - run));
        buf_puts(b, rep);
        run = p + 1;
    }
    buf_puts(b, run);
}

void html_tpl_(buf *b, const char *tpl, const char *const *args, size_t n)
{
    size_t used = 0;
    const char *p = tpl, *run = tpl;
    while (*p) {
        if (p[0] == '{' && p[1] == '{') {
            buf_append(b, run, (size_t)(p - run));
            buf_append(b, "{", 1);
            p += 2;
            run = p;
            continue;
        }
        int kind = 0; /* 1 {}, 2 {u}, 3 {!} */
        size_t len = 0;
        if (p[0] == '{' && p[1] == '}')
            kind = 1, len = 2;
        else if (p[0] == '{' && p[1] == 'u' && p[2] == '}')
            kind = 2, len = 3;
        else if (p[0] == '{' && p[1] == '!' && p[2] == '}')
            kind = 3, len = 3;
        if (!kind) {
            p++;
            continue;
        }
        buf_append(b, run, (size_t)(p - run));
        if (used == n) {
            log_error("web template has more placeholders than arguments", "template", tpl, NULL);
            abort();
        }
        const char *v = args[used++];
        if (kind == 1)
            html_text(b, v);
        else if (kind == 2)
            html_text(b, v && markdown_url_ok(v) ? v : "#");
        else
            html_raw(b, v);
        p += len;
        run = p;
    }
    buf_puts(b, run);
    if (used != n) {
        log_error("web template has fewer placeholders than arguments", "template", tpl, NULL);
        abort();
    }
}

/* A NULL value prints as nothing (optional fields of a page). */
static const char *pct(arena *a, const char *s, const char *keep)
{
    return s ? url_encode(a, s, keep) : "";
}

const char *web_seg(arena *a, const char *s)
{
    return pct(a, s, "@");
}

const char *web_q(arena *a, const char *s)
{
    return pct(a, s, "");
}

const char *web_pkg_path(arena *a, const char *ecosystem, const char *name)
{
    const char *slash = name ? strchr(name, '/') : NULL;
    if (slash && name[0] == '@') {
        const char *scope = arena_strndup(a, name, (size_t)(slash - name));
        return arena_printf(a, "/packages/%s/%s/%s", web_seg(a, ecosystem), web_seg(a, scope),
                            web_seg(a, slash + 1));
    }
    return arena_printf(a, "/packages/%s/%s", web_seg(a, ecosystem), web_seg(a, name));
}

const char *web_num(arena *a, int64_t n)
{
    return arena_printf(a, "%" PRId64, n);
}

const char *web_count(arena *a, int64_t n)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%" PRId64, n < 0 ? -n : n);
    size_t nd = strlen(digits);
    char out[48];
    size_t o = 0;
    if (n < 0)
        out[o++] = '-';
    for (size_t i = 0; i < nd; i++) {
        if (i && (nd - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
    return arena_strdup(a, out);
}

const char *web_date(arena *a, int64_t t)
{
    if (!t)
        return "";
    char b[32];
    time_rfc3339(t, b);
    b[10] = '\0';
    return arena_strdup(a, b);
}

const char *web_size(arena *a, int64_t n)
{
    if (n < 1000)
        return arena_printf(a, "%" PRId64 " B", n);
    if (n < 1000000)
        return arena_printf(a, "%.1f KB", (double)n / 1000.0);
    return arena_printf(a, "%.1f MB", (double)n / 1000000.0);
}

bool web_ecosystem_ok(const char *s)
{
    return ecosystem_find(s) != NULL;
}

const char *web_ecosystem_label(const char *eco)
{
    const eco_desc *x = ecosystem_find(eco);
    return x ? x->label : eco ? eco : "";
}
