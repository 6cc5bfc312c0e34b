/* api/res/tenant_limit.h: a tenant's participantLimit, enforced across the tenant's calls. */
#ifndef API_RES_TENANT_LIMIT_H
#define API_RES_TENANT_LIMIT_H

#include <stdbool.h>

#include "api/api.h"
#include "api/res/registry.h"

/* Reads the tenant of call call_id's coSpace and that tenant's participantLimit from st and
 * keeps them on the call (api_call.tenant, .tenant_limit), for the admissions that follow.
 * Called before a leg is added (POST /calls/<id>/callLegs, a guest's or an incoming leg's join)
 * and when a call is made. Returns 0 (also when the call is gone) or a store error. */
int api_tenant_limit_refresh(const struct api *api, struct store *st, const char *call_id);
/* Lock held: true when call's tenant has a participantLimit and its calls have that many legs
 * or more (then one more leg is refused: tenantParticipantLimitReached). */
bool api_tenant_limit_reached(struct api_calls *c, const struct api_call *call);

#endif
