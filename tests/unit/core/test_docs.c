/* Unit tests for the pure parts of hosted docs: content types by extension and site URLs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/core_int.h"
#include "core/docs.h"

static void test_content_types(void **state)
{
    (void)state;
    static const struct {
        const char *path, *type;
    } cases[] = {
        {"index.html", "text/html; charset=utf-8"},
        {"a/b/Page.HTM", "text/html; charset=utf-8"},
        {"dist/app.css", "text/css; charset=utf-8"},
        {"dist/app.js", "text/javascript; charset=utf-8"},
        {"mod.mjs", "text/javascript; charset=utf-8"},
        {"search.json", "application/json"},
        {"app.js.map", "application/json"},
        {"logo.svg", "image/svg+xml"},
        {"x.png", "image/png"},
        {"x.jpg", "image/jpeg"},
        {"x.JPEG", "image/jpeg"},
        {"x.gif", "image/gif"},
        {"x.webp", "image/webp"},
        {"favicon.ico", "image/x-icon"},
        {"f.woff", "font/woff"},
        {"f.woff2", "font/woff2"},
        {"f.ttf", "font/ttf"},
        {"notes.txt", "text/plain; charset=utf-8"},
        {"README.md", "text/markdown; charset=utf-8"},
        {"feed.xml", "application/xml"},
        {"app.wasm", "application/wasm"},
        {"book.pdf", "application/pdf"},
        {"book.epub", "application/epub+zip"},
        {"Makefile", "application/octet-stream"},
        {".nojekyll", "application/octet-stream"},
        {"dir.html/file", "application/octet-stream"},
        {"x.", "application/octet-stream"},
        {"x.exe", "application/octet-stream"},
        {"", "application/octet-stream"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_string_equal(docs_content_type(cases[i].path), cases[i].type);
}

static void test_site_url(void **state)
{
    (void)state;
    config cfg = {0};
    core c = {0};
    c.cfg = &cfg;
    arena *a = arena_new(0);
    cfg.base_url = "http://127.0.0.1:4000";
    cfg.docs_url = "";
    assert_string_equal(docs_site_url(&c, a, "native", "left-pad", "1.2.0"),
                        "http://127.0.0.1:4000/docs/native/left-pad/1.2.0/");
    assert_string_equal(docs_site_url(&c, a, "npm", "@scope/pkg", "1.0.0-rc.1+b.2"),
                        "http://127.0.0.1:4000/docs/npm/@scope/pkg/1.0.0-rc.1%2Bb.2/");
    assert_string_equal(docs_site_url(&c, a, "hex", "a b/c", "1.0.0"),
                        "http://127.0.0.1:4000/docs/hex/a%20b%2Fc/1.0.0/");
    cfg.docs_url = "https://docs.example.com//";
    assert_string_equal(docs_site_url(&c, a, "pub", "http", "0.13.0"),
                        "https://docs.example.com/pub/http/0.13.0/");
    cfg.docs_url = NULL;
    assert_string_equal(docs_site_url(&c, a, "pub", "http", "0.13.0"),
                        "http://127.0.0.1:4000/docs/pub/http/0.13.0/");
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_content_types),
        cmocka_unit_test(test_site_url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
