-- schema/pg/0012_cluster.sql: cluster membership (api/cluster.c, store/q_cluster.c). Each call
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
    seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text NOT NULL UNIQUE,
    call_bridge  text NOT NULL,
    host_id      text NOT NULL,
    address      text NOT NULL,
    interval_ms  bigint NOT NULL,
    started_ms   bigint NOT NULL,
    heartbeat_ms bigint NOT NULL,
    stopped      bigint NOT NULL DEFAULT 0
);

CREATE TABLE cluster_turn_status (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    node        text NOT NULL,
    turn_server text NOT NULL,
    body        text NOT NULL,
    checked_ms  bigint NOT NULL,
    UNIQUE (node, turn_server)
);

CREATE TABLE ldap_sync_claim (
    seq     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sync_id text NOT NULL UNIQUE,
    node    text NOT NULL
);

CREATE TABLE cluster_identity (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cluster_id text NOT NULL UNIQUE
);
