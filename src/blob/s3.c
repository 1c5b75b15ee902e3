/*
 * s3.c — the blob store in an S3-compatible object store (AWS S3, MinIO, Ceph,
 * Garage, ...), spoken to through libcurl with requests signed by SigV4
 * (lib/sigv4.h). Several depot servers share one bucket: a blob is an object
 * named PREFIX/ab/cd/<sha256hex>, the layout of file.c.
 *
 *   s3://BUCKET[/PREFIX]?OPTION=VALUE&...    (values percent-decoded; '+' stays '+')
 *     endpoint=URL          http(s)://HOST[:PORT] (default https://s3.REGION.amazonaws.com,
 *                           or AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL)
 *     region=NAME           default AWS_REGION, AWS_DEFAULT_REGION, else us-east-1
 *     path_style=0|1        1: ENDPOINT/BUCKET/KEY; 0: BUCKET.ENDPOINT-HOST/KEY (virtual host).
 *                           Default 1 with an endpoint given, 0 for AWS.
 *     access_key, secret_key, session_token
 *                           default AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
 *     public_endpoint=URL   where clients reach the store, for presigned URLs (default: endpoint)
 *     presign_ttl=SECONDS   life of a presigned URL (default 300)
 *     timeout=SECONDS       a request that moves no byte for this long is cut (default 30)
 *     connect_timeout=SECONDS (default 5)
 *     retries=N             more tries after a 5xx, a 429 or a network failure (default 3),
 *                           with exponential backoff and jitter from 100 ms
 *     cache=MIB             fetched blobs kept on local disk for the next download (default 256; 0: off)
 *     tmp=DIR               local folder for uploads and fetched bytes (config.c adds DATA/s3-tmp)
 *
 * Every call may wait on the network, so the store says `remote` and the
 * server runs the routes that reach it on its worker pool; none of this is
 * ever called from an HTTP event thread, except the non-blocking stream reads
 * (blob_stream) that serve a download.
 *
 * put_file hashes the local file first (a mismatch is 400 checksum_mismatch),
 * asks whether the object exists (HEAD: puts are idempotent), and streams the
 * file with x-amz-content-sha256 set to its real hash, so the store checks the
 * bytes it received too. A blob is recorded by the caller only after put_file
 * succeeded.
 *
 * Downloads (open_send) go through a spool: one thread per store (the pump)
 * drives every GET with a curl multi handle and writes the bytes into an
 * unnamed local file as fast as the store sends them, hashing them on the way;
 * readers (the HTTP response of each client) read the spool at their own pace
 * and are woken when more has arrived. So a slow client holds neither a thread
 * nor a connection to the store, memory stays bounded, and the last byte is
 * released only once the whole object matched its SHA-256. Concurrent
 * downloads of one blob share one spool; finished spools stay (up to cache=
 * MiB, least recently used first out) for the next download. `open` (the CLI,
 * pub's finalize) waits for the whole spool and gives an fd of its own.
 *
 * Failing to reach the store (network errors, 5xx, 429 after the retries) is
 * 503 "unavailable"; a store that answers something unexpected (403: wrong
 * credentials or policy) is 500 "internal". Details go to the log, never the
 * secret key, never into a derr.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "../lib/crypto.h"
#include "../lib/list.h"
#include "../lib/log.h"
#include "../lib/sigv4.h"
#include "../lib/url.h"
#include "../lib/xalloc.h"
#include "blob.h"
#include "blob_int.h"

#define ERRBODY_MAX 1024 /* what is kept of an error answer, for the log */
#define NBUCKETS 256     /* spool table */

/* Where requests go: "http://127.0.0.1:9000" + path "/bucket" (path style), or
 * "https://bucket.s3.amazonaws.com" + path "" (virtual host). host is the Host
 * header, which is signed. */
struct target {
    char *base; /* scheme://authority, no trailing slash */
    char *host; /* authority */
    char *path; /* "/BUCKET" or "" */
};

typedef struct spool spool;
typedef struct s3_store s3_store;

/* A GET in progress or done, into an unnamed local file. Fields under mu
 * unless said otherwise. */
enum sp_state {
    SP_FETCHING, /* no answer yet */
    SP_BODY,     /* 200 and its size known: bytes arriving */
    SP_DONE,     /* every byte here and its SHA-256 checked */
    SP_FAILED,   /* nothing more will come (logged) */
};

typedef struct sp_reader sp_reader;

struct spool {
    s3_store *s;
    char hex[65];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int fd;
    enum sp_state state;
    bool size_known;
    uint64_t size, have;
    long status;    /* the HTTP status of the answer (0: none) */
    bool transient; /* FAILED: worth another try */
    sp_reader *waiters;
    atomic_bool cancel; /* nobody wants it any more: the pump stops the fetch */

    /* The pump's, while it fetches (no lock: only the pump touches them). */
    CURL *easy;
    struct curl_slist *hdrs;
    char *url;
    sha256_ctx sha;
    long line_status; /* status line of the header block being read */
    uint64_t clen;
    bool clen_seen;
    buf errbody;
    char curl_err[CURL_ERROR_SIZE];
    spool *next_new; /* the pump's queue (under pump_mu) */
    spool *next_active;

    /* Under s->mu. */
    int refs;         /* users + the pump while it fetches */
    int users;        /* openers and readers */
    bool in_table;    /* findable by hex */
    bool in_lru;      /* idle and cached */
    bool nocache;     /* removed meanwhile: do not keep */
    spool *hnext;
    list_node lru; /* in s->lru while in_lru */
};

/* One reader of a spool: the blob_stream an HTTP response holds. */
struct sp_reader {
    blob_stream base;
    spool *sp;
    void (*wake)(void *);
    void *arg;
    bool armed; /* in sp->waiters (under sp->mu) */
    sp_reader *next;
};

/* A reader that only knows a size (HEAD requests): never read. */
typedef struct sized_stream {
    blob_stream base;
} sized_stream;

struct s3_store {
    blob_store base; /* first, so a blob_store * is an s3_store * */
    char *bucket;
    char *prefix; /* "" or "some/prefix/" */
    struct target api, pub;
    char *region, *access_key, *secret_key, *token;
    char *tmp;
    long timeout, connect_timeout, presign_ttl;
    int retries;
    uint64_t cache_max;

    /* Each thread keeps its own easy handle for the synchronous requests, and
     * with it its idle connections to the store (libcurl's shared connection
     * cache is not safe across threads). */
    pthread_key_t handle_key;
    bool key_made;

    pthread_mutex_t mu; /* the spool table and LRU, refs */
    spool *table[NBUCKETS];
    list lru; /* idle cached spools, most recently used first */
    uint64_t cached_bytes;

    pthread_mutex_t pump_mu;
    spool *incoming;
    bool stopping;
    CURLM *multi;
    pthread_t pump;
    bool pump_running;
    spool *active; /* the pump's own */
};

/* ---- small helpers ---- */

static int unavailable(derr *e)
{
    return derr_set(e, 503, "unavailable", "the blob store cannot be reached; try again shortly");
}

static int internal(derr *e)
{
    return derr_set(e, 500, "internal", "the blob store failed; see the server log");
}

/* PREFIX/ab/cd/<hex> */
static char *object_key(const s3_store *s, const char *hex)
{
    size_t n = strlen(s->prefix) + 7 + 64 + 1;
    char *k = xmalloc(n);
    snprintf(k, n, "%s%.2s/%.2s/%s", s->prefix, hex, hex + 2, hex);
    return k;
}

/* The encoded path of an object (key NULL: the bucket itself). */
static void object_uri(const struct target *t, const char *key, buf *out)
{
    buf_puts(out, t->path);
    if (key) {
        buf_puts(out, "/");
        sigv4_uri_encode(out, key, true);
    } else if (!t->path[0]) {
        buf_puts(out, "/");
    }
}

/* The S3 error code in an XML error body (<Code>NoSuchKey</Code>), for the log. */
static void s3_code(const buf *body, char out[64])
{
    out[0] = '\0';
    if (!body->data)
        return;
    const char *p = strstr(body->data, "<Code>");
    if (!p)
        return;
    p += 6;
    const char *q = strstr(p, "</Code>");
    if (!q)
        return;
    snprintf(out, 64, "%.*s", (int)(q - p < 63 ? q - p : 63), p);
}

/* One failed request, as a warning while it will be tried again, else an error. status 0: no
 * answer (curl_err says why). */
static void log_failure(bool final, const char *op, const char *hex, long status, const char *curl_err,
                        const buf *body)
{
    char st[16], code[64];
    snprintf(st, sizeof st, "%ld", status);
    s3_code(body, code);
    log_kv(final ? LOG_ERROR : LOG_WARN, "S3 request failed", "op", op, "key", hex ? hex : "-", "status", st,
           "error", curl_err && *curl_err ? curl_err : "-", "s3_code", code[0] ? code : "-", NULL);
}

/* A network failure, a 5xx or a 429 is worth another try; other answers are final. */
static bool transient(CURLcode cc, long status)
{
    if (cc != CURLE_OK)
        return true;
    return status >= 500 || status == 429;
}

/* Sleeps before try number `attempt` (1, 2, ...): 100 ms doubling, capped at 2 s, with jitter. */
static void backoff(int attempt)
{
    long ms = 100L << (attempt - 1 < 5 ? attempt - 1 : 5);
    if (ms > 2000)
        ms = 2000;
    unsigned r;
    random_bytes(&r, sizeof r);
    ms = ms / 2 + (long)(r % (unsigned)(ms / 2 + 1));
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Creates an unnamed file in dir (O_TMPFILE, or a name unlinked at once). */
static int unnamed_file(const char *dir)
{
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
        return fd;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/spool-XXXXXX", dir);
    fd = mkostemp(path, O_CLOEXEC);
    if (fd >= 0)
        unlink(path);
    return fd;
}

static int pwrite_all(int fd, const void *p, size_t n, uint64_t off)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = pwrite(fd, c, n, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

/* ---- signed requests ---- */

/* The headers every request carries, signed; Authorization last. */
static struct curl_slist *signed_headers(const s3_store *s, const struct target *t, const char *method,
                                         const char *uri, const char *payload_hash)
{
    char date[17];
    sigv4_amz_date((long long)time(NULL), date);
    sigv4_header h[4] = {
        {"host", t->host},
        {"x-amz-content-sha256", payload_hash},
        {"x-amz-date", date},
        {"x-amz-security-token", s->token},
    };
    size_t nh = s->token ? 4 : 3;
    sigv4_params p = {s->access_key, s->secret_key, s->region, "s3", date};
    buf line;
    buf_init(&line, 0);
    struct curl_slist *l = NULL;
    for (size_t i = 0; i < nh; i++) {
        buf_reset(&line);
        buf_printf(&line, "%s: %s", h[i].name, h[i].value);
        l = curl_slist_append(l, line.data);
    }
    buf_reset(&line);
    buf_puts(&line, "Authorization: ");
    sigv4_authorization(&line, &p, method, uri, "", h, nh, payload_hash);
    l = curl_slist_append(l, line.data);
    buf_free(&line);
    if (!l)
        xoom();
    return l;
}

static size_t keep_body(char *p, size_t sz, size_t n, void *arg)
{
    buf *b = arg;
    size_t len = sz * n;
    if (b->len < ERRBODY_MAX)
        buf_append(b, p, len < ERRBODY_MAX - b->len ? len : ERRBODY_MAX - b->len);
    return len;
}

struct upload {
    int fd;
    uint64_t off;
};

static size_t read_upload(char *p, size_t sz, size_t n, void *arg)
{
    struct upload *u = arg;
    for (;;) {
        ssize_t r = pread(u->fd, p, sz * n, (off_t)u->off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return CURL_READFUNC_ABORT;
        u->off += (uint64_t)r;
        return (size_t)r;
    }
}

/* libcurl rewinds an upload it must send again (a connection that died under a reused handle). */
static int seek_upload(void *arg, curl_off_t off, int origin)
{
    struct upload *u = arg;
    if (origin != SEEK_SET || off < 0)
        return CURL_SEEKFUNC_CANTSEEK;
    u->off = (uint64_t)off;
    return CURL_SEEKFUNC_OK;
}

static void common_opts(const s3_store *s, CURL *c, char *errbuf)
{
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, s->connect_timeout);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, s->timeout);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "depot");
    errbuf[0] = '\0';
}

/* One request (method on the object `hex`, or on the bucket when hex is NULL),
 * retried on transient failures. An upload sends up_fd's up_size bytes whose
 * SHA-256 is payload_hash. Fills *status and *clen (Content-Length, -1 when
 * none) with the final answer and returns 0; -1 (logged, e filled: 503) when
 * every try failed to get an answer worth having. */
static int request(s3_store *s, const char *op, const char *method, const char *hex, int up_fd, uint64_t up_size,
                   const char *payload_hash, long *status, curl_off_t *clen, derr *e)
{
    char *key = hex ? object_key(s, hex) : NULL;
    buf uri, url, body;
    buf_init(&uri, 0);
    buf_init(&url, 0);
    buf_init(&body, 0);
    object_uri(&s->api, key, &uri);
    buf_printf(&url, "%s%s", s->api.base, uri.data);
    int rc = -1;
    for (int attempt = 0;; attempt++) {
        if (attempt)
            backoff(attempt);
        CURL *c = pthread_getspecific(s->handle_key);
        if (!c) {
            c = curl_easy_init();
            if (!c || pthread_setspecific(s->handle_key, c) != 0)
                xoom();
        }
        curl_easy_reset(c); /* keeps the idle connections */
        char errbuf[CURL_ERROR_SIZE];
        common_opts(s, c, errbuf);
        curl_easy_setopt(c, CURLOPT_URL, url.data);
        struct curl_slist *h = signed_headers(s, &s->api, method, uri.data, payload_hash);
        struct upload up = {up_fd, 0};
        if (strcmp(method, "PUT") == 0) {
            h = curl_slist_append(h, "Content-Type: application/octet-stream");
            curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(c, CURLOPT_READFUNCTION, read_upload);
            curl_easy_setopt(c, CURLOPT_READDATA, &up);
            curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, seek_upload);
            curl_easy_setopt(c, CURLOPT_SEEKDATA, &up);
            curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)up_size);
        } else if (strcmp(method, "HEAD") == 0) {
            curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
            curl_easy_setopt(c, CURLOPT_TIMEOUT, s->timeout);
        } else {
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
            curl_easy_setopt(c, CURLOPT_TIMEOUT, s->timeout);
        }
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        buf_reset(&body);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
        CURLcode cc = curl_easy_perform(c);
        long st = 0;
        curl_off_t cl = -1;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
        curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
        if (cc != CURLE_OK && !errbuf[0])
            snprintf(errbuf, sizeof errbuf, "%s", curl_easy_strerror(cc));
        curl_easy_reset(c); /* drops its pointers to this frame */
        curl_slist_free_all(h);
        if (!transient(cc, st)) {
            *status = st;
            if (clen)
                *clen = cl;
            if (st >= 300 && st != 404)
                log_failure(true, op, hex, st, NULL, &body);
            rc = 0;
            break;
        }
        if (attempt >= s->retries) {
            log_failure(true, op, hex, cc == CURLE_OK ? st : 0, errbuf, &body);
            unavailable(e);
            break;
        }
        log_failure(false, op, hex, cc == CURLE_OK ? st : 0, errbuf, &body);
    }
    free(key);
    buf_free(&uri);
    buf_free(&url);
    buf_free(&body);
    return rc;
}

/* ---- the spool table (under s->mu) ---- */

static unsigned bucket_of(const char *hex)
{
    unsigned char b[1];
    size_t n;
    hex_decode(hex, 2, b, 1, &n);
    return b[0] % NBUCKETS;
}

static void table_remove(s3_store *s, spool *sp)
{
    if (!sp->in_table)
        return;
    spool **pp = &s->table[bucket_of(sp->hex)];
    while (*pp && *pp != sp)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = sp->hnext;
    sp->in_table = false;
}

static void lru_unlink(s3_store *s, spool *sp)
{
    if (!sp->in_lru)
        return;
    list_unlink(&s->lru, &sp->lru);
    sp->in_lru = false;
    s->cached_bytes -= sp->size;
}

static void spool_free(spool *sp)
{
    if (sp->fd >= 0)
        close(sp->fd);
    buf_free(&sp->errbody);
    pthread_mutex_destroy(&sp->mu);
    pthread_cond_destroy(&sp->cv);
    free(sp);
}

/* With s->mu held: frees sp when nothing holds it any more. */
static void maybe_free(spool *sp)
{
    if (sp->refs == 0 && !sp->in_table)
        spool_free(sp);
}

/* With s->mu held: an idle spool either joins the cache or goes. */
static void settle_idle(s3_store *s, spool *sp)
{
    if (sp->users > 0 || sp->in_lru)
        return;
    if (!sp->in_table) {
        maybe_free(sp);
        return;
    }
    enum sp_state st;
    pthread_mutex_lock(&sp->mu);
    st = sp->state;
    pthread_mutex_unlock(&sp->mu);
    if (st == SP_DONE && !sp->nocache && sp->size <= s->cache_max && sp->in_table) {
        sp->in_lru = true;
        list_push_front(&s->lru, &sp->lru);
        s->cached_bytes += sp->size;
        while (s->cached_bytes > s->cache_max && s->lru.tail) {
            spool *old = list_entry(s->lru.tail, spool, lru);
            lru_unlink(s, old);
            table_remove(s, old);
            maybe_free(old);
        }
        return;
    }
    if (st == SP_FETCHING || st == SP_BODY)
        atomic_store(&sp->cancel, true); /* nobody reads it: the pump stops */
    table_remove(s, sp);
    maybe_free(sp);
}

static void spool_release(spool *sp)
{
    s3_store *s = sp->s;
    pthread_mutex_lock(&s->mu);
    sp->users--;
    sp->refs--;
    settle_idle(s, sp);
    pthread_mutex_unlock(&s->mu);
}

static void pump_submit(s3_store *s, spool *sp);

/* The spool of hex, found (shared, or from the cache) or started. The caller
 * holds it as a user until spool_release. */
static spool *spool_get(s3_store *s, const char *hex)
{
    pthread_mutex_lock(&s->mu);
    for (spool *sp = s->table[bucket_of(hex)]; sp; sp = sp->hnext) {
        if (strcmp(sp->hex, hex) != 0)
            continue;
        pthread_mutex_lock(&sp->mu);
        bool usable = sp->state != SP_FAILED && !atomic_load(&sp->cancel);
        pthread_mutex_unlock(&sp->mu);
        if (!usable)
            continue;
        lru_unlink(s, sp);
        sp->users++;
        sp->refs++;
        pthread_mutex_unlock(&s->mu);
        return sp;
    }
    pthread_mutex_unlock(&s->mu);

    int fd = unnamed_file(s->tmp);
    if (fd < 0) {
        char eb[128];
        log_error("cannot create a spool file", "dir", s->tmp, "error", strerror_r(errno, eb, sizeof eb), NULL);
        return NULL;
    }
    spool *sp = xcalloc(1, sizeof *sp);
    sp->s = s;
    memcpy(sp->hex, hex, 65);
    pthread_mutex_init(&sp->mu, NULL);
    pthread_cond_init(&sp->cv, NULL);
    sp->fd = fd;
    sp->state = SP_FETCHING;
    buf_init(&sp->errbody, 0);
    sha256_init(&sp->sha);
    pthread_mutex_lock(&s->mu);
    sp->users = 1;
    sp->refs = 2; /* the caller and the pump */
    sp->in_table = true;
    unsigned b = bucket_of(hex);
    sp->hnext = s->table[b];
    s->table[b] = sp;
    pthread_mutex_unlock(&s->mu);
    pump_submit(s, sp);
    return sp;
}

/* ---- the pump: one thread driving every GET ---- */

/* Wake-ups taken from the waiters under sp->mu, to be made once it is dropped
 * (a woken reader may run, and close, at once). */
struct wakeups {
    size_t n;
    struct {
        void (*fn)(void *);
        void *arg;
    } * w;
};

/* With sp->mu held: disarms every waiting reader, keeping what to call. */
static struct wakeups take_waiters(spool *sp)
{
    struct wakeups out = {0, NULL};
    size_t n = 0;
    for (sp_reader *r = sp->waiters; r; r = r->next)
        n++;
    if (!n)
        return out;
    out.w = xmalloc(n * sizeof *out.w);
    for (sp_reader *r = sp->waiters; r; r = r->next) {
        r->armed = false;
        out.w[out.n].fn = r->wake;
        out.w[out.n].arg = r->arg;
        out.n++;
    }
    sp->waiters = NULL;
    return out;
}

static void wake_all(struct wakeups w)
{
    for (size_t i = 0; i < w.n; i++)
        w.w[i].fn(w.w[i].arg);
    free(w.w);
}

static size_t on_header(char *p, size_t sz, size_t n, void *arg)
{
    spool *sp = arg;
    size_t len = sz * n;
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        const char *sp1 = memchr(p, ' ', len);
        sp->line_status = sp1 ? strtol(sp1 + 1, NULL, 10) : 0;
        sp->clen_seen = false;
        return len;
    }
    if (len > 15 && strncasecmp(p, "content-length:", 15) == 0) {
        char tmp[32];
        size_t m = len - 15 < sizeof tmp - 1 ? len - 15 : sizeof tmp - 1;
        memcpy(tmp, p + 15, m);
        tmp[m] = '\0';
        char *end;
        errno = 0;
        unsigned long long v = strtoull(tmp, &end, 10);
        if (!errno && end != tmp) {
            sp->clen = v;
            sp->clen_seen = true;
        }
        return len;
    }
    if ((len == 2 && p[0] == '\r') || (len == 1 && p[0] == '\n')) {
        if (sp->line_status >= 100 && sp->line_status < 200)
            return len; /* 100 Continue: the real answer follows */
        pthread_mutex_lock(&sp->mu);
        sp->status = sp->line_status;
        if (sp->status == 200 && sp->clen_seen) {
            sp->size = sp->clen;
            sp->size_known = true;
            sp->state = SP_BODY;
            pthread_cond_broadcast(&sp->cv);
        }
        pthread_mutex_unlock(&sp->mu);
    }
    return len;
}

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
    spool *sp = arg;
    size_t len = sz * n;
    if (sp->line_status != 200) {
        keep_body(p, sz, n, &sp->errbody);
        return len;
    }
    if (atomic_load(&sp->cancel))
        return 0;
    if (sp->size_known && sp->have + len > sp->size)
        return 0; /* more than announced */
    if (pwrite_all(sp->fd, p, len, sp->have) < 0) {
        char eb[128];
        log_error("cannot write a spool file", "key", sp->hex, "error", strerror_r(errno, eb, sizeof eb), NULL);
        return 0;
    }
    sha256_update(&sp->sha, p, len);
    pthread_mutex_lock(&sp->mu);
    sp->have += len;
    struct wakeups w = take_waiters(sp);
    pthread_mutex_unlock(&sp->mu);
    wake_all(w);
    return len;
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    spool *sp = arg;
    return atomic_load(&sp->cancel) ? 1 : 0;
}

static void pump_start_one(s3_store *s, spool *sp)
{
    char *key = object_key(s, sp->hex);
    buf uri, url;
    buf_init(&uri, 0);
    buf_init(&url, 0);
    object_uri(&s->api, key, &uri);
    buf_printf(&url, "%s%s", s->api.base, uri.data);
    free(key);
    sp->url = xstrdup(url.data);
    sp->hdrs = signed_headers(s, &s->api, "GET", uri.data, SIGV4_EMPTY_SHA256);
    buf_free(&uri);
    buf_free(&url);
    CURL *c = curl_easy_init();
    if (!c)
        xoom();
    common_opts(s, c, sp->curl_err);
    curl_easy_setopt(c, CURLOPT_URL, sp->url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, sp->hdrs);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, sp);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, sp);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, sp);
    curl_easy_setopt(c, CURLOPT_PRIVATE, sp);
    sp->easy = c;
    sp->next_active = s->active;
    s->active = sp;
    curl_multi_add_handle(s->multi, c);
}

/* The fetch of sp ended with cc: settle its state, wake everyone, drop the pump's hold. */
static void pump_finish(s3_store *s, spool *sp, CURLcode cc)
{
    long st = 0;
    curl_easy_getinfo(sp->easy, CURLINFO_RESPONSE_CODE, &st);
    bool cancelled = atomic_load(&sp->cancel);
    bool ok = cc == CURLE_OK && st == 200 && (!sp->size_known || sp->have == sp->size);
    bool mismatch = false;
    if (ok) {
        unsigned char d[32];
        char got[65];
        sha256_final(&sp->sha, d);
        hex_encode(d, sizeof d, got);
        if (memcmp(got, sp->hex, 64) != 0) {
            ok = false;
            mismatch = true;
            log_error("S3 object content does not match its key", "key", sp->hex, "sha256", got, NULL);
        }
    }
    if (!ok && !mismatch && !cancelled && st != 404) {
        if (cc != CURLE_OK && !sp->curl_err[0])
            snprintf(sp->curl_err, sizeof sp->curl_err, "%s", curl_easy_strerror(cc));
        log_failure(!transient(cc, st), "get", sp->hex, st, sp->curl_err, &sp->errbody);
    }
    pthread_mutex_lock(&sp->mu);
    sp->status = st;
    if (ok) {
        sp->state = SP_DONE;
        sp->size = sp->have;
        sp->size_known = true;
    } else {
        sp->state = SP_FAILED;
        sp->transient = !mismatch && transient(cc, st);
    }
    struct wakeups w = take_waiters(sp);
    pthread_cond_broadcast(&sp->cv);
    pthread_mutex_unlock(&sp->mu);
    wake_all(w);

    curl_multi_remove_handle(s->multi, sp->easy);
    curl_easy_cleanup(sp->easy);
    sp->easy = NULL;
    curl_slist_free_all(sp->hdrs);
    sp->hdrs = NULL;
    free(sp->url);
    sp->url = NULL;
    for (spool **pp = &s->active; *pp; pp = &(*pp)->next_active)
        if (*pp == sp) {
            *pp = sp->next_active;
            break;
        }

    pthread_mutex_lock(&s->mu);
    sp->refs--;
    if (!ok)
        table_remove(s, sp); /* the next opener starts afresh */
    settle_idle(s, sp);  /* may free sp */
    pthread_mutex_unlock(&s->mu);
}

static void *pump_main(void *arg)
{
    s3_store *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->pump_mu);
        spool *in = s->incoming;
        s->incoming = NULL;
        bool stop = s->stopping;
        pthread_mutex_unlock(&s->pump_mu);
        while (in) {
            spool *next = in->next_new;
            pump_start_one(s, in);
            in = next;
        }
        if (stop) {
            while (s->active)
                pump_finish(s, s->active, CURLE_ABORTED_BY_CALLBACK);
            return NULL;
        }
        int running = 0;
        curl_multi_perform(s->multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(s->multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            char *priv = NULL;
            CURLcode cc = m->data.result;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
            pump_finish(s, (spool *)priv, cc);
        }
        curl_multi_poll(s->multi, NULL, 0, 1000, NULL);
    }
}

static void pump_submit(s3_store *s, spool *sp)
{
    pthread_mutex_lock(&s->pump_mu);
    sp->next_new = s->incoming;
    s->incoming = sp;
    pthread_mutex_unlock(&s->pump_mu);
    curl_multi_wakeup(s->multi);
}

/* ---- readers ---- */

/* With sp->mu held: how far a reader may read now. Until the hash is checked,
 * the last byte waits. */
static uint64_t readable(const spool *sp)
{
    if (sp->state == SP_DONE)
        return sp->size;
    if (sp->state != SP_BODY || sp->size == 0)
        return 0;
    return sp->have < sp->size ? sp->have : sp->size - 1;
}

static long reader_read(blob_stream *bs, uint64_t pos, void *out, size_t n)
{
    sp_reader *r = (sp_reader *)bs;
    spool *sp = r->sp;
    pthread_mutex_lock(&sp->mu);
    enum sp_state st = sp->state;
    uint64_t size = sp->size, limit = readable(sp);
    pthread_mutex_unlock(&sp->mu);
    if (st == SP_FAILED)
        return BLOB_STREAM_ERROR;
    if (st == SP_DONE && pos >= size)
        return BLOB_STREAM_END;
    if (pos >= limit)
        return 0;
    size_t m = limit - pos < n ? (size_t)(limit - pos) : n;
    if (m > LONG_MAX)
        m = LONG_MAX;
    for (;;) {
        ssize_t got = pread(sp->fd, out, m, (off_t)pos);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            char eb[128];
            log_error("cannot read a spool file", "key", sp->hex, "error",
                      got < 0 ? strerror_r(errno, eb, sizeof eb) : "short file", NULL);
            return BLOB_STREAM_ERROR;
        }
        return (long)got;
    }
}

static int reader_wait(blob_stream *bs, uint64_t pos, void (*wake)(void *), void *arg)
{
    sp_reader *r = (sp_reader *)bs;
    spool *sp = r->sp;
    pthread_mutex_lock(&sp->mu);
    if (sp->state == SP_DONE || sp->state == SP_FAILED || readable(sp) > pos) {
        pthread_mutex_unlock(&sp->mu);
        return 1;
    }
    r->wake = wake;
    r->arg = arg;
    if (!r->armed) {
        r->armed = true;
        r->next = sp->waiters;
        sp->waiters = r;
    }
    pthread_mutex_unlock(&sp->mu);
    return 0;
}

static void reader_close(blob_stream *bs)
{
    sp_reader *r = (sp_reader *)bs;
    if (!r)
        return;
    spool *sp = r->sp;
    pthread_mutex_lock(&sp->mu);
    if (r->armed) {
        for (sp_reader **pp = &sp->waiters; *pp; pp = &(*pp)->next)
            if (*pp == r) {
                *pp = r->next;
                break;
            }
        r->armed = false;
    }
    pthread_mutex_unlock(&sp->mu);
    spool_release(sp);
    free(r);
}

static const struct blob_stream_ops reader_ops = {reader_read, reader_wait, reader_close};

static long sized_read(blob_stream *bs, uint64_t pos, void *out, size_t n)
{
    return BLOB_STREAM_ERROR;
}

static int sized_wait(blob_stream *bs, uint64_t pos, void (*wake)(void *), void *arg)
{
    return 1;
}

static void sized_close(blob_stream *bs)
{
    free(bs);
}

static const struct blob_stream_ops sized_ops = {sized_read, sized_wait, sized_close};

/* ---- the blob_ops ---- */

/* Waits until sp has an answer (whole, when `whole`). 0 when it is good; -1
 * with e filled, and *retry set when another try may do better. */
static int spool_wait(spool *sp, bool whole, bool *retry, derr *e)
{
    pthread_mutex_lock(&sp->mu);
    while (sp->state == SP_FETCHING || (whole && sp->state == SP_BODY) ||
           (sp->state == SP_BODY && !sp->size_known))
        pthread_cond_wait(&sp->cv, &sp->mu);
    enum sp_state st = sp->state;
    long status = sp->status;
    bool tr = sp->transient;
    pthread_mutex_unlock(&sp->mu);
    *retry = false;
    if (st != SP_FAILED)
        return 0;
    if (status == 404)
        return derr_set(e, 404, "not_found", "no such blob");
    if (tr) {
        *retry = true;
        return unavailable(e);
    }
    return internal(e);
}

/* A spool of hex with an answer, retried on transient failures; NULL with e filled. */
static spool *fetch(s3_store *s, const char *hex, bool whole, derr *e)
{
    for (int attempt = 0;; attempt++) {
        if (attempt)
            backoff(attempt);
        spool *sp = spool_get(s, hex);
        if (!sp)
            return internal(e), NULL;
        bool retry;
        if (spool_wait(sp, whole, &retry, e) == 0)
            return sp;
        spool_release(sp);
        if (!retry || attempt >= s->retries)
            return NULL;
    }
}

static int s3_open(blob_store *b, const char *hex, blob_reader *r, derr *e)
{
    s3_store *s = (s3_store *)b;
    if (!blob_key_ok(hex))
        return blob_bad_key(e);
    spool *sp = fetch(s, hex, true, e);
    if (!sp)
        return -1;
    /* A file description of its own (its own offset) on the spool's bytes. */
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", sp->fd);
    int fd = open(self, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        fd = dup(sp->fd);
    uint64_t size = sp->size;
    spool_release(sp);
    if (fd < 0) {
        char eb[128];
        log_error("cannot open a spool file", "key", hex, "error", strerror_r(errno, eb, sizeof eb), NULL);
        return internal(e);
    }
    lseek(fd, 0, SEEK_SET);
    memset(r, 0, sizeof *r);
    r->fd = fd;
    r->size = size;
    r->kind = BLOB_READER_FD;
    return 0;
}

/* A presigned GET of the object, for clients to fetch from the store itself. */
static char *presign(s3_store *s, const char *hex)
{
    char *key = object_key(s, hex);
    buf uri, q;
    buf_init(&uri, 0);
    buf_init(&q, 0);
    object_uri(&s->pub, key, &uri);
    free(key);
    char date[17];
    sigv4_amz_date((long long)time(NULL), date);
    sigv4_params p = {s->access_key, s->secret_key, s->region, "s3", date};
    buf_printf(&q, "%s%s?", s->pub.base, uri.data);
    sigv4_presign(&q, &p, "GET", uri.data, s->pub.host, s->presign_ttl, s->token);
    buf_free(&uri);
    char *url = xstrdup(q.data);
    buf_free(&q);
    return url;
}

/* The size of hex from a spool we already have, without a request; -1 when none knows. */
static int64_t known_size(s3_store *s, const char *hex)
{
    int64_t size = -1;
    pthread_mutex_lock(&s->mu);
    for (spool *sp = s->table[bucket_of(hex)]; sp && size < 0; sp = sp->hnext) {
        if (strcmp(sp->hex, hex) != 0)
            continue;
        pthread_mutex_lock(&sp->mu);
        if ((sp->state == SP_DONE || sp->state == SP_BODY) && sp->size_known)
            size = (int64_t)sp->size;
        pthread_mutex_unlock(&sp->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return size;
}

static int s3_open_send(blob_store *b, const char *hex, unsigned flags, blob_reader *r, derr *e)
{
    s3_store *s = (s3_store *)b;
    memset(r, 0, sizeof *r);
    r->fd = -1;
    if (!blob_key_ok(hex))
        return blob_bad_key(e);
    if (flags & BLOB_SEND_REDIRECT) {
        r->kind = BLOB_READER_REDIRECT;
        r->url = presign(s, hex);
        return 0;
    }
    if (flags & BLOB_SEND_HEAD) {
        int64_t size = known_size(s, hex);
        if (size < 0) {
            long st;
            curl_off_t cl;
            if (request(s, "head", "HEAD", hex, -1, 0, SIGV4_EMPTY_SHA256, &st, &cl, e) < 0)
                return -1;
            if (st == 404)
                return derr_set(e, 404, "not_found", "no such blob");
            if (st != 200 || cl < 0)
                return internal(e);
            size = cl;
        }
        sized_stream *ss = xcalloc(1, sizeof *ss);
        ss->base.ops = &sized_ops;
        r->kind = BLOB_READER_STREAM;
        r->stream = &ss->base;
        r->size = (uint64_t)size;
        return 0;
    }
    spool *sp = fetch(s, hex, false, e);
    if (!sp)
        return -1;
    sp_reader *rd = xcalloc(1, sizeof *rd);
    rd->base.ops = &reader_ops;
    rd->sp = sp; /* the user hold fetch took is the reader's now */
    r->kind = BLOB_READER_STREAM;
    r->stream = &rd->base;
    r->size = sp->size;
    return 0;
}

static int s3_exists(blob_store *b, const char *hex, derr *e)
{
    s3_store *s = (s3_store *)b;
    if (!blob_key_ok(hex))
        return blob_bad_key(e);
    long st;
    if (request(s, "head", "HEAD", hex, -1, 0, SIGV4_EMPTY_SHA256, &st, NULL, e) < 0)
        return -1;
    if (st == 200)
        return 1;
    if (st == 404)
        return 0;
    return internal(e);
}

static int s3_put_file(blob_store *b, const char *hex, const char *path, derr *e)
{
    s3_store *s = (s3_store *)b;
    if (!blob_key_ok(hex))
        return blob_bad_key(e);
    char eb[128];
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
    if (fd < 0) {
        log_error("blob store failed", "op", "open", "path", path ? path : "(null)", "error",
                  strerror_r(path ? errno : EINVAL, eb, sizeof eb), NULL);
        return internal(e);
    }
    int rc = -1;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        log_error("blob store failed", "op", "fstat", "path", path, "error", "not a regular file", NULL);
        internal(e);
        goto out;
    }
    uint64_t size = 0;
    int ok = blob_hash_matches(fd, hex, &size);
    if (ok < 0) {
        log_error("blob store failed", "op", "read", "path", path, "error", strerror_r(errno, eb, sizeof eb), NULL);
        internal(e);
        goto out;
    }
    if (ok == 0) {
        derr_set(e, 400, "checksum_mismatch", "the content does not have the SHA-256 it was stored under");
        goto out;
    }
    long status;
    if (request(s, "head", "HEAD", hex, -1, 0, SIGV4_EMPTY_SHA256, &status, NULL, e) < 0)
        goto out;
    if (status == 200) {
        rc = 0; /* already there: puts are idempotent */
        goto out;
    }
    if (status != 404) {
        internal(e);
        goto out;
    }
    if (request(s, "put", "PUT", hex, fd, size, hex, &status, NULL, e) < 0)
        goto out;
    if (status != 200) {
        internal(e);
        goto out;
    }
    rc = 0;
out:
    close(fd);
    return rc;
}

static int s3_remove(blob_store *b, const char *hex, derr *e)
{
    s3_store *s = (s3_store *)b;
    if (!blob_key_ok(hex))
        return blob_bad_key(e);
    /* No cached copy outlives the object. */
    pthread_mutex_lock(&s->mu);
    for (spool *sp = s->table[bucket_of(hex)]; sp;) {
        spool *next = sp->hnext;
        if (strcmp(sp->hex, hex) == 0) {
            sp->nocache = true;
            if (sp->in_lru) {
                lru_unlink(s, sp);
                table_remove(s, sp);
                maybe_free(sp);
            }
        }
        sp = next;
    }
    pthread_mutex_unlock(&s->mu);
    long status;
    if (request(s, "delete", "DELETE", hex, -1, 0, SIGV4_EMPTY_SHA256, &status, NULL, e) < 0)
        return -1;
    if (status == 200 || status == 204 || status == 404)
        return 0;
    return internal(e);
}

/* HEAD of the bucket: the store answers and our credentials are good. */
static int s3_check(blob_store *b, derr *e)
{
    s3_store *s = (s3_store *)b;
    long status;
    if (request(s, "check", "HEAD", NULL, -1, 0, SIGV4_EMPTY_SHA256, &status, NULL, e) < 0)
        return -1;
    if (status == 200)
        return 0;
    return internal(e);
}

static const char *s3_tmp_dir(blob_store *b)
{
    return ((s3_store *)b)->tmp;
}

static void target_free(struct target *t)
{
    free(t->base);
    free(t->host);
    free(t->path);
}

static void s3_close(blob_store *b)
{
    if (!b)
        return;
    s3_store *s = (s3_store *)b;
    if (s->pump_running) {
        pthread_mutex_lock(&s->pump_mu);
        s->stopping = true;
        pthread_mutex_unlock(&s->pump_mu);
        curl_multi_wakeup(s->multi);
        pthread_join(s->pump, NULL);
    }
    /* Readers still open would be a caller's bug; the cached spools go. */
    pthread_mutex_lock(&s->mu);
    while (s->lru.tail) {
        spool *sp = list_entry(s->lru.tail, spool, lru);
        lru_unlink(s, sp);
        table_remove(s, sp);
        maybe_free(sp);
    }
    pthread_mutex_unlock(&s->mu);
    if (s->multi)
        curl_multi_cleanup(s->multi);
    if (s->key_made) {
        /* This thread's handle; the other threads' went when they ended. */
        CURL *c = pthread_getspecific(s->handle_key);
        if (c)
            curl_easy_cleanup(c);
        pthread_key_delete(s->handle_key);
    }
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->pump_mu);
    free(s->bucket);
    free(s->prefix);
    target_free(&s->api);
    target_free(&s->pub);
    free(s->region);
    free(s->access_key);
    if (s->secret_key) {
        explicit_bzero(s->secret_key, strlen(s->secret_key));
        free(s->secret_key);
    }
    free(s->token);
    free(s->tmp);
    free(s);
}

static const struct blob_ops s3_ops = {
    .name = "s3",
    .close = s3_close,
    .put_file = s3_put_file,
    .open = s3_open,
    .exists = s3_exists,
    .remove = s3_remove,
    .check = s3_check,
    .tmp_dir = s3_tmp_dir,
    .open_send = s3_open_send,
    .remote = true,
};

/* ---- opening: the URL ---- */

static void handle_free(void *c)
{
    curl_easy_cleanup(c);
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

enum { OPT_ENDPOINT, OPT_REGION, OPT_PATH_STYLE, OPT_ACCESS, OPT_SECRET, OPT_TOKEN, OPT_PUBLIC, OPT_TTL,
       OPT_TIMEOUT, OPT_CONNECT_TIMEOUT, OPT_RETRIES, OPT_CACHE, OPT_TMP, NOPT };
static const char *const opt_names[NOPT] = {
    "endpoint", "region", "path_style", "access_key", "secret_key", "session_token", "public_endpoint",
    "presign_ttl", "timeout", "connect_timeout", "retries", "cache", "tmp",
};

static int bad_config(derr *e, const char *what)
{
    return derr_set(e, 500, "bad_config", "the S3 blob store URL: %s", what);
}

static int parse_long(const char *v, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < min || n > max)
        return -1;
    *out = n;
    return 0;
}

/* endpoint "http(s)://HOST[:PORT][/]" into t, for the bucket (virtual host unless path_style). */
static int make_target(const char *endpoint, const char *bucket, bool path_style, struct target *t, derr *e)
{
    const char *sep = strstr(endpoint, "://");
    if (!sep || !((sep - endpoint == 4 && strncasecmp(endpoint, "http", 4) == 0) ||
                  (sep - endpoint == 5 && strncasecmp(endpoint, "https", 5) == 0)))
        return bad_config(e, "an endpoint is http://HOST[:PORT] or https://HOST[:PORT]");
    const char *auth = sep + 3;
    size_t alen = strcspn(auth, "/?#");
    if (alen == 0 || strchr(auth + alen, '?') || strchr(auth + alen, '#') ||
        (auth[alen] == '/' && auth[alen + 1] != '\0') || memchr(auth, '@', alen))
        return bad_config(e, "an endpoint is http://HOST[:PORT] or https://HOST[:PORT], with no path");
    buf b;
    buf_init(&b, 0);
    if (path_style) {
        buf_printf(&b, "%.*s", (int)alen, auth);
        t->host = xstrdup(b.data);
        buf_reset(&b);
        buf_printf(&b, "%.*s://%s", (int)(sep - endpoint), endpoint, t->host);
        t->base = xstrdup(b.data);
        buf_reset(&b);
        buf_printf(&b, "/%s", bucket);
        t->path = xstrdup(b.data);
    } else {
        buf_printf(&b, "%s.%.*s", bucket, (int)alen, auth);
        t->host = xstrdup(b.data);
        buf_reset(&b);
        buf_printf(&b, "%.*s://%s", (int)(sep - endpoint), endpoint, t->host);
        t->base = xstrdup(b.data);
        t->path = xstrdup("");
    }
    buf_free(&b);
    return 0;
}

static bool name_ok(const char *s, bool slash)
{
    for (; *s; s++) {
        char ch = *s;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
              ch == '.' || ch == '_' || ch == '~' || (slash && ch == '/')))
            return false;
    }
    return true;
}

static char *env_or(const char *v, const char *e1, const char *e2)
{
    if (v)
        return xstrdup(v);
    const char *x = e1 ? getenv(e1) : NULL;
    if ((!x || !*x) && e2)
        x = getenv(e2);
    return x && *x ? xstrdup(x) : NULL;
}

static int mkdir_p(const char *path)
{
    char p[PATH_MAX];
    size_t len = strlen(path);
    if (len >= sizeof p)
        return -1;
    memcpy(p, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char saved = p[i];
        p[i] = '\0';
        if (mkdir(p, 0750) < 0 && errno != EEXIST)
            return -1;
        p[i] = saved;
    }
    return 0;
}

/* The bucket and the prefix of "BUCKET[/PREFIX]" (p: after "s3://"), into s. */
static int parse_location(s3_store *s, const char *p, derr *e)
{
    size_t blen = strcspn(p, "/?");
    const char *q = strchr(p, '?');
    size_t plen = p[blen] == '/' ? (size_t)((q ? q : p + strlen(p)) - (p + blen + 1)) : 0;
    s->bucket = xmalloc(blen + 1);
    memcpy(s->bucket, p, blen);
    s->bucket[blen] = '\0';
    if (blen < 3 || blen > 63 || !name_ok(s->bucket, false))
        return bad_config(e, "the bucket name must be 3 to 63 letters, digits, '-', '.' or '_'");
    char *pre = xmalloc(plen + 2);
    memcpy(pre, p + blen + 1, plen);
    while (plen && pre[plen - 1] == '/')
        plen--;
    pre[plen] = '\0';
    bool dots = strcmp(pre, ".") == 0 || strcmp(pre, "..") == 0 || strncmp(pre, "./", 2) == 0 ||
                strncmp(pre, "../", 3) == 0 || strstr(pre, "/./") || strstr(pre, "/../") ||
                (plen >= 2 && strcmp(pre + plen - 2, "/.") == 0) ||
                (plen >= 3 && strcmp(pre + plen - 3, "/..") == 0);
    if (plen && (!name_ok(pre, true) || pre[0] == '/' || strstr(pre, "//") || dots)) {
        free(pre);
        return bad_config(e, "the prefix may hold letters, digits, '-', '.', '_', '~' and single '/'");
    }
    if (plen) {
        pre[plen] = '/';
        pre[plen + 1] = '\0';
    }
    s->prefix = pre;
    return 0;
}

/* The options after '?' (o, or NULL), percent-decoded into val (malloc'd; a later one wins). */
static int parse_options(const char *o, char *val[NOPT], derr *e)
{
    while (o && *o) {
        size_t n = strcspn(o, "&");
        const char *eq = memchr(o, '=', n);
        size_t kl = eq ? (size_t)(eq - o) : n;
        int k = -1;
        for (int i = 0; i < NOPT; i++)
            if (strlen(opt_names[i]) == kl && memcmp(opt_names[i], o, kl) == 0)
                k = i;
        if (k < 0 || !eq)
            return derr_set(e, 500, "bad_config", "the S3 blob store URL: unknown option '%.*s'",
                            (int)(kl < 40 ? kl : 40), o);
        free(val[k]);
        val[k] = url_decode_dup(eq + 1, n - kl - 1, false); /* '+' stays: secret keys have them */
        if (!val[k])
            return derr_set(e, 500, "bad_config", "the S3 blob store URL: bad %%-escape in %s", opt_names[k]);
        o += n;
        if (*o == '&')
            o++;
    }
    return 0;
}

/* The region, and the API and public targets (*path_style: the one chosen, for the log). */
static int set_endpoints(s3_store *s, char *const val[NOPT], long *path_style, derr *e)
{
    s->region = env_or(val[OPT_REGION], "AWS_REGION", "AWS_DEFAULT_REGION");
    if (!s->region)
        s->region = xstrdup("us-east-1");
    if (!name_ok(s->region, false))
        return bad_config(e, "a region is letters, digits and '-'");
    char *endpoint = env_or(val[OPT_ENDPOINT], "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL");
    bool aws = !endpoint;
    if (aws) {
        buf b;
        buf_init(&b, 0);
        buf_printf(&b, "https://s3.%s.amazonaws.com", s->region);
        endpoint = xstrdup(b.data);
        buf_free(&b);
    }
    *path_style = aws ? 0 : 1;
    int rc;
    if (val[OPT_PATH_STYLE] && parse_long(val[OPT_PATH_STYLE], 0, 1, path_style) < 0)
        rc = bad_config(e, "path_style is 0 or 1");
    else
        rc = make_target(endpoint, s->bucket, *path_style, &s->api, e);
    if (rc == 0)
        rc = make_target(val[OPT_PUBLIC] ? val[OPT_PUBLIC] : endpoint, s->bucket, *path_style, &s->pub, e);
    free(endpoint);
    return rc;
}

static int set_credentials(s3_store *s, char *const val[NOPT], derr *e)
{
    s->access_key = env_or(val[OPT_ACCESS], "AWS_ACCESS_KEY_ID", NULL);
    s->secret_key = env_or(val[OPT_SECRET], "AWS_SECRET_ACCESS_KEY", NULL);
    s->token = env_or(val[OPT_TOKEN], "AWS_SESSION_TOKEN", NULL);
    if (!s->access_key || !s->secret_key)
        return bad_config(e, "no credentials: give access_key and secret_key, or set AWS_ACCESS_KEY_ID and "
                             "AWS_SECRET_ACCESS_KEY");
    if (strchr(s->access_key, '/') || strpbrk(s->access_key, "\r\n") || strpbrk(s->secret_key, "\r\n") ||
        (s->token && strpbrk(s->token, "\r\n")))
        return bad_config(e, "malformed credentials");
    return 0;
}

/* A numeric option within [min, max] into *out, which keeps its default when v is NULL. */
static int opt_long(const char *v, long min, long max, long *out, const char *why, derr *e)
{
    if (v && parse_long(v, min, max, out) < 0)
        return bad_config(e, why);
    return 0;
}

static int set_limits(s3_store *s, char *const val[NOPT], derr *e)
{
    long retries = 3, cache_mib = 256;
    s->presign_ttl = 300;
    s->timeout = 30;
    s->connect_timeout = 5;
    if (opt_long(val[OPT_TTL], 1, 604800, &s->presign_ttl, "presign_ttl is 1 to 604800 seconds", e) < 0 ||
        opt_long(val[OPT_TIMEOUT], 1, 3600, &s->timeout, "timeout is 1 to 3600 seconds", e) < 0 ||
        opt_long(val[OPT_CONNECT_TIMEOUT], 1, 600, &s->connect_timeout, "connect_timeout is 1 to 600 seconds",
                 e) < 0 ||
        opt_long(val[OPT_RETRIES], 0, 20, &retries, "retries is 0 to 20", e) < 0 ||
        opt_long(val[OPT_CACHE], 0, 1048576, &cache_mib, "cache is 0 to 1048576 MiB", e) < 0)
        return -1;
    s->retries = (int)retries;
    s->cache_max = (uint64_t)cache_mib << 20;
    return 0;
}

/* The local folder (tmp=, else TMPDIR, else /tmp), made if missing, as an absolute path. */
static int set_tmp(s3_store *s, const char *tmp, derr *e)
{
    if (!tmp || !*tmp) {
        tmp = getenv("TMPDIR");
        if (!tmp || !*tmp)
            tmp = "/tmp";
    }
    if (mkdir_p(tmp) < 0 || access(tmp, W_OK | X_OK) < 0) {
        char eb[128];
        log_error("cannot use the S3 store's local folder", "dir", tmp, "error", strerror_r(errno, eb, sizeof eb),
                  NULL);
        return bad_config(e, "its tmp folder cannot be created or written");
    }
    s->tmp = realpath(tmp, NULL);
    if (!s->tmp)
        return bad_config(e, "its tmp folder cannot be resolved");
    return 0;
}

blob_store *blob_s3_open(const char *url, derr *e)
{
    char *val[NOPT] = {0};
    if (!url || strncmp(url, "s3://", 5) != 0) {
        bad_config(e, "expected s3://BUCKET[/PREFIX]?OPTIONS");
        return NULL;
    }
    pthread_once(&curl_once, curl_init_once);
    s3_store *s = xcalloc(1, sizeof *s);
    s->base.ops = &s3_ops;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->pump_mu, NULL);
    if (pthread_key_create(&s->handle_key, handle_free) != 0)
        xoom();
    s->key_made = true;

    const char *q = strchr(url + 5, '?');
    long path_style;
    if (parse_location(s, url + 5, e) < 0 || parse_options(q ? q + 1 : NULL, val, e) < 0 ||
        set_endpoints(s, val, &path_style, e) < 0 || set_credentials(s, val, e) < 0 ||
        set_limits(s, val, e) < 0 || set_tmp(s, val[OPT_TMP], e) < 0)
        goto fail;

    s->multi = curl_multi_init();
    if (!s->multi)
        xoom();
    if (pthread_create(&s->pump, NULL, pump_main, s) != 0) {
        derr_set(e, 500, "internal", "cannot start the S3 store's thread");
        goto fail;
    }
    s->pump_running = true;
    for (int i = 0; i < NOPT; i++)
        free(val[i]);
    char ps[8];
    snprintf(ps, sizeof ps, "%ld", path_style);
    log_info("S3 blob store", "bucket", s->bucket, "endpoint", s->api.base, "region", s->region, "path_style", ps,
             NULL);
    return &s->base;

fail:
    for (int i = 0; i < NOPT; i++) {
        if (val[i] && i == OPT_SECRET)
            explicit_bzero(val[i], strlen(val[i]));
        free(val[i]);
    }
    s3_close(&s->base);
    return NULL;
}
