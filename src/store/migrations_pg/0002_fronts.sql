-- 0002_fronts.sql (PostgreSQL) — what the npm, Hex and pub fronts need
-- beyond 0001: the twin of src/store/migrations/0002_fronts.sql.
--
-- Version status (npm deprecation, pub retraction) and extras computed at
-- publish, removal with tombstones, hosted docs file by file, and pub's
-- two-step uploads. The conventions of this folder's 0001_init.sql hold
-- (BIGINT times set by the program, BOOLEAN flags, text COLLATE "C", JSON
-- as text the store never looks inside). The runner wraps this file in one
-- transaction: no BEGIN/COMMIT here.

ALTER TABLE versions ADD COLUMN extra TEXT COLLATE "C" NOT NULL DEFAULT '{}';
ALTER TABLE versions ADD COLUMN deprecated TEXT COLLATE "C";
ALTER TABLE versions ADD COLUMN retracted BOOLEAN NOT NULL DEFAULT false;

-- Versions removed for good (npm unpublish, Hex revert when asked): the
-- same version text of the same package can never be published again.
CREATE TABLE version_tombstones (
    package_id BIGINT NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
    version    TEXT   COLLATE "C" NOT NULL,
    deleted_at BIGINT NOT NULL,
    PRIMARY KEY (package_id, version)
);

-- The files of a docs site: each path in the site with the blob holding
-- its bytes. The rows go with their site.
CREATE TABLE docs_files (
    package_id BIGINT NOT NULL,
    version    TEXT   COLLATE "C" NOT NULL,
    path       TEXT   COLLATE "C" NOT NULL,
    sha256     TEXT   COLLATE "C" NOT NULL,
    size       BIGINT NOT NULL,
    CONSTRAINT docs_files_pkey PRIMARY KEY (package_id, version, path),
    FOREIGN KEY (package_id, version) REFERENCES docs_sites (package_id, version) ON DELETE CASCADE
);
CREATE INDEX docs_files_sha256 ON docs_files (sha256);

-- Two-step uploads (pub); see SQLite's 0002_fronts.sql.
CREATE TABLE uploads (
    id         TEXT    COLLATE "C" NOT NULL,
    user_id    BIGINT  REFERENCES users (id) ON DELETE CASCADE,
    ecosystem  TEXT    COLLATE "C" NOT NULL,
    sha256     TEXT    COLLATE "C",
    size       BIGINT  NOT NULL DEFAULT 0,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL,
    result     TEXT    COLLATE "C",
    failed     BOOLEAN NOT NULL DEFAULT false,
    CONSTRAINT uploads_pkey PRIMARY KEY (id)
);
CREATE INDEX uploads_user ON uploads (user_id);
CREATE INDEX uploads_expires ON uploads (expires_at);
