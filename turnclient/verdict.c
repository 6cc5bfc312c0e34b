/* turnclient/verdict.c: what one probe's outcome says, with no socket and no lock: the sentence an
 * administrator reads for a failure (what failed, what to check), and the history that outlives
 * a probe cycle, a host's RTT smoothed over cycles (RFC 6298: srtt += (sample - srtt) / 8) and
 * its probe counts. */
#include <stdbool.h>
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

/* The sentence for a failure the server answered: head, then the STUN error code and the
 * reason phrase when asked for, then tail. */
struct wording {
    const char *head, *tail;
    bool code, reason;
};

static const struct wording answers[TURN_FAIL__COUNT] = {
    [TURN_FAIL_UNAUTHORIZED] = {"401 Unauthorized after credentials: check the username and "
                                "password configured on the TURN server",
                                "", false, false},
    [TURN_FAIL_INTEGRITY] = {"431 Integrity Check Failure, as Expressway answers a wrong "
                             "password: check the TURN username and password",
                             "", false, false},
    [TURN_FAIL_WRONG_CREDENTIALS] = {"",
                                     ": the server refuses these credentials (a wrong realm or "
                                     "username?)",
                                     true, true},
    [TURN_FAIL_QUOTA] = {"486 Allocation Quota Reached: this TURN user has as many allocations "
                         "as the server allows; raise the quota or use another user",
                         "", false, false},
    [TURN_FAIL_CAPACITY] = {"508 Insufficient Capacity: the TURN server has no relay ports left",
                            "", false, false},
    [TURN_FAIL_FORBIDDEN] = {"403 Forbidden: the TURN server refuses us (", ")", false, true},
    [TURN_FAIL_MISMATCH] = {"437 Allocation Mismatch (", ")", false, true},
    [TURN_FAIL_SERVER_ERROR] = {"", ": the TURN server reports an error", true, true},
};

/* Anything else the server got wrong, with its code when it gave one. */
static const struct wording protocol = {"the server did not answer as a TURN server should (", ")",
                                        true, true};

/* A failure on the path to the host: no answer, or nothing listening. */
static void describe_path(struct turn_host_status *h, const char *reason, int64_t budget_us)
{
    const char *proto = h->tcp ? "TCP" : "UDP";
    char address[sizeof(h->address)];

    /* a copy: h->address shares memory with h->detail in the compiler's view (-Wrestrict) */
    memcpy(address, h->address, sizeof(address));
    if (h->failure == TURN_FAIL_TIMEOUT)
        snprintf(h->detail, sizeof(h->detail),
                 "no answer from %s port %u/%s within %.1f s: check that the TURN server runs and "
                 "that firewalls let %s %u through",
                 address, h->port, proto, budget_us / 1e6, proto, h->port);
    else
        snprintf(h->detail, sizeof(h->detail),
                 "%s refused %s port %u (%s): nothing listens there; check the port in "
                 "serverAddress or tcpPortNumberOverride",
                 address, proto, h->port, reason);
}

void turn_describe(struct turn_host_status *h, const struct turn_alloc_info *info,
                   int64_t budget_us)
{
    const struct wording *w = &answers[h->failure];
    char code[16] = "";

    switch (h->failure) {
    case TURN_FAIL_TIMEOUT:
    case TURN_FAIL_PORT_UNREACHABLE:
        describe_path(h, info->reason, budget_us);
        return;
    case TURN_FAIL_LOCAL:
        describe_local(h, info->reason);
        return;
    default:
        break;
    }
    if (!w->head)
        w = &protocol;
    if (w->code && (info->error_code || w != &protocol)) /* protocol: only a code it gave */
        snprintf(code, sizeof(code), "%d ", info->error_code);
    snprintf(h->detail, sizeof(h->detail), "%s%s%s%s", w->head, code, w->reason ? info->reason : "",
             w->tail);
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
