/* Unit tests for the table of fronts as core reads it: lookups, verbs, names for messages, and the
 * uniqueness key each ecosystem folds names into. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/ecosystem.h"
#include "core/packages.h"
#include "fronts.h"

static void test_lookups(void **state)
{
    (void)state;
    assert_non_null(ecosystem_find("hex"));
    assert_null(ecosystem_find("maven"));
    assert_null(ecosystem_find(NULL));
    assert_null(ecosystem_find("web")); /* a front, not an ecosystem */
    assert_non_null(ecosystem_findn("npmx", 3));
    assert_string_equal(ecosystem_find("native")->label, "depot");
    size_t n = 0;
    while (ecosystem_at(n))
        n++;
    assert_int_equal(n, 4);
}

static void test_verbs_and_rules(void **state)
{
    (void)state;
    assert_true(ecosystem_has("hex", ECO_RETIRE));
    assert_true(ecosystem_has("pub", ECO_RETRACT | ECO_DISCONTINUE));
    assert_true(ecosystem_has("npm", ECO_DEPRECATE));
    assert_false(ecosystem_has("native", ECO_RETRACT));
    assert_false(ecosystem_has("maven", 0));
    assert_true(ecosystem_find("pub")->build_metadata);
    assert_false(ecosystem_find("hex")->build_metadata);
    assert_true(ecosystem_find("npm")->scoped_names);
    assert_true(ecosystem_find("npm")->dist_tags);
}

static void test_names_and_keys(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    assert_string_equal(ecosystem_names(a, ", ", " or "), "native, hex, pub or npm");
    assert_string_equal(ecosystem_names(a, ", ", ", "), "native, hex, pub, npm");
    assert_string_equal(package_key(a, "native", "My-Lib"), "my_lib");
    assert_string_equal(package_key(a, "npm", "My-Lib"), "my-lib");
    assert_string_equal(package_key(a, "hex", "Plug_Cowboy"), "plug_cowboy");
    arena_free(a);
}

int main(void)
{
    ecosystems_register(fronts_ecosystem); /* the table of fronts, as main.c does */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookups),
        cmocka_unit_test(test_verbs_and_rules),
        cmocka_unit_test(test_names_and_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
