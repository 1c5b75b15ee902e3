/*
 * emailkey.c — email addresses to their comparison key (see emailkey.h), with
 * ICU's NFKC_Casefold normalizer and its UTS #46 IDNA mapping. Both ICU
 * objects are made once and are safe to share between threads.
 */
#include "emailkey.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unicode/uidna.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include "xalloc.h"

/* Addresses are at most 254 bytes (checked before); room for what folding grows them to. */
#define CAP 1024

static const UNormalizer2 *fold;
static UIDNA *idna;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init(void)
{
    UErrorCode st = U_ZERO_ERROR;
    fold = unorm2_getNFKCCasefoldInstance(&st);
    if (U_FAILURE(st))
        fold = NULL;
    st = U_ZERO_ERROR;
    idna = uidna_openUTS46(UIDNA_NONTRANSITIONAL_TO_UNICODE, &st);
    if (U_FAILURE(st))
        idna = NULL;
}

static char *ascii_folded(const char *s)
{
    char *d = xstrdup(s);
    for (char *p = d; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return d;
}

/* The domain's Unicode form (punycode labels decoded) into out; the domain as given when UTS #46
 * refuses it (the address rules were checked before; this only merges spellings). */
static void domain_unicode(const char *dom, char *out, size_t cap)
{
    UErrorCode st = U_ZERO_ERROR;
    UIDNAInfo info = UIDNA_INFO_INITIALIZER;
    int32_t n = idna ? uidna_nameToUnicodeUTF8(idna, dom, -1, out, (int32_t)cap - 1, &info, &st) : -1;
    if (!idna || U_FAILURE(st) || info.errors || n < 0 || (size_t)n >= cap) {
        snprintf(out, cap, "%s", dom);
        return;
    }
    out[n] = '\0';
}

char *email_key(const char *email)
{
    if (!email)
        return NULL;
    pthread_once(&once, init);
    size_t len = strlen(email);
    const char *at = strrchr(email, '@');
    if (!fold || len >= CAP / 2)
        return ascii_folded(email);
    char joined[CAP];
    size_t local = at ? (size_t)(at - email) + 1 : len;
    memcpy(joined, email, local);
    joined[local] = '\0';
    if (at)
        domain_unicode(at + 1, joined + local, sizeof joined - local);

    UErrorCode st = U_ZERO_ERROR;
    UChar src[CAP], dst[CAP];
    int32_t slen = 0;
    u_strFromUTF8(src, CAP, &slen, joined, -1, &st);
    int32_t dlen = U_SUCCESS(st) ? unorm2_normalize(fold, src, slen, dst, CAP, &st) : 0;
    char out[CAP * 3];
    int32_t olen = 0;
    if (U_SUCCESS(st))
        u_strToUTF8(out, (int32_t)sizeof out, &olen, dst, dlen, &st);
    if (U_FAILURE(st) || olen <= 0 || (size_t)olen >= sizeof out)
        return ascii_folded(email);
    out[olen] = '\0';
    return xstrdup(out);
}
