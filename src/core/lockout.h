/*
 * lockout.h — the account lock: failed password checks are counted against
 * the account they name, whoever sends them and whatever credential rides
 * along, so guessing one account's password is bounded from anywhere.
 *
 * An account takes --login-failures failed password checks in any
 * --login-lock seconds (a token bucket of that burst refilling one try per
 * --login-lock seconds, in the server's rate limiter, shared through Redis
 * when there is one); past that, every password check for it is answered 429
 * until a try is back, the right password too. Only password checks are
 * refused: the account's API tokens and sessions keep working, so the lock
 * cannot cut a team off. A name that is no account is counted the same way
 * under the name tried, so the lock says nothing about which accounts exist.
 */
#ifndef DEPOT_LOCKOUT_H
#define DEPOT_LOCKOUT_H

#include <stdint.h>

#include "../lib/arena.h"
#include "../lib/err.h"
#include "../lib/ratelimit.h"

struct core;

/* Gives core the server's limiter (borrowed; it outlives core's use of it). NULL, the default
 * (command-line tools, --rate-limit off), means no account lock. */
void core_set_limiter(struct core *c, ratelimit *rl);

/* The bucket of the account a password check names: its id when it is an account (user_id > 0),
 * else the login as tried, lower-cased. In the arena. */
const char *lockout_key(arena *a, int64_t user_id, const char *login);
/* Seconds before the account takes a password check again; 0 when it takes one now. */
int64_t lockout_wait(struct core *c, const char *key);
/* Counts a failed password check against the account. */
void lockout_failed(struct core *c, const char *key);
/* Forgets the account's failures (its password was reset through a mailed link). */
void lockout_clear(struct core *c, int64_t user_id);
/* The refusal of a locked account: 429 "rate_limited" with retry_after set. Returns -1. */
int lockout_refuse(derr *e, int64_t wait);

#endif
