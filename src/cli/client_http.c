/*
 * client_http.c — the client's one HTTP helper, over libcurl's easy API.
 *
 * Every command talks to the registry through client_call (a request with a
 * method, a path, a JSON body or a multipart form, and the saved credential;
 * back come the status, the body, its JSON and the request id) or, for
 * tarballs, client_download (streamed to a file and hashed on the way). One
 * easy handle is reused so that a command's calls share a connection. The
 * credential goes only to the registry's own origin: a download URL on
 * another host (a CDN, S3) never sees it. Bodies are capped, so a broken or
 * hostile server cannot make the client grow without bound.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "../lib/crypto.h"
#include "../lib/url.h"
#include "client.h"

typedef struct sink {
    buf body;
    client *c;
    char request_id[128];
} sink;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    sink *s = ud;
    if (buf_append(&s->body, p, size * n) < 0)
        return 0; /* over the cap: libcurl stops with CURLE_WRITE_ERROR */
    return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    char *rid = ud;
    size_t len = size * n;
    static const char name[] = "x-request-id:";
    if (len > sizeof name - 1 && strncasecmp(p, name, sizeof name - 1) == 0) {
        const char *v = p + sizeof name - 1;
        size_t vl = len - (sizeof name - 1);
        while (vl && (*v == ' ' || *v == '\t'))
            v++, vl--;
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
            vl--;
        if (vl >= 128)
            vl = 127;
        memcpy(rid, v, vl);
        rid[vl] = '\0';
    }
    return len;
}

/* The progress bar: only drawn when asked (publish on a terminal), to stderr. */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    int *last = ud;
    if (ultotal <= 0)
        return 0;
    int pct = (int)(ulnow * 100 / ultotal);
    if (pct == *last)
        return 0;
    *last = pct;
    char bar[31];
    int fill = pct * 30 / 100;
    for (int i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : ' ';
    bar[30] = '\0';
    fprintf(stderr, "\rupload [%s] %3d%% %.1f/%.1f KiB", bar, pct, (double)ulnow / 1024.0,
            (double)ultotal / 1024.0);
    if (pct == 100)
        fputc('\n', stderr);
    fflush(stderr);
    return 0;
}

/* Does url start with the registry's origin (scheme://host[:port], then '/' or the end)? */
static bool same_origin(const client *c, const char *url)
{
    const char *r = c->registry;
    const char *hs = strstr(r, "://");
    if (!hs)
        return false;
    const char *end = strchr(hs + 3, '/');
    size_t n = end ? (size_t)(end - r) : strlen(r);
    return strncmp(url, r, n) == 0 && (url[n] == '/' || url[n] == '\0' || url[n] == '?');
}

static const char *full_url(client *c, const char *path)
{
    if (strncmp(path, "http://", 7) == 0 || strncmp(path, "https://", 8) == 0)
        return path;
    return arena_printf(c->a, "%s%s", c->registry, path);
}

static void free_json(void *p)
{
    json_decref(p);
}

static void common_opts(CURL *h, const char *url)
{
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "depot-client/0.1.0");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 15L);
    /* no overall timeout (uploads may be large) but give up on a stalled transfer */
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
}

static int transport_error(client *c, CURLcode cc, const char *errbuf, const char *method, const char *url,
                           bool over_cap, derr *e)
{
    if (over_cap)
        return derr_set(e, 502, "too_large", "%s %s: the answer is larger than the client accepts", method,
                        url);
    return derr_set(e, 503, "unavailable", "%s %s: %s", method, url,
                    errbuf[0] ? errbuf : curl_easy_strerror(cc));
}

int client_expect(client *c, const char *method, const char *path, json_t *body, int want, const char *what,
                  client_resp *out)
{
    derr e;
    if (client_call(c, method, path, body, NULL, out, &e) < 0) {
        client_fail(&e);
        return -1;
    }
    long st = out->status;
    bool ok = want == CLIENT_ANY_2XX      ? st >= 200 && st <= 299
              : want == CLIENT_200_OR_204 ? st == 200 || st == 204
                                          : st == want;
    if (ok)
        return 0;
    client_fail_resp(c, what, out);
    return -1;
}

int client_call(client *c, const char *method, const char *path, json_t *body, curl_mime *mime,
                client_resp *out, derr *e)
{
    memset(out, 0, sizeof *out);
    CURL *h = client_curl(c);
    curl_easy_reset(h);
    const char *url = full_url(c, path);
    common_opts(h, url);
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);

    struct curl_slist *hdrs = NULL;
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    if (c->auth && same_origin(c, url)) {
        const char *line = arena_printf(c->a, "Authorization: %s", c->auth);
        hdrs = curl_slist_append(hdrs, line);
    }
    char *json_text = NULL;
    if (body) {
        json_text = json_dumps(body, JSON_COMPACT);
        if (!json_text) {
            curl_slist_free_all(hdrs);
            return derr_set(e, 500, "internal", "cannot encode the request");
        }
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, json_text);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(json_text));
    } else if (mime) {
        curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
        hdrs = curl_slist_append(hdrs, "Expect:");
    }
    if (strcmp(method, "GET") == 0)
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    else if (!body && !mime && (strcmp(method, "PUT") == 0 || strcmp(method, "POST") == 0)) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);

    sink s = {.c = c};
    buf_init(&s.body, CLIENT_MAX_DOC);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, s.request_id);
    int last = -1;
    if (c->progress && mime) {
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, &last);
    }

    CURLcode cc = curl_easy_perform(h);
    if (last >= 0 && last < 100)
        fputc('\n', stderr);
    curl_slist_free_all(hdrs);
    if (json_text) /* it may hold a password */
        sodium_memzero(json_text, strlen(json_text));
    free(json_text);
    int rc = 0;
    if (cc != CURLE_OK) {
        rc = transport_error(c, cc, errbuf, method, url, cc == CURLE_WRITE_ERROR, e);
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    out->len = s.body.len;
    out->body = s.body.len ? arena_memdup(c->a, s.body.data, s.body.len + 1) : arena_strdup(c->a, "");
    out->request_id = s.request_id[0] ? arena_strdup(c->a, s.request_id) : NULL;
    if (out->len) {
        out->json = json_loadb(out->body, out->len, JSON_DECODE_ANY, NULL);
        if (out->json)
            arena_on_free(c->a, free_json, out->json);
    }
out:
    buf_free(&s.body);
    return rc;
}

/* ---- downloads ----------------------------------------------------------------------------- */

typedef struct dl_sink {
    int fd;
    uint64_t got, max;
    sha256_ctx sha;
    buf err;     /* the body of an error answer */
    long status; /* known once the body starts */
    CURL *h;
    bool over, io;
} dl_sink;

static size_t on_dl(char *p, size_t size, size_t n, void *ud)
{
    dl_sink *s = ud;
    size_t len = size * n;
    if (!s->status)
        curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &s->status);
    if (s->status < 200 || s->status > 299) {
        buf_append(&s->err, p, len); /* capped: the rest is dropped */
        return len;
    }
    if (len > s->max - s->got) {
        s->over = true;
        return 0;
    }
    for (size_t off = 0; off < len;) {
        ssize_t w = write(s->fd, p + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            s->io = true;
            return 0;
        }
        off += (size_t)w;
    }
    sha256_update(&s->sha, p, len);
    s->got += len;
    return len;
}

int client_download(client *c, const char *url, int fd, uint64_t max, unsigned char sha[32], derr *e)
{
    CURL *h = client_curl(c);
    curl_easy_reset(h);
    url = full_url(c, url);
    common_opts(h, url);
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, NULL); /* the exact bytes, never re-encoded */
    struct curl_slist *hdrs = NULL;
    if (c->auth && same_origin(c, url)) {
        hdrs = curl_slist_append(hdrs, arena_printf(c->a, "Authorization: %s", c->auth));
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    }
    dl_sink s = {.fd = fd, .max = max, .h = h};
    sha256_init(&s.sha);
    buf_init(&s.err, 64 * 1024);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_dl);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    CURLcode cc = curl_easy_perform(h);
    curl_slist_free_all(hdrs);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    int rc = 0;
    if (s.over)
        rc = derr_set(e, 502, "too_large", "GET %s: the tarball is larger than %llu bytes", url,
                      (unsigned long long)max);
    else if (s.io)
        rc = derr_set(e, 500, "internal", "cannot write the download: %s", strerror(errno));
    else if (cc != CURLE_OK)
        rc = transport_error(c, cc, errbuf, "GET", url, false, e);
    else if (status < 200 || status > 299) {
        client_resp r = {.status = status, .body = s.err.data ? s.err.data : (char *)""};
        json_t *j = s.err.len ? json_loadb(s.err.data, s.err.len, 0, NULL) : NULL;
        r.json = j;
        rc = derr_set(e, (int)status, "download", "GET %s: %s (HTTP %ld)", url, client_errmsg(c, &r), status);
        json_decref(j);
    } else
        sha256_final(&s.sha, sha);
    buf_free(&s.err);
    return rc;
}

/* ---- errors -------------------------------------------------------------------------------- */

const char *client_errmsg(client *c, const client_resp *r)
{
    json_t *err = json_object_get(r->json, "error");
    const char *m = json_string_value(json_object_get(err, "message"));
    if (m && m[0])
        return m;
    if (r->status == 0)
        return "no answer";
    switch (r->status) {
    case 401:
        return "not authenticated";
    case 403:
        return "not allowed";
    case 404:
        return "not found";
    case 409:
        return "conflict";
    case 413:
        return "too large";
    case 429:
        return "rate limited; try again later";
    case 502:
    case 503:
    case 504:
        return "the registry is unavailable";
    default:
        return "the registry answered with an error";
    }
}

int client_fail_resp(client *c, const char *what, const client_resp *r)
{
    fprintf(stderr, "depot: %s: %s (HTTP %ld", what, client_errmsg(c, r), r->status);
    if (r->status >= 500 && r->request_id)
        fprintf(stderr, ", request id %s", r->request_id);
    fprintf(stderr, ")\n");
    if (r->status == 401) {
        if (c->token)
            fprintf(stderr, "depot: the saved token for %s was refused; run `depot login` again\n",
                    c->registry);
        else
            fprintf(stderr, "depot: not logged in to %s; run `depot login`\n", c->registry);
    }
    return EXIT_FAIL;
}

const char *client_esc(client *c, const char *segment)
{
    return url_encode(c->a, segment, NULL); /* what curl_easy_escape writes, without a handle */
}
