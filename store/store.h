/* store/store.h: persistent configuration: the interface every backend implements (today SQLite,
 * in store/sqlite/; store/pool.c works on any). The only public header of store/.
 *
 * A struct store is one database connection; use it from one thread at a time. Every function
 * returns 0 (or a count) on success and a negative errno on failure:
 *   -ENOENT  no such object          -EEXIST  unique value already taken
 *   -EBUSY   database locked (busy timeout ran out)   -ENOSPC  disk full
 *   -EROFS   read-only database       -EPROTO  database schema newer than this binary
 *   -EINVAL  constraint violated (e.g. a dangling reference)   -ENOMEM, -EIO  anything else
 *   -EDQUOT  the table holds its cap of rows (store_set_max_rows)
 * ret_ parameters are written only on success. Strings in the value structs are NUL-terminated;
 * an empty string means "not set" (stored as NULL). */
#ifndef STORE_STORE_H
#define STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_ID_LEN 36        /* lowercase 8-4-4-4-12 UUID */
#define STORE_TEXT_MAX 255     /* longest address, username or name, in bytes */
#define STORE_BLOB_MAX 320     /* longest encrypted secret (STORE_TEXT_MAX sealed), in bytes */
#define STORE_USER_NAME_MAX 64 /* longest API user name */
#define STORE_HASH_MAX 160     /* longest password hash string */

struct store; /* opaque, defined in store/sqlite/store.c */

/* Opens (creating if needed) the database at 'path' and applies pending migrations.
 * When its directory cannot be written, an existing database of the latest schema is opened
 * read-only: reads work and every write fails with -EROFS.
 * On success *ret_store owns the connection; release it with store_close().
 * Returns 0, -EPROTO (schema newer than this binary), -ENOMEM, -EROFS or -EIO. */
int store_open(const char *path, struct store **ret_store);
void store_close(struct store *st); /* NULL is a no-op */
/* True when store_open() found the directory read-only. */
bool store_read_only(const struct store *st);

/* ---- connection pool (store/pool.c) ------------------------------------------------------ */
/* size connections to the database at path, opened at once (the first failure is returned:
 * -EPROTO, -ENOMEM, -EROFS, -EIO). store_pool_get lends an idle one, waiting up to wait_ms
 * for one to come back, or returns NULL; store_pool_put returns it. Thread-safe. */
struct store_pool;
int store_pool_open(const char *path, size_t size, struct store_pool **ret_pool);
void store_pool_close(struct store_pool *p); /* NULL is a no-op; every connection returned */
struct store *store_pool_get(struct store_pool *p, unsigned wait_ms);
void store_pool_put(struct store_pool *p, struct store *st);

/* The schema version recorded in the database (PRAGMA user_version). */
int store_schema_version(struct store *st, int *ret_version);
/* The number of migrations built into this binary. */
unsigned store_schema_latest(void);

/* Write transactions: store_begin() queues behind the other writers of this process, then takes
 * the write lock (BEGIN IMMEDIATE). Every write function below joins the caller's transaction,
 * or runs in one of its own taken the same way, so no write of this process meets SQLite's busy
 * handler. store_rollback() is a no-op outside a transaction. */
int store_begin(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);
/* The most rows 'table' may hold (0: no cap); an insert beyond fails with -EDQUOT and stores
 * nothing. Process-wide: call before any thread writes. Returns 0, -EINVAL or -ENOSPC (too many
 * tables). */
int store_set_max_rows(const char *table, size_t max_rows);
/* Read snapshots: a count and the page that follows it see the same data. End with
 * store_read_end(), which is a no-op outside a transaction. */
int store_read_begin(struct store *st);
void store_read_end(struct store *st);

/* ---- the database itself (store/sqlite/q_meta.c) ----------------------------------------------
 */
/* The check value sealed with the secrets key (api/secret.c), so that a start with another key
 * is refused: at most one, opaque to the store. store_secret_check_get copies it into ret_blob
 * (cap bytes) and returns 0, or -ENOENT when none is stored yet. store_secret_check_add stores
 * the first one and never replaces it (-EEXIST). */
int store_secret_check_get(struct store *st, unsigned char *ret_blob, size_t cap, size_t *ret_len);
int store_secret_check_add(struct store *st, const unsigned char *blob, size_t len);
/* Writes a consistent copy of the database to dest_path (a new file, -EEXIST if it exists)
 * with SQLite's online backup, while other connections and processes go on writing. The copy
 * is written beside it as dest_path.tmp, synced, then renamed. */
int store_backup(struct store *st, const char *dest_path);

/* ---- API users -------------------------------------------------------------------------- */
struct store_user {
    char name[STORE_USER_NAME_MAX + 1];
    int64_t created_ms; /* wall clock, ms since the epoch */
};
typedef int (*store_user_fn)(const struct store_user *user, void *userdata);

int store_user_add(struct store *st, const char *name, const char *hash);      /* -EEXIST */
int store_user_set_hash(struct store *st, const char *name, const char *hash); /* -ENOENT */
int store_user_delete(struct store *st, const char *name);                     /* -ENOENT */
/* Copies the stored hash of 'name' into ret_hash (STORE_HASH_MAX + 1 bytes). -ENOENT. */
int store_user_get_hash(struct store *st, const char *name, char *ret_hash);
int store_user_count(struct store *st, size_t *ret_count);
/* Calls fn for every user in name order; a negative return from fn stops and is returned. */
int store_user_foreach(struct store *st, store_user_fn fn, void *userdata);

/* ---- TURN servers ----------------------------------------------------------------------- */
struct store_turn {
    char id[STORE_ID_LEN + 1];
    char server_address[STORE_TEXT_MAX + 1];
    char client_address[STORE_TEXT_MAX + 1];
    char username[STORE_TEXT_MAX + 1];
    unsigned char password[STORE_BLOB_MAX]; /* encrypted by the caller; len 0 = not set */
    size_t password_len;
    char type[16];
    bool has_num_registrations;
    int64_t num_registrations;
    bool has_tcp_port_number_override;
    int64_t tcp_port_number_override;
    char call_bridge[STORE_ID_LEN + 1];
    char call_bridge_group[STORE_ID_LEN + 1];
    bool use_short_term_credentials;
    unsigned char shared_secret[STORE_BLOB_MAX]; /* encrypted by the caller; len 0 = not set */
    size_t shared_secret_len;
    int64_t created_ms;
    int64_t updated_ms;
};
typedef int (*store_turn_fn)(const struct store_turn *turn, void *userdata);

/* The typed reader (store/sqlite/q_turn.c); the rows are written through the generic functions
 * below (the table is described in api/res/turn.c). */
int store_turn_get(struct store *st, const char *id, struct store_turn *ret_turn); /* -ENOENT */
/* Calls fn for every TURN server, whole rows, in creation order; a negative return stops. */
int store_turn_foreach(struct store *st, store_turn_fn fn, void *userdata);

/* ---- generic rows: the tables whose columns are text, integers or bytes ------------------- */
#define STORE_MAX_COLS 32
#define STORE_COL_ID 0 /* every table's column 0: the object's id */

/* A table for the generic functions: column 0 is "id"; every table has created_ms and
 * updated_ms besides, kept by the store. types[i] is 't' (text), 'i' (integer) or 'b' (bytes,
 * at most STORE_BLOB_MAX: in a struct store_row as lowercase hex). */
struct store_table {
    const char *name;
    const char *const *cols;
    const char *types;
    size_t ncols;
};

/* The configuration's tables (their names and column names are the backend's: the SQLite ones in
 * store/sqlite/tables.c), and their columns by number: a struct store_row's v[] in this order. */
extern const struct store_table store_table_tenant, store_table_call_bridge_group,
    store_table_call_bridge, store_table_cospace, store_table_inbound_rule, store_table_turn_server;
enum store_tenant_col { STORE_TENANT_ID, STORE_TENANT_NAME, STORE_TENANT__N };
enum store_group_col { STORE_GROUP_ID, STORE_GROUP_NAME, STORE_GROUP__N };
enum store_bridge_col {
    STORE_BRIDGE_ID,
    STORE_BRIDGE_NAME,
    STORE_BRIDGE_ADDRESS,
    STORE_BRIDGE_SIP_DOMAIN,
    STORE_BRIDGE_GROUP,
    STORE_BRIDGE__N
};
enum store_cospace_col {
    STORE_COSPACE_ID,
    STORE_COSPACE_NAME,
    STORE_COSPACE_AUTO,
    STORE_COSPACE_URI,
    STORE_COSPACE_SECONDARY,
    STORE_COSPACE_CALL_ID,
    STORE_COSPACE_CDR_TAG,
    STORE_COSPACE_PASSCODE,
    STORE_COSPACE_LAYOUT,
    STORE_COSPACE_TENANT,
    STORE_COSPACE_LEG_PROFILE,
    STORE_COSPACE_CALL_PROFILE,
    STORE_COSPACE_BRANDING,
    STORE_COSPACE_DIAL_IN,
    STORE_COSPACE_SECRET,
    STORE_COSPACE_NON_MEMBER,
    STORE_COSPACE_OWNER_JID,
    STORE_COSPACE_STREAM_URL,
    STORE_COSPACE_OWNER_AD,
    STORE_COSPACE_SCHEDULER,
    STORE_COSPACE_PANE_IMPORTANCE,
    STORE_COSPACE_PANE_SELF,
    STORE_COSPACE__N
};
enum store_rule_col {
    STORE_RULE_ID,
    STORE_RULE_DOMAIN,
    STORE_RULE_PRIORITY,
    STORE_RULE_USERS,
    STORE_RULE_COSPACES,
    STORE_RULE_IVRS,
    STORE_RULE_LYNC,
    STORE_RULE_SIMPLEJOIN,
    STORE_RULE_TENANT,
    STORE_RULE__N
};
enum store_turn_col {
    STORE_TURN_ID,
    STORE_TURN_SERVER,
    STORE_TURN_CLIENT,
    STORE_TURN_USERNAME,
    STORE_TURN_PASSWORD,
    STORE_TURN_TYPE,
    STORE_TURN_REGISTRATIONS,
    STORE_TURN_TCP_PORT,
    STORE_TURN_BRIDGE,
    STORE_TURN_GROUP,
    STORE_TURN_SHORT_TERM,
    STORE_TURN_SHARED_SECRET,
    STORE_TURN__N
};

/* CDR receivers (api/res/cdr_receivers.c describes the table; api/cdr.c delivers to them). */
extern const struct store_table store_table_cdr_receiver;
enum store_cdr_receiver_col {
    STORE_CDR_RECEIVER_ID,
    STORE_CDR_RECEIVER_URI,
    STORE_CDR_RECEIVER_DELIVERED, /* the last record_index it acknowledged; never shown */
    STORE_CDR_RECEIVER__N
};

/* One row: each value a malloc()ed string, or NULL for SQL NULL (not set). */
struct store_row {
    char *v[STORE_MAX_COLS];
};
void store_row_done(struct store_row *r);                              /* frees the values */
int store_row_set(struct store_row *r, size_t col, const char *value); /* copies; NULL unsets */

/* A condition for count and list: every named filter holds for its value (the names are the
 * table's, defined in store/sqlite/q_filter.c: "filter", "tenantFilter", ...), and when seq_max > 0
 * the creation sequence number lies in [seq_min, seq_max]. No conditions: every row. Rows come
 * in creation order. */
#define STORE_MAX_CONDS 8
struct store_cond {
    const char *name;
    const char *value;
};
struct store_query {
    struct store_cond conds[STORE_MAX_CONDS];
    size_t nconds;
    int64_t seq_min, seq_max;
};
/* Checks q against t without reading: 0 with *ret_scans true when a filter must read every row
 * (a substring that no index serves), or -EINVAL (an unknown filter, values too many or too
 * long). The other functions taking q fail the same way. */
int store_query_check(const struct store_table *t, const struct store_query *q, bool *ret_scans);
typedef int (*store_row_fn)(const struct store_row *row, void *userdata);

int store_row_get(struct store *st, const struct store_table *t, const char *id,
                  struct store_row *ret_row); /* -ENOENT */
int store_row_insert(struct store *st, const struct store_table *t, const struct store_row *r);
int store_row_update(struct store *st, const struct store_table *t, const struct store_row *r);
/* -ENOENT; -EINVAL when other rows still refer to it (ON DELETE RESTRICT). */
int store_row_delete(struct store *st, const struct store_table *t, const char *id);
int store_row_count(struct store *st, const struct store_table *t, const struct store_query *q,
                    size_t *ret_count);
/* Calls fn for at most limit matching rows after skipping offset; a negative return stops. */
int store_row_list(struct store *st, const struct store_table *t, const struct store_query *q,
                   size_t offset, size_t limit, store_row_fn fn, void *userdata);
/* Calls fn with the creation sequence number (seq: increasing, not shown to clients) of every
 * matching row in creation order; a negative return from fn stops. */
typedef int (*store_seq_fn)(int64_t seq, void *userdata);
int store_row_seqs(struct store *st, const struct store_table *t, const struct store_query *q,
                   store_seq_fn fn, void *userdata);
/* 0 when some row other than except_id (may be NULL) has column col = value, -ENOENT when none
 * (-EINVAL for a column the table does not have).
 * nocase compares without regard to case: give it only for a column whose index is
 * COLLATE NOCASE, or the check cannot use the index and reads the whole table. */
int store_row_taken(struct store *st, const struct store_table *t, size_t col, const char *value,
                    const char *except_id, bool nocase);

/* ---- call matching (store/sqlite/q_match.c) -----------------------------------------------------
 */
/* What matching reads of an inbound dial plan rule. */
struct store_match_rule {
    char id[STORE_ID_LEN + 1];
    bool resolve_to_cospaces;
    char tenant[STORE_ID_LEN + 1]; /* "" when the rule has none */
};
/* fn returns 0 to go on, non-zero to stop (a negative value is returned). */
typedef int (*store_match_rule_fn)(const struct store_match_rule *rule, void *userdata);
/* Calls fn for at most 1,000 rules whose domain equals 'domain' in any case (NULL: every rule),
 * highest priority first, then oldest. */
int store_match_rules(struct store *st, const char *domain, store_match_rule_fn fn, void *userdata);
/* The oldest coSpace whose uri or secondaryUri equals user in any case, within tenant unless
 * tenant is NULL or "": its id into ret_id (STORE_ID_LEN + 1 bytes), or -ENOENT. */
int store_match_cospace_uri(struct store *st, const char *user, const char *tenant, char *ret_id);
/* What joining and meetingEntryDetail read of a coSpace; "" = not set. */
struct store_cospace_entry {
    char id[STORE_ID_LEN + 1];
    char uri[STORE_TEXT_MAX + 1];
    char call_id[STORE_TEXT_MAX + 1];
    char passcode[STORE_TEXT_MAX + 1];
    bool has_passcode;
    char tenant[STORE_ID_LEN + 1];
    char secret[STORE_TEXT_MAX + 1]; /* the guest links' token */
    bool non_member_access;          /* guests may join */
};
int store_cospace_entry_get(struct store *st, const char *id,
                            struct store_cospace_entry *ret_entry); /* -ENOENT */
/* The oldest coSpace with this callId; -ENOENT when none. */
int store_match_call_id(struct store *st, const char *call_id,
                        struct store_cospace_entry *ret_entry);
/* The domain of the highest-priority rule (then oldest) that resolves to coSpaces and has no
 * tenant or this one, into ret_domain (cap bytes); -ENOENT when no rule does. */
int store_match_entry_domain(struct store *st, const char *tenant, char *ret_domain, size_t cap);

/* ---- the CDR outbox (store/sqlite/q_cdr.c) ------------------------------------------------
 * Records are appended in the order of their events and numbered (record_index, never reused);
 * each receiver's delivered index says how far it got; delivered records are deleted. */
struct store_cdr_record {
    int64_t index;
    char session[STORE_ID_LEN + 1];
    char type[24];
    char time[32];
    int64_t correlator;
    char *body; /* malloc()ed; store_cdr_record_done frees it */
};
void store_cdr_record_done(struct store_cdr_record *r);
/* Appends one record; its index into *ret_index (may be NULL). */
int store_cdr_append(struct store *st, const struct store_cdr_record *r, int64_t *ret_index);
/* The highest index ever given (0 when none), from AUTOINCREMENT's counter. */
int store_cdr_last_index(struct store *st, int64_t *ret_index);
/* Records after 'after', in order, at most limit, each given to fn (which must not keep body). */
typedef int (*store_cdr_fn)(const struct store_cdr_record *r, void *userdata);
int store_cdr_after(struct store *st, int64_t after, size_t limit, store_cdr_fn fn, void *userdata);
/* Records after 'after' still in the outbox. */
int store_cdr_count_after(struct store *st, int64_t after, size_t *ret_count);
/* Receiver id has everything up to index: stores it, then deletes what every receiver has (all
 * of the outbox when no receiver is left). -ENOENT when the receiver was deleted meanwhile. */
int store_cdr_delivered(struct store *st, const char *id, int64_t index);
/* Deletes what every receiver has (everything when there is none). */
int store_cdr_prune(struct store *st);
/* The number of receivers with a uri. */
int store_cdr_receivers(struct store *st, size_t *ret_count);

#endif
