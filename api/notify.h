/* api/notify.h: what other nodes on the same database write, acted on in this one. */
#ifndef API_NOTIFY_H
#define API_NOTIFY_H

#include "api/api.h"

struct api_notify; /* opaque: a thread with a listening connection of its own */

/* Starts listening on the database at location for the writes of other nodes (store.h
 * store_listener) and hands them to what this node keeps in memory: the rendered list pages,
 * the prober's TURN servers, the legs' call leg profiles, the CDR sender's receivers. On SQLite
 * (one process per file) there is nothing to hear: 0 and *ret_n NULL. A database that cannot be
 * reached at start is listened to once it can. Returns 0 or -errno. api's fields must be set
 * (prober, calls, cdr) and stay until api_notify_stop(). */
int api_notify_start(const struct api *api, const char *location, struct api_notify **ret_n);
/* Stops the thread and closes its connections. NULL is a no-op. */
void api_notify_stop(struct api_notify *n);

#endif
