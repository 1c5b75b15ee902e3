-- 0008_session_epoch.sql (PostgreSQL) — the twin of src/store/migrations/0008_session_epoch.sql:
-- each user's session epoch, carried in every session token; a password change or reset,
-- disabling and enabling move it, ending every session issued before.
ALTER TABLE users ADD COLUMN session_epoch BIGINT NOT NULL DEFAULT 0;
