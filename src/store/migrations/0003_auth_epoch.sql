-- A counter that moves whenever a credential may have lost power: a token
-- deleted, a session revoked, a user disabled, demoted or given a new
-- password. Servers that cache checked credentials read it on every
-- request (one primary-key lookup) and drop their cache when it moved, so a
-- revocation made anywhere (the admin CLI, another server) applies at once.
-- Triggers keep it in the same transaction as the change itself.
INSERT INTO settings (key, value, updated_at) VALUES ('auth_epoch', '0', 0)
    ON CONFLICT (key) DO NOTHING;

CREATE TRIGGER auth_epoch_token_delete AFTER DELETE ON api_tokens BEGIN
    UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = 'auth_epoch';
END;

CREATE TRIGGER auth_epoch_jwt_revoke AFTER INSERT ON revoked_jwts BEGIN
    UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = 'auth_epoch';
END;

CREATE TRIGGER auth_epoch_user_change AFTER UPDATE OF disabled, is_admin, password_hash ON users
WHEN old.disabled IS NOT new.disabled OR old.is_admin IS NOT new.is_admin
     OR old.password_hash IS NOT new.password_hash
BEGIN
    UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = 'auth_epoch';
END;

CREATE TRIGGER auth_epoch_user_delete AFTER DELETE ON users BEGIN
    UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = 'auth_epoch';
END;
