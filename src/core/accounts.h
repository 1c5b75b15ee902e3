/*
 * accounts.h — users and sessions: registration, login, refresh, logout,
 * and the admin operations on users. Every front that creates or checks a
 * user goes through here, so the rules are the same everywhere.
 */
#ifndef DEPOT_ACCOUNTS_H
#define DEPOT_ACCOUNTS_H

#include <jansson.h>
#include <stdbool.h>

#include "../store/store.h"
#include "auth.h"
#include "core.h"

typedef struct session {
    const char *token; /* the JWT */
    int64_t expires_at;
    store_user user;
} session;

/* Rules, each 0 or -1 with a 422 naming the field. */
int account_check_username(const char *s, derr *e);
int account_check_email(const char *s, derr *e);
int account_check_password(const char *s, size_t n, derr *e);

/* Registers a user (self-service: refused with 403 when registration is closed,
 * unless `by_admin`). The first user of a store becomes an admin (decided by the store inside the
 * insert's transaction, so two first registrations at once make one admin). */
int accounts_register(core *c, arena *a, const char *username, const char *email,
                      const char *password, size_t pwlen, bool by_admin, bool make_admin,
                      const char *ip, store_user *out, derr *e);
/* Writes the audit entry of a refused password (auth.login_failed): the login as given (cut to
 * 100 bytes), e's reason, the front or flow it came through (`via`), the caller's IP. Fronts that
 * check a password without accounts_login call it themselves. */
void accounts_audit_login_failure(core *c, const char *login, const derr *e, const char *via, const char *ip);
/* Checks the password and issues a session JWT; a refusal is written to the audit log. */
int accounts_login(core *c, arena *a, const char *login, const char *password, size_t pwlen,
                   const char *ip, session *out, derr *e);
/* A fresh JWT of the same session for the holder of a session JWT: a new jti, the user's current
 * session epoch, the session's id and its end unchanged (a session lasts --jwt-ttl from its login
 * however often it is refreshed). */
int accounts_refresh(core *c, arena *a, const principal *p, session *out, derr *e);
/* Revokes the session the principal's JWT belongs to: that token, the login's and every refresh. */
int accounts_logout(core *c, const principal *p, const char *ip, derr *e);
/* The user behind a principal (404 when gone). */
int accounts_get(core *c, arena *a, int64_t id, store_user *out, derr *e);
/* By username or email. */
int accounts_find(core *c, arena *a, const char *login, store_user *out, derr *e);
/* A user as the public sees one: by username only (never by email, which would reveal whose an
 * address is) and never a disabled account; 404 "no user '<username>'" otherwise. */
int accounts_profile(core *c, arena *a, const char *username, store_user *out, derr *e);
/* Every user, by username (the admin page). */
int accounts_list(core *c, arena *a, store_user **out, int *n, derr *e);
/* The newest audit entries, newest first, at most limit (<= 1000; the admin page). */
int accounts_audit_recent(core *c, arena *a, int limit, audit_row **out, int *n, derr *e);
int accounts_set_password(core *c, arena *a, const char *login, const char *pw, size_t n, derr *e);
int accounts_set_disabled(core *c, arena *a, const char *login, bool disabled, derr *e);
int accounts_set_admin(core *c, arena *a, const char *login, bool admin, derr *e);

/* Changes the password of p's user after checking the current one (401 when wrong, 422 when
 * the new one breaks a rule). Every session of the user ends; with `fresh` not NULL a new session
 * for the caller is issued into it (the dashboard keeps the browser that made the change signed
 * in), its token NULL when none could be. */
int accounts_change_password(core *c, arena *a, const principal *p, const char *current, size_t curlen,
                             const char *pw, size_t n, const char *ip, session *fresh, derr *e);

/* Mailed secrets: single-use links for address verification and password resets. Only the
 * SHA-256 of a secret is stored; making a new one for a user and purpose ends the earlier ones. */
#define EMAIL_VERIFY "verify_email"
#define EMAIL_RESET "reset_password"
#define EMAIL_VERIFY_TTL (7 * 24 * 3600)
#define EMAIL_RESET_TTL 3600

/* A new secret for u (who must have an email) of this purpose, valid ttl seconds: 43 base64url
 * characters in the arena. */
int accounts_email_secret_new(core *c, arena *a, const store_user *u, const char *purpose, int64_t ttl,
                              const char **secret, derr *e);
/* The user a secret was made for, without using it: 404 when unknown, used or expired. */
int accounts_email_secret_check(core *c, arena *a, const char *secret, const char *purpose, store_user *out,
                                derr *e);
/* Sets a new password with a reset secret, using the secret (the password's rules are checked
 * first, so a refused password does not spend the link). 404 as above, 403 for a disabled account. */
int accounts_reset_password(core *c, arena *a, const char *secret, const char *pw, size_t n, const char *ip,
                            store_user *out, derr *e);
/* Marks the address verified with a verification secret, using it. 404 as above; 409 when the
 * account's address is no longer the one the link was sent to. */
int accounts_verify_email(core *c, arena *a, const char *secret, const char *ip, store_user *out, derr *e);
/* When u's address was verified; 0 when it is not. */
int accounts_email_verified(core *c, int64_t user_id, int64_t *at, derr *e);

/* The JSON of a user for that user (or an admin): id, username, email, show_email, is_admin,
 * created_at. */
json_t *account_json(const store_user *u);

#endif
