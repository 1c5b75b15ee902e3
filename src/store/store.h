/*
 * store.h — the metadata store: an interface (a table of function pointers,
 * like a driver) with one implementation per file: sqlite.c now, postgres.c
 * later. Callers never test which backend they have.
 *
 * Every operation is atomic: an operation that writes several rows does so
 * in one transaction, so a failure leaves nothing half-written.
 *
 * Threads: a store is shared by every worker thread; each implementation
 * keeps one connection per thread internally.
 *
 * Results: operations return one of enum store_rc. Strings in results are
 * allocated from the arena the caller passes and live as long as it.
 * On STORE_ERROR the derr says "internal" and nothing more to the client;
 * the detail (SQL error text) goes to the log only.
 */
#ifndef DEPOT_STORE_H
#define DEPOT_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "../lib/arena.h"
#include "../lib/err.h"

enum store_rc {
    STORE_OK = 0,
    STORE_NOT_FOUND = 1,
    STORE_CONFLICT = 2, /* a unique key is taken */
    STORE_ERROR = -1,
};

typedef struct store_user {
    int64_t id;
    const char *username;
    const char *email;
    const char *password_hash; /* Argon2id encoded; NULL when none is set */
    bool is_admin;
    bool disabled;
    int64_t created_at; /* seconds since the epoch */
} store_user;

typedef struct store_token {
    int64_t id;
    int64_t user_id;
    const char *name;
    const char *hash;   /* hex SHA-256 of the secret */
    const char *prefix; /* the first characters of the secret, to recognise it in lists */
    const char *scopes; /* space-separated: "read publish:hex/foo admin" */
    int64_t created_at;
    int64_t expires_at; /* 0: never */
    int64_t last_used_at; /* 0: never */
} store_token;

typedef struct store_audit {
    int64_t user_id;    /* 0: none (anonymous or system) */
    const char *action; /* "user.register", "token.create", ... */
    const char *target; /* what it acted on */
    const char *detail; /* JSON text or NULL */
    const char *ip;     /* NULL when not over HTTP */
} store_audit;

typedef struct store store;

struct store_ops {
    const char *name;
    void (*close)(store *s);
    /* Applies pending migrations; returns the number applied in *applied. */
    int (*migrate)(store *s, int *applied, derr *e);
    /* A cheap round trip, for /health. */
    int (*ping)(store *s, derr *e);

    /* Users. user_create fills u->id and u->created_at; STORE_CONFLICT when the
     * username (case-insensitively) or the email (case-insensitively) is taken,
     * with e->message saying which. */
    int (*user_create)(store *s, store_user *u, derr *e);
    int (*user_by_id)(store *s, arena *a, int64_t id, store_user *out, derr *e);
    /* By username or by email, both case-insensitive. */
    int (*user_by_login)(store *s, arena *a, const char *login, store_user *out, derr *e);
    /* All users ordered by username; *out is an arena array of *n users. */
    int (*user_list)(store *s, arena *a, store_user **out, int *n, derr *e);
    int (*user_set_password)(store *s, int64_t id, const char *hash, derr *e);
    int (*user_set_disabled)(store *s, int64_t id, bool disabled, derr *e);
    int (*user_set_admin)(store *s, int64_t id, bool admin, derr *e);

    /* API tokens. Names are unique per user (STORE_CONFLICT). */
    int (*token_create)(store *s, store_token *t, derr *e);
    int (*token_by_hash)(store *s, arena *a, const char *hash, store_token *out, derr *e);
    int (*token_by_name)(store *s, arena *a, int64_t user_id, const char *name, store_token *out,
                         derr *e);
    int (*token_list)(store *s, arena *a, int64_t user_id, store_token **out, int *n, derr *e);
    int (*token_delete)(store *s, int64_t user_id, const char *name, derr *e);
    /* Records use; implementations may skip the write when the stored time is recent. */
    int (*token_touch)(store *s, int64_t id, int64_t now, derr *e);

    /* Revoked JWTs, by jti, kept until they would have expired anyway. */
    int (*jwt_revoke)(store *s, const char *jti, int64_t expires_at, derr *e);
    /* STORE_OK when revoked, STORE_NOT_FOUND when not. */
    int (*jwt_is_revoked)(store *s, const char *jti, derr *e);

    int (*audit)(store *s, const store_audit *ev, derr *e);
};

struct store {
    const struct store_ops *ops;
};

/* Opens a store from its URL: "sqlite:PATH" (PATH relative to the working dir),
 * later "postgres://...". Returns NULL and fills e on failure. */
store *store_open(const char *url, derr *e);

/* Shorthands so callers read as calls, not vtable lookups. */
#define store_call(s, op, ...) ((s)->ops->op((s), __VA_ARGS__))

#endif
