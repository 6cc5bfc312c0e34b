/* api/res/leg_alarms.h: call-leg alarms (packetLoss, excessiveJitter, highRoundTripTime) raised
 * and cleared from each leg's media counters over time. */
#ifndef API_RES_LEG_ALARMS_H
#define API_RES_LEG_ALARMS_H

#include <stdint.h>

#include "api/api.h"
#include "media/media.h"

#define API_LEG_MIN_PACKETS 20 /* a window with fewer packets (sent and lost) says nothing */

struct api_leg_alarms; /* opaque */

int api_leg_alarms_new(struct api_leg_alarms **ret); /* 0 or -ENOMEM */
void api_leg_alarms_free(struct api_leg_alarms *a);  /* NULL is a no-op */

/* Looks at every leg with media (api->calls, api->media) and raises or clears its alarms from
 * what changed since the last look (the window): packetLoss when a stream lost more than
 * API_LEG_LOSS_PERCENT of at least API_LEG_MIN_PACKETS packets, cleared when every stream that
 * had that many lost at most half of it; excessiveJitter when a stream's jitter is over
 * API_LEG_JITTER_MS, cleared when every measured stream is under 80% of it; highRoundTripTime
 * likewise with API_LEG_RTT_MS and the round trip the media thread measures (RTCP). A window
 * without enough packets keeps the alarm as it was. Raises and clears are logged. Called by
 * api_alarms_refresh (one look at a time). Returns 0 or -ENOMEM. */
int api_leg_alarms_look(const struct api *api);
/* The alarms of leg leg_id now (API_LEG_* bits); 0 for a leg never looked at. Thread-safe. */
unsigned api_leg_alarms_of(const struct api *api, const char *leg_id);

#endif
