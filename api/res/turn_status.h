/* api/res/turn_status.h: GET /api/v1/turnServers/<id>/status. */
#ifndef API_RES_TURN_STATUS_H
#define API_RES_TURN_STATUS_H

#include "api/api.h"

/* GET /api/v1/turnServers/<id>/status */
void api_res_turn_status(const struct api *api, struct store *st, const struct api_request *req,
                         const char *id, struct api_reply *reply);

#endif
