/*
 * tokens.h — API tokens: random secrets shown once, stored as SHA-256,
 * with scopes (see auth.h) and an optional expiry.
 */
#ifndef DEPOT_TOKENS_H
#define DEPOT_TOKENS_H

#include <jansson.h>

#include "../store/store.h"
#include "auth.h"
#include "core.h"

/* Secrets are "dpt_" + 43 base64url characters (32 random bytes). */
#define TOKEN_PREFIX "dpt_"

/* Checks a token name: ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ (422). */
int token_check_name(const char *name, derr *e);

/* Makes a token for `creator`'s user; the creator must be one that may manage tokens
 * (tokens_may_manage, 403). `scopes` is a NULL-terminated list; each must be valid (422) and
 * within what the creator holds (403). expires_at 0: never, else it must be in the future (422).
 * Made by an expiring API token, the new token expires no later than its creator (403 when asked
 * to; asked for no expiry, it gets the creator's): a token never mints a credential broader or
 * longer-lived than itself (auth.h principal_covers). On success *secret is the secret (in the
 * arena) and out the stored token. */
int tokens_create(core *c, arena *a, const principal *creator, const char *name,
                  const char *const *scopes, int64_t expires_at, const char *ip, store_token *out,
                  const char **secret, derr *e);
int tokens_list(core *c, arena *a, int64_t user_id, store_token **out, int *n, derr *e);
int tokens_get(core *c, arena *a, int64_t user_id, const char *name, store_token *out, derr *e);
int tokens_delete(core *c, int64_t user_id, const char *name, const char *ip, derr *e);

/* Space-separated scopes as a JSON array of strings. */
json_t *scopes_json(const char *scopes);

/* The public JSON of a token (never the secret). */
json_t *token_json(const store_token *t);

/* May this principal list, make and delete its user's tokens (on every front: native, Hex keys,
 * npm tokens, the dashboard)? A password, a session JWT, or a token holding a manage scope (any
 * range) or the admin scope. 401 anonymous, 403 otherwise: a read-only or publish-only token
 * does not even list them. */
int tokens_may_manage(const principal *p, derr *e);

/* May this principal delete its user's token `name`? A token may always delete itself (so a
 * client can log out with nothing but its token); otherwise as tokens_may_manage, and a token
 * deletes only tokens it covers (principal_covers: every scope within its own, expiring no later
 * than it). A missing name passes here (tokens_delete answers 404). */
int tokens_may_delete(core *c, arena *a, const principal *p, const char *name, derr *e);

#endif
