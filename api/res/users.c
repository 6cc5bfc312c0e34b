/* api/res/users.c: /users and what hangs off a user (usercoSpaces, userCoSpaceTemplates), and
 * POST /coSpaces/<id>/diagnostics.
 *
 * DESIGN: CMS users come only from LDAP syncs, which callbridge does not have yet, so there are
 * none: the list answers its shape with total 0 (after checking offset and limit as every list
 * does), and every /users/<id> path answers 404 userDoesNotExist, as CMS does for an id that
 * names no user. When LDAP comes, this file reads its table. Diagnostics: CMS collects them for
 * the call a coSpace has; a space without one has nothing to diagnose (400 callDoesNotExist);
 * a space with one starts a collection for it (api/res/diag.c), as POST /calls/<id>/diagnostics
 * does. */
#include <errno.h>
#include <string.h>

#include "api/res/diag.h"
#include "api/res/registry.h"
#include "api/res/resource.h"
#include "api/xml.h"

void api_res_users(const struct api *api, struct store *st, const struct api_request *req,
                   const char *id, struct api_reply *reply)
{
    struct api_xml *x;
    size_t offset, limit;

    (void)api;
    (void)st;
    if (id) {
        api_reply_failure(reply, 404, "userDoesNotExist");
        return;
    }
    if (api_page_from_query(req, API_PAGE_DEFAULT, &offset, &limit, reply) < 0)
        return;
    x = api_reply_xml_new(reply);
    if (!x)
        return;
    api_xml_start(x, "users");
    api_xml_attr_size(x, "total", 0);
    api_xml_end(x);
    api_reply_xml(reply, x);
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
