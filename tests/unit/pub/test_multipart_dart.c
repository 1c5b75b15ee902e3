/*
 * test_multipart_dart.c — src/http/multipart.c against the bodies a pub
 * upload arrives as (fact sheet §2.2 and Appendix A): package:http's exact
 * bytes (lower-case part headers, a 70-character `dart-http-boundary-`
 * boundary of the characters `+_-.0-9A-Za-z`, the fields in order and the
 * file last, `content-type` before `content-disposition` on the file),
 * a non-ASCII field with its extra `content-type`/`content-transfer-encoding`
 * headers, names with package:http's %22 and %0D%0A escapes, an empty
 * `fields`, and what other tools send: the file first, capitalized header
 * names, a quoted boundary, a part without Content-Type. Each is parsed at
 * several read sizes, and the `file` part is found by name wherever it is.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http/multipart.h"
#include "lib/crypto.h"

/* 19 + 51 characters, from package:http's boundary alphabet. */
#define DB "dart-http-boundary-+_-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijk"

static char tmpdir[64];

static int setup(void **state)
{
    (void)state;
    if (crypto_init() < 0)
        return -1;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/depot-mpd-test-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return rmdir(tmpdir);
}

static int body_fd(const void *p, size_t n)
{
    char path[] = "/tmp/depot-mpd-body-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    assert_int_equal(write(fd, p, n), (ssize_t)n);
    return fd;
}

struct field {
    const char *name, *value;
};

struct shape {
    const char *what;
    const char *ctype;
    const char *body;
    struct field fields[4]; /* fields expected, in order, ending with a NULL name */
    const char *file;       /* the content of the part named "file" */
    const char *filename;
    const char *file_ctype; /* NULL: none sent */
};

static const char tgz[] = "\x1f\x8b\x08\x01 archive bytes \r\n--" DB "X not a delimiter\r\n";
#define TGZ "\x1f\x8b\x08\x01 archive bytes \r\n--" DB "X not a delimiter\r\n"

static const struct shape shapes[] = {
    {"package:http, one field",
     "multipart/form-data; boundary=" DB,
     "--" DB "\r\n"
     "content-disposition: form-data; name=\"upload_id\"\r\n"
     "\r\n"
     "abc123\r\n"
     "--" DB "\r\n"
     "content-type: application/octet-stream\r\n"
     "content-disposition: form-data; name=\"file\"; filename=\"package.tar.gz\"\r\n"
     "\r\n" TGZ "\r\n"
     "--" DB "--\r\n",
     {{"upload_id", "abc123"}, {NULL, NULL}},
     TGZ,
     "package.tar.gz",
     "application/octet-stream"},
    {"package:http, GCS-style fields in order",
     "multipart/form-data; boundary=" DB,
     "--" DB "\r\n"
     "content-disposition: form-data; name=\"key\"\r\n\r\n"
     "tmp/1234\r\n"
     "--" DB "\r\n"
     "content-disposition: form-data; name=\"policy\"\r\n\r\n"
     "eyJleHBpcmF0aW9uIjoi\r\n"
     "--" DB "\r\n"
     "content-disposition: form-data; name=\"success_action_redirect\"\r\n\r\n"
     "https://h/x?upload_id=1\r\n"
     "--" DB "\r\n"
     "content-type: application/octet-stream\r\n"
     "content-disposition: form-data; name=\"file\"; filename=\"package.tar.gz\"\r\n"
     "\r\n" TGZ "\r\n"
     "--" DB "--\r\n",
     {{"key", "tmp/1234"},
      {"policy", "eyJleHBpcmF0aW9uIjoi"},
      {"success_action_redirect", "https://h/x?upload_id=1"},
      {NULL, NULL}},
     TGZ,
     "package.tar.gz",
     "application/octet-stream"},
    {"package:http, no fields",
     "multipart/form-data; boundary=" DB,
     "--" DB "\r\n"
     "content-type: application/octet-stream\r\n"
     "content-disposition: form-data; name=\"file\"; filename=\"package.tar.gz\"\r\n"
     "\r\n" TGZ "\r\n"
     "--" DB "--\r\n",
     {{NULL, NULL}},
     TGZ,
     "package.tar.gz",
     "application/octet-stream"},
    {"package:http, a non-ASCII field",
     "multipart/form-data; boundary=" DB,
     "--" DB "\r\n"
     "content-disposition: form-data; name=\"note\"\r\n"
     "content-type: text/plain; charset=utf-8\r\n"
     "content-transfer-encoding: binary\r\n"
     "\r\n"
     "caf\xc3\xa9 \xe2\x98\x83\r\n"
     "--" DB "\r\n"
     "content-disposition: form-data; name=\"upload_id\"\r\n\r\n"
     "id\r\n"
     "--" DB "\r\n"
     "content-type: application/octet-stream\r\n"
     "content-disposition: form-data; name=\"file\"; filename=\"package.tar.gz\"\r\n"
     "\r\n" TGZ "\r\n"
     "--" DB "--\r\n",
     {{"note", "caf\xc3\xa9 \xe2\x98\x83"}, {"upload_id", "id"}, {NULL, NULL}},
     TGZ,
     "package.tar.gz",
     "application/octet-stream"},
    {"package:http, escaped names",
     "multipart/form-data; boundary=" DB,
     "--" DB "\r\n"
     "content-disposition: form-data; name=\"a%22b%0D%0Ac\"\r\n\r\n"
     "v\r\n"
     "--" DB "\r\n"
     "content-type: application/octet-stream\r\n"
     "content-disposition: form-data; name=\"file\"; filename=\"my%22pkg.tar.gz\"\r\n"
     "\r\n" TGZ "\r\n"
     "--" DB "--\r\n",
     {{"a%22b%0D%0Ac", "v"}, {NULL, NULL}},
     TGZ,
     "my%22pkg.tar.gz",
     "application/octet-stream"},
    {"the file first (unpub's assumption reversed), capitalized headers",
     "Multipart/Form-Data; Boundary=" DB,
     "--" DB "\r\n"
     "Content-Disposition: form-data; name=\"file\"; filename=\"p.tgz\"\r\n"
     "Content-Type: application/gzip\r\n"
     "\r\n" TGZ "\r\n"
     "--" DB "\r\n"
     "CONTENT-DISPOSITION: FORM-DATA; NAME=\"upload_id\"\r\n\r\n"
     "xyz\r\n"
     "--" DB "--\r\n",
     {{"upload_id", "xyz"}, {NULL, NULL}},
     TGZ,
     "p.tgz",
     "application/gzip"},
    {"a quoted boundary, no part Content-Type",
     "multipart/form-data; boundary=\"" DB "\"",
     "--" DB "\r\n"
     "content-disposition: form-data; name=\"upload_id\"\r\n\r\n"
     "q\r\n"
     "--" DB "\r\n"
     "content-disposition: form-data; name=\"file\"; filename=\"package.tar.gz\"\r\n"
     "\r\n" TGZ "\r\n"
     "--" DB "--\r\n",
     {{"upload_id", "q"}, {NULL, NULL}},
     TGZ,
     "package.tar.gz",
     NULL},
};

static const size_t chunks[] = {1, 3, 7, 64, 70, 71, 72, 200, 0};

static void check(const struct shape *s, size_t chunk)
{
    multipart_set_chunk_size(chunk);
    size_t blen = strlen(s->body);
    int fd = body_fd(s->body, blen);
    arena *a = arena_new(0);
    mp_part *parts;
    int n;
    derr e;
    if (multipart_parse(a, fd, blen, s->ctype, tmpdir, NULL, &parts, &n, &e) != 0)
        fail_msg("%s (chunk %zu): %d %s", s->what, chunk, e.status, e.message);
    int nf = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(parts[i].name, "file") == 0)
            continue;
        if (!s->fields[nf].name)
            fail_msg("%s: unexpected field %s", s->what, parts[i].name);
        assert_string_equal(parts[i].name, s->fields[nf].name);
        assert_non_null(parts[i].value);
        assert_string_equal(parts[i].value, s->fields[nf].value);
        nf++;
    }
    assert_null(s->fields[nf].name);
    const mp_part *f = multipart_get(parts, n, "file");
    assert_non_null(f);
    assert_non_null(f->path);
    assert_string_equal(f->filename, s->filename);
    if (s->file_ctype)
        assert_string_equal(f->content_type, s->file_ctype);
    else
        assert_null(f->content_type);
    size_t want = sizeof tgz - 1;
    assert_int_equal(f->size, want);
    unsigned char sum[32];
    sha256(s->file, want, sum);
    assert_memory_equal(f->sha256, sum, 32);
    char got[sizeof tgz];
    assert_int_equal(pread(f->fd, got, want, 0), (ssize_t)want);
    assert_memory_equal(got, s->file, want);
    arena_free(a);
    close(fd);
    multipart_set_chunk_size(0);
}

static void test_shapes(void **state)
{
    (void)state;
    assert_int_equal(strlen(DB), 70);
    size_t cases = 0;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++, cases++)
            check(&shapes[i], chunks[c]);
    printf("dart multipart shapes: %zu cases\n", cases);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_shapes)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
