/*
 * test_arena.c — src/lib/arena.c: many allocations that never overlap,
 * alignment for any type, blocks larger than the block cap, zeroing, the
 * string helpers, cleanup hooks running last-registered first, release hooks
 * running once (at arena_release, else before the free hooks), and temp files
 * gone once their arena is released.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdalign.h>
#include <string.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/arena.h"
#include "lib/tempfile.h"

/* Thousands of pieces of mixed sizes, each filled with its own byte and
 * checked after all are made: no piece overlaps another. */
static void test_many_allocations(void **state)
{
    (void)state;
    static const size_t firsts[] = {0, 1, 64, 4096, 1 << 20};
    enum { N = 5000 };
    for (size_t f = 0; f < sizeof firsts / sizeof firsts[0]; f++) {
        arena *a = arena_new(firsts[f]);
        static unsigned char *p[N];
        static size_t len[N];
        size_t total = 0;
        for (size_t i = 0; i < N; i++) {
            len[i] = (i * 37) % 300 + (i % 97 == 0 ? 20000 : 0);
            p[i] = arena_alloc(a, len[i]);
            assert_non_null(p[i]);
            memset(p[i], (int)(i & 0xff), len[i]);
            total += len[i];
        }
        for (size_t i = 0; i < N; i++)
            for (size_t j = 0; j < len[i]; j++)
                if (p[i][j] != (unsigned char)(i & 0xff))
                    fail_msg("piece %zu byte %zu overwritten", i, j);
        assert_true(arena_used(a) >= total);
        arena_free(a);
    }
}

static void test_alignment(void **state)
{
    (void)state;
    arena *a = arena_new(100);
    static const size_t sizes[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 100, 1000, 5000, 3000000};
    for (int round = 0; round < 50; round++)
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            void *p = arena_alloc(a, sizes[i]);
            assert_int_equal((uintptr_t)p % alignof(max_align_t), 0);
            long double *ld = arena_alloc(a, sizeof *ld);
            assert_int_equal((uintptr_t)ld % alignof(long double), 0);
            *ld = 1.5L;
        }
    arena_free(a);
}

/* Pieces bigger than any block (the cap is 1 MiB) get a block of their own;
 * small pieces keep coming from the current block afterwards. */
static void test_large_blocks(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    char *small1 = arena_strdup(a, "before");
    static const size_t big[] = {4097, 1u << 20, (1u << 20) + 1, 8u << 20};
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
        unsigned char *p = arena_alloc(a, big[i]);
        memset(p, 0xab, big[i]);
        assert_int_equal(p[0], 0xab);
        assert_int_equal(p[big[i] - 1], 0xab);
    }
    char *small2 = arena_strdup(a, "after");
    assert_string_equal(small1, "before");
    assert_string_equal(small2, "after");
    assert_true(arena_used(a) >= (8u << 20) + (1u << 20));
    arena_free(a);
}

static void test_zalloc(void **state)
{
    (void)state;
    arena *a = arena_new(64);
    for (size_t n = 1; n < 5000; n = n * 3 + 1) {
        unsigned char *p = arena_alloc(a, n);
        memset(p, 0xff, n); /* dirty memory that a later block might reuse */
        unsigned char *z = arena_zalloc(a, n);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(z[i], 0);
    }
    arena_free(a);
}

static void test_strings(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    assert_null(arena_strdup(a, NULL));
    assert_null(arena_strndup(a, NULL, 3));

    const char *src = "hello, world";
    char *d = arena_strdup(a, src);
    assert_string_equal(d, src);
    assert_ptr_not_equal(d, src);
    assert_string_equal(arena_strdup(a, ""), "");

    static const struct {
        size_t n;
        const char *want;
    } nd[] = {{0, ""}, {1, "h"}, {5, "hello"}, {12, "hello, world"}};
    for (size_t i = 0; i < sizeof nd / sizeof nd[0]; i++)
        assert_string_equal(arena_strndup(a, src, nd[i].n), nd[i].want);
    /* strndup copies exactly n bytes, even past a NUL: it is for views */
    char *v = arena_strndup(a, "ab\0cd", 5);
    assert_memory_equal(v, "ab\0cd", 6);

    unsigned char bytes[] = {0, 1, 2, 255};
    unsigned char *m = arena_memdup(a, bytes, sizeof bytes);
    assert_memory_equal(m, bytes, sizeof bytes);
    assert_non_null(arena_memdup(a, NULL, 0));

    assert_string_equal(arena_printf(a, "%s=%d", "x", 42), "x=42");
    assert_string_equal(arena_printf(a, "%s", ""), "");
    assert_string_equal(arena_printf(a, "%05.1f|%-3s|%x", 3.14159, "a", 255u), "003.1|a  |ff");
    char big[10000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char *p = arena_printf(a, "<%s>", big);
    assert_int_equal(strlen(p), sizeof big + 1);
    assert_int_equal(p[0], '<');
    assert_int_equal(p[sizeof big], '>');
    arena_free(a);
}

/* The hooks get their data back and run in reverse order of registration. */
static struct {
    int seen[8];
    int n;
} ran;
static int tags[8];

static void hook(void *data)
{
    int *tag = data;
    ran.seen[ran.n++] = *tag;
}

static void test_cleanup_order(void **state)
{
    (void)state;
    ran.n = 0;
    arena *a = arena_new(0);
    for (int i = 0; i < 5; i++) {
        tags[i] = i;
        arena_on_free(a, hook, &tags[i]);
        (void)arena_alloc(a, 3000); /* hooks survive the arena growing */
    }
    assert_int_equal(ran.n, 0);
    arena_free(a);
    assert_int_equal(ran.n, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(ran.seen[i], 4 - i);
}

/* A hook may release memory that lives in the arena itself: it runs before the blocks go. */
static void read_arena_string(void *data)
{
    assert_string_equal((const char *)data, "still here");
    ran.n++;
}

static void test_cleanup_sees_arena_memory(void **state)
{
    (void)state;
    ran.n = 0;
    arena *a = arena_new(0);
    arena_on_free(a, read_arena_string, arena_strdup(a, "still here"));
    arena_free(a);
    assert_int_equal(ran.n, 1);
    arena_free(NULL);
}

/* Release hooks run once, at arena_release; the free hooks wait for arena_free. */
static void test_release_hooks(void **state)
{
    (void)state;
    ran.n = 0;
    arena *a = arena_new(0);
    tags[0] = 0, tags[1] = 1, tags[2] = 2;
    arena_on_free(a, hook, &tags[0]);
    arena_on_release(a, hook, &tags[1]);
    arena_on_release(a, hook, &tags[2]);
    arena_release(a);
    assert_int_equal(ran.n, 2);
    assert_int_equal(ran.seen[0], 2);
    assert_int_equal(ran.seen[1], 1);
    arena_release(a);
    assert_int_equal(ran.n, 2);
    arena_free(a);
    assert_int_equal(ran.n, 3);
    assert_int_equal(ran.seen[2], 0);

    /* Never released: the release hooks run first thing at arena_free. */
    ran.n = 0;
    a = arena_new(0);
    arena_on_free(a, hook, &tags[0]);
    arena_on_release(a, hook, &tags[1]);
    arena_free(a);
    assert_int_equal(ran.n, 2);
    assert_int_equal(ran.seen[0], 1);
    assert_int_equal(ran.seen[1], 0);
}

/* A temp file is in its folder until its arena is released (or it is dropped), then gone. */
static void test_temp_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/depot-unit-XXXXXX";
    assert_non_null(mkdtemp(dir));
    arena *a = arena_new(0);
    temp_file *t = temp_file_new(a, dir, "upload");
    temp_file *u = temp_file_new(a, dir, "upload");
    assert_non_null(t);
    assert_non_null(u);
    assert_string_not_equal(t->path, u->path);
    assert_int_equal(write(t->fd, "abc", 3), 3);
    char *tpath = arena_strdup(a, t->path), *upath = arena_strdup(a, u->path);
    assert_int_equal(access(tpath, F_OK), 0);
    temp_file_drop(u);
    assert_int_equal(u->fd, -1);
    assert_null(u->path);
    assert_int_equal(access(upath, F_OK), -1);
    temp_file_drop(u); /* again: nothing */
    arena_release(a);
    assert_int_equal(access(tpath, F_OK), -1);
    assert_int_equal(t->fd, -1);
    arena_free(a);

    /* A folder that is not there: NULL, errno says why, nothing registered. */
    a = arena_new(0);
    char *missing = arena_printf(a, "%s/missing", dir);
    errno = 0;
    assert_null(temp_file_new(a, missing, "upload"));
    assert_int_equal(errno, ENOENT);
    arena_free(a);
    assert_int_equal(rmdir(dir), 0); /* empty: nothing was left behind */
}

/* arena_grow keeps the array while there is room and doubles it, keeping the elements, when not. */
static void test_grow(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    int *arr = NULL, cap = 0;
    for (int i = 0; i < 100; i++) {
        int *before = arr;
        arr = arena_grow(a, arr, i, &cap, sizeof *arr);
        assert_true(cap > i);
        if (i > 0 && i < 16)
            assert_ptr_equal(arr, before);
        arr[i] = i;
    }
    assert_int_equal(cap, 128);
    for (int i = 0; i < 100; i++)
        assert_int_equal(arr[i], i);
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_allocations), cmocka_unit_test(test_alignment),
        cmocka_unit_test(test_large_blocks),     cmocka_unit_test(test_zalloc),
        cmocka_unit_test(test_strings),          cmocka_unit_test(test_cleanup_order),
        cmocka_unit_test(test_cleanup_sees_arena_memory),
        cmocka_unit_test(test_grow),
        cmocka_unit_test(test_release_hooks),    cmocka_unit_test(test_temp_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
