/*
 * fuzz_url.c — libFuzzer driver for percent-decoding (url_decode in
 * src/http/router.c) and query strings (req_query in src/http/request.c).
 *
 * Input: a query string as it follows '?' in a request line; the first
 * byte's bit 0 picks whether '+' decodes to a space in the url_decode pass.
 *
 * Checked: url_decode refuses a malformed or NUL escape and a raw NUL, and
 * otherwise gives exactly one byte per escape or plain byte, none of them
 * NUL; text re-encoded with every byte escaped decodes back to itself. Every
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
