/* store/sqlite/store_int.h: private to store/ and its tests: the connection struct, the prepared
 * statement cache and the SQLite error map shared by the q_*.c files. */
#ifndef STORE_STORE_INT_H
#define STORE_STORE_INT_H

#include <sqlite3.h>

#include "store/store.h"

/* One slot per distinct statement; each q_*.c owns a range. */
enum store_stmt_id {
    STMT_USER_ADD,
    STMT_USER_SET_HASH,
    STMT_USER_DELETE,
    STMT_USER_GET_HASH,
    STMT_USER_COUNT,
    STMT_USER_LIST,
    STMT_TURN_GET,
    STMT_TURN_ALL,
    STMT_BEGIN_READ,
    STMT_BEGIN_WRITE,
    STMT_COMMIT,
    STMT_ROLLBACK,
    STMT__MAX
};

#define STORE_SQL_CACHE 48

struct sql_slot {
    char *sql;
    sqlite3_stmt *stmt;
    uint64_t used;
};

struct store {
    sqlite3 *db;
    sqlite3_stmt *stmts[STMT__MAX];       /* prepared on first use, kept until store_close() */
    struct sql_slot sql[STORE_SQL_CACHE]; /* statements built at run time, by their text */
    uint64_t clock;
    bool read_only; /* opened immutable: the data directory cannot be written */
    bool writing;   /* holds the process's write lock (store_begin to commit or rollback) */
};

/* Like store_stmt() for SQL built at run time: cached by its text (least recently used
 * replaced). */
sqlite3_stmt *store_stmt_sql(struct store *st, const char *sql, int *ret_err);

/* Returns the cached statement for 'id', preparing 'sql' on first use, or NULL (the cause is in
 * *ret_err as -errno). The statement is reset and unbound; call store_stmt_done() after use. */
sqlite3_stmt *store_stmt(struct store *st, enum store_stmt_id id, const char *sql, int *ret_err);
void store_stmt_done(sqlite3_stmt *stmt);

/* Maps a SQLite result code to the negative errno contract of store.h. */
int store_err(int sqlite_rc);

/* Binds text, or NULL when 's' is empty (store.h: empty means not set). */
int store_bind_opt_text(sqlite3_stmt *stmt, int idx, const char *s);
/* Copies column text (or "" for NULL) into dst of size n; -EIO if it does not fit. */
int store_copy_text(sqlite3_stmt *stmt, int col, char *dst, size_t n);

/* Every write of the process goes through the queue in store_begin(), DELETE included: a write
 * function called outside a transaction runs in one of its own. store_write_enter() begins it
 * (setting *ret_own) unless the caller's transaction is open; store_write_leave() commits it
 * when r is 0, rolls it back otherwise, and returns r or the commit's error. */
int store_write_enter(struct store *st, bool *ret_own);
int store_write_leave(struct store *st, bool own, int r);

/* Inside a write transaction, before an insert into table: -EDQUOT when the table already holds
 * its cap of rows (store_set_max_rows), else 0 or a store error. */
int store_check_room(struct store *st, const char *table);

/* The WHERE clause of a generic query (store/sqlite/q_filter.c): its SQL (without "WHERE"; "" for
 * every row), its arguments, all text, bound in order to its '?', and the buffers they point
 * into. scans: a substring filter reads every row. */
#define STORE_WHERE_ARGS 16
#define STORE_WHERE_PATTERNS 4
struct store_where {
    char sql[1280];
    const char *args[STORE_WHERE_ARGS];
    size_t nargs;
    char phrase[2 * STORE_TEXT_MAX + 8]; /* one indexed filter at a time */
    char pattern[STORE_WHERE_PATTERNS][2 * STORE_TEXT_MAX + 4];
    size_t npatterns;
    char seq[2][24];
    bool scans;
};
/* Returns 0, or -EINVAL (an unknown filter, too many or too long values). */
int store_where_build(const struct store_table *t, const struct store_query *q,
                      struct store_where *w);

/* Wall clock in ms since the epoch, for created_ms/updated_ms. */
int64_t store_now_ms(void);
/* Maps a finished sqlite3_step() result: SQLITE_DONE is 0, anything else a negative errno. */
int store_step_err(int rc);
/* Steps a "SELECT count(*) ..." statement: the count in *ret_count, 0 or a negative errno. */
int store_step_count(sqlite3_stmt *stmt, size_t *ret_count);

#endif
