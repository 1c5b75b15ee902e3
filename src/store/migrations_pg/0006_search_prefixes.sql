-- 0006_search_prefixes.sql (PostgreSQL) — the twin of src/store/migrations/0006_search_prefixes.sql,
-- which widens SQLite's FTS5 prefix index. PostgreSQL's search (tsvector with prefix matching
-- and pg_trgm, 0001) needs no change; the number keeps both stores' schema versions in step.
SELECT 1;
