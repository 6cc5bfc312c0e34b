-- 0005 (dial plan): tenant groups and the rest of a tenant, the call bridge groups' load
-- balancing flags, outbound and forwarding dial plan rules, dial transforms, IVRs, and this
-- node's call bridge cluster settings (one row). Profile references of tenants are not here.

CREATE TABLE tenant_group (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
) STRICT;

ALTER TABLE tenant ADD COLUMN tenant_group TEXT REFERENCES tenant_group(id) ON DELETE RESTRICT;
ALTER TABLE tenant ADD COLUMN participant_limit INTEGER;
CREATE INDEX tenant_tenant_group ON tenant(tenant_group);

ALTER TABLE call_bridge_group ADD COLUMN load_balancing_enabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE call_bridge_group ADD COLUMN load_balance_lync_calls INTEGER NOT NULL DEFAULT 0;
ALTER TABLE call_bridge_group ADD COLUMN load_balance_outgoing_calls INTEGER NOT NULL DEFAULT 0;
ALTER TABLE call_bridge_group ADD COLUMN load_balance_user_calls INTEGER NOT NULL DEFAULT 1;
ALTER TABLE call_bridge_group ADD COLUMN load_balance_indirect_calls INTEGER NOT NULL DEFAULT 0;

CREATE TABLE outbound_dial_plan_rule (
    seq                    INTEGER PRIMARY KEY,
    id                     TEXT NOT NULL UNIQUE,
    domain                 TEXT NOT NULL,
    priority               INTEGER NOT NULL DEFAULT 0,
    local_contact_domain   TEXT,
    local_from_domain      TEXT,
    sip_proxy              TEXT,
    trunk_type             TEXT NOT NULL DEFAULT 'sip',
    failure_action         TEXT NOT NULL DEFAULT 'stop',
    sip_control_encryption TEXT NOT NULL DEFAULT 'auto',
    scope                  TEXT NOT NULL DEFAULT 'global',
    call_bridge            TEXT REFERENCES call_bridge(id) ON DELETE RESTRICT,
    call_bridge_group      TEXT REFERENCES call_bridge_group(id) ON DELETE RESTRICT,
    tenant                 TEXT REFERENCES tenant(id) ON DELETE RESTRICT,
    call_routing           TEXT NOT NULL DEFAULT 'default',
    created_ms             INTEGER NOT NULL,
    updated_ms             INTEGER NOT NULL
) STRICT;

CREATE TABLE forwarding_dial_plan_rule (
    seq                INTEGER PRIMARY KEY,
    id                 TEXT NOT NULL UNIQUE,
    match_pattern      TEXT,
    destination_domain TEXT,
    action             TEXT NOT NULL DEFAULT 'reject',
    caller_id_mode     TEXT NOT NULL DEFAULT 'regenerate',
    priority           INTEGER NOT NULL DEFAULT 0,
    tenant             TEXT REFERENCES tenant(id) ON DELETE RESTRICT,
    uri_parameters     TEXT NOT NULL DEFAULT 'discard',
    created_ms         INTEGER NOT NULL,
    updated_ms         INTEGER NOT NULL
) STRICT;

CREATE TABLE dial_transform (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    type       TEXT NOT NULL DEFAULT 'raw',
    match      TEXT,
    transform  TEXT,
    priority   INTEGER NOT NULL DEFAULT 0,
    action     TEXT NOT NULL DEFAULT 'accept',
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE ivr (
    seq                         INTEGER PRIMARY KEY,
    id                          TEXT NOT NULL UNIQUE,
    uri                         TEXT,
    tenant                      TEXT REFERENCES tenant(id) ON DELETE RESTRICT,
    tenant_group                TEXT REFERENCES tenant_group(id) ON DELETE RESTRICT,
    ivr_branding_profile        TEXT,
    resolve_cospace_call_ids    INTEGER NOT NULL DEFAULT 1,
    resolve_lync_conference_ids INTEGER NOT NULL DEFAULT 0,
    created_ms                  INTEGER NOT NULL,
    updated_ms                  INTEGER NOT NULL
) STRICT;
CREATE INDEX ivr_uri ON ivr(uri COLLATE NOCASE);

-- One row, whose id is fixed: /system/configuration/cluster is a singleton.
CREATE TABLE cluster_config (
    seq                                        INTEGER PRIMARY KEY,
    id                                         TEXT NOT NULL UNIQUE,
    unique_name                                TEXT,
    peer_link_bit_rate                         INTEGER,
    participant_limit                          INTEGER,
    load_limit                                 INTEGER,
    new_conference_load_limit_basis_points     INTEGER NOT NULL DEFAULT 5000,
    existing_conference_load_limit_basis_points INTEGER NOT NULL DEFAULT 8000,
    max_peer_video_streams                     INTEGER,
    created_ms                                 INTEGER NOT NULL,
    updated_ms                                 INTEGER NOT NULL
) STRICT;
INSERT INTO cluster_config (id, created_ms, updated_ms)
    VALUES ('00000000-0000-4000-8000-000000000000', 0, 0);
