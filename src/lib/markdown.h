/*
 * markdown.h — package READMEs (CommonMark) to HTML that is safe to put in
 * one of our pages.
 *
 * The README is somebody else's text shown on this server's origin, so the
 * rendering trusts nothing in it: cmark renders in its safe mode (raw HTML
 * is never passed through, javascript:/vbscript:/file: links are blanked),
 * and on top of that every link and image URL is checked here against an
 * allow list (http, https, mailto, or a relative reference): a link with
 * another URL loses its link and keeps its text, an image keeps only its
 * alternative text, and raw HTML is dropped from the tree. Finally the HTML
 * that comes out is checked tag by tag (only the elements and attributes
 * cmark itself writes, every href/src passing the same URL test); if that
 * check ever fails, the README is shown as escaped plain text instead.
 *
 * Input is capped (MARKDOWN_MAX_INPUT, cut at a line end) and output is
 * capped by whole top-level blocks, so a page stays small whatever the
 * README is. Headings are moved down one level (a README's "# Title"
 * becomes <h2>) so the page keeps one <h1>.
 */
#ifndef DEPOT_MARKDOWN_H
#define DEPOT_MARKDOWN_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes of Markdown read at most; the rest is dropped (and *truncated set). */
#define MARKDOWN_MAX_INPUT ((size_t)256 * 1024)

/* Renders n bytes of Markdown. Output stops before the top-level block that would take it past
 * max_out bytes (0: no cap), and *truncated (when not NULL) tells whether anything was left out.
 * Returns a malloc'd NUL-terminated string the caller frees (never NULL: out of memory aborts). */
char *markdown_to_html(const char *md, size_t n, size_t max_out, bool *truncated);

/* May this URL be a link or an image source in a page? http:, https:, mailto:, or a relative
 * reference (no scheme). Tabs and newlines inside, and C0 controls and spaces around, are
 * ignored first, as browsers do, so "java\tscript:" is still javascript:. */
bool markdown_url_ok(const char *url);

/* The post-check: true when html (as markdown_to_html writes it) has only the elements and
 * attributes cmark writes, and every href/src passes markdown_url_ok. */
bool markdown_html_safe(const char *html);

#endif
