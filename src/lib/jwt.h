/*
 * jwt.h — JSON Web Tokens, HS256 only, signed and checked with libsodium.
 *
 * The algorithm is pinned: a token whose header names any algorithm but
 * "HS256" (including "none") is refused before its signature is looked at.
 * Claims used by depot: sub (user id, as a string), name (username),
 * iat, exp (seconds since the epoch), jti (random id of this token), sid (the session: the jti
 * of the login's token, kept by every refresh; revocation is by sid) and gen (the user's session
 * epoch when the session was issued). sid and gen are optional on the way in, for tokens signed
 * before they existed: sid then reads as the jti, gen as 0.
 */
#ifndef DEPOT_JWT_H
#define DEPOT_JWT_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"

typedef struct jwt_claims {
    int64_t sub;
    const char *name;
    int64_t iat, exp;
    const char *jti;
    const char *sid; /* NULL when signing: the jti */
    int64_t gen;
} jwt_claims;

/* Signs the claims (a jti is filled in by the caller). Returns the compact token, in the arena;
 * NULL when name or jti is NULL or not UTF-8. */
char *jwt_sign(arena *a, const unsigned char *key, size_t keylen, const jwt_claims *c);

enum jwt_result {
    JWT_OK = 0,
    JWT_MALFORMED = -1, /* not three base64url parts, bad JSON, missing claims */
    JWT_BAD_ALG = -2,   /* header alg is not HS256 */
    JWT_BAD_SIG = -3,   /* signature does not verify */
    JWT_EXPIRED = -4,   /* exp <= now */
};

/* Verifies `token` (length n, at most 8 KiB) at time `now`; fills c (strings in the arena) for
 * JWT_OK and also for JWT_EXPIRED (to log whose it was); zeroes it for any other result. */
enum jwt_result jwt_verify(arena *a, const unsigned char *key, size_t keylen, const char *token,
                           size_t n, int64_t now, jwt_claims *c);

/* True when the string has the shape of a JWT (three dot-separated parts); a cheap test to tell
 * a JWT from an API token. */
int jwt_looks_like(const char *token, size_t n);

#endif
