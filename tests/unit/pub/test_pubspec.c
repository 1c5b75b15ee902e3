/*
 * test_pubspec.c — src/pub/pubspec.c: the YAML → JSON typing table (every
 * scalar kind Dart's package:yaml distinguishes, the YAML 1.1 spellings that
 * must stay strings, tags, quoting, block scalars, key order, non-ASCII as
 * \u escapes, doubles spelled as Dart spells them), documents that must be
 * refused (anchors, aliases, duplicate and non-string keys, unknown tags,
 * several documents, non-finite numbers, depth and size caps, broken YAML),
 * and the pubspec's fields: name and version rules with the messages a user
 * sees, dependencies in their three shapes, and what is deliberately allowed
 * (publish_to, hosted dependencies with a url).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pub/pubspec.h"

#define N(t) (sizeof(t) / sizeof((t)[0]))

/* The JSON of a one-document YAML text, or NULL with the message in msg. */
static char *convert(const char *yaml, char *msg, size_t msgcap)
{
    derr e = {0};
    json_t *doc = pub_yaml_to_json(yaml, strlen(yaml), &e);
    if (!doc) {
        snprintf(msg, msgcap, "%s", e.message);
        return NULL;
    }
    buf b;
    buf_init(&b, 0);
    assert_int_equal(pub_json_write(&b, doc), 0);
    json_decref(doc);
    char *out = strdup(b.data ? b.data : "");
    buf_free(&b);
    return out;
}

static const struct {
    const char *yaml, *json;
} typing[] = {
    /* null */
    {"a:", "{\"a\":null}"},
    {"a: ~", "{\"a\":null}"},
    {"a: null", "{\"a\":null}"},
    {"a: Null", "{\"a\":null}"},
    {"a: NULL", "{\"a\":null}"},
    {"a: nULL", "{\"a\":\"nULL\"}"},
    {"a: \"\"", "{\"a\":\"\"}"},
    {"a: ''", "{\"a\":\"\"}"},
    {"a: ~~", "{\"a\":\"~~\"}"},
    /* bool: the three spellings of YAML 1.2's core schema only */
    {"a: true", "{\"a\":true}"},
    {"a: True", "{\"a\":true}"},
    {"a: TRUE", "{\"a\":true}"},
    {"a: false", "{\"a\":false}"},
    {"a: False", "{\"a\":false}"},
    {"a: FALSE", "{\"a\":false}"},
    {"a: tRUE", "{\"a\":\"tRUE\"}"},
    {"a: yes", "{\"a\":\"yes\"}"},
    {"a: no", "{\"a\":\"no\"}"},
    {"a: on", "{\"a\":\"on\"}"},
    {"a: off", "{\"a\":\"off\"}"},
    {"a: Y", "{\"a\":\"Y\"}"},
    {"a: n", "{\"a\":\"n\"}"},
    {"on: x", "{\"on\":\"x\"}"},
    /* int: decimal (leading zeros and signs as int.parse takes them), 0x, 0o */
    {"a: 0", "{\"a\":0}"},
    {"a: 7", "{\"a\":7}"},
    {"a: 12", "{\"a\":12}"},
    {"a: 012", "{\"a\":12}"},
    {"a: +12", "{\"a\":12}"},
    {"a: -12", "{\"a\":-12}"},
    {"a: -0", "{\"a\":0}"},
    {"a: 9223372036854775807", "{\"a\":9223372036854775807}"},
    {"a: -9223372036854775808", "{\"a\":-9223372036854775808}"},
    {"a: 0x1F", "{\"a\":31}"},
    {"a: 0x1f", "{\"a\":31}"},
    {"a: 0X1F", "{\"a\":\"0X1F\"}"},
    {"a: 0x", "{\"a\":\"0x\"}"},
    {"a: 0xFFFFFFFFFFFFFFFFFF", "{\"a\":\"0xFFFFFFFFFFFFFFFFFF\"}"},
    {"a: 0o17", "{\"a\":15}"},
    {"a: 0o8", "{\"a\":\"0o8\"}"},
    {"a: 0o", "{\"a\":\"0o\"}"},
    {"a: 0b101", "{\"a\":\"0b101\"}"},
    {"a: 1_000", "{\"a\":\"1_000\"}"},
    {"a: 12:30", "{\"a\":\"12:30\"}"},           /* YAML 1.1 sexagesimal: a string in 1.2 */
    {"a: 2001-12-14", "{\"a\":\"2001-12-14\"}"}, /* YAML 1.1 timestamp: a string */
    /* float, spelled as Dart's jsonEncode spells doubles */
    {"a: 1.0", "{\"a\":1.0}"},
    {"a: 1.5", "{\"a\":1.5}"},
    {"a: 1.", "{\"a\":1.0}"},
    {"a: .5", "{\"a\":0.5}"},
    {"a: +.5", "{\"a\":0.5}"},
    {"a: -.5", "{\"a\":-0.5}"},
    {"a: -0.0", "{\"a\":-0.0}"},
    {"a: 0.1", "{\"a\":0.1}"},
    {"a: 1e3", "{\"a\":1000.0}"},
    {"a: 1E3", "{\"a\":1000.0}"},
    {"a: 2.5e-3", "{\"a\":0.0025}"},
    {"a: 1e21", "{\"a\":1e+21}"},
    {"a: 1.5e300", "{\"a\":1.5e+300}"},
    {"a: 1e-7", "{\"a\":1e-7}"},
    {"a: 0.000001", "{\"a\":0.000001}"},
    {"a: 123456.789", "{\"a\":123456.789}"},
    {"a: 9223372036854775808", "{\"a\":9223372036854776000.0}"}, /* past int64: a double, as in Dart */
    {"a: 1e", "{\"a\":\"1e\"}"},
    {"a: .5.5", "{\"a\":\".5.5\"}"},
    {"a: .", "{\"a\":\".\"}"},
    {"a: -x", "{\"a\":\"-x\"}"},
    {"a: +", "{\"a\":\"+\"}"},
    /* strings that look like something else */
    {"a: 1.0.0", "{\"a\":\"1.0.0\"}"},
    {"a: 1.2.3-dev+4", "{\"a\":\"1.2.3-dev+4\"}"},
    {"a: '>=3.0.0 <4.0.0'", "{\"a\":\">=3.0.0 <4.0.0\"}"},
    {"a: ^1.2.3", "{\"a\":\"^1.2.3\"}"},
    {"a: any", "{\"a\":\"any\"}"},
    {"a: NaN", "{\"a\":\"NaN\"}"},
    {"a: Infinity", "{\"a\":\"Infinity\"}"},
    {"a: -Infinity", "{\"a\":\"-Infinity\"}"},
    {"a: http://x.y/z", "{\"a\":\"http://x.y/z\"}"},
    /* quoting, tags and block scalars: always strings unless a core tag says otherwise */
    {"a: '1.0'", "{\"a\":\"1.0\"}"},
    {"a: \"true\"", "{\"a\":\"true\"}"},
    {"a: \"null\"", "{\"a\":\"null\"}"},
    {"a: \"x\\ty\\u00e9\"", "{\"a\":\"x\\ty\\u00e9\"}"},
    {"a: !!str 12", "{\"a\":\"12\"}"},
    {"a: ! 12", "{\"a\":\"12\"}"},
    {"a: !!int '12'", "{\"a\":12}"},
    {"a: !!float 1", "{\"a\":1.0}"},
    {"a: !!bool 'true'", "{\"a\":true}"},
    {"a: !!null ''", "{\"a\":null}"},
    {"a: |\n  line 1\n  line 2\n", "{\"a\":\"line 1\\nline 2\\n\"}"},
    {"a: >\n  folded\n  text\n", "{\"a\":\"folded text\\n\"}"},
    {"a: |\n  12\n", "{\"a\":\"12\\n\"}"},
    /* collections, order, nesting, unicode */
    {"b: 1\na: 2\nc: 3", "{\"b\":1,\"a\":2,\"c\":3}"},
    {"a: [1, two, 3.0, null, true]", "{\"a\":[1,\"two\",3.0,null,true]}"},
    {"a: {x: 1, y: [a]}", "{\"a\":{\"x\":1,\"y\":[\"a\"]}}"},
    {"a:\n  - x\n  - y: z\n", "{\"a\":[\"x\",{\"y\":\"z\"}]}"},
    {"!!map {a: 1}", "{\"a\":1}"},
    {"a: !!seq [1]", "{\"a\":[1]}"},
    {"a: caf\xc3\xa9", "{\"a\":\"caf\\u00e9\"}"},
    {"a: \xf0\x9f\x98\x80", "{\"a\":\"\\ud83d\\ude00\"}"},
    {"\xc3\xa9: 1", "{\"\\u00e9\":1}"},
    {"a: \"q\\\"uote\\\\\"", "{\"a\":\"q\\\"uote\\\\\"}"},
    {"a: \"nul\\0in\"", "{\"a\":\"nul\\u0000in\"}"},
    {"a: x # comment", "{\"a\":\"x\"}"},
    {"", "null"},
    {"# only a comment\n", "null"},
    {"--- \na: 1\n...\n", "{\"a\":1}"},
    {"%YAML 1.2\n---\na: 1", "{\"a\":1}"},
    {"plain", "\"plain\""},
    {"- 1\n- 2", "[1,2]"},
};

static void test_typing(void **state)
{
    (void)state;
    for (size_t i = 0; i < N(typing); i++) {
        char msg[300] = "";
        char *got = convert(typing[i].yaml, msg, sizeof msg);
        if (!got || strcmp(got, typing[i].json) != 0)
            fail_msg("yaml %zu [%s]: want %s, got %s (%s)", i, typing[i].yaml, typing[i].json,
                     got ? got : "error", msg);
        free(got);
    }
    printf("typing: %zu cases\n", N(typing));
}

static const struct {
    const char *yaml, *msg; /* a piece of the message */
} refused[] = {
    {"a: &x 1\nb: *x", "anchors (&x) are not allowed"},
    {"a: &x [1]", "anchors"},
    {"a: *x", "alias"},
    {"a: 1\na: 2", "the key 'a' appears twice"},
    {"a: 1\n'a': 2", "appears twice"},
    {"1: x", "the key 1 is not a string"},
    {"null: x", "the key null is not a string"},
    {"true: x", "is not a string"},
    {"? [a]\n: x", "is not a string"},
    {"? {a: 1}\n: x", "is not a string"},
    {"---\na: 1\n---\nb: 2", "only one YAML document"},
    {"\"a\\0b\": 1", "a key holds a NUL character"},
    {"a: !foo x", "the tag !foo is not supported"},
    {"a: !!binary aGk=", "is not supported"},
    {"a: !!timestamp 2001-12-14", "is not supported"},
    {"a: !!int x", "not a number for !!int"},
    {"a: !!int 1.5", "not a number for !!int"},
    {"a: !!bool yes", "not a bool"},
    {"a: !!null x", "not a null"},
    {"a: !!map [1]", "not valid for a sequence"},
    {"a: .inf", "not a finite number"},
    {"a: -.inf", "not a finite number"},
    {"a: +.Inf", "not a finite number"},
    {"a: .nan", "not a finite number"},
    {"a: .NaN", "not a finite number"},
    {"a: 1e400", "not a finite number"},
    {"a: [1, 2", "while parsing a flow sequence"},
    {"a: b: c", "line 1, column 5"},
    {"a:\n  b: 1\n c: 2", "line 3"},
    {"\tab: 1", "line 1"},
    {"a: \"unterminated", "line 1"},
    {"a: \xff\xfe", "line 1"},
};

static void test_refused(void **state)
{
    (void)state;
    for (size_t i = 0; i < N(refused); i++) {
        char msg[300] = "";
        char *got = convert(refused[i].yaml, msg, sizeof msg);
        if (got)
            fail_msg("yaml %zu [%s]: accepted as %s", i, refused[i].yaml, got);
        if (!strstr(msg, refused[i].msg))
            fail_msg("yaml %zu [%s]: message '%s' lacks '%s'", i, refused[i].yaml, msg, refused[i].msg);
    }
    printf("refused: %zu cases\n", N(refused));
}

static void test_caps(void **state)
{
    (void)state;
    derr e;
    /* depth: 64 levels of flow sequences pass, 65 do not */
    char deep[300];
    for (int depth = 64; depth <= 65; depth++) {
        size_t w = 0;
        for (int i = 0; i < depth; i++)
            deep[w++] = '[';
        for (int i = 0; i < depth; i++)
            deep[w++] = ']';
        deep[w] = '\0';
        json_t *doc = pub_yaml_to_json(deep, w, &e);
        if (depth == 64) {
            assert_non_null(doc);
            json_decref(doc);
        } else {
            assert_null(doc);
            assert_non_null(strstr(e.message, "nested more than 64"));
        }
    }
    /* size: 128 KiB passes, one byte more does not */
    size_t n = PUBSPEC_MAX_BYTES;
    char *big = malloc(n + 2);
    memcpy(big, "a: ", 3);
    memset(big + 3, 'x', n - 3);
    big[n] = '\0';
    json_t *doc = pub_yaml_to_json(big, n, &e);
    assert_non_null(doc);
    json_decref(doc);
    big[n] = 'x';
    big[n + 1] = '\0';
    assert_null(pub_yaml_to_json(big, n + 1, &e));
    assert_int_equal(e.status, 422);
    assert_non_null(strstr(e.message, "larger than 128 KiB"));
    free(big);
    /* nodes: a flow list of 20,010 items (40 KB) passes the size cap but not the node cap */
    size_t items = PUBSPEC_MAX_NODES + 10;
    char *many = malloc(items * 2 + 4);
    size_t w = 0;
    many[w++] = '[';
    for (size_t i = 0; i < items; i++) {
        many[w++] = '1';
        many[w++] = ',';
    }
    many[w - 1] = ']';
    assert_null(pub_yaml_to_json(many, w, &e));
    assert_non_null(strstr(e.message, "more than 20000 nodes"));
    free(many);
}

/* ---- pubspec fields ---------------------------------------------------- */

static int parse(arena *a, const char *yaml, pubspec *ps, derr *e)
{
    return pubspec_parse(a, yaml, strlen(yaml), ps, e);
}

static void test_fields(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    pubspec ps;
    derr e;
    const char *y = "name: my_pkg\n"
                    "version: 1.2.3-dev.1+build.7\n"
                    "description: A package \xe2\x80\x94 with a dash.\n"
                    "homepage: https://example.com\n"
                    "repository: https://git.example.com/my_pkg\n"
                    "publish_to: https://pub.example.com/pub\n"
                    "topics: [network, Bad_Topic, http-client]\n"
                    "environment:\n  sdk: '>=3.0.0 <4.0.0'\n  flutter: '>=3.10.0'\n"
                    "dependencies:\n"
                    "  plain: ^1.0.0\n"
                    "  anything:\n"
                    "  private:\n    hosted: https://pub.example.com/pub\n    version: '>=2.0.0 <3.0.0'\n"
                    "  named:\n    hosted:\n      name: named\n      url: https://pub.example.com/pub\n"
                    "  from_git:\n    git:\n      url: https://git.example.com/x.git\n      ref: main\n"
                    "  local:\n    path: ../local\n"
                    "  flutter:\n    sdk: flutter\n"
                    "dev_dependencies:\n  test: ^1.24.0\n";
    assert_int_equal(parse(a, y, &ps, &e), 0);
    assert_string_equal(ps.name, "my_pkg");
    assert_string_equal(ps.version, "1.2.3-dev.1+build.7");
    assert_string_equal(ps.v.build, "build.7");
    assert_string_equal(ps.description, "A package \xe2\x80\x94 with a dash.");
    assert_string_equal(ps.homepage, "https://example.com");
    assert_string_equal(ps.repository, "https://git.example.com/my_pkg");
    assert_null(ps.documentation);
    assert_string_equal(ps.topics, "[\"network\",\"http-client\"]");
    assert_int_equal(ps.ndeps, 8);
    static const char *const want[][4] = {
        {"plain", "^1.0.0", "normal", NULL},
        {"anything", "any", "normal", NULL},
        {"private", ">=2.0.0 <3.0.0", "normal",
         "{\"hosted\":\"https://pub.example.com/pub\",\"version\":\">=2.0.0 <3.0.0\"}"},
        {"named", "any", "normal",
         "{\"hosted\":{\"name\":\"named\",\"url\":\"https://pub.example.com/pub\"}}"},
        {"from_git", "any", "normal",
         "{\"git\":{\"url\":\"https://git.example.com/x.git\",\"ref\":\"main\"}}"},
        {"local", "any", "normal", "{\"path\":\"../local\"}"},
        {"flutter", "any", "normal", "{\"sdk\":\"flutter\"}"},
        {"test", "^1.24.0", "dev", NULL},
    };
    for (int i = 0; i < ps.ndeps; i++) {
        assert_string_equal(ps.deps[i].name, want[i][0]);
        assert_string_equal(ps.deps[i].requirement, want[i][1]);
        assert_string_equal(ps.deps[i].kind, want[i][2]);
        if (want[i][3])
            assert_string_equal(ps.deps[i].extra, want[i][3]);
        else
            assert_null(ps.deps[i].extra);
    }
    /* The JSON keeps every key, in order, and escapes non-ASCII. */
    assert_non_null(strstr(ps.json,
                           "{\"name\":\"my_pkg\",\"version\":\"1.2.3-dev.1+build.7\",\"description\":"
                           "\"A package \\u2014 with a dash.\""));
    assert_non_null(strstr(ps.json, "\"publish_to\":\"https://pub.example.com/pub\""));
    assert_non_null(strstr(ps.json, "\"anything\":null"));
    json_t *back = json_loads(ps.json, 0, NULL);
    assert_non_null(back);
    json_decref(back);

    /* authors, both spellings */
    assert_int_equal(parse(a, "name: a\nversion: 1.0.0\nauthor: Ann\nauthors: [Bob, 3]\n", &ps, &e), 0);
    assert_string_equal(ps.authors, "[\"Ann\",\"Bob\"]");
    arena_free(a);
}

static const struct {
    const char *yaml, *msg;
} bad_pubspecs[] = {
    {"- a\n- b", "must be a YAML map"},
    {"", "must be a YAML map"},
    {"version: 1.0.0", "the field 'name' is missing"},
    {"name: a", "the field 'version' is missing"},
    {"name: a\nversion: 1.0", "version: 1.0 is read as a number, not a string"},
    {"name: a\nversion: 1", "version: 1 is read as a number"},
    {"name: a\nversion: 01.0.0", "'01.0.0' is not in canonical form; use '1.0.0'"},
    {"name: a\nversion: 1.0.0-rc.01", "use '1.0.0-rc.1'"},
    {"name: a\nversion: 1.0.0+001", "use '1.0.0+1'"},
    {"name: a\nversion: v1.0.0", "'v1.0.0' is not a version"},
    {"name: a\nversion: 1.0.0-", "is not a version"},
    {"name: a\nversion: 1.0.0-a_b", "is not a version"},
    {"name: a\nversion: 1.0.0+aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "at most 64"},
    {"name: a\nversion: '1.0.0 '", "is not a version"},
    {"name: My-Pkg\nversion: 1.0.0", "name: 'My-Pkg' is not a valid package name"},
    {"name: 1abc\nversion: 1.0.0", "is not a valid package name"},
    {"name: class\nversion: 1.0.0", "Dart reserved word"},
    {"name: ''\nversion: 1.0.0", "is not a valid package name"},
    {"name: 12\nversion: 1.0.0", "a non-string is not a valid package name"},
    {"name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nversion: 1.0.0", "at most 64"},
    {"name: a\nversion: 1.0.0\ndependencies: [x]", "dependencies must be a map"},
    {"name: a\nversion: 1.0.0\ndependencies:\n  foo: 1", "dependencies.foo must be a version constraint"},
    {"name: a\nversion: 1.0.0\ndependencies:\n  foo: [1]", "dependencies.foo must be"},
    {"name: a\nversion: 1.0.0\ndependencies:\n  foo: ^^1",
     "dependencies.foo: '^^1' is not a version constraint"},
    {"name: a\nversion: 1.0.0\ndev_dependencies:\n  foo:\n    version: 2",
     "dev_dependencies.foo.version must be a string"},
    {"name: a\nversion: 1.0.0\ndependencies:\n  foo-bar: any", "'foo-bar' is not a package name"},
    {"name: a\nversion: 1.0.0\nenvironment: 3", "environment must be a map"},
    {"name: a\nversion: 1.0.0\nenvironment:\n  sdk: 3", "environment.sdk must be a version constraint"},
    {"name: a\nversion: 1.0.0\nenvironment:\n  sdk: '>=3.0.0 <<4'", "environment.sdk must be"},
    {"name: a\nversion: 1.0.0\nx: &y 1", "anchors"},
};

static void test_bad_pubspecs(void **state)
{
    (void)state;
    for (size_t i = 0; i < N(bad_pubspecs); i++) {
        arena *a = arena_new(0);
        pubspec ps;
        derr e = {0};
        if (parse(a, bad_pubspecs[i].yaml, &ps, &e) == 0)
            fail_msg("pubspec %zu [%s] accepted", i, bad_pubspecs[i].yaml);
        assert_int_equal(e.status, 422);
        if (!strstr(e.message, bad_pubspecs[i].msg))
            fail_msg("pubspec %zu [%s]: message '%s' lacks '%s'", i, bad_pubspecs[i].yaml, e.message,
                     bad_pubspecs[i].msg);
        arena_free(a);
    }
    printf("bad pubspecs: %zu cases\n", N(bad_pubspecs));
}

static void test_names(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "a",        "_",
        "_private", "foo_bar",
        "Foo",      "async",
        "base",     "when",
        "x1",       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    static const char *const bad[] = {"",
                                      "1a",
                                      "a-b",
                                      "a.b",
                                      "a b",
                                      "é",
                                      "class",
                                      "import",
                                      "void",
                                      "with",
                                      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    for (size_t i = 0; i < N(ok); i++)
        if (!pub_name_valid(ok[i]))
            fail_msg("'%s' should be a valid name", ok[i]);
    for (size_t i = 0; i < N(bad); i++)
        if (pub_name_valid(bad[i]))
            fail_msg("'%s' should not be a valid name", bad[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_typing), cmocka_unit_test(test_refused),      cmocka_unit_test(test_caps),
        cmocka_unit_test(test_fields), cmocka_unit_test(test_bad_pubspecs), cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
