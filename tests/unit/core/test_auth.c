/* Unit tests for scope syntax and the scope lattice (principal_can). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/auth.h"
#include "fronts.h"

static void test_scope_valid(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        bool ok;
    } t[] = {
        {"read", true}, {"publish", true}, {"admin", true}, {"publish:hex", true},
        {"publish:npm/@scope/pkg", true}, {"publish:native/foo", true}, {"publish:pub/x", true},
        {"publish:", false}, {"publish:cargo", false}, {"publish:hex/", false}, {"write", false},
        {"", false}, {"READ", false}, {"publish:hex/a b", false}, {"publish:hexx/foo", false},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (scope_valid(t[i].s) != t[i].ok)
            fail_msg("scope_valid(%s) != %d", t[i].s, t[i].ok);
}

static void test_can(void **state)
{
    (void)state;
    static const struct {
        const char *scopes; /* NULL: password/JWT */
        bool admin;
        const char *want;
        bool ok;
    } t[] = {
        {NULL, false, "read", true},
        {NULL, false, "publish:hex/foo", true},
        {NULL, false, "admin", false},
        {NULL, true, "admin", true},
        {"read", false, "read", true},
        {"read", false, "publish", false},
        {"read", false, "publish:hex/foo", false},
        {"publish", false, "publish:hex/foo", true},
        {"publish", false, "read", true},
        {"publish", false, "admin", false},
        {"publish:hex", false, "publish:hex/foo", true},
        {"publish:hex", false, "publish:hex", true},
        {"publish:hex", false, "publish:npm/foo", false},
        {"publish:hex", false, "publish", false},
        {"publish:hex/foo", false, "publish:hex/foo", true},
        {"publish:hex/foo", false, "publish:hex/foobar", false},
        {"publish:hex/foo", false, "publish:hex", false},
        {"publish:hex/foo", false, "read", true},
        {"read publish:npm/a", false, "publish:npm/a", true},
        {"admin", false, "admin", false}, /* the token says admin, the user no longer is */
        {"admin", true, "admin", true},
        {"admin", true, "publish:pub/x", true},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        principal p = {.kind = t[i].scopes ? CRED_TOKEN : CRED_JWT, .user_id = 1, .is_admin = t[i].admin,
                       .scopes = t[i].scopes};
        if (principal_can(&p, t[i].want) != t[i].ok)
            fail_msg("case %zu: scopes=%s admin=%d want=%s: expected %d", i, t[i].scopes ? t[i].scopes : "(all)",
                     t[i].admin, t[i].want, t[i].ok);
    }
    principal anon = {0};
    assert_false(principal_can(&anon, "read"));
}

int main(void)
{
    ecosystems_register(fronts_ecosystem); /* the table of fronts, as main.c does */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scope_valid),
        cmocka_unit_test(test_can),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
