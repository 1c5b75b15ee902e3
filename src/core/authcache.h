/*
 * authcache.h — a short-lived cache of checked credentials, so that a token
 * or session used by a CI fleet costs a hash lookup, not store queries, on
 * every request. Entries live --auth-cache-ttl seconds (0 turns the cache
 * off). A revocation on this server (token delete, logout, user disable or
 * demotion) drops the affected entries at once; another server sharing the
 * store sees it within the TTL.
 */
#ifndef DEPOT_AUTHCACHE_H
#define DEPOT_AUTHCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "../lib/arena.h"
#include "auth.h"

void authcache_init(long ttl_seconds);
void authcache_shutdown(void);
/* Looks up a credential by the SHA-256 of its secret, valid at revocation epoch `epoch`
 * (store's auth_epoch); fills p (strings in the arena). */
bool authcache_get(const unsigned char key[32], int64_t now, int64_t epoch, arena *a, principal *p);
void authcache_put(const unsigned char key[32], int64_t now, int64_t epoch, const principal *p);
/* Is the cache on? */
bool authcache_on(void);
/* Drops one credential, or every credential of a user. */
void authcache_forget(const unsigned char key[32]);
void authcache_forget_user(int64_t user_id);

#endif
