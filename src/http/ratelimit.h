/*
 * ratelimit.h — fixed-window request counting per key (an IP or a user, per
 * endpoint class). An interface so that several servers can share their
 * counts: the memory implementation lives in ratelimit.c, the Redis one in
 * ratelimit_redis.c.
 * Windows are one hour, aligned to the clock hour, so every server agrees
 * on when a window resets.
 */
#ifndef DEPOT_RATELIMIT_H
#define DEPOT_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "../lib/err.h"

typedef struct ratelimit ratelimit;

typedef struct rl_verdict {
    bool allowed;
    long limit, remaining;
    int64_t reset; /* unix time the window ends */
} rl_verdict;

struct ratelimit_ops {
    /* Counts one hit on key against `limit` per window at time now. */
    void (*hit)(ratelimit *rl, const char *key, long limit, int64_t now, rl_verdict *v);
    void (*free)(ratelimit *rl);
};

struct ratelimit {
    const struct ratelimit_ops *ops;
};

#define RL_WINDOW 3600

ratelimit *ratelimit_memory_new(void);
/* Counts shared by every server through Redis (ratelimit_redis.c): "redis://..." or "unix:///...".
 * NULL with e filled (400 "config") for a malformed URL; a Redis that cannot be reached yet is
 * not an error (the limiter fails open until it can). */
ratelimit *ratelimit_redis_new(const char *url, derr *e);

#endif
