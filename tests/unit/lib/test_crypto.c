/*
 * test_crypto.c — src/lib/crypto.c against published test vectors: SHA-256
 * (FIPS 180-2 examples), base64 and base64url (RFC 4648 §10), HMAC-SHA-256
 * (RFC 4231 cases 1, 2, 6 and 7), plus round trips, strict rejection of
 * malformed encodings, constant-time equality and Argon2id at a low cost.
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

static int setup(void **state)
{
    (void)state;
    return crypto_init();
}

/* ---- SHA-256 ---------------------------------------------------------- */

static const struct {
    const char *in, *hex;
} sha_vectors[] = {
    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
};

static void test_sha256_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof sha_vectors / sizeof sha_vectors[0]; i++) {
        char hex[65];
        sha256_hex(sha_vectors[i].in, strlen(sha_vectors[i].in), hex);
        assert_string_equal(hex, sha_vectors[i].hex);

        unsigned char d[32], want[32];
        size_t n = 0;
        sha256(sha_vectors[i].in, strlen(sha_vectors[i].in), d);
        assert_int_equal(hex_decode(sha_vectors[i].hex, 64, want, sizeof want, &n), 0);
        assert_int_equal(n, 32);
        assert_memory_equal(d, want, 32);
    }
}

static void test_sha256_empty_null(void **state)
{
    (void)state;
    char hex[65];
    sha256_hex(NULL, 0, hex);
    assert_string_equal(hex, sha_vectors[0].hex);
}

/* Feeding the same bytes in pieces of any size gives the one-shot digest. */
static void test_sha256_incremental(void **state)
{
    (void)state;
    static unsigned char data[200003];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof data; i++) {
        x = x * 1103515245u + 12345u;
        data[i] = (unsigned char)(x >> 16);
    }
    unsigned char whole[32];
    sha256(data, sizeof data, whole);

    static const size_t pieces[] = {1, 7, 63, 64, 65, 4096, 65536, sizeof data};
    for (size_t k = 0; k < sizeof pieces / sizeof pieces[0]; k++) {
        sha256_ctx c;
        sha256_init(&c);
        size_t off = 0;
        while (off < sizeof data) {
            size_t n = sizeof data - off < pieces[k] ? sizeof data - off : pieces[k];
            sha256_update(&c, data + off, n);
            sha256_update(&c, data + off, 0); /* empty updates change nothing */
            off += n;
        }
        unsigned char d[32];
        sha256_final(&c, d);
        assert_memory_equal(d, whole, 32);
    }
}

/* ---- hex -------------------------------------------------------------- */

static void test_hex_round_trip(void **state)
{
    (void)state;
    unsigned char in[256], back[256];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (unsigned char)i;
    char hex[513];
    hex_encode(in, sizeof in, hex);
    assert_int_equal(strlen(hex), 512);
    assert_memory_equal(hex, "000102030405060708090a0b0c0d0e0f", 32);
    assert_string_equal(hex + 480, "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
    size_t n = 0;
    assert_int_equal(hex_decode(hex, 512, back, sizeof back, &n), 0);
    assert_int_equal(n, 256);
    assert_memory_equal(in, back, 256);

    hex_encode(in, 0, hex);
    assert_string_equal(hex, "");
    assert_int_equal(hex_decode("", 0, back, sizeof back, &n), 0);
    assert_int_equal(n, 0);

    assert_int_equal(hex_decode("DEADbeef", 8, back, sizeof back, &n), 0);
    assert_int_equal(n, 4);
    assert_memory_equal(back, "\xde\xad\xbe\xef", 4);
}

static void test_hex_bad(void **state)
{
    (void)state;
    static const char *bad[] = {"0", "abc", "0g", "g0", "zz", " 00", "00 ", "0x00", "-1", "1\n"};
    unsigned char out[8];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = 99;
        assert_int_equal(hex_decode(bad[i], strlen(bad[i]), out, sizeof out, &n), -1);
        assert_int_equal(n, 99);
    }
    size_t n;
    /* An embedded NUL is a bad character, not an end. */
    assert_int_equal(hex_decode("00\0000", 4, out, sizeof out, &n), -1);
    /* Too small an output. */
    assert_int_equal(hex_decode("000102", 6, out, 2, &n), -1);
    assert_int_equal(hex_decode("000102", 6, out, 3, &n), 0);
}

/* ---- base64 ----------------------------------------------------------- */

static const struct {
    const char *bin;
    size_t len;
    const char *b64, *b64url;
} b64_vectors[] = {
    /* RFC 4648 §10 */
    {"", 0, "", ""},
    {"f", 1, "Zg==", "Zg"},
    {"fo", 2, "Zm8=", "Zm8"},
    {"foo", 3, "Zm9v", "Zm9v"},
    {"foob", 4, "Zm9vYg==", "Zm9vYg"},
    {"fooba", 5, "Zm9vYmE=", "Zm9vYmE"},
    {"foobar", 6, "Zm9vYmFy", "Zm9vYmFy"},
    /* the two characters where the alphabets differ */
    {"\xfb\xff", 2, "+/8=", "-_8"},
    {"\xfb\xef\xbe", 3, "++++", "----"},
    {"\xff\xff\xff", 3, "////", "____"},
    {"\0\0", 2, "AAA=", "AAA"},
};

static void test_b64_vectors(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    for (size_t i = 0; i < sizeof b64_vectors / sizeof b64_vectors[0]; i++) {
        const char *bin = b64_vectors[i].bin;
        size_t len = b64_vectors[i].len;
        assert_string_equal(b64_encode(a, bin, len), b64_vectors[i].b64);
        assert_string_equal(b64url_encode(a, bin, len), b64_vectors[i].b64url);

        unsigned char *out = NULL;
        size_t n = 99;
        const char *s = b64_vectors[i].b64;
        assert_int_equal(b64_decode(a, s, strlen(s), &out, &n), 0);
        assert_int_equal(n, len);
        assert_memory_equal(out, bin, len);

        s = b64_vectors[i].b64url;
        out = NULL;
        n = 99;
        assert_int_equal(b64url_decode(a, s, strlen(s), &out, &n), 0);
        assert_int_equal(n, len);
        assert_memory_equal(out, bin, len);
    }
    arena_free(a);
}

static void test_b64_round_trip(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    unsigned char in[300];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (unsigned char)(i * 7 + 3);
    for (size_t len = 0; len <= sizeof in; len += 1 + len / 8) {
        unsigned char *out;
        size_t n;
        char *s = b64_encode(a, in, len);
        assert_int_equal(b64_decode(a, s, strlen(s), &out, &n), 0);
        assert_int_equal(n, len);
        assert_memory_equal(out, in, len);
        s = b64url_encode(a, in, len);
        assert_null(strchr(s, '='));
        assert_int_equal(b64url_decode(a, s, strlen(s), &out, &n), 0);
        assert_int_equal(n, len);
        assert_memory_equal(out, in, len);
    }
    arena_free(a);
}

static void test_b64_bad(void **state)
{
    (void)state;
    static const char *bad_std[] = {
        "Z",         /* one character is never a whole byte */
        "Zg",        /* padding missing */
        "Zg=",       /* padding short */
        "Zg===",     /* padding long */
        "Zh==",      /* stray bits in the last character ("f" is Zg==) */
        "Zm9=",      /* stray bits */
        "Zm9v=",     /* padding where none belongs */
        "=Zm9v",     /* padding first */
        "Zm9vY",     /* 5 characters */
        "Zm9v YmFy", /* white space */
        "Zm9vYmFy\n",
        "Zm-v", /* url alphabet */
        "Zm_v",
        "Zm9v!",
        "Zg==Zg==", /* data after padding */
    };
    static const char *bad_url[] = {
        "Z", "Zg==", "Zg=", "Zh", "Zm9", "Zm9v=", "Zm+v", "Zm/v", "Zm9vY", "Zm9v YmFy",
        "Zm9vYmFy\n", "Zm9v.", "\xc3\xa9",
    };
    arena *a = arena_new(0);
    for (size_t i = 0; i < sizeof bad_std / sizeof bad_std[0]; i++) {
        unsigned char *out;
        size_t n;
        if (b64_decode(a, bad_std[i], strlen(bad_std[i]), &out, &n) != -1)
            fail_msg("b64_decode accepted \"%s\"", bad_std[i]);
    }
    for (size_t i = 0; i < sizeof bad_url / sizeof bad_url[0]; i++) {
        unsigned char *out;
        size_t n;
        if (b64url_decode(a, bad_url[i], strlen(bad_url[i]), &out, &n) != -1)
            fail_msg("b64url_decode accepted \"%s\"", bad_url[i]);
    }
    /* Length is what counts, not a NUL. */
    unsigned char *out;
    size_t n;
    assert_int_equal(b64url_decode(a, "Zm9v\0Zm9v", 9, &out, &n), -1);
    assert_int_equal(b64url_decode(a, "Zm9vYmFy", 4, &out, &n), 0);
    assert_int_equal(n, 3);
    arena_free(a);
}

/* ---- random, ct_equal -------------------------------------------------- */

static void test_random_bytes(void **state)
{
    (void)state;
    unsigned char a[32] = {0}, b[32] = {0}, zero[32] = {0};
    random_bytes(a, sizeof a);
    random_bytes(b, sizeof b);
    assert_memory_not_equal(a, b, sizeof a);
    assert_memory_not_equal(a, zero, sizeof a);
    random_bytes(NULL, 0);
}

static void test_ct_equal(void **state)
{
    (void)state;
    static const struct {
        const char *a, *b;
        size_t alen, blen;
        bool want;
    } cases[] = {
        {"secret", "secret", 6, 6, true},
        {"secret", "secreT", 6, 6, false},
        {"secret", "Secret", 6, 6, false},
        {"secret", "secret!", 6, 7, false},
        {"secret!", "secret", 7, 6, false},
        {"", "", 0, 0, true},
        {"", "x", 0, 1, false},
        {"a\0b", "a\0c", 3, 3, false},
        {"a\0b", "a\0b", 3, 3, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(ct_equal(cases[i].a, cases[i].alen, cases[i].b, cases[i].blen),
                         cases[i].want);
}

/* ---- HMAC-SHA-256, RFC 4231 ------------------------------------------- */

static void test_hmac_rfc4231(void **state)
{
    (void)state;
    unsigned char k1[20], k6[131];
    memset(k1, 0x0b, sizeof k1);
    memset(k6, 0xaa, sizeof k6);
    const struct {
        const unsigned char *key;
        size_t keylen;
        const char *msg, *hex;
    } cases[] = {
        {k1, sizeof k1, "Hi There",
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        {(const unsigned char *)"Jefe", 4, "what do ya want for nothing?",
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {k6, sizeof k6, "Test Using Larger Than Block-Size Key - Hash Key First",
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
        {k6, sizeof k6,
         "This is a test using a larger than block-size key and a larger than block-size data. "
         "The key needs to be hashed before being used by the HMAC algorithm.",
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char mac[32];
        char hex[65];
        hmac_sha256(cases[i].key, cases[i].keylen, cases[i].msg, strlen(cases[i].msg), mac);
        hex_encode(mac, sizeof mac, hex);
        assert_string_equal(hex, cases[i].hex);
    }
}

/* ---- Argon2id ------------------------------------------------------------ */

static void test_password(void **state)
{
    (void)state;
    password_set_cost(1, 8192); /* libsodium's minimums: fast enough for a test */
    char h[128], h2[128];
    assert_int_equal(password_hash("correct horse", 13, h), 0);
    assert_true(strncmp(h, "$argon2id$", 10) == 0);
    assert_non_null(strstr(h, "m=8,t=1,"));
    assert_true(password_verify(h, "correct horse", 13));
    assert_false(password_verify(h, "correct horsE", 13));
    assert_false(password_verify(h, "correct hors", 12));
    assert_false(password_verify(h, "", 0));
    assert_false(password_verify("", "correct horse", 13));
    assert_false(password_verify("$argon2id$garbage", "correct horse", 13));
    assert_false(password_verify(NULL, "correct horse", 13));

    /* The salt is random: the same password never hashes the same twice. */
    assert_int_equal(password_hash("correct horse", 13, h2), 0);
    assert_string_not_equal(h, h2);
    assert_true(password_verify(h2, "correct horse", 13));

    /* Passwords are byte strings with a length: a NUL inside counts. */
    assert_int_equal(password_hash("a\0b", 3, h), 0);
    assert_true(password_verify(h, "a\0b", 3));
    assert_false(password_verify(h, "a\0c", 3));
    assert_false(password_verify(h, "a", 1));

    /* A hash made at another cost still verifies after the cost changes. */
    password_set_cost(2, 16384);
    assert_true(password_verify(h2, "correct horse", 13));
    assert_int_equal(password_hash("x", 1, h), 0);
    assert_non_null(strstr(h, "m=16,t=2,"));
    password_set_cost(1, 8192);

    password_dummy_verify("anything", 8);
    password_dummy_verify("again", 5);
    password_dummy_verify(NULL, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_vectors),   cmocka_unit_test(test_sha256_empty_null),
        cmocka_unit_test(test_sha256_incremental), cmocka_unit_test(test_hex_round_trip),
        cmocka_unit_test(test_hex_bad),          cmocka_unit_test(test_b64_vectors),
        cmocka_unit_test(test_b64_round_trip),   cmocka_unit_test(test_b64_bad),
        cmocka_unit_test(test_random_bytes),     cmocka_unit_test(test_ct_equal),
        cmocka_unit_test(test_hmac_rfc4231),     cmocka_unit_test(test_password),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
