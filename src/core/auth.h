/*
 * auth.h — who is calling, and what they may do.
 *
 * A credential (password, session JWT, API token) becomes a principal. What
 * a principal may do is decided here and only here: every front asks
 * principal_can() with the scope an operation needs.
 *
 * A scope is a right over a range of packages:
 *   read                                   read everything the server serves
 *   publish[:<ecosystem>[/<package>]]      publish versions, yank and unyank, retire, deprecate
 *                                          and retract them, move dist-tags, upload docs, remove a
 *                                          version within the unpublish window
 *   manage[:<ecosystem>[/<package>]]       all of publish, and manage the package: owners,
 *                                          settings (require signatures, discontinued), removing
 *                                          a whole package or its docs; and a token holding any
 *                                          manage scope may manage its user's tokens (tokens.h)
 *   admin                                  everything, for admin users only
 * A scope covers another when its right is at least as strong and its range contains the
 * other's: admin ⊃ manage ⊃ manage:<eco> ⊃ manage:<eco>/<pkg>; manage:X ⊃ publish:X;
 * publish ⊃ publish:<eco> ⊃ publish:<eco>/<pkg>; every scope ⊃ read. publish never covers manage.
 * A password or a session JWT holds every scope its user has (admin only for admin users); an
 * API token holds the scopes it was made with, never more than its user has now. What a package
 * right needs beyond the scope (being an owner) is core/packages.h's packages_may_change.
 */
#ifndef DEPOT_AUTH_H
#define DEPOT_AUTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "../lib/arena.h"
#include "../lib/err.h"

struct core;

enum cred_kind { CRED_NONE = 0, CRED_PASSWORD, CRED_JWT, CRED_TOKEN };

typedef struct principal {
    enum cred_kind kind;
    int64_t user_id;
    const char *username;
    bool is_admin;
    const char *scopes; /* API tokens: space-separated; NULL for password and JWT */
    int64_t token_id;   /* API tokens */
    const char *jti;    /* JWTs */
    const char *sid;    /* JWTs: the session (the login's jti), kept through refreshes */
    int64_t gen;        /* JWTs: the user's session epoch the session was issued at */
    int64_t expires_at; /* JWTs and expiring tokens; 0: never */
    bool via_cookie;    /* the session JWT came in the session cookie (a browser), not a header */
} principal;

/* The answer to a session JWT whose user's session epoch moved since it was issued. */
#define AUTH_SESSION_ENDED \
    "the session ended when the account's password was changed or the account was disabled; log in again"

/* Username-or-email and password. 401 "unauthorized" on any mismatch, with the same message
 * and the same password hash for an unknown user, a wrong password and a disabled account. */
int auth_password(struct core *c, arena *a, const char *login, const char *pw, size_t pwlen,
                  principal *p, derr *e);
/* A JWT or an API token secret. 401 when unknown, expired, revoked or tampered. */
int auth_secret(struct core *c, arena *a, const char *secret, size_t n, principal *p, derr *e);
/* Forgets a cached check of this secret (after it was revoked on this server). */
void auth_forget_secret(const char *secret, size_t n);
/* An Authorization header value: "Bearer X", "Basic B64", or a bare token. */
int auth_header(struct core *c, arena *a, const char *value, principal *p, derr *e);
/* True when checking this header costs a password hash (Basic). */
bool auth_header_is_slow(const char *value);

/* The browser session: the session JWT in a cookie of this name (set by the web front). */
#define AUTH_SESSION_COOKIE "depot_session"

/* The session cookie of a Cookie header value, checked as auth_secret checks a JWT (API tokens
 * are never taken from a cookie). Returns 1 with p filled (via_cookie set) when it holds a valid
 * session, 0 when the header has no session cookie, -1 with e filled when it has one that fails
 * (expired, revoked, tampered, not a JWT). */
int auth_session_cookie(struct core *c, arena *a, const char *cookie_header, principal *p, derr *e);

/* The CSRF token of a cookie session: base64url of HMAC-SHA-256(JWT key, its jti), 43 characters,
 * into out. Web forms carry it in a field, JSON API writes made with the cookie in an
 * X-CSRF-Token header. Returns 0, or -1 (out empty) for a principal without a session. */
int auth_csrf_token(const struct core *c, const principal *p, char out[64]);
/* Does token match p's CSRF token (in constant time)? */
bool auth_csrf_ok(const struct core *c, const principal *p, const char *token);

/* Checks a scope string's syntax ("read", "publish", "publish:hex", "publish:hex/foo", "manage",
 * "manage:hex", "manage:hex/foo", "admin"). */
bool scope_valid(const char *scope);
/* May p act with `scope`? Anonymous principals hold nothing; an invalid scope is held by nobody. */
bool principal_can(const principal *p, const char *scope);
/* Does p hold any manage (or admin) scope? A password or a session does. */
bool principal_manages_any(const principal *p);
/* Could p make (or remove) a credential with these space-separated scopes expiring at expires_at
 * (0: never)? Every scope must be one p holds, and when p is an expiring API token the other
 * credential must expire too, no later than p. The one rule of credential minting. */
bool principal_covers(const principal *p, const char *scopes, int64_t expires_at);
/* The scope needed to publish a package: "publish:<eco>/<name>". In the arena. */
const char *scope_publish(arena *a, const char *ecosystem, const char *package);
/* The scope needed to manage a package: "manage:<eco>/<name>". In the arena. */
const char *scope_manage(arena *a, const char *ecosystem, const char *package);

#endif
