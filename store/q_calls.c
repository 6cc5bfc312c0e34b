/* store/q_calls.c: calls in a cluster (schema/0013_calls.sql; store.h documents the contract):
 * the call directory, which node hosts each coSpace's running call, and the guests' hand-off
 * tickets.
 *
 * DESIGN: one call per coSpace is the UNIQUE constraint on cluster_call.cospace, never a check
 * before the insert: of two nodes claiming one coSpace at once, the second insert fails with
 * -EEXIST whatever the timing (db.h difference 8). Times compared across nodes are the
 * database's clock (db.h difference 10). A ticket is taken by a DELETE that only one taker can
 * make change a row, so it is used once even when two nodes are given it at once. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"

/* Runs sql with the NULL-ended text args to its end; the rows it changed into *ret_changed
 * (may be NULL). In a write transaction of its own unless the caller's is open. */
static int write_sql(struct store *st, const char *sql, const char *const *args,
                     int64_t *ret_changed)
{
    struct db_stmt *stmt = NULL;
    bool own;
    int r = store_write_enter(st, &own);

    if (r == 0)
        stmt = store_stmt_sql(st, sql, &r);
    for (int i = 0; stmt && r == 0 && args[i]; i++)
        r = db_bind_text(stmt, i + 1, args[i]);
    if (stmt && r == 0)
        r = db_step_done(stmt);
    if (stmt && r == 0 && ret_changed)
        *ret_changed = db_changes(st->db);
    if (stmt)
        db_stmt_done(stmt);
    return store_write_leave(st, own, r);
}

int store_call_claim(struct store *st, const struct store_call_home *c)
{
    const char *args[] = {c->call_id, c->cospace, c->correlator, c->node, NULL};
    char sql[384];

    (void)snprintf(sql, sizeof(sql),
                   "INSERT INTO cluster_call (call_id, cospace, correlator, node, started_ms) "
                   "VALUES (?1, ?2, ?3, ?4, %s)",
                   store_now_sql(st));
    return write_sql(st, sql, args, NULL);
}

/* The columns read_home() reads; ?1 is the number of intervals after which a node is down. */
#define HOME_COLS                                                                                  \
    "c.call_id, c.cospace, c.correlator, c.node, c.started_ms, coalesce(n.address, ''), "          \
    "CASE WHEN n.stopped = 0 AND %s - n.heartbeat_ms <= CAST(?1 AS BIGINT) * n.interval_ms "       \
    "THEN 1 ELSE 0 END, %s - c.started_ms "                                                        \
    "FROM cluster_call c LEFT JOIN cluster_node n ON n.name = c.node"

static int read_home(struct db_stmt *stmt, struct store_call_home *h)
{
    int r = 0;

    memset(h, 0, sizeof(*h));
    r |= db_copy_text(stmt, 0, h->call_id, sizeof(h->call_id));
    r |= db_copy_text(stmt, 1, h->cospace, sizeof(h->cospace));
    r |= db_copy_text(stmt, 2, h->correlator, sizeof(h->correlator));
    r |= db_copy_text(stmt, 3, h->node, sizeof(h->node));
    h->started_ms = db_column_int64(stmt, 4);
    r |= db_copy_text(stmt, 5, h->address, sizeof(h->address));
    h->node_up = db_column_int64(stmt, 6) != 0;
    h->age_ms = db_column_int64(stmt, 7);
    return r ? -EIO : 0;
}

int store_call_home_get(struct store *st, const char *cospace, unsigned down_after,
                        struct store_call_home *ret)
{
    char sql[768], cols[512];
    struct db_stmt *stmt;
    int r = 0;

    (void)snprintf(cols, sizeof(cols), HOME_COLS, store_now_sql(st), store_now_sql(st));
    (void)snprintf(sql, sizeof(sql), "SELECT %s WHERE c.cospace = ?2", cols);
    stmt = store_stmt_sql(st, sql, &r);
    if (!stmt)
        return r;
    r = db_bind_int64(stmt, 1, down_after);
    if (r == 0)
        r = db_bind_text(stmt, 2, cospace);
    if (r == 0)
        r = db_step_one(stmt);
    if (r == 0)
        r = read_home(stmt, ret);
    db_stmt_done(stmt);
    return r;
}

int store_call_foreach(struct store *st, unsigned down_after, store_call_home_fn fn, void *userdata)
{
    char sql[768], cols[512];
    struct store_call_home h;
    struct db_stmt *stmt;
    int r = 0;

    (void)snprintf(cols, sizeof(cols), HOME_COLS, store_now_sql(st), store_now_sql(st));
    (void)snprintf(sql, sizeof(sql), "SELECT %s ORDER BY c.seq", cols);
    stmt = store_stmt_sql(st, sql, &r);
    if (!stmt)
        return r;
    r = db_bind_int64(stmt, 1, down_after);
    while (r == 0 && (r = db_step(stmt)) == DB_ROW) {
        r = read_home(stmt, &h);
        if (r == 0)
            r = fn(&h, userdata);
    }
    db_stmt_done(stmt);
    return r < 0 ? r : 0;
}

int store_call_release(struct store *st, const char *call_id, const char *node)
{
    const char *args[] = {call_id, node, NULL};
    int64_t n = 0;
    bool own;
    int r = store_write_enter(st, &own);

    if (r == 0)
        r = write_sql(st, "DELETE FROM cluster_call WHERE call_id = ?1 AND node = ?2", args, &n);
    if (r == 0)
        r = write_sql(st, "DELETE FROM cluster_call_leg WHERE call_id = ?1 AND node = ?2", args,
                      NULL);
    r = store_write_leave(st, own, r);
    return r < 0 ? r : n ? 0 : -ENOENT;
}

int store_call_release_node(struct store *st, const char *node)
{
    const char *args[] = {node, NULL};
    int64_t n = 0;
    bool own;
    int r = store_write_enter(st, &own);

    if (r == 0)
        r = write_sql(st, "DELETE FROM cluster_call WHERE node = ?1", args, &n);
    if (r == 0)
        r = write_sql(st, "DELETE FROM cluster_call_leg WHERE node = ?1", args, NULL);
    r = store_write_leave(st, own, r);
    return r < 0 ? r : (int)n;
}

int store_call_leg_add(struct store *st, const char *leg_id, const char *call_id, const char *node)
{
    const char *args[] = {leg_id, call_id, node, NULL};
    char sql[256];

    /* only while the call is this node's: a leg of a call another node took meanwhile (this
     * node paused, its queue written late) would stay in the directory with no call */
    (void)snprintf(sql, sizeof(sql),
                   "INSERT INTO cluster_call_leg (leg_id, call_id, node, started_ms) "
                   "SELECT ?1, ?2, ?3, %s WHERE EXISTS (SELECT 1 FROM cluster_call "
                   "WHERE call_id = ?2 AND node = ?3)",
                   store_now_sql(st));
    return write_sql(st, sql, args, NULL);
}

int store_call_leg_remove(struct store *st, const char *leg_id, const char *node)
{
    const char *args[] = {leg_id, node, NULL};

    return write_sql(st, "DELETE FROM cluster_call_leg WHERE leg_id = ?1 AND node = ?2", args,
                     NULL);
}

/* The legs of call_id into v (at most cap; *ret_n of them, *ret_more those beyond cap). */
static int legs_of(struct store *st, const char *call_id, struct store_call_leg_home *v, size_t cap,
                   size_t *ret_n, size_t *ret_more)
{
    char sql[256];
    struct db_stmt *stmt;
    int r = 0;

    (void)snprintf(sql, sizeof(sql),
                   "SELECT leg_id, %s - started_ms FROM cluster_call_leg WHERE call_id = ?1 "
                   "ORDER BY seq",
                   store_now_sql(st));
    stmt = store_stmt_sql(st, sql, &r);
    if (!stmt)
        return r;
    r = db_bind_text(stmt, 1, call_id);
    while (r == 0 && (r = db_step(stmt)) == DB_ROW) {
        r = 0;
        if (*ret_n == cap) {
            (*ret_more)++;
            continue;
        }
        r = db_copy_text(stmt, 0, v[*ret_n].leg_id, sizeof(v[0].leg_id)) < 0 ? -EIO : 0;
        v[(*ret_n)++].age_ms = db_column_int64(stmt, 1);
    }
    db_stmt_done(stmt);
    return r < 0 ? r : 0;
}

int store_call_take(struct store *st, const char *call_id, const char *node,
                    struct store_call_leg_home *legs, size_t cap, size_t *ret_n, size_t *ret_more)
{
    const char *args[] = {call_id, node, NULL};
    int64_t n = 0;
    int r = store_begin(st);

    *ret_n = *ret_more = 0;
    /* whoever deletes the row has the call: of several nodes, one */
    if (r == 0)
        r = write_sql(st, "DELETE FROM cluster_call WHERE call_id = ?1 AND node = ?2", args, &n);
    if (r == 0 && n == 0)
        r = -ENOENT;
    if (r == 0)
        r = legs_of(st, call_id, legs, cap, ret_n, ret_more);
    if (r == 0)
        r = write_sql(st, "DELETE FROM cluster_call_leg WHERE call_id = ?1 AND node = ?2", args,
                      NULL);
    if (r == 0)
        r = store_commit(st);
    store_rollback(st);
    return r;
}

int store_call_least_loaded(struct store *st, const char *self, const char *cospace,
                            unsigned down_after, struct store_call_home *ret)
{
    char sql[1536];
    struct db_stmt *stmt;
    int r = 0;

    /* the live nodes of self's group, when that group balances its guests' calls: fewest legs,
     * then fewest calls, then self, then the oldest registration */
    (void)snprintf(
        sql, sizeof(sql),
        "SELECT n.name, n.address, (SELECT count(*) FROM cluster_call_leg l WHERE l.node = "
        "n.name) AS legs, (SELECT count(*) FROM cluster_call c WHERE c.node = n.name) AS calls "
        "FROM cluster_node n JOIN call_bridge b ON b.id = n.call_bridge JOIN call_bridge_group g "
        "ON g.id = b.call_bridge_group WHERE g.load_balancing_enabled = 1 AND "
        "g.load_balance_user_calls = 1 AND b.call_bridge_group = (SELECT b2.call_bridge_group "
        "FROM cluster_node n2 JOIN call_bridge b2 ON b2.id = n2.call_bridge WHERE n2.name = ?2) "
        "AND n.stopped = 0 AND %s - n.heartbeat_ms <= CAST(?1 AS BIGINT) * n.interval_ms "
        "AND NOT EXISTS (SELECT 1 FROM cluster_call c3 WHERE c3.cospace = ?3) ORDER BY legs, "
        "calls, CASE WHEN n.name = ?2 THEN 0 ELSE 1 END, n.seq LIMIT 1",
        store_now_sql(st));
    stmt = store_stmt_sql(st, sql, &r);
    if (!stmt)
        return r;
    memset(ret, 0, sizeof(*ret));
    r = db_bind_int64(stmt, 1, down_after);
    if (r == 0)
        r = db_bind_text(stmt, 2, self);
    if (r == 0)
        r = db_bind_text(stmt, 3, cospace);
    if (r == 0)
        r = db_step_one(stmt);
    if (r == 0) {
        r |= db_copy_text(stmt, 0, ret->node, sizeof(ret->node));
        r |= db_copy_text(stmt, 1, ret->address, sizeof(ret->address));
        ret->node_up = true;
        r = r < 0 ? -EIO : 0;
    }
    db_stmt_done(stmt);
    return r;
}

/* ---- guests' hand-off tickets ------------------------------------------------------------ */

int store_handoff_put(struct store *st, const struct store_handoff *h, int64_t ttl_ms)
{
    char sql[512], ttl[24];
    const char *args[] = {h->ticket_hash, h->cospace, h->access_method, h->name, ttl, NULL};
    int r;

    (void)snprintf(ttl, sizeof(ttl), "%lld", (long long)ttl_ms);
    (void)snprintf(sql, sizeof(sql), "DELETE FROM guest_handoff WHERE expires_ms < %s",
                   store_now_sql(st));
    r = write_sql(st, sql, (const char *const[]){NULL}, NULL);
    if (r < 0)
        return r;
    (void)snprintf(sql, sizeof(sql),
                   "INSERT INTO guest_handoff (ticket_hash, cospace, access_method, name, "
                   "expires_ms) VALUES (?1, ?2, ?3, ?4, %s + CAST(?5 AS BIGINT))",
                   store_now_sql(st));
    return write_sql(st, sql, args, NULL);
}

int store_handoff_take(struct store *st, const char *ticket_hash, struct store_handoff *ret)
{
    char sql[256];
    struct db_stmt *stmt = NULL;
    bool own;
    int r = store_write_enter(st, &own);

    /* one statement: of two takers, one deletes the row and reads it, the other reads none */
    (void)snprintf(sql, sizeof(sql),
                   "DELETE FROM guest_handoff WHERE ticket_hash = ?1 AND expires_ms >= %s "
                   "RETURNING cospace, access_method, name",
                   store_now_sql(st));
    if (r == 0)
        stmt = store_stmt_sql(st, sql, &r);
    memset(ret, 0, sizeof(*ret));
    if (stmt && r == 0)
        r = db_bind_text(stmt, 1, ticket_hash);
    if (stmt && r == 0)
        r = db_step_one(stmt);
    if (stmt && r == 0) {
        (void)snprintf(ret->ticket_hash, sizeof(ret->ticket_hash), "%s", ticket_hash);
        r |= db_copy_text(stmt, 0, ret->cospace, sizeof(ret->cospace));
        r |= db_copy_text(stmt, 1, ret->access_method, sizeof(ret->access_method));
        r |= db_copy_text(stmt, 2, ret->name, sizeof(ret->name));
        r = r < 0 ? -EIO : 0;
    }
    if (stmt)
        db_stmt_done(stmt);
    return store_write_leave(st, own, r);
}

/* ---- guests' rejoin credentials ---------------------------------------------------------- */

int store_rejoin_put(struct store *st, const struct store_rejoin *c, int64_t ttl_ms)
{
    char sql[512], ttl[24];
    const char *args[] = {c->cred_hash, c->chain, c->cospace, c->access_method,
                          c->name,      c->leg,   ttl,        NULL};
    bool own;
    int r = store_write_enter(st, &own);

    (void)snprintf(ttl, sizeof(ttl), "%lld", (long long)ttl_ms);
    (void)snprintf(sql, sizeof(sql), "DELETE FROM guest_rejoin WHERE expires_ms < %s",
                   store_now_sql(st));
    if (r == 0)
        r = write_sql(st, sql, (const char *const[]){NULL}, NULL);
    (void)snprintf(sql, sizeof(sql),
                   "INSERT INTO guest_rejoin (cred_hash, chain, cospace, access_method, name, leg, "
                   "expires_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, %s + CAST(?7 AS BIGINT))",
                   store_now_sql(st));
    if (r == 0)
        r = write_sql(st, sql, args, NULL);
    return store_write_leave(st, own, r);
}

int store_rejoin_restore(struct store *st, const char *cred_hash)
{
    const char *args[] = {cred_hash, NULL};

    return write_sql(st, "UPDATE guest_rejoin SET used = 0 WHERE cred_hash = ?1", args, NULL);
}

int store_rejoin_revoke(struct store *st, const char *chain)
{
    const char *args[] = {chain, NULL};
    char sql[256];

    (void)snprintf(sql, sizeof(sql),
                   "UPDATE guest_rejoin SET expires_ms = %s - 1 WHERE chain = ?1 AND "
                   "expires_ms >= %s",
                   store_now_sql(st), store_now_sql(st));
    return write_sql(st, sql, args, NULL);
}

/* Why the credential with this hash was not taken: -EALREADY (used: its chain into chain[37])
 * or -ENOENT. */
static int rejoin_refusal(struct store *st, const char *cred_hash, char *chain)
{
    char sql[256];
    struct db_stmt *stmt;
    int r = 0;

    (void)snprintf(sql, sizeof(sql),
                   "SELECT chain FROM guest_rejoin WHERE cred_hash = ?1 AND used = 1 AND "
                   "expires_ms >= %s",
                   store_now_sql(st));
    stmt = store_stmt_sql(st, sql, &r);
    if (!stmt)
        return r;
    r = db_bind_text(stmt, 1, cred_hash);
    if (r == 0)
        r = db_step_one(stmt);
    if (r == 0)
        r = db_copy_text(stmt, 0, chain, STORE_ID_LEN + 1) < 0 ? -EIO : -EALREADY;
    db_stmt_done(stmt);
    return r;
}

int store_rejoin_take(struct store *st, const char *cred_hash, struct store_rejoin *ret)
{
    char sql[384], chain[STORE_ID_LEN + 1];
    struct db_stmt *stmt = NULL;
    bool own;
    int r = store_write_enter(st, &own);

    /* one statement: of two takers, one marks it used and reads it, the other reads none */
    (void)snprintf(sql, sizeof(sql),
                   "UPDATE guest_rejoin SET used = 1 WHERE cred_hash = ?1 AND used = 0 AND "
                   "expires_ms >= %s RETURNING chain, leg, cospace, access_method, name",
                   store_now_sql(st));
    if (r == 0)
        stmt = store_stmt_sql(st, sql, &r);
    memset(ret, 0, sizeof(*ret));
    if (stmt && r == 0)
        r = db_bind_text(stmt, 1, cred_hash);
    if (stmt && r == 0)
        r = db_step_one(stmt);
    if (stmt && r == 0) {
        (void)snprintf(ret->cred_hash, sizeof(ret->cred_hash), "%s", cred_hash);
        r |= db_copy_text(stmt, 0, ret->chain, sizeof(ret->chain));
        r |= db_copy_text(stmt, 1, ret->leg, sizeof(ret->leg));
        r |= db_copy_text(stmt, 2, ret->cospace, sizeof(ret->cospace));
        r |= db_copy_text(stmt, 3, ret->access_method, sizeof(ret->access_method));
        r |= db_copy_text(stmt, 4, ret->name, sizeof(ret->name));
        r = r < 0 ? -EIO : 0;
    }
    if (stmt)
        db_stmt_done(stmt);
    if (r == -ENOENT && (r = rejoin_refusal(st, cred_hash, chain)) == -EALREADY) {
        /* shown again after its use: a copy exists; neither holder rejoins without the
         * passcode now. Committed, though the answer is a refusal. */
        int rr = store_rejoin_revoke(st, chain);

        if (rr < 0)
            r = rr;
        else if (own && (rr = store_commit(st)) < 0)
            r = rr;
        else
            own = false;
    }
    return store_write_leave(st, own, r);
}
