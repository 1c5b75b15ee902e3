/*
 * fuzz_term.c — libFuzzer driver for the Erlang term text parser and the
 * metadata reader of Hex tarballs (src/hex/term.c, src/hex/metadata.c): any
 * bytes as metadata.config must give 0 or -1 with a 422, never a crash,
 * unbounded recursion or an over-read; parsed terms convert to JSON.
 *
 *   make fuzz FUZZERS=term   (see fuzz/README.md)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "hex/metadata.h"
#include "hex/term.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    arena *a = arena_new(0);
    term **forms;
    size_t n;
    derr e;
    if (term_parse(a, (const char *)data, size, &forms, &n, &e) == 0) {
        for (size_t i = 0; i < n; i++)
            json_decref(term_to_json(a, forms[i]));
    } else if (e.status != 422) {
        abort();
    }
    hex_metadata m;
    if (hex_metadata_parse(a, (const char *)data, size, &m, &e) == 0)
        hex_check_requirements(a, &m, &e);
    else if (e.status != 422)
        abort();
    arena_free(a);
    return 0;
}
