/* api/ldap_sync.c: the LDAP sync thread (api/ldap_sync.h).
 *
 * DESIGN: one thread, its own store connection, the only includer of ldap.h. A sync is a row of
 * ldap_sync (api/res/ldap.c creates it pending); the thread claims the oldest pending one in a
 * write transaction (so a DELETE either cancels it first or finds it inProgress), then for each
 * LDAP source it covers, in creation order: connect (ldap:// or ldaps:// as the server's secure
 * says), simple-bind, search baseDn for the filter in pages (bounded in entries and time), and
 * expand the mapping's $attr$ templates for each entry. Only when a source was read completely
 * does it write, in one transaction: the users of that source (matched to earlier syncs by the
 * entry's DN), the coSpace each owns when the mapping has coSpace templates (uri and callId
 * checked against every other space as a POST /coSpaces is: clashOccurred), and the removal of
 * the users whose entry is gone. A source that fails ends the sync failed with the reason the API
 * reference names; the sources completed before it stay written. The state is written after each
 * source, so a GET shows numUsersImported and numLdapSourcesComplete as they grow. A source's
 * write that creates or removes many users (ANALYZE_AFTER_USERS) ends with store_analyze, as a
 * coSpaceBulkSync does: on PostgreSQL the next sync is planned for the tables' new size.
 * In a cluster every node runs this thread: the claim is a conditional update recorded with the
 * node's hostId (store_ldap_claim), so two nodes never run one sync, and only the syncs of this
 * node (at its start) or of a node shown down go back to pending (store_ldap_requeue). */
#include <errno.h>
#include <ldap.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/cluster.h"
#include "api/ldap_sync.h"
#include "api/log.h"
#include "api/res/list.h"
#include "api/res/resource.h"
#include "api/res/system.h"
#include "api/util.h"

/* Ticks (seconds) between two looks for syncs a node shown down left in progress. */
#define REQUEUE_TICKS 5

struct api_ldap {
    const struct api *api;
    struct store *st;
    char node[STORE_ID_LEN + 1]; /* this node's hostId: its claims' owner */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    atomic_bool stopping;
    bool woken;
};

/* ---- templates ------------------------------------------------------------------------------ */

int api_ldap_expand(const char *tmpl, api_ldap_attr_fn value, void *userdata, char *out, size_t cap,
                    bool *ret_missing)
{
    size_t o = 0;

    *ret_missing = false;
    for (const char *p = tmpl; *p;) {
        const char *add = p, *end;
        size_t n = 1;

        if (*p == '$') {
            char attr[128];

            end = strchr(p + 1, '$');
            if (!end)
                return -EINVAL;
            n = (size_t)(end - p - 1);
            if (n >= sizeof(attr))
                return -EINVAL;
            memcpy(attr, p + 1, n);
            attr[n] = '\0';
            add = n ? value(userdata, attr) : "$";
            if (!add || !*add) {
                *ret_missing = *ret_missing || n;
                add = "";
            }
            p = end + 1;
            n = strlen(add);
        } else {
            p++;
        }
        if (o + n >= cap)
            return -E2BIG;
        memcpy(out + o, add, n);
        o += n;
    }
    out[o] = '\0';
    return (int)o;
}

/* ---- reading a directory -------------------------------------------------------------------- */

enum { F_JID, F_NAME, F_EMAIL, F_AUTH, F_CDR, F_CS_NAME, F_CS_URI, F_CS_URI2, F_CS_CALL_ID, F__N };

/* One directory entry as the mapping makes it a user; NULL: not set. */
struct entry {
    char *dn;
    char *f[F__N];
};

struct entries {
    struct entry *v;
    size_t n, cap;
    size_t skipped; /* entries read that the mapping made no user of (no jid) */
};

static void entries_done(struct entries *es)
{
    for (size_t i = 0; i < es->n; i++) {
        free(es->v[i].dn);
        for (size_t k = 0; k < F__N; k++)
            free(es->v[i].f[k]);
    }
    free(es->v);
    *es = (struct entries){0};
}

/* The mapping column behind each field (the email comes from the entry's mail, as on CMS). */
static const int field_col[F__N] = {STORE_LMAP_JID,
                                    STORE_LMAP_NAME,
                                    -1,
                                    STORE_LMAP_AUTH_ID,
                                    STORE_LMAP_CDR_TAG,
                                    STORE_LMAP_COSPACE_NAME,
                                    STORE_LMAP_COSPACE_URI,
                                    STORE_LMAP_COSPACE_SECONDARY_URI,
                                    STORE_LMAP_COSPACE_CALL_ID};

struct attr_ctx {
    LDAP *ld;
    LDAPMessage *entry;
    char buf[STORE_TEXT_MAX + 1];
};

/* The attribute's first value, if it is printable text that fits. */
static const char *attr_value(void *userdata, const char *attr)
{
    struct attr_ctx *c = userdata;
    struct berval **vals = ldap_get_values_len(c->ld, c->entry, attr);
    const char *r = NULL;

    if (vals && vals[0] && vals[0]->bv_len < sizeof(c->buf)) {
        memcpy(c->buf, vals[0]->bv_val, vals[0]->bv_len);
        c->buf[vals[0]->bv_len] = '\0';
        r = c->buf;
        for (size_t i = 0; i < vals[0]->bv_len; i++)
            if ((unsigned char)c->buf[i] < 0x20 || c->buf[i] == 0x7f)
                r = NULL;
    }
    ldap_value_free_len(vals);
    return r;
}

/* Adds the entry e as the mapping makes it; an entry without a jid (the jid template names an
 * attribute the entry lacks, or expands to nothing) is not a user and is skipped. */
static int add_entry(LDAP *ld, LDAPMessage *e, const struct store_row *mapping, struct entries *es)
{
    struct attr_ctx c = {ld, e, ""};
    struct entry en = {0};
    char out[STORE_TEXT_MAX + 1];
    char *dn = ldap_get_dn(ld, e);
    int r = 0;

    if (!dn)
        return 0;
    for (size_t k = 0; k < F__N && r == 0; k++) {
        const char *t = field_col[k] < 0 ? "$mail$" : mapping->v[field_col[k]];
        bool missing;
        int n = t ? api_ldap_expand(t, attr_value, &c, out, sizeof(out), &missing) : -ENOENT;

        if (k == F_JID && (n <= 0 || missing)) {
            r = 1; /* not a user */
            es->skipped++;
        } else if (n > 0 && !(en.f[k] = strdup(out)))
            r = -ENOMEM;
    }
    if (r == 0 && es->n == es->cap) {
        size_t cap = es->cap ? 2 * es->cap : 64;
        struct entry *v = realloc(es->v, cap * sizeof(*v));

        if (v) {
            es->v = v;
            es->cap = cap;
        } else {
            r = -ENOMEM;
        }
    }
    if (r == 0 && !(en.dn = strdup(dn)))
        r = -ENOMEM;
    if (r == 0)
        es->v[es->n++] = en;
    else {
        free(en.dn);
        for (size_t k = 0; k < F__N; k++)
            free(en.f[k]);
    }
    ldap_memfree(dn);
    return r < 0 ? r : 0;
}

/* Logs why an LDAP operation failed (never the password: it is in no message). */
static void log_ldap(LDAP *ld, const char *source, const char *what, int rc)
{
    char *diag = NULL;

    (void)ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
    api_log(BASE_LOG_WARN, "ldap sync: source %s: %s: %s%s%s", source, what, ldap_err2string(rc),
            diag && *diag ? ": " : "", diag && *diag ? diag : "");
    ldap_memfree(diag);
}

/* The session's last error (what a failed ldap_result left), LDAP_OTHER when it has none. */
static int session_error(LDAP *ld)
{
    int rc = LDAP_OTHER;

    if (ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &rc) != LDAP_OPT_SUCCESS || rc == LDAP_SUCCESS)
        rc = LDAP_OTHER;
    return rc;
}

/* Waits for the whole answer to msgid in steps of 200 ms, at most API_LDAP_SEARCH_S, and gives
 * up when the daemon stops (the request is abandoned). Returns 0 with *ret, -ETIMEDOUT,
 * -ECANCELED or -EIO. */
static int wait_result(LDAP *ld, int msgid, const atomic_bool *stopping, LDAPMessage **ret)
{
    for (int i = 0; i < API_LDAP_SEARCH_S * 5; i++) {
        struct timeval tv = {0, 200000};
        int rc;

        if (atomic_load(stopping)) {
            (void)ldap_abandon_ext(ld, msgid, NULL, NULL);
            return -ECANCELED;
        }
        rc = ldap_result(ld, msgid, LDAP_MSG_ALL, &tv, ret);
        if (rc > 0)
            return 0;
        if (rc < 0)
            return -EIO;
    }
    (void)ldap_abandon_ext(ld, msgid, NULL, NULL);
    return -ETIMEDOUT;
}

/* One page of the search; *cookie (in and out) is the paged-results cookie, emptied at the end.
 */
static int search_page(LDAP *ld, const atomic_bool *stopping, const char *source,
                       const struct store_row *src, bool paged, struct berval *cookie,
                       const struct store_row *mapping, struct entries *es)
{
    const char *filter =
        src->v[STORE_LSOURCE_FILTER] ? src->v[STORE_LSOURCE_FILTER] : "(objectClass=*)";
    struct timeval tv = {API_LDAP_SEARCH_S, 0};
    LDAPControl *page = NULL, *ctrls[2] = {NULL, NULL}, **rctrls = NULL;
    LDAPMessage *res = NULL;
    ber_int_t count;
    int rc, err = LDAP_SUCCESS, r = 0, msgid = -1;

    if (paged) {
        rc = ldap_create_page_control(ld, API_LDAP_PAGE, cookie->bv_len ? cookie : NULL, 0, &page);
        if (rc != LDAP_SUCCESS) {
            log_ldap(ld, source, "paged results control", rc);
            return -EIO;
        }
        ctrls[0] = page;
    }
    rc = ldap_search_ext(ld, src->v[STORE_LSOURCE_BASE_DN], LDAP_SCOPE_SUBTREE, filter, NULL, 0,
                         paged ? ctrls : NULL, NULL, &tv, API_LDAP_MAX_ENTRIES + 1, &msgid);
    if (rc == LDAP_SUCCESS) {
        r = wait_result(ld, msgid, stopping, &res);
        rc = r == -ETIMEDOUT ? LDAP_TIMEOUT : r < 0 ? session_error(ld) : LDAP_SUCCESS;
    }
    if (rc == LDAP_SUCCESS)
        rc = ldap_parse_result(ld, res, &err, NULL, NULL, NULL, &rctrls, 0);
    if (r != -ECANCELED && (rc != LDAP_SUCCESS || err != LDAP_SUCCESS)) {
        log_ldap(ld, source, "search", rc != LDAP_SUCCESS ? rc : err);
        r = -EIO;
    }
    for (LDAPMessage *e = ldap_first_entry(ld, res); r == 0 && e; e = ldap_next_entry(ld, e))
        r = add_entry(ld, e, mapping, es);
    if (r == 0 && es->n > API_LDAP_MAX_ENTRIES) {
        api_log(BASE_LOG_WARN, "ldap sync: source %s: more than %d users", source,
                API_LDAP_MAX_ENTRIES);
        r = -E2BIG;
    }
    ber_memfree(cookie->bv_val);
    *cookie = (struct berval){0};
    if (r == 0 && paged) {
        LDAPControl *pr = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, rctrls, NULL);

        if (pr && ldap_parse_pageresponse_control(ld, pr, &count, cookie) != LDAP_SUCCESS)
            r = -EIO;
    }
    ldap_controls_free(rctrls);
    ldap_control_free(page);
    ldap_msgfree(res);
    return r;
}

/* Reads every entry of source src from server into es. Returns 0 or -EIO (logged). */
static int directory_read(const atomic_bool *stopping, const char *source,
                          const struct store_row *server, const char *password,
                          const struct store_row *src, const struct store_row *mapping,
                          struct entries *es)
{
    const char *addr = server->v[STORE_LSERVER_ADDRESS];
    bool v6 = strchr(addr, ':') != NULL;
    bool paged = !server->v[STORE_LSERVER_PAGED] || strcmp(server->v[STORE_LSERVER_PAGED], "0");
    struct timeval net = {API_LDAP_CONNECT_S, 0}, op = {API_LDAP_SEARCH_S, 0};
    const char *user = server->v[STORE_LSERVER_USERNAME] ? server->v[STORE_LSERVER_USERNAME] : "";
    struct berval cred = {strlen(password), (char *)(uintptr_t)password}, cookie = {0};
    int version = LDAP_VERSION3, rc, r = 0, pages = 0, msgid = -1, err = LDAP_SUCCESS;
    LDAPMessage *res = NULL;
    char url[STORE_TEXT_MAX + 64];
    LDAP *ld = NULL;

    (void)snprintf(url, sizeof(url), "%s://%s%s%s:%s",
                   strcmp(server->v[STORE_LSERVER_SECURE], "0") ? "ldaps" : "ldap", v6 ? "[" : "",
                   addr, v6 ? "]" : "", server->v[STORE_LSERVER_PORT]);
    rc = ldap_initialize(&ld, url);
    if (rc != LDAP_SUCCESS) {
        api_log(BASE_LOG_WARN, "ldap sync: source %s: %s: %s", source, url, ldap_err2string(rc));
        return -EIO;
    }
    (void)ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
    (void)ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &net);
    (void)ldap_set_option(ld, LDAP_OPT_TIMEOUT, &op);
    (void)ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    rc = ldap_sasl_bind(ld, user, LDAP_SASL_SIMPLE, &cred, NULL, NULL, &msgid);
    if (rc == LDAP_SUCCESS) {
        r = wait_result(ld, msgid, stopping, &res);
        rc = r == -ETIMEDOUT ? LDAP_TIMEOUT : r < 0 ? session_error(ld) : LDAP_SUCCESS;
    }
    if (rc == LDAP_SUCCESS && ldap_parse_result(ld, res, &err, NULL, NULL, NULL, NULL, 0) != 0)
        err = LDAP_OTHER;
    ldap_msgfree(res);
    if (r != -ECANCELED && (rc != LDAP_SUCCESS || err != LDAP_SUCCESS)) {
        log_ldap(ld, source, url, rc != LDAP_SUCCESS ? rc : err);
        if (rc == LDAP_SERVER_DOWN && strncmp(url, "ldaps:", 6) == 0) /* libldap says no more */
            api_log(BASE_LOG_WARN,
                    "ldap sync: source %s: %s: if it listens, is its certificate "
                    "trusted (TLS_CACERT in ldap.conf, or LDAPTLS_CACERT)?",
                    source, url);
        r = -EIO;
    }
    do {
        if (r == 0)
            r = search_page(ld, stopping, source, src, paged, &cookie, mapping, es);
    } while (r == 0 && cookie.bv_len > 0 && ++pages < API_LDAP_MAX_ENTRIES / API_LDAP_PAGE + 2);
    if (r == 0 && cookie.bv_len > 0) { /* pages without end: not the whole directory */
        api_log(BASE_LOG_WARN, "ldap sync: source %s: the server's pages did not end", source);
        r = -E2BIG;
    }
    ber_memfree(cookie.bv_val);
    ldap_unbind_ext_s(ld, NULL, NULL);
    return r;
}

/* ---- writing the users ---------------------------------------------------------------------- */

static int copy_row(const struct store_row *row, void *userdata)
{
    struct store_row *dst = userdata;

    for (size_t i = 0; i < STORE_MAX_COLS; i++)
        if (row->v[i] && store_row_set(dst, i, row->v[i]) < 0)
            return -ENOMEM;
    return 0;
}

/* The first row of t matching the conditions (two at most), or -ENOENT. */
static int find_one(struct store *st, const struct store_table *t, const char *n1, const char *v1,
                    const char *n2, const char *v2, struct store_row *ret)
{
    struct store_query q = {.conds = {{n1, v1}, {n2, v2}}, .nconds = n2 ? 2 : 1};
    int r;

    *ret = (struct store_row){0};
    r = store_row_list(st, t, &q, 0, 1, copy_row, ret);
    if (r == 0 && ret->v[STORE_COL_ID])
        return 0;
    store_row_done(ret);
    return r < 0 ? r : -ENOENT;
}

struct ids {
    char (*v)[STORE_ID_LEN + 1];
    size_t n, cap;
};

static int ids_add(struct ids *ids, const char *id)
{
    if (ids->n == ids->cap) {
        size_t cap = ids->cap ? 2 * ids->cap : 64;
        char(*v)[STORE_ID_LEN + 1] = realloc(ids->v, cap * sizeof(*v));

        if (!v)
            return -ENOMEM;
        ids->v = v;
        ids->cap = cap;
    }
    (void)snprintf(ids->v[ids->n++], STORE_ID_LEN + 1, "%s", id);
    return 0;
}

static int id_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static int collect_id(const struct store_row *row, void *userdata)
{
    return ids_add(userdata, row->v[STORE_COL_ID]);
}

static bool has_cospace(const struct store_row *mapping)
{
    return mapping->v[STORE_LMAP_COSPACE_URI] || mapping->v[STORE_LMAP_COSPACE_NAME] ||
           mapping->v[STORE_LMAP_COSPACE_CALL_ID] || mapping->v[STORE_LMAP_COSPACE_SECONDARY_URI];
}

/* Deletes user id and the coSpace it owns (its members and access methods go with it). */
static int user_delete(struct store *st, const char *id)
{
    struct store_row u = {0};
    int r = store_row_get(st, &store_table_ldap_user, id, &u);

    if (r == 0 && u.v[STORE_LUSER_COSPACE])
        r = store_row_delete(st, &store_table_cospace, u.v[STORE_LUSER_COSPACE]);
    if (r == 0 || r == -ENOENT)
        r = store_row_delete(st, &store_table_ldap_user, id);
    store_row_done(&u);
    return r == -ENOENT ? 0 : r;
}

/* The coSpace member row of an owner: auto-generated, with the permissions the API reference
 * fixes for auto-generated members (canDestroy, canChangeName, canChangeUri, canChangeCallId and
 * canRemoveSelf false, the others true). */
static int member_insert(struct store *st, const char *cospace, const char *jid)
{
    static const char perms[] = "0100011011";
    struct store_row m = {0};
    char id[STORE_ID_LEN + 1];
    int r = api_uuid_new(id);

    if (r == 0)
        r = store_row_set(&m, STORE_COL_ID, id) | store_row_set(&m, STORE_MEMBER_COSPACE, cospace) |
            store_row_set(&m, STORE_MEMBER_JID, jid) | store_row_set(&m, STORE_MEMBER_AUTO, "1");
    for (size_t i = 0; r == 0 && i < 10; i++) {
        char v[2] = {perms[i], '\0'};

        r = store_row_set(&m, STORE_MEMBER_CAN_DESTROY + i, v);
    }
    if (r == 0)
        r = store_row_insert(st, &store_table_cospace_user, &m);
    store_row_done(&m);
    return r;
}

/* Sets what the mapping gives on the coSpace row cs. A uri or callId the entry makes invalid
 * is left unset (and logged): it could not be dialled. */
static void cospace_fields(const struct entry *e, const char *source, struct store_row *cs)
{
    const char *uri = e->f[F_CS_URI], *uri2 = e->f[F_CS_URI2], *cid = e->f[F_CS_CALL_ID];

    if (uri && !api_res_is_uri_user(uri))
        uri = NULL;
    if (uri2 && !api_res_is_uri_user(uri2))
        uri2 = NULL;
    if (cid && (strlen(cid) > 40 || strspn(cid, "0123456789") != strlen(cid)))
        cid = NULL;
    if ((e->f[F_CS_URI] && !uri) || (e->f[F_CS_URI2] && !uri2) || (e->f[F_CS_CALL_ID] && !cid))
        api_log(BASE_LOG_WARN, "ldap sync: source %s: %s: a coSpace uri or callId is not valid",
                source, e->dn);
    (void)store_row_set(cs, STORE_COSPACE_NAME, e->f[F_CS_NAME]);
    (void)store_row_set(cs, STORE_COSPACE_URI, uri);
    (void)store_row_set(cs, STORE_COSPACE_SECONDARY, uri2);
    (void)store_row_set(cs, STORE_COSPACE_CALL_ID, cid);
    (void)store_row_set(cs, STORE_COSPACE_CDR_TAG, e->f[F_CDR]);
}

/* Creates or updates the coSpace user u owns; -EEXIST when its uri or callId clashes. */
static int cospace_write(struct store *st, const struct store_row *src, const struct entry *e,
                         struct store_row *u)
{
    const char *source = src->v[STORE_COL_ID], *reason;
    const char *old = u->v[STORE_LUSER_COSPACE];
    struct store_row cs = {0};
    char id[STORE_ID_LEN + 1], secret[23];
    int r = old ? store_row_get(st, &store_table_cospace, old, &cs) : -ENOENT;
    bool create = r == -ENOENT;

    if (create) {
        r = api_uuid_new(id) | api_space_secret_new(secret);
        if (r == 0)
            r = store_row_set(&cs, STORE_COL_ID, id) | store_row_set(&cs, STORE_COSPACE_AUTO, "1") |
                store_row_set(&cs, STORE_COSPACE_SECRET, secret) |
                store_row_set(&cs, STORE_COSPACE_NON_MEMBER,
                              src->v[STORE_LSOURCE_NON_MEMBER_ACCESS]
                                  ? src->v[STORE_LSOURCE_NON_MEMBER_ACCESS]
                                  : "1");
    }
    if (r == 0) {
        cospace_fields(e, source, &cs);
        r = store_row_set(&cs, STORE_COSPACE_OWNER_JID, u->v[STORE_LUSER_JID]) |
            store_row_set(&cs, STORE_COSPACE_TENANT, src->v[STORE_LSOURCE_TENANT]);
    }
    if (r == 0)
        r = api_space_address_check(st, cs.v[STORE_COL_ID], NULL, cs.v[STORE_COSPACE_URI],
                                    cs.v[STORE_COSPACE_CALL_ID], NULL, &reason);
    if (r == 0 && cs.v[STORE_COSPACE_SECONDARY])
        r = api_space_address_check(st, cs.v[STORE_COL_ID], NULL, cs.v[STORE_COSPACE_SECONDARY],
                                    NULL, NULL, &reason);
    if (r == -EEXIST)
        api_log(BASE_LOG_WARN, "ldap sync: source %s: %s: the coSpace's uri or callId clashes (%s)",
                source, e->dn, reason);
    if (r == 0)
        r = create ? store_row_insert(st, &store_table_cospace, &cs)
                   : store_row_update(st, &store_table_cospace, &cs);
    if (r == 0 && create)
        r = member_insert(st, cs.v[STORE_COL_ID], u->v[STORE_LUSER_JID]);
    if (r == 0)
        r = store_row_set(u, STORE_LUSER_COSPACE, cs.v[STORE_COL_ID]);
    store_row_done(&cs);
    return r > 0 ? -ENOMEM : r;
}

/* Creates or updates the user of entry e; its id goes into kept, and a creation counts in
 * *created. -EEXIST on a clash. */
static int user_write(struct store *st, const struct store_row *src,
                      const struct store_row *mapping, const struct entry *e, struct ids *kept,
                      size_t *created)
{
    const char *source = src->v[STORE_COL_ID];
    struct store_row u;
    char id[STORE_ID_LEN + 1];
    int r = find_one(st, &store_table_ldap_user, "source", source, "entry", e->dn, &u);
    bool create = r == -ENOENT;

    if (create) {
        r = api_uuid_new(id);
        if (r == 0)
            r = store_row_set(&u, STORE_COL_ID, id) |
                store_row_set(&u, STORE_LUSER_SOURCE, source) |
                store_row_set(&u, STORE_LUSER_ENTRY, e->dn);
    }
    if (r == 0) {
        r = store_row_taken(st, &store_table_ldap_user, STORE_LUSER_JID, e->f[F_JID],
                            u.v[STORE_COL_ID], true);
        if (r == 0) {
            api_log(BASE_LOG_WARN, "ldap sync: source %s: %s: jid %s is another user's", source,
                    e->dn, e->f[F_JID]);
            r = -EEXIST;
        } else if (r == -ENOENT) {
            r = 0;
        }
    }
    if (r == 0)
        r = store_row_set(&u, STORE_LUSER_JID, e->f[F_JID]) |
            store_row_set(&u, STORE_LUSER_NAME, e->f[F_NAME]) |
            store_row_set(&u, STORE_LUSER_EMAIL, e->f[F_EMAIL]) |
            store_row_set(&u, STORE_LUSER_AUTH_ID, e->f[F_AUTH]) |
            store_row_set(&u, STORE_LUSER_CDR_TAG, e->f[F_CDR]) |
            store_row_set(&u, STORE_LUSER_TENANT, src->v[STORE_LSOURCE_TENANT]) |
            store_row_set(&u, STORE_LUSER_USER_PROFILE, src->v[STORE_LSOURCE_USER_PROFILE]);
    if (r == 0 && has_cospace(mapping))
        r = cospace_write(st, src, e, &u);
    else if (r == 0 && u.v[STORE_LUSER_COSPACE]) { /* the mapping no longer makes one */
        r = store_row_delete(st, &store_table_cospace, u.v[STORE_LUSER_COSPACE]);
        (void)store_row_set(&u, STORE_LUSER_COSPACE, NULL);
    }
    if (r == 0)
        r = create ? store_row_insert(st, &store_table_ldap_user, &u)
                   : store_row_update(st, &store_table_ldap_user, &u);
    if (r == 0)
        r = ids_add(kept, u.v[STORE_COL_ID]);
    if (r == 0 && create)
        (*created)++;
    store_row_done(&u);
    return r > 0 ? -ENOMEM : r;
}

/* Users a source's write may create and remove together before the database's planner
 * statistics are brought up to date in its transaction (store_analyze): a first sync of a large
 * directory, or one that removes much of it, changes the size of the user and coSpace tables as
 * a coSpaceBulkSync does; a sync that changes a few users leaves it to autovacuum. */
#define ANALYZE_AFTER_USERS 500

/* In one transaction: the users of es, and the removal of the source's other users. */
static int users_write(struct store *st, const struct store_row *src,
                       const struct store_row *mapping, const struct entries *es)
{
    struct store_query q = {.conds = {{"source", src->v[STORE_COL_ID]}}, .nconds = 1};
    struct ids kept = {0}, all = {0};
    size_t changed = 0; /* users created and removed */
    int r = store_begin(st);

    for (size_t i = 0; r == 0 && i < es->n; i++)
        r = user_write(st, src, mapping, &es->v[i], &kept, &changed);
    if (r == 0)
        r = store_row_list(st, &store_table_ldap_user, &q, 0, SIZE_MAX, collect_id, &all);
    if (r == 0 && kept.n)
        qsort(kept.v, kept.n, sizeof(kept.v[0]), id_cmp);
    for (size_t i = 0; r == 0 && i < all.n; i++)
        if (!kept.n || !bsearch(all.v[i], kept.v, kept.n, sizeof(kept.v[0]), id_cmp)) {
            r = user_delete(st, all.v[i]);
            changed++;
        }
    if (r == 0 && changed >= ANALYZE_AFTER_USERS)
        r = store_analyze(st); /* the next sync is planned for the tables' new size */
    if (r == 0)
        r = store_commit(st);
    store_rollback(st);
    free(kept.v);
    free(all.v);
    return r;
}

/* ---- one sync ------------------------------------------------------------------------------- */

static int unhex(const char *hex, unsigned char *out, size_t cap)
{
    size_t n = strlen(hex) / 2;

    if (n > cap)
        return -E2BIG;
    for (size_t i = 0; i < n; i++) {
        char b[3] = {hex[2 * i], hex[2 * i + 1], '\0'};

        out[i] = (unsigned char)strtoul(b, NULL, 16);
    }
    return (int)n;
}

/* Syncs one source: 0 with *ret_users, or -errno with *ret_reason (NULL: not LDAP's fault). */
static int source_sync(struct api_ldap *l, const struct store_row *src, size_t *ret_users,
                       const char **ret_reason)
{
    const char *sid = src->v[STORE_COL_ID];
    struct store_row server = {0}, mapping = {0};
    struct entries es = {0};
    char password[STORE_TEXT_MAX + 1] = "", aad[STORE_ID_LEN + 16];
    unsigned char blob[STORE_BLOB_MAX];
    int r = store_row_get(l->st, &store_table_ldap_server, src->v[STORE_LSOURCE_SERVER], &server);

    *ret_reason = "ldapError";
    if (r == 0)
        r = store_row_get(l->st, &store_table_ldap_mapping, src->v[STORE_LSOURCE_MAPPING],
                          &mapping);
    if (r == -ENOENT)
        api_log(BASE_LOG_WARN, "ldap sync: source %s: its server or mapping no longer exists", sid);
    if (r == 0 && server.v[STORE_LSERVER_PASSWORD]) {
        int n = unhex(server.v[STORE_LSERVER_PASSWORD], blob, sizeof(blob));

        (void)snprintf(aad, sizeof(aad), "%s/password", server.v[STORE_COL_ID]);
        if (n < 0 ||
            api_secret_open(&l->api->secret, aad, blob, (size_t)n, password, sizeof(password)) < 0)
            r = -EBADMSG;
    }
    if (r == -EBADMSG)
        api_log(BASE_LOG_ERR,
                "ldap sync: source %s: the password of server %s cannot be unsealed "
                "(was the key file replaced?)",
                sid, server.v[STORE_COL_ID]);
    else if (r < 0 && r != -ENOENT)
        api_log(BASE_LOG_ERR, "ldap sync: source %s: %s", sid, strerror(-r));
    if (r == 0)
        r = directory_read(&l->stopping, sid, &server, password, src, &mapping, &es);
    if (r == 0 && es.n == 0 && es.skipped > 0) {
        /* a mapping that makes no user of any entry (a jidMapping naming an attribute the
         * directory lacks) would otherwise remove every user of the source */
        api_log(BASE_LOG_ERR,
                "ldap sync: source %s: %zu entries read, none with a jid from the "
                "mapping's jidMapping: nothing written, nothing removed",
                sid, es.skipped);
        r = -EINVAL;
    }
    if (r == 0 && es.skipped > 0)
        api_log(BASE_LOG_WARN, "ldap sync: source %s: %zu entries without a jid skipped", sid,
                es.skipped);
    if (r == 0) {
        r = users_write(l->st, src, &mapping, &es);
        *ret_reason = r == -EEXIST ? "clashOccurred" : NULL;
        if (r < 0 && r != -EEXIST)
            api_log(BASE_LOG_ERR, "ldap sync: source %s: cannot write its users: %s", sid,
                    strerror(-r));
    }
    if (r == 0) {
        *ret_users = es.n;
        api_log(BASE_LOG_INFO, "ldap sync: source %s: %zu users", sid, es.n);
    }
    explicit_bzero(password, sizeof(password));
    entries_done(&es);
    store_row_done(&server);
    store_row_done(&mapping);
    return r;
}

/* Writes the sync's progress or outcome; a finished sync with removeWhenFinished goes. */
static void sync_update(struct api_ldap *l, const char *id, const char *state, const char *reason,
                        size_t users, size_t done)
{
    struct store_row row;
    bool finished = strcmp(state, "inProgress") != 0;
    char n1[24], n2[24];
    int r = store_begin(l->st);

    if (r == 0)
        r = store_row_get(l->st, &store_table_ldap_sync, id, &row);
    if (r == 0) {
        (void)snprintf(n1, sizeof(n1), "%zu", users);
        (void)snprintf(n2, sizeof(n2), "%zu", done);
        if (finished && strcmp(row.v[STORE_LSYNC_REMOVE], "0") != 0)
            r = store_row_delete(l->st, &store_table_ldap_sync, id);
        else if (store_row_set(&row, STORE_LSYNC_STATE, state) < 0 ||
                 store_row_set(&row, STORE_LSYNC_REASON, reason) < 0 ||
                 store_row_set(&row, STORE_LSYNC_USERS, n1) < 0 ||
                 store_row_set(&row, STORE_LSYNC_SOURCES_DONE, done ? n2 : NULL) < 0)
            r = -ENOMEM;
        else
            r = store_row_update(l->st, &store_table_ldap_sync, &row);
        store_row_done(&row);
    }
    if (r == 0)
        r = store_commit(l->st);
    store_rollback(l->st);
    if (r < 0)
        api_log(BASE_LOG_ERR, "ldap sync %s: cannot record its state: %s", id, strerror(-r));
    api_changed(l->api);
}

struct rows {
    struct store_row *v;
    size_t n, cap;
};

static int collect_row(const struct store_row *row, void *userdata)
{
    struct rows *rs = userdata;

    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? 2 * rs->cap : 8;
        struct store_row *v = realloc(rs->v, cap * sizeof(*v));

        if (!v)
            return -ENOMEM;
        rs->v = v;
        rs->cap = cap;
    }
    rs->v[rs->n] = (struct store_row){0};
    return copy_row(row, &rs->v[rs->n++]);
}

/* After a sync of every source: the users of sources that were deleted go too. */
static int orphans_remove(struct store *st)
{
    struct ids all = {0};
    size_t removed = 0;
    int r = store_begin(st);

    if (r == 0)
        r = store_row_list(st, &store_table_ldap_user, NULL, 0, SIZE_MAX, collect_id, &all);
    for (size_t i = 0; r == 0 && i < all.n; i++) {
        struct store_row u = {0};

        r = store_row_get(st, &store_table_ldap_user, all.v[i], &u);
        if (r == 0 && store_row_taken(st, &store_table_ldap_source, STORE_COL_ID,
                                      u.v[STORE_LUSER_SOURCE], NULL, false) == -ENOENT) {
            r = user_delete(st, all.v[i]);
            removed++;
        }
        store_row_done(&u);
    }
    if (r == 0 && removed >= ANALYZE_AFTER_USERS)
        r = store_analyze(st);
    if (r == 0)
        r = store_commit(st);
    store_rollback(st);
    free(all.v);
    return r;
}

static void sync_run(struct api_ldap *l, const struct store_row *sync)
{
    const char *id = sync->v[STORE_COL_ID], *tenant = sync->v[STORE_LSYNC_TENANT];
    const char *only = sync->v[STORE_LSYNC_SOURCE], *reason = NULL;
    struct store_query q = {0};
    struct rows rs = {0};
    size_t users = 0, done = 0;
    int r = 0;

    api_log(BASE_LOG_INFO, "ldap sync %s: started", id);
    if (tenant &&
        store_row_taken(l->st, &store_table_tenant, STORE_COL_ID, tenant, NULL, false) < 0)
        reason = "tenantDoesNotExist";
    else if (only &&
             store_row_taken(l->st, &store_table_ldap_source, STORE_COL_ID, only, NULL, false) < 0)
        reason = "ldapSourceDoesNotExist";
    if (!reason && tenant)
        q.conds[q.nconds++] = (struct store_cond){"tenantFilter", tenant};
    if (!reason)
        r = store_row_list(l->st, &store_table_ldap_source, &q, 0, SIZE_MAX, collect_row, &rs);
    for (size_t i = 0; !reason && r == 0 && i < rs.n && !atomic_load(&l->stopping); i++) {
        size_t n = 0;

        if (only && strcmp(rs.v[i].v[STORE_COL_ID], only) != 0)
            continue;
        r = source_sync(l, &rs.v[i], &n, &reason);
        if (r == 0) {
            users += n;
            done++;
            sync_update(l, id, "inProgress", NULL, users, done);
        }
    }
    if (!reason && r == 0 && only && done == 0 && !atomic_load(&l->stopping))
        reason = "ldapSourceDoesNotExist"; /* not the sync's tenant's, or deleted meanwhile */
    if (!reason && r == 0 && !tenant && !only)
        r = orphans_remove(l->st);
    if (atomic_load(&l->stopping)) {
        api_log(BASE_LOG_INFO, "ldap sync %s: interrupted, runs again at the next start", id);
    } else {
        sync_update(l, id, reason || r < 0 ? "failed" : "complete", reason, users, done);
        api_log(BASE_LOG_INFO, "ldap sync %s: %s%s%s (%zu users from %zu sources)", id,
                reason || r < 0 ? "failed" : "complete", reason ? ": " : "", reason ? reason : "",
                users, done);
    }
    for (size_t i = 0; i < rs.n; i++)
        store_row_done(&rs.v[i]);
    free(rs.v);
}

/* ---- the thread ----------------------------------------------------------------------------- */

/* Takes the oldest pending sync: 0 with *ret (inProgress now, claimed by this node), -ENOENT
 * when none. The claim is a conditional update (store_ldap_claim): when another node took the
 * same sync first, the next pending one is tried (a bounded number of times). */
static int claim(struct api_ldap *l, struct store_row *ret)
{
    char id[STORE_ID_LEN + 1];
    int r = -EAGAIN;

    *ret = (struct store_row){0};
    for (int i = 0; i < 16 && r == -EAGAIN && !atomic_load(&l->stopping); i++)
        r = store_ldap_claim(l->st, l->node, id);
    if (r == 0) {
        api_changed(l->api);
        r = store_row_get(l->st, &store_table_ldap_sync, id, ret);
    }
    return r < 0 ? (r == -EAGAIN ? -ENOENT : r) : 0;
}

/* Syncs left inProgress by a node that is not running them any more go back to pending: at
 * the start, this node's own (it stopped or crashed), and at any time those of a node shown
 * down (or stopped); never one a node that is up holds. */
static void requeue(struct api_ldap *l, bool mine)
{
    int r = store_ldap_requeue(l->st, l->node, mine, API_CLUSTER_DOWN_AFTER);

    if (r > 0) {
        api_log(BASE_LOG_INFO, "ldap: %d sync%s left in progress by a stopped node run again", r,
                r == 1 ? "" : "s");
        api_changed(l->api);
    } else if (r < 0) {
        api_log_every(60, BASE_LOG_WARN, "ldap: cannot requeue syncs of stopped nodes: %s",
                      strerror(-r));
    }
}

static void *run(void *arg)
{
    struct api_ldap *l = arg;

    requeue(l, true);
    for (unsigned tick = 1;; tick++) {
        struct store_row sync;
        struct timespec until;

        if (tick % REQUEUE_TICKS == 0 && store_is_shared(l->st)) /* alone: no other node */
            requeue(l, false);
        while (!atomic_load(&l->stopping) && claim(l, &sync) == 0) {
            sync_run(l, &sync);
            store_row_done(&sync);
        }
        pthread_mutex_lock(&l->lock);
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += 1; /* also a tick: a sync written by another process is found */
        while (!atomic_load(&l->stopping) && !l->woken &&
               pthread_cond_timedwait(&l->cond, &l->lock, &until) == 0)
            ;
        l->woken = false;
        if (atomic_load(&l->stopping)) {
            pthread_mutex_unlock(&l->lock);
            break;
        }
        pthread_mutex_unlock(&l->lock);
    }
    return NULL;
}

int api_ldap_sync_start(const char *db_path, const struct api *api, struct api_ldap **ret)
{
    struct api_ldap *l = calloc(1, sizeof(*l));
    pthread_condattr_t ca;
    int r;

    if (!l)
        return -ENOMEM;
    l->api = api;
    api_system_host_id(api, l->node);
    r = store_open(db_path, &l->st);
    if (r < 0) {
        free(l);
        return r;
    }
    pthread_mutex_init(&l->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&l->cond, &ca);
    pthread_condattr_destroy(&ca);
    r = -pthread_create(&l->thread, NULL, run, l);
    if (r < 0) {
        pthread_mutex_destroy(&l->lock);
        pthread_cond_destroy(&l->cond);
        store_close(l->st);
        free(l);
        return r;
    }
    *ret = l;
    return 0;
}

void api_ldap_sync_stop(struct api_ldap *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->lock);
    atomic_store(&l->stopping, true);
    pthread_cond_signal(&l->cond);
    pthread_mutex_unlock(&l->lock);
    pthread_join(l->thread, NULL);
    pthread_mutex_destroy(&l->lock);
    pthread_cond_destroy(&l->cond);
    store_close(l->st);
    free(l);
}

void api_ldap_sync_wake(struct api_ldap *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->lock);
    l->woken = true;
    pthread_cond_signal(&l->cond);
    pthread_mutex_unlock(&l->lock);
}
