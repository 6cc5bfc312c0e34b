/* store/sqlite/q_turn.c: the typed reader of the turn_server table, for the prober link: one
 * server, or every server, whole rows with their sealed secrets (api/secret.c opens them; this file
 * never sees a password in clear). The rows are written, listed and filtered through the generic
 * functions (store/sqlite/q_row.c), as api/res/turn.c describes the table. */
#include <errno.h>
#include <string.h>

#include "store/sqlite/store_int.h"

#define TURN_COLS                                                                                  \
    "id, server_address, client_address, username, password, type, num_registrations, "            \
    "tcp_port_number_override, call_bridge, call_bridge_group, use_short_term_credentials, "       \
    "shared_secret, created_ms, updated_ms"

static int copy_blob(sqlite3_stmt *stmt, int col, unsigned char *dst, size_t *ret_len)
{
    const void *b = sqlite3_column_blob(stmt, col);
    int n = sqlite3_column_bytes(stmt, col);

    if (!b || n <= 0) {
        *ret_len = 0;
        return 0;
    }
    if ((size_t)n > STORE_BLOB_MAX)
        return -EIO;
    memcpy(dst, b, (size_t)n);
    *ret_len = (size_t)n;
    return 0;
}

/* Reads one row selected with TURN_COLS into *t. */
static int read_turn(sqlite3_stmt *stmt, struct store_turn *t)
{
    int r = 0;

    memset(t, 0, sizeof(*t));
    r |= store_copy_text(stmt, 0, t->id, sizeof(t->id));
    r |= store_copy_text(stmt, 1, t->server_address, sizeof(t->server_address));
    r |= store_copy_text(stmt, 2, t->client_address, sizeof(t->client_address));
    r |= store_copy_text(stmt, 3, t->username, sizeof(t->username));
    r |= copy_blob(stmt, 4, t->password, &t->password_len);
    r |= store_copy_text(stmt, 5, t->type, sizeof(t->type));
    t->has_num_registrations = sqlite3_column_type(stmt, 6) != SQLITE_NULL;
    t->num_registrations = sqlite3_column_int64(stmt, 6);
    t->has_tcp_port_number_override = sqlite3_column_type(stmt, 7) != SQLITE_NULL;
    t->tcp_port_number_override = sqlite3_column_int64(stmt, 7);
    r |= store_copy_text(stmt, 8, t->call_bridge, sizeof(t->call_bridge));
    r |= store_copy_text(stmt, 9, t->call_bridge_group, sizeof(t->call_bridge_group));
    t->use_short_term_credentials = sqlite3_column_int(stmt, 10) != 0;
    r |= copy_blob(stmt, 11, t->shared_secret, &t->shared_secret_len);
    t->created_ms = sqlite3_column_int64(stmt, 12);
    t->updated_ms = sqlite3_column_int64(stmt, 13);
    return r ? -EIO : 0;
}

int store_turn_get(struct store *st, const char *id, struct store_turn *ret_turn)
{
    static const char sql[] = "SELECT " TURN_COLS " FROM turn_server WHERE id = ?1";
    sqlite3_stmt *stmt;
    int r = 0;

    stmt = store_stmt(st, STMT_TURN_GET, sql, &r);
    if (!stmt)
        return r;
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    r = sqlite3_step(stmt);
    if (r == SQLITE_ROW)
        r = read_turn(stmt, ret_turn);
    else
        r = r == SQLITE_DONE ? -ENOENT : store_step_err(r);
    store_stmt_done(stmt);
    return r;
}

int store_turn_foreach(struct store *st, store_turn_fn fn, void *userdata)
{
    static const char sql[] = "SELECT " TURN_COLS " FROM turn_server ORDER BY seq";
    struct store_turn t;
    sqlite3_stmt *stmt;
    int r = 0;

    stmt = store_stmt(st, STMT_TURN_ALL, sql, &r);
    if (!stmt)
        return r;
    while ((r = sqlite3_step(stmt)) == SQLITE_ROW) {
        r = read_turn(stmt, &t);
        if (r == 0)
            r = fn(&t, userdata);
        if (r < 0)
            break;
    }
    if (r > 0)
        r = store_step_err(r);
    store_stmt_done(stmt);
    return r;
}
