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

/* A guest (api/res/guest.c) joins coSpace cospace as name: the coSpace's call (made when there
 * is none) gets a WebRTC leg, admitted as any leg is. Copies the ids into ret_call[37] and
 * ret_leg[37]. Returns 0; -EDQUOT with *ret_refused the CMS reason (participantLimitReached,
 * nodeParticipantLimitReached, tooManyCalls); -ENOTSUP without media; or a store error. */
int api_calls_join_guest(const struct api *api, struct store *st, const char *cospace,
                         const char *name, char *ret_call, char *ret_leg, const char **ret_refused);
/* Removes a leg on its guest's behalf (left, or its media ended). 0 or -ENOENT. */
int api_calls_remove_leg(const struct api *api, const char *leg_id);

#endif
