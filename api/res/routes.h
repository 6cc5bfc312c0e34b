/* api/res/routes.h: the router, and the metrics labels its table gives. */
#ifndef API_RES_ROUTES_H
#define API_RES_ROUTES_H

#include <stddef.h>

#include "api/api.h"

/* Dispatches one authenticated request. Always fills *reply (status, maybe body/headers). */
void api_route(const struct api *api, struct store *st, const struct api_request *req,
               struct api_reply *reply);

/* The metrics label of a path: the collection after /api/v1/ as the table spells it (whatever
 * follows it), "metrics" for /metrics, else "other". A string constant. */
const char *api_route_label(const char *path);
/* Fills ret with every label, each once, in the table's order, "other" last; returns how many
 * (at most cap). */
size_t api_route_labels(const char **ret, size_t cap);

#endif
