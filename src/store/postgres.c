/*
 * postgres.c — the store on PostgreSQL (libpq), for several depot servers
 * sharing one database.
 *
 * It behaves as sqlite.c does, operation for operation: the same results,
 * STORE_* codes, conflict messages, generation bumps, latest_version rules
 * and search semantics; the schema in migrations_pg/ mirrors SQLite's
 * version for version. What differs is how it gets there.
 *
 * Connections: each thread that uses the store gets its own connection,
 * opened on first use and kept in a pthread key; the key's destructor
 * closes it when the thread exits, and close() closes whatever is left.
 * The URL goes to libpq as it is (so TLS and every other libpq parameter
 * pass through), with defaults added unless the URL sets them:
 * statement_timeout 10 s, application_name depot, connect_timeout 5 s,
 * client_min_messages warning. A connection found dead (the server
 * restarted, a network cut) is replaced and the statement tried once more
 * when that is safe: outside a transaction, which includes the BEGIN that
 * starts one. A failure inside a transaction, or a server that cannot be
 * reached again, answers 503 "unavailable" ("the store is unreachable; try
 * again") and the next operation connects afresh.
 *
 * Statements are prepared once per connection, on first use, by name
 * ("q<N>" from enum query, "s<N>" for search shapes), and run with text
 * parameters; NULL strings and zero times go as SQL NULL, as in sqlite.c.
 * A session that lost them (a pooler's DISCARD ALL) prepares them again.
 * Text that is not UTF-8, which PostgreSQL refuses, names nothing stored:
 * look-ups answer "not found" as SQLite would.
 *
 * Transactions: every write of more than one statement runs in one READ
 * COMMITTED transaction that first locks the package row it changes
 * (SELECT ... FOR NO KEY UPDATE), so writers of one package queue up as
 * they do behind SQLite's BEGIN IMMEDIATE, each statement after the lock
 * sees what the writer before it committed, and two writers always take
 * locks in the same order (package, then its rows): publish's owner check
 * and insert cannot race, latest_version is computed from what is
 * committed, and the last owner cannot be removed twice. A publish that
 * creates a package inserts it with ON CONFLICT DO NOTHING and, when
 * another server created it first, goes on as a publish to an existing
 * package (with its owner check). Download batches lock their packages in
 * id order first for the same reason. Reads of several queries (versions
 * and their dependencies, a search's count and page) run in one REPEATABLE
 * READ READ ONLY transaction, so they agree.
 *
 * Search runs on the tsvector column the schema keeps (GIN index; weights A
 * name, B keywords and tags, C description), ranked by ts_rank_cd with the
 * package named exactly as the query first. The query text never reaches
 * SQL as written: it is cut into words here (runs of ASCII letters and
 * digits and of non-ASCII characters; invalid UTF-8 separates), at most 16
 * of at most 64 bytes, and passed as a text[] that depot_search_query()
 * turns into ANDed prefix terms. When a query written like a name (no
 * spaces) matches nothing, names are tried by trigram similarity
 * (pg_trgm's % and <% operators at their default thresholds, 0.3 and 0.6),
 * so a typo still finds the package. Pages of a text or filter search sort
 * their matches with keys no index matches, so the planner never walks a
 * whole ordered index testing each row.
 *
 * Errors: SQL and PostgreSQL's message go to the log with the operation's
 * name; the caller's derr gets only "internal", "unavailable" (unreachable,
 * a timeout, a deadlock), or, for a unique key that is taken,
 * STORE_CONFLICT with the sentence sqlite.c uses for that key (the schema
 * declares the keys in the order SQLite checks them, so a row breaking two
 * gets the same sentence).
 *
 * backup writes a SQLite file in depot's own schema (a consistent snapshot
 * of every table), so `depot backup` and `depot restore` work the same on
 * both stores and a backup can be served by a single SQLite server.
 */
#include "postgres.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "../lib/log.h"
#include "../lib/xalloc.h"
#include "migrations.h"
#include "sqlite.h"

/* token_touch skips the write when the stored time is at most this old. */
#define TOUCH_SLACK_S 60
/* The most rows one page of a search or a ranking returns. */
#define MAX_PAGE 1000
/* The most parameters a statement of enum query takes. */
#define MAX_PARAMS 20
/* Defaults added to the URL's parameters unless it sets them. */
#define DEFAULT_STATEMENT_TIMEOUT "10s"
#define DEFAULT_CONNECT_TIMEOUT "5"
/* The advisory lock that makes servers starting at once migrate one at a time. */
#define MIGRATE_LOCK_KEY 0x6465706f74LL /* "depot" */

/* Every statement this backend prepares, by name; the SQL is in sql_text[]. */
enum query {
    Q_PING,
    Q_USER_INSERT,
    Q_USER_BY_ID,
    Q_USER_BY_LOGIN,
    Q_USER_LIST,
    Q_USER_SET_PASSWORD,
    Q_USER_SET_DISABLED,
    Q_USER_SET_ADMIN,
    Q_TOKEN_INSERT,
    Q_TOKEN_BY_HASH,
    Q_TOKEN_BY_NAME,
    Q_TOKEN_LIST,
    Q_TOKEN_DELETE,
    Q_TOKEN_TOUCH,
    Q_JWT_PURGE,
    Q_JWT_INSERT,
    Q_JWT_CHECK,
    Q_AUTH_EPOCH,
    Q_ECO_GEN,
    Q_AUDIT_INSERT,
    Q_PKG_GET,
    Q_PKG_GENERATION,
    Q_PKG_FIND,
    Q_PKG_LOCK,
    Q_PKG_INSERT,
    Q_PKG_REFRESH,
    Q_PKG_SETTLE,
    Q_PKG_BUMP,
    Q_PKG_SET_SIGNATURES,
    Q_VERSION_INSERT,
    Q_VERSION_LIST,
    Q_VERSION_GET,
    Q_VERSION_YANK,
    Q_DEP_INSERT,
    Q_DEPS_OF_PACKAGE,
    Q_DEPS_OF_VERSION,
    Q_OWNER_INSERT,
    Q_OWNER_LEVEL,
    Q_OWNER_COUNT,
    Q_OWNER_DELETE,
    Q_OWNERS_LIST,
    Q_USER_PACKAGES,
    Q_DL_LOCK,
    Q_DL_VERSION,
    Q_DL_DAY,
    Q_DL_PACKAGE,
    Q_DAILY,
    Q_TOTALS,
    Q_TOP_DOWNLOADS,
    Q_TOP_DOWNLOADS_ECO,
    Q_TOP_NEW,
    Q_TOP_NEW_ECO,
    Q_TOP_UPDATED,
    Q_TOP_UPDATED_ECO,
    Q_KEY_INSERT,
    Q_KEY_LIST,
    Q_KEY_GET,
    Q_KEY_REVOKE,
    Q_VERSION_STATUS,
    Q_PKG_SET_META,
    Q_TAGS_LIST,
    Q_TAG_UPSERT,
    Q_TAG_DELETE,
    Q_VERSION_FIND,
    Q_VERSION_DELETE,
    Q_PKG_DL_SUB,
    Q_TOMBSTONE_INSERT,
    Q_TOMBSTONE_CHECK,
    Q_DOCS_SITE_DELETE,
    Q_DOCS_SITE_INSERT,
    Q_DOCS_FILE_INSERT,
    Q_DOCS_FILE,
    Q_DOCS_ARCHIVE,
    Q_DOCS_VERSIONS,
    Q_UPLOAD_INSERT,
    Q_UPLOAD_GET,
    Q_UPLOAD_UPDATE,
    Q_UPLOAD_EXPIRE,
    Q_EMAIL_TOKEN_PURGE,
    Q_EMAIL_TOKEN_REPLACE,
    Q_EMAIL_TOKEN_INSERT,
    Q_EMAIL_TOKEN_GET,
    Q_EMAIL_TOKEN_USE,
    Q_USER_SET_VERIFIED,
    Q_USER_VERIFIED,
    Q_AUDIT_RECENT,
    Q_PKG_DEPENDENTS,
    Q__COUNT
};

#define USER_COLS "id, username, email, password_hash, is_admin, disabled, created_at, password_changed_at"
#define TOKEN_COLS \
    "id, user_id, name, hash, prefix, scopes, created_at, expires_at, last_used_at"
/* Package columns in read_package() order; lists read the readme as NULL. */
#define PKG_COLS_HEAD                                                                       \
    "p.id, p.ecosystem, p.name, p.normalized_name, p.description, p.homepage, p.repository," \
    " p.documentation, p.license, p.keywords, p.categories, p.tags, p.authors, "
#define PKG_COLS_TAIL                                                                     \
    ", p.require_signatures, p.latest_version, p.generation, p.downloads, p.meta,"         \
    " p.created_at, p.updated_at"
#define PKG_COLS PKG_COLS_HEAD "p.readme" PKG_COLS_TAIL
#define PKG_LIST_COLS PKG_COLS_HEAD "NULL" PKG_COLS_TAIL
/* Version columns in read_version() order; u is the publisher (LEFT JOIN). */
#define VERSION_COLS                                                                        \
    "v.id, v.package_id, v.version, v.major, v.minor, v.patch, v.prerelease, v.sha256,"      \
    " v.size, v.manifest, v.signature, v.signing_key_id, v.publisher_id, u.username,"        \
    " v.published_at, v.yanked, v.yanked_at, v.retired_reason, v.retired_message,"           \
    " v.downloads, v.extra, v.deprecated, v.retracted, v.retired_at"
/* Newest first, exactly as sqlite.c orders them. */
#define VERSION_ORDER                                                                       \
    "v.major DESC, v.minor DESC, v.patch DESC, v.prerelease IS NOT NULL, v.published_at DESC," \
    " v.id DESC"
#define KEY_COLS "id, user_id, key_id, algorithm, public_key, name, created_at"
#define UPLOAD_COLS "id, user_id, ecosystem, sha256, size, created_at, expires_at, result, failed"
/* pkg_top's rankings: $1 is the limit, $2 the ecosystem. */
#define TOP_SQL(order) "SELECT " PKG_LIST_COLS " FROM packages p ORDER BY " order " LIMIT $1"
#define TOP_ECO_SQL(order) \
    "SELECT " PKG_LIST_COLS " FROM packages p WHERE p.ecosystem = $2 ORDER BY " order " LIMIT $1"

/* sqlite.c's statements in PostgreSQL's dialect: $n parameters, booleans,
 * and a cast wherever a parameter's type cannot be inferred. */
static const char *const sql_text[Q__COUNT] = {
    [Q_PING] = "SELECT 1",
    [Q_USER_INSERT] = "INSERT INTO users (username, username_lower, email, email_lower,"
                      " password_hash, is_admin, disabled, created_at, updated_at)"
                      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
    [Q_USER_BY_ID] = "SELECT " USER_COLS " FROM users WHERE id = $1",
    /* A username wins over another account's email of the same text. */
    [Q_USER_BY_LOGIN] = "SELECT " USER_COLS " FROM users"
                        " WHERE username_lower = $1 OR email_lower = $1"
                        " ORDER BY username_lower = $1 DESC LIMIT 1",
    [Q_USER_LIST] = "SELECT " USER_COLS " FROM users ORDER BY username_lower, id",
    [Q_USER_SET_PASSWORD] = "UPDATE users SET password_hash = $2, updated_at = $3, password_changed_at = $3 WHERE id = $1",
    [Q_USER_SET_DISABLED] = "UPDATE users SET disabled = $2, updated_at = $3 WHERE id = $1",
    [Q_USER_SET_ADMIN] = "UPDATE users SET is_admin = $2, updated_at = $3 WHERE id = $1",
    [Q_TOKEN_INSERT] = "INSERT INTO api_tokens (user_id, name, hash, prefix, scopes, created_at,"
                       " expires_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                       " RETURNING id",
    [Q_TOKEN_BY_HASH] = "SELECT " TOKEN_COLS " FROM api_tokens WHERE hash = $1",
    [Q_TOKEN_BY_NAME] = "SELECT " TOKEN_COLS " FROM api_tokens WHERE user_id = $1 AND name = $2",
    [Q_TOKEN_LIST] = "SELECT " TOKEN_COLS " FROM api_tokens WHERE user_id = $1 ORDER BY name",
    [Q_TOKEN_DELETE] = "DELETE FROM api_tokens WHERE user_id = $1 AND name = $2",
    [Q_TOKEN_TOUCH] = "UPDATE api_tokens SET last_used_at = $2::bigint WHERE id = $1"
                      " AND (last_used_at IS NULL OR last_used_at < $2::bigint - $3::bigint)",
    [Q_JWT_PURGE] = "DELETE FROM revoked_jwts WHERE expires_at < $1",
    [Q_JWT_INSERT] = "INSERT INTO revoked_jwts (jti, expires_at) VALUES ($1, $2)"
                     " ON CONFLICT (jti) DO NOTHING",
    [Q_JWT_CHECK] = "SELECT 1 FROM revoked_jwts WHERE jti = $1",
    [Q_AUTH_EPOCH] = "SELECT value::bigint FROM settings WHERE key = 'auth_epoch'",
    [Q_ECO_GEN] = "SELECT value::bigint FROM settings WHERE key = 'eco_gen:' || $1::text",
    [Q_AUDIT_INSERT] = "INSERT INTO audit_log (at, user_id, action, target, detail, ip)"
                       " VALUES ($1, $2, $3, $4, $5, $6)",
    [Q_PKG_GET] = "SELECT " PKG_COLS " FROM packages p"
                  " WHERE p.ecosystem = $1 AND p.normalized_name = $2",
    [Q_PKG_GENERATION] = "SELECT generation FROM packages WHERE ecosystem = $1"
                         " AND normalized_name = $2",
    /* The publish's lock: every writer of a package takes its row first. */
    [Q_PKG_FIND] = "SELECT id, name FROM packages WHERE ecosystem = $1 AND normalized_name = $2"
                   " FOR NO KEY UPDATE",
    [Q_PKG_LOCK] = "SELECT id FROM packages WHERE id = $1 FOR NO KEY UPDATE",
    /* No row back: another transaction made the package first. */
    [Q_PKG_INSERT] = "INSERT INTO packages (ecosystem, name, normalized_name, description,"
                     " homepage, repository, documentation, license, keywords, categories, tags,"
                     " authors, readme, require_signatures, meta, generation, created_at,"
                     " updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, coalesce($9, '[]'),"
                     " coalesce($10, '[]'), coalesce($11, '[]'), coalesce($12, '[]'), $13, $14,"
                     " coalesce($15, '{}'), 1, $16, $16)"
                     " ON CONFLICT (ecosystem, normalized_name) DO NOTHING RETURNING id",
    /* The descriptive fields follow the highest version ($13..$16: its
     * major, minor, patch and 1 for a release). */
    [Q_PKG_REFRESH] = "UPDATE packages SET description = $2, homepage = $3, repository = $4,"
                      " documentation = $5, license = $6, keywords = coalesce($7, '[]'),"
                      " categories = coalesce($8, '[]'), tags = coalesce($9, '[]'),"
                      " authors = coalesce($10, '[]'), readme = $11, meta = coalesce($12, '{}')"
                      " WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM versions v"
                      " WHERE v.package_id = $1 AND v.version = packages.latest_version"
                      " AND (v.major, v.minor, v.patch, v.prerelease IS NULL)"
                      " > ($13::bigint, $14::bigint, $15::bigint, $16::int = 1))",
    /* latest_version: the highest non-yanked release, else the highest
     * non-yanked prerelease; $2 is added to the generation; $3, when not
     * NULL, is the new updated_at. */
    [Q_PKG_SETTLE] = "UPDATE packages SET latest_version = (SELECT v.version FROM versions v"
                     " WHERE v.package_id = $1 AND NOT v.yanked ORDER BY v.prerelease IS NOT NULL,"
                     " v.major DESC, v.minor DESC, v.patch DESC, v.published_at DESC, v.id DESC"
                     " LIMIT 1), generation = generation + $2::bigint,"
                     " updated_at = coalesce($3::bigint, updated_at)"
                     " WHERE id = $1 RETURNING generation",
    [Q_PKG_BUMP] = "UPDATE packages SET generation = generation + 1 WHERE id = $1",
    [Q_PKG_SET_SIGNATURES] = "UPDATE packages SET require_signatures = $2,"
                             " generation = generation + 1 WHERE id = $1",
    [Q_VERSION_INSERT] = "INSERT INTO versions (package_id, version, major, minor, patch,"
                         " prerelease, sha256, size, manifest, signature, signing_key_id,"
                         " publisher_id, published_at, extra) VALUES ($1, $2, $3, $4, $5,"
                         " nullif($6, ''), $7, $8, coalesce($9, '{}'), $10, $11, $12, $13,"
                         " coalesce($14, '{}')) RETURNING id",
    [Q_VERSION_LIST] = "SELECT " VERSION_COLS " FROM versions v"
                       " LEFT JOIN users u ON u.id = v.publisher_id"
                       " WHERE v.package_id = $1 ORDER BY " VERSION_ORDER,
    [Q_VERSION_GET] = "SELECT " VERSION_COLS " FROM versions v"
                      " LEFT JOIN users u ON u.id = v.publisher_id"
                      " WHERE v.package_id = $1 AND v.version = $2",
    /* Yanking again keeps the first yank's time. */
    [Q_VERSION_YANK] = "UPDATE versions SET yanked = $3::boolean,"
                       " yanked_at = CASE WHEN $3::boolean THEN coalesce(yanked_at, $4::bigint) END"
                       " WHERE package_id = $1 AND version = $2",
    [Q_DEP_INSERT] = "INSERT INTO dependencies (version_id, name, requirement, kind, extra)"
                     " VALUES ($1, $2, coalesce($3, ''), coalesce($4, 'normal'), $5)",
    [Q_DEPS_OF_PACKAGE] = "SELECT d.version_id, d.name, d.requirement, d.kind, d.extra"
                          " FROM versions v JOIN dependencies d ON d.version_id = v.id"
                          " WHERE v.package_id = $1 ORDER BY d.version_id, d.id",
    [Q_DEPS_OF_VERSION] = "SELECT d.version_id, d.name, d.requirement, d.kind, d.extra"
                          " FROM dependencies d WHERE d.version_id = $1 ORDER BY d.id",
    [Q_OWNER_INSERT] = "INSERT INTO owners (package_id, user_id, level, added_at)"
                       " VALUES ($1, $2, coalesce($3, 'owner'), $4)",
    [Q_OWNER_LEVEL] = "SELECT level FROM owners WHERE package_id = $1 AND user_id = $2",
    [Q_OWNER_COUNT] = "SELECT count(*) FROM owners WHERE package_id = $1 AND level = 'owner'",
    [Q_OWNER_DELETE] = "DELETE FROM owners WHERE package_id = $1 AND user_id = $2",
    [Q_OWNERS_LIST] = "SELECT o.user_id, u.username, u.email, o.level, o.added_at FROM owners o"
                      " JOIN users u ON u.id = o.user_id WHERE o.package_id = $1"
                      " ORDER BY o.added_at, o.user_id",
    [Q_USER_PACKAGES] = "SELECT " PKG_LIST_COLS " FROM owners o"
                        " JOIN packages p ON p.id = o.package_id WHERE o.user_id = $1"
                        " ORDER BY p.normalized_name, p.ecosystem, p.id",
    /* A download batch locks its packages in id order before anything else. */
    [Q_DL_LOCK] = "SELECT p.id FROM packages p WHERE p.id IN (SELECT v.package_id FROM versions v"
                  " WHERE v.id = ANY ($1::bigint[])) ORDER BY p.id FOR NO KEY UPDATE",
    [Q_DL_VERSION] = "UPDATE versions SET downloads = downloads + $2 WHERE id = $1"
                     " RETURNING package_id",
    [Q_DL_DAY] = "INSERT INTO downloads_daily (version_id, day, count) VALUES ($1, $2, $3)"
                 " ON CONFLICT (version_id, day)"
                 " DO UPDATE SET count = downloads_daily.count + excluded.count",
    [Q_DL_PACKAGE] = "UPDATE packages SET downloads = downloads + $2 WHERE id = $1",
    /* Per day: the total first (version NULL), then each version newest
     * first. $2 NULL means since the beginning. */
    [Q_DAILY] = "SELECT day, version, n FROM ("
                " SELECT d.day AS day, v.version AS version, d.count AS n, 1 AS k,"
                " v.major AS ma, v.minor AS mi, v.patch AS pa, v.prerelease IS NOT NULL AS pre,"
                " v.published_at AS at, v.id AS vid"
                " FROM versions v JOIN downloads_daily d ON d.version_id = v.id"
                " WHERE v.package_id = $1 AND d.day >= coalesce($2::text, '')"
                " UNION ALL"
                " SELECT d.day, NULL, sum(d.count)::bigint, 0, 0, 0, 0, false, 0, 0"
                " FROM versions v JOIN downloads_daily d ON d.version_id = v.id"
                " WHERE v.package_id = $1 AND d.day >= coalesce($2::text, '') GROUP BY d.day) t"
                " ORDER BY day, k, ma DESC, mi DESC, pa DESC, pre, at DESC, vid DESC",
    [Q_TOTALS] = "SELECT (SELECT count(*) FROM packages), (SELECT count(*) FROM versions),"
                 " (SELECT count(*) FROM users),"
                 " (SELECT coalesce(sum(downloads), 0)::bigint FROM packages)",
    [Q_TOP_DOWNLOADS] = TOP_SQL("p.downloads DESC, p.id DESC"),
    [Q_TOP_DOWNLOADS_ECO] = TOP_ECO_SQL("p.downloads DESC, p.id DESC"),
    [Q_TOP_NEW] = TOP_SQL("p.created_at DESC, p.id DESC"),
    [Q_TOP_NEW_ECO] = TOP_ECO_SQL("p.created_at DESC, p.id DESC"),
    [Q_TOP_UPDATED] = TOP_SQL("p.updated_at DESC, p.id DESC"),
    [Q_TOP_UPDATED_ECO] = TOP_ECO_SQL("p.updated_at DESC, p.id DESC"),
    [Q_KEY_INSERT] = "INSERT INTO signing_keys (user_id, key_id, algorithm, public_key, name,"
                     " created_at) VALUES ($1, $2, coalesce($3, 'ed25519'), $4, $5, $6)"
                     " RETURNING id",
    [Q_KEY_LIST] = "SELECT " KEY_COLS " FROM signing_keys WHERE user_id = $1"
                   " AND revoked_at IS NULL ORDER BY created_at, id",
    [Q_KEY_GET] = "SELECT " KEY_COLS " FROM signing_keys WHERE key_id = $1"
                  " AND revoked_at IS NULL",
    [Q_KEY_REVOKE] = "UPDATE signing_keys SET revoked_at = $3 WHERE user_id = $1 AND key_id = $2"
                     " AND revoked_at IS NULL",
    /* $3, $6, $8 say what to do with retirement, deprecation and
     * retraction: 1 set, -1 clear, 0 leave; $9 is the time of a retirement. */
    [Q_VERSION_STATUS] =
        "UPDATE versions SET"
        " retired_reason = CASE $3::int WHEN 1 THEN $4::text WHEN -1 THEN NULL"
        " ELSE retired_reason END,"
        " retired_message = CASE $3::int WHEN 1 THEN $5::text WHEN -1 THEN NULL"
        " ELSE retired_message END,"
        " retired_at = CASE $3::int WHEN 1 THEN $9::bigint WHEN -1 THEN NULL ELSE retired_at END,"
        " deprecated = CASE $6::int WHEN 1 THEN $7::text WHEN -1 THEN NULL ELSE deprecated END,"
        " retracted = CASE $8::int WHEN 1 THEN true WHEN -1 THEN false ELSE retracted END"
        " WHERE package_id = $1 AND version = $2",
    [Q_PKG_SET_META] = "UPDATE packages SET meta = coalesce($2, '{}'), generation = generation + 1"
                       " WHERE id = $1",
    [Q_TAGS_LIST] =
        "SELECT t.tag, v.version, t.updated_at FROM dist_tags t"
        " JOIN versions v ON v.id = t.version_id WHERE t.package_id = $1 ORDER BY t.tag",
    /* Inserts nothing when the version does not exist (the caller checks
     * the change count). */
    [Q_TAG_UPSERT] = "INSERT INTO dist_tags (package_id, tag, version_id, updated_at)"
                     " SELECT $1::bigint, $2::text, v.id, $4::bigint FROM versions v"
                     " WHERE v.package_id = $1::bigint AND v.version = $3::text"
                     " ON CONFLICT (package_id, tag) DO UPDATE"
                     " SET version_id = excluded.version_id, updated_at = excluded.updated_at",
    [Q_TAG_DELETE] = "DELETE FROM dist_tags WHERE package_id = $1 AND tag = $2",
    [Q_VERSION_FIND] = "SELECT id, downloads FROM versions WHERE package_id = $1 AND version = $2",
    /* Its dependencies, tags and daily download rows go by ON DELETE CASCADE. */
    [Q_VERSION_DELETE] = "DELETE FROM versions WHERE id = $1",
    [Q_PKG_DL_SUB] = "UPDATE packages SET downloads = downloads - $2 WHERE id = $1",
    [Q_TOMBSTONE_INSERT] = "INSERT INTO version_tombstones (package_id, version, deleted_at)"
                           " VALUES ($1, $2, $3) ON CONFLICT (package_id, version) DO NOTHING",
    [Q_TOMBSTONE_CHECK] = "SELECT 1 FROM version_tombstones WHERE package_id = $1 AND version = $2",
    /* Its files go by ON DELETE CASCADE. */
    [Q_DOCS_SITE_DELETE] = "DELETE FROM docs_sites WHERE package_id = $1 AND version = $2",
    [Q_DOCS_SITE_INSERT] = "INSERT INTO docs_sites (package_id, version, sha256, size, created_at)"
                           " VALUES ($1, $2, $3, $4, $5)",
    [Q_DOCS_FILE_INSERT] = "INSERT INTO docs_files (package_id, version, path, sha256, size)"
                           " VALUES ($1, $2, $3, $4, $5)",
    [Q_DOCS_FILE] = "SELECT path, sha256, size FROM docs_files WHERE package_id = $1"
                    " AND version = $2 AND path = $3",
    [Q_DOCS_ARCHIVE] = "SELECT sha256, size FROM docs_sites WHERE package_id = $1 AND version = $2",
    /* Sites of known versions in version order, then (column 1 true) sites
     * whose version is gone, which the caller orders by their text. */
    [Q_DOCS_VERSIONS] = "SELECT d.version, v.id IS NULL FROM docs_sites d"
                        " LEFT JOIN versions v ON v.package_id = d.package_id"
                        " AND v.version = d.version WHERE d.package_id = $1"
                        " ORDER BY v.id IS NULL, " VERSION_ORDER ", d.version",
    [Q_UPLOAD_INSERT] = "INSERT INTO uploads (" UPLOAD_COLS ")"
                        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    [Q_UPLOAD_GET] = "SELECT " UPLOAD_COLS " FROM uploads WHERE id = $1",
    [Q_UPLOAD_UPDATE] = "UPDATE uploads SET sha256 = $2, size = $3, result = $4, failed = $5"
                        " WHERE id = $1",
    [Q_UPLOAD_EXPIRE] = "DELETE FROM uploads WHERE expires_at <= $1",
    [Q_EMAIL_TOKEN_PURGE] = "DELETE FROM email_tokens WHERE expires_at <= $1",
    [Q_EMAIL_TOKEN_REPLACE] = "DELETE FROM email_tokens WHERE user_id = $1 AND purpose = $2"
                              " AND used_at IS NULL",
    [Q_EMAIL_TOKEN_INSERT] = "INSERT INTO email_tokens (hash, user_id, purpose, email, created_at,"
                             " expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
    [Q_EMAIL_TOKEN_GET] = "SELECT hash, user_id, purpose, email, created_at, expires_at, used_at"
                          " FROM email_tokens WHERE hash = $1 AND purpose = $2 AND used_at IS NULL"
                          " AND expires_at > $3",
    /* One statement: of two concurrent uses, the second finds it used. */
    [Q_EMAIL_TOKEN_USE] = "UPDATE email_tokens SET used_at = $3 WHERE hash = $1 AND purpose = $2"
                          " AND used_at IS NULL AND expires_at > $3"
                          " RETURNING hash, user_id, purpose, email, created_at, expires_at, used_at",
    [Q_USER_SET_VERIFIED] = "UPDATE users SET email_verified_at = $2, updated_at = $3 WHERE id = $1",
    [Q_USER_VERIFIED] = "SELECT coalesce(email_verified_at, 0) FROM users WHERE id = $1",
    [Q_AUDIT_RECENT] = "SELECT a.id, a.at, coalesce(a.user_id, 0), u.username, a.action, a.target,"
                       " a.detail, a.ip FROM audit_log a LEFT JOIN users u ON u.id = a.user_id"
                       " ORDER BY a.at DESC, a.id DESC LIMIT $1",
    /* Starts from the dependency's name (indexed); a package counts once, by its latest version. */
    [Q_PKG_DEPENDENTS] = "SELECT " PKG_LIST_COLS " FROM dependencies d"
                         " JOIN versions v ON v.id = d.version_id"
                         " JOIN packages p ON p.id = v.package_id AND p.latest_version = v.version"
                         " WHERE d.name = $2 AND d.kind <> 'dev' AND p.ecosystem = $1"
                         " GROUP BY p.id ORDER BY p.downloads DESC, p.id DESC LIMIT $3",
};

/* Which unique key a constraint names, and how to say it to a person (the
 * sentences of sqlite.c). The names are fixed in migrations_pg/. */
static const struct {
    const char *constraint;
    const char *message;
} conflict_messages[] = {
    {"users_username_lower_key", "username is taken"},
    {"users_email_lower_key", "email is taken"},
    {"api_tokens_user_id_name_key", "a token with this name exists"},
    {"api_tokens_hash_key", "a token with this secret exists"},
    {"packages_ecosystem_normalized_name_key", "a package with this name exists"},
    {"versions_package_id_version_key", "this version already exists"},
    {"owners_pkey", "already an owner of this package"},
    {"signing_keys_key_id_key", "this key is already registered"},
    {"signing_keys_name", "a key with this name exists"},
    {"docs_files_pkey", "the docs site names a file twice"},
    {"uploads_pkey", "an upload with this id exists"},
};

typedef struct pg_store pg_store;

/* Search statements differ by which filters are given, the sort, how
 * they match and whether they count: one slot per shape (see search_sql). */
#define SEARCH_SHAPES 512

struct conn {
    PGconn *pg;                             /* NULL until connected, and after a loss */
    unsigned char prepared[Q__COUNT];       /* on this PGconn */
    unsigned char sprepared[SEARCH_SHAPES]; /* likewise */
    bool in_tx;                             /* a transaction is open */
    pg_store *owner;
    struct conn *prev, *next; /* in owner->conns, under owner->mu */
};

struct pg_store {
    store base; /* first, so a store * is a pg_store * */
    char **keys, **vals; /* libpq connection parameters, NULL-terminated */
    char where[160];     /* host:port/dbname for the log; never the password */
    pthread_key_t key;   /* this thread's struct conn */
    pthread_mutex_t mu;
    struct conn *conns; /* every connection, to close them all in close() */
    int nconns;
};

static pg_store *self(store *s)
{
    return (pg_store *)s;
}

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

static bool given(const char *s)
{
    return s && *s;
}

/* ---- errors ---------------------------------------------------------- */

/* PostgreSQL's message on one line, for the log. */
static void one_line(char *dst, size_t cap, const char *msg)
{
    snprintf(dst, cap, "%s", msg && *msg ? msg : "(no message)");
    size_t n = strlen(dst);
    while (n && (dst[n - 1] == '\n' || dst[n - 1] == ' '))
        dst[--n] = '\0';
    for (char *p = dst; *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
}

static bool state_is(const char *state, const char *want)
{
    return state && strcmp(state, want) == 0;
}

/* Whether the connection is gone (the server restarted, the network cut)
 * or the server says it cannot serve sessions now. */
static bool lost(const struct conn *c, const char *state)
{
    if (!c->pg || PQstatus(c->pg) != CONNECTION_OK)
        return true;
    return state && (strncmp(state, "08", 2) == 0 || state_is(state, "57P01") ||
                     state_is(state, "57P02") || state_is(state, "57P03") ||
                     state_is(state, "53300"));
}

static int unreachable(derr *e)
{
    derr_set(e, 503, "unavailable", "the store is unreachable; try again");
    return STORE_ERROR;
}

/* Logs PostgreSQL's message for op and fills e for the client; returns the
 * store_rc the operation should return. r is the failed result (NULL when
 * libpq gave none). */
static int fail(struct conn *c, const PGresult *r, const char *op, derr *e)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (state_is(state, "23505")) {
        const char *name = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
        const char *say = "it already exists";
        for (size_t i = 0; name && i < sizeof conflict_messages / sizeof conflict_messages[0]; i++)
            if (strcmp(name, conflict_messages[i].constraint) == 0) {
                say = conflict_messages[i].message;
                break;
            }
        derr_set(e, 409, "conflict", "%s", say);
        return STORE_CONFLICT;
    }
    if (state_is(state, "23503")) {
        /* The row names a parent that is not there (a token for a user that
         * was never created or is gone). */
        derr_set(e, 404, "not_found", "what it refers to does not exist");
        return STORE_NOT_FOUND;
    }
    if (state_is(state, "22021")) {
        /* Text that is not UTF-8 (a name from a URL path) names nothing
         * stored: SQLite would have found nothing either. */
        derr_set(e, 404, "not_found", "no such thing");
        return STORE_NOT_FOUND;
    }
    char msg[512];
    const char *text = r ? PQresultErrorMessage(r) : NULL;
    one_line(msg, sizeof msg, text && *text ? text : c->pg ? PQerrorMessage(c->pg) : NULL);
    log_error("store error", "op", op, "error", msg, "sqlstate", state ? state : "",
              "store", c->owner->where, NULL);
    if (lost(c, state))
        return unreachable(e);
    if (state_is(state, "40001") || state_is(state, "40P01") || state_is(state, "55P03") ||
        state_is(state, "57014")) {
        derr_set(e, 503, "unavailable", "the store is busy; try again");
        return STORE_ERROR;
    }
    derr_set(e, 500, "internal", "the store failed; see the server log");
    return STORE_ERROR;
}

static int not_found(derr *e, const char *what)
{
    derr_set(e, 404, "not_found", "no such %s", what);
    return STORE_NOT_FOUND;
}

/* ---- connections ----------------------------------------------------- */

/* libpq's notices (ignored with client_min_messages=warning anyway) must
 * never reach stderr as they are. */
static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Drops this connection's PGconn (and with it every prepared statement). */
static void conn_drop(struct conn *c)
{
    if (c->pg)
        PQfinish(c->pg);
    c->pg = NULL;
    c->in_tx = false;
    memset(c->prepared, 0, sizeof c->prepared);
    memset(c->sprepared, 0, sizeof c->sprepared);
}

/* Connects c (again). Returns 0, or -1 with the reason in the log. */
static int conn_connect(struct conn *c)
{
    pg_store *s = c->owner;
    conn_drop(c);
    PGconn *pg = PQconnectdbParams((const char *const *)s->keys, (const char *const *)s->vals, 0);
    if (!pg || PQstatus(pg) != CONNECTION_OK) {
        char msg[512];
        one_line(msg, sizeof msg, pg ? PQerrorMessage(pg) : "out of memory");
        log_error("store error", "op", "connect", "error", msg, "store", s->where, NULL);
        if (pg)
            PQfinish(pg);
        return -1;
    }
    PQsetNoticeProcessor(pg, quiet, NULL);
    c->pg = pg;
    return 0;
}

static void conn_close(struct conn *c)
{
    if (!c)
        return;
    conn_drop(c);
    free(c);
}

/* The pthread key's destructor: a worker thread is exiting. */
static void conn_destroy(void *p)
{
    struct conn *c = p;
    pg_store *s = c->owner;
    pthread_mutex_lock(&s->mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nconns--;
    pthread_mutex_unlock(&s->mu);
    conn_close(c);
}

/* This thread's connection, connected; (re)connects when it has none or
 * lost it. NULL with e filled (503) when the server cannot be reached. */
static struct conn *conn_get(store *st, derr *e)
{
    pg_store *s = self(st);
    struct conn *c = pthread_getspecific(s->key);
    if (!c) {
        c = xcalloc(1, sizeof *c);
        c->owner = s;
        pthread_mutex_lock(&s->mu);
        c->next = s->conns;
        if (s->conns)
            s->conns->prev = c;
        s->conns = c;
        s->nconns++;
        pthread_mutex_unlock(&s->mu);
        pthread_setspecific(s->key, c);
    }
    if (!c->pg || PQstatus(c->pg) != CONNECTION_OK) {
        if (conn_connect(c) != 0) {
            unreachable(e);
            return NULL;
        }
    }
    return c;
}

/* ---- statements ------------------------------------------------------ */

static bool result_ok(const PGresult *r)
{
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

/* Runs one statement: the prepared statement `name` (prepared from `sql`
 * first when this connection has not yet, *prepared says), or with name
 * NULL `sql` itself (as a simple query when nparams is 0). Returns the
 * result, which the caller PQclears, or NULL with e filled and *rc the
 * store_rc to return. A connection found lost outside a transaction is
 * replaced and the statement run once more. */
static PGresult *run_stmt(struct conn *c, const char *name, unsigned char *prepared,
                          const char *sql, int nparams, const Oid *types,
                          const char *const *vals, const char *op, derr *e, int *rc)
{
    for (int attempt = 0;; attempt++) {
        PGresult *r = NULL;
        if (!c->pg || PQstatus(c->pg) != CONNECTION_OK) {
            if (c->in_tx || conn_connect(c) != 0) {
                c->in_tx = false;
                *rc = unreachable(e);
                return NULL;
            }
        }
        if (name && !*prepared) {
            r = PQprepare(c->pg, name, sql, types ? nparams : 0, types);
            if (result_ok(r)) {
                *prepared = 1;
                PQclear(r);
                r = NULL;
            }
        }
        if (!name)
            r = nparams ? PQexecParams(c->pg, sql, nparams, types, vals, NULL, NULL, 0)
                        : PQexec(c->pg, sql);
        else if (*prepared)
            r = PQexecPrepared(c->pg, name, nparams, vals, NULL, NULL, 0);
        if (result_ok(r))
            return r;
        const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
        if (attempt == 0 && !c->in_tx && lost(c, state)) {
            PQclear(r);
            log_warn("store connection lost; connecting again", "op", op, "store",
                     c->owner->where, NULL);
            conn_drop(c);
            continue;
        }
        if (attempt == 0 && !c->in_tx && name && state_is(state, "26000")) {
            /* The session lost its prepared statements (DISCARD ALL by a
             * pooler between sessions): prepare them again as needed. */
            PQclear(r);
            memset(c->prepared, 0, sizeof c->prepared);
            memset(c->sprepared, 0, sizeof c->sprepared);
            continue;
        }
        *rc = fail(c, r, op, e);
        PQclear(r);
        return NULL;
    }
}

/* Text parameters, $1 upward; NULL is SQL NULL. Numbers are written into
 * the struct, so it must outlive the statement's run. */
struct params {
    int n;
    const char *v[MAX_PARAMS];
    char num[MAX_PARAMS][24];
};

static void p_text(struct params *p, const char *s)
{
    if (p->n < MAX_PARAMS)
        p->v[p->n++] = s;
}

static void p_i64(struct params *p, int64_t x)
{
    if (p->n >= MAX_PARAMS)
        return;
    snprintf(p->num[p->n], sizeof p->num[p->n], "%lld", (long long)x);
    p->v[p->n] = p->num[p->n];
    p->n++;
}

/* Zero times (and zero ids where 0 means none) go as NULL. */
static void p_time(struct params *p, int64_t x)
{
    if (x)
        p_i64(p, x);
    else
        p_text(p, NULL);
}

static void p_bool(struct params *p, bool b)
{
    p_text(p, b ? "true" : "false");
}

/* Runs statement q of enum query with p's parameters; see run_stmt. */
static PGresult *q_run(struct conn *c, enum query q, const struct params *p, const char *op,
                       derr *e, int *rc)
{
    char name[16];
    snprintf(name, sizeof name, "q%d", (int)q);
    return run_stmt(c, name, &c->prepared[q], sql_text[q], p ? p->n : 0, NULL,
                    p ? p->v : NULL, op, e, rc);
}

/* Runs q for its effect; *changed (when not NULL) gets the rows it changed. */
static int q_exec(struct conn *c, enum query q, const struct params *p, int *changed,
                  const char *op, derr *e)
{
    int rc = STORE_ERROR;
    PGresult *r = q_run(c, q, p, op, e, &rc);
    if (!r)
        return rc;
    if (changed)
        *changed = (int)strtol(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return STORE_OK;
}

/* Runs q with the single parameter id, for its effect. */
static int q_exec_id(struct conn *c, enum query q, int64_t id, const char *op, derr *e)
{
    struct params p = {0};
    p_i64(&p, id);
    return q_exec(c, q, &p, NULL, op, e);
}

/* Runs a fixed statement outside enum query (transaction control, the
 * migration runner). */
static int simple(struct conn *c, const char *sql, const char *op, derr *e)
{
    int rc = STORE_ERROR;
    PGresult *r = run_stmt(c, NULL, NULL, sql, 0, NULL, NULL, op, e, &rc);
    if (!r)
        return rc;
    PQclear(r);
    return STORE_OK;
}

/* ---- transactions ---------------------------------------------------- */

static int tx_begin(struct conn *c, const char *op, derr *e)
{
    int ret = simple(c, "BEGIN", op, e);
    if (ret == STORE_OK)
        c->in_tx = true;
    return ret;
}

/* A read transaction: the reads of one operation see one snapshot. */
static int tx_begin_read(struct conn *c, const char *op, derr *e)
{
    int ret = simple(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", op, e);
    if (ret == STORE_OK)
        c->in_tx = true;
    return ret;
}

/* Ends a transaction: commits when ret is STORE_OK (and returns the
 * commit's result), else rolls back and returns ret. */
static int tx_end(struct conn *c, int ret, const char *op, derr *e)
{
    if (!c->in_tx)
        return ret;
    if (ret == STORE_OK)
        ret = simple(c, "COMMIT", op, e);
    if (ret != STORE_OK && c->pg && PQstatus(c->pg) == CONNECTION_OK && c->in_tx) {
        PGresult *r = PQexec(c->pg, "ROLLBACK");
        PQclear(r);
    }
    c->in_tx = false;
    return ret;
}

/* Locks the package row for the rest of the transaction (see the file's
 * comment); a package that does not exist locks nothing, and the caller's
 * next statement finds nothing to change. */
static int pkg_lock(struct conn *c, int64_t package_id, const char *op, derr *e)
{
    return q_exec_id(c, Q_PKG_LOCK, package_id, op, e);
}

/* ---- reading results ------------------------------------------------- */

static const char *col_text(arena *a, const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return NULL;
    return arena_strndup(a, PQgetvalue(r, row, col), (size_t)PQgetlength(r, row, col));
}

/* NULL reads as 0, as sqlite3_column_int64 reads it. */
static int64_t col_i64(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return 0;
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static bool col_bool(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return false;
    char ch = PQgetvalue(r, row, col)[0];
    return ch == 't' || ch == '1';
}

/* Lower-cases ASCII letters into a new string the caller frees, as sqlite.c
 * does, so both backends fold the same way. */
static char *ascii_lower(const char *s)
{
    if (!s)
        return NULL;
    char *d = xstrdup(s);
    for (char *p = d; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return d;
}

/* Reads every row of r into a new arena array of `size`-byte elements. */
static void *rows_to_array(arena *a, const PGresult *r, size_t size,
                           void (*read)(arena *, const PGresult *, int, void *), int *n)
{
    int count = PQntuples(r);
    *n = count;
    if (count == 0)
        return NULL;
    char *arr = arena_zalloc(a, (size_t)count * size);
    for (int i = 0; i < count; i++)
        read(a, r, i, arr + (size_t)i * size);
    return arr;
}

/* Runs a list query and reads its rows into *out (an arena array of *n). */
static int q_list(struct conn *c, arena *a, enum query q, const struct params *p, size_t size,
                  void (*read)(arena *, const PGresult *, int, void *), void **out, int *n,
                  const char *op, derr *e)
{
    *out = NULL;
    *n = 0;
    int rc = STORE_ERROR;
    PGresult *r = q_run(c, q, p, op, e, &rc);
    if (!r)
        return rc;
    *out = rows_to_array(a, r, size, read, n);
    PQclear(r);
    return STORE_OK;
}

/* Runs a query with $1 = id that yields a list. */
static int list_by_id(store *s, arena *a, enum query q, int64_t id, size_t size,
                      void (*read)(arena *, const PGresult *, int, void *), void **out, int *n,
                      const char *op, derr *e)
{
    *out = NULL;
    *n = 0;
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    struct params p = {0};
    p_i64(&p, id);
    return q_list(c, a, q, &p, size, read, out, n, op, e);
}

static int64_t clamp_limit(int64_t limit)
{
    return limit > MAX_PAGE ? MAX_PAGE : limit;
}

/* Whether s is well-formed UTF-8 (PostgreSQL refuses text that is not). */
static bool utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int n = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2
                              : (*p & 0xf8) == 0xf0 ? 3 : -1;
        if (n < 0 || (n == 1 && *p < 0xc2))
            return false;
        unsigned cp = n == 0 ? *p : n == 1 ? (*p & 0x1fu) : n == 2 ? (*p & 0x0fu) : (*p & 0x07u);
        for (int i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3fu);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return false;
        p += n + 1;
    }
    return true;
}

/* ---- lifecycle ------------------------------------------------------- */

static void free_params(pg_store *s)
{
    for (int i = 0; s->keys && s->keys[i]; i++) {
        free(s->keys[i]);
        free(s->vals[i]);
    }
    free(s->keys);
    free(s->vals);
    s->keys = s->vals = NULL;
}

/* Closes every connection, this thread's and every other's. The caller
 * guarantees no other thread is using the store or still exiting from it. */
static void pg_close(store *st)
{
    if (!st)
        return;
    pg_store *s = self(st);
    pthread_key_delete(s->key);
    pthread_mutex_lock(&s->mu);
    struct conn *c = s->conns;
    while (c) {
        struct conn *next = c->next;
        conn_close(c);
        c = next;
    }
    s->conns = NULL;
    s->nconns = 0;
    pthread_mutex_unlock(&s->mu);
    pthread_mutex_destroy(&s->mu);
    free_params(s);
    free(s);
}

int store_postgres_connections(store *st)
{
    pg_store *s = self(st);
    pthread_mutex_lock(&s->mu);
    int n = s->nconns;
    pthread_mutex_unlock(&s->mu);
    return n;
}

void store_postgres_break_connection(store *st)
{
    pg_store *s = self(st);
    struct conn *c = pthread_getspecific(s->key);
    if (c && c->pg)
        shutdown(PQsocket(c->pg), SHUT_RDWR);
}

/* ---- migrations ------------------------------------------------------ */

/* Applies one migration in its own transaction unless schema_migrations
 * already has it. Runs under the migration lock, so no other server is
 * applying it meanwhile. Returns 1 when applied, 0 when it already was,
 * STORE_ERROR on failure. */
static int apply_migration(struct conn *c, const struct migration *m, derr *e)
{
    static const char op[] = "migrate";
    char version[24];
    snprintf(version, sizeof version, "%d", m->version);
    const char *has[] = {version};
    int rc = STORE_ERROR;
    PGresult *r = run_stmt(c, NULL, NULL, "SELECT 1 FROM schema_migrations WHERE version = $1", 1,
                           NULL, has, op, e, &rc);
    if (!r)
        return rc;
    bool done = PQntuples(r) > 0;
    PQclear(r);
    if (done)
        return 0;
    if (tx_begin(c, op, e) != STORE_OK)
        return STORE_ERROR;
    r = PQexec(c->pg, m->sql);
    if (!result_ok(r)) {
        char msg[512];
        one_line(msg, sizeof msg, r ? PQresultErrorMessage(r) : PQerrorMessage(c->pg));
        log_error("store error", "op", op, "version", version, "name", m->name, "error", msg,
                  NULL);
        PQclear(r);
        if (lost(c, NULL)) {
            c->in_tx = false;
            return unreachable(e);
        }
        derr_set(e, 500, "internal", "a schema migration failed; see the server log");
        return tx_end(c, STORE_ERROR, op, e);
    }
    PQclear(r);
    char at[24];
    snprintf(at, sizeof at, "%lld", (long long)now_s());
    const char *add[] = {version, m->name, at};
    r = run_stmt(c, NULL, NULL,
                 "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", 3,
                 NULL, add, op, e, &rc);
    if (!r)
        return tx_end(c, rc, op, e);
    PQclear(r);
    if (tx_end(c, STORE_OK, op, e) != STORE_OK)
        return STORE_ERROR;
    log_info("schema migration applied", "version", version, "name", m->name, NULL);
    return 1;
}

/* Runs the migrations that are missing, one transaction each, while
 * holding a session advisory lock so servers starting together migrate
 * one after the other (the others then find nothing left to do). The
 * statement timeout is lifted meanwhile: building indexes over a large
 * table may take longer than any request should. */
static int pg_migrate(store *s, int *applied, derr *e)
{
    static const char op[] = "migrate";
    int count = 0;
    if (applied)
        *applied = 0;
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    if (simple(c, "SET statement_timeout = 0", op, e) != STORE_OK)
        return STORE_ERROR;
    char lock[96];
    snprintf(lock, sizeof lock, "SELECT pg_advisory_lock(%lld)", MIGRATE_LOCK_KEY);
    int ret = simple(c, lock, op, e);
    if (ret != STORE_OK) {
        simple(c, "RESET statement_timeout", op, NULL);
        return ret;
    }
    ret = simple(c,
                 "CREATE TABLE IF NOT EXISTS schema_migrations ("
                 " version INTEGER PRIMARY KEY,"
                 " name TEXT NOT NULL,"
                 " applied_at BIGINT NOT NULL)",
                 op, e);
    int known = 0;
    for (int i = 0; i < pg_migrations_count; i++)
        if (pg_migrations[i].version > known)
            known = pg_migrations[i].version;
    if (ret == STORE_OK) {
        int rc = STORE_ERROR;
        PGresult *r = run_stmt(c, NULL, NULL,
                               "SELECT coalesce(max(version), 0) FROM schema_migrations", 0, NULL,
                               NULL, op, e, &rc);
        if (!r) {
            ret = rc;
        } else {
            int64_t have = col_i64(r, 0, 0);
            PQclear(r);
            /* A database migrated by a newer depot may hold tables this one
             * would misuse: refuse rather than guess. */
            if (have > known) {
                char h[24], k[24];
                snprintf(h, sizeof h, "%lld", (long long)have);
                snprintf(k, sizeof k, "%d", known);
                log_error("the database schema is newer than this program", "database", h,
                          "program", k, NULL);
                ret = derr_set(e, 500, "internal",
                               "the database was migrated by a newer depot (schema %lld, this one "
                               "knows %d); upgrade depot",
                               (long long)have, known);
            }
        }
    }
    for (int i = 0; i < pg_migrations_count && ret == STORE_OK; i++) {
        int r = apply_migration(c, &pg_migrations[i], e);
        if (r < 0)
            ret = STORE_ERROR;
        else
            count += r;
    }
    /* Unlocks and restores the timeout; when the connection is gone the
     * server released the lock with it. */
    snprintf(lock, sizeof lock, "SELECT pg_advisory_unlock(%lld)", MIGRATE_LOCK_KEY);
    if (c->pg && PQstatus(c->pg) == CONNECTION_OK) {
        PQclear(PQexec(c->pg, lock));
        PQclear(PQexec(c->pg, "RESET statement_timeout"));
    }
    if (applied)
        *applied = count;
    return ret;
}

static int pg_ping(store *s, derr *e)
{
    struct conn *c = conn_get(s, e);
    return c ? q_exec(c, Q_PING, NULL, NULL, "ping", e) : STORE_ERROR;
}

/* ---- users ----------------------------------------------------------- */

static void read_user(arena *a, const PGresult *r, int i, store_user *u)
{
    u->id = col_i64(r, i, 0);
    u->username = col_text(a, r, i, 1);
    u->email = col_text(a, r, i, 2);
    u->password_hash = col_text(a, r, i, 3);
    u->is_admin = col_bool(r, i, 4);
    u->disabled = col_bool(r, i, 5);
    u->created_at = col_i64(r, i, 6);
    u->password_changed_at = col_i64(r, i, 7);
}

static void read_user_v(arena *a, const PGresult *r, int i, void *u)
{
    read_user(a, r, i, u);
}

/* Runs a query that yields at most one user with $1 bound as p holds it. */
static int user_one(store *s, arena *a, enum query q, const struct params *p, store_user *out,
                    const char *op, derr *e)
{
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    int rc = STORE_ERROR;
    PGresult *r = q_run(c, q, p, op, e, &rc);
    if (!r)
        return rc == STORE_NOT_FOUND ? not_found(e, "user") : rc;
    int ret = PQntuples(r) > 0 ? STORE_OK : not_found(e, "user");
    if (ret == STORE_OK)
        read_user(a, r, 0, out);
    PQclear(r);
    return ret;
}

static int pg_user_create(store *s, store_user *u, derr *e)
{
    static const char op[] = "user_create";
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    char *ulower = ascii_lower(u->username);
    char *elower = ascii_lower(u->email);
    int64_t created = u->created_at > 0 ? u->created_at : now_s();
    struct params p = {0};
    p_text(&p, u->username);
    p_text(&p, ulower);
    p_text(&p, u->email);
    p_text(&p, elower);
    p_text(&p, u->password_hash);
    p_bool(&p, u->is_admin);
    p_bool(&p, u->disabled);
    p_i64(&p, created);
    int ret = STORE_ERROR;
    PGresult *r = q_run(c, Q_USER_INSERT, &p, op, e, &ret);
    if (r) {
        u->id = col_i64(r, 0, 0);
        u->created_at = created;
        ret = STORE_OK;
        PQclear(r);
    }
    free(ulower);
    free(elower);
    return ret;
}

static int pg_user_by_id(store *s, arena *a, int64_t id, store_user *out, derr *e)
{
    struct params p = {0};
    p_i64(&p, id);
    return user_one(s, a, Q_USER_BY_ID, &p, out, "user_by_id", e);
}

static int pg_user_by_login(store *s, arena *a, const char *login, store_user *out, derr *e)
{
    if (!login)
        return not_found(e, "user");
    char *lower = ascii_lower(login);
    struct params p = {0};
    p_text(&p, lower);
    int ret = user_one(s, a, Q_USER_BY_LOGIN, &p, out, "user_by_login", e);
    free(lower);
    return ret;
}

static int pg_user_list(store *s, arena *a, store_user **out, int *n, derr *e)
{
    *out = NULL;
    *n = 0;
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    void *arr = NULL;
    int ret = q_list(c, a, Q_USER_LIST, NULL, sizeof **out, read_user_v, &arr, n, "user_list", e);
    *out = arr;
    return ret;
}

/* Runs one of the single-column user updates: $1 id, $2 value, $3 now. */
static int user_update(store *s, enum query q, int64_t id, const char *text, int flag,
                       const char *op, derr *e)
{
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    struct params p = {0};
    p_i64(&p, id);
    if (q == Q_USER_SET_PASSWORD)
        p_text(&p, text);
    else
        p_bool(&p, flag != 0);
    p_i64(&p, now_s());
    int changed = 0;
    int ret = q_exec(c, q, &p, &changed, op, e);
    if (ret == STORE_OK && changed == 0)
        ret = not_found(e, "user");
    return ret;
}

static int pg_user_set_password(store *s, int64_t id, const char *hash, derr *e)
{
    return user_update(s, Q_USER_SET_PASSWORD, id, hash, 0, "user_set_password", e);
}

static int pg_user_set_disabled(store *s, int64_t id, bool disabled, derr *e)
{
    return user_update(s, Q_USER_SET_DISABLED, id, NULL, disabled, "user_set_disabled", e);
}

static int pg_user_set_admin(store *s, int64_t id, bool admin, derr *e)
{
    return user_update(s, Q_USER_SET_ADMIN, id, NULL, admin, "user_set_admin", e);
}

/* ---- tokens ---------------------------------------------------------- */

static void read_token(arena *a, const PGresult *r, int i, store_token *t)
{
    t->id = col_i64(r, i, 0);
    t->user_id = col_i64(r, i, 1);
    t->name = col_text(a, r, i, 2);
    t->hash = col_text(a, r, i, 3);
    t->prefix = col_text(a, r, i, 4);
    t->scopes = col_text(a, r, i, 5);
    t->created_at = col_i64(r, i, 6);
    t->expires_at = col_i64(r, i, 7);   /* NULL reads as 0: never */
    t->last_used_at = col_i64(r, i, 8); /* NULL reads as 0: never */
}

static void read_token_v(arena *a, const PGresult *r, int i, void *t)
{
    read_token(a, r, i, t);
}

static int pg_token_create(store *s, store_token *t, derr *e)
{
    static const char op[] = "token_create";
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    int64_t created = t->created_at > 0 ? t->created_at : now_s();
    struct params p = {0};
    p_i64(&p, t->user_id);
    p_text(&p, t->name);
    p_text(&p, t->hash);
    p_text(&p, t->prefix);
    p_text(&p, t->scopes ? t->scopes : "");
    p_i64(&p, created);
    p_time(&p, t->expires_at);
    p_time(&p, t->last_used_at);
    int ret = STORE_ERROR;
    PGresult *r = q_run(c, Q_TOKEN_INSERT, &p, op, e, &ret);
    if (!r) {
        if (ret == STORE_NOT_FOUND)
            not_found(e, "user");
        return ret;
    }
    t->id = col_i64(r, 0, 0);
    t->created_at = created;
    PQclear(r);
    return STORE_OK;
}

static int token_one(store *s, arena *a, enum query q, const struct params *p, store_token *out,
                     const char *op, derr *e)
{
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    int rc = STORE_ERROR;
    PGresult *r = q_run(c, q, p, op, e, &rc);
    if (!r)
        return rc == STORE_NOT_FOUND ? not_found(e, "token") : rc;
    int ret = PQntuples(r) > 0 ? STORE_OK : not_found(e, "token");
    if (ret == STORE_OK)
        read_token(a, r, 0, out);
    PQclear(r);
    return ret;
}

static int pg_token_by_hash(store *s, arena *a, const char *hash, store_token *out, derr *e)
{
    if (!hash)
        return not_found(e, "token");
    struct params p = {0};
    p_text(&p, hash);
    return token_one(s, a, Q_TOKEN_BY_HASH, &p, out, "token_by_hash", e);
}

static int pg_token_by_name(store *s, arena *a, int64_t user_id, const char *name,
                            store_token *out, derr *e)
{
    if (!name)
        return not_found(e, "token");
    struct params p = {0};
    p_i64(&p, user_id);
    p_text(&p, name);
    return token_one(s, a, Q_TOKEN_BY_NAME, &p, out, "token_by_name", e);
}

static int pg_token_list(store *s, arena *a, int64_t user_id, store_token **out, int *n, derr *e)
{
    void *arr = NULL;
    int ret = list_by_id(s, a, Q_TOKEN_LIST, user_id, sizeof **out, read_token_v, &arr, n,
                         "token_list", e);
    *out = arr;
    return ret;
}

static int pg_token_delete(store *s, int64_t user_id, const char *name, derr *e)
{
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    struct params p = {0};
    p_i64(&p, user_id);
    p_text(&p, name);
    int changed = 0;
    int ret = q_exec(c, Q_TOKEN_DELETE, &p, &changed, "token_delete", e);
    if (ret == STORE_OK && changed == 0)
        ret = not_found(e, "token");
    else if (ret == STORE_NOT_FOUND)
        ret = not_found(e, "token");
    return ret;
}

/* Sets last_used_at = now unless it is already within TOUCH_SLACK_S of
 * now. STORE_OK also when nothing was written. */
static int pg_token_touch(store *s, int64_t id, int64_t now, derr *e)
{
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    struct params p = {0};
    p_i64(&p, id);
    p_i64(&p, now);
    p_i64(&p, TOUCH_SLACK_S);
    return q_exec(c, Q_TOKEN_TOUCH, &p, NULL, "token_touch", e);
}

/* ---- revoked JWTs ---------------------------------------------------- */

/* Records the jti (again is fine) and, in the same transaction, forgets
 * every revoked JWT that has expired by now. */
static int pg_jwt_revoke(store *s, const char *jti, int64_t expires_at, derr *e)
{
    static const char op[] = "jwt_revoke";
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    if (tx_begin(c, op, e) != STORE_OK)
        return STORE_ERROR;
    struct params p = {0};
    p_i64(&p, now_s());
    int ret = q_exec(c, Q_JWT_PURGE, &p, NULL, op, e);
    if (ret == STORE_OK) {
        p = (struct params){0};
        p_text(&p, jti);
        p_i64(&p, expires_at);
        ret = q_exec(c, Q_JWT_INSERT, &p, NULL, op, e);
    }
    return tx_end(c, ret, op, e);
}

static int pg_jwt_is_revoked(store *s, const char *jti, derr *e)
{
    if (!jti)
        return STORE_NOT_FOUND;
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    struct params p = {0};
    p_text(&p, jti);
    int rc = STORE_ERROR;
    PGresult *r = q_run(c, Q_JWT_CHECK, &p, "jwt_is_revoked", e, &rc);
    if (!r)
        return rc;
    /* not revoked is the common answer: not an error, so e is left alone */
    int ret = PQntuples(r) > 0 ? STORE_OK : STORE_NOT_FOUND;
    PQclear(r);
    return ret;
}

/* One integer from the settings table (auth_epoch, eco_gen:<ecosystem>); 0 when absent. */
static int settings_counter(store *s, enum query q, const char *arg, int64_t *out, const char *op,
                            derr *e)
{
    *out = 0;
    if (arg && !utf8_valid(arg))
        return STORE_OK; /* no such ecosystem */
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    struct params p = {0};
    if (arg)
        p_text(&p, arg);
    int rc = STORE_ERROR;
    PGresult *r = q_run(c, q, &p, op, e, &rc);
    if (!r)
        return rc;
    *out = PQntuples(r) > 0 ? col_i64(r, 0, 0) : 0;
    PQclear(r);
    return STORE_OK;
}

static int pg_auth_epoch(store *s, int64_t *out, derr *e)
{
    return settings_counter(s, Q_AUTH_EPOCH, NULL, out, "auth_epoch", e);
}

static int pg_eco_generation(store *s, const char *ecosystem, int64_t *out, derr *e)
{
    return settings_counter(s, Q_ECO_GEN, ecosystem ? ecosystem : "", out, "eco_generation", e);
}

/* ---- audit ----------------------------------------------------------- */

static int pg_audit(store *s, const store_audit *ev, derr *e)
{
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    struct params p = {0};
    p_i64(&p, now_s());
    p_time(&p, ev->user_id);
    p_text(&p, ev->action);
    p_text(&p, ev->target);
    p_text(&p, ev->detail);
    p_text(&p, ev->ip);
    return q_exec(c, Q_AUDIT_INSERT, &p, NULL, "audit", e);
}

/* ---- packages and versions ------------------------------------------- */

static void read_package(arena *a, const PGresult *r, int i, store_package *p)
{
    p->id = col_i64(r, i, 0);
    p->ecosystem = col_text(a, r, i, 1);
    p->name = col_text(a, r, i, 2);
    p->normalized_name = col_text(a, r, i, 3);
    p->description = col_text(a, r, i, 4);
    p->homepage = col_text(a, r, i, 5);
    p->repository = col_text(a, r, i, 6);
    p->documentation = col_text(a, r, i, 7);
    p->license = col_text(a, r, i, 8);
    p->keywords = col_text(a, r, i, 9);
    p->categories = col_text(a, r, i, 10);
    p->tags = col_text(a, r, i, 11);
    p->authors = col_text(a, r, i, 12);
    p->readme = col_text(a, r, i, 13);
    p->require_signatures = col_bool(r, i, 14);
    p->latest_version = col_text(a, r, i, 15);
    p->generation = col_i64(r, i, 16);
    p->downloads = col_i64(r, i, 17);
    p->meta = col_text(a, r, i, 18);
    p->created_at = col_i64(r, i, 19);
    p->updated_at = col_i64(r, i, 20);
}

static void read_package_v(arena *a, const PGresult *r, int i, void *p)
{
    read_package(a, r, i, p);
}

static void read_version(arena *a, const PGresult *r, int i, store_version *v)
{
    v->id = col_i64(r, i, 0);
    v->package_id = col_i64(r, i, 1);
    v->version = col_text(a, r, i, 2);
    v->major = col_i64(r, i, 3);
    v->minor = col_i64(r, i, 4);
    v->patch = col_i64(r, i, 5);
    v->prerelease = col_text(a, r, i, 6);
    v->sha256 = col_text(a, r, i, 7);
    v->size = col_i64(r, i, 8);
    v->manifest = col_text(a, r, i, 9);
    v->signature = col_text(a, r, i, 10);
    v->signing_key_id = col_text(a, r, i, 11);
    v->publisher_id = col_i64(r, i, 12); /* NULL (account gone) reads as 0 */
    v->publisher = col_text(a, r, i, 13);
    v->published_at = col_i64(r, i, 14);
    v->yanked = col_bool(r, i, 15);
    v->yanked_at = col_i64(r, i, 16);
    v->retired_reason = col_text(a, r, i, 17);
    v->retired_message = col_text(a, r, i, 18);
    v->downloads = col_i64(r, i, 19);
    v->extra = col_text(a, r, i, 20);
    v->deprecated = col_text(a, r, i, 21);
    v->retracted = col_bool(r, i, 22);
    v->retired_at = col_i64(r, i, 23);
    v->deps = NULL;
    v->ndeps = 0;
}

static void read_version_v(arena *a, const PGresult *r, int i, void *v)
{
    read_version(a, r, i, v);
}

/* Column 0 is the version's id, read by the caller. */
static void read_dep(arena *a, const PGresult *r, int i, store_dep *d)
{
    d->name = col_text(a, r, i, 1);
    d->requirement = col_text(a, r, i, 2);
    d->kind = col_text(a, r, i, 3);
    d->extra = col_text(a, r, i, 4);
}

static void read_dep_v(arena *a, const PGresult *r, int i, void *d)
{
    read_dep(a, r, i, d);
}

static int pg_pkg_get(store *s, arena *a, const char *ecosystem, const char *normalized,
                      store_package *out, derr *e)
{
    if (!ecosystem || !normalized)
        return not_found(e, "package");
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    struct params p = {0};
    p_text(&p, ecosystem);
    p_text(&p, normalized);
    int rc = STORE_ERROR;
    PGresult *r = q_run(c, Q_PKG_GET, &p, "pkg_get", e, &rc);
    if (!r)
        return rc == STORE_NOT_FOUND ? not_found(e, "package") : rc;
    int ret = PQntuples(r) > 0 ? STORE_OK : not_found(e, "package");
    if (ret == STORE_OK)
        read_package(a, r, 0, out);
    PQclear(r);
    return ret;
}

/* One indexed look-up that reads one integer: cheap enough to run before
 * every cached read. */
static int pg_pkg_generation(store *s, const char *ecosystem, const char *normalized,
                             int64_t *gen, derr *e)
{
    if (!ecosystem || !normalized)
        return not_found(e, "package");
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    struct params p = {0};
    p_text(&p, ecosystem);
    p_text(&p, normalized);
    int rc = STORE_ERROR;
    PGresult *r = q_run(c, Q_PKG_GENERATION, &p, "pkg_generation", e, &rc);
    if (!r)
        return rc == STORE_NOT_FOUND ? not_found(e, "package") : rc;
    int ret = PQntuples(r) > 0 ? STORE_OK : not_found(e, "package");
    if (ret == STORE_OK)
        *gen = col_i64(r, 0, 0);
    PQclear(r);
    return ret;
}

struct version_slot {
    int64_t id;
    int index; /* in the caller's version array */
};

static int slot_cmp(const void *x, const void *y)
{
    const struct version_slot *a = x, *b = y;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* Hands the dependency rows of r (ordered by version id) to the versions
 * they belong to; one pass, no query per version. */
static void attach_deps(arena *a, const PGresult *r, store_version *vs, int n)
{
    int rows = PQntuples(r);
    if (n == 0 || rows == 0)
        return;
    struct version_slot *slots = xmalloc((size_t)n * sizeof *slots);
    for (int i = 0; i < n; i++)
        slots[i] = (struct version_slot){vs[i].id, i};
    qsort(slots, (size_t)n, sizeof *slots, slot_cmp);
    for (int i = 0; i < rows;) {
        int64_t vid = col_i64(r, i, 0);
        int j = i;
        while (j < rows && col_i64(r, j, 0) == vid)
            j++;
        struct version_slot key = {vid, 0};
        struct version_slot *hit = bsearch(&key, slots, (size_t)n, sizeof *slots, slot_cmp);
        if (hit) {
            store_version *v = &vs[hit->index];
            v->ndeps = j - i;
            v->deps = arena_zalloc(a, (size_t)v->ndeps * sizeof *v->deps);
            for (int k = i; k < j; k++)
                read_dep(a, r, k, &v->deps[k - i]);
        }
        i = j;
    }
    free(slots);
}

/* Two queries in one read transaction: the versions, then every
 * dependency of the package, matched to its version by id. */
static int pg_pkg_versions(store *s, arena *a, int64_t package_id, store_version **out, int *n,
                           derr *e)
{
    static const char op[] = "pkg_versions";
    *out = NULL;
    *n = 0;
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    if (tx_begin_read(c, op, e) != STORE_OK)
        return STORE_ERROR;
    struct params p = {0};
    p_i64(&p, package_id);
    void *arr = NULL;
    int count = 0;
    int ret = q_list(c, a, Q_VERSION_LIST, &p, sizeof **out, read_version_v, &arr, &count, op, e);
    store_version *vs = arr;
    if (ret == STORE_OK && count > 0) {
        int rc = STORE_ERROR;
        PGresult *r = q_run(c, Q_DEPS_OF_PACKAGE, &p, op, e, &rc);
        if (r) {
            attach_deps(a, r, vs, count);
            PQclear(r);
        } else {
            ret = rc;
        }
    }
    ret = tx_end(c, ret, op, e);
    if (ret == STORE_OK) {
        *out = vs;
        *n = count;
    }
    return ret;
}

static int pg_version_get(store *s, arena *a, int64_t package_id, const char *version,
                          store_version *out, derr *e)
{
    static const char op[] = "version_get";
    if (!version)
        return not_found(e, "version");
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    if (tx_begin_read(c, op, e) != STORE_OK)
        return STORE_ERROR;
    struct params p = {0};
    p_i64(&p, package_id);
    p_text(&p, version);
    int ret = STORE_ERROR;
    PGresult *r = q_run(c, Q_VERSION_GET, &p, op, e, &ret);
    if (r) {
        ret = PQntuples(r) > 0 ? STORE_OK : not_found(e, "version");
        if (ret == STORE_OK)
            read_version(a, r, 0, out);
        PQclear(r);
    } else if (ret == STORE_NOT_FOUND) {
        not_found(e, "version");
    }
    if (ret == STORE_OK) {
        struct params d = {0};
        p_i64(&d, out->id);
        void *deps = NULL;
        ret = q_list(c, a, Q_DEPS_OF_VERSION, &d, sizeof *out->deps, read_dep_v, &deps,
                     &out->ndeps, op, e);
        out->deps = deps;
    }
    return tx_end(c, ret, op, e);
}

/* Appends the descriptive fields of p in the order Q_PKG_INSERT and
 * Q_PKG_REFRESH share: description, homepage, repository, documentation,
 * license, keywords, categories, tags, authors. */
static void p_pkg_fields(struct params *p, const store_package *pkg)
{
    p_text(p, pkg->description);
    p_text(p, pkg->homepage);
    p_text(p, pkg->repository);
    p_text(p, pkg->documentation);
    p_text(p, pkg->license);
    p_text(p, pkg->keywords);
    p_text(p, pkg->categories);
    p_text(p, pkg->tags);
    p_text(p, pkg->authors);
}

/* Recomputes latest_version and adds `bump` to the generation, setting
 * updated_at when it is not 0; *gen gets the new generation when not NULL.
 * Runs inside the caller's transaction, after its package lock. */
static int pkg_settle(struct conn *c, int64_t package_id, int64_t bump, int64_t updated_at,
                      int64_t *gen, const char *op, derr *e)
{
    struct params p = {0};
    p_i64(&p, package_id);
    p_i64(&p, bump);
    p_time(&p, updated_at);
    int rc = STORE_ERROR;
    PGresult *r = q_run(c, Q_PKG_SETTLE, &p, op, e, &rc);
    if (!r)
        return rc;
    int ret = PQntuples(r) > 0 ? STORE_OK : not_found(e, "package");
    if (ret == STORE_OK && gen)
        *gen = col_i64(r, 0, 0);
    PQclear(r);
    return ret;
}

/* Finds and locks the package by (ecosystem, normalized name): STORE_OK
 * with *id and name (cut to fit) filled, or STORE_NOT_FOUND. */
static int publish_find(struct conn *c, const store_package *pkg, int64_t *id, char *name,
                        size_t cap, const char *op, derr *e)
{
    struct params p = {0};
    p_text(&p, pkg->ecosystem);
    p_text(&p, pkg->normalized_name);
    int rc = STORE_ERROR;
    PGresult *r = q_run(c, Q_PKG_FIND, &p, op, e, &rc);
    if (!r)
        return rc;
    int ret = STORE_NOT_FOUND;
    if (PQntuples(r) > 0) {
        *id = col_i64(r, 0, 0);
        snprintf(name, cap, "%s", PQgetvalue(r, 0, 1));
        ret = STORE_OK;
    }
    PQclear(r);
    return ret;
}

/* publish_create's answer when another transaction made the package first. */
#define RACED 10

/* Creates the package from p->pkg, its publisher its owner; RACED when the
 * package appeared meanwhile (nothing was written). */
static int publish_create(struct conn *c, store_publish *p, int64_t publisher, int64_t now,
                          const char *op, derr *e)
{
    const store_package *pkg = &p->pkg;
    struct params q = {0};
    p_text(&q, pkg->ecosystem);
    p_text(&q, pkg->name ? pkg->name : pkg->normalized_name);
    p_text(&q, pkg->normalized_name);
    p_pkg_fields(&q, pkg);
    p_text(&q, pkg->readme);
    p_bool(&q, pkg->require_signatures);
    p_text(&q, pkg->meta);
    p_i64(&q, now);
    int rc = STORE_ERROR;
    PGresult *r = q_run(c, Q_PKG_INSERT, &q, op, e, &rc);
    if (!r)
        return rc;
    bool made = PQntuples(r) > 0;
    if (made)
        p->pkg.id = col_i64(r, 0, 0);
    PQclear(r);
    if (!made)
        return RACED;
    q = (struct params){0};
    p_i64(&q, p->pkg.id);
    p_i64(&q, publisher);
    p_text(&q, "owner");
    p_i64(&q, now);
    int ret = q_exec(c, Q_OWNER_INSERT, &q, NULL, op, e);
    if (ret == STORE_NOT_FOUND)
        not_found(e, "publisher");
    return ret;
}

/* For an existing package: checks ownership when asked, then refreshes
 * the descriptive fields unless a higher version is already the latest. */
static int publish_refresh(struct conn *c, store_publish *p, int64_t publisher, const char *op,
                           derr *e)
{
    if (p->check_owner) {
        struct params q = {0};
        p_i64(&q, p->pkg.id);
        p_i64(&q, publisher);
        int rc = STORE_ERROR;
        PGresult *r = q_run(c, Q_OWNER_LEVEL, &q, op, e, &rc);
        if (!r)
            return rc;
        bool owner = PQntuples(r) > 0;
        PQclear(r);
        if (!owner) {
            derr_set(e, 403, "forbidden", "you are not an owner of this package");
            return STORE_FORBIDDEN;
        }
    }
    const store_package *pkg = &p->pkg;
    const store_version *v = &p->ver;
    struct params q = {0};
    p_i64(&q, pkg->id);
    p_pkg_fields(&q, pkg);
    p_text(&q, pkg->readme);
    p_text(&q, pkg->meta);
    p_i64(&q, v->major);
    p_i64(&q, v->minor);
    p_i64(&q, v->patch);
    p_i64(&q, v->prerelease && *v->prerelease ? 0 : 1);
    return q_exec(c, Q_PKG_REFRESH, &q, NULL, op, e);
}

/* Whether the version of the package is tombstoned: STORE_OK yes,
 * STORE_NOT_FOUND no (e left alone: a common answer). */
static int tombstone_has(struct conn *c, int64_t package_id, const char *version, const char *op,
                         derr *e)
{
    struct params p = {0};
    p_i64(&p, package_id);
    p_text(&p, version);
    int rc = STORE_ERROR;
    PGresult *r = q_run(c, Q_TOMBSTONE_CHECK, &p, op, e, &rc);
    if (!r)
        return rc;
    int ret = PQntuples(r) > 0 ? STORE_OK : STORE_NOT_FOUND;
    PQclear(r);
    return ret;
}

/* Points the tag at the version (creating or moving it). STORE_NOT_FOUND
 * when the package has no such version. Runs inside the caller's
 * transaction and bumps nothing. */
static int tag_upsert(struct conn *c, int64_t package_id, const char *tag, const char *version,
                      int64_t now, const char *op, derr *e)
{
    struct params p = {0};
    p_i64(&p, package_id);
    p_text(&p, tag);
    p_text(&p, version);
    p_i64(&p, now);
    int changed = 0;
    int ret = q_exec(c, Q_TAG_UPSERT, &p, &changed, op, e);
    if (ret == STORE_OK && changed == 0)
        ret = not_found(e, "version");
    return ret;
}

/* Inserts p->ver and its dependencies into package p->pkg.id, refusing a
 * tombstoned version. `name` is the package's name, for the messages. */
static int publish_version(struct conn *c, store_publish *p, const char *name,
                           int64_t publisher, int64_t now, const char *op, derr *e)
{
    store_version *v = &p->ver;
    if (!p->created) { /* a package made just now has no tombstones */
        int ret = tombstone_has(c, p->pkg.id, v->version, op, e);
        if (ret == STORE_OK) {
            derr_set(e, 409, "conflict",
                     "version %s of %s was removed and cannot be published again", v->version,
                     name);
            return STORE_CONFLICT;
        }
        if (ret != STORE_NOT_FOUND)
            return ret;
    }
    struct params q = {0};
    p_i64(&q, p->pkg.id);
    p_text(&q, v->version);
    p_i64(&q, v->major);
    p_i64(&q, v->minor);
    p_i64(&q, v->patch);
    p_text(&q, v->prerelease);
    p_text(&q, v->sha256);
    p_i64(&q, v->size);
    p_text(&q, v->manifest);
    p_text(&q, v->signature);
    p_text(&q, v->signing_key_id);
    p_time(&q, publisher);
    p_i64(&q, now);
    p_text(&q, v->extra);
    int ret = STORE_ERROR;
    PGresult *r = q_run(c, Q_VERSION_INSERT, &q, op, e, &ret);
    if (r) {
        v->id = col_i64(r, 0, 0);
        v->package_id = p->pkg.id;
        ret = STORE_OK;
        PQclear(r);
    }
    if (ret == STORE_CONFLICT)
        derr_set(e, 409, "conflict", "version %s of %s already exists", v->version, name);
    else if (ret == STORE_NOT_FOUND)
        not_found(e, "publisher");
    if (ret != STORE_OK)
        return ret;

    for (int i = 0; i < v->ndeps; i++) {
        const store_dep *d = &v->deps[i];
        q = (struct params){0};
        p_i64(&q, v->id);
        p_text(&q, d->name);
        p_text(&q, d->requirement);
        p_text(&q, d->kind);
        p_text(&q, d->extra);
        ret = q_exec(c, Q_DEP_INSERT, &q, NULL, op, e);
        if (ret != STORE_OK)
            return ret;
    }
    return STORE_OK;
}

static int delete_version_tx(struct conn *c, int64_t package_id, const char *version,
                             bool tombstone, int64_t now, const char *op, derr *e);

/* The whole publish in one transaction holding the package's row lock, so
 * two publishers of the same package queue up and the second sees what the
 * first wrote; a package created by someone else between the look-up and
 * the insert is found again, locked, and published to as an existing one.
 * published_at 0 means now; it is also the package's updated_at (and
 * created_at when this creates it), and the time of p->tag. */
static int pg_publish(store *s, store_publish *p, derr *e)
{
    static const char op[] = "publish";
    if (!p->pkg.ecosystem || !p->pkg.normalized_name || !p->ver.version) {
        log_error("store error", "op", op, "error", "ecosystem, name and version are required",
                  NULL);
        return derr_set(e, 500, "internal", "the store failed; see the server log");
    }
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    int64_t now = p->ver.published_at > 0 ? p->ver.published_at : now_s();
    int64_t publisher = p->publisher_id ? p->publisher_id : p->ver.publisher_id;
    p->created = false;
    if (tx_begin(c, op, e) != STORE_OK)
        return STORE_ERROR;
    char name[128]; /* for the conflict message */
    int ret = publish_find(c, &p->pkg, &p->pkg.id, name, sizeof name, op, e);
    if (ret == STORE_NOT_FOUND) {
        ret = publish_create(c, p, publisher, now, op, e);
        if (ret == STORE_OK) {
            p->created = true;
            snprintf(name, sizeof name, "%s", p->pkg.name ? p->pkg.name : p->pkg.normalized_name);
        } else if (ret == RACED) {
            ret = publish_find(c, &p->pkg, &p->pkg.id, name, sizeof name, op, e);
            if (ret == STORE_NOT_FOUND) { /* made and removed meanwhile: cannot happen today */
                log_error("store error", "op", op, "error", "the package vanished during publish",
                          NULL);
                ret = derr_set(e, 503, "unavailable", "the store is busy; try again");
            }
        }
    }
    if (ret == STORE_OK && !p->created)
        ret = publish_refresh(c, p, publisher, op, e);
    if (ret == STORE_OK && !p->created && p->replace) {
        /* Hex's replace: the old release goes and the new one comes in one transaction. */
        ret = delete_version_tx(c, p->pkg.id, p->ver.version, false, now, op, e);
        if (ret == STORE_NOT_FOUND)
            ret = STORE_OK;
    }
    if (ret == STORE_OK)
        ret = publish_version(c, p, name, publisher, now, op, e);
    if (ret == STORE_OK && p->tag)
        ret = tag_upsert(c, p->pkg.id, p->tag, p->ver.version, now, op, e);
    if (ret == STORE_OK)
        ret = pkg_settle(c, p->pkg.id, p->created ? 0 : 1, now, &p->pkg.generation, op, e);
    ret = tx_end(c, ret, op, e);
    if (ret == STORE_OK) {
        p->ver.published_at = now;
        p->ver.publisher_id = publisher;
    } else {
        p->created = false;
    }
    return ret;
}

static int pg_version_yank(store *s, int64_t package_id, const char *version, bool yanked,
                           int64_t now, derr *e)
{
    static const char op[] = "version_yank";
    if (!version)
        return not_found(e, "version");
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    if (tx_begin(c, op, e) != STORE_OK)
        return STORE_ERROR;
    int ret = pkg_lock(c, package_id, op, e);
    if (ret == STORE_OK) {
        struct params p = {0};
        p_i64(&p, package_id);
        p_text(&p, version);
        p_bool(&p, yanked);
        p_i64(&p, now > 0 ? now : now_s());
        int changed = 0;
        ret = q_exec(c, Q_VERSION_YANK, &p, &changed, op, e);
        if (ret == STORE_OK && changed == 0)
            ret = not_found(e, "version");
    }
    if (ret == STORE_OK)
        ret = pkg_settle(c, package_id, 1, 0, NULL, op, e);
    return tx_end(c, ret, op, e);
}

static int pg_pkg_set_require_signatures(store *s, int64_t package_id, bool on, derr *e)
{
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    struct params p = {0};
    p_i64(&p, package_id);
    p_bool(&p, on);
    int changed = 0;
    int ret = q_exec(c, Q_PKG_SET_SIGNATURES, &p, &changed, "pkg_set_require_signatures", e);
    if (ret == STORE_OK && changed == 0)
        ret = not_found(e, "package");
    return ret;
}

/* ---- owners ---------------------------------------------------------- */

static void read_owner(arena *a, const PGresult *r, int i, void *p)
{
    store_owner *o = p;
    o->user_id = col_i64(r, i, 0);
    o->username = col_text(a, r, i, 1);
    o->email = col_text(a, r, i, 2);
    o->level = col_text(a, r, i, 3);
    o->added_at = col_i64(r, i, 4);
}

/* Owners in the order they were added; an unknown package has none. */
static int pg_owners_list(store *s, arena *a, int64_t package_id, store_owner **out, int *n,
                          derr *e)
{
    void *arr = NULL;
    int ret = list_by_id(s, a, Q_OWNERS_LIST, package_id, sizeof **out, read_owner, &arr, n,
                         "owners_list", e);
    *out = arr;
    return ret;
}

/* The owner's level ("owner" or "maintainer") into *level when not NULL:
 * STORE_OK, or STORE_NOT_FOUND when the user is not an owner. */
static int owner_level(struct conn *c, int64_t package_id, int64_t user_id, char *level,
                       size_t cap, const char *op, derr *e)
{
    struct params p = {0};
    p_i64(&p, package_id);
    p_i64(&p, user_id);
    int rc = STORE_ERROR;
    PGresult *r = q_run(c, Q_OWNER_LEVEL, &p, op, e, &rc);
    if (!r)
        return rc;
    int ret = STORE_NOT_FOUND;
    if (PQntuples(r) > 0) {
        if (level)
            snprintf(level, cap, "%s", PQgetvalue(r, 0, 0));
        ret = STORE_OK;
    }
    PQclear(r);
    return ret;
}

/* Any level counts; e is left alone on STORE_NOT_FOUND (a common answer). */
static int pg_owner_is(store *s, int64_t package_id, int64_t user_id, derr *e)
{
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    return owner_level(c, package_id, user_id, NULL, 0, "owner_is", e);
}

/* level NULL means "owner". STORE_NOT_FOUND when the package or the user
 * does not exist. */
static int pg_owner_add(store *s, int64_t package_id, int64_t user_id, const char *level,
                        int64_t now, derr *e)
{
    static const char op[] = "owner_add";
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    if (tx_begin(c, op, e) != STORE_OK)
        return STORE_ERROR;
    int ret = pkg_lock(c, package_id, op, e);
    if (ret == STORE_OK) {
        struct params p = {0};
        p_i64(&p, package_id);
        p_i64(&p, user_id);
        p_text(&p, level);
        p_i64(&p, now > 0 ? now : now_s());
        ret = q_exec(c, Q_OWNER_INSERT, &p, NULL, op, e);
        if (ret == STORE_NOT_FOUND)
            derr_set(e, 404, "not_found", "no such package or user");
    }
    if (ret == STORE_OK)
        ret = q_exec_id(c, Q_PKG_BUMP, package_id, op, e);
    return tx_end(c, ret, op, e);
}

/* A package keeps at least one owner of level "owner"; maintainers can
 * always be removed. The package lock makes two removals queue up, so they
 * cannot both see "another owner is left". */
static int pg_owner_remove(store *s, int64_t package_id, int64_t user_id, derr *e)
{
    static const char op[] = "owner_remove";
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    if (tx_begin(c, op, e) != STORE_OK)
        return STORE_ERROR;
    char level[16] = "";
    int ret = pkg_lock(c, package_id, op, e);
    if (ret == STORE_OK) {
        ret = owner_level(c, package_id, user_id, level, sizeof level, op, e);
        if (ret == STORE_NOT_FOUND)
            derr_set(e, 404, "not_found", "not an owner of this package");
    }
    if (ret == STORE_OK && strcmp(level, "owner") == 0) {
        struct params p = {0};
        p_i64(&p, package_id);
        int rc = STORE_ERROR;
        PGresult *r = q_run(c, Q_OWNER_COUNT, &p, op, e, &rc);
        if (r) {
            ret = col_i64(r, 0, 0) > 1 ? STORE_OK : STORE_FORBIDDEN;
            PQclear(r);
        } else {
            ret = rc;
        }
        if (ret == STORE_FORBIDDEN)
            derr_set(e, 403, "forbidden", "a package must keep at least one owner");
    }
    if (ret == STORE_OK) {
        struct params p = {0};
        p_i64(&p, package_id);
        p_i64(&p, user_id);
        ret = q_exec(c, Q_OWNER_DELETE, &p, NULL, op, e);
    }
    if (ret == STORE_OK)
        ret = q_exec_id(c, Q_PKG_BUMP, package_id, op, e);
    return tx_end(c, ret, op, e);
}

/* By normalized name; the readme is left NULL. */
static int pg_user_packages(store *s, arena *a, int64_t user_id, store_package **out, int *n,
                            derr *e)
{
    void *arr = NULL;
    int ret = list_by_id(s, a, Q_USER_PACKAGES, user_id, sizeof **out, read_package_v, &arr, n,
                         "user_packages", e);
    *out = arr;
    return ret;
}

/* ---- search ---------------------------------------------------------- */

/* Bounds on the work one query can ask for (as in sqlite.c). */
#define SEARCH_MAX_TERMS 16
#define SEARCH_MAX_TERM 64 /* bytes; a longer word is cut to a prefix of itself */
#define SEARCH_MAX_NAME 214 /* bytes: no name is longer (npm's limit), so no longer query is a typo of one */

static const char *const search_sorts[] = {"relevance", "downloads", "recent", "name"};
enum { SORT_RELEVANCE, SORT_DOWNLOADS, SORT_RECENT, SORT_NAME };
/* The column and direction of each sort but relevance; ties go by id.
 * `hidden` is the same order written so that no index matches it: a page
 * of a text or filter search sorts its matches (found through a GIN
 * index) rather than walking a whole ordered index and testing every row,
 * which is slow exactly when the matches are few or far apart. */
static const struct {
    const char *column, *hidden, *dir;
} sort_keys[] = {
    [SORT_DOWNLOADS] = {"p.downloads", "(p.downloads + 0)", "DESC"},
    [SORT_RECENT] = {"p.updated_at", "(p.updated_at + 0)", "DESC"},
    [SORT_NAME] = {"p.normalized_name", "(p.normalized_name || '')", "ASC"},
};

/* Shape bits: which parts a search statement has. */
enum {
    SH_MATCH = 1 << 0, /* the full-text query */
    SH_ECO = 1 << 1,
    SH_KEYWORD = 1 << 2,
    SH_CATEGORY = 1 << 3,
    SH_TAG = 1 << 4,
    SH_SORT_SHIFT = 5, /* two bits of sort */
    SH_COUNT = 1 << 7,
    SH_FUZZY = 1 << 8, /* names by trigram similarity instead of the full-text query */
};

/* Every search statement takes the same typed parameters (a shape uses
 * those it needs): $1 the words (text[]), $2 the ecosystem, $3 keyword, $4
 * category, $5 tag, $6 the exact name, $7 limit, $8 offset, $9 the text
 * names are compared with. */
#define SEARCH_NPARAMS 9
static const Oid search_types[SEARCH_NPARAMS] = {1009, 25, 25, 25, 25, 25, 20, 20, 25};

/* The length of the word character at p: an ASCII letter or digit (1), or
 * a well-formed UTF-8 sequence of a non-ASCII character (2 to 4); 0 for
 * anything else (punctuation, spaces, control bytes, invalid UTF-8). */
static int word_char_len(const unsigned char *p)
{
    if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
        return 1;
    int k = (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 ? 4 : 0;
    if (k == 0)
        return 0;
    char one[5] = {0};
    for (int i = 0; i < k; i++) {
        if (i > 0 && (p[i] & 0xc0) != 0x80)
            return 0;
        one[i] = (char)p[i];
    }
    return utf8_valid(one) ? k : 0;
}

/* Appends the words of text to out as the elements of a PostgreSQL text[]
 * literal; returns how many. A word is a run of ASCII letters and digits
 * and of non-ASCII characters (whose letters PostgreSQL's parser sorts
 * out); everything else, invalid UTF-8 included, separates words. A word
 * longer than SEARCH_MAX_TERM bytes is cut to a prefix of itself. */
static int search_words(const char *text, buf *out)
{
    int n = 0;
    const unsigned char *p = (const unsigned char *)text;
    buf_puts(out, "{");
    while (*p && n < SEARCH_MAX_TERMS) {
        int l = word_char_len(p);
        if (l == 0) {
            p++;
            continue;
        }
        const unsigned char *start = p;
        size_t len = 0;
        while ((l = word_char_len(p)) > 0) {
            if (len + (size_t)l <= SEARCH_MAX_TERM && p == start + len)
                len += (size_t)l;
            p += l;
        }
        /* letters, digits and UTF-8 only: nothing to escape in the literal */
        buf_printf(out, "%s\"%.*s\"", n ? "," : "", (int)len, (const char *)start);
        n++;
    }
    buf_puts(out, "}");
    return n;
}

/* Appends printf-style to a fixed SQL buffer; on overflow *len becomes cap. */
static void sql_add(char *sql, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void sql_add(char *sql, size_t cap, size_t *len, const char *fmt, ...)
{
    if (*len >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(sql + *len, cap - *len, fmt, ap);
    va_end(ap);
    *len = n < 0 || (size_t)n >= cap - *len ? cap : *len + (size_t)n;
}

/* The search statement of one shape; returns its length (cap on
 * overflow). The full-text query is computed once (a MATERIALIZED CTE)
 * and drives a GIN index scan; filters are GIN containment on the arrays
 * the schema keeps; relevance puts the package named exactly as the query
 * first, then ts_rank_cd (or trigram similarity), then id. Counting
 * statements return the count and, second, how many nodes the full-text
 * query has (0: its words held no letters PostgreSQL keeps, so it is no
 * query after all). */
static size_t search_sql(int shape, char *sql, size_t cap)
{
    size_t len = 0;
    int sort = (shape >> SH_SORT_SHIFT) & 3;
    bool match = shape & SH_MATCH, count = shape & SH_COUNT;
    if (match)
        sql_add(sql, cap, &len,
                "WITH q AS MATERIALIZED (SELECT depot_search_query($1::text[]) AS tsq) ");
    if (count && match)
        sql_add(sql, cap, &len, "SELECT (SELECT count(*)");
    else if (count)
        sql_add(sql, cap, &len, "SELECT count(*), 1");
    else
        sql_add(sql, cap, &len, "SELECT " PKG_LIST_COLS);
    if (match && !count)
        sql_add(sql, cap, &len, " FROM q CROSS JOIN packages p");
    else
        sql_add(sql, cap, &len, " FROM packages p");
    sql_add(sql, cap, &len, match ? " WHERE p.search_doc @@ q.tsq" : " WHERE true");
    if (shape & SH_FUZZY)
        sql_add(sql, cap, &len, " AND (p.normalized_name %% $9 OR $9 <%% p.normalized_name)");
    if (shape & SH_ECO)
        sql_add(sql, cap, &len, " AND p.ecosystem = $2");
    if (shape & SH_KEYWORD)
        sql_add(sql, cap, &len, " AND p.search_keywords @> ARRAY[$3]");
    if (shape & SH_CATEGORY)
        sql_add(sql, cap, &len, " AND p.search_categories @> ARRAY[$4]");
    if (shape & SH_TAG)
        sql_add(sql, cap, &len, " AND p.search_tags @> ARRAY[$5]");
    if (count && match)
        sql_add(sql, cap, &len, "), coalesce(numnode(q.tsq), 0) FROM q");
    if (count)
        return len;
    if (sort == SORT_RELEVANCE && match)
        sql_add(sql, cap, &len,
                " ORDER BY coalesce(p.normalized_name = $6, false) DESC,"
                " ts_rank_cd(p.search_doc, q.tsq) DESC, p.id");
    else if (sort == SORT_RELEVANCE)
        sql_add(sql, cap, &len,
                " ORDER BY coalesce(p.normalized_name = $6, false) DESC,"
                " greatest(similarity(p.normalized_name, $9), word_similarity($9, p.normalized_name))"
                " DESC, p.id");
    else if (shape & (SH_MATCH | SH_FUZZY | SH_KEYWORD | SH_CATEGORY | SH_TAG))
        sql_add(sql, cap, &len, " ORDER BY %s %s, (p.id + 0) %s", sort_keys[sort].hidden,
                sort_keys[sort].dir, sort_keys[sort].dir);
    else
        sql_add(sql, cap, &len, " ORDER BY %s %s, p.id %s", sort_keys[sort].column,
                sort_keys[sort].dir, sort_keys[sort].dir);
    sql_add(sql, cap, &len, " LIMIT $7 OFFSET $8");
    return len;
}

/* Runs the search statement of a shape (prepared on first use). */
static PGresult *search_run(struct conn *c, int shape, const char *const *vals, const char *op,
                            derr *e, int *rc)
{
    char sql[2048], name[16];
    size_t len = search_sql(shape, sql, sizeof sql);
    if (len >= sizeof sql) {
        log_error("store error", "op", op, "error", "search SQL does not fit its buffer", NULL);
        derr_set(e, 500, "internal", "the store failed; see the server log");
        *rc = STORE_ERROR;
        return NULL;
    }
    snprintf(name, sizeof name, "s%d", shape);
    return run_stmt(c, name, &c->sprepared[shape], sql, SEARCH_NPARAMS, search_types, vals, op, e,
                    rc);
}

/* The query as normalized names are written, to find the package named
 * exactly so: trimmed and ASCII-folded, in the arena (as sqlite.c). */
static char *exact_name(arena *a, const char *query)
{
    size_t len = strlen(query);
    while (len && (*query == ' ' || *query == '\t'))
        query++, len--;
    while (len && (query[len - 1] == ' ' || query[len - 1] == '\t'))
        len--;
    char *s = arena_strndup(a, query, len);
    for (char *p = s; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return s;
}

/* Counts the matches and reads one page of them, in one read transaction
 * so the two agree. A query with no word in it is no query, and relevance
 * without a query is name order; a query whose words match nothing falls
 * back to names similar to it. A limit of 0 or less reads only the total;
 * limits are capped at MAX_PAGE. Filter values that are not UTF-8 match
 * nothing. The readme is left NULL. */
static int pg_search(store *s, arena *a, const store_search *q, store_package **out, int *n,
                     int64_t *total, derr *e)
{
    static const char op[] = "search";
    *out = NULL;
    *n = 0;
    *total = 0;
    int sort = SORT_RELEVANCE;
    if (given(q->sort)) {
        sort = -1;
        for (int i = 0; i < (int)(sizeof search_sorts / sizeof search_sorts[0]); i++)
            if (strcmp(q->sort, search_sorts[i]) == 0)
                sort = i;
        if (sort < 0) {
            log_error("store error", "op", op, "error", "unknown sort", "sort", q->sort, NULL);
            return derr_set(e, 500, "internal", "the store failed; see the server log");
        }
    }
    const char *filters[] = {q->ecosystem, q->keyword, q->category, q->tag};
    for (int i = 0; i < 4; i++)
        if (given(filters[i]) && !utf8_valid(filters[i]))
            return STORE_OK; /* nothing stored can equal it */
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    buf words;
    buf_init(&words, 0);
    int nwords = given(q->query) ? search_words(q->query, &words) : 0;
    if (sort == SORT_RELEVANCE && nwords == 0)
        sort = SORT_NAME;
    const char *exact = NULL;
    if (nwords > 0) {
        exact = exact_name(a, q->query);
        if (!utf8_valid(exact))
            exact = NULL;
    }
    int shape = (nwords > 0 ? SH_MATCH : 0) | (given(q->ecosystem) ? SH_ECO : 0) |
                (given(q->keyword) ? SH_KEYWORD : 0) | (given(q->category) ? SH_CATEGORY : 0) |
                (given(q->tag) ? SH_TAG : 0);
    int64_t limit = clamp_limit(q->limit);
    int64_t offset = q->offset > 0 ? q->offset : 0;
    char lim[24], off[24];
    snprintf(lim, sizeof lim, "%lld", (long long)(limit > 0 ? limit : 0));
    snprintf(off, sizeof off, "%lld", (long long)offset);
    const char *vals[SEARCH_NPARAMS] = {
        nwords > 0 ? words.data : "{}", q->ecosystem, q->keyword, q->category, q->tag, exact,
        lim, off, exact,
    };

    int ret = tx_begin_read(c, op, e);
    int rc = STORE_ERROR;
    PGresult *r = NULL;
    if (ret == STORE_OK) {
        r = search_run(c, shape | SH_COUNT, vals, op, e, &rc);
        ret = r ? STORE_OK : rc;
    }
    if (ret == STORE_OK) {
        *total = col_i64(r, 0, 0);
        bool words_kept = col_i64(r, 0, 1) > 0;
        PQclear(r);
        r = NULL;
        if ((shape & SH_MATCH) && !words_kept) {
            /* Only characters PostgreSQL does not index (symbols, emoji): no query. */
            shape &= ~SH_MATCH;
            if (sort == SORT_RELEVANCE)
                sort = SORT_NAME;
            r = search_run(c, shape | SH_COUNT, vals, op, e, &rc);
            ret = r ? STORE_OK : rc;
            if (r) {
                *total = col_i64(r, 0, 0);
                PQclear(r);
                r = NULL;
            }
        } else if (*total == 0 && (shape & SH_MATCH) && exact && !strpbrk(exact, " \t") &&
                   strlen(exact) <= SEARCH_MAX_NAME) {
            /* A query written like a name whose words match nothing (a
             * typo): try names that look like it. */
            shape = (shape & ~SH_MATCH) | SH_FUZZY;
            r = search_run(c, shape | SH_COUNT, vals, op, e, &rc);
            ret = r ? STORE_OK : rc;
            if (r) {
                *total = col_i64(r, 0, 0);
                PQclear(r);
                r = NULL;
            }
        }
    }
    void *arr = NULL;
    int count = 0;
    if (ret == STORE_OK && limit > 0 && offset < *total) {
        r = search_run(c, shape | (sort << SH_SORT_SHIFT), vals, op, e, &rc);
        if (r) {
            arr = rows_to_array(a, r, sizeof **out, read_package_v, &count);
            PQclear(r);
        } else {
            ret = rc;
        }
    }
    buf_free(&words);
    ret = tx_end(c, ret, op, e);
    if (ret == STORE_OK) {
        *out = arr;
        *n = count;
    } else {
        *total = 0;
    }
    return ret;
}

/* ---- downloads and stats --------------------------------------------- */

/* One transaction for the batch, its packages locked first in id order
 * (so batches from several servers and package writers never deadlock). A
 * version that no longer exists is skipped (its counts are dropped);
 * counts of 0 or less are ignored. Never touches a generation. */
static int pg_downloads_add(store *s, const store_download *d, int n, derr *e)
{
    static const char op[] = "downloads_add";
    if (n <= 0)
        return STORE_OK;
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    buf ids;
    buf_init(&ids, 0);
    buf_puts(&ids, "{");
    int useful = 0;
    for (int i = 0; i < n; i++) {
        if (d[i].count <= 0 || !d[i].day)
            continue;
        buf_printf(&ids, "%s%lld", useful ? "," : "", (long long)d[i].version_id);
        useful++;
    }
    buf_puts(&ids, "}");
    if (useful == 0) {
        buf_free(&ids);
        return STORE_OK;
    }
    int ret = tx_begin(c, op, e);
    if (ret == STORE_OK) {
        struct params p = {0};
        p_text(&p, ids.data);
        ret = q_exec(c, Q_DL_LOCK, &p, NULL, op, e);
    }
    buf_free(&ids);
    for (int i = 0; i < n && ret == STORE_OK; i++) {
        if (d[i].count <= 0 || !d[i].day)
            continue;
        struct params p = {0};
        p_i64(&p, d[i].version_id);
        p_i64(&p, d[i].count);
        int rc = STORE_ERROR;
        PGresult *r = q_run(c, Q_DL_VERSION, &p, op, e, &rc);
        if (!r) {
            ret = rc;
            break;
        }
        int64_t package_id = PQntuples(r) > 0 ? col_i64(r, 0, 0) : 0;
        PQclear(r);
        if (package_id == 0)
            continue; /* no such version */
        p = (struct params){0};
        p_i64(&p, d[i].version_id);
        p_text(&p, d[i].day);
        p_i64(&p, d[i].count);
        ret = q_exec(c, Q_DL_DAY, &p, NULL, op, e);
        if (ret != STORE_OK)
            break;
        p = (struct params){0};
        p_i64(&p, package_id);
        p_i64(&p, d[i].count);
        ret = q_exec(c, Q_DL_PACKAGE, &p, NULL, op, e);
    }
    return tx_end(c, ret, op, e);
}

static void read_day_count(arena *a, const PGresult *r, int i, void *p)
{
    store_day_count *dc = p;
    dc->day = col_text(a, r, i, 0);
    dc->version = col_text(a, r, i, 1);
    dc->count = col_i64(r, i, 2);
}

/* Ordered by day; within a day the total (version NULL) first, then the
 * versions newest first. since_day NULL means from the beginning. */
static int pg_pkg_daily_downloads(store *s, arena *a, int64_t package_id, const char *since_day,
                                  store_day_count **out, int *n, derr *e)
{
    *out = NULL;
    *n = 0;
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    struct params p = {0};
    p_i64(&p, package_id);
    p_text(&p, since_day);
    void *arr = NULL;
    int ret = q_list(c, a, Q_DAILY, &p, sizeof **out, read_day_count, &arr, n,
                     "pkg_daily_downloads", e);
    *out = arr;
    return ret;
}

static int pg_totals(store *s, store_totals *out, derr *e)
{
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    int rc = STORE_ERROR;
    PGresult *r = q_run(c, Q_TOTALS, NULL, "totals", e, &rc);
    if (!r)
        return rc;
    out->packages = col_i64(r, 0, 0);
    out->versions = col_i64(r, 0, 1);
    out->users = col_i64(r, 0, 2);
    out->downloads = col_i64(r, 0, 3);
    PQclear(r);
    return STORE_OK;
}

/* which: "downloads", "new" (created), "updated"; ecosystem NULL or ""
 * means every ecosystem. The readme is left NULL. */
static int pg_pkg_top(store *s, arena *a, const char *ecosystem, const char *which, int limit,
                      store_package **out, int *n, derr *e)
{
    static const char op[] = "pkg_top";
    static const struct {
        const char *which;
        enum query all, one;
    } rankings[] = {
        {"downloads", Q_TOP_DOWNLOADS, Q_TOP_DOWNLOADS_ECO},
        {"new", Q_TOP_NEW, Q_TOP_NEW_ECO},
        {"updated", Q_TOP_UPDATED, Q_TOP_UPDATED_ECO},
    };
    *out = NULL;
    *n = 0;
    int k = -1;
    for (int i = 0; which && i < (int)(sizeof rankings / sizeof rankings[0]); i++)
        if (strcmp(which, rankings[i].which) == 0)
            k = i;
    if (k < 0) {
        log_error("store error", "op", op, "error", "unknown ranking", "which",
                  which ? which : "(null)", NULL);
        return derr_set(e, 500, "internal", "the store failed; see the server log");
    }
    if (limit <= 0)
        return STORE_OK;
    bool one = given(ecosystem);
    if (one && !utf8_valid(ecosystem))
        return STORE_OK;
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    struct params p = {0};
    p_i64(&p, clamp_limit(limit));
    if (one)
        p_text(&p, ecosystem);
    void *arr = NULL;
    int ret = q_list(c, a, one ? rankings[k].one : rankings[k].all, &p, sizeof **out,
                     read_package_v, &arr, n, op, e);
    *out = arr;
    return ret;
}

/* ---- signing keys ---------------------------------------------------- */

static void read_key(arena *a, const PGresult *r, int i, void *p)
{
    store_key *k = p;
    k->id = col_i64(r, i, 0);
    k->user_id = col_i64(r, i, 1);
    k->key_id = col_text(a, r, i, 2);
    k->algorithm = col_text(a, r, i, 3);
    k->public_key = col_text(a, r, i, 4);
    k->name = col_text(a, r, i, 5);
    k->created_at = col_i64(r, i, 6);
}

/* Fills k->id, and k->created_at when the caller left it 0. */
static int pg_key_add(store *s, store_key *k, derr *e)
{
    static const char op[] = "key_add";
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    int64_t created = k->created_at > 0 ? k->created_at : now_s();
    struct params p = {0};
    p_i64(&p, k->user_id);
    p_text(&p, k->key_id);
    p_text(&p, k->algorithm);
    p_text(&p, k->public_key);
    p_text(&p, k->name);
    p_i64(&p, created);
    int ret = STORE_ERROR;
    PGresult *r = q_run(c, Q_KEY_INSERT, &p, op, e, &ret);
    if (!r) {
        if (ret == STORE_NOT_FOUND)
            not_found(e, "user");
        return ret;
    }
    k->id = col_i64(r, 0, 0);
    k->created_at = created;
    PQclear(r);
    return STORE_OK;
}

static int pg_key_list(store *s, arena *a, int64_t user_id, store_key **out, int *n, derr *e)
{
    void *arr = NULL;
    int ret = list_by_id(s, a, Q_KEY_LIST, user_id, sizeof **out, read_key, &arr, n, "key_list", e);
    *out = arr;
    return ret;
}

static int pg_key_get(store *s, arena *a, const char *key_id, store_key *out, derr *e)
{
    if (!key_id)
        return not_found(e, "key");
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    struct params p = {0};
    p_text(&p, key_id);
    int rc = STORE_ERROR;
    PGresult *r = q_run(c, Q_KEY_GET, &p, "key_get", e, &rc);
    if (!r)
        return rc == STORE_NOT_FOUND ? not_found(e, "key") : rc;
    int ret = PQntuples(r) > 0 ? STORE_OK : not_found(e, "key");
    if (ret == STORE_OK)
        read_key(a, r, 0, out);
    PQclear(r);
    return ret;
}

/* Revokes (the row stays, so old signatures can still be checked). */
static int pg_key_delete(store *s, int64_t user_id, const char *key_id, derr *e)
{
    if (!key_id)
        return not_found(e, "key");
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    struct params p = {0};
    p_i64(&p, user_id);
    p_text(&p, key_id);
    p_i64(&p, now_s());
    int changed = 0;
    int ret = q_exec(c, Q_KEY_REVOKE, &p, &changed, "key_delete", e);
    if ((ret == STORE_OK && changed == 0) || ret == STORE_NOT_FOUND)
        ret = not_found(e, "key");
    return ret;
}

/* ---- version status, tags, removal ----------------------------------- */

static int status_action(int v)
{
    return (v > 0) - (v < 0);
}

/* Every part asked for in one UPDATE, then the generation, in one
 * transaction. A status that asks for nothing still says whether the
 * version exists, and bumps nothing. */
static int pg_version_set_status(store *s, int64_t package_id, const char *version,
                                 const store_version_status *vs, int64_t now, derr *e)
{
    static const char op[] = "version_set_status";
    static const store_version_status nothing = {0};
    if (!version)
        return not_found(e, "version");
    if (!vs)
        vs = &nothing;
    int retired = status_action(vs->set_retired);
    int deprecated = status_action(vs->set_deprecated);
    int retracted = status_action(vs->set_retracted);
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    if (tx_begin(c, op, e) != STORE_OK)
        return STORE_ERROR;
    int ret = pkg_lock(c, package_id, op, e);
    if (ret == STORE_OK) {
        struct params p = {0};
        p_i64(&p, package_id);
        p_text(&p, version);
        p_i64(&p, retired);
        p_text(&p, vs->retired_reason);
        p_text(&p, vs->retired_message);
        p_i64(&p, deprecated);
        p_text(&p, vs->deprecated);
        p_i64(&p, retracted);
        p_i64(&p, now > 0 ? now : now_s());
        int changed = 0;
        ret = q_exec(c, Q_VERSION_STATUS, &p, &changed, op, e);
        if ((ret == STORE_OK && changed == 0) || ret == STORE_NOT_FOUND)
            ret = not_found(e, "version");
    }
    if (ret == STORE_OK && (retired || deprecated || retracted))
        ret = q_exec_id(c, Q_PKG_BUMP, package_id, op, e);
    return tx_end(c, ret, op, e);
}

/* meta NULL stores "{}". One statement, so the bump goes with it. */
static int pg_pkg_set_meta(store *s, int64_t package_id, const char *meta, derr *e)
{
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    struct params p = {0};
    p_i64(&p, package_id);
    p_text(&p, meta);
    int changed = 0;
    int ret = q_exec(c, Q_PKG_SET_META, &p, &changed, "pkg_set_meta", e);
    if (ret == STORE_OK && changed == 0)
        ret = not_found(e, "package");
    return ret;
}

static void read_tag(arena *a, const PGresult *r, int i, void *p)
{
    store_tag *t = p;
    t->tag = col_text(a, r, i, 0);
    t->version = col_text(a, r, i, 1);
    t->updated_at = col_i64(r, i, 2);
}

static int pg_tags_list(store *s, arena *a, int64_t package_id, store_tag **out, int *n, derr *e)
{
    void *arr = NULL;
    int ret =
        list_by_id(s, a, Q_TAGS_LIST, package_id, sizeof **out, read_tag, &arr, n, "tags_list", e);
    *out = arr;
    return ret;
}

/* Creates the tag or moves it; now 0 means the clock. */
static int pg_tag_set(store *s, int64_t package_id, const char *tag, const char *version,
                      int64_t now, derr *e)
{
    static const char op[] = "tag_set";
    if (!version)
        return not_found(e, "version");
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    if (tx_begin(c, op, e) != STORE_OK)
        return STORE_ERROR;
    int ret = pkg_lock(c, package_id, op, e);
    if (ret == STORE_OK)
        ret = tag_upsert(c, package_id, tag, version, now > 0 ? now : now_s(), op, e);
    if (ret == STORE_OK)
        ret = q_exec_id(c, Q_PKG_BUMP, package_id, op, e);
    return tx_end(c, ret, op, e);
}

/* Deletes the row of package_id keyed by `key` with statement q ($1 the package, $2 the key) under
 * the package's lock, and bumps the package's generation; STORE_NOT_FOUND ("no such <what>")
 * when there was none. */
static int pkg_delete_keyed(store *s, int64_t package_id, const char *key, enum query q, const char *what,
                            const char *op, derr *e)
{
    if (!key)
        return not_found(e, what);
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    if (tx_begin(c, op, e) != STORE_OK)
        return STORE_ERROR;
    int ret = pkg_lock(c, package_id, op, e);
    if (ret == STORE_OK) {
        struct params p = {0};
        p_i64(&p, package_id);
        p_text(&p, key);
        int changed = 0;
        ret = q_exec(c, q, &p, &changed, op, e);
        if ((ret == STORE_OK && changed == 0) || ret == STORE_NOT_FOUND)
            ret = not_found(e, what);
    }
    if (ret == STORE_OK)
        ret = q_exec_id(c, Q_PKG_BUMP, package_id, op, e);
    return tx_end(c, ret, op, e);
}

static int pg_tag_delete(store *s, int64_t package_id, const char *tag, derr *e)
{
    return pkg_delete_keyed(s, package_id, tag, Q_TAG_DELETE, "tag", "tag_delete", e);
}

/* Removes a version inside the caller's transaction (which holds the
 * package's lock): its row (dependencies, tags and daily download rows go
 * with it, by ON DELETE CASCADE), its downloads from the package's total,
 * and with tombstone a record that the number is spent. STORE_NOT_FOUND
 * when absent. The caller settles the package. */
static int delete_version_tx(struct conn *c, int64_t package_id, const char *version,
                             bool tombstone, int64_t now, const char *op, derr *e)
{
    int64_t version_id = 0, downloads = 0;
    struct params p = {0};
    p_i64(&p, package_id);
    p_text(&p, version);
    int rc = STORE_ERROR;
    PGresult *r = q_run(c, Q_VERSION_FIND, &p, op, e, &rc);
    if (!r)
        return rc == STORE_NOT_FOUND ? not_found(e, "version") : rc;
    int ret = STORE_OK;
    if (PQntuples(r) > 0) {
        version_id = col_i64(r, 0, 0);
        downloads = col_i64(r, 0, 1);
    } else {
        ret = not_found(e, "version");
    }
    PQclear(r);
    if (ret == STORE_OK)
        ret = q_exec_id(c, Q_VERSION_DELETE, version_id, op, e);
    if (ret == STORE_OK && downloads != 0) {
        p = (struct params){0};
        p_i64(&p, package_id);
        p_i64(&p, downloads);
        ret = q_exec(c, Q_PKG_DL_SUB, &p, NULL, op, e);
    }
    if (ret == STORE_OK && tombstone) {
        p = (struct params){0};
        p_i64(&p, package_id);
        p_text(&p, version);
        p_i64(&p, now > 0 ? now : now_s());
        ret = q_exec(c, Q_TOMBSTONE_INSERT, &p, NULL, op, e);
    }
    return ret;
}

/* In one transaction, under the package's lock: the version goes (see
 * delete_version_tx), and latest_version and the generation are settled.
 * Docs sites of the version stay. now 0 means the clock. */
static int pg_version_delete(store *s, int64_t package_id, const char *version, bool tombstone,
                             int64_t now, derr *e)
{
    static const char op[] = "version_delete";
    if (!version)
        return not_found(e, "version");
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    if (tx_begin(c, op, e) != STORE_OK)
        return STORE_ERROR;
    int ret = pkg_lock(c, package_id, op, e);
    if (ret == STORE_OK)
        ret = delete_version_tx(c, package_id, version, tombstone, now, op, e);
    if (ret == STORE_OK)
        ret = pkg_settle(c, package_id, 1, 0, NULL, op, e);
    return tx_end(c, ret, op, e);
}

/* e is left alone on STORE_NOT_FOUND (the common answer). */
static int pg_version_tombstoned(store *s, int64_t package_id, const char *version, derr *e)
{
    if (!version || !utf8_valid(version))
        return STORE_NOT_FOUND;
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    return tombstone_has(c, package_id, version, "version_tombstoned", e);
}

/* ---- hosted docs ----------------------------------------------------- */

/* One transaction: the old site of the version goes (its files with it),
 * the new site and its files go in, the generation goes up. */
static int pg_docs_put(store *s, int64_t package_id, const char *version,
                       const char *archive_sha256, int64_t archive_size,
                       const store_doc_file *files, int n, int64_t now, derr *e)
{
    static const char op[] = "docs_put";
    if (!version)
        return not_found(e, "version");
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    if (tx_begin(c, op, e) != STORE_OK)
        return STORE_ERROR;
    int ret = pkg_lock(c, package_id, op, e);
    if (ret == STORE_OK) {
        struct params p = {0};
        p_i64(&p, package_id);
        p_text(&p, version);
        ret = q_exec(c, Q_DOCS_SITE_DELETE, &p, NULL, op, e);
    }
    if (ret == STORE_OK) {
        struct params p = {0};
        p_i64(&p, package_id);
        p_text(&p, version);
        p_text(&p, archive_sha256);
        p_i64(&p, archive_size);
        p_i64(&p, now > 0 ? now : now_s());
        ret = q_exec(c, Q_DOCS_SITE_INSERT, &p, NULL, op, e);
        if (ret == STORE_NOT_FOUND)
            not_found(e, "package");
    }
    for (int i = 0; i < n && ret == STORE_OK; i++) {
        struct params p = {0};
        p_i64(&p, package_id);
        p_text(&p, version);
        p_text(&p, files[i].path);
        p_text(&p, files[i].sha256);
        p_i64(&p, files[i].size);
        ret = q_exec(c, Q_DOCS_FILE_INSERT, &p, NULL, op, e);
    }
    if (ret == STORE_OK)
        ret = q_exec_id(c, Q_PKG_BUMP, package_id, op, e);
    return tx_end(c, ret, op, e);
}

static int pg_docs_file(store *s, arena *a, int64_t package_id, const char *version,
                        const char *path, store_doc_file *out, derr *e)
{
    if (!version || !path)
        return not_found(e, "docs file");
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    struct params p = {0};
    p_i64(&p, package_id);
    p_text(&p, version);
    p_text(&p, path);
    int rc = STORE_ERROR;
    PGresult *r = q_run(c, Q_DOCS_FILE, &p, "docs_file", e, &rc);
    if (!r)
        return rc == STORE_NOT_FOUND ? not_found(e, "docs file") : rc;
    int ret = PQntuples(r) > 0 ? STORE_OK : not_found(e, "docs file");
    if (ret == STORE_OK) {
        out->path = col_text(a, r, 0, 0);
        out->sha256 = col_text(a, r, 0, 1);
        out->size = col_i64(r, 0, 2);
    }
    PQclear(r);
    return ret;
}

/* *size is 0 when the site was recorded without one. */
static int pg_docs_archive(store *s, arena *a, int64_t package_id, const char *version,
                           const char **sha256, int64_t *size, derr *e)
{
    if (!version)
        return not_found(e, "docs site");
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    struct params p = {0};
    p_i64(&p, package_id);
    p_text(&p, version);
    int rc = STORE_ERROR;
    PGresult *r = q_run(c, Q_DOCS_ARCHIVE, &p, "docs_archive", e, &rc);
    if (!r)
        return rc == STORE_NOT_FOUND ? not_found(e, "docs site") : rc;
    int ret = PQntuples(r) > 0 ? STORE_OK : not_found(e, "docs site");
    if (ret == STORE_OK) {
        *sha256 = col_text(a, r, 0, 0);
        *size = col_i64(r, 0, 1);
    }
    PQclear(r);
    return ret;
}

/* The leading numbers of a version's text, read leniently (as sqlite.c). */
static void version_text_key(const char *v, long long num[3], bool *pre)
{
    num[0] = num[1] = num[2] = 0;
    const char *p = v;
    for (int i = 0; i < 3 && *p >= '0' && *p <= '9'; i++) {
        char *end;
        num[i] = strtoll(p, &end, 10);
        p = end;
        if (i < 2 && *p == '.' && p[1] >= '0' && p[1] <= '9')
            p++;
        else
            break;
    }
    *pre = *p == '-';
}

static int version_text_cmp(const void *x, const void *y)
{
    const char *a = *(const char *const *)x, *b = *(const char *const *)y;
    long long na[3], nb[3];
    bool pa, pb;
    version_text_key(a, na, &pa);
    version_text_key(b, nb, &pb);
    for (int i = 0; i < 3; i++)
        if (na[i] != nb[i])
            return na[i] > nb[i] ? -1 : 1;
    if (pa != pb)
        return pa ? 1 : -1;
    return -strcmp(a, b);
}

/* Sites of versions that exist come in the versions' own order; sites
 * whose version is gone follow, ordered by what their text says. */
static int pg_docs_versions(store *s, arena *a, int64_t package_id, const char ***out, int *n,
                            derr *e)
{
    *out = NULL;
    *n = 0;
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    struct params p = {0};
    p_i64(&p, package_id);
    int rc = STORE_ERROR;
    PGresult *r = q_run(c, Q_DOCS_VERSIONS, &p, "docs_versions", e, &rc);
    if (!r)
        return rc;
    int count = PQntuples(r), gone = -1;
    const char **arr = count ? arena_alloc(a, (size_t)count * sizeof *arr) : NULL;
    for (int i = 0; i < count; i++) {
        if (gone < 0 && col_bool(r, i, 1))
            gone = i;
        arr[i] = col_text(a, r, i, 0);
    }
    PQclear(r);
    if (gone >= 0 && count - gone > 1)
        qsort(arr + gone, (size_t)(count - gone), sizeof *arr, version_text_cmp);
    *out = arr;
    *n = count;
    return STORE_OK;
}

/* STORE_NOT_FOUND when the version has no site. */
static int pg_docs_delete(store *s, int64_t package_id, const char *version, derr *e)
{
    return pkg_delete_keyed(s, package_id, version, Q_DOCS_SITE_DELETE, "docs site", "docs_delete", e);
}

/* ---- two-step uploads ------------------------------------------------ */

static void read_upload(arena *a, const PGresult *r, int i, store_upload *u)
{
    u->id = col_text(a, r, i, 0);
    u->user_id = col_i64(r, i, 1); /* NULL (no account) reads as 0 */
    u->ecosystem = col_text(a, r, i, 2);
    u->sha256 = col_text(a, r, i, 3);
    u->size = col_i64(r, i, 4);
    u->created_at = col_i64(r, i, 5);
    u->expires_at = col_i64(r, i, 6);
    u->result = col_text(a, r, i, 7);
    u->failed = col_bool(r, i, 8);
}

/* created_at 0 means now; user_id 0 means no account. */
static int pg_upload_create(store *s, const store_upload *u, derr *e)
{
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    struct params p = {0};
    p_text(&p, u->id);
    p_time(&p, u->user_id);
    p_text(&p, u->ecosystem);
    p_text(&p, u->sha256);
    p_i64(&p, u->size);
    p_i64(&p, u->created_at > 0 ? u->created_at : now_s());
    p_i64(&p, u->expires_at);
    p_text(&p, u->result);
    p_bool(&p, u->failed);
    int ret = q_exec(c, Q_UPLOAD_INSERT, &p, NULL, "upload_create", e);
    if (ret == STORE_NOT_FOUND)
        not_found(e, "user");
    return ret;
}

static int pg_upload_get(store *s, arena *a, const char *id, store_upload *out, derr *e)
{
    if (!id)
        return not_found(e, "upload");
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    struct params p = {0};
    p_text(&p, id);
    int rc = STORE_ERROR;
    PGresult *r = q_run(c, Q_UPLOAD_GET, &p, "upload_get", e, &rc);
    if (!r)
        return rc == STORE_NOT_FOUND ? not_found(e, "upload") : rc;
    int ret = PQntuples(r) > 0 ? STORE_OK : not_found(e, "upload");
    if (ret == STORE_OK)
        read_upload(a, r, 0, out);
    PQclear(r);
    return ret;
}

static int pg_upload_update(store *s, const store_upload *u, derr *e)
{
    if (!u->id)
        return not_found(e, "upload");
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    struct params p = {0};
    p_text(&p, u->id);
    p_text(&p, u->sha256);
    p_i64(&p, u->size);
    p_text(&p, u->result);
    p_bool(&p, u->failed);
    int changed = 0;
    int ret = q_exec(c, Q_UPLOAD_UPDATE, &p, &changed, "upload_update", e);
    if ((ret == STORE_OK && changed == 0) || ret == STORE_NOT_FOUND)
        ret = not_found(e, "upload");
    return ret;
}

static int pg_upload_expire(store *s, int64_t now, int *n, derr *e)
{
    if (n)
        *n = 0;
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    struct params p = {0};
    p_i64(&p, now > 0 ? now : now_s());
    return q_exec(c, Q_UPLOAD_EXPIRE, &p, n, "upload_expire", e);
}

/* ---- mailed secrets, address verification, audit log, dependents ---- */

static void read_email_token(arena *a, const PGresult *r, int i, store_email_token *t)
{
    t->hash = col_text(a, r, i, 0);
    t->user_id = col_i64(r, i, 1);
    t->purpose = col_text(a, r, i, 2);
    t->email = col_text(a, r, i, 3);
    t->created_at = col_i64(r, i, 4);
    t->expires_at = col_i64(r, i, 5);
    t->used_at = col_i64(r, i, 6);
}

/* In one transaction: expired secrets go, the user's earlier unused ones of
 * the purpose go (only the newest link works), the new one goes in. */
static int pg_email_token_create(store *s, const store_email_token *t, derr *e)
{
    static const char op[] = "email_token_create";
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    if (tx_begin(c, op, e) != STORE_OK)
        return STORE_ERROR;
    int64_t now = t->created_at ? t->created_at : now_s();
    struct params p = {0};
    p_i64(&p, now);
    int ret = q_exec(c, Q_EMAIL_TOKEN_PURGE, &p, NULL, op, e);
    if (ret == STORE_OK) {
        p = (struct params){0};
        p_i64(&p, t->user_id);
        p_text(&p, t->purpose);
        ret = q_exec(c, Q_EMAIL_TOKEN_REPLACE, &p, NULL, op, e);
    }
    if (ret == STORE_OK) {
        p = (struct params){0};
        p_text(&p, t->hash);
        p_i64(&p, t->user_id);
        p_text(&p, t->purpose);
        p_text(&p, t->email);
        p_i64(&p, now);
        p_i64(&p, t->expires_at);
        ret = q_exec(c, Q_EMAIL_TOKEN_INSERT, &p, NULL, op, e);
    }
    return tx_end(c, ret, op, e);
}

/* Runs Q_EMAIL_TOKEN_GET or Q_EMAIL_TOKEN_USE: $1 hash, $2 purpose, $3 now. */
static int email_token_one(store *s, arena *a, enum query q, const char *hash, const char *purpose,
                           int64_t now, store_email_token *out, const char *op, derr *e)
{
    if (!hash || !purpose)
        return not_found(e, "link");
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    struct params p = {0};
    p_text(&p, hash);
    p_text(&p, purpose);
    p_i64(&p, now);
    int rc = STORE_ERROR;
    PGresult *r = q_run(c, q, &p, op, e, &rc);
    if (!r)
        return rc == STORE_NOT_FOUND ? not_found(e, "link") : rc;
    int ret = PQntuples(r) > 0 ? STORE_OK : not_found(e, "link");
    if (ret == STORE_OK)
        read_email_token(a, r, 0, out);
    PQclear(r);
    return ret;
}

static int pg_email_token_get(store *s, arena *a, const char *hash, const char *purpose,
                              int64_t now, store_email_token *out, derr *e)
{
    return email_token_one(s, a, Q_EMAIL_TOKEN_GET, hash, purpose, now, out, "email_token_get", e);
}

static int pg_email_token_use(store *s, arena *a, const char *hash, const char *purpose,
                              int64_t now, store_email_token *out, derr *e)
{
    return email_token_one(s, a, Q_EMAIL_TOKEN_USE, hash, purpose, now, out, "email_token_use", e);
}

/* at 0 clears it. */
static int pg_user_set_email_verified(store *s, int64_t id, int64_t at, derr *e)
{
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    struct params p = {0};
    p_i64(&p, id);
    p_time(&p, at);
    p_i64(&p, now_s());
    int changed = 0;
    int ret = q_exec(c, Q_USER_SET_VERIFIED, &p, &changed, "user_set_email_verified", e);
    if (ret == STORE_OK && changed == 0)
        ret = not_found(e, "user");
    return ret;
}

static int pg_user_email_verified(store *s, int64_t id, int64_t *at, derr *e)
{
    *at = 0;
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    struct params p = {0};
    p_i64(&p, id);
    int rc = STORE_ERROR;
    PGresult *r = q_run(c, Q_USER_VERIFIED, &p, "user_email_verified", e, &rc);
    if (!r)
        return rc;
    int ret = PQntuples(r) > 0 ? STORE_OK : not_found(e, "user");
    if (ret == STORE_OK)
        *at = col_i64(r, 0, 0);
    PQclear(r);
    return ret;
}

static void read_audit_row(arena *a, const PGresult *r, int i, void *p)
{
    store_audit_row *row = p;
    row->id = col_i64(r, i, 0);
    row->at = col_i64(r, i, 1);
    row->user_id = col_i64(r, i, 2);
    row->username = col_text(a, r, i, 3);
    row->action = col_text(a, r, i, 4);
    row->target = col_text(a, r, i, 5);
    row->detail = col_text(a, r, i, 6);
    row->ip = col_text(a, r, i, 7);
}

/* Newest first, at most limit (capped at MAX_PAGE). */
static int pg_audit_recent(store *s, arena *a, int limit, store_audit_row **out, int *n, derr *e)
{
    void *arr = NULL;
    int ret = list_by_id(s, a, Q_AUDIT_RECENT, clamp_limit(limit < 0 ? 0 : limit), sizeof **out,
                         read_audit_row, &arr, n, "audit_recent", e);
    *out = arr;
    return ret;
}

/* Packages of the ecosystem whose latest version depends (not as a dev
 * dependency) on `name` as written, most downloaded first. */
static int pg_pkg_dependents(store *s, arena *a, const char *ecosystem, const char *name, int limit,
                             store_package **out, int *n, derr *e)
{
    *out = NULL;
    *n = 0;
    if (!ecosystem || !name || !utf8_valid(ecosystem) || !utf8_valid(name))
        return STORE_OK;
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    struct params p = {0};
    p_text(&p, ecosystem);
    p_text(&p, name);
    p_i64(&p, clamp_limit(limit < 0 ? 0 : limit));
    void *arr = NULL;
    int ret = q_list(c, a, Q_PKG_DEPENDENTS, &p, sizeof **out, read_package_v, &arr, n,
                     "pkg_dependents", e);
    *out = arr;
    return ret;
}

/* ---- operations: integrity, backup, blob references ------------------ */

/* PostgreSQL checks its own pages (with data checksums on) and enforces
 * every constraint as it writes, so there is no whole-file check to run as
 * SQLite's integrity_check; this reports what the server counted: data
 * checksum failures in this database, and packages whose search columns
 * were never filled. */
static int pg_integrity(store *s, arena *a, const char **report, derr *e)
{
    static const char op[] = "integrity";
    *report = "ok";
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    int rc = STORE_ERROR;
    PGresult *r = run_stmt(c, NULL, NULL,
                           "SELECT (SELECT coalesce(checksum_failures, 0) FROM pg_stat_database"
                           " WHERE datname = current_database()),"
                           " (SELECT count(*) FROM packages WHERE search_doc = ''::tsvector"
                           " AND name <> '')",
                           0, NULL, NULL, op, e, &rc);
    if (!r)
        return rc;
    int64_t bad_pages = col_i64(r, 0, 0), unindexed = col_i64(r, 0, 1);
    PQclear(r);
    if (bad_pages)
        *report = arena_printf(a, "%lld data checksum failures in this database",
                               (long long)bad_pages);
    if (unindexed)
        *report = arena_printf(a, "%s%s%lld packages missing from the search index",
                               bad_pages ? *report : "", bad_pages ? "\n" : "",
                               (long long)unindexed);
    return STORE_OK;
}

/* Streams the rows of sql (single-row mode, so a large table is never
 * held whole) to fn until it returns non-zero; *stopped says whether it
 * did. */
static int stream(struct conn *c, const char *sql, int (*fn)(void *, const PGresult *),
                  void *ctx, bool *stopped, const char *op, derr *e)
{
    *stopped = false;
    if (!c->pg || PQstatus(c->pg) != CONNECTION_OK || !PQsendQuery(c->pg, sql)) {
        int ret = fail(c, NULL, op, e);
        return ret;
    }
    PQsetSingleRowMode(c->pg);
    int ret = STORE_OK;
    PGresult *r;
    while ((r = PQgetResult(c->pg)) != NULL) {
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_SINGLE_TUPLE) {
            if (ret == STORE_OK && !*stopped && fn(ctx, r) != 0)
                *stopped = true; /* the rest is read and dropped */
        } else if (st != PGRES_TUPLES_OK && ret == STORE_OK) {
            ret = fail(c, r, op, e);
        }
        PQclear(r);
    }
    return ret;
}

struct blob_ctx {
    int (*fn)(void *, const char *, const char *, int64_t, const char *);
    void *ctx;
};

static int blob_row(void *p, const PGresult *r)
{
    struct blob_ctx *b = p;
    return b->fn(b->ctx, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), col_i64(r, 0, 2),
                 PQgetvalue(r, 0, 3));
}

static int pg_each_blob_ref(store *s, int (*fn)(void *, const char *, const char *, int64_t, const char *),
                            void *ctx, derr *e)
{
    static const char op[] = "each_blob_ref";
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    static const char *const queries[] = {
        "SELECT 'version', v.sha256, v.size, p.ecosystem || '/' || p.name || '@' || v.version"
        " FROM versions v JOIN packages p ON p.id = v.package_id ORDER BY v.id",
        "SELECT 'docs', d.sha256, d.size, p.ecosystem || '/' || p.name || '@' || d.version || ':archive'"
        " FROM docs_sites d JOIN packages p ON p.id = d.package_id",
        "SELECT 'docs', f.sha256, f.size, p.ecosystem || '/' || p.name || '@' || f.version || ':' || f.path"
        " FROM docs_files f JOIN packages p ON p.id = f.package_id",
    };
    struct blob_ctx b = {fn, ctx};
    int ret = STORE_OK;
    bool stopped = false;
    for (size_t q = 0; q < sizeof queries / sizeof queries[0] && ret == STORE_OK && !stopped; q++)
        ret = stream(c, queries[q], blob_row, &b, &stopped, op, e);
    return ret;
}

static int pg_bump_generations(store *s, derr *e)
{
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    return simple(c, "UPDATE packages SET generation = generation + 1", "bump_generations", e);
}

/* ---- copying rows in (migrate-store) ---------------------------------- */

/* Rows go in as many multi-row INSERTs as the parameter cap needs, in one
 * transaction; parameters are untyped text, which PostgreSQL reads as the
 * column's type (a boolean takes 0 and 1). */
static int pg_rows_put(store *s, const store_rows *r, bool replace, int *inserted, derr *e)
{
    static const char op[] = "rows_put";
    *inserted = 0;
    if (!store_rows_names_ok(r))
        return derr_set(e, 400, "bad_request", "a table or column name that cannot be used");
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    int per = STORE_ROWS_MAX_PARAMS / r->ncols;
    int ret = tx_begin(c, op, e);
    for (int first = 0; ret == STORE_OK && first < r->nrows; first += per) {
        int n = r->nrows - first < per ? r->nrows - first : per;
        buf sql;
        buf_init(&sql, 0);
        store_rows_insert_sql(&sql, r, n, replace, '$');
        int rc = STORE_ERROR;
        PGresult *res = run_stmt(c, NULL, NULL, sql.data, n * r->ncols, NULL,
                                 r->vals + (size_t)first * (size_t)r->ncols, op, e, &rc);
        buf_free(&sql);
        if (!res) {
            ret = rc;
            break;
        }
        *inserted += (int)strtol(PQcmdTuples(res), NULL, 10);
        PQclear(res);
    }
    ret = tx_end(c, ret, op, e);
    if (ret != STORE_OK)
        *inserted = 0;
    return ret;
}

static int pg_rows_get(store *s, arena *a, store_rows *r, const char *const *after, const char *const *upto,
                       int limit, derr *e)
{
    static const char op[] = "rows_get";
    r->vals = NULL;
    r->nrows = 0;
    if (!store_rows_names_ok(r) || r->nkey > MAX_PARAMS)
        return derr_set(e, 400, "bad_request", "a table or column name that cannot be used");
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    buf sql;
    buf_init(&sql, 0);
    store_rows_select_sql(&sql, r, after != NULL, upto != NULL, limit, '$');
    const char *const *bounds[2] = {after, upto};
    const char *params[2 * MAX_PARAMS];
    int np = 0;
    for (int k = 0; k < 2; k++)
        for (int i = 0; bounds[k] && i < r->nkey; i++)
            params[np++] = bounds[k][i];
    int rc = STORE_ERROR;
    PGresult *res = run_stmt(c, NULL, NULL, sql.data, np, NULL, params, op, e, &rc);
    buf_free(&sql);
    if (!res)
        return rc;
    int n = PQntuples(res);
    if (PQnfields(res) != r->ncols) {
        PQclear(res);
        return derr_set(e, 500, "internal", "the store answered with other columns");
    }
    const char **vals = arena_alloc(a, ((size_t)n * (size_t)r->ncols + 1) * sizeof *vals);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < r->ncols; j++) {
            const char *v = col_text(a, res, i, j);
            if (v && PQftype(res, j) == 16) /* bool: 0/1, as SQLite keeps it */
                v = v[0] == 't' ? "1" : "0";
            vals[(size_t)i * (size_t)r->ncols + (size_t)j] = v;
        }
    PQclear(res);
    r->vals = vals;
    r->nrows = n;
    return STORE_OK;
}

/* Every identity sequence moves past its column's highest value (never
 * back), so the next row made gets a new id. */
static int pg_rows_settle(store *s, derr *e)
{
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    return simple(c,
                  "DO $$DECLARE t record; BEGIN"
                  " FOR t IN SELECT table_name, column_name FROM information_schema.columns"
                  " WHERE table_schema = current_schema() AND is_identity = 'YES' LOOP"
                  " EXECUTE format('SELECT setval(s, greatest(coalesce(max(%I), 0),"
                  " coalesce(pg_sequence_last_value(s), 0)) + 1, false)"
                  " FROM %I, (SELECT pg_get_serial_sequence(%L, %L)::regclass AS s) q GROUP BY s',"
                  " t.column_name, t.table_name, quote_ident(t.table_name), t.column_name);"
                  " END LOOP; END$$",
                  "rows_settle", e);
}

/* Copying one table into the SQLite backup. */
struct copy_ctx {
    sqlite3 *db;
    sqlite3_stmt *ins;
    int ncols;
    bool failed;
};

static int copy_row(void *p, const PGresult *r)
{
    struct copy_ctx *cc = p;
    sqlite3_reset(cc->ins);
    for (int i = 0; i < cc->ncols; i++) {
        int rc;
        if (PQgetisnull(r, 0, i)) {
            rc = sqlite3_bind_null(cc->ins, i + 1);
        } else {
            Oid t = PQftype(r, i);
            const char *v = PQgetvalue(r, 0, i);
            if (t == 16) /* bool: 0/1, as SQLite keeps it */
                rc = sqlite3_bind_int(cc->ins, i + 1, v[0] == 't');
            else if (t == 20 || t == 21 || t == 23) /* int8, int2, int4 */
                rc = sqlite3_bind_int64(cc->ins, i + 1, strtoll(v, NULL, 10));
            else
                rc = sqlite3_bind_text(cc->ins, i + 1, v, PQgetlength(r, 0, i), SQLITE_TRANSIENT);
        }
        if (rc != SQLITE_OK) {
            cc->failed = true;
            return 1;
        }
    }
    if (sqlite3_step(cc->ins) != SQLITE_DONE) {
        log_error("store error", "op", "backup", "error", sqlite3_errmsg(cc->db), NULL);
        cc->failed = true;
        return 1;
    }
    return 0;
}

/* Copies one table, the columns the SQLite schema has, from the snapshot
 * into the file. */
static int copy_table(struct conn *c, sqlite3 *db, const char *table, derr *e)
{
    static const char op[] = "backup";
    buf cols, marks, sql;
    buf_init(&cols, 0);
    buf_init(&marks, 0);
    buf_init(&sql, 0);
    sqlite3_stmt *info = NULL;
    char *q = sqlite3_mprintf("SELECT name FROM pragma_table_info(%Q) ORDER BY cid", table);
    int n = 0;
    if (q && sqlite3_prepare_v2(db, q, -1, &info, NULL) == SQLITE_OK)
        while (sqlite3_step(info) == SQLITE_ROW) {
            const char *col = (const char *)sqlite3_column_text(info, 0);
            buf_printf(&cols, "%s\"%s\"", n ? ", " : "", col);
            buf_printf(&marks, "%s?", n ? ", " : "");
            n++;
        }
    sqlite3_finalize(info);
    sqlite3_free(q);
    int ret = STORE_OK;
    struct copy_ctx cc = {db, NULL, n, false};
    /* settings already holds the rows migrations put there: the copy wins */
    buf_printf(&sql, "INSERT OR REPLACE INTO \"%s\" (%s) VALUES (%s)", table, cols.data ? cols.data : "",
               marks.data ? marks.data : "");
    if (n == 0 || sqlite3_prepare_v2(db, sql.data, -1, &cc.ins, NULL) != SQLITE_OK) {
        log_error("store error", "op", op, "table", table, "error", sqlite3_errmsg(db), NULL);
        ret = derr_set(e, 500, "internal", "the backup failed; see the server log");
    } else {
        buf_reset(&sql);
        buf_printf(&sql, "SELECT %s FROM \"%s\"", cols.data, table);
        bool stopped = false;
        ret = stream(c, sql.data, copy_row, &cc, &stopped, op, e);
        if (ret == STORE_OK && cc.failed)
            ret = derr_set(e, 500, "internal", "the backup failed; see the server log");
    }
    sqlite3_finalize(cc.ins);
    buf_free(&cols);
    buf_free(&marks);
    buf_free(&sql);
    return ret;
}

/* Writes a SQLite database in depot's schema at path (which must not
 * exist) holding one consistent snapshot of every table: a REPEATABLE
 * READ transaction on this side, one transaction on the file's side.
 * Writes go on meanwhile. */
static int pg_backup(store *s, const char *path, derr *e)
{
    static const char op[] = "backup";
    if (access(path, F_OK) == 0)
        return derr_set(e, 409, "conflict", "the backup file exists already");
    store *file = store_sqlite_open(path, e);
    if (!file)
        return STORE_ERROR;
    int applied = 0;
    int ret = store_call(file, migrate, &applied, e);
    file->ops->close(file);
    if (ret != STORE_OK)
        return ret;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        log_error("store error", "op", op, "error", db ? sqlite3_errmsg(db) : "out of memory", NULL);
        sqlite3_close(db);
        return derr_set(e, 500, "internal", "cannot write the backup file");
    }
    struct conn *c = conn_get(s, e);
    if (!c) {
        sqlite3_close(db);
        return STORE_ERROR;
    }
    ret = simple(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", op, e);
    if (ret == STORE_OK)
        c->in_tx = true;
    if (ret == STORE_OK &&
        sqlite3_exec(db, "PRAGMA foreign_keys = OFF; BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        ret = derr_set(e, 500, "internal", "cannot write the backup file");
    sqlite3_stmt *tables = NULL;
    if (ret == STORE_OK &&
        sqlite3_prepare_v2(db,
                           "SELECT name FROM sqlite_master WHERE type = 'table'"
                           " AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'packages_fts%'"
                           " AND name <> 'schema_migrations' ORDER BY name = 'settings', name",
                           -1, &tables, NULL) != SQLITE_OK)
        ret = derr_set(e, 500, "internal", "cannot write the backup file");
    while (ret == STORE_OK && sqlite3_step(tables) == SQLITE_ROW) {
        char table[128];
        snprintf(table, sizeof table, "%s", (const char *)sqlite3_column_text(tables, 0));
        ret = copy_table(c, db, table, e);
    }
    sqlite3_finalize(tables);
    if (ret == STORE_OK && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        log_error("store error", "op", op, "error", sqlite3_errmsg(db), NULL);
        ret = derr_set(e, 500, "internal", "cannot write the backup file");
    }
    tx_end(c, STORE_ERROR, op, NULL); /* read only: nothing to commit */
    sqlite3_close(db);
    if (ret != STORE_OK)
        unlink(path);
    return ret;
}

/* ---- the vtable and the constructor --------------------------------- */

static const struct store_ops postgres_ops = {
    .name = "postgres",
    .close = pg_close,
    .migrate = pg_migrate,
    .ping = pg_ping,
    .user_create = pg_user_create,
    .user_by_id = pg_user_by_id,
    .user_by_login = pg_user_by_login,
    .user_list = pg_user_list,
    .user_set_password = pg_user_set_password,
    .user_set_disabled = pg_user_set_disabled,
    .user_set_admin = pg_user_set_admin,
    .token_create = pg_token_create,
    .token_by_hash = pg_token_by_hash,
    .token_by_name = pg_token_by_name,
    .token_list = pg_token_list,
    .token_delete = pg_token_delete,
    .token_touch = pg_token_touch,
    .jwt_revoke = pg_jwt_revoke,
    .jwt_is_revoked = pg_jwt_is_revoked,
    .audit = pg_audit,
    .auth_epoch = pg_auth_epoch,
    .eco_generation = pg_eco_generation,
    .integrity = pg_integrity,
    .backup = pg_backup,
    .each_blob_ref = pg_each_blob_ref,
    .bump_generations = pg_bump_generations,
    .rows_put = pg_rows_put,
    .rows_get = pg_rows_get,
    .rows_settle = pg_rows_settle,
    .pkg_get = pg_pkg_get,
    .pkg_generation = pg_pkg_generation,
    .pkg_versions = pg_pkg_versions,
    .version_get = pg_version_get,
    .publish = pg_publish,
    .version_yank = pg_version_yank,
    .pkg_set_require_signatures = pg_pkg_set_require_signatures,
    .owners_list = pg_owners_list,
    .owner_is = pg_owner_is,
    .owner_add = pg_owner_add,
    .owner_remove = pg_owner_remove,
    .user_packages = pg_user_packages,
    .search = pg_search,
    .downloads_add = pg_downloads_add,
    .pkg_daily_downloads = pg_pkg_daily_downloads,
    .totals = pg_totals,
    .pkg_top = pg_pkg_top,
    .key_add = pg_key_add,
    .key_list = pg_key_list,
    .key_get = pg_key_get,
    .key_delete = pg_key_delete,
    .version_set_status = pg_version_set_status,
    .pkg_set_meta = pg_pkg_set_meta,
    .tags_list = pg_tags_list,
    .tag_set = pg_tag_set,
    .tag_delete = pg_tag_delete,
    .version_delete = pg_version_delete,
    .version_tombstoned = pg_version_tombstoned,
    .docs_put = pg_docs_put,
    .docs_file = pg_docs_file,
    .docs_archive = pg_docs_archive,
    .docs_versions = pg_docs_versions,
    .docs_delete = pg_docs_delete,
    .upload_create = pg_upload_create,
    .upload_get = pg_upload_get,
    .upload_update = pg_upload_update,
    .upload_expire = pg_upload_expire,
    .email_token_create = pg_email_token_create,
    .email_token_get = pg_email_token_get,
    .email_token_use = pg_email_token_use,
    .user_set_email_verified = pg_user_set_email_verified,
    .user_email_verified = pg_user_email_verified,
    .audit_recent = pg_audit_recent,
    .pkg_dependents = pg_pkg_dependents,
};

/* Appends a connection parameter to the arrays being built. */
static void param_add(char ***keys, char ***vals, int *n, const char *k, const char *v)
{
    *keys = xrealloc(*keys, (size_t)(*n + 2) * sizeof **keys);
    *vals = xrealloc(*vals, (size_t)(*n + 2) * sizeof **vals);
    (*keys)[*n] = xstrdup(k);
    (*vals)[*n] = xstrdup(v);
    (*n)++;
    (*keys)[*n] = NULL;
    (*vals)[*n] = NULL;
}

/* The URL's parameters plus depot's defaults, into s->keys and s->vals;
 * the place for the log into s->where. -1 when libpq cannot read the URL. */
static int build_params(pg_store *s, const char *url)
{
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &err);
    if (!opts) {
        char msg[512];
        one_line(msg, sizeof msg, err ? err : "out of memory");
        log_error("store error", "op", "open", "error", msg, NULL);
        PQfreemem(err);
        return -1;
    }
    int n = 0;
    bool have_app = false, have_timeout = false;
    const char *options = NULL, *host = NULL, *port = NULL, *db = NULL;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val)
            continue;
        if (strcmp(o->keyword, "options") == 0) {
            options = o->val;
            continue;
        }
        if (strcmp(o->keyword, "application_name") == 0)
            have_app = true;
        if (strcmp(o->keyword, "connect_timeout") == 0)
            have_timeout = true;
        if (strcmp(o->keyword, "host") == 0 || strcmp(o->keyword, "hostaddr") == 0)
            host = host ? host : o->val;
        if (strcmp(o->keyword, "port") == 0)
            port = o->val;
        if (strcmp(o->keyword, "dbname") == 0)
            db = o->val;
        param_add(&s->keys, &s->vals, &n, o->keyword, o->val);
    }
    if (!have_app)
        param_add(&s->keys, &s->vals, &n, "application_name", "depot");
    if (!have_timeout)
        param_add(&s->keys, &s->vals, &n, "connect_timeout", DEFAULT_CONNECT_TIMEOUT);
    buf o;
    buf_init(&o, 0);
    if (options)
        buf_puts(&o, options);
    if (!options || !strstr(options, "statement_timeout"))
        buf_printf(&o, "%s-c statement_timeout=%s", o.len ? " " : "", DEFAULT_STATEMENT_TIMEOUT);
    if (!options || !strstr(options, "client_min_messages"))
        buf_printf(&o, " -c client_min_messages=warning");
    param_add(&s->keys, &s->vals, &n, "options", o.data);
    buf_free(&o);
    snprintf(s->where, sizeof s->where, "%s:%s/%s", host ? host : "(default host)",
             port ? port : "5432", db ? db : "(default database)");
    PQconninfoFree(opts);
    return 0;
}

store *store_postgres_open(const char *url, derr *e)
{
    if (!url || !*url) {
        derr_set(e, 400, "bad_request", "the PostgreSQL store needs a URL");
        return NULL;
    }
    pg_store *s = xcalloc(1, sizeof *s);
    s->base.ops = &postgres_ops;
    if (build_params(s, url) != 0) {
        free_params(s);
        free(s);
        derr_set(e, 400, "bad_request",
                 "the store URL is not a PostgreSQL connection URL (postgres://USER@HOST:PORT/DB)");
        return NULL;
    }
    if (pthread_key_create(&s->key, conn_destroy) != 0) {
        free_params(s);
        free(s);
        log_error("store error", "op", "open", "error", "no pthread key left", NULL);
        derr_set(e, 500, "internal", "the store failed; see the server log");
        return NULL;
    }
    pthread_mutex_init(&s->mu, NULL);
    struct conn *c = conn_get(&s->base, e);
    if (!c) {
        pg_close(&s->base);
        derr_set(e, 503, "unavailable",
                 "cannot connect to the PostgreSQL store; see the server log");
        return NULL;
    }
    char version[16];
    int v = PQserverVersion(c->pg);
    snprintf(version, sizeof version, "%d.%d", v / 10000, v % 10000);
    log_info("store: PostgreSQL", "at", s->where, "server", version, "tls",
             PQsslInUse(c->pg) ? "on" : "off", NULL);
    return &s->base;
}
