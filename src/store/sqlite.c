/*
 * sqlite.c — the store on SQLite, the embedded default.
 *
 * Each thread that uses the store gets its own connection, opened on first
 * use and kept in a pthread key; the key's destructor closes it when the
 * thread exits, and close() closes whatever is left. A connection runs in WAL
 * mode (readers never wait for the writer), waits up to five seconds for a
 * lock before giving up, enforces foreign keys, and syncs at FULL: the WAL is
 * fsynced at every commit, so an acknowledged publish survives a power cut,
 * not only a crash of depot (make bench measures the publish rate with it).
 *
 * Every statement is prepared once per connection, on first use, and kept in
 * a table indexed by `enum query`; after each use it is reset and its
 * bindings cleared, so a cached statement never holds a borrowed pointer.
 * Operations that write more than one statement run inside BEGIN IMMEDIATE,
 * which takes the write lock up front so two writers wait for each other
 * instead of failing on a lock upgrade.
 *
 * Packages: a publish, a yank and every owner change run in one IMMEDIATE
 * transaction that also recomputes what depends on them (latest_version)
 * and bumps the package's generation, which keys every cached document;
 * download counts are added in batches and never touch a generation. Reads
 * made of several queries (versions then their dependencies, a search's
 * count then its page) run in one read transaction, so they agree.
 *
 * The same holds for what the npm, Hex and pub fronts change after a
 * publish: a version's status (retired, deprecated, retracted), the
 * package's meta, dist-tags, removing a version and docs sites each bump
 * the generation in the transaction that makes the change. Removing a
 * version leans on ON DELETE CASCADE (foreign keys are on in every
 * connection) for its dependencies, tags and daily download rows, and may
 * leave a tombstone that publish checks, so a removed version's text never
 * names other bytes.
 *
 * Search runs on the FTS5 index the schema keeps over packages, ranked by
 * depot_rank (weighted hits, name matches weighing most). The search text
 * never reaches MATCH as written: it is cut into tokens by the index's own
 * tokenizer and each becomes a quoted prefix term. Search statements
 * differ by which filters are given and the sort; each shape is prepared
 * once per connection too.
 *
 * Errors: SQL and SQLite's message go to the log with the operation's name;
 * the caller's derr gets only "internal" (or "unavailable" when the lock
 * wait ran out). A unique key that is taken becomes STORE_CONFLICT with a
 * sentence a person understands.
 */
#include "sqlite.h"

#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "../lib/log.h"
#include "../lib/xalloc.h"
#include "migrations.h"

#define BUSY_TIMEOUT_MS 5000
/* token_touch skips the write when the stored time is at most this old. */
#define TOUCH_SLACK_S 60
/* The most rows one page of a search or a ranking returns. */
#define MAX_PAGE 1000

/* Every statement this backend runs, by name; the SQL is in sql_text[]. */
enum query {
    Q_BEGIN,
    Q_COMMIT,
    Q_ROLLBACK,
    Q_PING,
    Q_MIG_MAX,
    Q_MIG_HAS,
    Q_MIG_ADD,
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
    Q_BEGIN_READ,
    Q_PKG_GET,
    Q_PKG_GENERATION,
    Q_PKG_FIND,
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
/* Package columns in read_package() order. Lists leave out the readme (it
 * can be large and no list shows it): PKG_LIST_COLS reads it as NULL. */
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
/* Newest first: by number, a release before its prereleases, then the
 * later publish (prereleases of one number are not ranked among themselves). */
#define VERSION_ORDER                                                                       \
    "v.major DESC, v.minor DESC, v.patch DESC, v.prerelease IS NOT NULL, v.published_at DESC," \
    " v.id DESC"
#define KEY_COLS "id, user_id, key_id, algorithm, public_key, name, created_at"
#define UPLOAD_COLS "id, user_id, ecosystem, sha256, size, created_at, expires_at, result, failed"
/* pkg_top's rankings: ?1 is the limit, ?2 the ecosystem. */
#define TOP_SQL(order) "SELECT " PKG_LIST_COLS " FROM packages p ORDER BY " order " LIMIT ?1"
#define TOP_ECO_SQL(order) \
    "SELECT " PKG_LIST_COLS " FROM packages p WHERE p.ecosystem = ?2 ORDER BY " order " LIMIT ?1"

/* Written in the SQL both SQLite and PostgreSQL accept, so the PostgreSQL
 * backend can start from the same text (with $n for ?n). */
static const char *const sql_text[Q__COUNT] = {
    [Q_BEGIN] = "BEGIN IMMEDIATE",
    [Q_COMMIT] = "COMMIT",
    [Q_ROLLBACK] = "ROLLBACK",
    [Q_PING] = "SELECT 1",
    [Q_MIG_MAX] = "SELECT coalesce(max(version), 0) FROM schema_migrations",
    [Q_MIG_HAS] = "SELECT 1 FROM schema_migrations WHERE version = ?1",
    [Q_MIG_ADD] = "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
    [Q_USER_INSERT] = "INSERT INTO users (username, username_lower, email, email_lower,"
                      " password_hash, is_admin, disabled, created_at, updated_at)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) RETURNING id",
    [Q_USER_BY_ID] = "SELECT " USER_COLS " FROM users WHERE id = ?1",
    /* A username wins over another account's email of the same text. */
    [Q_USER_BY_LOGIN] = "SELECT " USER_COLS " FROM users"
                        " WHERE username_lower = ?1 OR email_lower = ?1"
                        " ORDER BY username_lower = ?1 DESC LIMIT 1",
    [Q_USER_LIST] = "SELECT " USER_COLS " FROM users ORDER BY username_lower, id",
    [Q_USER_SET_PASSWORD] = "UPDATE users SET password_hash = ?2, updated_at = ?3, password_changed_at = ?3 WHERE id = ?1",
    [Q_USER_SET_DISABLED] = "UPDATE users SET disabled = ?2, updated_at = ?3 WHERE id = ?1",
    [Q_USER_SET_ADMIN] = "UPDATE users SET is_admin = ?2, updated_at = ?3 WHERE id = ?1",
    [Q_TOKEN_INSERT] = "INSERT INTO api_tokens (user_id, name, hash, prefix, scopes, created_at,"
                       " expires_at, last_used_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                       " RETURNING id",
    [Q_TOKEN_BY_HASH] = "SELECT " TOKEN_COLS " FROM api_tokens WHERE hash = ?1",
    [Q_TOKEN_BY_NAME] = "SELECT " TOKEN_COLS " FROM api_tokens WHERE user_id = ?1 AND name = ?2",
    [Q_TOKEN_LIST] = "SELECT " TOKEN_COLS " FROM api_tokens WHERE user_id = ?1 ORDER BY name",
    [Q_TOKEN_DELETE] = "DELETE FROM api_tokens WHERE user_id = ?1 AND name = ?2",
    [Q_TOKEN_TOUCH] = "UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1"
                      " AND (last_used_at IS NULL OR last_used_at < ?2 - ?3)",
    [Q_JWT_PURGE] = "DELETE FROM revoked_jwts WHERE expires_at < ?1",
    [Q_JWT_INSERT] = "INSERT INTO revoked_jwts (jti, expires_at) VALUES (?1, ?2)"
                     " ON CONFLICT (jti) DO NOTHING",
    [Q_JWT_CHECK] = "SELECT 1 FROM revoked_jwts WHERE jti = ?1",
    [Q_AUTH_EPOCH] = "SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'auth_epoch'",
    [Q_ECO_GEN] = "SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'eco_gen:' || ?1",
    [Q_AUDIT_INSERT] = "INSERT INTO audit_log (at, user_id, action, target, detail, ip)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    /* A read transaction: the reads of one operation see one snapshot. */
    [Q_BEGIN_READ] = "BEGIN",
    [Q_PKG_GET] = "SELECT " PKG_COLS " FROM packages p"
                  " WHERE p.ecosystem = ?1 AND p.normalized_name = ?2",
    [Q_PKG_GENERATION] = "SELECT generation FROM packages WHERE ecosystem = ?1"
                         " AND normalized_name = ?2",
    [Q_PKG_FIND] = "SELECT id, name FROM packages WHERE ecosystem = ?1 AND normalized_name = ?2",
    [Q_PKG_INSERT] = "INSERT INTO packages (ecosystem, name, normalized_name, description,"
                     " homepage, repository, documentation, license, keywords, categories, tags,"
                     " authors, readme, require_signatures, meta, generation, created_at,"
                     " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, coalesce(?9, '[]'),"
                     " coalesce(?10, '[]'), coalesce(?11, '[]'), coalesce(?12, '[]'), ?13, ?14,"
                     " coalesce(?15, '{}'), 1, ?16, ?16) RETURNING id",
    /* The descriptive fields follow the highest version: nothing changes
     * when the current latest is above the new version (?13..?16: its
     * major, minor, patch and 1 for a release). */
    [Q_PKG_REFRESH] = "UPDATE packages SET description = ?2, homepage = ?3, repository = ?4,"
                      " documentation = ?5, license = ?6, keywords = coalesce(?7, '[]'),"
                      " categories = coalesce(?8, '[]'), tags = coalesce(?9, '[]'),"
                      " authors = coalesce(?10, '[]'), readme = ?11, meta = coalesce(?12, '{}')"
                      " WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM versions v"
                      " WHERE v.package_id = ?1 AND v.version = packages.latest_version"
                      " AND (v.major, v.minor, v.patch, v.prerelease IS NULL) > (?13, ?14, ?15, ?16))",
    /* After any change to versions: latest_version is the highest
     * non-yanked release, else the highest non-yanked prerelease (the later
     * published among prereleases of one number); ?2 is added to the
     * generation; ?3, when not NULL, is the new updated_at. */
    [Q_PKG_SETTLE] = "UPDATE packages SET latest_version = (SELECT v.version FROM versions v"
                     " WHERE v.package_id = ?1 AND v.yanked = 0 ORDER BY v.prerelease IS NOT NULL,"
                     " v.major DESC, v.minor DESC, v.patch DESC, v.published_at DESC, v.id DESC"
                     " LIMIT 1), generation = generation + ?2, updated_at = coalesce(?3, updated_at)"
                     " WHERE id = ?1 RETURNING generation",
    [Q_PKG_BUMP] = "UPDATE packages SET generation = generation + 1 WHERE id = ?1",
    [Q_PKG_SET_SIGNATURES] = "UPDATE packages SET require_signatures = ?2,"
                             " generation = generation + 1 WHERE id = ?1",
    [Q_VERSION_INSERT] = "INSERT INTO versions (package_id, version, major, minor, patch,"
                         " prerelease, sha256, size, manifest, signature, signing_key_id,"
                         " publisher_id, published_at, extra) VALUES (?1, ?2, ?3, ?4, ?5,"
                         " nullif(?6, ''), ?7, ?8, coalesce(?9, '{}'), ?10, ?11, ?12, ?13,"
                         " coalesce(?14, '{}')) RETURNING id",
    [Q_VERSION_LIST] = "SELECT " VERSION_COLS " FROM versions v"
                       " LEFT JOIN users u ON u.id = v.publisher_id"
                       " WHERE v.package_id = ?1 ORDER BY " VERSION_ORDER,
    [Q_VERSION_GET] = "SELECT " VERSION_COLS " FROM versions v"
                      " LEFT JOIN users u ON u.id = v.publisher_id"
                      " WHERE v.package_id = ?1 AND v.version = ?2",
    /* Yanking again keeps the first yank's time. */
    [Q_VERSION_YANK] = "UPDATE versions SET yanked = ?3,"
                       " yanked_at = CASE WHEN ?3 = 1 THEN coalesce(yanked_at, ?4) END"
                       " WHERE package_id = ?1 AND version = ?2",
    [Q_DEP_INSERT] = "INSERT INTO dependencies (version_id, name, requirement, kind, extra)"
                     " VALUES (?1, ?2, coalesce(?3, ''), coalesce(?4, 'normal'), ?5)",
    /* Column 0 is the version's id; dependencies keep their published order. */
    [Q_DEPS_OF_PACKAGE] = "SELECT d.version_id, d.name, d.requirement, d.kind, d.extra"
                          " FROM versions v JOIN dependencies d ON d.version_id = v.id"
                          " WHERE v.package_id = ?1 ORDER BY d.version_id, d.id",
    [Q_DEPS_OF_VERSION] = "SELECT d.version_id, d.name, d.requirement, d.kind, d.extra"
                          " FROM dependencies d WHERE d.version_id = ?1 ORDER BY d.id",
    [Q_OWNER_INSERT] = "INSERT INTO owners (package_id, user_id, level, added_at)"
                       " VALUES (?1, ?2, coalesce(?3, 'owner'), ?4)",
    [Q_OWNER_LEVEL] = "SELECT level FROM owners WHERE package_id = ?1 AND user_id = ?2",
    [Q_OWNER_COUNT] = "SELECT count(*) FROM owners WHERE package_id = ?1 AND level = 'owner'",
    [Q_OWNER_DELETE] = "DELETE FROM owners WHERE package_id = ?1 AND user_id = ?2",
    [Q_OWNERS_LIST] = "SELECT o.user_id, u.username, u.email, o.level, o.added_at FROM owners o"
                      " JOIN users u ON u.id = o.user_id WHERE o.package_id = ?1"
                      " ORDER BY o.added_at, o.user_id",
    [Q_USER_PACKAGES] = "SELECT " PKG_LIST_COLS " FROM owners o"
                        " JOIN packages p ON p.id = o.package_id WHERE o.user_id = ?1"
                        " ORDER BY p.normalized_name, p.ecosystem, p.id",
    [Q_DL_VERSION] = "UPDATE versions SET downloads = downloads + ?2 WHERE id = ?1"
                     " RETURNING package_id",
    [Q_DL_DAY] = "INSERT INTO downloads_daily (version_id, day, count) VALUES (?1, ?2, ?3)"
                 " ON CONFLICT (version_id, day)"
                 " DO UPDATE SET count = downloads_daily.count + excluded.count",
    [Q_DL_PACKAGE] = "UPDATE packages SET downloads = downloads + ?2 WHERE id = ?1",
    /* Per day: the total first (version NULL), then each version newest
     * first. ?2 NULL means since the beginning. */
    [Q_DAILY] = "SELECT day, version, n FROM ("
                " SELECT d.day AS day, v.version AS version, d.count AS n, 1 AS k,"
                " v.major AS ma, v.minor AS mi, v.patch AS pa, v.prerelease IS NOT NULL AS pre,"
                " v.published_at AS at, v.id AS vid"
                " FROM versions v JOIN downloads_daily d ON d.version_id = v.id"
                " WHERE v.package_id = ?1 AND d.day >= coalesce(?2, '')"
                " UNION ALL"
                " SELECT d.day, NULL, sum(d.count), 0, 0, 0, 0, 0, 0, 0"
                " FROM versions v JOIN downloads_daily d ON d.version_id = v.id"
                " WHERE v.package_id = ?1 AND d.day >= coalesce(?2, '') GROUP BY d.day)"
                " ORDER BY day, k, ma DESC, mi DESC, pa DESC, pre, at DESC, vid DESC",
    [Q_TOTALS] = "SELECT (SELECT count(*) FROM packages), (SELECT count(*) FROM versions),"
                 " (SELECT count(*) FROM users), (SELECT coalesce(sum(downloads), 0) FROM packages)",
    [Q_TOP_DOWNLOADS] = TOP_SQL("p.downloads DESC, p.id DESC"),
    [Q_TOP_DOWNLOADS_ECO] = TOP_ECO_SQL("p.downloads DESC, p.id DESC"),
    [Q_TOP_NEW] = TOP_SQL("p.created_at DESC, p.id DESC"),
    [Q_TOP_NEW_ECO] = TOP_ECO_SQL("p.created_at DESC, p.id DESC"),
    [Q_TOP_UPDATED] = TOP_SQL("p.updated_at DESC, p.id DESC"),
    [Q_TOP_UPDATED_ECO] = TOP_ECO_SQL("p.updated_at DESC, p.id DESC"),
    [Q_KEY_INSERT] = "INSERT INTO signing_keys (user_id, key_id, algorithm, public_key, name,"
                     " created_at) VALUES (?1, ?2, coalesce(?3, 'ed25519'), ?4, ?5, ?6)"
                     " RETURNING id",
    [Q_KEY_LIST] = "SELECT " KEY_COLS " FROM signing_keys WHERE user_id = ?1"
                   " AND revoked_at IS NULL ORDER BY created_at, id",
    [Q_KEY_GET] = "SELECT " KEY_COLS " FROM signing_keys WHERE key_id = ?1"
                  " AND revoked_at IS NULL",
    [Q_KEY_REVOKE] = "UPDATE signing_keys SET revoked_at = ?3 WHERE user_id = ?1 AND key_id = ?2"
                     " AND revoked_at IS NULL",
    /* ?3, ?6, ?8 say what to do with retirement, deprecation and retraction:
     * 1 set, -1 clear, 0 leave; ?9 is the time of a retirement. */
    [Q_VERSION_STATUS] =
        "UPDATE versions SET"
        " retired_reason = CASE ?3 WHEN 1 THEN ?4 WHEN -1 THEN NULL"
        " ELSE retired_reason END,"
        " retired_message = CASE ?3 WHEN 1 THEN ?5 WHEN -1 THEN NULL"
        " ELSE retired_message END,"
        " retired_at = CASE ?3 WHEN 1 THEN ?9 WHEN -1 THEN NULL ELSE retired_at END,"
        " deprecated = CASE ?6 WHEN 1 THEN ?7 WHEN -1 THEN NULL ELSE deprecated END,"
        " retracted = CASE ?8 WHEN 1 THEN 1 WHEN -1 THEN 0 ELSE retracted END"
        " WHERE package_id = ?1 AND version = ?2",
    [Q_PKG_SET_META] = "UPDATE packages SET meta = coalesce(?2, '{}'), generation = generation + 1"
                       " WHERE id = ?1",
    [Q_TAGS_LIST] =
        "SELECT t.tag, v.version, t.updated_at FROM dist_tags t"
        " JOIN versions v ON v.id = t.version_id WHERE t.package_id = ?1 ORDER BY t.tag",
    /* Inserts nothing when the version does not exist (the caller checks
     * the change count). */
    [Q_TAG_UPSERT] = "INSERT INTO dist_tags (package_id, tag, version_id, updated_at)"
                     " SELECT ?1, ?2, v.id, ?4 FROM versions v WHERE v.package_id = ?1"
                     " AND v.version = ?3 ON CONFLICT (package_id, tag) DO UPDATE"
                     " SET version_id = excluded.version_id, updated_at = excluded.updated_at",
    [Q_TAG_DELETE] = "DELETE FROM dist_tags WHERE package_id = ?1 AND tag = ?2",
    [Q_VERSION_FIND] = "SELECT id, downloads FROM versions WHERE package_id = ?1 AND version = ?2",
    /* Its dependencies, tags and daily download rows go by ON DELETE CASCADE. */
    [Q_VERSION_DELETE] = "DELETE FROM versions WHERE id = ?1",
    [Q_PKG_DL_SUB] = "UPDATE packages SET downloads = downloads - ?2 WHERE id = ?1",
    [Q_TOMBSTONE_INSERT] = "INSERT INTO version_tombstones (package_id, version, deleted_at)"
                           " VALUES (?1, ?2, ?3) ON CONFLICT (package_id, version) DO NOTHING",
    [Q_TOMBSTONE_CHECK] = "SELECT 1 FROM version_tombstones WHERE package_id = ?1 AND version = ?2",
    /* Its files go by ON DELETE CASCADE. */
    [Q_DOCS_SITE_DELETE] = "DELETE FROM docs_sites WHERE package_id = ?1 AND version = ?2",
    [Q_DOCS_SITE_INSERT] = "INSERT INTO docs_sites (package_id, version, sha256, size, created_at)"
                           " VALUES (?1, ?2, ?3, ?4, ?5)",
    [Q_DOCS_FILE_INSERT] = "INSERT INTO docs_files (package_id, version, path, sha256, size)"
                           " VALUES (?1, ?2, ?3, ?4, ?5)",
    [Q_DOCS_FILE] = "SELECT path, sha256, size FROM docs_files WHERE package_id = ?1"
                    " AND version = ?2 AND path = ?3",
    [Q_DOCS_ARCHIVE] = "SELECT sha256, size FROM docs_sites WHERE package_id = ?1 AND version = ?2",
    /* Sites of known versions in version order, then (column 1 = 1) sites
     * whose version is gone, which the caller orders by their text. */
    [Q_DOCS_VERSIONS] = "SELECT d.version, v.id IS NULL FROM docs_sites d"
                        " LEFT JOIN versions v ON v.package_id = d.package_id"
                        " AND v.version = d.version WHERE d.package_id = ?1"
                        " ORDER BY v.id IS NULL, " VERSION_ORDER ", d.version",
    [Q_UPLOAD_INSERT] = "INSERT INTO uploads (" UPLOAD_COLS ")"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [Q_UPLOAD_GET] = "SELECT " UPLOAD_COLS " FROM uploads WHERE id = ?1",
    [Q_UPLOAD_UPDATE] = "UPDATE uploads SET sha256 = ?2, size = ?3, result = ?4, failed = ?5"
                        " WHERE id = ?1",
    [Q_UPLOAD_EXPIRE] = "DELETE FROM uploads WHERE expires_at <= ?1",
    [Q_EMAIL_TOKEN_PURGE] = "DELETE FROM email_tokens WHERE expires_at <= ?1",
    [Q_EMAIL_TOKEN_REPLACE] = "DELETE FROM email_tokens WHERE user_id = ?1 AND purpose = ?2"
                              " AND used_at IS NULL",
    [Q_EMAIL_TOKEN_INSERT] = "INSERT INTO email_tokens (hash, user_id, purpose, email, created_at,"
                             " expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [Q_EMAIL_TOKEN_GET] = "SELECT hash, user_id, purpose, email, created_at, expires_at, used_at"
                          " FROM email_tokens WHERE hash = ?1 AND purpose = ?2 AND used_at IS NULL"
                          " AND expires_at > ?3",
    [Q_EMAIL_TOKEN_USE] = "UPDATE email_tokens SET used_at = ?3 WHERE hash = ?1 AND purpose = ?2"
                          " AND used_at IS NULL AND expires_at > ?3"
                          " RETURNING hash, user_id, purpose, email, created_at, expires_at, used_at",
    [Q_USER_SET_VERIFIED] = "UPDATE users SET email_verified_at = ?2, updated_at = ?3 WHERE id = ?1",
    [Q_USER_VERIFIED] = "SELECT coalesce(email_verified_at, 0) FROM users WHERE id = ?1",
    [Q_AUDIT_RECENT] = "SELECT a.id, a.at, coalesce(a.user_id, 0), u.username, a.action, a.target,"
                       " a.detail, a.ip FROM audit_log a LEFT JOIN users u ON u.id = a.user_id"
                       " ORDER BY a.at DESC, a.id DESC LIMIT ?1",
    /* Starts from the dependency's name (indexed); a package counts once, by its latest version. */
    [Q_PKG_DEPENDENTS] = "SELECT " PKG_LIST_COLS " FROM dependencies d"
                         " JOIN versions v ON v.id = d.version_id"
                         " JOIN packages p ON p.id = v.package_id AND p.latest_version = v.version"
                         " WHERE d.name = ?2 AND d.kind <> 'dev' AND p.ecosystem = ?1"
                         " GROUP BY p.id ORDER BY p.downloads DESC, p.id DESC LIMIT ?3",
};

/* Which unique key a constraint message names, and how to say it to a
 * person. Matched against SQLite's "UNIQUE constraint failed: t.c, ..." */
static const struct {
    const char *columns;
    const char *message;
} conflict_messages[] = {
    {"users.username_lower", "username is taken"},
    {"users.email_lower", "email is taken"},
    {"api_tokens.user_id, api_tokens.name", "a token with this name exists"},
    {"api_tokens.hash", "a token with this secret exists"},
    {"packages.ecosystem, packages.normalized_name", "a package with this name exists"},
    {"versions.package_id, versions.version", "this version already exists"},
    {"owners.package_id, owners.user_id", "already an owner of this package"},
    {"signing_keys.key_id", "this key is already registered"},
    {"signing_keys.user_id, signing_keys.name", "a key with this name exists"},
    {"docs_files.package_id, docs_files.version, docs_files.path",
     "the docs site names a file twice"},
    {"uploads.id", "an upload with this id exists"},
};

typedef struct sqlite_store sqlite_store;

/* Search statements differ by which filters are given, the sort, and
 * whether they count or fetch a page: one slot per shape (see search_sql). */
#define SEARCH_SHAPES 256

struct conn {
    sqlite3 *db;
    sqlite3_stmt *stmt[Q__COUNT]; /* prepared on first use */
    sqlite3_stmt *search[SEARCH_SHAPES]; /* likewise */
    fts5_tokenizer tok;         /* the search index's tokenizer, found on first search */
    Fts5Tokenizer *tokenizer;   /* its instance; NULL until then */
    sqlite_store *owner;
    struct conn *prev, *next; /* in owner->conns, under owner->mu */
};

struct sqlite_store {
    store base; /* first, so a store * is a sqlite_store * */
    char *path;
    pthread_key_t key; /* this thread's struct conn */
    pthread_mutex_t mu;
    struct conn *conns; /* every open connection, to close them all in close() */
    int nconns;
};

static sqlite_store *self(store *s)
{
    return (sqlite_store *)s;
}

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

/* ---- errors ---------------------------------------------------------- */

/* Logs SQLite's message for op and fills e for the client; returns the
 * store_rc the operation should return. rc is the failing call's result.
 * Must run before the statement is reset. */
static int fail(struct conn *c, int rc, const char *op, derr *e)
{
    const char *msg = sqlite3_errmsg(c->db);
    int ext = sqlite3_extended_errcode(c->db);
    if ((rc & 0xff) == SQLITE_CONSTRAINT &&
        (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)) {
        const char *say = "it already exists";
        for (size_t i = 0; i < sizeof conflict_messages / sizeof conflict_messages[0]; i++)
            if (strstr(msg, conflict_messages[i].columns)) {
                say = conflict_messages[i].message;
                break;
            }
        derr_set(e, 409, "conflict", "%s", say);
        return STORE_CONFLICT;
    }
    if ((rc & 0xff) == SQLITE_CONSTRAINT && ext == SQLITE_CONSTRAINT_FOREIGNKEY) {
        /* The row names a parent that is not there (a token for a user that
         * was never created or is gone). */
        derr_set(e, 404, "not_found", "what it refers to does not exist");
        return STORE_NOT_FOUND;
    }
    log_error("store error", "op", op, "error", msg, "code", sqlite3_errstr(ext), NULL);
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
        derr_set(e, 503, "unavailable", "the store is busy; try again");
        return STORE_ERROR;
    }
    /* The disk is full, failing or read-only: the client can only wait (507: for an operator). */
    if ((rc & 0xff) == SQLITE_FULL) {
        derr_set(e, 507, "insufficient_storage", "the store is out of space");
        return STORE_ERROR;
    }
    if ((rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_READONLY) {
        derr_set(e, 503, "unavailable", "the store cannot be written now; try again later");
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

static void conn_close(struct conn *c)
{
    if (!c)
        return;
    for (int i = 0; i < Q__COUNT; i++)
        sqlite3_finalize(c->stmt[i]);
    for (int i = 0; i < SEARCH_SHAPES; i++)
        sqlite3_finalize(c->search[i]);
    if (c->tokenizer)
        c->tok.xDelete(c->tokenizer);
    if (c->db) {
        /* Lets SQLite refresh its planner statistics cheaply, as advised. */
        sqlite3_exec(c->db, "PRAGMA optimize", NULL, NULL, NULL);
        sqlite3_close_v2(c->db);
    }
    free(c);
}

/* The pthread key's destructor: a worker thread is exiting. */
static void conn_destroy(void *p)
{
    struct conn *c = p;
    sqlite_store *s = c->owner;
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

/* Switches the database to WAL. Switching needs a moment of exclusive
 * access, and several processes or threads may open a fresh file at once,
 * so a busy answer is retried for about as long as the busy timeout. */
static int set_wal(sqlite3 *db)
{
    for (int attempt = 0; attempt < BUSY_TIMEOUT_MS / 50; attempt++) {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
        if (rc == SQLITE_OK) {
            rc = sqlite3_step(st);
            if (rc == SQLITE_ROW) {
                const char *mode = (const char *)sqlite3_column_text(st, 0);
                if (!mode || strcmp(mode, "wal") != 0)
                    log_warn("sqlite: WAL is not available; using the rollback journal",
                             "journal_mode", mode ? mode : "", NULL);
                rc = SQLITE_OK;
            }
        }
        sqlite3_finalize(st);
        if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
            return rc;
        sqlite3_sleep(50);
    }
    return SQLITE_BUSY;
}

/* Opens and configures a new connection for this thread and registers it. */
static struct conn *conn_open(sqlite_store *s, derr *e)
{
    struct conn *c = xcalloc(1, sizeof *c);
    c->owner = s;
    /* NOMUTEX: a connection is only ever used by the thread that opened it. */
    int rc = sqlite3_open_v2(s->path, &c->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    const char *step = "open";
    if (rc == SQLITE_OK) {
        sqlite3_extended_result_codes(c->db, 1);
        sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
        step = "configure";
        rc = sqlite3_exec(c->db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL", NULL,
                          NULL, NULL);
    }
    if (rc == SQLITE_OK)
        rc = set_wal(c->db);
    if (rc != SQLITE_OK) {
        log_error("store error", "op", step, "path", s->path, "error",
                  c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc), NULL);
        derr_set(e, 503, "unavailable", "cannot open the database; see the server log");
        conn_close(c);
        return NULL;
    }
    pthread_mutex_lock(&s->mu);
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    pthread_mutex_unlock(&s->mu);
    pthread_setspecific(s->key, c);
    return c;
}

/* This thread's connection, opened on first use. NULL with e filled when it
 * cannot be opened. */
static struct conn *conn_get(store *st, derr *e)
{
    sqlite_store *s = self(st);
    struct conn *c = pthread_getspecific(s->key);
    return c ? c : conn_open(s, e);
}

/* ---- statements ------------------------------------------------------ */

/* The cached statement for q, ready to bind; NULL with e filled when it does
 * not prepare (a bug, or a schema that was never migrated). */
static sqlite3_stmt *prep(struct conn *c, enum query q, const char *op, derr *e)
{
    if (c->stmt[q])
        return c->stmt[q];
    int rc = sqlite3_prepare_v3(c->db, sql_text[q], -1, SQLITE_PREPARE_PERSISTENT, &c->stmt[q],
                                NULL);
    if (rc != SQLITE_OK) {
        fail(c, rc, op, e);
        sqlite3_finalize(c->stmt[q]);
        c->stmt[q] = NULL;
        return NULL;
    }
    return c->stmt[q];
}

/* Makes a statement reusable and drops its borrowed bindings. NULL is fine. */
static void release(sqlite3_stmt *st)
{
    if (!st)
        return;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* Binders return SQLite's result code; NULL strings and zero times bind as
 * SQL NULL. Strings are borrowed until release(). */
static int bind_text(sqlite3_stmt *st, int i, const char *v)
{
    return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

static int bind_i64(sqlite3_stmt *st, int i, int64_t v)
{
    return sqlite3_bind_int64(st, i, v);
}

static int bind_time(sqlite3_stmt *st, int i, int64_t v)
{
    return v ? sqlite3_bind_int64(st, i, v) : sqlite3_bind_null(st, i);
}

static const char *col_text(arena *a, sqlite3_stmt *st, int i)
{
    const unsigned char *p = sqlite3_column_text(st, i);
    return p ? arena_strndup(a, (const char *)p, (size_t)sqlite3_column_bytes(st, i)) : NULL;
}

/* Runs a statement that returns no rows (or whose rows do not matter). */
static int run(struct conn *c, enum query q, const char *op, derr *e)
{
    sqlite3_stmt *st = prep(c, q, op, e);
    if (!st)
        return STORE_ERROR;
    int rc = sqlite3_step(st);
    int ret = rc == SQLITE_DONE || rc == SQLITE_ROW ? STORE_OK : fail(c, rc, op, e);
    release(st);
    return ret;
}

static int tx_begin(struct conn *c, const char *op, derr *e)
{
    return run(c, Q_BEGIN, op, e);
}

static int tx_commit(struct conn *c, const char *op, derr *e)
{
    return run(c, Q_COMMIT, op, e);
}

/* Rolls back the open transaction, if SQLite has not already done so (it
 * does by itself after some errors). Errors here only go to the log. */
static void tx_rollback(struct conn *c, const char *op)
{
    if (!sqlite3_get_autocommit(c->db))
        run(c, Q_ROLLBACK, op, NULL);
}

/* Lower-cases ASCII letters into a new string the caller frees. Done here,
 * not with SQL lower(), so every backend folds the same way. */
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

/* Grows an arena array to hold one more element past *n; returns it. */
static void *grow(arena *a, void *arr, int n, int *cap, size_t size)
{
    if (n < *cap)
        return arr;
    int ncap = *cap ? *cap * 2 : 8;
    void *bigger = arena_alloc(a, (size_t)ncap * size);
    if (n)
        memcpy(bigger, arr, (size_t)n * size);
    *cap = ncap;
    return bigger;
}

/* ---- lifecycle ------------------------------------------------------- */

/* Closes every connection, this thread's and every other's. The caller
 * guarantees no other thread is using the store or still exiting from it. */
static void sq_close(store *st)
{
    if (!st)
        return;
    sqlite_store *s = self(st);
    /* Deleting the key first means no destructor starts from here on. */
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
    free(s->path);
    free(s);
}

int store_sqlite_connections(store *st)
{
    sqlite_store *s = self(st);
    pthread_mutex_lock(&s->mu);
    int n = s->nconns;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* Applies one migration in its own IMMEDIATE transaction, after checking
 * under the write lock that no other process applied it meanwhile. Returns
 * 1 when applied, 0 when it already was, STORE_ERROR on failure. */
static int apply_migration(struct conn *c, const struct migration *m, derr *e)
{
    static const char op[] = "migrate";
    char version[24];
    snprintf(version, sizeof version, "%d", m->version);
    if (tx_begin(c, op, e) != STORE_OK)
        return STORE_ERROR;
    int ret = STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_MIG_HAS, op, e);
    if (!st)
        goto out;
    int rc = bind_i64(st, 1, m->version);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        ret = fail(c, rc, op, e);
        goto out;
    }
    release(st);
    st = NULL;
    if (rc == SQLITE_ROW) {
        ret = tx_commit(c, op, e) == STORE_OK ? 0 : STORE_ERROR;
        goto out;
    }

    rc = sqlite3_exec(c->db, m->sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        log_error("store error", "op", op, "version", version, "name", m->name, "error",
                  sqlite3_errmsg(c->db), NULL);
        derr_set(e, 500, "internal", "a schema migration failed; see the server log");
        goto out;
    }
    st = prep(c, Q_MIG_ADD, op, e);
    if (!st)
        goto out;
    rc = bind_i64(st, 1, m->version);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 2, m->name);
    if (rc == SQLITE_OK)
        rc = bind_i64(st, 3, now_s());
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        ret = fail(c, rc, op, e);
        goto out;
    }
    release(st);
    st = NULL;
    if (tx_commit(c, op, e) != STORE_OK)
        goto out;
    log_info("schema migration applied", "version", version, "name", m->name, NULL);
    ret = 1;
out:
    release(st);
    if (ret < 0)
        tx_rollback(c, op);
    return ret;
}

static int sq_migrate(store *s, int *applied, derr *e)
{
    static const char op[] = "migrate";
    int count = 0;
    if (applied)
        *applied = 0;
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    int rc = sqlite3_exec(c->db,
                          "CREATE TABLE IF NOT EXISTS schema_migrations ("
                          " version INTEGER PRIMARY KEY,"
                          " name TEXT NOT NULL,"
                          " applied_at INTEGER NOT NULL)",
                          NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return fail(c, rc, op, e);

    /* A database migrated by a newer depot may hold tables this one would
     * misuse: refuse rather than guess. */
    int known = 0;
    for (int i = 0; i < migrations_count; i++)
        if (migrations[i].version > known)
            known = migrations[i].version;
    sqlite3_stmt *st = prep(c, Q_MIG_MAX, op, e);
    if (!st)
        return STORE_ERROR;
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        int ret = fail(c, rc, op, e);
        release(st);
        return ret;
    }
    int64_t have = sqlite3_column_int64(st, 0);
    release(st);
    if (have > known) {
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

    for (int i = 0; i < migrations_count; i++) {
        int r = apply_migration(c, &migrations[i], e);
        if (r < 0) {
            if (applied)
                *applied = count;
            return STORE_ERROR;
        }
        count += r;
    }
    if (applied)
        *applied = count;
    return STORE_OK;
}

static int sq_ping(store *s, derr *e)
{
    struct conn *c = conn_get(s, e);
    return c ? run(c, Q_PING, "ping", e) : STORE_ERROR;
}

/* ---- users ----------------------------------------------------------- */

static void read_user(arena *a, sqlite3_stmt *st, store_user *u)
{
    u->id = sqlite3_column_int64(st, 0);
    u->username = col_text(a, st, 1);
    u->email = col_text(a, st, 2);
    u->password_hash = col_text(a, st, 3);
    u->is_admin = sqlite3_column_int(st, 4) != 0;
    u->disabled = sqlite3_column_int(st, 5) != 0;
    u->created_at = sqlite3_column_int64(st, 6);
    u->password_changed_at = sqlite3_column_int64(st, 7);
}

/* Runs a query that yields at most one user; ?1 is `text` when given, else `id`. */
static int user_one(store *s, arena *a, enum query q, int64_t id, const char *text,
                    store_user *out, const char *op, derr *e)
{
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, q, op, e);
    if (!st)
        return STORE_ERROR;
    int rc = text ? bind_text(st, 1, text) : bind_i64(st, 1, id);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    int ret;
    if (rc == SQLITE_ROW) {
        read_user(a, st, out);
        ret = STORE_OK;
    } else if (rc == SQLITE_DONE) {
        ret = not_found(e, "user");
    } else {
        ret = fail(c, rc, op, e);
    }
    release(st);
    return ret;
}

static int sq_user_create(store *s, store_user *u, derr *e)
{
    static const char op[] = "user_create";
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_USER_INSERT, op, e);
    if (!st)
        return STORE_ERROR;
    char *ulower = ascii_lower(u->username);
    char *elower = ascii_lower(u->email);
    int64_t created = u->created_at > 0 ? u->created_at : now_s();
    int rc = bind_text(st, 1, u->username);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 2, ulower);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 3, u->email);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 4, elower);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 5, u->password_hash);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 6, u->is_admin ? 1 : 0);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 7, u->disabled ? 1 : 0);
    if (rc == SQLITE_OK)
        rc = bind_i64(st, 8, created);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    int ret;
    if (rc == SQLITE_ROW) {
        u->id = sqlite3_column_int64(st, 0);
        u->created_at = created;
        ret = STORE_OK;
    } else {
        ret = fail(c, rc, op, e);
    }
    release(st);
    free(ulower);
    free(elower);
    return ret;
}

static int sq_user_by_id(store *s, arena *a, int64_t id, store_user *out, derr *e)
{
    return user_one(s, a, Q_USER_BY_ID, id, NULL, out, "user_by_id", e);
}

static int sq_user_by_login(store *s, arena *a, const char *login, store_user *out, derr *e)
{
    if (!login)
        return not_found(e, "user");
    char *lower = ascii_lower(login);
    int ret = user_one(s, a, Q_USER_BY_LOGIN, 0, lower, out, "user_by_login", e);
    free(lower);
    return ret;
}

static int sq_user_list(store *s, arena *a, store_user **out, int *n, derr *e)
{
    static const char op[] = "user_list";
    *out = NULL;
    *n = 0;
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_USER_LIST, op, e);
    if (!st)
        return STORE_ERROR;
    store_user *arr = NULL;
    int count = 0, cap = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        arr = grow(a, arr, count, &cap, sizeof *arr);
        read_user(a, st, &arr[count++]);
    }
    int ret = rc == SQLITE_DONE ? STORE_OK : fail(c, rc, op, e);
    release(st);
    if (ret == STORE_OK) {
        *out = arr;
        *n = count;
    }
    return ret;
}

/* Runs one of the single-column user updates: ?1 id, ?2 value, ?3 now. */
static int user_update(store *s, enum query q, int64_t id, const char *text, int flag,
                       const char *op, derr *e)
{
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, q, op, e);
    if (!st)
        return STORE_ERROR;
    int rc = bind_i64(st, 1, id);
    if (rc == SQLITE_OK)
        rc = q == Q_USER_SET_PASSWORD ? bind_text(st, 2, text) : sqlite3_bind_int(st, 2, flag);
    if (rc == SQLITE_OK)
        rc = bind_i64(st, 3, now_s());
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    int ret;
    if (rc == SQLITE_DONE)
        ret = sqlite3_changes(c->db) > 0 ? STORE_OK : not_found(e, "user");
    else
        ret = fail(c, rc, op, e);
    release(st);
    return ret;
}

static int sq_user_set_password(store *s, int64_t id, const char *hash, derr *e)
{
    return user_update(s, Q_USER_SET_PASSWORD, id, hash, 0, "user_set_password", e);
}

static int sq_user_set_disabled(store *s, int64_t id, bool disabled, derr *e)
{
    return user_update(s, Q_USER_SET_DISABLED, id, NULL, disabled ? 1 : 0, "user_set_disabled",
                       e);
}

static int sq_user_set_admin(store *s, int64_t id, bool admin, derr *e)
{
    return user_update(s, Q_USER_SET_ADMIN, id, NULL, admin ? 1 : 0, "user_set_admin", e);
}

/* ---- tokens ---------------------------------------------------------- */

static void read_token(arena *a, sqlite3_stmt *st, store_token *t)
{
    t->id = sqlite3_column_int64(st, 0);
    t->user_id = sqlite3_column_int64(st, 1);
    t->name = col_text(a, st, 2);
    t->hash = col_text(a, st, 3);
    t->prefix = col_text(a, st, 4);
    t->scopes = col_text(a, st, 5);
    t->created_at = sqlite3_column_int64(st, 6);
    t->expires_at = sqlite3_column_int64(st, 7);   /* NULL reads as 0: never */
    t->last_used_at = sqlite3_column_int64(st, 8); /* NULL reads as 0: never */
}

/* Fills t->id, and t->created_at when the caller left it 0. STORE_CONFLICT
 * when the user already has a token of this name; STORE_NOT_FOUND when the
 * user does not exist. */
static int sq_token_create(store *s, store_token *t, derr *e)
{
    static const char op[] = "token_create";
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_TOKEN_INSERT, op, e);
    if (!st)
        return STORE_ERROR;
    int64_t created = t->created_at > 0 ? t->created_at : now_s();
    int rc = bind_i64(st, 1, t->user_id);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 2, t->name);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 3, t->hash);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 4, t->prefix);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 5, t->scopes ? t->scopes : "");
    if (rc == SQLITE_OK)
        rc = bind_i64(st, 6, created);
    if (rc == SQLITE_OK)
        rc = bind_time(st, 7, t->expires_at);
    if (rc == SQLITE_OK)
        rc = bind_time(st, 8, t->last_used_at);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    int ret;
    if (rc == SQLITE_ROW) {
        t->id = sqlite3_column_int64(st, 0);
        t->created_at = created;
        ret = STORE_OK;
    } else {
        ret = fail(c, rc, op, e);
        if (ret == STORE_NOT_FOUND)
            not_found(e, "user");
    }
    release(st);
    return ret;
}

/* Runs a query yielding at most one token; binds ?1 as text or as id and
 * ?2 as text when name is given. */
static int token_one(store *s, arena *a, enum query q, const char *key, int64_t user_id,
                     const char *name, store_token *out, const char *op, derr *e)
{
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, q, op, e);
    if (!st)
        return STORE_ERROR;
    int rc = key ? bind_text(st, 1, key) : bind_i64(st, 1, user_id);
    if (rc == SQLITE_OK && name)
        rc = bind_text(st, 2, name);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    int ret;
    if (rc == SQLITE_ROW) {
        read_token(a, st, out);
        ret = STORE_OK;
    } else if (rc == SQLITE_DONE) {
        ret = not_found(e, "token");
    } else {
        ret = fail(c, rc, op, e);
    }
    release(st);
    return ret;
}

static int sq_token_by_hash(store *s, arena *a, const char *hash, store_token *out, derr *e)
{
    if (!hash)
        return not_found(e, "token");
    return token_one(s, a, Q_TOKEN_BY_HASH, hash, 0, NULL, out, "token_by_hash", e);
}

static int sq_token_by_name(store *s, arena *a, int64_t user_id, const char *name,
                            store_token *out, derr *e)
{
    if (!name)
        return not_found(e, "token");
    return token_one(s, a, Q_TOKEN_BY_NAME, NULL, user_id, name, out, "token_by_name", e);
}

static int sq_token_list(store *s, arena *a, int64_t user_id, store_token **out, int *n, derr *e)
{
    static const char op[] = "token_list";
    *out = NULL;
    *n = 0;
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_TOKEN_LIST, op, e);
    if (!st)
        return STORE_ERROR;
    store_token *arr = NULL;
    int count = 0, cap = 0;
    int rc = bind_i64(st, 1, user_id);
    if (rc == SQLITE_OK)
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            arr = grow(a, arr, count, &cap, sizeof *arr);
            read_token(a, st, &arr[count++]);
        }
    int ret = rc == SQLITE_DONE ? STORE_OK : fail(c, rc, op, e);
    release(st);
    if (ret == STORE_OK) {
        *out = arr;
        *n = count;
    }
    return ret;
}

static int sq_token_delete(store *s, int64_t user_id, const char *name, derr *e)
{
    static const char op[] = "token_delete";
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_TOKEN_DELETE, op, e);
    if (!st)
        return STORE_ERROR;
    int rc = bind_i64(st, 1, user_id);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 2, name);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    int ret;
    if (rc == SQLITE_DONE)
        ret = sqlite3_changes(c->db) > 0 ? STORE_OK : not_found(e, "token");
    else
        ret = fail(c, rc, op, e);
    release(st);
    return ret;
}

/* Sets last_used_at = now unless it is already within TOUCH_SLACK_S of now,
 * so a token used in a burst costs one write a minute, not one a request.
 * STORE_OK also when nothing was written (recent, or no such token). */
static int sq_token_touch(store *s, int64_t id, int64_t now, derr *e)
{
    static const char op[] = "token_touch";
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_TOKEN_TOUCH, op, e);
    if (!st)
        return STORE_ERROR;
    int rc = bind_i64(st, 1, id);
    if (rc == SQLITE_OK)
        rc = bind_i64(st, 2, now);
    if (rc == SQLITE_OK)
        rc = bind_i64(st, 3, TOUCH_SLACK_S);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    int ret = rc == SQLITE_DONE ? STORE_OK : fail(c, rc, op, e);
    release(st);
    return ret;
}

/* ---- revoked JWTs ---------------------------------------------------- */

/* Records the jti (again is fine) and, in the same transaction, forgets
 * every revoked JWT that has expired by now: they fail on expiry anyway. */
static int sq_jwt_revoke(store *s, const char *jti, int64_t expires_at, derr *e)
{
    static const char op[] = "jwt_revoke";
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    if (tx_begin(c, op, e) != STORE_OK)
        return STORE_ERROR;
    int ret = STORE_ERROR, rc;
    sqlite3_stmt *st = prep(c, Q_JWT_PURGE, op, e);
    if (!st)
        goto out;
    rc = bind_i64(st, 1, now_s());
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        ret = fail(c, rc, op, e);
        goto out;
    }
    release(st);
    st = prep(c, Q_JWT_INSERT, op, e);
    if (!st)
        goto out;
    rc = bind_text(st, 1, jti);
    if (rc == SQLITE_OK)
        rc = bind_i64(st, 2, expires_at);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        ret = fail(c, rc, op, e);
        goto out;
    }
    release(st);
    st = NULL;
    ret = tx_commit(c, op, e);
out:
    release(st);
    if (ret != STORE_OK)
        tx_rollback(c, op);
    return ret;
}

static int sq_jwt_is_revoked(store *s, const char *jti, derr *e)
{
    static const char op[] = "jwt_is_revoked";
    if (!jti)
        return STORE_NOT_FOUND;
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_JWT_CHECK, op, e);
    if (!st)
        return STORE_ERROR;
    int rc = bind_text(st, 1, jti);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    int ret;
    if (rc == SQLITE_ROW)
        ret = STORE_OK;
    else if (rc == SQLITE_DONE)
        ret = STORE_NOT_FOUND; /* the common answer: not an error, so e is left alone */
    else
        ret = fail(c, rc, op, e);
    release(st);
    return ret;
}

/* One integer from the settings table (auth_epoch, eco_gen:<ecosystem>); 0 when absent. */
static int settings_counter(store *s, int q, const char *arg, int64_t *out, const char *op, derr *e)
{
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, q, op, e);
    if (!st)
        return STORE_ERROR;
    int rc = arg ? bind_text(st, 1, arg) : SQLITE_OK;
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    int ret = STORE_OK;
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else if (rc == SQLITE_DONE)
        *out = 0;
    else
        ret = fail(c, rc, op, e);
    release(st);
    return ret;
}

static int sq_auth_epoch(store *s, int64_t *out, derr *e)
{
    return settings_counter(s, Q_AUTH_EPOCH, NULL, out, "auth_epoch", e);
}

static int sq_eco_generation(store *s, const char *ecosystem, int64_t *out, derr *e)
{
    return settings_counter(s, Q_ECO_GEN, ecosystem, out, "eco_generation", e);
}

/* ---- operations: integrity, backup, blob references ------------------ */

static int sq_integrity(store *s, arena *a, const char **report, derr *e)
{
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(c->db, "PRAGMA integrity_check", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return fail(c, rc, "integrity", e);
    size_t cap = 0;
    char *out = NULL;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *line = (const char *)sqlite3_column_text(st, 0);
        out = out ? arena_printf(a, "%s\n%s", out, line ? line : "") : arena_strdup(a, line ? line : "");
        if (++cap > 100)
            break;
    }
    int ret = rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : fail(c, rc, "integrity", e);
    sqlite3_finalize(st);
    *report = out ? out : "ok";
    return ret;
}

static int sq_backup(store *s, const char *path, derr *e)
{
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3 *dst;
    int rc = sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        log_error("store error", "op", "backup", "path", path, "error", sqlite3_errmsg(dst), NULL);
        sqlite3_close(dst);
        return derr_set(e, 500, "internal", "cannot create the backup file");
    }
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", c->db, "main");
    if (!b) {
        log_error("store error", "op", "backup", "error", sqlite3_errmsg(dst), NULL);
        sqlite3_close(dst);
        return derr_set(e, 500, "internal", "the backup could not start");
    }
    /* Copy in steps so writers are held up only briefly; a write between steps makes SQLite
     * restart the copy, which still ends consistent. */
    do {
        rc = sqlite3_backup_step(b, 256);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
            sqlite3_sleep(5);
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    sqlite3_backup_finish(b);
    int ret = STORE_OK;
    if (rc != SQLITE_DONE) {
        log_error("store error", "op", "backup", "error", sqlite3_errstr(rc), NULL);
        ret = derr_set(e, 500, "internal", "the backup failed");
    }
    sqlite3_close(dst);
    return ret;
}

static int sq_each_blob_ref(store *s, int (*fn)(void *, const char *, const char *, int64_t, const char *),
                            void *ctx, derr *e)
{
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
    int ret = STORE_OK;
    for (size_t q = 0; q < sizeof queries / sizeof queries[0] && ret == STORE_OK; q++) {
        sqlite3_stmt *st;
        int rc = sqlite3_prepare_v2(c->db, queries[q], -1, &st, NULL);
        if (rc != SQLITE_OK)
            return fail(c, rc, "each_blob_ref", e);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (fn(ctx, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
                   sqlite3_column_int64(st, 2), (const char *)sqlite3_column_text(st, 3)) != 0) {
                rc = SQLITE_DONE;
                q = sizeof queries; /* stop */
                break;
            }
        }
        if (rc != SQLITE_DONE)
            ret = fail(c, rc, "each_blob_ref", e);
        sqlite3_finalize(st);
    }
    return ret;
}

static int sq_bump_generations(store *s, derr *e)
{
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    int rc = sqlite3_exec(c->db, "UPDATE packages SET generation = generation + 1", NULL, NULL, NULL);
    return rc == SQLITE_OK ? STORE_OK : fail(c, rc, "bump_generations", e);
}

/* ---- audit ----------------------------------------------------------- */

static int sq_audit(store *s, const store_audit *ev, derr *e)
{
    static const char op[] = "audit";
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_AUDIT_INSERT, op, e);
    if (!st)
        return STORE_ERROR;
    int rc = bind_i64(st, 1, now_s());
    if (rc == SQLITE_OK)
        rc = ev->user_id ? bind_i64(st, 2, ev->user_id) : sqlite3_bind_null(st, 2);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 3, ev->action);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 4, ev->target);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 5, ev->detail);
    if (rc == SQLITE_OK)
        rc = bind_text(st, 6, ev->ip);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    int ret = rc == SQLITE_DONE ? STORE_OK : fail(c, rc, op, e);
    release(st);
    return ret;
}

/* ---- shared helpers for the package operations ----------------------- */

/* Binds a run of parameters and keeps the first failure, so a statement
 * with many parameters binds in a list and checks once. */
struct binder {
    sqlite3_stmt *st;
    int rc;
};

static void b_text(struct binder *b, int i, const char *v)
{
    if (b->rc == SQLITE_OK)
        b->rc = bind_text(b->st, i, v);
}

static void b_i64(struct binder *b, int i, int64_t v)
{
    if (b->rc == SQLITE_OK)
        b->rc = bind_i64(b->st, i, v);
}

static void b_time(struct binder *b, int i, int64_t v)
{
    if (b->rc == SQLITE_OK)
        b->rc = bind_time(b->st, i, v);
}

static void b_null(struct binder *b, int i)
{
    if (b->rc == SQLITE_OK)
        b->rc = sqlite3_bind_null(b->st, i);
}

/* Binds a named parameter when the statement has it (search statements
 * differ in which they use). */
static void b_named_text(struct binder *b, const char *name, const char *v)
{
    int i = sqlite3_bind_parameter_index(b->st, name);
    if (i > 0)
        b_text(b, i, v);
}

static void b_named_i64(struct binder *b, const char *name, int64_t v)
{
    int i = sqlite3_bind_parameter_index(b->st, name);
    if (i > 0)
        b_i64(b, i, v);
}

/* Steps a bound statement to the end, reading each row into a growing
 * arena array of elements of `size` bytes. The caller releases st. */
static int collect(struct conn *c, sqlite3_stmt *st, arena *a, size_t size,
                   void (*read)(arena *, sqlite3_stmt *, void *), void **out, int *n,
                   const char *op, derr *e)
{
    char *arr = NULL;
    int count = 0, cap = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        arr = grow(a, arr, count, &cap, size);
        read(a, st, arr + (size_t)count * size);
        count++;
    }
    if (rc != SQLITE_DONE)
        return fail(c, rc, op, e);
    *out = arr;
    *n = count;
    return STORE_OK;
}

/* Runs a statement with ?1 = id and no other parameter, for its effect. */
static int run_id(struct conn *c, enum query q, int64_t id, const char *op, derr *e)
{
    sqlite3_stmt *st = prep(c, q, op, e);
    if (!st)
        return STORE_ERROR;
    int rc = bind_i64(st, 1, id);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    int ret = rc == SQLITE_DONE ? STORE_OK : fail(c, rc, op, e);
    release(st);
    return ret;
}

/* Ends a transaction: commits when ret is STORE_OK (and returns the
 * commit's result), else rolls back and returns ret. */
static int tx_end(struct conn *c, int ret, const char *op, derr *e)
{
    if (ret == STORE_OK)
        ret = tx_commit(c, op, e);
    if (ret != STORE_OK)
        tx_rollback(c, op);
    return ret;
}

/* ---- copying rows in (migrate-store) ---------------------------------- */

static int sq_rows_put(store *s, const store_rows *r, bool replace, int *inserted, derr *e)
{
    static const char op[] = "rows_put";
    *inserted = 0;
    if (!store_rows_names_ok(r))
        return derr_set(e, 400, "bad_request", "a table or column name that cannot be used");
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    buf sql;
    buf_init(&sql, 0);
    store_rows_insert_sql(&sql, r, 1, replace, '?');
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, sql.data, -1, &st, NULL);
    buf_free(&sql);
    if (rc != SQLITE_OK) {
        int ret = fail(c, rc, op, e);
        sqlite3_finalize(st);
        return ret;
    }
    int ret = tx_begin(c, op, e);
    for (int i = 0; ret == STORE_OK && i < r->nrows; i++) {
        for (int j = 0; j < r->ncols; j++)
            bind_text(st, j + 1, r->vals[(size_t)i * (size_t)r->ncols + (size_t)j]);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            *inserted += sqlite3_changes(c->db);
        else
            ret = fail(c, rc, op, e);
        release(st);
    }
    sqlite3_finalize(st);
    ret = tx_end(c, ret, op, e);
    if (ret != STORE_OK)
        *inserted = 0;
    return ret;
}

static int sq_rows_get(store *s, arena *a, store_rows *r, const char *const *after, const char *const *upto,
                       int limit, derr *e)
{
    static const char op[] = "rows_get";
    r->vals = NULL;
    r->nrows = 0;
    if (!store_rows_names_ok(r))
        return derr_set(e, 400, "bad_request", "a table or column name that cannot be used");
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    buf sql;
    buf_init(&sql, 0);
    store_rows_select_sql(&sql, r, after != NULL, upto != NULL, limit, '?');
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, sql.data, -1, &st, NULL);
    buf_free(&sql);
    if (rc != SQLITE_OK) {
        int ret = fail(c, rc, op, e);
        sqlite3_finalize(st);
        return ret;
    }
    const char *const *bounds[2] = {after, upto};
    int at = 1;
    for (int k = 0; k < 2; k++)
        for (int i = 0; bounds[k] && i < r->nkey; i++)
            bind_text(st, at++, bounds[k][i]);
    int cap = 0;
    const char **vals = NULL;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (r->nrows == cap) {
            int ncap = cap ? cap * 2 : 64;
            const char **nv = arena_alloc(a, (size_t)ncap * (size_t)r->ncols * sizeof *nv);
            if (vals)
                memcpy(nv, vals, (size_t)cap * (size_t)r->ncols * sizeof *nv);
            vals = nv;
            cap = ncap;
        }
        for (int j = 0; j < r->ncols; j++)
            vals[(size_t)r->nrows * (size_t)r->ncols + (size_t)j] = col_text(a, st, j);
        r->nrows++;
    }
    int ret = rc == SQLITE_DONE ? STORE_OK : fail(c, rc, op, e);
    sqlite3_finalize(st);
    r->vals = ret == STORE_OK ? vals : NULL;
    if (ret != STORE_OK)
        r->nrows = 0;
    return ret;
}

/* An INTEGER PRIMARY KEY takes the highest id plus one by itself. */
static int sq_rows_settle(store *s, derr *e)
{
    (void)s;
    (void)e;
    return STORE_OK;
}

static int64_t clamp_limit(int64_t limit)
{
    return limit > MAX_PAGE ? MAX_PAGE : limit;
}

/* ---- packages and versions ------------------------------------------- */

static void read_package(arena *a, sqlite3_stmt *st, store_package *p)
{
    p->id = sqlite3_column_int64(st, 0);
    p->ecosystem = col_text(a, st, 1);
    p->name = col_text(a, st, 2);
    p->normalized_name = col_text(a, st, 3);
    p->description = col_text(a, st, 4);
    p->homepage = col_text(a, st, 5);
    p->repository = col_text(a, st, 6);
    p->documentation = col_text(a, st, 7);
    p->license = col_text(a, st, 8);
    p->keywords = col_text(a, st, 9);
    p->categories = col_text(a, st, 10);
    p->tags = col_text(a, st, 11);
    p->authors = col_text(a, st, 12);
    p->readme = col_text(a, st, 13);
    p->require_signatures = sqlite3_column_int(st, 14) != 0;
    p->latest_version = col_text(a, st, 15);
    p->generation = sqlite3_column_int64(st, 16);
    p->downloads = sqlite3_column_int64(st, 17);
    p->meta = col_text(a, st, 18);
    p->created_at = sqlite3_column_int64(st, 19);
    p->updated_at = sqlite3_column_int64(st, 20);
}

static void read_package_v(arena *a, sqlite3_stmt *st, void *p)
{
    read_package(a, st, p);
}

static void read_version(arena *a, sqlite3_stmt *st, store_version *v)
{
    v->id = sqlite3_column_int64(st, 0);
    v->package_id = sqlite3_column_int64(st, 1);
    v->version = col_text(a, st, 2);
    v->major = sqlite3_column_int64(st, 3);
    v->minor = sqlite3_column_int64(st, 4);
    v->patch = sqlite3_column_int64(st, 5);
    v->prerelease = col_text(a, st, 6);
    v->sha256 = col_text(a, st, 7);
    v->size = sqlite3_column_int64(st, 8);
    v->manifest = col_text(a, st, 9);
    v->signature = col_text(a, st, 10);
    v->signing_key_id = col_text(a, st, 11);
    v->publisher_id = sqlite3_column_int64(st, 12); /* NULL (account gone) reads as 0 */
    v->publisher = col_text(a, st, 13);
    v->published_at = sqlite3_column_int64(st, 14);
    v->yanked = sqlite3_column_int(st, 15) != 0;
    v->yanked_at = sqlite3_column_int64(st, 16);
    v->retired_reason = col_text(a, st, 17);
    v->retired_message = col_text(a, st, 18);
    v->downloads = sqlite3_column_int64(st, 19);
    v->extra = col_text(a, st, 20);
    v->deprecated = col_text(a, st, 21);
    v->retracted = sqlite3_column_int(st, 22) != 0;
    v->retired_at = sqlite3_column_int64(st, 23); /* NULL (not retired) reads as 0 */
    v->deps = NULL;
    v->ndeps = 0;
}

static void read_version_v(arena *a, sqlite3_stmt *st, void *v)
{
    read_version(a, st, v);
}

/* Column 0 is the version's id, read by the caller. */
static void read_dep(arena *a, sqlite3_stmt *st, store_dep *d)
{
    d->name = col_text(a, st, 1);
    d->requirement = col_text(a, st, 2);
    d->kind = col_text(a, st, 3);
    d->extra = col_text(a, st, 4);
}

static void read_dep_v(arena *a, sqlite3_stmt *st, void *d)
{
    read_dep(a, st, d);
}

/* Runs a query yielding at most one package, with ?1 ecosystem and ?2 the
 * normalized name. */
static int sq_pkg_get(store *s, arena *a, const char *ecosystem, const char *normalized,
                      store_package *out, derr *e)
{
    static const char op[] = "pkg_get";
    if (!ecosystem || !normalized)
        return not_found(e, "package");
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_PKG_GET, op, e);
    if (!st)
        return STORE_ERROR;
    struct binder b = {st, SQLITE_OK};
    b_text(&b, 1, ecosystem);
    b_text(&b, 2, normalized);
    int rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
    int ret;
    if (rc == SQLITE_ROW) {
        read_package(a, st, out);
        ret = STORE_OK;
    } else if (rc == SQLITE_DONE) {
        ret = not_found(e, "package");
    } else {
        ret = fail(c, rc, op, e);
    }
    release(st);
    return ret;
}

/* One indexed look-up that reads one integer: cheap enough to run before
 * every cached read. */
static int sq_pkg_generation(store *s, const char *ecosystem, const char *normalized,
                             int64_t *gen, derr *e)
{
    static const char op[] = "pkg_generation";
    if (!ecosystem || !normalized)
        return not_found(e, "package");
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_PKG_GENERATION, op, e);
    if (!st)
        return STORE_ERROR;
    struct binder b = {st, SQLITE_OK};
    b_text(&b, 1, ecosystem);
    b_text(&b, 2, normalized);
    int rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
    int ret;
    if (rc == SQLITE_ROW) {
        *gen = sqlite3_column_int64(st, 0);
        ret = STORE_OK;
    } else if (rc == SQLITE_DONE) {
        ret = not_found(e, "package");
    } else {
        ret = fail(c, rc, op, e);
    }
    release(st);
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

/* Reads the dependencies a bound deps query yields (rows ordered by
 * version id) into the versions they belong to; one pass, no query per
 * version. The caller releases st. */
static int attach_deps(struct conn *c, sqlite3_stmt *st, arena *a, store_version *vs, int n,
                       const char *op, derr *e)
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
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t vid = sqlite3_column_int64(st, 0);
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
        cur->deps = grow(a, cur->deps, cur->ndeps, &cap, sizeof *cur->deps);
        read_dep(a, st, &cur->deps[cur->ndeps++]);
    }
    free(slots);
    return rc == SQLITE_DONE ? STORE_OK : fail(c, rc, op, e);
}

/* Two queries in one read transaction: the versions, then every dependency
 * of the package, matched to its version by id. */
static int sq_pkg_versions(store *s, arena *a, int64_t package_id, store_version **out, int *n,
                           derr *e)
{
    static const char op[] = "pkg_versions";
    *out = NULL;
    *n = 0;
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    if (run(c, Q_BEGIN_READ, op, e) != STORE_OK)
        return STORE_ERROR;
    store_version *vs = NULL;
    void *arr = NULL;
    int count = 0, ret = STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_VERSION_LIST, op, e);
    if (!st)
        goto out;
    int rc = bind_i64(st, 1, package_id);
    ret = rc == SQLITE_OK ? collect(c, st, a, sizeof *vs, read_version_v, &arr, &count, op, e)
                          : fail(c, rc, op, e);
    release(st);
    vs = arr;
    if (ret != STORE_OK || count == 0)
        goto out;
    ret = STORE_ERROR;
    st = prep(c, Q_DEPS_OF_PACKAGE, op, e);
    if (!st)
        goto out;
    rc = bind_i64(st, 1, package_id);
    ret = rc == SQLITE_OK ? attach_deps(c, st, a, vs, count, op, e) : fail(c, rc, op, e);
    release(st);
out:
    ret = tx_end(c, ret, op, e);
    if (ret == STORE_OK) {
        *out = vs;
        *n = count;
    }
    return ret;
}

static int sq_version_get(store *s, arena *a, int64_t package_id, const char *version,
                          store_version *out, derr *e)
{
    static const char op[] = "version_get";
    if (!version)
        return not_found(e, "version");
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    if (run(c, Q_BEGIN_READ, op, e) != STORE_OK)
        return STORE_ERROR;
    int ret = STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_VERSION_GET, op, e);
    if (!st)
        goto out;
    struct binder b = {st, SQLITE_OK};
    b_i64(&b, 1, package_id);
    b_text(&b, 2, version);
    int rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
    if (rc == SQLITE_ROW) {
        read_version(a, st, out);
        ret = STORE_OK;
    } else if (rc == SQLITE_DONE) {
        ret = not_found(e, "version");
    } else {
        ret = fail(c, rc, op, e);
    }
    release(st);
    if (ret != STORE_OK)
        goto out;
    ret = STORE_ERROR;
    st = prep(c, Q_DEPS_OF_VERSION, op, e);
    if (!st)
        goto out;
    rc = bind_i64(st, 1, out->id);
    void *deps = NULL;
    ret = rc == SQLITE_OK
              ? collect(c, st, a, sizeof *out->deps, read_dep_v, &deps, &out->ndeps, op, e)
              : fail(c, rc, op, e);
    release(st);
    out->deps = deps;
out:
    return tx_end(c, ret, op, e);
}

/* Binds the descriptive fields of p in the order Q_PKG_INSERT and
 * Q_PKG_REFRESH share from parameter `first` on: description, homepage,
 * repository, documentation, license, keywords, categories, tags, authors. */
static void bind_pkg_fields(struct binder *b, int first, const store_package *p)
{
    b_text(b, first, p->description);
    b_text(b, first + 1, p->homepage);
    b_text(b, first + 2, p->repository);
    b_text(b, first + 3, p->documentation);
    b_text(b, first + 4, p->license);
    b_text(b, first + 5, p->keywords);
    b_text(b, first + 6, p->categories);
    b_text(b, first + 7, p->tags);
    b_text(b, first + 8, p->authors);
}

/* Recomputes latest_version and adds `bump` to the generation, setting
 * updated_at when it is not 0; *gen gets the new generation when not NULL.
 * Runs inside the caller's transaction. */
static int pkg_settle(struct conn *c, int64_t package_id, int64_t bump, int64_t updated_at,
                      int64_t *gen, const char *op, derr *e)
{
    sqlite3_stmt *st = prep(c, Q_PKG_SETTLE, op, e);
    if (!st)
        return STORE_ERROR;
    struct binder b = {st, SQLITE_OK};
    b_i64(&b, 1, package_id);
    b_i64(&b, 2, bump);
    b_time(&b, 3, updated_at);
    int rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
    int ret;
    if (rc == SQLITE_ROW) {
        if (gen)
            *gen = sqlite3_column_int64(st, 0);
        ret = STORE_OK;
    } else if (rc == SQLITE_DONE) {
        ret = not_found(e, "package");
    } else {
        ret = fail(c, rc, op, e);
    }
    release(st);
    return ret;
}

/* Finds the package by (ecosystem, normalized name) under the write lock:
 * STORE_OK with *id and name (cut to fit) filled, or STORE_NOT_FOUND. */
static int publish_find(struct conn *c, const store_package *pkg, int64_t *id, char *name,
                        size_t cap, const char *op, derr *e)
{
    sqlite3_stmt *st = prep(c, Q_PKG_FIND, op, e);
    if (!st)
        return STORE_ERROR;
    struct binder b = {st, SQLITE_OK};
    b_text(&b, 1, pkg->ecosystem);
    b_text(&b, 2, pkg->normalized_name);
    int rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
    int ret;
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        const unsigned char *t = sqlite3_column_text(st, 1);
        snprintf(name, cap, "%s", t ? (const char *)t : "");
        ret = STORE_OK;
    } else if (rc == SQLITE_DONE) {
        ret = STORE_NOT_FOUND;
    } else {
        ret = fail(c, rc, op, e);
    }
    release(st);
    return ret;
}

/* Creates the package from p->pkg, its publisher its owner. */
static int publish_create(struct conn *c, store_publish *p, int64_t publisher, int64_t now,
                          const char *op, derr *e)
{
    sqlite3_stmt *st = prep(c, Q_PKG_INSERT, op, e);
    if (!st)
        return STORE_ERROR;
    const store_package *pkg = &p->pkg;
    struct binder b = {st, SQLITE_OK};
    b_text(&b, 1, pkg->ecosystem);
    b_text(&b, 2, pkg->name ? pkg->name : pkg->normalized_name);
    b_text(&b, 3, pkg->normalized_name);
    bind_pkg_fields(&b, 4, pkg);
    b_text(&b, 13, pkg->readme);
    b_i64(&b, 14, pkg->require_signatures ? 1 : 0);
    b_text(&b, 15, pkg->meta);
    b_i64(&b, 16, now);
    int rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
    int ret;
    if (rc == SQLITE_ROW) {
        p->pkg.id = sqlite3_column_int64(st, 0);
        ret = STORE_OK;
    } else {
        ret = fail(c, rc, op, e);
    }
    release(st);
    if (ret != STORE_OK)
        return ret;

    st = prep(c, Q_OWNER_INSERT, op, e);
    if (!st)
        return STORE_ERROR;
    b = (struct binder){st, SQLITE_OK};
    b_i64(&b, 1, p->pkg.id);
    b_i64(&b, 2, publisher);
    b_text(&b, 3, "owner");
    b_i64(&b, 4, now);
    rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
    ret = rc == SQLITE_DONE ? STORE_OK : fail(c, rc, op, e);
    release(st);
    if (ret == STORE_NOT_FOUND)
        not_found(e, "publisher");
    return ret;
}

/* For an existing package: checks ownership when asked, then refreshes the
 * descriptive fields unless a higher version is already the latest. */
static int publish_refresh(struct conn *c, store_publish *p, int64_t publisher, const char *op,
                           derr *e)
{
    if (p->check_owner) {
        sqlite3_stmt *st = prep(c, Q_OWNER_LEVEL, op, e);
        if (!st)
            return STORE_ERROR;
        struct binder b = {st, SQLITE_OK};
        b_i64(&b, 1, p->pkg.id);
        b_i64(&b, 2, publisher);
        int rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
        int ret = rc == SQLITE_ROW    ? STORE_OK
                  : rc == SQLITE_DONE ? STORE_FORBIDDEN
                                      : fail(c, rc, op, e);
        release(st);
        if (ret == STORE_FORBIDDEN)
            derr_set(e, 403, "forbidden", "you are not an owner of this package");
        if (ret != STORE_OK)
            return ret;
    }
    sqlite3_stmt *st = prep(c, Q_PKG_REFRESH, op, e);
    if (!st)
        return STORE_ERROR;
    const store_package *pkg = &p->pkg;
    const store_version *v = &p->ver;
    struct binder b = {st, SQLITE_OK};
    b_i64(&b, 1, pkg->id);
    bind_pkg_fields(&b, 2, pkg);
    b_text(&b, 11, pkg->readme);
    b_text(&b, 12, pkg->meta);
    b_i64(&b, 13, v->major);
    b_i64(&b, 14, v->minor);
    b_i64(&b, 15, v->patch);
    b_i64(&b, 16, v->prerelease && *v->prerelease ? 0 : 1);
    int rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
    int ret = rc == SQLITE_DONE ? STORE_OK : fail(c, rc, op, e);
    release(st);
    return ret;
}

/* Whether the version of the package is tombstoned: STORE_OK yes,
 * STORE_NOT_FOUND no (e left alone: a common answer). */
static int tombstone_has(struct conn *c, int64_t package_id, const char *version, const char *op,
                         derr *e)
{
    sqlite3_stmt *st = prep(c, Q_TOMBSTONE_CHECK, op, e);
    if (!st)
        return STORE_ERROR;
    struct binder b = {st, SQLITE_OK};
    b_i64(&b, 1, package_id);
    b_text(&b, 2, version);
    int rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
    int ret = rc == SQLITE_ROW    ? STORE_OK
              : rc == SQLITE_DONE ? STORE_NOT_FOUND
                                  : fail(c, rc, op, e);
    release(st);
    return ret;
}

/* Points the tag at the version (creating or moving it). STORE_NOT_FOUND
 * when the package has no such version. Runs inside the caller's
 * transaction and bumps nothing. */
static int tag_upsert(struct conn *c, int64_t package_id, const char *tag, const char *version,
                      int64_t now, const char *op, derr *e)
{
    sqlite3_stmt *st = prep(c, Q_TAG_UPSERT, op, e);
    if (!st)
        return STORE_ERROR;
    struct binder b = {st, SQLITE_OK};
    b_i64(&b, 1, package_id);
    b_text(&b, 2, tag);
    b_text(&b, 3, version);
    b_i64(&b, 4, now);
    int rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
    int ret;
    if (rc == SQLITE_DONE)
        ret = sqlite3_changes(c->db) > 0 ? STORE_OK : not_found(e, "version");
    else
        ret = fail(c, rc, op, e);
    release(st);
    return ret;
}

/* Inserts p->ver and its dependencies into package p->pkg.id, refusing a
 * tombstoned version. `name` is the package's name, for the conflict
 * messages. */
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
    sqlite3_stmt *st = prep(c, Q_VERSION_INSERT, op, e);
    if (!st)
        return STORE_ERROR;
    struct binder b = {st, SQLITE_OK};
    b_i64(&b, 1, p->pkg.id);
    b_text(&b, 2, v->version);
    b_i64(&b, 3, v->major);
    b_i64(&b, 4, v->minor);
    b_i64(&b, 5, v->patch);
    b_text(&b, 6, v->prerelease);
    b_text(&b, 7, v->sha256);
    b_i64(&b, 8, v->size);
    b_text(&b, 9, v->manifest);
    b_text(&b, 10, v->signature);
    b_text(&b, 11, v->signing_key_id);
    if (publisher)
        b_i64(&b, 12, publisher);
    else
        b_null(&b, 12);
    b_i64(&b, 13, now);
    b_text(&b, 14, v->extra);
    int rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
    int ret;
    if (rc == SQLITE_ROW) {
        v->id = sqlite3_column_int64(st, 0);
        v->package_id = p->pkg.id;
        ret = STORE_OK;
    } else {
        ret = fail(c, rc, op, e);
    }
    release(st);
    if (ret == STORE_CONFLICT)
        derr_set(e, 409, "conflict", "version %s of %s already exists", v->version, name);
    else if (ret == STORE_NOT_FOUND)
        not_found(e, "publisher");
    if (ret != STORE_OK)
        return ret;

    for (int i = 0; i < v->ndeps; i++) {
        const store_dep *d = &v->deps[i];
        st = prep(c, Q_DEP_INSERT, op, e);
        if (!st)
            return STORE_ERROR;
        b = (struct binder){st, SQLITE_OK};
        b_i64(&b, 1, v->id);
        b_text(&b, 2, d->name);
        b_text(&b, 3, d->requirement);
        b_text(&b, 4, d->kind);
        b_text(&b, 5, d->extra);
        rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
        ret = rc == SQLITE_DONE ? STORE_OK : fail(c, rc, op, e);
        release(st);
        if (ret != STORE_OK)
            return ret;
    }
    return STORE_OK;
}

/* The whole publish under one write lock (BEGIN IMMEDIATE), so two
 * publishers of the same new package or the same version queue up: the
 * second sees what the first wrote. published_at 0 means now; it is also
 * the package's updated_at (and created_at when this creates it), and the
 * time of p->tag when one is given. */
static int delete_version_tx(struct conn *c, int64_t package_id, const char *version, bool tombstone, int64_t now,
                             const char *op, derr *e);

static int sq_publish(store *s, store_publish *p, derr *e)
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
        p->created = ret == STORE_OK;
        snprintf(name, sizeof name, "%s", p->pkg.name ? p->pkg.name : p->pkg.normalized_name);
    } else if (ret == STORE_OK) {
        ret = publish_refresh(c, p, publisher, op, e);
        if (ret == STORE_OK && p->replace) {
            /* Hex's replace: the old release goes and the new one comes in one transaction. */
            ret = delete_version_tx(c, p->pkg.id, p->ver.version, false, now, op, e);
            if (ret == STORE_NOT_FOUND)
                ret = STORE_OK;
        }
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

static int sq_version_yank(store *s, int64_t package_id, const char *version, bool yanked,
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
    int ret = STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_VERSION_YANK, op, e);
    if (!st)
        goto out;
    struct binder b = {st, SQLITE_OK};
    b_i64(&b, 1, package_id);
    b_text(&b, 2, version);
    b_i64(&b, 3, yanked ? 1 : 0);
    b_i64(&b, 4, now > 0 ? now : now_s());
    int rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
    if (rc == SQLITE_DONE)
        ret = sqlite3_changes(c->db) > 0 ? STORE_OK : not_found(e, "version");
    else
        ret = fail(c, rc, op, e);
    release(st);
    if (ret == STORE_OK)
        ret = pkg_settle(c, package_id, 1, 0, NULL, op, e);
out:
    return tx_end(c, ret, op, e);
}

static int sq_pkg_set_require_signatures(store *s, int64_t package_id, bool on, derr *e)
{
    static const char op[] = "pkg_set_require_signatures";
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_PKG_SET_SIGNATURES, op, e);
    if (!st)
        return STORE_ERROR;
    struct binder b = {st, SQLITE_OK};
    b_i64(&b, 1, package_id);
    b_i64(&b, 2, on ? 1 : 0);
    int rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
    int ret;
    if (rc == SQLITE_DONE)
        ret = sqlite3_changes(c->db) > 0 ? STORE_OK : not_found(e, "package");
    else
        ret = fail(c, rc, op, e);
    release(st);
    return ret;
}

/* ---- owners ---------------------------------------------------------- */

static void read_owner(arena *a, sqlite3_stmt *st, void *p)
{
    store_owner *o = p;
    o->user_id = sqlite3_column_int64(st, 0);
    o->username = col_text(a, st, 1);
    o->email = col_text(a, st, 2);
    o->level = col_text(a, st, 3);
    o->added_at = sqlite3_column_int64(st, 4);
}

/* Runs a query with ?1 = id that yields a list, into an arena array. */
static int list_by_id(store *s, arena *a, enum query q, int64_t id, size_t size,
                      void (*read)(arena *, sqlite3_stmt *, void *), void **out, int *n,
                      const char *op, derr *e)
{
    *out = NULL;
    *n = 0;
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, q, op, e);
    if (!st)
        return STORE_ERROR;
    int rc = bind_i64(st, 1, id);
    int ret = rc == SQLITE_OK ? collect(c, st, a, size, read, out, n, op, e) : fail(c, rc, op, e);
    release(st);
    return ret;
}

/* Owners in the order they were added; an unknown package has none. */
static int sq_owners_list(store *s, arena *a, int64_t package_id, store_owner **out, int *n,
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
    sqlite3_stmt *st = prep(c, Q_OWNER_LEVEL, op, e);
    if (!st)
        return STORE_ERROR;
    struct binder b = {st, SQLITE_OK};
    b_i64(&b, 1, package_id);
    b_i64(&b, 2, user_id);
    int rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
    int ret;
    if (rc == SQLITE_ROW) {
        if (level) {
            const unsigned char *t = sqlite3_column_text(st, 0);
            snprintf(level, cap, "%s", t ? (const char *)t : "");
        }
        ret = STORE_OK;
    } else if (rc == SQLITE_DONE) {
        ret = STORE_NOT_FOUND;
    } else {
        ret = fail(c, rc, op, e);
    }
    release(st);
    return ret;
}

/* Any level counts; e is left alone on STORE_NOT_FOUND (a common answer). */
static int sq_owner_is(store *s, int64_t package_id, int64_t user_id, derr *e)
{
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    return owner_level(c, package_id, user_id, NULL, 0, "owner_is", e);
}

/* level NULL means "owner". STORE_NOT_FOUND when the package or the user
 * does not exist. */
static int sq_owner_add(store *s, int64_t package_id, int64_t user_id, const char *level,
                        int64_t now, derr *e)
{
    static const char op[] = "owner_add";
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    if (tx_begin(c, op, e) != STORE_OK)
        return STORE_ERROR;
    int ret = STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_OWNER_INSERT, op, e);
    if (!st)
        goto out;
    struct binder b = {st, SQLITE_OK};
    b_i64(&b, 1, package_id);
    b_i64(&b, 2, user_id);
    b_text(&b, 3, level);
    b_i64(&b, 4, now > 0 ? now : now_s());
    int rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
    ret = rc == SQLITE_DONE ? STORE_OK : fail(c, rc, op, e);
    release(st);
    if (ret == STORE_NOT_FOUND)
        derr_set(e, 404, "not_found", "no such package or user");
    if (ret == STORE_OK)
        ret = run_id(c, Q_PKG_BUMP, package_id, op, e);
out:
    return tx_end(c, ret, op, e);
}

/* A package keeps at least one owner of level "owner" (someone who can
 * manage owners); maintainers can always be removed. */
static int sq_owner_remove(store *s, int64_t package_id, int64_t user_id, derr *e)
{
    static const char op[] = "owner_remove";
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    if (tx_begin(c, op, e) != STORE_OK)
        return STORE_ERROR;
    char level[16] = "";
    int ret = owner_level(c, package_id, user_id, level, sizeof level, op, e);
    if (ret == STORE_NOT_FOUND)
        derr_set(e, 404, "not_found", "not an owner of this package");
    if (ret == STORE_OK && strcmp(level, "owner") == 0) {
        sqlite3_stmt *st = prep(c, Q_OWNER_COUNT, op, e);
        if (!st) {
            ret = STORE_ERROR;
            goto out;
        }
        int rc = bind_i64(st, 1, package_id);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            ret = sqlite3_column_int64(st, 0) > 1 ? STORE_OK : STORE_FORBIDDEN;
        else
            ret = fail(c, rc, op, e);
        release(st);
        if (ret == STORE_FORBIDDEN)
            derr_set(e, 403, "forbidden", "a package must keep at least one owner");
    }
    if (ret == STORE_OK) {
        sqlite3_stmt *st = prep(c, Q_OWNER_DELETE, op, e);
        if (!st) {
            ret = STORE_ERROR;
            goto out;
        }
        struct binder b = {st, SQLITE_OK};
        b_i64(&b, 1, package_id);
        b_i64(&b, 2, user_id);
        int rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
        ret = rc == SQLITE_DONE ? STORE_OK : fail(c, rc, op, e);
        release(st);
    }
    if (ret == STORE_OK)
        ret = run_id(c, Q_PKG_BUMP, package_id, op, e);
out:
    return tx_end(c, ret, op, e);
}

/* By normalized name; the readme is left NULL. */
static int sq_user_packages(store *s, arena *a, int64_t user_id, store_package **out, int *n,
                            derr *e)
{
    void *arr = NULL;
    int ret = list_by_id(s, a, Q_USER_PACKAGES, user_id, sizeof **out, read_package_v, &arr, n,
                         "user_packages", e);
    *out = arr;
    return ret;
}

/* ---- search ---------------------------------------------------------- */

/* Search text never reaches MATCH as written. It is cut into tokens by the
 * index's own tokenizer (so it splits exactly as the indexed text did:
 * plug_cowboy is plug + cowboy, Café is cafe), each token becomes a quoted
 * prefix term ("tok"*), and the terms are ANDed within the searched columns.
 * The arguments must match packages_fts in 0001_init.sql. */
#define FTS_TOKENIZER "unicode61"
static const char *fts_tokenizer_args[] = {"remove_diacritics", "2"};
/* The columns search text is matched against, and the weights of all five
 * (name, description, keywords, tags, categories): a name match weighs
 * most; categories serve only the filter. */
#define FTS_TEXT_COLUMNS "{name description keywords tags}"
#define FTS_RANK "depot_rank(packages_fts, 10.0, 2.0, 4.0, 4.0, 0.0)"
/* Bounds on the work one query can ask for. */
#define SEARCH_MAX_TERMS 16
#define SEARCH_MAX_TERM 64 /* bytes; a longer token is cut to a prefix of itself */

/* depot_rank(packages_fts, WEIGHT...), one weight per column: relevance
 * from the row's hits alone. FTS5's bm25 also reads every matched row's
 * column sizes from the index's docsize table, one B-tree lookup per row:
 * with them a two-word search over 100,000 packages took 41 M instructions
 * in the store, without them 26 M (callgrind; make bench, target 6). Here each query term's hits in a
 * column count with bm25's saturation (k1 = 1.2), so one word repeated in
 * a description weighs less than words spread over name and keywords.
 * Every match holds every term (they are ANDed), so bm25's inverse
 * document frequency would scale all rows alike and is left out. Lower is
 * better, as with bm25. */
#define RANK_K1 1.2
#define RANK_MAX_PHRASES (SEARCH_MAX_TERMS + 3) /* the query's terms and three filters */
#define RANK_MAX_COLUMNS 5

static void depot_rank(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx,
                       int nval, sqlite3_value **val)
{
    int nphrase = api->xPhraseCount(fts), ncol = api->xColumnCount(fts), ninst = 0;
    if (nphrase > RANK_MAX_PHRASES)
        nphrase = RANK_MAX_PHRASES;
    if (ncol > RANK_MAX_COLUMNS)
        ncol = RANK_MAX_COLUMNS;
    double hits[RANK_MAX_PHRASES][RANK_MAX_COLUMNS] = {{0}};
    int rc = api->xInstCount(fts, &ninst);
    for (int i = 0; rc == SQLITE_OK && i < ninst; i++) {
        int phrase = 0, col = 0, off = 0;
        rc = api->xInst(fts, i, &phrase, &col, &off);
        if (rc == SQLITE_OK && phrase >= 0 && phrase < nphrase && col >= 0 && col < ncol)
            hits[phrase][col]++;
    }
    if (rc != SQLITE_OK) {
        sqlite3_result_error_code(ctx, rc);
        return;
    }
    double score = 0;
    for (int col = 0; col < ncol; col++) {
        double w = col < nval ? sqlite3_value_double(val[col]) : 1.0;
        for (int phrase = 0; phrase < nphrase; phrase++) {
            double h = hits[phrase][col];
            score += w * h * (RANK_K1 + 1) / (h + RANK_K1);
        }
    }
    sqlite3_result_double(ctx, -score);
}

/* sort values, in the order of the shape bits. */
static const char *const search_sorts[] = {"relevance", "downloads", "recent", "name"};
enum { SORT_RELEVANCE, SORT_DOWNLOADS, SORT_RECENT, SORT_NAME };
/* The column and direction of each sort but relevance; ties go by id. */
static const struct {
    const char *column, *dir;
} sort_keys[] = {
    [SORT_DOWNLOADS] = {"downloads", "DESC"},
    [SORT_RECENT] = {"updated_at", "DESC"},
    [SORT_NAME] = {"normalized_name", "ASC"},
};

/* Shape bits: which parts a search statement has. */
enum {
    SH_MATCH = 1 << 0, /* starts from the FTS index (a query, or a filter it can narrow) */
    SH_ECO = 1 << 1,
    SH_KEYWORD = 1 << 2,
    SH_CATEGORY = 1 << 3,
    SH_TAG = 1 << 4,
    SH_SORT_SHIFT = 5, /* two bits of sort */
    SH_COUNT = 1 << 7,
};

/* Finds and instantiates the search index's tokenizer for this connection,
 * and gives the connection depot_rank (before any search is prepared). */
static int search_tokenizer(struct conn *c, const char *op, derr *e)
{
    if (c->tokenizer)
        return STORE_OK;
    fts5_api *api = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, "SELECT fts5(?1)", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        rc = SQLITE_OK;
    if (rc != SQLITE_OK) {
        int ret = fail(c, rc, op, e);
        sqlite3_finalize(st);
        return ret;
    }
    sqlite3_finalize(st);
    void *ud = NULL;
    rc = api ? api->xCreateFunction(api, "depot_rank", NULL, depot_rank, NULL) : SQLITE_ERROR;
    if (rc == SQLITE_OK)
        rc = api->xFindTokenizer(api, FTS_TOKENIZER, &ud, &c->tok);
    if (rc == SQLITE_OK)
        rc = c->tok.xCreate(ud, fts_tokenizer_args, 2, &c->tokenizer);
    if (rc != SQLITE_OK) {
        c->tokenizer = NULL;
        log_error("store error", "op", op, "error", "the FTS5 tokenizer or rank is not available",
                  "code", sqlite3_errstr(rc), NULL);
        return derr_set(e, 500, "internal", "the store failed; see the server log");
    }
    return STORE_OK;
}

struct fts_terms {
    buf *out;
    bool phrase; /* tokens of one phrase ("a b"), else prefix terms ("a"* AND "b"*) */
    int n;
};

static int fts_term(void *ctx, int flags, const char *tok, int len, int start, int end)
{
    struct fts_terms *t = ctx;
    if (flags & FTS5_TOKEN_COLOCATED)
        return SQLITE_OK;
    if (t->n >= SEARCH_MAX_TERMS)
        return SQLITE_DONE; /* enough: stops the tokenizer */
    if (len > SEARCH_MAX_TERM) {
        len = SEARCH_MAX_TERM;
        while (len > 0 && ((unsigned char)tok[len] & 0xc0) == 0x80)
            len--; /* not in the middle of a character */
    }
    if (len <= 0)
        return SQLITE_OK;
    if (t->n > 0)
        buf_puts(t->out, t->phrase ? " " : " AND ");
    if (!t->phrase)
        buf_puts(t->out, "\"");
    for (int i = 0; i < len; i++) /* tokens hold no quote; double one anyway */
        buf_append(t->out, tok[i] == '"' ? "\"\"" : &tok[i], tok[i] == '"' ? 2 : 1);
    if (!t->phrase)
        buf_puts(t->out, "\"*");
    t->n++;
    return SQLITE_OK;
}

/* Appends to out the FTS5 form of text: prefix terms ANDed within the text
 * columns, or, for a filter, one phrase within `column`. *n gets the number
 * of tokens (0: nothing was appended). */
static int fts_part(struct conn *c, buf *out, const char *text, const char *column, int *n,
                    const char *op, derr *e)
{
    *n = 0;
    buf part;
    buf_init(&part, 0);
    struct fts_terms t = {&part, column != NULL, 0};
    size_t len = strlen(text);
    int rc = c->tok.xTokenize(c->tokenizer, &t, FTS5_TOKENIZE_QUERY, text,
                              len > INT32_MAX ? INT32_MAX : (int)len, fts_term);
    if (rc != SQLITE_OK && rc != SQLITE_DONE) {
        buf_free(&part);
        log_error("store error", "op", op, "error", "tokenizing the search text failed", "code",
                  sqlite3_errstr(rc), NULL);
        return derr_set(e, 500, "internal", "the store failed; see the server log");
    }
    if (t.n > 0) {
        if (out->len)
            buf_puts(out, " AND ");
        if (column)
            buf_printf(out, "{%s} : \"%s\"", column, part.data);
        else
            buf_printf(out, FTS_TEXT_COLUMNS " : (%s)", part.data);
    }
    *n = t.n;
    buf_free(&part);
    return STORE_OK;
}

/* Whether a filter value can also be looked for in the index. The index
 * holds the JSON text of the arrays; the value's tokens are sure to appear
 * there as one phrase only when JSON writes it unchanged, which common
 * encoders do for printable ASCII other than '"' and '\' ('/' may become
 * "\/", which tokenizes the same). Other values are checked row by row. */
static bool index_can_narrow(const char *v)
{
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\')
            return false;
    return true;
}

static bool given(const char *s)
{
    return s && *s;
}

/* The MATCH expression for a search, in the arena, or NULL when it needs
 * none (no word in the query, no filter the index can narrow). *words says
 * whether the query had a word. */
static int fts_expression(struct conn *c, arena *a, const store_search *q, const char **expr,
                          bool *words, const char *op, derr *e)
{
    *expr = NULL;
    *words = false;
    if (search_tokenizer(c, op, e) != STORE_OK)
        return STORE_ERROR;
    static const char *const columns[] = {"keywords", "categories", "tags"};
    const char *filters[] = {q->keyword, q->category, q->tag};
    buf out;
    buf_init(&out, 0);
    int n = 0, ret = STORE_OK;
    if (given(q->query)) {
        ret = fts_part(c, &out, q->query, NULL, &n, op, e);
        *words = n > 0;
    }
    for (int i = 0; i < 3 && ret == STORE_OK; i++)
        if (given(filters[i]) && index_can_narrow(filters[i]))
            ret = fts_part(c, &out, filters[i], columns[i], &n, op, e);
    if (ret == STORE_OK && out.len)
        *expr = arena_strndup(a, out.data, out.len);
    buf_free(&out);
    return ret;
}

/* Appends printf-style to a fixed SQL buffer; on overflow *len becomes cap
 * (the caller checks). */
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

/* Whether the JSON array in column `col` of alias `t` holds the string
 * bound to `param`. Text that is not JSON holds nothing (rather than
 * failing the whole search). */
static void sql_json_has(char *sql, size_t cap, size_t *len, const char *t, const char *col,
                         const char *param)
{
    sql_add(sql, cap, len,
            " AND CASE WHEN json_valid(%s.%s) THEN EXISTS (SELECT 1 FROM json_each(%s.%s)"
            " WHERE json_each.value = %s) ELSE 0 END",
            t, col, t, col, param);
}

/* FROM and WHERE of a search shape, packages aliased `t`. With MATCH the
 * FTS table drives (CROSS JOIN keeps the planner from starting at packages
 * and running the MATCH once per row) and packages is joined only when a
 * filter or the sort needs its columns. When only the ecosystem is needed,
 * the (id, ecosystem) index answers without reading the row (named, since
 * without statistics the planner prefers the rowid and reads every matching
 * row: a third of a two-word search over 100,000 packages); when the row is
 * read anyway, "+" keeps the planner from looking in that index first. */
static void sql_from_where(int shape, bool join, bool row, const char *t, char *sql, size_t cap,
                           size_t *len)
{
    if (shape & SH_MATCH) {
        sql_add(sql, cap, len, " FROM packages_fts");
        if (join)
            sql_add(sql, cap, len, " CROSS JOIN packages %s%s ON %s.id = packages_fts.rowid", t,
                    row ? "" : " INDEXED BY packages_id_ecosystem", t);
        sql_add(sql, cap, len, " WHERE packages_fts MATCH :q");
    } else {
        sql_add(sql, cap, len, " FROM packages %s WHERE 1", t);
    }
    if (shape & SH_ECO)
        sql_add(sql, cap, len, " AND %s%s.ecosystem = :eco",
                (shape & SH_MATCH) && row ? "+" : "", t);
    if (shape & SH_KEYWORD)
        sql_json_has(sql, cap, len, t, "keywords", ":keyword");
    if (shape & SH_CATEGORY)
        sql_json_has(sql, cap, len, t, "categories", ":category");
    if (shape & SH_TAG)
        sql_json_has(sql, cap, len, t, "tags", ":tag");
}

/* The search statement of one shape; returns its length (cap on overflow).
 *
 * Counting reads no package columns it does not filter on. A page from the
 * index sorts only ids and sort keys in a subquery and reads the packages
 * of the page alone afterwards; relevance is bm25 with the package named
 * exactly as the query first. A page without the index walks a packages
 * index in the sort's order and stops at the page's end. */
static size_t search_sql(int shape, char *sql, size_t cap)
{
    size_t len = 0;
    int sort = (shape >> SH_SORT_SHIFT) & 3;
    bool filtered = shape & (SH_ECO | SH_KEYWORD | SH_CATEGORY | SH_TAG);
    bool json = shape & (SH_KEYWORD | SH_CATEGORY | SH_TAG);
    if (shape & SH_COUNT) {
        sql_add(sql, cap, &len, "SELECT count(*)");
        sql_from_where(shape, filtered, json, "f", sql, cap, &len);
        return len;
    }
    if (!(shape & SH_MATCH)) {
        sql_add(sql, cap, &len, "SELECT " PKG_LIST_COLS);
        sql_from_where(shape, true, true, "p", sql, cap, &len);
        sql_add(sql, cap, &len, " ORDER BY p.%s %s, p.id %s LIMIT :limit OFFSET :offset",
                sort_keys[sort].column, sort_keys[sort].dir, sort_keys[sort].dir);
        return len;
    }
    if (sort == SORT_RELEVANCE) {
        sql_add(sql, cap, &len,
                "SELECT " PKG_LIST_COLS " FROM (SELECT packages_fts.rowid AS id,"
                " packages_fts.rowid IN (SELECT id FROM packages WHERE normalized_name = :exact)"
                " AS k1, " FTS_RANK " AS k2");
        sql_from_where(shape, filtered, json, "f", sql, cap, &len);
        sql_add(sql, cap, &len,
                " ORDER BY k1 DESC, k2, id LIMIT :limit OFFSET :offset) m"
                " CROSS JOIN packages p ON p.id = m.id ORDER BY m.k1 DESC, m.k2, m.id");
        return len;
    }
    const char *dir = sort_keys[sort].dir;
    sql_add(sql, cap, &len, "SELECT " PKG_LIST_COLS " FROM (SELECT f.id AS id, f.%s AS k1",
            sort_keys[sort].column);
    sql_from_where(shape, true, true, "f", sql, cap, &len);
    sql_add(sql, cap, &len,
            " ORDER BY k1 %s, id %s LIMIT :limit OFFSET :offset) m"
            " CROSS JOIN packages p ON p.id = m.id ORDER BY m.k1 %s, m.id %s",
            dir, dir, dir, dir);
    return len;
}

/* The cached statement for a search shape, prepared on first use. */
static sqlite3_stmt *search_prep(struct conn *c, int shape, const char *op, derr *e)
{
    if (c->search[shape])
        return c->search[shape];
    char sql[2048];
    size_t len = search_sql(shape, sql, sizeof sql);
    if (len >= sizeof sql) {
        log_error("store error", "op", op, "error", "search SQL does not fit its buffer", NULL);
        derr_set(e, 500, "internal", "the store failed; see the server log");
        return NULL;
    }
    int rc = sqlite3_prepare_v3(c->db, sql, (int)len, SQLITE_PREPARE_PERSISTENT,
                                &c->search[shape], NULL);
    if (rc != SQLITE_OK) {
        fail(c, rc, op, e);
        sqlite3_finalize(c->search[shape]);
        c->search[shape] = NULL;
        return NULL;
    }
    return c->search[shape];
}

/* Binds what a search statement of any shape may use; parameters a shape
 * lacks are skipped. */
static int search_bind(sqlite3_stmt *st, const store_search *q, const char *expr,
                       const char *exact, int64_t limit, int64_t offset)
{
    struct binder b = {st, SQLITE_OK};
    b_named_text(&b, ":q", expr);
    b_named_text(&b, ":eco", q->ecosystem);
    b_named_text(&b, ":keyword", q->keyword);
    b_named_text(&b, ":category", q->category);
    b_named_text(&b, ":tag", q->tag);
    b_named_text(&b, ":exact", exact);
    b_named_i64(&b, ":limit", limit);
    b_named_i64(&b, ":offset", offset);
    return b.rc;
}

/* The query as normalized names are written, to find the package named
 * exactly so: trimmed and ASCII-folded, in the arena. */
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

/* Counts every match and reads one page of them, in one read transaction
 * so the two agree. A query with no word in it (only punctuation or
 * spaces) is no query, and relevance without a query is name order. A
 * limit of 0 or less reads only the total; limits are capped at MAX_PAGE.
 * The readme is left NULL. */
static int sq_search(store *s, arena *a, const store_search *q, store_package **out, int *n,
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
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    const char *expr = NULL;
    bool words = false;
    if (fts_expression(c, a, q, &expr, &words, op, e) != STORE_OK)
        return STORE_ERROR;
    if (sort == SORT_RELEVANCE && !words)
        sort = SORT_NAME;
    const char *exact = sort == SORT_RELEVANCE ? exact_name(a, q->query) : NULL;
    int shape = (expr ? SH_MATCH : 0) | (given(q->ecosystem) ? SH_ECO : 0) |
                (given(q->keyword) ? SH_KEYWORD : 0) | (given(q->category) ? SH_CATEGORY : 0) |
                (given(q->tag) ? SH_TAG : 0);
    int64_t limit = clamp_limit(q->limit);
    int64_t offset = q->offset > 0 ? q->offset : 0;

    if (run(c, Q_BEGIN_READ, op, e) != STORE_OK)
        return STORE_ERROR;
    void *arr = NULL;
    int count = 0, ret = STORE_ERROR;
    sqlite3_stmt *st = search_prep(c, shape | SH_COUNT, op, e);
    if (!st)
        goto out;
    int rc = search_bind(st, q, expr, exact, limit, offset);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *total = sqlite3_column_int64(st, 0);
        ret = STORE_OK;
    } else {
        ret = fail(c, rc, op, e);
    }
    release(st);
    if (ret != STORE_OK || limit <= 0 || offset >= *total)
        goto out;
    ret = STORE_ERROR;
    st = search_prep(c, shape | (sort << SH_SORT_SHIFT), op, e);
    if (!st)
        goto out;
    rc = search_bind(st, q, expr, exact, limit, offset);
    ret = rc == SQLITE_OK
              ? collect(c, st, a, sizeof **out, read_package_v, &arr, &count, op, e)
              : fail(c, rc, op, e);
    release(st);
out:
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

/* One transaction for the batch. A version that no longer exists is
 * skipped (its counts are dropped) rather than failing the batch; counts
 * of 0 or less are ignored. Never touches a generation: counts are not
 * part of any cached document's identity. */
static int sq_downloads_add(store *s, const store_download *d, int n, derr *e)
{
    static const char op[] = "downloads_add";
    if (n <= 0)
        return STORE_OK;
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    if (tx_begin(c, op, e) != STORE_OK)
        return STORE_ERROR;
    int ret = STORE_OK;
    for (int i = 0; i < n && ret == STORE_OK; i++) {
        if (d[i].count <= 0 || !d[i].day)
            continue;
        sqlite3_stmt *st = prep(c, Q_DL_VERSION, op, e);
        if (!st) {
            ret = STORE_ERROR;
            break;
        }
        struct binder b = {st, SQLITE_OK};
        b_i64(&b, 1, d[i].version_id);
        b_i64(&b, 2, d[i].count);
        int rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
        int64_t package_id = 0;
        if (rc == SQLITE_ROW)
            package_id = sqlite3_column_int64(st, 0);
        else if (rc != SQLITE_DONE)
            ret = fail(c, rc, op, e);
        release(st);
        if (ret != STORE_OK || package_id == 0)
            continue; /* failed, or no such version */

        st = prep(c, Q_DL_DAY, op, e);
        if (!st) {
            ret = STORE_ERROR;
            break;
        }
        b = (struct binder){st, SQLITE_OK};
        b_i64(&b, 1, d[i].version_id);
        b_text(&b, 2, d[i].day);
        b_i64(&b, 3, d[i].count);
        rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
        ret = rc == SQLITE_DONE ? STORE_OK : fail(c, rc, op, e);
        release(st);
        if (ret != STORE_OK)
            break;

        st = prep(c, Q_DL_PACKAGE, op, e);
        if (!st) {
            ret = STORE_ERROR;
            break;
        }
        b = (struct binder){st, SQLITE_OK};
        b_i64(&b, 1, package_id);
        b_i64(&b, 2, d[i].count);
        rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
        ret = rc == SQLITE_DONE ? STORE_OK : fail(c, rc, op, e);
        release(st);
    }
    return tx_end(c, ret, op, e);
}

static void read_day_count(arena *a, sqlite3_stmt *st, void *p)
{
    store_day_count *dc = p;
    dc->day = col_text(a, st, 0);
    dc->version = col_text(a, st, 1);
    dc->count = sqlite3_column_int64(st, 2);
}

/* Ordered by day; within a day the total (version NULL) first, then the
 * versions newest first. since_day NULL means from the beginning. */
static int sq_pkg_daily_downloads(store *s, arena *a, int64_t package_id, const char *since_day,
                                  store_day_count **out, int *n, derr *e)
{
    static const char op[] = "pkg_daily_downloads";
    *out = NULL;
    *n = 0;
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_DAILY, op, e);
    if (!st)
        return STORE_ERROR;
    struct binder b = {st, SQLITE_OK};
    b_i64(&b, 1, package_id);
    b_text(&b, 2, since_day);
    void *arr = NULL;
    int ret = b.rc == SQLITE_OK
                  ? collect(c, st, a, sizeof **out, read_day_count, &arr, n, op, e)
                  : fail(c, b.rc, op, e);
    release(st);
    *out = arr;
    return ret;
}

static int sq_totals(store *s, store_totals *out, derr *e)
{
    static const char op[] = "totals";
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_TOTALS, op, e);
    if (!st)
        return STORE_ERROR;
    int rc = sqlite3_step(st);
    int ret;
    if (rc == SQLITE_ROW) {
        out->packages = sqlite3_column_int64(st, 0);
        out->versions = sqlite3_column_int64(st, 1);
        out->users = sqlite3_column_int64(st, 2);
        out->downloads = sqlite3_column_int64(st, 3);
        ret = STORE_OK;
    } else {
        ret = fail(c, rc, op, e);
    }
    release(st);
    return ret;
}

/* which: "downloads", "new" (created), "updated"; ecosystem NULL or ""
 * means every ecosystem. The readme is left NULL. */
static int sq_pkg_top(store *s, arena *a, const char *ecosystem, const char *which, int limit,
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
    int r = -1;
    for (int i = 0; which && i < (int)(sizeof rankings / sizeof rankings[0]); i++)
        if (strcmp(which, rankings[i].which) == 0)
            r = i;
    if (r < 0) {
        log_error("store error", "op", op, "error", "unknown ranking", "which",
                  which ? which : "(null)", NULL);
        return derr_set(e, 500, "internal", "the store failed; see the server log");
    }
    if (limit <= 0)
        return STORE_OK;
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    bool one = given(ecosystem);
    sqlite3_stmt *st = prep(c, one ? rankings[r].one : rankings[r].all, op, e);
    if (!st)
        return STORE_ERROR;
    struct binder b = {st, SQLITE_OK};
    b_i64(&b, 1, clamp_limit(limit));
    if (one)
        b_text(&b, 2, ecosystem);
    void *arr = NULL;
    int ret = b.rc == SQLITE_OK
                  ? collect(c, st, a, sizeof **out, read_package_v, &arr, n, op, e)
                  : fail(c, b.rc, op, e);
    release(st);
    *out = arr;
    return ret;
}

/* ---- signing keys ---------------------------------------------------- */

static void read_key(arena *a, sqlite3_stmt *st, void *p)
{
    store_key *k = p;
    k->id = sqlite3_column_int64(st, 0);
    k->user_id = sqlite3_column_int64(st, 1);
    k->key_id = col_text(a, st, 2);
    k->algorithm = col_text(a, st, 3);
    k->public_key = col_text(a, st, 4);
    k->name = col_text(a, st, 5);
    k->created_at = sqlite3_column_int64(st, 6);
}

/* Fills k->id, and k->created_at when the caller left it 0; algorithm NULL
 * means ed25519. A key_id is unique for ever (revoked keys included); a
 * name only among the user's live keys. */
static int sq_key_add(store *s, store_key *k, derr *e)
{
    static const char op[] = "key_add";
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_KEY_INSERT, op, e);
    if (!st)
        return STORE_ERROR;
    int64_t created = k->created_at > 0 ? k->created_at : now_s();
    struct binder b = {st, SQLITE_OK};
    b_i64(&b, 1, k->user_id);
    b_text(&b, 2, k->key_id);
    b_text(&b, 3, k->algorithm);
    b_text(&b, 4, k->public_key);
    b_text(&b, 5, k->name);
    b_i64(&b, 6, created);
    int rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
    int ret;
    if (rc == SQLITE_ROW) {
        k->id = sqlite3_column_int64(st, 0);
        k->created_at = created;
        ret = STORE_OK;
    } else {
        ret = fail(c, rc, op, e);
        if (ret == STORE_NOT_FOUND)
            not_found(e, "user");
    }
    release(st);
    return ret;
}

/* The user's live keys, oldest first. */
static int sq_key_list(store *s, arena *a, int64_t user_id, store_key **out, int *n, derr *e)
{
    void *arr = NULL;
    int ret = list_by_id(s, a, Q_KEY_LIST, user_id, sizeof **out, read_key, &arr, n, "key_list", e);
    *out = arr;
    return ret;
}

static int sq_key_get(store *s, arena *a, const char *key_id, store_key *out, derr *e)
{
    static const char op[] = "key_get";
    if (!key_id)
        return not_found(e, "key");
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_KEY_GET, op, e);
    if (!st)
        return STORE_ERROR;
    int rc = bind_text(st, 1, key_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    int ret;
    if (rc == SQLITE_ROW) {
        read_key(a, st, out);
        ret = STORE_OK;
    } else if (rc == SQLITE_DONE) {
        ret = not_found(e, "key");
    } else {
        ret = fail(c, rc, op, e);
    }
    release(st);
    return ret;
}

/* Revokes (the row stays, so old signatures can still be checked).
 * STORE_NOT_FOUND when the user has no such live key. */
static int sq_key_delete(store *s, int64_t user_id, const char *key_id, derr *e)
{
    static const char op[] = "key_delete";
    if (!key_id)
        return not_found(e, "key");
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_KEY_REVOKE, op, e);
    if (!st)
        return STORE_ERROR;
    struct binder b = {st, SQLITE_OK};
    b_i64(&b, 1, user_id);
    b_text(&b, 2, key_id);
    b_i64(&b, 3, now_s());
    int rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
    int ret;
    if (rc == SQLITE_DONE)
        ret = sqlite3_changes(c->db) > 0 ? STORE_OK : not_found(e, "key");
    else
        ret = fail(c, rc, op, e);
    release(st);
    return ret;
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
static int sq_version_set_status(store *s, int64_t package_id, const char *version,
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
    int ret = STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_VERSION_STATUS, op, e);
    if (!st)
        goto out;
    struct binder b = {st, SQLITE_OK};
    b_i64(&b, 1, package_id);
    b_text(&b, 2, version);
    b_i64(&b, 3, retired);
    b_text(&b, 4, vs->retired_reason);
    b_text(&b, 5, vs->retired_message);
    b_i64(&b, 6, deprecated);
    b_text(&b, 7, vs->deprecated);
    b_i64(&b, 8, retracted);
    b_i64(&b, 9, now > 0 ? now : now_s());
    int rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
    if (rc == SQLITE_DONE)
        ret = sqlite3_changes(c->db) > 0 ? STORE_OK : not_found(e, "version");
    else
        ret = fail(c, rc, op, e);
    release(st);
    if (ret == STORE_OK && (retired || deprecated || retracted))
        ret = run_id(c, Q_PKG_BUMP, package_id, op, e);
out:
    return tx_end(c, ret, op, e);
}

/* meta NULL stores "{}". One statement, so the bump goes with it. */
static int sq_pkg_set_meta(store *s, int64_t package_id, const char *meta, derr *e)
{
    static const char op[] = "pkg_set_meta";
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_PKG_SET_META, op, e);
    if (!st)
        return STORE_ERROR;
    struct binder b = {st, SQLITE_OK};
    b_i64(&b, 1, package_id);
    b_text(&b, 2, meta);
    int rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
    int ret;
    if (rc == SQLITE_DONE)
        ret = sqlite3_changes(c->db) > 0 ? STORE_OK : not_found(e, "package");
    else
        ret = fail(c, rc, op, e);
    release(st);
    return ret;
}

static void read_tag(arena *a, sqlite3_stmt *st, void *p)
{
    store_tag *t = p;
    t->tag = col_text(a, st, 0);
    t->version = col_text(a, st, 1);
    t->updated_at = sqlite3_column_int64(st, 2);
}

/* By tag name; an unknown package has none. */
static int sq_tags_list(store *s, arena *a, int64_t package_id, store_tag **out, int *n, derr *e)
{
    void *arr = NULL;
    int ret =
        list_by_id(s, a, Q_TAGS_LIST, package_id, sizeof **out, read_tag, &arr, n, "tags_list", e);
    *out = arr;
    return ret;
}

/* Creates the tag or moves it; now 0 means the clock. */
static int sq_tag_set(store *s, int64_t package_id, const char *tag, const char *version,
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
    int ret = tag_upsert(c, package_id, tag, version, now > 0 ? now : now_s(), op, e);
    if (ret == STORE_OK)
        ret = run_id(c, Q_PKG_BUMP, package_id, op, e);
    return tx_end(c, ret, op, e);
}

/* Runs a statement with ?1 = package id and ?2 = a version (or other key) for its effect;
 * *changed gets the number of rows it changed. */
static int run_pkg_version(struct conn *c, enum query q, int64_t package_id, const char *version,
                           int *changed, const char *op, derr *e)
{
    sqlite3_stmt *st = prep(c, q, op, e);
    if (!st)
        return STORE_ERROR;
    struct binder b = {st, SQLITE_OK};
    b_i64(&b, 1, package_id);
    b_text(&b, 2, version);
    int rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
    int ret = rc == SQLITE_DONE ? STORE_OK : fail(c, rc, op, e);
    if (ret == STORE_OK && changed)
        *changed = sqlite3_changes(c->db);
    release(st);
    return ret;
}

/* Deletes the row of package_id keyed by `key` with statement q (?1 the package, ?2 the key), and
 * bumps the package's generation, in one transaction; STORE_NOT_FOUND ("no such <what>") when there
 * was none. */
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
    int changed = 0;
    int ret = run_pkg_version(c, q, package_id, key, &changed, op, e);
    if (ret == STORE_OK && changed == 0)
        ret = not_found(e, what);
    if (ret == STORE_OK)
        ret = run_id(c, Q_PKG_BUMP, package_id, op, e);
    return tx_end(c, ret, op, e);
}

static int sq_tag_delete(store *s, int64_t package_id, const char *tag, derr *e)
{
    return pkg_delete_keyed(s, package_id, tag, Q_TAG_DELETE, "tag", "tag_delete", e);
}

/* In one transaction: the version row goes (its dependencies, tags and
 * daily download rows with it, by ON DELETE CASCADE: foreign keys are on
 * in every connection), its downloads leave the package's total, the
 * tombstone is written when asked, and latest_version and the generation
 * are settled. Docs sites of the version stay (docs_versions still lists
 * them). now 0 means the clock. */
/* Removes a version inside the caller's transaction: its row (dependencies, tags and daily
 * downloads go with it), its downloads from the package's total, and with tombstone a record
 * that the number is spent. STORE_NOT_FOUND when absent. The caller settles the package. */
static int delete_version_tx(struct conn *c, int64_t package_id, const char *version, bool tombstone, int64_t now,
                             const char *op, derr *e)
{
    int ret = STORE_ERROR;
    int64_t version_id = 0, downloads = 0;
    sqlite3_stmt *st = prep(c, Q_VERSION_FIND, op, e);
    if (!st)
        return ret;
    struct binder b = {st, SQLITE_OK};
    b_i64(&b, 1, package_id);
    b_text(&b, 2, version);
    int rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
    if (rc == SQLITE_ROW) {
        version_id = sqlite3_column_int64(st, 0);
        downloads = sqlite3_column_int64(st, 1);
        ret = STORE_OK;
    } else if (rc == SQLITE_DONE) {
        ret = not_found(e, "version");
    } else {
        ret = fail(c, rc, op, e);
    }
    release(st);
    if (ret != STORE_OK)
        return ret;
    ret = run_id(c, Q_VERSION_DELETE, version_id, op, e);
    if (ret == STORE_OK && downloads != 0) {
        ret = STORE_ERROR;
        st = prep(c, Q_PKG_DL_SUB, op, e);
        if (!st)
            return ret;
        b = (struct binder){st, SQLITE_OK};
        b_i64(&b, 1, package_id);
        b_i64(&b, 2, downloads);
        rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
        ret = rc == SQLITE_DONE ? STORE_OK : fail(c, rc, op, e);
        release(st);
    }
    if (ret == STORE_OK && tombstone) {
        ret = STORE_ERROR;
        st = prep(c, Q_TOMBSTONE_INSERT, op, e);
        if (!st)
            return ret;
        b = (struct binder){st, SQLITE_OK};
        b_i64(&b, 1, package_id);
        b_text(&b, 2, version);
        b_i64(&b, 3, now > 0 ? now : now_s());
        rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
        ret = rc == SQLITE_DONE ? STORE_OK : fail(c, rc, op, e);
        release(st);
    }
    return ret;
}

static int sq_version_delete(store *s, int64_t package_id, const char *version, bool tombstone,
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
    int ret = delete_version_tx(c, package_id, version, tombstone, now, op, e);
    if (ret == STORE_OK)
        ret = pkg_settle(c, package_id, 1, 0, NULL, op, e);
    return tx_end(c, ret, op, e);
}

/* e is left alone on STORE_NOT_FOUND (the common answer). */
static int sq_version_tombstoned(store *s, int64_t package_id, const char *version, derr *e)
{
    if (!version)
        return STORE_NOT_FOUND;
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    return tombstone_has(c, package_id, version, "version_tombstoned", e);
}

/* ---- hosted docs ----------------------------------------------------- */


/* One transaction: the old site of the version goes (its files with it,
 * by ON DELETE CASCADE), the new site and its files go in, the generation
 * goes up. The version need not exist in versions. STORE_NOT_FOUND when
 * the package does not exist; STORE_CONFLICT when files name a path twice. */
static int sq_docs_put(store *s, int64_t package_id, const char *version,
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
    int ret = run_pkg_version(c, Q_DOCS_SITE_DELETE, package_id, version, NULL, op, e);
    if (ret != STORE_OK)
        goto out;
    ret = STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_DOCS_SITE_INSERT, op, e);
    if (!st)
        goto out;
    struct binder b = {st, SQLITE_OK};
    b_i64(&b, 1, package_id);
    b_text(&b, 2, version);
    b_text(&b, 3, archive_sha256);
    b_i64(&b, 4, archive_size);
    b_i64(&b, 5, now > 0 ? now : now_s());
    int rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
    ret = rc == SQLITE_DONE ? STORE_OK : fail(c, rc, op, e);
    release(st);
    if (ret == STORE_NOT_FOUND)
        not_found(e, "package");
    for (int i = 0; i < n && ret == STORE_OK; i++) {
        ret = STORE_ERROR;
        st = prep(c, Q_DOCS_FILE_INSERT, op, e);
        if (!st)
            goto out;
        b = (struct binder){st, SQLITE_OK};
        b_i64(&b, 1, package_id);
        b_text(&b, 2, version);
        b_text(&b, 3, files[i].path);
        b_text(&b, 4, files[i].sha256);
        b_i64(&b, 5, files[i].size);
        rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
        ret = rc == SQLITE_DONE ? STORE_OK : fail(c, rc, op, e);
        release(st);
    }
    if (ret == STORE_OK)
        ret = run_id(c, Q_PKG_BUMP, package_id, op, e);
out:
    return tx_end(c, ret, op, e);
}

static int sq_docs_file(store *s, arena *a, int64_t package_id, const char *version,
                        const char *path, store_doc_file *out, derr *e)
{
    static const char op[] = "docs_file";
    if (!version || !path)
        return not_found(e, "docs file");
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_DOCS_FILE, op, e);
    if (!st)
        return STORE_ERROR;
    struct binder b = {st, SQLITE_OK};
    b_i64(&b, 1, package_id);
    b_text(&b, 2, version);
    b_text(&b, 3, path);
    int rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
    int ret;
    if (rc == SQLITE_ROW) {
        out->path = col_text(a, st, 0);
        out->sha256 = col_text(a, st, 1);
        out->size = sqlite3_column_int64(st, 2);
        ret = STORE_OK;
    } else if (rc == SQLITE_DONE) {
        ret = not_found(e, "docs file");
    } else {
        ret = fail(c, rc, op, e);
    }
    release(st);
    return ret;
}

/* *size is 0 when the site was recorded without one. */
static int sq_docs_archive(store *s, arena *a, int64_t package_id, const char *version,
                           const char **sha256, int64_t *size, derr *e)
{
    static const char op[] = "docs_archive";
    if (!version)
        return not_found(e, "docs site");
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_DOCS_ARCHIVE, op, e);
    if (!st)
        return STORE_ERROR;
    struct binder b = {st, SQLITE_OK};
    b_i64(&b, 1, package_id);
    b_text(&b, 2, version);
    int rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
    int ret;
    if (rc == SQLITE_ROW) {
        *sha256 = col_text(a, st, 0);
        *size = sqlite3_column_int64(st, 1);
        ret = STORE_OK;
    } else if (rc == SQLITE_DONE) {
        ret = not_found(e, "docs site");
    } else {
        ret = fail(c, rc, op, e);
    }
    release(st);
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

/* Sites of versions that exist come in the versions' own order (as
 * pkg_versions lists them); sites whose version is gone follow, ordered by
 * what their text says. */
static int sq_docs_versions(store *s, arena *a, int64_t package_id, const char ***out, int *n,
                            derr *e)
{
    static const char op[] = "docs_versions";
    *out = NULL;
    *n = 0;
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_DOCS_VERSIONS, op, e);
    if (!st)
        return STORE_ERROR;
    const char **arr = NULL;
    int count = 0, cap = 0, gone = -1; /* where the sites of gone versions start */
    int rc = bind_i64(st, 1, package_id);
    if (rc == SQLITE_OK)
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (gone < 0 && sqlite3_column_int(st, 1) != 0)
                gone = count;
            arr = grow(a, arr, count, &cap, sizeof *arr);
            arr[count++] = col_text(a, st, 0);
        }
    int ret = rc == SQLITE_DONE ? STORE_OK : fail(c, rc, op, e);
    release(st);
    if (ret != STORE_OK)
        return ret;
    if (gone >= 0 && count - gone > 1)
        qsort(arr + gone, (size_t)(count - gone), sizeof *arr, version_text_cmp);
    *out = arr;
    *n = count;
    return STORE_OK;
}

/* STORE_NOT_FOUND when the version has no site. */
static int sq_docs_delete(store *s, int64_t package_id, const char *version, derr *e)
{
    return pkg_delete_keyed(s, package_id, version, Q_DOCS_SITE_DELETE, "docs site", "docs_delete", e);
}

/* ---- two-step uploads ------------------------------------------------ */

static void read_upload(arena *a, sqlite3_stmt *st, store_upload *u)
{
    u->id = col_text(a, st, 0);
    u->user_id = sqlite3_column_int64(st, 1); /* NULL (no account) reads as 0 */
    u->ecosystem = col_text(a, st, 2);
    u->sha256 = col_text(a, st, 3);
    u->size = sqlite3_column_int64(st, 4);
    u->created_at = sqlite3_column_int64(st, 5);
    u->expires_at = sqlite3_column_int64(st, 6);
    u->result = col_text(a, st, 7);
    u->failed = sqlite3_column_int(st, 8) != 0;
}

/* created_at 0 means now; user_id 0 means no account. STORE_CONFLICT when
 * the id is taken, STORE_NOT_FOUND when the user does not exist. */
static int sq_upload_create(store *s, const store_upload *u, derr *e)
{
    static const char op[] = "upload_create";
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_UPLOAD_INSERT, op, e);
    if (!st)
        return STORE_ERROR;
    struct binder b = {st, SQLITE_OK};
    b_text(&b, 1, u->id);
    if (u->user_id)
        b_i64(&b, 2, u->user_id);
    else
        b_null(&b, 2);
    b_text(&b, 3, u->ecosystem);
    b_text(&b, 4, u->sha256);
    b_i64(&b, 5, u->size);
    b_i64(&b, 6, u->created_at > 0 ? u->created_at : now_s());
    b_i64(&b, 7, u->expires_at);
    b_text(&b, 8, u->result);
    b_i64(&b, 9, u->failed ? 1 : 0);
    int rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
    int ret = rc == SQLITE_DONE ? STORE_OK : fail(c, rc, op, e);
    release(st);
    if (ret == STORE_NOT_FOUND)
        not_found(e, "user");
    return ret;
}

/* Expired uploads are returned too, until upload_expire deletes them: the
 * caller compares expires_at with its clock. */
static int sq_upload_get(store *s, arena *a, const char *id, store_upload *out, derr *e)
{
    static const char op[] = "upload_get";
    if (!id)
        return not_found(e, "upload");
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_UPLOAD_GET, op, e);
    if (!st)
        return STORE_ERROR;
    int rc = bind_text(st, 1, id);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    int ret;
    if (rc == SQLITE_ROW) {
        read_upload(a, st, out);
        ret = STORE_OK;
    } else if (rc == SQLITE_DONE) {
        ret = not_found(e, "upload");
    } else {
        ret = fail(c, rc, op, e);
    }
    release(st);
    return ret;
}

/* Writes all four of sha256, size, result and failed as u holds them. */
static int sq_upload_update(store *s, const store_upload *u, derr *e)
{
    static const char op[] = "upload_update";
    if (!u->id)
        return not_found(e, "upload");
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_UPLOAD_UPDATE, op, e);
    if (!st)
        return STORE_ERROR;
    struct binder b = {st, SQLITE_OK};
    b_text(&b, 1, u->id);
    b_text(&b, 2, u->sha256);
    b_i64(&b, 3, u->size);
    b_text(&b, 4, u->result);
    b_i64(&b, 5, u->failed ? 1 : 0);
    int rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
    int ret;
    if (rc == SQLITE_DONE)
        ret = sqlite3_changes(c->db) > 0 ? STORE_OK : not_found(e, "upload");
    else
        ret = fail(c, rc, op, e);
    release(st);
    return ret;
}

/* Deletes every upload with expires_at <= now (0: the clock). The blobs of
 * their bytes stay; fsck collects unreferenced blobs. */
static int sq_upload_expire(store *s, int64_t now, int *n, derr *e)
{
    static const char op[] = "upload_expire";
    if (n)
        *n = 0;
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_UPLOAD_EXPIRE, op, e);
    if (!st)
        return STORE_ERROR;
    int rc = bind_i64(st, 1, now > 0 ? now : now_s());
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    int ret = rc == SQLITE_DONE ? STORE_OK : fail(c, rc, op, e);
    if (ret == STORE_OK && n)
        *n = sqlite3_changes(c->db);
    release(st);
    return ret;
}

/* ---- mailed secrets, address verification, audit, dependents -------- */

static void read_email_token(arena *a, sqlite3_stmt *st, store_email_token *t)
{
    t->hash = col_text(a, st, 0);
    t->user_id = sqlite3_column_int64(st, 1);
    t->purpose = col_text(a, st, 2);
    t->email = col_text(a, st, 3);
    t->created_at = sqlite3_column_int64(st, 4);
    t->expires_at = sqlite3_column_int64(st, 5);
    t->used_at = sqlite3_column_int64(st, 6);
}

static int sq_email_token_create(store *s, const store_email_token *t, derr *e)
{
    static const char op[] = "email_token_create";
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    int ret = tx_begin(c, op, e);
    if (ret != STORE_OK)
        return ret;
    sqlite3_stmt *st = prep(c, Q_EMAIL_TOKEN_PURGE, op, e);
    struct binder b = {st, st ? SQLITE_OK : SQLITE_ERROR};
    b_i64(&b, 1, t->created_at ? t->created_at : now_s());
    int rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
    ret = !st ? STORE_ERROR : rc == SQLITE_DONE ? STORE_OK : fail(c, rc, op, e);
    release(st);
    if (ret == STORE_OK) {
        st = prep(c, Q_EMAIL_TOKEN_REPLACE, op, e);
        b = (struct binder){st, st ? SQLITE_OK : SQLITE_ERROR};
        b_i64(&b, 1, t->user_id);
        b_text(&b, 2, t->purpose);
        rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
        ret = !st ? STORE_ERROR : rc == SQLITE_DONE ? STORE_OK : fail(c, rc, op, e);
        release(st);
    }
    if (ret == STORE_OK) {
        st = prep(c, Q_EMAIL_TOKEN_INSERT, op, e);
        b = (struct binder){st, st ? SQLITE_OK : SQLITE_ERROR};
        b_text(&b, 1, t->hash);
        b_i64(&b, 2, t->user_id);
        b_text(&b, 3, t->purpose);
        b_text(&b, 4, t->email);
        b_i64(&b, 5, t->created_at ? t->created_at : now_s());
        b_i64(&b, 6, t->expires_at);
        rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
        ret = !st ? STORE_ERROR : rc == SQLITE_DONE ? STORE_OK : fail(c, rc, op, e);
        release(st);
    }
    return tx_end(c, ret, op, e);
}

/* Runs Q_EMAIL_TOKEN_GET or Q_EMAIL_TOKEN_USE: ?1 hash, ?2 purpose, ?3 now; one row or none. */
static int email_token_one(store *s, arena *a, enum query q, const char *hash, const char *purpose, int64_t now,
                           store_email_token *out, const char *op, derr *e)
{
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, q, op, e);
    if (!st)
        return STORE_ERROR;
    struct binder b = {st, SQLITE_OK};
    b_text(&b, 1, hash);
    b_text(&b, 2, purpose);
    b_i64(&b, 3, now);
    int rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
    int ret;
    if (rc == SQLITE_ROW) {
        read_email_token(a, st, out);
        /* Step to the end so an UPDATE ... RETURNING is complete before the reset. */
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            ;
        ret = rc == SQLITE_DONE ? STORE_OK : fail(c, rc, op, e);
    } else if (rc == SQLITE_DONE) {
        ret = not_found(e, "link");
    } else {
        ret = fail(c, rc, op, e);
    }
    release(st);
    return ret;
}

static int sq_email_token_get(store *s, arena *a, const char *hash, const char *purpose, int64_t now,
                              store_email_token *out, derr *e)
{
    return email_token_one(s, a, Q_EMAIL_TOKEN_GET, hash, purpose, now, out, "email_token_get", e);
}

static int sq_email_token_use(store *s, arena *a, const char *hash, const char *purpose, int64_t now,
                              store_email_token *out, derr *e)
{
    return email_token_one(s, a, Q_EMAIL_TOKEN_USE, hash, purpose, now, out, "email_token_use", e);
}

static int sq_user_set_email_verified(store *s, int64_t id, int64_t at, derr *e)
{
    static const char op[] = "user_set_email_verified";
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_USER_SET_VERIFIED, op, e);
    if (!st)
        return STORE_ERROR;
    struct binder b = {st, SQLITE_OK};
    b_i64(&b, 1, id);
    b_time(&b, 2, at);
    b_i64(&b, 3, now_s());
    int rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
    int ret;
    if (rc == SQLITE_DONE)
        ret = sqlite3_changes(c->db) > 0 ? STORE_OK : not_found(e, "user");
    else
        ret = fail(c, rc, op, e);
    release(st);
    return ret;
}

static int sq_user_email_verified(store *s, int64_t id, int64_t *at, derr *e)
{
    static const char op[] = "user_email_verified";
    *at = 0;
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_USER_VERIFIED, op, e);
    if (!st)
        return STORE_ERROR;
    int rc = bind_i64(st, 1, id);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    int ret;
    if (rc == SQLITE_ROW) {
        *at = sqlite3_column_int64(st, 0);
        ret = STORE_OK;
    } else if (rc == SQLITE_DONE) {
        ret = not_found(e, "user");
    } else {
        ret = fail(c, rc, op, e);
    }
    release(st);
    return ret;
}

static void read_audit_row(arena *a, sqlite3_stmt *st, void *p)
{
    store_audit_row *r = p;
    r->id = sqlite3_column_int64(st, 0);
    r->at = sqlite3_column_int64(st, 1);
    r->user_id = sqlite3_column_int64(st, 2);
    r->username = col_text(a, st, 3);
    r->action = col_text(a, st, 4);
    r->target = col_text(a, st, 5);
    r->detail = col_text(a, st, 6);
    r->ip = col_text(a, st, 7);
}

static int sq_audit_recent(store *s, arena *a, int limit, store_audit_row **out, int *n, derr *e)
{
    void *arr = NULL;
    int ret = list_by_id(s, a, Q_AUDIT_RECENT, clamp_limit(limit < 0 ? 0 : limit), sizeof **out, read_audit_row,
                         &arr, n, "audit_recent", e);
    *out = arr;
    return ret;
}

static int sq_pkg_dependents(store *s, arena *a, const char *ecosystem, const char *name, int limit,
                             store_package **out, int *n, derr *e)
{
    static const char op[] = "pkg_dependents";
    *out = NULL;
    *n = 0;
    struct conn *c = conn_get(s, e);
    if (!c)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(c, Q_PKG_DEPENDENTS, op, e);
    if (!st)
        return STORE_ERROR;
    struct binder b = {st, SQLITE_OK};
    b_text(&b, 1, ecosystem);
    b_text(&b, 2, name);
    b_i64(&b, 3, clamp_limit(limit < 0 ? 0 : limit));
    void *arr = NULL;
    int ret = b.rc == SQLITE_OK ? collect(c, st, a, sizeof **out, read_package_v, &arr, n, op, e)
                                : fail(c, b.rc, op, e);
    release(st);
    if (ret == STORE_OK)
        *out = arr;
    return ret;
}

/* ---- the vtable and the constructor --------------------------------- */

static const struct store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .migrate = sq_migrate,
    .ping = sq_ping,
    .user_create = sq_user_create,
    .user_by_id = sq_user_by_id,
    .user_by_login = sq_user_by_login,
    .user_list = sq_user_list,
    .user_set_password = sq_user_set_password,
    .user_set_disabled = sq_user_set_disabled,
    .user_set_admin = sq_user_set_admin,
    .token_create = sq_token_create,
    .token_by_hash = sq_token_by_hash,
    .token_by_name = sq_token_by_name,
    .token_list = sq_token_list,
    .token_delete = sq_token_delete,
    .token_touch = sq_token_touch,
    .jwt_revoke = sq_jwt_revoke,
    .jwt_is_revoked = sq_jwt_is_revoked,
    .audit = sq_audit,
    .auth_epoch = sq_auth_epoch,
    .eco_generation = sq_eco_generation,
    .integrity = sq_integrity,
    .backup = sq_backup,
    .each_blob_ref = sq_each_blob_ref,
    .bump_generations = sq_bump_generations,
    .rows_put = sq_rows_put,
    .rows_get = sq_rows_get,
    .rows_settle = sq_rows_settle,
    .pkg_get = sq_pkg_get,
    .pkg_generation = sq_pkg_generation,
    .pkg_versions = sq_pkg_versions,
    .version_get = sq_version_get,
    .publish = sq_publish,
    .version_yank = sq_version_yank,
    .pkg_set_require_signatures = sq_pkg_set_require_signatures,
    .owners_list = sq_owners_list,
    .owner_is = sq_owner_is,
    .owner_add = sq_owner_add,
    .owner_remove = sq_owner_remove,
    .user_packages = sq_user_packages,
    .search = sq_search,
    .downloads_add = sq_downloads_add,
    .pkg_daily_downloads = sq_pkg_daily_downloads,
    .totals = sq_totals,
    .pkg_top = sq_pkg_top,
    .key_add = sq_key_add,
    .key_list = sq_key_list,
    .key_get = sq_key_get,
    .key_delete = sq_key_delete,
    .version_set_status = sq_version_set_status,
    .pkg_set_meta = sq_pkg_set_meta,
    .tags_list = sq_tags_list,
    .tag_set = sq_tag_set,
    .tag_delete = sq_tag_delete,
    .version_delete = sq_version_delete,
    .version_tombstoned = sq_version_tombstoned,
    .docs_put = sq_docs_put,
    .docs_file = sq_docs_file,
    .docs_archive = sq_docs_archive,
    .docs_versions = sq_docs_versions,
    .docs_delete = sq_docs_delete,
    .upload_create = sq_upload_create,
    .upload_get = sq_upload_get,
    .upload_update = sq_upload_update,
    .upload_expire = sq_upload_expire,
    .email_token_create = sq_email_token_create,
    .email_token_get = sq_email_token_get,
    .email_token_use = sq_email_token_use,
    .user_set_email_verified = sq_user_set_email_verified,
    .user_email_verified = sq_user_email_verified,
    .audit_recent = sq_audit_recent,
    .pkg_dependents = sq_pkg_dependents,
};

store *store_sqlite_open(const char *path, derr *e)
{
    if (!path || !*path) {
        derr_set(e, 400, "bad_request", "the SQLite store needs a file path");
        return NULL;
    }
    /* Create the file ourselves so it (and the -wal/-shm files SQLite makes
     * with the same mode) is private: it holds password and token hashes. */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd); /* when this fails, sqlite3_open_v2 below reports why */

    sqlite_store *s = xcalloc(1, sizeof *s);
    s->base.ops = &sqlite_ops;
    /* SQLite reads names starting with "file:" as URIs; "./" keeps a
     * relative path a path (and ":memory:" a file, which per-thread
     * connections need). */
    size_t n = strlen(path);
    s->path = xmalloc(n + 3);
    if (path[0] == '/') {
        memcpy(s->path, path, n + 1);
    } else {
        memcpy(s->path, "./", 2);
        memcpy(s->path + 2, path, n + 1);
    }
    if (pthread_key_create(&s->key, conn_destroy) != 0) {
        free(s->path);
        free(s);
        log_error("store error", "op", "open", "error", "no pthread key left", NULL);
        derr_set(e, 500, "internal", "the store failed; see the server log");
        return NULL;
    }
    pthread_mutex_init(&s->mu, NULL);
    if (!conn_get(&s->base, e)) {
        sq_close(&s->base);
        return NULL;
    }
    return &s->base;
}
