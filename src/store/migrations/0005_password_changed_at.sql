-- When each user's password last changed (seconds since the epoch; 0: never). A session token
-- issued before it is refused, so changing or resetting a password ends every other session of
-- that account, on every server (the auth_epoch trigger of 0003 already drops cached checks).
ALTER TABLE users ADD COLUMN password_changed_at INTEGER NOT NULL DEFAULT 0;
