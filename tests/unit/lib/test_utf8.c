/*
 * test_utf8.c — src/lib/utf8.c, table by table: well-formed text at every
 * sequence length and at the edges of each range (Unicode §3.9, table 3-7),
 * the ill-formed sequences of the same table (overlongs, surrogates, code
 * points above U+10FFFF, stray continuation bytes, cut-short sequences,
 * F5..FF), the valid prefix before the first bad sequence, and every code
 * point boundary encoded and decoded back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "lib/utf8.h"

#define N(t) (sizeof(t) / sizeof((t)[0]))

/* Each row: the bytes (s with an explicit length, so NULs can be inside),
 * whether the whole is valid, and the valid prefix's length. */
static const struct {
    const char *s;
    size_t len;
    bool valid;
    size_t prefix;
} cases[] = {
#define ROW(lit, ok, pre)                                                                                    \
    {                                                                                                        \
        lit, sizeof(lit) - 1, ok, pre                                                                        \
    }
    ROW("", true, 0),
    ROW("plain ascii", true, 11),
    ROW("nul\0inside", true, 10),
    ROW("\x7f", true, 1),
    ROW("\xc2\x80", true, 2),         /* U+0080, the first 2-byte code point */
    ROW("\xdf\xbf", true, 2),         /* U+07FF */
    ROW("\xe0\xa0\x80", true, 3),     /* U+0800 */
    ROW("\xed\x9f\xbf", true, 3),     /* U+D7FF, just below the surrogates */
    ROW("\xee\x80\x80", true, 3),     /* U+E000, just above them */
    ROW("\xef\xbf\xbf", true, 3),     /* U+FFFF */
    ROW("\xf0\x90\x80\x80", true, 4), /* U+10000 */
    ROW("\xf4\x8f\xbf\xbf", true, 4), /* U+10FFFF, the last code point */
    ROW("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", true, 14),
    ROW("\xc0\x80", false, 0),                 /* overlong NUL */
    ROW("\xc1\xbf", false, 0),                 /* overlong U+007F */
    ROW("\xe0\x80\x80", false, 0),             /* overlong 3-byte */
    ROW("\xe0\x9f\xbf", false, 0),             /* overlong U+07FF */
    ROW("\xf0\x80\x80\x80", false, 0),         /* overlong 4-byte */
    ROW("\xf0\x8f\xbf\xbf", false, 0),         /* overlong U+FFFF */
    ROW("\xed\xa0\x80", false, 0),             /* U+D800, a high surrogate */
    ROW("\xed\xbf\xbf", false, 0),             /* U+DFFF, a low surrogate */
    ROW("\xed\xa0\xbd\xed\xb8\x80", false, 0), /* a surrogate pair (CESU-8) */
    ROW("\xf4\x90\x80\x80", false, 0),         /* U+110000 */
    ROW("\xf5\x80\x80\x80", false, 0),         /* lead byte F5 */
    ROW("\xf8\x88\x80\x80\x80", false, 0),     /* a 5-byte form */
    ROW("\xfe", false, 0),
    ROW("\xff", false, 0),
    ROW("\x80", false, 0), /* a continuation byte alone */
    ROW("\xbf", false, 0),
    ROW("ab\xc3", false, 2), /* cut short at the end */
    ROW("ab\xe2\x82", false, 2),
    ROW("ab\xf0\x9f\x98", false, 2),
    ROW("\xc3\x28", false, 0), /* a continuation that is not one */
    ROW("\xe2\x28\xa1", false, 0),
    ROW("\xe2\x82\x28", false, 0),
    ROW("\xf0\x28\x8c\xbc", false, 0),
    ROW("ok \xc3\xa9 then \xff more", false, 11),
    ROW("\xc3\xa9\xc3", false, 2),
#undef ROW
};

static void test_valid(void **state)
{
    (void)state;
    for (size_t i = 0; i < N(cases); i++) {
        if (utf8_valid(cases[i].s, cases[i].len) != cases[i].valid ||
            utf8_valid_prefix(cases[i].s, cases[i].len) != cases[i].prefix)
            fail_msg("row %zu: valid %d prefix %zu", i, utf8_valid(cases[i].s, cases[i].len),
                     utf8_valid_prefix(cases[i].s, cases[i].len));
    }
}

/* A length shorter than the text cuts a sequence short even when the bytes
 * after it would complete it. */
static void test_length_bounds(void **state)
{
    (void)state;
    const char *euro = "\xe2\x82\xac";
    assert_true(utf8_valid(euro, 3));
    assert_false(utf8_valid(euro, 2));
    assert_int_equal(utf8_valid_prefix(euro, 2), 0);
    assert_true(utf8_valid(euro, 0));
    uint32_t cp = 7;
    assert_int_equal(utf8_decode(euro, 2, &cp), 0);
    assert_int_equal(cp, 7); /* left alone on failure */
    assert_int_equal(utf8_decode(euro, 0, &cp), 0);
}

static const struct {
    uint32_t cp;
    const char *bytes;
} points[] = {
    {0x00, "\x00"},
    {0x41, "A"},
    {0x7F, "\x7f"},
    {0x80, "\xc2\x80"},
    {0x7FF, "\xdf\xbf"},
    {0x800, "\xe0\xa0\x80"},
    {0xD7FF, "\xed\x9f\xbf"},
    {0xE000, "\xee\x80\x80"},
    {0xFFFD, "\xef\xbf\xbd"},
    {0xFFFF, "\xef\xbf\xbf"},
    {0x10000, "\xf0\x90\x80\x80"},
    {0x1F600, "\xf0\x9f\x98\x80"},
    {0x10FFFF, "\xf4\x8f\xbf\xbf"},
};

static void test_encode_decode(void **state)
{
    (void)state;
    for (size_t i = 0; i < N(points); i++) {
        size_t want = points[i].cp ? strlen(points[i].bytes) : 1;
        char out[4];
        size_t n = utf8_encode(points[i].cp, out);
        assert_int_equal(n, want);
        assert_memory_equal(out, points[i].bytes, n);
        uint32_t cp = 0xFFFFFFFF;
        assert_int_equal(utf8_decode(out, n, &cp), n);
        assert_int_equal(cp, points[i].cp);
        /* decoding stops after one code point, whatever follows */
        char two[8];
        memcpy(two, out, n);
        two[n] = 'z';
        assert_int_equal(utf8_decode(two, n + 1, &cp), n);
        assert_true(utf8_valid(out, n));
    }
    /* A surrogate encodes to the bytes the validator refuses. */
    char s[4];
    assert_int_equal(utf8_encode(0xD800, s), 3);
    assert_false(utf8_valid(s, 3));
}

static void test_ascii_alnum_or(void **state)
{
    (void)state;
    assert_true(ascii_alnum_or("", 0, ""));
    assert_true(ascii_alnum_or("Apache-2.0", 10, "-."));
    assert_false(ascii_alnum_or("Apache-2.0", 10, "-"));
    assert_true(ascii_alnum_or("a_b-C9", 6, "-_"));
    assert_false(ascii_alnum_or("a b", 3, "-_"));
    assert_false(ascii_alnum_or("a\0b", 3, "-"));
    assert_false(ascii_alnum_or("caf\xc3\xa9", 5, "-"));
    assert_true(ascii_alnum_or("ab!", 2, ""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_length_bounds),
        cmocka_unit_test(test_encode_decode),
        cmocka_unit_test(test_ascii_alnum_or),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
