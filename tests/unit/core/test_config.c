/* Unit tests for configuration: defaults, file < environment < flags, validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/ecosystem.h"
#include "hex/options.h"
#include "pub/options.h"
#include "fronts.h"

static int load(config *c, int argc, char **argv, derr *e)
{
    static config prev;
    config_free(&prev); /* what the last load made */
    FILE *devnull = fopen("/dev/null", "w");
    int rc = config_load(c, argc, argv, NULL, NULL, devnull, e);
    fclose(devnull);
    prev = *c;
    c->nowned = 0; /* prev owns them now */
    return rc;
}

static void test_defaults(void **state)
{
    (void)state;
    config c;
    derr e;
    char *argv[] = {"serve"};
    assert_int_equal(load(&c, 1, argv, &e), 0);
    assert_string_equal(c.listen, "127.0.0.1:4000");
    assert_string_equal(c.data, "./data");
    assert_string_equal(c.store_url, "sqlite:./data/depot.db");
    assert_string_equal(c.blob_url, "file:./data/blobs");
    assert_string_equal(c.base_url, "http://127.0.0.1:4000");
    assert_int_equal(c.jwt_ttl, 2592000);
    assert_true(c.rate_limit);
    assert_false(c.private_mode);
    assert_int_equal(c.rate[RL_PUBLISH][1], 30);
    assert_int_equal(c.rate[RL_READ][0], 120000);
    assert_int_equal(c.rate[RL_READ][1], 80000);
    assert_int_equal(c.rate[RL_AUTH][1], 60);
    assert_int_equal(c.login_failures, 10);
    assert_int_equal(c.login_lock, 900);
}

static void test_precedence(void **state)
{
    (void)state;
    char path[] = "/tmp/depot-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "# comment\njwt-ttl = 100\nregistration = closed\nlog-level = \"warn\"\nthreads=3\n";
    assert_int_equal(write(fd, text, strlen(text)), (int)strlen(text));
    close(fd);

    config c;
    derr e;
    char *argv1[] = {"serve", "--config", path};
    assert_int_equal(load(&c, 3, argv1, &e), 0);
    assert_int_equal(c.jwt_ttl, 100);
    assert_string_equal(c.registration, "closed");
    assert_string_equal(c.log_level, "warn");
    assert_int_equal(c.threads, 3);

    setenv("DEPOT_JWT_TTL", "200", 1);
    assert_int_equal(load(&c, 3, argv1, &e), 0);
    assert_int_equal(c.jwt_ttl, 200);

    char *argv2[] = {"serve", "--config", path, "--jwt-ttl=300", "--private", "--rate-limit", "off"};
    assert_int_equal(load(&c, 7, argv2, &e), 0);
    assert_int_equal(c.jwt_ttl, 300);
    assert_true(c.private_mode);
    assert_false(c.rate_limit);
    unsetenv("DEPOT_JWT_TTL");

    setenv("DEPOT_CONFIG", path, 1);
    char *argv3[] = {"serve"};
    assert_int_equal(load(&c, 1, argv3, &e), 0);
    assert_int_equal(c.jwt_ttl, 100);
    unsetenv("DEPOT_CONFIG");
    unlink(path);
}

static void test_errors(void **state)
{
    (void)state;
    static char *bad[][3] = {
        {"serve", "--nope", NULL},          {"serve", "--jwt-ttl", "abc"},
        {"serve", "--jwt-ttl", "0"},        {"serve", "--registration", "maybe"},
        {"serve", "--listen", "nocolon"},   {"serve", "--log-format", "xml"},
        {"serve", "--base-url", "ftp://x"}, {"serve", "--argon2-mem", "100"},
        {"serve", "--private", "perhaps"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        config c;
        derr e;
        int argc = bad[i][2] ? 3 : 2;
        int rc = load(&c, argc, bad[i], &e);
        if (strcmp(bad[i][1], "--private") == 0) {
            /* "perhaps" is not a boolean, so it is a stray word: an error without rest[]. */
            assert_int_equal(rc, -1);
            continue;
        }
        if (rc != -1)
            fail_msg("%s %s should fail", bad[i][1], bad[i][2] ? bad[i][2] : "");
        assert_true(strlen(e.message) > 0);
    }
}

/* An option of an earlier release that is gone says what replaced it. */
static void test_retired_rate_options(void **state)
{
    (void)state;
    char *argv[] = {"serve", "--rate-download-anon", "5"};
    config c;
    derr e;
    assert_int_equal(load(&c, 3, argv, &e), -1);
    assert_non_null(strstr(e.message, "--rate-CLASS-burst"));
    char *argv2[] = {"serve", "--nope"};
    assert_int_equal(load(&c, 2, argv2, &e), -1);
    assert_null(strstr(e.message, "token buckets"));
}

static void test_rest_and_help(void **state)
{
    (void)state;
    config c;
    derr e;
    char *argv[] = {"user", "add", "bob", "--email", "b@x.io", "--data", "/tmp/x", "--admin"};
    char *rest[8];
    int n;
    FILE *devnull = fopen("/dev/null", "w");
    assert_int_equal(config_load(&c, 8, argv, rest, &n, devnull, &e), 0);
    assert_int_equal(n, 5);
    assert_string_equal(rest[0], "add");
    assert_string_equal(rest[3], "b@x.io");
    assert_string_equal(rest[4], "--admin");
    assert_string_equal(c.data, "/tmp/x");
    char *h[] = {"serve", "--help"};
    config_free(&c);
    assert_int_equal(config_load(&c, 2, h, NULL, NULL, devnull, &e), 1);
    config_free(&c);
    fclose(devnull);
}

static void test_base_url_trailing_slash(void **state)
{
    (void)state;
    config c;
    derr e;
    char *argv[] = {"serve", "--base-url", "https://pkgs.example.com/"};
    assert_int_equal(load(&c, 3, argv, &e), 0);
    assert_string_equal(c.base_url, "https://pkgs.example.com");
}

/* The fronts' options (their descriptors' tables) work from all four sources as the core's do. */
static void test_front_options(void **state)
{
    (void)state;
    config c;
    derr e;
    char *argv0[] = {"serve"};
    assert_int_equal(load(&c, 1, argv0, &e), 0);
    const hex_options *hex = config_eco(&c, ecosystem_find("hex"));
    const pub_options *pub = config_eco(&c, ecosystem_find("pub"));
    assert_non_null(hex);
    assert_non_null(pub);
    assert_string_equal(hex->repo, "depot");
    assert_string_equal(hex->key, "");
    assert_int_equal(hex->max_tarball, 16777216);
    assert_int_equal(pub->upload_ttl, 3600);
    assert_int_equal(pub->max_entries, 65536);
    assert_null(config_eco(&c, ecosystem_find("native"))); /* no options */

    char path[] = "/tmp/depot-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "hex-repo = filed\nupload-ttl = 600\npub-max-entries = 7\n";
    assert_int_equal(write(fd, text, strlen(text)), (int)strlen(text));
    close(fd);
    setenv("DEPOT_PUB_MAX_ENTRIES", "9", 1);
    char *argv[] = {"serve", "--config", path, "--hex-repo=flagged", "--hex-max-tarball", "2048"};
    assert_int_equal(load(&c, 6, argv, &e), 0);
    hex = config_eco(&c, ecosystem_find("hex"));
    pub = config_eco(&c, ecosystem_find("pub"));
    assert_string_equal(hex->repo, "flagged");
    assert_int_equal(hex->max_tarball, 2048);
    assert_int_equal(pub->upload_ttl, 600);
    assert_int_equal(pub->max_entries, 9);
    unsetenv("DEPOT_PUB_MAX_ENTRIES");
    unlink(path);

    char *bad[] = {"serve", "--upload-ttl", "5"};
    assert_int_equal(load(&c, 3, bad, &e), -1);
    assert_non_null(strstr(e.message, "--upload-ttl"));
}

static void teardown_all(void)
{
    config c;
    derr e;
    char *argv[] = {"serve"};
    load(&c, 1, argv, &e); /* frees the previous load's strings */
    config_free(&c);
}

int main(void)
{
    ecosystems_register(fronts_ecosystem); /* the table of fronts, as main.c does */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_retired_rate_options),
        cmocka_unit_test(test_rest_and_help),
        cmocka_unit_test(test_base_url_trailing_slash),
        cmocka_unit_test(test_front_options),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    teardown_all();
    return rc;
}
