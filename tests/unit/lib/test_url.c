/*
 * test_url.c — src/lib/url.c, table by table: decoding (plain text, escapes
 * in either case, '+' with and without plus_space, and each refusal:
 * truncated or non-hex escapes, an escaped or raw NUL), the malloc variant
 * against the arena one on the same table, and encoding (unreserved bytes
 * stay, the kept set stays, everything else is upper-case %XX), with every
 * encoding decoding back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "lib/url.h"

#define N(t) (sizeof(t) / sizeof((t)[0]))

/* in (with explicit length), plus_space, and the result (NULL: refused). */
static const struct {
    const char *in;
    size_t len;
    bool plus;
    const char *out;
} dec[] = {
#define ROW(lit, plus, out) {lit, sizeof(lit) - 1, plus, out}
    ROW("", false, ""),
    ROW("plain", false, "plain"),
    ROW("a+b%41", true, "a bA"),
    ROW("a+b%41", false, "a+bA"),
    ROW("%2f%2F", false, "//"),
    ROW("%40scope%2fname", false, "@scope/name"),
    ROW("%e2%82%AC", false, "\xe2\x82\xac"),
    ROW("%ff", false, "\xff"),         /* bytes, not text: UTF-8 is the caller's check */
    ROW("100%25", false, "100%"),
    ROW("%2B+", true, "+ "),
    ROW("%", false, NULL),
    ROW("%4", false, NULL),
    ROW("ab%4", false, NULL),
    ROW("%g1", false, NULL),
    ROW("%1g", false, NULL),
    ROW("% 1", false, NULL),
    ROW("%-1", false, NULL),
    ROW("%00", false, NULL),           /* an escaped NUL */
    ROW("a\0b", false, NULL),          /* a raw NUL */
    ROW("%%41", false, NULL),
#undef ROW
};

static void test_decode(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    for (size_t i = 0; i < N(dec); i++) {
        char *got = url_decode(a, dec[i].in, dec[i].len, dec[i].plus);
        char *dup = url_decode_dup(dec[i].in, dec[i].len, dec[i].plus);
        if (!dec[i].out) {
            if (got || dup)
                fail_msg("row %zu: accepted", i);
            continue;
        }
        if (!got || !dup || strcmp(got, dec[i].out) != 0 || strcmp(dup, dec[i].out) != 0)
            fail_msg("row %zu: got \"%s\"", i, got ? got : "(null)");
        free(dup);
    }
    arena_free(a);
}

/* The length bounds the input: bytes after it are not read. */
static void test_decode_length(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    assert_string_equal(url_decode(a, "ab%41", 2, false), "ab");
    assert_null(url_decode(a, "%41", 2, false));
    assert_string_equal(url_decode(a, "%41rest", 3, false), "A");
    arena_free(a);
}

static const struct {
    const char *in, *keep, *out;
} enc[] = {
    {"", NULL, ""},
    {"AZaz09-._~", NULL, "AZaz09-._~"},
    {"a b+c", NULL, "a%20b%2Bc"},
    {"@scope/name", NULL, "%40scope%2Fname"},
    {"@scope/name", "@", "@scope%2Fname"},
    {"docs/a b/c", "/", "docs/a%20b/c"},
    {"caf\xc3\xa9", NULL, "caf%C3%A9"},
    {"%&=?#", NULL, "%25%26%3D%3F%23"},
    {"\x01\x7f\xff", "", "%01%7F%FF"},
};

static void test_encode(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    for (size_t i = 0; i < N(enc); i++) {
        char *got = url_encode(a, enc[i].in, enc[i].keep);
        if (strcmp(got, enc[i].out) != 0)
            fail_msg("row %zu: got \"%s\"", i, got);
        buf b;
        buf_init(&b, 0);
        assert_int_equal(url_encode_buf(&b, enc[i].in, enc[i].keep), 0);
        assert_int_equal(b.len, strlen(enc[i].out));
        assert_memory_equal(b.data, enc[i].out, b.len);
        buf_free(&b);
        char *back = url_decode(a, got, strlen(got), false);
        assert_non_null(back);
        assert_string_equal(back, enc[i].in);
    }
    arena_free(a);
}

/* A buffer with a cap refuses what would not fit. */
static void test_encode_buf_cap(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 4);
    assert_int_equal(url_encode_buf(&b, "a b", NULL), -1);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_decode_length),
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_encode_buf_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
