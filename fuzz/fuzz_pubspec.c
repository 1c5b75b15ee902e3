/*
 * fuzz_pubspec.c — libFuzzer driver for pubspec_parse and pub_yaml_to_json
 * (src/pub/pubspec.c): any bytes as pubspec.yaml. The YAML → JSON step must
 * either refuse with 422 or give JSON that jansson reads back; a pubspec that
 * passes must have a valid name, a version that parses, JSON text, and every
 * dependency named with a requirement.
 *
 *   make fuzz FUZZERS=pubspec   (see fuzz/README.md)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pub/pubspec.h"
#include "pub/version.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    derr e;
    json_t *doc = pub_yaml_to_json((const char *)data, size, &e);
    if (doc) {
        buf b;
        buf_init(&b, 0);
        if (pub_json_write(&b, doc) < 0)
            abort();
        json_t *back = json_loadb(b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        if (!back)
            abort();
        json_decref(back);
        buf_free(&b);
        json_decref(doc);
    } else if (e.status != 422) {
        abort();
    }

    arena *a = arena_new(0);
    pubspec ps;
    if (pubspec_parse(a, (const char *)data, size, &ps, &e) == 0) {
        semver v;
        if (!ps.json || !pub_name_valid(ps.name) || pub_version_parse(a, ps.version, &v, NULL) < 0)
            abort();
        for (int i = 0; i < ps.ndeps; i++)
            if (!ps.deps[i].name || !ps.deps[i].requirement || !ps.deps[i].kind)
                abort();
    } else if (e.status != 422) {
        abort();
    }
    arena_free(a);
    return 0;
}
