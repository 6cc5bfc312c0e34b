/* store/db.h: the database driver interface, private to store/ and its tests. The queries
 * (store/q_*.c, store/store.c) are written once against it; each backend implements it:
 * store/sqlite/ (db_sqlite_ops, always built) and store/pg/ (db_pg_ops, built when libpq is).
 *
 * DESIGN
 * - A driver is a table of functions (struct db_ops). A connection is a struct db, which the
 *   driver allocates with struct db as its FIRST member (so a struct db * is also a pointer to
 *   the driver's own struct) and fills with db_init(). A statement likewise embeds struct
 *   db_stmt first. The generic wrappers below (db_bind_text(), db_step(), ...) check nothing
 *   but dispatch through db->ops; call them, never the ops directly.
 * - Statements are cached per connection here, not in the drivers: by a small id (fixed SQL,
 *   db_stmt_id()) and by SQL text (SQL built at run time, db_stmt_sql(), least recently used
 *   replaced). A driver only prepares and finalizes; db_close() finalizes the cache before
 *   ops->close.
 * - One connection is used by one thread at a time (store.h); nothing here locks.
 *
 * SQL TEXT CONVENTION (the same text goes to both drivers)
 * - Parameters are SQLite's numbered "?N": 1-based, every number from ?1 to the highest used
 *   at least once (no gaps: PostgreSQL cannot type a parameter it never sees), N <=
 *   DB_MAX_PARAMS; a number may appear several times. No plain "?", ":name" or "$N". The
 *   PostgreSQL driver rewrites each ?N to $N outside string literals ('...', '' inside),
 *   quoted identifiers ("...") and comments. A statement is one SQL command (no ';'), except
 *   the scripts given to db_exec(), which have no parameters.
 * - Types: 't' columns are text, 'i' columns 64-bit integers (booleans are 0/1 integers, not a
 *   boolean type, so "x = 1" works in both), 'b' columns blobs (PostgreSQL: bytea). Every table
 *   has "seq" (SQLite: INTEGER PRIMARY KEY, the rowid; PostgreSQL: bigint identity) giving
 *   creation order. A parameter's type follows the bind call: text, int64 or blob; a driver
 *   that needs types at prepare time (PostgreSQL) lets the server infer them, so SQL gives a
 *   parameter a context ("CAST(?1 AS BIGINT)", "x = ?1") where it would otherwise be unknown:
 *   "?2 IS NULL" alone fails to prepare there; write "CAST(?2 AS TEXT) IS NULL".
 * - Both dialects take: "IS NOT DISTINCT FROM" (not SQLite's "IS" between values), "||",
 *   coalesce, lower, CAST(... AS BIGINT), LIMIT/OFFSET, "INSERT ... RETURNING", UNION, CASE,
 *   sub-selects, "ESCAPE '\'" (PostgreSQL with standard_conforming_strings on, its default).
 *
 * WHERE THE DIALECTS DIFFER (each place asks db_dialect(); keep this list complete)
 * 1. Case-insensitive equality: SQLite "x = ?1 COLLATE NOCASE" (served by NOCASE indexes);
 *    PostgreSQL "lower(x) = lower(?1)" (schema/pg indexes lower(x)). db_eq_nocase().
 * 2. Substring filters (q_filter.c): SQLite "x LIKE ?1 ESCAPE '\'" ignores ASCII case;
 *    PostgreSQL needs ILIKE. db_like() gives the operator.
 * 3. Indexed substring search of coSpaces (q_filter.c): SQLite an FTS5 trigram table
 *    (schema/0003, "cospace_search MATCH ?"); PostgreSQL has no such form: its filter is the
 *    ILIKE scan, which a pg_trgm GIN index in schema/pg may serve.
 * 4. Substring position (the TURN server filter): SQLite instr(a, b), PostgreSQL strpos(a, b).
 * 5. The CDR outbox's last index ever given (q_cdr.c): SQLite reads sqlite_sequence
 *    (AUTOINCREMENT); PostgreSQL reads cdr_record.record_index's identity sequence with
 *    pg_sequence_last_value(pg_get_serial_sequence('cdr_record', 'record_index')).
 * 6. Inside the drivers only: transaction statements (db_begin), the schema version
 *    (SQLite PRAGMA user_version, PostgreSQL a table), PRAGMAs, busy handling, read-only
 *    opening, backup (SQLite only: ops->backup NULL elsewhere, store_backup() -ENOTSUP).
 * 7. Text order and case: SQLite compares text by bytes (ORDER BY name of API users) and its
 *    lower(), LIKE and NOCASE fold ASCII only; PostgreSQL orders by the database's collation
 *    (the same as SQLite under C or C.UTF-8, which the tests' servers use; another locale
 *    orders differently unless schema/pg pins the column COLLATE "C") and folds all of
 *    Unicode.
 * 8. Concurrency: SQLite serializes every writer of the file (DB_TX_WRITE takes its lock), so
 *    a check before an insert (store_row_taken) holds until the commit. PostgreSQL writers run
 *    side by side (READ COMMITTED): two nodes can pass the same check, and only a constraint
 *    decides: every "taken" rule of the API is one (schema/0011_unique.sql: unique indexes, and
 *    the claim table space_address for the coSpace addresses that span columns and tables), and
 *    the API runs a request again when its write meets one (api/res/resource.c), so that its
 *    check names the reason. A trigger or statement refused by a constraint aborts the whole
 *    PostgreSQL transaction: nothing after it in that transaction can run.
 * 9. A row read to be rewritten (store_row_get inside store_begin's transaction): PostgreSQL
 *    reads it "FOR UPDATE", so that two PUTs to one object queue instead of the second
 *    overwriting the first's fields with what it read before; SQLite's write lock already
 *    queues them.
 * 10. Several processes on one database (store.c, PostgreSQL only; SQLite has one process per
 *    file and needs neither): a write transaction names the rows it wrote in
 *    "SELECT pg_notify('callbridge', ?1)" before its COMMIT, heard through ops->listen,
 *    ->socket and ->notifications (store_listener); and the change mark is a hash of
 *    pg_current_snapshot(), pg_postmaster_start_time() and the server's address
 *    (store_change_mark).
 * 11. Row caps (store_check_room): PostgreSQL takes a transaction-scoped advisory lock per
 *    capped table (pg_advisory_xact_lock(class, the table's oid)) before counting, so that the
 *    writers of one capped table on every node count and commit one at a time and a cap is
 *    never passed; SQLite's write lock already serializes them. The price: inserts into a
 *    capped table (coSpaces, tenants, ... : api/config.c's caps) queue on each other from the
 *    count to the commit across the cluster.
 * 12. Planner statistics (store_analyze): after a write of many rows in one transaction
 *    (bulk and LDAP syncs) PostgreSQL runs ANALYZE, as plans made while a table was small
 *    (generic plans of prepared statements, plpgsql's) would otherwise scan it whole until
 *    autovacuum analyzes it; SQLite needs nothing.
 * 13. The database's clock in ms since the epoch (q_cluster.c, heartbeats compared across
 *    nodes): SQLite "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)", PostgreSQL
 *    "CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT)". The cluster's own queries
 *    (pg_stat_replication, advisory locks) run on PostgreSQL only (-ENOTSUP on SQLite).
 * Also: LIMIT and OFFSET take values up to INT64_MAX (SQLite reads a negative LIMIT as none,
 * PostgreSQL refuses it). No query uses "INSERT OR ...", "ON CONFLICT", rowid (except 3.) or
 * SQLite's typeless comparisons (the triggers of schema/pg/0011 use ON CONFLICT inside the
 * server; each migration set is written in its own dialect).
 *
 * ERRORS: every int function returns 0 (db_step: DB_ROW or DB_DONE, both >= 0) or a negative
 * errno from store.h's contract. A driver maps its codes so:
 *   unique or primary key violation                  -EEXIST
 *   foreign key, check or not-null violation          -EINVAL
 *   busy or locked (timeout ran out: PostgreSQL's lock_timeout)  -EBUSY
 *   serialization failure or deadlock: the transaction was     -EDEADLK
 *   rolled back for another's sake; run it again from its start
 *   read-only database or transaction                -EROFS
 *   disk full                                         -ENOSPC
 *   out of memory                                     -ENOMEM
 *   connection lost or refused when reconnecting,    -ENOTCONN
 *   or no server to write to
 *   anything else                                     -EIO
 * (PostgreSQL SQLSTATEs: 23505 -EEXIST; 23503, 23514, 23502 -EINVAL; 55P03 -EBUSY; 40001,
 * 40P01 -EDEADLK; 25006 -EROFS; 53100 -ENOSPC; 53200 -ENOMEM; class 08, 57P01..57P03 -ENOTCONN.) */
#ifndef STORE_DB_H
#define STORE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DB_MAX_PARAMS 99 /* highest ?N a statement may use */
#define DB_STMT_IDS 16   /* statement ids 0 .. DB_STMT_IDS-1 (store_int.h enum store_stmt_id) */
#define DB_SQL_CACHE 48  /* statements kept by text per connection */

enum db_dialect {
    DB_DIALECT_SQLITE,
    DB_DIALECT_PG,
};

/* db_step()'s successes */
enum {
    DB_DONE = 0, /* no (more) rows: the statement ran to its end */
    DB_ROW = 1,  /* a result row is ready for db_column_*() */
};

/* db_begin()'s kinds */
enum db_tx {
    /* A read snapshot: every statement until db_rollback()/db_commit() sees the same data
     * (SQLite: BEGIN, the snapshot taken at the first read; PostgreSQL: BEGIN ISOLATION LEVEL
     * REPEATABLE READ, READ ONLY). */
    DB_TX_READ,
    /* A write: SQLite queues behind the process's other writers, then BEGIN IMMEDIATE (the
     * database's write lock, -EBUSY after the busy timeout); PostgreSQL: BEGIN (READ
     * COMMITTED; constraints, not locks, keep values unique). */
    DB_TX_WRITE,
    /* A schema change (migrations): as DB_TX_WRITE, and exclusive against every other
     * process's DB_TX_SCHEMA on the same database until it ends, so two daemons starting at
     * once do not both migrate (PostgreSQL: pg_advisory_xact_lock). */
    DB_TX_SCHEMA,
};

struct db;
struct db_ops;
struct db_stmt;

/* A cached statement slot, by text. */
struct db_sql_slot {
    char *sql; /* malloc()ed copy of the text; NULL when the slot is free */
    struct db_stmt *stmt;
    uint64_t used;
};

/* One connection. Drivers embed it as the first member of their own struct. */
struct db {
    const struct db_ops *ops;
    struct db_stmt *by_id[DB_STMT_IDS];   /* prepared on first use, kept until db_close() */
    struct db_sql_slot sql[DB_SQL_CACHE]; /* statements built at run time, by their text */
    uint64_t clock;
    /* set by the driver's open: every write will fail (-EROFS; PostgreSQL, a standby read
     * while no read-write server answers: -ENOTCONN, and false again once one answers) */
    bool read_only;
};

/* One prepared statement. Drivers embed it as the first member of their own struct. */
struct db_stmt {
    struct db *db;
};

/* The driver's functions. Each must be set unless its comment says NULL is allowed.
 * Text given to bind functions is copied by the driver before they return. Pointers returned
 * by column functions stay valid until the next step, reset or finalize of that statement. */
struct db_ops {
    const char *name; /* "sqlite", "postgresql": for messages */
    enum db_dialect dialect;

    /* Connects to location (a file path, a URI or a libpq conninfo; the driver's own syntax)
     * and prepares the connection for use (SQLite: WAL, foreign keys, busy timeout). Does not
     * migrate: store.c does, through exec/begin/schema_version. On success *ret_db is a
     * db_init()ed connection, released with close. Returns 0, -ENOMEM, -EROFS, -EIO, ...;
     * PostgreSQL: -EACCES when the server asked for a password and refused the connection (a
     * wrong or missing password, or after it a role or database it does not have),
     * -ECONNREFUSED when no server answered (refused, unreachable, connect_timeout); when no
     * read-write server answers but a standby of a multi-host location does, 0 with read_only
     * set (writes -ENOTCONN until a read-write server answers). */
    int (*open)(const char *location, struct db **ret_db);
    /* Closes the connection and frees it (db_close() has already finalized every cached
     * statement). A transaction still open is rolled back, and a write's lock released. NULL
     * is a no-op. */
    void (*close)(struct db *db);

    /* Prepares one SQL command in the convention above. On success *ret_stmt (stmt->db set)
     * is owned by the caller (db.c's cache), released with finalize. */
    int (*prepare)(struct db *db, const char *sql, struct db_stmt **ret_stmt);
    void (*finalize)(struct db_stmt *stmt); /* NULL is a no-op */
    /* Ends the current execution and clears every binding (they become NULL); the statement
     * can be bound and stepped again. Never fails. */
    void (*reset)(struct db_stmt *stmt);

    /* Binds parameter ?idx (1-based). Returns 0, -EINVAL (idx out of range) or -ENOMEM.
     * bind_text's s is NUL-terminated and not NULL; bind_blob's b may be NULL when len is 0. */
    int (*bind_null)(struct db_stmt *stmt, int idx);
    int (*bind_text)(struct db_stmt *stmt, int idx, const char *s);
    int (*bind_int64)(struct db_stmt *stmt, int idx, int64_t v);
    int (*bind_blob)(struct db_stmt *stmt, int idx, const void *b, size_t len);

    /* Runs the statement, or moves to its next row: DB_ROW, DB_DONE or a negative errno (the
     * map above). After DB_DONE or an error, the statement must be reset before it runs
     * again. A driver may run the whole statement at the first step and buffer its rows. */
    int (*step)(struct db_stmt *stmt);

    /* The current row's columns (0-based). Out-of-range columns read as NULL. */
    int (*column_count)(struct db_stmt *stmt);
    bool (*column_is_null)(struct db_stmt *stmt, int col);
    /* NUL-terminated text; NULL for SQL NULL. An integer column reads as its decimal text. */
    const char *(*column_text)(struct db_stmt *stmt, int col);
    /* 0 for NULL; a text column is converted as SQLite does (leading digits). */
    int64_t (*column_int64)(struct db_stmt *stmt, int col);
    /* The bytes of a blob (or of text); NULL for SQL NULL or an empty value. */
    const void *(*column_blob)(struct db_stmt *stmt, int col);
    /* The length in bytes of column_blob() or column_text() (without the NUL). */
    size_t (*column_bytes)(struct db_stmt *stmt, int col);

    /* Rows inserted, updated or deleted by the last statement stepped to DB_DONE on this
     * connection. */
    int64_t (*changes)(struct db *db);
    /* Runs a script of one or more ';'-separated commands without parameters or results
     * (a migration, settings). Returns 0 or a negative errno; on failure a transaction open
     * before the call is still open, in whatever state the backend leaves it (roll it back). */
    int (*exec)(struct db *db, const char *script);

    /* Transactions: begin one of enum db_tx (-EBUSY if it cannot be had in time); commit
     * (on failure the transaction is rolled back and ended, and any lock of DB_TX_WRITE
     * released); rollback is a no-op outside a transaction and always ends it. */
    int (*begin)(struct db *db, enum db_tx kind);
    int (*commit)(struct db *db);
    void (*rollback)(struct db *db);
    bool (*in_transaction)(struct db *db);

    /* The number of migrations applied: 0 for a new, empty database. set_schema_version runs
     * inside the caller's DB_TX_SCHEMA transaction (PostgreSQL creates its version table
     * there if needed). */
    int (*schema_version)(struct db *db, int *ret_version);
    int (*set_schema_version)(struct db *db, int version);

    /* Writes a consistent copy to dest_path (store_backup()'s contract). NULL: not supported
     * (store_backup() answers -ENOTSUP). */
    int (*backup)(struct db *db, const char *dest_path);

    /* Notifications between processes sharing the database (PostgreSQL's LISTEN/NOTIFY), for
     * store_listener; NULL when the backend has none (SQLite: one process writes a file).
     * listen subscribes the connection to channel (outside a transaction). socket is a
     * descriptor to poll for input, -1 when the connection is lost. notifications reads what
     * arrived, without blocking, and calls fn with each payload in order; -ENOTCONN when the
     * connection is lost (what was sent meanwhile is lost with it). */
    int (*listen)(struct db *db, const char *channel);
    int (*socket)(struct db *db);
    int (*notifications)(struct db *db, void (*fn)(const char *payload, void *userdata),
                         void *userdata);
};

/* The drivers. db_pg_ops exists only when built with STORE_WITH_PG (the Makefile defines it
 * when store/pg/ and libpq are present). */
extern const struct db_ops db_sqlite_ops;
#ifdef STORE_WITH_PG
extern const struct db_ops db_pg_ops;
#endif

/* ---- choosing a driver (store/db.c) ------------------------------------------------------- */

/* Which backend a store location names: a location starting "postgresql://" or "postgres://",
 * or a libpq key=value string starting "host=" or "dbname=", is PostgreSQL's; anything else is
 * a SQLite file path. Pure; NULL is SQLite's (and fails to open). */
enum db_dialect db_location_dialect(const char *location);
/* The driver for location: 0 and *ret_ops, or -EPROTONOSUPPORT when location is PostgreSQL's
 * and this build has no PostgreSQL driver. */
int db_driver_for(const char *location, const struct db_ops **ret_ops);
/* Opens location with its driver (db_driver_for, then ops->open). */
int db_open(const char *location, struct db **ret_db);
/* Finalizes every cached statement and closes the connection. NULL is a no-op. */
void db_close(struct db *db);

/* Why the calling thread's last db_open() failed, for an operator ("" when the driver said
 * nothing more than its errno); never a password. Drivers set it with db_set_open_error()
 * (copied, truncated to 511 bytes); db_open() clears it first. */
const char *db_open_error(void);
void db_set_open_error(const char *reason);

/* For drivers: sets up the generic part of a freshly allocated connection (zeroed cache). */
void db_init(struct db *db, const struct db_ops *ops);

/* ---- statements (store/db.c) ---------------------------------------------------------------- */

/* The cached statement for id (0 <= id < DB_STMT_IDS), preparing sql on first use; the same id
 * must always come with the same sql. NULL with *ret_err set (negative errno) on failure. The
 * statement is reset and unbound; hand it back with db_stmt_done() after use. */
struct db_stmt *db_stmt_id(struct db *db, unsigned id, const char *sql, int *ret_err);
/* The same for SQL built at run time: cached by its text (least recently used replaced). */
struct db_stmt *db_stmt_sql(struct db *db, const char *sql, int *ret_err);
/* Resets the statement and clears its bindings, for its next use. NULL is a no-op. */
void db_stmt_done(struct db_stmt *stmt);

/* ---- the driver's functions, through db->ops (store/db.c) -------------------------------- */
enum db_dialect db_dialect(const struct db *db);
int db_bind_null(struct db_stmt *stmt, int idx);
int db_bind_text(struct db_stmt *stmt, int idx, const char *s); /* s NULL: binds NULL */
/* Binds text, or NULL when s is NULL or empty (store.h: an empty string means not set). */
int db_bind_opt_text(struct db_stmt *stmt, int idx, const char *s);
int db_bind_int64(struct db_stmt *stmt, int idx, int64_t v);
int db_bind_blob(struct db_stmt *stmt, int idx, const void *b, size_t len);
int db_step(struct db_stmt *stmt);
int db_column_count(struct db_stmt *stmt);
bool db_column_is_null(struct db_stmt *stmt, int col);
const char *db_column_text(struct db_stmt *stmt, int col);
int64_t db_column_int64(struct db_stmt *stmt, int col);
const void *db_column_blob(struct db_stmt *stmt, int col);
size_t db_column_bytes(struct db_stmt *stmt, int col);
int64_t db_changes(struct db *db);
int db_exec(struct db *db, const char *script);
int db_begin(struct db *db, enum db_tx kind);
int db_commit(struct db *db);
void db_rollback(struct db *db);
bool db_in_transaction(struct db *db);
int db_schema_version(struct db *db, int *ret_version);
int db_set_schema_version(struct db *db, int version);
int db_backup(struct db *db, const char *dest_path); /* -ENOTSUP without ops->backup */

/* ---- helpers for the queries (store/db.c) ------------------------------------------------- */

/* Steps a statement expected to give at most one row: 0 on DB_ROW, -ENOENT on DB_DONE, else
 * the error. */
int db_step_one(struct db_stmt *stmt);
/* Steps a statement run for its effect: 0 on DB_DONE, -EIO if it gave a row, else the error. */
int db_step_done(struct db_stmt *stmt);
/* Steps a "SELECT count(*) ..." (or any one-integer) statement: the value in *ret_count (0 for
 * NULL, negative read as 0). */
int db_step_count(struct db_stmt *stmt, size_t *ret_count);
/* Copies column text (or "" for NULL) into dst of size n; -EIO if it does not fit. */
int db_copy_text(struct db_stmt *stmt, int col, char *dst, size_t n);

/* Dialect difference 1: "<col> = <param> COLLATE NOCASE" on SQLite, "lower(<col>) =
 * lower(<param>)" on PostgreSQL, into out (cap bytes). Returns out; "" if it does not fit. */
const char *db_eq_nocase(const struct db *db, const char *col, const char *param, char *out,
                         size_t cap);
/* Dialect difference 2: "LIKE" on SQLite, "ILIKE" on PostgreSQL. */
const char *db_like(const struct db *db);

#endif
