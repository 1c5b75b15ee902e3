/*
 * test_s3.c — src/blob/s3.c against a real S3-compatible server (s3rver, started by
 * tests/harness/s3.py, which sets DEPOT_TEST_S3_URL and DEPOT_TEST_S3_VHOST_URL). Without
 * DEPOT_TEST_S3_URL every test is skipped (`make unit` runs it so; `make s3-unit` runs it with a
 * server). Each run keeps its objects under a prefix of its own.
 *
 * The contract of blob.h as test_file.c checks it for the folder store (put and open, idempotent
 * puts, the checksum check, absent blobs, removal, bad keys, check), and what only a remote store
 * has: streamed reads that wait for bytes, the size for HEAD, presigned URLs, virtual-host
 * addressing, an object whose bytes do not match its key (never handed out whole), and a store
 * that cannot be reached (503 after the retries). Without a server too: retries and backoff
 * against a scripted one (5xx and 429 again, 4xx final), the exact requests a put makes, and
 * URLs the store refuses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "blob/blob.h"
#include "lib/buf.h"
#include "lib/crypto.h"
#include "lib/sigv4.h"

static char g_url[2048], g_vhost[2048], g_tmp[256];

struct fx {
    blob_store *b;
    char dir[512]; /* where the test writes its source files */
};

/* base URL + "/PREFIX" after the bucket + "&EXTRA" options. */
static void make_url(const char *base, const char *extra, char *out, size_t cap)
{
    const char *q = strchr(base, '?');
    static unsigned run;
    if (!run) {
        unsigned char r[4];
        random_bytes(r, sizeof r);
        run = (unsigned)r[0] << 24 | (unsigned)r[1] << 16 | (unsigned)r[2] << 8 | r[3];
    }
    snprintf(out, cap, "%.*s/run-%08x%s&tmp=%s%s%s", (int)(q - base), base, run, q, g_tmp, extra && *extra ? "&" : "",
             extra ? extra : "");
}

static int group_setup(void **state)
{
    (void)state;
    if (crypto_init() < 0)
        return -1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    snprintf(g_tmp, sizeof g_tmp, "/tmp/depot-test-s3-XXXXXX");
    if (!mkdtemp(g_tmp))
        return -1;
    const char *u = getenv("DEPOT_TEST_S3_URL");
    if (!u || !*u)
        return 0;
    make_url(u, "", g_url, sizeof g_url);
    const char *v = getenv("DEPOT_TEST_S3_VHOST_URL");
    if (v && *v)
        make_url(v, "", g_vhost, sizeof g_vhost);
    return 0;
}

static int setup(void **state)
{
    if (!g_url[0]) {
        *state = NULL;
        return 0;
    }
    struct fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "%s/src-XXXXXX", g_tmp);
    if (!mkdtemp(f->dir))
        return -1;
    derr e;
    f->b = blob_open(g_url, &e);
    if (!f->b) {
        fprintf(stderr, "blob_open: %s\n", e.message);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (!f)
        return 0;
    blob_call(f->b, close);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

#define NEED_S3(f)                                                                                           \
    do {                                                                                                     \
        if (!(f))                                                                                            \
            skip();                                                                                          \
    } while (0)

/* Writes n bytes to a new file in the fixture's folder; its path into path, its hash into hex. */
static void write_src(struct fx *f, const void *p, size_t n, char path[600], char hex[65])
{
    static int seq;
    snprintf(path, 600, "%s/f%d", f->dir, ++seq);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, p, n), (ssize_t)n);
    close(fd);
    sha256_hex(p, n, hex);
}

static void random_text(char *p, size_t n)
{
    unsigned char r[64];
    for (size_t i = 0; i < n; i++) {
        if (i % sizeof r == 0)
            random_bytes(r, sizeof r);
        p[i] = (char)('a' + r[i % sizeof r] % 26);
    }
}

/* Reads an fd whole. */
static char *slurp_fd(int fd, size_t *n)
{
    buf b;
    buf_init(&b, 0);
    char chunk[8192];
    ssize_t got;
    while ((got = read(fd, chunk, sizeof chunk)) > 0)
        buf_append(&b, chunk, (size_t)got);
    *n = b.len;
    return b.data ? b.data : calloc(1, 1);
}

/* Reads a stream the way the HTTP layer does: what has arrived, then wait for a wake-up. Returns
 * the bytes; *last is the last read's result (BLOB_STREAM_END or BLOB_STREAM_ERROR). */
struct waker {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int woken;
};

static void wake(void *arg)
{
    struct waker *w = arg;
    pthread_mutex_lock(&w->mu);
    w->woken = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static char *slurp_stream(blob_stream *s, size_t piece, size_t *n, long *last)
{
    struct waker w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    buf b;
    buf_init(&b, 0);
    char *chunk = malloc(piece);
    for (;;) {
        long got = s->ops->read(s, b.len, chunk, piece);
        if (got > 0) {
            buf_append(&b, chunk, (size_t)got);
            continue;
        }
        if (got < 0) {
            *last = got;
            break;
        }
        pthread_mutex_lock(&w.mu);
        w.woken = 0;
        pthread_mutex_unlock(&w.mu);
        if (s->ops->wait(s, b.len, wake, &w) == 0) {
            pthread_mutex_lock(&w.mu);
            while (!w.woken)
                pthread_cond_wait(&w.cv, &w.mu);
            pthread_mutex_unlock(&w.mu);
        }
    }
    free(chunk);
    *n = b.len;
    return b.data ? b.data : calloc(1, 1);
}

static size_t to_buf(char *p, size_t sz, size_t n, void *arg)
{
    buf_append(arg, p, sz * n);
    return sz * n;
}

/* ---- the contract ---- */

static void test_put_open(void **state)
{
    struct fx *f = *state;
    NEED_S3(f);
    const char text[] = "hello, bucket";
    char path[600], hex[65];
    write_src(f, text, strlen(text), path, hex);
    derr e;
    assert_int_equal(blob_call(f->b, exists, hex, &e), 0);
    assert_int_equal(blob_call(f->b, put_file, hex, path, &e), 0);
    assert_int_equal(access(path, F_OK), 0); /* S3 copies; the caller removes its file */
    assert_int_equal(blob_call(f->b, exists, hex, &e), 1);

    blob_reader r;
    assert_int_equal(blob_call(f->b, open, hex, &r, &e), 0);
    assert_int_equal(r.size, strlen(text));
    size_t n;
    char *got = slurp_fd(r.fd, &n);
    close(r.fd);
    assert_int_equal(n, strlen(text));
    assert_memory_equal(got, text, n);
    free(got);

    /* For a client: a stream, read to the end. */
    assert_int_equal(blob_open_send(f->b, hex, 0, &r, &e), 0);
    assert_int_equal(r.kind, BLOB_READER_STREAM);
    assert_int_equal(r.size, strlen(text));
    long last;
    got = slurp_stream(r.stream, 4, &n, &last);
    assert_int_equal(last, BLOB_STREAM_END);
    assert_int_equal(n, strlen(text));
    assert_memory_equal(got, text, n);
    free(got);
    blob_reader_close(&r);

    /* HEAD: the size only. */
    assert_int_equal(blob_open_send(f->b, hex, BLOB_SEND_HEAD, &r, &e), 0);
    assert_int_equal(r.kind, BLOB_READER_STREAM);
    assert_int_equal(r.size, strlen(text));
    blob_reader_close(&r);
}

static void test_put_twice(void **state)
{
    struct fx *f = *state;
    NEED_S3(f);
    char text[300];
    random_text(text, sizeof text);
    char path[600], hex[65];
    write_src(f, text, sizeof text, path, hex);
    derr e;
    assert_int_equal(blob_call(f->b, put_file, hex, path, &e), 0);
    assert_int_equal(blob_call(f->b, put_file, hex, path, &e), 0);
    assert_int_equal(blob_call(f->b, exists, hex, &e), 1);
}

static void test_wrong_hash(void **state)
{
    struct fx *f = *state;
    NEED_S3(f);
    char path[600], hex[65], other[65];
    write_src(f, "content", 7, path, hex);
    sha256_hex("something else", 14, other);
    derr e;
    assert_int_equal(blob_call(f->b, put_file, other, path, &e), -1);
    assert_int_equal(e.status, 400);
    assert_string_equal(e.code, "checksum_mismatch");
    assert_int_equal(blob_call(f->b, exists, other, &e), 0);
    char missing[600];
    snprintf(missing, sizeof missing, "%s/none", f->dir);
    assert_int_equal(blob_call(f->b, put_file, hex, missing, &e), -1);
    assert_int_equal(e.status, 500);
    assert_int_equal(blob_call(f->b, exists, hex, &e), 0);
}

static void test_absent(void **state)
{
    struct fx *f = *state;
    NEED_S3(f);
    char hex[65];
    sha256_hex("never stored", 12, hex);
    derr e;
    blob_reader r;
    assert_int_equal(blob_call(f->b, open, hex, &r, &e), -1);
    assert_int_equal(e.status, 404);
    assert_string_equal(e.code, "not_found");
    assert_int_equal(blob_open_send(f->b, hex, 0, &r, &e), -1);
    assert_int_equal(e.status, 404);
    assert_int_equal(blob_open_send(f->b, hex, BLOB_SEND_HEAD, &r, &e), -1);
    assert_int_equal(e.status, 404);
    assert_int_equal(blob_call(f->b, exists, hex, &e), 0);
    assert_int_equal(blob_call(f->b, remove, hex, &e), 0);
}

static void test_remove(void **state)
{
    struct fx *f = *state;
    NEED_S3(f);
    char path[600], hex[65];
    write_src(f, "to be removed", 13, path, hex);
    derr e;
    assert_int_equal(blob_call(f->b, put_file, hex, path, &e), 0);
    blob_reader r;
    assert_int_equal(blob_call(f->b, open, hex, &r, &e), 0); /* now in the local cache too */
    close(r.fd);
    assert_int_equal(blob_call(f->b, remove, hex, &e), 0);
    assert_int_equal(blob_call(f->b, exists, hex, &e), 0);
    assert_int_equal(blob_call(f->b, open, hex, &r, &e), -1);
    assert_int_equal(e.status, 404);
}

static void test_bad_keys(void **state)
{
    struct fx *f = *state;
    NEED_S3(f);
    const char *bad[] = {"", "abc", "../../../../etc/passwd",
                         "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789",
                         "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg"};
    derr e;
    blob_reader r;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(blob_call(f->b, exists, bad[i], &e), -1);
        assert_string_equal(e.code, "bad_key");
        assert_int_equal(blob_call(f->b, open, bad[i], &r, &e), -1);
        assert_int_equal(e.status, 400);
        assert_int_equal(blob_open_send(f->b, bad[i], BLOB_SEND_REDIRECT, &r, &e), -1);
        assert_int_equal(blob_call(f->b, remove, bad[i], &e), -1);
        assert_int_equal(blob_call(f->b, put_file, bad[i], "/nonexistent", &e), -1);
        assert_string_equal(e.code, "bad_key");
    }
}

static void test_check_and_tmp(void **state)
{
    struct fx *f = *state;
    NEED_S3(f);
    derr e;
    assert_int_equal(blob_call(f->b, check, &e), 0);
    assert_true(blob_call(f->b, tmp_dir) != NULL);
    assert_true(f->b->ops->remote);

    /* A bucket that does not exist fails the check. */
    char url[2400];
    const char *q = strchr(g_url, '?');
    snprintf(url, sizeof url, "s3://no-such-bucket-here%s", q);
    blob_store *nb = blob_open(url, &e);
    assert_non_null(nb);
    assert_int_equal(blob_call(nb, check, &e), -1);
    assert_int_equal(e.status, 500);
    blob_call(nb, close);
}

/* ---- what only a remote store has ---- */

static void test_large_stream_shared(void **state)
{
    struct fx *f = *state;
    NEED_S3(f);
    size_t n = 3u << 20;
    char *data = malloc(n);
    random_text(data, n);
    char path[600], hex[65];
    write_src(f, data, n, path, hex);
    derr e;
    assert_int_equal(blob_call(f->b, put_file, hex, path, &e), 0);

    /* Two readers at once share one fetch; each reads at its own pace. */
    blob_reader r1, r2;
    assert_int_equal(blob_open_send(f->b, hex, 0, &r1, &e), 0);
    assert_int_equal(blob_open_send(f->b, hex, 0, &r2, &e), 0);
    assert_int_equal(r1.size, n);
    assert_int_equal(r2.size, n);
    size_t n1, n2;
    long last1, last2;
    char *g1 = slurp_stream(r1.stream, 1000, &n1, &last1);
    char *g2 = slurp_stream(r2.stream, 65536, &n2, &last2);
    assert_int_equal(last1, BLOB_STREAM_END);
    assert_int_equal(last2, BLOB_STREAM_END);
    assert_int_equal(n1, n);
    assert_int_equal(n2, n);
    assert_memory_equal(g1, data, n);
    assert_memory_equal(g2, data, n);
    blob_reader_close(&r1);
    blob_reader_close(&r2);
    free(g1);
    free(g2);
    free(data);
}

static void test_presign(void **state)
{
    struct fx *f = *state;
    NEED_S3(f);
    const char text[] = "fetched by the client itself";
    char path[600], hex[65];
    write_src(f, text, strlen(text), path, hex);
    derr e;
    assert_int_equal(blob_call(f->b, put_file, hex, path, &e), 0);
    blob_reader r;
    assert_int_equal(blob_open_send(f->b, hex, BLOB_SEND_REDIRECT, &r, &e), 0);
    assert_int_equal(r.kind, BLOB_READER_REDIRECT);
    assert_non_null(strstr(r.url, "X-Amz-Signature="));
    assert_non_null(strstr(r.url, hex));
    CURL *c = curl_easy_init();
    buf body;
    buf_init(&body, 0);
    curl_easy_setopt(c, CURLOPT_URL, r.url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, to_buf);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    long st;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
    assert_int_equal(st, 200);
    assert_int_equal(body.len, strlen(text));
    assert_memory_equal(body.data, text, body.len);
    curl_easy_cleanup(c);
    buf_free(&body);
    blob_reader_close(&r);
}

static void test_virtual_host(void **state)
{
    struct fx *f = *state;
    NEED_S3(f);
    if (!g_vhost[0])
        skip();
    derr e;
    blob_store *v = blob_open(g_vhost, &e);
    assert_non_null(v);
    assert_int_equal(blob_call(v, check, &e), 0);
    const char text[] = "addressed as BUCKET.s3.localhost";
    char path[600], hex[65];
    write_src(f, text, strlen(text), path, hex);
    assert_int_equal(blob_call(v, put_file, hex, path, &e), 0);
    /* The same object through path-style addressing. */
    assert_int_equal(blob_call(f->b, exists, hex, &e), 1);
    blob_reader r;
    assert_int_equal(blob_call(v, open, hex, &r, &e), 0);
    size_t n;
    char *got = slurp_fd(r.fd, &n);
    close(r.fd);
    assert_int_equal(n, strlen(text));
    assert_memory_equal(got, text, n);
    free(got);
    blob_call(v, close);
}

/* PUTs bytes under an object key of our choosing, around the store's own checks. */
static void raw_put_key(const char *key, const char *data, size_t n)
{
    const char *ep = strstr(g_url, "endpoint=");
    assert_non_null(ep);
    ep += 9;
    char endpoint[256];
    snprintf(endpoint, sizeof endpoint, "%.*s", (int)strcspn(ep, "&"), ep);
    const char *b = g_url + 5;
    char uri[512], url[800];
    size_t bl = strcspn(b, "?");
    snprintf(uri, sizeof uri, "/%.*s/%s", (int)strcspn(b, "/?") < (int)bl ? (int)strcspn(b, "/?") : (int)bl, b,
             key);
    snprintf(url, sizeof url, "%s%s", endpoint, uri);
    char date[17], phash[65];
    sigv4_amz_date((long long)time(NULL), date);
    sha256_hex(data, n, phash);
    const char *host = endpoint + 7;
    sigv4_header h[] = {{"host", host}, {"x-amz-content-sha256", phash}, {"x-amz-date", date}};
    sigv4_params p = {"S3RVER", "S3RVER", "us-east-1", "s3", date};
    buf auth, l1, l2;
    buf_init(&auth, 0);
    buf_init(&l1, 0);
    buf_init(&l2, 0);
    buf_puts(&auth, "Authorization: ");
    sigv4_authorization(&auth, &p, "PUT", uri, "", h, 3, phash);
    buf_printf(&l1, "x-amz-content-sha256: %s", phash);
    buf_printf(&l2, "x-amz-date: %s", date);
    struct curl_slist *hl = curl_slist_append(NULL, auth.data);
    hl = curl_slist_append(hl, l1.data);
    hl = curl_slist_append(hl, l2.data);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, data);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)n);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    buf body;
    buf_init(&body, 0);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, to_buf);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    long st;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
    assert_int_equal(st, 200);
    curl_easy_cleanup(c);
    curl_slist_free_all(hl);
    buf_free(&auth);
    buf_free(&l1);
    buf_free(&l2);
    buf_free(&body);
}

static void test_corrupt_object(void **state)
{
    struct fx *f = *state;
    NEED_S3(f);
    char hex[65], prefixed[16];
    char good[5000], bad[5000];
    random_text(good, sizeof good);
    memcpy(bad, good, sizeof bad);
    bad[sizeof bad - 1] ^= 1; /* the very last byte differs */
    sha256_hex(good, sizeof good, hex);
    /* The store keeps this run's objects under run-XXXXXXXX/ab/cd/hex. */
    const char *run = strstr(g_url, "/run-");
    snprintf(prefixed, sizeof prefixed, "%.12s", run + 1);
    char key[200];
    snprintf(key, sizeof key, "%s/%.2s/%.2s/%s", prefixed, hex, hex + 2, hex);
    raw_put_key(key, bad, sizeof bad);

    derr e;
    blob_reader r;
    assert_int_equal(blob_call(f->b, open, hex, &r, &e), -1);
    assert_int_equal(e.status, 500);
    /* For a client: refused at once when the fetch is over before the answer starts, else a
     * stream that fails before its last byte. Never the whole (wrong) blob. */
    if (blob_open_send(f->b, hex, 0, &r, &e) < 0) {
        assert_int_equal(e.status, 500);
        return;
    }
    size_t n;
    long last;
    char *got = slurp_stream(r.stream, 1024, &n, &last);
    assert_int_equal(last, BLOB_STREAM_ERROR);
    assert_true(n < sizeof good);
    free(got);
    blob_reader_close(&r);
}

static void test_unreachable(void **state)
{
    (void)state;
    /* A port nothing listens on (bound, never listened). */
    char url[1024];
    snprintf(url, sizeof url, "s3://depot-test?endpoint=http://127.0.0.1:9&access_key=a&secret_key=TOPSECRETVALUE&retries=1&tmp=%s",
             g_tmp);
    derr e;
    blob_store *b = blob_open(url, &e);
    assert_non_null(b);
    char hex[65];
    sha256_hex("x", 1, hex);
    char path[512];
    snprintf(path, sizeof path, "%s/unreach", g_tmp);
    FILE *fp = fopen(path, "w");
    fputc('x', fp);
    fclose(fp);
    assert_int_equal(blob_call(b, put_file, hex, path, &e), -1);
    assert_int_equal(e.status, 503);
    assert_string_equal(e.code, "unavailable");
    assert_int_equal(blob_call(b, exists, hex, &e), -1);
    assert_int_equal(e.status, 503);
    assert_int_equal(blob_call(b, check, &e), -1);
    assert_int_equal(e.status, 503);
    blob_reader r;
    assert_int_equal(blob_call(b, open, hex, &r, &e), -1);
    assert_int_equal(e.status, 503);
    assert_int_equal(blob_open_send(b, hex, 0, &r, &e), -1);
    assert_int_equal(e.status, 503);
    blob_call(b, close);
    unlink(path);
}

/* ---- a scripted server: what the store sends, and what it does with each answer ---- */

struct script {
    int lfd, port;
    const int *statuses; /* one per connection; the last repeats */
    int nstatuses;
    int served;
    buf heads[8]; /* the first requests' heads and bodies, for the test to read */
    buf bodies[8];
    pthread_t th;
};

static void *script_run(void *arg)
{
    struct script *sc = arg;
    for (;;) {
        int c = accept(sc->lfd, NULL, NULL);
        if (c < 0)
            return NULL;
        int i = sc->served;
        buf in;
        buf_init(&in, 0);
        char chunk[4096];
        const char *end = NULL;
        while (!end) {
            ssize_t n = read(c, chunk, sizeof chunk);
            if (n <= 0)
                break;
            buf_append(&in, chunk, (size_t)n);
            end = strstr(in.data, "\r\n\r\n");
        }
        if (end) {
            size_t head = (size_t)(end - in.data) + 4;
            const char *cl = strcasestr(in.data, "\ncontent-length:");
            size_t want = cl && cl < end ? (size_t)strtoul(cl + 16, NULL, 10) : 0;
            if (strcasestr(in.data, "\nexpect: 100-continue") && want) {
                const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
                if (write(c, cont, sizeof cont - 1) < 0)
                    want = 0; /* the client went away */
            }
            while (in.len - head < want) {
                ssize_t n = read(c, chunk, sizeof chunk);
                if (n <= 0)
                    break;
                buf_append(&in, chunk, (size_t)n);
            }
            if (i < 8) {
                buf_init(&sc->heads[i], 0);
                buf_append(&sc->heads[i], in.data, head);
                buf_init(&sc->bodies[i], 0);
                buf_append(&sc->bodies[i], in.data + head, in.len - head);
            }
        }
        int st = sc->statuses[i < sc->nstatuses ? i : sc->nstatuses - 1];
        char out[256];
        int n = snprintf(out, sizeof out,
                         "HTTP/1.1 %d X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", st);
        if (write(c, out, (size_t)n) < 0) {
            /* the client went away: fine */
        }
        close(c);
        buf_free(&in);
        __atomic_store_n(&sc->served, i + 1, __ATOMIC_SEQ_CST);
    }
}

static void script_start(struct script *sc, const int *statuses, int n)
{
    memset(sc, 0, sizeof *sc);
    sc->statuses = statuses;
    sc->nstatuses = n;
    sc->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    assert_int_equal(bind(sc->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(sc->lfd, 16), 0);
    getsockname(sc->lfd, (struct sockaddr *)&a, &al);
    sc->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&sc->th, NULL, script_run, sc), 0);
}

/* Stops the server; what it recorded stays readable until script_free. */
static void script_stop(struct script *sc)
{
    shutdown(sc->lfd, SHUT_RDWR);
    close(sc->lfd);
    pthread_join(sc->th, NULL);
}

static void script_free(struct script *sc)
{
    for (int i = 0; i < 8 && i < sc->served; i++) {
        buf_free(&sc->heads[i]);
        buf_free(&sc->bodies[i]);
    }
}

static blob_store *script_store(struct script *sc, const char *extra)
{
    char url[1024];
    snprintf(url, sizeof url,
             "s3://bkt/pre?endpoint=http://127.0.0.1:%d&region=eu-west-3&access_key=AK&secret_key=SK&tmp=%s%s",
             sc->port, g_tmp, extra);
    derr e;
    blob_store *b = blob_open(url, &e);
    assert_non_null(b);
    return b;
}

/* 5xx and 429 are tried again with backoff; 4xx are final; 404 is an answer. */
static void test_retries(void **state)
{
    (void)state;
    char hex[65];
    sha256_hex("r", 1, hex);
    derr e;
    struct sc_case {
        int statuses[4];
        int n;
        const char *extra;
        int want_rc, want_status, want_served;
    } cases[] = {
        {{503, 500, 200}, 3, "", 1, 0, 3},              /* two failures, then there */
        {{429, 404}, 2, "", 0, 0, 2},                   /* slow down, then absent */
        {{502, 503, 504, 500}, 4, "&retries=2", -1, 503, 3}, /* gives up after 1 + 2 tries */
        {{403}, 1, "", -1, 500, 1},                     /* refused: no retry, not our client's fault */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct script sc;
        script_start(&sc, cases[i].statuses, cases[i].n);
        blob_store *b = script_store(&sc, cases[i].extra);
        int rc = blob_call(b, exists, hex, &e);
        assert_int_equal(rc, cases[i].want_rc);
        if (rc < 0)
            assert_int_equal(e.status, cases[i].want_status);
        blob_call(b, close);
        script_stop(&sc);
        script_free(&sc);
        if (sc.served != cases[i].want_served)
            fail_msg("case %zu: %d requests, expected %d", i, sc.served, cases[i].want_served);
    }

    /* A GET for a download is tried again too, before any byte went out. */
    static const int get_st[] = {503, 404};
    struct script sc;
    script_start(&sc, get_st, 2);
    blob_store *b = script_store(&sc, "");
    blob_reader r;
    assert_int_equal(blob_open_send(b, hex, 0, &r, &e), -1);
    assert_int_equal(e.status, 404);
    blob_call(b, close);
    script_stop(&sc);
    script_free(&sc);
    assert_int_equal(sc.served, 2);
}

/* What a put sends: HEAD first, then the PUT of the file's bytes with their real SHA-256 in
 * x-amz-content-sha256, signed for the region, to PREFIX/ab/cd/HEX (path style). */
static void test_put_request(void **state)
{
    (void)state;
    static const int st[] = {404, 200};
    struct script sc;
    script_start(&sc, st, 2);
    blob_store *b = script_store(&sc, "");
    char text[3000];
    random_text(text, sizeof text);
    char path[600], hex[65];
    snprintf(path, sizeof path, "%s/put-req", g_tmp);
    FILE *fp = fopen(path, "w");
    fwrite(text, 1, sizeof text, fp);
    fclose(fp);
    sha256_hex(text, sizeof text, hex);
    derr e;
    assert_int_equal(blob_call(b, put_file, hex, path, &e), 0);
    blob_call(b, close);
    script_stop(&sc);
    assert_int_equal(sc.served, 2);
    char line[300];
    snprintf(line, sizeof line, "HEAD /bkt/pre/%.2s/%.2s/%s HTTP/1.1\r\n", hex, hex + 2, hex);
    assert_true(strncmp(sc.heads[0].data, line, strlen(line)) == 0);
    snprintf(line, sizeof line, "PUT /bkt/pre/%.2s/%.2s/%s HTTP/1.1\r\n", hex, hex + 2, hex);
    assert_true(strncmp(sc.heads[1].data, line, strlen(line)) == 0);
    snprintf(line, sizeof line, "x-amz-content-sha256: %s\r\n", hex);
    assert_non_null(strstr(sc.heads[1].data, line));
    assert_non_null(strstr(sc.heads[0].data, "x-amz-content-sha256: " SIGV4_EMPTY_SHA256 "\r\n"));
    assert_non_null(strstr(sc.heads[1].data, "Authorization: AWS4-HMAC-SHA256 Credential=AK/"));
    assert_non_null(strstr(sc.heads[1].data, "/eu-west-3/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature="));
    assert_int_equal(sc.bodies[1].len, sizeof text);
    assert_memory_equal(sc.bodies[1].data, text, sizeof text);
    script_free(&sc);
    unlink(path);
}

static void test_bad_urls(void **state)
{
    (void)state;
    static const char *bad[] = {
        "s3://",
        "s3://ab?endpoint=http://127.0.0.1:1&access_key=a&secret_key=TOPSECRETVALUE",           /* bucket too short */
        "s3://bu cket?endpoint=http://127.0.0.1:1&access_key=a&secret_key=TOPSECRETVALUE",      /* bad bucket */
        "s3://bucket/../x?endpoint=http://127.0.0.1:1&access_key=a&secret_key=TOPSECRETVALUE",  /* bad prefix */
        "s3://bucket?endpoint=ftp://127.0.0.1:1&access_key=a&secret_key=TOPSECRETVALUE",        /* scheme */
        "s3://bucket?endpoint=http://127.0.0.1:1/path&access_key=a&secret_key=TOPSECRETVALUE",  /* a path */
        "s3://bucket?endpoint=http://127.0.0.1:1&access_key=a&secret_key=TOPSECRETVALUE&x=1",   /* unknown option */
        "s3://bucket?endpoint=http://127.0.0.1:1&access_key=a&secret_key=TOPSECRETVALUE&path_style=2",
        "s3://bucket?endpoint=http://127.0.0.1:1&access_key=a&secret_key=TOPSECRETVALUE&retries=-1",
        "s3://bucket?endpoint=http://127.0.0.1:1&access_key=a&secret_key=TOPSECRETVALUE%zz",
        "s3://bucket?endpoint=http://127.0.0.1:1&secret_key=TOPSECRETVALUE", /* no access key (env unset below) */
    };
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        derr e = {0};
        blob_store *b = blob_open(bad[i], &e);
        if (b)
            fail_msg("accepted %s", bad[i]);
        assert_string_equal(e.code, "bad_config");
        assert_null(strstr(e.message, "TOPSECRETVALUE")); /* never echoes a secret */
    }
    /* Credentials from the environment; a '+' in a secret stays a '+'. */
    setenv("AWS_ACCESS_KEY_ID", "AKID", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "se+cr/et", 1);
    derr e;
    char url[600];
    snprintf(url, sizeof url, "s3://bucket/some/prefix/?endpoint=http://127.0.0.1:1&tmp=%s", g_tmp[0] ? g_tmp : "/tmp");
    blob_store *b = blob_open(url, &e);
    assert_non_null(b);
    blob_call(b, close);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_hash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_absent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_and_tmp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_stream_shared, setup, teardown),
        cmocka_unit_test_setup_teardown(test_presign, setup, teardown),
        cmocka_unit_test_setup_teardown(test_virtual_host, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_object, setup, teardown),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_retries),
        cmocka_unit_test(test_put_request),
        cmocka_unit_test(test_bad_urls),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
