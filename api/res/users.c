/* api/res/users.c: /users and what hangs off a user (usercoSpaces, userCoSpaceTemplates), and
 * POST /coSpaces/<id>/diagnostics.
 *
 * DESIGN: CMS users come only from LDAP syncs, which callbridge does not have yet, so there are
 * none: the list answers its shape with total 0 (after checking offset and limit as every list
 * does), and every /users/<id> path answers 404 userDoesNotExist, as CMS does for an id that
 * names no user. When LDAP comes, this file reads its table. Diagnostics: CMS collects them for
 * the call a coSpace has; a space without one has nothing to diagnose (400 callDoesNotExist).
 * Collecting them for a live call belongs with /system/diagnostics, which is not built here: a
 * space with a call answers 400 invalidOperation rather than a record that would hold nothing. */
#include <errno.h>
#include <pthread.h>
#include <string.h>

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

/* Has the coSpace a call in the registry now? */
static bool has_call(struct api_calls *calls, const char *cospace)
{
    bool found = false;

    if (!calls)
        return false;
    pthread_mutex_lock(&calls->lock);
    for (size_t i = 0; i < calls->ncalls && !found; i++)
        found = strcmp(calls->calls[i].cospace, cospace) == 0;
    pthread_mutex_unlock(&calls->lock);
    return found;
}

void api_res_cospace_diagnostics(const struct api *api, struct store *st,
                                 const struct api_request *req, const char *id,
                                 struct api_reply *reply)
{
    char lid[STORE_ID_LEN + 1];
    int r;

    (void)req;
    r = api_parse_id(id, lid) < 0
            ? -ENOENT
            : store_row_taken(st, &store_table_cospace, STORE_COL_ID, lid, NULL, false);
    if (r == -ENOENT)
        api_reply_failure(reply, 404, "coSpaceDoesNotExist");
    else if (r < 0)
        api_reply_err(reply, r);
    else
        api_reply_failure(reply, 400,
                          has_call(api->calls, lid) ? "invalidOperation" : "callDoesNotExist");
}
