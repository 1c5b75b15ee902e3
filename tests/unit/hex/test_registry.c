/*
 * test_registry.c — src/hex/sign.c and src/hex/registry.c: the repository
 * key is made at first use (mode 0600) and loaded after; its fingerprint is
 * what `ssh-keygen -l -E sha256` prints (what `mix hex.repo add
 * --fetch-public-key` checks); the Package, Names and Versions resources
 * gunzip, unpack with the protoc-c code (a protobuf round trip), and carry
 * a signature that OpenSSL verifies with the published public key; their
 * content follows hex.pm's builder (releases ascending by SemVer, both
 * checksums, dependencies sorted, optional/app/repository only when they
 * say something, retirement with reason and message, retired indexes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/core_int.h"
#include "hex/names.pb-c.h"
#include "hex/package.pb-c.h"
#include "core/ecosystem.h"
#include "hex/options.h"
#include "hex/registry.h"
#include "hex/sign.h"
#include "hex/signed.pb-c.h"
#include "hex/versions.pb-c.h"
#include "lib/crypto.h"
#include "fronts.h"

static char dir[64];
static arena *A;
static config cfg;
static core C;

static int setup(void **st)
{
    (void)st;
    snprintf(dir, sizeof dir, "/tmp/depot-hexreg-test-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    crypto_init();
    A = arena_new(0);
    memset(&cfg, 0, sizeof cfg);
    cfg.data = dir;
    static hex_options hex = {.repo = "depot", .key = ""};
    config_set_eco(&cfg, ecosystem_find("hex"), &hex);
    C.cfg = &cfg;
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    arena_free(A);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static unsigned char *gunzip(const char *p, size_t n, size_t *out_len)
{
    size_t cap = 1 << 20;
    unsigned char *out = malloc(cap);
    z_stream z = {0};
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    z.next_in = (Bytef *)(uintptr_t)p;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    *out_len = cap - z.avail_out;
    inflateEnd(&z);
    return out;
}

/* Unwraps gzip(Signed), checks the signature with the public key PEM, returns the payload. */
static Hex__Signed__Signed *open_signed(const char *gz, size_t n, unsigned char **raw)
{
    size_t len;
    *raw = gunzip(gz, n, &len);
    Hex__Signed__Signed *s = hex__signed__signed__unpack(NULL, len, *raw);
    assert_non_null(s);
    assert_true(s->has_signature);
    const hex_key *k;
    derr e;
    assert_int_equal(hex_key_get(&cfg, &k, &e), 0);
    const char *pem = hex_key_public_pem(k);
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *pub = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
    BIO_free(b);
    assert_non_null(pub);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha512(), NULL, pub), 1);
    assert_int_equal(
        EVP_DigestVerify(ctx, s->signature.data, s->signature.len, s->payload.data, s->payload.len), 1);
    /* A flipped payload byte does not verify. */
    s->payload.data[s->payload.len / 2] ^= 1;
    EVP_MD_CTX_free(ctx);
    ctx = EVP_MD_CTX_new();
    EVP_DigestVerifyInit(ctx, NULL, EVP_sha512(), NULL, pub);
    assert_int_not_equal(
        EVP_DigestVerify(ctx, s->signature.data, s->signature.len, s->payload.data, s->payload.len), 1);
    s->payload.data[s->payload.len / 2] ^= 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pub);
    return s;
}

static void test_key_made_once_and_fingerprint(void **st)
{
    (void)st;
    const hex_key *k1, *k2;
    derr e;
    assert_int_equal(hex_key_get(&cfg, &k1, &e), 0);
    assert_int_equal(hex_key_get(&cfg, &k2, &e), 0);
    assert_ptr_equal(k1, k2);
    char path[128];
    snprintf(path, sizeof path, "%s/hex_repo_key.pem", dir);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    const char *pem = hex_key_public_pem(k1);
    assert_non_null(strstr(pem, "-----BEGIN PUBLIC KEY-----"));
    const char *fp = hex_key_fingerprint(k1);
    assert_int_equal(strncmp(fp, "SHA256:", 7), 0);
    assert_int_equal(strlen(fp), 7 + 43);
    /* The same key loaded by path gives the same fingerprint. */
    hex_key *k3 = hex_key_load(path, &e);
    assert_non_null(k3);
    assert_string_equal(hex_key_fingerprint(k3), fp);
    hex_key_free(k3);

    /* ssh-keygen, when present, agrees (hex_core's fingerprint is OpenSSH's). */
    if (access("/usr/bin/ssh-keygen", X_OK) == 0) {
        char pubpath[160], cmd[1024], out[256] = "";
        snprintf(pubpath, sizeof pubpath, "%s/pub.pem", dir);
        FILE *f = fopen(pubpath, "w");
        fputs(pem, f);
        fclose(f);
        snprintf(
            cmd, sizeof cmd,
            "ssh-keygen -i -m PKCS8 -f '%s' > '%s.ssh' 2>/dev/null && ssh-keygen -l -E sha256 -f '%s.ssh'",
            pubpath, pubpath, pubpath);
        FILE *p = popen(cmd, "r");
        size_t n = fread(out, 1, sizeof out - 1, p);
        out[n] = '\0';
        pclose(p);
        if (!strstr(out, fp))
            fail_msg("ssh-keygen says '%s', depot says '%s'", out, fp);
    }

    /* A key that is not RSA, or too small, is refused. */
    char bad[160];
    snprintf(bad, sizeof bad, "%s/small.pem", dir);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "openssl genrsa -out '%s' 1024 2>/dev/null", bad);
    assert_int_equal(system(cmd), 0);
    assert_null(hex_key_load(bad, &e));
    assert_non_null(strstr(e.message, "2048"));
}

static store_dep dep(const char *name, const char *req, const char *extra)
{
    return (store_dep){name, req, "normal", extra};
}

static void test_package_resource(void **st)
{
    (void)st;
    store_package p = {.id = 1, .name = "pkg_a", .normalized_name = "pkg_a"};
    static const char inner[] =
        "{\"inner_checksum\":\"f536e5b5242c99371850e9e65917e79042f91f0e018092a4e97e1ab219bcd382\"}";
    static const char outer[] = "4326ad9c94fea5a525ff2710756b7b78a23444a9e672354dbe20e4e9e57327e5";
    store_dep deps[] = {
        dep("zeta", "~> 1.0", "{\"app\":\"zeta\",\"optional\":false}"),
        dep("alpha", "", "{\"app\":\"alpha_app\",\"optional\":true,\"repository\":\"hexpm\"}"),
        dep("mid", ">= 1.0.0", "{\"app\":\"mid\",\"optional\":false,\"repository\":\"depot\"}"),
    };
    store_version vs[5] = {
        {.version = "1.0.0",
         .sha256 = outer,
         .extra = inner,
         .deps = deps,
         .ndeps = 3,
         .published_at = 1700000000},
        {.version = "0.9.0", .sha256 = outer, .extra = inner},
        {.version = "1.0.0-rc.1",
         .sha256 = outer,
         .extra = inner,
         .retired_reason = "security",
         .retired_message = "CVE-1"},
        {.version = "1.10.0", .sha256 = outer, .extra = inner, .retired_reason = "renamed"},
        {.version = "1.2.0", .sha256 = outer, .extra = inner},
    };
    char *gz;
    size_t len;
    derr e;
    if (hex_registry_package(&C, A, &p, vs, 5, &gz, &len, &e) < 0)
        fail_msg("%s", e.message);
    unsigned char *raw;
    Hex__Signed__Signed *s = open_signed(gz, len, &raw);
    Hex__Package__Package *pk = hex__package__package__unpack(NULL, s->payload.len, s->payload.data);
    assert_non_null(pk);
    assert_string_equal(pk->name, "pkg_a");
    assert_string_equal(pk->repository, "depot");
    assert_int_equal(pk->n_releases, 5);
    const char *order[] = {"0.9.0", "1.0.0-rc.1", "1.0.0", "1.2.0", "1.10.0"};
    for (int i = 0; i < 5; i++) {
        Hex__Package__Release *r = pk->releases[i];
        assert_string_equal(r->version, order[i]);
        assert_int_equal(r->inner_checksum.len, 32);
        assert_int_equal(r->inner_checksum.data[0], 0xf5);
        assert_true(r->has_outer_checksum);
        assert_int_equal(r->outer_checksum.len, 32);
        assert_int_equal(r->outer_checksum.data[0], 0x43);
    }
    Hex__Package__Release *rc = pk->releases[1];
    assert_non_null(rc->retired);
    assert_int_equal(rc->retired->reason, HEX__PACKAGE__RETIREMENT_REASON__RETIRED_SECURITY);
    assert_string_equal(rc->retired->message, "CVE-1");
    assert_int_equal(pk->releases[4]->retired->reason, HEX__PACKAGE__RETIREMENT_REASON__RETIRED_RENAMED);
    assert_null(pk->releases[4]->retired->message);
    assert_null(pk->releases[0]->retired);
    Hex__Package__Release *r1 = pk->releases[2];
    assert_non_null(r1->published_at);
    assert_int_equal(r1->published_at->seconds, 1700000000);
    assert_int_equal(r1->n_dependencies, 3);
    /* Sorted by name; fields only when they say something. */
    assert_string_equal(r1->dependencies[0]->package, "alpha");
    assert_string_equal(r1->dependencies[0]->requirement, ">= 0.0.0");
    assert_true(r1->dependencies[0]->has_optional && r1->dependencies[0]->optional);
    assert_string_equal(r1->dependencies[0]->app, "alpha_app");
    assert_string_equal(r1->dependencies[0]->repository, "hexpm");
    assert_string_equal(r1->dependencies[1]->package, "mid");
    assert_null(r1->dependencies[1]->repository); /* this repository: not written */
    assert_null(r1->dependencies[1]->app);
    assert_false(r1->dependencies[1]->has_optional);
    assert_string_equal(r1->dependencies[2]->package, "zeta");
    hex__package__package__free_unpacked(pk, NULL);
    hex__signed__signed__free_unpacked(s, NULL);
    free(raw);
    free(gz);

    /* A release without its inner checksum is an error, not a resource without it. */
    store_version bad = {.version = "2.0.0", .sha256 = outer, .extra = "{}"};
    assert_int_equal(hex_registry_package(&C, A, &p, &bad, 1, &gz, &len, &e), -1);
}

static void test_names_and_versions(void **st)
{
    (void)st;
    static const char inner[] =
        "{\"inner_checksum\":\"f536e5b5242c99371850e9e65917e79042f91f0e018092a4e97e1ab219bcd382\"}";
    store_package pa = {.name = "aaa", .updated_at = 1700000001},
                  pb = {.name = "bbb", .updated_at = 1700000002};
    store_version va[] = {{.version = "1.0.0", .extra = inner},
                          {.version = "1.1.0", .extra = inner, .retired_reason = "other"}};
    store_version vb[] = {{.version = "0.1.0", .extra = inner, .retired_reason = "invalid"}};
    hex_pkg_entry ents[] = {{&pa, va, 2}, {&pb, vb, 1}};
    char *gz;
    size_t len;
    derr e;
    assert_int_equal(hex_registry_names(&C, A, ents, 2, &gz, &len, &e), 0);
    unsigned char *raw;
    Hex__Signed__Signed *s = open_signed(gz, len, &raw);
    Hex__Names__Names *nm = hex__names__names__unpack(NULL, s->payload.len, s->payload.data);
    assert_string_equal(nm->repository, "depot");
    assert_int_equal(nm->n_packages, 2);
    assert_string_equal(nm->packages[1]->name, "bbb");
    assert_int_equal(nm->packages[1]->updated_at->seconds, 1700000002);
    hex__names__names__free_unpacked(nm, NULL);
    hex__signed__signed__free_unpacked(s, NULL);
    free(raw);
    free(gz);

    assert_int_equal(hex_registry_versions(&C, A, ents, 2, &gz, &len, &e), 0);
    s = open_signed(gz, len, &raw);
    /* retired is packed: tag 3 with wire type 2 (0x1a) appears in the payload. */
    assert_non_null(memmem(s->payload.data, s->payload.len, "\x1a\x01\x01", 3));
    Hex__Versions__Versions *vv = hex__versions__versions__unpack(NULL, s->payload.len, s->payload.data);
    assert_string_equal(vv->repository, "depot");
    assert_int_equal(vv->packages[0]->n_versions, 2);
    assert_int_equal(vv->packages[0]->n_retired, 1);
    assert_int_equal(vv->packages[0]->retired[0], 1);
    assert_int_equal(vv->packages[1]->retired[0], 0);
    hex__versions__versions__free_unpacked(vv, NULL);
    hex__signed__signed__free_unpacked(s, NULL);
    free(raw);
    free(gz);
}

int main(void)
{
    ecosystems_register(fronts_ecosystem); /* the table of fronts, as main.c does */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_made_once_and_fingerprint),
        cmocka_unit_test(test_package_resource),
        cmocka_unit_test(test_names_and_versions),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
