/* api/res/calls.h: /api/v1/calls and /api/v1/callLegs. */
#ifndef API_RES_CALLS_H
#define API_RES_CALLS_H

#include <stdint.h>
#include <stdbool.h>

#include "api/api.h"
#include "api/res/registry.h"
#include "store/store.h"

/* /calls[/<id>] (id NULL for the collection), /calls/<id>/callLegs, /callLegs[/<id>]: GET, POST
 * on a collection, GET, DELETE on one object (the router admits only those). */
void api_res_calls(const struct api *api, struct store *st, const struct api_request *req,
                   const char *id, struct api_reply *reply);
void api_res_call_call_legs(const struct api *api, struct store *st, const struct api_request *req,
                            const char *id, struct api_reply *reply);
void api_res_call_legs(const struct api *api, struct store *st, const struct api_request *req,
                       const char *id, struct api_reply *reply);

/* POST a leg to call call_id from the form, to be dialled (without a remoteMediaAddress it is
 * routed by the outbound dial plan in st and fails at once: no SIP here); Location
 * /api/v1/<collection>/<id> (call control's participants). */
void api_calls_post_leg(const struct api *api, struct store *st, const char *call_id,
                        const struct api_request *req, const char *collection,
                        struct api_reply *reply);
/* DELETE a leg (its guest's page told, its call ended if it was the last); missing: the 404
 * reason when there is none. */
void api_calls_delete_leg(const struct api *api, const char *id, const char *missing,
                          struct api_reply *reply);

/* A guest (api/res/guest.c) joins coSpace cospace: its call, made when there is none (its id
 * into ret_call[37]); such a call ends with its last leg. Every 0 must be followed by
 * api_calls_join_done, once the leg was added or could not be: until then the call waits for
 * the leg and does not end. Returns 0, -EDQUOT (as many calls as allowed: tooManyCalls),
 * -ENOTSUP without media, or a store error; on a clustered node -EXDEV when another node that
 * is up hosts the coSpace's call, -EHOSTDOWN when a node shown down does (its calls not ended
 * yet), with that call and its node's address in *ret_home. With balance, a new call of a
 * node in a callBridgeGroup with loadBalancingEnabled goes to the group's least loaded live
 * node: -EXDEV with that node in *ret_home (its call_id ""), unless it is this one. */
int api_calls_guest_call(const struct api *api, struct store *st, const char *cospace, bool balance,
                         char *ret_call, struct store_call_home *ret_home);
/* Then its WebRTC leg, with the id leg (the guest's session exists first, so the media thread's
 * first offer finds it), anchored on turn_id (the TURN server its browser was told to use) while
 * that is reachable, admitted as any leg is and within limit legs in the call when limit > 0
 * (the callProfile's participantLimit), with its call leg profiles prof (NULL: none). Returns 0;
 * -EDQUOT with *ret_refused the CMS reason (participantLimitReached, nodeParticipantLimitReached);
 * -ENOENT (the call ended). */
int api_calls_add_guest_leg(const struct api *api, const char *call, const char *leg,
                            const char *name, const char *turn_id, int64_t limit,
                            const struct api_leg_profile *prof, const char **ret_refused);
void api_calls_join_done(const struct api *api, const char *call);
/* Removes a leg on its guest's behalf (left, or its media ended). 0 or -ENOENT. */
int api_calls_remove_leg(const struct api *api, const char *leg_id);

/* Drops leg_id as an administrator would (why "dropped"), its call ended if that was its last
 * leg; lock held (the lobby's disconnect). Nothing when there is no such leg. */
void api_calls_drop_leg_locked(const struct api *api, const char *leg_id, const char *why);
/* The lobby's tick (api/res/lobby.c): what deactivationModeTime made due since, applied, and
 * the legs its disconnect mode drops dropped: userdata is the struct api. Takes the lock. */
void api_calls_lobby_tick(void *userdata);

#endif
