/* store/q_call_bridge.c: call bridges and call bridge groups, as far as other objects refer to
 * them (a TURN server's callBridge and callBridgeGroup). */
#include <errno.h>

#include "store/store_int.h"

static int exists(struct store *st, enum store_stmt_id sid, const char *sql, const char *id)
{
    sqlite3_stmt *stmt;
    int r = 0;

    stmt = store_stmt(st, sid, sql, &r);
    if (!stmt)
        return r;
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    r = sqlite3_step(stmt);
    r = r == SQLITE_ROW ? 0 : (r == SQLITE_DONE ? -ENOENT : store_step_err(r));
    store_stmt_done(stmt);
    return r;
}

int store_call_bridge_exists(struct store *st, const char *id)
{
    return exists(st, STMT_CB_EXISTS, "SELECT 1 FROM call_bridge WHERE id = ?1", id);
}

int store_call_bridge_group_exists(struct store *st, const char *id)
{
    return exists(st, STMT_CBG_EXISTS, "SELECT 1 FROM call_bridge_group WHERE id = ?1", id);
}
