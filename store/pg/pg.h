/* store/pg/pg.h: the PostgreSQL driver's pure helpers, private to store/pg/ and its tests (suite
 * pg). The driver itself is db_pg_ops (store/db.h). */
#ifndef STORE_PG_PG_H
#define STORE_PG_PG_H

#include <stddef.h>

/* Rewrites db.h's "?N" parameters to PostgreSQL's "$N", leaving string literals ('...' with ''
 * inside), quoted identifiers ("...") and comments (-- to the end of the line, nested block
 * comments) as they are. On success *ret_sql is a malloc()ed string (the caller frees it) and
 * *ret_nparams the highest N (0 without parameters). Returns 0, -EINVAL (a plain "?", ?0 or
 * N > DB_MAX_PARAMS outside quotes) or -ENOMEM; nothing is written on failure. */
int pg_rewrite_params(const char *sql, char **ret_sql, int *ret_nparams);
/* libpq's message of a failed connection to location, for an operator: on one line, with the
 * location's password (as libpq parses it, and as written in a URI's user:password@) replaced by
 * asterisks wherever it appears. Writes at most cap bytes to out, NUL-terminated. */
void pg_open_reason(const char *location, const char *message, char *out, size_t cap);
/* The negative errno of a SQLSTATE (store/db.h's map; class 08 and 57P01..57P03: -ENOTCONN); -EIO
 * for any other or NULL. */
int pg_errno_of_sqlstate(const char *state);

#endif
