/* api/cluster.h: this node's membership of a cluster of call bridges sharing one PostgreSQL
 * database (docs/cluster.md): its registration as a callBridges object, its heartbeat, and the
 * publication of its TURN view (the prober's latest results) for the other nodes to show. */
#ifndef API_CLUSTER_H
#define API_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"

struct turn_server_status; /* turnclient/turnclient.h */

/* A node is shown down when its last heartbeat is older than this many of its intervals. */
#define API_CLUSTER_DOWN_AFTER 3

struct api_cluster_config {
    const char *name;       /* the node's name: its callBridges object's */
    const char *address;    /* where other nodes and guests reach it */
    unsigned interval_s;    /* between two heartbeats */
    const char *db;         /* the store's location (store_open()) */
    const char *host_id;    /* the data directory's hostId (api/res/system.c) */
    const char *cluster_id; /* the data directory's clusterId: the cluster's if it is the first */
    /* Renders a TURN server's status as the status API does (api/res/turn_status.c's
     * api_turn_status_inner), for the other nodes to show: given by the caller, so that this
     * file, which api/res/ asks about the node, asks nothing of api/res/. */
    int (*render_view)(const struct turn_server_status *status, char **ret_markup);
};

struct api_cluster;

/* On a shared database (store_is_shared), registers the node on st (store_node_register) and
 * starts its heartbeat thread on a connection of its own; *ret is the running node. The node's
 * clusterId becomes the cluster's (api_cluster_id), the first node's. On SQLite,
 * 0 and *ret NULL: one node, nothing registered; likewise (a warning logged) on a database that
 * takes no writes. -EADDRINUSE (logged) when another node of that
 * name is up; another negative errno (logged) on a database error. */
int api_cluster_start(const struct api_cluster_config *c, const struct api *api, struct store *st,
                      struct api_cluster **ret);
/* Stops the thread and marks the node stopped in the database. NULL is a no-op. */
void api_cluster_stop(struct api_cluster *c);

/* Fencing (docs/cluster.md "A node shown down while alive"): how long ago (ms, this host's
 * monotonic clock) the last heartbeat that was written began, and the age at which the other
 * nodes show this one down (API_CLUSTER_DOWN_AFTER intervals). A node whose heartbeat is that
 * old may have lost its calls to another node. NULL c: 0. Thread-safe. */
int64_t api_cluster_beat_age_ms(const struct api_cluster *c);
int64_t api_cluster_down_ms(const struct api_cluster *c);

/* True while the node's name is registered by another node (another data directory), taken
 * while this one was shown down: the node is out of the cluster (no heartbeat, its calls end)
 * until no live node holds the name and it registers again; the alarm
 * callBridgeConnectionFailure says so (api/res/alarms.c). NULL c: false. Thread-safe. */
bool api_cluster_name_taken(const struct api_cluster *c);

/* The cluster's clusterId (the first node's to register; NULL c: NULL). */
const char *api_cluster_id(const struct api_cluster *c);
/* The node's name and its callBridges object's id (NULL c: NULL). */
const char *api_cluster_name(const struct api_cluster *c);
const char *api_cluster_bridge_id(const struct api_cluster *c);
/* True when want names this node: its callBridges id or its name (any case). NULL c: false. */
bool api_cluster_is_self(const struct api_cluster *c, const char *want);
/* The node that want names (callBridges id or name, any case), read on st: -ENOENT when none,
 * or when this node is not clustered. */
int api_cluster_find(const struct api *api, struct store *st, const char *want,
                     struct store_node *ret);

#endif
