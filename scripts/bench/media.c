/* scripts/bench/media.c: the media anchor under load, with coturn in the path.
 * Usage: bench-media COTURN_PORT COTURN_PID [one-core]
 * A two-leg call through callbridge's anchor (the prober and media thread run in this process)
 * carries RTP-sized datagrams at rising rates; the receiver measures loss and one-way latency
 * (the send time travels in the payload). In the same run the same traffic goes through coturn
 * alone: one TURN client with a channel straight to the receiver, the latency baseline. CPU:
 * the media thread's own (pthread_getcpuclockid) per forwarded datagram, next to coturn's
 * (clock_getcpuclockid) per datagram it relays - through the anchor coturn relays each one twice.
 * Each rate runs ROUNDS times; the CPU figures are medians over the rounds. Then many two-leg
 * calls at once, at a phone's packet rate each way: set-up time, loss, latency, CPU and the
 * process's memory with every leg anchored. With one-core (media.sh runs the bench and coturn
 * under taskset -c 0) only the rates run, and the header says so. */
#include <arpa/inet.h>
#include <dirent.h>
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
#define ROUNDS 3 /* per rate: the CPU figures are medians, the ratio's range is shown */
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

/* Datagrams the kernel dropped because a socket's receive buffer was full, summed over the UDP
 * sockets process pid holds (the drops column of /proc/net/udp, matched by inode): where a loss
 * happened, when there is one. */
static long udp_drops(int pid)
{
    static const char *const tables[] = {"/proc/net/udp", "/proc/net/udp6"};
    char path[64], link[64], line[512];
    unsigned long inodes[4096];
    size_t n = 0;
    long drops = 0;
    struct dirent *e;
    DIR *d;

    snprintf(path, sizeof(path), "/proc/%d/fd", pid);
    d = opendir(path);
    while (d && (e = readdir(d)) && n < sizeof(inodes) / sizeof(inodes[0])) {
        char fd[320];
        ssize_t len;

        snprintf(fd, sizeof(fd), "%s/%s", path, e->d_name);
        len = readlink(fd, link, sizeof(link) - 1);
        if (len > 0) {
            link[len] = 0;
            if (sscanf(link, "socket:[%lu]", &inodes[n]) == 1)
                n++;
        }
    }
    if (d)
        closedir(d);
    for (size_t t = 0; t < 2; t++) {
        FILE *f = fopen(tables[t], "r");

        while (f && fgets(line, sizeof(line), f)) {
            unsigned long inode;
            long dropped;

            /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops */
            if (sscanf(line, "%*s %*s %*s %*s %*s %*s %*s %*s %*s %lu %*s %*s %ld", &inode,
                       &dropped) != 2)
                continue;
            for (size_t k = 0; k < n; k++)
                if (inodes[k] == inode)
                    drops += dropped;
        }
        if (f)
            fclose(f);
    }
    return drops;
}

/* When something was lost, says which receive buffers overflowed since own0/turn0. */
static void where_lost(int lost, long own0, long turn0, int coturn_pid)
{
    if (lost > 0)
        printf("  lost %d: full receive buffers dropped %ld in this process (the legs and the "
               "endpoints), %ld in coturn\n",
               lost, udp_drops(getpid()) - own0, udp_drops(coturn_pid) - turn0);
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
    bool asked; /* for the channel */
};

struct run {
    struct path *path;
    int rate;
    int sent;
    int64_t behind_ns; /* the furthest the sender fell behind its schedule */
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
        if (t - due > r->behind_ns)
            r->behind_ns = t - due; /* held up: what it owes now goes out in a burst */
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
    double behind_us; /* the furthest the sender fell behind, then sent what it owed at once */
};

/* Sends at rate for SECONDS along path and receives on rx_fd. */
static struct result measure(struct path *path, int rx_fd, int rate)
{
    static int64_t lat[200000];
    struct run r = {path, rate, 0, 0};
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
    res.behind_us = r.behind_ns / 1e3;
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

/* One try at an allocation with a channel to p->peer, from a fresh socket; true when ready. */
static bool direct_try(struct path *p, const struct sockaddr_in *server,
                       struct turn_alloc_info *info)
{
    struct turn_alloc_config cfg = {.username = "alice",
                                    .password = "secret",
                                    .max_stale_nonce = 3,
                                    .userdata = p,
                                    .send = direct_send};
    const struct sockaddr *peer = (const struct sockaddr *)&p->peer;
    struct sockaddr_in self;
    int64_t until = turn_now_us() + 5000000;

    turn_txn_config_rfc(&cfg.txn);
    p->fd = udp(&self);
    connect(p->fd, (const struct sockaddr *)server, sizeof(*server));
    turn_alloc_new(&cfg, &p->alloc);
    turn_alloc_start(p->alloc, turn_now_us());
    while (turn_now_us() < until && !turn_alloc_peer_ready(p->alloc, peer)) {
        usleep(1000);
        drive(p);
        turn_alloc_get_info(p->alloc, info);
        if (info->state == TURN_ALLOC_FAILED || info->state == TURN_ALLOC_REDIRECT)
            break;
        if (info->state == TURN_ALLOC_READY && !p->asked)
            p->asked = turn_alloc_add_peer(p->alloc, peer, 0x4000, turn_now_us()) == 0;
    }
    if (turn_alloc_peer_ready(p->alloc, peer))
        return true;
    turn_alloc_get_info(p->alloc, info);
    turn_alloc_free(p->alloc);
    p->alloc = NULL;
    p->asked = false;
    close(p->fd);
    return false;
}

/* A TURN client of our own with a channel to peer: the coturn-alone path. A 437 (the 5-tuple
 * still has an allocation: the port was a previous run's) is tried again from a fresh port,
 * as RFC 8656 section 7.2 has a client do. */
static void direct_path(struct path *p, unsigned short port, const struct sockaddr_in *peer)
{
    struct sockaddr_in server = {.sin_family = AF_INET, .sin_port = htons(port)};
    struct turn_alloc_info info = {0};

    server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    p->peer = *peer;
    for (int i = 0; i < 3; i++) {
        if (direct_try(p, &server, &info))
            return;
        if (info.error_code != 437)
            break;
    }
    fprintf(stderr, "bench-media: the coturn-alone path has no channel: %s (%d %s)\n",
            turn_failure_name(info.failure), info.error_code, info.reason);
    exit(1);
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
    long rss0 = status_kb("VmRSS:"), rss1, own0, turn0;
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
    own0 = udp_drops(getpid());
    turn0 = udp_drops(coturn_pid);
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
    where_lost(f.sent - n, own0, turn0, coturn_pid);
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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(v[0]), cmp_double);
    return v[n / 2];
}

/* One row: ROUNDS runs through the anchor, each with the media thread's and coturn's CPU over
 * the same window, then the same traffic through coturn alone. Loss adds up over the rounds;
 * p50 is the median round's, p99 the worst round's. */
static void rate_rounds(struct media *media, int coturn_pid, struct path *anchor,
                        struct path *alone, int rx_fd, int rate)
{
    double ours[ROUNDS], theirs[ROUNDS], ratio[ROUNDS], p50[ROUNDS], p99 = 0, behind = 0, mid;
    int sent = 0, received = 0;
    long own0 = udp_drops(getpid()), turn0 = udp_drops(coturn_pid);
    struct result base;

    for (int r = 0; r < ROUNDS; r++) {
        int64_t m0 = media_cpu_ns(media), c0 = proc_cpu_ns(coturn_pid);
        struct result via = measure(anchor, rx_fd, rate);
        int64_t m1 = media_cpu_ns(media), c1 = proc_cpu_ns(coturn_pid);
        int n = via.received ? via.received : 1;

        sent += via.sent;
        received += via.received;
        p50[r] = via.p50_us;
        if (via.p99_us > p99) {
            p99 = via.p99_us;
            behind = via.behind_us;
        }
        ours[r] = (double)(m1 - m0) / 1e3 / n;
        theirs[r] = (double)(c1 - c0) / 1e3 / (2.0 * n); /* coturn relays each one twice */
        ratio[r] = theirs[r] > 0 ? ours[r] / theirs[r] : 0;
    }
    base = measure(alone, rx_fd, rate);
    mid = median(ratio, ROUNDS); /* sorts: ratio[0] is the least, ratio[ROUNDS - 1] the most */
    printf("  %8d %9d %6.2f%% %8.0f %8.0f %13.0f %14.2f %16.2f %8.2f (%.2f-%.2f)\n", rate, received,
           100.0 * (sent - received) / (sent ? sent : 1), median(p50, ROUNDS), p99, base.p99_us,
           median(ours, ROUNDS), median(theirs, ROUNDS), mid, ratio[0], ratio[ROUNDS - 1]);
    if (p99 > 1000)
        printf("  p99 over 1 ms: in that round the sender fell up to %.1f ms behind its schedule, "
               "then sent what it owed at once\n",
               behind / 1e3);
    where_lost(sent - received, own0, turn0, coturn_pid);
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
    bool one_core;

    if (argc != 3 && !(argc == 4 && strcmp(argv[3], "one-core") == 0))
        return 2;
    one_core = argc == 4;
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

    printf("media: %d-byte datagrams, one two-leg call, coturn in the path, %d rounds of %d s per "
           "rate%s\n",
           DGRAM, ROUNDS, SECONDS,
           one_core ? "; everything on one core (no cross-core wake-ups: the work per datagram)"
                    : "");
    printf("  %8s %9s %7s %8s %8s %13s %14s %16s %16s\n", "rate/s", "received", "loss", "p50 us",
           "p99 us", "alone p99 us", "ours us/dgram", "coturn us/dgram", "ratio (min-max)");
    for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++)
        rate_rounds(media, coturn_pid, &anchor, &alone, fb, rates[i]);
    if (one_core)
        goto out;
    many_calls(media, coturn_pid);
out:
    (void)turn_alloc_release(alone.alloc, turn_now_us()); /* not left for the next run to meet */
    media_stop(media);
    turn_prober_stop(prober);
    return 0;
}
