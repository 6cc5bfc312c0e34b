/* turnclient/txn.h: STUN client transactions (RFC 8489 §6.2), private to turnclient/. Times are
 * monotonic microseconds given by the caller (an injected clock), so tests need no sleeping. */
#ifndef TURNCLIENT_TXN_H
#define TURNCLIENT_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TURN_TXN_MAX_MSG 1280

/* Sends one datagram or stream frame; returns 0 or a negative errno (the transaction then
 * fails with that error, e.g. -ECONNREFUSED after an ICMP port unreachable). */
typedef int (*turn_send_fn)(void *userdata, const uint8_t *buf, size_t len);

struct turn_txn_config {
    int64_t rto_us;      /* initial RTO (RFC: >= 500 ms) */
    unsigned max_sends;  /* Rc: requests sent in all, >= 1 (RFC: 7) */
    unsigned last_wait;  /* Rm: after the last send, wait Rm * initial RTO (RFC: 16) */
    int64_t reliable_us; /* Ti: over TCP, no retransmission, fail after this (RFC: 39.5 s) */
    int64_t budget_us;   /* hard cap from the first send, 0 = none */
};

/* RFC 8489 defaults: 500 ms, 7 sends, Rm 16 (39.5 s in all), Ti 39.5 s, no extra budget. */
void turn_txn_config_rfc(struct turn_txn_config *c);

struct turn_txn {
    uint8_t msg[TURN_TXN_MAX_MSG]; /* kept for retransmission; the tid is msg[8..20) */
    size_t len;
    unsigned sends;
    bool active, reliable;
    int64_t first_us, next_us, end_us;
};

/* Starts a transaction and sends msg once. Returns 0, -E2BIG, or the send error. */
int turn_txn_start(struct turn_txn *t, const struct turn_txn_config *c, bool reliable,
                   const uint8_t *msg, size_t len, turn_send_fn send, void *userdata,
                   int64_t now_us);
/* Retransmits when due. Returns 0, or -ETIMEDOUT when the transaction has given up (it is then
 * inactive), or a send error. */
int turn_txn_on_timer(struct turn_txn *t, const struct turn_txn_config *c, turn_send_fn send,
                      void *userdata, int64_t now_us);
/* When the transaction next needs the timer; INT64_MAX when inactive. */
int64_t turn_txn_deadline(const struct turn_txn *t);
/* True when tid (12 bytes) is this active transaction's. */
bool turn_txn_matches(const struct turn_txn *t, const uint8_t *tid);
/* Ends the transaction on its answer. Returns the RTT in microseconds, or -1 when the request
 * was sent more than once (Karn's rule: such a sample is ambiguous). */
int64_t turn_txn_finish(struct turn_txn *t, int64_t now_us);

#endif
