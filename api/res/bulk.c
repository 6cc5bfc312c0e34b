/* api/res/bulk.c: coSpace bulk parameter sets (/coSpaceBulkParameterSets) and the syncs that
 * apply them (/coSpaceBulkSyncs).
 *
 * DESIGN: a parameter set describes coSpaces startIndex..endIndex: each mapping is text with at
 * most one "$index$" (replaced by the index; "\\$" and "\\\\" are a literal '$' and '\\'). A
 * sync is one write transaction: it checks every uri and callId the range would take against
 * every other space and access method first (failedCoSpaceUriConflict, failedCallIdConflict),
 * then creates the spaces not yet made, rewrites those it made before (cospace_bulk_member
 * remembers them by index) and deletes those now outside the range - or, with removeAll, deletes
 * all it made. The sync record is stored with its final status in the same transaction, so GET
 * shows complete or the reason it failed; pending and running are never seen. A sync the store
 * cannot finish (the cap of coSpaces reached) fails the POST and leaves nothing behind. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/res/registry.h" /* api_calls_grow */
#include "api/res/resource.h"
#include "api/util.h"

#define BULK_MAX_RANGE 10000 /* spaces in one sync; more is failedIndexRangeTooGreat */

/* Expands mapping for index into out (cap bytes). -EINVAL: a '$' that does not start
 * "$index$", a second "$index$", a lone '\\' or too long. */
static int expand(const char *mapping, int64_t index, char *out, size_t cap)
{
    size_t o = 0;
    bool used = false;

    for (const char *p = mapping; *p; p++) {
        char num[24];
        const char *piece = num;

        if (*p == '\\' && (p[1] == '\\' || p[1] == '$')) {
            num[0] = *++p;
            num[1] = '\0';
        } else if (*p == '$' && strncmp(p, "$index$", 7) == 0 && !used) {
            snprintf(num, sizeof(num), "%" PRId64, index);
            used = true;
            p += 6;
        } else if (*p == '$' || *p == '\\') {
            return -EINVAL;
        } else {
            num[0] = *p;
            num[1] = '\0';
        }
        for (; *piece; piece++) {
            if (o + 1 >= cap)
                return -EINVAL;
            out[o++] = *piece;
        }
    }
    out[o] = '\0';
    return 0;
}

static bool has_index(const char *mapping)
{
    return mapping && strstr(mapping, "$index$") != NULL;
}

/* ---- parameter sets ------------------------------------------------------------------------ */

static const struct api_field set_fields[] = {
    {.param = "startIndex",
     .col = STORE_BULK_START,
     .kind = AK_INT,
     .flags = AF_LIST | AF_REQUIRED,
     .min = 0,
     .max = INT32_MAX},
    {.param = "endIndex",
     .col = STORE_BULK_END,
     .kind = AK_INT,
     .flags = AF_LIST | AF_REQUIRED,
     .min = 0,
     .max = INT32_MAX},
    {.param = "coSpaceUriMapping", .col = STORE_BULK_URI_MAP, .kind = AK_TEXT},
    {.param = "coSpaceNameMapping", .col = STORE_BULK_NAME_MAP, .kind = AK_TEXT},
    {.param = "coSpaceCallIdMapping", .col = STORE_BULK_CALL_ID_MAP, .kind = AK_TEXT},
    {.param = "tenant",
     .col = STORE_BULK_TENANT,
     .kind = AK_REF,
     .ref = &store_table_tenant,
     .ref_missing = "tenantDoesNotExist"},
    {.param = "callProfile", .col = STORE_BULK_CALL_PROFILE, .kind = AK_ID},
    {.param = "callBrandingProfile", .col = STORE_BULK_BRANDING, .kind = AK_ID},
    {.param = "nonMemberAccess", .col = STORE_BULK_NON_MEMBER, .kind = AK_BOOL, .dflt = "1"},
};

enum mapping_kind { MAP_URI, MAP_NAME, MAP_CALL_ID };

/* A mapping must expand; a uri one to a SIP URI user part, a callId one to digits, a name one
 * to printable text. */
static bool mapping_valid(const char *m, enum mapping_kind kind)
{
    char out[STORE_TEXT_MAX + 1];

    if (!m)
        return true;
    if (expand(m, 0, out, sizeof(out)) < 0 || (kind != MAP_NAME && !*m) ||
        (kind == MAP_URI && !api_res_is_uri_user(out)))
        return false;
    for (const char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20 || (kind == MAP_CALL_ID && (*p < '0' || *p > '9')))
            return false;
    return true;
}

static int set_check(const struct api *api, struct store *st, const struct api_request *req,
                     const struct api_resource *res, struct store_row *row, bool create,
                     struct api_reply *reply)
{
    static const struct {
        size_t col;
        const char *param;
        enum mapping_kind kind;
    } maps[] = {{STORE_BULK_URI_MAP, "coSpaceUriMapping", MAP_URI},
                {STORE_BULK_NAME_MAP, "coSpaceNameMapping", MAP_NAME},
                {STORE_BULK_CALL_ID_MAP, "coSpaceCallIdMapping", MAP_CALL_ID}};

    (void)api;
    (void)st;
    (void)req;
    (void)res;
    (void)create;
    for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
        const char *m = row->v[maps[i].col];

        if (!mapping_valid(m, maps[i].kind)) {
            api_reply_param_error(reply, maps[i].param, "invalidValue");
            return -EINVAL;
        }
    }
    return 0;
}

const struct api_resource api_res_bulk_sets = {
    .collection = "cospaceBulkParameterSets",
    .element = "cospaceBulkParameterSet",
    .missing = "coSpaceBulkParameterSetDoesNotExist",
    .table = &store_table_bulk_set,
    .fields = set_fields,
    .nfields = sizeof(set_fields) / sizeof(set_fields[0]),
    .page_default = API_PAGE_DEFAULT,
    .check = set_check,
};

/* ---- syncs --------------------------------------------------------------------------------- */

struct sync {
    struct store *st;
    const struct store_row *set;
    int64_t start, end;
};

/* The coSpace the set made for index, into id (STORE_ID_LEN + 1 bytes); "" when none. */
struct found {
    int64_t index;
    char *id;
};

static int found_one(const struct store_row *row, void *userdata)
{
    struct found *f = userdata;

    if (strtoll(row->v[STORE_BMEMBER_INDEX], NULL, 10) == f->index)
        snprintf(f->id, STORE_ID_LEN + 1, "%s", row->v[STORE_BMEMBER_ID]);
    return 0;
}

static int member_of(struct sync *s, int64_t index, char *id)
{
    char idx[24];
    struct store_query q = {.conds = {{"parent", s->set->v[STORE_BULK_ID]}, {"index", idx}},
                            .nconds = 2};
    struct found f = {index, id};

    snprintf(idx, sizeof(idx), "%" PRId64, index);
    id[0] = '\0';
    return store_row_list(s->st, &store_table_bulk_member, &q, 0, 1, found_one, &f);
}

/* The uri, name and callId of index (each "" when its mapping is not set). */
static int names_of(const struct sync *s, int64_t index, char uri[STORE_TEXT_MAX + 1],
                    char name[STORE_TEXT_MAX + 1], char call_id[STORE_TEXT_MAX + 1])
{
    const char *u = s->set->v[STORE_BULK_URI_MAP], *n = s->set->v[STORE_BULK_NAME_MAP],
               *c = s->set->v[STORE_BULK_CALL_ID_MAP];

    uri[0] = name[0] = call_id[0] = '\0';
    if ((u && expand(u, index, uri, STORE_TEXT_MAX + 1) < 0) ||
        (n && expand(n, index, name, STORE_TEXT_MAX + 1) < 0) ||
        (c && expand(c, index, call_id, STORE_TEXT_MAX + 1) < 0))
        return -EINVAL;
    return 0;
}

/* Pass one: every address of the range is free of other spaces. Returns 0, or the failure
 * status through *ret_status with 1, or a negative errno. */
static int conflicts(struct sync *s, const char **ret_status)
{
    const char *u = s->set->v[STORE_BULK_URI_MAP], *c = s->set->v[STORE_BULK_CALL_ID_MAP];

    /* a mapping without $index$ would give every space of a range the same address */
    if (s->end > s->start && ((u && !has_index(u)) || (c && !has_index(c)))) {
        *ret_status = u && !has_index(u) ? "failedCoSpaceUriConflict" : "failedCallIdConflict";
        return 1;
    }
    for (int64_t i = s->start; i <= s->end; i++) {
        char uri[STORE_TEXT_MAX + 1], name[STORE_TEXT_MAX + 1], call_id[STORE_TEXT_MAX + 1];
        char id[STORE_ID_LEN + 1];
        const char *reason = NULL;
        int r = names_of(s, i, uri, name, call_id);

        if (r == 0)
            r = member_of(s, i, id);
        if (r == 0)
            r = api_space_address_check(s->st, id, NULL, uri[0] ? uri : NULL,
                                        call_id[0] ? call_id : NULL, NULL, &reason);
        if (r == -EEXIST) {
            *ret_status =
                strstr(reason, "Uri") ? "failedCoSpaceUriConflict" : "failedCallIdConflict";
            return 1;
        }
        if (r < 0)
            return r;
    }
    return 0;
}

/* The coSpace row of index (id: the existing one, or a new one). */
static int space_row(const struct sync *s, int64_t index, const char *id, struct store_row *row)
{
    char uri[STORE_TEXT_MAX + 1], name[STORE_TEXT_MAX + 1], call_id[STORE_TEXT_MAX + 1];
    char secret[23] = "";
    int r = names_of(s, index, uri, name, call_id);

    if (r == 0 && call_id[0])
        r = api_space_secret_new(secret);
    if (r < 0 || store_row_set(row, STORE_COSPACE_ID, id) < 0 ||
        store_row_set(row, STORE_COSPACE_URI, uri[0] ? uri : NULL) < 0 ||
        store_row_set(row, STORE_COSPACE_NAME, name[0] ? name : NULL) < 0 ||
        store_row_set(row, STORE_COSPACE_CALL_ID, call_id[0] ? call_id : NULL) < 0 ||
        store_row_set(row, STORE_COSPACE_SECRET, call_id[0] ? secret : NULL) < 0 ||
        store_row_set(row, STORE_COSPACE_AUTO, "0") < 0 ||
        store_row_set(row, STORE_COSPACE_TENANT, s->set->v[STORE_BULK_TENANT]) < 0 ||
        store_row_set(row, STORE_COSPACE_CALL_PROFILE, s->set->v[STORE_BULK_CALL_PROFILE]) < 0 ||
        store_row_set(row, STORE_COSPACE_BRANDING, s->set->v[STORE_BULK_BRANDING]) < 0 ||
        store_row_set(row, STORE_COSPACE_NON_MEMBER, s->set->v[STORE_BULK_NON_MEMBER]) < 0)
        return r < 0 ? r : -ENOMEM;
    return 0;
}

/* Creates or rewrites the space of index. */
static int write_space(struct sync *s, int64_t index)
{
    struct store_row space = {0}, member = {0};
    char id[STORE_ID_LEN + 1], idx[24];
    bool fresh;
    int r = member_of(s, index, id);

    if (r < 0)
        return r;
    fresh = !id[0];
    if (fresh && api_uuid_new(id) < 0)
        return -EIO;
    if (!fresh && (r = store_row_get(s->st, &store_table_cospace, id, &space)) < 0)
        return r;
    r = space_row(s, index, id, &space);
    if (r == 0)
        r = fresh ? store_row_insert(s->st, &store_table_cospace, &space)
                  : store_row_update(s->st, &store_table_cospace, &space);
    snprintf(idx, sizeof(idx), "%" PRId64, index);
    if (r == 0 && fresh &&
        (store_row_set(&member, STORE_BMEMBER_ID, id) < 0 ||
         store_row_set(&member, STORE_BMEMBER_SET, s->set->v[STORE_BULK_ID]) < 0 ||
         store_row_set(&member, STORE_BMEMBER_INDEX, idx) < 0))
        r = -ENOMEM;
    if (r == 0 && fresh)
        r = store_row_insert(s->st, &store_table_bulk_member, &member);
    store_row_done(&space);
    store_row_done(&member);
    return r;
}

/* The spaces the set made that a sync removes: all (removeAll) or those outside the range. */
struct sweep {
    struct sync *s;
    bool all;
    char (*ids)[STORE_ID_LEN + 1];
    size_t n, cap;
};

static int sweep_one(const struct store_row *row, void *userdata)
{
    struct sweep *w = userdata;
    int64_t i = strtoll(row->v[STORE_BMEMBER_INDEX], NULL, 10);

    if (!w->all && i >= w->s->start && i <= w->s->end)
        return 0;
    if (api_calls_grow((void **)&w->ids, &w->cap, w->n + 1, sizeof(*w->ids)) < 0)
        return -ENOMEM;
    snprintf(w->ids[w->n++], STORE_ID_LEN + 1, "%s", row->v[STORE_BMEMBER_ID]);
    return 0;
}

static int remove_spaces(struct sync *s, bool all)
{
    struct store_query q = {.conds = {{"parent", s->set->v[STORE_BULK_ID]}}, .nconds = 1};
    struct sweep w = {.s = s, .all = all};
    int r = store_row_list(s->st, &store_table_bulk_member, &q, 0, SIZE_MAX, sweep_one, &w);

    for (size_t i = 0; r == 0 && i < w.n; i++) /* the member row goes with its space */
        r = store_row_delete(s->st, &store_table_cospace, w.ids[i]);
    free(w.ids);
    return r;
}

/* Runs the sync of row in the caller's transaction and sets its status. */
static int run_sync(struct store *st, struct store_row *row)
{
    struct store_row set;
    struct sync s = {.st = st, .set = &set};
    const char *status = "complete";
    int r = store_row_get(st, &store_table_bulk_set, row->v[STORE_SYNC_SET], &set);

    if (r == -ENOENT)
        return store_row_set(row, STORE_SYNC_STATUS, "failedNoSuchParameterSet");
    if (r < 0)
        return r;
    s.start = strtoll(set.v[STORE_BULK_START], NULL, 10);
    s.end = strtoll(set.v[STORE_BULK_END], NULL, 10);
    if (strcmp(row->v[STORE_SYNC_REMOVE_ALL], "1") == 0)
        r = remove_spaces(&s, true);
    else if (s.start > s.end)
        status = "failedIndexRangeInvalid";
    else if (s.end - s.start >= BULK_MAX_RANGE)
        status = "failedIndexRangeTooGreat";
    else if ((r = conflicts(&s, &status)) == 0) {
        r = remove_spaces(&s, false);
        for (int64_t i = s.start; r == 0 && i <= s.end; i++)
            r = write_space(&s, i);
    }
    if (r == 0 && strcmp(status, "complete") == 0)
        r = store_analyze(st); /* the next sync is planned for the table's new size */
    store_row_done(&set);
    return r < 0 ? r : store_row_set(row, STORE_SYNC_STATUS, status);
}

static const struct api_field sync_fields[] = {
    {.param = "cospaceBulkParameterSet",
     .col = STORE_SYNC_SET,
     .kind = AK_ID,
     .flags = AF_LIST | AF_REQUIRED},
    {.param = "status", .col = STORE_SYNC_STATUS, .kind = AK_TEXT, .flags = AF_LIST | AF_READONLY},
    {.param = "removeAll", .col = STORE_SYNC_REMOVE_ALL, .kind = AK_BOOL, .dflt = "0"},
};

static int sync_check(const struct api *api, struct store *st, const struct api_request *req,
                      const struct api_resource *res, struct store_row *row, bool create,
                      struct api_reply *reply)
{
    int r;

    (void)api;
    (void)req;
    (void)res;
    if (!create) /* no PUT route: a sync is never changed */
        return 0;
    /* a sync that cannot finish writes nothing, not even its record: the whole POST fails */
    r = run_sync(st, row);
    if (r == -EDQUOT)
        api_reply_too_many(reply, "coSpaces");
    else if (r < 0 && r != -EEXIST) /* -EEXIST: another node took an address since conflicts()
                                     * looked; api/res/resource.c runs the POST again */
        api_reply_err(reply, r);
    return r;
}

const struct api_resource api_res_bulk_syncs = {
    .collection = "cospaceBulkSyncs",
    .element = "cospaceBulkSync",
    .missing = "coSpaceBulkSyncDoesNotExist",
    .table = &store_table_bulk_sync,
    .fields = sync_fields,
    .nfields = sizeof(sync_fields) / sizeof(sync_fields[0]),
    .page_default = API_PAGE_DEFAULT,
    .check = sync_check,
};
