/*
 * framing.c — the framing rules of RFC 9112 on the fields as libmicrohttpd 0.9.75 hands them over.
 *
 * What that version does with the shapes, and so what is looked for here:
 *   - `Name : value` keeps the whitespace in the name ("Transfer-Encoding "): a name that is not a
 *     token (RFC 9110, section 5.6.2) is refused, which also covers a tab or any other byte;
 *   - an obs-fold line (one starting with a space or a tab) is joined to the previous field's
 *     *name*, without the line break: "X-A: 1\r\n 2" arrives as a field "X-A2" whose value is
 *     "1", and a continuation with a space in it makes the name a non-token. A fold whose
 *     continuation is a single token is told apart by where the name is: moved out of the
 *     parsed head, away from its value (in_place);
 *   - several Content-Length fields arrive as several fields, and the first one wins: refused
 *     even when they agree, as nothing sends them (a list "5, 5" in one field is refused by
 *     libmicrohttpd itself, 400, before the server sees the request);
 *   - any Transfer-Encoding makes the length unknown, chunked or not: anything but exactly
 *     `chunked` once, and Transfer-Encoding with Content-Length, are refused.
 */
#include "framing.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

/* RFC 9110's tchar. */
static int is_tchar(unsigned char c)
{
    return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Why name is not a field name, or NULL. */
static const char *bad_name(const char *name)
{
    if (!*name)
        return "a header line has no field name";
    size_t n = strlen(name);
    if (name[n - 1] == ' ' || name[n - 1] == '\t')
        return "whitespace between a header field's name and its colon is not allowed";
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (!is_tchar(*p))
            return "a header field name is not a token (a folded header line, or a stray byte); "
                   "obsolete line folding is not allowed";
    return NULL;
}

/* Whether value sits where the parser left it after name in the request's head: the name, the
 * NUL that was its colon, optional whitespace, the value. A name joined to a folded line was
 * moved out of the head by libmicrohttpd 0.9.75 while its value stayed. Far apart (more than
 * MAX_OWS bytes of whitespace, itself a hostile request) counts as moved; only bytes of the
 * same parsed head, between the two, are read. */
#define MAX_OWS 256
static int in_place(const char *name, const char *value)
{
    size_t n = strlen(name);
    uintptr_t colon = (uintptr_t)name + n, v = (uintptr_t)value;
    if (v <= colon || v - colon > MAX_OWS)
        return 0;
    for (const char *p = name + n + 1; p < value; p++)
        if (*p != ' ' && *p != '\t')
            return 0;
    return 1;
}

/* value without the optional whitespace around it is "chunked", in any case. */
static int is_chunked(const char *value)
{
    while (*value == ' ' || *value == '\t')
        value++;
    size_t n = strlen(value);
    while (n && (value[n - 1] == ' ' || value[n - 1] == '\t'))
        n--;
    return n == 7 && strncasecmp(value, "chunked", 7) == 0;
}

const char *framing_problem(const http_field *f, size_t n)
{
    size_t ncl = 0, nte = 0;
    const char *te = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *why = bad_name(f[i].name);
        if (why)
            return why;
        if (f[i].value && !in_place(f[i].name, f[i].value))
            return "obsolete line folding (a header line that starts with whitespace) is not allowed";
        if (strcasecmp(f[i].name, "Content-Length") == 0)
            ncl++;
        else if (strcasecmp(f[i].name, "Transfer-Encoding") == 0) {
            nte++;
            te = f[i].value ? f[i].value : "";
        }
    }
    if (ncl && nte)
        return "a request may not have both Content-Length and Transfer-Encoding";
    if (ncl > 1)
        return "a request may have one Content-Length only";
    if (nte > 1 || (te && !is_chunked(te)))
        return "the only Transfer-Encoding accepted is chunked, once";
    return NULL;
}
