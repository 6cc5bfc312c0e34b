/* scripts/bench/soakgen.c: the media side of scripts/soak.sh. Plays LEGS endpoints on
 * 127.0.0.1 (legs 2k and 2k+1 are the two legs of call k): writes their ports to DIR/ports,
 * waits for DIR/relays (one "ip port" line per leg, where the daemon's anchor relays that leg),
 * then sends RATE RTP-sized datagrams a second from every endpoint to its relay for SECONDS,
 * and receives what the other leg of its call sent. Prints a line a minute and a summary: sent,
 * received, lost, and how many of them this program's own sockets dropped (SO_RXQ_OVFL: its
 * receive buffers were full), which the soak does not count against the daemon.
 * Usage: soakgen DIR LEGS RATE SECONDS */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_LEGS 1000
#define PAYLOAD 172 /* RTP header + 160 bytes of G.711 */

struct leg {
    int fd;
    struct sockaddr_in relay;
    uint16_t seq;
    uint64_t sent, received, misordered;
    uint32_t overflows; /* SO_RXQ_OVFL: datagrams the kernel dropped for this socket */
    int32_t highest;    /* highest sequence received, -1 before the first */
};

static struct leg legs[MAX_LEGS];

static int64_t now_us(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int open_legs(const char *dir, int n)
{
    char path[512], tmp[512];
    FILE *f;

    (void)snprintf(tmp, sizeof(tmp), "%s/ports.tmp", dir);
    (void)snprintf(path, sizeof(path), "%s/ports", dir);
    f = fopen(tmp, "w");
    if (!f)
        return -1;
    for (int i = 0; i < n; i++) {
        struct sockaddr_in sa = {.sin_family = AF_INET};
        socklen_t len = sizeof(sa);
        int one = 1;

        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        legs[i].fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        if (legs[i].fd < 0 || bind(legs[i].fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
            getsockname(legs[i].fd, (struct sockaddr *)&sa, &len) < 0 ||
            setsockopt(legs[i].fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one)) < 0)
            return -1;
        legs[i].highest = -1;
        fprintf(f, "%u\n", ntohs(sa.sin_port));
    }
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, path);
}

/* Waits up to 300 s for DIR/relays with n lines. */
static int read_relays(const char *dir, int n)
{
    char path[512];

    (void)snprintf(path, sizeof(path), "%s/relays", dir);
    for (int t = 0; t < 3000; t++) {
        FILE *f = fopen(path, "r");
        int i = 0;

        if (!f) {
            (void)usleep(100 * 1000);
            continue;
        }
        for (char ip[64]; i < n; i++) {
            unsigned port;

            if (fscanf(f, "%63s %u", ip, &port) != 2 ||
                inet_pton(AF_INET, ip, &legs[i].relay.sin_addr) != 1)
                break;
            legs[i].relay.sin_family = AF_INET;
            legs[i].relay.sin_port = htons((uint16_t)port);
        }
        (void)fclose(f);
        return i == n ? 0 : -1;
    }
    return -1;
}

static void send_one(struct leg *l, uint32_t ssrc, uint32_t ts)
{
    uint8_t b[PAYLOAD] = {0x80, 0x00};

    b[2] = (uint8_t)(l->seq >> 8);
    b[3] = (uint8_t)l->seq;
    b[4] = (uint8_t)(ts >> 24), b[5] = (uint8_t)(ts >> 16), b[6] = (uint8_t)(ts >> 8);
    b[7] = (uint8_t)ts;
    b[8] = (uint8_t)(ssrc >> 24), b[9] = (uint8_t)(ssrc >> 16), b[10] = (uint8_t)(ssrc >> 8);
    b[11] = (uint8_t)ssrc;
    if (sendto(l->fd, b, sizeof(b), 0, (struct sockaddr *)&l->relay, sizeof(l->relay)) ==
        (ssize_t)sizeof(b)) {
        l->sent++;
        l->seq++;
    }
}

/* Reads everything waiting on l's socket. */
static void drain(struct leg *l)
{
    for (;;) {
        uint8_t b[2048];
        char cbuf[CMSG_SPACE(sizeof(uint32_t))];
        struct iovec iov = {b, sizeof(b)};
        struct msghdr mh = {
            .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
        ssize_t n = recvmsg(l->fd, &mh, 0);
        int32_t seq;

        if (n < 0)
            return;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL)
                memcpy(&l->overflows, CMSG_DATA(c), sizeof(l->overflows));
        if (n != PAYLOAD || b[0] != 0x80)
            continue;
        l->received++;
        seq = (int32_t)((b[2] << 8) | b[3]);
        if (l->highest >= 0 && (uint16_t)(seq - l->highest) > 0x8000)
            l->misordered++;
        else
            l->highest = seq;
    }
}

static void totals(int n, uint64_t *sent, uint64_t *received, uint64_t *overflows,
                   uint64_t *misordered)
{
    *sent = *received = *overflows = *misordered = 0;
    for (int i = 0; i < n; i++) {
        *sent += legs[i].sent;
        *received += legs[i].received;
        *overflows += legs[i].overflows;
        *misordered += legs[i].misordered;
    }
}

int main(int argc, char **argv)
{
    int n, rate, seconds;
    int64_t start, next_tick, next_report, tick_us;
    struct pollfd *pfd;
    uint64_t sent, received, overflows, misordered;
    uint32_t ts = 0;

    if (argc != 5 || (n = atoi(argv[2])) < 2 || n > MAX_LEGS || n % 2 ||
        (rate = atoi(argv[3])) < 1 || rate > 1000 || (seconds = atoi(argv[4])) < 1) {
        fprintf(stderr, "usage: soakgen DIR LEGS(even, <= %d) RATE SECONDS\n", MAX_LEGS);
        return 2;
    }
    if (open_legs(argv[1], n) < 0 || read_relays(argv[1], n) < 0) {
        fprintf(stderr, "soakgen: %s\n", errno ? strerror(errno) : "no relays file");
        return 1;
    }
    pfd = calloc((size_t)n, sizeof(*pfd));
    if (!pfd)
        return 1;
    for (int i = 0; i < n; i++)
        pfd[i] = (struct pollfd){legs[i].fd, POLLIN, 0};
    tick_us = 1000000 / rate;
    start = now_us();
    next_tick = start;
    next_report = start + 60 * 1000000LL;
    while (now_us() < start + (int64_t)seconds * 1000000) {
        int64_t t = now_us(), wait = next_tick - t;

        if (wait <= 0) { /* one datagram from every endpoint per tick, as audio frames go */
            for (int i = 0; i < n; i++)
                send_one(&legs[i], (uint32_t)i + 1, ts);
            ts += 160;
            next_tick += tick_us;
            continue;
        }
        if (poll(pfd, (nfds_t)n, (int)((wait + 999) / 1000)) > 0)
            for (int i = 0; i < n; i++)
                if (pfd[i].revents & POLLIN)
                    drain(&legs[i]);
        if (t >= next_report) {
            totals(n, &sent, &received, &overflows, &misordered);
            printf("soakgen: %3lld s  sent %llu  received %llu  own receive-buffer drops %llu\n",
                   (long long)((t - start) / 1000000), (unsigned long long)sent,
                   (unsigned long long)received, (unsigned long long)overflows);
            (void)fflush(stdout);
            next_report += 60 * 1000000LL;
        }
    }
    for (int64_t end = now_us() + 1000000; now_us() < end;) /* what is still on its way */
        if (poll(pfd, (nfds_t)n, 100) > 0)
            for (int i = 0; i < n; i++)
                if (pfd[i].revents & POLLIN)
                    drain(&legs[i]);
    totals(n, &sent, &received, &overflows, &misordered);
    printf("soakgen: legs %d, %d datagrams/s each, %d s: sent %llu, received %llu, lost %llu, "
           "of which this program's own receive buffers dropped %llu; misordered %llu\n",
           n, rate, seconds, (unsigned long long)sent, (unsigned long long)received,
           (unsigned long long)(sent - received), (unsigned long long)overflows,
           (unsigned long long)misordered);
    printf("soakgen: lost beyond the generator's own drops: %lld\n",
           (long long)(sent - received) - (long long)overflows);
    free(pfd);
    return 0;
}
