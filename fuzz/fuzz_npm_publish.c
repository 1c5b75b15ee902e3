/*
 * fuzz_npm_publish.c — libFuzzer driver for the npm publish document
 * (src/npm/pubdoc.c): npm_doc_parse over any bytes, with a small cap on the
 * document without its attachments (so 413 is reached), then
 * npm_b64_decode_fd over every attachment's data with a small output cap.
 *
 * Checked: a parse either succeeds with an object whose attachments are
 * consistent — each data span lies inside the input between two quotes, and
 * jansson's copy of that data is the empty string — or fails with 400 or
 * 413; a decode either succeeds with a size within the cap and exactly that
 * many bytes written, or fails with 400 or 413. Nothing may outlive the arena.
 *
 *   make fuzz FUZZERS=npm_publish   (see fuzz/README.md)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/crypto.h"
#include "npm/pubdoc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        crypto_init();
        init = 1;
    }
    const char *p = (const char *)data;
    arena *a = arena_new(0);
    npm_doc d;
    derr e;
    if (npm_doc_parse(a, p, size, 4096, &d, &e) == 0) {
        if (!json_is_object(d.doc) || d.natt < 0 || d.natt > NPM_MAX_ATTACHMENTS)
            abort();
        for (int i = 0; i < d.natt; i++) {
            const npm_att *at = &d.att[i];
            if (!at->name || !at->obj)
                abort();
            if (!at->has_data)
                continue;
            if (at->data_off == 0 || at->data_off + at->data_len >= size || p[at->data_off - 1] != '"' ||
                p[at->data_off + at->data_len] != '"')
                abort();
            json_t *jd = json_object_get(at->obj, "data");
            if (!json_is_string(jd) || json_string_length(jd) != 0)
                abort();
            int fd = memfd_create("att", 0);
            if (fd < 0)
                abort();
            npm_sums s;
            derr de;
            if (npm_b64_decode_fd(p + at->data_off, at->data_len, fd, 1024, &s, &de) == 0) {
                struct stat st;
                if (s.size > 1024 || fstat(fd, &st) != 0 || (uint64_t)st.st_size != s.size ||
                    s.size > at->data_len)
                    abort();
            } else if (de.status != 400 && de.status != 413) {
                abort();
            }
            close(fd);
        }
    } else if (e.status != 400 && e.status != 413) {
        abort();
    }
    arena_free(a);
    return 0;
}
