/*
 * fuzz_utf8.c — libFuzzer driver for strict UTF-8 (src/lib/utf8.c).
 *
 * Input: any bytes.
 *
 * Checked: utf8_valid and utf8_valid_prefix agree with a second,
 * independent validator written from the byte ranges of Unicode's table 3-7
 * (well-formed UTF-8 byte sequences); the valid prefix decodes code point by
 * code point, every code point in range and not a surrogate, and encodes
 * back to exactly the same bytes; decoding at the prefix's end fails.
 *
 *   make fuzz FUZZERS=utf8   (see fuzz/README.md)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Table 3-7: the ranges of the second byte depend on the first; the rest are 80..BF. */
static size_t table_prefix(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t b = s[i];
        size_t len;
        uint8_t lo = 0x80, hi = 0xBF;
        if (b <= 0x7F)
            len = 1;
        else if (b >= 0xC2 && b <= 0xDF)
            len = 2;
        else if (b == 0xE0)
            len = 3, lo = 0xA0;
        else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF)
            len = 3;
        else if (b == 0xED)
            len = 3, hi = 0x9F;
        else if (b == 0xF0)
            len = 4, lo = 0x90;
        else if (b >= 0xF1 && b <= 0xF3)
            len = 4;
        else if (b == 0xF4)
            len = 4, hi = 0x8F;
        else
            return i;
        if (n - i < len)
            return i;
        if (len > 1 && (s[i + 1] < lo || s[i + 1] > hi))
            return i;
        for (size_t k = 2; k < len; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF)
                return i;
        i += len;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    size_t want = table_prefix(data, size);
    size_t pre = utf8_valid_prefix(s, size);
    if (pre != want || utf8_valid(s, size) != (want == size))
        abort();

    char *again = malloc(size + 1);
    size_t w = 0;
    for (size_t i = 0; i < pre;) {
        uint32_t cp;
        size_t n = utf8_decode(s + i, pre - i, &cp);
        if (n == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            abort();
        size_t m = utf8_encode(cp, again + w);
        if (m != n)
            abort();
        w += m;
        i += n;
    }
    if (w != pre || memcmp(again, s, pre) != 0)
        abort();
    uint32_t cp;
    if (pre < size && utf8_decode(s + pre, size - pre, &cp) != 0)
        abort();
    free(again);
    return 0;
}
