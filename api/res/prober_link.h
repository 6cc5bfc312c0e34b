/* api/res/prober_link.h: stored TURN servers handed to the prober, and waiting for its results. */
#ifndef API_RES_PROBER_LINK_H
#define API_RES_PROBER_LINK_H

#include <stdint.h>

#include "api/api.h"

/* Hands a stored TURN server to the prober (after a create or an update, and at start). */
void api_turn_probe(const struct api *api, const struct store_turn *t);
/* Hands every stored TURN server to the prober. Returns 0 or a store error. */
int api_turn_probe_all(const struct api *api, struct store *st);
/* Wakes resume(ctx) (from another thread) when TURN server wait_id has probe results or at
 * until_us. Returns 0 or -errno (then answer at once). */
int api_wait(const struct api *api, const char *wait_id, int64_t until_us,
             void (*resume)(void *ctx), void *ctx);

#endif
