/*
 * sigv4.c — AWS Signature Version 4 (sigv4.h): the canonical request, the
 * string to sign, the derived signing key, for a header or a presigned URL.
 *
 * The steps, as AWS documents them:
 *   canonical request = METHOD \n URI \n QUERY \n (name:value \n)* \n
 *                       signed-names \n payload-hash
 *   string to sign    = "AWS4-HMAC-SHA256" \n DATE-TIME \n SCOPE \n hex(sha256(canonical))
 *   signing key       = HMAC(HMAC(HMAC(HMAC("AWS4" secret, DATE), REGION), SERVICE), "aws4_request")
 *   signature         = hex(HMAC(signing key, string to sign))
 * where SCOPE is DATE/REGION/SERVICE/aws4_request.
 */
#include "sigv4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "url.h"
#include "xalloc.h"

#define ALGORITHM "AWS4-HMAC-SHA256"

int sigv4_uri_encode(buf *out, const char *s, bool keep_slash)
{
    return url_encode_buf(out, s, keep_slash ? "/" : NULL); /* SigV4 spells escapes in upper case too */
}

void sigv4_amz_date(long long unix_time, char out[17])
{
    time_t t = (time_t)unix_time;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static int cmp_header(const void *a, const void *b)
{
    return strcmp(((const sigv4_header *)a)->name, ((const sigv4_header *)b)->name);
}

/* hex(HMAC(signing key, string to sign)) for the canonical request text `canon`, into sig. The
 * scope ("DATE/REGION/SERVICE/aws4_request") goes to scope (at least 128 bytes). */
static int sign(const sigv4_params *p, const char *canon, size_t canon_len, char scope[128], char sig[65])
{
    char date[9];
    memcpy(date, p->amz_date, 8);
    date[8] = '\0';
    int n = snprintf(scope, 128, "%s/%s/%s/aws4_request", date, p->region, p->service);
    if (n < 0 || n >= 128)
        return -1;

    unsigned char h[32];
    char hhex[65];
    sha256(canon, canon_len, h);
    hex_encode(h, sizeof h, hhex);
    buf sts;
    buf_init(&sts, 0);
    buf_printf(&sts, ALGORITHM "\n%s\n%s\n%s", p->amz_date, scope, hhex);

    size_t sl = strlen(p->secret_key);
    char *k0 = xmalloc(sl + 5);
    memcpy(k0, "AWS4", 4);
    memcpy(k0 + 4, p->secret_key, sl + 1);
    unsigned char k[32];
    hmac_sha256(k0, sl + 4, date, 8, k);
    explicit_bzero(k0, sl + 4);
    free(k0);
    hmac_sha256(k, sizeof k, p->region, strlen(p->region), k);
    hmac_sha256(k, sizeof k, p->service, strlen(p->service), k);
    hmac_sha256(k, sizeof k, "aws4_request", 12, k);
    unsigned char s[32];
    hmac_sha256(k, sizeof k, sts.data, sts.len, s);
    explicit_bzero(k, sizeof k);
    hex_encode(s, sizeof s, sig);
    buf_free(&sts);
    return 0;
}

int sigv4_authorization(buf *out, const sigv4_params *p, const char *method, const char *uri,
                        const char *query, const sigv4_header *headers, size_t nheaders,
                        const char *payload_hash)
{
    sigv4_header *h = xmalloc(sizeof *h * (nheaders ? nheaders : 1));
    memcpy(h, headers, sizeof *h * nheaders);
    qsort(h, nheaders, sizeof *h, cmp_header);

    buf canon, names;
    buf_init(&canon, 0);
    buf_init(&names, 0);
    buf_printf(&canon, "%s\n%s\n%s\n", method, uri, query ? query : "");
    for (size_t i = 0; i < nheaders; i++) {
        buf_printf(&canon, "%s:%s\n", h[i].name, h[i].value);
        buf_printf(&names, "%s%s", i ? ";" : "", h[i].name);
    }
    buf_printf(&canon, "\n%s\n%s", names.data ? names.data : "", payload_hash);
    free(h);

    char scope[128], sig[65];
    int rc = sign(p, canon.data, canon.len, scope, sig);
    if (rc == 0)
        rc = buf_printf(out, ALGORITHM " Credential=%s/%s, SignedHeaders=%s, Signature=%s", p->access_key,
                        scope, names.data ? names.data : "", sig);
    buf_free(&canon);
    buf_free(&names);
    return rc;
}

int sigv4_presign(buf *out, const sigv4_params *p, const char *method, const char *uri, const char *host,
                  long expires, const char *session_token)
{
    char date[9];
    memcpy(date, p->amz_date, 8);
    date[8] = '\0';
    buf q, cred;
    buf_init(&q, 0);
    buf_init(&cred, 0);
    buf_printf(&cred, "%s/%s/%s/%s/aws4_request", p->access_key, date, p->region, p->service);
    /* Parameter names in byte order: Algorithm, Credential, Date, Expires, Security-Token, SignedHeaders. */
    buf_puts(&q, "X-Amz-Algorithm=" ALGORITHM "&X-Amz-Credential=");
    sigv4_uri_encode(&q, cred.data, false);
    buf_printf(&q, "&X-Amz-Date=%s&X-Amz-Expires=%ld", p->amz_date, expires);
    if (session_token && *session_token) {
        buf_puts(&q, "&X-Amz-Security-Token=");
        sigv4_uri_encode(&q, session_token, false);
    }
    buf_puts(&q, "&X-Amz-SignedHeaders=host");

    buf canon;
    buf_init(&canon, 0);
    buf_printf(&canon, "%s\n%s\n%s\nhost:%s\n\nhost\n" SIGV4_UNSIGNED_PAYLOAD, method, uri, q.data, host);
    char scope[128], sig[65];
    int rc = sign(p, canon.data, canon.len, scope, sig);
    if (rc == 0)
        rc = buf_printf(out, "%s&X-Amz-Signature=%s", q.data, sig);
    buf_free(&canon);
    buf_free(&q);
    buf_free(&cred);
    return rc;
}
