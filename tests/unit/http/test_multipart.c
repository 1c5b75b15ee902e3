/*
 * test_multipart.c — src/http/multipart.c: bodies shaped like curl's (taken
 * from a real `curl -F` request), each parsed at many read sizes down to one
 * byte so that every delimiter, header and CRLF is split across reads;
 * delimiters straddling the real 64 KiB read; content that looks like a
 * boundary but is not; boundary and Content-Disposition syntax; a table of
 * malformed bodies with the status and message each must give; limits;
 * temp files (removed with the arena, or kept by a caller that takes them,
 * and none left after an error); and random bodies with random content
 * parsed back to what was put in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http/multipart.h"
#include "lib/crypto.h"

#define B "------------------------065ca7ce0d5c1444"
#define CT "multipart/form-data; boundary=" B

static char tmpdir[64];

static int setup(void **state)
{
    (void)state;
    if (crypto_init() < 0)
        return -1;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/depot-mp-test-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int dir_count(void)
{
    DIR *d = opendir(tmpdir);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static int teardown(void **state)
{
    (void)state;
    DIR *d = opendir(tmpdir);
    struct dirent *de;
    char p[512];
    while ((de = readdir(d)))
        if (de->d_name[0] != '.') {
            snprintf(p, sizeof p, "%s/%s", tmpdir, de->d_name);
            unlink(p);
        }
    closedir(d);
    rmdir(tmpdir);
    return 0;
}

/* An unlinked temp file holding the body; the fd is left at its end, as the
 * parser must not depend on the position. */
static int body_fd(const void *p, size_t n)
{
    char path[] = "/tmp/depot-mp-body-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    assert_int_equal(write(fd, p, n), (ssize_t)n);
    return fd;
}

static char *slurp(int fd, size_t *n)
{
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    char *d = malloc((size_t)st.st_size + 1);
    assert_int_equal(pread(fd, d, (size_t)st.st_size, 0), st.st_size);
    *n = (size_t)st.st_size;
    return d;
}

struct want {
    const char *name, *filename, *ctype;
    const char *data;
    size_t len;
};

/* Parses body at one chunk size and compares with the expected parts. */
static void check_parse(const char *what, const char *ct, const char *body, size_t blen, const struct want *w,
                        int nw, size_t chunk)
{
    multipart_set_chunk_size(chunk);
    int fd = body_fd(body, blen);
    arena *a = arena_new(0);
    mp_part *parts;
    int n;
    derr e;
    derr_clear(&e);
    if (multipart_parse(a, fd, blen, ct, tmpdir, NULL, &parts, &n, &e) != 0)
        fail_msg("%s (chunk %zu): %d %s", what, chunk, e.status, e.message);
    if (n != nw)
        fail_msg("%s (chunk %zu): %d parts, want %d", what, chunk, n, nw);
    for (int i = 0; i < n; i++) {
        const mp_part *p = &parts[i];
        assert_string_equal(p->name, w[i].name);
        if (w[i].filename) {
            assert_non_null(p->filename);
            assert_string_equal(p->filename, w[i].filename);
        } else {
            assert_null(p->filename);
        }
        if (w[i].ctype)
            assert_string_equal(p->content_type, w[i].ctype);
        else
            assert_null(p->content_type);
        size_t len = w[i].len ? w[i].len : strlen(w[i].data);
        assert_int_equal(p->size, len);
        unsigned char sum[32];
        sha256(w[i].data, len, sum);
        assert_memory_equal(p->sha256, sum, 32);
        if (p->filename) {
            assert_null(p->value);
            assert_non_null(p->path);
            assert_true(p->fd >= 0);
            assert_int_equal(lseek(p->fd, 0, SEEK_CUR), 0);
            size_t got;
            char *d = slurp(p->fd, &got);
            if (got != len || memcmp(d, w[i].data, len) != 0)
                fail_msg("%s (chunk %zu): part %d content differs", what, chunk, i);
            free(d);
        } else {
            assert_null(p->path);
            assert_int_equal(p->fd, -1);
            assert_int_equal(p->len, len);
            if (memcmp(p->value, w[i].data, len) != 0)
                fail_msg("%s (chunk %zu): part %d value differs", what, chunk, i);
            assert_int_equal(p->value[len], '\0');
        }
    }
    arena_free(a);
    close(fd);
    assert_int_equal(dir_count(), 0); /* temp files gone with the arena */
    multipart_set_chunk_size(0);
}

static const size_t chunks[] = {1, 2, 3, 4, 5, 7, 11, 16, 45, 46, 47, 64, 100, 1000, 0};

static void check_all_chunks(const char *what, const char *ct, const char *body, size_t blen,
                             const struct want *w, int nw)
{
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++)
        check_parse(what, ct, body, blen, w, nw, chunks[i]);
}

/* The exact bytes curl 7.88 sent for
 *   curl -F 'metadata={"name":"x"}' -F 'tarball=@f.bin' -F 'sig=<f.bin'
 * with f.bin holding "hello\r\n--xx". */
static const char curl_body[] = "--" B "\r\n"
                                "Content-Disposition: form-data; name=\"metadata\"\r\n"
                                "\r\n"
                                "{\"name\":\"x\"}\r\n"
                                "--" B "\r\n"
                                "Content-Disposition: form-data; name=\"tarball\"; filename=\"f.bin\"\r\n"
                                "Content-Type: application/octet-stream\r\n"
                                "\r\n"
                                "hello\r\n--xx\r\n"
                                "--" B "\r\n"
                                "Content-Disposition: form-data; name=\"sig\"\r\n"
                                "\r\n"
                                "hello\r\n--xx\r\n"
                                "--" B "--\r\n";

static void test_curl_body(void **state)
{
    (void)state;
    assert_int_equal(sizeof curl_body - 1, 423); /* curl's Content-Length */
    static const struct want w[] = {
        {"metadata", NULL, NULL, "{\"name\":\"x\"}", 0},
        {"tarball", "f.bin", "application/octet-stream", "hello\r\n--xx", 0},
        {"sig", NULL, NULL, "hello\r\n--xx", 0},
    };
    check_all_chunks("curl", CT, curl_body, sizeof curl_body - 1, w, 3);

    /* multipart_get, and a caller taking over a file part. */
    int fd = body_fd(curl_body, sizeof curl_body - 1);
    arena *a = arena_new(0);
    mp_part *parts;
    int n;
    derr e;
    assert_int_equal(multipart_parse(a, fd, sizeof curl_body - 1, CT, tmpdir, NULL, &parts, &n, &e), 0);
    assert_ptr_equal(multipart_get(parts, n, "sig"), &parts[2]);
    assert_ptr_equal(multipart_get(parts, n, "metadata"), &parts[0]);
    assert_null(multipart_get(parts, n, "nope"));
    mp_part *t = &parts[1];
    char kept[256];
    snprintf(kept, sizeof kept, "%s", t->path);
    t->path = NULL; /* taken over; the fd is still the arena's to close */
    arena_free(a);
    struct stat st;
    assert_int_equal(stat(kept, &st), 0);
    assert_int_equal(st.st_size, 11);
    unlink(kept);
    close(fd);
}

#define PAD65 "                                                                 "

/* Syntax a parser must take: quoting, case, padding, preamble, epilogue. */
static void test_syntax_variants(void **state)
{
    (void)state;
    static const struct {
        const char *what, *ct, *body;
        struct want w[3];
        int nw;
    } cases[] = {
        {"quoted boundary with space",
         "multipart/form-data; boundary=\"a b:c\"",
         "--a b:c\r\nContent-Disposition: form-data; name=x\r\n\r\n1\r\n--a b:c--",
         {{"x", NULL, NULL, "1", 0}},
         1},
        {"case and extra params",
         "Multipart/Form-Data ; charset=utf-8; BOUNDARY=zz ;",
         "--zz\r\ncontent-disposition: FORM-DATA; NAME=\"x\"\r\nCONTENT-TYPE: "
         "text/plain\r\n\r\n1\r\n--zz--\r\n",
         {{"x", NULL, "text/plain", "1", 0}},
         1},
        {"preamble and epilogue",
         "multipart/form-data; boundary=q",
         "This is a preamble --q\r\n--qnot it\r\n--q \r\nContent-Disposition: form-data; "
         "name=\"a\"\r\n\r\nA\r\n--q--\r\nepilogue --q\r\n",
         {{"a", NULL, NULL, "A", 0}},
         1},
        {"padding after boundary",
         "multipart/form-data; boundary=q",
         "--q \t \r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nA\r\n--q\t\r\nContent-Disposition: "
         "form-data; name=\"b\"\r\n\r\nB\r\n--q--",
         {{"a", NULL, NULL, "A", 0}, {"b", NULL, NULL, "B", 0}},
         2},
        {"escapes in quoted strings",
         "multipart/form-data; boundary=q",
         "--q\r\nContent-Disposition: form-data; name=\"a\\\"b\"; filename=\"C:\\\\x\\\\\\\"y\\\".txt\"; "
         "filename*=UTF-8''z\r\n\r\nZ\r\n--q--",
         {{"a\"b", "C:\\x\\\"y\".txt", NULL, "Z", 0}},
         1},
        {"empty values and empty filename",
         "multipart/form-data; boundary=q",
         "--q\r\nContent-Disposition: form-data; name=\"e\"\r\n\r\n\r\n--q\r\nContent-Disposition: "
         "form-data; name=\"f\"; filename=\"\"\r\nContent-Type: application/octet-stream\r\n\r\n\r\n--q--",
         {{"e", NULL, NULL, "", 0}, {"f", "", "application/octet-stream", "", 0}},
         2},
        {"unknown headers, space before colon",
         "multipart/form-data; boundary=q",
         "--q\r\nX-Thing: y\r\nContent-Disposition : form-data;name=\"a\";  \r\nContent-Transfer-Encoding: "
         "binary\r\n\r\nA\r\n--q--",
         {{"a", NULL, NULL, "A", 0}},
         1},
        {"utf-8 names",
         "multipart/form-data; boundary=q",
         "--q\r\nContent-Disposition: form-data; name=\"\xc3\xa9t\xc3\xa9\"; "
         "filename=\"\xe2\x82\xac.txt\"\r\n\r\nx\r\n--q--",
         {{"\xc3\xa9t\xc3\xa9", "\xe2\x82\xac.txt", NULL, "x", 0}},
         1},
        {"content that looks like a boundary",
         "multipart/form-data; boundary=q",
         "--q\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\r\n--qq\r\n--q "
         "x\r\n-\r\n--\r\r\n\n\r\n--q\r\n"
         "Content-Disposition: form-data; name=\"b\"\r\n\r\n--q\r\n--q--",
         {{"a", NULL, NULL, "\r\n--qq\r\n--q x\r\n-\r\n--\r\r\n\n", 0}, {"b", NULL, NULL, "--q", 0}},
         2},
        {"no content at all in a part",
         "multipart/form-data; boundary=q",
         "--q\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\r\n--q--",
         {{"a", NULL, NULL, "", 0}},
         1},
        {"zero parts", "multipart/form-data; boundary=q", "--q--\r\n", {{0}}, 0},
        /* More than 64 bytes of padding: not a delimiter line, so content. */
        {"long padding is content",
         "multipart/form-data; boundary=q",
         "--q\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nA\r\n--q" PAD65 "\r\nB\r\n--q--",
         {{"a", NULL, NULL, "A\r\n--q" PAD65 "\r\nB", 0}},
         1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_all_chunks(cases[i].what, cases[i].ct, cases[i].body, strlen(cases[i].body), cases[i].w,
                         cases[i].nw);
}

/* A delimiter at every offset around the real 64 KiB read size. */
static void test_around_64k(void **state)
{
    (void)state;
    static const char head[] = "--" B "\r\n"
                               "Content-Disposition: form-data; name=\"tarball\"; filename=\"t.tgz\"\r\n"
                               "\r\n";
    static const char tail[] = "\r\n--" B "--\r\n";
    size_t hl = sizeof head - 1;
    for (int k = -80; k <= 80; k++) {
        size_t clen = 65536 - hl + (size_t)(k + 80) - 80;
        char *content = malloc(clen);
        for (size_t i = 0; i < clen; i++)
            content[i] = (char)('a' + i % 26);
        /* Some near-delimiters right before the real one. */
        if (clen > 100)
            memcpy(content + clen - 60, "\r\n--" B "X", 4 + strlen(B) + 1);
        size_t blen = hl + clen + sizeof tail - 1;
        char *body = malloc(blen);
        memcpy(body, head, hl);
        memcpy(body + hl, content, clen);
        memcpy(body + hl + clen, tail, sizeof tail - 1);
        struct want w = {"tarball", "t.tgz", NULL, content, clen};
        check_parse("64k", CT, body, blen, &w, 1, 0);
        free(body);
        free(content);
    }
}

static void test_malformed(void **state)
{
    (void)state;
    static const char cd[] = "Content-Disposition: form-data; name=\"a\"\r\n";
    static const struct {
        const char *what, *ct, *body;
        int status;
        const char *msg;
        mp_limits lim;
    } cases[] = {
        {"no content type", NULL, "--q--", 415, "multipart/form-data", {0}},
        {"wrong media type", "application/json", "--q--", 415, "got application/json", {0}},
        {"media type prefix only",
         "multipart/form-datax; boundary=q",
         "--q--",
         415,
         "multipart/form-data",
         {0}},
        {"no boundary", "multipart/form-data", "--q--", 400, "no boundary", {0}},
        {"no boundary, other params", "multipart/form-data; charset=utf-8", "--q--", 400, "no boundary", {0}},
        {"empty boundary", "multipart/form-data; boundary=\"\"", "----", 400, "boundary must be", {0}},
        {"boundary too long",
         "multipart/form-data; "
         "boundary=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         "",
         400,
         "boundary must be",
         {0}},
        {"boundary ends in space",
         "multipart/form-data; boundary=\"a \"",
         "--a --",
         400,
         "boundary must be",
         {0}},
        {"boundary unterminated quote",
         "multipart/form-data; boundary=\"abc",
         "",
         400,
         "malformed parameters",
         {0}},
        {"empty body", "multipart/form-data; boundary=q", "", 400, "no multipart boundary line", {0}},
        {"no delimiter",
         "multipart/form-data; boundary=q",
         "hello world",
         400,
         "no multipart boundary line",
         {0}},
        {"bare LF lines",
         "multipart/form-data; boundary=q",
         "--q\nContent-Disposition: form-data; name=\"a\"\n\nA\n--q--\n",
         400,
         "no multipart boundary line",
         {0}},
        {"missing close",
         "multipart/form-data; boundary=q",
         "--q\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nA",
         400,
         "before the closing boundary",
         {0}},
        {"missing close after delimiter",
         "multipart/form-data; boundary=q",
         "--q\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nA\r\n--q",
         400,
         "before the closing boundary",
         {0}},
        {"missing close after padding",
         "multipart/form-data; boundary=q",
         "--q\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nA\r\n--q  ",
         400,
         "before the closing boundary",
         {0}},
        {"ends in headers",
         "multipart/form-data; boundary=q",
         "--q\r\nContent-Disposition: form-data; name=\"a\"\r\n",
         400,
         "inside the headers of part 1",
         {0}},
        {"no headers",
         "multipart/form-data; boundary=q",
         "--q\r\n\r\nA\r\n--q--",
         400,
         "part 1 has no Content-Disposition",
         {0}},
        {"no disposition",
         "multipart/form-data; boundary=q",
         "--q\r\nContent-Type: text/plain\r\n\r\nA\r\n--q--",
         400,
         "no Content-Disposition",
         {0}},
        {"not form-data",
         "multipart/form-data; boundary=q",
         "--q\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nA\r\n--q--",
         400,
         "must be form-data",
         {0}},
        {"no name",
         "multipart/form-data; boundary=q",
         "--q\r\nContent-Disposition: form-data; filename=\"a\"\r\n\r\nA\r\n--q--",
         400,
         "has no name",
         {0}},
        {"unterminated quote",
         "multipart/form-data; boundary=q",
         "--q\r\nContent-Disposition: form-data; name=\"a\r\n\r\nA\r\n--q--",
         400,
         "malformed Content-Disposition",
         {0}},
        {"repeated name",
         "multipart/form-data; boundary=q",
         "--q\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\nA\r\n--q--",
         400,
         "repeats a parameter",
         {0}},
        {"two dispositions",
         "multipart/form-data; boundary=q",
         "--q\r\nContent-Disposition: form-data; name=a\r\n"
         "Content-Disposition: form-data; name=b\r\n\r\nA\r\n--q--",
         400,
         "two Content-Disposition",
         {0}},
        {"header without colon",
         "multipart/form-data; boundary=q",
         "--q\r\nContent-Disposition: form-data; name=a\r\nOops\r\n\r\nA\r\n--q--",
         400,
         "has no ':'",
         {0}},
        {"bare LF in header",
         "multipart/form-data; boundary=q",
         "--q\r\nContent-Disposition: form-data; name=a\nX: y\r\n\r\nA\r\n--q--",
         400,
         "control character",
         {0}},
        {"folded header",
         "multipart/form-data; boundary=q",
         "--q\r\nContent-Disposition: form-data;\r\n name=a\r\n\r\nA\r\n--q--",
         400,
         "folded",
         {0}},
        {"second part broken",
         "multipart/form-data; boundary=q",
         "--q\r\nContent-Disposition: form-data; name=\"ok\"\r\n\r\nA\r\n--q\r\nContent-Disposition: "
         "form-data\r\n\r\nB\r\n--q--",
         400,
         "part 2: Content-Disposition has no name",
         {0}},
        {"header too long",
         "multipart/form-data; boundary=q",
         "--q\r\nContent-Disposition: form-data; "
         "name=\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\r\n\r\nA\r\n--q--",
         400,
         "part header is longer than 40 bytes",
         {.max_header = 40}},
        {"header too long, unterminated",
         "multipart/form-data; boundary=q",
         "--q\r\nContent-Disposition: form-data; name=\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         400,
         "part header is longer than 40 bytes",
         {.max_header = 40}},
        {"too many parts",
         "multipart/form-data; boundary=q",
         "--q\r\nContent-Disposition: form-data; name=a\r\n\r\nA\r\n--q\r\nContent-Disposition: form-data; "
         "name=b\r\n\r\n"
         "B\r\n--q\r\nContent-Disposition: form-data; name=c\r\n\r\nC\r\n--q--",
         400,
         "more than 2 parts",
         {.max_parts = 2}},
        {"field too large",
         "multipart/form-data; boundary=q",
         "--q\r\nContent-Disposition: form-data; name=\"meta\"\r\n\r\n0123456789A\r\n--q--",
         413,
         "part 1 ('meta') is larger than 10 bytes",
         {.max_field = 10}},
        {"file too large",
         "multipart/form-data; boundary=q",
         "--q\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--q\r\n"
         "Content-Disposition: form-data; name=\"t\"; filename=\"t\"\r\n\r\n0123456789A\r\n--q--",
         413,
         "part 2 ('t') is larger than 10 bytes",
         {.max_file = 10}},
    };
    (void)cd;
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        multipart_set_chunk_size(chunks[c]);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            size_t blen = strlen(cases[i].body);
            int fd = body_fd(cases[i].body, blen);
            arena *a = arena_new(0);
            mp_part *parts = (mp_part *)1;
            int n = 99;
            derr e;
            derr_clear(&e);
            if (multipart_parse(a, fd, blen, cases[i].ct, tmpdir, &cases[i].lim, &parts, &n, &e) != -1)
                fail_msg("%s: accepted", cases[i].what);
            if (e.status != cases[i].status || !strstr(e.message, cases[i].msg))
                fail_msg("%s (chunk %zu): got %d \"%s\", want %d \"%s\"", cases[i].what, chunks[c], e.status,
                         e.message, cases[i].status, cases[i].msg);
            assert_null(parts);
            assert_int_equal(n, 0);
            assert_int_equal(dir_count(), 0); /* nothing left behind, even before the arena goes */
            arena_free(a);
            close(fd);
        }
    }
    multipart_set_chunk_size(0);
}

/* The body file shorter than the length the caller gives: an internal error. */
static void test_short_file(void **state)
{
    (void)state;
    int fd = body_fd(curl_body, 100);
    arena *a = arena_new(0);
    mp_part *parts;
    int n;
    derr e;
    assert_int_equal(multipart_parse(a, fd, sizeof curl_body - 1, CT, tmpdir, NULL, &parts, &n, &e), -1);
    assert_int_equal(e.status, 500);
    arena_free(a);
    close(fd);
    /* An unwritable tmp dir for a file part: 500, no detail of the path. */
    fd = body_fd(curl_body, sizeof curl_body - 1);
    a = arena_new(0);
    assert_int_equal(
        multipart_parse(a, fd, sizeof curl_body - 1, CT, "/nonexistent-dir", NULL, &parts, &n, &e), -1);
    assert_int_equal(e.status, 500);
    assert_null(strstr(e.message, "nonexistent"));
    arena_free(a);
    close(fd);
}

/* Random parts with random bytes, biased toward CR, LF, '-' and boundary
 * pieces, built into a body and parsed back at random read sizes. */
static void test_random_roundtrip(void **state)
{
    (void)state;
    srand(12345);
    static const char bnd[] = "XyZ-42";
    static const char alphabet[] = "\r\n-XyZ42 a";
    for (int round = 0; round < 300; round++) {
        int np = rand() % 6;
        struct want w[6];
        char *datas[6];
        char *body = malloc(1 << 20);
        size_t bl = 0;
        if (rand() % 2)
            bl += (size_t)snprintf(body + bl, 64, "preamble --%s not\r\n", bnd);
        for (int i = 0; i < np; i++) {
            size_t len = (size_t)(rand() % 3 ? rand() % 40 : rand() % 5000);
            char *d = malloc(len + 1);
            for (size_t k = 0; k < len; k++)
                d[k] = rand() % 4 ? alphabet[rand() % (sizeof alphabet - 1)] : (char)rand();
            /* Occasionally a near-boundary: the delimiter with a wrong tail. */
            if (len > 20 && rand() % 2)
                memcpy(d + rand() % (len - 12), "\r\n--XyZ-42x", 11);
            datas[i] = d;
            bool file = rand() % 2;
            char *name = malloc(16);
            snprintf(name, 16, "p%d", i);
            w[i] =
                (struct want){name, file ? "f.bin" : NULL, file ? "application/octet-stream" : NULL, d, len};
            bl += (size_t)snprintf(body + bl, 256,
                                   "--%s%s\r\nContent-Disposition: form-data; name=\"%s\"%s\r\n%s\r\n", bnd,
                                   rand() % 4 ? "" : "  ", name, file ? "; filename=\"f.bin\"" : "",
                                   file ? "Content-Type: application/octet-stream\r\n" : "");
            memcpy(body + bl, d, len);
            bl += len;
            memcpy(body + bl, "\r\n", 2);
            bl += 2;
        }
        bl += (size_t)snprintf(body + bl, 64, "--%s--%s", bnd, rand() % 2 ? "\r\nepilogue" : "");
        char ct[64];
        snprintf(ct, sizeof ct, "multipart/form-data; boundary=%s", bnd);
        /* check_parse wants len != 0 to mean the length; give empty data a
         * length via the data pointer's strlen (""), which is 0 too. */
        for (int i = 0; i < np; i++)
            if (w[i].len == 0)
                w[i].data = "";
        size_t chunk = (size_t)(rand() % 3 ? rand() % 64 + 1 : rand() % 70000 + 1);
        check_parse("random", ct, body, bl, w, np, chunk);
        for (int i = 0; i < np; i++) {
            free(datas[i]);
            free((char *)w[i].name);
        }
        free(body);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_curl_body),  cmocka_unit_test(test_syntax_variants),
        cmocka_unit_test(test_around_64k), cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_short_file), cmocka_unit_test(test_random_roundtrip),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
