-- 0004: a check value sealed with the secrets key (DATA-DIR/secret.key, AES-256-GCM, see
-- api/secret.c), so that a start with another key, or without one, is refused instead of
-- using every stored TURN password as an empty string. One row at most.

CREATE TABLE secret_check (
    id    bigint PRIMARY KEY CHECK (id = 1), -- not an identity: always 1, written by the code
    value bytea NOT NULL
);
