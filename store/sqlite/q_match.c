/* store/sqlite/q_match.c: the reads behind call matching (api/res/matching.c): the inbound dial
 * plan rules for a domain in priority order, the coSpace a rule reaches by uri, the space with a
 * callId, and the domain a space is advertised under (meetingEntryDetail). */
#include <errno.h>
#include <string.h>

#include "store/sqlite/store_int.h"

/* Steps a statement expected to return at most one row: -ENOENT when none. */
static int step_one(sqlite3_stmt *stmt)
{
    int r = sqlite3_step(stmt);

    return r == SQLITE_ROW ? 0 : r == SQLITE_DONE ? -ENOENT : store_step_err(r);
}

int store_match_rules(struct store *st, const char *domain, store_match_rule_fn fn, void *userdata)
{
    static const char sql_domain[] =
        "SELECT id, resolve_to_cospaces, tenant, resolve_to_ivrs FROM inbound_dial_plan_rule"
        " WHERE domain = ?1 COLLATE NOCASE ORDER BY priority DESC, seq LIMIT 1000";
    static const char sql_all[] = "SELECT id, resolve_to_cospaces, tenant, resolve_to_ivrs FROM "
                                  "inbound_dial_plan_rule ORDER BY priority DESC, seq LIMIT 1000";
    struct store_match_rule rule;
    sqlite3_stmt *stmt;
    int r = 0;

    stmt = store_stmt_sql(st, domain ? sql_domain : sql_all, &r);
    if (!stmt)
        return r;
    if (domain)
        sqlite3_bind_text(stmt, 1, domain, -1, SQLITE_STATIC);
    while ((r = sqlite3_step(stmt)) == SQLITE_ROW) {
        int stop;

        memset(&rule, 0, sizeof(rule));
        if (store_copy_text(stmt, 0, rule.id, sizeof(rule.id)) < 0 ||
            store_copy_text(stmt, 2, rule.tenant, sizeof(rule.tenant)) < 0) {
            store_stmt_done(stmt);
            return -EIO;
        }
        rule.resolve_to_cospaces = sqlite3_column_int(stmt, 1) != 0;
        rule.resolve_to_ivrs = sqlite3_column_int(stmt, 3) != 0;
        stop = fn(&rule, userdata);
        if (stop != 0) {
            store_stmt_done(stmt);
            return stop < 0 ? stop : 0;
        }
    }
    r = store_step_err(r);
    store_stmt_done(stmt);
    return r;
}

/* Runs sql with ?1 = a1 and ?2 = a2 (unbound when NULL) and copies the first column of its
 * first row into out (cap bytes); -ENOENT when there is none. */
static int one_text(struct store *st, const char *sql, const char *a1, const char *a2, char *out,
                    size_t cap)
{
    sqlite3_stmt *stmt;
    int r = 0;

    stmt = store_stmt_sql(st, sql, &r);
    if (!stmt)
        return r;
    sqlite3_bind_text(stmt, 1, a1, -1, SQLITE_STATIC);
    if (a2)
        sqlite3_bind_text(stmt, 2, a2, -1, SQLITE_STATIC);
    r = step_one(stmt);
    if (r == 0)
        r = store_copy_text(stmt, 0, out, cap);
    store_stmt_done(stmt);
    return r;
}

int store_match_cospace_uri(struct store *st, const char *user, const char *tenant, char *ret_id)
{
    return one_text(st,
                    "SELECT id FROM cospace WHERE (uri = ?1 COLLATE NOCASE OR secondary_uri = ?1 "
                    "COLLATE NOCASE) AND (?2 = '' OR tenant = ?2) ORDER BY seq LIMIT 1",
                    user, tenant ? tenant : "", ret_id, STORE_ID_LEN + 1);
}

/* Reads the space selected as "id, uri, call_id, passcode, tenant". */
static int read_entry(sqlite3_stmt *stmt, struct store_cospace_entry *e)
{
    memset(e, 0, sizeof(*e));
    if (store_copy_text(stmt, 0, e->id, sizeof(e->id)) < 0 ||
        store_copy_text(stmt, 1, e->uri, sizeof(e->uri)) < 0 ||
        store_copy_text(stmt, 2, e->call_id, sizeof(e->call_id)) < 0 ||
        store_copy_text(stmt, 3, e->passcode, sizeof(e->passcode)) < 0 ||
        store_copy_text(stmt, 4, e->tenant, sizeof(e->tenant)) < 0 ||
        store_copy_text(stmt, 5, e->secret, sizeof(e->secret)) < 0)
        return -EIO;
    e->has_passcode = sqlite3_column_type(stmt, 3) != SQLITE_NULL;
    e->non_member_access =
        sqlite3_column_type(stmt, 6) == SQLITE_NULL || sqlite3_column_int64(stmt, 6) != 0;
    if (sqlite3_column_count(stmt) > 7 &&
        store_copy_text(stmt, 7, e->access_method, sizeof(e->access_method)) < 0)
        return -EIO;
    return 0;
}

static int entry_by(struct store *st, const char *sql, const char *value,
                    struct store_cospace_entry *ret_entry)
{
    struct store_cospace_entry e;
    sqlite3_stmt *stmt;
    int r = 0;

    stmt = store_stmt_sql(st, sql, &r);
    if (!stmt)
        return r;
    sqlite3_bind_text(stmt, 1, value, -1, SQLITE_STATIC);
    r = step_one(stmt);
    if (r == 0)
        r = read_entry(stmt, &e);
    if (r == 0)
        *ret_entry = e;
    store_stmt_done(stmt);
    return r;
}

int store_cospace_entry_get(struct store *st, const char *id, struct store_cospace_entry *ret_entry)
{
    return entry_by(
        st,
        "SELECT id, uri, call_id, passcode, tenant, secret, non_member_access FROM cospace "
        "WHERE id = ?1",
        id, ret_entry);
}

int store_match_call_id(struct store *st, const char *call_id,
                        struct store_cospace_entry *ret_entry)
{
    return entry_by(
        st,
        "SELECT id, uri, call_id, passcode, tenant, secret, non_member_access FROM cospace "
        "WHERE call_id = ?1 "
        "ORDER BY seq LIMIT 1",
        call_id, ret_entry);
}

/* ---- access methods (schema/0007_spaces.sql) ---- */

int store_match_access_uri(struct store *st, const char *user, const char *tenant, char *ret_id)
{
    return one_text(st,
                    "SELECT c.id FROM access_method a JOIN cospace c ON c.id = a.cospace "
                    "WHERE a.uri = ?1 COLLATE NOCASE AND (?2 = '' OR c.tenant = ?2) "
                    "ORDER BY a.seq LIMIT 1",
                    user, tenant ? tenant : "", ret_id, STORE_ID_LEN + 1);
}

int store_match_access_call_id(struct store *st, const char *call_id, store_entry_fn fn,
                               void *userdata)
{
    static const char sql[] =
        "SELECT c.id, a.uri, a.call_id, a.passcode, c.tenant, a.secret, c.non_member_access, "
        "a.id FROM access_method a JOIN cospace c ON c.id = a.cospace WHERE a.call_id = ?1 "
        "ORDER BY a.seq LIMIT 1000";
    struct store_cospace_entry e;
    sqlite3_stmt *stmt;
    int r = 0;

    stmt = store_stmt_sql(st, sql, &r);
    if (!stmt)
        return r;
    sqlite3_bind_text(stmt, 1, call_id, -1, SQLITE_STATIC);
    while ((r = sqlite3_step(stmt)) == SQLITE_ROW) {
        int stop = read_entry(stmt, &e);

        if (stop == 0)
            stop = fn(&e, userdata);
        if (stop != 0) {
            store_stmt_done(stmt);
            return stop;
        }
    }
    r = store_step_err(r);
    store_stmt_done(stmt);
    return r;
}

int store_match_entry_domain(struct store *st, const char *tenant, char *ret_domain, size_t cap)
{
    return one_text(st,
                    "SELECT domain FROM inbound_dial_plan_rule WHERE resolve_to_cospaces = 1 AND "
                    "(tenant IS NULL OR tenant = ?1) ORDER BY priority DESC, seq LIMIT 1",
                    tenant ? tenant : "", NULL, ret_domain, cap);
}

/* ---- the dial plan's queries (accessQuery, uriUsageQuery) ---------------------------------- */
int store_uri_usage(struct store *st, bool ivr, const char *user, const char *tenant, char *ret_id)
{
    return one_text(
        st,
        ivr ? "SELECT id FROM ivr WHERE uri = ?1 COLLATE NOCASE AND tenant IS ?2 "
              "ORDER BY seq LIMIT 1"
            : "SELECT id FROM cospace WHERE (uri = ?1 COLLATE NOCASE OR "
              "secondary_uri = ?1 COLLATE NOCASE) AND tenant IS ?2 ORDER BY seq LIMIT 1",
        user, tenant && *tenant ? tenant : NULL, ret_id, STORE_ID_LEN + 1);
}

int store_match_ivr_uri(struct store *st, const char *user, const char *tenant, char *ret_id)
{
    return one_text(st,
                    "SELECT id FROM ivr WHERE uri = ?1 COLLATE NOCASE AND (?2 = '' OR tenant = ?2) "
                    "ORDER BY seq LIMIT 1",
                    user, tenant ? tenant : "", ret_id, STORE_ID_LEN + 1);
}

int store_match_ivr_address(struct store *st, const char *tenant, char *ret_address, size_t cap)
{
    /* an IVR with a tenant serves that tenant; with a tenant group, the group's tenants; with
     * neither, spaces in no tenant or in a tenant of no group */
    return one_text(st,
                    "SELECT i.uri || '@' || r.domain FROM ivr i, inbound_dial_plan_rule r "
                    "WHERE i.uri IS NOT NULL AND i.resolve_cospace_call_ids = 1 AND "
                    "(i.tenant = ?1 OR (i.tenant IS NULL AND coalesce(i.tenant_group, '') = "
                    "coalesce((SELECT tenant_group FROM tenant WHERE id = ?1), ''))) AND "
                    "r.resolve_to_ivrs = 1 AND (r.tenant IS NULL OR r.tenant = ?1) "
                    "ORDER BY r.priority DESC, r.seq, i.seq LIMIT 1",
                    tenant ? tenant : "", NULL, ret_address, cap);
}
