/* Unit tests for the router: matching, parameters, precedence, 405, aliases, decoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "http/router.h"

static void h(req *r)
{
    (void)r;
}

static const route a_routes[] = {
    {"GET", "/health", h, "health", BODY_NONE, AUTH_NONE, RL_NONE, false},
    {"GET", "/api/v1/tokens", h, "tokens.list", BODY_NONE, AUTH_USER, RL_OTHER, false},
    {"POST", "/api/v1/tokens", h, "tokens.create", BODY_JSON, AUTH_USER, RL_OTHER, false},
    {"GET", "/api/v1/tokens/{name}", h, "tokens.get", BODY_NONE, AUTH_USER, RL_OTHER, false},
    {"DELETE", "/api/v1/tokens/{name}", h, "tokens.delete", BODY_NONE, AUTH_USER, RL_OTHER, false},
    {"GET", "/api/v1/tokens/new", h, "tokens.literal", BODY_NONE, AUTH_USER, RL_OTHER, false},
    {"GET", "/npm/{pkg}/-/{file}", h, "npm.tarball", BODY_NONE, AUTH_READ, RL_READ, false},
    {"GET", "/docs/{name}/{rest*}", h, "docs", BODY_NONE, AUTH_READ, RL_OTHER, false},
};
static const route_set a_set = {"a", a_routes, sizeof a_routes / sizeof a_routes[0], NULL, NULL};
static const route_set *const sets[] = {&a_set};

struct tcase {
    const char *method, *path;
    enum router_result want;
    const char *name;                     /* route name when found */
    const char *p1, *v1, *p2, *v2;        /* expected params */
    const char *allow;                    /* expected Allow on 405 */
};

static const struct tcase cases[] = {
    {"GET", "/health", ROUTER_FOUND, "health", NULL, NULL, NULL, NULL, NULL},
    {"HEAD", "/health", ROUTER_FOUND, "health", NULL, NULL, NULL, NULL, NULL},
    {"POST", "/health", ROUTER_METHOD_NOT_ALLOWED, NULL, NULL, NULL, NULL, NULL, "GET, HEAD"},
    {"GET", "/healthz", ROUTER_NOT_FOUND, NULL, NULL, NULL, NULL, NULL, NULL},
    {"GET", "/health/", ROUTER_NOT_FOUND, NULL, NULL, NULL, NULL, NULL, NULL},
    {"GET", "/", ROUTER_NOT_FOUND, NULL, NULL, NULL, NULL, NULL, NULL},
    {"GET", "/api/v1/tokens", ROUTER_FOUND, "tokens.list", NULL, NULL, NULL, NULL, NULL},
    {"POST", "/api/v1/tokens", ROUTER_FOUND, "tokens.create", NULL, NULL, NULL, NULL, NULL},
    {"PATCH", "/api/v1/tokens", ROUTER_METHOD_NOT_ALLOWED, NULL, NULL, NULL, NULL, NULL, "GET, HEAD, POST"},
    {"GET", "/api/v1/tokens/ci", ROUTER_FOUND, "tokens.get", "name", "ci", NULL, NULL, NULL},
    {"DELETE", "/api/v1/tokens/ci", ROUTER_FOUND, "tokens.delete", "name", "ci", NULL, NULL, NULL},
    {"PUT", "/api/v1/tokens/ci", ROUTER_METHOD_NOT_ALLOWED, NULL, NULL, NULL, NULL, NULL, "GET, HEAD, DELETE"},
    {"GET", "/api/v1/tokens/new", ROUTER_FOUND, "tokens.literal", NULL, NULL, NULL, NULL, NULL},
    {"GET", "/api/v1/tokens/", ROUTER_NOT_FOUND, NULL, NULL, NULL, NULL, NULL, NULL},
    {"GET", "/api/tokens", ROUTER_FOUND, "tokens.list", NULL, NULL, NULL, NULL, NULL},
    {"GET", "/api/tokens/x%20y", ROUTER_FOUND, "tokens.get", "name", "x y", NULL, NULL, NULL},
    {"GET", "/api/v1/tokens/a%2Fb", ROUTER_FOUND, "tokens.get", "name", "a/b", NULL, NULL, NULL},
    {"GET", "/api/v1/tokens/a+b", ROUTER_FOUND, "tokens.get", "name", "a+b", NULL, NULL, NULL},
    {"GET", "/api/v1/tokens/%zz", ROUTER_BAD_PATH, NULL, NULL, NULL, NULL, NULL, NULL},
    {"GET", "/api/v1/tokens/%00", ROUTER_BAD_PATH, NULL, NULL, NULL, NULL, NULL, NULL},
    {"GET", "/api/v1/tokens/%4", ROUTER_BAD_PATH, NULL, NULL, NULL, NULL, NULL, NULL},
    {"GET", "/npm/@scope%2fpkg/-/pkg-1.0.0.tgz", ROUTER_FOUND, "npm.tarball", "pkg", "@scope/pkg", "file", "pkg-1.0.0.tgz", NULL},
    {"GET", "/docs/foo/1.0/index.html", ROUTER_FOUND, "docs", "name", "foo", "rest", "1.0/index.html", NULL},
    {"GET", "/docs/foo", ROUTER_NOT_FOUND, NULL, NULL, NULL, NULL, NULL, NULL},
    {"GET", "/docs/foo/", ROUTER_NOT_FOUND, NULL, NULL, NULL, NULL, NULL, NULL},
    {"GET", "relative", ROUTER_NOT_FOUND, NULL, NULL, NULL, NULL, NULL, NULL},
};

static void test_table(void **state)
{
    (void)state;
    router *rt = router_new(sets, 1);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct tcase *c = &cases[i];
        arena *a = arena_new(0);
        const route *r = NULL;
        int np = 0;
        const char *names[ROUTE_MAX_PARAMS], *vals[ROUTE_MAX_PARAMS], *allow = NULL;
        enum router_result got = router_match(rt, a, c->method, c->path, &r, &np, names, vals, &allow);
        if (got != c->want)
            fail_msg("%s %s: got %d, want %d", c->method, c->path, got, c->want);
        if (c->want == ROUTER_FOUND) {
            assert_string_equal(r->name, c->name);
            int want_np = (c->p1 != NULL) + (c->p2 != NULL);
            assert_int_equal(np, want_np);
            if (c->p1) {
                assert_string_equal(names[0], c->p1);
                assert_string_equal(vals[0], c->v1);
            }
            if (c->p2) {
                assert_string_equal(names[1], c->p2);
                assert_string_equal(vals[1], c->v2);
            }
        }
        if (c->allow)
            assert_string_equal(allow, c->allow);
        arena_free(a);
    }
    router_free(rt);
}

static void test_url_decode(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    assert_string_equal(url_decode(a, "a+b%41", 6, 1), "a bA");
    assert_string_equal(url_decode(a, "a+b%41", 6, 0), "a+bA");
    assert_null(url_decode(a, "%", 1, 0));
    assert_null(url_decode(a, "%g1", 3, 0));
    assert_string_equal(url_decode(a, "", 0, 0), "");
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_url_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
