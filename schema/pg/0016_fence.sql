-- 0016_fence: a down node's CDRs (docs/cluster.md "CDRs"); schema/0016_fence.sql in lockstep.
-- cdr_delivery's rows go with their receiver (ON DELETE CASCADE).
DELETE FROM cdr_delivery WHERE receiver NOT IN (SELECT id FROM cdr_receiver);
ALTER TABLE cdr_delivery ADD FOREIGN KEY (receiver) REFERENCES cdr_receiver(id) ON DELETE CASCADE;

-- The live node that sends a down node's records (one per down node, by the unique node): the
-- claim is the adopter's while it is up and the node down.
CREATE TABLE cdr_adopt (
    seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    node          text NOT NULL UNIQUE,
    adopter       text NOT NULL,
    since_ms      bigint NOT NULL
);
