-- schema/0012_cluster.sql: cluster membership (api/cluster.c, store/q_cluster.c). Each call
-- bridge sharing the database keeps one row of cluster_node, found by its name: the callBridges
-- object it registered, the data directory's hostId (so a restart of the same node takes its row
-- back while another node of the same name is refused), its address, and its heartbeat in the
-- database's clock (ms since the epoch), so that every node judges another's age by one clock.
-- cluster_turn_status holds each node's view of each TURN server (its prober's latest results,
-- rendered as the status API shows them), so any node can show another's. ldap_sync_claim says
-- which node runs a sync (api/ldap_sync.c). On SQLite (one node) the tables stay empty but for
-- ldap_sync_claim. cluster_identity holds the cluster's clusterId (system/status): the first
-- node to register gives its own.
CREATE TABLE cluster_node (
    seq          INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    call_bridge  TEXT NOT NULL,
    host_id      TEXT NOT NULL,
    address      TEXT NOT NULL,
    interval_ms  INTEGER NOT NULL,
    started_ms   INTEGER NOT NULL,
    heartbeat_ms INTEGER NOT NULL,
    stopped      INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE cluster_turn_status (
    seq         INTEGER PRIMARY KEY,
    node        TEXT NOT NULL,
    turn_server TEXT NOT NULL,
    body        TEXT NOT NULL,
    checked_ms  INTEGER NOT NULL,
    UNIQUE (node, turn_server)
) STRICT;

CREATE TABLE ldap_sync_claim (
    seq     INTEGER PRIMARY KEY,
    sync_id TEXT NOT NULL UNIQUE,
    node    TEXT NOT NULL
) STRICT;

CREATE TABLE cluster_identity (
    seq        INTEGER PRIMARY KEY,
    cluster_id TEXT NOT NULL UNIQUE
) STRICT;
