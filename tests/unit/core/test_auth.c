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
        {"manage", true}, {"manage:hex", true}, {"manage:npm/@scope/pkg", true}, {"manage:", false},
        {"manage:hex/", false}, {"managex", false}, {"read:hex", false}, {"admin:hex", false},
        {"publishmanage", false},
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
        /* manage: a stronger right than publish, which never carries it */
        {NULL, false, "manage:hex/foo", true},
        {"publish", false, "manage:hex/foo", false},
        {"publish:hex/foo", false, "manage:hex/foo", false},
        {"manage", false, "manage:npm/a", true},
        {"manage", false, "publish:npm/a", true},
        {"manage", false, "publish", true},
        {"manage", false, "admin", false},
        {"manage:hex", false, "manage:hex/foo", true},
        {"manage:hex", false, "publish:hex", true},
        {"manage:hex", false, "manage:npm/foo", false},
        {"manage:hex", false, "manage", false},
        {"manage:hex/foo", false, "manage:hex/foo", true},
        {"manage:hex/foo", false, "publish:hex/foo", true},
        {"manage:hex/foo", false, "publish:hex/foobar", false},
        {"manage:hex/foo", false, "manage:hex", false},
        {"admin", true, "manage:pub/x", true},
        {"read", false, "manage:pub/x", false},
        {"publish", false, "bogus", false},
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

/* Minting: a token makes or removes only credentials within its scopes and its lifetime. */
static void test_covers(void **state)
{
    (void)state;
    static const struct {
        const char *held; /* NULL: password/JWT */
        int64_t held_exp;
        const char *other;
        int64_t other_exp;
        bool ok;
    } t[] = {
        {NULL, 0, "admin", 0, false},
        {NULL, 0, "manage read", 0, true},
        {NULL, 500, "manage", 0, true}, /* a session may make a lasting token */
        {"publish:hex", 0, "publish:hex/foo", 0, true},
        {"publish:hex", 0, "publish", 0, false},
        {"publish:hex", 100, "publish:hex", 0, false},
        {"publish:hex", 100, "publish:hex", 101, false},
        {"publish:hex", 100, "publish:hex", 100, true},
        {"manage:hex", 0, "publish:hex read", 50, true},
        {"manage:hex", 0, "manage", 0, false},
        {"read", 0, "read", 0, true},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        principal p = {.kind = t[i].held ? CRED_TOKEN : CRED_JWT, .user_id = 1, .scopes = t[i].held,
                       .expires_at = t[i].held_exp};
        if (principal_covers(&p, t[i].other, t[i].other_exp) != t[i].ok)
            fail_msg("case %zu: expected %d", i, t[i].ok);
    }
    principal m = {.kind = CRED_TOKEN, .user_id = 1, .scopes = "read manage:npm/a"};
    assert_true(principal_manages_any(&m));
    m.scopes = "read publish";
    assert_false(principal_manages_any(&m));
}

int main(void)
{
    ecosystems_register(fronts_ecosystem); /* the table of fronts, as main.c does */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scope_valid),
        cmocka_unit_test(test_can),
        cmocka_unit_test(test_covers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
