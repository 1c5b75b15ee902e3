/*
 * ratelimit.h — token buckets per key (an IP, a user, an account name), kept
 * by the generic cell rate algorithm (GCRA).
 *
 * A rule is a sustained rate (one request per `interval_ms`) and a burst (how
 * many may come at once). A bucket is one number, its theoretical arrival
 * time (TAT): the instant at which it would be full again. A request is let
 * through when, after adding one interval to the TAT, the TAT is no more than
 * burst intervals ahead of now. Nothing is aligned to the clock, so nothing
 * resets at the turn of an hour: a bucket refills one request per interval,
 * and a key whose bucket is full again is forgotten.
 *
 * An interface so that several servers can share their buckets: the memory
 * implementation lives in ratelimit.c, the Redis one (the same algorithm in
 * one Lua script) in ratelimit_redis.c. Times are milliseconds of the clock
 * the caller passes, so tests drive the algorithm with a clock of their own.
 */
#ifndef DEPOT_RATELIMIT_H
#define DEPOT_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

typedef struct ratelimit ratelimit;

/* One request per interval_ms sustained, burst at once (both >= 1). */
typedef struct rl_rule {
    int64_t interval_ms;
    long burst;
} rl_rule;

/* What a request sees of its bucket (the X-RateLimit-* headers and Retry-After). */
typedef struct rl_verdict {
    bool allowed;
    long limit;          /* the burst: the most requests the bucket holds */
    long remaining;      /* whole requests the bucket holds after this one */
    int64_t reset;       /* unix seconds when the bucket is full again (rounded up) */
    int64_t retry_after; /* seconds until one more request would be let through (0 when it would) */
} rl_verdict;

struct ratelimit_ops {
    /* Spends one request of key's bucket under rule at now_ms and fills v. With dry set, only
     * says whether one request would be let through, spending nothing. */
    void (*take)(ratelimit *rl, const char *key, const rl_rule *rule, int64_t now_ms, bool dry, rl_verdict *v);
    /* Forgets key's bucket (it is full again). */
    void (*forget)(ratelimit *rl, const char *key);
    void (*free)(ratelimit *rl);
};

struct ratelimit {
    const struct ratelimit_ops *ops;
};

/* The rule for `per_hour` requests an hour sustained and `burst` at once; per_hour <= 0 or
 * burst <= 0 give a rule with interval_ms 0, which rl_unlimited() reports. */
rl_rule rl_rule_per_hour(long per_hour, long burst);
static inline bool rl_unlimited(const rl_rule *r)
{
    return r->interval_ms <= 0 || r->burst <= 0;
}

/* The algorithm, written once for both implementations (the Redis script mirrors rl_gcra).
 * rl_gcra() decides a request on a bucket whose TAT is *tat (0 for a key not seen): true when the
 * request is let through; *tat becomes the TAT after it (no earlier than now_ms, one interval
 * later when the request spent). rl_fill() makes the verdict from the outcome and that TAT. */
bool rl_gcra(int64_t *tat, int64_t now_ms, const rl_rule *r, bool dry);
void rl_fill(rl_verdict *v, bool allowed, int64_t tat, int64_t now_ms, const rl_rule *r);

ratelimit *ratelimit_memory_new(void);
/* Buckets shared by every server through Redis (ratelimit_redis.c): "redis://..." or "unix:///...".
 * NULL with e filled (400 "config") for a malformed URL; a Redis that cannot be reached yet is
 * not an error (the limiter fails open until it can). */
ratelimit *ratelimit_redis_new(const char *url, derr *e);

#endif
