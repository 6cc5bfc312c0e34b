/* api/res/users.c: /users and what hangs off a user (usercoSpaces, userCoSpaceTemplates), and
 * POST /coSpaces/<id>/diagnostics.
 *
 * DESIGN: CMS users come only from LDAP syncs (api/ldap_sync.c writes the ldap_user table), so
 * /users is read-only: the generic engine lists and shows them with the apiary's fields and
 * filters. A user's usercoSpaces are the coSpaces whose member it is. userCoSpaceTemplates need
 * coSpace templates applied per user, which callbridge does not do: a user has none, and
 * assigning one is refused (invalidOperation) rather than stored without effect. Diagnostics: CMS
 * collects them for the call a coSpace has; a space without one has nothing to diagnose (400
 * callDoesNotExist); a space with one starts a collection for it (api/res/diag.c), as POST
 * /calls/<id>/diagnostics does. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/res/ldap.h"
#include "api/res/diag.h"
#include "api/res/registry.h"
#include "api/res/resource.h"
#include "api/xml.h"

static const struct api_field user_fields[] = {
    {.param = "userJid", .col = STORE_LUSER_JID, .kind = AK_TEXT, .flags = AF_LIST | AF_READONLY},
    {.param = "tenant", .col = STORE_LUSER_TENANT, .kind = AK_ID, .flags = AF_LIST | AF_READONLY},
    {.param = "name", .col = STORE_LUSER_NAME, .kind = AK_TEXT, .flags = AF_READONLY, .unset = ""},
    {.param = "email",
     .col = STORE_LUSER_EMAIL,
     .kind = AK_TEXT,
     .flags = AF_READONLY,
     .unset = ""},
    {.param = "authenticationId",
     .col = STORE_LUSER_AUTH_ID,
     .kind = AK_TEXT,
     .flags = AF_READONLY},
    {.param = "userProfile", .col = STORE_LUSER_USER_PROFILE, .kind = AK_ID, .flags = AF_READONLY},
    {.param = "cdrTag", .col = STORE_LUSER_CDR_TAG, .kind = AK_TEXT, .flags = AF_HIDDEN},
};
static const struct api_filter user_filters[] = {{.param = "filter"},
                                                 {.param = "tenantFilter"},
                                                 {.param = "emailFilter"},
                                                 {.param = "cdrTagFilter"}};

const struct api_resource api_res_ldap_users = {
    .collection = "users",
    .element = "user",
    .missing = "userDoesNotExist",
    .table = &store_table_ldap_user,
    .fields = user_fields,
    .nfields = sizeof(user_fields) / sizeof(user_fields[0]),
    .filters = user_filters,
    .nfilters = sizeof(user_filters) / sizeof(user_filters[0]),
    .page_default = API_PAGE_DEFAULT,
};

struct cospaces_ctx {
    struct api_xml *x;
};

static int user_cospace(const struct store_row *row, void *userdata)
{
    struct cospaces_ctx *c = userdata;

    api_xml_start(c->x, "userCoSpace");
    api_xml_attr(c->x, "id", row->v[STORE_MEMBER_COSPACE]);
    api_xml_text(c->x, "coSpaceId", row->v[STORE_MEMBER_COSPACE]);
    api_xml_end(c->x);
    return 0;
}

/* GET /users/<id>/usercoSpaces: the coSpaces whose member the user is, as a page. */
static void user_cospaces(struct store *st, const struct api_request *req,
                          const struct store_row *user, struct api_reply *reply)
{
    struct store_query q = {.conds = {{"userJidExact", user->v[STORE_LUSER_JID]}}, .nconds = 1};
    struct cospaces_ctx c = {NULL};
    size_t offset, limit, total = 0;
    int r;

    if (api_page_from_query(req, API_PAGE_DEFAULT, &offset, &limit, reply) < 0)
        return;
    c.x = api_reply_xml_new(reply);
    if (!c.x)
        return;
    r = store_read_begin(st);
    if (r == 0)
        r = store_row_count(st, &store_table_cospace_user, &q, &total);
    api_xml_start(c.x, "userCoSpaces");
    api_xml_attr_size(c.x, "total", total);
    if (r == 0)
        r = store_row_list(st, &store_table_cospace_user, &q, offset, limit, user_cospace, &c);
    store_read_end(st);
    api_xml_end(c.x);
    if (r < 0) {
        api_xml_free(c.x);
        api_reply_err(reply, r);
        return;
    }
    api_reply_xml(reply, c.x);
}

/* The user's id (the segment after /users/, copied into uid) and what follows it in the path
 * ("" for the user itself): a handler of a nested path is given the innermost id. */
static const char *sub_path(const char *path, char *uid, size_t cap)
{
    const char *p = path, *end;
    size_t n;

    for (const char *q = path; (q = strchr(q, '/')); q++)
        if (strncasecmp(q, "/users/", 7) == 0) {
            p = q + 7;
            break;
        }
    end = strchr(p, '/');
    n = end ? (size_t)(end - p) : strlen(p);
    (void)snprintf(uid, cap, "%.*s", (int)(n < cap ? n : cap - 1), p);
    return end && end[1] ? end + 1 : "";
}

void api_res_users(const struct api *api, struct store *st, const struct api_request *req,
                   const char *id, struct api_reply *reply)
{
    char uid[STORE_ID_LEN + 2] = "", lid[STORE_ID_LEN + 1];
    const char *sub = id ? sub_path(req->path, uid, sizeof(uid)) : "";
    struct store_row user = {0};
    struct api_xml *x;
    size_t offset, limit;
    int r;

    if (!*sub) {
        api_res_generic(api, st, req, &api_res_ldap_users, id, reply);
        return;
    }
    r = api_parse_id(uid, lid) < 0 ? -ENOENT
                                   : store_row_get(st, &store_table_ldap_user, lid, &user);
    if (r == -ENOENT)
        api_reply_failure(reply, 404, "userDoesNotExist");
    else if (r < 0)
        api_reply_err(reply, r);
    else if (strncasecmp(sub, "usercoSpaces", 12) == 0)
        user_cospaces(st, req, &user, reply);
    else if (strchr(sub, '/')) /* userCoSpaceTemplates/<id>: a user has none */
        api_reply_failure(reply, 404, "userCoSpaceTemplateDoesNotExist");
    else if (req->method != API_GET)
        api_reply_failure(reply, 400, "invalidOperation");
    else if (api_page_from_query(req, API_PAGE_DEFAULT, &offset, &limit, reply) == 0 &&
             (x = api_reply_xml_new(reply))) {
        api_xml_start(x, "userCoSpaceTemplates");
        api_xml_attr_size(x, "total", 0);
        api_xml_end(x);
        api_reply_xml(reply, x);
    }
    store_row_done(&user);
}

void api_res_cospace_diagnostics(const struct api *api, struct store *st,
                                 const struct api_request *req, const char *id,
                                 struct api_reply *reply)
{
    char lid[STORE_ID_LEN + 1], call[STORE_ID_LEN + 1];
    int r;

    r = api_parse_id(id, lid) < 0
            ? -ENOENT
            : store_row_taken(st, &store_table_cospace, STORE_COL_ID, lid, NULL, false);
    if (r == -ENOENT)
        api_reply_failure(reply, 404, "coSpaceDoesNotExist");
    else if (r < 0)
        api_reply_err(reply, r);
    else if (api_diag_cospace_call(api, lid, call) < 0)
        api_reply_failure(reply, 400, "callDoesNotExist");
    else
        api_diag_post(api, req, call, reply);
}
