/* tests/test_media_sfu.c: the forwarding table of media/sfu.c (media_sfu_route): for each guest
 * of a call and each kind, the guests whose m-lines carry that guest's media, built from their
 * slots as rtc.c leaves them (own, carrying another's, stopped), and rebuilt when a guest ends.
 * Legs and their WebRTC state are made by hand: no sockets, no DTLS. */
#include <stdlib.h>
#include <string.h>

#include "media/rtc.h"
#include "tests/suites.h"

#define GUESTS 4

struct room {
    struct media_call call;
    struct media_leg legs[GUESTS];
    struct media_rtc rtc[GUESTS];
};

static void add_slot(struct media_rtc *r, int kind, struct media_leg *src, bool stopped)
{
    struct rtc_slot *s = &r->slots[r->nslots++];

    memset(s, 0, sizeof(*s));
    s->kind = kind;
    s->own = src == NULL && !stopped;
    s->stopped = stopped;
    s->src = stopped ? NULL : src;
}

/* GUESTS guests, each with its own two slots; leg i is room->legs[i]. */
static struct room *room_new(void)
{
    struct room *m = calloc(1, sizeof(*m));

    ck_assert_ptr_nonnull(m);
    for (int i = 0; i < GUESTS; i++) {
        m->legs[i].call = &m->call;
        m->legs[i].rtc = &m->rtc[i];
        m->call.legs[m->call.n++] = &m->legs[i];
        add_slot(&m->rtc[i], RTC_AUDIO, NULL, false);
        add_slot(&m->rtc[i], RTC_VIDEO, NULL, false);
    }
    return m;
}

static bool routes_to(const struct media_rtc *src, int kind, const struct media_leg *o)
{
    for (size_t i = 0; i < src->n_routes[kind]; i++)
        if (src->routes[kind][i] == o)
            return true;
    return false;
}

START_TEST(test_routes_follow_the_slots)
{
    struct room *m = room_new();
    struct media_leg *a = &m->legs[0], *b = &m->legs[1], *c = &m->legs[2], *d = &m->legs[3];

    /* b takes a's audio and video and c's audio; c takes a's video; d's slot for a stopped */
    add_slot(b->rtc, RTC_AUDIO, a, false);
    add_slot(b->rtc, RTC_VIDEO, a, false);
    add_slot(b->rtc, RTC_AUDIO, c, false);
    add_slot(c->rtc, RTC_VIDEO, a, false);
    add_slot(d->rtc, RTC_AUDIO, a, true);
    media_sfu_route(&m->call);
    ck_assert_uint_eq(a->rtc->n_routes[RTC_AUDIO], 1);
    ck_assert(routes_to(a->rtc, RTC_AUDIO, b));
    ck_assert_uint_eq(a->rtc->n_routes[RTC_VIDEO], 2);
    ck_assert(routes_to(a->rtc, RTC_VIDEO, b) && routes_to(a->rtc, RTC_VIDEO, c));
    ck_assert_uint_eq(c->rtc->n_routes[RTC_AUDIO], 1);
    ck_assert(routes_to(c->rtc, RTC_AUDIO, b));
    ck_assert_uint_eq(c->rtc->n_routes[RTC_VIDEO], 0);
    ck_assert_uint_eq(b->rtc->n_routes[RTC_AUDIO] + b->rtc->n_routes[RTC_VIDEO], 0);
    ck_assert_uint_eq(d->rtc->n_routes[RTC_AUDIO] + d->rtc->n_routes[RTC_VIDEO], 0);

    /* rebuilt, not appended to: the same slots give the same table */
    media_sfu_route(&m->call);
    ck_assert_uint_eq(a->rtc->n_routes[RTC_VIDEO], 2);

    /* a receiver whose leg ended leaves every table */
    c->rtc->ended = true;
    media_sfu_route(&m->call);
    ck_assert_uint_eq(a->rtc->n_routes[RTC_VIDEO], 1);
    ck_assert(routes_to(a->rtc, RTC_VIDEO, b));
    free(m);
}
END_TEST

/* Two slots of one receiver for the same stream (not made by rtc.c, but not trusted either):
 * the receiver gets each packet once. A plain leg (no rtc) in the call is passed over. */
START_TEST(test_one_route_per_receiver)
{
    struct room *m = room_new();
    struct media_leg *a = &m->legs[0], *b = &m->legs[1];

    add_slot(b->rtc, RTC_AUDIO, a, false);
    add_slot(b->rtc, RTC_AUDIO, a, false);
    m->legs[3].rtc = NULL;
    media_sfu_route(&m->call);
    ck_assert_uint_eq(a->rtc->n_routes[RTC_AUDIO], 1);
    free(m);
}
END_TEST

Suite *media_sfu_suite(void)
{
    Suite *s = suite_create("media_sfu");
    TCase *tc = tcase_create("route");

    tcase_add_test(tc, test_routes_follow_the_slots);
    tcase_add_test(tc, test_one_route_per_receiver);
    suite_add_tcase(s, tc);
    return s;
}
