/* api/res/call_filters.h: the filters of GET /calls and GET /callLegs (and
 * /calls/<id>/callLegs), parsed from the query and applied to the registry's calls and legs. */
#ifndef API_RES_CALL_FILTERS_H
#define API_RES_CALL_FILTERS_H

#include <stdbool.h>

#include "api/api.h"
#include "api/res/registry.h"

struct api_leg_filter {
    const char *text;                          /* filter: in name or remoteParty, any case */
    char participant[STORE_ID_LEN + 1];        /* participantFilter ("" none) */
    char tenant[STORE_ID_LEN + 1];             /* tenantFilter ("" none) */
    unsigned alarms;                           /* alarms (bits of api/res/alarms.h; 0 none) */
    int owner_id_set;                          /* ownerIdSet: -1 none, 0 false, 1 true */
    bool layout, streams_lower, streams_upper; /* activeLayoutFilter, availableVideoStreams* */
};

/* Parses the query; on a bad value answers 400 parameterError naming it and returns -EINVAL. */
int api_leg_filter_parse(const struct api_request *req, struct api_leg_filter *ret,
                         struct api_reply *reply);

/* A leg as listed: its tenant (its call's coSpace's, "" none) and alarms (media measured). */
struct api_leg_seen {
    struct api_leg leg;
    char tenant[STORE_ID_LEN + 1];
    unsigned alarms;
};
bool api_leg_filter_match(const struct api_leg_filter *f, const struct api_leg_seen *l);

/* The tenant of coSpace cospace into ret[37] ("" when it has none or is gone). Returns 0 or a
 * store error other than -ENOENT. */
int api_cospace_tenant(struct store *st, const char *cospace, char *ret);

/* A call and its coSpace, copied from the registry; the coSpace's tenant looked up once. */
struct api_call_space {
    char call[STORE_ID_LEN + 1], cospace[STORE_ID_LEN + 1], tenant[STORE_ID_LEN + 1];
    bool looked;
};
/* Sorts v by call id, for api_call_space_tenant. */
void api_call_spaces_sort(struct api_call_space *v, size_t n);
/* The tenant of call's coSpace into ret[37] ("" when none, or the call is gone), from the
 * store the first time each call is asked for. Returns 0 or a store error. */
int api_call_space_tenant(struct store *st, struct api_call_space *v, size_t n, const char *call,
                          char *ret);

/* tenantFilter of GET /calls: "" or an id into ret[37]; else 400 and -EINVAL. */
int api_call_tenant_filter(const struct api_request *req, char *ret, struct api_reply *reply);

#endif
