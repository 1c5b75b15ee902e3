/*
 * migrations.h — the schema's versions, compiled in from src/store/migrations/
 * (NNNN_name.sql, applied in order, each in its own transaction; the applied
 * versions are recorded in schema_migrations).
 */
#ifndef DEPOT_MIGRATIONS_H
#define DEPOT_MIGRATIONS_H

struct migration {
    int version;
    const char *name;
    const char *sql;
};

extern const struct migration migrations[];
extern const int migrations_count;

/* PostgreSQL's twins, from src/store/migrations_pg/ (same numbers, same meaning). */
extern const struct migration pg_migrations[];
extern const int pg_migrations_count;

#endif
