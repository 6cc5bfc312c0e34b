/* store/q_cdr.c: the CDR outbox: records appended in event order and numbered by
 * AUTOINCREMENT (PostgreSQL: an identity) (an index is never given twice, so a receiver's delivered
 * index stays meaningful across a restart and an emptied outbox), read in order after a receiver's
 * delivered index, and deleted once every receiver has them. The receivers' rows are written
 * through the generic functions (api/res/cdr_receivers.c); this file only moves their
 * delivered index. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

void store_cdr_record_done(struct store_cdr_record *r)
{
    free(r->body);
    r->body = NULL;
}

int store_cdr_append(struct store *st, const struct store_cdr_record *r, int64_t *ret_index)
{
    static const char sql[] = "INSERT INTO cdr_record (session, type, time, correlator, body, "
                              "node) VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING record_index";
    struct db_stmt *stmt;
    bool own;
    int err = store_write_enter(st, &own);

    if (err < 0)
        return err;
    stmt = store_stmt_sql(st, sql, &err);
    if (stmt) {
        int64_t index;

        db_bind_text(stmt, 1, r->session);
        db_bind_text(stmt, 2, r->type);
        db_bind_text(stmt, 3, r->time);
        db_bind_int64(stmt, 4, r->correlator);
        db_bind_text(stmt, 5, r->body);
        db_bind_text(stmt, 6, r->node);
        err = db_step_one(stmt);
        index = err == 0 ? db_column_int64(stmt, 0) : 0;
        if (err == -ENOENT)
            err = -EIO;
        if (err == 0)
            err = db_step_done(stmt); /* the insert completes before its changes are read */
        db_stmt_done(stmt);
        if (err == 0 && ret_index)
            *ret_index = index;
    }
    return store_write_leave(st, own, err);
}

int store_cdr_last_index(struct store *st, int64_t *ret_index)
{
    /* dialect difference 5 (store/db.h) */
    static const char sqlite_sql[] = "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE "
                                     "name = 'cdr_record'), 0)";
    static const char pg_sql[] = "SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence("
                                 "'cdr_record', 'record_index')), 0)";
    const char *sql = db_dialect(st->db) == DB_DIALECT_PG ? pg_sql : sqlite_sql;
    struct db_stmt *stmt;
    size_t n = 0;
    int err = 0;

    stmt = store_stmt_sql(st, sql, &err);
    if (!stmt)
        return err;
    err = db_step_count(stmt, &n);
    db_stmt_done(stmt);
    if (err == 0)
        *ret_index = (int64_t)n;
    return err;
}

static int read_record(struct db_stmt *stmt, struct store_cdr_record *r)
{
    const char *body = db_column_text(stmt, 5);
    int e = 0;

    memset(r, 0, sizeof(*r));
    r->index = db_column_int64(stmt, 0);
    e |= db_copy_text(stmt, 1, r->session, sizeof(r->session));
    e |= db_copy_text(stmt, 2, r->type, sizeof(r->type));
    e |= db_copy_text(stmt, 3, r->time, sizeof(r->time));
    r->correlator = db_column_int64(stmt, 4);
    r->body = strdup(body ? body : "");
    if (!r->body)
        return -ENOMEM;
    return e ? -EIO : 0;
}

int store_cdr_after(struct store *st, int64_t after, size_t limit, store_cdr_fn fn, void *userdata)
{
    return store_cdr_after_node(st, "", after, limit, fn, userdata);
}

int store_cdr_after_node(struct store *st, const char *node, int64_t after, size_t limit,
                         store_cdr_fn fn, void *userdata)
{
    static const char sql[] = "SELECT record_index, session, type, time, correlator, body "
                              "FROM cdr_record WHERE record_index > ?1 AND node = ?3 "
                              "ORDER BY record_index LIMIT ?2";
    struct store_cdr_record rec;
    struct db_stmt *stmt;
    int r = 0;

    stmt = store_stmt_sql(st, sql, &r);
    if (!stmt)
        return r;
    db_bind_int64(stmt, 1, after);
    db_bind_int64(stmt, 2, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
    db_bind_text(stmt, 3, node);
    while ((r = db_step(stmt)) == DB_ROW) {
        r = read_record(stmt, &rec);
        if (r == 0)
            r = fn(&rec, userdata);
        store_cdr_record_done(&rec);
        if (r < 0)
            break;
    }
    db_stmt_done(stmt);
    return r;
}

/* Steps a count(*) statement, binding after to ?1 unless it is NULL. */
static int count(struct store *st, const char *sql, const int64_t *after, size_t *ret_count)
{
    struct db_stmt *stmt;
    int r = 0;

    stmt = store_stmt_sql(st, sql, &r);
    if (!stmt)
        return r;
    if (after)
        db_bind_int64(stmt, 1, *after);
    r = db_step_count(stmt, ret_count);
    db_stmt_done(stmt);
    return r;
}

int store_cdr_count_after(struct store *st, int64_t after, size_t *ret_count)
{
    return count(st, "SELECT count(*) FROM cdr_record WHERE record_index > ?1", &after, ret_count);
}

int store_cdr_count_after_node(struct store *st, const char *node, int64_t after, size_t *ret_count)
{
    struct db_stmt *stmt;
    int r = 0;

    /* node "" is one node's outbox, as in store_cdr_after_node: its records' node is "" */
    stmt = store_stmt_sql(
        st, "SELECT count(*) FROM cdr_record WHERE record_index > ?1 AND node = ?2", &r);
    if (!stmt)
        return r;
    db_bind_int64(stmt, 1, after);
    db_bind_text(stmt, 2, node);
    r = db_step_count(stmt, ret_count);
    db_stmt_done(stmt);
    return r;
}

/* Runs one statement without results (inside the caller's transaction). */
static int exec(struct store *st, const char *sql, const char *id, int64_t index, bool *ret_hit)
{
    struct db_stmt *stmt;
    int r = 0;

    stmt = store_stmt_sql(st, sql, &r);
    if (!stmt)
        return r;
    if (id)
        db_bind_text(stmt, 1, id);
    if (id)
        db_bind_int64(stmt, 2, index);
    r = db_step_done(stmt);
    if (r == 0 && ret_hit)
        *ret_hit = db_changes(st->db) > 0;
    db_stmt_done(stmt);
    return r;
}

static const char prune_sql[] =
    "DELETE FROM cdr_record WHERE record_index <= coalesce((SELECT min(delivered) FROM "
    "cdr_receiver WHERE uri IS NOT NULL), (SELECT max(record_index) FROM cdr_record))";

int store_cdr_delivered(struct store *st, const char *id, int64_t index)
{
    static const char sql[] = "UPDATE cdr_receiver SET delivered = ?2 WHERE id = ?1";
    bool own, hit = false;
    int r = store_write_enter(st, &own);

    if (r < 0)
        return r;
    r = exec(st, sql, id, index, &hit);
    if (r == 0 && !hit)
        r = -ENOENT;
    if (r == 0)
        r = exec(st, prune_sql, NULL, 0, NULL);
    return store_write_leave(st, own, r);
}

int store_cdr_prune(struct store *st)
{
    bool own;
    int r = store_write_enter(st, &own);

    if (r < 0)
        return r;
    r = exec(st, prune_sql, NULL, 0, NULL);
    return store_write_leave(st, own, r);
}

int store_cdr_receivers(struct store *st, size_t *ret_count)
{
    return count(st, "SELECT count(*) FROM cdr_receiver WHERE uri IS NOT NULL", NULL, ret_count);
}

/* ---- one node's records in a cluster (schema/0013_calls.sql) ---------------------------- */

/* Runs sql with the text args (NULL-ended) and, when index_param > 0, index as that parameter;
 * *ret_changed (may be NULL) the rows it changed. Inside the caller's transaction. */
static int run_node(struct store *st, const char *sql, const char *const *args, int index_param,
                    int64_t index, int64_t *ret_changed)
{
    struct db_stmt *stmt;
    int r = 0;

    stmt = store_stmt_sql(st, sql, &r);
    if (!stmt)
        return r;
    for (int i = 0; r == 0 && args[i]; i++)
        r = db_bind_text(stmt, i + 1, args[i]);
    if (r == 0 && index_param > 0)
        r = db_bind_int64(stmt, index_param, index);
    if (r == 0)
        r = db_step_done(stmt);
    if (r == 0 && ret_changed)
        *ret_changed = db_changes(st->db);
    db_stmt_done(stmt);
    return r;
}

int store_cdr_delivered_get(struct store *st, const char *id, const char *node, int64_t *ret_index)
{
    struct db_stmt *stmt;
    int r = 0;

    stmt = store_stmt_sql(
        st, "SELECT delivered FROM cdr_delivery WHERE receiver = ?1 AND node = ?2", &r);
    if (!stmt)
        return r;
    r = db_bind_text(stmt, 1, id);
    if (r == 0)
        r = db_bind_text(stmt, 2, node);
    if (r == 0)
        r = db_step_one(stmt);
    if (r == 0)
        *ret_index = db_column_int64(stmt, 0);
    db_stmt_done(stmt);
    return r;
}

int store_cdr_delivered_each(struct store *st, const char *node, store_cdr_delivered_fn fn,
                             void *userdata)
{
    char id[STORE_ID_LEN + 1];
    struct db_stmt *stmt;
    int r = 0;

    stmt = store_stmt_sql(st, "SELECT receiver, delivered FROM cdr_delivery WHERE node = ?1", &r);
    if (!stmt)
        return r;
    r = db_bind_text(stmt, 1, node);
    while (r == 0 && (r = db_step(stmt)) == DB_ROW) {
        r = db_copy_text(stmt, 0, id, sizeof(id)) < 0 ? -EIO : 0;
        if (r == 0)
            r = fn(id, db_column_int64(stmt, 1), userdata);
    }
    db_stmt_done(stmt);
    return r < 0 ? r : 0;
}

int store_cdr_delivered_node(struct store *st, const char *id, const char *node, int64_t index)
{
    /* only this node writes its row: an update, then an insert when there was none */
    static const char update_sql[] =
        "UPDATE cdr_delivery SET delivered = ?3 WHERE receiver = ?1 AND node = ?2";
    static const char insert_sql[] =
        "INSERT INTO cdr_delivery (receiver, node, delivered) VALUES (?1, ?2, ?3)";
    /* node's records that every receiver with a uri has (a receiver without a row has what
     * came before its creation: its own delivered index) */
    static const char prune_node_sql[] =
        "DELETE FROM cdr_record WHERE node = ?1 AND record_index <= coalesce((SELECT "
        "min(coalesce(d.delivered, r.delivered)) FROM cdr_receiver r LEFT JOIN cdr_delivery d "
        "ON d.receiver = r.id AND d.node = ?1 WHERE r.uri IS NOT NULL), (SELECT "
        "max(record_index) FROM cdr_record))";
    const char *args[] = {id, node, NULL}, *prune_args[] = {node, NULL};
    const char *id_args[] = {id, NULL};
    int64_t changed = 0;
    bool own;
    int r;

    if (!node[0])
        return store_cdr_delivered(st, id, index);
    r = store_write_enter(st, &own);
    if (r < 0)
        return r;
    r = run_node(st, "UPDATE cdr_receiver SET uri = uri WHERE id = ?1", id_args, 0, 0,
                 &changed); /* the receiver is still there (and locked until the commit) */
    if (r == 0 && changed == 0)
        r = -ENOENT;
    if (r == 0)
        r = run_node(st, update_sql, args, 3, index, &changed);
    if (r == 0 && changed == 0)
        r = run_node(st, insert_sql, args, 3, index, NULL);
    if (r == 0)
        r = run_node(st, prune_node_sql, prune_args, 0, 0, NULL);
    return store_write_leave(st, own, r);
}

int store_cdr_pending(struct store *st, const char *id, size_t *ret_count)
{
    struct db_stmt *stmt;
    int r = 0;

    /* each node's records after how far the receiver has that node's (cdr_delivery), or after
     * its own delivered index where it has no row (one node: always) */
    stmt = store_stmt_sql(st,
                          "SELECT count(*) FROM cdr_record c JOIN cdr_receiver r ON r.id = ?1 "
                          "LEFT JOIN cdr_delivery d ON d.receiver = r.id AND d.node = c.node "
                          "WHERE c.record_index > coalesce(d.delivered, r.delivered)",
                          &r);
    if (!stmt)
        return r;
    r = db_bind_text(stmt, 1, id);
    if (r == 0)
        r = db_step_count(stmt, ret_count);
    db_stmt_done(stmt);
    return r;
}

/* ---- a down node's records, sent by one live node (schema/0016_fence.sql) ------------------ */

/* The SQL text "is node name up" (heartbeating within down_after, the integer parameter param,
 * of its intervals, and not stopped) into out. */
static void up_sql(const struct store *st, char *out, size_t cap, const char *name,
                   const char *param)
{
    (void)snprintf(out, cap,
                   "EXISTS (SELECT 1 FROM cluster_node n WHERE n.name = %s AND n.stopped = 0 AND "
                   "%s - n.heartbeat_ms <= CAST(%s AS BIGINT) * n.interval_ms)",
                   name, store_now_sql(st), param);
}

int store_cdr_orphan(struct store *st, const char *self, unsigned down_after, char *ret_node,
                     size_t cap)
{
    char sql[1024], up_node[256], up_adopter[256];
    struct db_stmt *stmt;
    int r = 0;

    if (!store_is_shared(st))
        return -ENOENT;
    up_sql(st, up_node, sizeof(up_node), "c.node", "?2");
    up_sql(st, up_adopter, sizeof(up_adopter), "a.adopter", "?2");
    (void)snprintf(sql, sizeof(sql),
                   "SELECT c.node FROM cdr_record c WHERE c.node <> '' AND c.node <> ?1 AND NOT "
                   "%s AND NOT EXISTS (SELECT 1 FROM cdr_adopt a WHERE a.node = c.node AND "
                   "a.adopter <> ?1 AND %s) ORDER BY c.record_index LIMIT 1",
                   up_node, up_adopter);
    stmt = store_stmt_sql(st, sql, &r);
    if (!stmt)
        return r;
    r = db_bind_text(stmt, 1, self);
    if (r == 0)
        r = db_bind_int64(stmt, 2, down_after);
    if (r == 0)
        r = db_step_one(stmt);
    if (r == 0)
        r = db_copy_text(stmt, 0, ret_node, cap) < 0 ? -EIO : 0;
    db_stmt_done(stmt);
    return r;
}

int store_cdr_adopt(struct store *st, const char *node, const char *self, unsigned down_after)
{
    const char *both[] = {node, self, NULL}, *one[] = {node, NULL};
    char sql[1024], up[256];
    int64_t n = 0;
    bool back = false;
    int r;

    if (!store_is_shared(st))
        return -ENOTSUP;
    r = store_begin(st);
    /* a claim whose adopter is no longer up is nobody's */
    up_sql(st, up, sizeof(up), "adopter", "?3");
    (void)snprintf(sql, sizeof(sql),
                   "DELETE FROM cdr_adopt WHERE node = ?1 AND adopter <> ?2 AND NOT %s", up);
    if (r == 0)
        r = run_node(st, sql, both, 3, down_after, NULL);
    /* a node that is up again sends its own records: any claim on it ends */
    up_sql(st, up, sizeof(up), "?1", "?2");
    (void)snprintf(sql, sizeof(sql), "DELETE FROM cdr_adopt WHERE node = ?1 AND %s", up);
    if (r == 0)
        r = run_node(st, sql, one, 2, down_after, &n);
    back = r == 0 && n > 0;
    up_sql(st, up, sizeof(up), "?1", "?3");
    (void)snprintf(sql, sizeof(sql),
                   "INSERT INTO cdr_adopt (node, adopter, since_ms) SELECT ?1, ?2, %s WHERE NOT "
                   "%s AND NOT EXISTS (SELECT 1 FROM cdr_adopt WHERE node = ?1)",
                   store_now_sql(st), up);
    if (r == 0 && !back)
        r = run_node(st, sql, both, 3, down_after, NULL);
    /* ours (and the node still down), or another live node's */
    (void)snprintf(sql, sizeof(sql),
                   "UPDATE cdr_adopt SET adopter = adopter WHERE node = ?1 AND adopter = ?2 AND "
                   "NOT %s",
                   up);
    if (r == 0 && !back)
        r = run_node(st, sql, both, 3, down_after, &n);
    if (r == 0 && !back && n == 0)
        r = -EEXIST;
    if (r == 0)
        r = store_commit(st);
    store_rollback(st);
    return r == 0 && back ? -EALREADY : r;
}

int store_cdr_adopted(struct store *st, const char *self, unsigned down_after)
{
    const char *one[] = {self, NULL};
    char sql[512], up[256];
    struct db_stmt *stmt;
    size_t n = 0;
    int r;

    if (!store_is_shared(st))
        return 0;
    /* this node's claims on nodes that are up again are over */
    up_sql(st, up, sizeof(up), "node", "?2");
    (void)snprintf(sql, sizeof(sql), "DELETE FROM cdr_adopt WHERE adopter = ?1 AND %s", up);
    r = run_node(st, sql, one, 2, down_after, NULL);
    if (r < 0)
        return r;
    up_sql(st, up, sizeof(up), "adopter", "?2");
    (void)snprintf(sql, sizeof(sql),
                   "SELECT count(*) FROM cdr_adopt WHERE node = ?1 AND adopter <> ?1 AND %s", up);
    stmt = store_stmt_sql(st, sql, &r);
    if (!stmt)
        return r;
    r = db_bind_text(stmt, 1, self);
    if (r == 0)
        r = db_bind_int64(stmt, 2, down_after);
    if (r == 0)
        r = db_step_count(stmt, &n);
    db_stmt_done(stmt);
    return r < 0 ? r : n > 0;
}
