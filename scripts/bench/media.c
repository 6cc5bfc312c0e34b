/* scripts/bench/media.c: the media anchor under load, with coturn in the path.
 * Usage: bench-media COTURN_PORT COTURN_PID
 * A two-leg call through callbridge's anchor (the prober and media thread run in this process)
 * carries RTP-sized datagrams at rising rates; the receiver measures loss and one-way latency
 * (the send time travels in the payload). In the same run the same traffic goes through coturn
 * alone: one TURN client with a channel straight to the receiver, the latency baseline. CPU:
 * the media thread's own (pthread_getcpuclockid) per forwarded datagram, next to coturn's
 * (clock_getcpuclockid) per datagram it relays - through the anchor coturn relays each one twice.
 * Then many two-leg calls at once, at a phone's packet rate each way: set-up time, loss, latency,
 * CPU and the process's memory with every leg anchored. */
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "media/media.h"
#include "turnclient/turnclient.h"

#define SECONDS 2
#define DGRAM 172
#define CALLS 500
#define CALL_PPS 50 /* each way: 20 ms packetisation */
#define CALL_SECONDS 5

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Sleeps until due (CLOCK_MONOTONIC, ns) without spinning - a spinning sender would take a
 * core from the receiver, coturn and the media thread - and returns the time it woke. */
static int64_t pace(int64_t due)
{
    struct timespec ts = {.tv_sec = due / 1000000000, .tv_nsec = due % 1000000000};

    if (now_ns() < due)
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    return now_ns();
}

/* coturn's CPU time, all its threads, from the scheduler's own accounting (the clock of another
 * process): exact, where /proc/PID/stat's utime and stime are tick samples. */
static int64_t proc_cpu_ns(int pid)
{
    struct timespec ts;
    clockid_t cid;

    if (clock_getcpuclockid(pid, &cid) != 0 || clock_gettime(cid, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int udp(struct sockaddr_in *ret)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_DGRAM, 0), big = 4 << 20;

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    bind(fd, (struct sockaddr *)&sin, sizeof(sin));
    getsockname(fd, (struct sockaddr *)&sin, &len);
    *ret = sin;
    return fd;
}

/* ---- traffic ------------------------------------------------------------------------------ */

/* How a datagram gets sent: straight to an address, or through a TURN client. */
struct path {
    int fd;
    struct sockaddr_in to;    /* plain: the relayed address of the anchor's leg */
    struct turn_alloc *alloc; /* coturn alone: ChannelData to this peer */
    struct sockaddr_in peer;
};

struct run {
    struct path *path;
    int rate;
    int sent;
};

static void drive(struct path *p)
{
    uint8_t buf[2048];
    ssize_t n;

    while ((n = recv(p->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
        turn_alloc_feed(p->alloc, buf, (size_t)n, turn_now_us());
    if (turn_alloc_next_deadline(p->alloc) <= turn_now_us())
        turn_alloc_on_timer(p->alloc, turn_now_us());
}

static void *sender(void *arg)
{
    struct run *r = arg;
    int64_t start = now_ns(), gap = 1000000000LL / r->rate;
    uint8_t pkt[DGRAM] = {0x80, 96};

    for (int i = 0; i < r->rate * SECONDS; i++) {
        int64_t due = start + i * gap, t;

        t = pace(due);
        memcpy(pkt + 12, &t, sizeof(t));
        memcpy(pkt + 20, &i, sizeof(i));
        if (r->path->alloc) {
            drive(r->path);
            turn_alloc_send(r->path->alloc, (struct sockaddr *)&r->path->peer, pkt, DGRAM);
        } else {
            sendto(r->path->fd, pkt, DGRAM, 0, (struct sockaddr *)&r->path->to,
                   sizeof(r->path->to));
        }
        r->sent++;
    }
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

struct result {
    int sent, received;
    double p50_us, p99_us;
};

/* Sends at rate for SECONDS along path and receives on rx_fd. */
static struct result measure(struct path *path, int rx_fd, int rate)
{
    static int64_t lat[200000];
    struct run r = {path, rate, 0};
    struct result res = {0};
    pthread_t t;
    int n = 0;

    pthread_create(&t, NULL, sender, &r);
    for (;;) {
        struct pollfd pfd = {rx_fd, POLLIN, 0};
        uint8_t buf[2048];
        int64_t sent_at;

        if (poll(&pfd, 1, 300) != 1)
            break;
        if (recv(rx_fd, buf, sizeof(buf), 0) != DGRAM)
            continue;
        memcpy(&sent_at, buf + 12, sizeof(sent_at));
        if (n < (int)(sizeof(lat) / sizeof(lat[0])))
            lat[n] = now_ns() - sent_at;
        n++;
    }
    pthread_join(t, NULL);
    res.sent = r.sent;
    res.received = n;
    if (n > 0) {
        qsort(lat, (size_t)n, sizeof(lat[0]), cmp);
        res.p50_us = lat[n / 2] / 1e3;
        res.p99_us = lat[(int)(n * 0.99)] / 1e3;
    }
    return res;
}

/* ---- set-up ------------------------------------------------------------------------------- */

static sem_t probed;

static void on_probed(void *ctx)
{
    (void)ctx;
    sem_post(&probed);
}

static struct sockaddr_in relayed_of(struct media *m, const char *leg)
{
    struct media_leg_status st = {0};
    struct sockaddr_in sin = {.sin_family = AF_INET};

    for (int i = 0; i < 200; i++) {
        if (media_leg_get(m, leg, &st) == 0 && st.state == MEDIA_LEG_CONNECTED)
            break;
        usleep(25 * 1000);
    }
    if (st.state != MEDIA_LEG_CONNECTED) {
        fprintf(stderr, "bench-media: %s did not connect: %s\n", leg, st.reason);
        exit(1);
    }
    inet_pton(AF_INET, st.relayed, &sin.sin_addr);
    sin.sin_port = htons(st.relayed_port);
    return sin;
}

static int direct_send(void *userdata, const uint8_t *buf, size_t len)
{
    const struct path *p = userdata;

    return send(p->fd, buf, len, 0) < 0 ? -1 : 0;
}

/* A TURN client of our own with a channel to peer: the coturn-alone path. */
static void direct_path(struct path *p, unsigned short port, const struct sockaddr_in *peer)
{
    struct turn_alloc_config cfg = {
        .username = "alice", .password = "secret", .max_stale_nonce = 3, .userdata = p};
    struct sockaddr_in server = {.sin_family = AF_INET, .sin_port = htons(port)};
    struct sockaddr_in self;
    int64_t until = turn_now_us() + 5000000;

    cfg.send = direct_send;
    turn_txn_config_rfc(&cfg.txn);
    server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    p->fd = udp(&self);
    connect(p->fd, (struct sockaddr *)&server, sizeof(server));
    p->peer = *peer;
    turn_alloc_new(&cfg, &p->alloc);
    turn_alloc_start(p->alloc, turn_now_us());
    while (turn_now_us() < until) {
        struct turn_alloc_info info;

        usleep(1000);
        drive(p);
        turn_alloc_get_info(p->alloc, &info);
        if (info.state == TURN_ALLOC_READY &&
            !turn_alloc_peer_ready(p->alloc, (const struct sockaddr *)peer)) {
            turn_alloc_add_peer(p->alloc, (const struct sockaddr *)peer, 0x4000, turn_now_us());
            while (turn_now_us() < until &&
                   !turn_alloc_peer_ready(p->alloc, (const struct sockaddr *)peer)) {
                usleep(1000);
                drive(p);
            }
            return;
        }
    }
}

/* ---- many calls --------------------------------------------------------------------------- */

/* The process's resident set, or its peak, in kB (field "VmRSS:" or "VmHWM:"). */
static long status_kb(const char *field)
{
    char line[256];
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");

    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, field, strlen(field)) == 0)
            kb = atol(line + strlen(field));
    if (f)
        fclose(f);
    return kb;
}

struct fleet {
    int fd[2 * CALLS];
    struct sockaddr_in relayed[2 * CALLS];
    int sent;
};

/* Every leg sends CALL_PPS datagrams a second to its relayed address, the legs' sends spread
 * evenly over each period; the anchor forwards each to the call's other leg. */
static void *fleet_sender(void *arg)
{
    struct fleet *f = arg;
    int total = 2 * CALLS * CALL_PPS * CALL_SECONDS;
    int64_t start = now_ns(), gap = 1000000000LL / (2 * CALLS * CALL_PPS);
    uint8_t pkt[DGRAM] = {0x80, 0};

    for (int i = 0; i < total; i++) {
        int leg = i % (2 * CALLS);
        int64_t due = start + i * gap, t;

        t = pace(due);
        memcpy(pkt + 12, &t, sizeof(t));
        if (sendto(f->fd[leg], pkt, DGRAM, 0, (struct sockaddr *)&f->relayed[leg],
                   sizeof(f->relayed[leg])) == DGRAM)
            f->sent++;
    }
    return NULL;
}

static void many_calls(struct media *media, int coturn_pid)
{
    static struct fleet f;
    static int64_t lat[2 * CALLS * CALL_PPS * CALL_SECONDS];
    long rss0 = status_kb("VmRSS:"), rss1;
    int64_t t0 = now_ns(), setup_ns, m0, c0, m1, c1;
    int ep = epoll_create1(0), n = 0;
    pthread_t t;

    for (int i = 0; i < 2 * CALLS; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = 0};
        struct sockaddr_in self;
        char call[32], leg[32];

        f.fd[i] = udp(&self);
        ev.data.fd = f.fd[i];
        epoll_ctl(ep, EPOLL_CTL_ADD, f.fd[i], &ev);
        snprintf(call, sizeof(call), "many-%d", i / 2);
        snprintf(leg, sizeof(leg), "many-%d-%c", i / 2, i % 2 ? 'b' : 'a');
        media_leg_add(media, call, leg, (struct sockaddr *)&self);
    }
    for (int i = 0; i < 2 * CALLS; i++) {
        char leg[32];

        snprintf(leg, sizeof(leg), "many-%d-%c", i / 2, i % 2 ? 'b' : 'a');
        f.relayed[i] = relayed_of(media, leg);
    }
    setup_ns = now_ns() - t0;
    rss1 = status_kb("VmRSS:");
    m0 = media_cpu_ns(media);
    c0 = proc_cpu_ns(coturn_pid);
    pthread_create(&t, NULL, fleet_sender, &f);
    for (;;) {
        struct epoll_event evs[64];
        int k = epoll_wait(ep, evs, 64, 500);

        if (k <= 0)
            break;
        for (int j = 0; j < k; j++) {
            uint8_t buf[2048];
            int64_t sent_at;

            while (recv(evs[j].data.fd, buf, sizeof(buf), MSG_DONTWAIT) == DGRAM) {
                memcpy(&sent_at, buf + 12, sizeof(sent_at));
                if (n < (int)(sizeof(lat) / sizeof(lat[0])))
                    lat[n] = now_ns() - sent_at;
                n++;
            }
        }
    }
    pthread_join(t, NULL);
    m1 = media_cpu_ns(media);
    c1 = proc_cpu_ns(coturn_pid);
    qsort(
        lat,
        (size_t)(n < (int)(sizeof(lat) / sizeof(lat[0])) ? n : (int)(sizeof(lat) / sizeof(lat[0]))),
        sizeof(lat[0]), cmp);
    printf("media: %d two-leg calls, %d datagrams/s each way per call, %d s (%d datagrams/s in "
           "all)\n",
           CALLS, CALL_PPS, CALL_SECONDS, 2 * CALLS * CALL_PPS);
    printf("  %d legs anchored in %.2f s; sent %d, received %d, loss %.2f%%; p50 %.0f us, p99 "
           "%.0f us\n",
           2 * CALLS, setup_ns / 1e9, f.sent, n, 100.0 * (f.sent - n) / (f.sent ? f.sent : 1),
           n ? lat[n / 2] / 1e3 : 0, n ? lat[(int)(n * 0.99)] / 1e3 : 0);
    printf("  media thread %.2f us/dgram, coturn %.2f us per relayed dgram\n",
           n ? (m1 - m0) / 1e3 / n : 0, n ? (c1 - c0) / 1e3 / (2.0 * n) : 0);
    printf("  process RSS %.1f MB before the legs, %.1f MB with %d legs (peak %.1f MB); this "
           "counts the bench's own %d sockets too\n",
           rss0 / 1024.0, rss1 / 1024.0, 2 * CALLS, status_kb("VmHWM:") / 1024.0, 2 * CALLS);
    for (int i = 0; i < 2 * CALLS; i++) {
        char leg[32];

        snprintf(leg, sizeof(leg), "many-%d-%c", i / 2, i % 2 ? 'b' : 'a');
        media_leg_remove(media, leg);
        close(f.fd[i]);
    }
    close(ep);
}

int main(int argc, char **argv)
{
    static const int rates[] = {5000, 10000, 20000};
    struct turn_prober_config pc = {.interval_us = 3600LL * 1000000, .resolver_threads = 1};
    struct turn_server_spec spec = {.id = "bench", .host = "127.0.0.1"};
    struct media_config mc = {0};
    struct sockaddr_in a, b, ra;
    struct turn_prober *prober;
    struct media *media;
    struct path anchor = {0}, alone = {0};
    struct timespec until;
    int fb, coturn_pid;

    if (argc != 3)
        return 2;
    coturn_pid = atoi(argv[2]);
    sem_init(&probed, 0, 0);
    turn_txn_config_rfc(&pc.txn);
    turn_prober_start(&pc, &prober);
    spec.port = (uint16_t)atoi(argv[1]);
    snprintf(spec.username, sizeof(spec.username), "alice");
    snprintf(spec.password, sizeof(spec.password), "secret");
    turn_prober_set(prober, &spec);
    turn_prober_wait(prober, "bench", turn_now_us() + 5000000, on_probed, NULL);
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 6;
    sem_timedwait(&probed, &until);
    mc.prober = prober;
    media_start(&mc, &media);
    anchor.fd = udp(&a);
    fb = udp(&b);
    media_leg_add(media, "bench-call", "leg-a", (struct sockaddr *)&a);
    media_leg_add(media, "bench-call", "leg-b", (struct sockaddr *)&b);
    ra = relayed_of(media, "leg-a");
    (void)relayed_of(media, "leg-b");
    anchor.to = ra;
    direct_path(&alone, spec.port, &b);

    printf("media: %d-byte datagrams for %d s per rate, one two-leg call, coturn in the path\n",
           DGRAM, SECONDS);
    printf("  %8s %9s %7s %11s %11s %13s %13s %14s\n", "rate/s", "received", "loss", "p50 us",
           "p99 us", "alone p99 us", "ours us/dgram", "coturn us/dgram");
    for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
        int64_t m0 = media_cpu_ns(media), c0 = proc_cpu_ns(coturn_pid), m1, c1;
        struct result via = measure(&anchor, fb, rates[i]), base;

        m1 = media_cpu_ns(media);
        c1 = proc_cpu_ns(coturn_pid);
        base = measure(&alone, fb, rates[i]);
        printf("  %8d %9d %6.2f%% %11.0f %11.0f %13.0f %13.2f %14.2f\n", rates[i], via.received,
               100.0 * (via.sent - via.received) / (via.sent ? via.sent : 1), via.p50_us,
               via.p99_us, base.p99_us, via.received ? (m1 - m0) / 1e3 / via.received : 0,
               via.received ? (c1 - c0) / 1e3 / (2.0 * via.received) : 0);
    }
    many_calls(media, coturn_pid);
    media_stop(media);
    turn_prober_stop(prober);
    return 0;
}
