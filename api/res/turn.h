/* api/res/turn.h: the /api/v1/turnServers collection. */
#ifndef API_RES_TURN_H
#define API_RES_TURN_H

#include "api/api.h"

/* /api/v1/turnServers[/<id>]; id NULL for the collection. */
void api_res_turn(const struct api *api, struct store *st, const struct api_request *req,
                  const char *id, struct api_reply *reply);

#endif
