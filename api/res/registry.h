/* api/res/registry.h: the in-memory registry of calls and call legs, and its admission limits.
 * The layout is shared with the calls handler (api/res/calls.c), which reads and changes it
 * under lock; everyone else uses the functions. */
#ifndef API_RES_REGISTRY_H
#define API_RES_REGISTRY_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct media;

/* Call control (api/res/control.c): what PUT /calls/<id> and PUT /callLegs/<id> set, as given
 * ("": not set), in the order of its parameter tables (control.c's for the call,
 * control_values.c's for the leg). */
#define API_CALL_PARAMS 14
#define API_LEG_PARAMS 38
#define API_LEG_VALUE_MAX 64

struct api_call {
    char id[STORE_ID_LEN + 1], cospace[STORE_ID_LEN + 1], name[STORE_TEXT_MAX + 1];
    int64_t started_us;
    size_t max_legs;         /* the most legs it has had at once (maxCallLegs) */
    bool locked, join_muted; /* guests kept out; new legs join with rxAudioMute */
    int64_t message_us;      /* when messageText was set (messageTimeRemaining) */
    char conf[API_CALL_PARAMS][STORE_TEXT_MAX + 1];
    /* made by a participant's arrival (a guest, an incoming leg), not by POST /calls: it ends
     * when its last leg goes, unless a join that found it is still adding its leg (joining) */
    bool ends_empty;
    unsigned joining;
    /* the lobby (api/res/lobby.c): the call profile's lockMode is "all" (the default), and an
     * activator was in the call when the lobby last looked */
    bool lock_all, had_activator;
    /* its coSpace's tenant ("": none) and that tenant's participantLimit (0: none), as last
     * read (api/res/tenant_limit.h) */
    char tenant[STORE_ID_LEN + 1];
    int64_t tenant_limit;
};

/* The call leg profile levels above a leg, nearest last (api/res/leg_profile.c). */
enum api_lp_level { API_LP_GLOBAL, API_LP_TENANT, API_LP_COSPACE, API_LP_ACCESS, API__LP_LEVELS };

/* The values the profiles give a leg, by CMS's precedence: each of call control's leg parameters
 * (in its table's order, as a PUT writes them: "true", "30", ...; "": no level sets it) from the
 * nearest level that sets it, and the profile of each level ("": none). */
struct api_leg_profile {
    char ids[API__LP_LEVELS][STORE_ID_LEN + 1];
    char v[API_LEG_PARAMS][API_LEG_VALUE_MAX];
    bool lock_all; /* the callProfile in effect for its coSpace has lockMode all (the default) */
    /* resolved for: the coSpace, and the access method it joined through ("": none) */
    char cospace[STORE_ID_LEN + 1], access[STORE_ID_LEN + 1];
};

/* What a guest's page is told of its own leg and shows of it to the others (call control). */
struct api_guest_view {
    const char *label; /* nameLabelOverride ("": the name) */
    unsigned mute;     /* MEDIA_MUTE_* in force by call control (the lobby's aside) */
    bool lobby;        /* deactivated: waiting in the lobby */
    bool mute_self;    /* may mute and unmute its own audio (muteSelfAllowed, allowAllMuteSelf) */
    bool video_mute_self; /* ... its own video (videoMuteSelfAllowed) */
    bool labels;          /* participantLabels: the others' names are shown on its tiles */
};

struct api_leg {
    char id[STORE_ID_LEN + 1], call[STORE_ID_LEN + 1];
    char remote_party[STORE_TEXT_MAX + 1], media_addr[64];
    bool has_media;
    bool webrtc; /* a guest's browser (api/res/guest.c): remote_party is its display name */
    int64_t started_us;
    bool dial_failed; /* dialled out (no media address): no SIP here, so it failed at once */
    /* a dial-out's route (api/res/outbound.h): why it failed (noSipDialOut, noMatchingRule,
     * dialTransformDeny), the outbound rule that matched ("" none) and how many rules were
     * tried, the destination after the dial transforms */
    char out_reason[24], out_rule[STORE_ID_LEN + 1];
    unsigned out_tried;
    char out_dest[STORE_TEXT_MAX + 1];
    unsigned mute; /* MEDIA_MUTE_* in force (call control) */
    char conf[API_LEG_PARAMS][API_LEG_VALUE_MAX];
    /* the lobby (api/res/lobby.c): its profiles' values; waiting in the lobby (deactivated),
     * and when its deactivationMode acts after the last activator left (0: not due) */
    struct api_leg_profile prof;
    bool deactivated, held; /* held: an administrator put it back (PUT deactivated=true) */
    int64_t deactivate_us;
    unsigned media_mute; /* what the media thread was told: mute, everything in the lobby */
};

/* What happens to calls and legs, for the call detail records (api/cdr.c): each called with
 * the registry's lock held, in the order of the events, so it must only take a copy. A NULL
 * member is not called. why: "dropped" (an administrator removed the leg or its call), NULL (the
 * participant left, or its media ended). */
struct api_calls_events {
    void (*call_started)(void *userdata, const struct api_call *call);
    void (*call_ended)(void *userdata, const struct api_call *call);
    void (*leg_started)(void *userdata, const struct api_leg *leg);
    void (*leg_ended)(void *userdata, const struct api_leg *leg, const char *why);
    void *userdata;
};

struct api_calls {
    pthread_mutex_t lock;
    struct api_call *calls;
    struct api_leg *legs;
    size_t ncalls, nlegs, cap_calls, cap_legs, max_legs;
    size_t max_calls;                    /* api_calls_set_max_calls() */
    uint64_t legs_completed;             /* legs gone since the start (callLegsCompleted) */
    size_t media_legs, leg_budget;       /* legs with media now, and the most admitted */
    uint64_t refused_call, refused_node; /* POSTs refused: call full, node's budget spent */
    /* Called, lock held, when an administrator removes a guest's leg (DELETE callLegs or
     * calls): the composition root points it at the guest signalling (api_guest_leg_ended). */
    void (*guest_dropped)(void *userdata, const char *leg_id, const char *why);
    /* Likewise for call control (api/res/control_values.c, control.c): a leg's name label and
     * mutes changed (api_guest_leg_control), and the call's message to its pages
     * (api_guest_message). */
    void (*guest_control)(void *userdata, const char *leg_id, const struct api_guest_view *view);
    void (*guest_message)(void *userdata, const char *call, const char *leg, const char *text,
                          const char *position, const char *duration);
    void *guest_userdata;
    struct api_calls_events events; /* set by the composition root before HTTP starts */
    /* A clustered node's side of the call directory (api/res/call_home.h), set before HTTP
     * starts; NULL: one node, calls are only here. */
    struct api_call_home *home;
};

int api_calls_new(struct api_calls **ret);
void api_calls_free(struct api_calls *c); /* NULL is a no-op */
void api_calls_counts(struct api_calls *c, size_t *ret_calls, size_t *ret_active, size_t *ret_max);
/* Sets how many legs with media (fds_per_leg sockets each, at least 1) are admitted at once:
 * what turn_fds, the descriptors left for TURN sockets (-1: no limit known), leaves after the
 * prober's share, or max_legs when it is lower (0: not set). Logs the figure; returns it. Before
 * HTTP starts. */
#define API_CALLS_UNLIMITED_BUDGET 100000 /* when RLIMIT_NOFILE sets no bound */
size_t api_calls_set_budget(struct api_calls *c, long turn_fds, unsigned max_legs,
                            unsigned fds_per_leg);
/* The most calls at once (default 10,000). Calls live in memory, and POST /calls makes one for
 * any coSpace, so without a bound an API client could grow the registry, and the walk of it on
 * every leg's admission, without end; beyond it POST /calls is answered 400 tooManyCalls, as a
 * full collection is. */
void api_calls_set_max_calls(struct api_calls *c, unsigned max_calls);
/* The prober's share of turn_fds, the most probe sockets it may hold at once
 * (turn_prober_config.max_sockets): an eighth, at least 16; 0 (no cap) when turn_fds is -1. */
size_t api_calls_prober_sockets(long turn_fds);
struct api_calls_budget {
    size_t media_legs, budget;           /* legs with media now, and the most admitted */
    uint64_t refused_call, refused_node; /* POSTs refused: call full, node's budget spent */
};
void api_calls_budget(struct api_calls *c, struct api_calls_budget *ret); /* thread-safe */

/* Lookups and growth, with c->lock held. */
struct api_call *api_calls_find_call(struct api_calls *c, const char *id);
struct api_leg *api_calls_find_leg(struct api_calls *c, const char *id);
size_t api_calls_legs_of(struct api_calls *c, const char *call); /* legs of that call */
/* Makes room in *v (of *cap elements of size bytes) for element n. Returns 0 or -ENOMEM. */
int api_calls_grow(void **v, size_t *cap, size_t n, size_t size);

/* For the handlers of runtime objects (api/res/calls.c, control.c, participants.c): an id from
 * the path into out[37], or 404 missing (false); and whether the request is a GET or a HEAD. */
struct api_reply;
struct api_request;
bool api_calls_path_id(const char *id, char out[STORE_ID_LEN + 1], const char *missing,
                       struct api_reply *reply);
bool api_calls_is_get(const struct api_request *req);

/* Fencing (api/res/call_home.c, docs/cluster.md): the ids of the calls here that the call
 * directory holds (those a participant's arrival made on a clustered node), at most cap into v;
 * returns how many there are. */
size_t api_calls_homed(struct api_calls *c, char (*v)[STORE_ID_LEN + 1], size_t cap);
/* Ends call_id at once because this node no longer owns it (another node took it from the call
 * directory and wrote the CDRs of its end): each leg's media stopped (in media; NULL: none), its
 * guest's page told (why API_CALLS_LOST), the call gone, and none of the registry's events
 * called (no CDR, no directory write); *ret_started_us: when it started (api_now_us). Returns
 * the legs ended, or -ENOENT when the call is not here. */
#define API_CALLS_LOST "callBridgeFailure"
int api_calls_end_lost(struct api_calls *c, struct media *media, const char *call_id,
                       int64_t *ret_started_us);

#endif
