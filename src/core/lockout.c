/*
 * lockout.c — the account lock (lockout.h) over the server's rate limiter.
 */
#include "lockout.h"
#include "core_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "../lib/timeutil.h"

void core_set_limiter(core *c, ratelimit *rl)
{
    c->limiter = rl;
}

/* The lock's rule; false when there is no lock. */
static bool lock_rule(const core *c, rl_rule *r)
{
    if (!c->limiter || c->cfg->login_failures <= 0 || c->cfg->login_lock <= 0)
        return false;
    r->interval_ms = (int64_t)c->cfg->login_lock * 1000;
    r->burst = c->cfg->login_failures;
    return true;
}

const char *lockout_key(arena *a, int64_t user_id, const char *login)
{
    if (user_id > 0)
        return arena_printf(a, "login|u:%lld", (long long)user_id);
    char *k = arena_printf(a, "login|n:%.200s", login ? login : "");
    for (char *p = k; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return k;
}

int64_t lockout_wait(core *c, const char *key)
{
    rl_rule r;
    if (!lock_rule(c, &r))
        return 0;
    rl_verdict v;
    c->limiter->ops->take(c->limiter, key, &r, now_unix_ms(), true, &v);
    return v.allowed ? 0 : v.retry_after;
}

void lockout_failed(core *c, const char *key)
{
    rl_rule r;
    if (!lock_rule(c, &r))
        return;
    rl_verdict v;
    c->limiter->ops->take(c->limiter, key, &r, now_unix_ms(), false, &v);
}

void lockout_clear(core *c, int64_t user_id)
{
    rl_rule r;
    char key[40];
    if (!lock_rule(c, &r) || user_id <= 0)
        return;
    snprintf(key, sizeof key, "login|u:%lld", (long long)user_id);
    c->limiter->ops->forget(c->limiter, key);
}

int lockout_refuse(derr *e, int64_t wait)
{
    derr_set(e, 429, "rate_limited",
             "too many failed logins for this account; password logins for it resume in %lld seconds "
             "(its API tokens and sessions still work)",
             (long long)wait);
    if (e)
        e->retry_after = wait;
    return -1;
}
