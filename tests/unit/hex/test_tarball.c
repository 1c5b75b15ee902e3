/*
 * test_tarball.c — src/hex/tarball.c: the captured mix-built tarball
 * (hexcap_demo 0.1.0, tests/fixtures/hex) reads with the inner checksum
 * mix printed, and tarballs built here with libarchive, the way hex_core
 * builds them, cover every refusal: a wrong CHECKSUM, VERSION other than 3,
 * members missing, duplicated, unexpected or out of order, a corrupt or
 * truncated outer tar, size caps (outer, expanded contents, metadata),
 * paths escaping the package, links pointing outside it, special files, an
 * empty package; and what a good one yields (README kept, build tools
 * guessed from the files, the inner checksum in lower-case hex).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hex/tarball.h"
#include "lib/crypto.h"

static char dir[64];
static arena *A;

static int setup(void **st)
{
    (void)st;
    snprintf(dir, sizeof dir, "/tmp/depot-hextar-test-XXXXXX");
    A = arena_new(0);
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **st)
{
    (void)st;
    arena_free(A);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

struct ent {
    const char *path;
    const char *data; /* NULL: size bytes of 'x' */
    size_t size;
    int type; /* 'f' 'd' 'l' 'o' */
    const char *link;
};

/* Writes entries as a tar (gzipped when gz) into memory; returns its bytes and length. */
static unsigned char *tar_bytes(const struct ent *ents, int n, int gz, size_t *len)
{
    size_t cap = 64u << 20;
    unsigned char *out = malloc(cap);
    struct archive *w = archive_write_new();
    archive_write_set_format_ustar(w);
    if (gz)
        archive_write_add_filter_gzip(w);
    else
        archive_write_add_filter_none(w);
    archive_write_set_bytes_in_last_block(w, 1);
    assert_int_equal(archive_write_open_memory(w, out, cap, len), ARCHIVE_OK);
    for (int i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, ents[i].path);
        archive_entry_set_mtime(e, 946684800, 0);
        size_t size = ents[i].data ? strlen(ents[i].data) : ents[i].size;
        switch (ents[i].type) {
        case 'd':
            archive_entry_set_filetype(e, AE_IFDIR);
            archive_entry_set_perm(e, 0755);
            size = 0;
            break;
        case 'l':
            archive_entry_set_filetype(e, AE_IFLNK);
            archive_entry_set_symlink(e, ents[i].link);
            archive_entry_set_perm(e, 0777);
            size = 0;
            break;
        case 'o':
            archive_entry_set_filetype(e, AE_IFIFO);
            archive_entry_set_perm(e, 0644);
            size = 0;
            break;
        default:
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_perm(e, 0644);
        }
        archive_entry_set_size(e, (la_int64_t)size);
        assert_int_equal(archive_write_header(w, e), ARCHIVE_OK);
        if (size) {
            if (ents[i].data) {
                archive_write_data(w, ents[i].data, size);
            } else {
                static char chunk[65536];
                memset(chunk, 'x', sizeof chunk);
                for (size_t k = 0; k < size; k += sizeof chunk)
                    archive_write_data(w, chunk, size - k < sizeof chunk ? size - k : sizeof chunk);
            }
        }
        archive_entry_free(e);
    }
    archive_write_close(w);
    archive_write_free(w);
    return out;
}

static const char good_meta[] = "{<<\"name\">>,<<\"good_pkg\">>}.\n{<<\"version\">>,<<\"1.2.3\">>}.\n"
                                "{<<\"app\">>,<<\"good_pkg\">>}.\n{<<\"requirements\">>,[]}.\n";

static const struct ent good_contents[] = {
    {"src", NULL, 0, 'd', NULL},
    {"src/good_pkg.erl", "-module(good_pkg).\n", 0, 'f', NULL},
    {"rebar.config", "{deps, []}.\n", 0, 'f', NULL},
    {"README.md", "# good_pkg\n", 0, 'f', NULL},
};

struct outer {
    const char *version;  /* VERSION's content */
    const char *checksum; /* NULL: the right one */
    const char *meta;
    const struct ent *contents;
    int ncontents;
    const char *order[6]; /* member names in order (NULL-terminated); default the four */
};

/* Builds an outer tarball into a file; returns an open fd and its size. */
static int build(const struct outer *o, uint64_t *size)
{
    size_t clen;
    unsigned char *contents = tar_bytes(o->contents, o->ncontents, 1, &clen);
    const char *version = o->version ? o->version : "3";
    sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, version, strlen(version));
    sha256_update(&c, o->meta, strlen(o->meta));
    sha256_update(&c, contents, clen);
    unsigned char sum[32];
    sha256_final(&c, sum);
    char hex[65];
    hex_encode(sum, 32, hex);
    for (char *p = hex; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    const char *checksum = o->checksum ? o->checksum : hex;
    static const char *const def[] = {"VERSION", "CHECKSUM", "metadata.config", "contents.tar.gz", NULL};
    const char *const *order = o->order[0] ? o->order : def;
    struct ent ents[8];
    int n = 0;
    char *blob = NULL;
    for (; order[n]; n++) {
        ents[n] = (struct ent){order[n], NULL, 0, 'f', NULL};
        if (!strcmp(order[n], "VERSION"))
            ents[n].data = version;
        else if (!strcmp(order[n], "CHECKSUM"))
            ents[n].data = checksum;
        else if (!strcmp(order[n], "metadata.config"))
            ents[n].data = o->meta;
        else if (!strcmp(order[n], "contents.tar.gz")) {
            /* binary data: write through a NUL-free path is impossible; use a temp file below */
            ents[n].data = NULL;
            ents[n].size = clen;
            blob = (char *)contents;
        } else
            ents[n].data = "extra";
    }
    /* Write the outer tar by hand-feeding contents.tar.gz's bytes. */
    size_t cap = 80u << 20, len;
    unsigned char *out = malloc(cap);
    struct archive *w = archive_write_new();
    archive_write_set_format_ustar(w);
    archive_write_add_filter_none(w);
    archive_write_set_bytes_in_last_block(w, 1);
    assert_int_equal(archive_write_open_memory(w, out, cap, &len), ARCHIVE_OK);
    for (int i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, ents[i].path);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_mtime(e, 946684800, 0);
        const char *data = ents[i].data ? ents[i].data : blob;
        size_t sz = ents[i].data ? strlen(ents[i].data) : ents[i].size;
        archive_entry_set_size(e, (la_int64_t)sz);
        assert_int_equal(archive_write_header(w, e), ARCHIVE_OK);
        archive_write_data(w, data, sz);
        archive_entry_free(e);
    }
    archive_write_close(w);
    archive_write_free(w);
    char path[128];
    snprintf(path, sizeof path, "%s/pkg-XXXXXX", dir);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, out, len), (ssize_t)len);
    free(out);
    free(contents);
    *size = len;
    return fd;
}

static const hex_limits lim = {16u << 20, 128u << 20};

static int read_outer(const struct outer *o, hex_tarball *t, derr *e)
{
    uint64_t size;
    int fd = build(o, &size);
    int rc = hex_tarball_read(A, fd, size, &lim, t, e);
    close(fd);
    return rc;
}

static void expect_refusal(const struct outer *o, const char *why)
{
    hex_tarball t;
    derr e;
    assert_int_equal(read_outer(o, &t, &e), -1);
    assert_int_equal(e.status, 422);
    if (!strstr(e.message, why))
        fail_msg("message '%s' lacks '%s'", e.message, why);
}

static void test_fixture_tarball(void **st)
{
    (void)st;
    int fd = open("tests/fixtures/hex/hexcap_demo-0.1.0.tar", O_RDONLY);
    if (fd < 0)
        fail_msg("cannot open the captured tarball (run from the repository root)");
    struct stat sb;
    fstat(fd, &sb);
    hex_tarball t;
    derr e;
    if (hex_tarball_read(A, fd, (uint64_t)sb.st_size, &lim, &t, &e) < 0)
        fail_msg("%s", e.message);
    close(fd);
    assert_string_equal(t.inner_checksum, "f536e5b5242c99371850e9e65917e79042f91f0e018092a4e97e1ab219bcd382");
    assert_string_equal(t.meta.name, "hexcap_demo");
    assert_string_equal(t.meta.version, "0.1.0");
    assert_int_equal(t.meta.nreqs, 2);
    assert_int_equal(t.nfiles, 4);
    assert_non_null(t.readme);
}

static void test_good(void **st)
{
    (void)st;
    struct outer o = {.meta = good_meta, .contents = good_contents, .ncontents = 4};
    hex_tarball t;
    derr e;
    if (read_outer(&o, &t, &e) < 0)
        fail_msg("%s", e.message);
    assert_string_equal(t.meta.name, "good_pkg");
    assert_int_equal(t.nfiles, 3);
    assert_int_equal(t.readme_len, strlen("# good_pkg\n"));
    assert_string_equal(json_string_value(json_array_get(t.meta.build_tools, 0)), "rebar3");
    assert_int_equal(strlen(t.inner_checksum), 64);
}

static void test_member_refusals(void **st)
{
    (void)st;
    struct outer o = {.meta = good_meta, .contents = good_contents, .ncontents = 4};
    o.checksum = "0000000000000000000000000000000000000000000000000000000000000000";
    expect_refusal(&o, "checksum mismatch");
    o.checksum = "XYZ";
    expect_refusal(&o, "64 hexadecimal");
    o.checksum = NULL;
    o.version = "2";
    expect_refusal(&o, "VERSION should be 3");
    o.version = NULL;
    struct outer m1 = o;
    const char *missing[] = {"VERSION", "CHECKSUM", "metadata.config", NULL};
    memcpy(m1.order, missing, sizeof missing);
    expect_refusal(&m1, "missing files: contents.tar.gz");
    struct outer m2 = o;
    const char *swapped[] = {"CHECKSUM", "VERSION", "metadata.config", "contents.tar.gz", NULL};
    memcpy(m2.order, swapped, sizeof swapped);
    expect_refusal(&m2, "out of order");
    struct outer m3 = o;
    const char *extra[] = {"VERSION", "CHECKSUM", "metadata.config", "contents.tar.gz", "evil.sh", NULL};
    memcpy(m3.order, extra, sizeof extra);
    expect_refusal(&m3, "unexpected file 'evil.sh'");
    struct outer m4 = o;
    const char *dup[] = {"VERSION", "VERSION", "CHECKSUM", "metadata.config", "contents.tar.gz", NULL};
    memcpy(m4.order, dup, sizeof dup);
    expect_refusal(&m4, "appears twice");
}

static void test_contents_refusals(void **st)
{
    (void)st;
    struct ent escape[] = {{"../evil", "x", 0, 'f', NULL}};
    struct outer o = {.meta = good_meta, .contents = escape, .ncontents = 1};
    expect_refusal(&o, "contents.tar.gz");
    struct ent abs[] = {{"/etc/evil", "x", 0, 'f', NULL}};
    o.contents = abs;
    expect_refusal(&o, "contents.tar.gz");
    struct ent link_out[] = {{"a.erl", "x", 0, 'f', NULL}, {"lib/l", NULL, 0, 'l', "../../etc/passwd"}};
    o.contents = link_out;
    o.ncontents = 2;
    expect_refusal(&o, "points outside");
    struct ent link_abs[] = {{"a.erl", "x", 0, 'f', NULL}, {"l", NULL, 0, 'l', "/etc/passwd"}};
    o.contents = link_abs;
    expect_refusal(&o, "points outside");
    struct ent fifo[] = {{"a.erl", "x", 0, 'f', NULL}, {"p", NULL, 0, 'o', NULL}};
    o.contents = fifo;
    expect_refusal(&o, "special file");
    struct ent empty[] = {{"src", NULL, 0, 'd', NULL}};
    o.contents = empty;
    o.ncontents = 1;
    expect_refusal(&o, "can't be empty");
    /* A link inside the package is fine. */
    struct ent link_in[] = {{"lib/a.erl", "x", 0, 'f', NULL},
                            {"lib/b.erl", NULL, 0, 'l', "a.erl"},
                            {"lib/c.erl", NULL, 0, 'l', "../lib/a.erl"}};
    o.contents = link_in;
    o.ncontents = 3;
    hex_tarball t;
    derr e;
    if (read_outer(&o, &t, &e) < 0)
        fail_msg("%s", e.message);
}

static void test_caps(void **st)
{
    (void)st;
    /* Contents expanding past the cap. */
    struct ent big[] = {{"big.bin", NULL, 3u << 20, 'f', NULL}};
    struct outer o = {.meta = good_meta, .contents = big, .ncontents = 1};
    uint64_t size;
    int fd = build(&o, &size);
    hex_limits small = {16u << 20, 2u << 20};
    hex_tarball t;
    derr e;
    assert_int_equal(hex_tarball_read(A, fd, size, &small, &t, &e), -1);
    assert_int_equal(e.status, 422);
    /* The outer cap. */
    hex_limits tiny = {4096, 128u << 20};
    assert_int_equal(hex_tarball_read(A, fd, size, &tiny, &t, &e), -1);
    assert_non_null(strstr(e.message, "too big"));
    close(fd);
    /* metadata.config over 1 MiB. */
    char *meta = malloc((1u << 20) + 100);
    memset(meta, ' ', (1u << 20) + 10);
    memcpy(meta, good_meta, strlen(good_meta));
    meta[(1u << 20) + 10] = '\0';
    struct outer m = {.meta = meta, .contents = good_contents, .ncontents = 4};
    expect_refusal(&m, "metadata.config is too big");
    free(meta);
}

static void test_not_a_tar(void **st)
{
    (void)st;
    char path[128];
    snprintf(path, sizeof path, "%s/junk-XXXXXX", dir);
    int fd = mkstemp(path);
    char junk[2048];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (char)(i * 7 + 3);
    assert_int_equal(write(fd, junk, sizeof junk), (ssize_t)sizeof junk);
    hex_tarball t;
    derr e;
    assert_int_equal(hex_tarball_read(A, fd, sizeof junk, &lim, &t, &e), -1);
    assert_int_equal(e.status, 422);
    assert_non_null(strstr(e.message, "tar:"));
    close(fd);
    /* A good tarball cut short. */
    struct outer o = {.meta = good_meta, .contents = good_contents, .ncontents = 4};
    uint64_t size;
    fd = build(&o, &size);
    /* Every cut before the first end-of-archive block is refused (one end block is enough). */
    for (uint64_t cut = 0; cut < size - 512; cut += 97) {
        int rc = hex_tarball_read(A, fd, cut, &lim, &t, &e);
        if (rc == 0)
            fail_msg("a tarball cut at %llu of %llu bytes was accepted", (unsigned long long)cut,
                     (unsigned long long)size);
        assert_int_equal(e.status, 422);
    }
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_tarball),
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_member_refusals),
        cmocka_unit_test(test_contents_refusals),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_not_a_tar),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
