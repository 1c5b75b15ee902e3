/*
 * test_html.c — src/web: the template helper escapes every interpolation
 * ({} and {u}), refuses unsafe URLs in {u}, passes {!} through, counts its
 * arguments; the small formatters (path segments, package paths with npm
 * scopes, grouped numbers, sizes, local redirect paths); form bodies; and
 * the CSRF token of a session (stable per session, different across
 * sessions, refused for other credentials).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "hex/options.h"
#include "core/core_int.h"
#include "web/web.h"
#include "fronts.h"

static void test_escaping(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 0);
    H(&b, "<a title=\"{}\">{}</a>", "\"><script>alert(1)</script>", "a & b < c > d ' e");
    assert_string_equal(
        b.data, "<a title=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\">a &amp; b &lt; c &gt; d "
                "&#39; e</a>");
    buf_reset(&b);
    H(&b, "<a href=\"{u}\">x</a><a href=\"{u}\">y</a><a href=\"{u}\">z</a>", "javascript:alert(1)",
      "https://e.com/?a=1&b=\"2\"", " data:text/html,x");
    assert_string_equal(b.data, "<a href=\"#\">x</a><a href=\"https://e.com/?a=1&amp;b=&quot;2&quot;\">y</a>"
                                "<a href=\"#\">z</a>");
    buf_reset(&b);
    H(&b, "{!}|{}|{{}}", "<b>raw</b>", (const char *)NULL);
    assert_string_equal(b.data, "<b>raw</b>||{}}");
    buf_reset(&b);
    html_text(&b, NULL);
    html_text(&b, "plain");
    assert_string_equal(b.data, "plain");
    buf_free(&b);
}

static void test_argument_count(void **state)
{
    (void)state;
    /* Too many or too few arguments is a bug: abort (caught by cmocka as a failure, so only the
     * matching case runs here; the counting itself is exercised by every page). */
    buf b;
    buf_init(&b, 0);
    H(&b, "{}{}{}", "a", "b", "c");
    assert_string_equal(b.data, "abc");
    buf_free(&b);
}

static void test_formatters(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    assert_string_equal(web_seg(a, "a b/c?d@e"), "a%20b%2Fc%3Fd@e");
    assert_string_equal(web_q(a, "a&b=c d@"), "a%26b%3Dc%20d%40");
    assert_string_equal(web_pkg_path(a, "npm", "@scope/name"), "/packages/npm/@scope/name");
    assert_string_equal(web_pkg_path(a, "hex", "plug"), "/packages/hex/plug");
    assert_string_equal(web_pkg_path(a, "native", "x/../y"), "/packages/native/x%2F..%2Fy");
    assert_string_equal(web_count(a, 0), "0");
    assert_string_equal(web_count(a, 999), "999");
    assert_string_equal(web_count(a, 1000), "1,000");
    assert_string_equal(web_count(a, 1234567), "1,234,567");
    assert_string_equal(web_count(a, -1234), "-1,234");
    assert_string_equal(web_size(a, 812), "812 B");
    assert_string_equal(web_size(a, 14200), "14.2 KB");
    assert_string_equal(web_date(a, 0), "");
    assert_string_equal(web_date(a, 86400 * 365), "1971-01-01");
    assert_true(web_ecosystem_ok("hex"));
    assert_false(web_ecosystem_ok("maven"));
    assert_false(web_ecosystem_ok(NULL));
    assert_string_equal(web_local_path("/account", "/"), "/account");
    assert_string_equal(web_local_path("//evil.example", "/"), "/");
    assert_string_equal(web_local_path("/\\evil.example", "/"), "/");
    assert_string_equal(web_local_path("https://evil.example", "/"), "/");
    assert_string_equal(web_local_path("/a\r\nSet-Cookie: x", "/"), "/");
    assert_string_equal(web_local_path(NULL, "/x"), "/x");
    arena_free(a);
}

static void test_forms(void **state)
{
    (void)state;
    req r;
    memset(&r, 0, sizeof r);
    r.a = arena_new(0);
    r.body = "csrf=abc%2Fd&name=a+b&scope=read&scope=publish%3Ahex&empty=&bad=%00x&flag";
    r.body_len = strlen(r.body);
    assert_string_equal(form_get(&r, "csrf"), "abc/d");
    assert_string_equal(form_get(&r, "name"), "a b");
    assert_string_equal(form_get(&r, "empty"), "");
    assert_string_equal(form_get(&r, "flag"), "");
    assert_null(form_get(&r, "bad"));
    assert_null(form_get(&r, "missing"));
    const char *v[4];
    assert_int_equal(form_values(&r, "scope", v, 4), 2);
    assert_string_equal(v[0], "read");
    assert_string_equal(v[1], "publish:hex");
    assert_int_equal(form_values(&r, "scope", v, 1), 1);
    arena_free(r.a);
}

static void test_csrf(void **state)
{
    (void)state;
    core c;
    memset(&c, 0, sizeof c);
    memcpy(c.jwt_key, "0123456789abcdef0123456789abcdef", 32);
    c.jwt_keylen = 32;
    principal p = {.kind = CRED_JWT, .user_id = 1, .username = "ann", .jti = "jti-one", .via_cookie = true};
    char t1[64], t2[64];
    assert_int_equal(auth_csrf_token(&c, &p, t1), 0);
    assert_int_equal(strlen(t1), 43);
    assert_true(auth_csrf_ok(&c, &p, t1));
    p.jti = "jti-two";
    assert_int_equal(auth_csrf_token(&c, &p, t2), 0);
    assert_string_not_equal(t1, t2);
    assert_false(auth_csrf_ok(&c, &p, t1));
    assert_false(auth_csrf_ok(&c, &p, NULL));
    assert_false(auth_csrf_ok(&c, &p, ""));
    principal tok = {.kind = CRED_TOKEN, .user_id = 1, .username = "ann"};
    assert_int_equal(auth_csrf_token(&c, &tok, t1), -1);
    assert_false(auth_csrf_ok(&c, &tok, ""));
}

static void test_snippets(void **state)
{
    (void)state;
    config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.base_url = "https://depot.example.com";
    hex_options hex = {.repo = "depot", .key = ""};
    config_set_eco(&cfg, ecosystem_find("hex"), &hex);
    req r;
    memset(&r, 0, sizeof r);
    r.a = arena_new(0);
    r.cfg = &cfg;
    snippet s[4];
    int n = web_snippets(&r, "hex", "plug", "1.4.2", s, 4);
    assert_true(n >= 1);
    assert_string_equal(s[0].text, "{:plug, \"~> 1.4\", repo: \"depot\"}");
    n = web_snippets(&r, "hex", "tiny", "0.3.1", s, 4);
    assert_string_equal(s[0].text, "{:tiny, \"~> 0.3.1\", repo: \"depot\"}");
    n = web_snippets(&r, "pub", "my_lib", "1.2.0", s, 4);
    assert_string_equal(
        s[0].text,
        "dependencies:\n  my_lib:\n    hosted: https://depot.example.com/pub\n    version: ^1.2.0");
    n = web_snippets(&r, "npm", "@s/x", "2.0.0", s, 4);
    assert_string_equal(s[0].text, "npm install @s/x --registry https://depot.example.com/npm/");
    n = web_snippets(&r, "native", "left-pad", "1.0.0", s, 4);
    assert_string_equal(s[0].text, "depot install left-pad@^1.0.0 --registry https://depot.example.com");
    arena_free(r.a);
}

static void test_chart(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    buf b;
    buf_init(&b, 0);
    int64_t days[90] = {0};
    days[10] = 7;
    days[89] = 1234;
    web_chart_svg(&b, a, days, 90, "2026-01-01", "2026-03-31");
    assert_non_null(strstr(b.data, "<svg class=\"chart\""));
    assert_non_null(strstr(b.data, "1,241 downloads in all"));
    assert_non_null(strstr(b.data, ">2,000</text>")); /* the scale's top: 2 or 4 times a power of ten */
    int bars = 0;
    for (const char *p = b.data; (p = strstr(p, "class=\"chart-bar\"")); p++)
        bars++;
    assert_int_equal(bars, 2);
    assert_null(strstr(b.data, "style="));
    buf_free(&b);
    arena_free(a);
}

int main(void)
{
    ecosystems_register(fronts_ecosystem); /* the table of fronts, as main.c does */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escaping),   cmocka_unit_test(test_argument_count),
        cmocka_unit_test(test_formatters), cmocka_unit_test(test_forms),
        cmocka_unit_test(test_csrf),       cmocka_unit_test(test_snippets),
        cmocka_unit_test(test_chart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
