-- One counter per ecosystem that moves whenever any of its packages changes (a new package, a
-- removed one, or any change that bumps a package's generation). Documents that span a whole
-- ecosystem (Hex's /names and /versions) are stamped with it, so a read costs one primary-key
-- lookup instead of a scan. Triggers keep it in the same transaction as the change.
INSERT INTO settings (key, value, updated_at)
    SELECT DISTINCT 'eco_gen:' || ecosystem, '1', 0 FROM packages WHERE true
    ON CONFLICT (key) DO NOTHING;

CREATE TRIGGER eco_gen_insert AFTER INSERT ON packages BEGIN
    INSERT INTO settings (key, value, updated_at) VALUES ('eco_gen:' || new.ecosystem, '1', 0)
        ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1;
END;

CREATE TRIGGER eco_gen_update AFTER UPDATE OF generation ON packages BEGIN
    INSERT INTO settings (key, value, updated_at) VALUES ('eco_gen:' || new.ecosystem, '1', 0)
        ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1;
END;

CREATE TRIGGER eco_gen_delete AFTER DELETE ON packages BEGIN
    INSERT INTO settings (key, value, updated_at) VALUES ('eco_gen:' || old.ecosystem, '1', 0)
        ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1;
END;
