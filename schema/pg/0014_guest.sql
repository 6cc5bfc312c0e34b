-- schema/pg/0014_guest.sql: guests' tickets (api/res/guest.c, store/q_calls.c). The purge of
-- expired hand-off tickets, made at every new one, reads expires_ms: it gets an index.
-- guest_rejoin holds the rejoin credentials: a guest's page that joined is given one, and joins
-- again with it (its TURN server failed, its connection dropped, its call's node died) without
-- the passcode, on any node. Only the credential's SHA-256 is kept. Each is used once: the
-- rejoin answers the next one of the same chain (the first leg of that guest); a used one
-- shown again revokes its chain (it was copied). Leaving or being removed revokes it too
-- (expires_ms set to the past), so it ends with its call; otherwise it expires after a bound.
CREATE INDEX guest_handoff_expires ON guest_handoff (expires_ms);

CREATE TABLE guest_rejoin (
    seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cred_hash     text NOT NULL UNIQUE,
    chain         text NOT NULL,
    cospace       text NOT NULL,
    access_method text NOT NULL,
    name          text NOT NULL,
    leg           text NOT NULL,
    used          bigint NOT NULL DEFAULT 0,
    expires_ms    bigint NOT NULL
);

CREATE INDEX guest_rejoin_expires ON guest_rejoin (expires_ms);
CREATE INDEX guest_rejoin_chain ON guest_rejoin (chain);
