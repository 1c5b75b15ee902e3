/*
 * store.h — the metadata store: an interface (a table of function pointers)
 * that callers use without knowing which engine is behind it. Every
 * operation is written once, in sql.c, over the small driver each engine
 * supplies (driver.h: sqlite.c, postgres.c). Callers never test which
 * backend they have.
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
    STORE_FORBIDDEN = 3, /* a condition of the operation does not hold (not an owner, last owner) */
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
    int64_t password_changed_at; /* when the password last changed (0: never) */
    int64_t session_epoch; /* moved by a password change and by disabling or enabling: a session
                            * token carrying another epoch is over */
    bool show_email;    /* the user lets others see the address (off by default) */
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


/* A package: (ecosystem, name) with the fields of its newest publish. JSON
 * fields hold JSON text. */
typedef struct store_package {
    int64_t id;
    const char *ecosystem;
    const char *name;
    const char *normalized_name; /* the uniqueness key: see core/names */
    const char *description, *homepage, *repository, *documentation, *license;
    const char *keywords;   /* JSON array text */
    const char *categories; /* JSON array text */
    const char *tags;       /* JSON array text */
    const char *authors;    /* JSON array text */
    const char *readme;     /* text, capped by core */
    bool require_signatures;
    const char *latest_version; /* highest non-yanked release, else highest non-yanked prerelease; NULL when none */
    int64_t generation;     /* bumped in the same transaction as every change */
    int64_t downloads;
    const char *meta;       /* JSON object text: ecosystem extras */
    int64_t created_at, updated_at;
} store_package;

typedef struct store_dep {
    const char *name;
    const char *requirement;
    const char *kind;  /* "normal", "dev", "optional", ... */
    const char *extra; /* JSON text or NULL */
} store_dep;

typedef struct store_version {
    int64_t id;
    int64_t package_id;
    const char *version;
    int64_t major, minor, patch;
    const char *prerelease; /* NULL for a release */
    const char *sha256;     /* blob key */
    int64_t size;
    const char *manifest;   /* JSON text as published */
    const char *signature;  /* base64 or NULL */
    const char *signing_key_id;
    int64_t publisher_id;
    const char *publisher;  /* username (read only) */
    int64_t published_at;
    bool yanked;
    int64_t yanked_at;
    const char *retired_reason, *retired_message;
    int64_t downloads;
    store_dep *deps;        /* filled by version lists/gets */
    int ndeps;
    const char *extra;      /* JSON object text: ecosystem extras computed at publish (npm shasum and
                             * integrity, Hex inner checksum ...); "{}" when none */
    const char *deprecated; /* npm deprecation message, NULL when not deprecated */
    bool retracted;         /* pub retraction */
    int64_t retired_at;
} store_version;

/* A change of a version's status; each part is applied only when its set_ field is non-zero
 * (1: set, -1: clear). */
typedef struct store_version_status {
    int set_retired;
    const char *retired_reason, *retired_message; /* Hex: other, invalid, security, deprecated, renamed */
    int set_deprecated;
    const char *deprecated;
    int set_retracted;
} store_version_status;

typedef struct store_tag {
    const char *tag;
    const char *version;
    int64_t updated_at;
} store_tag;

/* One file of a hosted docs site: its path in the site and the blob holding its bytes. */
typedef struct store_doc_file {
    const char *path;
    const char *sha256;
    int64_t size;
} store_doc_file;

/* A two-step upload (pub's publish flow): the bytes arrive first, the publish is confirmed later. */
typedef struct store_upload {
    const char *id;        /* random, URL-safe */
    int64_t user_id;
    const char *ecosystem;
    const char *sha256;    /* NULL until the bytes arrived */
    int64_t size;
    int64_t created_at, expires_at;
    const char *result;    /* NULL until finalized: the published version, or an error message */
    bool failed;           /* result is an error */
} store_upload;

/* A publish: the package fields (created or refreshed from this version) and
 * the new version with its dependencies, written in one transaction. */
typedef struct store_publish {
    store_package pkg;      /* in: fields; out: id, generation */
    store_version ver;      /* in: fields with deps; out: id */
    int64_t publisher_id;
    bool check_owner;       /* refuse (STORE_FORBIDDEN) unless publisher_id owns an existing package */
    const char *tag;        /* when not NULL, this dist-tag points at the new version (same transaction) */
    bool replace;           /* an existing version of that number is removed first (same transaction) */
    bool created;           /* out: the package was made by this publish (publisher is its owner) */
} store_publish;

typedef struct store_owner {
    int64_t user_id;
    const char *username;
    const char *email;
    const char *level;
    int64_t added_at;
    bool show_email;    /* the user lets others see the address */
} store_owner;

typedef struct store_search {
    const char *ecosystem;  /* NULL: every ecosystem */
    const char *query;      /* free text or NULL; matched as prefix terms against name, description, keywords,
                             * tags (text with no word in it counts as no query) */
    const char *keyword;    /* exact keyword filter or NULL */
    const char *category;   /* exact category filter or NULL */
    const char *tag;        /* exact tag filter or NULL */
    const char *sort;       /* "relevance" (weighted hits; name order without a query), "downloads", "recent", "name" */
    int64_t offset, limit;  /* limit <= 0: only the total; at most 1000 rows a page */
} store_search;

typedef struct store_download {
    int64_t version_id;
    const char *day; /* YYYY-MM-DD */
    int64_t count;
} store_download;

typedef struct store_day_count {
    const char *day;
    const char *version; /* NULL in totals */
    int64_t count;
} store_day_count;

typedef struct store_totals {
    int64_t packages, versions, users, downloads;
} store_totals;

typedef struct store_key {
    int64_t id;
    int64_t user_id;
    const char *key_id;     /* hex of the first 8 bytes of SHA-256 of the public key */
    const char *algorithm;  /* "ed25519" */
    const char *public_key; /* base64 */
    const char *name;
    int64_t created_at;
} store_key;

/* A single-use secret sent by mail (password reset, address verification); only its SHA-256 (hex)
 * is stored. */
typedef struct store_email_token {
    const char *hash;    /* hex SHA-256 of the secret */
    int64_t user_id;
    const char *purpose; /* "verify_email", "reset_password" */
    const char *email;   /* the address it was sent to */
    int64_t created_at, expires_at;
    int64_t used_at;     /* 0: not yet */
} store_email_token;

/* One audit-log entry as read back (the admin page). */
typedef struct store_audit_row {
    int64_t id;
    int64_t at;
    int64_t user_id;      /* 0: none */
    const char *username; /* NULL when none or the account is gone */
    const char *action, *target, *detail, *ip;
} store_audit_row;

/* A batch of whole rows of one table, for copying a store into another (depot migrate-store). Every
 * value is text as SQLite writes it: integers in decimal, booleans 0 or 1, a NULL pointer for SQL
 * NULL. The first nkey columns are the table's primary key. Table and column names come from the
 * schema (never from a client) and are used as quoted identifiers. Pointers are borrowed. */
typedef struct store_rows {
    const char *table;
    const char *const *cols;
    int ncols, nkey;
    const char **vals; /* nrows * ncols values, row after row */
    int nrows;
} store_rows;

typedef struct store store;

struct store_ops {
    const char *name;
    void (*close)(store *s);
    /* Applies pending migrations; returns the number applied in *applied. */
    int (*migrate)(store *s, int *applied, derr *e);
    /* A cheap round trip, for /health. */
    int (*ping)(store *s, derr *e);

    /* Users. user_create fills u->id and u->created_at; STORE_CONFLICT when the
     * username (case-insensitively) or the email (its key, lib/emailkey.h) is taken,
     * with e->message saying which. The account is an admin when u->is_admin asks it or when
     * the store has no user yet, decided inside the insert's transaction with registrations
     * queued, so two first registrations at once make one admin; u->is_admin says which. */
    int (*user_create)(store *s, store_user *u, derr *e);
    int (*user_by_id)(store *s, arena *a, int64_t id, store_user *out, derr *e);
    /* By username (case-insensitive) or by email (its key: case, compatibility forms and punycode
     * folded, lib/emailkey.h). */
    int (*user_by_login)(store *s, arena *a, const char *login, store_user *out, derr *e);
    /* All users ordered by username; *out is an arena array of *n users. */
    int (*user_list)(store *s, arena *a, store_user **out, int *n, derr *e);
    /* Both move the user's session_epoch in the same statement (user_set_disabled only when the
     * flag changes). */
    int (*user_set_password)(store *s, int64_t id, const char *hash, derr *e);
    int (*user_set_disabled)(store *s, int64_t id, bool disabled, derr *e);
    int (*user_set_admin)(store *s, int64_t id, bool admin, derr *e);
    /* Whether the user lets others see their email address (store_user.show_email). */
    int (*user_set_show_email)(store *s, int64_t id, bool show, derr *e);

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

    /* ---- operations (fsck, backup) ---- */

    /* The engine's own consistency check; *report is "ok" when clean (in the arena). */
    int (*integrity)(store *s, arena *a, const char **report, derr *e);
    /* A consistent online copy of the whole store into a new file at path (SQLite) or a dump
     * (others), while writes go on. */
    int (*backup)(store *s, const char *path, derr *e);
    /* Calls fn for every blob the store references: kind "version" (what: "eco/name@version") or
     * "docs" (what: "eco/name@version:path", or ":archive"); stops when fn returns non-zero. */
    int (*each_blob_ref)(store *s, int (*fn)(void *ctx, const char *kind, const char *sha256, int64_t size,
                                             const char *what),
                         void *ctx, derr *e);
    /* Bumps every package's generation, so every server rebuilds its cached documents. */
    int (*bump_generations)(store *s, derr *e);

    /* Copying rows in (depot migrate-store). rows_put inserts r's rows in one transaction, each
     * unless a row with its primary key (or another of its unique values) is there already: that
     * row is skipped, or with replace overwritten by the new one; *inserted counts the rows
     * written. rows_get reads the rows of r->table whose key is after `after` (NULL: from the
     * first) and up to `upto` included (NULL: to the last), in key order (integers by value, text
     * bytewise), at most limit, into r->vals and r->nrows (from the arena), values written as
     * rows_put takes them. rows_settle, once the rows are in: ids made from now on start past
     * the highest copied one (PostgreSQL's identity sequences; SQLite does this by itself). */
    int (*rows_put)(store *s, const store_rows *r, bool replace, int *inserted, derr *e);
    int (*rows_get)(store *s, arena *a, store_rows *r, const char *const *after, const char *const *upto,
                    int limit, derr *e);
    int (*rows_settle)(store *s, derr *e);

    /* A counter that moves whenever any package of the ecosystem changes (0 before the first). */
    int (*eco_generation)(store *s, const char *ecosystem, int64_t *out, derr *e);

    /* The revocation epoch: moves (in the same transaction) whenever a token is deleted, a session
     * revoked, or a user disabled, enabled, demoted, re-passworded or deleted. */
    int (*auth_epoch)(store *s, int64_t *out, derr *e);

    /* ---- packages ---- */

    /* By (ecosystem, normalized name). */
    int (*pkg_get)(store *s, arena *a, const char *ecosystem, const char *normalized, store_package *out,
                   derr *e);
    /* Just the generation (cheap; for cache checks). STORE_NOT_FOUND when absent. */
    int (*pkg_generation)(store *s, const char *ecosystem, const char *normalized, int64_t *gen, derr *e);
    /* Every version of a package with its dependencies, newest first
     * (major, minor, patch descending; a release before its prereleases). */
    int (*pkg_versions)(store *s, arena *a, int64_t package_id, store_version **out, int *n, derr *e);
    /* One version with its dependencies. */
    int (*version_get)(store *s, arena *a, int64_t package_id, const char *version, store_version *out,
                       derr *e);
    /* Creates the package if absent (publisher becomes owner), else refreshes its fields from
     * p->pkg (when check_owner: only if the publisher owns it, else STORE_FORBIDDEN); inserts the
     * version and its dependencies (STORE_CONFLICT when the version exists); recomputes
     * latest_version; bumps generation. One transaction. */
    int (*publish)(store *s, store_publish *p, derr *e);
    /* Sets or clears the yanked flag; recomputes latest_version; bumps generation.
     * STORE_NOT_FOUND when the version does not exist. */
    int (*version_yank)(store *s, int64_t package_id, const char *version, bool yanked, int64_t now, derr *e);
    /* Sets require_signatures; bumps generation. */
    int (*pkg_set_require_signatures)(store *s, int64_t package_id, bool on, derr *e);

    /* Owners. owner_add: STORE_CONFLICT when already an owner. owner_remove: STORE_NOT_FOUND when not
     * an owner, STORE_FORBIDDEN when it is the last one of level "owner" (maintainers can always
     * go). Both bump the generation. */
    int (*owners_list)(store *s, arena *a, int64_t package_id, store_owner **out, int *n, derr *e);
    int (*owner_is)(store *s, int64_t package_id, int64_t user_id, derr *e); /* STORE_OK or STORE_NOT_FOUND */
    int (*owner_add)(store *s, int64_t package_id, int64_t user_id, const char *level, int64_t now, derr *e);
    int (*owner_remove)(store *s, int64_t package_id, int64_t user_id, derr *e);
    /* Packages a user owns, by name. Lists of packages (this, search, pkg_top) leave readme NULL. */
    int (*user_packages)(store *s, arena *a, int64_t user_id, store_package **out, int *n, derr *e);

    /* Search: the matching page and the total count. */
    int (*search)(store *s, arena *a, const store_search *q, store_package **out, int *n, int64_t *total,
                  derr *e);

    /* Adds counted downloads in one transaction (daily rows, versions.downloads, packages.downloads). */
    int (*downloads_add)(store *s, const store_download *d, int n, derr *e);
    /* Downloads per day since `since_day` (YYYY-MM-DD): totals (version NULL) and per version. */
    int (*pkg_daily_downloads)(store *s, arena *a, int64_t package_id, const char *since_day,
                               store_day_count **out, int *n, derr *e);
    int (*totals)(store *s, store_totals *out, derr *e);
    /* Top packages for the stats page: by downloads, newest created, recently updated. which:
     * "downloads", "new", "updated". */
    int (*pkg_top)(store *s, arena *a, const char *ecosystem, const char *which, int limit, store_package **out,
                   int *n, derr *e);

    /* Signing keys. key_add: STORE_CONFLICT when the key or the name exists. */
    int (*key_add)(store *s, store_key *k, derr *e);
    int (*key_list)(store *s, arena *a, int64_t user_id, store_key **out, int *n, derr *e);
    int (*key_get)(store *s, arena *a, const char *key_id, store_key *out, derr *e); /* revoked keys are not found */
    int (*key_delete)(store *s, int64_t user_id, const char *key_id, derr *e);      /* marks it revoked */

    /* ---- version status, tags, removal (every change bumps the package's generation) ---- */

    /* Retire/unretire (Hex), deprecate/undeprecate (npm), retract/unretract (pub).
     * STORE_NOT_FOUND when the version does not exist. */
    int (*version_set_status)(store *s, int64_t package_id, const char *version, const store_version_status *st,
                              int64_t now, derr *e);
    /* Replaces the package's ecosystem extras (JSON object text), e.g. pub's isDiscontinued. */
    int (*pkg_set_meta)(store *s, int64_t package_id, const char *meta, derr *e);
    /* Dist-tags (npm): list by tag name; set (STORE_NOT_FOUND when the version does not exist);
     * delete (STORE_NOT_FOUND when the tag does not exist). */
    int (*tags_list)(store *s, arena *a, int64_t package_id, store_tag **out, int *n, derr *e);
    int (*tag_set)(store *s, int64_t package_id, const char *tag, const char *version, int64_t now, derr *e);
    int (*tag_delete)(store *s, int64_t package_id, const char *tag, derr *e);
    /* Removes a version (npm unpublish, Hex revert) with its dependencies, tags and download rows;
     * recomputes latest_version. With tombstone, the version can never be published again (publish
     * answers STORE_CONFLICT). The blob stays (it may be shared); fsck collects unreferenced blobs.
     * STORE_NOT_FOUND when absent. */
    int (*version_delete)(store *s, int64_t package_id, const char *version, bool tombstone, int64_t now,
                          derr *e);
    /* Is this version tombstoned? STORE_OK yes, STORE_NOT_FOUND no. */
    int (*version_tombstoned)(store *s, int64_t package_id, const char *version, derr *e);

    /* ---- hosted docs ---- */

    /* Records (or replaces) the docs site of a version: the uploaded archive's blob and every file's blob. */
    int (*docs_put)(store *s, int64_t package_id, const char *version, const char *archive_sha256,
                    int64_t archive_size, const store_doc_file *files, int n, int64_t now, derr *e);
    /* One file of a site (STORE_NOT_FOUND when the site or the path is absent). */
    int (*docs_file)(store *s, arena *a, int64_t package_id, const char *version, const char *path,
                     store_doc_file *out, derr *e);
    /* The uploaded archive of a site (STORE_NOT_FOUND when absent). */
    int (*docs_archive)(store *s, arena *a, int64_t package_id, const char *version, const char **sha256,
                        int64_t *size, derr *e);
    /* Versions that have docs, newest first by SemVer order. */
    int (*docs_versions)(store *s, arena *a, int64_t package_id, const char ***out, int *n, derr *e);
    int (*docs_delete)(store *s, int64_t package_id, const char *version, derr *e);

    /* ---- two-step uploads ---- */
    int (*upload_create)(store *s, const store_upload *u, derr *e);
    int (*upload_get)(store *s, arena *a, const char *id, store_upload *out, derr *e);
    /* Updates sha256, size, result and failed. */
    int (*upload_update)(store *s, const store_upload *u, derr *e);
    /* Deletes uploads whose expires_at has passed; *n how many. */
    int (*upload_expire)(store *s, int64_t now, int *n, derr *e);

    /* ---- mailed secrets, address verification, the audit log, dependents (web dashboard) ---- */

    /* Stores a mailed secret; in the same transaction deletes the user's earlier unused secrets of
     * the same purpose (only the newest link works) and every expired row. */
    int (*email_token_create)(store *s, const store_email_token *t, derr *e);
    /* A secret that is unused and not expired at `now`, of this purpose (STORE_NOT_FOUND otherwise),
     * without using it. */
    int (*email_token_get)(store *s, arena *a, const char *hash, const char *purpose, int64_t now,
                           store_email_token *out, derr *e);
    /* Uses a secret: marks it used at `now` and returns it, in one statement, only when it is
     * unused, unexpired and of this purpose (STORE_NOT_FOUND otherwise), so it works once even
     * under concurrent use. */
    int (*email_token_use)(store *s, arena *a, const char *hash, const char *purpose, int64_t now,
                           store_email_token *out, derr *e);
    /* Sets (at > 0) or clears (at 0) when the user's address was verified. STORE_NOT_FOUND: no user. */
    int (*user_set_email_verified)(store *s, int64_t id, int64_t at, derr *e);
    /* When the user's address was verified; *at 0 when it is not. STORE_NOT_FOUND: no user. */
    int (*user_email_verified)(store *s, int64_t id, int64_t *at, derr *e);
    /* The newest audit entries, newest first, at most limit (<= 1000). */
    int (*audit_recent)(store *s, arena *a, int limit, store_audit_row **out, int *n, derr *e);
    /* Packages of the ecosystem whose latest version depends (other than as a dev dependency) on
     * `name` as written, most downloaded first, at most limit (<= 1000); readme NULL. */
    int (*pkg_dependents)(store *s, arena *a, const char *ecosystem, const char *name, int limit,
                          store_package **out, int *n, derr *e);
};

struct store {
    const struct store_ops *ops;
};

/* Opens a store from its URL: "sqlite:PATH" (PATH relative to the working dir)
 * or "postgres://..." ("postgresql://..."). Returns NULL and fills e on failure. */
store *store_open(const char *url, derr *e);

/* The SQL of rows_put and rows_get, one text for both backends. Placeholders are numbered from 1
 * with `mark` before each number (SQLite's ?N, PostgreSQL's $N). */
struct buf;
#define STORE_ROWS_MAX_PARAMS 30000 /* the most one statement binds (PostgreSQL allows 65535) */
/* Names come from the schema; one that could break out of its quotes is refused all the same. */
bool store_rows_names_ok(const store_rows *r);
/* INSERT of nrows rows of r's columns; a row whose key is taken is skipped, or with `replace` its
 * other columns are overwritten. Binds nrows * ncols values, row after row. */
void store_rows_insert_sql(struct buf *b, const store_rows *r, int nrows, bool replace, char mark);
/* SELECT of r's columns in key order, at most limit rows, with the key above `after` and up to
 * `upto` when those are given. Binds the nkey values of after, then those of upto. */
void store_rows_select_sql(struct buf *b, const store_rows *r, bool after, bool upto, int limit, char mark);

/* Shorthands so callers read as calls, not vtable lookups. */
#define store_call(s, op, ...) ((s)->ops->op((s), __VA_ARGS__))

#endif
