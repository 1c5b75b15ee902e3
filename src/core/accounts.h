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
 * unless `by_admin`). The first user of a store becomes an admin. */
int accounts_register(core *c, arena *a, const char *username, const char *email,
                      const char *password, size_t pwlen, bool by_admin, bool make_admin,
                      const char *ip, store_user *out, derr *e);
/* Checks the password and issues a session JWT. */
int accounts_login(core *c, arena *a, const char *login, const char *password, size_t pwlen,
                   const char *ip, session *out, derr *e);
/* A fresh JWT for the holder of a session JWT. */
int accounts_refresh(core *c, arena *a, const principal *p, session *out, derr *e);
/* Revokes the session JWT the principal came with. */
int accounts_logout(core *c, const principal *p, const char *ip, derr *e);
/* The user behind a principal (404 when gone). */
int accounts_get(core *c, arena *a, int64_t id, store_user *out, derr *e);
/* By username or email. */
int accounts_find(core *c, arena *a, const char *login, store_user *out, derr *e);
int accounts_set_password(core *c, arena *a, const char *login, const char *pw, size_t n, derr *e);
int accounts_set_disabled(core *c, arena *a, const char *login, bool disabled, derr *e);
int accounts_set_admin(core *c, arena *a, const char *login, bool admin, derr *e);

/* The public JSON of a user: id, username, email, is_admin, created_at. */
json_t *account_json(const store_user *u);

#endif
