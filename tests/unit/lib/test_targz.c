/*
 * test_targz.c — src/lib/targz.c: archives built in the test with
 * libarchive's write API (so they can hold what a hostile client would send:
 * "../" paths, absolute paths, links, duplicates, bombs) and read back under
 * limits. Covers path normalisation and the "package/" strip, entry types,
 * collecting wanted files, each limit (entries, total size, one entry's size,
 * compression ratio with 50 MB of zeros), inputs that are not gzip tars
 * (random bytes, plain tar, gzip of text, a truncated archive, an empty
 * file), and targz_write: sorted, normalised metadata, byte-for-byte
 * reproducible, refusing bad paths and non-regular files.
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

#include "lib/targz.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/depot-targz-test-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

struct ent {
    const char *path;
    int type;         /* 'f' 'd' 'l' 'h' 'o' */
    const char *data; /* NULL: size zero bytes */
    uint64_t size;
    const char *link;
};

enum { GZ = 1, PLAIN = 0 };

/* Writes the entries to dir/name as a (gzip) tar; returns the path. */
static const char *make_archive(const char *name, const struct ent *ents, int n, int gz)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct archive *w = archive_write_new();
    if (gz)
        assert_int_equal(archive_write_add_filter_gzip(w), ARCHIVE_OK);
    assert_int_equal(archive_write_set_format_pax_restricted(w), ARCHIVE_OK);
    assert_int_equal(archive_write_open_filename(w, path), ARCHIVE_OK);
    static char zeros[1 << 20];
    for (int i = 0; i < n; i++) {
        struct archive_entry *ae = archive_entry_new();
        archive_entry_copy_pathname(ae, ents[i].path);
        archive_entry_set_perm(ae, 0644);
        uint64_t size = ents[i].data && !ents[i].size ? strlen(ents[i].data) : ents[i].size;
        switch (ents[i].type) {
        case 'f':
            archive_entry_set_filetype(ae, AE_IFREG);
            archive_entry_set_size(ae, (la_int64_t)size);
            break;
        case 'd':
            archive_entry_set_filetype(ae, AE_IFDIR);
            break;
        case 'l':
            archive_entry_set_filetype(ae, AE_IFLNK);
            archive_entry_copy_symlink(ae, ents[i].link);
            break;
        case 'h':
            archive_entry_set_filetype(ae, AE_IFREG);
            archive_entry_copy_hardlink(ae, ents[i].link);
            break;
        default:
            archive_entry_set_filetype(ae, AE_IFIFO);
        }
        int rc = archive_write_header(w, ae);
        if (rc < ARCHIVE_WARN)
            fail_msg("write_header %s: %s", ents[i].path, archive_error_string(w));
        if (ents[i].type == 'f') {
            if (ents[i].data) {
                archive_write_data(w, ents[i].data, (size_t)size);
            } else {
                for (uint64_t left = size; left;) {
                    size_t k = left < sizeof zeros ? (size_t)left : sizeof zeros;
                    archive_write_data(w, zeros, k);
                    left -= k;
                }
            }
        }
        archive_entry_free(ae);
    }
    assert_int_equal(archive_write_close(w), ARCHIVE_OK);
    archive_write_free(w);
    return path;
}

static const char *make_file(const char *name, const void *p, size_t n)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
    return path;
}

static bool want_all(const char *path, void *ctx)
{
    (void)path;
    (void)ctx;
    return true;
}

static bool want_named(const char *path, void *ctx)
{
    for (const char *const *w = ctx; *w; w++)
        if (strcmp(*w, path) == 0)
            return true;
    return false;
}

struct result {
    arena *a;
    int rc;
    derr e;
    targz_entry *ents;
    int nents;
    targz_file *files;
    int nfiles;
};

static struct result read_path(const char *path, const targz_limits *lim, bool (*want)(const char *, void *),
                               void *ctx)
{
    struct result r = {.a = arena_new(0)};
    derr_clear(&r.e);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    r.rc = targz_read(r.a, fd, lim, want, ctx, &r.ents, &r.nents, &r.files, &r.nfiles, &r.e);
    close(fd);
    return r;
}

static void test_read_entries(void **state)
{
    (void)state;
    static const struct ent ents[] = {
        {"./", 'd', NULL, 0, NULL},
        {"./depot.json", 'f', "{\"name\":\"x\"}", 0, NULL},
        {"./src/", 'd', NULL, 0, NULL},
        {"src//lib.c", 'f', "int x;\n", 0, NULL},
        {"./src/./empty.txt", 'f', NULL, 0, NULL},
        {"link", 'l', NULL, 0, "../../etc/passwd"},
        {"hard", 'h', NULL, 0, "src/lib.c"},
        {"fifo", 'o', NULL, 0, NULL},
        {"README.md", 'f', "# Hello\n", 0, NULL},
        {"src/", 'd', NULL, 0, NULL}, /* a directory twice is fine */
    };
    const char *p = make_archive("basic.tgz", ents, 10, GZ);
    static const char *const wanted[] = {"depot.json", "README.md", "src/empty.txt", "link", "hard", NULL};
    struct result r = read_path(p, NULL, want_named, (void *)wanted);
    if (r.rc)
        fail_msg("%s", r.e.message);
    static const struct {
        const char *path;
        int type;
        uint64_t size;
        const char *link;
    } want[] = {
        {"depot.json", 'f', 12, NULL},
        {"src", 'd', 0, NULL},
        {"src/lib.c", 'f', 7, NULL},
        {"src/empty.txt", 'f', 0, NULL},
        {"link", 'l', 0, "../../etc/passwd"},
        {"hard", 'h', 0, "src/lib.c"},
        {"fifo", 'o', 0, NULL},
        {"README.md", 'f', 8, NULL},
        {"src", 'd', 0, NULL},
    };
    assert_int_equal(r.nents, 9);
    for (int i = 0; i < r.nents; i++) {
        assert_string_equal(r.ents[i].path, want[i].path);
        assert_int_equal(r.ents[i].type, want[i].type);
        assert_int_equal(r.ents[i].size, want[i].size);
        if (want[i].link)
            assert_string_equal(r.ents[i].link, want[i].link);
        else
            assert_null(r.ents[i].link);
    }
    /* Only regular files are collected, in archive order, NUL-terminated. */
    assert_int_equal(r.nfiles, 3);
    assert_string_equal(r.files[0].path, "depot.json");
    assert_int_equal(r.files[0].len, 12);
    assert_string_equal(r.files[0].data, "{\"name\":\"x\"}");
    assert_string_equal(r.files[1].path, "src/empty.txt");
    assert_int_equal(r.files[1].len, 0);
    assert_string_equal(r.files[1].data, "");
    assert_string_equal(r.files[2].path, "README.md");
    assert_memory_equal(r.files[2].data, "# Hello\n", 9);
    arena_free(r.a);

    /* No want: entries only. */
    r = read_path(p, NULL, NULL, NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.nents, 9);
    assert_int_equal(r.nfiles, 0);
    arena_free(r.a);
}

static void test_strip_package(void **state)
{
    (void)state;
    static const struct ent ents[] = {
        {"package/", 'd', NULL, 0, NULL},
        {"package/package.json", 'f', "{}", 0, NULL},
        {"./package/lib/index.js", 'f', "x", 0, NULL},
        {"other/package/x", 'f', "y", 0, NULL},
        {"package", 'd', NULL, 0, NULL},
    };
    const char *p = make_archive("npm.tgz", ents, 5, GZ);
    targz_limits lim = {.flags = TARGZ_STRIP_PACKAGE};
    struct result r = read_path(p, &lim, want_all, NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.nents, 3);
    assert_string_equal(r.ents[0].path, "package.json");
    assert_string_equal(r.ents[1].path, "lib/index.js");
    assert_string_equal(r.ents[2].path, "other/package/x");
    assert_int_equal(r.nfiles, 3);
    arena_free(r.a);
    /* Without the flag the prefix stays. */
    r = read_path(p, NULL, NULL, NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.nents, 5);
    assert_string_equal(r.ents[1].path, "package/package.json");
    arena_free(r.a);
}

/* TARGZ_REGULAR_ONLY: a link (symbolic or hard) or a FIFO is refused, naming it; files and
 * folders pass; without the flag the same archives read. */
static void test_regular_only(void **state)
{
    (void)state;
    static const struct ent fine[] = {{"lib", 'd', NULL, 0, NULL}, {"lib/a.js", 'f', "a", 0, NULL}};
    static const struct ent sym[] = {{"a", 'f', "a", 0, NULL}, {"pw", 'l', NULL, 0, "/etc/passwd"}};
    static const struct ent hard[] = {{"a", 'f', "a", 0, NULL}, {"b", 'h', NULL, 0, "a"}};
    static const struct ent fifo[] = {{"a", 'f', "a", 0, NULL}, {"pipe", 'o', NULL, 0, NULL}};
    targz_limits lim = {.flags = TARGZ_REGULAR_ONLY};
    struct result r = read_path(make_archive("fine.tgz", fine, 2, GZ), &lim, NULL, NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.nents, 2);
    arena_free(r.a);
    const struct {
        const char *name, *bad;
        const struct ent *ents;
    } cases[] = {{"sym.tgz", "pw", sym}, {"hard.tgz", "b", hard}, {"fifo.tgz", "pipe", fifo}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *p = make_archive(cases[i].name, cases[i].ents, 2, GZ);
        r = read_path(p, &lim, NULL, NULL);
        assert_int_equal(r.rc, -1);
        assert_int_equal(r.e.status, 422);
        if (!strstr(r.e.message, cases[i].bad) || !strstr(r.e.message, "link or a special file"))
            fail_msg("%s: %s", cases[i].name, r.e.message);
        arena_free(r.a);
        r = read_path(p, NULL, NULL, NULL);
        assert_int_equal(r.rc, 0);
        arena_free(r.a);
    }
}

static void test_unsafe_paths(void **state)
{
    (void)state;
    static char longp[1100];
    memset(longp, 'a', 1025);
    for (int i = 100; i < 1025; i += 100)
        longp[i] = '/';
    static char okp[1100];
    memset(okp, 'b', 1024);
    for (int i = 100; i < 1024; i += 100)
        okp[i] = '/';
    static const struct {
        const char *what, *path;
        int type;
        const char *msg;
    } cases[] = {
        {"dotdot", "../x", 'f', "entry ../x escapes the archive"},
        {"dotdot inside", "a/../../x", 'f', "escapes the archive"},
        {"dotdot inside, staying in", "a/../b", 'f', "escapes the archive"},
        {"dotdot dir", "./..", 'd', "escapes the archive"},
        {"absolute", "/etc/passwd", 'f', "entry /etc/passwd is an absolute path"},
        {"absolute symlink entry", "/x", 'l', "absolute path"},
        {"control char", "a\x01z", 'f', "control character"},
        {"newline", "a\nb", 'f', "control character"},
        {"invalid utf-8", "a\xff", 'f', "not valid UTF-8"},
        {"overlong utf-8", "\xc0\xaf", 'f', "not valid UTF-8"},
        {"surrogate", "\xed\xa0\x80", 'f', "not valid UTF-8"},
        {"too long", longp, 'f', "longer than 1024 bytes"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ent e[] = {{"fine.txt", 'f', "ok", 0, NULL}, {cases[i].path, cases[i].type, "x", 0, "t"}};
        const char *p = make_archive("bad.tgz", e, 2, GZ);
        struct result r = read_path(p, NULL, want_all, NULL);
        if (r.rc != -1)
            fail_msg("%s: accepted", cases[i].what);
        if (r.e.status != 422 || strcmp(r.e.code, "invalid") != 0 || !strstr(r.e.message, cases[i].msg))
            fail_msg("%s: got %d %s \"%s\"", cases[i].what, r.e.status, r.e.code, r.e.message);
        assert_null(r.ents);
        assert_int_equal(r.nents, 0);
        arena_free(r.a);
    }
    /* 1024 bytes and valid UTF-8 are fine. */
    struct ent e[] = {{okp, 'f', "x", 0, NULL}, {"caf\xc3\xa9/\xf0\x9f\x93\xa6.txt", 'f', "y", 0, NULL}};
    struct result r = read_path(make_archive("ok.tgz", e, 2, GZ), NULL, NULL, NULL);
    if (r.rc)
        fail_msg("%s", r.e.message);
    assert_int_equal(strlen(r.ents[0].path), 1024);
    arena_free(r.a);

    /* Duplicates: the same file twice, or a file and a directory. */
    static const struct ent dup1[] = {{"a", 'f', "1", 0, NULL}, {"./a", 'f', "2", 0, NULL}};
    static const struct ent dup2[] = {{"a/", 'd', NULL, 0, NULL}, {"a", 'f', "2", 0, NULL}};
    static const struct ent dup3[] = {{"x/y", 'f', "1", 0, NULL}, {"x//y", 'l', NULL, 0, "z"}};
    const struct ent *dups[] = {dup1, dup2, dup3};
    for (int i = 0; i < 3; i++) {
        r = read_path(make_archive("dup.tgz", dups[i], 2, GZ), NULL, NULL, NULL);
        assert_int_equal(r.rc, -1);
        assert_int_equal(r.e.status, 422);
        assert_non_null(strstr(r.e.message, "appears twice"));
        arena_free(r.a);
    }
    /* Many distinct entries (the duplicate table grows) are fine. */
    enum { MANY = 3000 };
    struct ent *many = calloc(MANY, sizeof *many);
    char(*names)[32] = calloc(MANY, 32);
    for (int i = 0; i < MANY; i++) {
        snprintf(names[i], 32, "d%d/f%d", i % 7, i);
        many[i] = (struct ent){names[i], 'f', "z", 0, NULL};
    }
    r = read_path(make_archive("many.tgz", many, MANY, GZ), NULL, NULL, NULL);
    if (r.rc)
        fail_msg("%s", r.e.message);
    assert_int_equal(r.nents, MANY);
    arena_free(r.a);
    many[MANY - 1].path = "d3/f3"; /* one duplicate at the very end */
    r = read_path(make_archive("many.tgz", many, MANY, GZ), NULL, NULL, NULL);
    assert_int_equal(r.rc, -1);
    assert_non_null(strstr(r.e.message, "entry d3/f3 appears twice"));
    arena_free(r.a);
    free(many);
    free(names);
}

static void test_limits(void **state)
{
    (void)state;
    /* Too many entries. */
    static const struct ent four[] = {{"a", 'f', "1", 0, NULL},
                                      {"b", 'd', NULL, 0, NULL},
                                      {"b/c", 'f', "2", 0, NULL},
                                      {"d", 'l', NULL, 0, "a"}};
    const char *p = make_archive("four.tgz", four, 4, GZ);
    targz_limits lim = {.max_entries = 3};
    struct result r = read_path(p, &lim, NULL, NULL);
    assert_int_equal(r.rc, -1);
    assert_int_equal(r.e.status, 422);
    assert_string_equal(r.e.message, "the archive has more than 3 entries");
    arena_free(r.a);
    lim.max_entries = 4;
    r = read_path(p, &lim, NULL, NULL);
    assert_int_equal(r.rc, 0);
    arena_free(r.a);

    /* Too large in total: caught from the declared sizes. */
    static const struct ent big[] = {{"a", 'f', NULL, 600000, NULL}, {"b", 'f', NULL, 600000, NULL}};
    p = make_archive("big.tgz", big, 2, GZ);
    lim = (targz_limits){.max_total = 1000000, .max_ratio = 100000};
    r = read_path(p, &lim, NULL, NULL);
    assert_int_equal(r.rc, -1);
    assert_int_equal(r.e.status, 422);
    assert_string_equal(r.e.message, "archive expands beyond 1000000 bytes");
    arena_free(r.a);
    lim.max_total = 1200000;
    r = read_path(p, &lim, NULL, NULL);
    assert_int_equal(r.rc, 0);
    arena_free(r.a);

    /* A wanted file over max_entry; the same file unwanted is fine. */
    lim = (targz_limits){.max_entry = 599999, .max_ratio = 100000};
    r = read_path(p, &lim, want_all, NULL);
    assert_int_equal(r.rc, -1);
    assert_string_equal(r.e.message, "entry a is larger than 599999 bytes");
    arena_free(r.a);
    r = read_path(p, &lim, NULL, NULL);
    assert_int_equal(r.rc, 0);
    arena_free(r.a);
    lim.max_entry = 600000;
    r = read_path(p, &lim, want_all, NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.nfiles, 2);
    assert_int_equal(r.files[1].len, 600000);
    arena_free(r.a);
}

static void test_ratio_bomb(void **state)
{
    (void)state;
    /* 50 MB of zeros compress about 1000:1. */
    static const struct ent bomb[] = {{"README.md", 'f', "hi", 0, NULL},
                                      {"zeros", 'f', NULL, 50u << 20, NULL}};
    const char *p = make_archive("bomb.tgz", bomb, 2, GZ);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_true(st.st_size < 200000);
    targz_limits lim = {.max_total = 1u << 30, .max_ratio = 100};
    struct result r = read_path(p, &lim, NULL, NULL);
    assert_int_equal(r.rc, -1);
    assert_int_equal(r.e.status, 422);
    assert_string_equal(r.e.message, "compression ratio over 100");
    arena_free(r.a);
    /* The same with a max_total below its size never inflates it. */
    lim.max_total = 10u << 20;
    r = read_path(p, &lim, NULL, NULL);
    assert_int_equal(r.rc, -1);
    assert_string_equal(r.e.message, "archive expands beyond 10485760 bytes");
    arena_free(r.a);
    /* A generous ratio lets it through. */
    lim = (targz_limits){.max_total = 1u << 30, .max_ratio = 5000};
    r = read_path(p, &lim, NULL, NULL);
    assert_int_equal(r.rc, 0);
    arena_free(r.a);

    /* Small archives that compress very well (tar padding, a little text)
     * are under the grace and pass even a strict ratio. */
    static const struct ent small[] = {{"a", 'f', NULL, 900000, NULL}};
    r = read_path(make_archive("small.tgz", small, 1, GZ), &(targz_limits){.max_ratio = 2}, NULL, NULL);
    if (r.rc)
        fail_msg("%s", r.e.message);
    arena_free(r.a);
}

static void test_not_targz(void **state)
{
    (void)state;
    static const struct ent one[] = {{"a.txt", 'f', "hello", 0, NULL}};
    /* A plain tar: refused unless allowed. */
    const char *p = make_archive("plain.tar", one, 1, PLAIN);
    struct result r = read_path(p, NULL, want_all, NULL);
    assert_int_equal(r.rc, -1);
    assert_int_equal(r.e.status, 400);
    assert_string_equal(r.e.code, "bad_request");
    assert_non_null(strstr(r.e.message, "not a gzip tar archive"));
    arena_free(r.a);
    r = read_path(p, &(targz_limits){.flags = TARGZ_ALLOW_PLAIN}, want_all, NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.nfiles, 1);
    assert_string_equal(r.files[0].data, "hello");
    arena_free(r.a);

    /* Random bytes, text, an empty file, gzip of text (not a tar). */
    unsigned char noise[4096];
    srand(7);
    for (size_t i = 0; i < sizeof noise; i++)
        noise[i] = (unsigned char)rand();
    static const unsigned char gz_text[] = {/* gzip of "hello world\n" */
                                            0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb,
                                            0x48, 0xcd, 0xc9, 0xc9, 0x57, 0x28, 0xcf, 0x2f, 0xca, 0x49, 0xe1,
                                            0x02, 0x00, 0x2d, 0x3b, 0x08, 0xaf, 0x0c, 0x00, 0x00, 0x00};
    const struct {
        const char *name;
        const void *p;
        size_t n;
    } inputs[] = {
        {"noise", noise, sizeof noise},
        {"text", "{\"name\": \"not a tarball\"}\n", 26},
        {"empty", "", 0},
        {"gztext", gz_text, sizeof gz_text},
        {"zip", "PK\x03\x04\x14\x00\x00\x00", 8},
    };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        r = read_path(make_file(inputs[i].name, inputs[i].p, inputs[i].n), NULL, want_all, NULL);
        if (r.rc != -1 || r.e.status != 400 || !strstr(r.e.message, "not a gzip tar archive"))
            fail_msg("%s: %d %d %s", inputs[i].name, r.rc, r.e.status, r.e.message);
        arena_free(r.a);
    }

    /* A truncated archive: corrupt, 400. */
    static char rnd[200000];
    for (size_t i = 0; i < sizeof rnd; i++)
        rnd[i] = (char)rand();
    static const struct ent two[] = {{"a", 'f', rnd, sizeof rnd, NULL}, {"b", 'f', "b", 0, NULL}};
    p = make_archive("trunc.tgz", two, 2, GZ);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(truncate(p, st.st_size / 2), 0);
    r = read_path(p, NULL, NULL, NULL);
    assert_int_equal(r.rc, -1);
    assert_int_equal(r.e.status, 400);
    arena_free(r.a);
}

static void test_write(void **state)
{
    (void)state;
    const char *pa = make_file("in-a", "alpha\n", 6);
    char a[256], b[256], c[256];
    snprintf(a, sizeof a, "%s", pa);
    snprintf(b, sizeof b, "%s", make_file("in-b", "", 0));
    static char large[300000];
    for (size_t i = 0; i < sizeof large; i++)
        large[i] = (char)(i * 7 + i / 1000);
    snprintf(c, sizeof c, "%s", make_file("in-c", large, sizeof large));
    chmod(c, 0755);

    const char *arc[] = {"src/z.c", "README.md", "depot.json", "src/a/b.c"};
    const char *disk[] = {a, b, c, a};
    char out1[256], out2[256];
    snprintf(out1, sizeof out1, "%s/out1.tgz", dir);
    snprintf(out2, sizeof out2, "%s/out2.tgz", dir);
    derr e;
    assert_int_equal(targz_write(out1, arc, disk, 4, &e), 0);
    sleep(1); /* a different second: nothing time-dependent may leak in */
    const char *arc2[] = {"depot.json", "src/a/b.c", "README.md", "src/z.c"};
    const char *disk2[] = {c, a, b, a};
    assert_int_equal(targz_write(out2, arc2, disk2, 4, &e), 0);
    size_t n1, n2;
    FILE *f1 = fopen(out1, "rb"), *f2 = fopen(out2, "rb");
    static char d1[1 << 20], d2[1 << 20];
    n1 = fread(d1, 1, sizeof d1, f1);
    n2 = fread(d2, 1, sizeof d2, f2);
    fclose(f1);
    fclose(f2);
    assert_int_equal(n1, n2);
    assert_memory_equal(d1, d2, n1);

    /* Read back: sorted, contents intact, metadata normalised. */
    struct result r = read_path(out1, NULL, want_all, NULL);
    if (r.rc)
        fail_msg("%s", r.e.message);
    assert_int_equal(r.nents, 4);
    const char *order[] = {"README.md", "depot.json", "src/a/b.c", "src/z.c"};
    for (int i = 0; i < 4; i++) {
        assert_string_equal(r.ents[i].path, order[i]);
        assert_int_equal(r.ents[i].type, 'f');
    }
    assert_int_equal(r.files[1].len, sizeof large);
    assert_memory_equal(r.files[1].data, large, sizeof large);
    assert_string_equal(r.files[2].data, "alpha\n");
    arena_free(r.a);
    struct archive *ar = archive_read_new();
    archive_read_support_filter_gzip(ar);
    archive_read_support_format_tar(ar);
    assert_int_equal(archive_read_open_filename(ar, out1, 10240), ARCHIVE_OK);
    struct archive_entry *ae;
    while (archive_read_next_header(ar, &ae) == ARCHIVE_OK) {
        assert_int_equal(archive_entry_mode(ae), AE_IFREG | 0644);
        assert_int_equal(archive_entry_mtime(ae), 0);
        assert_int_equal(archive_entry_uid(ae), 0);
        assert_int_equal(archive_entry_gid(ae), 0);
        const char *un = archive_entry_uname(ae);
        assert_true(!un || !*un);
    }
    archive_read_free(ar);
    /* The gzip header carries no time. */
    assert_int_equal(d1[4] | d1[5] | d1[6] | d1[7], 0);

    /* An empty archive is a valid archive. */
    assert_int_equal(targz_write(out2, NULL, NULL, 0, &e), 0);
    r = read_path(out2, NULL, NULL, NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.nents, 0);
    arena_free(r.a);

    /* Refusals, and no output file left behind. */
    static const struct {
        const char *arc, *disk, *msg;
        int status;
    } bad[] = {
        {"../x", NULL, "escapes the archive", 422},      {"/abs", NULL, "absolute path", 422},
        {"./a", NULL, "not in normal form", 400},        {"a//b", NULL, "not in normal form", 400},
        {"a/", NULL, "not in normal form", 400},         {"depot.json", NULL, "given twice", 400},
        {"ok", "/nonexistent/file", "cannot read", 400}, {"ok", "/tmp", "not a regular file", 400},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *ap[] = {"depot.json", bad[i].arc};
        const char *dp[] = {a, bad[i].disk ? bad[i].disk : a};
        unlink(out2);
        if (targz_write(out2, ap, dp, 2, &e) != -1)
            fail_msg("%s accepted", bad[i].arc);
        if (e.status != bad[i].status || !strstr(e.message, bad[i].msg))
            fail_msg("%s: %d %s", bad[i].arc, e.status, e.message);
        assert_int_equal(access(out2, F_OK), -1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_entries), cmocka_unit_test(test_strip_package),
        cmocka_unit_test(test_regular_only),
        cmocka_unit_test(test_unsafe_paths), cmocka_unit_test(test_limits),
        cmocka_unit_test(test_ratio_bomb),   cmocka_unit_test(test_not_targz),
        cmocka_unit_test(test_write),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
