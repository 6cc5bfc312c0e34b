-- 0001: API users, call bridges and groups (referenced by TURN servers), TURN servers.
-- seq gives creation order, so list pages are stable; id is the public lowercase UUID.

CREATE TABLE api_user (
    name       TEXT PRIMARY KEY NOT NULL,
    hash       TEXT NOT NULL,              -- pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>
    created_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE call_bridge_group (
    seq  INTEGER PRIMARY KEY,
    id   TEXT NOT NULL UNIQUE,
    name TEXT
) STRICT;

CREATE TABLE call_bridge (
    seq               INTEGER PRIMARY KEY,
    id                TEXT NOT NULL UNIQUE,
    name              TEXT UNIQUE,
    address           TEXT,
    sip_domain        TEXT,
    call_bridge_group TEXT REFERENCES call_bridge_group(id) ON DELETE RESTRICT
) STRICT;

CREATE TABLE turn_server (
    seq                        INTEGER PRIMARY KEY,
    id                         TEXT NOT NULL UNIQUE,
    server_address             TEXT,
    client_address             TEXT,
    username                   TEXT,
    password                   BLOB,       -- AES-256-GCM, see api/secret.c
    type                       TEXT NOT NULL DEFAULT 'standard',
    num_registrations          INTEGER,
    tcp_port_number_override   INTEGER,
    call_bridge                TEXT REFERENCES call_bridge(id) ON DELETE RESTRICT,
    call_bridge_group          TEXT REFERENCES call_bridge_group(id) ON DELETE RESTRICT,
    use_short_term_credentials INTEGER NOT NULL DEFAULT 0,
    shared_secret              BLOB,       -- AES-256-GCM, see api/secret.c
    created_ms                 INTEGER NOT NULL,
    updated_ms                 INTEGER NOT NULL
) STRICT;
