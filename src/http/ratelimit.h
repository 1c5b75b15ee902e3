/*
 * ratelimit.h — fixed-window request counting per key (an IP or a user, per
 * endpoint class). An interface so that several servers can later share
 * their counts (Redis); the memory implementation lives in ratelimit.c.
 * Windows are one hour, aligned to the clock hour, so every server agrees
 * on when a window resets.
 */
#ifndef DEPOT_RATELIMIT_H
#define DEPOT_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

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

#endif
