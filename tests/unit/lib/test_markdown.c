/*
 * test_markdown.c — src/lib/markdown.c: READMEs become HTML with nothing
 * active in it. Script tags, event attributes, javascript:/vbscript:/data:
 * URLs (in links, images, autolinks and reference definitions, with the
 * obfuscations browsers undo) all come out inert; ordinary Markdown still
 * renders; headings move down a level; output caps cut at whole blocks; and
 * the output check refuses what cmark would never write.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "lib/markdown.h"

static char *render(const char *md)
{
    bool cut;
    return markdown_to_html(md, strlen(md), 0, &cut);
}

/* Every rendering must pass the output check and hold none of the active things. */
static void assert_inert(const char *html)
{
    assert_true(markdown_html_safe(html));
    /* Text may mention anything ("javascript:" as words is harmless); no tag or attribute may. */
    static const char *bad[] = {
        "<script",  "=\"javascript", "=\"vbscript",  "=\"data:", "=\"file:",   " onerror",
        " onclick", " onload",       " onmouseover", "<iframe",  "<img src=x", "<svg",
        "<style",   "<div",          "<a href=\"\"", NULL};
    for (int i = 0; bad[i]; i++)
        if (strstr(html, bad[i]))
            fail_msg("found %s in %s", bad[i], html);
}

static void test_hostile(void **state)
{
    (void)state;
    static const char *cases[] = {
        "<script>alert(1)</script>",
        "hello <script>alert(1)</script> world",
        "<img src=x onerror=alert(1)>",
        "<a href=\"https://ok\" onclick=\"alert(1)\">x</a>",
        "<div onmouseover=\"alert(1)\">hover</div>",
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](java\tscript:alert(1))",
        "[click](  javascript:alert(1))",
        "[click](<javascript:alert(1)>)",
        "[click](&#106;avascript:alert(1))",
        "[click](vbscript:msgbox(1))",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "![img](data:image/png;base64,iVBORw0KGgo=)",
        "![img](javascript:alert(1))",
        "<javascript:alert(1)>",
        "[ref]\n\n[ref]: javascript:alert(1)",
        "[ref]\n\n[ref]: data:text/html,<script>alert(1)</script>",
        "<style>body{display:none}</style>",
        "<iframe src=\"https://evil\"></iframe>",
        "<svg onload=alert(1)>",
        "`<script>` in code is text",
        "    <script>alert(1)</script>",
        "[a](file:///etc/passwd)",
        "<!-- comment --> text",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *h = render(cases[i]);
        assert_inert(h);
        free(h);
    }
}

static void test_text_survives(void **state)
{
    (void)state;
    char *h = render("[click](javascript:alert(1)) and ![alt text](data:image/png;base64,AAA)");
    assert_non_null(strstr(h, "click"));
    assert_non_null(strstr(h, "alt text"));
    assert_null(strstr(h, "<a "));
    assert_null(strstr(h, "<img"));
    free(h);
    h = render("`<script>`");
    assert_non_null(strstr(h, "<code>&lt;script&gt;</code>"));
    free(h);
}

static void test_ordinary_markdown(void **state)
{
    (void)state;
    char *h = render(
        "# Title\n\nSome *em* and **strong**, a [link](https://example.com/x?a=1&b=2) and "
        "[rel](docs/guide.md), [mail](mailto:a@example.com), ![logo](https://example.com/l.png \"t\")\n\n"
        "- one\n- two\n\n3. three\n\n> quoted\n\n```c\nint x = 1 < 2;\n```\n\n---\n");
    assert_true(markdown_html_safe(h));
    assert_non_null(strstr(h, "<h2>Title</h2>"));
    assert_non_null(strstr(h, "<em>em</em>"));
    assert_non_null(strstr(h, "<strong>strong</strong>"));
    assert_non_null(
        strstr(h, "<a rel=\"nofollow noopener\" href=\"https://example.com/x?a=1&amp;b=2\">link</a>"));
    assert_non_null(strstr(h, "href=\"docs/guide.md\""));
    assert_non_null(strstr(h, "href=\"mailto:a@example.com\""));
    assert_non_null(
        strstr(h, "<img loading=\"lazy\" src=\"https://example.com/l.png\" alt=\"logo\" title=\"t\" />"));
    assert_non_null(strstr(h, "<ol start=\"3\">"));
    assert_non_null(strstr(h, "<blockquote>"));
    assert_non_null(strstr(h, "<code class=\"language-c\">int x = 1 &lt; 2;"));
    free(h);
    h = render("###### six");
    assert_non_null(strstr(h, "<h6>six</h6>"));
    free(h);
}

static void test_url_ok(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        bool ok;
    } cases[] = {
        {"https://example.com", true},
        {"HTTP://example.com", true},
        {"mailto:a@b.c", true},
        {"/abs/path", true},
        {"rel/path.md", true},
        {"#frag", true},
        {"?q=1", true},
        {"", true},
        {"//cdn.example.com/x", true},
        {"./a:b", true},
        {"%6Aavascript:alert(1)", true},
        {"javascript:alert(1)", false},
        {" javascript:x", false},
        {"java\nscript:x", false},
        {"java\tscript:x", false},
        {"JAVASCRIPT:x", false},
        {"vbscript:x", false},
        {"data:text/html,x", false},
        {"file:///etc/passwd", false},
        {"ftp://x", false},
        {"java\x01script:x", false},
        {"\x01javascript:x", false},
        {"blob:https://x/y", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (markdown_url_ok(cases[i].url) != cases[i].ok)
            fail_msg("markdown_url_ok(%s) should be %d", cases[i].url, cases[i].ok);
}

static void test_output_check(void **state)
{
    (void)state;
    assert_true(markdown_html_safe("<p>ok <a rel=\"nofollow noopener\" href=\"https://x\">x</a></p>\n"));
    assert_false(markdown_html_safe("<p onclick=\"x\">x</p>"));
    assert_false(markdown_html_safe("<script>x</script>"));
    assert_false(markdown_html_safe("<a href=\"javascript:x\">x</a>"));
    assert_false(markdown_html_safe("<a href=\"&#106;avascript:x\">x</a>"));
    assert_false(markdown_html_safe("<img src=\"data:image/png,x\" />"));
    assert_false(markdown_html_safe("<!-- raw HTML omitted -->"));
    assert_false(markdown_html_safe("<p style=\"x\">x</p>"));
}

static void test_caps(void **state)
{
    (void)state;
    /* Output: whole blocks up to the cap, and the flag says something was left out. */
    char md[4096];
    size_t ml = 0;
    for (int i = 0; i < 100; i++) {
        memcpy(md + ml, "A paragraph of text.\n\n", 22);
        ml += 22;
    }
    md[ml] = '\0';
    bool cut = false;
    char *h = markdown_to_html(md, strlen(md), 300, &cut);
    assert_true(cut);
    assert_true(strlen(h) <= 300);
    assert_int_equal(strlen(h) % strlen("<p>A paragraph of text.</p>\n"), 0);
    free(h);
    /* Input past the cap is dropped at a line end. */
    size_t n = MARKDOWN_MAX_INPUT + 1000;
    char *big = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        big[i] = (i % 80 == 79) ? '\n' : 'x';
    big[n] = '\0';
    cut = false;
    h = markdown_to_html(big, n, 0, &cut);
    assert_true(cut);
    assert_true(strlen(h) < MARKDOWN_MAX_INPUT + 100);
    free(h);
    free(big);
    /* Empty and NULL input. */
    h = markdown_to_html(NULL, 0, 0, &cut);
    assert_string_equal(h, "");
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostile),           cmocka_unit_test(test_text_survives),
        cmocka_unit_test(test_ordinary_markdown), cmocka_unit_test(test_url_ok),
        cmocka_unit_test(test_output_check),      cmocka_unit_test(test_caps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
