/* api/res/lobby.h: CMS's lobby (api/res/lobby.c). Every function but the tick runs with the
 * registry's lock held. */
#ifndef API_RES_LOBBY_H
#define API_RES_LOBBY_H

#include <stdbool.h>

#include "api/api.h"
#include "api/res/registry.h"

/* Does the new leg l of call wait in the lobby: it needs activation and no activator is in,
 * or the call is locked (with lockMode "all", whatever the leg)? */
bool api_lobby_joins_deactivated(const struct api *api, const struct api_call *call,
                                 const struct api_leg *l);
/* The lobby of call call_id after a change: admits whom it may, starts the deactivationMode
 * of the activated legs when the last activator has gone, and applies what is due; may_drop:
 * legs whose mode is disconnect may be dropped now (only where the caller holds no pointer
 * into the registry), else the tick drops them. */
void api_lobby_update(const struct api *api, const char *call_id, bool may_drop);
/* What deactivationModeTime made due since: userdata is the struct api. Takes the lock. */
void api_lobby_tick(void *userdata);

#endif
