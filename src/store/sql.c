/*
 * sql.c — every operation of the store, written once over the driver's
 * primitives (driver.h), for every backend.
 *
 * Statements: every statement is named by `enum query` and its text is in
 * sql_text[], in the SQL both SQLite and PostgreSQL read (?N placeholders,
 * CAST rather than ::, booleans bound as 0 and 1). Where the engines truly
 * differ the entry holds both texts side by side: the SQLite text first,
 * then PostgreSQL's; an entry with no SQLite text is a step SQLite does not
 * need (a row lock). Each connection prepares a statement once, on first
 * use, and keeps it.
 *
 * Transactions: an operation that writes more than one statement runs in
 * one write transaction. On SQLite that is BEGIN IMMEDIATE, which takes the
 * write lock up front so two writers wait for each other; on PostgreSQL a
 * READ COMMITTED transaction that first locks the package row it changes
 * (FOR NO KEY UPDATE, the Q_PKG_LOCK and Q_PKG_FIND texts), so writers of
 * one package queue up, each statement after the lock sees what the writer
 * before it committed, and locks are always taken package first: publish's
 * owner check and insert cannot race, latest_version is computed from what
 * is committed, and the last owner cannot be removed twice. A publish that
 * creates a package inserts it with ON CONFLICT DO NOTHING and, when another
 * server created it first, goes on as a publish to an existing package.
 * Download batches lock their packages in id order first for the same
 * reason. Reads of several queries (versions then their dependencies, a
 * search's count then its page) run in one read transaction, so they agree.
 *
 * Packages: a publish, a yank, every owner change, a version's status
 * (retired, deprecated, retracted), the package's meta, dist-tags, removing
 * a version and docs sites each bump the package's generation, which keys
 * every cached document, in the transaction that makes the change, and
 * recompute what depends on them (latest_version); download counts never
 * touch a generation. Removing a version leans on ON DELETE CASCADE for its
 * dependencies, tags and daily download rows, and may leave a tombstone that
 * publish checks, so a removed version's text never names other bytes.
 *
 * Text that is not UTF-8 names nothing stored (PostgreSQL refuses it):
 * look-ups with it answer "not found", as SQLite finds nothing for it.
 */
#include "driver.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/buf.h"
#include "../lib/emailkey.h"
#include "../lib/log.h"
#include "../lib/utf8.h"
#include "../lib/xalloc.h"

/* token_touch skips the write when the stored time is at most this old. */
#define TOUCH_SLACK_S 60

/* Every statement, by name, in groups in the order of the table; the SQL is in sql_text[]. */
/* clang-format off */
enum query {
    Q_PING,
    Q_USER_LOCK, Q_USER_INSERT, Q_USER_BY_ID, Q_USER_BY_LOGIN, Q_USER_LIST, Q_USER_SET_PASSWORD,
    Q_USER_SET_DISABLED, Q_USER_SET_ADMIN, Q_USER_SET_SHOW_EMAIL,
    Q_TOKEN_INSERT, Q_TOKEN_BY_HASH, Q_TOKEN_BY_NAME, Q_TOKEN_LIST, Q_TOKEN_DELETE, Q_TOKEN_TOUCH,
    Q_JWT_PURGE, Q_JWT_INSERT, Q_JWT_CHECK, Q_AUTH_EPOCH, Q_ECO_GEN, Q_AUDIT_INSERT,
    Q_PKG_GET, Q_PKG_GENERATION, Q_PKG_FIND, Q_PKG_LOCK, Q_PKG_INSERT, Q_PKG_REFRESH, Q_PKG_SETTLE,
    Q_PKG_BUMP, Q_PKG_SET_SIGNATURES,
    Q_VERSION_INSERT, Q_VERSION_LIST, Q_VERSION_GET, Q_VERSION_YANK,
    Q_DEP_INSERT, Q_DEPS_OF_PACKAGE, Q_DEPS_OF_VERSION,
    Q_OWNER_INSERT, Q_OWNER_LEVEL, Q_OWNER_COUNT, Q_OWNER_DELETE, Q_OWNERS_LIST, Q_USER_PACKAGES,
    Q_DL_LOCK, Q_DL_VERSION, Q_DL_DAY, Q_DL_PACKAGE, Q_DAILY, Q_TOTALS,
    Q_TOP_DOWNLOADS, Q_TOP_DOWNLOADS_ECO, Q_TOP_NEW, Q_TOP_NEW_ECO, Q_TOP_UPDATED, Q_TOP_UPDATED_ECO,
    Q_KEY_INSERT, Q_KEY_LIST, Q_KEY_GET, Q_KEY_REVOKE,
    Q_VERSION_STATUS, Q_PKG_SET_META, Q_TAGS_LIST, Q_TAG_UPSERT, Q_TAG_DELETE,
    Q_VERSION_FIND, Q_VERSION_DELETE, Q_PKG_DL_SUB, Q_TOMBSTONE_INSERT, Q_TOMBSTONE_CHECK,
    Q_DOCS_SITE_DELETE, Q_DOCS_SITE_INSERT, Q_DOCS_FILE_INSERT, Q_DOCS_FILE, Q_DOCS_ARCHIVE,
    Q_DOCS_VERSIONS,
    Q_UPLOAD_INSERT, Q_UPLOAD_GET, Q_UPLOAD_UPDATE, Q_UPLOAD_EXPIRE,
    Q_EMAIL_TOKEN_PURGE, Q_EMAIL_TOKEN_REPLACE, Q_EMAIL_TOKEN_INSERT, Q_EMAIL_TOKEN_GET,
    Q_EMAIL_TOKEN_USE, Q_USER_SET_VERIFIED, Q_USER_VERIFIED,
    Q_AUDIT_RECENT, Q_PKG_DEPENDENTS, Q_EMAIL_NON_ASCII, Q_EMAIL_REKEY,
    Q__COUNT
};
/* clang-format on */
_Static_assert(Q__COUNT <= SQL_SLOTS, "a connection keeps SQL_SLOTS statements");

#define USER_COLS                                                                            \
    "id, username, email, password_hash, is_admin, disabled, created_at, password_changed_at," \
    " session_epoch, show_email"
#define TOKEN_COLS \
    "id, user_id, name, hash, prefix, scopes, created_at, expires_at, last_used_at"
#define PKG_COLS STORE_PKG_COLS
#define PKG_LIST_COLS STORE_PKG_LIST_COLS
/* Version columns in read_version() order; u is the publisher (LEFT JOIN). */
#define VERSION_COLS                                                                        \
    "v.id, v.package_id, v.version, v.major, v.minor, v.patch, v.prerelease, v.sha256,"      \
    " v.size, v.manifest, v.signature, v.signing_key_id, v.publisher_id, u.username,"        \
    " v.published_at, v.yanked, v.yanked_at, v.retired_reason, v.retired_message,"           \
    " v.downloads, v.extra, v.deprecated, v.retracted, v.retired_at"
/* Newest first: by number, a release before its prereleases, then the
 * later publish (prereleases of one number are not ranked among themselves). */
#define VERSION_ORDER                                                                       \
    "v.major DESC, v.minor DESC, v.patch DESC, v.prerelease IS NOT NULL, v.published_at DESC," \
    " v.id DESC"
#define KEY_COLS "id, user_id, key_id, algorithm, public_key, name, created_at"
#define UPLOAD_COLS "id, user_id, ecosystem, sha256, size, created_at, expires_at, result, failed"
#define EMAIL_TOKEN_COLS "hash, user_id, purpose, email, created_at, expires_at, used_at"
/* pkg_top's ranking by a column, over every package and (the _ECO twin) within ecosystem ?2;
 * ?1 is the limit. */
#define TOP(q, col)                                                                              \
    [q] = {"SELECT " PKG_LIST_COLS " FROM packages p ORDER BY " col " DESC, p.id DESC LIMIT ?1"}, \
    [q##_ECO] = {"SELECT " PKG_LIST_COLS " FROM packages p WHERE p.ecosystem = ?2 ORDER BY " col  \
                 " DESC, p.id DESC LIMIT ?1"}
/* A change of the package's row that bumps its generation with it. */
#define PKG_CHANGE(set) {"UPDATE packages SET " set "generation = generation + 1 WHERE id = ?1"}
/* Statements on one version of a package: ?1 the package, ?2 the version. */
#define OF_VERSION " WHERE package_id = ?1 AND version = ?2"
#define VERSION_SELECT                                                                      \
    "SELECT " VERSION_COLS " FROM versions v LEFT JOIN users u ON u.id = v.publisher_id"    \
    " WHERE v.package_id = ?1"
#define DEP_SELECT "SELECT d.version_id, d.name, d.requirement, d.kind, d.extra FROM "
/* A status column by its action ?act: 1 sets it to val, -1 clears it, 0 leaves it. */
#define STATUS_SET(col, act, val, clear)                                                   \
    " " col " = CASE CAST(" act " AS INTEGER) WHEN 1 THEN " val " WHEN -1 THEN " clear    \
    " ELSE " col " END"
/* The daily rows of package ?1 since day ?2 (NULL: since the beginning). */
#define DAILY_FROM                                                                          \
    " FROM versions v JOIN downloads_daily d ON d.version_id = v.id"                        \
    " WHERE v.package_id = ?1 AND d.day >= coalesce(CAST(?2 AS TEXT), '')"

/* One text for both engines, or (where they differ) SQLite's then PostgreSQL's. */
static const struct {
    const char *sql, *pg;
} sql_text[Q__COUNT] = {
    [Q_PING] = {"SELECT 1"},
    /* Registrations queue up, so only one of them can find the store without users (PostgreSQL;
     * SQLite's BEGIN IMMEDIATE already holds the whole file). */
    [Q_USER_LOCK] = {NULL, "SELECT pg_advisory_xact_lock(4242400001)"},
    /* The first account of a store is an admin: decided by the insert itself, under the lock. */
    [Q_USER_INSERT] = {"INSERT INTO users (username, username_lower, email, email_lower,"
                       " password_hash, is_admin, disabled, created_at, updated_at)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6 OR NOT EXISTS (SELECT 1 FROM users), ?7,"
                       " ?8, ?8) RETURNING id, is_admin"},
    [Q_USER_BY_ID] = {"SELECT " USER_COLS " FROM users WHERE id = ?1"},
    /* ?1 the login in ASCII lower case, ?2 its email key (lib/emailkey.h). A username wins over
     * another account's email of the same text. */
    [Q_USER_BY_LOGIN] = {"SELECT " USER_COLS " FROM users"
                         " WHERE username_lower = ?1 OR email_lower = ?2"
                         " ORDER BY username_lower = ?1 DESC LIMIT 1"},
    [Q_USER_LIST] = {"SELECT " USER_COLS " FROM users ORDER BY username_lower, id"},
    /* A new password, and any change of the disabled flag, end every session issued before. */
    [Q_USER_SET_PASSWORD] = {"UPDATE users SET password_hash = ?2, updated_at = ?3,"
                             " password_changed_at = ?3, session_epoch = session_epoch + 1"
                             " WHERE id = ?1"},
    [Q_USER_SET_DISABLED] = {"UPDATE users SET session_epoch = session_epoch"
                             " + CASE WHEN disabled = ?2 THEN 0 ELSE 1 END,"
                             " disabled = ?2, updated_at = ?3 WHERE id = ?1"},
    [Q_USER_SET_ADMIN] = {"UPDATE users SET is_admin = ?2, updated_at = ?3 WHERE id = ?1"},
    [Q_USER_SET_SHOW_EMAIL] = {"UPDATE users SET show_email = ?2, updated_at = ?3 WHERE id = ?1"},
    [Q_TOKEN_INSERT] = {"INSERT INTO api_tokens (user_id, name, hash, prefix, scopes, created_at,"
                        " expires_at, last_used_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                        " RETURNING id"},
    [Q_TOKEN_BY_HASH] = {"SELECT " TOKEN_COLS " FROM api_tokens WHERE hash = ?1"},
    [Q_TOKEN_BY_NAME] = {"SELECT " TOKEN_COLS " FROM api_tokens WHERE user_id = ?1 AND name = ?2"},
    [Q_TOKEN_LIST] = {"SELECT " TOKEN_COLS " FROM api_tokens WHERE user_id = ?1 ORDER BY name"},
    [Q_TOKEN_DELETE] = {"DELETE FROM api_tokens WHERE user_id = ?1 AND name = ?2"},
    [Q_TOKEN_TOUCH] = {"UPDATE api_tokens SET last_used_at = CAST(?2 AS BIGINT) WHERE id = ?1"
                       " AND (last_used_at IS NULL"
                       " OR last_used_at < CAST(?2 AS BIGINT) - CAST(?3 AS BIGINT))"},
    [Q_JWT_PURGE] = {"DELETE FROM revoked_jwts WHERE expires_at < ?1"},
    [Q_JWT_INSERT] = {"INSERT INTO revoked_jwts (jti, expires_at) VALUES (?1, ?2)"
                      " ON CONFLICT (jti) DO NOTHING"},
    [Q_JWT_CHECK] = {"SELECT 1 FROM revoked_jwts WHERE jti = ?1"},
    [Q_AUTH_EPOCH] = {"SELECT CAST(value AS BIGINT) FROM settings WHERE key = 'auth_epoch'"},
    [Q_ECO_GEN] = {"SELECT CAST(value AS BIGINT) FROM settings"
                   " WHERE key = 'eco_gen:' || CAST(?1 AS TEXT)"},
    [Q_AUDIT_INSERT] = {"INSERT INTO audit_log (at, user_id, action, target, detail, ip)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
    [Q_PKG_GET] = {"SELECT " PKG_COLS " FROM packages p"
                   " WHERE p.ecosystem = ?1 AND p.normalized_name = ?2"},
    [Q_PKG_GENERATION] = {"SELECT generation FROM packages WHERE ecosystem = ?1"
                          " AND normalized_name = ?2"},
    /* The publish's look-up; on PostgreSQL also its lock (SQLite's writer holds the file's). */
    [Q_PKG_FIND] = {"SELECT id, name FROM packages WHERE ecosystem = ?1 AND normalized_name = ?2",
                    "SELECT id, name FROM packages WHERE ecosystem = ?1 AND normalized_name = ?2"
                    " FOR NO KEY UPDATE"},
    /* Every writer of a package takes its row first (PostgreSQL only). */
    [Q_PKG_LOCK] = {NULL, "SELECT id FROM packages WHERE id = ?1 FOR NO KEY UPDATE"},
    /* No row back: another transaction made the package first (PostgreSQL; SQLite's writer
     * holds the file's lock, so there it never happens). */
    [Q_PKG_INSERT] = {"INSERT INTO packages (ecosystem, name, normalized_name, description,"
                      " homepage, repository, documentation, license, keywords, categories, tags,"
                      " authors, readme, require_signatures, meta, generation, created_at,"
                      " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, coalesce(?9, '[]'),"
                      " coalesce(?10, '[]'), coalesce(?11, '[]'), coalesce(?12, '[]'), ?13, ?14,"
                      " coalesce(?15, '{}'), 1, ?16, ?16)"
                      " ON CONFLICT (ecosystem, normalized_name) DO NOTHING RETURNING id"},
    /* The descriptive fields follow the highest version: nothing changes
     * when the current latest is above the new version (?13..?16: its
     * major, minor, patch and 1 for a release). */
    [Q_PKG_REFRESH] = {"UPDATE packages SET description = ?2, homepage = ?3, repository = ?4,"
                       " documentation = ?5, license = ?6, keywords = coalesce(?7, '[]'),"
                       " categories = coalesce(?8, '[]'), tags = coalesce(?9, '[]'),"
                       " authors = coalesce(?10, '[]'), readme = ?11, meta = coalesce(?12, '{}')"
                       " WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM versions v"
                       " WHERE v.package_id = ?1 AND v.version = packages.latest_version"
                       " AND (v.major, v.minor, v.patch, v.prerelease IS NULL)"
                       " > (CAST(?13 AS BIGINT), CAST(?14 AS BIGINT), CAST(?15 AS BIGINT),"
                       " CAST(?16 AS INTEGER) = 1))"},
    /* After any change to versions: latest_version is the highest
     * non-yanked release, else the highest non-yanked prerelease (the later
     * published among prereleases of one number); ?2 is added to the
     * generation; ?3, when not NULL, is the new updated_at. */
    [Q_PKG_SETTLE] = {"UPDATE packages SET latest_version = (SELECT v.version FROM versions v"
                      " WHERE v.package_id = ?1 AND NOT v.yanked ORDER BY v.prerelease IS NOT NULL,"
                      " v.major DESC, v.minor DESC, v.patch DESC, v.published_at DESC, v.id DESC"
                      " LIMIT 1), generation = generation + CAST(?2 AS BIGINT),"
                      " updated_at = coalesce(CAST(?3 AS BIGINT), updated_at)"
                      " WHERE id = ?1 RETURNING generation"},
    [Q_PKG_BUMP] = PKG_CHANGE(""),
    [Q_PKG_SET_SIGNATURES] = PKG_CHANGE("require_signatures = ?2, "),
    [Q_VERSION_INSERT] = {"INSERT INTO versions (package_id, version, major, minor, patch,"
                          " prerelease, sha256, size, manifest, signature, signing_key_id,"
                          " publisher_id, published_at, extra) VALUES (?1, ?2, ?3, ?4, ?5,"
                          " nullif(?6, ''), ?7, ?8, coalesce(?9, '{}'), ?10, ?11, ?12, ?13,"
                          " coalesce(?14, '{}')) RETURNING id"},
    [Q_VERSION_LIST] = {VERSION_SELECT " ORDER BY " VERSION_ORDER},
    [Q_VERSION_GET] = {VERSION_SELECT " AND v.version = ?2"},
    /* Yanking again keeps the first yank's time. */
    [Q_VERSION_YANK] = {"UPDATE versions SET yanked = (CAST(?3 AS INTEGER) = 1),"
                        " yanked_at = CASE WHEN CAST(?3 AS INTEGER) = 1"
                        " THEN coalesce(yanked_at, CAST(?4 AS BIGINT)) END" OF_VERSION},
    [Q_DEP_INSERT] = {"INSERT INTO dependencies (version_id, name, requirement, kind, extra)"
                      " VALUES (?1, ?2, coalesce(?3, ''), coalesce(?4, 'normal'), ?5)"},
    /* Column 0 is the version's id; dependencies keep their published order. */
    [Q_DEPS_OF_PACKAGE] = {DEP_SELECT "versions v JOIN dependencies d ON d.version_id = v.id"
                           " WHERE v.package_id = ?1 ORDER BY d.version_id, d.id"},
    [Q_DEPS_OF_VERSION] = {DEP_SELECT "dependencies d WHERE d.version_id = ?1 ORDER BY d.id"},
    [Q_OWNER_INSERT] = {"INSERT INTO owners (package_id, user_id, level, added_at)"
                        " VALUES (?1, ?2, coalesce(?3, 'owner'), ?4)"},
    [Q_OWNER_LEVEL] = {"SELECT level FROM owners WHERE package_id = ?1 AND user_id = ?2"},
    [Q_OWNER_COUNT] = {"SELECT count(*) FROM owners WHERE package_id = ?1 AND level = 'owner'"},
    [Q_OWNER_DELETE] = {"DELETE FROM owners WHERE package_id = ?1 AND user_id = ?2"},
    [Q_OWNERS_LIST] = {"SELECT o.user_id, u.username, u.email, o.level, o.added_at, u.show_email FROM owners o"
                       " JOIN users u ON u.id = o.user_id WHERE o.package_id = ?1"
                       " ORDER BY o.added_at, o.user_id"},
    [Q_USER_PACKAGES] = {"SELECT " PKG_LIST_COLS " FROM owners o"
                         " JOIN packages p ON p.id = o.package_id WHERE o.user_id = ?1"
                         " ORDER BY p.normalized_name, p.ecosystem, p.id"},
    /* A download batch locks its packages in id order before anything else (PostgreSQL). */
    [Q_DL_LOCK] = {NULL, "SELECT p.id FROM packages p WHERE p.id IN (SELECT v.package_id"
                         " FROM versions v WHERE v.id = ANY (CAST(?1 AS BIGINT[])))"
                         " ORDER BY p.id FOR NO KEY UPDATE"},
    [Q_DL_VERSION] = {"UPDATE versions SET downloads = downloads + ?2 WHERE id = ?1"
                      " RETURNING package_id"},
    [Q_DL_DAY] = {"INSERT INTO downloads_daily (version_id, day, count) VALUES (?1, ?2, ?3)"
                  " ON CONFLICT (version_id, day)"
                  " DO UPDATE SET count = downloads_daily.count + excluded.count"},
    [Q_DL_PACKAGE] = {"UPDATE packages SET downloads = downloads + ?2 WHERE id = ?1"},
    /* Per day: the total first (version NULL), then each version newest
     * first. ?2 NULL means since the beginning. */
    [Q_DAILY] = {"SELECT day, version, n FROM ("
                 " SELECT d.day AS day, v.version AS version, d.count AS n, 1 AS k,"
                 " v.major AS ma, v.minor AS mi, v.patch AS pa, v.prerelease IS NOT NULL AS pre,"
                 " v.published_at AS at, v.id AS vid" DAILY_FROM " UNION ALL"
                 " SELECT d.day, NULL, CAST(sum(d.count) AS BIGINT), 0, 0, 0, 0, false, 0, 0"
                 DAILY_FROM " GROUP BY d.day) t"
                 " ORDER BY day, k, ma DESC, mi DESC, pa DESC, pre, at DESC, vid DESC"},
    [Q_TOTALS] = {"SELECT (SELECT count(*) FROM packages), (SELECT count(*) FROM versions),"
                  " (SELECT count(*) FROM users),"
                  " (SELECT CAST(coalesce(sum(downloads), 0) AS BIGINT) FROM packages)"},
    TOP(Q_TOP_DOWNLOADS, "p.downloads"),
    TOP(Q_TOP_NEW, "p.created_at"),
    TOP(Q_TOP_UPDATED, "p.updated_at"),
    [Q_KEY_INSERT] = {"INSERT INTO signing_keys (user_id, key_id, algorithm, public_key, name,"
                      " created_at) VALUES (?1, ?2, coalesce(?3, 'ed25519'), ?4, ?5, ?6)"
                      " RETURNING id"},
    [Q_KEY_LIST] = {"SELECT " KEY_COLS " FROM signing_keys WHERE user_id = ?1"
                    " AND revoked_at IS NULL ORDER BY created_at, id"},
    [Q_KEY_GET] = {"SELECT " KEY_COLS " FROM signing_keys WHERE key_id = ?1"
                   " AND revoked_at IS NULL"},
    [Q_KEY_REVOKE] = {"UPDATE signing_keys SET revoked_at = ?3 WHERE user_id = ?1 AND key_id = ?2"
                      " AND revoked_at IS NULL"},
    /* ?3, ?6, ?8: the actions on retirement, deprecation and retraction; ?9 the retirement's time. */
    [Q_VERSION_STATUS] = {"UPDATE versions SET"
                          STATUS_SET("retired_reason", "?3", "CAST(?4 AS TEXT)", "NULL") ","
                          STATUS_SET("retired_message", "?3", "CAST(?5 AS TEXT)", "NULL") ","
                          STATUS_SET("retired_at", "?3", "CAST(?9 AS BIGINT)", "NULL") ","
                          STATUS_SET("deprecated", "?6", "CAST(?7 AS TEXT)", "NULL") ","
                          STATUS_SET("retracted", "?8", "true", "false") OF_VERSION},
    [Q_PKG_SET_META] = PKG_CHANGE("meta = coalesce(?2, '{}'), "),
    [Q_TAGS_LIST] = {"SELECT t.tag, v.version, t.updated_at FROM dist_tags t"
                     " JOIN versions v ON v.id = t.version_id WHERE t.package_id = ?1"
                     " ORDER BY t.tag"},
    /* Inserts nothing when the version does not exist (the caller checks
     * the change count). */
    [Q_TAG_UPSERT] = {"INSERT INTO dist_tags (package_id, tag, version_id, updated_at)"
                      " SELECT CAST(?1 AS BIGINT), CAST(?2 AS TEXT), v.id, CAST(?4 AS BIGINT)"
                      " FROM versions v WHERE v.package_id = CAST(?1 AS BIGINT)"
                      " AND v.version = CAST(?3 AS TEXT) ON CONFLICT (package_id, tag) DO UPDATE"
                      " SET version_id = excluded.version_id, updated_at = excluded.updated_at"},
    [Q_TAG_DELETE] = {"DELETE FROM dist_tags WHERE package_id = ?1 AND tag = ?2"},
    [Q_VERSION_FIND] = {"SELECT id, downloads FROM versions" OF_VERSION},
    /* Its dependencies, tags and daily download rows go by ON DELETE CASCADE. */
    [Q_VERSION_DELETE] = {"DELETE FROM versions WHERE id = ?1"},
    [Q_PKG_DL_SUB] = {"UPDATE packages SET downloads = downloads - ?2 WHERE id = ?1"},
    [Q_TOMBSTONE_INSERT] = {"INSERT INTO version_tombstones (package_id, version, deleted_at)"
                            " VALUES (?1, ?2, ?3) ON CONFLICT (package_id, version) DO NOTHING"},
    [Q_TOMBSTONE_CHECK] = {"SELECT 1 FROM version_tombstones" OF_VERSION},
    /* Its files go by ON DELETE CASCADE. */
    [Q_DOCS_SITE_DELETE] = {"DELETE FROM docs_sites" OF_VERSION},
    [Q_DOCS_SITE_INSERT] = {"INSERT INTO docs_sites (package_id, version, sha256, size,"
                            " created_at) VALUES (?1, ?2, ?3, ?4, ?5)"},
    [Q_DOCS_FILE_INSERT] = {"INSERT INTO docs_files (package_id, version, path, sha256, size)"
                            " VALUES (?1, ?2, ?3, ?4, ?5)"},
    [Q_DOCS_FILE] = {"SELECT path, sha256, size FROM docs_files" OF_VERSION " AND path = ?3"},
    [Q_DOCS_ARCHIVE] = {"SELECT sha256, size FROM docs_sites" OF_VERSION},
    /* Sites of known versions in version order, then (column 1 true) sites
     * whose version is gone, which the caller orders by their text. */
    [Q_DOCS_VERSIONS] = {"SELECT d.version, v.id IS NULL FROM docs_sites d"
                         " LEFT JOIN versions v ON v.package_id = d.package_id"
                         " AND v.version = d.version WHERE d.package_id = ?1"
                         " ORDER BY v.id IS NULL, " VERSION_ORDER ", d.version"},
    [Q_UPLOAD_INSERT] = {"INSERT INTO uploads (" UPLOAD_COLS ")"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"},
    [Q_UPLOAD_GET] = {"SELECT " UPLOAD_COLS " FROM uploads WHERE id = ?1"},
    [Q_UPLOAD_UPDATE] = {"UPDATE uploads SET sha256 = ?2, size = ?3, result = ?4, failed = ?5"
                         " WHERE id = ?1"},
    [Q_UPLOAD_EXPIRE] = {"DELETE FROM uploads WHERE expires_at <= ?1"},
    [Q_EMAIL_TOKEN_PURGE] = {"DELETE FROM email_tokens WHERE expires_at <= ?1"},
    [Q_EMAIL_TOKEN_REPLACE] = {"DELETE FROM email_tokens WHERE user_id = ?1 AND purpose = ?2"
                               " AND used_at IS NULL"},
    [Q_EMAIL_TOKEN_INSERT] = {"INSERT INTO email_tokens (hash, user_id, purpose, email,"
                              " created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
    [Q_EMAIL_TOKEN_GET] = {"SELECT " EMAIL_TOKEN_COLS " FROM email_tokens WHERE hash = ?1"
                           " AND purpose = ?2 AND used_at IS NULL AND expires_at > ?3"},
    /* One statement: of two concurrent uses, the second finds it used. */
    [Q_EMAIL_TOKEN_USE] = {"UPDATE email_tokens SET used_at = ?3 WHERE hash = ?1 AND purpose = ?2"
                           " AND used_at IS NULL AND expires_at > ?3"
                           " RETURNING " EMAIL_TOKEN_COLS},
    [Q_USER_SET_VERIFIED] = {"UPDATE users SET email_verified_at = ?2, updated_at = ?3"
                             " WHERE id = ?1"},
    [Q_USER_VERIFIED] = {"SELECT coalesce(email_verified_at, 0) FROM users WHERE id = ?1"},
    [Q_AUDIT_RECENT] = {"SELECT a.id, a.at, coalesce(a.user_id, 0), u.username, a.action,"
                        " a.target, a.detail, a.ip FROM audit_log a"
                        " LEFT JOIN users u ON u.id = a.user_id"
                        " ORDER BY a.at DESC, a.id DESC LIMIT ?1"},
    /* Starts from the dependency's name (indexed); a package counts once, by its latest version. */
    [Q_PKG_DEPENDENTS] = {"SELECT " PKG_LIST_COLS " FROM dependencies d"
                          " JOIN versions v ON v.id = d.version_id"
                          " JOIN packages p ON p.id = v.package_id"
                          " AND p.latest_version = v.version"
                          " WHERE d.name = ?2 AND d.kind <> 'dev' AND p.ecosystem = ?1"
                          " GROUP BY p.id ORDER BY p.downloads DESC, p.id DESC LIMIT ?3"},
    /* Addresses with a byte past ASCII: the only ones whose key (lib/emailkey.h) may differ from
     * the ASCII lower case stored before keys existed. */
    [Q_EMAIL_NON_ASCII] = {"SELECT id, email, email_lower FROM users WHERE email IS NOT NULL"
                           " AND length(email) <> length(CAST(email AS BLOB)) ORDER BY id",
                           "SELECT id, email, email_lower FROM users WHERE email IS NOT NULL"
                           " AND length(email) <> octet_length(email) ORDER BY id"},
    [Q_EMAIL_REKEY] = {"UPDATE users SET email_lower = ?2 WHERE id = ?1"},
};

/* ---- small pieces ----------------------------------------------------- */

int64_t store_now(void)
{
    return (int64_t)time(NULL);
}

bool store_given(const char *s)
{
    return s && *s;
}

int store_not_found(derr *e, const char *what)
{
    derr_set(e, 404, "not_found", "no such %s", what);
    return STORE_NOT_FOUND;
}

/* Each unique key by SQLite's column list and PostgreSQL's constraint name (fixed in
 * migrations_pg/, declared in the order SQLite checks them, so a row breaking two gets the
 * same sentence on both). */
static const struct {
    const char *columns, *constraint, *message;
} conflicts[] = {
    {"users.username_lower", "users_username_lower_key", "username is taken"},
    {"users.email_lower", "users_email_lower_key", "email is taken"},
    {"api_tokens.user_id, api_tokens.name", "api_tokens_user_id_name_key",
     "a token with this name exists"},
    {"api_tokens.hash", "api_tokens_hash_key", "a token with this secret exists"},
    {"packages.ecosystem, packages.normalized_name", "packages_ecosystem_normalized_name_key",
     "a package with this name exists"},
    {"versions.package_id, versions.version", "versions_package_id_version_key",
     "this version already exists"},
    {"owners.package_id, owners.user_id", "owners_pkey", "already an owner of this package"},
    {"signing_keys.key_id", "signing_keys_key_id_key", "this key is already registered"},
    {"signing_keys.user_id, signing_keys.name", "signing_keys_name", "a key with this name exists"},
    {"docs_files.package_id, docs_files.version, docs_files.path", "docs_files_pkey",
     "the docs site names a file twice"},
    {"uploads.id", "uploads_pkey", "an upload with this id exists"},
};

int store_conflict(derr *e, const char *sqlite_msg, const char *pg_constraint)
{
    const char *say = "it already exists";
    for (size_t i = 0; i < sizeof conflicts / sizeof conflicts[0]; i++)
        if ((sqlite_msg && strstr(sqlite_msg, conflicts[i].columns)) ||
            (pg_constraint && strcmp(pg_constraint, conflicts[i].constraint) == 0)) {
            say = conflicts[i].message;
            break;
        }
    derr_set(e, 409, "conflict", "%s", say);
    return STORE_CONFLICT;
}

int store_no_parent(derr *e)
{
    derr_set(e, 404, "not_found", "what it refers to does not exist");
    return STORE_NOT_FOUND;
}

int64_t store_clamp_limit(int64_t limit)
{
    return limit > STORE_MAX_PAGE ? STORE_MAX_PAGE : limit;
}

#define now_s store_now
#define not_found store_not_found
#define given store_given
#define clamp_limit store_clamp_limit

static const struct store_driver *drv(store *s)
{
    return ((struct store_base *)s)->drv;
}

/* Lower-cases ASCII letters into a new string the caller frees. Done here,
 * not with SQL lower(), so every engine folds the same way. */
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

bool store_text_valid(const char *s)
{
    return utf8_valid(s, strlen(s));
}

void store_sql_add(char *sql, size_t cap, size_t *len, const char *fmt, ...)
{
    if (*len >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(sql + *len, cap - *len, fmt, ap);
    va_end(ap);
    *len = n < 0 || (size_t)n >= cap - *len ? cap : *len + (size_t)n;
}

/* ---- every thread's connection -------------------------------------- */

/* The pthread key's destructor: a worker thread is exiting. */
static void conn_set_drop(void *p)
{
    sql_conn *c = p;
    struct conn_set *cs = c->set;
    pthread_mutex_lock(&cs->mu);
    list_unlink(&cs->conns, &c->link);
    cs->n--;
    pthread_mutex_unlock(&cs->mu);
    cs->close(c);
}

int conn_set_init(struct conn_set *cs, void (*close)(sql_conn *c))
{
    *cs = (struct conn_set){.close = close};
    if (pthread_key_create(&cs->key, conn_set_drop) != 0) {
        log_error("store error", "op", "open", "error", "no pthread key left", NULL);
        return -1;
    }
    pthread_mutex_init(&cs->mu, NULL);
    return 0;
}

sql_conn *conn_set_mine(struct conn_set *cs)
{
    return pthread_getspecific(cs->key);
}

void conn_set_add(struct conn_set *cs, sql_conn *c)
{
    c->set = cs;
    pthread_mutex_lock(&cs->mu);
    list_push_front(&cs->conns, &c->link);
    cs->n++;
    pthread_mutex_unlock(&cs->mu);
    pthread_setspecific(cs->key, c);
}

int conn_set_count(struct conn_set *cs)
{
    pthread_mutex_lock(&cs->mu);
    int n = cs->n;
    pthread_mutex_unlock(&cs->mu);
    return n;
}

void conn_set_close(struct conn_set *cs)
{
    /* Deleting the key first means no destructor starts from here on. */
    pthread_key_delete(cs->key);
    pthread_mutex_lock(&cs->mu);
    list_node *n = cs->conns.head;
    while (n) {
        sql_conn *c = list_entry(n, sql_conn, link);
        n = n->next;
        cs->close(c);
    }
    cs->conns = (list){0};
    cs->n = 0;
    pthread_mutex_unlock(&cs->mu);
    pthread_mutex_destroy(&cs->mu);
}

/* ---- running statements ---------------------------------------------- */

/* One parameter: a number, text (NULL is SQL NULL), or a time or id where
 * 0 means none (SQL NULL). */
struct param {
    const char *s;
    int64_t i;
    char kind; /* 'i', 't', 'm'; 0 ends the list */
};

/* Parameters ?1 upward, written in place: P(I(id), T(name)). Strings are borrowed. */
struct params {
    struct param v[SQL_MAX_PARAMS];
};
#define I(x) {.i = (int64_t)(x), .kind = 'i'}
#define T(x) {.s = (x), .kind = 't'}
#define TM(x) {.i = (int64_t)(x), .kind = 'm'}
#define B(x) {.i = (x) ? 1 : 0, .kind = 'i'}
#define P(...) (&(const struct params){{__VA_ARGS__}})

/* The text of q for this driver; NULL when its engine needs no such step. */
static const char *sql_of(const struct store_driver *d, enum query q)
{
    return d->dialect == SQL_POSTGRES && sql_text[q].pg ? sql_text[q].pg : sql_text[q].sql;
}

/* q prepared and bound with p (NULL: no parameters); NULL with e filled. */
static sql_stmt *q_bound(sql_conn *c, enum query q, const struct params *p, const char *op, derr *e)
{
    const struct store_driver *d = c->drv;
    sql_stmt *st = d->prepare(c, (int)q, sql_of(d, q), op, e);
    for (int i = 0; st && p && i < SQL_MAX_PARAMS && p->v[i].kind; i++) {
        const struct param *v = &p->v[i];
        if (v->kind == 'i' || (v->kind == 'm' && v->i))
            d->bind_i64(st, i + 1, v->i);
        else
            d->bind_text(st, i + 1, v->s);
    }
    return st;
}

static int64_t col_i64(sql_stmt *st, int i)
{
    return st->drv->col_i64(st, i);
}

static bool col_bool(sql_stmt *st, int i)
{
    return st->drv->col_i64(st, i) != 0;
}

static const char *col_text(arena *a, sql_stmt *st, int i)
{
    size_t len = 0;
    const char *t = st->drv->col_text(st, i, &len);
    return t ? arena_strndup(a, t, len) : NULL;
}

static int step(sql_stmt *st, derr *e)
{
    return st->drv->step(st, e);
}

static void release(sql_stmt *st)
{
    if (st)
        st->drv->release(st);
}

/* Runs q for its effect; *changed (when not NULL) gets the rows it changed.
 * A step this engine does not need is STORE_OK. */
static int q_exec(sql_conn *c, enum query q, const struct params *p, int64_t *changed,
                  const char *op, derr *e)
{
    if (!sql_of(c->drv, q))
        return STORE_OK;
    sql_stmt *st = q_bound(c, q, p, op, e);
    if (!st)
        return STORE_ERROR;
    int rc = step(st, e);
    int ret = rc == SQL_ROW || rc == SQL_DONE ? STORE_OK : rc;
    if (ret == STORE_OK && changed)
        *changed = st->drv->changes(st);
    release(st);
    return ret;
}

/* Runs q for its effect and answers "no such <what>" when it changed no
 * row (or named text nothing can hold). */
static int q_change(sql_conn *c, enum query q, const struct params *p, const char *what,
                    const char *op, derr *e)
{
    int64_t changed = 0;
    int ret = q_exec(c, q, p, &changed, op, e);
    if ((ret == STORE_OK && changed == 0) || ret == STORE_NOT_FOUND)
        ret = not_found(e, what);
    return ret;
}

typedef void reader(arena *a, sql_stmt *st, void *out);

/* Runs q and reads its first row with read into out. No row: "no such
 * <what>", or with what NULL STORE_NOT_FOUND and e left alone (a common
 * answer). A use of a mailed secret (UPDATE ... RETURNING) is stepped to
 * its end, so the update is complete before the statement is reset. */
static int q_one(sql_conn *c, arena *a, enum query q, const struct params *p, reader *read,
                 void *out, const char *what, const char *op, derr *e)
{
    sql_stmt *st = q_bound(c, q, p, op, e);
    if (!st)
        return STORE_ERROR;
    int rc = step(st, e), ret;
    if (rc == SQL_ROW) {
        if (read)
            read(a, st, out);
        while (q == Q_EMAIL_TOKEN_USE && (rc = step(st, e)) == SQL_ROW)
            ;
        ret = rc == SQL_ROW || rc == SQL_DONE ? STORE_OK : rc;
    } else if (rc == SQL_DONE || (rc == STORE_NOT_FOUND && what)) {
        ret = what ? not_found(e, what) : STORE_NOT_FOUND;
    } else {
        ret = rc;
    }
    release(st);
    return ret;
}

/* Steps a bound statement to the end, reading each row into a growing arena
 * array of `size`-byte elements. The caller releases st. */
static int collect(sql_stmt *st, arena *a, size_t size, reader *read, void **out, int *n, derr *e)
{
    char *arr = NULL;
    int count = 0, cap = 0, rc;
    while ((rc = step(st, e)) == SQL_ROW) {
        arr = arena_grow(a, arr, count, &cap, size);
        read(a, st, arr + (size_t)count * size);
        count++;
    }
    if (rc != SQL_DONE)
        return rc;
    *out = arr;
    *n = count;
    return STORE_OK;
}

/* Runs a list query into *out (an arena array of *n). */
static int q_list(sql_conn *c, arena *a, enum query q, const struct params *p, size_t size,
                  reader *read, void **out, int *n, const char *op, derr *e)
{
    *out = NULL;
    *n = 0;
    sql_stmt *st = q_bound(c, q, p, op, e);
    if (!st)
        return STORE_ERROR;
    int ret = collect(st, a, size, read, out, n, e);
    release(st);
    return ret;
}

/* The same four on this thread's connection, for operations of one statement. */
static int s_exec(store *s, enum query q, const struct params *p, int64_t *changed, const char *op,
                  derr *e)
{
    sql_conn *c = drv(s)->conn(s, e);
    return c ? q_exec(c, q, p, changed, op, e) : STORE_ERROR;
}

static int s_change(store *s, enum query q, const struct params *p, const char *what,
                    const char *op, derr *e)
{
    sql_conn *c = drv(s)->conn(s, e);
    return c ? q_change(c, q, p, what, op, e) : STORE_ERROR;
}

static int s_one(store *s, arena *a, enum query q, const struct params *p, reader *read,
                 void *out, const char *what, const char *op, derr *e)
{
    sql_conn *c = drv(s)->conn(s, e);
    return c ? q_one(c, a, q, p, read, out, what, op, e) : STORE_ERROR;
}

/* A list into *out, which keeps its type: an arena array of *n. */
#define S_LIST(s, a, q, p, read, out, n, op, e) \
    s_list(s, a, q, p, sizeof **(out), read, (void *)(out), n, op, e)
static int s_list(store *s, arena *a, enum query q, const struct params *p, size_t size,
                  reader *read, void *outp, int *n, const char *op, derr *e)
{
    void *arr = NULL;
    *n = 0;
    sql_conn *c = drv(s)->conn(s, e);
    int ret = c ? q_list(c, a, q, p, size, read, &arr, n, op, e) : STORE_ERROR;
    memcpy(outp, &arr, sizeof arr);
    return ret;
}

/* Write transactions. tx_pkg begins one with the package locked (PostgreSQL;
 * SQLite's BEGIN IMMEDIATE holds the whole file): STORE_OK or the failure,
 * nothing left open. */
static int tx_begin(sql_conn *c, const char *op, derr *e)
{
    return c->drv->begin(c, true, op, e);
}

static int tx_end(sql_conn *c, int ret, const char *op, derr *e)
{
    return c->drv->end(c, ret, op, e);
}

static int tx_pkg(sql_conn *c, int64_t package_id, const char *op, derr *e)
{
    int ret = tx_begin(c, op, e);
    if (ret != STORE_OK)
        return ret;
    ret = q_exec(c, Q_PKG_LOCK, P(I(package_id)), NULL, op, e);
    return ret == STORE_OK ? ret : tx_end(c, ret, op, e);
}

/* This thread's connection in a write transaction with the package locked, for a change named
 * by key (NULL: "no such <what>"; "" for changes named otherwise); NULL, with *ret the answer,
 * when there is none. */
static sql_conn *pkg_writer(store *s, int64_t package_id, const char *key, const char *what,
                            const char *op, derr *e, int *ret)
{
    *ret = STORE_ERROR;
    if (!key) {
        *ret = not_found(e, what);
        return NULL;
    }
    sql_conn *c = drv(s)->conn(s, e);
    return c && tx_pkg(c, package_id, op, e) == STORE_OK ? c : NULL;
}

/* The generation goes up with every change of the package. */
static int pkg_bump(sql_conn *c, int64_t package_id, const char *op, derr *e)
{
    return q_exec(c, Q_PKG_BUMP, P(I(package_id)), NULL, op, e);
}

/* One change of a package named by key (see pkg_writer), in one transaction: q with p, "no such
 * <what>" when it changed no row, then with bump the generation. */
static int pkg_change(store *s, int64_t package_id, const char *key, const char *what,
                      enum query q, const struct params *p, bool bump, const char *op, derr *e)
{
    int ret;
    sql_conn *c = pkg_writer(s, package_id, key, what, op, e, &ret);
    if (!c)
        return ret;
    ret = q_change(c, q, p, what, op, e);
    if (ret == STORE_OK && bump)
        ret = pkg_bump(c, package_id, op, e);
    return tx_end(c, ret, op, e);
}

/* How a reader takes one column into a row struct: an integer, text (copied
 * into the arena) or a boolean, at the field's offset. */
struct col {
    size_t off;
    char kind;
};
#define CI(f) {offsetof(ROW, f), 'i'}
#define CT(f) {offsetof(ROW, f), 't'}
#define CB(f) {offsetof(ROW, f), 'b'}
#define N(arr) (sizeof(arr) / sizeof((arr)[0]))

/* Reads the current row's columns from `first` on into out, as cols say. */
static void read_cols(arena *a, sql_stmt *st, void *out, const struct col *cols, int n, int first)
{
    for (int i = 0; i < n; i++) {
        void *at = (char *)out + cols[i].off;
        if (cols[i].kind == 't')
            *(const char **)at = col_text(a, st, first + i);
        else if (cols[i].kind == 'b')
            *(bool *)at = col_bool(st, first + i);
        else
            *(int64_t *)at = col_i64(st, first + i);
    }
}

/* A reader of the fields of ROW, in column order from `first`. */
#define READER(name, first, ...)                                 \
    static void name(arena *a, sql_stmt *st, void *out)          \
    {                                                            \
        static const struct col cols[] = {__VA_ARGS__};          \
        read_cols(a, st, out, cols, (int)N(cols), first);        \
    }

/* The id a RETURNING id statement gave, or any first integer column. */
static void read_id(arena *a, sql_stmt *st, void *out)
{
    (void)a;
    *(int64_t *)out = col_i64(st, 0);
}

/* ---- lifecycle ------------------------------------------------------- */

static void op_close(store *s)
{
    if (s)
        drv(s)->close(s);
}

/* Runs a schema_migrations statement made for one run, with ?1 version (when not 0), ?2 name
 * and ?3 now (when name is given); *value gets the first column of its row, *found whether
 * there was one. */
static int mig_stmt(sql_conn *c, const char *sql, int version, const char *name, bool *found,
                    int64_t *value, derr *e)
{
    const struct store_driver *d = c->drv;
    sql_stmt *st = d->prepare_once(c, sql, "migrate", e);
    if (!st)
        return STORE_ERROR;
    if (version)
        d->bind_i64(st, 1, version);
    if (name) {
        d->bind_text(st, 2, name);
        d->bind_i64(st, 3, now_s());
    }
    int rc = step(st, e);
    if (found)
        *found = rc == SQL_ROW;
    if (value && rc == SQL_ROW)
        *value = col_i64(st, 0);
    release(st);
    return rc == SQL_ROW || rc == SQL_DONE ? STORE_OK : rc;
}

/* Applies one migration in its own write transaction, after checking in it
 * that no other process applied it meanwhile. Returns 1 when applied, 0
 * when it already was, STORE_ERROR on failure. */
static int apply_migration(sql_conn *c, const struct migration *m, derr *e)
{
    static const char op[] = "migrate";
    if (tx_begin(c, op, e) != STORE_OK)
        return STORE_ERROR;
    bool done = false;
    int ret = mig_stmt(c, "SELECT 1 FROM schema_migrations WHERE version = ?1", m->version, NULL,
                       &done, NULL, e);
    if (ret == STORE_OK && done)
        return tx_end(c, STORE_OK, op, e) == STORE_OK ? 0 : STORE_ERROR;
    if (ret == STORE_OK)
        ret = c->drv->migrate_script(c, m, e);
    if (ret == STORE_OK)
        ret = mig_stmt(c, "INSERT INTO schema_migrations (version, name, applied_at)"
                          " VALUES (?1, ?2, ?3)", m->version, m->name, NULL, NULL, e);
    if (tx_end(c, ret, op, e) != STORE_OK)
        return STORE_ERROR;
    char version[24];
    snprintf(version, sizeof version, "%d", m->version);
    log_info("schema migration applied", "version", version, "name", m->name, NULL);
    return 1;
}

/* Where the applied migrations are recorded, in each dialect's integer type. */
#define MIGRATIONS_TABLE(integer)                                                            \
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"              \
    " name TEXT NOT NULL, applied_at " integer " NOT NULL)"
static const char *const migrations_table[] = {
    [SQL_SQLITE] = MIGRATIONS_TABLE("INTEGER"),
    [SQL_POSTGRES] = MIGRATIONS_TABLE("BIGINT"),
};

/* A database migrated by a newer depot may hold tables this one would
 * misuse: refuse rather than guess. */
static int migrations_known(sql_conn *c, derr *e)
{
    const struct store_driver *d = c->drv;
    int known = 0;
    for (int i = 0; i < *d->migrations_count; i++)
        if (d->migrations[i].version > known)
            known = d->migrations[i].version;
    int64_t have = 0;
    int ret = d->exec(c, migrations_table[d->dialect], "migrate", e);
    if (ret == STORE_OK)
        ret = mig_stmt(c, "SELECT coalesce(max(version), 0) FROM schema_migrations", 0, NULL, NULL,
                       &have, e);
    if (ret != STORE_OK || have <= known)
        return ret;
    char h[24], k[24];
    snprintf(h, sizeof h, "%lld", (long long)have);
    snprintf(k, sizeof k, "%d", known);
    log_error("the database schema is newer than this program", "database", h, "program", k,
              NULL);
    return derr_set(e, 500, "internal",
                    "the database was migrated by a newer depot (schema %lld, this one knows "
                    "%d); upgrade depot",
                    (long long)have, known);
}

struct email_row {
    int64_t id;
    const char *email, *key;
};
#define ROW struct email_row
READER(read_email_row, 0, CI(id), CT(email), CT(key))
#undef ROW

/* Gives every stored address with non-ASCII text its key (lib/emailkey.h), in one transaction:
 * rows stored before keys existed hold their ASCII lower case. An address whose key another
 * account's address already has keeps its old key, with a warning: the two accounts were
 * registered before look-alikes were refused, and an admin decides which address stays. */
static int email_rekey(sql_conn *c, derr *e)
{
    static const char op[] = "email_rekey";
    arena *a = arena_new(0);
    struct email_row *rows = NULL;
    int n = 0;
    int ret = tx_begin(c, op, e);
    if (ret == STORE_OK)
        ret = q_list(c, a, Q_EMAIL_NON_ASCII, NULL, sizeof *rows, read_email_row, (void **)&rows, &n, op, e);
    for (int i = 0; i < n && ret == STORE_OK; i++) {
        char *key = email_key(rows[i].email);
        if (key && strcmp(key, rows[i].key ? rows[i].key : "") != 0) {
            char id[24];
            snprintf(id, sizeof id, "%lld", (long long)rows[i].id);
            ret = q_one(c, NULL, Q_USER_BY_LOGIN, P(T(""), T(key)), NULL, NULL, NULL, op, e);
            if (ret == STORE_OK)
                log_warn("an account's email address has a look-alike in another account; left as it was",
                         "user_id", id, NULL);
            else if (ret == STORE_NOT_FOUND)
                ret = q_exec(c, Q_EMAIL_REKEY, P(I(rows[i].id), T(key)), NULL, op, e);
        }
        free(key);
    }
    arena_free(a);
    return tx_end(c, ret, op, e);
}

/* Runs the migrations that are missing, one transaction each, under the
 * engine's hold (PostgreSQL: an advisory lock, so servers starting together
 * migrate one after the other; SQLite: each transaction's write lock). */
static int op_migrate(store *s, int *applied, derr *e)
{
    const struct store_driver *d = drv(s);
    int count = 0;
    if (applied)
        *applied = 0;
    sql_conn *c = d->conn(s, e);
    if (!c)
        return STORE_ERROR;
    if (d->migrate_hold && d->migrate_hold(c, true, e) != STORE_OK)
        return STORE_ERROR;
    int ret = migrations_known(c, e);
    for (int i = 0; i < *d->migrations_count && ret == STORE_OK; i++) {
        int r = apply_migration(c, &d->migrations[i], e);
        if (r < 0)
            ret = STORE_ERROR;
        else
            count += r;
    }
    if (ret == STORE_OK)
        ret = email_rekey(c, e);
    if (d->migrate_hold)
        d->migrate_hold(c, false, NULL);
    if (applied)
        *applied = count;
    return ret;
}

static int op_ping(store *s, derr *e)
{
    return s_exec(s, Q_PING, NULL, NULL, "ping", e);
}

static int op_integrity(store *s, arena *a, const char **report, derr *e)
{
    return drv(s)->integrity(s, a, report, e);
}

static int op_backup(store *s, const char *path, derr *e)
{
    return drv(s)->backup(s, path, e);
}

/* ---- users ----------------------------------------------------------- */

#define ROW store_user
READER(read_user, 0,
    CI(id), CT(username), CT(email), CT(password_hash), CB(is_admin), CB(disabled),
    CI(created_at), CI(password_changed_at), CI(session_epoch), CB(show_email))
/* What a user insert gives back. */
READER(read_user_created, 0, CI(id), CB(is_admin))
#undef ROW

/* Runs an INSERT ... RETURNING id into *id; a missing parent row is "no such <parent>". */
static int s_insert(store *s, enum query q, const struct params *p, int64_t *id,
                    const char *parent, const char *op, derr *e)
{
    int ret = s_one(s, NULL, q, p, read_id, id, NULL, op, e);
    if (ret == STORE_NOT_FOUND && parent)
        not_found(e, parent);
    return ret;
}

/* One transaction: the registration lock (PostgreSQL), then the insert, which makes the account
 * an admin when asked or when it is the store's first (u->is_admin says which it became). */
static int op_user_create(store *s, store_user *u, derr *e)
{
    static const char op[] = "user_create";
    sql_conn *c = drv(s)->conn(s, e);
    if (!c || tx_begin(c, op, e) != STORE_OK)
        return STORE_ERROR;
    char *ulower = ascii_lower(u->username);
    char *elower = email_key(u->email);
    int64_t created = u->created_at > 0 ? u->created_at : now_s();
    int ret = q_exec(c, Q_USER_LOCK, NULL, NULL, op, e);
    if (ret == STORE_OK)
        ret = q_one(c, NULL, Q_USER_INSERT,
                    P(T(u->username), T(ulower), T(u->email), T(elower), T(u->password_hash),
                      B(u->is_admin), B(u->disabled), I(created)),
                    read_user_created, u, NULL, op, e);
    free(ulower);
    free(elower);
    ret = tx_end(c, ret, op, e);
    if (ret == STORE_OK)
        u->created_at = created;
    return ret;
}

static int op_user_by_id(store *s, arena *a, int64_t id, store_user *out, derr *e)
{
    return s_one(s, a, Q_USER_BY_ID, P(I(id)), read_user, out, "user", "user_by_id", e);
}

/* By username or by email, both case-insensitive. */
static int op_user_by_login(store *s, arena *a, const char *login, store_user *out, derr *e)
{
    if (!login)
        return not_found(e, "user");
    char *lower = ascii_lower(login), *key = email_key(login);
    int ret = s_one(s, a, Q_USER_BY_LOGIN, P(T(lower), T(key)), read_user, out, "user", "user_by_login",
                    e);
    free(lower);
    free(key);
    return ret;
}

static int op_user_list(store *s, arena *a, store_user **out, int *n, derr *e)
{
    return S_LIST(s, a, Q_USER_LIST, NULL, read_user, out, n, "user_list", e);
}

/* The single-column user updates: ?1 id, ?2 value, ?3 now. */
static int op_user_set_password(store *s, int64_t id, const char *hash, derr *e)
{
    return s_change(s, Q_USER_SET_PASSWORD, P(I(id), T(hash), I(now_s())), "user",
                    "user_set_password", e);
}

static int op_user_set_disabled(store *s, int64_t id, bool disabled, derr *e)
{
    return s_change(s, Q_USER_SET_DISABLED, P(I(id), B(disabled), I(now_s())), "user",
                    "user_set_disabled", e);
}

static int op_user_set_admin(store *s, int64_t id, bool admin, derr *e)
{
    return s_change(s, Q_USER_SET_ADMIN, P(I(id), B(admin), I(now_s())), "user", "user_set_admin",
                    e);
}

static int op_user_set_show_email(store *s, int64_t id, bool show, derr *e)
{
    return s_change(s, Q_USER_SET_SHOW_EMAIL, P(I(id), B(show), I(now_s())), "user",
                    "user_set_show_email", e);
}

/* at 0 clears it. */
static int op_user_set_email_verified(store *s, int64_t id, int64_t at, derr *e)
{
    return s_change(s, Q_USER_SET_VERIFIED, P(I(id), TM(at), I(now_s())), "user",
                    "user_set_email_verified", e);
}

static int op_user_email_verified(store *s, int64_t id, int64_t *at, derr *e)
{
    *at = 0;
    return s_one(s, NULL, Q_USER_VERIFIED, P(I(id)), read_id, at, "user", "user_email_verified", e);
}

/* ---- tokens ---------------------------------------------------------- */

#define ROW store_token
READER(read_token, 0,
    CI(id), CI(user_id), CT(name), CT(hash), CT(prefix), CT(scopes), CI(created_at),
    CI(expires_at), CI(last_used_at))
#undef ROW

/* Fills t->id, and t->created_at when the caller left it 0. STORE_CONFLICT
 * when the user already has a token of this name; STORE_NOT_FOUND when the
 * user does not exist. */
static int op_token_create(store *s, store_token *t, derr *e)
{
    int64_t created = t->created_at > 0 ? t->created_at : now_s();
    int ret = s_insert(s, Q_TOKEN_INSERT,
                       P(I(t->user_id), T(t->name), T(t->hash), T(t->prefix),
                         T(t->scopes ? t->scopes : ""), I(created), TM(t->expires_at),
                         TM(t->last_used_at)),
                       &t->id, "user", "token_create", e);
    if (ret == STORE_OK)
        t->created_at = created;
    return ret;
}

static int op_token_by_hash(store *s, arena *a, const char *hash, store_token *out, derr *e)
{
    if (!hash)
        return not_found(e, "token");
    return s_one(s, a, Q_TOKEN_BY_HASH, P(T(hash)), read_token, out, "token", "token_by_hash", e);
}

static int op_token_by_name(store *s, arena *a, int64_t user_id, const char *name,
                            store_token *out, derr *e)
{
    if (!name)
        return not_found(e, "token");
    return s_one(s, a, Q_TOKEN_BY_NAME, P(I(user_id), T(name)), read_token, out, "token",
                 "token_by_name", e);
}

static int op_token_list(store *s, arena *a, int64_t user_id, store_token **out, int *n, derr *e)
{
    return S_LIST(s, a, Q_TOKEN_LIST, P(I(user_id)), read_token, out, n, "token_list", e);
}

static int op_token_delete(store *s, int64_t user_id, const char *name, derr *e)
{
    return s_change(s, Q_TOKEN_DELETE, P(I(user_id), T(name)), "token", "token_delete", e);
}

/* Sets last_used_at = now unless it is already within TOUCH_SLACK_S of now,
 * so a token used in a burst costs one write a minute, not one a request.
 * STORE_OK also when nothing was written (recent, or no such token). */
static int op_token_touch(store *s, int64_t id, int64_t now, derr *e)
{
    return s_exec(s, Q_TOKEN_TOUCH, P(I(id), I(now), I(TOUCH_SLACK_S)), NULL, "token_touch", e);
}

/* ---- revoked JWTs, counters, audit ----------------------------------- */

/* Records the jti (again is fine) and, in the same transaction, forgets
 * every revoked JWT that has expired by now: they fail on expiry anyway. */
static int op_jwt_revoke(store *s, const char *jti, int64_t expires_at, derr *e)
{
    static const char op[] = "jwt_revoke";
    sql_conn *c = drv(s)->conn(s, e);
    if (!c || tx_begin(c, op, e) != STORE_OK)
        return STORE_ERROR;
    int ret = q_exec(c, Q_JWT_PURGE, P(I(now_s())), NULL, op, e);
    if (ret == STORE_OK)
        ret = q_exec(c, Q_JWT_INSERT, P(T(jti), I(expires_at)), NULL, op, e);
    return tx_end(c, ret, op, e);
}

/* Not revoked is the common answer: STORE_NOT_FOUND with e left alone. */
static int op_jwt_is_revoked(store *s, const char *jti, derr *e)
{
    if (!jti)
        return STORE_NOT_FOUND;
    return s_one(s, NULL, Q_JWT_CHECK, P(T(jti)), NULL, NULL, NULL, "jwt_is_revoked", e);
}

/* One integer from the settings table (auth_epoch, eco_gen:<ecosystem>); 0 when absent. */
static int settings_counter(store *s, enum query q, const char *arg, int64_t *out, const char *op,
                            derr *e)
{
    *out = 0;
    if (arg && !store_text_valid(arg))
        return STORE_OK; /* no such ecosystem */
    int ret = s_one(s, NULL, q, arg ? P(T(arg)) : NULL, read_id, out, NULL, op, e);
    return ret == STORE_NOT_FOUND ? STORE_OK : ret;
}

static int op_auth_epoch(store *s, int64_t *out, derr *e)
{
    return settings_counter(s, Q_AUTH_EPOCH, NULL, out, "auth_epoch", e);
}

static int op_eco_generation(store *s, const char *ecosystem, int64_t *out, derr *e)
{
    return settings_counter(s, Q_ECO_GEN, ecosystem ? ecosystem : "", out, "eco_generation", e);
}

static int op_audit(store *s, const store_audit *ev, derr *e)
{
    return s_exec(s, Q_AUDIT_INSERT,
                  P(I(now_s()), TM(ev->user_id), T(ev->action), T(ev->target), T(ev->detail),
                    T(ev->ip)),
                  NULL, "audit", e);
}

/* ---- packages and versions ------------------------------------------- */

#define ROW store_package
READER(read_package, 0,
    CI(id), CT(ecosystem), CT(name), CT(normalized_name), CT(description), CT(homepage),
    CT(repository), CT(documentation), CT(license), CT(keywords), CT(categories), CT(tags),
    CT(authors), CT(readme), CB(require_signatures), CT(latest_version), CI(generation),
    CI(downloads), CT(meta), CI(created_at), CI(updated_at))
#undef ROW

int store_read_packages(sql_stmt *st, arena *a, store_package **out, int *n, derr *e)
{
    void *arr = NULL;
    int ret = collect(st, a, sizeof **out, read_package, &arr, n, e);
    *out = arr;
    return ret;
}

#define ROW store_version
static const struct col version_cols[] = {
    CI(id), CI(package_id), CT(version), CI(major), CI(minor), CI(patch), CT(prerelease),
    CT(sha256), CI(size), CT(manifest), CT(signature), CT(signing_key_id), CI(publisher_id),
    CT(publisher), CI(published_at), CB(yanked), CI(yanked_at), CT(retired_reason),
    CT(retired_message), CI(downloads), CT(extra), CT(deprecated), CB(retracted), CI(retired_at)};
#undef ROW

static void read_version(arena *a, sql_stmt *st, void *out)
{
    store_version *v = out;
    read_cols(a, st, out, version_cols, (int)N(version_cols), 0);
    v->deps = NULL;
    v->ndeps = 0;
}

/* Column 0 is the version's id, read by the caller. */
#define ROW store_dep
READER(read_dep, 1,
    CT(name), CT(requirement), CT(kind), CT(extra))
#undef ROW

static int op_pkg_get(store *s, arena *a, const char *ecosystem, const char *normalized,
                      store_package *out, derr *e)
{
    if (!ecosystem || !normalized)
        return not_found(e, "package");
    return s_one(s, a, Q_PKG_GET, P(T(ecosystem), T(normalized)), read_package, out, "package",
                 "pkg_get", e);
}

/* One indexed look-up that reads one integer: cheap enough to run before
 * every cached read. */
static int op_pkg_generation(store *s, const char *ecosystem, const char *normalized,
                             int64_t *gen, derr *e)
{
    if (!ecosystem || !normalized)
        return not_found(e, "package");
    return s_one(s, NULL, Q_PKG_GENERATION, P(T(ecosystem), T(normalized)), read_id, gen,
                 "package", "pkg_generation", e);
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

/* Reads the dependencies a bound deps query yields (rows ordered by
 * version id) into the versions they belong to; one pass, no query per
 * version. The caller releases st. */
static int attach_deps(sql_stmt *st, arena *a, store_version *vs, int n, derr *e)
{
    if (n == 0)
        return STORE_OK;
    struct version_slot *slots = xmalloc((size_t)n * sizeof *slots);
    for (int i = 0; i < n; i++)
        slots[i] = (struct version_slot){vs[i].id, i};
    qsort(slots, (size_t)n, sizeof *slots, slot_cmp);
    store_version *cur = NULL; /* the version the current run of rows belongs to */
    int64_t cur_id = 0;
    bool started = false;
    int cap = 0, rc;
    while ((rc = step(st, e)) == SQL_ROW) {
        int64_t vid = col_i64(st, 0);
        if (!started || vid != cur_id) {
            struct version_slot key = {vid, 0};
            struct version_slot *hit = bsearch(&key, slots, (size_t)n, sizeof *slots, slot_cmp);
            cur = hit ? &vs[hit->index] : NULL;
            cur_id = vid;
            started = true;
            cap = 0;
        }
        if (!cur)
            continue;
        cur->deps = arena_grow(a, cur->deps, cur->ndeps, &cap, sizeof *cur->deps);
        read_dep(a, st, &cur->deps[cur->ndeps++]);
    }
    free(slots);
    return rc == SQL_DONE ? STORE_OK : rc;
}

/* Two queries in one read transaction: the versions, then every dependency
 * of the package, matched to its version by id. */
static int op_pkg_versions(store *s, arena *a, int64_t package_id, store_version **out, int *n,
                           derr *e)
{
    static const char op[] = "pkg_versions";
    *out = NULL;
    *n = 0;
    sql_conn *c = drv(s)->conn(s, e);
    if (!c || c->drv->begin(c, false, op, e) != STORE_OK)
        return STORE_ERROR;
    void *arr = NULL;
    int count = 0;
    int ret = q_list(c, a, Q_VERSION_LIST, P(I(package_id)), sizeof **out, read_version, &arr,
                     &count, op, e);
    if (ret == STORE_OK && count > 0) {
        sql_stmt *st = q_bound(c, Q_DEPS_OF_PACKAGE, P(I(package_id)), op, e);
        ret = st ? attach_deps(st, a, arr, count, e) : STORE_ERROR;
        release(st);
    }
    ret = tx_end(c, ret, op, e);
    if (ret == STORE_OK) {
        *out = arr;
        *n = count;
    }
    return ret;
}

/* One version with its dependencies, in one read transaction. */
static int op_version_get(store *s, arena *a, int64_t package_id, const char *version,
                          store_version *out, derr *e)
{
    static const char op[] = "version_get";
    if (!version)
        return not_found(e, "version");
    sql_conn *c = drv(s)->conn(s, e);
    if (!c || c->drv->begin(c, false, op, e) != STORE_OK)
        return STORE_ERROR;
    int ret = q_one(c, a, Q_VERSION_GET, P(I(package_id), T(version)), read_version, out,
                    "version", op, e);
    if (ret == STORE_OK) {
        void *deps = NULL;
        ret = q_list(c, a, Q_DEPS_OF_VERSION, P(I(out->id)), sizeof *out->deps, read_dep, &deps,
                     &out->ndeps, op, e);
        out->deps = deps;
    }
    return tx_end(c, ret, op, e);
}

/* Recomputes latest_version and adds `bump` to the generation, setting
 * updated_at when it is not 0; *gen gets the new generation when not NULL.
 * Runs inside the caller's transaction (after its package lock). */
static int pkg_settle(sql_conn *c, int64_t package_id, int64_t bump, int64_t updated_at,
                      int64_t *gen, const char *op, derr *e)
{
    int64_t g = 0;
    int ret = q_one(c, NULL, Q_PKG_SETTLE, P(I(package_id), I(bump), TM(updated_at)), read_id, &g,
                    NULL, op, e);
    if (ret == STORE_NOT_FOUND)
        ret = not_found(e, "package");
    if (ret == STORE_OK && gen)
        *gen = g;
    return ret;
}

/* Text of a column cut to fit a caller's buffer. */
struct cut {
    char *buf;
    size_t cap;
    int col;
    int64_t *id; /* column 0, when not NULL */
};

static void read_cut(arena *a, sql_stmt *st, void *out)
{
    (void)a;
    struct cut *k = out;
    size_t len = 0;
    const char *t = st->drv->col_text(st, k->col, &len);
    if (k->id)
        *k->id = col_i64(st, 0);
    if (k->buf)
        snprintf(k->buf, k->cap, "%.*s", t ? (int)len : 0, t ? t : "");
}

/* Finds the package by (ecosystem, normalized name) under the write lock
 * (PostgreSQL: and locks it): STORE_OK with *id and name (cut to fit)
 * filled, or STORE_NOT_FOUND with e left alone. */
static int publish_find(sql_conn *c, const store_package *pkg, int64_t *id, char *name,
                        size_t cap, const char *op, derr *e)
{
    struct cut k = {name, cap, 1, id};
    return q_one(c, NULL, Q_PKG_FIND, P(T(pkg->ecosystem), T(pkg->normalized_name)), read_cut, &k,
                 NULL, op, e);
}

/* publish_create's answer when another transaction made the package first. */
#define RACED 10

/* Creates the package from p->pkg, its publisher its owner; RACED when the
 * package appeared meanwhile (nothing was written). */
static int publish_create(sql_conn *c, store_publish *p, int64_t publisher, int64_t now,
                          const char *op, derr *e)
{
    const store_package *pkg = &p->pkg;
    sql_stmt *st = q_bound(c, Q_PKG_INSERT,
                           P(T(pkg->ecosystem), T(pkg->name ? pkg->name : pkg->normalized_name),
                             T(pkg->normalized_name), T(pkg->description), T(pkg->homepage),
                             T(pkg->repository), T(pkg->documentation), T(pkg->license),
                             T(pkg->keywords), T(pkg->categories), T(pkg->tags), T(pkg->authors),
                             T(pkg->readme), B(pkg->require_signatures), T(pkg->meta), I(now)),
                           op, e);
    if (!st)
        return STORE_ERROR;
    int ret = step(st, e);
    if (ret == SQL_ROW)
        p->pkg.id = col_i64(st, 0);
    release(st);
    if (ret == SQL_DONE)
        return RACED;
    if (ret != SQL_ROW)
        return ret;
    ret = q_exec(c, Q_OWNER_INSERT, P(I(p->pkg.id), I(publisher), T("owner"), I(now)), NULL, op, e);
    if (ret == STORE_NOT_FOUND)
        not_found(e, "publisher");
    return ret;
}

/* For an existing package: checks ownership when asked, then refreshes the
 * descriptive fields unless a higher version is already the latest. */
static int publish_refresh(sql_conn *c, store_publish *p, int64_t publisher, const char *op,
                           derr *e)
{
    if (p->check_owner) {
        int ret = q_one(c, NULL, Q_OWNER_LEVEL, P(I(p->pkg.id), I(publisher)), NULL, NULL, NULL,
                        op, e);
        if (ret == STORE_NOT_FOUND) {
            derr_set(e, 403, "forbidden", "you are not an owner of this package");
            return STORE_FORBIDDEN;
        }
        if (ret != STORE_OK)
            return ret;
    }
    const store_package *pkg = &p->pkg;
    const store_version *v = &p->ver;
    return q_exec(c, Q_PKG_REFRESH,
                  P(I(pkg->id), T(pkg->description), T(pkg->homepage), T(pkg->repository),
                    T(pkg->documentation), T(pkg->license), T(pkg->keywords), T(pkg->categories),
                    T(pkg->tags), T(pkg->authors), T(pkg->readme), T(pkg->meta), I(v->major),
                    I(v->minor), I(v->patch), I(v->prerelease && *v->prerelease ? 0 : 1)),
                  NULL, op, e);
}

/* Whether the version of the package is tombstoned: STORE_OK yes,
 * STORE_NOT_FOUND no (e left alone: a common answer). */
static int tombstone_has(sql_conn *c, int64_t package_id, const char *version, const char *op,
                         derr *e)
{
    return q_one(c, NULL, Q_TOMBSTONE_CHECK, P(I(package_id), T(version)), NULL, NULL, NULL, op, e);
}

/* Points the tag at the version (creating or moving it). STORE_NOT_FOUND
 * when the package has no such version. Runs inside the caller's
 * transaction and bumps nothing. */
static int tag_upsert(sql_conn *c, int64_t package_id, const char *tag, const char *version,
                      int64_t now, const char *op, derr *e)
{
    int64_t changed = 0;
    int ret = q_exec(c, Q_TAG_UPSERT, P(I(package_id), T(tag), T(version), I(now)), &changed, op, e);
    return ret == STORE_OK && changed == 0 ? not_found(e, "version") : ret;
}

/* Inserts p->ver and its dependencies into package p->pkg.id, refusing a
 * tombstoned version. `name` is the package's name, for the conflict
 * messages. */
static int publish_version(sql_conn *c, store_publish *p, const char *name, int64_t publisher,
                           int64_t now, const char *op, derr *e)
{
    store_version *v = &p->ver;
    int ret = p->created ? STORE_NOT_FOUND : tombstone_has(c, p->pkg.id, v->version, op, e);
    if (ret == STORE_OK) {
        derr_set(e, 409, "conflict", "version %s of %s was removed and cannot be published again",
                 v->version, name);
        return STORE_CONFLICT;
    }
    if (ret != STORE_NOT_FOUND) /* a package made just now has no tombstones */
        return ret;
    ret = q_one(c, NULL, Q_VERSION_INSERT,
                P(I(p->pkg.id), T(v->version), I(v->major), I(v->minor), I(v->patch),
                  T(v->prerelease), T(v->sha256), I(v->size), T(v->manifest), T(v->signature),
                  T(v->signing_key_id), TM(publisher), I(now), T(v->extra)),
                read_id, &v->id, NULL, op, e);
    if (ret == STORE_CONFLICT)
        derr_set(e, 409, "conflict", "version %s of %s already exists", v->version, name);
    else if (ret == STORE_NOT_FOUND)
        not_found(e, "publisher");
    if (ret != STORE_OK)
        return ret;
    v->package_id = p->pkg.id;
    for (int i = 0; i < v->ndeps && ret == STORE_OK; i++) {
        const store_dep *d = &v->deps[i];
        ret = q_exec(c, Q_DEP_INSERT,
                     P(I(v->id), T(d->name), T(d->requirement), T(d->kind), T(d->extra)), NULL, op,
                     e);
    }
    return ret;
}

static int delete_version_tx(sql_conn *c, int64_t package_id, const char *version,
                             bool tombstone, int64_t now, const char *op, derr *e);

/* Finds the package of p, or creates it (p->created); name gets its name. */
static int publish_package(sql_conn *c, store_publish *p, int64_t publisher, int64_t now,
                           char *name, size_t cap, const char *op, derr *e)
{
    int ret = publish_find(c, &p->pkg, &p->pkg.id, name, cap, op, e);
    if (ret != STORE_NOT_FOUND)
        return ret;
    ret = publish_create(c, p, publisher, now, op, e);
    if (ret == STORE_OK) {
        p->created = true;
        snprintf(name, cap, "%s", p->pkg.name ? p->pkg.name : p->pkg.normalized_name);
    } else if (ret == RACED) {
        ret = publish_find(c, &p->pkg, &p->pkg.id, name, cap, op, e);
        if (ret == STORE_NOT_FOUND) { /* made and removed meanwhile: cannot happen today */
            log_error("store error", "op", op, "error", "the package vanished during publish",
                      NULL);
            ret = derr_set(e, 503, "unavailable", "the store is busy; try again");
        }
    }
    return ret;
}

/* The whole publish in one write transaction (SQLite's write lock, or on
 * PostgreSQL the package's row lock), so two publishers of the same package
 * queue up and the second sees what the first wrote; a package created by
 * someone else between the look-up and the insert is found again and
 * published to as an existing one. published_at 0 means now; it is also the
 * package's updated_at (and created_at when this creates it), and the time
 * of p->tag when one is given. */
static int op_publish(store *s, store_publish *p, derr *e)
{
    static const char op[] = "publish";
    if (!p->pkg.ecosystem || !p->pkg.normalized_name || !p->ver.version) {
        log_error("store error", "op", op, "error", "ecosystem, name and version are required",
                  NULL);
        return derr_set(e, 500, "internal", "the store failed; see the server log");
    }
    sql_conn *c = drv(s)->conn(s, e);
    if (!c)
        return STORE_ERROR;
    int64_t now = p->ver.published_at > 0 ? p->ver.published_at : now_s();
    int64_t publisher = p->publisher_id ? p->publisher_id : p->ver.publisher_id;
    p->created = false;
    if (tx_begin(c, op, e) != STORE_OK)
        return STORE_ERROR;
    char name[128]; /* for the conflict message */
    int ret = publish_package(c, p, publisher, now, name, sizeof name, op, e);
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

static int op_version_yank(store *s, int64_t package_id, const char *version, bool yanked,
                           int64_t now, derr *e)
{
    static const char op[] = "version_yank";
    int ret;
    sql_conn *c = pkg_writer(s, package_id, version, "version", op, e, &ret);
    if (!c)
        return ret;
    int64_t changed = 0;
    ret = q_exec(c, Q_VERSION_YANK,
                     P(I(package_id), T(version), B(yanked), I(now > 0 ? now : now_s())), &changed,
                     op, e);
    if (ret == STORE_OK && changed == 0)
        ret = not_found(e, "version");
    if (ret == STORE_OK)
        ret = pkg_settle(c, package_id, 1, 0, NULL, op, e);
    return tx_end(c, ret, op, e);
}

static int op_pkg_set_require_signatures(store *s, int64_t package_id, bool on, derr *e)
{
    return s_change(s, Q_PKG_SET_SIGNATURES, P(I(package_id), B(on)), "package",
                    "pkg_set_require_signatures", e);
}

/* meta NULL stores "{}". One statement, so the bump goes with it. */
static int op_pkg_set_meta(store *s, int64_t package_id, const char *meta, derr *e)
{
    return s_change(s, Q_PKG_SET_META, P(I(package_id), T(meta)), "package", "pkg_set_meta", e);
}

/* ---- owners ---------------------------------------------------------- */

#define ROW store_owner
READER(read_owner, 0,
    CI(user_id), CT(username), CT(email), CT(level), CI(added_at), CB(show_email))
#undef ROW

/* Owners in the order they were added; an unknown package has none. */
static int op_owners_list(store *s, arena *a, int64_t package_id, store_owner **out, int *n,
                          derr *e)
{
    return S_LIST(s, a, Q_OWNERS_LIST, P(I(package_id)), read_owner, out, n, "owners_list", e);
}

/* The owner's level ("owner" or "maintainer") into level when not NULL:
 * STORE_OK, or STORE_NOT_FOUND (e left alone) when the user is not an owner. */
static int owner_level(sql_conn *c, int64_t package_id, int64_t user_id, char *level, size_t cap,
                       const char *op, derr *e)
{
    struct cut k = {level, cap, 0, NULL};
    return q_one(c, NULL, Q_OWNER_LEVEL, P(I(package_id), I(user_id)), read_cut, &k, NULL, op, e);
}

/* Any level counts; e is left alone on STORE_NOT_FOUND (a common answer). */
static int op_owner_is(store *s, int64_t package_id, int64_t user_id, derr *e)
{
    sql_conn *c = drv(s)->conn(s, e);
    return c ? owner_level(c, package_id, user_id, NULL, 0, "owner_is", e) : STORE_ERROR;
}

/* level NULL means "owner". STORE_NOT_FOUND when the package or the user
 * does not exist. */
static int op_owner_add(store *s, int64_t package_id, int64_t user_id, const char *level,
                        int64_t now, derr *e)
{
    static const char op[] = "owner_add";
    int ret;
    sql_conn *c = pkg_writer(s, package_id, "", NULL, op, e, &ret);
    if (!c)
        return ret;
    ret = q_exec(c, Q_OWNER_INSERT,
                     P(I(package_id), I(user_id), T(level), I(now > 0 ? now : now_s())), NULL, op,
                     e);
    if (ret == STORE_NOT_FOUND)
        derr_set(e, 404, "not_found", "no such package or user");
    if (ret == STORE_OK)
        ret = pkg_bump(c, package_id, op, e);
    return tx_end(c, ret, op, e);
}

/* Whether another owner of level "owner" is left besides one: STORE_OK, or STORE_FORBIDDEN. */
static int owner_not_last(sql_conn *c, int64_t package_id, const char *op, derr *e)
{
    int64_t owners = 0;
    int ret = q_one(c, NULL, Q_OWNER_COUNT, P(I(package_id)), read_id, &owners, NULL, op, e);
    if (ret == STORE_OK && owners <= 1) {
        derr_set(e, 403, "forbidden", "a package must keep at least one owner");
        ret = STORE_FORBIDDEN;
    }
    return ret;
}

/* A package keeps at least one owner of level "owner" (someone who can
 * manage owners); maintainers can always be removed. The write lock (or the
 * package's row lock) makes two removals queue up, so they cannot both see
 * "another owner is left". */
static int op_owner_remove(store *s, int64_t package_id, int64_t user_id, derr *e)
{
    static const char op[] = "owner_remove";
    int ret;
    sql_conn *c = pkg_writer(s, package_id, "", NULL, op, e, &ret);
    if (!c)
        return ret;
    char level[16] = "";
    ret = owner_level(c, package_id, user_id, level, sizeof level, op, e);
    if (ret == STORE_NOT_FOUND)
        derr_set(e, 404, "not_found", "not an owner of this package");
    if (ret == STORE_OK && strcmp(level, "owner") == 0)
        ret = owner_not_last(c, package_id, op, e);
    if (ret == STORE_OK)
        ret = q_exec(c, Q_OWNER_DELETE, P(I(package_id), I(user_id)), NULL, op, e);
    if (ret == STORE_OK)
        ret = pkg_bump(c, package_id, op, e);
    return tx_end(c, ret, op, e);
}

/* By normalized name; the readme is left NULL. */
static int op_user_packages(store *s, arena *a, int64_t user_id, store_package **out, int *n,
                            derr *e)
{
    return S_LIST(s, a, Q_USER_PACKAGES, P(I(user_id)), read_package, out, n, "user_packages", e);
}

/* ---- search ---------------------------------------------------------- */

/* q->sort as one of SORT_*; STORE_ERROR with e filled for an unknown one. */
static int search_sort(const store_search *q, int *sort, derr *e)
{
    static const char *const sorts[] = {"relevance", "downloads", "recent", "name"};
    *sort = SORT_RELEVANCE;
    if (!given(q->sort))
        return STORE_OK;
    for (int i = 0; i < (int)(sizeof sorts / sizeof sorts[0]); i++)
        if (strcmp(q->sort, sorts[i]) == 0) {
            *sort = i;
            return STORE_OK;
        }
    log_error("store error", "op", "search", "error", "unknown sort", "sort", q->sort, NULL);
    return derr_set(e, 500, "internal", "the store failed; see the server log");
}

int store_search_shape(const store_search *q, bool match)
{
    return (match ? SH_MATCH : 0) | (given(q->ecosystem) ? SH_ECO : 0) |
           (given(q->keyword) ? SH_KEYWORD : 0) | (given(q->category) ? SH_CATEGORY : 0) |
           (given(q->tag) ? SH_TAG : 0);
}

char *store_exact_name(arena *a, const char *query)
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

/* Counts every match and reads one page of them, in one read transaction
 * so the two agree; each engine searches its own index (sqlite.c,
 * postgres.c) and the answers agree. A limit of 0 or less reads only the
 * total; limits are capped at STORE_MAX_PAGE. The readme is left NULL. */
static int op_search(store *s, arena *a, const store_search *q, store_package **out, int *n,
                     int64_t *total, derr *e)
{
    static const char op[] = "search";
    *out = NULL;
    *n = 0;
    *total = 0;
    int sort;
    if (search_sort(q, &sort, e) != STORE_OK)
        return STORE_ERROR;
    sql_conn *c = drv(s)->conn(s, e);
    if (!c || c->drv->begin(c, false, op, e) != STORE_OK)
        return STORE_ERROR;
    struct sql_search r = {q, sort, clamp_limit(q->limit), q->offset > 0 ? q->offset : 0, a, out, n,
                           total, op};
    int ret = c->drv->search(c, &r, e);
    ret = tx_end(c, ret, op, e);
    if (ret != STORE_OK) {
        *out = NULL;
        *n = 0;
        *total = 0;
    }
    return ret;
}

/* ---- downloads and stats --------------------------------------------- */

/* Locks the packages of the batch's useful rows, in id order (PostgreSQL): so batches from
 * several servers and package writers never deadlock. */
static int downloads_lock(sql_conn *c, const store_download *d, int n, const char *op, derr *e)
{
    if (!sql_of(c->drv, Q_DL_LOCK))
        return STORE_OK;
    buf ids;
    buf_init(&ids, 0);
    buf_puts(&ids, "{");
    for (int i = 0, k = 0; i < n; i++)
        if (d[i].count > 0 && d[i].day)
            buf_printf(&ids, "%s%lld", k++ ? "," : "", (long long)d[i].version_id);
    buf_puts(&ids, "}");
    int ret = q_exec(c, Q_DL_LOCK, P(T(ids.data)), NULL, op, e);
    buf_free(&ids);
    return ret;
}

/* Adds one counted row: the version's count (RETURNING its package), the day's row, the
 * package's count. A version that no longer exists is skipped. */
static int download_add(sql_conn *c, const store_download *d, const char *op, derr *e)
{
    int64_t package_id = 0;
    int ret = q_one(c, NULL, Q_DL_VERSION, P(I(d->version_id), I(d->count)), read_id, &package_id,
                    NULL, op, e);
    if (ret != STORE_OK || package_id == 0)
        return ret == STORE_NOT_FOUND ? STORE_OK : ret; /* no such version */
    ret = q_exec(c, Q_DL_DAY, P(I(d->version_id), T(d->day), I(d->count)), NULL, op, e);
    if (ret == STORE_OK)
        ret = q_exec(c, Q_DL_PACKAGE, P(I(package_id), I(d->count)), NULL, op, e);
    return ret;
}

/* One transaction for the batch. A version that no longer exists is
 * skipped (its counts are dropped) rather than failing the batch; counts
 * of 0 or less are ignored. Never touches a generation: counts are not
 * part of any cached document's identity. */
static int op_downloads_add(store *s, const store_download *d, int n, derr *e)
{
    static const char op[] = "downloads_add";
    int useful = 0;
    for (int i = 0; i < n; i++)
        useful += d[i].count > 0 && d[i].day;
    if (useful == 0)
        return STORE_OK;
    sql_conn *c = drv(s)->conn(s, e);
    int ret = c ? tx_begin(c, op, e) : STORE_ERROR;
    if (ret != STORE_OK)
        return ret;
    ret = downloads_lock(c, d, n, op, e);
    for (int i = 0; i < n && ret == STORE_OK; i++)
        if (d[i].count > 0 && d[i].day)
            ret = download_add(c, &d[i], op, e);
    return tx_end(c, ret, op, e);
}

#define ROW store_day_count
READER(read_day_count, 0,
    CT(day), CT(version), CI(count))
#undef ROW

/* Ordered by day; within a day the total (version NULL) first, then the
 * versions newest first. since_day NULL means from the beginning. */
static int op_pkg_daily_downloads(store *s, arena *a, int64_t package_id, const char *since_day,
                                  store_day_count **out, int *n, derr *e)
{
    return S_LIST(s, a, Q_DAILY, P(I(package_id), T(since_day)), read_day_count, out, n,
                  "pkg_daily_downloads", e);
}

#define ROW store_totals
READER(read_totals, 0,
    CI(packages), CI(versions), CI(users), CI(downloads))
#undef ROW

static int op_totals(store *s, store_totals *out, derr *e)
{
    return s_one(s, NULL, Q_TOTALS, NULL, read_totals, out, NULL, "totals", e);
}

/* which: "downloads", "new" (created), "updated"; ecosystem NULL or ""
 * means every ecosystem. The readme is left NULL. */
static int op_pkg_top(store *s, arena *a, const char *ecosystem, const char *which, int limit,
                      store_package **out, int *n, derr *e)
{
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
        log_error("store error", "op", "pkg_top", "error", "unknown ranking", "which",
                  which ? which : "(null)", NULL);
        return derr_set(e, 500, "internal", "the store failed; see the server log");
    }
    bool one = given(ecosystem);
    if (limit <= 0 || (one && !store_text_valid(ecosystem)))
        return STORE_OK;
    int64_t max = clamp_limit(limit);
    return S_LIST(s, a, one ? rankings[k].one : rankings[k].all,
                  one ? P(I(max), T(ecosystem)) : P(I(max)), read_package, out, n, "pkg_top", e);
}

/* ---- signing keys ---------------------------------------------------- */

#define ROW store_key
READER(read_key, 0,
    CI(id), CI(user_id), CT(key_id), CT(algorithm), CT(public_key), CT(name), CI(created_at))
#undef ROW

/* Fills k->id, and k->created_at when the caller left it 0; algorithm NULL
 * means ed25519. A key_id is unique for ever (revoked keys included); a
 * name only among the user's live keys. */
static int op_key_add(store *s, store_key *k, derr *e)
{
    int64_t created = k->created_at > 0 ? k->created_at : now_s();
    int ret = s_insert(s, Q_KEY_INSERT,
                       P(I(k->user_id), T(k->key_id), T(k->algorithm), T(k->public_key),
                         T(k->name), I(created)),
                       &k->id, "user", "key_add", e);
    if (ret == STORE_OK)
        k->created_at = created;
    return ret;
}

/* The user's live keys, oldest first. */
static int op_key_list(store *s, arena *a, int64_t user_id, store_key **out, int *n, derr *e)
{
    return S_LIST(s, a, Q_KEY_LIST, P(I(user_id)), read_key, out, n, "key_list", e);
}

static int op_key_get(store *s, arena *a, const char *key_id, store_key *out, derr *e)
{
    if (!key_id)
        return not_found(e, "key");
    return s_one(s, a, Q_KEY_GET, P(T(key_id)), read_key, out, "key", "key_get", e);
}

/* Revokes (the row stays, so old signatures can still be checked).
 * STORE_NOT_FOUND when the user has no such live key. */
static int op_key_delete(store *s, int64_t user_id, const char *key_id, derr *e)
{
    if (!key_id)
        return not_found(e, "key");
    return s_change(s, Q_KEY_REVOKE, P(I(user_id), T(key_id), I(now_s())), "key", "key_delete", e);
}

/* ---- version status, tags, removal ----------------------------------- */

/* A set_ field as the statement wants it: 1 set, -1 clear, 0 leave. */
static int status_action(int v)
{
    return (v > 0) - (v < 0);
}

/* Every part asked for in one UPDATE, then the generation, in one
 * transaction. A retirement is stamped with `now` (0: the clock); setting a
 * part to NULL text stores NULL. A status that asks for nothing still says
 * whether the version exists, and bumps nothing. */
static int op_version_set_status(store *s, int64_t package_id, const char *version,
                                 const store_version_status *vs, int64_t now, derr *e)
{
    static const char op[] = "version_set_status";
    static const store_version_status nothing = {0};
    if (!vs)
        vs = &nothing;
    int retired = status_action(vs->set_retired);
    int deprecated = status_action(vs->set_deprecated);
    int retracted = status_action(vs->set_retracted);
    return pkg_change(s, package_id, version, "version", Q_VERSION_STATUS,
                      P(I(package_id), T(version), I(retired), T(vs->retired_reason),
                        T(vs->retired_message), I(deprecated), T(vs->deprecated), I(retracted),
                        I(now > 0 ? now : now_s())),
                      retired || deprecated || retracted, op, e);
}

#define ROW store_tag
READER(read_tag, 0,
    CT(tag), CT(version), CI(updated_at))
#undef ROW

/* By tag name; an unknown package has none. */
static int op_tags_list(store *s, arena *a, int64_t package_id, store_tag **out, int *n, derr *e)
{
    return S_LIST(s, a, Q_TAGS_LIST, P(I(package_id)), read_tag, out, n, "tags_list", e);
}

/* Creates the tag or moves it; now 0 means the clock. */
static int op_tag_set(store *s, int64_t package_id, const char *tag, const char *version,
                      int64_t now, derr *e)
{
    static const char op[] = "tag_set";
    int ret;
    sql_conn *c = pkg_writer(s, package_id, version, "version", op, e, &ret);
    if (!c)
        return ret;
    ret = tag_upsert(c, package_id, tag, version, now > 0 ? now : now_s(), op, e);
    if (ret == STORE_OK)
        ret = pkg_bump(c, package_id, op, e);
    return tx_end(c, ret, op, e);
}


static int op_tag_delete(store *s, int64_t package_id, const char *tag, derr *e)
{
    return pkg_change(s, package_id, tag, "tag", Q_TAG_DELETE, P(I(package_id), T(tag)), true,
                      "tag_delete", e);
}

static void read_id_downloads(arena *a, sql_stmt *st, void *out)
{
    (void)a;
    ((int64_t *)out)[0] = col_i64(st, 0);
    ((int64_t *)out)[1] = col_i64(st, 1);
}

/* Removes a version inside the caller's transaction (which holds the package's lock): its row
 * (dependencies, tags and daily download rows go with it, by ON DELETE CASCADE: foreign keys are
 * on in every connection), its downloads from the package's total, and with tombstone a record
 * that the number is spent. STORE_NOT_FOUND when absent. The caller settles the package. */
static int delete_version_tx(sql_conn *c, int64_t package_id, const char *version,
                             bool tombstone, int64_t now, const char *op, derr *e)
{
    int64_t found[2] = {0, 0}; /* the version's id and downloads */
    int ret = q_one(c, NULL, Q_VERSION_FIND, P(I(package_id), T(version)), read_id_downloads,
                    found, "version", op, e);
    if (ret == STORE_OK)
        ret = q_exec(c, Q_VERSION_DELETE, P(I(found[0])), NULL, op, e);
    if (ret == STORE_OK && found[1] != 0)
        ret = q_exec(c, Q_PKG_DL_SUB, P(I(package_id), I(found[1])), NULL, op, e);
    if (ret == STORE_OK && tombstone)
        ret = q_exec(c, Q_TOMBSTONE_INSERT, P(I(package_id), T(version), I(now > 0 ? now : now_s())),
                     NULL, op, e);
    return ret;
}

/* In one transaction: the version goes (see delete_version_tx), and
 * latest_version and the generation are settled. Docs sites of the version
 * stay (docs_versions still lists them). now 0 means the clock. */
static int op_version_delete(store *s, int64_t package_id, const char *version, bool tombstone,
                             int64_t now, derr *e)
{
    static const char op[] = "version_delete";
    int ret;
    sql_conn *c = pkg_writer(s, package_id, version, "version", op, e, &ret);
    if (!c)
        return ret;
    ret = delete_version_tx(c, package_id, version, tombstone, now, op, e);
    if (ret == STORE_OK)
        ret = pkg_settle(c, package_id, 1, 0, NULL, op, e);
    return tx_end(c, ret, op, e);
}

/* e is left alone on STORE_NOT_FOUND (the common answer). */
static int op_version_tombstoned(store *s, int64_t package_id, const char *version, derr *e)
{
    if (!version || !store_text_valid(version))
        return STORE_NOT_FOUND;
    sql_conn *c = drv(s)->conn(s, e);
    return c ? tombstone_has(c, package_id, version, "version_tombstoned", e) : STORE_ERROR;
}

/* ---- hosted docs ----------------------------------------------------- */

/* One transaction: the old site of the version goes (its files with it,
 * by ON DELETE CASCADE), the new site and its files go in, the generation
 * goes up. The version need not exist in versions. STORE_NOT_FOUND when
 * the package does not exist; STORE_CONFLICT when files name a path twice. */
static int op_docs_put(store *s, int64_t package_id, const char *version,
                       const char *archive_sha256, int64_t archive_size,
                       const store_doc_file *files, int n, int64_t now, derr *e)
{
    static const char op[] = "docs_put";
    int ret;
    sql_conn *c = pkg_writer(s, package_id, version, "version", op, e, &ret);
    if (!c)
        return ret;
    ret = q_exec(c, Q_DOCS_SITE_DELETE, P(I(package_id), T(version)), NULL, op, e);
    if (ret == STORE_OK) {
        ret = q_exec(c, Q_DOCS_SITE_INSERT,
                     P(I(package_id), T(version), T(archive_sha256), I(archive_size),
                       I(now > 0 ? now : now_s())),
                     NULL, op, e);
        if (ret == STORE_NOT_FOUND)
            not_found(e, "package");
    }
    for (int i = 0; i < n && ret == STORE_OK; i++)
        ret = q_exec(c, Q_DOCS_FILE_INSERT,
                     P(I(package_id), T(version), T(files[i].path), T(files[i].sha256),
                       I(files[i].size)),
                     NULL, op, e);
    if (ret == STORE_OK)
        ret = pkg_bump(c, package_id, op, e);
    return tx_end(c, ret, op, e);
}

#define ROW store_doc_file
READER(read_doc_file, 0,
    CT(path), CT(sha256), CI(size))
#undef ROW

static int op_docs_file(store *s, arena *a, int64_t package_id, const char *version,
                        const char *path, store_doc_file *out, derr *e)
{
    if (!version || !path)
        return not_found(e, "docs file");
    return s_one(s, a, Q_DOCS_FILE, P(I(package_id), T(version), T(path)), read_doc_file, out,
                 "docs file", "docs_file", e);
}

#define ROW store_doc_file
READER(read_doc_archive, 0,
    CT(sha256), CI(size))
#undef ROW

/* *size is 0 when the site was recorded without one. */
static int op_docs_archive(store *s, arena *a, int64_t package_id, const char *version,
                           const char **sha256, int64_t *size, derr *e)
{
    if (!version)
        return not_found(e, "docs site");
    store_doc_file f = {0};
    int ret = s_one(s, a, Q_DOCS_ARCHIVE, P(I(package_id), T(version)), read_doc_archive, &f,
                    "docs site", "docs_archive", e);
    if (ret == STORE_OK) {
        *sha256 = f.sha256;
        *size = f.size;
    }
    return ret;
}

/* The leading numbers of a version's text ("1.2.3-rc.1": 1, 2, 3, and a
 * prerelease), read leniently: a missing part is 0. */
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

/* Newest first by number, a release before its prereleases, then by text
 * (descending), for versions that have no row to order by. */
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

/* A docs site's version and whether its version row is gone. */
struct site {
    const char *version;
    bool gone;
};

static void read_site(arena *a, sql_stmt *st, void *out)
{
    struct site *site = out;
    site->version = col_text(a, st, 0);
    site->gone = col_bool(st, 1);
}

/* Sites of versions that exist come in the versions' own order (as
 * pkg_versions lists them); sites whose version is gone follow, ordered by
 * what their text says. */
static int op_docs_versions(store *s, arena *a, int64_t package_id, const char ***out, int *n,
                            derr *e)
{
    void *arr = NULL;
    int count = 0;
    *out = NULL;
    *n = 0;
    int ret = s_list(s, a, Q_DOCS_VERSIONS, P(I(package_id)), sizeof(struct site), read_site, &arr,
                     &count, "docs_versions", e);
    if (ret != STORE_OK)
        return ret;
    struct site *sites = arr;
    const char **versions = count ? arena_alloc(a, (size_t)count * sizeof *versions) : NULL;
    int gone = -1; /* where the sites of gone versions start */
    for (int i = 0; i < count; i++) {
        if (gone < 0 && sites[i].gone)
            gone = i;
        versions[i] = sites[i].version;
    }
    if (gone >= 0 && count - gone > 1)
        qsort(versions + gone, (size_t)(count - gone), sizeof *versions, version_text_cmp);
    *out = versions;
    *n = count;
    return STORE_OK;
}

/* STORE_NOT_FOUND when the version has no site. */
static int op_docs_delete(store *s, int64_t package_id, const char *version, derr *e)
{
    return pkg_change(s, package_id, version, "docs site", Q_DOCS_SITE_DELETE,
                      P(I(package_id), T(version)), true, "docs_delete", e);
}

/* ---- two-step uploads ------------------------------------------------ */

#define ROW store_upload
READER(read_upload, 0,
    CT(id), CI(user_id), CT(ecosystem), CT(sha256), CI(size), CI(created_at), CI(expires_at),
    CT(result), CB(failed))
#undef ROW

/* created_at 0 means now; user_id 0 means no account. STORE_CONFLICT when
 * the id is taken, STORE_NOT_FOUND when the user does not exist. */
static int op_upload_create(store *s, const store_upload *u, derr *e)
{
    int ret = s_exec(s, Q_UPLOAD_INSERT,
                     P(T(u->id), TM(u->user_id), T(u->ecosystem), T(u->sha256), I(u->size),
                       I(u->created_at > 0 ? u->created_at : now_s()), I(u->expires_at),
                       T(u->result), B(u->failed)),
                     NULL, "upload_create", e);
    if (ret == STORE_NOT_FOUND)
        not_found(e, "user");
    return ret;
}

/* Expired uploads are returned too, until upload_expire deletes them: the
 * caller compares expires_at with its clock. */
static int op_upload_get(store *s, arena *a, const char *id, store_upload *out, derr *e)
{
    if (!id)
        return not_found(e, "upload");
    return s_one(s, a, Q_UPLOAD_GET, P(T(id)), read_upload, out, "upload", "upload_get", e);
}

/* Writes all four of sha256, size, result and failed as u holds them. */
static int op_upload_update(store *s, const store_upload *u, derr *e)
{
    if (!u->id)
        return not_found(e, "upload");
    return s_change(s, Q_UPLOAD_UPDATE,
                    P(T(u->id), T(u->sha256), I(u->size), T(u->result), B(u->failed)), "upload",
                    "upload_update", e);
}

/* Deletes every upload with expires_at <= now (0: the clock). The blobs of
 * their bytes stay; fsck collects unreferenced blobs. */
static int op_upload_expire(store *s, int64_t now, int *n, derr *e)
{
    int64_t changed = 0;
    int ret = s_exec(s, Q_UPLOAD_EXPIRE, P(I(now > 0 ? now : now_s())), &changed, "upload_expire", e);
    if (n)
        *n = ret == STORE_OK ? (int)changed : 0;
    return ret;
}

/* ---- mailed secrets, the audit log, dependents ----------------------- */

#define ROW store_email_token
READER(read_email_token, 0,
    CT(hash), CI(user_id), CT(purpose), CT(email), CI(created_at), CI(expires_at), CI(used_at))
#undef ROW

/* In one transaction: expired secrets go, the user's earlier unused ones of
 * the purpose go (only the newest link works), the new one goes in. */
static int op_email_token_create(store *s, const store_email_token *t, derr *e)
{
    static const char op[] = "email_token_create";
    sql_conn *c = drv(s)->conn(s, e);
    int ret = c ? tx_begin(c, op, e) : STORE_ERROR;
    if (ret != STORE_OK)
        return ret;
    int64_t now = t->created_at ? t->created_at : now_s();
    ret = q_exec(c, Q_EMAIL_TOKEN_PURGE, P(I(now)), NULL, op, e);
    if (ret == STORE_OK)
        ret = q_exec(c, Q_EMAIL_TOKEN_REPLACE, P(I(t->user_id), T(t->purpose)), NULL, op, e);
    if (ret == STORE_OK)
        ret = q_exec(c, Q_EMAIL_TOKEN_INSERT,
                     P(T(t->hash), I(t->user_id), T(t->purpose), T(t->email), I(now),
                       I(t->expires_at)),
                     NULL, op, e);
    return tx_end(c, ret, op, e);
}

static int op_email_token_get(store *s, arena *a, const char *hash, const char *purpose,
                              int64_t now, store_email_token *out, derr *e)
{
    if (!hash || !purpose)
        return not_found(e, "link");
    return s_one(s, a, Q_EMAIL_TOKEN_GET, P(T(hash), T(purpose), I(now)), read_email_token, out,
                 "link", "email_token_get", e);
}

/* One statement: of two concurrent uses, the second finds it used. */
static int op_email_token_use(store *s, arena *a, const char *hash, const char *purpose,
                              int64_t now, store_email_token *out, derr *e)
{
    if (!hash || !purpose)
        return not_found(e, "link");
    return s_one(s, a, Q_EMAIL_TOKEN_USE, P(T(hash), T(purpose), I(now)), read_email_token, out,
                 "link", "email_token_use", e);
}

#define ROW store_audit_row
READER(read_audit_row, 0,
    CI(id), CI(at), CI(user_id), CT(username), CT(action), CT(target), CT(detail), CT(ip))
#undef ROW

/* Newest first, at most limit (capped at STORE_MAX_PAGE). */
static int op_audit_recent(store *s, arena *a, int limit, store_audit_row **out, int *n, derr *e)
{
    return S_LIST(s, a, Q_AUDIT_RECENT, P(I(clamp_limit(limit < 0 ? 0 : limit))), read_audit_row,
                  out, n, "audit_recent", e);
}

/* Packages of the ecosystem whose latest version depends (not as a dev
 * dependency) on `name` as written, most downloaded first. */
static int op_pkg_dependents(store *s, arena *a, const char *ecosystem, const char *name, int limit,
                             store_package **out, int *n, derr *e)
{
    *out = NULL;
    *n = 0;
    if (!ecosystem || !name || !store_text_valid(ecosystem) || !store_text_valid(name))
        return STORE_OK;
    return S_LIST(s, a, Q_PKG_DEPENDENTS,
                  P(T(ecosystem), T(name), I(clamp_limit(limit < 0 ? 0 : limit))), read_package,
                  out, n, "pkg_dependents", e);
}

/* ---- operations: blob references, generations, copying rows ---------- */

struct blob_ctx {
    int (*fn)(void *, const char *, const char *, int64_t, const char *);
    void *ctx;
};

static int blob_row(void *p, sql_stmt *st)
{
    struct blob_ctx *b = p;
    const struct store_driver *d = st->drv;
    size_t len;
    return b->fn(b->ctx, d->col_text(st, 0, &len), d->col_text(st, 1, &len), d->col_i64(st, 2),
                 d->col_text(st, 3, &len));
}

static int op_each_blob_ref(store *s, int (*fn)(void *, const char *, const char *, int64_t, const char *),
                            void *ctx, derr *e)
{
    static const char *const queries[] = {
        "SELECT 'version', v.sha256, v.size, p.ecosystem || '/' || p.name || '@' || v.version"
        " FROM versions v JOIN packages p ON p.id = v.package_id ORDER BY v.id",
        "SELECT 'docs', d.sha256, d.size, p.ecosystem || '/' || p.name || '@' || d.version || ':archive'"
        " FROM docs_sites d JOIN packages p ON p.id = d.package_id",
        "SELECT 'docs', f.sha256, f.size, p.ecosystem || '/' || p.name || '@' || f.version || ':' || f.path"
        " FROM docs_files f JOIN packages p ON p.id = f.package_id",
    };
    sql_conn *c = drv(s)->conn(s, e);
    if (!c)
        return STORE_ERROR;
    struct blob_ctx b = {fn, ctx};
    int ret = STORE_OK;
    bool stopped = false;
    for (size_t q = 0; q < sizeof queries / sizeof queries[0] && ret == STORE_OK && !stopped; q++)
        ret = c->drv->each_row(c, queries[q], blob_row, &b, &stopped, "each_blob_ref", e);
    return ret;
}

static int op_bump_generations(store *s, derr *e)
{
    sql_conn *c = drv(s)->conn(s, e);
    return c ? c->drv->exec(c, "UPDATE packages SET generation = generation + 1",
                            "bump_generations", e)
             : STORE_ERROR;
}

/* Rows go in as many multi-row INSERTs as the parameter cap needs, in one
 * transaction; values are bound as text, which each engine reads as the
 * column's type (a boolean takes 0 and 1). */
static int op_rows_put(store *s, const store_rows *r, bool replace, int *inserted, derr *e)
{
    static const char op[] = "rows_put";
    *inserted = 0;
    if (!store_rows_names_ok(r))
        return derr_set(e, 400, "bad_request", "a table or column name that cannot be used");
    sql_conn *c = drv(s)->conn(s, e);
    if (!c)
        return STORE_ERROR;
    const struct store_driver *d = c->drv;
    int per = STORE_ROWS_MAX_PARAMS / r->ncols;
    int ret = tx_begin(c, op, e);
    for (int first = 0; ret == STORE_OK && first < r->nrows; first += per) {
        int n = r->nrows - first < per ? r->nrows - first : per;
        buf sql;
        buf_init(&sql, 0);
        store_rows_insert_sql(&sql, r, n, replace, '?');
        sql_stmt *st = d->prepare_once(c, sql.data, op, e);
        buf_free(&sql);
        if (!st) {
            ret = STORE_ERROR;
            break;
        }
        for (int i = 0; i < n * r->ncols; i++)
            d->bind_text(st, i + 1, r->vals[(size_t)first * (size_t)r->ncols + (size_t)i]);
        int rc = step(st, e);
        if (rc == SQL_DONE || rc == SQL_ROW)
            *inserted += (int)d->changes(st);
        else
            ret = rc;
        release(st);
    }
    ret = tx_end(c, ret, op, e);
    if (ret != STORE_OK)
        *inserted = 0;
    return ret;
}

/* Reads the rows of a bound rows_get statement as text into r. */
static int rows_read(sql_stmt *st, arena *a, store_rows *r, derr *e)
{
    int cap = 0, rc;
    const char **vals = NULL;
    while ((rc = step(st, e)) == SQL_ROW) {
        vals = arena_grow(a, vals, r->nrows, &cap, (size_t)r->ncols * sizeof *vals); /* a row a slot */
        for (int j = 0; j < r->ncols; j++)
            vals[(size_t)r->nrows * (size_t)r->ncols + (size_t)j] = col_text(a, st, j);
        r->nrows++;
    }
    if (rc != SQL_DONE) {
        r->nrows = 0;
        return rc;
    }
    r->vals = vals;
    return STORE_OK;
}

static int op_rows_get(store *s, arena *a, store_rows *r, const char *const *after,
                       const char *const *upto, int limit, derr *e)
{
    static const char op[] = "rows_get";
    r->vals = NULL;
    r->nrows = 0;
    if (!store_rows_names_ok(r))
        return derr_set(e, 400, "bad_request", "a table or column name that cannot be used");
    sql_conn *c = drv(s)->conn(s, e);
    if (!c)
        return STORE_ERROR;
    buf sql;
    buf_init(&sql, 0);
    store_rows_select_sql(&sql, r, after != NULL, upto != NULL, limit, '?');
    sql_stmt *st = c->drv->prepare_once(c, sql.data, op, e);
    buf_free(&sql);
    if (!st)
        return STORE_ERROR;
    const char *const *bounds[2] = {after, upto};
    int at = 1;
    for (int k = 0; k < 2; k++)
        for (int i = 0; bounds[k] && i < r->nkey; i++)
            c->drv->bind_text(st, at++, bounds[k][i]);
    int ret = rows_read(st, a, r, e);
    release(st);
    return ret;
}

/* Ids made from now on start past the highest copied one: PostgreSQL's
 * identity sequences move; SQLite's INTEGER PRIMARY KEY does so by itself. */
static int op_rows_settle(store *s, derr *e)
{
    const struct store_driver *d = drv(s);
    if (!d->rows_settle_sql)
        return STORE_OK;
    sql_conn *c = d->conn(s, e);
    return c ? d->exec(c, d->rows_settle_sql, "rows_settle", e) : STORE_ERROR;
}

/* ---- the table of operations ----------------------------------------- */

/* Every backend runs the same operations; only the name differs. */
#define SQL_OPS(backend)                                                    \
    {                                                                      \
        .name = backend,                                                   \
        .close = op_close,                                                 \
        .migrate = op_migrate,                                             \
        .ping = op_ping,                                                   \
        .user_create = op_user_create,                                     \
        .user_by_id = op_user_by_id,                                       \
        .user_by_login = op_user_by_login,                                 \
        .user_list = op_user_list,                                         \
        .user_set_password = op_user_set_password,                         \
        .user_set_disabled = op_user_set_disabled,                         \
        .user_set_admin = op_user_set_admin,                               \
        .user_set_show_email = op_user_set_show_email,                     \
        .token_create = op_token_create,                                   \
        .token_by_hash = op_token_by_hash,                                 \
        .token_by_name = op_token_by_name,                                 \
        .token_list = op_token_list,                                       \
        .token_delete = op_token_delete,                                   \
        .token_touch = op_token_touch,                                     \
        .jwt_revoke = op_jwt_revoke,                                       \
        .jwt_is_revoked = op_jwt_is_revoked,                               \
        .audit = op_audit,                                                 \
        .auth_epoch = op_auth_epoch,                                       \
        .eco_generation = op_eco_generation,                               \
        .integrity = op_integrity,                                         \
        .backup = op_backup,                                               \
        .each_blob_ref = op_each_blob_ref,                                 \
        .bump_generations = op_bump_generations,                           \
        .rows_put = op_rows_put,                                           \
        .rows_get = op_rows_get,                                           \
        .rows_settle = op_rows_settle,                                     \
        .pkg_get = op_pkg_get,                                             \
        .pkg_generation = op_pkg_generation,                               \
        .pkg_versions = op_pkg_versions,                                   \
        .version_get = op_version_get,                                     \
        .publish = op_publish,                                             \
        .version_yank = op_version_yank,                                   \
        .pkg_set_require_signatures = op_pkg_set_require_signatures,       \
        .owners_list = op_owners_list,                                     \
        .owner_is = op_owner_is,                                           \
        .owner_add = op_owner_add,                                         \
        .owner_remove = op_owner_remove,                                   \
        .user_packages = op_user_packages,                                 \
        .search = op_search,                                               \
        .downloads_add = op_downloads_add,                                 \
        .pkg_daily_downloads = op_pkg_daily_downloads,                     \
        .totals = op_totals,                                               \
        .pkg_top = op_pkg_top,                                             \
        .key_add = op_key_add,                                             \
        .key_list = op_key_list,                                           \
        .key_get = op_key_get,                                             \
        .key_delete = op_key_delete,                                       \
        .version_set_status = op_version_set_status,                       \
        .pkg_set_meta = op_pkg_set_meta,                                   \
        .tags_list = op_tags_list,                                         \
        .tag_set = op_tag_set,                                             \
        .tag_delete = op_tag_delete,                                       \
        .version_delete = op_version_delete,                               \
        .version_tombstoned = op_version_tombstoned,                       \
        .docs_put = op_docs_put,                                           \
        .docs_file = op_docs_file,                                         \
        .docs_archive = op_docs_archive,                                   \
        .docs_versions = op_docs_versions,                                 \
        .docs_delete = op_docs_delete,                                     \
        .upload_create = op_upload_create,                                 \
        .upload_get = op_upload_get,                                       \
        .upload_update = op_upload_update,                                 \
        .upload_expire = op_upload_expire,                                 \
        .email_token_create = op_email_token_create,                       \
        .email_token_get = op_email_token_get,                             \
        .email_token_use = op_email_token_use,                             \
        .user_set_email_verified = op_user_set_email_verified,             \
        .user_email_verified = op_user_email_verified,                     \
        .audit_recent = op_audit_recent,                                   \
        .pkg_dependents = op_pkg_dependents,                               \
    }

const struct store_ops store_sqlite_ops = SQL_OPS("sqlite");
const struct store_ops store_postgres_ops = SQL_OPS("postgres");
