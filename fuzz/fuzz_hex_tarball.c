/*
 * fuzz_hex_tarball.c — libFuzzer driver for hex_tarball_read
 * (src/hex/tarball.c): the outer tar, its members, the inner checksum,
 * metadata.config (src/hex/metadata.c, src/hex/term.c) and a read through
 * contents.tar.gz; then hex.pm's name, version and requirement rules, as a
 * publish applies them.
 *
 * Input: one byte of options, then
 *   bit 0 clear: the whole outer tar, as uploaded;
 *   bit 0 set:   two bytes (big-endian) giving the length of metadata.config,
 *                its text, then contents.tar.gz — gzipped here first when
 *                bit 1 is set (the input is then the inner tar). The driver
 *                writes VERSION, a correct CHECKSUM and the outer tar, so the
 *                fuzzer reaches the metadata and the contents instead of
 *                stopping at a checksum it cannot compute.
 *
 * Checked: a refusal is 422; an accepted tarball has a name, a version, an
 * app, every JSON member the header promises, a lower-case checksum (the
 * driver's own when it built the file), and a README within its cap.
 *
 *   make fuzz FUZZERS=hex_tarball   (see fuzz/README.md)
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "hex/tarball.h"
#include "lib/buf.h"
#include "lib/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Appends one ustar member (header, data, padding to 512 bytes). */
static void tar_add(buf *b, const char *name, const void *p, size_t n)
{
    unsigned char h[512] = {0};
    memcpy(h, name, strlen(name));
    memcpy(h + 100, "0000644", 7);
    memcpy(h + 108, "0000000", 7);
    memcpy(h + 116, "0000000", 7);
    snprintf((char *)h + 124, 12, "%011lo", (unsigned long)n);
    memcpy(h + 136, "14306054540", 11);
    memset(h + 148, ' ', 8);
    h[156] = '0';
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    unsigned sum = 0;
    for (size_t i = 0; i < sizeof h; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
    buf_append(b, h, sizeof h);
    buf_append(b, p, n);
    static const unsigned char zero[512];
    if (n % 512)
        buf_append(b, zero, 512 - n % 512);
}

/* gzip of p (a whole stream, default level) into out. */
static void gzip_into(buf *out, const void *p, size_t n)
{
    z_stream z = {0};
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        abort();
    size_t cap = deflateBound(&z, (uLong)n);
    unsigned char *o = malloc(cap);
    z.next_in = (unsigned char *)p;
    z.avail_in = (uInt)n;
    z.next_out = o;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END)
        abort();
    buf_append(out, o, cap - z.avail_out);
    deflateEnd(&z);
    free(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        crypto_init();
        init = 1;
    }
    if (size < 1)
        return 0;
    unsigned opts = data[0];
    data++;
    size--;

    buf file;
    buf_init(&file, 0);
    char want[65] = "";
    if (opts & 1) {
        if (size < 2)
            goto out;
        size_t ml = (size_t)data[0] << 8 | data[1];
        data += 2;
        size -= 2;
        if (ml > size)
            ml = size;
        buf contents;
        buf_init(&contents, 0);
        if (opts & 2)
            gzip_into(&contents, data + ml, size - ml);
        else
            buf_append(&contents, data + ml, size - ml);
        sha256_ctx c;
        unsigned char d[32];
        sha256_init(&c);
        sha256_update(&c, "3", 1);
        sha256_update(&c, data, ml);
        sha256_update(&c, contents.data, contents.len);
        sha256_final(&c, d);
        char upper[65];
        for (int i = 0; i < 32; i++) {
            snprintf(want + 2 * i, 3, "%02x", d[i]);
            snprintf(upper + 2 * i, 3, "%02X", d[i]);
        }
        tar_add(&file, "VERSION", "3", 1);
        tar_add(&file, "CHECKSUM", upper, 64);
        tar_add(&file, "metadata.config", data, ml);
        tar_add(&file, "contents.tar.gz", contents.data, contents.len);
        static const unsigned char end[1024];
        buf_append(&file, end, sizeof end);
        buf_free(&contents);
    } else {
        buf_append(&file, data, size);
    }

    int fd = memfd_create("hex", 0);
    if (fd < 0 || write(fd, file.data, file.len) != (ssize_t)file.len)
        abort();
    arena *a = arena_new(0);
    hex_limits lim = {.max_tarball = 1 << 20, .max_uncompressed = 4 << 20};
    hex_tarball t;
    derr e;
    if (hex_tarball_read(a, fd, file.len, &lim, &t, &e) == 0) {
        const hex_metadata *m = &t.meta;
        if (!m->name || !m->version || !m->app || !json_is_object(m->json) || !m->licenses || !m->links ||
            !m->files || !m->build_tools || !m->maintainers || m->nreqs < 0 || t.nfiles < 0)
            abort();
        if (strlen(t.inner_checksum) != 64 || (want[0] && strcmp(t.inner_checksum, want) != 0))
            abort();
        for (int i = 0; i < 64; i++)
            if (!isxdigit((unsigned char)t.inner_checksum[i]) || isupper((unsigned char)t.inner_checksum[i]))
                abort();
        if (t.readme ? t.readme_len > HEX_MAX_README : t.readme_len != 0)
            abort();
        for (int i = 0; i < m->nreqs; i++)
            if (!m->reqs[i].name || !m->reqs[i].requirement || !m->reqs[i].app)
                abort();
        derr ce;
        if (hex_check_name(m->name, "name", &ce) == 0 && hex_check_version(a, m->version, &ce) == 0)
            (void)hex_check_requirements(a, m, &ce);
    } else if (e.status != 422) {
        abort();
    }
    arena_free(a);
    close(fd);
out:
    buf_free(&file);
    return 0;
}
