/* store/q_turn.c: the turn_server table. Secrets arrive already encrypted (api/secret.c);
 * this file never sees a password in clear. */
#include <errno.h>
#include <string.h>

#include "store/store_int.h"

#define TURN_COLS                                                                                  \
    "id, server_address, client_address, username, password, type, num_registrations, "            \
    "tcp_port_number_override, call_bridge, call_bridge_group, use_short_term_credentials, "       \
    "shared_secret, created_ms, updated_ms"

/* Without a filter the plain statements are used: SQLite then counts from the b-tree and does
 * not evaluate the filter for each row (a quarter of the CPU time of an unfiltered list). */
#define TURN_WHERE_FILTER                                                                          \
    " WHERE instr(lower(coalesce(server_address, '')), lower(?1)) > 0"                             \
    " OR instr(lower(coalesce(client_address, '')), lower(?1)) > 0"

static void bind_opt_blob(sqlite3_stmt *stmt, int idx, const unsigned char *b, size_t len)
{
    if (len == 0)
        sqlite3_bind_null(stmt, idx);
    else
        sqlite3_bind_blob(stmt, idx, b, (int)len, SQLITE_STATIC);
}

static void bind_opt_int(sqlite3_stmt *stmt, int idx, bool has, int64_t v)
{
    if (has)
        sqlite3_bind_int64(stmt, idx, v);
    else
        sqlite3_bind_null(stmt, idx);
}

/* Binds ?1..?12 in TURN_COLS order (id first) and ?13 = now. */
static void bind_turn(sqlite3_stmt *stmt, const struct store_turn *t)
{
    sqlite3_bind_text(stmt, 1, t->id, -1, SQLITE_STATIC);
    store_bind_opt_text(stmt, 2, t->server_address);
    store_bind_opt_text(stmt, 3, t->client_address);
    store_bind_opt_text(stmt, 4, t->username);
    bind_opt_blob(stmt, 5, t->password, t->password_len);
    sqlite3_bind_text(stmt, 6, t->type[0] ? t->type : "standard", -1, SQLITE_STATIC);
    bind_opt_int(stmt, 7, t->has_num_registrations, t->num_registrations);
    bind_opt_int(stmt, 8, t->has_tcp_port_number_override, t->tcp_port_number_override);
    store_bind_opt_text(stmt, 9, t->call_bridge);
    store_bind_opt_text(stmt, 10, t->call_bridge_group);
    sqlite3_bind_int(stmt, 11, t->use_short_term_credentials ? 1 : 0);
    bind_opt_blob(stmt, 12, t->shared_secret, t->shared_secret_len);
    sqlite3_bind_int64(stmt, 13, store_now_ms());
}

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

/* Runs one write (turn bound, or only id for a delete) in the caller's transaction or one of its
 * own; an insert first checks the table's cap. -ENOENT when an update or delete found no row. */
static int turn_write(struct store *st, enum store_stmt_id sid, const char *sql,
                      const struct store_turn *turn, const char *id)
{
    sqlite3_stmt *stmt = NULL;
    bool own;
    int r = store_write_enter(st, &own);

    if (r == 0 && sid == STMT_TURN_INSERT)
        r = store_check_room(st, "turn_server");
    if (r == 0)
        stmt = store_stmt(st, sid, sql, &r);
    if (stmt) {
        if (turn)
            bind_turn(stmt, turn);
        else
            sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
        r = store_step_err(sqlite3_step(stmt));
        if (r == 0 && sid != STMT_TURN_INSERT && sqlite3_changes(st->db) == 0)
            r = -ENOENT;
        store_stmt_done(stmt);
    }
    return store_write_leave(st, own, r);
}

int store_turn_insert(struct store *st, const struct store_turn *turn)
{
    static const char sql[] = "INSERT INTO turn_server (" TURN_COLS ") VALUES "
                              "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)";

    return turn_write(st, STMT_TURN_INSERT, sql, turn, NULL);
}

int store_turn_update(struct store *st, const struct store_turn *turn)
{
    static const char sql[] =
        "UPDATE turn_server SET server_address = ?2, client_address = ?3, username = ?4, "
        "password = ?5, type = ?6, num_registrations = ?7, tcp_port_number_override = ?8, "
        "call_bridge = ?9, call_bridge_group = ?10, use_short_term_credentials = ?11, "
        "shared_secret = ?12, updated_ms = ?13 WHERE id = ?1";

    return turn_write(st, STMT_TURN_UPDATE, sql, turn, NULL);
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

int store_turn_delete(struct store *st, const char *id)
{
    return turn_write(st, STMT_TURN_DELETE, "DELETE FROM turn_server WHERE id = ?1", NULL, id);
}

int store_turn_count(struct store *st, const char *filter, size_t *ret_total)
{
    static const char sql[] = "SELECT count(*) FROM turn_server" TURN_WHERE_FILTER;
    static const char sql_all[] = "SELECT count(*) FROM turn_server";
    bool all = !filter || !*filter;
    sqlite3_stmt *stmt;
    int r = 0;

    stmt = all ? store_stmt(st, STMT_TURN_COUNT_ALL, sql_all, &r)
               : store_stmt(st, STMT_TURN_COUNT, sql, &r);
    if (!stmt)
        return r;
    if (!all)
        sqlite3_bind_text(stmt, 1, filter, -1, SQLITE_STATIC);
    r = store_step_count(stmt, ret_total);
    store_stmt_done(stmt);
    return r;
}

int store_turn_list(struct store *st, const char *filter, size_t offset, size_t limit,
                    store_turn_summary_fn fn, void *userdata)
{
#define SUMMARY "SELECT id, server_address, client_address FROM turn_server"
    static const char sql[] = SUMMARY TURN_WHERE_FILTER " ORDER BY seq LIMIT ?2 OFFSET ?3";
    static const char sql_all[] = SUMMARY " ORDER BY seq LIMIT ?2 OFFSET ?3";
#undef SUMMARY
    bool all = !filter || !*filter;
    struct store_turn_summary t;
    sqlite3_stmt *stmt;
    int r = 0;

    stmt = all ? store_stmt(st, STMT_TURN_LIST_ALL, sql_all, &r)
               : store_stmt(st, STMT_TURN_LIST, sql, &r);
    if (!stmt)
        return r;
    if (!all)
        sqlite3_bind_text(stmt, 1, filter, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, (sqlite3_int64)limit);
    sqlite3_bind_int64(stmt, 3, (sqlite3_int64)offset);
    while ((r = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (store_copy_text(stmt, 0, t.id, sizeof(t.id)) < 0 ||
            store_copy_text(stmt, 1, t.server_address, sizeof(t.server_address)) < 0 ||
            store_copy_text(stmt, 2, t.client_address, sizeof(t.client_address)) < 0) {
            r = -EIO;
            break;
        }
        r = fn(&t, userdata);
        if (r < 0)
            break;
    }
    if (r > 0)
        r = store_step_err(r);
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
