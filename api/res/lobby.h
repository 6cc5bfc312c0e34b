/* api/res/lobby.h: CMS's lobby (api/res/lobby.c). Every function runs with the registry's lock
 * held. */
#ifndef API_RES_LOBBY_H
#define API_RES_LOBBY_H

#include <stdbool.h>
#include <stddef.h>

#include "api/api.h"
#include "api/res/registry.h"

/* Does the new leg l of call wait in the lobby: it needs activation and no activator is in,
 * or the call is locked (with lockMode "all", whatever the leg)? */
bool api_lobby_joins_deactivated(const struct api *api, const struct api_call *call,
                                 const struct api_leg *l);
#define API_LOBBY_DROPS_MAX 64 /* legs dropped in one pass; the next tick drops the rest */

/* The lobby of call call_id after a change: admits whom it may, starts the deactivationMode
 * of the activated legs when the last activator has gone, and applies what is due. The legs
 * whose due mode is disconnect, at most max of them, have their ids written into drops and
 * are counted in the return; the caller drops them (only where it holds no pointer into the
 * registry: api/res/calls.c), and with max 0 (drops may be NULL) they stay due for the tick. */
size_t api_lobby_update(const struct api *api, const char *call_id, char drops[][STORE_ID_LEN + 1],
                        size_t max);

#endif
