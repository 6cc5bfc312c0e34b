/* api/res/access.c: a coSpace's access methods (/coSpaces/<id>/accessMethods) and members
 * (/coSpaces/<id>/coSpaceUsers), and the rule that keeps every dialable address of every space
 * unique (api_space_address_check), which coSpaces obey as well.
 *
 * DESIGN: CMS resolves an incoming uri or a callId to one coSpace, so a uri or callId belongs to
 * at most one space, whether the space itself or one of its access methods holds it
 * (duplicateCoSpaceUri, duplicateCoSpaceId). Within one space the same uri or callId may come
 * back with another passcode - the host and guest PINs of one meeting - but not with the same one
 * (duplicateCoSpaceUriPasscode, duplicateCoSpaceIdPasscode). Both tables are read in the write
 * transaction, which is enough on SQLite (one writer at a time) but not for call bridges writing
 * one PostgreSQL database at once: there the rule across spaces is a constraint (the claims of
 * schema/0011_unique.sql), and the writers of one space's addresses queue on the space's row
 * (space_lock), so the rule within a space holds as well. An access method with a callId and no
 * secret gets one, as a coSpace does; its uri joins through call matching and its callId with
 * passcode or secret through the join page (store_match_access_*). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/rand.h>

#include "api/res/profiles.h"
#include "api/res/resource.h"
#include "api/util.h"

/* ---- the address rule ---------------------------------------------------------------------- */

struct holder {
    const char *cospace; /* the space whose address it is */
    const char *passcode;
};

struct address_walk {
    const char *cospace, *self, *passcode;
    bool other_space, same_passcode;
};

static bool same_passcode(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static void weigh(struct address_walk *w, const struct holder *h)
{
    if (strcmp(h->cospace, w->cospace) != 0)
        w->other_space = true;
    else if (same_passcode(h->passcode, w->passcode))
        w->same_passcode = true;
}

static int weigh_access(const struct store_row *row, void *userdata)
{
    struct address_walk *w = userdata;
    struct holder h = {row->v[STORE_ACCESS_COSPACE], row->v[STORE_ACCESS_PASSCODE]};

    if (!w->self || strcmp(row->v[STORE_ACCESS_ID], w->self) != 0)
        weigh(w, &h);
    return 0;
}

static int weigh_cospace(const struct store_row *row, void *userdata)
{
    struct address_walk *w = userdata;
    struct holder h = {row->v[STORE_COSPACE_ID], row->v[STORE_COSPACE_PASSCODE]};

    /* the space written now is compared with its access methods only */
    if (w->self || strcmp(row->v[STORE_COSPACE_ID], w->cospace) != 0)
        weigh(w, &h);
    return 0;
}

/* Every holder of value in the filter named name of t ("uriExact", "callIdExact"). */
static int walk(struct store *st, const struct store_table *t, const char *name, const char *value,
                store_row_fn fn, struct address_walk *w)
{
    struct store_query q = {.conds = {{name, value}}, .nconds = 1};

    return store_row_list(st, t, &q, 0, 1000, fn, w);
}

static int address_taken(struct store *st, struct address_walk *w, bool uri, const char *value,
                         const char **ret_reason)
{
    const char *name = uri ? "uriExact" : "callIdExact";
    int r = walk(st, &store_table_cospace, name, value, weigh_cospace, w);

    if (r == 0)
        r = walk(st, &store_table_access_method, name, value, weigh_access, w);
    if (r < 0)
        return r;
    if (w->other_space)
        *ret_reason = uri ? "duplicateCoSpaceUri" : "duplicateCoSpaceId";
    else if (w->same_passcode)
        *ret_reason = uri ? "duplicateCoSpaceUriPasscode" : "duplicateCoSpaceIdPasscode";
    return w->other_space || w->same_passcode ? -EEXIST : 0;
}

int api_space_address_check(struct store *st, const char *cospace_id, const char *self_id,
                            const char *uri, const char *call_id, const char *passcode,
                            const char **ret_reason)
{
    struct address_walk w = {cospace_id, self_id, passcode, false, false};
    int r = uri ? address_taken(st, &w, true, uri, ret_reason) : 0;

    w.other_space = w.same_passcode = false;
    if (r == 0 && call_id)
        r = address_taken(st, &w, false, call_id, ret_reason);
    return r;
}

int api_space_secret_new(char *out)
{
    unsigned char rnd[16];
    char b64[32];

    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        return -EIO;
    api_b64_encode(rnd, sizeof(rnd), b64); /* 24 characters with "==" */
    b64[22] = '\0';
    for (char *s = b64; *s; s++)
        *s = *s == '+' ? '-' : *s == '/' ? '_' : *s;
    memcpy(out, b64, 23);
    return 0;
}

/* ---- accessMethods ------------------------------------------------------------------------- */

static const char *const scopes[] = {"public", "private", NULL};

static const struct api_field access_fields[] = {
    {.param = "uri", .col = STORE_ACCESS_URI, .kind = AK_URI, .flags = AF_LIST},
    {.param = "callId", .col = STORE_ACCESS_CALL_ID, .kind = AK_DIGITS, .flags = AF_LIST},
    {.param = "passcode", .col = STORE_ACCESS_PASSCODE, .kind = AK_DIGITS, .flags = AF_LIST},
    {.param = "name", .col = STORE_ACCESS_NAME, .kind = AK_TEXT, .flags = AF_LIST},
    /* AK_ID like the coSpace's profile refs: the profiles part turns both into AK_REF */
    {.param = "callLegProfile", .col = STORE_ACCESS_LEG_PROFILE, .kind = AK_ID, .flags = AF_LIST},
    {.param = "secret", .col = STORE_ACCESS_SECRET, .kind = AK_TEXT, .max_len = 64},
    {.param = "scope", .col = STORE_ACCESS_SCOPE, .kind = AK_ENUM, .enums = scopes},
    {.param = "importance",
     .col = STORE_ACCESS_IMPORTANCE,
     .kind = AK_INT,
     .min = 0,
     .max = 2147483647},
    {.param = "dialInSecurityProfile", .col = STORE_ACCESS_DIAL_IN, .kind = AK_ID},
    {.param = "regenerateSecret", .kind = AK_BOOL, .flags = AF_VIRTUAL | AF_PUT_ONLY},
};

static const struct api_filter access_filters[] = {
    {.param = "filter"},
    {.param = "callLegProfileFilter"},
};

static int refuse(struct api_reply *reply, int r, const char *reason)
{
    if (reason)
        api_reply_failure(reply, 400, reason);
    else
        api_reply_err(reply, r);
    return r;
}

/* regenerateSecret=true on PUT: 0; absent or false: -ENOENT; not a boolean: -EINVAL. */
static int regenerate_asked(const struct api_request *req, bool create)
{
    const char *v = create ? NULL : api_params_get(req->form, "regenerateSecret");
    bool b;

    if (!v || !*v)
        return -ENOENT;
    if (api_parse_bool(v, &b) < 0)
        return -EINVAL;
    return b ? 0 : -ENOENT;
}

/* The minPasscodeLength in effect on the access method row: its own dialInSecurityProfile's
 * when that sets one, else its coSpace's (the space's, its tenant's, the system's). */
static int min_passcode(struct store *st, const struct store_row *row, int64_t *ret_min)
{
    const char *own = row->v[STORE_ACCESS_DIAL_IN];
    struct store_row prof = {0};
    int r = own ? store_row_get(st, &store_table_dial_in_security_profile, own, &prof) : -ENOENT;

    if (r == 0 && prof.v[STORE_DISP_MIN_PASSCODE_LENGTH])
        *ret_min = strtoll(prof.v[STORE_DISP_MIN_PASSCODE_LENGTH], NULL, 10);
    else if (r == 0 || r == -ENOENT)
        r = api_profiles_min_passcode(st, row->v[STORE_ACCESS_COSPACE], NULL, ret_min);
    store_row_done(&prof);
    return r;
}

/* A passcode set (or a dialInSecurityProfile changed) must be as long as the minPasscodeLength
 * in effect, else 400 passcodeTooShort (apiary.apib:620: "a coSpace or a coSpace access
 * method"). */
static int passcode_long_enough(struct store *st, const struct api_request *req,
                                const struct store_row *row, struct api_reply *reply)
{
    const char *pc = row->v[STORE_ACCESS_PASSCODE];
    int64_t min = 0;
    int r;

    if (!pc || (!api_params_get(req->form, "passcode") &&
                !api_params_get(req->form, "dialInSecurityProfile")))
        return 0;
    r = min_passcode(st, row, &min);
    if (r < 0)
        return refuse(reply, r, NULL);
    if ((int64_t)strlen(pc) < min)
        return refuse(reply, -EINVAL, "passcodeTooShort");
    return 0;
}

/* The rule within one space (same uri or callId, same passcode) is no constraint: the writers
 * of one space's addresses queue on the space's row instead. Read in the write transaction,
 * the row is locked until the commit on PostgreSQL (store/db.h, dialect difference 9), as a
 * PUT of the space locks it; SQLite's write lock already queues them. So this check sees
 * what the space's other writers committed. -ENOENT: the space went meanwhile. */
static int space_lock(struct store *st, const char *cospace)
{
    struct store_row space;
    int r = store_row_get(st, &store_table_cospace, cospace, &space);

    if (r == 0)
        store_row_done(&space);
    return r;
}

static int access_check(const struct api *api, struct store *st, const struct api_request *req,
                        const struct api_resource *res, struct store_row *row, bool create,
                        struct api_reply *reply)
{
    const char *reason = NULL;
    int regenerate = regenerate_asked(req, create), r;
    char secret[23];

    (void)api;
    (void)res;
    if (regenerate == -EINVAL) {
        api_reply_param_error(reply, "regenerateSecret", "invalidValue");
        return -EINVAL;
    }
    r = space_lock(st, row->v[STORE_ACCESS_COSPACE]);
    if (r == -ENOENT) {
        api_reply_failure(reply, 404, "coSpaceDoesNotExist");
        return r;
    }
    if (r < 0)
        return refuse(reply, r, NULL);
    r = api_space_address_check(st, row->v[STORE_ACCESS_COSPACE], row->v[STORE_ACCESS_ID],
                                row->v[STORE_ACCESS_URI], row->v[STORE_ACCESS_CALL_ID],
                                row->v[STORE_ACCESS_PASSCODE], &reason);
    if (r < 0)
        return refuse(reply, r, reason);
    r = passcode_long_enough(st, req, row, reply);
    if (r < 0)
        return r;
    if (regenerate == 0 || (row->v[STORE_ACCESS_CALL_ID] && !row->v[STORE_ACCESS_SECRET])) {
        r = api_space_secret_new(secret);
        if (r == 0)
            r = store_row_set(row, STORE_ACCESS_SECRET, secret);
        if (r < 0)
            return refuse(reply, r, NULL);
    }
    return 0;
}

const struct api_resource api_res_access_methods = {
    .collection = "accessMethods",
    .element = "accessMethod",
    .missing = "accessMethodDoesNotExist",
    .table = &store_table_access_method,
    .fields = access_fields,
    .nfields = sizeof(access_fields) / sizeof(access_fields[0]),
    .filters = access_filters,
    .nfilters = sizeof(access_filters) / sizeof(access_filters[0]),
    .page_default = API_PAGE_DEFAULT,
    .check = access_check,
    .parent = &api_res_cospaces,
    .parent_col = STORE_ACCESS_COSPACE,
};

/* ---- coSpaceUsers -------------------------------------------------------------------------- */

#define PERMISSION(p, n, d)                                                                        \
    {                                                                                              \
        .param = p, .col = STORE_MEMBER_CAN_DESTROY + (n), .kind = AK_BOOL, .dflt = d              \
    }

static const struct api_field member_fields[] = {
    {.param = "userJid", .col = STORE_MEMBER_JID, .kind = AK_TEXT, .flags = AF_LIST | AF_REQUIRED},
    {.param = "autoGenerated",
     .col = STORE_MEMBER_AUTO,
     .kind = AK_BOOL,
     .flags = AF_LIST | AF_READONLY,
     .dflt = "0"},
    {.param = "callLegProfile", .col = STORE_MEMBER_LEG_PROFILE, .kind = AK_ID},
    PERMISSION("canDestroy", 0, "0"),
    PERMISSION("canAddRemoveMember", 1, "0"),
    PERMISSION("canChangeName", 2, "0"),
    PERMISSION("canChangeUri", 3, "0"),
    PERMISSION("canChangeCallId", 4, "0"),
    PERMISSION("canChangePasscode", 5, "0"),
    PERMISSION("canPostMessage", 6, "0"),
    PERMISSION("canRemoveSelf", 7, "0"),
    PERMISSION("canDeleteAllMessages", 8, "0"),
    PERMISSION("canChangeNonMemberAccessAllowed", 9, "1"),
};

static const struct api_filter member_filters[] = {
    {.param = "filter"},
    {.param = "callLegProfileFilter"},
};

/* userJid names the member: set on POST, never changed (a PUT giving another is refused rather
 * than dropped), and once per space. */
static int member_check(const struct api *api, struct store *st, const struct api_request *req,
                        const struct api_resource *res, struct store_row *row, bool create,
                        struct api_reply *reply)
{
    struct store_query q = {.conds = {{"parent", row->v[STORE_MEMBER_COSPACE]},
                                      {"userJidExact", row->v[STORE_MEMBER_JID]}},
                            .nconds = 2};
    size_t n = 0;
    int r;

    (void)api;
    (void)res;
    if (!create) {
        const char *v = api_params_get(req->form, "userJid");
        struct store_row old;

        r = store_row_get(st, res->table, row->v[STORE_MEMBER_ID], &old);
        if (r < 0)
            return refuse(reply, r, NULL);
        r = v && strcmp(old.v[STORE_MEMBER_JID], row->v[STORE_MEMBER_JID]) != 0 ? -EINVAL : 0;
        store_row_done(&old);
        if (r < 0)
            api_reply_param_error(reply, "userJid", "invalidValue");
        return r;
    }
    r = store_row_count(st, res->table, &q, &n);
    if (r < 0)
        return refuse(reply, r, NULL);
    if (n > 0) {
        api_reply_param_error(reply, "userJid", "invalidValue");
        return -EEXIST;
    }
    return 0;
}

const struct api_resource api_res_cospace_users = {
    .collection = "coSpaceUsers",
    .element = "coSpaceUser",
    .missing = "coSpaceUserDoesNotExist",
    .table = &store_table_cospace_user,
    .fields = member_fields,
    .nfields = sizeof(member_fields) / sizeof(member_fields[0]),
    .filters = member_filters,
    .nfilters = sizeof(member_filters) / sizeof(member_filters[0]),
    .page_default = API_PAGE_DEFAULT,
    .check = member_check,
    .parent = &api_res_cospaces,
    .parent_col = STORE_MEMBER_COSPACE,
};
