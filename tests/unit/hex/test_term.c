/*
 * test_term.c — src/hex/term.c and src/hex/metadata.c: metadata.config as
 * mix 2.5.1 writes it (the hexcap_demo capture), rebar3_hex's requirements
 * shape, binaries with /utf8 and in Latin-1 files, Erlang escapes, adjacent
 * string literals, integer and float forms, maps, comments, unknown keys
 * kept; refusals with the line named (missing dots, variables, improper
 * lists, bit sizes, unclosed strings, nesting past the cap); and hex.pm's
 * rules for names, versions and requirements.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex/metadata.h"
#include "hex/term.h"

/* metadata.config of the captured hexcap_demo 0.1.0 (tests/fixtures/hex/publish/02-request-body.txt). */
static const char mix_meta[] =
    "{<<\"app\">>,<<\"hexcap_demo\">>}.\n"
    "{<<\"build_tools\">>,[<<\"mix\">>]}.\n"
    "{<<\"description\">>,\n"
    " <<\"Tiny library used to capture the wire traffic of the Hex client.\">>}.\n"
    "{<<\"elixir\">>,<<\"~> 1.14\">>}.\n"
    "{<<\"files\">>,\n"
    " [<<\"lib\">>,<<\"lib/hexcap_demo.ex\">>,<<\".formatter.exs\">>,<<\"mix.exs\">>,\n"
    "  <<\"README.md\">>]}.\n"
    "{<<\"licenses\">>,[<<\"Apache-2.0\">>]}.\n"
    "{<<\"links\">>,[{<<\"Source\">>,<<\"https://example.test/hexcap_demo\">>}]}.\n"
    "{<<\"name\">>,<<\"hexcap_demo\">>}.\n"
    "{<<\"requirements\">>,\n"
    " [[{<<\"app\">>,<<\"hxa\">>},\n"
    "   {<<\"name\">>,<<\"hxa\">>},\n"
    "   {<<\"optional\">>,false},\n"
    "   {<<\"repository\">>,<<\"depot\">>},\n"
    "   {<<\"requirement\">>,<<\"~> 1.0\">>}],\n"
    "  [{<<\"app\">>,<<\"hxb\">>},\n"
    "   {<<\"name\">>,<<\"hxb\">>},\n"
    "   {<<\"optional\">>,false},\n"
    "   {<<\"repository\">>,<<\"hexpm\">>},\n"
    "   {<<\"requirement\">>,<<\"~> 0.2\">>}]]}.\n"
    "{<<\"version\">>,<<\"0.1.0\">>}.\n";

static arena *A;

static int setup(void **st)
{
    (void)st;
    A = arena_new(0);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    arena_free(A);
    return 0;
}

static void test_mix_metadata(void **st)
{
    (void)st;
    hex_metadata m;
    derr e;
    if (hex_metadata_parse(A, mix_meta, strlen(mix_meta), &m, &e) < 0)
        fail_msg("%s", e.message);
    assert_string_equal(m.name, "hexcap_demo");
    assert_string_equal(m.version, "0.1.0");
    assert_string_equal(m.app, "hexcap_demo");
    assert_string_equal(m.elixir, "~> 1.14");
    assert_string_equal(m.description, "Tiny library used to capture the wire traffic of the Hex client.");
    assert_int_equal(json_array_size(m.files), 5);
    assert_string_equal(json_string_value(json_array_get(m.licenses, 0)), "Apache-2.0");
    assert_string_equal(json_string_value(json_object_get(m.links, "Source")),
                        "https://example.test/hexcap_demo");
    assert_string_equal(json_string_value(json_array_get(m.build_tools, 0)), "mix");
    assert_int_equal(m.nreqs, 2);
    assert_string_equal(m.reqs[0].name, "hxa");
    assert_string_equal(m.reqs[0].requirement, "~> 1.0");
    assert_string_equal(m.reqs[0].repository, "depot");
    assert_false(m.reqs[0].optional);
    assert_string_equal(m.reqs[1].repository, "hexpm");
    /* The normalised requirements map is in the JSON document. */
    json_t *r = json_object_get(json_object_get(m.json, "requirements"), "hxb");
    assert_string_equal(json_string_value(json_object_get(r, "requirement")), "~> 0.2");
    assert_true(json_is_false(json_object_get(r, "optional")));
    assert_int_equal(hex_check_requirements(A, &m, &e), 0);
}

static void test_rebar3_requirements_and_unknown_keys(void **st)
{
    (void)st;
    const char *t =
        "%% written by rebar3_hex\n"
        "{<<\"name\">>, <<\"cowboy_x\">>}.\n"
        "{<<\"version\">>, <<\"2.9.0-rc.1\">>}.\n"
        "{<<\"requirements\">>, [{<<\"cowlib\">>, [{<<\"app\">>, <<\"cowlib\">>}, {<<\"optional\">>, true},\n"
        "   {<<\"requirement\">>, <<\">= 2.9.1 and < 3.0.0\">>}]},\n"
        "  {<<\"ranch\">>, [{<<\"requirement\">>, <<\"\">>}]}]}.\n"
        "{<<\"secret_scan\">>, true}.\n"
        "{<<\"parameters\">>, []}.\n"
        "{<<\"extra\">>, [{<<\"k\">>, [{<<\"nested\">>, 1}]}]}.\n";
    hex_metadata m;
    derr e;
    if (hex_metadata_parse(A, t, strlen(t), &m, &e) < 0)
        fail_msg("%s", e.message);
    assert_string_equal(m.app, "cowboy_x"); /* absent app: the name */
    assert_int_equal(m.nreqs, 2);
    assert_string_equal(m.reqs[0].name, "cowlib");
    assert_true(m.reqs[0].optional);
    assert_null(m.reqs[0].repository);
    assert_string_equal(m.reqs[1].requirement, ">= 0.0.0"); /* hex.pm's default for an empty one */
    assert_string_equal(m.reqs[1].app, "ranch");
    assert_true(json_is_true(json_object_get(m.json, "secret_scan")));
    assert_int_equal(
        json_object_get(json_object_get(json_object_get(m.json, "extra"), "k"), "nested") ? 1 : 0, 1);
    assert_int_equal(hex_check_requirements(A, &m, &e), 0);
}

static const char *bin_of(const char *src)
{
    term **f;
    size_t n;
    derr e;
    if (term_parse(A, src, strlen(src), &f, &n, &e) < 0)
        fail_msg("%s: %s", src, e.message);
    assert_int_equal(n, 1);
    const char *s;
    size_t len;
    assert_true(term_text(A, f[0], &s, &len));
    return arena_strndup(A, s, len);
}

static void test_binaries_and_escapes(void **st)
{
    (void)st;
    assert_string_equal(bin_of("<<\"b\xc3\xb6\"/utf8>>."), "b\xc3\xb6");
    /* A Latin-1 file: the byte is the character; a binary without /utf8 keeps one byte per character,
     * which reads back as UTF-8 text converted from Latin-1. */
    assert_string_equal(bin_of("<<\"b\xf6\">>."), "b\xc3\xb6");
    assert_string_equal(bin_of("<<\"ab\" \"cd\">>."), "abcd");
    assert_string_equal(bin_of("<<\"a\\n\\t\\x41\\101\\^A\\s\\\\\\\"\">>."), "a\n\tAA\x01 \\\"");
    assert_string_equal(bin_of("<<\"\\x{1F600}\"/utf8>>."), "\xf0\x9f\x98\x80");
    assert_string_equal(bin_of("<<104,105>>."), "hi");
    assert_string_equal(bin_of("<<$h, \"i\">>."), "hi");
    assert_string_equal(bin_of("<<>>."), "");
    assert_string_equal(bin_of("\"a charlist\"."), "a charlist");
    assert_string_equal(bin_of("'quoted atom'."), "quoted atom");
}

static void test_numbers_maps_tuples(void **st)
{
    (void)st;
    const char *src = "{16#ff, -5, $a, 1_000, 1.5e3, -0.25, #{a => [1,2], <<\"k\">> => {x}}, [], {}}.";
    term **f;
    size_t n;
    derr e;
    if (term_parse(A, src, strlen(src), &f, &n, &e) < 0)
        fail_msg("%s", e.message);
    const term *t = f[0];
    assert_int_equal(t->kind, TERM_TUPLE);
    assert_int_equal(t->n, 9);
    assert_int_equal(t->items[0]->i, 255);
    assert_int_equal(t->items[1]->i, -5);
    assert_int_equal(t->items[2]->i, 'a');
    assert_int_equal(t->items[3]->i, 1000);
    assert_true(t->items[4]->kind == TERM_FLOAT && t->items[4]->f == 1500.0);
    assert_true(t->items[5]->f == -0.25);
    assert_int_equal(t->items[6]->kind, TERM_MAP);
    assert_int_equal(t->items[6]->n, 2);
    json_t *j = term_to_json(A, t->items[6]);
    assert_int_equal(json_array_size(json_object_get(j, "a")), 2);
    json_decref(j);
    assert_int_equal(t->items[7]->kind, TERM_LIST);
    assert_int_equal(t->items[7]->n, 0);
}

static void refuse(const char *src, const char *why)
{
    term **f;
    size_t n;
    derr e;
    assert_int_equal(term_parse(A, src, strlen(src), &f, &n, &e), -1);
    assert_int_equal(e.status, 422);
    if (!strstr(e.message, why))
        fail_msg("'%s': message '%s' lacks '%s'", src, e.message, why);
}

static void test_refusals(void **st)
{
    (void)st;
    refuse("{a, b}", "expected '.'");
    refuse("{a, B}.", "variables");
    refuse("[a | b].", "improper");
    refuse("<<1:8>>.", "expected ','");
    refuse("<<\"x\"/binary>>.", "/utf8");
    refuse("<<\"abc>>.", "not closed");
    refuse("{a,\n\n b.", "line 3");
    refuse("{a, 99999999999999999999}.", "64 bits");
    refuse("fun() -> ok end.", "expected '.'");
    refuse("{a, \"\\x{110000}\"}.", "escape");
    refuse("#{a => }.", "unexpected '}'");
    refuse("{a, 1.0e999}.", "out of range");
    char deep[400];
    size_t w = 0;
    for (int i = 0; i < TERM_MAX_DEPTH + 2; i++)
        deep[w++] = '[';
    deep[w] = '\0';
    refuse(deep, "deeply");
}

static void meta_refuse(const char *src, const char *why)
{
    hex_metadata m;
    derr e;
    assert_int_equal(hex_metadata_parse(A, src, strlen(src), &m, &e), -1);
    assert_int_equal(e.status, 422);
    if (!strstr(e.message, why))
        fail_msg("message '%s' lacks '%s'", e.message, why);
}

static void test_metadata_refusals(void **st)
{
    (void)st;
    meta_refuse("{<<\"version\">>, <<\"1.0.0\">>}.", "name: is required");
    meta_refuse("{<<\"name\">>, <<\"x1\">>}.", "version: is required");
    meta_refuse("{<<\"name\">>, 1}.{<<\"version\">>, <<\"1.0.0\">>}.", "name: should be a string");
    meta_refuse("{<<\"name\">>, <<\"ab\">>}.{<<\"version\">>, <<\"1.0.0\">>}.{<<\"licenses\">>, 5}.",
                "licenses:");
    meta_refuse(
        "{<<\"name\">>, <<\"ab\">>}.{<<\"version\">>, <<\"1.0.0\">>}.{<<\"links\">>, [{<<\"a\">>, 1}]}.",
        "links:");
    meta_refuse("{<<\"name\">>, <<\"ab\">>}.{<<\"version\">>, <<\"1.0.0\">>}.{<<\"requirements\">>, 1}.",
                "requirements: should be a list");
    meta_refuse("{<<\"name\">>, <<\"ab\">>}.{<<\"version\">>, <<\"1.0.0\">>}."
                "{<<\"requirements\">>, [[{<<\"requirement\">>, <<\"1.0\">>}]]}.",
                "no name");
    meta_refuse("{<<\"name\">>, <<\"ab\">>}.{<<\"version\">>, <<\"1.0.0\">>}."
                "{<<\"requirements\">>, [{<<\"x\">>, []}, {<<\"x\">>, []}]}.",
                "listed twice");
    meta_refuse("{<<\"name\">>, <<\"ab\">>}.{<<\"version\">>, <<\"1.0.0\">>}."
                "{<<\"requirements\">>, [{<<\"x\">>, [{<<\"optional\">>, 1}]}]}.",
                "optional should be true or false");
    meta_refuse("just_an_atom.", "{Key, Value}");
}

static void test_rules(void **st)
{
    (void)st;
    derr e;
    assert_int_equal(hex_check_name("hexcap_demo", "name", &e), 0);
    assert_int_equal(hex_check_name("ab", "name", &e), 0);
    assert_int_equal(hex_check_name("fooBar", "name", &e), 0); /* hexpm: ^[a-z]\w*$ */
    assert_int_equal(hex_check_name("a", "name", &e), -1);
    assert_int_equal(hex_check_name("1ab", "name", &e), -1);
    assert_int_equal(hex_check_name("ab-c", "name", &e), -1);
    assert_int_equal(hex_check_name("Ab", "name", &e), -1);
    assert_int_equal(hex_check_name("elixir", "name", &e), -1);
    assert_non_null(strstr(e.message, "reserved"));
    assert_int_equal(hex_check_name("com1", "name", &e), -1);
    assert_int_equal(hex_check_version(A, "1.0.0", &e), 0);
    assert_int_equal(hex_check_version(A, "1.0.0-rc.1", &e), 0);
    assert_int_equal(hex_check_version(A, "1.0", &e), -1);
    assert_int_equal(hex_check_version(A, "1.0.0+build.1", &e), -1);
    assert_non_null(strstr(e.message, "build number not allowed"));
    assert_int_equal(hex_check_version(A, "100000000000000.0.0", &e), -1);
    char pre[100] = "1.0.0-";
    memset(pre + 6, 'a', 65);
    pre[71] = '\0';
    assert_int_equal(hex_check_version(A, pre, &e), -1);

    hex_requirement q = {.name = "dep_x", .requirement = "~> not a version", .app = "dep_x"};
    hex_metadata m = {.reqs = &q, .nreqs = 1};
    assert_int_equal(hex_check_requirements(A, &m, &e), -1);
    assert_non_null(strstr(e.message, "requirements.dep_x:"));
    q.requirement = "~> 1.0 or ~> 2.0";
    assert_int_equal(hex_check_requirements(A, &m, &e), 0);
    q.name = "Bad-Name";
    assert_int_equal(hex_check_requirements(A, &m, &e), -1);
}

static void test_guess_build_tools(void **st)
{
    (void)st;
    const char *t = "{<<\"name\">>, <<\"ab\">>}.{<<\"version\">>, <<\"1.0.0\">>}.";
    hex_metadata m;
    derr e;
    assert_int_equal(hex_metadata_parse(A, t, strlen(t), &m, &e), 0);
    const char *files[] = {"src/ab.erl", "rebar.config", "Makefile", "lib/x/mix.exs"};
    hex_guess_build_tools(&m, files, 4);
    assert_int_equal(json_array_size(m.build_tools), 2);
    assert_string_equal(json_string_value(json_array_get(m.build_tools, 0)), "rebar3");
    assert_string_equal(json_string_value(json_array_get(m.build_tools, 1)), "make");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mix_metadata),
        cmocka_unit_test(test_rebar3_requirements_and_unknown_keys),
        cmocka_unit_test(test_binaries_and_escapes),
        cmocka_unit_test(test_numbers_maps_tuples),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_metadata_refusals),
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_guess_build_tools),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
