/* api/cdr_int.h: private to api/cdr.c and api/cdr_send.c: the CDR sender's state, shared by
 * the recording of events (api/cdr.c) and their delivery (api/cdr_send.c), both on its thread
 * except where a member says lock. */
#ifndef API_CDR_INT_H
#define API_CDR_INT_H

#include <pthread.h>
#include <time.h>

#include "api/cdr.h"

#define QUEUE_MAX 65536
#define MAX_RECEIVERS 8 /* more than the API admits (4) */
#define IDLE_MS 1000    /* the longest the sender sleeps with nothing to do (a safety net) */
#define RETRY_DB_MS 100 /* the database was busy */

struct cdr_call {
    char id[STORE_ID_LEN + 1];
    int64_t correlator, started_ms; /* started_ms: wall clock, for a callEnd at shutdown */
    size_t active, completed, max_active;
};

struct cdr_leg {
    char id[STORE_ID_LEN + 1], call[STORE_ID_LEN + 1];
    bool has_media, connected, failed;
    char failure[160];
    int64_t started_ms; /* wall clock, for a callLegEnd at shutdown */
};

struct cdr_rx {
    char id[STORE_ID_LEN + 1];
    struct api_cdr_state s;
    int64_t next_try_us, backoff_ms;
};

struct api_cdr {
    pthread_mutex_t lock; /* the queue, the receivers' states, the totals */
    pthread_cond_t cond;
    pthread_t thread;
    bool stop, running, kick;
    bool legs_changed; /* the media thread changed some leg's state since the last look */
    struct api_cdr_event *q;
    size_t nq, capq;
    uint64_t dropped, records;
    struct cdr_rx rx[MAX_RECEIVERS];
    size_t nrx;
    char node[STORE_TEXT_MAX + 1]; /* api_cdr_set_node(); "" one node */
    /* the thread's own */
    char tnode[STORE_TEXT_MAX + 1];   /* node, as the thread last read it */
    char adopted[STORE_TEXT_MAX + 1]; /* the down node whose records it sent last ("" none) */
    struct store *st;
    struct media *media;
    char session[STORE_ID_LEN + 1];
    struct cdr_call *calls;
    size_t ncalls, capcalls;
    struct cdr_leg *legs;
    size_t nlegs, caplegs;
    bool keep; /* some receiver is configured: records are stored */
};

static inline int64_t cdr_wall_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Posts what each receiver has still to get, in order (api/cdr_send.c); on the thread. Returns
 * how long (ms) the thread may wait for an event before calling it again: 0 when a backlog is
 * left, the end of a failing receiver's backoff, else IDLE_MS (records appended, a receiver
 * changed, wake the thread anyway). */
int64_t api_cdr_deliver_all(struct api_cdr *c);

#endif
