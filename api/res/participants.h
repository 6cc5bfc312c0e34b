/* api/res/participants.h: the participants collections (api/res/participants.c): a participant
 * is its one leg, with the leg's id. */
#ifndef API_RES_PARTICIPANTS_H
#define API_RES_PARTICIPANTS_H

#include "api/api.h"

/* Routes (the router checked the method): /participants[/<id>], /participants/<id>/callLegs,
 * /calls/<id>/participants, PUT /calls/<id>/participants/x, /calls/<id>/participants/<id>
 * (PUT, DELETE). */
void api_res_participants(const struct api *api, struct store *st, const struct api_request *req,
                          const char *id, struct api_reply *reply);
void api_res_participant_legs(const struct api *api, struct store *st,
                              const struct api_request *req, const char *id,
                              struct api_reply *reply);
void api_res_call_participants(const struct api *api, struct store *st,
                               const struct api_request *req, const char *id,
                               struct api_reply *reply);
void api_res_call_participants_all(const struct api *api, struct store *st,
                                   const struct api_request *req, const char *id,
                                   struct api_reply *reply);
void api_res_call_participant(const struct api *api, struct store *st,
                              const struct api_request *req, const char *id,
                              struct api_reply *reply);

#endif
