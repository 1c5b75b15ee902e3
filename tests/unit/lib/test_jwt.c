/*
 * test_jwt.c — src/lib/jwt.c: tokens we sign come back intact, and tokens
 * anyone else could forge are refused with the right reason. Hand-made
 * tokens (any header, any payload, signed or not) drive one table of cases:
 * the algorithm confusion attacks (alg none, HS512, RS256), tampering, a
 * wrong key, expiry, malformed shapes and claims of the wrong type.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "lib/arena.h"
#include "lib/crypto.h"
#include "lib/jwt.h"

static const unsigned char key[] = "0123456789abcdef0123456789abcdef";
#define KEYLEN (sizeof key - 1)
#define NOW ((int64_t)1700000000)

static int setup(void **state)
{
    (void)state;
    return crypto_init();
}

enum sig { SIG_GOOD, SIG_EMPTY, SIG_WRONG_KEY, SIG_SHORT };

/* header.payload.signature from raw JSON texts, signed as asked. */
static char *make_token(arena *a, const char *header, const char *payload, enum sig how)
{
    char *signing = arena_printf(a, "%s.%s", b64url_encode(a, header, strlen(header)),
                                 b64url_encode(a, payload, strlen(payload)));
    unsigned char mac[32];
    static const unsigned char other[] = "another key entirely";
    if (how == SIG_WRONG_KEY)
        hmac_sha256(other, sizeof other - 1, signing, strlen(signing), mac);
    else
        hmac_sha256(key, KEYLEN, signing, strlen(signing), mac);
    if (how == SIG_EMPTY)
        return arena_printf(a, "%s.", signing);
    size_t maclen = how == SIG_SHORT ? 31 : 32;
    return arena_printf(a, "%s.%s", signing, b64url_encode(a, mac, maclen));
}

static void test_round_trip(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    static const jwt_claims in[] = {
        {.sub = 42, .name = "alice", .iat = NOW - 10, .exp = NOW + 3600, .jti = "j-1"},
        {.sub = INT64_MAX, .name = "b\xc3\xb6" "b \"quoted\"", .iat = 0, .exp = INT64_MAX,
         .jti = ""},
        {.sub = 0, .name = "", .iat = NOW, .exp = NOW + 1, .jti = "x/y+z="},
        {.sub = -7, .name = "neg", .iat = NOW, .exp = NOW + 1, .jti = "q"},
        {.sub = 5, .name = "refreshed", .iat = NOW, .exp = NOW + 9, .jti = "j-2", .sid = "j-1", .gen = 7},
    };
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        char *t = jwt_sign(a, key, KEYLEN, &in[i]);
        assert_non_null(t);
        assert_true(jwt_looks_like(t, strlen(t)));
        jwt_claims out;
        assert_int_equal(jwt_verify(a, key, KEYLEN, t, strlen(t), NOW, &out), JWT_OK);
        assert_int_equal(out.sub, in[i].sub);
        assert_string_equal(out.name, in[i].name);
        assert_int_equal(out.iat, in[i].iat);
        assert_int_equal(out.exp, in[i].exp);
        assert_string_equal(out.jti, in[i].jti);
        assert_string_equal(out.sid, in[i].sid ? in[i].sid : in[i].jti); /* a new session: its jti */
        assert_int_equal(out.gen, in[i].gen);
    }
    arena_free(a);
}

/* Tokens signed before sid and gen existed read as their own session at epoch 0; sid and gen of
 * the wrong type are malformed. */
static void test_session_claims(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    static const char hs[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    static const struct {
        const char *payload;
        enum jwt_result want;
        const char *sid;
        int64_t gen;
    } cases[] = {
        {"{\"sub\":\"1\",\"name\":\"a\",\"iat\":1,\"exp\":1700003600,\"jti\":\"old\"}", JWT_OK, "old", 0},
        {"{\"sub\":\"1\",\"name\":\"a\",\"iat\":1,\"exp\":1700003600,\"jti\":\"c\",\"sid\":\"p\",\"gen\":3}",
         JWT_OK, "p", 3},
        {"{\"sub\":\"1\",\"name\":\"a\",\"iat\":1,\"exp\":1700003600,\"jti\":\"c\",\"sid\":5}", JWT_MALFORMED,
         NULL, 0},
        {"{\"sub\":\"1\",\"name\":\"a\",\"iat\":1,\"exp\":1700003600,\"jti\":\"c\",\"gen\":\"3\"}",
         JWT_MALFORMED, NULL, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *t = make_token(a, hs, cases[i].payload, SIG_GOOD);
        jwt_claims c;
        assert_int_equal(jwt_verify(a, key, KEYLEN, t, strlen(t), NOW, &c), cases[i].want);
        if (cases[i].want == JWT_OK) {
            assert_string_equal(c.sid, cases[i].sid);
            assert_int_equal(c.gen, cases[i].gen);
        }
    }
    arena_free(a);
}

/* The header is exactly the one we promise, and sub is a string. */
static void test_sign_shape(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    jwt_claims c = {.sub = 42, .name = "alice", .iat = 1, .exp = 2, .jti = "abc"};
    char *t = jwt_sign(a, key, KEYLEN, &c);
    char *dot1 = strchr(t, '.'), *dot2 = strchr(dot1 + 1, '.');
    unsigned char *raw;
    size_t n;
    assert_int_equal(b64url_decode(a, t, (size_t)(dot1 - t), &raw, &n), 0);
    assert_int_equal(n, strlen("{\"alg\":\"HS256\",\"typ\":\"JWT\"}"));
    assert_memory_equal(raw, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", n);
    assert_int_equal(b64url_decode(a, dot1 + 1, (size_t)(dot2 - dot1 - 1), &raw, &n), 0);
    char *payload = arena_strndup(a, (const char *)raw, n);
    assert_non_null(strstr(payload, "\"sub\":\"42\""));
    assert_non_null(strstr(payload, "\"name\":\"alice\""));
    assert_non_null(strstr(payload, "\"iat\":1"));
    assert_non_null(strstr(payload, "\"exp\":2"));
    assert_non_null(strstr(payload, "\"jti\":\"abc\""));
    assert_int_equal(strlen(dot2 + 1), 43); /* 32 bytes, unpadded */

    jwt_claims nameless = {.sub = 1, .name = NULL, .iat = 1, .exp = 2, .jti = "x"};
    assert_null(jwt_sign(a, key, KEYLEN, &nameless));
    jwt_claims no_jti = {.sub = 1, .name = "x", .iat = 1, .exp = 2, .jti = NULL};
    assert_null(jwt_sign(a, key, KEYLEN, &no_jti));
    arena_free(a);
}

#define HS256 "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define GOOD                                                                                       \
    "{\"sub\":\"42\",\"name\":\"alice\",\"iat\":1699999990,\"exp\":1700003600,\"jti\":\"j\"}"

static const struct {
    const char *what, *header, *payload;
    enum sig how;
    enum jwt_result want;
} verify_cases[] = {
    {"good", HS256, GOOD, SIG_GOOD, JWT_OK},
    {"header without typ", "{\"alg\":\"HS256\"}", GOOD, SIG_GOOD, JWT_OK},
    {"sub as an integer", HS256,
     "{\"sub\":42,\"name\":\"a\",\"iat\":1,\"exp\":1700003600,\"jti\":\"j\"}", SIG_GOOD, JWT_OK},
    {"extra claims are ignored", HS256,
     "{\"sub\":\"42\",\"name\":\"a\",\"iat\":1,\"exp\":1700003600,\"jti\":\"j\",\"x\":[1]}",
     SIG_GOOD, JWT_OK},

    /* algorithm confusion: refused whatever the signature */
    {"alg none, empty signature", "{\"alg\":\"none\",\"typ\":\"JWT\"}", GOOD, SIG_EMPTY,
     JWT_BAD_ALG},
    {"alg none, signed", "{\"alg\":\"none\"}", GOOD, SIG_GOOD, JWT_BAD_ALG},
    {"alg None", "{\"alg\":\"None\"}", GOOD, SIG_EMPTY, JWT_BAD_ALG},
    {"alg HS512", "{\"alg\":\"HS512\",\"typ\":\"JWT\"}", GOOD, SIG_GOOD, JWT_BAD_ALG},
    {"alg RS256", "{\"alg\":\"RS256\",\"typ\":\"JWT\"}", GOOD, SIG_GOOD, JWT_BAD_ALG},
    {"alg hs256", "{\"alg\":\"hs256\"}", GOOD, SIG_GOOD, JWT_BAD_ALG},
    {"alg HS256 with a NUL", "{\"alg\":\"HS256\\u0000\"}", GOOD, SIG_GOOD, JWT_MALFORMED},
    {"alg not a string", "{\"alg\":1}", GOOD, SIG_GOOD, JWT_BAD_ALG},
    {"alg null", "{\"alg\":null}", GOOD, SIG_GOOD, JWT_BAD_ALG},
    {"alg missing", "{\"typ\":\"JWT\"}", GOOD, SIG_GOOD, JWT_MALFORMED},
    {"alg twice", "{\"alg\":\"HS256\",\"alg\":\"none\"}", GOOD, SIG_GOOD, JWT_MALFORMED},
    {"crit header", "{\"alg\":\"HS256\",\"crit\":[\"x\"],\"x\":1}", GOOD, SIG_GOOD,
     JWT_MALFORMED},

    /* signature */
    {"wrong key", HS256, GOOD, SIG_WRONG_KEY, JWT_BAD_SIG},
    {"empty signature", HS256, GOOD, SIG_EMPTY, JWT_BAD_SIG},
    {"truncated signature", HS256, GOOD, SIG_SHORT, JWT_BAD_SIG},

    /* expiry */
    {"exp == now", HS256,
     "{\"sub\":\"1\",\"name\":\"a\",\"iat\":1,\"exp\":1700000000,\"jti\":\"j\"}",
     SIG_GOOD, JWT_EXPIRED},
    {"exp < now", HS256, "{\"sub\":\"1\",\"name\":\"a\",\"iat\":1,\"exp\":1,\"jti\":\"j\"}",
     SIG_GOOD, JWT_EXPIRED},
    {"exp == now + 1", HS256,
     "{\"sub\":\"1\",\"name\":\"a\",\"iat\":1,\"exp\":1700000001,\"jti\":\"j\"}", SIG_GOOD, JWT_OK},

    /* bad JSON or claims, correctly signed */
    {"header not JSON", "{alg:HS256}", GOOD, SIG_GOOD, JWT_MALFORMED},
    {"header an array", "[\"HS256\"]", GOOD, SIG_GOOD, JWT_MALFORMED},
    {"payload not JSON", HS256, "sub=42", SIG_GOOD, JWT_MALFORMED},
    {"payload an array", HS256, "[1,2]", SIG_GOOD, JWT_MALFORMED},
    {"payload empty object", HS256, "{}", SIG_GOOD, JWT_MALFORMED},
    {"sub missing", HS256, "{\"name\":\"a\",\"iat\":1,\"exp\":1700003600,\"jti\":\"j\"}", SIG_GOOD,
     JWT_MALFORMED},
    {"sub not decimal", HS256,
     "{\"sub\":\"4x\",\"name\":\"a\",\"iat\":1,\"exp\":1700003600,\"jti\":\"j\"}", SIG_GOOD,
     JWT_MALFORMED},
    {"sub empty", HS256, "{\"sub\":\"\",\"name\":\"a\",\"iat\":1,\"exp\":1700003600,\"jti\":\"j\"}",
     SIG_GOOD, JWT_MALFORMED},
    {"sub leading zero", HS256,
     "{\"sub\":\"042\",\"name\":\"a\",\"iat\":1,\"exp\":1700003600,\"jti\":\"j\"}", SIG_GOOD,
     JWT_MALFORMED},
    {"sub with a sign", HS256,
     "{\"sub\":\"+42\",\"name\":\"a\",\"iat\":1,\"exp\":1700003600,\"jti\":\"j\"}", SIG_GOOD,
     JWT_MALFORMED},
    {"sub overflows", HS256,
     "{\"sub\":\"9223372036854775808\",\"name\":\"a\",\"iat\":1,\"exp\":1700003600,\"jti\":\"j\"}",
     SIG_GOOD, JWT_MALFORMED},
    {"sub a float", HS256,
     "{\"sub\":4.2,\"name\":\"a\",\"iat\":1,\"exp\":1700003600,\"jti\":\"j\"}",
     SIG_GOOD, JWT_MALFORMED},
    {"name missing", HS256, "{\"sub\":\"1\",\"iat\":1,\"exp\":1700003600,\"jti\":\"j\"}", SIG_GOOD,
     JWT_MALFORMED},
    {"name a number", HS256,
     "{\"sub\":\"1\",\"name\":5,\"iat\":1,\"exp\":1700003600,\"jti\":\"j\"}",
     SIG_GOOD, JWT_MALFORMED},
    {"exp missing", HS256, "{\"sub\":\"1\",\"name\":\"a\",\"iat\":1,\"jti\":\"j\"}", SIG_GOOD,
     JWT_MALFORMED},
    {"exp a string", HS256,
     "{\"sub\":\"1\",\"name\":\"a\",\"iat\":1,\"exp\":\"1700003600\",\"jti\":\"j\"}", SIG_GOOD,
     JWT_MALFORMED},
    {"exp a float", HS256,
     "{\"sub\":\"1\",\"name\":\"a\",\"iat\":1,\"exp\":1700003600.5,\"jti\":\"j\"}",
     SIG_GOOD, JWT_MALFORMED},
    {"iat missing", HS256, "{\"sub\":\"1\",\"name\":\"a\",\"exp\":1700003600,\"jti\":\"j\"}",
     SIG_GOOD, JWT_MALFORMED},
    {"jti missing", HS256, "{\"sub\":\"1\",\"name\":\"a\",\"iat\":1,\"exp\":1700003600}", SIG_GOOD,
     JWT_MALFORMED},
    {"jti null", HS256, "{\"sub\":\"1\",\"name\":\"a\",\"iat\":1,\"exp\":1700003600,\"jti\":null}",
     SIG_GOOD, JWT_MALFORMED},
    {"duplicate sub", HS256,
     "{\"sub\":\"1\",\"sub\":\"2\",\"name\":\"a\",\"iat\":1,\"exp\":1700003600,\"jti\":\"j\"}",
     SIG_GOOD, JWT_MALFORMED},
};

static void test_verify_table(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    for (size_t i = 0; i < sizeof verify_cases / sizeof verify_cases[0]; i++) {
        char *t =
            make_token(a, verify_cases[i].header, verify_cases[i].payload, verify_cases[i].how);
        jwt_claims c;
        enum jwt_result r = jwt_verify(a, key, KEYLEN, t, strlen(t), NOW, &c);
        if (r != verify_cases[i].want)
            fail_msg("%s: got %d, want %d", verify_cases[i].what, r, verify_cases[i].want);
        if (r != JWT_OK && r != JWT_EXPIRED) {
            assert_null(c.name);
            assert_null(c.jti);
        }
    }
    arena_free(a);
}

/* A valid signature moved onto other claims does not verify. */
static void test_tampered(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    jwt_claims in = {.sub = 42, .name = "alice", .iat = NOW, .exp = NOW + 60, .jti = "j"};
    char *t = jwt_sign(a, key, KEYLEN, &in);
    char *dot1 = strchr(t, '.'), *dot2 = strchr(dot1 + 1, '.');
    jwt_claims out;

    const char *evil = "{\"sub\":\"1\",\"name\":\"admin\",\"iat\":1700000000,\"exp\":1700000060,"
                       "\"jti\":\"j\"}";
    char *forged = arena_printf(a, "%.*s.%s%s", (int)(dot1 - t), t,
                                b64url_encode(a, evil, strlen(evil)), dot2);
    assert_int_equal(jwt_verify(a, key, KEYLEN, forged, strlen(forged), NOW, &out), JWT_BAD_SIG);

    /* One character of the payload changed. */
    char *flip = arena_strdup(a, t);
    flip[dot1 - t + 5] = flip[dot1 - t + 5] == 'A' ? 'B' : 'A';
    assert_int_equal(jwt_verify(a, key, KEYLEN, flip, strlen(flip), NOW, &out), JWT_BAD_SIG);

    /* The first character of the signature changed. */
    flip = arena_strdup(a, t);
    flip[dot2 - t + 1] = flip[dot2 - t + 1] == 'A' ? 'B' : 'A';
    assert_int_equal(jwt_verify(a, key, KEYLEN, flip, strlen(flip), NOW, &out), JWT_BAD_SIG);

    /* The right token but a wrong key, or a key that is only a prefix of the right one. */
    static const unsigned char wrong[] = "0123456789abcdef0123456789abcdeF";
    assert_int_equal(jwt_verify(a, wrong, KEYLEN, t, strlen(t), NOW, &out), JWT_BAD_SIG);
    assert_int_equal(jwt_verify(a, key, KEYLEN - 1, t, strlen(t), NOW, &out), JWT_BAD_SIG);

    /* The token verifies with only its own length: a longer n sees the junk. */
    char *longer = arena_printf(a, "%sAAAA", t);
    assert_int_equal(jwt_verify(a, key, KEYLEN, longer, strlen(t), NOW, &out), JWT_OK);
    assert_int_equal(jwt_verify(a, key, KEYLEN, longer, strlen(longer), NOW, &out), JWT_BAD_SIG);
    arena_free(a);
}

static void test_expired_fills_claims(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    jwt_claims in = {.sub = 9, .name = "old", .iat = NOW - 100, .exp = NOW - 1, .jti = "j9"};
    char *t = jwt_sign(a, key, KEYLEN, &in);
    jwt_claims out;
    assert_int_equal(jwt_verify(a, key, KEYLEN, t, strlen(t), NOW, &out), JWT_EXPIRED);
    assert_int_equal(out.sub, 9);
    assert_string_equal(out.name, "old");
    assert_int_equal(jwt_verify(a, key, KEYLEN, t, strlen(t), NOW - 2, &out), JWT_OK);
    arena_free(a);
}

static void test_malformed_shapes(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    jwt_claims in = {.sub = 42, .name = "alice", .iat = NOW, .exp = NOW + 60, .jti = "j"};
    char *t = jwt_sign(a, key, KEYLEN, &in);
    char *dot1 = strchr(t, '.'), *dot2 = strchr(dot1 + 1, '.');
    int hl = (int)(dot1 - t), pl = (int)(dot2 - dot1 - 1);

    const char *bad[] = {
        "",
        "abc",
        arena_printf(a, "%.*s.%.*s", hl, t, pl, dot1 + 1),      /* two parts */
        arena_printf(a, "%s.%s", t, dot2 + 1),                  /* four parts */
        arena_printf(a, "%s.", t),                              /* four, last empty */
        arena_printf(a, ".%s", t),                              /* four, first empty */
        arena_printf(a, "%s=", t),                              /* padding */
        arena_printf(a, "%.*s+.%s", hl, t, dot1 + 1),           /* '+' in the header */
        arena_printf(a, "%.*s.%.*s*%s", hl, t, pl, dot1 + 1, dot2), /* '*' in the payload */
        arena_printf(a, "%.*s%s", (int)(dot2 - t + 1), t, "abc+def"), /* '+' in the signature */
        arena_printf(a, "%.*sA%s", hl, t, dot1),                /* header of 4k+1 characters */
        arena_printf(a, "..%s", dot2 + 1),                      /* empty header and payload */
        arena_printf(a, "%.*s..%s", hl, t, dot2 + 1),           /* empty payload */
        arena_printf(a, "%s ", t),
        arena_printf(a, " %s", t),
        "a.b.c",
        "e30.e30.",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        jwt_claims out;
        enum jwt_result r = jwt_verify(a, key, KEYLEN, bad[i], strlen(bad[i]), NOW, &out);
        if (r != JWT_MALFORMED)
            fail_msg("case %zu (\"%s\"): got %d, want JWT_MALFORMED", i, bad[i], r);
    }

    /* Longer than 8 KiB: refused before any decoding, even if otherwise fine. */
    size_t big = 8200;
    char *pad = arena_alloc(a, big + 1);
    memset(pad, 'x', big);
    pad[big] = '\0';
    jwt_claims huge = {.sub = 1, .name = pad, .iat = NOW, .exp = NOW + 60, .jti = "j"};
    char *ht = jwt_sign(a, key, KEYLEN, &huge);
    jwt_claims out;
    assert_true(strlen(ht) > 8192);
    assert_int_equal(jwt_verify(a, key, KEYLEN, ht, strlen(ht), NOW, &out), JWT_MALFORMED);
    assert_int_equal(jwt_verify(a, key, KEYLEN, NULL, 0, NOW, &out), JWT_MALFORMED);
    arena_free(a);
}

static void test_looks_like(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int want;
    } cases[] = {
        {"a.b.c", 1},
        {"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc-_DEF", 1},
        {"..", 1},
        {"a.b", 0},
        {"a.b.c.d", 0},
        {"abc", 0},
        {"", 0},
        {"a.b.c=", 0},
        {"a+b.c.d", 0},
        {"a/b.c.d", 0},
        {"a.b.c ", 0},
        {"dpt_0123456789abcdef", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (jwt_looks_like(cases[i].s, strlen(cases[i].s)) != cases[i].want)
            fail_msg("jwt_looks_like(\"%s\") != %d", cases[i].s, cases[i].want);
    assert_int_equal(jwt_looks_like("a.b.c.d", 5), 1); /* only n bytes count */
    assert_int_equal(jwt_looks_like(NULL, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),         cmocka_unit_test(test_sign_shape),
        cmocka_unit_test(test_verify_table),       cmocka_unit_test(test_tampered),
        cmocka_unit_test(test_expired_fills_claims), cmocka_unit_test(test_malformed_shapes),
        cmocka_unit_test(test_looks_like),         cmocka_unit_test(test_session_claims),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
