/* media/wire.c: what several files of the media thread share: an address as text, two
 * addresses compared, a datagram sent to a guest's browser (through its leg's allocation, or
 * from its host candidate), and the word to the guest signalling (an offer, the end of a leg). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "media/rtc.h"

const char *media_addr_text(const void *sa, char *host, size_t cap, unsigned *ret_port)
{
    const struct sockaddr_in *in = sa;
    const struct sockaddr_in6 *in6 = sa;

    host[0] = '\0';
    *ret_port = 0;
    if (in->sin_family == AF_INET) {
        inet_ntop(AF_INET, &in->sin_addr, host, (socklen_t)cap);
        *ret_port = ntohs(in->sin_port);
    } else if (in6->sin6_family == AF_INET6) {
        inet_ntop(AF_INET6, &in6->sin6_addr, host, (socklen_t)cap);
        *ret_port = ntohs(in6->sin6_port);
    }
    return host;
}

bool media_same_address(const struct sockaddr_storage *a, const struct sockaddr *b)
{
    if (a->ss_family != b->sa_family)
        return false;
    if (b->sa_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

        return x->sin_addr.s_addr == y->sin_addr.s_addr && x->sin_port == y->sin_port;
    }
    {
        const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

        return memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0 && x->sin6_port == y->sin6_port;
    }
}

int media_rtc_send_to(struct media_leg *l, bool host, const struct sockaddr *addr,
                      const uint8_t *data, size_t len)
{
    if (!host)
        return l->alloc ? turn_alloc_send(l->alloc, addr, data, len) : -ENOTCONN;
    if (l->host_fd < 0)
        return -ENOTCONN;
    if (sendto(l->host_fd, data, len, MSG_NOSIGNAL, addr,
               addr->sa_family == AF_INET ? sizeof(struct sockaddr_in)
                                          : sizeof(struct sockaddr_in6)) < 0 &&
        errno != EAGAIN)
        return -errno;
    return 0;
}

int media_rtc_send(struct media_leg *l, const uint8_t *data, size_t len)
{
    if (!l->rtc->have_peer)
        return -ENOTCONN;
    return media_rtc_send_to(l, l->rtc->peer_host, (const struct sockaddr *)&l->rtc->peer, data,
                             len);
}

void media_rtc_signal(struct media_leg *l, enum media_rtc_signal kind, const char *text,
                      bool reconnect)
{
    if (l->m->cfg.rtc_signal)
        l->m->cfg.rtc_signal(l->m->cfg.rtc_userdata, l->id, kind, text, reconnect);
}

void media_rtc_end(struct media_leg *l, const char *why, bool reconnect)
{
    struct media_rtc *r = l->rtc;

    if (r->ended)
        return;
    r->ended = true;
    media_leg_publish(l, MEDIA_LEG_FAILED, why);
    base_logf(&l->m->cfg.log, BASE_LOG_INFO, "callLeg %s (%s): ended: %s", l->id, r->name, why);
    media_rtc_signal(l, MEDIA_RTC_END, why, reconnect);
}
