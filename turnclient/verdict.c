/* turnclient/verdict.c: what one probe's outcome says, with no socket and no lock: the sentence an
 * administrator reads for a failure (what failed, what to check), and the history that outlives
 * a probe cycle, a host's RTT smoothed over cycles (RFC 6298: srtt += (sample - srtt) / 8) and
 * its probe counts. */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "turnclient/prober_int.h"

/* A probe that could not run here: the sentence names the local limit, since the remedy is on
 * this host (descriptors: the leg budget and LimitNOFILE=), not on the TURN server. */
static void describe_local(struct turn_host_status *h, const char *reason)
{
    struct rlimit rl;
    char limit[48] = "";

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        snprintf(limit, sizeof(limit), "; RLIMIT_NOFILE %llu", (unsigned long long)rl.rlim_cur);
    snprintf(h->detail, sizeof(h->detail),
             "callbridged could not open a socket to probe this host (%.60s%s): a limit of this "
             "host, not of the TURN server, which was not tried; %s; raise LimitNOFILE= (ulimit "
             "-n) or lower --max-legs",
             reason, limit, h->reachable ? "its last result is kept" : "it has no earlier result");
}

void turn_describe(struct turn_host_status *h, const struct turn_alloc_info *info,
                   int64_t budget_us)
{
    const char *proto = h->tcp ? "TCP" : "UDP";
    double budget = budget_us / 1e6;
    char reason[sizeof(info->reason)], address[sizeof(h->address)];

    memcpy(reason, info->reason, sizeof(reason)); /* copies: they share memory with *h in */
    memcpy(address, h->address, sizeof(address)); /* the compiler's view (-Wrestrict) */

    switch (h->failure) {
    case TURN_FAIL_TIMEOUT:
        snprintf(h->detail, sizeof(h->detail),
                 "no answer from %s port %u/%s within %.1f s: check that the TURN server runs and "
                 "that firewalls let %s %u through",
                 address, h->port, proto, budget, proto, h->port);
        break;
    case TURN_FAIL_PORT_UNREACHABLE:
        snprintf(h->detail, sizeof(h->detail),
                 "%s refused %s port %u (%s): nothing listens there; check the port in "
                 "serverAddress or tcpPortNumberOverride",
                 address, proto, h->port, reason);
        break;
    case TURN_FAIL_UNAUTHORIZED:
        snprintf(h->detail, sizeof(h->detail),
                 "401 Unauthorized after credentials: check the username and password configured "
                 "on the TURN server");
        break;
    case TURN_FAIL_INTEGRITY:
        snprintf(h->detail, sizeof(h->detail),
                 "431 Integrity Check Failure, as Expressway answers a wrong password: check the "
                 "TURN username and password");
        break;
    case TURN_FAIL_WRONG_CREDENTIALS:
        snprintf(h->detail, sizeof(h->detail),
                 "%d %s: the server refuses these credentials (a wrong realm or username?)",
                 info->error_code, reason);
        break;
    case TURN_FAIL_QUOTA:
        snprintf(h->detail, sizeof(h->detail),
                 "486 Allocation Quota Reached: this TURN user has as many allocations as the "
                 "server allows; raise the quota or use another user");
        break;
    case TURN_FAIL_CAPACITY:
        snprintf(h->detail, sizeof(h->detail),
                 "508 Insufficient Capacity: the TURN server has no relay ports left");
        break;
    case TURN_FAIL_FORBIDDEN:
        snprintf(h->detail, sizeof(h->detail), "403 Forbidden: the TURN server refuses us (%s)",
                 reason);
        break;
    case TURN_FAIL_MISMATCH:
        snprintf(h->detail, sizeof(h->detail), "437 Allocation Mismatch (%s)", reason);
        break;
    case TURN_FAIL_SERVER_ERROR:
        snprintf(h->detail, sizeof(h->detail), "%d %s: the TURN server reports an error",
                 info->error_code, reason);
        break;
    case TURN_FAIL_LOCAL:
        describe_local(h, reason);
        break;
    default:
        if (info->error_code)
            snprintf(h->detail, sizeof(h->detail),
                     "the server did not answer as a TURN server should (%d %s)", info->error_code,
                     reason);
        else
            snprintf(h->detail, sizeof(h->detail),
                     "the server did not answer as a TURN server should (%s)", reason);
    }
}

int64_t turn_srtt_update(int64_t srtt_us, int64_t sample_us)
{
    return srtt_us < 0 ? sample_us : srtt_us + (sample_us - srtt_us) / 8;
}

struct turn_rtt_entry *turn_history_of(struct turn_rtt_entry *v, size_t *n, size_t cap,
                                       const struct turn_host_status *h)
{
    char key[64];

    snprintf(key, sizeof(key), "%s|%u|%d", h->address, h->port, h->tcp);
    for (size_t i = 0; i < *n; i++)
        if (strcmp(v[i].key, key) == 0)
            return &v[i];
    if (*n == cap)
        return NULL;
    memset(&v[*n], 0, sizeof(v[0]));
    snprintf(v[*n].key, sizeof(v[0].key), "%s", key);
    v[*n].srtt_us = -1;
    return &v[(*n)++];
}
