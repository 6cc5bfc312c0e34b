/* api/res/call_filters.c: the list filters of /calls and /callLegs (cms-api.md §5).
 *
 * DESIGN: a filter is applied or refused, never ignored. Some name what callbridged's legs do
 * not have: no leg has an owner id (ownerIdSet=true matches none, false all), none is composed
 * into a layout by the server (each guest's page lays out the others itself) nor reports a
 * count of available video streams, so activeLayoutFilter and availableVideoStreams*Bound
 * match no leg; participantFilter matches no leg until participants exist (GET
 * /calls/<id>/participants). highRoundTripTime is an alarm callbridged cannot raise yet: the
 * media thread does not measure round trips to endpoints. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/reply.h"
#include "api/res/alarms.h"
#include "api/res/call_filters.h"
#include "api/res/parse.h"

/* An id parameter: "" or absent leaves out[0] '\0'. Returns 0 or -EINVAL (answered). */
static int id_param(const struct api_request *req, const char *name, char *out,
                    struct api_reply *reply)
{
    const char *v = api_params_get(req->query, name);

    out[0] = '\0';
    if (!v || !*v || api_parse_id(v, out) == 0)
        return 0;
    api_reply_param_error(reply, name, "invalidValue");
    return -EINVAL;
}

static int count_param(const struct api_request *req, const char *name, bool *ret,
                       struct api_reply *reply)
{
    const char *v = api_params_get(req->query, name);
    int64_t n;

    *ret = v && *v;
    if (!*ret || api_parse_int(v, 0, 1000000, &n) == 0)
        return 0;
    api_reply_param_error(reply, name, "invalidValue");
    return -EINVAL;
}

int api_leg_filter_parse(const struct api_request *req, struct api_leg_filter *ret,
                         struct api_reply *reply)
{
    const char *alarms = api_params_get(req->query, "alarms");
    const char *owner = api_params_get(req->query, "ownerIdSet");
    const char *layout = api_params_get(req->query, "activeLayoutFilter");
    bool b;

    memset(ret, 0, sizeof(*ret));
    ret->text = api_params_get(req->query, "filter");
    ret->owner_id_set = -1;
    ret->layout = layout && *layout;
    if (id_param(req, "participantFilter", ret->participant, reply) < 0 ||
        id_param(req, "tenantFilter", ret->tenant, reply) < 0 ||
        count_param(req, "availableVideoStreamsLowerBound", &ret->streams_lower, reply) < 0 ||
        count_param(req, "availableVideoStreamsUpperBound", &ret->streams_upper, reply) < 0)
        return -EINVAL;
    if (owner && *owner) {
        if (api_parse_bool(owner, &b) < 0) {
            api_reply_param_error(reply, "ownerIdSet", "invalidValue");
            return -EINVAL;
        }
        ret->owner_id_set = b;
    }
    if (alarms && *alarms && api_leg_alarms_parse(alarms, &ret->alarms) < 0) {
        api_reply_param_error(reply, "alarms", "invalidValue");
        return -EINVAL;
    }
    return 0;
}

bool api_leg_filter_match(const struct api_leg_filter *f, const struct api_leg_seen *l)
{
    if (f->text && *f->text && !strcasestr(l->leg.remote_party, f->text))
        return false; /* a leg's name is "" (CMS's name is the SIP display name) */
    if (f->participant[0] || f->layout || f->streams_lower || f->streams_upper ||
        f->owner_id_set == 1)
        return false; /* what no leg has (see DESIGN) */
    if (f->tenant[0] && strcmp(f->tenant, l->tenant) != 0)
        return false;
    return !f->alarms || (f->alarms & l->alarms);
}

int api_cospace_tenant(struct store *st, const char *cospace, char *ret)
{
    struct store_row row;
    int r = store_row_get(st, &store_table_cospace, cospace, &row);

    ret[0] = '\0';
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return r;
    snprintf(ret, STORE_ID_LEN + 1, "%s",
             row.v[STORE_COSPACE_TENANT] ? row.v[STORE_COSPACE_TENANT] : "");
    store_row_done(&row);
    return 0;
}

static int by_call(const void *a, const void *b)
{
    return strcmp(((const struct api_call_space *)a)->call,
                  ((const struct api_call_space *)b)->call);
}

void api_call_spaces_sort(struct api_call_space *v, size_t n)
{
    if (n > 1)
        qsort(v, n, sizeof(*v), by_call);
}

int api_call_space_tenant(struct store *st, struct api_call_space *v, size_t n, const char *call,
                          char *ret)
{
    struct api_call_space key, *hit;
    int r = 0;

    memset(&key, 0, sizeof(key));
    snprintf(key.call, sizeof(key.call), "%s", call);
    hit = n ? bsearch(&key, v, n, sizeof(*v), by_call) : NULL;
    if (hit && !hit->looked && (r = api_cospace_tenant(st, hit->cospace, hit->tenant)) == 0)
        hit->looked = true;
    snprintf(ret, STORE_ID_LEN + 1, "%s", hit && r == 0 ? hit->tenant : "");
    return r;
}

int api_call_tenant_filter(const struct api_request *req, char *ret, struct api_reply *reply)
{
    return id_param(req, "tenantFilter", ret, reply);
}
