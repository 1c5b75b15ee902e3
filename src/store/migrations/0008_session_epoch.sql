-- Each user's session epoch: every session token carries the epoch of its user when it was
-- issued, and a token whose epoch is not the user's current one is over. A password change or
-- reset, disabling and enabling the account each move it by one in the same statement, so every
-- session issued up to that instant ends on every server sharing the store, whatever the clock
-- says (the 0005 timestamp had one-second resolution and spared the sessions of that second).
ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
