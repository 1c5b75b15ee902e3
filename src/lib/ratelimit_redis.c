/*
 * ratelimit_redis.c — the rate limiter in Redis, so that every depot server
 * behind one load balancer spends from the same buckets (`--redis URL`).
 *
 * Same verdicts as the memory limiter (ratelimit.c): the bucket of a key is
 * its TAT, kept in "depot:rl:<key>" (milliseconds) and expiring when the
 * bucket is full again. A request is one round trip: one Lua script (below)
 * reads the TAT, decides as rl_gcra() does and stores the new TAT, all at
 * once, so two servers never both spend the last request of a bucket. The
 * script answers whether the request may go and the TAT after it; the
 * verdict is made from that by rl_fill(), as for the memory limiter. Times are
 * the calling server's clock (servers behind one balancer keep theirs in step).
 *
 * Each thread (HTTP event threads and workers alike) keeps its own
 * connection, made on first use and made again after a failure. Requests run
 * on the event threads: a Redis round trip on a LAN is a fraction of a
 * millisecond, and every call is bounded by the timeout (default 250 ms).
 *
 * When Redis cannot be reached or answers an error, the limiter FAILS OPEN:
 * the request is allowed (limits are a guard against abuse, not a security
 * boundary; refusing every request because Redis is down would turn a
 * limiter outage into a registry outage). A warning is logged at most once a
 * minute while it lasts, and the thread waits a second before trying to
 * reconnect, so a dead Redis costs at most one timeout per thread per second
 * (two on the request that finds it gone). A connection that had been working
 * and breaks (Redis restarted or failed over, an idle connection cut by the
 * network) is made again at once, within the same request, so counting
 * resumes on the first request after Redis is back rather than a second later
 * (a request whose answer was lost as the connection broke may count twice).
 *
 *   redis://[[USER]:PASSWORD@]HOST[:PORT][/DB][?timeout_ms=N]
 *   unix:///PATH/TO/SOCKET[?db=N&password=P&timeout_ms=N]
 */
#include <hiredis/hiredis.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "buf.h"
#include "list.h"
#include "log.h"
#include "ratelimit.h"
#include "timeutil.h"
#include "url.h"
#include "xalloc.h"

#define RETRY_NS 1000000000ull /* a thread whose connection failed waits this long before reconnecting */
#define WARN_EVERY 60          /* seconds between two warnings while Redis is unreachable */

/* rl_gcra() in Lua: KEYS[1] the bucket; ARGV now (ms), interval (ms), burst, dry ("1" or "0").
 * Answers {1 or 0: let through, the TAT after}. Lua numbers are doubles, exact for these. */
static const char GCRA_SCRIPT[] =
    "local now, iv, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])\n"
    "local tat = tonumber(redis.call('GET', KEYS[1]) or 0)\n"
    "if tat < now then tat = now end\n"
    "local ok = tat + iv - now <= burst * iv\n"
    "if ok and ARGV[4] == '0' then\n"
    "  tat = tat + iv\n"
    "  redis.call('SET', KEYS[1], tat, 'PX', tat - now)\n"
    "end\n"
    "return {ok and 1 or 0, tat}\n";

typedef struct redisrl redisrl;

/* One thread's connection; in the limiter's list so that free() can close them all. */
struct rconn {
    redisrl *rl;
    redisContext *c;        /* NULL: not connected */
    uint64_t retry_at;      /* monotonic ns before which no reconnect is tried */
    list_node link; /* in the limiter's conns */
};

struct redisrl {
    ratelimit base;
    char *host; /* NULL for a unix socket */
    int port;
    char *path; /* unix socket */
    char *user, *password;
    long db;
    long timeout_ms;

    pthread_key_t key;
    pthread_mutex_t mu; /* conns */
    list conns;
    atomic_llong last_warn; /* unix time of the last "unreachable" warning */
    atomic_bool down;
};

static void conn_drop(struct rconn *k)
{
    if (k->c)
        redisFree(k->c);
    k->c = NULL;
}

/* Thread exit: the connection goes. */
static void conn_destroy(void *p)
{
    struct rconn *k = p;
    redisrl *rl = k->rl;
    pthread_mutex_lock(&rl->mu);
    list_unlink(&rl->conns, &k->link);
    pthread_mutex_unlock(&rl->mu);
    conn_drop(k);
    free(k);
}

static void warn_down(redisrl *rl, const char *why)
{
    atomic_store(&rl->down, true);
    long long now = (long long)now_unix();
    long long last = atomic_load(&rl->last_warn);
    if (now - last < WARN_EVERY || !atomic_compare_exchange_strong(&rl->last_warn, &last, now))
        return;
    log_warn("rate limiter: Redis cannot be reached; allowing requests unlimited until it can", "error", why,
             NULL);
}

/* A reply that must not be an error; frees it. 0 when fine. */
static int reply_ok(redisReply *r, buf *why)
{
    int rc = r && r->type != REDIS_REPLY_ERROR ? 0 : -1;
    if (rc < 0 && r && why)
        buf_printf(why, "%.*s", (int)(r->len < 200 ? r->len : 200), r->str ? r->str : "");
    if (r)
        freeReplyObject(r);
    return rc;
}

/* Connects, authenticates and selects the database. 0, or -1 with why filled. */
static int conn_open(redisrl *rl, struct rconn *k, buf *why)
{
    struct timeval tv = {rl->timeout_ms / 1000, (rl->timeout_ms % 1000) * 1000};
    k->c = rl->path ? redisConnectUnixWithTimeout(rl->path, tv) : redisConnectWithTimeout(rl->host, rl->port, tv);
    if (!k->c || k->c->err) {
        buf_puts(why, k->c ? k->c->errstr : "out of memory");
        conn_drop(k);
        return -1;
    }
    if (redisSetTimeout(k->c, tv) != REDIS_OK)
        goto fail;
    if (!rl->path)
        redisEnableKeepAlive(k->c);
    if (rl->password) {
        redisReply *r = rl->user ? redisCommand(k->c, "AUTH %s %s", rl->user, rl->password)
                                 : redisCommand(k->c, "AUTH %s", rl->password);
        if (reply_ok(r, why) < 0)
            goto fail;
    }
    if (rl->db) {
        redisReply *r = redisCommand(k->c, "SELECT %ld", rl->db);
        if (reply_ok(r, why) < 0)
            goto fail;
    }
    return 0;
fail:
    if (!why->len)
        buf_puts(why, k->c->err ? k->c->errstr : "the server refused");
    conn_drop(k);
    return -1;
}

/* This thread's connection, connected; NULL while Redis is out of reach (why filled).
 * *fresh says whether it was made by this call. */
static struct rconn *conn_get(redisrl *rl, buf *why, bool *fresh)
{
    *fresh = false;
    struct rconn *k = pthread_getspecific(rl->key);
    if (!k) {
        k = xcalloc(1, sizeof *k);
        k->rl = rl;
        if (pthread_setspecific(rl->key, k) != 0)
            xoom();
        pthread_mutex_lock(&rl->mu);
        list_push_front(&rl->conns, &k->link);
        pthread_mutex_unlock(&rl->mu);
    }
    if (k->c)
        return k;
    uint64_t now = now_mono_ns();
    if (now < k->retry_at) {
        buf_puts(why, "waiting before reconnecting");
        return NULL;
    }
    if (conn_open(rl, k, why) < 0) {
        k->retry_at = now + RETRY_NS;
        return NULL;
    }
    *fresh = true;
    return k;
}

/* The script on this connection: 0 with *allowed and *tat set, or -1 (why filled). */
static int eval_take(struct rconn *k, const char *key, const rl_rule *rule, int64_t now_ms, bool dry,
                     bool *allowed, int64_t *tat, buf *why)
{
    buf rk;
    buf_init(&rk, 0);
    buf_printf(&rk, "depot:rl:%s", key);
    redisContext *c = k->c;
    redisReply *r = redisCommand(c, "EVAL %s 1 %b %lld %lld %ld %s", GCRA_SCRIPT, rk.data, rk.len, (long long)now_ms,
                                 (long long)rule->interval_ms, rule->burst, dry ? "1" : "0");
    buf_free(&rk);
    int rc = -1;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[0]->type == REDIS_REPLY_INTEGER &&
        r->element[1]->type == REDIS_REPLY_INTEGER) {
        *allowed = r->element[0]->integer == 1;
        *tat = r->element[1]->integer;
        rc = 0;
    } else if (r && r->type == REDIS_REPLY_ERROR) {
        buf_printf(why, "%.200s", r->str ? r->str : "an error");
    } else {
        buf_puts(why, r ? "unexpected answer to EVAL" : c->err ? c->errstr : "no answer");
    }
    if (r)
        freeReplyObject(r);
    return rc;
}

/* Runs eval_take on this thread's connection, once more on a new connection when one that
 * served before broke (see the top). 0, or -1 (why filled) while Redis is out of reach. */
static int take_once(redisrl *rl, const char *key, const rl_rule *rule, int64_t now_ms, bool dry, bool *allowed,
                     int64_t *tat, buf *why)
{
    bool fresh = false;
    struct rconn *k = conn_get(rl, why, &fresh);
    if (!k)
        return -1;
    int rc = eval_take(k, key, rule, now_ms, dry, allowed, tat, why);
    if (rc < 0 && !fresh && k->c->err) {
        conn_drop(k);
        buf_reset(why);
        k = conn_get(rl, why, &fresh);
        if (k)
            rc = eval_take(k, key, rule, now_ms, dry, allowed, tat, why);
    }
    if (k && rc < 0 && k->c && k->c->err) {
        /* The connection may be out of step with its replies: start afresh. */
        conn_drop(k);
        k->retry_at = now_mono_ns() + RETRY_NS;
    }
    return rc;
}

static void redis_take(ratelimit *base, const char *key, const rl_rule *rule, int64_t now_ms, bool dry,
                       rl_verdict *v)
{
    redisrl *rl = (redisrl *)base;
    buf why;
    buf_init(&why, 0);
    bool allowed = true;
    int64_t tat = 0;
    if (take_once(rl, key, rule, now_ms, dry, &allowed, &tat, &why) < 0) {
        warn_down(rl, why.data ? why.data : "unknown");
        buf_free(&why);
        rl_fill(v, true, now_ms, now_ms, rule); /* fail open (see the top of this file) */
        return;
    }
    buf_free(&why);
    if (atomic_exchange(&rl->down, false))
        log_info("rate limiter: Redis reachable again", NULL);
    rl_fill(v, allowed, tat, now_ms, rule);
}

static void redis_forget(ratelimit *base, const char *key)
{
    redisrl *rl = (redisrl *)base;
    buf why;
    buf_init(&why, 0);
    bool fresh;
    struct rconn *k = conn_get(rl, &why, &fresh);
    if (k) {
        redisReply *r = redisCommand(k->c, "DEL depot:rl:%s", key);
        if (!r || r->type == REDIS_REPLY_ERROR)
            log_warn("rate limiter: could not clear a bucket in Redis", "error",
                     r && r->str ? r->str : k->c->errstr, NULL);
        if (r)
            freeReplyObject(r);
        else
            conn_drop(k);
    }
    buf_free(&why);
}

static void redis_free(ratelimit *base)
{
    redisrl *rl = (redisrl *)base;
    if (!rl)
        return;
    /* The threads that served are gone; what is left is this thread's or leaked by none. */
    pthread_mutex_lock(&rl->mu);
    list_node *n = rl->conns.head;
    rl->conns = (list){0};
    pthread_mutex_unlock(&rl->mu);
    while (n) {
        struct rconn *k = list_entry(n, struct rconn, link);
        n = n->next;
        conn_drop(k);
        free(k);
    }
    pthread_setspecific(rl->key, NULL);
    pthread_key_delete(rl->key);
    pthread_mutex_destroy(&rl->mu);
    free(rl->host);
    free(rl->path);
    free(rl->user);
    if (rl->password) {
        explicit_bzero(rl->password, strlen(rl->password));
        free(rl->password);
    }
    free(rl);
}

static const struct ratelimit_ops redis_ops = {redis_take, redis_forget, redis_free};

static int parse_num(const char *p, size_t n, long min, long max, long *out)
{
    char tmp[24];
    if (n == 0 || n >= sizeof tmp)
        return -1;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    char *end;
    errno = 0;
    long v = strtol(tmp, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int bad_url(derr *e, const char *what)
{
    return derr_set(e, 400, "config", "--redis: %s (redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] or unix:///PATH)",
                    what);
}

/* Query options: timeout_ms, db, password. */
static int parse_query(redisrl *rl, const char *q, derr *e)
{
    while (q && *q) {
        size_t n = strcspn(q, "&");
        const char *eq = memchr(q, '=', n);
        if (!eq)
            return bad_url(e, "an option without a value");
        size_t kl = (size_t)(eq - q), vl = n - kl - 1;
        if (kl == 10 && memcmp(q, "timeout_ms", 10) == 0) {
            if (parse_num(eq + 1, vl, 1, 60000, &rl->timeout_ms) < 0)
                return bad_url(e, "timeout_ms is 1 to 60000");
        } else if (kl == 2 && memcmp(q, "db", 2) == 0) {
            if (parse_num(eq + 1, vl, 0, 100000, &rl->db) < 0)
                return bad_url(e, "the database is a number");
        } else if (kl == 8 && memcmp(q, "password", 8) == 0) {
            free(rl->password);
            rl->password = url_decode_dup(eq + 1, vl, false);
            if (!rl->password)
                return bad_url(e, "a bad %-escape in the password");
        } else {
            return bad_url(e, "unknown option");
        }
        q += n;
        if (*q == '&')
            q++;
    }
    return 0;
}

static int parse_url(redisrl *rl, const char *url, derr *e)
{
    const char *q = strchr(url, '?');
    size_t len = q ? (size_t)(q - url) : strlen(url);
    if (len > 7 && strncmp(url, "unix://", 7) == 0) {
        rl->path = url_decode_dup(url + 7, len - 7, false);
        if (!rl->path || rl->path[0] != '/')
            return bad_url(e, "a unix socket path is absolute");
        return parse_query(rl, q ? q + 1 : NULL, e);
    }
    if (strncmp(url, "rediss://", 9) == 0)
        return bad_url(e, "TLS (rediss://) is not supported; reach Redis over a private network or a unix socket");
    if (len <= 8 || strncmp(url, "redis://", 8) != 0)
        return bad_url(e, "expected a redis:// URL");
    const char *p = url + 8, *end = url + len;
    const char *slash = memchr(p, '/', (size_t)(end - p));
    const char *auth_end = slash ? slash : end;
    const char *at = NULL;
    for (const char *c = p; c < auth_end; c++)
        if (*c == '@')
            at = c;
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (!colon)
            return bad_url(e, "credentials are [USER]:PASSWORD@");
        if (colon > p && !(rl->user = url_decode_dup(p, (size_t)(colon - p), false)))
            return bad_url(e, "a bad %-escape in the user");
        if (!(rl->password = url_decode_dup(colon + 1, (size_t)(at - colon - 1), false)))
            return bad_url(e, "a bad %-escape in the password");
        if (!rl->password[0]) {
            free(rl->password);
            rl->password = NULL;
        }
        p = at + 1;
    }
    const char *hend = auth_end, *port = NULL;
    if (*p == '[') {
        const char *rb = memchr(p, ']', (size_t)(auth_end - p));
        if (!rb)
            return bad_url(e, "an IPv6 address is written [ADDR]");
        rl->host = xmalloc((size_t)(rb - p));
        memcpy(rl->host, p + 1, (size_t)(rb - p - 1));
        rl->host[rb - p - 1] = '\0';
        if (rb + 1 < auth_end && rb[1] == ':')
            port = rb + 2;
        else if (rb + 1 != auth_end)
            return bad_url(e, "junk after the host");
    } else {
        const char *colon = memchr(p, ':', (size_t)(auth_end - p));
        if (colon) {
            hend = colon;
            port = colon + 1;
        }
        rl->host = xmalloc((size_t)(hend - p) + 1);
        memcpy(rl->host, p, (size_t)(hend - p));
        rl->host[hend - p] = '\0';
    }
    if (!rl->host[0])
        return bad_url(e, "no host");
    long pv = 6379;
    if (port && parse_num(port, (size_t)(auth_end - port), 1, 65535, &pv) < 0)
        return bad_url(e, "the port is 1 to 65535");
    rl->port = (int)pv;
    if (slash && slash + 1 < end && parse_num(slash + 1, (size_t)(end - slash - 1), 0, 100000, &rl->db) < 0)
        return bad_url(e, "the database is a number");
    return parse_query(rl, q ? q + 1 : NULL, e);
}

ratelimit *ratelimit_redis_new(const char *url, derr *e)
{
    redisrl *rl = xcalloc(1, sizeof *rl);
    rl->base.ops = &redis_ops;
    rl->timeout_ms = 250;
    pthread_mutex_init(&rl->mu, NULL);
    if (pthread_key_create(&rl->key, conn_destroy) != 0)
        xoom();
    if (!url || parse_url(rl, url, e) < 0) {
        if (!url)
            bad_url(e, "no URL");
        redis_free(&rl->base);
        return NULL;
    }
    /* Try once now, so a wrong address shows in the log at start; a Redis not
     * up yet is not fatal (the limiter fails open until it is). */
    buf why;
    buf_init(&why, 0);
    bool fresh;
    if (!conn_get(rl, &why, &fresh))
        warn_down(rl, why.data ? why.data : "unknown");
    else
        log_info("rate limits shared through Redis", "redis", rl->path ? rl->path : rl->host, NULL);
    buf_free(&why);
    return &rl->base;
}
