/* api/res/lobby.c: CMS's lobby. A leg whose needsActivation is true in its call leg profile
 * (api/res/leg_profile.c) waits deactivated (in the lobby: the media thread withholds
 * everything it sends and everything it would receive, and its page says it waits) until an
 * activator, a leg whose needsActivation is not true, is in the call and the call is unlocked.
 * A locked call keeps new legs that need activation in the lobby, and with the callProfile's
 * lockMode "all" (CMS's default) new activators too; unlocking admits them. Those already in
 * stay in when a call is locked. When the last activator leaves, every activated leg that
 * needs activation gets its deactivationMode after its deactivationModeTime: back to the lobby
 * (deactivate, the default), dropped (disconnect), or left in (remainActivated); an activator
 * arriving in between cancels it. An administrator moves a leg in or out with PUT
 * /callLegs/<id> deactivated=.
 *
 * DESIGN: everything runs under the registry's lock, on the events that can change the answer
 * (a leg joins, leaves or changes its needsActivation, the call is unlocked) and on a tick (the
 * guest reaper's, twice a second; api/res/calls.c) for deactivationModeTime. A change of a leg
 * goes through call control's values (api_control_leg_refresh: its media path and its page).
 * The lobby drops no leg itself: dropping a leg can end the call and moves legs in the
 * registry's array, so api_lobby_update returns the ids of the legs that its disconnect mode
 * drops, and only the leave path and the tick (api/res/calls.c) drop them, after everything
 * else is done. The lobby stands under the calls and call control, and calls neither. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/log.h"
#include "api/res/control_values.h"
#include "api/res/lobby.h"
#include "api/util.h"

static bool is_activator(const struct api_leg *l)
{
    return strcmp(api_control_leg_value(l, API_LEGP_NEEDS_ACTIVATION), "true") != 0;
}

/* Activators of call that are in it (not in the lobby), other than except. */
static size_t activators(const struct api_calls *c, const char *call, const struct api_leg *except)
{
    size_t n = 0;

    for (size_t i = 0; i < c->nlegs; i++)
        n += &c->legs[i] != except && strcmp(c->legs[i].call, call) == 0 &&
             !c->legs[i].deactivated && is_activator(&c->legs[i]);
    return n;
}

bool api_lobby_joins_deactivated(const struct api *api, const struct api_call *call,
                                 const struct api_leg *l)
{
    bool act = is_activator(l);

    if (call->locked)
        return call->lock_all || !act;
    return !act && activators(api->calls, call->id, l) == 0;
}

static void set_lobby(const struct api *api, struct api_leg *l, bool lobby)
{
    if (l->deactivated == lobby)
        return;
    l->deactivated = lobby;
    api_log(BASE_LOG_INFO, "callLeg %s of call %s %s", l->id, l->call,
            lobby ? "waits in the lobby" : "admitted from the lobby");
    api_control_leg_refresh(api, l);
}

/* The last activator left: each activated leg that needs activation gets its deactivationMode
 * due after its deactivationModeTime (remainActivated: never). */
static void schedule(struct api_calls *c, const char *call, int64_t now)
{
    for (size_t i = 0; i < c->nlegs; i++) {
        struct api_leg *l = &c->legs[i];
        const char *mode = api_control_leg_value(l, API_LEGP_DEACTIVATION_MODE);
        int64_t s = atoll(api_control_leg_value(l, API_LEGP_DEACTIVATION_MODE_TIME));

        if (strcmp(l->call, call) != 0 || l->deactivated || is_activator(l) ||
            strcmp(mode, "remainActivated") == 0)
            continue;
        l->deactivate_us = now + (s > 0 ? s : 0) * 1000000 + 1; /* 0 means not due */
    }
}

/* Legs whose deactivationMode is due now: deactivated, or (at most max) their ids into drops;
 * the others stay due. */
static size_t due(const struct api *api, const char *call, int64_t now,
                  char drops[][STORE_ID_LEN + 1], size_t max)
{
    struct api_calls *c = api->calls;
    size_t n = 0;

    for (size_t i = 0; i < c->nlegs; i++) {
        struct api_leg *l = &c->legs[i];

        if (strcmp(l->call, call) != 0 || !l->deactivate_us || l->deactivate_us > now)
            continue;
        if (strcmp(api_control_leg_value(l, API_LEGP_DEACTIVATION_MODE), "disconnect") != 0) {
            l->deactivate_us = 0;
            set_lobby(api, l, true);
        } else if (n < max) {
            l->deactivate_us = 0;
            memcpy(drops[n++], l->id, STORE_ID_LEN + 1);
        }
    }
    return n;
}

size_t api_lobby_update(const struct api *api, const char *call_id, char drops[][STORE_ID_LEN + 1],
                        size_t max)
{
    struct api_calls *c = api->calls;
    struct api_call *call = api_calls_find_call(c, call_id);
    char id[STORE_ID_LEN + 1];
    int64_t now = api_now_us();
    size_t n;

    if (!call)
        return 0;
    memcpy(id, call->id, sizeof(id)); /* call_id may be a leg's, which a drop moves */
    n = activators(c, id, NULL);
    for (int pass = 0; pass < 2 && !call->locked; pass++) {
        /* activators first (those a lockMode "all" lock kept out), then whom they activate */
        for (size_t i = 0; i < c->nlegs; i++) {
            struct api_leg *l = &c->legs[i];
            bool act = is_activator(l);

            if (strcmp(l->call, id) != 0 || !l->deactivated || l->held || (pass == 0) != act ||
                (!act && n == 0))
                continue;
            set_lobby(api, l, false);
            n += act;
        }
    }
    if (n > 0) {
        call->had_activator = true;
        for (size_t i = 0; i < c->nlegs; i++)
            if (strcmp(c->legs[i].call, id) == 0)
                c->legs[i].deactivate_us = 0;
    } else if (call->had_activator) {
        call->had_activator = false;
        api_log(BASE_LOG_INFO, "call %s: its last activator left", id);
        schedule(c, id, now);
    }
    return due(api, id, now, drops, max);
}
