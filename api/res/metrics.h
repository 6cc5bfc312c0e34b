/* api/res/metrics.h: GET /metrics. */
#ifndef API_RES_METRICS_H
#define API_RES_METRICS_H

#include "api/api.h"

/* GET /metrics: the Prometheus text format. */
void api_res_metrics(const struct api *api, struct store *st, const struct api_request *req,
                     struct api_reply *reply);

#endif
