/* media/leg_state.c: a leg's published state (l->pub.state and reason, under m->lock) and the
 * word of each change to media_set_leg_state_fn's listener (the API's CDR sender).
 *
 * DESIGN: it stands under every file that sets a state (leg.c for plain legs, rtc_path.c and
 * wire.c for WebRTC legs) and calls none of them, so the state report has one home below them. */
#include <stdio.h>

#include "media/media_int.h"

/* l's published state was just set: tells the listener (takes m->lock to read it). */
static void tell_state(struct media_leg *l)
{
    media_leg_state_fn fn;
    void *userdata;
    enum media_leg_state state;

    pthread_mutex_lock(&l->m->lock);
    fn = l->m->leg_state;
    userdata = l->m->leg_state_userdata;
    state = l->pub.state;
    pthread_mutex_unlock(&l->m->lock);
    if (fn)
        fn(userdata, l->id, state);
}

void media_leg_publish(struct media_leg *l, enum media_leg_state state, const char *reason)
{
    pthread_mutex_lock(&l->m->lock);
    l->pub.state = state;
    snprintf(l->pub.reason, sizeof(l->pub.reason), "%s", reason ? reason : "");
    pthread_mutex_unlock(&l->m->lock);
    tell_state(l);
}
