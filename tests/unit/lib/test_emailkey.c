/*
 * test_emailkey.c — src/lib/emailkey.c: spellings of one address share a key (case, fullwidth
 * and other compatibility forms, the Kelvin sign, ß, punycode domains), different addresses
 * (another script, another mailbox) do not, and ASCII addresses keep the key depot stored before.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "lib/emailkey.h"

#define N(t) (sizeof(t) / sizeof((t)[0]))

static const struct {
    const char *in, *key;
} keys[] = {
    {"alice@example.com", "alice@example.com"},
    {"Alice.Smith+Tag@EXAMPLE.COM", "alice.smith+tag@example.com"},
    {"\xef\xbd\x81lice@example.com", "alice@example.com"},               /* fullwidth a */
    {"alice@\xef\xbd\x85xample.com", "alice@example.com"},               /* fullwidth e */
    {"\xe2\x84\xaa" "ate@example.com", "kate@example.com"},                 /* Kelvin sign */
    {"bob@stra\xc3\x9f" "e.example", "bob@strasse.example"},             /* ß folds to ss */
    {"bob@xn--strae-oqa.example", "bob@strasse.example"},                /* its punycode */
    {"BOB@STRASSE.EXAMPLE", "bob@strasse.example"},
    {"al\xc2\xadice@example.com", "alice@example.com"},                  /* a soft hyphen */
    {"j\xc3\xbcrgen@b\xc3\xbc" "cher.example", "j\xc3\xbcrgen@b\xc3\xbc" "cher.example"},
    {"ju\xcc\x88rgen@xn--bcher-kva.example", "j\xc3\xbcrgen@b\xc3\xbc" "cher.example"}, /* NFD, punycode */
};

static void test_keys(void **state)
{
    (void)state;
    for (size_t i = 0; i < N(keys); i++) {
        char *k = email_key(keys[i].in);
        assert_non_null(k);
        if (strcmp(k, keys[i].key) != 0)
            fail_msg("%s: got %s, want %s", keys[i].in, k, keys[i].key);
        free(k);
    }
}

static void test_different_addresses_stay_apart(void **state)
{
    (void)state;
    static const char *pairs[][2] = {
        {"alice@example.com", "\xd0\xb0lice@example.com"}, /* Cyrillic а */
        {"alice@example.com", "alice2@example.com"},
        {"alice@example.com", "alice@example.org"},
    };
    for (size_t i = 0; i < N(pairs); i++) {
        char *a = email_key(pairs[i][0]), *b = email_key(pairs[i][1]);
        assert_string_not_equal(a, b);
        free(a);
        free(b);
    }
}

static void test_odd_input(void **state)
{
    (void)state;
    assert_null(email_key(NULL));
    char *k = email_key("\xff\xfe@EXAMPLE.com"); /* not UTF-8: ASCII folding only */
    assert_string_equal(k, "\xff\xfe@example.com");
    free(k);
    k = email_key("no-at-sign");
    assert_string_equal(k, "no-at-sign");
    free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_different_addresses_stay_apart),
        cmocka_unit_test(test_odd_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
