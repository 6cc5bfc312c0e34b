/* store/q_match.c: the reads behind call matching (api/res/matching.c): the inbound dial
 * plan rules for a domain in priority order, the coSpace a rule reaches by uri, the space with a
 * callId, and the domain a space is advertised under (meetingEntryDetail).
 *
 * Addresses compare in any case: dialect difference 1 (store/db.h), so each such statement is
 * written twice, NC() choosing: SQLite's "= ... COLLATE NOCASE" uses the NOCASE indexes of
 * schema/, PostgreSQL's "lower(x) = lower(...)" the expression indexes of schema/pg/. */
#include <errno.h>
#include <string.h>

#include "store/store_int.h"

/* The statement for the connection's dialect. */
#define NC(st, sqlite_sql, pg_sql) (db_dialect((st)->db) == DB_DIALECT_PG ? (pg_sql) : (sqlite_sql))

int store_match_rules(struct store *st, const char *domain, store_match_rule_fn fn, void *userdata)
{
    static const char sql_domain[] =
        "SELECT id, resolve_to_cospaces, tenant, resolve_to_ivrs FROM inbound_dial_plan_rule"
        " WHERE domain = ?1 COLLATE NOCASE ORDER BY priority DESC, seq LIMIT 1000";
    static const char pg_domain[] =
        "SELECT id, resolve_to_cospaces, tenant, resolve_to_ivrs FROM inbound_dial_plan_rule"
        " WHERE lower(domain) = lower(?1) ORDER BY priority DESC, seq LIMIT 1000";
    static const char sql_all[] = "SELECT id, resolve_to_cospaces, tenant, resolve_to_ivrs FROM "
                                  "inbound_dial_plan_rule ORDER BY priority DESC, seq LIMIT 1000";
    struct store_match_rule rule;
    struct db_stmt *stmt;
    int r = 0;

    stmt = store_stmt_sql(st, domain ? NC(st, sql_domain, pg_domain) : sql_all, &r);
    if (!stmt)
        return r;
    if (domain)
        db_bind_text(stmt, 1, domain);
    while ((r = db_step(stmt)) == DB_ROW) {
        int stop;

        memset(&rule, 0, sizeof(rule));
        if (db_copy_text(stmt, 0, rule.id, sizeof(rule.id)) < 0 ||
            db_copy_text(stmt, 2, rule.tenant, sizeof(rule.tenant)) < 0) {
            db_stmt_done(stmt);
            return -EIO;
        }
        rule.resolve_to_cospaces = db_column_int64(stmt, 1) != 0;
        rule.resolve_to_ivrs = db_column_int64(stmt, 3) != 0;
        stop = fn(&rule, userdata);
        if (stop != 0) {
            db_stmt_done(stmt);
            return stop < 0 ? stop : 0;
        }
    }
    db_stmt_done(stmt);
    return r;
}

/* Runs sql with ?1 = a1 and ?2 = a2 (unbound when NULL) and copies the first column of its
 * first row into out (cap bytes); -ENOENT when there is none. */
static int one_text(struct store *st, const char *sql, const char *a1, const char *a2, char *out,
                    size_t cap)
{
    struct db_stmt *stmt;
    int r = 0;

    stmt = store_stmt_sql(st, sql, &r);
    if (!stmt)
        return r;
    db_bind_text(stmt, 1, a1);
    if (a2)
        db_bind_text(stmt, 2, a2);
    r = db_step_one(stmt);
    if (r == 0)
        r = db_copy_text(stmt, 0, out, cap);
    db_stmt_done(stmt);
    return r;
}

int store_match_cospace_uri(struct store *st, const char *user, const char *tenant, char *ret_id)
{
    return one_text(st,
                    NC(st,
                       "SELECT id FROM cospace WHERE (uri = ?1 COLLATE NOCASE OR secondary_uri = "
                       "?1 COLLATE NOCASE) AND (?2 = '' OR tenant = ?2) ORDER BY seq LIMIT 1",
                       "SELECT id FROM cospace WHERE (lower(uri) = lower(?1) OR "
                       "lower(secondary_uri) = lower(?1)) AND (?2 = '' OR tenant = ?2) "
                       "ORDER BY seq LIMIT 1"),
                    user, tenant ? tenant : "", ret_id, STORE_ID_LEN + 1);
}

/* Reads the space selected as "id, uri, call_id, passcode, tenant". */
static int read_entry(struct db_stmt *stmt, struct store_cospace_entry *e)
{
    memset(e, 0, sizeof(*e));
    if (db_copy_text(stmt, 0, e->id, sizeof(e->id)) < 0 ||
        db_copy_text(stmt, 1, e->uri, sizeof(e->uri)) < 0 ||
        db_copy_text(stmt, 2, e->call_id, sizeof(e->call_id)) < 0 ||
        db_copy_text(stmt, 3, e->passcode, sizeof(e->passcode)) < 0 ||
        db_copy_text(stmt, 4, e->tenant, sizeof(e->tenant)) < 0 ||
        db_copy_text(stmt, 5, e->secret, sizeof(e->secret)) < 0)
        return -EIO;
    e->has_passcode = !db_column_is_null(stmt, 3);
    e->non_member_access = db_column_is_null(stmt, 6) || db_column_int64(stmt, 6) != 0;
    if (db_column_count(stmt) > 7 &&
        db_copy_text(stmt, 7, e->access_method, sizeof(e->access_method)) < 0)
        return -EIO;
    return 0;
}

static int entry_by(struct store *st, const char *sql, const char *value,
                    struct store_cospace_entry *ret_entry)
{
    struct store_cospace_entry e;
    struct db_stmt *stmt;
    int r = 0;

    stmt = store_stmt_sql(st, sql, &r);
    if (!stmt)
        return r;
    db_bind_text(stmt, 1, value);
    r = db_step_one(stmt);
    if (r == 0)
        r = read_entry(stmt, &e);
    if (r == 0)
        *ret_entry = e;
    db_stmt_done(stmt);
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
                    NC(st,
                       "SELECT c.id FROM access_method a JOIN cospace c ON c.id = a.cospace "
                       "WHERE a.uri = ?1 COLLATE NOCASE AND (?2 = '' OR c.tenant = ?2) "
                       "ORDER BY a.seq LIMIT 1",
                       "SELECT c.id FROM access_method a JOIN cospace c ON c.id = a.cospace "
                       "WHERE lower(a.uri) = lower(?1) AND (?2 = '' OR c.tenant = ?2) "
                       "ORDER BY a.seq LIMIT 1"),
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
    struct db_stmt *stmt;
    int r = 0;

    stmt = store_stmt_sql(st, sql, &r);
    if (!stmt)
        return r;
    db_bind_text(stmt, 1, call_id);
    while ((r = db_step(stmt)) == DB_ROW) {
        int stop = read_entry(stmt, &e);

        if (stop == 0)
            stop = fn(&e, userdata);
        if (stop != 0) {
            db_stmt_done(stmt);
            return stop;
        }
    }
    db_stmt_done(stmt);
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
    static const char sqlite_ivr[] = "SELECT id FROM ivr WHERE uri = ?1 COLLATE NOCASE AND "
                                     "tenant IS NOT DISTINCT FROM ?2 ORDER BY seq LIMIT 1";
    static const char pg_ivr[] = "SELECT id FROM ivr WHERE lower(uri) = lower(?1) AND "
                                 "tenant IS NOT DISTINCT FROM ?2 ORDER BY seq LIMIT 1";
    static const char sqlite_cospace[] =
        "SELECT id FROM cospace WHERE (uri = ?1 COLLATE NOCASE OR secondary_uri = ?1 COLLATE "
        "NOCASE) AND tenant IS NOT DISTINCT FROM ?2 ORDER BY seq LIMIT 1";
    static const char pg_cospace[] =
        "SELECT id FROM cospace WHERE (lower(uri) = lower(?1) OR lower(secondary_uri) = "
        "lower(?1)) AND tenant IS NOT DISTINCT FROM ?2 ORDER BY seq LIMIT 1";

    return one_text(st, ivr ? NC(st, sqlite_ivr, pg_ivr) : NC(st, sqlite_cospace, pg_cospace), user,
                    tenant && *tenant ? tenant : NULL, ret_id, STORE_ID_LEN + 1);
}

int store_match_ivr_uri(struct store *st, const char *user, const char *tenant, char *ret_id)
{
    return one_text(st,
                    NC(st,
                       "SELECT id FROM ivr WHERE uri = ?1 COLLATE NOCASE AND (?2 = '' OR tenant = "
                       "?2) ORDER BY seq LIMIT 1",
                       "SELECT id FROM ivr WHERE lower(uri) = lower(?1) AND (?2 = '' OR tenant = "
                       "?2) ORDER BY seq LIMIT 1"),
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
