/*
 * fuzz_etag.c — libFuzzer driver for conditional requests and content
 * negotiation in src/http/request.c: req_not_modified (If-None-Match against
 * a document's ETag) and resp_doc (the same, then the gzip variant when
 * Accept-Encoding takes it).
 *
 * Input: three lines — the ETag's inside (mapped to hex digits, as depot's
 * tags are), the If-None-Match value, the Accept-Encoding value. A missing
 * line is a missing header. The request's headers come from this driver's
 * MHD_lookup_connection_value, which takes the place of libmicrohttpd's (the
 * only call req_header makes); the responses are real libmicrohttpd ones.
 *
 * Checked: a 304 carries the ETag and happens only when If-None-Match holds
 * the tag or is "*"; a list member equal to the tag (or its weak W/ form)
 * always gives the 304; otherwise the document is sent with its ETag, and
 * gzipped only to a client whose Accept-Encoding names gzip, always to one
 * that sends exactly "gzip".
 *
 *   make fuzz FUZZERS=etag   (see fuzz/README.md)
 */
#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/documents.h"
#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *if_none_match, *accept_encoding;

const char *MHD_lookup_connection_value(struct MHD_Connection *connection, enum MHD_ValueKind kind,
                                        const char *key)
{
    if (kind != MHD_HEADER_KIND)
        return NULL;
    if (strcasecmp(key, "If-None-Match") == 0)
        return if_none_match;
    if (strcasecmp(key, "Accept-Encoding") == 0)
        return accept_encoding;
    return NULL;
}

/* Does the comma-separated list name etag, strong or weak (spaces around members ignored)? */
static bool lists(const char *inm, const char *etag)
{
    size_t el = strlen(etag);
    for (const char *p = inm;;) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, ",");
        size_t k = n;
        while (k && p[k - 1] == ' ')
            k--;
        if ((k == el && memcmp(p, etag, el) == 0) || (k == el + 2 && memcmp(p, "W/", 2) == 0 && memcmp(p + 2, etag, el) == 0))
            return true;
        if (!p[n])
            return false;
        p += n + 1;
    }
}

static void check_304(req *r, const char *etag, bool was)
{
    const char *inm = if_none_match;
    if (was) {
        const char *got = r->resp ? MHD_get_response_header(r->resp, "ETag") : NULL;
        if (r->status != 304 || !got || strcmp(got, etag) != 0 || !inm ||
            (!strstr(inm, etag) && strcmp(inm, "*") != 0))
            abort();
    } else if (inm && (lists(inm, etag) || strcmp(inm, "*") == 0)) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    char *line[3] = {text, NULL, NULL};
    for (int i = 1; i < 3 && line[i - 1]; i++) {
        char *nl = strchr(line[i - 1], '\n');
        if (nl) {
            *nl = '\0';
            line[i] = nl + 1;
        }
    }
    if_none_match = line[1];
    accept_encoding = line[2];

    cdoc d = {.data = "{}", .len = 2, .gz = "GZ", .gzlen = 2, .content_type = "application/json"};
    size_t n = strlen(line[0]);
    if (n > sizeof d.etag - 3)
        n = sizeof d.etag - 3;
    d.etag[0] = '"';
    for (size_t i = 0; i < n; i++)
        d.etag[1 + i] = "0123456789abcdef"[(unsigned char)line[0][i] & 15];
    d.etag[1 + n] = '"';
    d.etag[2 + n] = '\0';

    arena *a = arena_new(0);
    req r = {.a = a, .conn = (struct MHD_Connection *)&r};
    check_304(&r, d.etag, req_not_modified(&r, d.etag));
    if (r.resp)
        MHD_destroy_response(r.resp);

    req r2 = {.a = a, .conn = (struct MHD_Connection *)&r2};
    resp_doc(&r2, NULL, &d);
    if (!r2.resp)
        abort();
    if (r2.status == 304) {
        check_304(&r2, d.etag, true);
    } else {
        check_304(&r2, d.etag, false);
        const char *ce = MHD_get_response_header(r2.resp, "Content-Encoding");
        const char *tag = MHD_get_response_header(r2.resp, "ETag");
        if (r2.status != 200 || !tag || strcmp(tag, d.etag) != 0)
            abort();
        if (ce && (strcmp(ce, "gzip") != 0 || !accept_encoding || !strstr(accept_encoding, "gzip")))
            abort();
        if (!ce && accept_encoding && strcmp(accept_encoding, "gzip") == 0)
            abort();
    }
    MHD_destroy_response(r2.resp);
    arena_free(a);
    free(text);
    return 0;
}
