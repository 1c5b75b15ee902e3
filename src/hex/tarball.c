/*
 * tarball.c — the Hex tarball v3 reader (tarball.h).
 *
 * The outer tar is walked header by header with pread: each 512-byte
 * header's checksum is verified, sizes are octal (base-256 sizes are
 * refused: no member may be that large), pax extended headers are skipped,
 * and every other entry type is refused. The small members are read into
 * the arena; the inner checksum is computed from the file ranges; then
 * contents.tar.gz is copied into a memfd and read by lib/targz under the
 * caps, which also normalises and checks its paths.
 */
#include "tarball.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../lib/crypto.h"
#include "../lib/targz.h"

#define BLOCK 512
#define README_READ (8u << 20)

static const char *const members[] = {"VERSION", "CHECKSUM", "metadata.config", "contents.tar.gz"};
enum { M_VERSION, M_CHECKSUM, M_METADATA, M_CONTENTS, M_COUNT };

typedef struct member {
    uint64_t off, size;
    int seen;
} member;

static int tar_bad(derr *e, const char *why)
{
    return derr_set(e, 422, "invalid", "tar: %s", why);
}

/* tar_bad with a formatted reason (fmt is a literal). */
#define tar_badf(e, fmt, ...) derr_set(e, 422, "invalid", "tar: " fmt, __VA_ARGS__)

static int read_at(int fd, void *p, size_t n, uint64_t off, derr *e)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (char *)p + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return derr_set(e, 500, "internal", "cannot read the upload");
        if (r == 0)
            return tar_bad(e, "the archive is truncated");
        got += (size_t)r;
    }
    return 0;
}

/* An octal header field; -1 when it is not one. */
static int64_t octal(const unsigned char *f, size_t n)
{
    size_t i = 0;
    while (i < n && (f[i] == ' ' || f[i] == '\0'))
        i++;
    if (i == n)
        return 0;
    if ((f[i] & 0x80))
        return -1; /* base-256: only for sizes no member may have */
    int64_t v = 0;
    for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
        if (v > (INT64_MAX >> 3))
            return -1;
        v = v * 8 + (f[i] - '0');
    }
    for (; i < n; i++)
        if (f[i] != ' ' && f[i] != '\0')
            return -1;
    return v;
}

static int header_ok(const unsigned char *h)
{
    int64_t want = octal(h + 148, 8);
    if (want < 0)
        return 0;
    int64_t sum = 0;
    for (int i = 0; i < BLOCK; i++)
        sum += (i >= 148 && i < 156) ? ' ' : h[i];
    return sum == want;
}

static int all_zero(const unsigned char *h)
{
    for (int i = 0; i < BLOCK; i++)
        if (h[i])
            return 0;
    return 1;
}

/* Walks the outer tar and locates the four members. */
static int locate(int fd, uint64_t size, member m[M_COUNT], derr *e)
{
    uint64_t off = 0;
    int next = 0;
    unsigned char h[BLOCK];
    int ended = 0;
    while (off + BLOCK <= size) {
        if (read_at(fd, h, BLOCK, off, e) < 0)
            return -1;
        if (all_zero(h)) {
            ended = 1;
            break;
        }
        if (!header_ok(h))
            return tar_bad(e, "not a tar archive (bad header checksum)");
        int64_t sz = octal(h + 124, 12);
        if (sz < 0 || (uint64_t)sz > size)
            return tar_bad(e, "an entry has a bad size");
        uint64_t data = off + BLOCK;
        uint64_t padded = ((uint64_t)sz + BLOCK - 1) / BLOCK * BLOCK;
        if (data + (uint64_t)sz > size)
            return tar_bad(e, "the archive is truncated");
        char type = (char)h[156];
        if (type == 'x' || type == 'g') {
            /* pax extended headers carry attributes, not members; names we need fit the header. */
            off = data + padded;
            continue;
        }
        char name[256 + 2];
        size_t pl = strnlen((const char *)h + 345, 155);
        size_t nl = strnlen((const char *)h, 100);
        int ustar = memcmp(h + 257, "ustar", 5) == 0;
        if (ustar && pl)
            snprintf(name, sizeof name, "%.*s/%.*s", (int)pl, (const char *)h + 345, (int)nl,
                     (const char *)h);
        else
            snprintf(name, sizeof name, "%.*s", (int)nl, (const char *)h);
        const char *nm = strncmp(name, "./", 2) == 0 ? name + 2 : name;
        if (type != '0' && type != '\0')
            return tar_badf(e, "'%.200s' is not a regular file", nm);
        int which = -1;
        for (int i = 0; i < M_COUNT; i++)
            if (strcmp(nm, members[i]) == 0)
                which = i;
        if (which < 0)
            return tar_badf(e,
                            "unexpected file '%.200s' (a package holds VERSION, CHECKSUM, "
                            "metadata.config and contents.tar.gz)",
                            nm);
        if (m[which].seen)
            return tar_badf(e, "'%s' appears twice", members[which]);
        if (which != next)
            return tar_badf(e,
                            "'%s' is out of order (expected VERSION, CHECKSUM, metadata.config, "
                            "contents.tar.gz)",
                            members[which]);
        m[which] = (member){data, (uint64_t)sz, 1};
        next++;
        off = data + padded;
    }
    if (!ended)
        return tar_bad(e, "the archive is truncated (no end-of-archive marker)");
    for (int i = 0; i < M_COUNT; i++)
        if (!m[i].seen)
            return tar_badf(e, "missing files: %s", members[i]);
    return 0;
}

static int sha_range(int fd, sha256_ctx *c, uint64_t off, uint64_t n, derr *e)
{
    char b[65536];
    while (n) {
        size_t k = n < sizeof b ? (size_t)n : sizeof b;
        if (read_at(fd, b, k, off, e) < 0)
            return -1;
        sha256_update(c, b, k);
        off += k;
        n -= k;
    }
    return 0;
}

/* A copy of a file range in an anonymous memory file, positioned at 0; -1 with e on failure. */
static int memfd_copy(int fd, uint64_t off, uint64_t n, derr *e)
{
    int mfd = memfd_create("hex-contents", MFD_CLOEXEC);
    if (mfd < 0)
        return derr_set(e, 500, "internal", "cannot read the upload");
    char b[65536];
    while (n) {
        size_t k = n < sizeof b ? (size_t)n : sizeof b;
        if (read_at(fd, b, k, off, e) < 0 || write(mfd, b, k) != (ssize_t)k) {
            close(mfd);
            if (!e || !e->status)
                derr_set(e, 500, "internal", "cannot read the upload");
            return -1;
        }
        off += k;
        n -= k;
    }
    lseek(mfd, 0, SEEK_SET);
    return mfd;
}

/* Does a link from `path` to `target` stay inside the package? */
static int link_inside(const char *path, const char *target, int hard)
{
    if (!target || !*target || target[0] == '/')
        return 0;
    /* Depth of the directory holding path (hard links name a path from the root). */
    int depth = 0;
    if (!hard)
        for (const char *p = path; *p; p++)
            depth += *p == '/';
    const char *p = target;
    while (*p) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (--depth < 0)
                return 0;
        } else if (!(n == 1 && p[0] == '.') && n > 0) {
            depth++;
        }
        p += n;
        while (*p == '/')
            p++;
    }
    return 1;
}

static bool want_readme(const char *path, void *ctx)
{
    (void)ctx;
    return !strchr(path, '/') && strncasecmp(path, "readme", 6) == 0;
}

/* VERSION (must say 3) into ver, and CHECKSUM as the 32 bytes it names into want. */
static int read_version_checksum(int fd, const member *m, char ver[HEX_MAX_VERSION_FILE + 1],
                                 unsigned char want[32], derr *e)
{
    if (m[M_VERSION].size > HEX_MAX_VERSION_FILE || m[M_CHECKSUM].size > HEX_MAX_CHECKSUM_FILE)
        return tar_bad(e, "VERSION or CHECKSUM is too big");
    char sum[HEX_MAX_CHECKSUM_FILE + 1];
    if (read_at(fd, ver, m[M_VERSION].size, m[M_VERSION].off, e) < 0 ||
        read_at(fd, sum, m[M_CHECKSUM].size, m[M_CHECKSUM].off, e) < 0)
        return -1;
    ver[m[M_VERSION].size] = sum[m[M_CHECKSUM].size] = '\0';
    if (strcmp(ver, "3") != 0)
        return tar_bad(e, "unsupported package version (VERSION should be 3)");
    size_t wl = 0;
    if (m[M_CHECKSUM].size != 64 || hex_decode(sum, 64, want, 32, &wl) < 0 || wl != 32)
        return tar_bad(e, "CHECKSUM should be 64 hexadecimal digits");
    return 0;
}

/* contents.tar.gz: every entry a file, a folder or a link inside the package;
 * the file count, the README and the build tools the paths suggest into out. */
static int read_contents(arena *a, int fd, const member *m, const hex_limits *lim, hex_tarball *out, derr *e)
{
    out->contents_size = m[M_CONTENTS].size;
    int mfd = memfd_copy(fd, m[M_CONTENTS].off, m[M_CONTENTS].size, e);
    if (mfd < 0)
        return -1;
    /* A README up to README_READ is read (and then capped for display); a bigger one is refused by
     * targz as a wanted file over max_entry, so the cap is generous. */
    targz_limits tl = {.max_entries = 100000,
                       .max_total = lim->max_uncompressed,
                       .max_entry = README_READ,
                       .max_ratio = 1000};
    targz_entry *ents;
    targz_file *files;
    int nents, nfiles;
    derr te;
    int rc = targz_read(a, mfd, &tl, want_readme, NULL, &ents, &nents, &files, &nfiles, &te);
    close(mfd);
    if (rc < 0) {
        if (te.status >= 500)
            return derr_set(e, te.status, te.code, "%s", te.message);
        return derr_set(e, 422, "invalid", "tar: contents.tar.gz: %s", te.message);
    }
    const char **paths = arena_alloc(a, sizeof *paths * (size_t)(nents ? nents : 1));
    int np = 0;
    for (int i = 0; i < nents; i++) {
        const targz_entry *en = &ents[i];
        if (en->type == 'o')
            return derr_set(e, 422, "invalid", "tar: contents.tar.gz: '%.200s' is a special file", en->path);
        if ((en->type == 'l' || en->type == 'h') && !link_inside(en->path, en->link, en->type == 'h'))
            return derr_set(e, 422, "invalid",
                            "tar: contents.tar.gz: the link '%.200s' points outside the package", en->path);
        if (en->type == 'f') {
            out->nfiles++;
            paths[np++] = en->path;
        }
    }
    if (out->nfiles == 0)
        return tar_bad(e, "package can't be empty");
    for (int i = 0; i < nfiles; i++) {
        if (strcasecmp(files[i].path, "README.md") == 0 || !out->readme) {
            out->readme = files[i].data;
            out->readme_len = files[i].len < HEX_MAX_README ? files[i].len : HEX_MAX_README;
        }
    }
    hex_guess_build_tools(&out->meta, paths, np);
    return 0;
}

int hex_tarball_read(arena *a, int fd, uint64_t size, const hex_limits *lim, hex_tarball *out, derr *e)
{
    memset(out, 0, sizeof *out);
    if (size > lim->max_tarball)
        return tar_badf(e, "too big (at most %llu bytes)", (unsigned long long)lim->max_tarball);
    if (size < BLOCK)
        return tar_bad(e, "not a tar archive");
    member m[M_COUNT] = {{0}};
    char ver[HEX_MAX_VERSION_FILE + 1];
    unsigned char want[32];
    if (locate(fd, size, m, e) < 0 || read_version_checksum(fd, m, ver, want, e) < 0)
        return -1;

    if (m[M_METADATA].size > HEX_MAX_METADATA)
        return derr_set(e, 422, "invalid", "tar: metadata.config is too big (at most %u bytes)",
                        HEX_MAX_METADATA);
    char *meta = arena_alloc(a, (size_t)m[M_METADATA].size + 1);
    if (read_at(fd, meta, (size_t)m[M_METADATA].size, m[M_METADATA].off, e) < 0)
        return -1;
    meta[m[M_METADATA].size] = '\0';

    /* The inner checksum over VERSION ‖ metadata.config ‖ contents.tar.gz (hex.md §1.6). */
    sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, ver, m[M_VERSION].size);
    sha256_update(&c, meta, (size_t)m[M_METADATA].size);
    if (sha_range(fd, &c, m[M_CONTENTS].off, m[M_CONTENTS].size, e) < 0)
        return -1;
    unsigned char got[32];
    sha256_final(&c, got);
    if (!ct_equal(got, 32, want, 32))
        return tar_bad(e, "checksum mismatch (CHECKSUM does not match the contents)");
    hex_encode(got, 32, out->inner_checksum);

    if (hex_metadata_parse(a, meta, (size_t)m[M_METADATA].size, &out->meta, e) < 0)
        return -1;
    return read_contents(a, fd, m, lim, out, e);
}
