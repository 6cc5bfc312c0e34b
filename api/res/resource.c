/* api/res/resource.c: the generic CMS resource (api/res/resource.h).
 *
 * DESIGN: the API conventions (DESIGN "API conventions"), written once for every collection:
 * POST creates with defaults, PUT is partial and an empty value unsets, the first invalid value
 * answers parameterError, lists are pages in creation order with a total over every match, and
 * every write happens inside one BEGIN IMMEDIATE transaction, so that a check such as "this uri
 * is free" (or "this callBridgeGroup exists") and the write it allows cannot be split by another
 * writer. Hooks run after the commit: a TURN server's tell the prober. The store holds the SQL:
 * filters are passed by name with their values (store/q_filter.c). A nested collection
 * (/coSpaces/<id>/accessMethods) is the same engine scoped to its parent: its rows keep the
 * parent's id, lists select them with the table's "parent" filter, an object under another
 * parent is missing, and a missing parent answers the parent's reason (404). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/log.h"
#include "api/res/resource.h"
#include "api/res/scan.h"
#include "api/util.h"
#include "api/xml.h"

static bool is_printable(const char *v, size_t max_len)
{
    if (strlen(v) > (max_len ? max_len : STORE_TEXT_MAX))
        return false;
    for (; *v; v++)
        if ((unsigned char)*v < 0x20 || *v == 0x7f)
            return false;
    return true;
}

/* RFC 3261 user = 1*( unreserved / escaped / user-unreserved ) */
bool api_res_is_uri_user(const char *v)
{
    if (!*v || strlen(v) > STORE_TEXT_MAX)
        return false;
    for (const char *p = v; *p; p++) {
        if (*p == '%' && p[1] && p[2] && strchr("0123456789abcdefABCDEF", p[1]) &&
            strchr("0123456789abcdefABCDEF", p[2])) {
            p += 2;
            continue;
        }
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr("-_.!~*'()&=+$,;?/", *p)))
            return false;
    }
    return true;
}

static bool is_digits(const char *v)
{
    size_t n = strlen(v);

    if (n == 0 || n > 40)
        return false;
    for (; *v; v++)
        if (*v < '0' || *v > '9')
            return false;
    return true;
}

/* The cache key of a list names its filters and their values: as long as a query can be (URIs
 * are at most 8 KB), so that no value is refused for its length here (the store may). */
#define KEY_MAX (8 * 1024 + 64)

_Static_assert(STORE_TEXT_MAX + API_SECRET_OVERHEAD <= STORE_BLOB_MAX,
               "a sealed secret of STORE_TEXT_MAX bytes must fit the store");

/* Seals secret v of object id's field f into out as the hex a 'b' column takes. At most
 * STORE_TEXT_MAX bytes and no control character: a TURN server could never match one (RFC
 * 8265 OpaqueString refuses them). */
static int seal(const struct api *api, const struct api_field *f, const char *v, const char *id,
                char *out, size_t cap)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char blob[STORE_BLOB_MAX];
    char aad[STORE_ID_LEN + 64];
    long n;

    if (!is_printable(v, STORE_TEXT_MAX))
        return -EINVAL;
    (void)snprintf(aad, sizeof(aad), "%s/%s", id, f->param);
    n = api_secret_seal(&api->secret, aad, v, strlen(v), blob, sizeof(blob));
    if (n < 0 || cap < 2 * (size_t)n + 1)
        return -EIO;
    for (long i = 0; i < n; i++) {
        out[2 * i] = digits[blob[i] >> 4];
        out[2 * i + 1] = digits[blob[i] & 15];
    }
    out[2 * n] = '\0';
    return 0;
}

/* Validates v for f of object id and writes the value to store into out (cap bytes). Returns
 * 0, -EINVAL, -ENOENT for a reference to a missing object, or -EIO. */
static int normalise(const struct api *api, struct store *st, const struct api_field *f,
                     const char *v, const char *id, char *out, size_t cap)
{
    int64_t n;
    bool b;

    switch (f->kind) {
    case AK_TEXT:
    case AK_ID:
        if (!is_printable(v, f->max_len))
            return -EINVAL;
        break;
    case AK_URI:
        if (!api_res_is_uri_user(v))
            return -EINVAL;
        break;
    case AK_DIGITS:
        if (!is_digits(v))
            return -EINVAL;
        break;
    case AK_DOMAIN:
        if (!api_is_domain(v))
            return -EINVAL;
        break;
    case AK_HOST_PORT:
        if (!api_is_host_port(v))
            return -EINVAL;
        break;
    case AK_SECRET:
        return seal(api, f, v, id, out, cap);
    case AK_BOOL:
        if (api_parse_bool(v, &b) < 0)
            return -EINVAL;
        v = b ? "1" : "0";
        break;
    case AK_INT:
        if (api_parse_int(v, f->min, f->max, &n) < 0)
            return -EINVAL;
        snprintf(out, cap, "%lld", (long long)n);
        return 0;
    case AK_ENUM:
        for (const char *const *e = f->enums; *e; e++) {
            if (strcasecmp(v, *e) == 0) {
                snprintf(out, cap, "%s", *e);
                return 0;
            }
        }
        return -EINVAL;
    case AK_REF: {
        char ref[STORE_ID_LEN + 1];
        int r;

        if (api_parse_id(v, ref) < 0)
            return -ENOENT;
        r = store_row_taken(st, f->ref, STORE_COL_ID, ref, NULL, false);
        if (r < 0)
            return r;
        snprintf(out, cap, "%s", ref);
        return 0;
    }
    }
    snprintf(out, cap, "%s", v);
    return 0;
}

/* Applies the form to row. On failure *reply holds the answer. */
static int apply_form(const struct api *api, struct store *st, const struct api_request *req,
                      const struct api_resource *res, struct store_row *row, bool create,
                      struct api_reply *reply)
{
    for (size_t i = 0; i < res->nfields; i++) {
        const struct api_field *f = &res->fields[i];
        const char *v = api_params_get(req->form, f->param);
        char value[2 * STORE_BLOB_MAX + 1]; /* the longest: a sealed secret in hex */
        int r;

        if (f->flags & (AF_VIRTUAL | AF_READONLY) || (create && (f->flags & AF_PUT_ONLY)))
            continue;
        if (!v || !*v) {
            if ((f->flags & AF_REQUIRED) && (create || v)) {
                api_reply_param_error(reply, f->param, create && !v ? "missing" : "invalidValue");
                return -EINVAL;
            }
            if (v) /* PUT with an empty value: unset (back to the default, if any) */
                (void)store_row_set(row, f->col, f->dflt);
            continue;
        }
        r = normalise(api, st, f, v, row->v[STORE_COL_ID], value, sizeof(value));
        if (r == -EINVAL) {
            api_reply_param_error(reply, f->param, "invalidValue");
            return r;
        }
        if (r == -ENOENT) {
            api_reply_failure(reply, 400, f->ref_missing);
            return r;
        }
        if (r < 0 || store_row_set(row, f->col, value) < 0) {
            api_reply_err(reply, r < 0 ? r : -ENOMEM);
            return r < 0 ? r : -ENOMEM;
        }
    }
    return 0;
}

static void write_value(struct api_xml *x, const struct api_field *f, const char *v)
{
    if (f->kind == AK_BOOL)
        api_xml_bool(x, f->param, strcmp(v, "0") != 0);
    else
        api_xml_text(x, f->param, v);
}

/* <element id="..."> with the fields that are set, or have a value shown when unset (only
 * AF_LIST ones in lists), in res->order, then what res->show adds. Secrets never. */
static int write_row(struct store *st, struct api_xml *x, const struct api_resource *res,
                     const struct store_row *row, bool list)
{
    int r = 0;

    api_xml_start(x, res->element);
    if (!res->singleton)
        api_xml_attr(x, "id", row->v[STORE_COL_ID]);
    for (size_t i = 0; i < res->nfields; i++) {
        const struct api_field *f = &res->fields[res->order ? res->order[i] : i];
        const char *v;

        if (f->flags & (AF_HIDDEN | AF_VIRTUAL) || f->kind == AK_SECRET ||
            (list && !(f->flags & AF_LIST)))
            continue;
        v = row->v[f->col] ? row->v[f->col] : list ? NULL : f->unset;
        if (v)
            write_value(x, f, v);
    }
    if (res->show)
        r = res->show(st, row, list, x);
    api_xml_end(x);
    return r;
}

/* ---- the collection ----------------------------------------------------------------------- */

struct list_ctx {
    struct store *st;
    struct api_xml *x;
    const struct api_resource *res;
};

static int list_one(const struct store_row *row, void *userdata)
{
    struct list_ctx *c = userdata;

    return write_row(c->st, c->x, c->res, row, true);
}

/* The named filters in the query (store/q_filter.c holds what they mean) into q, and the
 * cache key that names them. Returns 0, or -EINVAL (too long, or a filter the store refuses). */
static int build_filters(const struct api_request *req, const struct api_resource *res,
                         const char *pid, struct store_query *q, char *key, size_t cap,
                         bool *ret_scans)
{
    size_t k = 0;

    key[0] = '\0';
    if (pid) { /* a nested collection: its parent's rows only */
        q->conds[q->nconds++] = (struct store_cond){"parent", pid};
        k += (size_t)snprintf(key, cap, "parent=%s|", pid);
    }
    for (size_t i = 0; i < res->nfilters && q->nconds < STORE_MAX_CONDS; i++) {
        const char *v = api_params_get(req->query, res->filters[i].param);

        if (!v || !*v)
            continue;
        q->conds[q->nconds++] = (struct store_cond){res->filters[i].param, v};
        k += (size_t)snprintf(key + k, cap - k, "%s=%zu:%s|", res->filters[i].param, strlen(v), v);
        if (k >= cap)
            return -EINVAL;
    }
    return store_query_check(res->table, q, ret_scans);
}

struct count_ctx {
    struct store *st;
    const struct store_table *table;
    const struct store_query *q;
};

static int count_rows(void *arg, size_t *ret_total)
{
    const struct count_ctx *c = arg;

    return store_row_count(c->st, c->table, c->q, ret_total);
}

/* The total and the page of a list in one read snapshot: counted (or the count of the same
 * snapshot, api_list_total) and read by the filter, or from the summary of a filter that no
 * index serves (api/res/scan.h). */
static int list_rows(const struct api *api, struct store *st, const struct api_resource *res,
                     const struct store_query *q, const char *key, bool scans,
                     struct api_list_at *at, size_t offset, size_t limit, struct api_xml *x)
{
    struct list_ctx c = {st, x, res};
    struct api_scan *scan = NULL;
    size_t total = 0;
    int r = store_read_begin(st);

    if (r == 0)
        api_list_snapshot(api, st, at);
    if (r == 0 && scans)
        r = api_scan_summary(api, st, res->table, q, key, at->generation, &scan);
    if (r == 0 && scan)
        total = api_scan_total(scan);
    else if (r == 0)
        r = api_list_total(api, st, at, res->collection, key, count_rows,
                           &(struct count_ctx){st, res->table, q}, &total);
    if (r == 0) {
        api_xml_start(x, res->collection);
        api_xml_attr_size(x, "total", total);
        r = scan ? api_scan_list(st, res->table, q, scan, offset, limit, list_one, &c)
                 : store_row_list(st, res->table, q, offset, limit, list_one, &c);
    }
    store_read_end(st);
    api_scan_free(scan);
    return r;
}

static void list(const struct api *api, struct store *st, const struct api_request *req,
                 const struct api_resource *res, const char *pid, struct api_reply *reply)
{
    struct store_query q = {0};
    struct api_xml *x = NULL;
    char key[KEY_MAX];
    size_t offset, limit;
    struct api_list_at at;
    bool scans = false;
    int r;

    if (api_page_from_query(req, res->page_default, &offset, &limit, reply) < 0)
        return;
    if (build_filters(req, res, pid, &q, key, sizeof(key), &scans) < 0) {
        api_reply_param_error(reply, "filter", "invalidValue");
        return;
    }
    if (api_list_cached(api, st, res->collection, key, offset, limit, &at, reply))
        return;
    x = api_xml_new();
    r = x ? list_rows(api, st, res, &q, key, scans, &at, offset, limit, x) : -ENOMEM;
    if (r < 0) {
        api_xml_free(x);
        api_reply_err(reply, r);
        return;
    }
    api_reply_xml(reply, x);
    api_list_remember(api, res->collection, key, offset, limit, &at, reply);
}

/* Runs the hook and the write, in the transaction the caller opened. */
/* The fields marked unique (.duplicate) against the table's other rows. */
static int check_unique(struct store *st, const struct api_resource *res,
                        const struct store_row *row, struct api_reply *reply)
{
    for (size_t i = 0; i < res->nfields; i++) {
        const struct api_field *f = &res->fields[i];
        int r;

        if (!f->duplicate || (f->flags & AF_VIRTUAL) || !row->v[f->col])
            continue;
        r = store_row_taken(st, res->table, f->col, row->v[f->col], row->v[STORE_COL_ID],
                            f->flags & AF_NOCASE);
        if (r == 0) {
            api_reply_failure(reply, 400, f->duplicate);
            return -EEXIST;
        }
        if (r != -ENOENT) {
            api_reply_err(reply, r);
            return r;
        }
    }
    return 0;
}

/* A write refused by a constraint (-EEXIST) that the checks before it did not foresee: another
 * node (or, on SQLite, nothing: its checks see every committed row) took the value between our
 * check and our insert. The request is run again from its start, in a new transaction, whose
 * checks see the winner and answer its precise reason (store/db.h, dialect difference 8). */
#define WRITE_RETRIES 3

/* The errors of a write that running the request again may cure: a unique value another writer
 * took first (-EEXIST), or a PostgreSQL deadlock (-EDEADLK: two PUTs taking two values in
 * opposite orders) whose transaction the server rolled back. The one place that says which. */
static bool rerun_errno(int rc)
{
    return rc == -EEXIST || rc == -EDEADLK;
}

/* rerun_errno with *reply still empty: a conflict for the caller to retry (WRITE_RETRIES). */
static bool retry_conflict(int r, const struct api_reply *reply)
{
    return rerun_errno(r) && reply->status == 0;
}

static int write_row_checked(const struct api *api, struct store *st, const struct api_request *req,
                             const struct api_resource *res, struct store_row *row, bool create,
                             struct api_reply *reply)
{
    int r = res->check ? res->check(api, st, req, res, row, create, reply) : 0;

    if (r == 0)
        r = check_unique(st, res, row, reply);
    if (r < 0)
        return r;
    r = create ? store_row_insert(st, res->table, row) : store_row_update(st, res->table, row);
    if (r == 0)
        r = store_commit(st);
    if (r == -EDQUOT)
        api_reply_too_many(reply, res->collection);
    else if (r < 0 && !rerun_errno(r))
        api_reply_err(reply, r);
    return r;
}

/* A conflict is normal between nodes (at debug level, so that a run can be looked at). */
static void log_conflict(const struct api_resource *res, int r, const struct api_reply *reply)
{
    if (retry_conflict(r, reply))
        api_log(BASE_LOG_DEBUG, "%s: a write met another's at a unique value; run again",
                res->collection);
}

/* After WRITE_RETRIES conflicts in a row: the writes around this one keep taking what it
 * needs; 503 databaseNotReady tells the client to try again. */
static void reply_conflict(struct api_reply *reply, int r)
{
    if (retry_conflict(r, reply))
        api_reply_err(reply, -EBUSY);
}

/* In a nested collection, the parent pid must exist (in the caller's transaction or snapshot,
 * so that a child is never written under a parent deleted meanwhile). */
static int parent_present(struct store *st, const struct api_resource *res, const char *pid,
                          struct api_reply *reply)
{
    int r = pid ? store_row_taken(st, res->parent->table, STORE_COL_ID, pid, NULL, false) : 0;

    if (r == -ENOENT)
        api_reply_failure(reply, 404, res->parent->missing);
    else if (r < 0)
        api_reply_err(reply, r);
    return r;
}

/* The row a POST starts from: its new id, its parent, the fields' defaults. */
static int fresh_row(const struct api_resource *res, const char *pid, const char *id,
                     struct store_row *row)
{
    store_row_done(row);
    if (store_row_set(row, STORE_COL_ID, id) < 0 ||
        (pid && store_row_set(row, res->parent_col, pid) < 0))
        return -ENOMEM;
    for (size_t i = 0; i < res->nfields; i++)
        if (res->fields[i].dflt && !(res->fields[i].flags & AF_VIRTUAL))
            (void)store_row_set(row, res->fields[i].col, res->fields[i].dflt);
    return 0;
}

/* Reads object id of res, which in a nested collection must belong to pid (-ENOENT else). */
static int row_get(struct store *st, const struct api_resource *res, const char *pid,
                   const char *id, struct store_row *ret_row)
{
    int r = store_row_get(st, res->table, id, ret_row);

    if (r == 0 && pid &&
        (!ret_row->v[res->parent_col] || strcmp(ret_row->v[res->parent_col], pid) != 0)) {
        store_row_done(ret_row);
        return -ENOENT;
    }
    return r;
}

/* One run of a POST, in the transaction the caller opened: a new row with the form applied. */
static int create_once(const struct api *api, struct store *st, const struct api_request *req,
                       const struct api_resource *res, const char *pid, const char *id,
                       struct store_row *row, struct api_reply *reply)
{
    int r;

    if (fresh_row(res, pid, id, row) < 0) {
        api_reply_err(reply, -EIO);
        return -EIO;
    }
    r = parent_present(st, res, pid, reply);
    return r < 0 ? r : apply_form(api, st, req, res, row, true, reply);
}

/* One run of a PUT, in the transaction the caller opened: the stored row with the form applied. */
static int update_once(const struct api *api, struct store *st, const struct api_request *req,
                       const struct api_resource *res, const char *pid, const char *id,
                       struct store_row *row, struct api_reply *reply)
{
    int r;

    store_row_done(row);
    r = row_get(st, res, pid, id, row);
    if (r == -ENOENT)
        api_reply_failure(reply, 404, res->missing);
    else if (r < 0)
        api_reply_err(reply, r);
    return r < 0 ? r : apply_form(api, st, req, res, row, false, reply);
}

/* A POST (create) or PUT of object id, run again from its start in a new transaction while it
 * meets a conflict (retry_conflict), at most WRITE_RETRIES times; 200 once committed. */
static int write_object(const struct api *api, struct store *st, const struct api_request *req,
                        const struct api_resource *res, const char *pid, const char *id,
                        bool create, struct api_reply *reply)
{
    struct store_row row = {0};
    int r;

    for (int attempt = 0;; attempt++) {
        r = store_begin(st);
        if (r < 0) {
            api_reply_err(reply, r);
            break;
        }
        r = (create ? create_once : update_once)(api, st, req, res, pid, id, &row, reply);
        if (r == 0)
            r = write_row_checked(api, st, req, res, &row, create, reply);
        store_rollback(st);
        log_conflict(res, r, reply);
        if (!retry_conflict(r, reply) || attempt + 1 == WRITE_RETRIES)
            break;
    }
    reply_conflict(reply, r);
    store_row_done(&row);
    if (r == 0) {
        api_changed(api);
        if (res->after_write)
            res->after_write(api, st, id);
        reply->status = 200;
    }
    return r;
}

static void create(const struct api *api, struct store *st, const struct api_request *req,
                   const struct api_resource *res, const char *pid, struct api_reply *reply)
{
    char id[STORE_ID_LEN + 1];

    if (api_uuid_new(id) < 0) {
        api_reply_err(reply, -EIO);
        return;
    }
    if (write_object(api, st, req, res, pid, id, true, reply) < 0)
        return;
    if (pid)
        snprintf(reply->location, sizeof(reply->location), "/api/v1/%s/%s/%s/%s",
                 res->parent->collection, pid, res->collection, id);
    else
        snprintf(reply->location, sizeof(reply->location), "/api/v1/%s/%s", res->collection, id);
}

/* ---- one object --------------------------------------------------------------------------- */

static void get_one(struct store *st, const struct api_resource *res, const char *pid,
                    const char *id, struct api_reply *reply)
{
    struct store_row row;
    struct api_xml *x;
    int r = res->show ? store_read_begin(st) : 0; /* the row and what show counts, together */

    if (r == 0)
        r = row_get(st, res, pid, id, &row);
    if (r == -ENOENT) {
        store_read_end(st);
        api_reply_failure(reply, 404, res->missing);
        return;
    }
    if (r < 0) {
        store_read_end(st);
        api_reply_err(reply, r);
        return;
    }
    x = api_reply_xml_new(reply);
    if (x) {
        r = write_row(st, x, res, &row, false);
        if (r == 0) {
            api_reply_xml(reply, x);
        } else {
            api_xml_free(x);
            api_reply_err(reply, r);
        }
    }
    store_read_end(st);
    store_row_done(&row);
}

static void update(const struct api *api, struct store *st, const struct api_request *req,
                   const struct api_resource *res, const char *pid, const char *id,
                   struct api_reply *reply)
{
    (void)write_object(api, st, req, res, pid, id, false, reply);
}

/* A nested object is deleted only as a child of pid: read and deleted in one transaction, as is
 * an object whose resource may refuse the delete (before_delete fills *reply then). */
static int delete_row(struct store *st, const struct api_resource *res, const char *pid,
                      const char *id, struct api_reply *reply)
{
    struct store_row row;
    int r;

    if (!pid && !res->before_delete)
        return store_row_delete(st, res->table, id);
    r = store_begin(st);
    if (r == 0 && pid) {
        r = row_get(st, res, pid, id, &row);
        if (r == 0)
            store_row_done(&row);
    }
    if (r == 0 && res->before_delete)
        r = res->before_delete(st, id, reply);
    if (r == 0)
        r = store_row_delete(st, res->table, id);
    if (r == 0)
        r = store_commit(st);
    store_rollback(st);
    return r;
}

static void delete_one(const struct api *api, struct store *st, const struct api_resource *res,
                       const char *pid, const char *id, struct api_reply *reply)
{
    int r = delete_row(st, res, pid, id, reply);

    if (r == -EPERM) /* refused, *reply says why */
        return;
    if (r == -ENOENT)
        api_reply_failure(reply, 404, res->missing);
    else if (r == -EINVAL) /* ON DELETE RESTRICT: others still refer to it */
        api_reply_failure(reply, 400, res->in_use);
    else if (r < 0)
        api_reply_err(reply, r);
    else {
        api_changed(api);
        if (res->after_delete)
            res->after_delete(api, st, id);
        reply->status = 200;
    }
}

/* The collection (id NULL) or one object of res, under pid when nested. */
static void dispatch(const struct api *api, struct store *st, const struct api_request *req,
                     const struct api_resource *res, const char *pid, const char *id,
                     struct api_reply *reply)
{
    char lid[STORE_ID_LEN + 1];

    if (!id) {
        if (req->method == API_POST)
            create(api, st, req, res, pid, reply);
        else
            list(api, st, req, res, pid, reply);
        return;
    }
    if (api_parse_id(id, lid) < 0) {
        api_reply_failure(reply, 404, res->missing);
        return;
    }
    if (req->method == API_PUT)
        update(api, st, req, res, pid, lid, reply);
    else if (req->method == API_DELETE)
        delete_one(api, st, res, pid, lid, reply);
    else
        get_one(st, res, pid, lid, reply);
}

void api_res_generic(const struct api *api, struct store *st, const struct api_request *req,
                     const struct api_resource *res, const char *id, struct api_reply *reply)
{
    dispatch(api, st, req, res, NULL, id, reply);
}

void api_res_nested(const struct api *api, struct store *st, const struct api_request *req,
                    const struct api_resource *res, const char *pid, const char *id,
                    struct api_reply *reply)
{
    char lpid[STORE_ID_LEN + 1];
    int r;

    if (api_parse_id(pid, lpid) < 0) {
        api_reply_failure(reply, 404, res->parent->missing);
        return;
    }
    /* the parent's absence answers first; a POST checks it again in its transaction */
    r = req->method == API_POST && !id ? 0 : parent_present(st, res, lpid, reply);
    if (r == 0)
        dispatch(api, st, req, res, lpid, id, reply);
}
