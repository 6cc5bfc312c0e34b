/* api/res/calls.h: /api/v1/calls and /api/v1/callLegs. */
#ifndef API_RES_CALLS_H
#define API_RES_CALLS_H

#include "api/api.h"

/* /calls[/<id>] (id NULL for the collection), /calls/<id>/callLegs, /callLegs[/<id>]: GET, POST
 * on a collection, GET, DELETE on one object (the router admits only those). */
void api_res_calls(const struct api *api, struct store *st, const struct api_request *req,
                   const char *id, struct api_reply *reply);
void api_res_call_call_legs(const struct api *api, struct store *st, const struct api_request *req,
                            const char *id, struct api_reply *reply);
void api_res_call_legs(const struct api *api, struct store *st, const struct api_request *req,
                       const char *id, struct api_reply *reply);

#endif
