/* store/sqlite/migrations.h: the schema/ migrations embedded at build time (build/gen/migrations.c,
 * written by scripts/sql2c.sh). Private to store/ and its tests. */
#ifndef STORE_MIGRATIONS_H
#define STORE_MIGRATIONS_H

struct store_migration {
    const char *name; /* file name, e.g. "0001_init.sql" */
    const char *sql;  /* the whole file */
};

extern const struct store_migration store_migrations[];
extern const unsigned store_migrations_count;

#endif
