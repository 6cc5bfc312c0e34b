/* media/leg.c: a call leg and its anchoring: a TURN allocation on the reachable server with
 * the lowest smoothed RTT (the prober's word), a channel bound to the leg's endpoint, and
 * failover: every second a failed leg tries again and a leg whose server the prober lost moves
 * to the best other one. Media thread only; what API threads read (l->pub) is written under
 * m->lock.
 *
 * DESIGN: a new anchor's socket is opened before the old one is dropped, so a host out of
 * descriptors leaves a moving leg where it is; a released allocation is one Refresh
 * LIFETIME=0 that is not waited for (the server expires it if the answer is lost). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "media/media_int.h"
#include "media/rtc.h"

#define RETRY_US (2 * 1000000)

static int leg_send(void *userdata, const uint8_t *buf, size_t len)
{
    struct media_leg *l = userdata;

    if (send(l->fd, buf, len, MSG_NOSIGNAL) < 0)
        return errno == EAGAIN ? 0 : -errno;
    return 0;
}

static void drop_anchor(struct media_leg *l, bool release)
{
    if (l->alloc && release)
        (void)turn_alloc_release(l->alloc, turn_now_us()); /* one Refresh LIFETIME=0, no wait */
    if (l->alloc) {
        l->malformed_before += turn_alloc_dropped(l->alloc);
        pthread_mutex_lock(&l->m->lock);
        l->pub.malformed = l->malformed_before + l->malformed_path;
        pthread_mutex_unlock(&l->m->lock);
    }
    turn_alloc_free(l->alloc);
    l->alloc = NULL;
    if (l->fd >= 0) {
        (void)epoll_ctl(l->m->epfd, EPOLL_CTL_DEL, l->fd, NULL);
        close(l->fd);
        l->fd = -1;
    }
    l->ready = l->asked_peer = false;
}

/* A WebRTC leg whose relay failed, or never was, goes on with its host candidate: no pair is
 * selected yet, or the selected one does not use the relay. */
static void host_only(struct media_leg *l, const char *why, int64_t now)
{
    base_logf(&l->m->cfg.log, BASE_LOG_INFO, "callLeg %s: %s; it goes on with its host candidate",
              l->id, why);
    memset(&l->server, 0, sizeof(l->server));
    pthread_mutex_lock(&l->m->lock);
    l->pub.turn_server[0] = l->pub.relayed[0] = '\0';
    l->pub.relayed_port = 0;
    l->pub.lifetime_left_s = 0;
    pthread_mutex_unlock(&l->m->lock);
    media_rtc_host_only(l, now);
}

/* The leg's anchor failed: a plain leg tries again later; a WebRTC leg ends, since its browser
 * holds a pair on this relay, with reconnect set (its page joins again) and its reason named
 * for the page and the administrator: "turnServerFailed: turnServer <id>: <why>" when the
 * server it was on failed, "noReachableTurnServer: <why>" when there was none to go to; unless
 * its host candidate may carry it (host_only). */
static void fail_leg(struct media_leg *l, const char *why, int64_t now)
{
    drop_anchor(l, true);
    if (l->rtc) {
        char named[400];

        if (l->server.spec.id[0])
            snprintf(named, sizeof(named), "turnServerFailed: turnServer %s: %s", l->server.spec.id,
                     why);
        else
            snprintf(named, sizeof(named), "noReachableTurnServer: %s", why);
        if (l->host_fd >= 0 && !(l->rtc->have_peer && !l->rtc->peer_host)) {
            host_only(l, named, now);
            return;
        }
        media_rtc_end(l, named, true);
        return;
    }
    l->retry_us = now + RETRY_US;
    media_leg_publish(l, MEDIA_LEG_FAILED, why);
    base_logf(&l->m->cfg.log, BASE_LOG_ERR, "callLeg %s: %s", l->id, why);
}

#define LEG_FRESH_PORTS 3 /* 437s to one anchoring answered from a fresh port */

/* No socket for the leg: the host ran out (EMFILE, ENFILE, ENOBUFS, ENOMEM), not the TURN
 * server. A leg that is anchored keeps its anchor (it is only moving); a new one fails with
 * the reason and tries again later. No other leg is touched. */
static void no_socket(struct media_leg *l, int err, int64_t now)
{
    char why[160];

    snprintf(why, sizeof(why), "cannot open a socket for the leg (%s)%s", strerror(err),
             turn_err_is_local(-err) ? ": a limit of this host, not of the TURN server" : "");
    if (l->alloc) {
        base_logf(&l->m->cfg.log, BASE_LOG_ERR, "callLeg %s: %s; it stays on turnServer %s", l->id,
                  why, l->server.spec.id);
        return;
    }
    fail_leg(l, why, now);
}

/* Allocates on the best reachable TURN server other than exclude (may be NULL). The new socket
 * is opened before the old anchor goes, so a leg that cannot get one keeps what it has. */
static void anchor(struct media_leg *l, const char *exclude, int64_t now)
{
    struct turn_alloc_config cfg = {
        .software = "callbridge", .max_stale_nonce = 3, .send = leg_send, .userdata = l};
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &l->ep};
    char user[600], pass[256];
    struct turn_best best;
    socklen_t alen;
    int fd;

    if (!l->m->cfg.prober ||
        turn_prober_best_prefer(l->m->cfg.prober, l->prefer, exclude, &best) < 0) {
        fail_leg(l, "no reachable TURN server", now);
        return;
    }
    turn_txn_config_rfc(&cfg.txn);
    if (turn_spec_credentials(&best.spec, user, sizeof(user), pass, sizeof(pass)) < 0) {
        fail_leg(l, "cannot derive TURN credentials", now);
        return;
    }
    fd = socket(best.addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        no_socket(l, errno, now);
        return;
    }
    /* connect() gives the socket its port: before the old socket closes, so that the kernel
     * cannot hand the old port back (after a 437 that port is the one the server refused) */
    alen =
        best.addr.ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    if (connect(fd, (struct sockaddr *)&best.addr, alen) < 0) {
        close(fd);
        drop_anchor(l, true);
        fail_leg(l, "cannot reach the TURN server", now);
        return;
    }
    drop_anchor(l, true);
    l->server = best;
    l->fd = fd;
    cfg.username = user;
    cfg.password = pass;
    if (epoll_ctl(l->m->epfd, EPOLL_CTL_ADD, l->fd, &ev) < 0 ||
        turn_alloc_new(&cfg, &l->alloc) < 0 || turn_alloc_start(l->alloc, now) < 0) {
        fail_leg(l, "cannot reach the TURN server", now);
        return;
    }
    pthread_mutex_lock(&l->m->lock);
    l->pub.anchors++;
    snprintf(l->pub.turn_server, sizeof(l->pub.turn_server), "%s", l->server.spec.id);
    l->pub.relayed[0] = '\0';
    l->pub.relayed_port = 0;
    pthread_mutex_unlock(&l->m->lock);
    media_leg_publish(l, MEDIA_LEG_CONNECTING, "allocating on the TURN server");
}

/* The channel to the endpoint is bound: the path may send to the leg (l->ready), and the
 * relayed address the endpoint sends to is published. */
static void connected(struct media_leg *l, const struct turn_alloc_info *info, int64_t now)
{
    unsigned port;

    l->ready = true;
    l->fresh_ports = 0;
    pthread_mutex_lock(&l->m->lock);
    l->pub.lifetime_left_s = (info->expires_us - now) / 1000000;
    media_addr_text(&info->relayed, l->pub.relayed, sizeof(l->pub.relayed), &port);
    l->pub.relayed_port = (uint16_t)port;
    pthread_mutex_unlock(&l->m->lock);
    media_leg_publish(l, MEDIA_LEG_CONNECTED, NULL);
    base_logf(&l->m->cfg.log, BASE_LOG_INFO, "callLeg %s: anchored on turnServer %s at %s port %u",
              l->id, l->server.spec.id, l->pub.relayed, l->pub.relayed_port);
}

/* Moves a leg on after its allocation did something. */
void media_leg_advance(struct media_leg *l, int64_t now)
{
    struct turn_alloc_info info;

    if (!l->alloc)
        return;
    turn_alloc_get_info(l->alloc, &info);
    if (!l->rtc && info.state == TURN_ALLOC_FAILED && info.failure == TURN_FAIL_MISMATCH &&
        l->fresh_ports < LEG_FRESH_PORTS) {
        /* RFC 8656 §7.4: the server still holds an allocation on this 5-tuple (the kernel gave
         * the leg a port whose released allocation lingers there): allocate again at once from
         * another port. anchor() opens and connects the new socket before it closes this one, so
         * the kernel cannot hand the same port back (the prober does the same:
         * turnclient/probe.c). */
        l->fresh_ports++;
        base_logf(&l->m->cfg.log, BASE_LOG_INFO,
                  "callLeg %s: turnServer %s holds an allocation on this port (437): again from "
                  "another port (%u of %u)",
                  l->id, l->server.spec.id, l->fresh_ports, LEG_FRESH_PORTS);
        anchor(l, NULL, now);
        return;
    }
    if (info.state == TURN_ALLOC_FAILED || info.state == TURN_ALLOC_REDIRECT) {
        char why[200];

        snprintf(why, sizeof(why), "TURN allocation failed: %s %s",
                 info.state == TURN_ALLOC_REDIRECT ? "redirected" : turn_failure_name(info.failure),
                 info.reason);
        fail_leg(l, why, now);
        return;
    }
    if (info.state != TURN_ALLOC_READY)
        return;
    if (l->rtc) {
        media_rtc_advance(l, now);
        return;
    }
    if (!l->asked_peer) {
        l->asked_peer = true;
        if (turn_alloc_add_peer(l->alloc, (struct sockaddr *)&l->remote, MEDIA_CHANNEL, now) < 0)
            fail_leg(l, "cannot bind a channel to the endpoint", now);
        return;
    }
    if (!l->ready && turn_alloc_peer_ready(l->alloc, (struct sockaddr *)&l->remote))
        connected(l, &info, now);
}

/* Every second: failed legs try again, legs on a server that stopped answering the prober move
 * elsewhere (a full one keeps them: turn_prober_is_down), and the lifetime left is published. */
void media_leg_housekeeping(struct media *m, int64_t now)
{
    for (struct media_leg *l = m->legs; l; l = l->next) {
        struct turn_alloc_info info = {.state = TURN_ALLOC_FAILED};

        if (l->rtc && l->rtc->ended)
            continue;
        if (!l->alloc && !l->rtc) {
            if (now >= l->retry_us)
                anchor(l, NULL, now);
            continue;
        }
        if (l->alloc && turn_prober_is_down(m->cfg.prober, l->server.spec.id,
                                            (struct sockaddr *)&l->server.addr)) {
            char exclude[40];

            if (l->rtc) { /* its page joins again, on the best other server */
                fail_leg(l, "stopped answering its probes", now);
                continue;
            }
            snprintf(exclude, sizeof(exclude), "%s", l->server.spec.id);
            base_logf(&m->cfg.log, BASE_LOG_INFO,
                      "callLeg %s: turnServer %s is unreachable, moving", l->id, exclude);
            anchor(l, exclude, now);
            continue;
        }
        if (l->alloc) /* a WebRTC leg may have none: it runs on its host candidate */
            turn_alloc_get_info(l->alloc, &info);
        pthread_mutex_lock(&m->lock);
        l->pub.lifetime_left_s =
            info.state == TURN_ALLOC_READY ? (info.expires_us - now) / 1000000 : 0;
        l->pub.malformed =
            l->malformed_before + l->malformed_path + (l->alloc ? turn_alloc_dropped(l->alloc) : 0);
        if (l->rtc)
            media_rtc_publish(l, now - m->last_housekeeping_us);
        else
            media_rtpstats_publish(&l->rtp, &l->pub.rx_rtp, now - m->last_housekeeping_us);
        pthread_mutex_unlock(&m->lock);
        if (l->rtc)
            media_rtc_housekeeping(l, now);
    }
}

struct media_leg *media_leg_find(struct media *m, const char *id, struct media_leg ***ret_link)
{
    for (struct media_leg **link = &m->legs; *link; link = &(*link)->next) {
        if (strcmp((*link)->id, id) == 0) {
            if (ret_link)
                *ret_link = link;
            return *link;
        }
    }
    return NULL;
}

void media_leg_create(struct media *m, const struct media_cmd *c, int64_t now)
{
    struct media_leg *l;

    if (media_leg_find(m, c->leg, NULL))
        return;
    l = calloc(1, sizeof(*l));
    if (!l)
        return;
    l->m = m;
    l->fd = l->host_fd = -1;
    l->ep.leg = l;
    snprintf(l->id, sizeof(l->id), "%s", c->leg);
    l->remote = c->remote;
    l->call = media_call_join(m, c->call, l);
    if (!l->call) { /* the API admits at most MEDIA_MAX_LEGS_PER_CALL: said, not silent */
        base_logf(&m->cfg.log, BASE_LOG_ERR,
                  "callLeg %s: not added to call %s (full, or out of memory)", l->id, c->call);
        free(l);
        return;
    }
    if (c->kind == MEDIA_CMD_RTC_ADD && c->data)
        snprintf(l->prefer, sizeof(l->prefer), "%.39s", (const char *)c->data);
    if (c->kind == MEDIA_CMD_RTC_ADD && media_rtc_attach(l, c, now) < 0) {
        base_logf(&m->cfg.log, BASE_LOG_ERR, "callLeg %s: out of memory", l->id);
        media_rtc_free(l);
        media_call_leave(m, l);
        free(l);
        return;
    }
    pthread_mutex_lock(&m->lock);
    l->next = m->legs;
    m->legs = l;
    m->nlegs++;
    if (m->nlegs > m->max_legs)
        m->max_legs = m->nlegs;
    pthread_mutex_unlock(&m->lock);
    anchor(l, NULL, now);
}

void media_leg_destroy(struct media *m, const char *id)
{
    struct media_leg **link, *l = media_leg_find(m, id, &link);

    if (!l)
        return;
    drop_anchor(l, true);
    media_rtc_free(l);
    media_call_leave(m, l);
    pthread_mutex_lock(&m->lock);
    *link = l->next;
    m->nlegs--;
    media_totals_add_leg(&m->retired, l); /* counters never go back */
    pthread_mutex_unlock(&m->lock);
    free(l);
}
