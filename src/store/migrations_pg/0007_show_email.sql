-- 0007_show_email.sql (PostgreSQL) — the twin of src/store/migrations/0007_show_email.sql:
-- whether a user lets others see their email address (false by default).
ALTER TABLE users ADD COLUMN show_email BOOLEAN NOT NULL DEFAULT false;
