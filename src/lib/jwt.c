/*
 * jwt.c — compact JSON Web Tokens signed with HMAC-SHA-256 (RFC 7519, RFC 7515).
 *
 * We issue one shape of token and accept only that shape back. The header is
 * always {"alg":"HS256","typ":"JWT"}; on the way in, the header is decoded and
 * its "alg" compared with "HS256" before the signature is even decoded, so a
 * token cannot choose how it is checked ("none", HS512, RS256 with our secret
 * as a public key ...). Only then is the HMAC recomputed over the first two
 * parts exactly as received and compared in constant time, and only a token
 * whose signature holds has its claims parsed. Parsing is strict: duplicate
 * JSON keys, missing claims and claims of the wrong type are all malformed.
 */
#include "jwt.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

#define JWT_MAX_LEN 8192
#define JWT_HEADER "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

/* Returns NULL when a claim string is missing or jansson refuses it (not UTF-8). */
char *jwt_sign(arena *a, const unsigned char *key, size_t keylen, const jwt_claims *c)
{
    if (!c || !c->name || !c->jti)
        return NULL;
    char sub[24];
    snprintf(sub, sizeof sub, "%" PRId64, c->sub);
    json_t *payload = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:I}", "sub", sub, "name", c->name,
                                "iat", (json_int_t)c->iat, "exp", (json_int_t)c->exp, "jti", c->jti,
                                "sid", c->sid ? c->sid : c->jti, "gen", (json_int_t)c->gen);
    if (!payload)
        return NULL;
    char *pj = json_dumps(payload, JSON_COMPACT);
    json_decref(payload);
    if (!pj)
        return NULL;

    const char *h64 = b64url_encode(a, JWT_HEADER, sizeof JWT_HEADER - 1);
    const char *p64 = b64url_encode(a, pj, strlen(pj));
    free(pj);
    char *signing = arena_printf(a, "%s.%s", h64, p64);
    unsigned char mac[32];
    hmac_sha256(key, keylen, signing, strlen(signing), mac);
    return arena_printf(a, "%s.%s", signing, b64url_encode(a, mac, sizeof mac));
}

static bool b64url_char(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '_';
}

int jwt_looks_like(const char *token, size_t n)
{
    if (!token)
        return 0;
    size_t dots = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)token[i];
        if (ch == '.')
            dots++;
        else if (!b64url_char(ch))
            return 0;
    }
    return dots == 2;
}

/* Decodes one base64url part into a JSON object; NULL unless it is exactly that. */
static json_t *part_json(arena *a, const char *s, size_t len)
{
    unsigned char *raw;
    size_t rawlen;
    if (len == 0 || b64url_decode(a, s, len, &raw, &rawlen) < 0)
        return NULL;
    json_t *j = json_loadb((const char *)raw, rawlen, JSON_REJECT_DUPLICATES, NULL);
    if (j && !json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* A user id as jwt_sign writes it: an optional '-', then decimal digits with no
 * leading zero, within int64. A JSON integer is accepted too. */
static int parse_sub(json_t *v, int64_t *out)
{
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return 0;
    }
    if (!json_is_string(v))
        return -1;
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    size_t i = s[0] == '-' ? 1 : 0;
    if (len == i || len - i > 19 || (s[i] == '0' && (len - i > 1 || i == 1)))
        return -1;
    for (; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return -1;
    errno = 0;
    char *end;
    long long n = strtoll(s, &end, 10);
    if (errno != 0 || end != s + len)
        return -1;
    *out = (int64_t)n;
    return 0;
}

/* Fills c when the claims are all present and well typed (also for an expired
 * token, so that the caller may log whose it was); c is zeroed otherwise. */
enum jwt_result jwt_verify(arena *a, const unsigned char *key, size_t keylen, const char *token,
                           size_t n, int64_t now, jwt_claims *c)
{
    memset(c, 0, sizeof *c);
    if (!token || n == 0 || n > JWT_MAX_LEN || !jwt_looks_like(token, n))
        return JWT_MALFORMED;
    const char *dot1 = memchr(token, '.', n);
    const char *dot2 = memchr(dot1 + 1, '.', n - (size_t)(dot1 + 1 - token));
    const char *hdr = token, *pay = dot1 + 1, *sig = dot2 + 1;
    size_t hlen = (size_t)(dot1 - hdr), plen = (size_t)(dot2 - pay);
    size_t slen = n - (size_t)(sig - token);
    if (hlen == 0 || plen == 0) /* only the signature may be empty (and then it is wrong) */
        return JWT_MALFORMED;

    json_t *h = part_json(a, hdr, hlen);
    if (!h)
        return JWT_MALFORMED;
    json_t *alg = json_object_get(h, "alg");
    bool alg_ok = json_is_string(alg) && json_string_length(alg) == 5 &&
                  memcmp(json_string_value(alg), "HS256", 5) == 0;
    /* We understand no header extension, so one marked critical must fail (RFC 7515 §4.1.11). */
    bool crit = json_object_get(h, "crit") != NULL;
    bool has_alg = alg != NULL;
    json_decref(h);
    if (!has_alg)
        return JWT_MALFORMED;
    if (!alg_ok)
        return JWT_BAD_ALG;
    if (crit)
        return JWT_MALFORMED;

    unsigned char *mac;
    size_t maclen;
    if (b64url_decode(a, sig, slen, &mac, &maclen) < 0)
        return JWT_MALFORMED;
    unsigned char want[32];
    hmac_sha256(key, keylen, token, (size_t)(dot2 - token), want);
    if (!ct_equal(mac, maclen, want, sizeof want))
        return JWT_BAD_SIG;

    json_t *p = part_json(a, pay, plen);
    if (!p)
        return JWT_MALFORMED;
    enum jwt_result r = JWT_MALFORMED;
    json_t *sub = json_object_get(p, "sub"), *name = json_object_get(p, "name");
    json_t *iat = json_object_get(p, "iat"), *exp = json_object_get(p, "exp");
    json_t *jti = json_object_get(p, "jti");
    json_t *sid = json_object_get(p, "sid"), *gen = json_object_get(p, "gen");
    int64_t id;
    if (parse_sub(sub, &id) < 0 || !json_is_string(name) || !json_is_string(jti) ||
        !json_is_integer(iat) || !json_is_integer(exp) || (sid && !json_is_string(sid)) ||
        (gen && !json_is_integer(gen)))
        goto out;
    if (!sid)
        sid = jti;
    c->sid = arena_strndup(a, json_string_value(sid), json_string_length(sid));
    c->gen = gen ? (int64_t)json_integer_value(gen) : 0;
    c->sub = id;
    c->name = arena_strndup(a, json_string_value(name), json_string_length(name));
    c->jti = arena_strndup(a, json_string_value(jti), json_string_length(jti));
    c->iat = (int64_t)json_integer_value(iat);
    c->exp = (int64_t)json_integer_value(exp);
    r = c->exp <= now ? JWT_EXPIRED : JWT_OK;
out:
    json_decref(p);
    return r;
}
