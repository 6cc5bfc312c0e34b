/* api/res/alarms.h: system alarms (GET /api/v1/system/alarms) and the call-leg alarms that
 * /callLegs lists and filters on (alarms=). */
#ifndef API_RES_ALARMS_H
#define API_RES_ALARMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/api.h"
#include "api/xml.h"
#include "media/media.h"

#define API_ALARM_TYPE_MAX 40

/* One active alarm, as the apiary shapes it: a type, the object it names (element name and id,
 * "" for none), a failureReason ("" for none) and when it was raised. */
struct api_alarm {
    char id[STORE_ID_LEN + 1];
    char type[API_ALARM_TYPE_MAX];
    char elem[24], object[STORE_ID_LEN + 1];
    char reason[32];
    int64_t since_us; /* monotonic */
    bool polled;      /* found by api_alarms_refresh, cleared by it */
};

/* Active alarms of the node; data_dir is where the database lives (its free space is watched,
 * min_free bytes at least). Returns 0, -ENOMEM. */
int api_alarms_new(const char *data_dir, uint64_t min_free, struct api_alarms **ret);
/* Stops the watch (api_alarms_watch) first. NULL is a no-op. */
void api_alarms_free(struct api_alarms *a);
/* Looks for the faults (api_alarms_refresh) every interval_us from a thread of its own, on a
 * connection of its own to the database at db_path, so that an alarm is raised (and logged)
 * when its fault comes, read or not. api (and its prober) must outlive the watch. Returns 0 or
 * -errno. */
int api_alarms_watch(struct api_alarms *a, const struct api *api, const char *db_path,
                     int64_t interval_us);

/* Raises (active true) or clears the alarm type for object (elem, id; NULL: none), with reason
 * (NULL: none). Thread-safe; raising an active alarm keeps its id and time. Returns 0 or
 * -ENOMEM. The hook for faults pushed by their owner. */
int api_alarm_set(struct api_alarms *a, const char *type, const char *elem, const char *object,
                  const char *reason, bool active);

/* Looks at what callbridged checks itself (every TURN server's probes, the database, the data
 * directory's free space, the CDR receivers' deliveries: cdrConnectionFailure) and raises or
 * clears those alarms. Returns 0 or a store error. */
int api_alarms_refresh(const struct api *api, struct store *st);

/* Copies up to cap active alarms (oldest first) into out; returns how many are active. */
size_t api_alarms_list(struct api_alarms *a, struct api_alarm *out, size_t cap);

/* GET /api/v1/system/alarms */
void api_res_system_alarms(const struct api *api, struct store *st, const struct api_request *req,
                           const char *id, struct api_reply *reply);

/* Call-leg alarms, as bits. */
enum {
    API_LEG_PACKET_LOSS = 1u << 0,
    API_LEG_EXCESSIVE_JITTER = 1u << 1,
    API_LEG_HIGH_RTT = 1u << 2,
    API_LEG_ALARMS_ALL = (1u << 3) - 1
};
#define API_LEG_LOSS_PERCENT 1.0 /* a stream losing more than this has packetLoss */
#define API_LEG_JITTER_MS 50.0   /* a stream with more jitter than this has excessiveJitter */
#define API_LEG_RTT_MS                                                                             \
    300.0 /* a round trip longer than this is highRoundTripTime (ITU-T                             \
           * G.114's 150 ms one way, there and back) */

/* The alarms of a leg with media, from what the media thread measures. */
unsigned api_leg_alarms(const struct media_leg_status *m);
/* The alarms= filter: "all" or names separated by '|' or ','. Returns 0 or -EINVAL. */
int api_leg_alarms_parse(const char *s, unsigned *ret);
/* <alarms> with one empty element per alarm (empty when there are none). */
void api_leg_alarms_write(struct api_xml *x, unsigned bits);

#endif
