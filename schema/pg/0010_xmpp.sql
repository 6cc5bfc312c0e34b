-- schema/0010_xmpp.sql: /system/configuration/xmpp, the call bridge's settings for a CMS 2.x
-- XMPP server (uniqueName, domain, sharedSecret, serverAddressOverride). One row, whose id is
-- fixed, as cluster_config's. callbridge has no XMPP client: the settings are kept for the
-- deployment tools that write them (docs/api.md).
CREATE TABLE xmpp_config (
    seq                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                      text NOT NULL UNIQUE,
    unique_name             text,
    domain                  text,
    shared_secret           bytea,       -- AES-256-GCM, see api/secret.c
    server_address_override text,
    created_ms              bigint NOT NULL,
    updated_ms              bigint NOT NULL
);
INSERT INTO xmpp_config (id, created_ms, updated_ms)
    VALUES ('00000000-0000-4000-8000-000000000000', 0, 0);
