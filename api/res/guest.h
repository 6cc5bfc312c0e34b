/* api/res/guest.h: the guest interface's signalling (the join page's JSON API under
 * /meeting/api/): who may join a coSpace, the guest's session, and the events the page polls
 * for (offers from the media thread, the roster, the end of the leg). docs/guests.md has the
 * protocol. */
#ifndef API_RES_GUEST_H
#define API_RES_GUEST_H

#include <stdbool.h>

#include "api/api.h"
#include "api/res/registry.h"
#include "media/media.h"

#define API_GUEST_WAIT_PREFIX "guest:" /* api_reply.wait_id of a poll that waits for events */

int api_guests_new(struct api_guests **ret);
/* Wakes every poll that waits (shutdown: before the HTTP server drains). */
void api_guests_stop(struct api_guests *g);
/* Has the guests' reaper thread call tick(userdata) twice a second, outside its own lock (the
 * lobby's deactivationModeTime: api_calls_lobby_tick). Before HTTP starts. */
void api_guests_set_tick(struct api_guests *g, void (*tick)(void *userdata), void *userdata);
void api_guests_free(struct api_guests *g); /* NULL is a no-op */

/* POST /meeting/api/join, answer, candidate, leave; GET /meeting/api/events. Always fills
 * *reply with JSON (reply->guest set). A refused join is 403, whatever was wrong; a refused
 * rejoin says why (rejoinUsed, rejoinExpired). Each request first revokes the rejoin
 * credentials of guests the administrator removed since the last one. */
void api_res_guest(const struct api *api, struct store *st, const struct api_request *req,
                   struct api_reply *reply);
/* The wait of a poll (wait_id API_GUEST_WAIT_PREFIX...): wakes resume(ctx) at the next event or
 * at until_us. Returns 0, or -EAGAIN when an event came in between (answer at once). */
int api_guest_wait(const struct api *api, const char *wait_id, int64_t until_us,
                   void (*resume)(void *ctx), void *ctx);
/* media_config.rtc_signal: an offer for the guest of leg_id, or the end of its leg. userdata is
 * the struct api. */
void api_guest_signal(void *userdata, const char *leg_id, enum media_rtc_signal kind,
                      const char *text, bool reconnect);
/* What /metrics shows of guests: sessions in progress, and counters since the start. */
struct api_guest_counts {
    size_t active;
    uint64_t joined, refused; /* refused: the 403s (a wrong meeting ID, passcode or secret) */
    uint64_t ended_left, ended_dropped, ended_failed;
};
void api_guests_counts(struct api_guests *g, struct api_guest_counts *ret);
/* An administrator dropped the guest's leg (DELETE callLegs or calls): its page is told why,
 * and its rejoin credential is revoked by the next guest request. userdata is the struct api
 * (api_calls.guest_dropped). */
void api_guest_leg_ended(void *userdata, const char *leg_id, const char *why);
/* Call control changed leg_id: its name label ("": its own name) and its MEDIA_MUTE_* bits;
 * every page of its call gets a new roster. May be called with the registry's lock held.
 * userdata is the struct api (api_calls.guest_control). */
void api_guest_leg_control(void *userdata, const char *leg_id, const struct api_guest_view *view);
/* The call's messageText ("": none), messagePosition and messageDuration (seconds as text,
 * "permanent", or "": none shown) to the page of every guest of call, or of leg alone (not
 * NULL: it just joined). Same locking; userdata as above (api_calls.guest_message). */
void api_guest_message(void *userdata, const char *call, const char *leg, const char *text,
                       const char *position, const char *duration);

#endif
