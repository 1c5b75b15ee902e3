/*
 * test_documents.c — src/core/documents.c: the byte budget holds, the least
 * recently used document goes first, a document larger than the budget is
 * served but not kept, a new generation rebuilds, and the ETag follows the bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/documents.h"
#include "lib/arena.h"

struct spec {
    size_t len;
    char fill;
    int builds;
};

static int build(void *ctx, arena *a, char **text, size_t *len, const char **ctype, derr *e)
{
    (void)a;
    (void)e;
    struct spec *s = ctx;
    s->builds++;
    *text = malloc(s->len);
    memset(*text, s->fill, s->len);
    *len = s->len;
    *ctype = "application/json";
    return 0;
}

static const cdoc *get(const char *key, int64_t gen, struct spec *s)
{
    const cdoc *d = NULL;
    derr e;
    arena *a = arena_new(0);
    doc_ref *r = documents_get(key, gen, build, s, a, &d, &e);
    assert_non_null(r);
    assert_int_equal(d->len, s->len);
    static cdoc copy;
    copy = *d;
    documents_release(r); /* the bytes stay alive while the cache holds them */
    arena_free(a);
    return &copy;
}

static void stats(size_t *bytes, size_t *entries)
{
    size_t budget;
    documents_stats(bytes, entries, &budget);
    assert_true(*bytes <= budget);
}

static void test_budget_and_lru(void **st)
{
    (void)st;
    documents_shutdown();
    documents_init(8192);
    struct spec a = {2000, 'a', 0}, b = {2000, 'b', 0}, c = {2000, 'c', 0}, d = {2000, 'd', 0};
    get("k:a", 1, &a);
    get("k:b", 1, &b);
    get("k:c", 1, &c);
    get("k:a", 1, &a); /* a is now the most recent; b the least */
    get("k:d", 1, &d); /* over budget: b goes */
    size_t bytes, entries;
    stats(&bytes, &entries);
    assert_int_equal(entries, 3);
    get("k:a", 1, &a);
    get("k:c", 1, &c);
    get("k:d", 1, &d);
    assert_int_equal(a.builds, 1);
    assert_int_equal(c.builds, 1);
    assert_int_equal(d.builds, 1);
    get("k:b", 1, &b);
    assert_int_equal(b.builds, 2);
    stats(&bytes, &entries);
}

static void test_larger_than_the_budget(void **st)
{
    (void)st;
    documents_shutdown();
    documents_init(8192);
    struct spec small = {100, 's', 0}, big = {20000, 'x', 0};
    get("k:small", 1, &small);
    get("k:big", 1, &big);
    get("k:big", 1, &big);
    assert_int_equal(big.builds, 2); /* served each time, never kept */
    size_t bytes, entries;
    stats(&bytes, &entries);
    assert_int_equal(entries, 1); /* and it did not push the small one out */
    get("k:small", 1, &small);
    assert_int_equal(small.builds, 1);
}

static void test_generation_and_etag(void **st)
{
    (void)st;
    documents_shutdown();
    documents_init(0);
    struct spec s = {600, 'g', 0};
    char etag1[70];
    snprintf(etag1, sizeof etag1, "%s", get("k:g", 1, &s)->etag);
    assert_string_equal(get("k:g", 1, &s)->etag, etag1);
    assert_int_equal(s.builds, 1);
    s.fill = 'h';
    const cdoc *d = get("k:g", 2, &s); /* a write bumped the generation */
    assert_int_equal(s.builds, 2);
    assert_string_not_equal(d->etag, etag1);
    assert_non_null(d->gz); /* 600 bytes of one letter compress */
    size_t bytes, entries;
    stats(&bytes, &entries);
    assert_int_equal(entries, 1); /* the old generation was replaced, not kept beside */
    documents_shutdown();
    stats(&bytes, &entries);
    assert_int_equal(entries, 0);
    assert_int_equal(bytes, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_budget_and_lru),
        cmocka_unit_test(test_larger_than_the_budget),
        cmocka_unit_test(test_generation_and_etag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
