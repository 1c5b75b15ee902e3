/*
 * test_etf.c — src/hex/etf.c: decoding terms made by OTP 25's
 * term_to_binary/2 (the byte strings below were produced with erl and are
 * kept as data), every integer width at its edges, the atoms of all four
 * tags, charlists, tuples; refusals (compressed terms, improper lists,
 * binaries that are not UTF-8, integers past 64 bits, truncation at every
 * length, trailing bytes, nesting past the cap); encoding (only binary keys,
 * only true/false/nil atoms, the smallest integer form) and round trips,
 * including every Erlang-term body captured from mix and rebar3 in
 * tests/fixtures/hex.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex/etf.h"

#define B(s) s, sizeof(s) - 1

static json_t *dec(const char *p, size_t n)
{
    json_t *v = NULL;
    derr e;
    assert_int_equal(etf_decode(p, n, &v, &e), 0);
    return v;
}

static void refuse(const char *p, size_t n, const char *why)
{
    json_t *v = NULL;
    derr e;
    assert_int_equal(etf_decode(p, n, &v, &e), -1);
    assert_null(v);
    assert_int_equal(e.status, 400);
    if (why && !strstr(e.message, why))
        fail_msg("message '%s' lacks '%s'", e.message, why);
}

static void test_map_with_binary_keys(void **st)
{
    (void)st;
    json_t *v = dec(
        B("\x83\x74\x00\x00\x00\x02\x6d\x00\x00\x00\x04\x6e\x61\x6d\x65\x6d\x00\x00\x00\x02\x63\x69\x6d\x00"
          "\x00\x00\x0b\x70\x65\x72\x6d\x69\x73\x73\x69\x6f\x6e\x73\x6c\x00\x00\x00\x01\x74\x00\x00\x00"
          "\x02\x6d\x00\x00\x00\x06\x64\x6f\x6d\x61\x69\x6e\x6d\x00\x00\x00\x0a\x72\x65\x70\x6f\x73\x69"
          "\x74\x6f\x72\x79\x6d\x00\x00\x00\x08\x72\x65\x73\x6f\x75\x72\x63\x65\x6d\x00\x00\x00\x04\x61"
          "\x63\x6d\x65\x6a"));
    json_t *want = json_loads(
        "{\"name\":\"ci\",\"permissions\":[{\"domain\":\"repository\",\"resource\":\"acme\"}]}", 0, NULL);
    assert_true(json_equal(v, want));
    json_decref(v);
    json_decref(want);
}

static void test_atoms(void **st)
{
    (void)st;
    json_t *v = dec(B("\x83\x64\x00\x04\x74\x72\x75\x65")); /* ATOM_EXT true (OTP 25) */
    assert_true(json_is_true(v));
    v = dec(B("\x83\x77\x05\x66\x61\x6c\x73\x65")); /* SMALL_ATOM_UTF8_EXT false (OTP 26) */
    assert_true(json_is_false(v));
    v = dec(B("\x83\x64\x00\x03\x6e\x69\x6c"));
    assert_true(json_is_null(v));
    v = dec(B("\x83\x73\x04true")); /* SMALL_ATOM_EXT */
    assert_true(json_is_true(v));
    v = dec(B("\x83\x76\x00\x04true")); /* ATOM_UTF8_EXT */
    assert_true(json_is_true(v));
    v = dec(B("\x83\x64\x00\x03\x66\x6f\x6f"));
    assert_string_equal(json_string_value(v), "foo");
    json_decref(v);
    /* A Latin-1 atom name becomes UTF-8 text. */
    v = dec(B("\x83\x64\x00\x02\x62\xf6"));
    assert_string_equal(json_string_value(v), "b\xc3\xb6");
    json_decref(v);
    /* An atom as a map key (old Hex writes maps with atom keys). */
    v = dec(
        B("\x83\x74\x00\x00\x00\x01\x64\x00\x05\x6c\x65\x76\x65\x6c\x6d\x00\x00\x00\x04\x66\x75\x6c\x6c"));
    assert_string_equal(json_string_value(json_object_get(v, "level")), "full");
    json_decref(v);
}

static void test_integers(void **st)
{
    (void)st;
    static const struct {
        const char *p;
        size_t n;
        long long want;
    } cases[] = {
        {B("\x83\x61\x00"), 0},
        {B("\x83\x61\xff"), 255},
        {B("\x83\x62\x00\x00\x01\x00"), 256},
        {B("\x83\x62\xff\xff\xff\xff"), -1},
        {B("\x83\x6e\x04\x00\x00\x00\x00\x80"), 2147483648LL},
        {B("\x83\x6e\x04\x01\x01\x00\x00\x80"), -2147483649LL},
        {B("\x83\x6e\x08\x00\xff\xff\xff\xff\xff\xff\xff\x7f"), INT64_MAX},
        {B("\x83\x6e\x08\x01\x00\x00\x00\x00\x00\x00\x00\x80"), INT64_MIN},
        {B("\x83\x6f\x00\x00\x00\x02\x00\x01\x01"), 257}, /* LARGE_BIG_EXT */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *v = dec(cases[i].p, cases[i].n);
        assert_true(json_is_integer(v));
        assert_true(json_integer_value(v) == cases[i].want);
        json_decref(v);
    }
    refuse(B("\x83\x6e\x09\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"), "64 bits"); /* 2^64 */
    refuse(B("\x83\x6e\x08\x00\x00\x00\x00\x00\x00\x00\x00\x80"), "64 bits");     /* 2^63 */
}

static void test_float_string_tuple(void **st)
{
    (void)st;
    json_t *v = dec(B("\x83\x46\x3f\xf8\x00\x00\x00\x00\x00\x00"));
    assert_true(json_is_real(v) && json_real_value(v) == 1.5);
    json_decref(v);
    v = dec(B("\x83\x6b\x00\x03\x61\x62\x63")); /* "abc" as a charlist */
    assert_string_equal(json_string_value(v), "abc");
    json_decref(v);
    v = dec(B("\x83\x68\x02\x61\x01\x6d\x00\x00\x00\x01\x78"));
    assert_int_equal(json_array_size(v), 2);
    assert_string_equal(json_string_value(json_array_get(v, 1)), "x");
    json_decref(v);
    v = dec(B("\x83\x74\x00\x00\x00\x00"));
    assert_true(json_is_object(v) && json_object_size(v) == 0);
    json_decref(v);
    v = dec(B("\x83\x6a"));
    assert_true(json_is_array(v) && json_array_size(v) == 0);
    json_decref(v);
    v = dec(B("\x83\x6d\x00\x00\x00\x03\x62\xc3\xb6"));
    assert_string_equal(json_string_value(v), "b\xc3\xb6");
    json_decref(v);
}

static void test_refusals(void **st)
{
    (void)st;
    refuse(B(""), "version byte");
    refuse(B("\x84\x61\x00"), "version byte");
    refuse(B("\x83\x50\x00\x00\x05\x1a\x78\x9c\xcb\x61\x60\x60\x48\xc9\x05\x12\x1c\x89\x50\x30\xca\x19\xe5"
             "\x8c\x72\x46"
             "\x39\x23\x9c\x93\x05\x00\x2a\xa8\x5e\x1e"),
           "compressed");
    refuse(B("\x83\x6c\x00\x00\x00\x01\x61\x01\x61\x02"), "improper");
    refuse(B("\x83\x6d\x00\x00\x00\x02\x62\xf6"), "UTF-8");           /* a Latin-1 binary */
    refuse(B("\x83\x6d\x00\x00\x00\x03\xed\xa0\x80"), "UTF-8");       /* a surrogate */
    refuse(B("\x83\x6d\x00\x00\x00\x02\xc0\x80"), "UTF-8");           /* overlong NUL */
    refuse(B("\x83\x74\x00\x00\x00\x01\x61\x01\x61\x02"), "map key"); /* integer key */
    refuse(B("\x83\x61\x00\x00"), "after the term");
    refuse(B("\x83\x63\x31\x2e\x35"), "unsupported");                /* old FLOAT_EXT */
    refuse(B("\x83\x46\x7f\xf0\x00\x00\x00\x00\x00\x00"), "finite"); /* infinity */
    refuse(B("\x83\x67"), "unsupported");                            /* a pid */
    /* A list that claims 4 billion elements ends when the bytes do. */
    refuse(B("\x83\x6c\xff\xff\xff\xff\x61\x01"), "truncated");
    refuse(B("\x83\x74\xff\xff\xff\xff"), "truncated");
}

static void test_truncation_everywhere(void **st)
{
    (void)st;
    static const char full[] =
        "\x83\x74\x00\x00\x00\x02\x6d\x00\x00\x00\x01\x61\x6c\x00\x00\x00\x02\x61\x01\x68\x02"
        "\x64\x00\x04true\x46\x3f\xf8\x00\x00\x00\x00\x00\x00\x6a\x6d\x00\x00\x00\x01\x62\x6e"
        "\x02\x00\x01\x01";
    size_t n = sizeof full - 1;
    json_t *v = dec(full, n);
    json_decref(v);
    for (size_t k = 0; k < n; k++) {
        json_t *x = NULL;
        derr e;
        assert_int_equal(etf_decode(full, k, &x, &e), -1);
        assert_null(x);
    }
}

static void test_depth_cap(void **st)
{
    (void)st;
    /* [[[...]]] nested past ETF_MAX_DEPTH */
    size_t depth = ETF_MAX_DEPTH + 5;
    unsigned char *p = malloc(1 + depth * 5 + 1 + depth);
    size_t w = 0;
    p[w++] = 131;
    for (size_t i = 0; i < depth; i++) {
        p[w++] = 108;
        p[w++] = 0;
        p[w++] = 0;
        p[w++] = 0;
        p[w++] = 1;
    }
    p[w++] = 106;
    for (size_t i = 0; i < depth; i++)
        p[w++] = 106;
    refuse((const char *)p, w, "deeply");
    free(p);
}

static void test_encode(void **st)
{
    (void)st;
    json_t *v =
        json_loads("{\"a\":true,\"b\":null,\"c\":[1,256,-1,4294967296,-9223372036854775807],\"d\":1.5,"
                   "\"e\":\"x\",\"f\":[],\"g\":{}}",
                   0, NULL);
    buf b;
    buf_init(&b, 0);
    assert_int_equal(etf_encode(v, &b), 0);
    const unsigned char *p = (const unsigned char *)b.data;
    assert_int_equal(p[0], 131);
    assert_int_equal(p[1], ETF_MAP);
    /* Atoms are only true, false and nil, as SMALL_ATOM_UTF8_EXT. */
    assert_non_null(memmem(b.data, b.len, "\x77\x04true", 6));
    assert_non_null(memmem(b.data, b.len, "\x77\x03nil", 5));
    /* Keys are binaries. */
    assert_non_null(memmem(b.data, b.len,
                           "\x6d\x00\x00\x00\x01"
                           "a",
                           6));
    /* 1 is a small integer, 256 an INTEGER_EXT, 2^32 a SMALL_BIG_EXT. */
    assert_non_null(memmem(b.data, b.len, "\x61\x01", 2));
    assert_non_null(memmem(b.data, b.len, "\x62\x00\x00\x01\x00", 5));
    assert_non_null(memmem(b.data, b.len, "\x6e\x05\x00\x00\x00\x00\x00\x01", 8));
    json_t *back = NULL;
    derr e;
    assert_int_equal(etf_decode(b.data, b.len, &back, &e), 0);
    assert_true(json_equal(v, back));
    json_decref(back);
    json_decref(v);
    buf_free(&b);

    /* The cap of the buffer is honoured. */
    buf small;
    buf_init(&small, 4);
    v = json_string("longer than four bytes");
    assert_int_equal(etf_encode(v, &small), -1);
    json_decref(v);
    buf_free(&small);
}

/* Every captured Erlang-term body decodes, and re-encodes to a term that decodes the same. */
static void test_fixture_bodies(void **st)
{
    (void)st;
    const char *root = "tests/fixtures/hex";
    DIR *d = opendir(root);
    if (!d)
        fail_msg("no captures at %s (run from the repository root)", root);
    int seen = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        for (int i = 1; i <= 9; i++) {
            for (int kind = 0; kind < 2; kind++) {
                char path[512], txt[512];
                snprintf(path, sizeof path, "%s/%s/%02d-%s-body.bin", root, de->d_name, i,
                         kind ? "response" : "request");
                snprintf(txt, sizeof txt, "%s/%s/%02d-%s-body.txt", root, de->d_name, i,
                         kind ? "response" : "request");
                FILE *tf = fopen(txt, "r");
                if (!tf)
                    continue;
                char head[64] = "";
                size_t hn = fread(head, 1, sizeof head - 1, tf);
                head[hn] = '\0';
                fclose(tf);
                if (strncmp(head, "ETF", 3) != 0)
                    continue;
                FILE *f = fopen(path, "rb");
                assert_non_null(f);
                char bytes[65536];
                size_t n = fread(bytes, 1, sizeof bytes, f);
                fclose(f);
                json_t *v = NULL;
                derr e;
                if (etf_decode(bytes, n, &v, &e) != 0)
                    fail_msg("%s: %s", path, e.message);
                buf b;
                buf_init(&b, 0);
                assert_int_equal(etf_encode(v, &b), 0);
                json_t *w = NULL;
                assert_int_equal(etf_decode(b.data, b.len, &w, &e), 0);
                assert_true(json_equal(v, w));
                json_decref(v);
                json_decref(w);
                buf_free(&b);
                seen++;
            }
        }
    }
    closedir(d);
    assert_true(seen >= 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map_with_binary_keys),
        cmocka_unit_test(test_atoms),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_float_string_tuple),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_truncation_everywhere),
        cmocka_unit_test(test_depth_cap),
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_fixture_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
