-- 0001_init.sql — the registry's whole schema, as it starts.
--
-- Everything the registry keeps in its metadata store is here from the first
-- version, so later work fills these tables rather than reshaping them:
-- accounts and credentials, packages of every ecosystem keyed by
-- (ecosystem, normalized name), immutable versions with their dependencies,
-- owners, download counts, signing keys, docs sites, the audit log and
-- server-wide settings, plus a full-text index over packages.
--
-- Conventions, chosen so that a PostgreSQL port is mostly a copy:
--   * ids are INTEGER PRIMARY KEY (a rowid alias in SQLite; an identity
--     column in PostgreSQL, where times and counters should become BIGINT);
--   * times are INTEGER seconds since the epoch, set by the program, never by
--     a database default, so every backend agrees on the clock it uses;
--   * booleans are INTEGER 0/1 with a CHECK;
--   * ecosystem-specific extras are JSON text in `meta`, `manifest` or
--     `extra` columns; the store never looks inside them;
--   * `ecosystem` is free text (no CHECK): adding an ecosystem must not need
--     a migration;
--   * case-insensitive uniqueness uses a `_lower` column filled by the
--     program (ASCII folding in C), not a collation, so both dialects agree.
-- Only the full-text table and its triggers are SQLite's own.
--
-- The migration runner wraps this file in one transaction and records it in
-- schema_migrations (which it creates itself): no BEGIN/COMMIT here.

-- Accounts. email may be NULL for accounts an admin made without one
-- (UNIQUE allows several NULLs in both dialects). password_hash is Argon2id
-- encoded, NULL when the account has no password (token-only).
CREATE TABLE users (
    id                INTEGER PRIMARY KEY,
    username          TEXT    NOT NULL,
    username_lower    TEXT    NOT NULL UNIQUE,
    email             TEXT,
    email_lower       TEXT    UNIQUE,
    email_verified_at INTEGER,
    password_hash     TEXT,
    is_admin          INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
    disabled          INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);

-- API tokens: only the SHA-256 of the secret (hex) is kept; prefix is the
-- secret's first characters, to recognise it in a list. scopes is
-- space-separated. expires_at and last_used_at are NULL for never.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    hash         TEXT    NOT NULL UNIQUE,
    prefix       TEXT    NOT NULL,
    scopes       TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER,
    UNIQUE (user_id, name)
);

-- Single-use secrets sent by email (address verification, password reset).
-- Only the SHA-256 of the secret is kept, as for API tokens.
CREATE TABLE email_tokens (
    hash       TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT    NOT NULL,       -- 'verify_email', 'reset_password'
    email      TEXT,                   -- the address it was sent to
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX email_tokens_user ON email_tokens (user_id);
CREATE INDEX email_tokens_expires ON email_tokens (expires_at);

-- JWTs revoked before their expiry (logout), by jti, kept until they would
-- have expired anyway; expired rows are deleted opportunistically.
CREATE TABLE revoked_jwts (
    jti        TEXT    PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
CREATE INDEX revoked_jwts_expires ON revoked_jwts (expires_at);

-- Public keys users sign releases with. key_id is the key's fingerprint as
-- signatures name it; a key is revoked (revoked_at set), not deleted, so
-- signatures made with it can still be checked.
CREATE TABLE signing_keys (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key_id     TEXT    NOT NULL UNIQUE,
    algorithm  TEXT    NOT NULL DEFAULT 'ed25519',
    public_key TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
-- A name is unique among a user's live keys only: revoking "laptop" frees
-- the name for the key that replaces it. key_id stays unique for ever, so a
-- revoked key cannot come back.
CREATE UNIQUE INDEX signing_keys_name ON signing_keys (user_id, name) WHERE revoked_at IS NULL;

-- Packages, one row per (ecosystem, name). name is as first published;
-- normalized_name is the ecosystem's canonical form (lower case, and for
-- example '-'/'_'/'.' folded where the ecosystem says they are the same) and
-- is what uniqueness and look-ups use. keywords, categories and tags (pub
-- topics and the like) are JSON arrays of strings; authors is a JSON array
-- of whatever the ecosystem calls an author (strings or objects). The
-- descriptive columns follow the highest version published so far:
-- publishing an old patch does not overwrite them. latest_version is the version text clients get when
-- they ask for no particular one. generation goes up by one in the same
-- transaction as every write to the package or its versions, owners or tags:
-- caches of rendered documents are keyed by it. downloads is the all-time
-- total, written in batches. meta holds ecosystem extras (pub's
-- isDiscontinued/replacedBy, ...).
CREATE TABLE packages (
    id                 INTEGER PRIMARY KEY,
    ecosystem          TEXT    NOT NULL,
    name               TEXT    NOT NULL,
    normalized_name    TEXT    NOT NULL,
    description        TEXT,
    homepage           TEXT,
    repository         TEXT,
    documentation      TEXT,
    license            TEXT,
    keywords           TEXT    NOT NULL DEFAULT '[]',
    categories         TEXT    NOT NULL DEFAULT '[]',
    tags               TEXT    NOT NULL DEFAULT '[]',
    authors            TEXT    NOT NULL DEFAULT '[]',
    readme             TEXT,
    require_signatures INTEGER NOT NULL DEFAULT 0 CHECK (require_signatures IN (0, 1)),
    latest_version     TEXT,
    generation         INTEGER NOT NULL DEFAULT 1,
    downloads          INTEGER NOT NULL DEFAULT 0,
    meta               TEXT    NOT NULL DEFAULT '{}',
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    UNIQUE (ecosystem, normalized_name)
);
-- Lists and rankings (search without a query, the stats page) walk these in
-- order and stop at the page's end, with or without an ecosystem; the
-- (ecosystem, normalized_name) key above serves name order in one ecosystem.
CREATE INDEX packages_name ON packages (normalized_name);
CREATE INDEX packages_updated ON packages (ecosystem, updated_at);
CREATE INDEX packages_updated_all ON packages (updated_at);
CREATE INDEX packages_downloads ON packages (ecosystem, downloads);
CREATE INDEX packages_downloads_all ON packages (downloads);
CREATE INDEX packages_created ON packages (ecosystem, created_at);
CREATE INDEX packages_created_all ON packages (created_at);
-- A search that starts from the full-text index checks each candidate's
-- ecosystem here, in a small index that stays in cache, instead of reading
-- the package row.
CREATE INDEX packages_id_ecosystem ON packages (id, ecosystem);

-- Versions are immutable once published, apart from yanking, retiring and
-- their download count. major/minor/patch/prerelease are the parsed
-- version, for ordering in SQL; prerelease is NULL for a release. sha256 is
-- the tarball's key in the blob store (hex), which is also Hex's outer
-- checksum; other checksums an ecosystem needs (Hex's inner checksum, npm's
-- shasum/integrity) live in manifest, the ecosystem's own metadata as JSON.
-- signature/signing_key_id are NULL for an unsigned release; signing_key_id
-- is signing_keys.key_id, deliberately without a foreign key. retired_reason
-- and retired_message are Hex retirement ('other', 'invalid', 'security',
-- 'deprecated', 'renamed'); npm deprecation maps to reason 'deprecated'.
CREATE TABLE versions (
    id              INTEGER PRIMARY KEY,
    package_id      INTEGER NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
    version         TEXT    NOT NULL,
    major           INTEGER NOT NULL,
    minor           INTEGER NOT NULL,
    patch           INTEGER NOT NULL,
    prerelease      TEXT,
    sha256          TEXT    NOT NULL,
    size            INTEGER NOT NULL,
    manifest        TEXT    NOT NULL DEFAULT '{}',
    signature       TEXT,
    signing_key_id  TEXT,
    publisher_id    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    published_at    INTEGER NOT NULL,
    yanked          INTEGER NOT NULL DEFAULT 0 CHECK (yanked IN (0, 1)),
    yanked_at       INTEGER,
    retired_reason  TEXT,
    retired_message TEXT,
    retired_at      INTEGER,
    downloads       INTEGER NOT NULL DEFAULT 0,
    UNIQUE (package_id, version)
);
CREATE INDEX versions_order ON versions (package_id, major, minor, patch);
CREATE INDEX versions_published ON versions (published_at);
CREATE INDEX versions_publisher ON versions (publisher_id);
CREATE INDEX versions_sha256 ON versions (sha256);

-- What a version needs, as its manifest said it. name is the dependency's
-- name as written; requirement is in the ecosystem's own dialect. kind is
-- 'normal', 'dev', 'optional', 'peer', 'build', ... (free text, like
-- ecosystem). extra holds the rest as JSON (Hex's app/repository, pub's
-- hosted url, ...).
CREATE TABLE dependencies (
    id          INTEGER PRIMARY KEY,
    version_id  INTEGER NOT NULL REFERENCES versions (id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    requirement TEXT    NOT NULL,
    kind        TEXT    NOT NULL DEFAULT 'normal',
    extra       TEXT
);
CREATE INDEX dependencies_version ON dependencies (version_id);
CREATE INDEX dependencies_name ON dependencies (name);

-- Named pointers to versions (npm dist-tags: latest, next, beta ...).
CREATE TABLE dist_tags (
    package_id INTEGER NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
    tag        TEXT    NOT NULL,
    version_id INTEGER NOT NULL REFERENCES versions (id) ON DELETE CASCADE,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (package_id, tag)
);
CREATE INDEX dist_tags_version ON dist_tags (version_id);

-- Who may publish a package. 'owner' may also manage owners; 'maintainer'
-- may publish, yank and retire.
CREATE TABLE owners (
    package_id INTEGER NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    level      TEXT    NOT NULL DEFAULT 'owner' CHECK (level IN ('owner', 'maintainer')),
    added_at   INTEGER NOT NULL,
    PRIMARY KEY (package_id, user_id)
);
CREATE INDEX owners_user ON owners (user_id);

-- Downloads per version per UTC day ('YYYY-MM-DD'), added to in batches.
CREATE TABLE downloads_daily (
    version_id INTEGER NOT NULL REFERENCES versions (id) ON DELETE CASCADE,
    day        TEXT    NOT NULL,
    count      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (version_id, day)
);
CREATE INDEX downloads_daily_day ON downloads_daily (day);

-- Documentation sites, one per package version, stored as one blob (a
-- tarball of the site) under its SHA-256.
CREATE TABLE docs_sites (
    package_id INTEGER NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
    version    TEXT    NOT NULL,
    sha256     TEXT    NOT NULL,
    size       INTEGER,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (package_id, version)
);
CREATE INDEX docs_sites_sha256 ON docs_sites (sha256);

-- What happened, by whom, from where. user_id is NULL for anonymous or
-- system actions; it has no foreign key on purpose: the record outlives the
-- account it names. detail is JSON.
CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    user_id INTEGER,
    action  TEXT    NOT NULL,
    target  TEXT,
    detail  TEXT,
    ip      TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_user ON audit_log (user_id, at);
CREATE INDEX audit_log_target ON audit_log (target, at);

-- Server-wide state and secrets (the JWT key, the Hex repository key,
-- whether registration is open ...), as text.
CREATE TABLE settings (
    key        TEXT    PRIMARY KEY,
    value      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL DEFAULT 0
);

-- Full-text search over packages (SQLite only; PostgreSQL will use a
-- tsvector). It is an external-content index: the text lives in packages,
-- the triggers below keep the index in step. Updates that leave the indexed
-- columns as they were (download counts, generation bumps, a publish that
-- repeats the description) leave it alone. Search text is matched against
-- name, description, keywords and tags; the keywords, tags and categories
-- columns also let the keyword, tag and category filters start from the
-- index instead of reading every package. sqlite.c tokenizes search text
-- with the same tokenizer and arguments: change them together.
CREATE VIRTUAL TABLE packages_fts USING fts5 (
    name,
    description,
    keywords,
    tags,
    categories,
    content = 'packages',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);

CREATE TRIGGER packages_fts_insert AFTER INSERT ON packages BEGIN
    INSERT INTO packages_fts (rowid, name, description, keywords, tags, categories)
    VALUES (new.id, new.name, new.description, new.keywords, new.tags, new.categories);
END;

CREATE TRIGGER packages_fts_delete AFTER DELETE ON packages BEGIN
    INSERT INTO packages_fts (packages_fts, rowid, name, description, keywords, tags, categories)
    VALUES ('delete', old.id, old.name, old.description, old.keywords, old.tags, old.categories);
END;

CREATE TRIGGER packages_fts_update
AFTER UPDATE OF name, description, keywords, tags, categories ON packages
WHEN old.name IS NOT new.name OR old.description IS NOT new.description
  OR old.keywords IS NOT new.keywords OR old.tags IS NOT new.tags
  OR old.categories IS NOT new.categories
BEGIN
    INSERT INTO packages_fts (packages_fts, rowid, name, description, keywords, tags, categories)
    VALUES ('delete', old.id, old.name, old.description, old.keywords, old.tags, old.categories);
    INSERT INTO packages_fts (rowid, name, description, keywords, tags, categories)
    VALUES (new.id, new.name, new.description, new.keywords, new.tags, new.categories);
END;
