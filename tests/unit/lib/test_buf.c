/*
 * test_buf.c — src/lib/buf.c: the hard cap holds exactly (filling to the cap
 * works, one byte more fails and changes nothing), printf formats and obeys
 * the cap, the data stays NUL-terminated, and reset/free leave a usable buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "lib/buf.h"

static void test_append_grows(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 0);
    assert_int_equal(b.len, 0);
    for (int i = 0; i < 100000; i++)
        assert_int_equal(buf_append(&b, "0123456789", 10), 0);
    assert_int_equal(b.len, 1000000);
    assert_int_equal(b.data[b.len], '\0');
    assert_memory_equal(b.data + 999990, "0123456789", 10);
    assert_int_equal(buf_append(&b, NULL, 0), 0);
    assert_int_equal(b.len, 1000000);
    buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    buf_free(&b); /* twice is fine */
    buf_free(NULL);
}

/* Table: appends against a cap, each with the expected result and length after. */
static void test_cap(void **state)
{
    (void)state;
    static const struct {
        size_t max;
        const char *parts[4];
        int want[4];
        size_t len;
    } cases[] = {
        {10, {"12345", "12345", "x"}, {0, 0, -1}, 10},
        {10, {"12345678901"}, {-1}, 0},
        {10, {"123456", "12345", "1234"}, {0, -1, 0}, 10},
        {1, {"", "a", "b"}, {0, 0, -1}, 1},
        {3, {"abcd", "abc", ""}, {-1, 0, 0}, 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        buf b;
        buf_init(&b, cases[i].max);
        for (size_t k = 0; k < 4 && cases[i].parts[k]; k++) {
            size_t before = b.len;
            int r = buf_puts(&b, cases[i].parts[k]);
            assert_int_equal(r, cases[i].want[k]);
            if (r < 0)
                assert_int_equal(b.len, before); /* nothing appended */
        }
        assert_int_equal(b.len, cases[i].len);
        if (b.data)
            assert_int_equal(b.data[b.len], '\0');
        buf_free(&b);
    }
}

/* A huge n must not wrap around the cap check. */
static void test_cap_overflow(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 100);
    assert_int_equal(buf_puts(&b, "abc"), 0);
    assert_int_equal(buf_append(&b, "x", SIZE_MAX), -1);
    assert_int_equal(buf_append(&b, "x", SIZE_MAX - 2), -1);
    assert_int_equal(b.len, 3);
    assert_string_equal(b.data, "abc");
    buf_free(&b);
}

static void test_printf(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 0);
    assert_int_equal(buf_printf(&b, "%s-%d", "a", 1), 0);
    assert_int_equal(buf_printf(&b, "%s", ""), 0);
    assert_int_equal(buf_printf(&b, "|%04x|%-3s|", 0xbeefu, "z"), 0);
    assert_string_equal(b.data, "a-1|beef|z  |");
    assert_int_equal(b.len, strlen("a-1|beef|z  |"));
    for (int i = 0; i < 1000; i++)
        assert_int_equal(buf_printf(&b, "%d,", i), 0);
    assert_int_equal(b.data[b.len - 1], ',');
    assert_int_equal(b.data[b.len], '\0');
    buf_free(&b);

    buf_init(&b, 8);
    assert_int_equal(buf_printf(&b, "%d", 1234), 0);
    assert_int_equal(buf_printf(&b, "%d", 12345), -1); /* would make 9 */
    assert_string_equal(b.data, "1234");
    assert_int_equal(buf_printf(&b, "%s", "5678"), 0); /* exactly 8 */
    assert_string_equal(b.data, "12345678");
    assert_int_equal(buf_printf(&b, "%s", "x"), -1);
    assert_int_equal(buf_printf(&b, "%s", ""), 0);
    assert_int_equal(b.len, 8);
    buf_free(&b);
}

static void test_reset(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 16);
    assert_int_equal(buf_puts(&b, "0123456789abcdef"), 0);
    size_t cap = b.cap;
    char *data = b.data;
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    assert_int_equal(b.cap, cap);
    assert_ptr_equal(b.data, data);
    assert_int_equal(buf_puts(&b, "0123456789abcdef"), 0); /* the cap counts what is held now */
    assert_int_equal(buf_puts(&b, "!"), -1);
    buf_free(&b);

    buf_init(&b, 0);
    buf_reset(&b); /* on a buffer with no data yet */
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

/* Binary data with NULs is kept whole; len counts it all. */
static void test_binary(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 0);
    assert_int_equal(buf_append(&b, "a\0b\0", 4), 0);
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.data, "a\0b\0\0", 5);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_grows), cmocka_unit_test(test_cap),
        cmocka_unit_test(test_cap_overflow), cmocka_unit_test(test_printf),
        cmocka_unit_test(test_reset),        cmocka_unit_test(test_binary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
