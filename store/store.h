/* store/store.h: persistent configuration: the interface every backend implements (SQLite in
 * store/sqlite/, the embedded default; PostgreSQL in store/pg/ when built in, for several call
 * bridges sharing one configuration). The queries behind it are written once (store/q_*.c,
 * through the private driver interface store/db.h); store/pool.c works on any backend. The
 * only public header of store/: nothing here says which backend a struct store talks to.
 *
 * A struct store is one database connection; use it from one thread at a time. Every function
 * returns 0 (or a count) on success and a negative errno on failure:
 *   -ENOENT  no such object          -EEXIST  unique value already taken
 *   -EBUSY   database locked (busy timeout, PostgreSQL's lock_timeout, ran out)
 *   -EDEADLK  a deadlock or serialization failure (PostgreSQL): the transaction was rolled
 *            back for another's sake; run it again from its start   -ENOSPC  disk full
 *   -EROFS   read-only database       -EPROTO  database schema newer than this binary
 *   -EINVAL  constraint violated (e.g. a dangling reference)   -ENOMEM, -EIO  anything else
 *   -ENOTCONN  the database server cannot be reached, or (a write) no server that takes
 *            writes answers: a PostgreSQL primary lost, before a replica is promoted, a
 *            session the server ended; the next call tries to reconnect
 *   -EDQUOT  the table holds its cap of rows (store_set_max_rows)
 *   -EPROTONOSUPPORT  a PostgreSQL location, and this build has no PostgreSQL driver
 *   -ENOTSUP  not offered by this backend (store_backup on PostgreSQL)
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

struct store; /* opaque, defined in store/store_int.h */

/* Opens (creating if needed) the database at location and applies pending migrations.
 * location chooses the backend: "postgresql://..." or "postgres://..." (a libpq URI), or a
 * libpq key=value string starting "host=" or "dbname=", is a PostgreSQL database (-EPROTONOSUPPORT
 * when this build has no PostgreSQL driver); anything else is the path of a SQLite file.
 * SQLite: when the file's directory cannot be written, an existing database of the latest
 * schema is opened read-only: reads work and every write fails with -EROFS.
 * On success *ret_store owns the connection; release it with store_close().
 * Returns 0, -EPROTO (schema newer than this binary), -ENOMEM, -EROFS, -EPROTONOSUPPORT,
 * -EACCES (PostgreSQL: the server refused the password, or the role or database after it),
 * -ECONNREFUSED (PostgreSQL: no server answered; store_open_error() says why) or -EIO. */
int store_open(const char *location, struct store **ret_store);
void store_close(struct store *st); /* NULL is a no-op */
/* Why the calling thread's last store_open() failed to connect, as the server or libpq said it
 * (PostgreSQL; the location's password never in it), or "" when there is nothing more to say
 * than the errno. */
const char *store_open_error(void);
/* True when the database takes no writes now: SQLite, store_open() found the directory
 * read-only; PostgreSQL, the connection is to a standby or a server in read-only mode (e.g. the
 * primary of a multi-host URL was down at store_open(): a standby serves reads until a server
 * that takes writes answers, when it turns false). */
bool store_read_only(const struct store *st);

/* ---- connection pool (store/pool.c) ------------------------------------------------------ */
/* size connections to the database at location (store_open()), opened at once (the first failure is
 * returned: -EPROTO, -ENOMEM, -EROFS, -EIO). store_pool_get lends an idle one, waiting up to
 * wait_ms for one to come back, or returns NULL; store_pool_put returns it. Thread-safe. */
struct store_pool;
int store_pool_open(const char *location, size_t size, struct store_pool **ret_pool);
void store_pool_close(struct store_pool *p); /* NULL is a no-op; every connection returned */
struct store *store_pool_get(struct store_pool *p, unsigned wait_ms);
void store_pool_put(struct store_pool *p, struct store *st);

/* The schema version recorded in the database (SQLite: PRAGMA user_version; PostgreSQL: a
 * table): the number of migrations applied. */
int store_schema_version(struct store *st, int *ret_version);
/* The number of SQLite migrations built into this binary. */
unsigned store_schema_latest(void);
/* The number of migrations built into this binary for location's backend (store_open()). */
unsigned store_schema_latest_at(const char *location);

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

/* ---- several processes on one database (PostgreSQL) ------------------------------------------ */
/* A mark of the data committed in the database as st sees it now: read it before reading
 * the data; two equal marks (on any connection of this process) mean the same committed data,
 * so something built from the data read after a mark may be reused while the mark stays
 * (PostgreSQL: a hash of the server's current snapshot, its start time and address; a write
 * committed by any node changes it before that node answers). -ENOTSUP on SQLite, where only
 * this process writes and needs nothing of the kind; a store error otherwise. */
int store_change_mark(struct store *st, uint64_t *ret_mark);
/* After a write that changed many rows at once (a bulk or directory sync), inside its
 * transaction: PostgreSQL's planner statistics are brought up to date (ANALYZE counts the
 * transaction's own rows), so that statements planned while the tables were small (a prepared
 * statement's generic plan, a trigger's) are planned again for their size once it commits, not
 * when autovacuum gets round to it. Measured: a second coSpaceBulkSync of 5,000 after a first
 * took 42 s without, 8 s with. SQLite plans each statement from its indexes: 0, nothing done.
 * A store error otherwise. */
int store_analyze(struct store *st);

/* Rows written by other processes on the same database, as they commit (PostgreSQL
 * LISTEN/NOTIFY on a connection of the listener's own): for each row inserted, updated or
 * deleted through store_row_insert/update/delete, fn(table, id) with the table's name
 * (store_table.name) and the row's id, in commit order; fn("*", "*") when a transaction wrote
 * more rows than one notification names (anything may have changed). This process's own
 * writes are not reported. Asynchronous: a write is reported shortly after its commit. */
typedef void (*store_change_fn)(const char *table, const char *id, void *userdata);
struct store_listener;
/* Opens a listener on location (store_open's syntax). -ENOTSUP on SQLite; a listener whose
 * server cannot be reached is returned too (0), lost: call store_listener_reconnect later. */
int store_listener_open(const char *location, struct store_listener **ret_l);
void store_listener_close(struct store_listener *l); /* NULL is a no-op */
/* A descriptor to poll for input; -1 while the connection is lost. */
int store_listener_fd(const struct store_listener *l);
/* Reads what arrived, without blocking, calling fn for each change. 0, or -ENOTCONN: the
 * connection is lost, and changes with it: reconnect, then assume anything changed. */
int store_listener_read(struct store_listener *l, store_change_fn fn, void *userdata);
/* Connects again (0, -ENOTCONN while no read-write server answers, ...). */
int store_listener_reconnect(struct store_listener *l);

/* ---- the database itself (store/q_meta.c) --------------------------------------------------- */
/* The check value sealed with the secrets key (api/secret.c), so that a start with another key
 * is refused: at most one, opaque to the store. store_secret_check_get copies it into ret_blob
 * (cap bytes) and returns 0, or -ENOENT when none is stored yet. store_secret_check_add stores
 * the first one and never replaces it (-EEXIST). */
int store_secret_check_get(struct store *st, unsigned char *ret_blob, size_t cap, size_t *ret_len);
int store_secret_check_add(struct store *st, const unsigned char *blob, size_t len);
/* Writes a consistent copy of the database to dest_path (a new file, -EEXIST if it exists)
 * with SQLite's online backup, while other connections and processes go on writing. The copy
 * is written beside it as dest_path.tmp, synced, then renamed. SQLite only: a PostgreSQL store
 * answers -ENOTSUP (back it up with the server's own tools, pg_dump). */
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

/* The typed reader (store/q_turn.c); the rows are written through the generic functions
 * below (the table is described in api/res/turn.c). */
int store_turn_get(struct store *st, const char *id, struct store_turn *ret_turn); /* -ENOENT */
/* Calls fn for every TURN server, whole rows, in creation order; a negative return stops. */
int store_turn_foreach(struct store *st, store_turn_fn fn, void *userdata);

/* ---- generic rows: the tables whose columns are text, integers or bytes ------------------- */
#define STORE_MAX_COLS 64
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
 * store/tables.c), and their columns by number: a struct store_row's v[] in this order. */
extern const struct store_table store_table_tenant, store_table_call_bridge_group,
    store_table_call_bridge, store_table_cospace, store_table_inbound_rule, store_table_turn_server;
enum store_tenant_col {
    STORE_TENANT_ID,
    STORE_TENANT_NAME,
    STORE_TENANT_GROUP,
    STORE_TENANT_PARTICIPANT_LIMIT,
    /* its profiles (schema/0006_profiles.sql) */
    STORE_TENANT_CALL_LEG_PROFILE,
    STORE_TENANT_CALL_PROFILE,
    STORE_TENANT_DTMF_PROFILE,
    STORE_TENANT_IVR_BRANDING_PROFILE,
    STORE_TENANT_CALL_BRANDING_PROFILE,
    STORE_TENANT_USER_PROFILE,
    STORE_TENANT_DIAL_IN_SECURITY_PROFILE,
    STORE_TENANT_WEB_BRIDGE_PROFILE,
    STORE_TENANT__N
};
enum store_group_col {
    STORE_GROUP_ID,
    STORE_GROUP_NAME,
    STORE_GROUP_LB_ENABLED,
    STORE_GROUP_LB_LYNC,
    STORE_GROUP_LB_OUTGOING,
    STORE_GROUP_LB_USER,
    STORE_GROUP_LB_INDIRECT,
    STORE_GROUP__N
};
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

/* The dial plan's tables (schema/0005_dialplan.sql). */
extern const struct store_table store_table_tenant_group, store_table_outbound_rule,
    store_table_forwarding_rule, store_table_dial_transform, store_table_ivr,
    store_table_cluster_config;
enum store_tenant_group_col { STORE_TGROUP_ID, STORE_TGROUP__N };
enum store_outbound_col {
    STORE_OUT_ID,
    STORE_OUT_DOMAIN,
    STORE_OUT_PRIORITY,
    STORE_OUT_CONTACT_DOMAIN,
    STORE_OUT_FROM_DOMAIN,
    STORE_OUT_SIP_PROXY,
    STORE_OUT_TRUNK_TYPE,
    STORE_OUT_FAILURE_ACTION,
    STORE_OUT_ENCRYPTION,
    STORE_OUT_SCOPE,
    STORE_OUT_BRIDGE,
    STORE_OUT_GROUP,
    STORE_OUT_TENANT,
    STORE_OUT_ROUTING,
    STORE_OUT__N
};
enum store_forwarding_col {
    STORE_FWD_ID,
    STORE_FWD_PATTERN,
    STORE_FWD_DESTINATION,
    STORE_FWD_ACTION,
    STORE_FWD_CALLER_ID,
    STORE_FWD_PRIORITY,
    STORE_FWD_TENANT,
    STORE_FWD_URI_PARAMS,
    STORE_FWD__N
};
enum store_transform_col {
    STORE_XFORM_ID,
    STORE_XFORM_TYPE,
    STORE_XFORM_MATCH,
    STORE_XFORM_TRANSFORM,
    STORE_XFORM_PRIORITY,
    STORE_XFORM_ACTION,
    STORE_XFORM__N
};
enum store_ivr_col {
    STORE_IVR_ID,
    STORE_IVR_URI,
    STORE_IVR_TENANT,
    STORE_IVR_TENANT_GROUP,
    STORE_IVR_BRANDING,
    STORE_IVR_CALL_IDS,
    STORE_IVR_LYNC_IDS,
    STORE_IVR__N
};
enum store_cluster_col {
    STORE_CLUSTER_ID,
    STORE_CLUSTER_NAME,
    STORE_CLUSTER_PEER_BIT_RATE,
    STORE_CLUSTER_PARTICIPANT_LIMIT,
    STORE_CLUSTER_LOAD_LIMIT,
    STORE_CLUSTER_NEW_BP,
    STORE_CLUSTER_EXISTING_BP,
    STORE_CLUSTER_PEER_STREAMS,
    STORE_CLUSTER__N
};
#define STORE_CLUSTER_ROW_ID "00000000-0000-4000-8000-000000000000"
/* /system/configuration/xmpp (schema/0010_xmpp.sql): one row, id STORE_CLUSTER_ROW_ID. */
extern const struct store_table store_table_xmpp_config;
enum store_xmpp_col {
    STORE_XMPP_ID,
    STORE_XMPP_UNIQUE_NAME,
    STORE_XMPP_DOMAIN,
    STORE_XMPP_SHARED_SECRET,
    STORE_XMPP_SERVER_ADDRESS_OVERRIDE,
    STORE_XMPP__N
};
/* Profiles, layout templates, web bridges and the system-level profiles (schema/0006_profiles.sql,
 * api/res/profiles.c and api/res/webbridge.c). */
extern const struct store_table store_table_call_leg_profile, store_table_call_profile,
    store_table_dtmf_profile, store_table_call_branding_profile, store_table_ivr_branding_profile,
    store_table_dial_in_security_profile, store_table_compatibility_profile,
    store_table_user_profile, store_table_layout_template, store_table_web_bridge_profile,
    store_table_web_bridge, store_table_system_profile;
enum store_call_leg_profile_col {
    STORE_CLP_ID,
    STORE_CLP_NAME,
    STORE_CLP_NEEDS_ACTIVATION,
    STORE_CLP_DEFAULT_LAYOUT,
    STORE_CLP_CHANGE_LAYOUT_ALLOWED,
    STORE_CLP_PARTICIPANT_LABELS,
    STORE_CLP_PRESENTATION_DISPLAY_MODE,
    STORE_CLP_PRESENTATION_CONTRIBUTION_ALLOWED,
    STORE_CLP_PRESENTATION_VIEWING_ALLOWED,
    STORE_CLP_END_CALL_ALLOWED,
    STORE_CLP_MUTE_OTHERS_ALLOWED,
    STORE_CLP_VIDEO_MUTE_OTHERS_ALLOWED,
    STORE_CLP_MUTE_SELF_ALLOWED,
    STORE_CLP_VIDEO_MUTE_SELF_ALLOWED,
    STORE_CLP_JOIN_TONE_PARTICIPANT_THRESHOLD,
    STORE_CLP_LEAVE_TONE_PARTICIPANT_THRESHOLD,
    STORE_CLP_VIDEO_MODE,
    STORE_CLP_RX_AUDIO_MUTE,
    STORE_CLP_TX_AUDIO_MUTE,
    STORE_CLP_RX_VIDEO_MUTE,
    STORE_CLP_TX_VIDEO_MUTE,
    STORE_CLP_SIP_MEDIA_ENCRYPTION,
    STORE_CLP_AUDIO_PACKET_SIZE_MS,
    STORE_CLP_DEACTIVATION_MODE,
    STORE_CLP_DEACTIVATION_MODE_TIME,
    STORE_CLP_TELEPRESENCE_CALLS_ALLOWED,
    STORE_CLP_SIP_PRESENTATION_CHANNEL_ENABLED,
    STORE_CLP_BFCP_MODE,
    STORE_CLP_CALL_LOCK_ALLOWED,
    STORE_CLP_SET_IMPORTANCE_ALLOWED,
    STORE_CLP_ALLOW_ALL_MUTE_SELF_ALLOWED,
    STORE_CLP_ALLOW_ALL_PRESENTATION_CONTRIBUTION_ALLOWED,
    STORE_CLP_CHANGE_JOIN_AUDIO_MUTE_OVERRIDE_ALLOWED,
    STORE_CLP_RECORDING_CONTROL_ALLOWED,
    STORE_CLP_STREAMING_CONTROL_ALLOWED,
    STORE_CLP_MAX_CALL_DURATION_TIME,
    STORE_CLP_QUALITY_MAIN,
    STORE_CLP_QUALITY_PRESENTATION,
    STORE_CLP_PARTICIPANT_COUNTER,
    STORE_CLP_CONTROL_REMOTE_CAMERA_ALLOWED,
    STORE_CLP_LAYOUT_TEMPLATE,
    STORE_CLP_AUDIO_GAIN_MODE,
    STORE_CLP_DISCONNECT_OTHERS_ALLOWED,
    STORE_CLP_ADD_PARTICIPANT_ALLOWED,
    STORE_CLP__N
};
enum store_call_profile_col {
    STORE_CP_ID,
    STORE_CP_PARTICIPANT_LIMIT,
    STORE_CP_LOCKED,
    STORE_CP_LOCK_MODE,
    STORE_CP_RECORDING_MODE,
    STORE_CP_STREAMING_MODE,
    STORE_CP_SIP_RECORDER_URI,
    STORE_CP_SIP_STREAMER_URI,
    STORE_CP_PASSCODE_MODE,
    STORE_CP_PASSCODE_TIMEOUT,
    STORE_CP_GATEWAY_AUDIO_CALL_OPTIMIZATION,
    STORE_CP_LYNC_CONFERENCE_MODE,
    STORE_CP__N
};
enum store_dtmf_profile_col {
    STORE_DTMF_ID,
    STORE_DTMF_LOCK_CALL,
    STORE_DTMF_UNLOCK_CALL,
    STORE_DTMF_NEXT_LAYOUT,
    STORE_DTMF_PREVIOUS_LAYOUT,
    STORE_DTMF_MUTE_SELF_AUDIO,
    STORE_DTMF_UNMUTE_SELF_AUDIO,
    STORE_DTMF_TOGGLE_MUTE_SELF_AUDIO,
    STORE_DTMF_MUTE_ALL_EXCEPT_SELF_AUDIO,
    STORE_DTMF_UNMUTE_ALL_EXCEPT_SELF_AUDIO,
    STORE_DTMF_START_RECORDING,
    STORE_DTMF_STOP_RECORDING,
    STORE_DTMF_START_STREAMING,
    STORE_DTMF_STOP_STREAMING,
    STORE_DTMF_ALLOW_ALL_MUTE_SELF,
    STORE_DTMF_CANCEL_ALLOW_ALL_MUTE_SELF,
    STORE_DTMF_ALLOW_ALL_PRESENTATION_CONTRIBUTION,
    STORE_DTMF_CANCEL_ALLOW_ALL_PRESENTATION_CONTRIBUTION,
    STORE_DTMF_MUTE_ALL_NEW_AUDIO,
    STORE_DTMF_UNMUTE_ALL_NEW_AUDIO,
    STORE_DTMF_DEFAULT_MUTE_ALL_NEW_AUDIO,
    STORE_DTMF_MUTE_ALL_NEW_AND_ALL_EXCEPT_SELF_AUDIO,
    STORE_DTMF_UNMUTE_ALL_NEW_AND_ALL_EXCEPT_SELF_AUDIO,
    STORE_DTMF_END_CALL,
    STORE_DTMF_GET_TOTAL_PARTICIPANT_COUNT,
    STORE_DTMF__N
};
enum store_call_branding_profile_col {
    STORE_CBP_ID,
    STORE_CBP_INVITATION_TEMPLATE,
    STORE_CBP_RESOURCE_LOCATION,
    STORE_CBP__N
};
enum store_ivr_branding_profile_col { STORE_IBP_ID, STORE_IBP_RESOURCE_LOCATION, STORE_IBP__N };
enum store_dial_in_security_profile_col {
    STORE_DISP_ID,
    STORE_DISP_NAME,
    STORE_DISP_MIN_PASSCODE_LENGTH,
    STORE_DISP_BLANK_PASSCODE_ALLOWED,
    STORE_DISP__N
};
enum store_compatibility_profile_col {
    STORE_COMP_ID,
    STORE_COMP_SIP_UDT,
    STORE_COMP_SIP_MULTISTREAM,
    STORE_COMP_SIP_MEDIA_PAYLOAD_TYPE_MODE,
    STORE_COMP_CHROME_WEB_RTC_VIDEO_CODEC,
    STORE_COMP_CHROME_WEB_RTC_H264INTEROP_MODE,
    STORE_COMP_H264_CHP_MODE,
    STORE_COMP_SIP_H224,
    STORE_COMP_DISTRIBUTION_LINK_MEDIA_TRAVERSAL,
    STORE_COMP__N
};
enum store_user_profile_col {
    STORE_UP_ID,
    STORE_UP_CAN_CREATE_CO_SPACES,
    STORE_UP_CAN_CREATE_CALLS,
    STORE_UP_CAN_USE_EXTERNAL_DEVICES,
    STORE_UP_CAN_MAKE_PHONE_CALLS,
    STORE_UP_USER_TO_USER_MESSAGING_ALLOWED,
    STORE_UP_HAS_LICENSE,
    STORE_UP__N
};
enum store_layout_template_col { STORE_LT_ID, STORE_LT_NAME, STORE_LT_TEMPLATE, STORE_LT__N };
enum store_web_bridge_profile_col {
    STORE_WBP_ID,
    STORE_WBP_NAME,
    STORE_WBP_RESOURCE_ARCHIVE,
    STORE_WBP_ALLOW_PASSCODES,
    STORE_WBP_ALLOW_SECRETS,
    STORE_WBP_USER_PORTAL_ENABLED,
    STORE_WBP_ALLOW_UNAUTHENTICATED_GUESTS,
    STORE_WBP_RESOLVE_CO_SPACE_CALL_IDS,
    STORE_WBP_RESOLVE_LYNC_CONFERENCE_IDS,
    STORE_WBP_RESOLVE_CO_SPACE_URIS,
    STORE_WBP__N
};
enum store_web_bridge_col {
    STORE_WB_ID,
    STORE_WB_URL,
    STORE_WB_TENANT,
    STORE_WB_CALL_BRIDGE,
    STORE_WB_CALL_BRIDGE_GROUP,
    STORE_WB_WEB_BRIDGE_PROFILE,
    STORE_WB__N
};
enum store_system_profile_col {
    STORE_SP_ID,
    STORE_SP_CALL_LEG_PROFILE,
    STORE_SP_CALL_PROFILE,
    STORE_SP_DTMF_PROFILE,
    STORE_SP_USER_PROFILE,
    STORE_SP_IVR_BRANDING_PROFILE,
    STORE_SP_CALL_BRANDING_PROFILE,
    STORE_SP_COMPATIBILITY_PROFILE,
    STORE_SP_DIAL_IN_SECURITY_PROFILE,
    STORE_SP_WEB_BRIDGE_PROFILE,
    STORE_SP__N
};
/* coSpace access methods and members, coSpace templates and bulk sets (schema/0007_spaces.sql;
 * api/res/access.c, api/res/templates.c). A child's parent column holds its parent's id. */
extern const struct store_table store_table_access_method, store_table_cospace_user,
    store_table_cospace_template, store_table_access_method_template, store_table_bulk_set,
    store_table_bulk_member, store_table_bulk_sync;
enum store_access_col {
    STORE_ACCESS_ID,
    STORE_ACCESS_COSPACE,
    STORE_ACCESS_URI,
    STORE_ACCESS_CALL_ID,
    STORE_ACCESS_PASSCODE,
    STORE_ACCESS_NAME,
    STORE_ACCESS_LEG_PROFILE,
    STORE_ACCESS_SECRET,
    STORE_ACCESS_SCOPE,
    STORE_ACCESS_IMPORTANCE,
    STORE_ACCESS_DIAL_IN,
    STORE_ACCESS__N
};
enum store_member_col {
    STORE_MEMBER_ID,
    STORE_MEMBER_COSPACE,
    STORE_MEMBER_JID,
    STORE_MEMBER_AUTO,
    STORE_MEMBER_LEG_PROFILE,
    STORE_MEMBER_CAN_DESTROY, /* the ten permissions follow in the schema's order */
    STORE_MEMBER__N = STORE_MEMBER_CAN_DESTROY + 10
};
enum store_template_col {
    STORE_TEMPLATE_ID,
    STORE_TEMPLATE_NAME,
    STORE_TEMPLATE_DESCRIPTION,
    STORE_TEMPLATE_CALL_PROFILE,
    STORE_TEMPLATE_LEG_PROFILE,
    STORE_TEMPLATE_DIAL_IN,
    STORE_TEMPLATE__N
};
enum store_am_template_col {
    STORE_AMT_ID,
    STORE_AMT_TEMPLATE,
    STORE_AMT_NAME,
    STORE_AMT_URI_GENERATOR,
    STORE_AMT_LEG_PROFILE,
    STORE_AMT_UNIQUE_CALL_ID,
    STORE_AMT_DIAL_IN,
    STORE_AMT__N
};
enum store_bulk_set_col {
    STORE_BULK_ID,
    STORE_BULK_START,
    STORE_BULK_END,
    STORE_BULK_URI_MAP,
    STORE_BULK_NAME_MAP,
    STORE_BULK_CALL_ID_MAP,
    STORE_BULK_TENANT,
    STORE_BULK_CALL_PROFILE,
    STORE_BULK_BRANDING,
    STORE_BULK_NON_MEMBER,
    STORE_BULK__N
};
enum store_bulk_member_col {
    STORE_BMEMBER_ID,
    STORE_BMEMBER_SET,
    STORE_BMEMBER_INDEX,
    STORE_BMEMBER__N
};
enum store_bulk_sync_col {
    STORE_SYNC_ID,
    STORE_SYNC_SET,
    STORE_SYNC_STATUS,
    STORE_SYNC_REMOVE_ALL,
    STORE_SYNC__N
};
/* CDR receivers (api/res/cdr_receivers.c describes the table; api/cdr.c delivers to them). */
extern const struct store_table store_table_cdr_receiver;
enum store_cdr_receiver_col {
    STORE_CDR_RECEIVER_ID,
    STORE_CDR_RECEIVER_URI,
    STORE_CDR_RECEIVER_DELIVERED, /* the last record_index it acknowledged; never shown */
    STORE_CDR_RECEIVER__N
};

/* LDAP (schema/0009_ldap.sql): api/res/ldap.c describes the configuration tables, api/ldap_sync.c
 * runs the syncs and writes the users they import (read by /users, api/res/users.c). */
extern const struct store_table store_table_ldap_server, store_table_ldap_mapping,
    store_table_ldap_source, store_table_directory_search_location,
    store_table_ldap_template_source, store_table_ldap_sync, store_table_ldap_user;
enum store_ldap_server_col {
    STORE_LSERVER_ID,
    STORE_LSERVER_ADDRESS,
    STORE_LSERVER_NAME,
    STORE_LSERVER_PORT,
    STORE_LSERVER_USERNAME,
    STORE_LSERVER_PASSWORD,
    STORE_LSERVER_SECURE,
    STORE_LSERVER_PAGED,
    STORE_LSERVER__N
};
enum store_ldap_mapping_col {
    STORE_LMAP_ID,
    STORE_LMAP_JID,
    STORE_LMAP_NAME,
    STORE_LMAP_CDR_TAG,
    STORE_LMAP_AUTH_ID,
    STORE_LMAP_COSPACE_URI,
    STORE_LMAP_COSPACE_SECONDARY_URI,
    STORE_LMAP_COSPACE_NAME,
    STORE_LMAP_COSPACE_CALL_ID,
    STORE_LMAP__N
};
enum store_ldap_source_col {
    STORE_LSOURCE_ID,
    STORE_LSOURCE_SERVER,
    STORE_LSOURCE_MAPPING,
    STORE_LSOURCE_BASE_DN,
    STORE_LSOURCE_FILTER,
    STORE_LSOURCE_TENANT,
    STORE_LSOURCE_USER_PROFILE,
    STORE_LSOURCE_NON_MEMBER_ACCESS,
    STORE_LSOURCE__N
};
enum store_directory_col {
    STORE_DIR_ID,
    STORE_DIR_LDAP_SERVER,
    STORE_DIR_TENANT,
    STORE_DIR_BASE_DN,
    STORE_DIR_FILTER_FORMAT,
    STORE_DIR_LABEL,
    STORE_DIR_PRIORITY,
    STORE_DIR_FIRST_NAME, /* the eight attribute names follow in the schema's order */
    STORE_DIR__N = STORE_DIR_FIRST_NAME + 8
};
enum store_ldap_template_source_col {
    STORE_LTS_ID,
    STORE_LTS_TEMPLATE,
    STORE_LTS_SOURCE,
    STORE_LTS_FILTER,
    STORE_LTS__N
};
enum store_ldap_sync_col {
    STORE_LSYNC_ID,
    STORE_LSYNC_TENANT,
    STORE_LSYNC_SOURCE,
    STORE_LSYNC_REMOVE,
    STORE_LSYNC_STATE,
    STORE_LSYNC_REASON,
    STORE_LSYNC_USERS,
    STORE_LSYNC_SOURCES_DONE,
    STORE_LSYNC__N
};
enum store_ldap_user_col {
    STORE_LUSER_ID,
    STORE_LUSER_JID,
    STORE_LUSER_NAME,
    STORE_LUSER_EMAIL,
    STORE_LUSER_AUTH_ID,
    STORE_LUSER_CDR_TAG,
    STORE_LUSER_TENANT,
    STORE_LUSER_USER_PROFILE,
    STORE_LUSER_SOURCE,
    STORE_LUSER_ENTRY,
    STORE_LUSER_COSPACE,
    STORE_LUSER__N
};

/* One row: each value a malloc()ed string, or NULL for SQL NULL (not set). */
struct store_row {
    char *v[STORE_MAX_COLS];
};
void store_row_done(struct store_row *r);                              /* frees the values */
int store_row_set(struct store_row *r, size_t col, const char *value); /* copies; NULL unsets */

/* A condition for count and list: every named filter holds for its value (the names are the
 * table's, defined in store/q_filter.c: "filter", "tenantFilter", ...), and when seq_max > 0
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

/* ---- call matching (store/q_match.c) -----------------------------------------------------
 */
/* What matching reads of an inbound dial plan rule. */
struct store_match_rule {
    char id[STORE_ID_LEN + 1];
    bool resolve_to_cospaces;
    bool resolve_to_ivrs;
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
    /* the access method joined through ("": the coSpace itself) */
    char access_method[STORE_ID_LEN + 1];
};
int store_cospace_entry_get(struct store *st, const char *id,
                            struct store_cospace_entry *ret_entry); /* -ENOENT */
/* The oldest coSpace with this callId; -ENOENT when none. */
int store_match_call_id(struct store *st, const char *call_id,
                        struct store_cospace_entry *ret_entry);
/* The domain of the highest-priority rule (then oldest) that resolves to coSpaces and has no
 * tenant or this one, into ret_domain (cap bytes); -ENOENT when no rule does. */
int store_match_entry_domain(struct store *st, const char *tenant, char *ret_domain, size_t cap);
/* uriUsageQuery: the oldest coSpace (uri or secondaryUri) or, with ivr, IVR whose uri equals user
 * in any case, in tenant (NULL or "": in no tenant); its id into ret_id, or -ENOENT. */
int store_uri_usage(struct store *st, bool ivr, const char *user, const char *tenant, char *ret_id);
/* The oldest IVR whose uri equals user in any case, within tenant unless tenant is NULL or "":
 * its id into ret_id (STORE_ID_LEN + 1 bytes), or -ENOENT. */
int store_match_ivr_uri(struct store *st, const char *user, const char *tenant, char *ret_id);
/* accessQuery: "<uri>@<domain>" of the IVR that resolves coSpace callIds for a space in tenant
 * ("" none; an IVR's tenant or tenant group must admit it, as CMS's ivr object says),
 * at the domain of the highest-priority rule resolving to IVRs for it; -ENOENT when none. */
int store_match_ivr_address(struct store *st, const char *tenant, char *ret_address, size_t cap);

/* Access methods in matching (schema/0007_spaces.sql): the coSpace of the oldest access method
 * whose uri equals user in any case, within tenant unless NULL or "" (its coSpace's), into
 * ret_id (-ENOENT when none); and every access method with this callId, oldest first, as the
 * entry a guest joins by: the coSpace's id, tenant and nonMemberAccess with the access method's
 * uri, callId, passcode and secret. fn returns 0 to go on, non-zero to stop (returned). */
typedef int (*store_entry_fn)(const struct store_cospace_entry *entry, void *userdata);
int store_match_access_uri(struct store *st, const char *user, const char *tenant, char *ret_id);
int store_match_access_call_id(struct store *st, const char *call_id, store_entry_fn fn,
                               void *userdata);

/* ---- the CDR outbox (store/q_cdr.c) ------------------------------------------------
 * Records are appended in the order of their events and numbered (record_index, never reused);
 * each receiver's delivered index says how far it got; delivered records are deleted. */
struct store_cdr_record {
    int64_t index;
    char session[STORE_ID_LEN + 1];
    char type[24];
    char time[32];
    int64_t correlator;
    char *body; /* malloc()ed; store_cdr_record_done frees it */
    /* the node that wrote it, in a cluster (its name; "" for one node): each node sends its
     * own records only (schema/0013_calls.sql) */
    char node[STORE_TEXT_MAX + 1];
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
/* The same for the records of node (a cluster's node name; "": as the functions above, one
 * node's outbox): after reads only node's records; delivered records how far receiver id has
 * node's records (cdr_delivery) and deletes node's records every receiver has;
 * delivered_get reads it (-ENOENT: none yet, the receiver's own delivered index applies). */
int store_cdr_after_node(struct store *st, const char *node, int64_t after, size_t limit,
                         store_cdr_fn fn, void *userdata);
int store_cdr_count_after_node(struct store *st, const char *node, int64_t after,
                               size_t *ret_count);
int store_cdr_delivered_node(struct store *st, const char *id, const char *node, int64_t index);
int store_cdr_delivered_get(struct store *st, const char *id, const char *node, int64_t *ret_index);
/* Each receiver's row of node (cdr_delivery): fn(receiver id, delivered, userdata), in one
 * query; fn returns 0 to go on. */
typedef int (*store_cdr_delivered_fn)(const char *receiver, int64_t delivered, void *userdata);
int store_cdr_delivered_each(struct store *st, const char *node, store_cdr_delivered_fn fn,
                             void *userdata);
/* The number of receivers with a uri. */
int store_cdr_receivers(struct store *st, size_t *ret_count);
/* The records receiver id has still to get, of every node (each node's after how far id has
 * that node's, cdr_delivery, else after id's own delivered index): the same on every node. */
int store_cdr_pending(struct store *st, const char *id, size_t *ret_count);
/* A down node's records (schema/0016_fence.sql, docs/cluster.md "CDRs"): one live node sends
 * them, by a claim in the database. On a shared database only (else -ENOENT, -ENOTSUP, 0).
 * orphan: the name of a node other than self, not up, whose records wait in the outbox and
 * that no live node but self has claimed (the oldest record's first), or -ENOENT.
 * adopt: claims node's records for self, or confirms self's claim: 0 while self holds it and
 * node is down; -EEXIST when another live node holds it; -EALREADY when node is up again (any
 * claim on it is removed: it sends its own). Call it before each batch of node's records.
 * adopted: ends self's claims on nodes that are up again; then 1 when a live node other than
 * self holds a claim on self's records (self must not send them yet: the claim ends at that
 * node's next look), else 0, or a negative errno. */
int store_cdr_orphan(struct store *st, const char *self, unsigned down_after, char *ret_node,
                     size_t cap);
int store_cdr_adopt(struct store *st, const char *node, const char *self, unsigned down_after);
int store_cdr_adopted(struct store *st, const char *self, unsigned down_after);

/* ---- cluster membership (store/q_cluster.c, schema/0012_cluster.sql) -----------------------
 * Several call bridges on one PostgreSQL database: each registers itself by name and heartbeats
 * in the database's clock (now()), so every node judges the others' age by one clock. These
 * functions answer -ENOTSUP on SQLite (one node, nothing registered), except the LDAP claims,
 * which work on both. A node is down when it has not heartbeaten for down_after of its own
 * intervals, stopped when it said so at its end. */
struct store_node {
    char name[STORE_TEXT_MAX + 1];
    char call_bridge[STORE_ID_LEN + 1]; /* its callBridges object */
    char host_id[STORE_ID_LEN + 1];     /* the data directory's hostId (api/res/system.c) */
    char address[STORE_TEXT_MAX + 1];
    int64_t interval_ms;      /* its heartbeat interval */
    int64_t heartbeat_age_ms; /* database clock: now() - its last heartbeat */
    int64_t started_ms;       /* database clock, ms since the epoch */
    bool stopped;             /* it stopped cleanly */
    bool up;                  /* !stopped, and heartbeat_age_ms within down_after intervals */
    /* store_node_register: in, this node's own clusterId; out, the cluster's (the first
     * registered node's) */
    char cluster_id[STORE_ID_LEN + 1];
};
typedef int (*store_node_fn)(const struct store_node *node, void *userdata);
/* True when st is a database several call bridges can share (PostgreSQL). */
bool store_is_shared(const struct store *st);
/* Registers node n (name, host_id, address, interval_ms) in one transaction serialized with
 * every other node's registration: its callBridges object, found by name in any case, is
 * updated with n->address or created with id new_bridge_id; its cluster_node row is taken
 * (started and heartbeaten now). n->call_bridge gets the object's id, n->cluster_id the
 * cluster's (n's own when it is the first to register). -EADDRINUSE (nothing
 * written) when a node of that name with another host_id is up. */
int store_node_register(struct store *st, struct store_node *n, const char *new_bridge_id,
                        unsigned down_after);
/* Heartbeat (now()) or a clean stop of the node name with host_id: -ENOENT when its row is gone
 * or was taken by another host. */
int store_node_heartbeat(struct store *st, const char *name, const char *host_id);
int store_node_stop(struct store *st, const char *name, const char *host_id);
/* Every node in registration order, their age and state by the database's clock. */
int store_node_foreach(struct store *st, unsigned down_after, store_node_fn fn, void *userdata);

/* The database servers as the server this connection talks to sees them: itself, and its
 * streaming replicas (pg_stat_replication: fields the role may not read are "" / -1), or, when
 * it is a replica, the primary it follows (pg_stat_wal_receiver). */
struct store_db_node {
    char host[64]; /* numeric address; "[local]": a replica on a Unix socket; "" unknown */
    int port;      /* 0 when unknown */
    char name[64]; /* a replica's application_name */
    bool master, up, in_use;
    char state[32];       /* a replica's walsender state (streaming, catchup, ...), "" unknown */
    char sync_state[16];  /* sync, async, potential, quorum; "" unknown */
    int64_t behind_bytes; /* WAL not yet replayed; -1 unknown */
    int64_t lag_ms;       /* replay lag; -1 unknown */
};
#define STORE_DB_NODES_MAX 16
int store_db_nodes(struct store *st, struct store_db_node *v, size_t cap, size_t *ret_n);

/* Each node's view of each TURN server (its status body, as the API renders it): put replaces
 * node's view of turn_server, stamped now(); get gives a malloc()ed copy and its age (database
 * clock), -ENOENT when that node published none; prune drops views of deleted servers. */
int store_turn_view_put(struct store *st, const char *node, const char *turn_server,
                        const char *body);
int store_turn_view_get(struct store *st, const char *node, const char *turn_server,
                        char **ret_body, int64_t *ret_age_ms);
int store_turn_view_prune(struct store *st);

/* LDAP syncs (both backends): claim moves the oldest pending sync to inProgress for node (a
 * conditional update, so two nodes never take the same one) and records the claim: its id into
 * ret_id, -ENOENT when none is pending. requeue sets back to pending every sync inProgress whose
 * claim is node's own (only when mine is true: a node starting), or a node's that is not up, or
 * that has no claim; never one a node that is up holds. Returns how many. */
int store_ldap_claim(struct store *st, const char *node, char *ret_id);
int store_ldap_requeue(struct store *st, const char *node, bool mine, unsigned down_after);

/* ---- calls in a cluster (store/q_calls.c, schema/0013_calls.sql) --------------------------
 * The call directory: which node (its cluster name) hosts each coSpace's running call. One call
 * per coSpace by constraint: claim answers -EEXIST when the coSpace (or the call id) is in the
 * directory already, whoever inserted it however close in time. Times are the database's
 * clock. Works on both backends; only a clustered node (api/cluster.h) uses it. */
struct store_call_home {
    char call_id[STORE_ID_LEN + 1], cospace[STORE_ID_LEN + 1], correlator[STORE_ID_LEN + 1];
    char node[STORE_TEXT_MAX + 1];    /* the hosting node's name */
    int64_t started_ms;               /* database clock */
    char address[STORE_TEXT_MAX + 1]; /* read: its node's address ("" when not registered) */
    bool node_up;                     /* read: its node is up (as store_node's up) */
    int64_t age_ms;                   /* read: database clock, now - started_ms */
};
typedef int (*store_call_home_fn)(const struct store_call_home *home, void *userdata);
/* Inserts c (call_id, cospace, correlator, node), started now: 0 or -EEXIST. */
int store_call_claim(struct store *st, const struct store_call_home *c);
/* The call of cospace, with its node's address and state (down after down_after of the node's
 * intervals): 0 or -ENOENT. */
int store_call_home_get(struct store *st, const char *cospace, unsigned down_after,
                        struct store_call_home *ret);
/* Every call in the directory, oldest first. */
int store_call_foreach(struct store *st, unsigned down_after, store_call_home_fn fn,
                       void *userdata);
/* Removes call_id and its legs if node holds it: 0, or -ENOENT (not there, or another
 * node's). */
int store_call_release(struct store *st, const char *call_id, const char *node);
/* Removes every call node holds, and their legs; returns how many calls, or a negative errno. */
int store_call_release_node(struct store *st, const char *node);
/* The legs of the calls in the directory, for the ends of a failed node's calls: add one of
 * call_id on node (started now; nothing when the directory no longer gives call_id to node),
 * remove one of node's. */
int store_call_leg_add(struct store *st, const char *leg_id, const char *call_id, const char *node);
int store_call_leg_remove(struct store *st, const char *leg_id, const char *node);
struct store_call_leg_home {
    char leg_id[STORE_ID_LEN + 1];
    int64_t age_ms; /* database clock: now - its start */
};
/* Takes the call call_id of node (a node shown down) out of the directory, with its legs, in one
 * transaction: 0 when this caller deleted it (of several nodes taking it at once, exactly one
 * gets 0; the others -ENOENT). Its legs into legs (at most cap: *ret_n; *ret_more beyond). */
int store_call_take(struct store *st, const char *call_id, const char *node,
                    struct store_call_leg_home *legs, size_t cap, size_t *ret_n, size_t *ret_more);

/* callBridgeGroups with loadBalancingEnabled (and loadBalanceUserCalls): where a new call of
 * cospace goes, in one statement: the live node of self's group (self included) with the
 * fewest legs in the directory, then the fewest calls, self first among equals; its name and
 * address into ret. -ENOENT when self is in no group that balances its calls, or when the
 * directory has a call of cospace already (the claim finds it). */
int store_call_least_loaded(struct store *st, const char *self, const char *cospace,
                            unsigned down_after, struct store_call_home *ret);

/* A guest sent to the node hosting its call: a one-use ticket, kept as its hash (never the
 * passcode), naming the coSpace and access method it was admitted to and its display name. */
struct store_handoff {
    char ticket_hash[65];
    char cospace[STORE_ID_LEN + 1], access_method[STORE_ID_LEN + 1];
    char name[STORE_TEXT_MAX + 1];
};
/* Stores h, valid for ttl_ms (database clock), dropping expired tickets first. */
int store_handoff_put(struct store *st, const struct store_handoff *h, int64_t ttl_ms);
/* Takes (reads and deletes) the unexpired ticket with this hash: 0, or -ENOENT (none, expired,
 * or taken by another request first). */
int store_handoff_take(struct store *st, const char *ticket_hash, struct store_handoff *ret);

/* A guest's rejoin credential (schema/0014_guest.sql), kept as its hash: what the guest was
 * admitted to (coSpace, access method, display name), the leg it was given to, and its chain
 * (the first leg of that guest: each rejoin answers a new credential of the same chain). */
struct store_rejoin {
    char cred_hash[65];
    char chain[STORE_ID_LEN + 1], leg[STORE_ID_LEN + 1];
    char cospace[STORE_ID_LEN + 1], access_method[STORE_ID_LEN + 1];
    char name[STORE_TEXT_MAX + 1];
};
/* Stores r, valid for ttl_ms (database clock), dropping expired credentials first. */
int store_rejoin_put(struct store *st, const struct store_rejoin *r, int64_t ttl_ms);
/* Takes the credential with this hash, once: 0 with *ret filled; -EALREADY when it was used
 * before (then its whole chain is revoked: someone holds a copy); -ENOENT when it is unknown,
 * expired or revoked. */
int store_rejoin_take(struct store *st, const char *cred_hash, struct store_rejoin *ret);
/* Gives back a credential taken by store_rejoin_take whose join then failed (503): usable again
 * if it was not revoked meanwhile. */
int store_rejoin_restore(struct store *st, const char *cred_hash);
/* Revokes every credential of chain (the guest left or was removed). */
int store_rejoin_revoke(struct store *st, const char *chain);

#endif
