/* media/loop.c: the media thread: one epoll loop over every leg's sockets and the command
 * queue's eventfd, with the allocations' timers and a one-second housekeeping tick (redis's
 * serverCron), and the start and stop of that thread.
 *
 * DESIGN: API threads never touch a leg; they queue a command (base/ queue) and the thread
 * runs it. The timer scan walks every leg, so it runs only when m->timer_us says a deadline
 * may be due, not for every batch of datagrams. Commands run last in a batch: a removal frees
 * legs that the batch's events point to. */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "media/media_int.h"
#include "media/rtc.h"

#define HOUSEKEEPING_US 1000000

void media_loop_push(struct media *m, struct media_cmd *c)
{
    base_cmdq_push(&m->q, &c->link);
}

/* Runs (and frees) every queued command; the stop command is embedded in m, not freed. */
static void run_commands(struct media *m, int64_t now)
{
    struct base_cmd *next;

    for (struct base_cmd *b = base_cmdq_take(&m->q); b; b = next) {
        struct media_cmd *c = (struct media_cmd *)b;
        struct media_leg *l;

        next = b->next;
        if (c->kind == MEDIA_CMD_STOP)
            continue;
        if (c->kind == MEDIA_CMD_ADD || c->kind == MEDIA_CMD_RTC_ADD)
            media_leg_create(m, c, now);
        else if (c->kind == MEDIA_CMD_REMOVE)
            media_leg_destroy(m, c->leg);
        else if (!(l = media_leg_find(m, c->leg, NULL))) /* gone: nothing to do */
            ;
        else if (c->kind == MEDIA_CMD_MUTE || c->kind == MEDIA_CMD_KEY_FRAME)
            media_sfu_command(l, c, now);
        else
            media_rtc_command(l, c, now);
        free(c->data);
        free(c);
    }
}

/* Lowers m->timer_us to l's next deadline: after anything that may have moved it earlier. */
static void note_deadline(struct media *m, const struct media_leg *l)
{
    int64_t d = l->alloc ? turn_alloc_next_deadline(l->alloc) : INT64_MAX;
    int64_t r = media_rtc_deadline(l);

    if (r < d)
        d = r;
    if (d < m->timer_us)
        m->timer_us = d;
}

/* Fires every due allocation timer and works out the next one. */
static void run_timers(struct media *m, int64_t now)
{
    m->timer_us = INT64_MAX;
    for (struct media_leg *l = m->legs; l; l = l->next) {
        if (l->alloc && turn_alloc_next_deadline(l->alloc) <= now) {
            turn_alloc_on_timer(l->alloc, now);
            media_leg_advance(l, now);
        }
        if (l->rtc)
            media_rtc_on_timer(l, now);
        note_deadline(m, l);
    }
}

/* One turn of the loop after epoll_wait: the legs' datagrams, then commands, timers, tick. */
static void run_events(struct media *m, const struct epoll_event *evs, int n)
{
    int64_t now = turn_now_us();
    bool commands = false;

    for (int i = 0; i < n; i++) {
        const struct media_ep *e = evs[i].data.ptr;

        if (!e) {
            commands = true;
            continue;
        }
        if (e->host)
            media_rtc_host_on_readable(e->leg, now);
        else
            media_path_on_readable(e->leg, now);
        media_leg_advance(e->leg, now);
        note_deadline(m, e->leg);
    }
    if (commands) {
        run_commands(m, now);
        m->timer_us = 0; /* new allocations: scan now */
    }
    now = turn_now_us();
    if (now >= m->timer_us)
        run_timers(m, now);
    if (now >= m->housekeeping_us) {
        media_leg_housekeeping(m, now);
        m->last_housekeeping_us = now;
        m->housekeeping_us = now + HOUSEKEEPING_US;
        m->timer_us = 0; /* re-anchored legs: scan at the next turn */
    }
}

static void *media_main(void *arg)
{
    struct media *m = arg;
    struct epoll_event evs[64];

    while (!atomic_load(&m->stopping)) {
        int64_t now = turn_now_us(), wait;
        int n;

        wait = (m->timer_us < m->housekeeping_us ? m->timer_us : m->housekeeping_us) - now;
        n = epoll_wait(m->epfd, evs, 64, wait <= 0 ? 0 : (int)((wait + 999) / 1000));
        run_events(m, evs, n);
    }
    return NULL;
}

int media_start(const struct media_config *cfg, struct media **ret_media)
{
    struct media *m = calloc(1, sizeof(*m));
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    int r;

    if (!m)
        return -ENOMEM;
    m->cfg = *cfg;
    m->q.evfd = -1;
    pthread_mutex_init(&m->lock, NULL);
    m->epfd = epoll_create1(EPOLL_CLOEXEC);
    r = m->epfd < 0 ? -errno : base_cmdq_init(&m->q);
    if (r == 0)
        r = dtls_cert_new(&m->cert); /* one per start: its fingerprint goes in every offer */
    if (r == 0 && epoll_ctl(m->epfd, EPOLL_CTL_ADD, base_cmdq_fd(&m->q), &ev) < 0)
        r = -errno;
    if (r == 0 && (r = -pthread_create(&m->thread, NULL, media_main, m)) == 0) {
        (void)pthread_setname_np(m->thread, "cb-media"); /* for top -H, ps -L */
        *ret_media = m;
        return 0;
    }
    if (m->epfd >= 0)
        close(m->epfd);
    dtls_cert_free(m->cert);
    base_cmdq_done(&m->q);
    pthread_mutex_destroy(&m->lock);
    free(m);
    return r ? r : -EIO;
}

void media_stop(struct media *m)
{
    if (!m)
        return;
    atomic_store(&m->stopping, true);
    m->stop.kind = MEDIA_CMD_STOP; /* wakes the thread */
    media_loop_push(m, &m->stop);
    pthread_join(m->thread, NULL);
    run_commands(m, turn_now_us()); /* free what was queued */
    while (m->legs)
        media_leg_destroy(m, m->legs->id); /* releases every allocation */
    close(m->epfd);
    dtls_cert_free(m->cert);
    base_cmdq_done(&m->q);
    pthread_mutex_destroy(&m->lock);
    free(m);
}
