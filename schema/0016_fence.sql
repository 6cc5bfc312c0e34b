-- 0016_fence: a down node's CDRs (docs/cluster.md "CDRs").
-- cdr_delivery's rows go with their receiver (ON DELETE CASCADE): SQLite adds a foreign key only
-- by making the table again, in the same column order.
CREATE TABLE cdr_delivery_new (
    seq           INTEGER PRIMARY KEY,
    receiver      TEXT NOT NULL REFERENCES cdr_receiver(id) ON DELETE CASCADE,
    node          TEXT NOT NULL,
    delivered     INTEGER NOT NULL,
    UNIQUE (receiver, node)
) STRICT;
INSERT INTO cdr_delivery_new (seq, receiver, node, delivered)
    SELECT seq, receiver, node, delivered FROM cdr_delivery
    WHERE receiver IN (SELECT id FROM cdr_receiver);
DROP TABLE cdr_delivery;
ALTER TABLE cdr_delivery_new RENAME TO cdr_delivery;

-- The live node that sends a down node's records (one per down node, by the unique node): the
-- claim is the adopter's while it is up and the node down.
CREATE TABLE cdr_adopt (
    seq           INTEGER PRIMARY KEY,
    node          TEXT NOT NULL UNIQUE,
    adopter       TEXT NOT NULL,
    since_ms      INTEGER NOT NULL
) STRICT;
