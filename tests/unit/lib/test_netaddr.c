/*
 * test_netaddr.c — src/lib/netaddr.c: --trusted-proxies lists (IPv4, IPv6,
 * prefixes, mapped addresses, the errors a typo gets) and the client address
 * taken from X-Forwarded-For only through trusted hops.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "lib/netaddr.h"

static void test_parse_and_contains(void **state)
{
    (void)state;
    netaddr_list l;
    derr e;
    assert_int_equal(netaddr_list_parse("10.0.0.0/8, 192.168.1.7 ,fd00::/8,::1", &l, &e), 0);
    assert_int_equal(l.n, 4);
    assert_true(netaddr_list_contains(&l, "10.1.2.3"));
    assert_true(netaddr_list_contains(&l, "192.168.1.7"));
    assert_false(netaddr_list_contains(&l, "192.168.1.8"));
    assert_false(netaddr_list_contains(&l, "11.0.0.1"));
    assert_true(netaddr_list_contains(&l, "fd12:3456::1"));
    assert_false(netaddr_list_contains(&l, "fe80::1"));
    assert_true(netaddr_list_contains(&l, "::1"));
    assert_true(netaddr_list_contains(&l, "::ffff:10.9.9.9"));
    assert_false(netaddr_list_contains(&l, "not an ip"));
    assert_false(netaddr_list_contains(&l, ""));
    assert_false(netaddr_list_contains(&l, NULL));

    assert_int_equal(netaddr_list_parse("", &l, &e), 0);
    assert_int_equal(l.n, 0);
    assert_false(netaddr_list_contains(&l, "10.0.0.1"));
    assert_int_equal(netaddr_list_parse("0.0.0.0/0", &l, &e), 0);
    assert_true(netaddr_list_contains(&l, "203.0.113.9"));
    assert_false(netaddr_list_contains(&l, "2001:db8::1"));
    assert_int_equal(netaddr_list_parse("172.16.0.0/12", &l, &e), 0);
    assert_true(netaddr_list_contains(&l, "172.31.255.255"));
    assert_false(netaddr_list_contains(&l, "172.32.0.0"));
}

static void test_parse_errors(void **state)
{
    (void)state;
    static const struct {
        const char *spec, *why;
    } bad[] = {
        {"10.0.0.0/33", "prefix length"}, {"10.0.0.1/8", "host bits"}, {"10.0.0/8", "not an IP"},
        {"10.0.0.0/", "prefix length"},   {"10.0.0.0/x", "prefix length"}, {"::1/129", "prefix length"},
        {"a,,b", "not an IP"},            {",10.0.0.1", "empty entry"},   {"localhost", "not an IP"},
        {"10.0.0.0/8/8", "prefix length"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        netaddr_list l;
        derr e;
        if (netaddr_list_parse(bad[i].spec, &l, &e) == 0)
            fail_msg("'%s' was accepted", bad[i].spec);
        assert_int_equal(e.status, 400);
        if (!strstr(e.message, bad[i].why))
            fail_msg("'%s': message '%s' lacks '%s'", bad[i].spec, e.message, bad[i].why);
    }
    char many[1024] = "";
    for (int i = 0; i <= NETADDR_MAX_NETS; i++) {
        char one[32];
        snprintf(one, sizeof one, "%s10.0.0.%d", i ? "," : "", i);
        strncat(many, one, sizeof many - strlen(many) - 1);
    }
    netaddr_list l;
    derr e;
    assert_int_equal(netaddr_list_parse(many, &l, &e), -1);
    assert_non_null(strstr(e.message, "more than"));
}

static void test_client(void **state)
{
    (void)state;
    netaddr_list l;
    derr e;
    char out[INET6_ADDRSTRLEN];
    assert_int_equal(netaddr_list_parse("10.0.0.0/8", &l, &e), 0);
    /* no header, or an untrusted peer: the peer itself, whatever the header says */
    assert_string_equal(netaddr_client(&l, "10.0.0.2", NULL, out, sizeof out), "10.0.0.2");
    assert_string_equal(netaddr_client(&l, "203.0.113.5", "198.51.100.1", out, sizeof out), "203.0.113.5");
    /* a trusted peer: the rightmost untrusted entry */
    assert_string_equal(netaddr_client(&l, "10.0.0.2", "198.51.100.1", out, sizeof out), "198.51.100.1");
    assert_string_equal(netaddr_client(&l, "10.0.0.2", "1.2.3.4, 198.51.100.1, 10.0.0.9", out, sizeof out),
                        "198.51.100.1");
    /* a client cannot smuggle an address past the first untrusted hop */
    assert_string_equal(netaddr_client(&l, "10.0.0.2", "10.9.9.9,  203.0.113.77", out, sizeof out),
                        "203.0.113.77");
    /* garbage stops the walk at the last trusted hop */
    assert_string_equal(netaddr_client(&l, "10.0.0.2", "198.51.100.1, junk", out, sizeof out), "10.0.0.2");
    assert_string_equal(netaddr_client(&l, "10.0.0.2", "198.51.100.1, x, 10.0.0.3", out, sizeof out),
                        "10.0.0.3");
    /* every hop trusted: the leftmost one */
    assert_string_equal(netaddr_client(&l, "10.0.0.2", "10.0.0.4,10.0.0.3", out, sizeof out), "10.0.0.4");
    assert_string_equal(netaddr_client(&l, "10.0.0.2", "", out, sizeof out), "10.0.0.2");
    assert_string_equal(netaddr_client(&l, "10.0.0.2", "2001:db8::7", out, sizeof out), "2001:db8::7");
    /* an empty list trusts nobody */
    assert_int_equal(netaddr_list_parse("", &l, &e), 0);
    assert_string_equal(netaddr_client(&l, "10.0.0.2", "198.51.100.1", out, sizeof out), "10.0.0.2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_contains),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_client),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
