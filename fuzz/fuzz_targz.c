/*
 * fuzz_targz.c — libFuzzer driver for targz_read (src/lib/targz.c): any
 * bytes as an archive (gzip or, when the first byte is odd, plain tar too),
 * with every regular file wanted. Each entry returned must have a safe,
 * normalised path; errors must be 400 or 422.
 *
 *   make fuzz FUZZERS=targz   (see fuzz/README.md)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/targz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool want_all(const char *path, void *ctx)
{
    (void)path;
    (void)ctx;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    targz_limits lim = {.max_entries = 100,
                        .max_total = 1 << 20,
                        .max_entry = 1 << 16,
                        .max_ratio = 100,
                        .flags =
                            (data[0] & 1 ? TARGZ_ALLOW_PLAIN : 0) | (data[0] & 2 ? TARGZ_STRIP_PACKAGE : 0)};
    data++;
    size--;
    int fd = memfd_create("tgz", 0);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET) != 0)
        abort();
    arena *a = arena_new(0);
    targz_entry *ents;
    targz_file *files;
    int ne, nf;
    derr e;
    if (targz_read(a, fd, &lim, want_all, NULL, &ents, &ne, &files, &nf, &e) == 0) {
        for (int i = 0; i < ne; i++) {
            const char *p = ents[i].path;
            if (!*p || *p == '/' || strstr(p, "//") || strlen(p) > 1024 || !strcmp(p, "..") ||
                !strncmp(p, "../", 3) || strstr(p, "/../") ||
                (strlen(p) >= 3 && !strcmp(p + strlen(p) - 3, "/..")))
                abort();
        }
        for (int i = 0; i < nf; i++)
            if (files[i].data[files[i].len] != '\0')
                abort();
    } else if (e.status != 400 && e.status != 422) {
        abort();
    }
    arena_free(a);
    close(fd);
    return 0;
}
