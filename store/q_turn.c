/* store/q_turn.c: the typed reader of the turn_server table, for the prober link: one
 * server, or every server, whole rows with their sealed secrets (api/secret.c opens them; this file
 * never sees a password in clear). The rows are written, listed and filtered through the generic
 * functions (store/q_row.c), as api/res/turn.c describes the table. */
#include <errno.h>
#include <string.h>

#include "store/store_int.h"

#define TURN_COLS                                                                                  \
    "id, server_address, client_address, username, password, type, num_registrations, "            \
    "tcp_port_number_override, call_bridge, call_bridge_group, use_short_term_credentials, "       \
    "shared_secret, created_ms, updated_ms"

static int copy_blob(struct db_stmt *stmt, int col, unsigned char *dst, size_t *ret_len)
{
    const void *b = db_column_blob(stmt, col);
    size_t n = db_column_bytes(stmt, col);

    if (!b || n == 0) {
        *ret_len = 0;
        return 0;
    }
    if (n > STORE_BLOB_MAX)
        return -EIO;
    memcpy(dst, b, n);
    *ret_len = n;
    return 0;
}

/* Reads one row selected with TURN_COLS into *t. */
static int read_turn(struct db_stmt *stmt, struct store_turn *t)
{
    int r = 0;

    memset(t, 0, sizeof(*t));
    r |= db_copy_text(stmt, 0, t->id, sizeof(t->id));
    r |= db_copy_text(stmt, 1, t->server_address, sizeof(t->server_address));
    r |= db_copy_text(stmt, 2, t->client_address, sizeof(t->client_address));
    r |= db_copy_text(stmt, 3, t->username, sizeof(t->username));
    r |= copy_blob(stmt, 4, t->password, &t->password_len);
    r |= db_copy_text(stmt, 5, t->type, sizeof(t->type));
    t->has_num_registrations = !db_column_is_null(stmt, 6);
    t->num_registrations = db_column_int64(stmt, 6);
    t->has_tcp_port_number_override = !db_column_is_null(stmt, 7);
    t->tcp_port_number_override = db_column_int64(stmt, 7);
    r |= db_copy_text(stmt, 8, t->call_bridge, sizeof(t->call_bridge));
    r |= db_copy_text(stmt, 9, t->call_bridge_group, sizeof(t->call_bridge_group));
    t->use_short_term_credentials = db_column_int64(stmt, 10) != 0;
    r |= copy_blob(stmt, 11, t->shared_secret, &t->shared_secret_len);
    t->created_ms = db_column_int64(stmt, 12);
    t->updated_ms = db_column_int64(stmt, 13);
    return r ? -EIO : 0;
}

int store_turn_get(struct store *st, const char *id, struct store_turn *ret_turn)
{
    static const char sql[] = "SELECT " TURN_COLS " FROM turn_server WHERE id = ?1";
    struct db_stmt *stmt;
    int r = 0;

    stmt = store_stmt(st, STMT_TURN_GET, sql, &r);
    if (!stmt)
        return r;
    db_bind_text(stmt, 1, id);
    r = db_step_one(stmt);
    if (r == 0)
        r = read_turn(stmt, ret_turn);
    db_stmt_done(stmt);
    return r;
}

int store_turn_foreach(struct store *st, store_turn_fn fn, void *userdata)
{
    static const char sql[] = "SELECT " TURN_COLS " FROM turn_server ORDER BY seq";
    struct store_turn t;
    struct db_stmt *stmt;
    int r = 0;

    stmt = store_stmt(st, STMT_TURN_ALL, sql, &r);
    if (!stmt)
        return r;
    while ((r = db_step(stmt)) == DB_ROW) {
        r = read_turn(stmt, &t);
        if (r == 0)
            r = fn(&t, userdata);
        if (r < 0)
            break;
    }
    db_stmt_done(stmt);
    return r;
}
