/* store/store_int.h: private to store/ and its tests: the connection struct and the helpers the
 * backend-neutral queries (store/q_*.c) share. The queries reach the database only through
 * store/db.h; nothing here names a backend. */
#ifndef STORE_STORE_INT_H
#define STORE_STORE_INT_H

#include "store/db.h"
#include "store/store.h"

/* One slot per distinct fixed statement (db_stmt_id); each q_*.c owns a range. */
enum store_stmt_id {
    STMT_USER_ADD,
    STMT_USER_SET_HASH,
    STMT_USER_DELETE,
    STMT_USER_GET_HASH,
    STMT_USER_COUNT,
    STMT_USER_LIST,
    STMT_TURN_GET,
    STMT_TURN_ALL,
    STMT__MAX
};

#define STORE_NOTES_MAX 1024 /* "table id\n" lines announced at a commit; more: "* *" */

struct store {
    struct db *db; /* the driver's connection (store/db.h) */
    bool writing;  /* in a write transaction of store_begin() (to commit or rollback) */
    /* The rows the open write transaction wrote, announced to the other processes on the
     * database when it commits (store_note_write; PostgreSQL only). */
    char notes[STORE_NOTES_MAX];
    size_t notes_len;
    bool notes_all; /* more than notes holds: "anything may have changed" */
};

/* Records that the open write transaction wrote row id of table (store.h store_listener). */
void store_note_write(struct store *st, const char *table, const char *id);

/* The cached statement for id (db_stmt_id) or for a text (db_stmt_sql); NULL with *ret_err. */
struct db_stmt *store_stmt(struct store *st, enum store_stmt_id id, const char *sql, int *ret_err);
struct db_stmt *store_stmt_sql(struct store *st, const char *sql, int *ret_err);

/* Every write of the process goes through the queue in store_begin(), DELETE included: a write
 * function called outside a transaction runs in one of its own. store_write_enter() begins it
 * (setting *ret_own) unless the caller's transaction is open; store_write_leave() commits it
 * when r is 0, rolls it back otherwise, and returns r or the commit's error. */
int store_write_enter(struct store *st, bool *ret_own);
int store_write_leave(struct store *st, bool own, int r);

/* Inside a write transaction, before an insert into table: -EDQUOT when the table already holds
 * its cap of rows (store_set_max_rows), else 0 or a store error. */
int store_check_room(struct store *st, const char *table);

/* The WHERE clause of a generic query (store/q_filter.c): its SQL (without "WHERE"; "" for
 * every row) with parameters ?1 .. ?nargs, its arguments, all text, bound in order, and the
 * buffers they point into. scans: a substring filter reads every row. */
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
/* For the dialect d. Returns 0, or -EINVAL (an unknown filter, too many or too long values). */
int store_where_build(enum db_dialect d, const struct store_table *t, const struct store_query *q,
                      struct store_where *w);

/* Wall clock in ms since the epoch, for created_ms/updated_ms. */
int64_t store_now_ms(void);
/* The database's clock in ms since the epoch, as an SQL expression (db.h difference 13). */
const char *store_now_sql(const struct store *st);

#endif
