/*
 * fuzz_multipart.c — libFuzzer driver for multipart_parse
 * (src/http/multipart.c). The first byte picks the read size (1 to 256
 * bytes, so delimiters split everywhere) and the limits; the rest is the
 * body, parsed with the boundary "q" (a short boundary the fuzzer finds
 * quickly). Every part it returns must be consistent (a field has its
 * value, a file part its temp file), and no temp file may outlive the arena.
 *
 *   make fuzz FUZZERS=multipart   (see fuzz/README.md)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "http/multipart.h"
#include "lib/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        crypto_init();
        init = 1;
    }
    if (size < 1)
        return 0;
    multipart_set_chunk_size((size_t)(data[0] & 0x3f) * 4 + 1);
    mp_limits lim = {
        .max_parts = 8, .max_field = 256, .max_file = 4096, .max_header = (data[0] & 0x40) ? 64 : 1024};
    data++;
    size--;
    int fd = memfd_create("body", 0);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size)
        abort();
    arena *a = arena_new(0);
    mp_part *parts;
    int n;
    derr e;
    if (multipart_parse(a, fd, size, "multipart/form-data; boundary=q", "/tmp", &lim, &parts, &n, &e) == 0) {
        for (int i = 0; i < n; i++) {
            if (!parts[i].name)
                abort();
            if (parts[i].filename ? (parts[i].fd < 0 || !parts[i].path || parts[i].value)
                                  : (!parts[i].value || parts[i].len != parts[i].size))
                abort();
        }
    } else if (e.status != 400 && e.status != 413) {
        abort();
    }
    arena_free(a);
    close(fd);
    return 0;
}
