-- 0004_ecosystem_generation.sql (PostgreSQL) — one counter per ecosystem,
-- the twin of src/store/migrations/0004_ecosystem_generation.sql.
--
-- It moves whenever any package of the ecosystem changes: a new package, a
-- removed one, or any change that bumps a package's generation. Documents
-- that span a whole ecosystem (Hex's /names and /versions) are stamped with
-- it. It moves exactly as much as SQLite's triggers move it: once per
-- package row inserted or deleted, and once per package row an UPDATE that
-- sets generation touches (whatever the value), in the same transaction.
--
-- SQLite updates its settings row in place; PostgreSQL writes a new row
-- version for every update, and one transaction updating one row many
-- times (bump_generations over every package, a bulk import) walks an
-- ever longer chain of versions: quadratic. So the row-level triggers only
-- count, in a transaction-local setting, and one statement-level trigger
-- per statement adds the counts to settings, one row per ecosystem.
INSERT INTO settings (key, value, updated_at)
    SELECT DISTINCT 'eco_gen:' || ecosystem, '1', 0 FROM packages
    ON CONFLICT (key) DO NOTHING;

-- Per row: add one to the statement's count for the row's ecosystem.
CREATE FUNCTION depot_eco_gen_count() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    eco text := CASE WHEN TG_OP = 'DELETE' THEN OLD.ecosystem ELSE NEW.ecosystem END;
    pending jsonb := coalesce(nullif(current_setting('depot.eco_gen_pending', true), ''),
                              '{}')::jsonb;
BEGIN
    pending := jsonb_set(pending, ARRAY[eco],
                         to_jsonb(coalesce((pending ->> eco)::bigint, 0) + 1));
    PERFORM set_config('depot.eco_gen_pending', pending::text, true);
    RETURN NULL;
END
$$;

-- Per statement (after its rows): the counts go to settings, a key that is
-- not there yet starting from 0 (as SQLite's first '1' and then +1 do).
CREATE FUNCTION depot_eco_gen_flush() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    pending text := current_setting('depot.eco_gen_pending', true);
BEGIN
    IF pending IS NULL OR pending IN ('', '{}') THEN
        RETURN NULL;
    END IF;
    PERFORM set_config('depot.eco_gen_pending', '{}', true);
    INSERT INTO settings (key, value, updated_at)
        SELECT 'eco_gen:' || e.key, e.value, 0 FROM jsonb_each_text(pending::jsonb) AS e
        ON CONFLICT (key) DO UPDATE
            SET value = (settings.value::bigint + excluded.value::bigint)::text;
    RETURN NULL;
END
$$;

CREATE TRIGGER eco_gen_insert AFTER INSERT ON packages
    FOR EACH ROW EXECUTE FUNCTION depot_eco_gen_count();
CREATE TRIGGER eco_gen_update AFTER UPDATE OF generation ON packages
    FOR EACH ROW EXECUTE FUNCTION depot_eco_gen_count();
CREATE TRIGGER eco_gen_delete AFTER DELETE ON packages
    FOR EACH ROW EXECUTE FUNCTION depot_eco_gen_count();

CREATE TRIGGER eco_gen_insert_flush AFTER INSERT ON packages
    FOR EACH STATEMENT EXECUTE FUNCTION depot_eco_gen_flush();
CREATE TRIGGER eco_gen_update_flush AFTER UPDATE OF generation ON packages
    FOR EACH STATEMENT EXECUTE FUNCTION depot_eco_gen_flush();
CREATE TRIGGER eco_gen_delete_flush AFTER DELETE ON packages
    FOR EACH STATEMENT EXECUTE FUNCTION depot_eco_gen_flush();
