/* store/migrations.h: the migrations embedded at build time (build/gen/migrations.c, written by
 * scripts/sql2c.sh), one set per backend: the .sql files of schema/ for SQLite, those of
 * schema/pg/ for PostgreSQL (kept in lockstep; the PostgreSQL set may be empty in a build without
 * it). Private to store/ and its tests. */
#ifndef STORE_MIGRATIONS_H
#define STORE_MIGRATIONS_H

struct store_migration {
    const char *name; /* file name, e.g. "0001_init.sql" */
    const char *sql;  /* the whole file */
};

struct store_migration_set {
    const struct store_migration *list; /* count entries, in order: list[i] makes version i+1 */
    unsigned count;
};

extern const struct store_migration_set store_migrations_sqlite;
extern const struct store_migration_set store_migrations_pg;

#endif
