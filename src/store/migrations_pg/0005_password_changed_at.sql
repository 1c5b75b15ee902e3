-- 0005_password_changed_at.sql (PostgreSQL) — the twin of
-- src/store/migrations/0005_password_changed_at.sql: when each user's password last changed
-- (seconds since the epoch; 0: never); session tokens issued before it are refused.
ALTER TABLE users ADD COLUMN password_changed_at BIGINT NOT NULL DEFAULT 0;
