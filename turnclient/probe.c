/* turnclient/probe.c: one probe of one host: its socket (UDP, or TCP cut into STUN and
 * ChannelData frames), the allocation it drives for real (turnclient/alloc.c) through one 300 Try
 * Alternate and up to three fresh client ports after a 437, the release of what it got, and the
 * result it records for its host: reachable with addresses and RTT, or the failure and its
 * sentence. Runs on the prober thread only. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "turnclient/cred.h"
#include "turnclient/prober_int.h"
#include "turnclient/stun.h"

#define REST_TTL_S 86400

void turn_addr_text(const struct sockaddr_storage *ss, char *ip, size_t cap, uint16_t *port)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const void *)ss;

        inet_ntop(AF_INET, &in->sin_addr, ip, (socklen_t)cap);
        *port = ntohs(in->sin_port);
    } else {
        const struct sockaddr_in6 *in6 = (const void *)ss;

        inet_ntop(AF_INET6, &in6->sin6_addr, ip, (socklen_t)cap);
        *port = ntohs(in6->sin6_port);
    }
}

static int probe_send(void *userdata, const uint8_t *buf, size_t len)
{
    struct turn_probe *pr = userdata;
    ssize_t n = send(pr->fd, buf, len, MSG_NOSIGNAL);

    if (n < 0)
        return errno == EAGAIN ? 0 : -errno; /* a full buffer is a lost datagram: retransmitted */
    return (size_t)n == len || !pr->tcp ? 0 : -EIO;
}

/* A probe that could not run here says nothing about the server: the host keeps what its last
 * probe found (reachable, RTT, addresses, when), so media anchored there stays. */
static void keep_previous(struct turn_prober *p, const struct turn_srv *s,
                          struct turn_host_status *h)
{
    pthread_mutex_lock(&p->lock); /* s->pub may be freed by turn_prober_set() otherwise */
    for (size_t i = 0; s->pub && i < s->pub->nhosts; i++) {
        const struct turn_host_status *was = &s->pub->hosts[i];

        if (strcmp(was->address, h->address) == 0 && was->port == h->port && was->tcp == h->tcp) {
            *h = *was;
            break;
        }
    }
    pthread_mutex_unlock(&p->lock);
}

/* What an allocation that got through showed: the addresses and the RTT sample, which only
 * counts when unambiguous (Karn). */
static void record_ready(struct turn_host_status *h, struct turn_rtt_entry *hist,
                         const struct turn_alloc_info *info)
{
    h->reachable = true;
    h->failure = TURN_OK;
    h->has_mapped = info->has_mapped;
    if (info->has_mapped)
        turn_addr_text(&info->mapped, h->mapped, sizeof(h->mapped), &h->mapped_port);
    h->has_relayed = info->has_relayed;
    if (info->has_relayed)
        turn_addr_text(&info->relayed, h->relayed, sizeof(h->relayed), &h->relayed_port);
    if (hist && info->rtt_us >= 0)
        hist->srtt_us = turn_srtt_update(hist->srtt_us, info->rtt_us);
    h->rtt_us = hist ? hist->srtt_us : -1;
}

/* Records what the allocation showed into the host's result. */
static void record(struct turn_probe *pr, const struct turn_alloc_info *info)
{
    struct turn_srv *s = pr->srv;
    struct turn_host_status *h = &s->work->hosts[pr->slot];
    struct turn_rtt_entry *hist = turn_history_of(s->rtt, &s->nrtt, TURN_MAX_PROBES, h);

    h->checked_unix = time(NULL);
    if (info->failure == TURN_FAIL_LOCAL) {
        keep_previous(pr->p, s, h);
        h->failure = TURN_FAIL_LOCAL;
        h->error_code = 0;
        turn_describe(h, info, pr->p->cfg.txn.budget_us);
    } else if (info->state != TURN_ALLOC_READY) {
        h->failure = info->failure ? info->failure : TURN_FAIL_PROTOCOL;
        h->error_code = info->error_code;
        turn_describe(h, info, pr->p->cfg.txn.budget_us);
    } else {
        record_ready(h, hist, info);
    }
    if (hist) {
        hist->probes[h->failure]++;
        memcpy(h->probes, hist->probes, sizeof(h->probes));
    }
}

/* ---- the socket ------------------------------------------------------------------------- */

static void close_probe_socket(struct turn_probe *pr)
{
    if (pr->fd >= 0) {
        (void)epoll_ctl(pr->p->epfd, EPOLL_CTL_DEL, pr->fd, NULL);
        close(pr->fd);
        pr->fd = -1;
        turn_prober_socket_closed(pr->p);
    }
}

int turn_spec_credentials_for(const struct turn_server_spec *spec, const char *user, int64_t ttl_s,
                              char *ret_user, size_t ucap, char *ret_pass, size_t pcap)
{
    if (!spec->use_shared_secret) {
        if ((size_t)snprintf(ret_user, ucap, "%s", spec->username) >= ucap ||
            (size_t)snprintf(ret_pass, pcap, "%s", spec->password) >= pcap)
            return -ENOSPC;
        return 0;
    }
    if (pcap < 29)
        return -ENOSPC;
    return turn_cred_rest(spec->shared_secret, user, time(NULL) + ttl_s, ret_user, ucap, ret_pass);
}

int turn_spec_credentials(const struct turn_server_spec *spec, char *ret_user, size_t ucap,
                          char *ret_pass, size_t pcap)
{
    return turn_spec_credentials_for(spec, spec->username, REST_TTL_S, ret_user, ucap, ret_pass,
                                     pcap);
}

/* Opens the socket and the allocation towards pr->addr. Returns 0 or -errno. */
static int probe_connect(struct turn_probe *pr)
{
    struct turn_prober *p = pr->p;
    struct turn_alloc_config cfg = {.software = p->software,
                                    .reliable = pr->tcp,
                                    .max_stale_nonce = 3,
                                    .txn = p->cfg.txn,
                                    .send = probe_send,
                                    .userdata = pr};
    char user[600], pass[256];
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = pr};
    socklen_t alen =
        pr->addr.ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    int r;

    r = turn_spec_credentials(&pr->srv->spec, user, sizeof(user), pass, sizeof(pass));
    if (r < 0)
        return r;
    cfg.username = user;
    cfg.password = pass;
    pr->fd = socket(pr->addr.ss_family,
                    (pr->tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (pr->fd < 0)
        return -errno;
    turn_prober_socket_opened(p);
    r = connect(pr->fd, (struct sockaddr *)&pr->addr, alen);
    if (r < 0 && errno != EINPROGRESS) {
        r = -errno;
        goto fail;
    }
    pr->connecting = r < 0;
    if (pr->connecting)
        ev.events |= EPOLLOUT;
    if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, pr->fd, &ev) < 0) {
        r = -errno;
        goto fail;
    }
    r = turn_alloc_new(&cfg, &pr->alloc);
    OPENSSL_cleanse(pass, sizeof(pass));
    if (r < 0)
        goto fail;
    return pr->connecting ? 0 : turn_alloc_start(pr->alloc, turn_now_us());
fail:
    close_probe_socket(pr);
    return r;
}

void turn_probe_finish(struct turn_probe *pr)
{
    turn_prober_dequeue(pr->p, pr);
    close_probe_socket(pr);
    turn_alloc_free(pr->alloc);
    pr->alloc = NULL;
    if (!pr->done) {
        pr->done = true;
        pr->srv->running--;
    }
}

/* RFC 8656 §7.4: a 437 to an Allocate means the server still holds an allocation on this
 * 5-tuple (a port the kernel handed out again while a released allocation lingers on the
 * server for a second): try again from another port. The old socket stays open until the new
 * one exists, so the kernel cannot give the same port back, unless that would pass the socket
 * cap: then it is closed first (the kernel picks a UDP client port at random, so the same one
 * is unlikely, and a third retry is left). Returns false if it cannot. */
static bool retry_fresh_port(struct turn_probe *pr)
{
    struct turn_prober *p = pr->p;
    int old_fd = pr->fd;
    bool ok;

    (void)epoll_ctl(p->epfd, EPOLL_CTL_DEL, old_fd, NULL);
    turn_alloc_free(pr->alloc);
    pr->alloc = NULL;
    pr->fd = -1;
    pr->fresh_ports++;
    pr->rlen = 0;
    if (turn_prober_at_cap(p)) {
        close(old_fd);
        turn_prober_socket_closed(p);
        old_fd = -1;
    }
    ok = probe_connect(pr) == 0;
    if (old_fd >= 0) {
        close(old_fd);
        turn_prober_socket_closed(p);
    }
    return ok;
}

/* RFC 8656 §7.4: follows ALTERNATE-SERVER (once) to info->alternate, or records why it
 * cannot. */
static void follow_redirect(struct turn_probe *pr, struct turn_alloc_info *info)
{
    struct turn_host_status *h = &pr->srv->work->hosts[pr->slot];
    char from[sizeof(h->address)];
    int r;

    memcpy(from, h->address, sizeof(from));
    snprintf(h->redirected_from, sizeof(h->redirected_from), "%s:%u", from, h->port);
    pr->redirected = true;
    close_probe_socket(pr);
    turn_alloc_free(pr->alloc);
    pr->alloc = NULL;
    pr->addr = info->alternate;
    turn_addr_text(&pr->addr, h->address, sizeof(h->address), &h->port);
    r = probe_connect(pr);
    if (r < 0) {
        info->state = TURN_ALLOC_FAILED;
        info->failure = turn_err_is_local(r) ? TURN_FAIL_LOCAL : TURN_FAIL_PORT_UNREACHABLE;
        snprintf(info->reason, sizeof(info->reason), "cannot reach the alternate server: %s",
                 strerror(-r));
        record(pr, info);
        turn_probe_finish(pr);
    }
}

void turn_probe_advance(struct turn_probe *pr, int64_t now_us)
{
    struct turn_alloc_info info;

    if (pr->done || !pr->alloc)
        return;
    turn_alloc_get_info(pr->alloc, &info);
    switch (info.state) {
    case TURN_ALLOC_READY:
        record(pr, &info);
        if (turn_alloc_release(pr->alloc, now_us) < 0)
            turn_probe_finish(pr);
        break;
    case TURN_ALLOC_REDIRECT:
        if (!pr->redirected) {
            follow_redirect(pr, &info);
            break;
        }
        info.failure = TURN_FAIL_PROTOCOL;
        snprintf(info.reason, sizeof(info.reason), "redirected a second time");
        __attribute__((fallthrough));
    case TURN_ALLOC_FAILED:
        if (info.failure == TURN_FAIL_MISMATCH && pr->fresh_ports < 3 && retry_fresh_port(pr))
            break;
        info.state = TURN_ALLOC_FAILED;
        record(pr, &info);
        turn_probe_finish(pr);
        break;
    case TURN_ALLOC_RELEASED:
        turn_probe_finish(pr);
        break;
    default:
        break;
    }
}

static void on_readable(struct turn_probe *pr, int64_t now_us)
{
    for (int i = 0; i < 16 && !pr->done && pr->fd >= 0; i++) { /* bounded: others get a turn */
        ssize_t n;

        if (!pr->tcp) {
            uint8_t buf[2048];

            n = recv(pr->fd, buf, sizeof(buf), 0);
            if (n > 0)
                turn_alloc_feed(pr->alloc, buf, (size_t)n, now_us);
        } else {
            n = recv(pr->fd, pr->rbuf + pr->rlen, sizeof(pr->rbuf) - pr->rlen, 0);
            if (n > 0) {
                long f;

                pr->rlen += (size_t)n;
                while ((f = stun_stream_frame_len(pr->rbuf, pr->rlen)) > 0 &&
                       (size_t)f <= pr->rlen) {
                    turn_alloc_feed(pr->alloc, pr->rbuf, (size_t)f, now_us);
                    memmove(pr->rbuf, pr->rbuf + f, pr->rlen - (size_t)f);
                    pr->rlen -= (size_t)f;
                }
                if (f < 0 || (size_t)f > sizeof(pr->rbuf))
                    turn_alloc_on_error(pr->alloc, -EPROTO); /* not TURN framing */
            } else if (n == 0) {
                turn_alloc_on_error(pr->alloc, -ECONNRESET);
            }
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                break;
            turn_alloc_on_error(pr->alloc, -errno); /* ICMP port unreachable: ECONNREFUSED */
        }
        turn_probe_advance(pr, now_us);
        if (n <= 0)
            break;
    }
}

void turn_probe_on_event(struct turn_probe *pr, uint32_t events, int64_t now_us)
{
    if (pr->connecting && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        int err = 0;
        socklen_t len = sizeof(err);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = pr};

        (void)getsockopt(pr->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        pr->connecting = false;
        (void)epoll_ctl(pr->p->epfd, EPOLL_CTL_MOD, pr->fd, &ev);
        if (err)
            turn_alloc_on_error(pr->alloc, -err);
        else if (turn_alloc_start(pr->alloc, now_us) < 0)
            turn_alloc_on_error(pr->alloc, -EIO);
        turn_probe_advance(pr, now_us);
        return;
    }
    on_readable(pr, now_us);
}

struct turn_probe *turn_probe_new(struct turn_prober *p, struct turn_srv *s,
                                  const struct sockaddr_storage *addr, uint16_t port, bool tcp)
{
    struct turn_probe *pr = calloc(1, sizeof(*pr));
    struct turn_host_status *h;

    if (!pr)
        return NULL;
    pr->p = p;
    pr->srv = s;
    pr->fd = -1;
    pr->tcp = tcp;
    pr->slot = s->work->nhosts++;
    pr->addr = *addr;
    if (pr->addr.ss_family == AF_INET)
        ((struct sockaddr_in *)&pr->addr)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)&pr->addr)->sin6_port = htons(port);
    h = &s->work->hosts[pr->slot];
    turn_addr_text(&pr->addr, h->address, sizeof(h->address), &h->port);
    h->tcp = tcp;
    h->rtt_us = -1;
    return pr;
}

/* Opens the probe's socket and starts its allocation, or records why it could not. */
void turn_probe_begin(struct turn_probe *pr)
{
    int r = probe_connect(pr);

    if (r < 0) { /* EMFILE and the like are ours, ECONNREFUSED and the like theirs */
        struct turn_alloc_info info = {
            .state = TURN_ALLOC_FAILED,
            .failure = turn_err_is_local(r) ? TURN_FAIL_LOCAL : TURN_FAIL_PORT_UNREACHABLE};

        snprintf(info.reason, sizeof(info.reason), "%s", strerror(-r));
        record(pr, &info);
        turn_probe_finish(pr);
    }
}
