-- schema/0013_calls.sql: calls in a cluster (api/res/call_home.c, store/q_calls.c). cluster_call
-- is the call directory: which node (cluster_node.name) hosts the running call of each coSpace,
-- with the call's id, its callCorrelator and its start in the database's clock. The coSpace is
-- UNIQUE, so two guests arriving at two nodes at once make one call, never two: the second
-- insert fails and its node sends its guest to the first's. guest_handoff holds the one-use
-- tickets with which a node that admitted a guest sends it to the node hosting the call: only
-- the ticket's SHA-256 is kept, never a passcode. On SQLite (one node) both stay empty.
CREATE TABLE cluster_call (
    seq           INTEGER PRIMARY KEY,
    call_id       TEXT NOT NULL UNIQUE,
    cospace       TEXT NOT NULL UNIQUE,
    correlator    TEXT NOT NULL,
    node          TEXT NOT NULL,
    started_ms    INTEGER NOT NULL
) STRICT;

CREATE INDEX cluster_call_node ON cluster_call (node);

-- cluster_call_leg: the legs of each call in the directory, so that when a node dies the node
-- that ends its calls writes a callLegEnd for each (api/res/call_home.c).
CREATE TABLE cluster_call_leg (
    seq           INTEGER PRIMARY KEY,
    leg_id        TEXT NOT NULL UNIQUE,
    call_id       TEXT NOT NULL,
    node          TEXT NOT NULL,
    started_ms    INTEGER NOT NULL
) STRICT;

CREATE INDEX cluster_call_leg_call ON cluster_call_leg (call_id);

CREATE TABLE guest_handoff (
    seq           INTEGER PRIMARY KEY,
    ticket_hash   TEXT NOT NULL UNIQUE,
    cospace       TEXT NOT NULL,
    access_method TEXT NOT NULL,
    name          TEXT NOT NULL,
    expires_ms    INTEGER NOT NULL
) STRICT;

-- The CDR outbox shared by several nodes (api/cdr.c, api/cdr_send.c, store/q_cdr.c): each
-- record names the node that wrote it ('' on SQLite, one node), and each node sends only its
-- own, in its order, to each receiver; cdr_delivery keeps how far each receiver has each node's
-- records (without a row: the receiver's own delivered index, its start).
ALTER TABLE cdr_record ADD COLUMN node TEXT NOT NULL DEFAULT '';

CREATE TABLE cdr_delivery (
    seq           INTEGER PRIMARY KEY,
    receiver      TEXT NOT NULL,
    node          TEXT NOT NULL,
    delivered     INTEGER NOT NULL,
    UNIQUE (receiver, node)
) STRICT;
