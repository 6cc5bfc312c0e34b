/* scripts/bench/prober.c: one probe cycle over N TURN servers, against the coturn instances
 * named on the command line, in the same run as a cycle over a single server.
 * Usage: bench-prober N PORT...   Prints wall time per cycle, prober CPU per probe (the whole
 * process's user + system time, which covers the prober and resolver threads), RSS growth, and
 * how many servers were reachable. */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "turnclient/turnclient.h"

static sem_t done;

static void on_done(void *ctx)
{
    (void)ctx;
    sem_post(&done);
}

static double cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static long rss_kb(void)
{
    char line[256];
    long kb = 0;
    FILE *f = fopen("/proc/self/status", "r");

    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

/* Probes n servers (ids prefix-i, spread over ports) once; returns wall seconds. */
static double cycle(struct turn_prober *p, const char *prefix, int n, char **ports, int nports,
                    int *ret_reachable)
{
    struct timespec a, b;
    int reachable = 0, told = 0;

    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < n; i++) {
        struct turn_server_spec s = {0};

        snprintf(s.id, sizeof(s.id), "%s-%d", prefix, i);
        snprintf(s.host, sizeof(s.host), "127.0.0.1");
        s.port = (uint16_t)atoi(ports[i % nports]);
        snprintf(s.username, sizeof(s.username), "alice");
        snprintf(s.password, sizeof(s.password), "secret");
        turn_prober_set(p, &s);
        turn_prober_wait(p, s.id, turn_now_us() + 30 * 1000000, on_done, NULL);
    }
    for (int i = 0; i < n; i++)
        sem_wait(&done);
    clock_gettime(CLOCK_MONOTONIC, &b);
    for (int i = 0; i < n; i++) {
        struct turn_server_status st;
        char id[40];

        snprintf(id, sizeof(id), "%s-%d", prefix, i);
        if (turn_prober_get(p, id, &st) == 0 && st.nhosts == 1 && st.hosts[0].reachable)
            reachable++;
        else if (told++ < 3) /* say why, for the first few */
            fprintf(stderr, "bench-prober: %s: %s\n", id,
                    st.nhosts ? st.hosts[0].detail : st.dns_detail);
    }
    *ret_reachable = reachable;
    return (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
}

int main(int argc, char **argv)
{
    struct turn_prober_config cfg = {.interval_us = 3600LL * 1000000, .resolver_threads = 2};
    struct turn_prober *p;
    double t1, tn, c0, c1, c2;
    long rss0, rss1;
    int n, ok1, okn;

    if (argc < 3)
        return 2;
    n = atoi(argv[1]);
    sem_init(&done, 0, 0);
    turn_txn_config_rfc(&cfg.txn);
    cfg.txn.max_sends = 4;
    cfg.txn.last_wait = 4;
    cfg.txn.budget_us = 5 * 1000000;
    if (turn_prober_start(&cfg, &p) < 0)
        return 1;
    c0 = cpu_s();
    t1 = cycle(p, "one", 1, argv + 2, argc - 2, &ok1);
    c1 = cpu_s();
    rss0 = rss_kb();
    tn = cycle(p, "many", n, argv + 2, argc - 2, &okn);
    c2 = cpu_s();
    rss1 = rss_kb();
    printf("prober: one cycle over 1 server: %.1f ms (%d reachable), CPU %.3f ms\n", t1 * 1e3, ok1,
           (c1 - c0) * 1e3);
    printf("prober: one cycle over %d servers: %.1f ms (%d reachable), ratio %.1fx the single "
           "server's\n",
           n, tn * 1e3, okn, tn / t1);
    printf("prober: CPU per probe %.3f ms (target < 1 ms); RSS growth %.1f MB (target < 20 MB); "
           "%d servers in %.2f s (target < 1 s): %s\n",
           (c2 - c1) * 1e3 / n, (rss1 - rss0) / 1024.0, n, tn,
           tn < 1.0 && (c2 - c1) * 1e3 / n < 1.0 && (rss1 - rss0) < 20 * 1024 ? "met" : "MISSED");
    turn_prober_stop(p);
    return okn == n ? 0 : 1;
}
