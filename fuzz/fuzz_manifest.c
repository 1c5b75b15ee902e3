/*
 * fuzz_manifest.c — libFuzzer driver for manifest_parse
 * (src/native/manifest.c): any bytes that jansson reads as JSON, checked
 * against rules with a category list and a reserved name. A manifest that
 * passes must have every array present and every dependency named.
 *
 *   make fuzz FUZZERS=manifest   (see fuzz/README.md)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "native/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const cats[] = {"parsing", "testing", NULL};
    static const char *const reserved[] = {"depot", NULL};
    const manifest_rules rules = {.categories = cats, .reserved = reserved};
    json_t *doc = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!doc)
        return 0;
    arena *a = arena_new(0);
    manifest m;
    derr e;
    if (manifest_parse(a, doc, &rules, &m, &e) == 0) {
        if (!m.name || !m.version || !m.authors || !m.keywords || !m.categories || !m.tags)
            abort();
        for (int i = 0; i < m.ndeps; i++)
            if (!m.deps[i].name || !m.deps[i].req)
                abort();
    } else if (e.status != 400 && e.status != 422) {
        abort();
    }
    arena_free(a);
    json_decref(doc);
    return 0;
}
