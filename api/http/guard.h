/* api/http/guard.h: the connection table of the HTTPS ports: stage deadlines and eviction.
 *
 * Every open connection is in a stage: HEAD from its first byte (TLS handshake, request line and
 * headers; for a later request on a keep-alive connection, from its request line), BODY once the
 * headers are in, BUSY while the request is handled (never closed from here), IDLE between the
 * requests of a keep-alive connection. HEAD and BODY have deadlines (head_ms, body_ms); IDLE has
 * connection_timeout_ms and a second more, so libmicrohttpd's own idle timeout comes first for a
 * client that sends nothing. A connection past its deadline is closed; and when a port is at its
 * connection limit, a new connection takes the place of the oldest one in HEAD, else in BODY,
 * else in IDLE: clients that hold connections without completing requests cannot hold the port.
 *
 * libmicrohttpd 0.9.75 cannot close a connection from outside its own threads, so the guard
 * shuts the socket down (shutdown(2)): libmicrohttpd reads the end of the stream and closes the
 * connection itself. The table's lock is also taken by api_guard_close(), which libmicrohttpd
 * calls before it closes the descriptor, so the guard never shuts a descriptor that was reused. */
#ifndef API_GUARD_H
#define API_GUARD_H

#include <stdbool.h>
#include <stddef.h>

#include "api/api.h"

#define API_MAX_LISTEN 8 /* listening ports, each with its own table */

enum api_guard_stage {
    API_GUARD_HEAD,
    API_GUARD_BODY,
    API_GUARD_BUSY,
    API_GUARD_IDLE,
};

struct api_guard;      /* opaque */
struct api_guard_conn; /* one connection's entry */

struct api_guard_config {
    size_t nports;
    unsigned limit;              /* connections per port admitted by api_guard_admit() */
    unsigned capacity;           /* entries per port: libmicrohttpd's own limit, >= limit */
    unsigned head_ms;            /* TLS handshake, request line and headers */
    unsigned body_ms;            /* the body, once the headers are in */
    unsigned idle_ms;            /* keep-alive between requests: the connection timeout */
    struct api_metrics *metrics; /* counts closes by reason; NULL: nowhere */
};

/* Starts the deadline thread. Returns 0 or -errno. */
int api_guard_start(const struct api_guard_config *cfg, struct api_guard **ret);
/* Stops the thread and frees the table. NULL is a no-op. */
void api_guard_stop(struct api_guard *g);

/* Whether a new connection on 'port' (number 'port_number', for the log) may be accepted now:
 * below the limit, or at it when an older connection gave way (its socket is shut down).
 * Thread-safe. */
bool api_guard_admit(struct api_guard *g, size_t port, unsigned port_number);
/* Enters a connection that has just opened on 'port' with socket 'fd', in HEAD. Returns its
 * entry, or NULL when the table is full (the connection is then neither timed nor evicted). */
struct api_guard_conn *api_guard_open(struct api_guard *g, size_t port, int fd);
/* Moves a connection to 'stage' (NULL c: nothing). Thread-safe. */
void api_guard_stage(struct api_guard *g, struct api_guard_conn *c, enum api_guard_stage stage);
/* Removes a connection that api_guard_open() entered as c (NULL too), before its socket is
 * closed. */
void api_guard_close(struct api_guard *g, size_t port, struct api_guard_conn *c);

#endif
