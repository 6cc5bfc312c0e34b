/* api/res/call_home.h: this node's side of the cluster's call directory (store.h's
 * store_call_home, schema/0013_calls.sql, docs/cluster.md "Calls in a cluster"): a coSpace's
 * call lives on one node. Before a clustered node makes a call for a coSpace it claims the
 * coSpace in the database; a claim another node holds sends the participant there. Ended calls
 * leave the directory through a queue written by a thread with its own connection, since they
 * end under the registry's lock, where no request may wait on the database. */
#ifndef API_RES_CALL_HOME_H
#define API_RES_CALL_HOME_H

#include <pthread.h>
#include <stdbool.h>

#include "store/store.h"

struct api;
struct api_call_home;

/* When api->cluster is set: opens a connection on db, removes what the directory says this node
 * hosts (calls do not outlive a restart), starts the release thread and sets api->calls->home.
 * Otherwise 0 and nothing set. Before HTTP starts. */
int api_call_home_start(const char *db, const struct api *api);
/* Unsets api->calls->home (under the registry's lock: a call ending later is not released),
 * writes the releases queued, removes this node's calls from the directory and stops. */
void api_call_home_stop(const struct api *api);

/* Held by the caller around a claim and the creation of its local call, so that two joins on
 * this node do not both claim: one claims, the other finds the call it made. */
void api_call_home_lock(struct api_call_home *h);
void api_call_home_unlock(struct api_call_home *h);

/* Claims cospace for a new call call_id (its correlator: the id) on st. 0: this node hosts it.
 * -EXDEV: another node that is up hosts it; *ret is that call (its node's address). -EHOSTDOWN:
 * its node is down and its call not yet ended by the cluster. Else a store error. A stale
 * claim of this node's (a call it no longer has) is replaced. */
int api_call_home_claim(struct api_call_home *h, struct store *st, const char *cospace,
                        const char *call_id, struct store_call_home *ret);
/* Queues the removal of call_id from the directory (any thread, any lock held). */
void api_call_home_release(struct api_call_home *h, const char *call_id);
/* The node's name (NULL h: NULL). */
const char *api_call_home_node(const struct api_call_home *h);

#endif
