/* store/q_filter.c: the named list filters of the generic tables ("filter", "tenantFilter",
 * ...) and the WHERE clause a query of them becomes. api/ names a filter and gives its value;
 * the SQL for it, the FTS5 phrase and the LIKE pattern are made here.
 *
 * DESIGN: a filter is a condition with nargs '?' placeholders, all bound to its value. When it
 * has an indexed form and the value has at least 3 characters, that form is used instead, with
 * one '?' bound to the value as an FTS5 phrase (an index with the trigram tokenizer finds
 * substrings). A substring filter reads every row (no index serves it) and compares with
 * "LIKE ? ESCAPE '\'": each '?' is then bound to '%' value '%' with %, _ and \ escaped
 * (SQLite's LIKE ignores ASCII case, as lower() does).
 *
 * The definitions write their parameters as plain '?'; the WHERE clause numbers them ?1, ?2, ...
 * in the order their arguments are bound (store/db.h's convention). For PostgreSQL (dialect
 * differences 2-4 of store/db.h) every " LIKE " becomes " ILIKE ", the FTS5 form is never used
 * (the ILIKE scan is the filter; a pg_trgm index may serve it), and a definition whose SQL
 * differs otherwise has its PostgreSQL text in pg_defs[]. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"

struct filter_def {
    const char *table;
    const char *name;
    const char *where;
    size_t nargs;
    const char *indexed; /* SQLite only */
    bool substring;
};

/* refs: the ids referenced, as a SELECT without NULLs; the value chooses in or out */
/* refs once (the statement stays short): NULL, so no row, for a value that is neither */
#define USAGE(refs)                                                                                \
    "CASE lower(?) WHEN 'referenced' THEN TRUE WHEN 'unreferenced' THEN FALSE END = (id IN (" refs \
    "))"
#define NAME_LIKE "name LIKE ? ESCAPE '\\'"

static const struct filter_def defs[] = {
    {"cospace", "filter",
     NAME_LIKE " OR uri LIKE ? ESCAPE '\\' OR secondary_uri LIKE ? ESCAPE '\\' OR call_id LIKE ? "
               "ESCAPE '\\'",
     4, "seq IN (SELECT rowid FROM cospace_search WHERE cospace_search MATCH ?)", true},
    {"cospace", "tenantFilter", "tenant = lower(?)", 1, NULL, false},
    {"cospace", "callLegProfileFilter", "call_leg_profile = ?", 1, NULL, false},
    {"inbound_dial_plan_rule", "filter", "domain LIKE ? ESCAPE '\\'", 1, NULL, true},
    {"inbound_dial_plan_rule", "tenantFilter", "tenant = lower(?)", 1, NULL, false},
    {"tenant", "filter", NAME_LIKE, 1, NULL, true},
    {"call_bridge_group", "filter", NAME_LIKE, 1, NULL, true},
    {"call_bridge", "filter", NAME_LIKE, 1, NULL, true},
    {"outbound_dial_plan_rule", "filter", "domain LIKE ? ESCAPE '\\'", 1, NULL, true},
    {"outbound_dial_plan_rule", "tenantFilter", "tenant = lower(?)", 1, NULL, false},
    {"forwarding_dial_plan_rule", "filter", "match_pattern LIKE ? ESCAPE '\\'", 1, NULL, true},
    {"forwarding_dial_plan_rule", "tenantFilter", "tenant = lower(?)", 1, NULL, false},
    {"dial_transform", "filter", "match LIKE ? ESCAPE '\\' OR transform LIKE ? ESCAPE '\\'", 2,
     NULL, true},
    {"ivr", "filter", "uri LIKE ? ESCAPE '\\'", 1, NULL, true},
    {"ivr", "tenantFilter", "tenant = lower(?)", 1, NULL, false},
    /* a TURN server list is short: compared in every row, without the LIKE escapes */
    {"turn_server", "filter",
     "instr(lower(coalesce(server_address, '')), lower(?)) > 0 OR "
     "instr(lower(coalesce(client_address, '')), lower(?)) > 0",
     2, NULL, false},
    /* profiles (schema/0006_profiles.sql): usageFilter=referenced|unreferenced by any object */
    {"call_leg_profile", "usageFilter",
     USAGE("SELECT call_leg_profile FROM cospace WHERE call_leg_profile IS NOT NULL UNION SELECT "
           "call_leg_profile FROM system_profile WHERE call_leg_profile IS NOT NULL UNION SELECT "
           "call_leg_profile FROM tenant WHERE call_leg_profile IS NOT NULL UNION SELECT "
           "call_leg_profile FROM access_method WHERE call_leg_profile IS NOT NULL UNION SELECT "
           "call_leg_profile FROM cospace_user WHERE call_leg_profile IS NOT NULL UNION SELECT "
           "call_leg_profile FROM cospace_template WHERE call_leg_profile IS NOT NULL UNION "
           "SELECT call_leg_profile FROM access_method_template WHERE call_leg_profile IS NOT "
           "NULL"),
     1, NULL, false},
    {"call_profile", "usageFilter",
     USAGE("SELECT call_profile FROM cospace WHERE call_profile IS NOT NULL UNION SELECT "
           "call_profile FROM system_profile WHERE call_profile IS NOT NULL UNION SELECT "
           "call_profile FROM tenant WHERE call_profile IS NOT NULL"),
     1, NULL, false},
    {"dtmf_profile", "usageFilter",
     USAGE("SELECT dtmf_profile FROM system_profile WHERE dtmf_profile IS NOT NULL UNION SELECT "
           "dtmf_profile FROM tenant WHERE dtmf_profile IS NOT NULL"),
     1, NULL, false},
    {"call_branding_profile", "usageFilter",
     USAGE("SELECT call_branding_profile FROM cospace WHERE call_branding_profile IS NOT NULL "
           "UNION SELECT call_branding_profile FROM system_profile WHERE call_branding_profile IS "
           "NOT NULL UNION SELECT call_branding_profile FROM tenant WHERE call_branding_profile IS "
           "NOT NULL"),
     1, NULL, false},
    {"ivr_branding_profile", "usageFilter",
     USAGE("SELECT ivr_branding_profile FROM system_profile WHERE ivr_branding_profile IS NOT NULL "
           "UNION SELECT ivr_branding_profile FROM tenant WHERE ivr_branding_profile IS NOT NULL"),
     1, NULL, false},
    {"dial_in_security_profile", "usageFilter",
     USAGE("SELECT dial_in_security_profile FROM cospace WHERE dial_in_security_profile IS NOT "
           "NULL UNION SELECT dial_in_security_profile FROM system_profile WHERE "
           "dial_in_security_profile IS NOT NULL UNION SELECT dial_in_security_profile FROM tenant "
           "WHERE dial_in_security_profile IS NOT NULL"),
     1, NULL, false},
    {"compatibility_profile", "usageFilter",
     USAGE("SELECT compatibility_profile FROM system_profile WHERE compatibility_profile IS NOT "
           "NULL"),
     1, NULL, false},
    {"user_profile", "usageFilter",
     USAGE("SELECT user_profile FROM system_profile WHERE user_profile IS NOT NULL UNION SELECT "
           "user_profile FROM tenant WHERE user_profile IS NOT NULL UNION SELECT user_profile "
           "FROM ldap_source WHERE user_profile IS NOT NULL"),
     1, NULL, false},
    {"layout_template", "usageFilter",
     USAGE("SELECT layout_template FROM call_leg_profile WHERE layout_template IS NOT NULL"), 1,
     NULL, false},
    {"web_bridge_profile", "usageFilter",
     USAGE("SELECT web_bridge_profile FROM system_profile WHERE web_bridge_profile IS NOT NULL "
           "UNION SELECT web_bridge_profile FROM web_bridge WHERE web_bridge_profile IS NOT NULL "
           "UNION SELECT web_bridge_profile FROM tenant WHERE web_bridge_profile IS NOT NULL"),
     1, NULL, false},
    {"call_leg_profile", "filter", NAME_LIKE, 1, NULL, true},
    {"dial_in_security_profile", "filter", NAME_LIKE, 1, NULL, true},
    {"layout_template", "filter", NAME_LIKE, 1, NULL, true},
    {"web_bridge_profile", "filter", NAME_LIKE, 1, NULL, true},
    {"web_bridge", "filter", "url LIKE ? ESCAPE '\\'", 1, NULL, true},
    {"web_bridge", "tenantFilter", "tenant = lower(?)", 1, NULL, false},
    {"tenant", "callLegProfileFilter", "call_leg_profile = ?", 1, NULL, false},
    /* schema/0007_spaces.sql: "parent" scopes a nested collection to its parent's id */
    {"access_method", "parent", "cospace = ?", 1, NULL, false},
    {"access_method", "filter",
     NAME_LIKE " OR uri LIKE ? ESCAPE '\\' OR call_id LIKE ? ESCAPE '\\'", 3, NULL, true},
    {"access_method", "callLegProfileFilter", "call_leg_profile = ?", 1, NULL, false},
    /* exact matches for the address rule (api/res/access.c), not offered to clients */
    {"access_method", "uriExact", "uri = ? COLLATE NOCASE", 1, NULL, false},
    {"access_method", "callIdExact", "call_id = ?", 1, NULL, false},
    {"cospace", "uriExact", "uri = ? COLLATE NOCASE OR secondary_uri = ? COLLATE NOCASE", 2, NULL,
     false},
    {"cospace", "callIdExact", "call_id = ?", 1, NULL, false},
    {"cospace_user", "userJidExact", "user_jid = ?", 1, NULL, false},
    {"cospace_user", "parent", "cospace = ?", 1, NULL, false},
    {"cospace_user", "filter", "user_jid LIKE ? ESCAPE '\\'", 1, NULL, true},
    {"cospace_user", "callLegProfileFilter", "call_leg_profile = ?", 1, NULL, false},
    {"cospace_template", "filter", NAME_LIKE, 1, NULL, true},
    {"access_method_template", "parent", "cospace_template = ?", 1, NULL, false},
    {"access_method_template", "filter", NAME_LIKE, 1, NULL, true},
    {"cospace_bulk_member", "parent", "bulk_set = ?", 1, NULL, false},
    {"cospace_bulk_member", "index", "idx = CAST(? AS BIGINT)", 1, NULL, false},
    /* LDAP (schema/0009_ldap.sql) */
    {"ldap_server", "filter", "address LIKE ? ESCAPE '\\' OR name LIKE ? ESCAPE '\\'", 2, NULL,
     true},
    {"ldap_mapping", "filter", "jid_mapping LIKE ? ESCAPE '\\' OR name_mapping LIKE ? ESCAPE '\\'",
     2, NULL, true},
    {"ldap_source", "filter", "base_dn LIKE ? ESCAPE '\\' OR filter LIKE ? ESCAPE '\\'", 2, NULL,
     true},
    {"ldap_source", "tenantFilter", "tenant = lower(?)", 1, NULL, false},
    {"directory_search_location", "tenantFilter", "tenant = lower(?)", 1, NULL, false},
    {"ldap_user", "filter", "user_jid LIKE ? ESCAPE '\\' OR name LIKE ? ESCAPE '\\'", 2, NULL,
     true},
    {"ldap_user", "tenantFilter", "tenant = lower(?)", 1, NULL, false},
    {"ldap_user", "emailFilter", "email = ?", 1, NULL, false},
    {"ldap_user", "cdrTagFilter", "cdr_tag = ?", 1, NULL, false},
    {"ldap_user", "source", "ldap_source = ?", 1, NULL, false},
    /* the sync thread's (api/ldap_sync.c), not offered to clients */
    {"ldap_user", "entry", "entry = ?", 1, NULL, false},
    {"ldap_sync", "state", "state = ?", 1, NULL, false},
};

/* The definitions whose SQL PostgreSQL needs written otherwise (besides LIKE): the same
 * parameters in the same order. */
static const struct {
    const char *table, *name, *where;
} pg_defs[] = {
    {"turn_server", "filter",
     "strpos(lower(coalesce(server_address, '')), lower(?)) > 0 OR "
     "strpos(lower(coalesce(client_address, '')), lower(?)) > 0"},
    {"access_method", "uriExact", "lower(uri) = lower(?)"},
    {"cospace", "uriExact", "lower(uri) = lower(?) OR lower(secondary_uri) = lower(?)"},
};

/* f's SQL for the dialect d. */
static const char *def_where(enum db_dialect d, const struct filter_def *f)
{
    for (size_t i = 0; d == DB_DIALECT_PG && i < sizeof(pg_defs) / sizeof(pg_defs[0]); i++)
        if (strcmp(pg_defs[i].table, f->table) == 0 && strcmp(pg_defs[i].name, f->name) == 0)
            return pg_defs[i].where;
    return f->where;
}

static const struct filter_def *find_def(const struct store_table *t, const char *name)
{
    for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++)
        if (strcmp(defs[i].table, t->name) == 0 && strcmp(defs[i].name, name) == 0)
            return &defs[i];
    return NULL;
}

/* Characters, not bytes: the trigram tokenizer counts characters. */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

/* An FTS5 phrase: the value in double quotes, quotes inside doubled, so that no input is read
 * as FTS5 query syntax. */
static int fts_phrase(const char *v, char *out, size_t cap)
{
    size_t o = 0;

    out[o++] = '"';
    for (; *v; v++) {
        if (o + 3 >= cap)
            return -EINVAL;
        if (*v == '"')
            out[o++] = '"';
        out[o++] = *v;
    }
    out[o++] = '"';
    out[o] = '\0';
    return 0;
}

/* A LIKE pattern matching v anywhere: '%' v '%', with the wildcards and the escape escaped. */
static int like_pattern(const char *v, char *out, size_t cap)
{
    size_t o = 0;

    out[o++] = '%';
    for (; *v; v++) {
        if (o + 4 >= cap)
            return -EINVAL;
        if (*v == '%' || *v == '_' || *v == '\\')
            out[o++] = '\\';
        out[o++] = *v;
    }
    out[o++] = '%';
    out[o] = '\0';
    return 0;
}

/* Appends src to w->sql, numbering each '?' after the arguments already taken (the caller adds
 * one argument per '?', in order) and, for PostgreSQL, writing " LIKE " as " ILIKE ". */
static int append_sql(enum db_dialect d, const char *src, struct store_where *w)
{
    size_t o = strlen(w->sql), n = w->nargs;

    for (; *src; src++) {
        int len;

        if (*src == '?')
            len = snprintf(w->sql + o, sizeof(w->sql) - o, "?%zu", ++n);
        else if (d == DB_DIALECT_PG && strncmp(src, " LIKE ", 6) == 0)
            len = snprintf(w->sql + o, sizeof(w->sql) - o, " I");
        else
            len = snprintf(w->sql + o, sizeof(w->sql) - o, "%c", *src);
        if (len < 0 || (size_t)len >= sizeof(w->sql) - o)
            return -EINVAL;
        o += (size_t)len;
    }
    return 0;
}

/* Adds one condition: its SQL to w->sql and its value (nargs times, or as a phrase or a
 * pattern) to w->args. */
static int add_cond(enum db_dialect d, const struct filter_def *f, const char *v,
                    struct store_where *w)
{
    bool indexed = d == DB_DIALECT_SQLITE && f->indexed && utf8_chars(v) >= 3 && !w->phrase[0];
    const char *where = def_where(d, f);

    if (w->nargs + (indexed ? 1 : f->nargs) > STORE_WHERE_ARGS)
        return -EINVAL;
    if (append_sql(d, w->sql[0] ? " AND (" : "(", w) < 0 ||
        append_sql(d, indexed ? f->indexed : where, w) < 0 || append_sql(d, ")", w) < 0)
        return -EINVAL;
    if (indexed) {
        if (fts_phrase(v, w->phrase, sizeof(w->phrase)) < 0)
            return -EINVAL;
        w->args[w->nargs++] = w->phrase;
        return 0;
    }
    if (f->substring) {
        if (w->npatterns == STORE_WHERE_PATTERNS ||
            like_pattern(v, w->pattern[w->npatterns], sizeof(w->pattern[0])) < 0)
            return -EINVAL;
        v = w->pattern[w->npatterns++];
        w->scans = true;
    }
    for (size_t n = 0; n < f->nargs; n++)
        w->args[w->nargs++] = v;
    return 0;
}

int store_where_build(enum db_dialect d, const struct store_table *t, const struct store_query *q,
                      struct store_where *w)
{
    w->sql[0] = w->phrase[0] = '\0';
    w->nargs = w->npatterns = 0;
    w->scans = false;
    for (size_t i = 0; q && i < q->nconds; i++) {
        const struct filter_def *f = find_def(t, q->conds[i].name);
        int r;

        if (!f || q->nconds > STORE_MAX_CONDS)
            return -EINVAL;
        r = add_cond(d, f, q->conds[i].value, w);
        if (r < 0)
            return r;
    }
    if (q && q->seq_max > 0) { /* bound, as text: one statement text serves every page */
        if (w->nargs + 2 > STORE_WHERE_ARGS || append_sql(d, w->sql[0] ? " AND " : "", w) < 0 ||
            append_sql(d, "seq BETWEEN CAST(? AS BIGINT) AND CAST(? AS BIGINT)", w) < 0)
            return -EINVAL;
        (void)snprintf(w->seq[0], sizeof(w->seq[0]), "%lld", (long long)q->seq_min);
        (void)snprintf(w->seq[1], sizeof(w->seq[1]), "%lld", (long long)q->seq_max);
        w->args[w->nargs++] = w->seq[0];
        w->args[w->nargs++] = w->seq[1];
    }
    return 0;
}

int store_query_check(const struct store_table *t, const struct store_query *q, bool *ret_scans)
{
    struct store_where w;
    /* without a connection: SQLite's answer (PostgreSQL scans for every substring filter) */
    int r = store_where_build(DB_DIALECT_SQLITE, t, q, &w);

    if (r == 0)
        *ret_scans = w.scans;
    return r;
}
