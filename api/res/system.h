/* api/res/system.h: GET /api/v1/system/status. */
#ifndef API_RES_SYSTEM_H
#define API_RES_SYSTEM_H

#include "api/api.h"

/* GET /api/v1/system/status */
void api_res_system_status(const struct api *api, const struct api_request *req,
                           struct api_reply *reply);

#endif
