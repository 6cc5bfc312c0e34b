/* api/cdr.h: call detail records (docs/api.md "CDRs"): events of calls and legs become CMS-format
 * records (api/cdr_record.c), kept in a durable outbox in the database and posted in order to
 * every configured receiver (/system/cdrReceivers) by a thread of their own (api/cdr.c). */
#ifndef API_CDR_H
#define API_CDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "api/res/registry.h"
#include "store/store.h"

struct media;

/* At most this many /system/cdrReceivers (CMS's limit): a row cap of the store
 * (store_set_max_rows at start), so that it holds across call bridges on one database. */
#define API_CDR_RECEIVERS_MAX 4

/* ---- records (api/cdr_record.c) -------------------------------------------------------------- */
enum api_cdr_type {
    API_CDR_CALL_START,
    API_CDR_CALL_END,
    API_CDR_LEG_START,
    API_CDR_LEG_UPDATE,
    API_CDR_LEG_END,
    API_CDR_LEG_FAILED, /* not a record: the leg's media ended, why in media_reason */
    API_CDR_CALL_LOST,  /* not a record: the call was fenced (api_cdr_call_lost) */
};

/* One event, as the record needs it. Durations are whole seconds. */
struct api_cdr_event {
    enum api_cdr_type type;
    int64_t wall_ms; /* when it happened (the record's time attribute) */
    char call[STORE_ID_LEN + 1], leg[STORE_ID_LEN + 1], cospace[STORE_ID_LEN + 1];
    char name[STORE_TEXT_MAX + 1];  /* the call's name; a leg's display name (a guest's) */
    char party[STORE_TEXT_MAX + 1]; /* a leg's remote party */
    bool webrtc, has_media;
    int64_t duration_s;
    size_t legs_completed, legs_max_active; /* callEnd */
    char reason[32];                        /* callLegEnd: the CMS reason code */
    bool remote_teardown;                   /* callLegEnd */
    char media_reason[160];                 /* callLegEnd after a media failure: why */
    char state[16];                         /* callLegUpdate: "connected" */
    /* a leg dialled out that could not be placed (api/res/outbound.c): never connected; its
     * callLegEnd reason is the route's, with the outbound rule that matched ("" none) */
    bool dial_failed;
    char out_rule[STORE_ID_LEN + 1];
    /* the end of a call another node hosted, written by the node that took it from the call
     * directory when that node failed (api_cdr_call_failed) */
    bool takeover;
};

/* The record of e (type, time and the XML inside <record>) into *ret, correlator left as is.
 * ret->body is malloc()ed. Returns 0 or -ENOMEM. */
int api_cdr_record_make(const struct api_cdr_event *e, struct store_cdr_record *ret);
/* The body CMS posts: <records session=".." callBridge=".."> with n records of one session, each
 * <record type time recordIndex correlatorIndex>. malloc()ed, or NULL when out of memory. */
char *api_cdr_records_xml(const struct store_cdr_record *recs, size_t n, const char *bridge,
                          size_t *ret_len);

/* ---- the outbox and its sender (api/cdr.c) ----------------------------------------------------
 */
struct api_cdr;

/* Starts the sender thread on its own connection to the database at db_path; media (may be NULL)
 * tells it when a leg's state changes (media_set_leg_state_fn) and is then asked for the legs'
 * state. Returns 0, -ENOMEM or a store error. */
int api_cdr_start(const char *db_path, struct media *media, struct api_cdr **ret);
/* Writes what is queued to the outbox and stops the thread; events after it are not recorded. */
void api_cdr_stop(struct api_cdr *c);
void api_cdr_free(struct api_cdr *c); /* after every source of events is gone; NULL no-op */
/* The hooks to give the call registry (api_calls.events). */
void api_cdr_events(struct api_cdr *c, struct api_calls_events *ret);
/* The media thread ended a guest's leg (media_rtc_signal_fn's MEDIA_RTC_END, why its text): unless
 * the guest left, the leg's callLegEnd says mediaFailure and why. Must not block; c may be NULL. */
void api_cdr_leg_media_ended(struct api_cdr *c, const char *leg_id, const char *why);
/* A node of the cluster failed with call_id running (api/res/call_home.c took it from the call
 * directory): each of its n legs (their ages) gets a callLegEnd with reason
 * API_CDR_NODE_FAILURE, then the call (age_ms old) its callEnd. The dead node's correlator count
 * is unknown here: these records' correlatorIndex starts at API_CDR_TAKEOVER_INDEX, after any
 * the dead node gave. Must not block; c may be NULL. */
#define API_CDR_NODE_FAILURE "callBridgeFailure" /* not CMS's name: none is documented */
#define API_CDR_TAKEOVER_INDEX 1000000
void api_cdr_call_failed(struct api_cdr *c, const char *call_id, int64_t age_ms,
                         const struct store_call_leg_home *legs, size_t n);
/* This node ended call_id because another node took it from the call directory (fencing,
 * api/res/call_home.c): that node writes its callLegEnd and callEnd records, so this one forgets
 * the call and its legs and writes none, now or at its stop. Must not block; c may be NULL. */
void api_cdr_call_lost(struct api_cdr *c, const char *call_id);
/* In a cluster (before any call): this node's name. Its records carry it, and it sends only
 * its own records (each node its own, in its order: several nodes share one outbox). */
void api_cdr_set_node(struct api_cdr *c, const char *name);
/* A receiver was added, changed or removed: deliver to it now, forget its state. */
void api_cdr_changed(struct api_cdr *c, const char *receiver_id);

/* What the sender knows of a receiver since this process started (wall clock ms, 0: never). */
struct api_cdr_state {
    int64_t last_success_ms, last_failure_ms;
    char last_failure[96]; /* why the last attempt failed: curl's words, or the HTTP status */
    uint64_t posts, failures, records_delivered;
    size_t pending; /* records it has still to receive, as of the sender's last look */
    bool failing;   /* the last attempt failed */
};
/* -ENOENT when the sender has not looked at the receiver yet. Thread-safe. */
int api_cdr_state(struct api_cdr *c, const char *receiver_id, struct api_cdr_state *ret);
/* The alarms raised by unreachable receivers, for the system alarms (monitoring): fn is called
 * with the CMS alarm name "cdrConnectionFailure", the receiver's id and since when (wall clock
 * ms) for each receiver whose last attempt failed. Returns how many there were. Thread-safe. */
typedef void (*api_cdr_alarm_fn)(void *userdata, const char *alarm, const char *receiver_id,
                                 int64_t since_ms);
size_t api_cdr_receiver_alarms(struct api_cdr *c, api_cdr_alarm_fn fn, void *userdata);
/* Totals for /metrics. Thread-safe. */
struct api_cdr_totals {
    uint64_t records, posts, failures, dropped;
    size_t receivers, failing, pending;
};
void api_cdr_totals(struct api_cdr *c, struct api_cdr_totals *ret);
/* Those figures for /metrics (api/res/cdr_receivers.c). */
void api_cdr_render_metrics(FILE *f, struct api_cdr *c);

#endif
