/*
 * fuzz_semver.c — libFuzzer driver for versions and requirements
 * (src/lib/semver.c, src/pub/version.c).
 *
 * Input: one byte of options (bits 0-1 the requirement dialect: native, npm,
 * hex, pub), then the requirement, then after the first newline a version.
 * The version goes through semver_parse and Dart's pub_version_parse, the
 * requirement through semver_req_parse in the chosen dialect, and the version
 * is matched against it.
 *
 * Checked: a version that parses prints (semver_str) to text that parses
 * back to the same version, equal under semver_cmp, and prints the same
 * again; a Dart version's canonical text parses back to itself and compares
 * equal, and a strict version is a Dart version and (without build metadata)
 * its own canonical text; a refused requirement carries a 422; an accepted one prints, and a
 * version it pins satisfies it; a version that matches without pre-releases
 * also matches with them allowed.
 *
 *   make fuzz FUZZERS=semver   (see fuzz/README.md)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/semver.h"
#include "pub/version.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_version(arena *a, const char *s, semver *v, bool *ok)
{
    *ok = semver_parse(a, s, v) == 0;
    if (*ok) {
        char *t = semver_str(a, v);
        semver w;
        if (!t || semver_parse(a, t, &w) < 0 || semver_cmp(v, &w) != 0 || semver_cmp(&w, v) != 0 ||
            strcmp(semver_str(a, &w), t) != 0 || (v->build == NULL) != (w.build == NULL) ||
            (v->build && strcmp(v->build, w.build) != 0))
            abort();
    }

    semver d;
    const char *canon;
    if (pub_version_parse(a, s, &d, &canon) == 0) {
        semver d2;
        const char *canon2;
        if (!canon || pub_version_parse(a, canon, &d2, &canon2) < 0 || strcmp(canon, canon2) != 0 ||
            pub_version_cmp(&d, &d2) != 0 || pub_version_prio(&d, &d2) != 0)
            abort();
        /* A strict SemVer version is its own canonical Dart form, but for build metadata
         * (where SemVer allows leading zeros and Dart drops them) and identifiers such as
         * "-0" (alphanumeric to SemVer, the integer 0 to Dart). */
        bool signed_id = *ok && v->pre && (v->pre[0] == '-' || strstr(v->pre, ".-"));
        if (*ok && !v->build && !signed_id && strcmp(canon, s) != 0)
            abort();
    } else if (*ok && strlen(s) <= PUB_VERSION_MAX && v->major <= INT64_MAX && v->minor <= INT64_MAX &&
               v->patch <= INT64_MAX) {
        abort(); /* every strict SemVer version is a Dart one, within its length and Dart's int */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum semver_dialect d = (enum semver_dialect)(data[0] & 3);
    data++;
    size--;
    /* Both texts as C strings (they stop at a NUL, as the callers' strings do). */
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    char *ver = strchr(text, '\n');
    if (ver)
        *ver++ = '\0';

    arena *a = arena_new(0);
    semver v;
    bool vok = false;
    if (ver)
        check_version(a, ver, &v, &vok);

    derr e;
    semver_req *r = semver_req_parse(a, d, text, &e);
    if (!r) {
        if (e.status != 422)
            abort();
    } else {
        if (!semver_req_str(a, r) || !semver_req_text(r))
            abort();
        const semver *pin = semver_req_pinned(r);
        if (pin && !semver_req_match(r, pin, true))
            abort();
        if (vok) {
            bool strict = semver_req_match(r, &v, false);
            bool loose = semver_req_match(r, &v, true);
            if (strict && !loose)
                abort();
        }
    }
    arena_free(a);
    free(text);
    return 0;
}
