/* turnclient/txn.c: request retransmission (RFC 8489 §6.2.1): send at 0, RTO, 3 RTO, 7 RTO ...
 * (the interval doubling) until Rc requests are out, then wait Rm * RTO for an answer. Over TCP
 * (§6.2.2) there is one send and a single timeout Ti. budget_us caps the whole transaction, for
 * probes that must report within seconds rather than the RFC's 39.5. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "turnclient/turnclient.h"
#include "turnclient/txn.h"

void turn_txn_config_rfc(struct turn_txn_config *c)
{
    c->rto_us = 500 * 1000;
    c->max_sends = 7;
    c->last_wait = 16;
    c->reliable_us = 39500 * 1000;
    c->budget_us = 0;
}

/* The time after send number 'sends' (1-based) at which the next step is due. */
static int64_t next_after(const struct turn_txn *t, const struct turn_txn_config *c, int64_t now)
{
    int64_t next;

    if (t->reliable)
        next = now + c->reliable_us;
    else if (t->sends < c->max_sends)
        next = now + (c->rto_us << (t->sends - 1 < 30 ? t->sends - 1 : 30));
    else
        next = now + c->rto_us * (int64_t)c->last_wait;
    return next < t->end_us ? next : t->end_us;
}

int turn_txn_start(struct turn_txn *t, const struct turn_txn_config *c, bool reliable,
                   const uint8_t *msg, size_t len, turn_send_fn send, void *userdata,
                   int64_t now_us)
{
    int r;

    if (len > sizeof(t->msg) || len < 20)
        return -E2BIG;
    memcpy(t->msg, msg, len);
    t->len = len;
    t->reliable = reliable;
    t->sends = 1;
    t->first_us = now_us;
    t->end_us = c->budget_us > 0 ? now_us + c->budget_us : INT64_MAX;
    t->active = true;
    t->next_us = next_after(t, c, now_us);
    r = send(userdata, t->msg, t->len);
    if (r < 0)
        t->active = false;
    return r;
}

int turn_txn_on_timer(struct turn_txn *t, const struct turn_txn_config *c, turn_send_fn send,
                      void *userdata, int64_t now_us)
{
    int r;

    if (!t->active || now_us < t->next_us)
        return 0;
    if (t->reliable || t->sends >= c->max_sends || now_us >= t->end_us) {
        t->active = false;
        return -ETIMEDOUT;
    }
    t->sends++;
    t->next_us = next_after(t, c, now_us);
    r = send(userdata, t->msg, t->len);
    if (r < 0)
        t->active = false;
    return r;
}

int64_t turn_txn_deadline(const struct turn_txn *t)
{
    return t->active ? t->next_us : INT64_MAX;
}

bool turn_txn_matches(const struct turn_txn *t, const uint8_t *tid)
{
    return t->active && memcmp(t->msg + 8, tid, 12) == 0;
}

int64_t turn_txn_finish(struct turn_txn *t, int64_t now_us)
{
    t->active = false;
    return t->sends == 1 ? now_us - t->first_us : -1;
}

/* The one clock of the transactions' callers (the prober, media): monotonic microseconds. */
int64_t turn_now_us(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
