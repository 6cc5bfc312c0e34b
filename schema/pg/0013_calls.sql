-- schema/pg/0013_calls.sql: calls in a cluster (api/res/call_home.c, store/q_calls.c). cluster_call
-- is the call directory: which node (cluster_node.name) hosts the running call of each coSpace,
-- with the call's id, its callCorrelator and its start in the database's clock. The coSpace is
-- UNIQUE, so two guests arriving at two nodes at once make one call, never two: the second
-- insert fails and its node sends its guest to the first's. guest_handoff holds the one-use
-- tickets with which a node that admitted a guest sends it to the node hosting the call: only
-- the ticket's SHA-256 is kept, never a passcode. On SQLite (one node) both stay empty.
CREATE TABLE cluster_call (
    seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_id       text NOT NULL UNIQUE,
    cospace       text NOT NULL UNIQUE,
    correlator    text NOT NULL,
    node          text NOT NULL,
    started_ms    bigint NOT NULL
);

CREATE INDEX cluster_call_node ON cluster_call (node);

-- cluster_call_leg: the legs of each call in the directory, so that when a node dies the node
-- that ends its calls writes a callLegEnd for each (api/res/call_home.c).
CREATE TABLE cluster_call_leg (
    seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    leg_id        text NOT NULL UNIQUE,
    call_id       text NOT NULL,
    node          text NOT NULL,
    started_ms    bigint NOT NULL
);

CREATE INDEX cluster_call_leg_call ON cluster_call_leg (call_id);

CREATE TABLE guest_handoff (
    seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_hash   text NOT NULL UNIQUE,
    cospace       text NOT NULL,
    access_method text NOT NULL,
    name          text NOT NULL,
    expires_ms    bigint NOT NULL
);

-- The CDR outbox shared by several nodes (api/cdr.c, api/cdr_send.c, store/q_cdr.c): each
-- record names the node that wrote it ('' on SQLite, one node), and each node sends only its
-- own, in its order, to each receiver; cdr_delivery keeps how far each receiver has each node's
-- records (without a row: the receiver's own delivered index, its start).
ALTER TABLE cdr_record ADD COLUMN node text NOT NULL DEFAULT '';

CREATE TABLE cdr_delivery (
    seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    receiver      text NOT NULL,
    node          text NOT NULL,
    delivered     bigint NOT NULL,
    UNIQUE (receiver, node)
);
