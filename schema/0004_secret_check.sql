-- 0004: a check value sealed with the secrets key (DATA-DIR/secret.key, AES-256-GCM, see
-- api/secret.c), so that a start with another key, or without one, is refused instead of
-- using every stored TURN password as an empty string. One row at most.

CREATE TABLE secret_check (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value BLOB NOT NULL
) STRICT;
