/* api/res/turn_status.h: GET /api/v1/turnServers/<id>/status. */
#ifndef API_RES_TURN_STATUS_H
#define API_RES_TURN_STATUS_H

#include "api/api.h"

struct turn_server_status;

/* GET /api/v1/turnServers/<id>/status */
void api_res_turn_status(const struct api *api, struct store *st, const struct api_request *req,
                         const char *id, struct api_reply *reply);

/* The children of <turnServer> for status, as this node's answer shows them (a malloc()ed
 * fragment, for api/cluster.c to publish). Returns 0, -ENOMEM or -EIO. */
int api_turn_status_inner(const struct turn_server_status *status, char **ret_markup);

#endif
