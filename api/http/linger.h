/* api/http/linger.h: lingering close of HTTP connections, as Apache and nginx do it.
 *
 * When the server closes a connection while its client is still sending (libmicrohttpd's 431 to
 * a header over its connection memory, a 413 or 414 answered before the request was read), the
 * kernel answers the unread bytes with a reset, and a client still writing sees "connection
 * reset" instead of the answer that was already sent to it. A socket handed to api_linger_add() is
 * kept open on a duplicate descriptor instead: its sending side is shut (the client reads the
 * answer and the end of the stream), and what arrives is read and dropped until the client
 * closes, API_LINGER_MS pass or API_LINGER_BYTES are dropped; then it is closed. */
#ifndef API_LINGER_H
#define API_LINGER_H

#include <stdbool.h>

#define API_LINGER_MAX 64 /* sockets lingering at once at most; beyond, a socket closes at once */
#define API_LINGER_MS 2000
#define API_LINGER_BYTES (4 * 1024 * 1024)

struct api_linger; /* opaque */
struct api_metrics;

/* Starts the lingering thread for at most 'max' sockets at once (up to API_LINGER_MAX; 0: none
 * linger). It counts in 'metrics' (NULL: nowhere) each socket it drained bytes from: a reset it
 * spared a client. Returns 0 or -errno. */
int api_linger_start(unsigned max, struct api_metrics *metrics, struct api_linger **ret);
/* Called just before the owner closes 'fd': keeps the socket lingering if its client has not
 * closed its side yet and a slot is free; true if it does. 'fd' stays the caller's.
 * Thread-safe. */
bool api_linger_add(struct api_linger *l, int fd);
/* Stops the thread and closes every lingering socket. NULL is a no-op. */
void api_linger_stop(struct api_linger *l);

#endif
