/* turnclient/share.c: the prober's share of the process's descriptors: how many probe sockets
 * are open (and the most at once, for /metrics), whether one more would pass the cap, and the
 * queue of probes waiting for a socket, oldest first. probe.c opens and closes the sockets,
 * prober.c starts the waiting probes when one is released; both read and write the share here,
 * so neither calls into the other for it. Owned by the prober thread, except the counters, which
 * other threads read. */
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "turnclient/prober_int.h"

void turn_prober_socket_opened(struct turn_prober *p)
{
    size_t n = atomic_fetch_add(&p->nsockets, 1) + 1;

    if (n > atomic_load(&p->peak_sockets))
        atomic_store(&p->peak_sockets, n);
}

void turn_prober_socket_closed(struct turn_prober *p)
{
    atomic_fetch_sub(&p->nsockets, 1);
}

bool turn_prober_at_cap(const struct turn_prober *p)
{
    return p->cfg.max_sockets && atomic_load(&p->nsockets) >= p->cfg.max_sockets;
}

void turn_prober_enqueue(struct turn_prober *p, struct turn_probe *pr)
{
    pr->queued = true;
    pr->qnext = NULL;
    pr->qprev = p->qtail;
    if (p->qtail)
        p->qtail->qnext = pr;
    else
        p->qhead = pr;
    p->qtail = pr;
}

void turn_prober_dequeue(struct turn_prober *p, struct turn_probe *pr)
{
    if (!pr->queued)
        return;
    if (pr->qprev)
        pr->qprev->qnext = pr->qnext;
    else
        p->qhead = pr->qnext;
    if (pr->qnext)
        pr->qnext->qprev = pr->qprev;
    else
        p->qtail = pr->qprev;
    pr->queued = false;
    pr->qprev = pr->qnext = NULL;
}
