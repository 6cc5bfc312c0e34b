/* store/q_cluster.c: cluster membership, each node's TURN view and the LDAP sync claims
 * (schema/0012_cluster.sql; store.h documents the contract).
 *
 * DESIGN: every time compared across nodes is the database's (now(), dialect difference 13 in
 * store/db.h), never a node's own clock, so a node whose clock is off is judged by the same
 * clock as the others. Registrations are serialized by a transaction-scoped advisory lock, so
 * two nodes starting under one name cannot both pass the check. The LDAP claim is a conditional
 * UPDATE (state = 'pending' in its WHERE): under PostgreSQL's READ COMMITTED the second of two
 * concurrent updates waits for the first and re-checks the row, so it changes nothing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

/* Runs sql (parameters ?1.. bound from the NULL-ended args) to its end. */
static int run(struct store *st, const char *sql, const char *const *args)
{
    struct db_stmt *stmt;
    int r = 0;

    stmt = store_stmt_sql(st, sql, &r);
    if (!stmt)
        return r;
    for (int i = 0; r == 0 && args && args[i]; i++)
        r = db_bind_text(stmt, i + 1, args[i]);
    if (r == 0)
        r = db_step_done(stmt);
    db_stmt_done(stmt);
    return r;
}

/* Runs sql, without parameters, for the one row it gives (a function called for its effect). */
static int run_one(struct store *st, const char *sql)
{
    struct db_stmt *stmt;
    int r = 0;

    stmt = store_stmt_sql(st, sql, &r);
    if (!stmt)
        return r;
    r = db_step_one(stmt);
    db_stmt_done(stmt);
    return r;
}

/* ---- nodes ------------------------------------------------------------------------------------
 */

/* The columns read_node() reads, with ?1 the down_after count. */
#define NODE_COLS                                                                                  \
    "name, call_bridge, host_id, address, interval_ms, %s - heartbeat_ms, started_ms, stopped, "   \
    "CASE WHEN stopped = 0 AND %s - heartbeat_ms <= CAST(?1 AS BIGINT) * interval_ms THEN 1 "      \
    "ELSE 0 END"

static int read_node(struct db_stmt *stmt, struct store_node *n)
{
    int r = 0;

    memset(n, 0, sizeof(*n));
    r |= db_copy_text(stmt, 0, n->name, sizeof(n->name));
    r |= db_copy_text(stmt, 1, n->call_bridge, sizeof(n->call_bridge));
    r |= db_copy_text(stmt, 2, n->host_id, sizeof(n->host_id));
    r |= db_copy_text(stmt, 3, n->address, sizeof(n->address));
    n->interval_ms = db_column_int64(stmt, 4);
    n->heartbeat_age_ms = db_column_int64(stmt, 5);
    n->started_ms = db_column_int64(stmt, 6);
    n->stopped = db_column_int64(stmt, 7) != 0;
    n->up = db_column_int64(stmt, 8) != 0;
    return r ? -EIO : 0;
}

/* The node named name (any case), or -ENOENT. */
static int node_get(struct store *st, const char *name, unsigned down_after, struct store_node *n)
{
    char sql[768], cols[512];
    struct db_stmt *stmt;
    int r = 0;

    (void)snprintf(cols, sizeof(cols), NODE_COLS, store_now_sql(st), store_now_sql(st));
    (void)snprintf(sql, sizeof(sql),
                   "SELECT %s FROM cluster_node WHERE lower(name) = lower(?2) ORDER BY seq LIMIT 1",
                   cols);
    stmt = store_stmt_sql(st, sql, &r);
    if (!stmt)
        return r;
    r = db_bind_int64(stmt, 1, down_after);
    if (r == 0)
        r = db_bind_text(stmt, 2, name);
    if (r == 0)
        r = db_step_one(stmt);
    if (r == 0)
        r = read_node(stmt, n);
    db_stmt_done(stmt);
    return r;
}

/* The callBridges object named name (any case): its id into ret_id, or -ENOENT. */
static int bridge_by_name(struct store *st, const char *name, char *ret_id)
{
    struct db_stmt *stmt;
    int r = 0;

    stmt = store_stmt_sql(
        st, "SELECT id FROM call_bridge WHERE lower(name) = lower(?1) ORDER BY seq LIMIT 1", &r);
    if (!stmt)
        return r;
    r = db_bind_text(stmt, 1, name);
    if (r == 0)
        r = db_step_one(stmt);
    if (r == 0)
        r = db_copy_text(stmt, 0, ret_id, STORE_ID_LEN + 1);
    db_stmt_done(stmt);
    return r;
}

/* The callBridges object of n: updated with its address, or created as new_id. */
static int bridge_ensure(struct store *st, struct store_node *n, const char *new_id)
{
    struct store_row row = {0};
    int r = bridge_by_name(st, n->name, n->call_bridge);

    if (r == 0) {
        r = store_row_get(st, &store_table_call_bridge, n->call_bridge, &row);
        if (r == 0 && (!row.v[STORE_BRIDGE_ADDRESS] ||
                       strcmp(row.v[STORE_BRIDGE_ADDRESS], n->address) != 0)) {
            r = store_row_set(&row, STORE_BRIDGE_ADDRESS, n->address);
            if (r == 0)
                r = store_row_update(st, &store_table_call_bridge, &row);
        }
    } else if (r == -ENOENT) {
        (void)snprintf(n->call_bridge, sizeof(n->call_bridge), "%s", new_id);
        r = store_row_set(&row, STORE_COL_ID, new_id);
        if (r == 0)
            r = store_row_set(&row, STORE_BRIDGE_NAME, n->name);
        if (r == 0)
            r = store_row_set(&row, STORE_BRIDGE_ADDRESS, n->address);
        if (r == 0)
            r = store_row_insert(st, &store_table_call_bridge, &row);
    }
    store_row_done(&row);
    return r;
}

static int node_take(struct store *st, const struct store_node *n, bool exists)
{
    char sql[512], interval[24];
    const char *args[] = {n->name, n->call_bridge, n->host_id, n->address, interval, NULL};

    (void)snprintf(interval, sizeof(interval), "%lld", (long long)n->interval_ms);
    if (exists)
        (void)snprintf(sql, sizeof(sql),
                       "UPDATE cluster_node SET name = ?1, call_bridge = ?2, host_id = ?3, "
                       "address = ?4, interval_ms = CAST(?5 AS BIGINT), started_ms = %s, "
                       "heartbeat_ms = %s, stopped = 0 WHERE lower(name) = lower(?1)",
                       store_now_sql(st), store_now_sql(st));
    else
        (void)snprintf(sql, sizeof(sql),
                       "INSERT INTO cluster_node (name, call_bridge, host_id, address, "
                       "interval_ms, started_ms, heartbeat_ms) VALUES (?1, ?2, ?3, ?4, "
                       "CAST(?5 AS BIGINT), %s, %s)",
                       store_now_sql(st), store_now_sql(st));
    return run(st, sql, args);
}

/* The cluster's id: the one recorded, or n's own, recorded now. */
static int cluster_identity(struct store *st, struct store_node *n)
{
    const char *args[] = {n->cluster_id, NULL};
    struct db_stmt *stmt;
    int r = 0;

    stmt = store_stmt_sql(st, "SELECT cluster_id FROM cluster_identity ORDER BY seq LIMIT 1", &r);
    if (!stmt)
        return r;
    r = db_step_one(stmt);
    if (r == 0)
        r = db_copy_text(stmt, 0, n->cluster_id, sizeof(n->cluster_id));
    db_stmt_done(stmt);
    if (r == -ENOENT)
        r = run(st, "INSERT INTO cluster_identity (cluster_id) VALUES (?1)", args);
    return r;
}

int store_node_register(struct store *st, struct store_node *n, const char *new_bridge_id,
                        unsigned down_after)
{
    struct store_node old;
    int r;

    if (!store_is_shared(st))
        return -ENOTSUP;
    r = store_begin(st);
    if (r == 0) /* one registration at a time across the cluster, until the commit */
        r = run_one(st, "SELECT pg_advisory_xact_lock(7210316)");
    if (r == 0) {
        r = node_get(st, n->name, down_after, &old);
        if (r == 0 && old.up && strcmp(old.host_id, n->host_id) != 0)
            r = -EADDRINUSE;
        else if (r == 0 || r == -ENOENT) {
            bool exists = r == 0;

            r = bridge_ensure(st, n, new_bridge_id);
            if (r == 0)
                r = node_take(st, n, exists);
            if (r == 0)
                r = cluster_identity(st, n);
        }
    }
    if (r == 0)
        r = store_commit(st);
    store_rollback(st);
    return r;
}

static int node_mark(struct store *st, const char *set, const char *name, const char *host_id)
{
    char sql[384];
    const char *args[] = {name, host_id, NULL};
    int r;

    if (!store_is_shared(st))
        return -ENOTSUP;
    (void)snprintf(sql, sizeof(sql),
                   "UPDATE cluster_node SET heartbeat_ms = %s%s WHERE name = ?1 AND host_id = ?2",
                   store_now_sql(st), set);
    r = run(st, sql, args);
    if (r == 0 && db_changes(st->db) == 0)
        r = -ENOENT;
    return r;
}

int store_node_heartbeat(struct store *st, const char *name, const char *host_id)
{
    return node_mark(st, ", stopped = 0", name, host_id);
}

int store_node_stop(struct store *st, const char *name, const char *host_id)
{
    return node_mark(st, ", stopped = 1", name, host_id);
}

int store_node_foreach(struct store *st, unsigned down_after, store_node_fn fn, void *userdata)
{
    char sql[768], cols[512];
    struct store_node n;
    struct db_stmt *stmt;
    int r = 0;

    if (!store_is_shared(st))
        return -ENOTSUP;
    (void)snprintf(cols, sizeof(cols), NODE_COLS, store_now_sql(st), store_now_sql(st));
    (void)snprintf(sql, sizeof(sql), "SELECT %s FROM cluster_node ORDER BY seq", cols);
    stmt = store_stmt_sql(st, sql, &r);
    if (!stmt)
        return r;
    r = db_bind_int64(stmt, 1, down_after);
    while (r == 0 && (r = db_step(stmt)) == DB_ROW) {
        r = read_node(stmt, &n);
        if (r == 0)
            r = fn(&n, userdata);
    }
    db_stmt_done(stmt);
    return r < 0 ? r : 0;
}

/* ---- database servers ------------------------------------------------------------------------ */

static void copy_col(struct db_stmt *stmt, int col, char *dst, size_t cap)
{
    const char *s = db_column_text(stmt, col);

    (void)snprintf(dst, cap, "%s", s ? s : "");
}

/* This connection's server: in recovery or not, its address and port. */
static int db_self(struct store *st, struct store_db_node *self, bool *ret_recovery)
{
    struct db_stmt *stmt;
    int r = 0;

    stmt = store_stmt_sql(st,
                          "SELECT CASE WHEN pg_is_in_recovery() THEN 1 ELSE 0 END, "
                          "host(inet_server_addr()), inet_server_port()",
                          &r);
    if (!stmt)
        return r;
    r = db_step_one(stmt);
    if (r == 0) {
        *ret_recovery = db_column_int64(stmt, 0) != 0;
        copy_col(stmt, 1, self->host, sizeof(self->host));
        self->port = (int)db_column_int64(stmt, 2);
    }
    db_stmt_done(stmt);
    return r;
}

/* The primary's streaming replicas, after v[*n]. */
static int db_replicas(struct store *st, struct store_db_node *v, size_t cap, size_t *n)
{
    struct db_stmt *stmt;
    int r = 0;

    stmt = store_stmt_sql(
        st,
        "SELECT host(client_addr), application_name, state, sync_state, "
        "coalesce(CAST(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) AS BIGINT), -1), "
        "coalesce(CAST(EXTRACT(EPOCH FROM replay_lag) * 1000 AS BIGINT), -1) "
        "FROM pg_stat_replication ORDER BY application_name, client_addr, client_port",
        &r);
    if (!stmt)
        return r;
    while (*n < cap && (r = db_step(stmt)) == DB_ROW) {
        struct store_db_node *d = &v[(*n)++];

        memset(d, 0, sizeof(*d));
        copy_col(stmt, 0, d->host, sizeof(d->host));
        copy_col(stmt, 1, d->name, sizeof(d->name));
        copy_col(stmt, 2, d->state, sizeof(d->state));
        copy_col(stmt, 3, d->sync_state, sizeof(d->sync_state));
        d->behind_bytes = db_column_int64(stmt, 4);
        d->lag_ms = db_column_int64(stmt, 5);
        /* the row exists while the replica is connected; without pg_monitor its state is hidden */
        d->up = !d->state[0] || strcmp(d->state, "streaming") == 0;
        if (!d->host[0] && d->state[0]) /* readable, and connected over a Unix socket */
            (void)snprintf(d->host, sizeof(d->host), "[local]");
        r = 0;
    }
    db_stmt_done(stmt);
    return r < 0 ? r : 0;
}

/* A replica's primary (pg_stat_wal_receiver), and how far the replica is behind it. */
static int db_primary_of(struct store *st, struct store_db_node *self, struct store_db_node *p,
                         bool *ret_found)
{
    struct db_stmt *stmt;
    int r = 0;

    *ret_found = false;
    stmt = store_stmt_sql(st,
                          "SELECT sender_host, sender_port, status, coalesce(CAST(pg_wal_lsn_diff("
                          "pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()) AS BIGINT), -1) "
                          "FROM pg_stat_wal_receiver",
                          &r);
    if (!stmt)
        return r;
    r = db_step_one(stmt);
    if (r == 0) {
        memset(p, 0, sizeof(*p));
        copy_col(stmt, 0, p->host, sizeof(p->host));
        p->port = (int)db_column_int64(stmt, 1);
        copy_col(stmt, 2, p->state, sizeof(p->state));
        p->master = true;
        p->up = strcmp(p->state, "streaming") == 0;
        p->behind_bytes = 0;
        p->lag_ms = -1;
        self->behind_bytes = db_column_int64(stmt, 3);
        *ret_found = true;
    }
    db_stmt_done(stmt);
    return r == -ENOENT ? 0 : r;
}

int store_db_nodes(struct store *st, struct store_db_node *v, size_t cap, size_t *ret_n)
{
    struct store_db_node self = {.up = true, .in_use = true, .lag_ms = -1};
    bool recovery = false, found = false;
    size_t n = 0;
    int r;

    if (!store_is_shared(st))
        return -ENOTSUP;
    if (cap < 2)
        return -EINVAL;
    r = db_self(st, &self, &recovery);
    if (r == 0 && !recovery) {
        self.master = true;
        self.behind_bytes = 0;
        v[n++] = self;
        r = db_replicas(st, v, cap, &n);
    } else if (r == 0) {
        struct store_db_node p;

        (void)snprintf(self.state, sizeof(self.state), "recovery");
        r = db_primary_of(st, &self, &p, &found);
        if (r == 0 && found)
            v[n++] = p;
        v[n++] = self;
    }
    if (r == 0)
        *ret_n = n;
    return r;
}

/* ---- TURN views -------------------------------------------------------------------------------
 */

int store_turn_view_put(struct store *st, const char *node, const char *turn_server,
                        const char *body)
{
    char sql[512];
    const char *args[] = {node, turn_server, body, NULL};
    bool own;
    int r;

    if (!store_is_shared(st))
        return -ENOTSUP;
    r = store_write_enter(st, &own);
    if (r == 0) {
        (void)snprintf(sql, sizeof(sql),
                       "UPDATE cluster_turn_status SET body = ?3, checked_ms = %s "
                       "WHERE node = ?1 AND turn_server = ?2",
                       store_now_sql(st));
        r = run(st, sql, args);
    }
    if (r == 0 && db_changes(st->db) == 0) {
        (void)snprintf(sql, sizeof(sql),
                       "INSERT INTO cluster_turn_status (node, turn_server, body, checked_ms) "
                       "VALUES (?1, ?2, ?3, %s)",
                       store_now_sql(st));
        r = run(st, sql, args);
    }
    return store_write_leave(st, own, r);
}

int store_turn_view_get(struct store *st, const char *node, const char *turn_server,
                        char **ret_body, int64_t *ret_age_ms)
{
    char sql[256];
    struct db_stmt *stmt;
    int r = 0;

    if (!store_is_shared(st))
        return -ENOTSUP;
    (void)snprintf(sql, sizeof(sql),
                   "SELECT body, %s - checked_ms FROM cluster_turn_status "
                   "WHERE node = ?1 AND turn_server = ?2",
                   store_now_sql(st));
    stmt = store_stmt_sql(st, sql, &r);
    if (!stmt)
        return r;
    r = db_bind_text(stmt, 1, node);
    if (r == 0)
        r = db_bind_text(stmt, 2, turn_server);
    if (r == 0)
        r = db_step_one(stmt);
    if (r == 0) {
        const char *b = db_column_text(stmt, 0);

        *ret_body = strdup(b ? b : "");
        *ret_age_ms = db_column_int64(stmt, 1);
        if (!*ret_body)
            r = -ENOMEM;
    }
    db_stmt_done(stmt);
    return r;
}

int store_turn_view_prune(struct store *st)
{
    if (!store_is_shared(st))
        return -ENOTSUP;
    return run(st,
               "DELETE FROM cluster_turn_status WHERE turn_server NOT IN "
               "(SELECT id FROM turn_server)",
               NULL);
}

/* ---- LDAP sync claims --------------------------------------------------------------------------
 */

int store_ldap_claim(struct store *st, const char *node, char *ret_id)
{
    char id[STORE_ID_LEN + 1], now[24];
    struct db_stmt *stmt;
    int r = 0;

    stmt = store_stmt_sql(
        st, "SELECT id FROM ldap_sync WHERE state = 'pending' ORDER BY seq LIMIT 1", &r);
    if (!stmt)
        return r;
    r = db_step_one(stmt);
    if (r == 0)
        r = db_copy_text(stmt, 0, id, sizeof(id));
    db_stmt_done(stmt);
    if (r < 0)
        return r;
    (void)snprintf(now, sizeof(now), "%lld", (long long)store_now_ms());
    r = store_begin(st);
    if (r == 0) {
        const char *args[] = {id, now, NULL};

        r = run(st,
                "UPDATE ldap_sync SET state = 'inProgress', updated_ms = CAST(?2 AS BIGINT) "
                "WHERE id = ?1 AND state = 'pending'",
                args);
        if (r == 0 && db_changes(st->db) == 0)
            r = -EAGAIN; /* another node took it first, or it was deleted */
    }
    if (r == 0) {
        const char *args[] = {id, NULL};

        r = run(st, "DELETE FROM ldap_sync_claim WHERE sync_id = ?1", args);
    }
    if (r == 0) {
        const char *args[] = {id, node, NULL};

        r = run(st, "INSERT INTO ldap_sync_claim (sync_id, node) VALUES (?1, ?2)", args);
    }
    if (r == 0)
        r = store_commit(st);
    store_rollback(st);
    if (r == 0)
        memcpy(ret_id, id, sizeof(id));
    return r;
}

int store_ldap_requeue(struct store *st, const char *node, bool mine, unsigned down_after)
{
    char sql[1024], now[24], down[16];
    const char *args[] = {node, mine ? "1" : "0", down, now, NULL};
    int64_t n = 0;
    bool own;
    int r;

    (void)snprintf(now, sizeof(now), "%lld", (long long)store_now_ms());
    (void)snprintf(down, sizeof(down), "%u", down_after);
    /* a claim is held while its node is up: registered under that hostId, not stopped, and
     * heartbeaten within down_after of its intervals */
    (void)snprintf(sql, sizeof(sql),
                   "UPDATE ldap_sync SET state = 'pending', updated_ms = CAST(?4 AS BIGINT) "
                   "WHERE state = 'inProgress' AND NOT EXISTS (SELECT 1 FROM ldap_sync_claim c "
                   "WHERE c.sync_id = ldap_sync.id AND ((c.node = ?1 AND CAST(?2 AS BIGINT) = 0) "
                   "OR (c.node <> ?1 AND EXISTS (SELECT 1 FROM cluster_node n WHERE n.host_id = "
                   "c.node AND n.stopped = 0 AND %s - n.heartbeat_ms <= CAST(?3 AS BIGINT) * "
                   "n.interval_ms))))",
                   store_now_sql(st));
    r = store_write_enter(st, &own);
    if (r == 0)
        r = run(st, sql, args);
    if (r == 0) {
        n = db_changes(st->db);
        r = run(st, "DELETE FROM ldap_sync_claim WHERE sync_id NOT IN (SELECT id FROM ldap_sync)",
                NULL);
    }
    r = store_write_leave(st, own, r);
    return r < 0 ? r : (int)n;
}
