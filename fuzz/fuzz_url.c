/*
 * fuzz_url.c — libFuzzer driver for percent-encoding (url_decode,
 * url_decode_dup, url_encode in src/lib/url.c) and query strings (req_query
 * in src/http/request.c).
 *
 * Input: a query string as it follows '?' in a request line; the first
 * byte's bit 0 picks whether '+' decodes to a space in the url_decode pass.
 *
 * Checked: url_decode refuses a malformed or NUL escape and a raw NUL, and
 * otherwise gives exactly one byte per escape or plain byte, none of them
 * NUL, and url_decode_dup gives the same; text re-encoded with every byte
 * escaped, and text encoded by url_encode (only unreserved bytes and
 * upper-case escapes), decode back to themselves. Every
 * key in the string is looked up with req_query and gives a value no longer
 * than the query (or none, when a value of that key has a bad escape).
 *
 *   make fuzz FUZZERS=url   (see fuzz/README.md)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "http/router.h"
#include "lib/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t decoded_len(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++, k++)
        if (s[i] == '%')
            i += 2;
    return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int plus = data[0] & 1;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    arena *a = arena_new(0);

    char *d = url_decode(a, s, n, plus);
    char *dup = url_decode_dup(s, n, plus);
    if (!d != !dup || (d && strcmp(d, dup) != 0))
        abort();
    free(dup);
    if (d) {
        if (memchr(s, '\0', n) || strlen(d) != decoded_len(s, n))
            abort();
        size_t dl = strlen(d);
        char *enc = arena_alloc(a, dl * 3 + 1);
        for (size_t i = 0; i < dl; i++)
            snprintf(enc + i * 3, 4, "%%%02X", (unsigned char)d[i]);
        char *back = url_decode(a, enc, dl * 3, 0);
        if (!back || strcmp(back, d) != 0)
            abort();
        char *e = url_encode(a, d, NULL);
        if (strspn(e, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%") != strlen(e))
            abort();
        for (const char *p = strchr(e, '%'); p; p = strchr(p + 1, '%'))
            if (strspn(p + 1, "0123456789ABCDEF") < 2)
                abort();
        back = url_decode(a, e, strlen(e), 0);
        if (!back || strcmp(back, d) != 0)
            abort();
    }

    /* req_query reads r->query (a C string) and allocates in r->a, nothing else. */
    char *q = arena_strndup(a, s, n);
    req r = {.a = a, .query = q};
    size_t ql = strlen(q);
    for (const char *p = q; *p;) {
        size_t len = strcspn(p, "&");
        const char *eq = memchr(p, '=', len);
        char *key = url_decode(a, p, eq ? (size_t)(eq - p) : len, 1);
        if (key) {
            const char *v = req_query(&r, key);
            /* NULL only when a value of that key is malformed, which takes a '%'. */
            if ((!v && !strchr(q, '%')) || (v && strlen(v) > ql))
                abort();
        }
        p += len;
        if (*p == '&')
            p++;
    }
    arena_free(a);
    return 0;
}
