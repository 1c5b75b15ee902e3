/*
 * fuzz_etf.c — libFuzzer driver for the Hex API's Erlang term codec
 * (src/hex/etf.c): any bytes must decode to a JSON value or to -1 with a
 * 400, never crash or read past the input; a decoded value must encode and
 * decode back to an equal value (round trip).
 *
 *   make fuzz FUZZERS=etf   (see fuzz/README.md)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "hex/etf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *v = NULL;
    derr e;
    if (etf_decode(data, size, &v, &e) < 0) {
        if (v || e.status != 400)
            abort();
        return 0;
    }
    buf b;
    buf_init(&b, 0);
    if (etf_encode(v, &b) < 0)
        abort();
    json_t *w = NULL;
    if (etf_decode(b.data, b.len, &w, &e) < 0 || !json_equal(v, w))
        abort();
    json_decref(v);
    json_decref(w);
    buf_free(&b);
    return 0;
}
