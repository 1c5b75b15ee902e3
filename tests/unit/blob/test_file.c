/*
 * test_file.c — src/blob/file.c through the blob_store interface: put then
 * read back, idempotent puts, refused content that does not match its key
 * (and nothing left at the final path), remove, exists, check, key
 * validation, and the layout DIR/ab/cd/<hex>. Each test gets a fresh folder
 * under /tmp, removed afterwards.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob/blob.h"
#include "lib/crypto.h"

struct fixture {
    char root[64]; /* mkdtemp folder; the store is root/blobs */
    blob_store *b;
};

static int setup(void **state)
{
    if (crypto_init() < 0)
        return -1;
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->root, sizeof f->root, "/tmp/depot-blob-test-XXXXXX");
    if (!mkdtemp(f->root))
        return -1;
    char url[128];
    snprintf(url, sizeof url, "file:%s/blobs", f->root);
    derr e;
    derr_clear(&e);
    f->b = blob_open(url, &e);
    if (!f->b) {
        fprintf(stderr, "blob_open: %s\n", e.message);
        return -1;
    }
    *state = f;
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    blob_call(f->b, close);
    nftw(f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* Writes `n` bytes into a new file in the store's tmp folder; its path into `path`. */
static void write_tmp(blob_store *b, const void *p, size_t n, char path[PATH_MAX])
{
    snprintf(path, PATH_MAX, "%s/up-XXXXXX", blob_call(b, tmp_dir));
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, p, n), (ssize_t)n);
    close(fd);
}

/* Entries in a folder, apart from . and .. */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static bool path_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

/* Reads a whole blob back through open(). */
static void read_back(blob_store *b, const char *hex, const void *want, size_t n)
{
    blob_reader r = {.fd = -1};
    derr e;
    assert_int_equal(blob_call(b, open, hex, &r, &e), 0);
    assert_true(r.fd >= 0);
    assert_int_equal(r.size, n);
    unsigned char *got = malloc(n + 1);
    size_t off = 0;
    for (;;) {
        ssize_t k = read(r.fd, got + off, n + 1 - off);
        assert_true(k >= 0);
        if (k == 0)
            break;
        off += (size_t)k;
    }
    assert_int_equal(off, n);
    assert_memory_equal(got, want, n);
    assert_true(fcntl(r.fd, F_GETFD) & FD_CLOEXEC);
    free(got);
    close(r.fd);
}

static void test_put_open(void **state)
{
    struct fixture *f = *state;
    /* Sizes around the 64 KiB read size, and empty. */
    static const size_t sizes[] = {0, 1, 65535, 65536, 65537, 300000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        unsigned char *data = malloc(n ? n : 1);
        for (size_t k = 0; k < n; k++)
            data[k] = (unsigned char)(k * 31 + i);
        char hex[65], path[PATH_MAX];
        sha256_hex(data, n, hex);
        write_tmp(f->b, data, n, path);

        derr e;
        derr_clear(&e);
        assert_int_equal(blob_call(f->b, exists, hex, &e), 0);
        assert_int_equal(blob_call(f->b, put_file, hex, path, &e), 0);
        assert_false(path_exists(path)); /* renamed into place */
        assert_int_equal(blob_call(f->b, exists, hex, &e), 1);
        read_back(f->b, hex, data, n);

        /* The layout: DIR/ab/cd/<hex>. */
        char final[PATH_MAX];
        snprintf(final, sizeof final, "%s/blobs/%.2s/%.2s/%s", f->root, hex, hex + 2, hex);
        assert_true(path_exists(final));
        free(data);
    }
}

static void test_put_twice(void **state)
{
    struct fixture *f = *state;
    const char *text = "the same bytes twice";
    char hex[65], p1[PATH_MAX], p2[PATH_MAX];
    sha256_hex(text, strlen(text), hex);
    derr e;
    write_tmp(f->b, text, strlen(text), p1);
    assert_int_equal(blob_call(f->b, put_file, hex, p1, &e), 0);

    /* Already present: success, and the caller's file is left for the caller. */
    write_tmp(f->b, text, strlen(text), p2);
    assert_int_equal(blob_call(f->b, put_file, hex, p2, &e), 0);
    assert_true(path_exists(p2));
    unlink(p2);
    read_back(f->b, hex, text, strlen(text));
}

static void test_wrong_hash(void **state)
{
    struct fixture *f = *state;
    const char *text = "these bytes";
    char hex[65], path[PATH_MAX], final[PATH_MAX];
    sha256_hex("other bytes", 11, hex);
    write_tmp(f->b, text, strlen(text), path);
    derr e;
    derr_clear(&e);
    assert_int_equal(blob_call(f->b, put_file, hex, path, &e), -1);
    assert_int_equal(e.status, 400);
    assert_string_equal(e.code, "checksum_mismatch");
    assert_null(strstr(e.message, "/tmp"));
    snprintf(final, sizeof final, "%s/blobs/%.2s/%.2s/%s", f->root, hex, hex + 2, hex);
    assert_false(path_exists(final));
    assert_int_equal(blob_call(f->b, exists, hex, &e), 0);
    assert_true(path_exists(path)); /* still the caller's */
    unlink(path);
}

static void test_missing_source(void **state)
{
    struct fixture *f = *state;
    char hex[65], path[PATH_MAX];
    sha256_hex("x", 1, hex);
    snprintf(path, sizeof path, "%s/does-not-exist", blob_call(f->b, tmp_dir));
    derr e;
    derr_clear(&e);
    assert_int_equal(blob_call(f->b, put_file, hex, path, &e), -1);
    assert_int_equal(e.status, 500);
    assert_string_equal(e.code, "internal");
    assert_null(strstr(e.message, f->root)); /* no paths of this machine */
}

/* A source outside tmp_dir on another file system is copied; here /dev/shm when it is one. */
static void test_put_from_elsewhere(void **state)
{
    struct fixture *f = *state;
    char path[PATH_MAX] = "/dev/shm/depot-blob-test-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        skip();
    const char *text = "from another file system";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    char hex[65];
    sha256_hex(text, strlen(text), hex);
    derr e;
    assert_int_equal(blob_call(f->b, put_file, hex, path, &e), 0);
    read_back(f->b, hex, text, strlen(text));
    unlink(path); /* the caller's, whether it was moved or copied */

    /* Nothing is left behind in tmp/. */
    assert_int_equal(count_entries(blob_call(f->b, tmp_dir)), 0);
}

static void test_open_absent(void **state)
{
    struct fixture *f = *state;
    char hex[65];
    sha256_hex("never stored", 12, hex);
    blob_reader r = {.fd = -1};
    derr e;
    derr_clear(&e);
    assert_int_equal(blob_call(f->b, open, hex, &r, &e), -1);
    assert_int_equal(e.status, 404);
    assert_string_equal(e.code, "not_found");
    assert_int_equal(r.fd, -1);
}

static void test_remove(void **state)
{
    struct fixture *f = *state;
    const char *text = "to be removed";
    char hex[65], path[PATH_MAX];
    sha256_hex(text, strlen(text), hex);
    write_tmp(f->b, text, strlen(text), path);
    derr e;
    assert_int_equal(blob_call(f->b, put_file, hex, path, &e), 0);
    assert_int_equal(blob_call(f->b, exists, hex, &e), 1);
    assert_int_equal(blob_call(f->b, remove, hex, &e), 0);
    assert_int_equal(blob_call(f->b, exists, hex, &e), 0);
    blob_reader r;
    assert_int_equal(blob_call(f->b, open, hex, &r, &e), -1);
    assert_int_equal(e.status, 404);
    /* Absent is fine, twice or never stored. */
    assert_int_equal(blob_call(f->b, remove, hex, &e), 0);
    char never[65];
    sha256_hex("never", 5, never);
    assert_int_equal(blob_call(f->b, remove, never, &e), 0);

    /* And it can be put again. */
    write_tmp(f->b, text, strlen(text), path);
    assert_int_equal(blob_call(f->b, put_file, hex, path, &e), 0);
    read_back(f->b, hex, text, strlen(text));
}

static void test_bad_keys(void **state)
{
    struct fixture *f = *state;
    char good[65];
    sha256_hex("k", 1, good);
    char upper[65];
    memcpy(upper, good, sizeof upper);
    for (size_t i = 0; i < 64; i++)
        if (upper[i] >= 'a' && upper[i] <= 'f')
            upper[i] = (char)(upper[i] - 'a' + 'A');
    char longer[66];
    snprintf(longer, sizeof longer, "%s0", good);
    char shorter[64];
    snprintf(shorter, sizeof shorter, "%.63s", good);
    char dotted[65];
    memcpy(dotted, good, sizeof dotted);
    memcpy(dotted, "../x", 4);
    char slashed[65];
    memcpy(slashed, good, sizeof slashed);
    slashed[10] = '/';

    const char *bad[] = {"../x", upper, longer, shorter, dotted, slashed, "", "g", NULL};
    char path[PATH_MAX];
    write_tmp(f->b, "k", 1, path);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        derr e;
        blob_reader r;
        derr_clear(&e);
        assert_int_equal(blob_call(f->b, put_file, bad[i], path, &e), -1);
        assert_int_equal(e.status, 400);
        assert_string_equal(e.code, "bad_key");
        assert_int_equal(blob_call(f->b, open, bad[i], &r, &e), -1);
        assert_int_equal(e.status, 400);
        assert_int_equal(blob_call(f->b, exists, bad[i], &e), -1);
        assert_int_equal(blob_call(f->b, remove, bad[i], &e), -1);
    }
    assert_true(path_exists(path)); /* refused keys touch nothing */
    derr e;
    assert_int_equal(blob_call(f->b, put_file, good, path, &e), 0);
}

static void test_check_and_tmp(void **state)
{
    struct fixture *f = *state;
    derr e;
    derr_clear(&e);
    assert_int_equal(blob_call(f->b, check, &e), 0);
    assert_int_equal(count_entries(blob_call(f->b, tmp_dir)), 0); /* its file is gone */
    char want[PATH_MAX];
    snprintf(want, sizeof want, "%s/blobs/tmp", f->root);
    /* tmp_dir is absolute (mkdtemp under /tmp has no symlinks here). */
    const char *tmp = blob_call(f->b, tmp_dir);
    assert_int_equal(tmp[0], '/');
    char *real = realpath(want, NULL);
    assert_non_null(real);
    assert_string_equal(tmp, real);
    free(real);

    /* A read-only store fails the check with a 500 that names no path
     * (skipped as root, who can write anyway). */
    if (geteuid() != 0) {
        assert_int_equal(chmod(tmp, 0500), 0);
        assert_int_equal(blob_call(f->b, check, &e), -1);
        assert_int_equal(e.status, 500);
        assert_string_equal(e.code, "internal");
        assert_null(strchr(e.message, '/'));
        assert_int_equal(chmod(tmp, 0750), 0);
        assert_int_equal(blob_call(f->b, check, &e), 0);
    }
}

static void test_open_urls(void **state)
{
    struct fixture *f = *state;
    derr e;
    static const char *bad[] = {"s3://bucket/prefix", "http://x", "/var/lib/depot", "file:", "",
                                NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        derr_clear(&e);
        assert_null(blob_open(bad[i], &e));
        assert_int_equal(e.status, 500);
        assert_non_null(e.code);
    }

    /* Reopening an existing store sees its blobs. */
    char url[PATH_MAX];
    snprintf(url, sizeof url, "file:%s/blobs", f->root);
    const char *text = "kept";
    char hex[65], path[PATH_MAX];
    sha256_hex(text, strlen(text), hex);
    write_tmp(f->b, text, strlen(text), path);
    assert_int_equal(blob_call(f->b, put_file, hex, path, &e), 0);
    blob_store *again = blob_open(url, &e);
    assert_non_null(again);
    assert_int_equal(blob_call(again, exists, hex, &e), 1);
    assert_string_equal(again->ops->name, "file");
    blob_call(again, close);

    /* A file where the folder should be. */
    char file[256];
    snprintf(file, sizeof file, "%s/plain-file", f->root);
    int fd = open(file, O_CREAT | O_WRONLY, 0600);
    close(fd);
    snprintf(url, sizeof url, "file:%s", file);
    assert_null(blob_open(url, &e));
    assert_int_equal(e.status, 500);
    assert_null(strstr(e.message, f->root));

    /* A relative DIR is made absolute, so a later chdir does not move the store. */
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(f->root), 0);
    blob_store *rel = blob_open("file:rel", &e);
    assert_int_equal(chdir(cwd), 0);
    assert_non_null(rel);
    assert_int_equal(blob_call(rel, tmp_dir)[0], '/');
    assert_int_equal(blob_call(rel, check, &e), 0);
    write_tmp(rel, text, strlen(text), path);
    assert_int_equal(blob_call(rel, put_file, hex, path, &e), 0);
    assert_int_equal(blob_call(rel, exists, hex, &e), 1);
    blob_call(rel, close);

    /* Nested folders are created. */
    snprintf(url, sizeof url, "file:%s/a/b/c/", f->root);
    blob_store *nested = blob_open(url, &e);
    assert_non_null(nested);
    assert_int_equal(blob_call(nested, check, &e), 0);
    blob_call(nested, close);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_hash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_source, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_from_elsewhere, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_absent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_and_tmp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_urls, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
