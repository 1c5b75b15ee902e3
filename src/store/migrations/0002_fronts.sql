-- 0002_fronts.sql — what the npm, Hex and pub fronts need beyond 0001.
--
-- Version status the ecosystems show next to a version, extras computed at
-- publish, removal with tombstones, hosted docs file by file, and pub's
-- two-step uploads. The conventions of 0001_init.sql hold here too (times
-- are INTEGER seconds set by the program, booleans 0/1 with a CHECK, JSON as
-- text the store never looks inside). The runner wraps this file in one
-- transaction: no BEGIN/COMMIT here.

-- extra: ecosystem extras computed at publish (npm shasum and integrity,
-- Hex's inner checksum ...), a JSON object. deprecated: npm's deprecation
-- message, NULL when not deprecated (it no longer borrows Hex's
-- retired_reason, so a version can be both, as the two fronts see it).
-- retracted: pub's retraction.
ALTER TABLE versions ADD COLUMN extra TEXT NOT NULL DEFAULT '{}';
ALTER TABLE versions ADD COLUMN deprecated TEXT;
ALTER TABLE versions ADD COLUMN retracted INTEGER NOT NULL DEFAULT 0 CHECK (retracted IN (0, 1));

-- Versions removed for good (npm unpublish, Hex revert when asked): the
-- same version text of the same package can never be published again, so
-- a client that cached its tarball never meets different bytes under it.
-- The row goes with its package.
CREATE TABLE version_tombstones (
    package_id INTEGER NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
    version    TEXT    NOT NULL,
    deleted_at INTEGER NOT NULL,
    PRIMARY KEY (package_id, version)
);

-- The files of a docs site (docs_sites in 0001 keeps the uploaded archive):
-- each path in the site with the blob holding its bytes, so a page is
-- served without opening the archive. The rows go with their site.
CREATE TABLE docs_files (
    package_id INTEGER NOT NULL,
    version    TEXT    NOT NULL,
    path       TEXT    NOT NULL,
    sha256     TEXT    NOT NULL,
    size       INTEGER NOT NULL,
    PRIMARY KEY (package_id, version, path),
    FOREIGN KEY (package_id, version) REFERENCES docs_sites (package_id, version) ON DELETE CASCADE
);
CREATE INDEX docs_files_sha256 ON docs_files (sha256);

-- Two-step uploads (pub): the client is handed an id, sends the bytes
-- (sha256 and size are set then), and finalizes; result is the published
-- version or, with failed = 1, the error to show. id is random and
-- URL-safe. user_id is NULL when the upload has no account behind it.
-- Rows past expires_at are deleted in batches.
CREATE TABLE uploads (
    id         TEXT    NOT NULL PRIMARY KEY,
    user_id    INTEGER REFERENCES users (id) ON DELETE CASCADE,
    ecosystem  TEXT    NOT NULL,
    sha256     TEXT,
    size       INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    result     TEXT,
    failed     INTEGER NOT NULL DEFAULT 0 CHECK (failed IN (0, 1))
);
CREATE INDEX uploads_user ON uploads (user_id);
CREATE INDEX uploads_expires ON uploads (expires_at);
