/*
 * url.c — percent-decoding and -encoding (see url.h for the contract).
 * One decoder writes into a buffer the caller sized (n + 1 bytes are always
 * enough: decoding never lengthens text); the arena and malloc variants
 * only differ in where that buffer comes from.
 */
#include "url.h"

#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "xalloc.h"

/* Decodes s[0..n) into out (n + 1 bytes); 0, or -1 as url_decode refuses. */
static int unescape(char *out, const char *s, size_t n, bool plus_space)
{
    char *o = out;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            unsigned char c;
            if (n - i < 3 || hex_decode(s + i + 1, 2, &c, 1, NULL) < 0 || c == 0)
                return -1;
            *o++ = (char)c;
            i += 2;
        } else if (s[i] == '\0') {
            return -1;
        } else {
            *o++ = s[i] == '+' && plus_space ? ' ' : s[i];
        }
    }
    *o = '\0';
    return 0;
}

char *url_decode(arena *a, const char *s, size_t n, bool plus_space)
{
    char *out = arena_alloc(a, n + 1);
    return unescape(out, s, n, plus_space) == 0 ? out : NULL;
}

char *url_decode_dup(const char *s, size_t n, bool plus_space)
{
    char *out = xmalloc(n + 1);
    if (unescape(out, s, n, plus_space) == 0)
        return out;
    free(out);
    return NULL;
}

static bool stays(unsigned char c, const char *keep)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || (keep && c && strchr(keep, c));
}

static const char upper_hex[] = "0123456789ABCDEF";

char *url_encode(arena *a, const char *s, const char *keep)
{
    char *out = arena_alloc(a, strlen(s) * 3 + 1), *w = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (stays(*p, keep)) {
            *w++ = (char)*p;
        } else {
            *w++ = '%';
            *w++ = upper_hex[*p >> 4];
            *w++ = upper_hex[*p & 15];
        }
    }
    *w = '\0';
    return out;
}

int url_encode_buf(buf *out, const char *s, const char *keep)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[3] = {'%', upper_hex[*p >> 4], upper_hex[*p & 15]};
        int rc = stays(*p, keep) ? buf_append(out, p, 1) : buf_append(out, esc, 3);
        if (rc < 0)
            return -1;
    }
    return 0;
}
