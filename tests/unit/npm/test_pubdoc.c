/*
 * test_pubdoc.c — src/npm/pubdoc.c: the publish document parser and the
 * streaming base64 decoder. Documents as npm sends them (one .tgz
 * attachment, escaped slashes in base64, a sigstore bundle beside the
 * tarball), empty and missing _attachments, every kind of malformed JSON
 * the scanner must refuse, attachment data hidden behind \u escapes, the
 * remainder cap (413) and the attachment count; base64 with and without
 * padding, escapes, bad characters and truncation, the output cap, the
 * SHA-1/256/512 sums, and a 1 MiB round trip across the decoder's buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/crypto.h"
#include "npm/pubdoc.h"

static int parse(arena *a, const char *text, size_t max, npm_doc *d, derr *e)
{
    return npm_doc_parse(a, text, strlen(text), max, d, e);
}

static void test_publish_document(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    const char *doc =
        "{\"_id\":\"@s/b\",\"name\":\"@s/b\",\"dist-tags\":{\"latest\":\"1.0.0\"},"
        "\"versions\":{\"1.0.0\":{\"name\":\"@s/b\",\"version\":\"1.0.0\",\"data\":\"not an attachment\"}},"
        "\"access\":null,\"_attachments\":{\"@s/b-1.0.0.tgz\":{\"content_type\":\"application/octet-stream\","
        "\"data\":\"Zm9v\\/YmFy\",\"length\":7},\"@s/b-1.0.0.sigstore\":{\"data\":\"{\\\"x\\\":1}\"}}}";
    npm_doc d;
    derr e;
    if (parse(a, doc, 1 << 20, &d, &e) != 0)
        fail_msg("%s", e.message);
    assert_int_equal(d.natt, 2);
    assert_string_equal(d.att[0].name, "@s/b-1.0.0.tgz");
    assert_true(d.att[0].has_data);
    assert_int_equal(d.att[0].data_len, strlen("Zm9v\\/YmFy"));
    assert_memory_equal(doc + d.att[0].data_off, "Zm9v\\/YmFy", d.att[0].data_len);
    assert_string_equal(json_string_value(json_object_get(d.att[0].obj, "data")), "");
    assert_int_equal(json_integer_value(json_object_get(d.att[0].obj, "length")), 7);
    assert_string_equal(d.att[1].name, "@s/b-1.0.0.sigstore");
    assert_true(d.att[1].has_data);
    /* "data" elsewhere in the document is left alone */
    json_t *v = json_object_get(json_object_get(d.doc, "versions"), "1.0.0");
    assert_string_equal(json_string_value(json_object_get(v, "data")), "not an attachment");
    assert_string_equal(json_string_value(json_object_get(d.doc, "name")), "@s/b");

    /* no attachments at all, and an empty object (npm deprecate) */
    assert_int_equal(parse(a, "{\"name\":\"x\"}", 1 << 20, &d, &e), 0);
    assert_int_equal(d.natt, 0);
    assert_int_equal(parse(a, " {\"name\":\"x\",\"_attachments\":{}} \n", 1 << 20, &d, &e), 0);
    assert_int_equal(d.natt, 0);
    /* an attachment without data */
    assert_int_equal(parse(a, "{\"_attachments\":{\"x.tgz\":{\"length\":0}}}", 1 << 20, &d, &e), 0);
    assert_int_equal(d.natt, 1);
    assert_false(d.att[0].has_data);
    arena_free(a);
}

static void test_malformed(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int status;
        const char *why;
    } cases[] = {
        {"", 400, "empty"},
        {"[]", 400, "must be a JSON object"},
        {"\"x\"", 400, "must be a JSON object"},
        {"{", 400, "not valid JSON"},
        {"{\"a\":1", 400, "not valid JSON"},
        {"{\"a\":1} x", 400, "text after"},
        {"{\"a\":1}{}", 400, "text after"},
        {"{\"a\" 1}", 400, "expected ':'"},
        {"{\"a\":1,}", 400, "expected a string"},
        {"{\"a\":[1,]}", 400, "unexpected character"},
        {"{\"a\":\"\\x\"}", 400, "bad escape"},
        {"{\"a\":\"\\u12g4\"}", 400, "\\u escape"},
        {"{\"a\":\"tab\there\"}", 400, "control character"},
        {"{\"a\":\"open}", 400, "unterminated"},
        {"{\"a\":tru}", 400, "unexpected character"},
        {"{\"a\":01}", 400, "not valid JSON"},        /* jansson's number grammar */
        {"{\"a\":1,\"a\":2}", 400, "not valid JSON"}, /* duplicate keys */
        {"{\"a\":\"\\u0000\"}", 400, "not valid JSON"},
        {"{\"_attachments\":[]}", 400, "expected an object"},
        {"{\"_attachments\":{\"x.tgz\":{\"data\":\"QQ==\",\"data\":\"QQ==\"}}}", 400, "duplicate"},
        /* data hidden from the scanner by escapes must not slip through whole */
        {"{\"_attachments\":{\"x.tgz\":{\"d\\u0061ta\":\"QUFB\"}}}", 400, "without escapes"},
        {"{\"_attachment\\u0073\":{\"x.tgz\":{\"data\":\"QUFB\"}}}", 400, "without escapes"},
        {"{\"_attachments\":{\"x.tgz\":{\"data\":\"QUFB\"}},\"_attachments\":{}}", 400, "not valid JSON"},
        {"{\"a\":\"\xff\"}", 400, "not valid JSON"}, /* not UTF-8 */
    };
    arena *a = arena_new(0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        npm_doc d;
        derr e;
        if (parse(a, cases[i].text, 1 << 20, &d, &e) != -1)
            fail_msg("accepted: %s", cases[i].text);
        if (e.status != cases[i].status || !strstr(e.message, cases[i].why))
            fail_msg("%s: %d %s (wanted %s)", cases[i].text, e.status, e.message, cases[i].why);
    }
    arena_free(a);
}

/* {"a":[[...[1]...]]} nested `levels` deep, the object counting as one. */
static void nested(char *out, int levels)
{
    size_t n = 0;
    memcpy(out, "{\"a\":", 5);
    n += 5;
    for (int i = 1; i < levels; i++)
        out[n++] = '[';
    out[n++] = '1';
    for (int i = 1; i < levels; i++)
        out[n++] = ']';
    out[n++] = '}';
    out[n] = '\0';
}

static void test_limits(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    npm_doc d;
    derr e;
    /* depth: 128 levels pass, 129 do not */
    char deep[600];
    nested(deep, 128);
    if (parse(a, deep, 1 << 20, &d, &e) != 0)
        fail_msg("128 levels: %s", e.message);
    nested(deep, 129);
    assert_int_equal(parse(a, deep, 1 << 20, &d, &e), -1);
    assert_non_null(strstr(e.message, "too deep"));

    /* the remainder cap counts everything but the attachments' data */
    char big[4096];
    snprintf(big, sizeof big, "{\"name\":\"x\",\"_attachments\":{\"x-1.0.0.tgz\":{\"data\":\"%0*d\"}}}", 3000,
             0);
    assert_int_equal(parse(a, big, 100, &d, &e), 0);
    snprintf(big, sizeof big, "{\"readme\":\"%0*d\",\"_attachments\":{}}", 3000, 0);
    assert_int_equal(parse(a, big, 100, &d, &e), -1);
    assert_int_equal(e.status, 413);

    /* at most 16 attachments */
    char many[4096];
    size_t w = (size_t)snprintf(many, sizeof many, "{\"_attachments\":{");
    for (int i = 0; i < 17; i++)
        w += (size_t)snprintf(many + w, sizeof many - w, "%s\"a%d\":{\"data\":\"QQ==\"}", i ? "," : "", i);
    snprintf(many + w, sizeof many - w, "}}");
    assert_int_equal(parse(a, many, 1 << 20, &d, &e), -1);
    assert_non_null(strstr(e.message, "at most 16"));
    arena_free(a);
}

/* Decodes text into a memory file; returns the status (0 or e.status) and the bytes in out. */
static int decode(const char *text, uint64_t max, char *out, size_t cap, size_t *outlen, npm_sums *s)
{
    int fd = memfd_create("b64", 0);
    assert_true(fd >= 0);
    derr e;
    int rc = npm_b64_decode_fd(text, strlen(text), fd, max, s, &e);
    *outlen = 0;
    if (rc == 0) {
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        ssize_t n = read(fd, out, cap);
        assert_true(n >= 0);
        *outlen = (size_t)n;
        assert_int_equal((uint64_t)n, s->size);
    }
    close(fd);
    return rc == 0 ? 0 : e.status;
}

static void test_base64(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int status;
        const char *out;
        size_t outlen;
    } cases[] = {
        {"", 0, "", 0},
        {"Zg==", 0, "f", 1},
        {"Zm8=", 0, "fo", 2},
        {"Zm9v", 0, "foo", 3},
        {"Zm9vYmFy", 0, "foobar", 6},
        {"Zg", 0, "f", 1},
        {"Zm8", 0, "fo", 2},
        {"Zm9v\\nYmFy\\r\\n", 0, "foobar", 6},
        {"\\/\\/\\/\\/", 0, "\xff\xff\xff", 3},
        {"////", 0, "\xff\xff\xff", 3},
        {"AAAA", 0, "\0\0\0", 3},
        {"Z", 400, NULL, 0},
        {"Zm9vY", 400, NULL, 0},
        {"Zg=", 400, NULL, 0},
        {"Z===", 400, NULL, 0},
        {"=AAA", 400, NULL, 0},
        {"Zg==Zg==", 400, NULL, 0},
        {"Zg=a", 400, NULL, 0},
        {"Zm9v!", 400, NULL, 0},
        {"Zm9-", 400, NULL, 0},
        {"Zm9\\u0076", 400, NULL, 0},
        {"Zm9v\\", 400, NULL, 0},
        {"Zm 9v", 400, NULL, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[64];
        size_t n;
        npm_sums s;
        int st = decode(cases[i].in, 1 << 20, out, sizeof out, &n, &s);
        if (st != cases[i].status)
            fail_msg("'%s': status %d, wanted %d", cases[i].in, st, cases[i].status);
        if (st == 0 && (n != cases[i].outlen || memcmp(out, cases[i].out, n) != 0))
            fail_msg("'%s': wrong bytes (%zu)", cases[i].in, n);
    }
    /* the cap */
    char out[64];
    size_t n;
    npm_sums s;
    assert_int_equal(decode("Zm9vYmFy", 6, out, sizeof out, &n, &s), 0);
    assert_int_equal(decode("Zm9vYmFy", 5, out, sizeof out, &n, &s), 413);
    /* the sums */
    assert_int_equal(decode("Zm9vYmFy", 100, out, sizeof out, &n, &s), 0);
    char hex[129];
    hex_encode(s.sha1, 20, hex);
    assert_string_equal(hex, "8843d7f92416211de9ebb963ff4ce28125932878");
    hex_encode(s.sha256, 32, hex);
    assert_string_equal(hex, "c3ab8ff13720e8ad9047dd39466b3c8974e592c2fa383d4a3960714caef0c4f2");
    hex_encode(s.sha512, 64, hex);
    assert_string_equal(
        hex, "0a50261ebd1a390fed2bf326f2673c145582a6342d523204973d0219337f81616a8069b012587cf5635f6925f1b"
             "56c360230c19b273500ee013e030601bf2425");
}

static void test_base64_large(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    size_t n = (1u << 20) + 7;
    unsigned char *raw = malloc(n);
    random_bytes(raw, n);
    char *text = b64_encode(a, raw, n);
    size_t cap = n + 16;
    char *out = malloc(cap);
    size_t got;
    npm_sums s;
    assert_int_equal(decode(text, n, out, cap, &got, &s), 0);
    assert_int_equal(got, n);
    assert_memory_equal(out, raw, n);
    unsigned char sum[32];
    sha256(raw, n, sum);
    assert_memory_equal(sum, s.sha256, 32);
    assert_int_equal(decode(text, n - 1, out, cap, &got, &s), 413);
    free(raw);
    free(out);
    arena_free(a);
}

int main(void)
{
    crypto_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_publish_document), cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_limits),           cmocka_unit_test(test_base64),
        cmocka_unit_test(test_base64_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
