/* api/res/tenant_limit.c: a tenant's participantLimit (apiary "tenants": "the maximum number of
 * participants across all of the tenant's calls").
 *
 * DESIGN: a call knows its tenant (its coSpace's) and the tenant's limit as last read from the
 * store: api_tenant_limit_refresh reads them before each leg's admission where the handler has
 * the store (a guest's join, an incoming leg, POST /calls/<id>/callLegs) and when the call is
 * made, so a PUT on the tenant applies to the next join. The count itself is taken under the
 * registry's lock with the admission (api_tenant_limit_reached): participants are the legs of
 * every call of the same tenant, so concurrent joins cannot both take the last place. A refusal
 * is CMS's tenantParticipantLimitReached (apiary failure reasons: "beyond the maximum number
 * allowed for the owning tenant"), where the call's own limit is participantLimitReached. A call
 * whose coSpace has no tenant, or whose tenant has no participantLimit (or 0), is not limited by
 * this. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/res/call_filters.h"
#include "api/res/parse.h"
#include "api/res/tenant_limit.h"

/* The participantLimit of tenant (0: none). */
static int tenant_limit(struct store *st, const char *tenant, int64_t *ret)
{
    struct store_row row;
    int r = store_row_get(st, &store_table_tenant, tenant, &row);
    const char *v;

    *ret = 0;
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return r;
    v = row.v[STORE_TENANT_PARTICIPANT_LIMIT];
    if (v && *v && api_parse_int(v, 0, INT64_MAX, ret) < 0)
        *ret = 0;
    store_row_done(&row);
    return 0;
}

int api_tenant_limit_refresh(const struct api *api, struct store *st, const char *call_id)
{
    char cospace[STORE_ID_LEN + 1] = "", tenant[STORE_ID_LEN + 1] = "";
    struct api_calls *c = api->calls;
    struct api_call *call;
    int64_t limit = 0;
    int r;

    pthread_mutex_lock(&c->lock);
    if ((call = api_calls_find_call(c, call_id)))
        memcpy(cospace, call->cospace, sizeof(cospace));
    pthread_mutex_unlock(&c->lock);
    if (!cospace[0])
        return 0;
    r = store_read_begin(st);
    if (r == 0)
        r = api_cospace_tenant(st, cospace, tenant);
    if (r == 0 && tenant[0])
        r = tenant_limit(st, tenant, &limit);
    store_read_end(st);
    if (r < 0)
        return r;
    pthread_mutex_lock(&c->lock);
    if ((call = api_calls_find_call(c, call_id))) {
        memcpy(call->tenant, tenant, sizeof(call->tenant));
        call->tenant_limit = limit;
    }
    pthread_mutex_unlock(&c->lock);
    return 0;
}

bool api_tenant_limit_reached(struct api_calls *c, const struct api_call *call)
{
    int64_t legs = 0;

    if (!call->tenant[0] || call->tenant_limit <= 0)
        return false;
    for (size_t i = 0; i < c->nlegs; i++) {
        const struct api_call *of = api_calls_find_call(c, c->legs[i].call);

        legs += of && strcmp(of->tenant, call->tenant) == 0;
    }
    return legs >= call->tenant_limit;
}
