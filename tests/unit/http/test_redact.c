/* Unit tests for redact_path: the route's secret parameter and credential-shaped segments are
 * cut from logged paths, the query is left out, everything else stays. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "http/redact.h"

static void h(req *r)
{
    (void)r;
}

#define TOK "dpt_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
#define JWT "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"

static const route logout = {
    .method = "DELETE", .pattern = "/npm/-/user/token/{token}", .fn = h, .secret_param = "token"};
static const route tokens = {.method = "GET", .pattern = "/api/v1/tokens/{name}", .fn = h};

struct tcase {
    const char *url;
    const route *rt;
    const char *want;
};

static const struct tcase cases[] = {
    {"/npm/-/user/token/" TOK, &logout, "/npm/-/user/token/" REDACTED},
    {"/npm/-/user/token/anything-at-all", &logout, "/npm/-/user/token/" REDACTED},
    {"/npm/-/user/token/" JWT, &logout, "/npm/-/user/token/" REDACTED},
    {"/npm/-/user/token/" TOK, NULL, "/npm/-/user/token/" REDACTED},
    {"/npm/-/user/token/" TOK "/", NULL, "/npm/-/user/token/" REDACTED "/"},
    {"/api/v1/tokens/" TOK "?x=" TOK, &tokens, "/api/v1/tokens/" REDACTED},
    {"/api/v1/tokens/dpt%5Fabcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", &tokens, "/api/v1/tokens/" REDACTED},
    {"/api/v1/tokens/ci", &tokens, "/api/v1/tokens/ci"},
    {"/api/v1/tokens/dpt_abc123", &tokens, "/api/v1/tokens/dpt_abc123"}, /* a token's shown prefix */
    {"/health?token=" TOK, NULL, "/health"},
    {"/", NULL, "/"},
    {"", NULL, ""},
    {"/a//b", NULL, "/a//b"},
};

static void test_table(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = redact_path(a, cases[i].url, cases[i].rt);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("%s: want %s, got %s", cases[i].url, cases[i].want, got);
    }
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
