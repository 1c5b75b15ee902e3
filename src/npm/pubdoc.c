/*
 * pubdoc.c — the publish document: a strict JSON scanner that finds the
 * attachments' data strings, jansson for the rest, and a streaming base64
 * decoder with SHA-1/256/512 (see pubdoc.h).
 *
 * The scanner only has to agree with jansson on where strings and values
 * begin and end; jansson still validates everything it is given (UTF-8,
 * numbers, duplicate keys). Key names are compared as raw bytes: a document
 * that spells "_attachments" or "data" with \u escapes is caught afterwards,
 * because jansson then sees an attachment whose data was not cut out.
 */
#include "pubdoc.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/crypto.h"

enum role {
    R_ANY,  /* any value */
    R_TOP,  /* the document: an object */
    R_ATTS, /* the value of the top-level "_attachments" */
    R_ATT,  /* one attachment */
};

struct span {
    bool has;
    size_t off, len;
};

struct scan {
    const char *p;
    size_t n, i;
    int depth;
    int natt;       /* members of _attachments seen */
    bool atts_seen; /* a top-level "_attachments" key was scanned */
    struct span att[NPM_MAX_ATTACHMENTS];
    derr *e;
};

static int bad(struct scan *s, const char *what)
{
    return derr_set(s->e, 400, "bad_request", "the request body is not valid JSON: %s at byte %zu", what,
                    s->i);
}

static void ws(struct scan *s)
{
    while (s->i < s->n &&
           (s->p[s->i] == ' ' || s->p[s->i] == '\t' || s->p[s->i] == '\n' || s->p[s->i] == '\r'))
        s->i++;
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A string at s->i; sets the span of its inside. */
static int str(struct scan *s, size_t *start, size_t *len)
{
    if (s->i >= s->n || s->p[s->i] != '"')
        return bad(s, "expected a string");
    s->i++;
    size_t b = s->i;
    while (s->i < s->n) {
        unsigned char c = (unsigned char)s->p[s->i];
        if (c == '"') {
            *start = b;
            *len = s->i - b;
            s->i++;
            return 0;
        }
        if (c < 0x20)
            return bad(s, "a control character inside a string");
        if (c == '\\') {
            if (++s->i >= s->n)
                break;
            switch (s->p[s->i]) {
            case '"':
            case '\\':
            case '/':
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't':
                break;
            case 'u':
                if (s->i + 4 >= s->n || !is_hex(s->p[s->i + 1]) || !is_hex(s->p[s->i + 2]) ||
                    !is_hex(s->p[s->i + 3]) || !is_hex(s->p[s->i + 4]))
                    return bad(s, "a bad \\u escape");
                s->i += 4;
                break;
            default:
                return bad(s, "a bad escape");
            }
        }
        s->i++;
    }
    return bad(s, "an unterminated string");
}

static bool key_is(struct scan *s, size_t start, size_t len, const char *k)
{
    return len == strlen(k) && memcmp(s->p + start, k, len) == 0;
}

static int value(struct scan *s, enum role role, int att);

/* Steps into an object or array at its opening bracket: 1 when items follow, 0 when close ends it
 * at once, -1 when it nests too deep. */
static int enter(struct scan *s, char close)
{
    if (++s->depth > NPM_MAX_DEPTH)
        return bad(s, "nesting too deep");
    s->i++; /* the opening bracket */
    ws(s);
    if (s->i < s->n && s->p[s->i] == close) {
        s->i++;
        s->depth--;
        return 0;
    }
    return 1;
}

/* After an item: 1 on ',' (another follows), 0 when close ends the object or array, else -1. */
static int next(struct scan *s, char close)
{
    ws(s);
    if (s->i < s->n && s->p[s->i] == ',') {
        s->i++;
        return 1;
    }
    if (s->i < s->n && s->p[s->i] == close) {
        s->i++;
        s->depth--;
        return 0;
    }
    return bad(s, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
}

static int object(struct scan *s, enum role role, int att)
{
    int more = enter(s, '}');
    while (more > 0) {
        ws(s);
        size_t ks, kl;
        if (str(s, &ks, &kl) < 0)
            return -1;
        ws(s);
        if (s->i >= s->n || s->p[s->i] != ':')
            return bad(s, "expected ':'");
        s->i++;
        ws(s);
        if (role == R_TOP && key_is(s, ks, kl, "_attachments")) {
            s->atts_seen = true;
            if (value(s, R_ATTS, -1) < 0)
                return -1;
        } else if (role == R_ATTS) {
            if (s->natt == NPM_MAX_ATTACHMENTS)
                return derr_set(s->e, 400, "bad_request", "_attachments: at most %d attachments",
                                NPM_MAX_ATTACHMENTS);
            int k = s->natt++;
            if (value(s, R_ATT, k) < 0)
                return -1;
        } else if (role == R_ATT && key_is(s, ks, kl, "data") && s->i < s->n && s->p[s->i] == '"') {
            if (s->att[att].has)
                return bad(s, "a duplicate \"data\" key");
            s->att[att].has = true;
            if (str(s, &s->att[att].off, &s->att[att].len) < 0)
                return -1;
        } else if (value(s, R_ANY, -1) < 0) {
            return -1;
        }
        more = next(s, '}');
    }
    return more;
}

static int array(struct scan *s)
{
    int more = enter(s, ']');
    while (more > 0) {
        if (value(s, R_ANY, -1) < 0)
            return -1;
        more = next(s, ']');
    }
    return more;
}

static int literal(struct scan *s, const char *word)
{
    size_t n = strlen(word);
    if (s->n - s->i < n || memcmp(s->p + s->i, word, n) != 0)
        return bad(s, "an unexpected character");
    s->i += n;
    return 0;
}

static int value(struct scan *s, enum role role, int att)
{
    ws(s);
    if (s->i >= s->n)
        return bad(s, "an unexpected end");
    char c = s->p[s->i];
    if (c == '{')
        return object(s, role, att);
    if (role == R_TOP)
        return bad(s, "the document must be a JSON object");
    if (c == '[')
        return array(s);
    if (c == '"') {
        size_t a, b;
        return str(s, &a, &b);
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        /* jansson checks the number's grammar; here it only has to end where jansson's does. */
        while (s->i < s->n &&
               ((s->p[s->i] >= '0' && s->p[s->i] <= '9') || s->p[s->i] == '-' || s->p[s->i] == '+' ||
                s->p[s->i] == '.' || s->p[s->i] == 'e' || s->p[s->i] == 'E'))
            s->i++;
        return 0;
    }
    if (c == 't')
        return literal(s, "true");
    if (c == 'f')
        return literal(s, "false");
    if (c == 'n')
        return literal(s, "null");
    return bad(s, "an unexpected character");
}

static void decref(void *p)
{
    json_decref(p);
}

int npm_doc_parse(arena *a, const char *p, size_t n, size_t max_doc, npm_doc *out, derr *e)
{
    memset(out, 0, sizeof *out);
    struct scan s = {.p = p, .n = n, .e = e};
    if (n == 0)
        return derr_set(e, 400, "bad_request", "the request body is empty; a JSON document was expected");
    if (value(&s, R_TOP, -1) < 0)
        return -1;
    ws(&s);
    if (s.i != n)
        return bad(&s, "text after the document");

    /* The document without the attachments' data. */
    size_t cut = 0;
    for (int k = 0; k < s.natt; k++)
        if (s.att[k].has)
            cut += s.att[k].len;
    size_t len = n - cut;
    if (len > max_doc)
        return derr_set(e, 413, "payload_too_large",
                        "the publish document is larger than %zu bytes without its attachments", max_doc);
    char *text = malloc(len ? len : 1);
    if (!text)
        return derr_set(e, 500, "internal", "out of memory");
    size_t from = 0, w = 0;
    for (int k = 0; k < s.natt; k++) {
        if (!s.att[k].has)
            continue;
        memcpy(text + w, p + from, s.att[k].off - from);
        w += s.att[k].off - from;
        from = s.att[k].off + s.att[k].len;
    }
    memcpy(text + w, p + from, n - from);
    w += n - from;
    json_error_t je;
    json_t *doc = json_loadb(text, w, JSON_REJECT_DUPLICATES, &je);
    free(text);
    if (!doc)
        return derr_set(e, 400, "bad_request", "the request body is not valid JSON: %s", je.text);
    arena_on_free(a, decref, doc);
    out->doc = doc;

    json_t *atts = json_object_get(doc, "_attachments");
    if (atts && !json_is_object(atts) && !json_is_null(atts))
        return derr_set(e, 400, "bad_request", "_attachments: expected an object");
    size_t jn = json_is_object(atts) ? json_object_size(atts) : 0;
    if (jn != (size_t)s.natt || (jn && !s.atts_seen))
        return derr_set(e, 400, "bad_request", "_attachments: write the key without escapes");
    const char *key;
    json_t *v;
    int k = 0;
    if (jn) {
        json_object_foreach(atts, key, v)
        {
            npm_att *at = &out->att[k];
            at->name = key;
            at->obj = v;
            at->has_data = s.att[k].has;
            at->data_off = s.att[k].off;
            at->data_len = s.att[k].len;
            json_t *d = json_object_get(v, "data");
            if (!at->has_data && json_is_string(d) && json_string_length(d) > 0)
                return derr_set(e, 400, "bad_request",
                                "_attachments.%.100s.data: write the key without escapes", key);
            k++;
        }
    }
    out->natt = k;
    return 0;
}

/* ---- base64 ---- */

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

struct sink {
    int fd;
    uint64_t max, size;
    unsigned char buf[65536];
    size_t len;
    EVP_MD_CTX *sha1, *sha512;
    sha256_ctx sha256;
};

static int flush(struct sink *k, derr *e)
{
    EVP_DigestUpdate(k->sha1, k->buf, k->len);
    EVP_DigestUpdate(k->sha512, k->buf, k->len);
    sha256_update(&k->sha256, k->buf, k->len);
    const unsigned char *p = k->buf;
    size_t left = k->len;
    while (left) {
        ssize_t w = write(k->fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return derr_storage(e, w < 0 ? errno : ENOSPC, "the server's storage for uploads");
        p += w;
        left -= (size_t)w;
    }
    k->len = 0;
    return 0;
}

static int put(struct sink *k, const unsigned char *b, size_t n, derr *e)
{
    if (k->size + n > k->max)
        return derr_set(e, 413, "payload_too_large", "the tarball is larger than %llu bytes",
                        (unsigned long long)k->max);
    k->size += n;
    if (k->len + n > sizeof k->buf && flush(k, e) < 0)
        return -1;
    memcpy(k->buf + k->len, b, n);
    k->len += n;
    return 0;
}

/* Writes the bytes of one quantum q[0..3]: nbytes of them (1 to 3). */
static int emit(struct sink *k, const unsigned q[4], size_t nbytes, derr *e)
{
    unsigned char b[3] = {(unsigned char)(q[0] << 2 | q[1] >> 4), (unsigned char)(q[1] << 4 | q[2] >> 2),
                          (unsigned char)(q[2] << 6 | q[3])};
    return put(k, b, nbytes, e);
}

static int decode(const char *p, size_t n, struct sink *k, derr *e)
{
    unsigned q[4] = {0};
    int nq = 0, pad = 0;
    bool done = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\\') {
            if (++i >= n)
                return derr_set(e, 400, "bad_request", "attachment data: a broken escape");
            if (p[i] == 'n' || p[i] == 'r')
                continue;
            if (p[i] != '/')
                return derr_set(e, 400, "bad_request", "attachment data: an escape that is not base64");
            c = '/';
        }
        if (done)
            return derr_set(e, 400, "bad_request", "attachment data: base64 after its padding");
        if (c == '=') {
            if (nq < 2)
                return derr_set(e, 400, "bad_request", "attachment data: misplaced base64 padding");
            pad++;
            q[nq++] = 0;
        } else {
            int v = b64val(c);
            if (v < 0)
                return derr_set(e, 400, "bad_request", "attachment data: a character that is not base64");
            if (pad)
                return derr_set(e, 400, "bad_request", "attachment data: base64 after its padding");
            q[nq++] = (unsigned)v;
        }
        if (nq == 4) {
            if (emit(k, q, (size_t)(3 - pad), e) < 0)
                return -1;
            nq = 0;
            done = pad > 0;
        }
    }
    if (nq == 0)
        return 0;
    if (pad || nq == 1)
        return derr_set(e, 400, "bad_request", "attachment data: truncated base64");
    /* An unpadded tail: 2 characters make 1 byte, 3 make 2. */
    for (int j = nq; j < 4; j++)
        q[j] = 0;
    return emit(k, q, (size_t)(nq - 1), e);
}

int npm_b64_decode_fd(const char *p, size_t n, int fd, uint64_t max, npm_sums *out, derr *e)
{
    memset(out, 0, sizeof *out);
    struct sink *k = calloc(1, sizeof *k);
    if (!k)
        return derr_set(e, 500, "internal", "out of memory");
    k->fd = fd;
    k->max = max;
    k->sha1 = EVP_MD_CTX_new();
    k->sha512 = EVP_MD_CTX_new();
    sha256_init(&k->sha256);
    int rc = -1;
    if (!k->sha1 || !k->sha512 || !EVP_DigestInit_ex(k->sha1, EVP_sha1(), NULL) ||
        !EVP_DigestInit_ex(k->sha512, EVP_sha512(), NULL)) {
        derr_set(e, 500, "internal", "cannot set up the digests");
        goto out;
    }
    if (decode(p, n, k, e) < 0 || flush(k, e) < 0)
        goto out;
    out->size = k->size;
    EVP_DigestFinal_ex(k->sha1, out->sha1, NULL);
    EVP_DigestFinal_ex(k->sha512, out->sha512, NULL);
    sha256_final(&k->sha256, out->sha256);
    rc = 0;
out:
    EVP_MD_CTX_free(k->sha1);
    EVP_MD_CTX_free(k->sha512);
    free(k);
    return rc;
}
