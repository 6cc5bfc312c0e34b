/* media/rtc_host.c: a WebRTC leg's host candidate: a UDP socket of its own on --host-candidate's
 * address (an ephemeral port), offered beside the relayed candidate, so that a browser that can
 * reach callbridged directly (the same LAN, a deployment without TURN) needs no TURN server. Its
 * datagrams go to rtc_path.c as the relay's do, marked as having come on the host candidate.
 * Media thread only.
 *
 * DESIGN: a socket per leg, as a relay is an allocation per leg: the leg is known by the
 * socket, not by the STUN USERNAME of a shared port, so media from a valid pair needs no lookup
 * and a stranger's datagrams reach only the one leg whose port they hit. The port is the
 * kernel's ephemeral one (net.ipv4.ip_local_port_range); the firewall opens that range. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "media/rtc.h"

#define HOST_BATCH 64 /* datagrams per wake-up: other legs get their turn */

static socklen_t sa_len(int family)
{
    return family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static void set_port(struct sockaddr_storage *a, uint16_t port_be)
{
    if (a->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)a)->sin6_port = port_be;
    else
        ((struct sockaddr_in *)a)->sin_port = port_be;
}

int media_rtc_host_open(struct media_leg *l)
{
    const struct media_config *cfg = &l->m->cfg;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &l->host_ep};
    struct sockaddr_storage bound;
    socklen_t blen = sizeof(bound);
    int fd, e;

    if (cfg->host_bind.ss_family == AF_UNSPEC)
        return 0;
    fd = socket(cfg->host_bind.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (bind(fd, (const struct sockaddr *)&cfg->host_bind, sa_len(cfg->host_bind.ss_family)) < 0 ||
        getsockname(fd, (struct sockaddr *)&bound, &blen) < 0 ||
        epoll_ctl(l->m->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        e = -errno;
        close(fd);
        return e;
    }
    l->host_fd = fd;
    l->host_ep.leg = l;
    l->host_ep.host = true;
    l->rtc->host_cand = cfg->host_public;
    set_port(&l->rtc->host_cand, bound.ss_family == AF_INET6
                                     ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                     : ((struct sockaddr_in *)&bound)->sin_port);
    return 0;
}

void media_rtc_host_on_readable(struct media_leg *l, int64_t now)
{
    uint8_t buf[2048];

    for (int i = 0; i < HOST_BATCH && l->host_fd >= 0 && l->rtc; i++) {
        struct sockaddr_storage from;
        socklen_t flen = sizeof(from);
        ssize_t n = recvfrom(l->host_fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);

        if (n < 0)
            break; /* EAGAIN; an ICMP error (ECONNREFUSED) is for a datagram long gone */
        if (from.ss_family != AF_INET && from.ss_family != AF_INET6)
            continue;
        media_rtc_on_datagram(l, buf, (size_t)n, (const struct sockaddr *)&from, true, now);
    }
}

void media_rtc_host_close(struct media_leg *l)
{
    if (l->host_fd < 0)
        return;
    (void)epoll_ctl(l->m->epfd, EPOLL_CTL_DEL, l->host_fd, NULL);
    close(l->host_fd);
    l->host_fd = -1;
}
