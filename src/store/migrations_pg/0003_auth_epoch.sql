-- 0003_auth_epoch.sql (PostgreSQL) — the revocation epoch, the twin of
-- src/store/migrations/0003_auth_epoch.sql.
--
-- A counter that moves whenever a credential may have lost power: a token
-- deleted, a session revoked, a user disabled, demoted, given a new
-- password or deleted. Servers that cache checked credentials read it on
-- every request and drop their cache when it moved. Row-level AFTER
-- triggers move it in the same transaction as the change, once per row
-- changed, exactly as SQLite's triggers do.

INSERT INTO settings (key, value, updated_at) VALUES ('auth_epoch', '0', 0)
    ON CONFLICT (key) DO NOTHING;

CREATE FUNCTION depot_auth_epoch_bump() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE settings SET value = (value::bigint + 1)::text WHERE key = 'auth_epoch';
    RETURN NULL;
END
$$;

CREATE TRIGGER auth_epoch_token_delete AFTER DELETE ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION depot_auth_epoch_bump();

CREATE TRIGGER auth_epoch_jwt_revoke AFTER INSERT ON revoked_jwts
    FOR EACH ROW EXECUTE FUNCTION depot_auth_epoch_bump();

CREATE TRIGGER auth_epoch_user_change AFTER UPDATE OF disabled, is_admin, password_hash ON users
    FOR EACH ROW
    WHEN (OLD.disabled IS DISTINCT FROM NEW.disabled OR OLD.is_admin IS DISTINCT FROM NEW.is_admin
          OR OLD.password_hash IS DISTINCT FROM NEW.password_hash)
    EXECUTE FUNCTION depot_auth_epoch_bump();

CREATE TRIGGER auth_epoch_user_delete AFTER DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION depot_auth_epoch_bump();
