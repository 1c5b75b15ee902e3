/*
 * test_manifest.c — src/native/manifest.c: a full valid manifest parsed into
 * the struct; a minimal one (absent arrays become empty arrays, absent
 * strings NULL); then a table of single-field changes to the valid one, each
 * accepted or refused with the right status (400 wrong JSON type, 422 broken
 * rule) and a message starting with the field's path. Also package name
 * checking and normalisation on their own, and reserved names compared
 * after normalising.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "native/manifest.h"

static const char *const categories[] = {
    "parsing", "web-programming", "cryptography", "encoding", "testing", "database", NULL};
static const char *const reserved[] = {"depot", "Std-Lib", NULL};
static const manifest_rules rules = {.categories = categories, .reserved = reserved};

static const char full[] =
    "{\"name\": \"my-pkg_2\", \"version\": \"1.2.3-beta.1+build.5\","
    " \"description\": \"A package \\u00e9t\\u00e9\","
    " \"license\": \"MIT OR Apache-2.0\", \"homepage\": \"https://example.com\","
    " \"repository\": \"https://github.com/me/my-pkg\", \"documentation\": \"http://docs.example.com/x?y#z\","
    " \"readme\": \"./docs//README.md\","
    " \"authors\": [\"Ann <ann@example.com>\", \"Bob\"], \"keywords\": [\"json\", \"parser-2\", \"x_y\"],"
    " \"categories\": [\"parsing\", \"encoding\"], \"tags\": [\"fast\", \"No Deps\"],"
    " \"dependencies\": {\"json-core\": \"^1.0\", \"util\": \">= 2.0, < 3.0\"},"
    " \"dev_dependencies\": {\"test_kit\": \"~0.5\"},"
    " \"unknown_field\": {\"anything\": [1, 2]}, \"build\": 7}";

static json_t *load(const char *s)
{
    json_error_t je;
    json_t *d = json_loads(s, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!d)
        fail_msg("bad test JSON: %s", je.text);
    return d;
}

static void test_full(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    json_t *doc = load(full);
    manifest m;
    derr e;
    derr_clear(&e);
    if (manifest_parse(a, doc, &rules, &m, &e) != 0)
        fail_msg("%s", e.message);
    assert_string_equal(m.name, "my-pkg_2");
    assert_string_equal(m.version, "1.2.3-beta.1+build.5");
    assert_string_equal(m.description, "A package \xc3\xa9t\xc3\xa9");
    assert_string_equal(m.license, "MIT OR Apache-2.0");
    assert_string_equal(m.homepage, "https://example.com");
    assert_string_equal(m.repository, "https://github.com/me/my-pkg");
    assert_string_equal(m.documentation, "http://docs.example.com/x?y#z");
    assert_string_equal(m.readme, "docs/README.md");
    assert_int_equal(json_array_size(m.authors), 2);
    assert_string_equal(json_string_value(json_array_get(m.authors, 0)), "Ann <ann@example.com>");
    assert_int_equal(json_array_size(m.keywords), 3);
    assert_int_equal(json_array_size(m.categories), 2);
    assert_int_equal(json_array_size(m.tags), 2);
    assert_int_equal(m.ndeps, 2);
    assert_string_equal(m.deps[0].name, "json-core");
    assert_string_equal(m.deps[0].req, "^1.0");
    assert_string_equal(m.deps[1].name, "util");
    assert_string_equal(m.deps[1].req, ">= 2.0, < 3.0");
    assert_int_equal(m.ndev_deps, 1);
    assert_string_equal(m.dev_deps[0].name, "test_kit");
    assert_string_equal(m.dev_deps[0].req, "~0.5");
    arena_free(a);
    json_decref(doc);
}

static void test_minimal(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    json_t *doc = load("{\"name\": \"a\", \"version\": \"0.1.0\", \"license\": null, \"tags\": null}");
    manifest m;
    derr e;
    if (manifest_parse(a, doc, NULL, &m, &e) != 0)
        fail_msg("%s", e.message);
    assert_string_equal(m.name, "a");
    assert_null(m.description);
    assert_null(m.license);
    assert_null(m.homepage);
    assert_null(m.readme);
    json_t *arrs[] = {m.authors, m.keywords, m.categories, m.tags};
    for (int i = 0; i < 4; i++) {
        assert_non_null(arrs[i]);
        assert_true(json_is_array(arrs[i]));
        assert_int_equal(json_array_size(arrs[i]), 0);
    }
    assert_int_equal(m.ndeps, 0);
    assert_int_equal(m.ndev_deps, 0);
    json_decref(doc);
    arena_free(a); /* frees the empty arrays it made */
}

/* Strings of a given length, built at run time for the table. */
static char s1000[1100], s1001[1100], url2049[2100], author201[300], long257[300];

static void fill_strings(void)
{
    memset(s1000, 'd', 1000);
    memset(s1001, 'd', 1001);
    int n = snprintf(url2049, sizeof url2049, "https://example.com/");
    memset(url2049 + n, 'p', 2049 - (size_t)n);
    memset(author201, 'a', 201);
    memset(long257, 'r', 257);
}

static void test_fields(void **state)
{
    (void)state;
    fill_strings();
    static char desc1000[1200], desc1001[1200], url[2200], auth[400], readme[400], wide[2200];
    snprintf(desc1000, sizeof desc1000, "\"%s\"", s1000);
    snprintf(desc1001, sizeof desc1001, "\"%s\"", s1001);
    snprintf(url, sizeof url, "\"%s\"", url2049);
    snprintf(auth, sizeof auth, "[\"%s\"]", author201);
    snprintf(readme, sizeof readme, "\"%s\"", long257);
    size_t w = 0;
    wide[w++] = '"';
    for (int i = 0; i < 1000; i++) {
        memcpy(wide + w, "\xc3\xa9", 2);
        w += 2;
    }
    wide[w++] = '"';
    wide[w] = '\0';

    static const char deps501_key[] = "dependencies";
    static char deps501[501 * 16 + 8];
    size_t k = 0;
    deps501[k++] = '{';
    for (int i = 0; i < 501; i++)
        k += (size_t)snprintf(deps501 + k, sizeof deps501 - k, "%s\"d%d\":\"1\"", i ? "," : "", i);
    deps501[k++] = '}';
    deps501[k] = '\0';
    static char deps500[501 * 16 + 8];
    snprintf(deps500, sizeof deps500, "%s", deps501);
    char *cut = strstr(deps500, ",\"d500\"");
    memcpy(cut, "}", 2);

    static char reqlong[1100], reqok[1100];
    memcpy(reqlong, "{\"x\":\"", 6);
    memset(reqlong + 6, '1', 1025);
    memcpy(reqlong + 6 + 1025, "\"}", 3);
    memcpy(reqok, "{\"x\":\"", 6);
    memset(reqok + 6, '1', 1024);
    memcpy(reqok + 6 + 1024, "\"}", 3);

    const struct {
        const char *key, *value; /* value NULL: remove the key */
        int status;              /* 0: accepted */
        const char *msg;         /* the message starts with this */
    } cases[] = {
        /* name */
        {"name", NULL, 422, "name: is required"},
        {"name", "null", 422, "name: is required"},
        {"name", "7", 400, "name: must be a string"},
        {"name", "\"\"", 422, "name: must not be empty"},
        {"name", "\"Foo\"", 422, "name: 'Foo' is not valid"},
        {"name", "\"1abc\"", 422, "name: '1abc' is not valid"},
        {"name", "\"_abc\"", 422, "name: '_abc' is not valid"},
        {"name", "\"a.b\"", 422, "name: 'a.b' is not valid"},
        {"name", "\"a b\"", 422, "name: 'a b' is not valid"},
        {"name", "\"caf\\u00e9\"", 422, "name: 'caf\xc3\xa9' is not valid"},
        {"name", "\"a\\nb\"", 422, "name: 'a?b' is not valid"},
        {"name", "\"a\\u0000b\"", 400, "name: must not contain NUL"},
        {"name", "\"a234567890123456789012345678901234567890123456789012345678901234\"", 0, NULL},
        {"name", "\"a2345678901234567890123456789012345678901234567890123456789012345\"", 422,
         "name: is longer than 64"},
        {"name", "\"depot\"", 422, "name: 'depot' is reserved"},
        {"name", "\"std_lib\"", 422, "name: 'std_lib' is reserved"},
        {"name", "\"std-lib\"", 422, "name: 'std-lib' is reserved"},
        {"name", "\"depots\"", 0, NULL},
        {"name", "\"a-\"", 0, NULL},
        /* version: only presence and size here */
        {"version", NULL, 422, "version: is required"},
        {"version", "1", 400, "version: must be a string"},
        {"version", "\"\"", 422, "version: must not be empty"},
        {"version", "\"not semver at all\"", 0, NULL},
        /* description */
        {"description", desc1000, 0, NULL},
        {"description", wide, 0, NULL},
        {"description", desc1001, 422, "description: is longer than 1000 characters"},
        {"description", "[\"x\"]", 400, "description: must be a string"},
        {"description", "null", 0, NULL},
        /* license */
        {"license", "\"Apache-2.0 WITH LLVM-exception\"", 0, NULL},
        {"license", "\"mit\"", 0, NULL},
        {"license", "\"Foo\"", 422, "license: unknown license id 'Foo'"},
        {"license", "\"mit or apache-2.0\"", 422, "license: operator 'or'"},
        {"license", "\"MIT OR\"", 422, "license: expected a license after OR"},
        {"license", "\"\"", 422, "license: the license expression is empty"},
        {"license", "{}", 400, "license: must be a string"},
        /* URLs */
        {"homepage", "\"http://x.org\"", 0, NULL},
        {"homepage", "\"HTTPS://X.ORG/a\"", 0, NULL},
        {"homepage", "\"ftp://x.org\"", 422, "homepage: 'ftp://x.org' is not an http(s) URL"},
        {"homepage", "\"javascript:alert(1)\"", 422, "homepage: 'javascript:alert(1)' is not an http(s) URL"},
        {"homepage", "\"example.com\"", 422, "homepage: 'example.com' is not an http(s) URL"},
        {"homepage", "\"https://\"", 422, "homepage: 'https://' has no host"},
        {"homepage", "\"https:///path\"", 422, "homepage: 'https:///path' has no host"},
        {"homepage", "\"https://x.org/a b\"", 422, "homepage: a URL must not contain spaces"},
        {"homepage", url, 422, "homepage: is longer than 2048 bytes"},
        {"repository", "\"git@github.com:me/x.git\"", 422, "repository: "},
        {"repository", "5", 400, "repository: must be a string"},
        {"documentation", "\"https://docs.rs/x\\t\"", 422, "documentation: a URL must not contain"},
        /* authors */
        {"authors", "[]", 0, NULL},
        {"authors", "\"Ann\"", 400, "authors: must be an array of strings"},
        {"authors", "[\"Ann\", 3]", 400, "authors[1]: must be a string"},
        {"authors", "[\"Ann\", \"\"]", 422, "authors[1]: must not be empty"},
        {"authors", auth, 422, "authors[0]: is longer than 200 characters"},
        {"authors", "[\"a\\u0007b\"]", 422, "authors[0]: must not contain control characters"},
        {"authors",
         "[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"1\",\"2\",\"3\",\"4\",\"5\",\"6\","
         "\"7\","
         "\"8\",\"9\",\"20\",\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"30\",\"1\",\"2\",\"3\","
         "\"4\","
         "\"5\",\"6\",\"7\",\"8\",\"9\",\"40\",\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"50\","
         "\"51\"]",
         422, "authors: at most 50 entries"},
        /* keywords */
        {"keywords", "[\"a\", \"0x\", \"a_b-c\", \"abcdefghijklmnopqrstuvwxyz012345\"]", 0, NULL},
        {"keywords", "[\"Json\"]", 422, "keywords[0]: 'Json' must be 1 to 32 lower-case letters"},
        {"keywords", "[\"ok\", \"two words\"]", 422, "keywords[1]: 'two words' must be"},
        {"keywords", "[\"-x\"]", 422, "keywords[0]: '-x' must be"},
        {"keywords", "[\"\"]", 422, "keywords[0]: '' must be"},
        {"keywords", "[\"abcdefghijklmnopqrstuvwxyz0123456\"]", 422, "keywords[0]: "},
        {"keywords", "[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\",\"k\"]", 422,
         "keywords: at most 10 entries are allowed, not 11"},
        {"keywords", "{\"a\": 1}", 400, "keywords: must be an array of strings"},
        /* categories */
        {"categories", "[\"testing\", \"database\", \"parsing\", \"encoding\", \"cryptography\"]", 0, NULL},
        {"categories",
         "[\"testing\", \"database\", \"parsing\", \"encoding\", \"cryptography\", \"web-programming\"]", 422,
         "categories: at most 5 entries"},
        {"categories", "[\"parsing\", \"games\"]", 422,
         "categories[1]: 'games' is not one of the allowed categories"},
        {"categories", "[\"Parsing\"]", 422, "categories[0]: 'Parsing' is not one of"},
        {"categories", "[null]", 400, "categories[0]: must be a string"},
        /* tags */
        {"tags", "[\"Any Text, really!\"]", 0, NULL},
        {"tags", "[\"123456789012345678901234567890123456789012345678901\"]", 422,
         "tags[0]: is longer than 50"},
        {"tags", "[\"\"]", 422, "tags[0]: must not be empty"},
        {"tags",
         "[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\",\"12\",\"13\",\"14\",\"15\","
         "\"16\",\"17\",\"18\",\"19\",\"20\",\"21\"]",
         422, "tags: at most 20 entries"},
        {"tags", "true", 400, "tags: must be an array"},
        /* dependencies */
        {"dependencies", "{}", 0, NULL},
        {"dependencies", "[]", 400, "dependencies: must be an object"},
        {"dependencies", "{\"x\": 1}", 400, "dependencies.x: the requirement must be a string"},
        {"dependencies", "{\"X\": \"1\"}", 422, "dependencies.X: 'X' is not valid"},
        {"dependencies", "{\"a.b\": \"1\"}", 422, "dependencies.a.b: 'a.b' is not valid"},
        {"dependencies", "{\"x\": \"\"}", 422, "dependencies.x: the requirement must not be empty"},
        {"dependencies", reqlong, 422, "dependencies.x: the requirement is longer than 1024 bytes"},
        {"dependencies", reqok, 0, NULL},
        {"dependencies", "{\"x\": \"1\\n\"}", 422,
         "dependencies.x: the requirement must not contain control"},
        {"dependencies", "{\"foo-bar\": \"1\", \"foo_bar\": \"2\"}", 422,
         "dependencies: foo-bar and foo_bar name the same package"},
        {deps501_key, deps500, 0, NULL},
        {deps501_key, deps501, 422, "dependencies: at most 500 entries are allowed, not 501"},
        {"dev_dependencies", "{\"Bad\": \"1\"}", 422, "dev_dependencies.Bad: 'Bad' is not valid"},
        {"dev_dependencies", "\"x\"", 400, "dev_dependencies: must be an object"},
        {"dev_dependencies", "{\"json-core\": \"^2\"}", 0, NULL}, /* also a normal dependency: fine */
        /* readme */
        {"readme", "\"README.md\"", 0, NULL},
        {"readme", "\"docs/../../etc/passwd\"", 422, "readme: 'docs/../../etc/passwd' must not contain '..'"},
        {"readme", "\"../README\"", 422, "readme: '../README' must not contain '..'"},
        {"readme", "\"/etc/passwd\"", 422, "readme: must be a path relative"},
        {"readme", "\"\"", 422, "readme: must not be empty"},
        {"readme", "\"./\"", 422, "readme: './' names no file"},
        {"readme", "\"a\\\\b\"", 422, "readme: must not contain control characters or '\\'"},
        {"readme", readme, 422, "readme: is longer than 256 bytes"},
        {"readme", "[]", 400, "readme: must be a string"},
        /* unknown fields of any type are ignored */
        {"x-extra", "[1, {\"a\": null}]", 0, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *doc = load(full);
        if (cases[i].value)
            json_object_set_new(doc, cases[i].key, load(cases[i].value));
        else
            json_object_del(doc, cases[i].key);
        arena *a = arena_new(0);
        manifest m;
        derr e;
        derr_clear(&e);
        int rc = manifest_parse(a, doc, &rules, &m, &e);
        if (cases[i].status == 0) {
            if (rc != 0)
                fail_msg("%s=%.60s: refused: %s", cases[i].key, cases[i].value ? cases[i].value : "(none)",
                         e.message);
        } else {
            if (rc != -1)
                fail_msg("%s=%.60s: accepted", cases[i].key, cases[i].value ? cases[i].value : "(none)");
            if (e.status != cases[i].status || strncmp(e.message, cases[i].msg, strlen(cases[i].msg)) != 0)
                fail_msg("%s=%.60s: got %d \"%s\", want %d \"%s\"", cases[i].key,
                         cases[i].value ? cases[i].value : "(none)", e.status, e.message, cases[i].status,
                         cases[i].msg);
            assert_string_equal(e.code, e.status == 400 ? "bad_request" : "invalid");
        }
        arena_free(a);
        json_decref(doc);
    }
}

static void test_not_object_and_no_rules(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    manifest m;
    derr e;
    json_t *arr = load("[1]");
    assert_int_equal(manifest_parse(a, arr, &rules, &m, &e), -1);
    assert_int_equal(e.status, 400);
    json_decref(arr);
    /* Without rules: any category (within size), nothing reserved. */
    json_t *doc =
        load("{\"name\": \"depot\", \"version\": \"1.0.0\", \"categories\": [\"Whatever I Like\"]}");
    assert_int_equal(manifest_parse(a, doc, NULL, &m, &e), 0);
    json_object_set_new(doc, "categories", load("[\"\"]"));
    assert_int_equal(manifest_parse(a, doc, NULL, &m, &e), -1);
    assert_non_null(strstr(e.message, "categories[0]: must be 1 to 64 bytes"));
    json_decref(doc);
    arena_free(a);
}

static void test_names(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int ok;
    } names[] = {
        {"a", 1},  {"abc", 1}, {"a-b_c9", 1}, {"z0", 1},  {"a--", 1}, {"", 0},          {"A", 0},  {"9a", 0},
        {"-a", 0}, {"_a", 0},  {"a.b", 0},    {"a/b", 0}, {"a b", 0}, {"a\xc3\xa9", 0}, {"aB", 0}, {"a+", 0},
    };
    derr e;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        int rc = native_name_check(names[i].name, &e);
        if ((rc == 0) != names[i].ok)
            fail_msg("'%s': %d", names[i].name, rc);
        if (rc) {
            assert_int_equal(e.status, 422);
            assert_int_equal(strncmp(e.message, "name: ", 6), 0);
        }
    }
    assert_int_equal(native_name_check(NULL, &e), -1);
    char n64[65], n65[66];
    memset(n64, 'a', 64);
    n64[64] = '\0';
    memset(n65, 'a', 65);
    n65[65] = '\0';
    assert_int_equal(native_name_check(n64, &e), 0);
    assert_int_equal(native_name_check(n65, &e), -1);

    arena *a = arena_new(0);
    assert_string_equal(native_name_normalize(a, "my-pkg_2"), "my_pkg_2");
    assert_string_equal(native_name_normalize(a, "My-PKG"), "my_pkg");
    assert_string_equal(native_name_normalize(a, "a__b--c"), "a__b__c");
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full),   cmocka_unit_test(test_minimal),
        cmocka_unit_test(test_fields), cmocka_unit_test(test_not_object_and_no_rules),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
