-- 0005 (dial plan): tenant groups and the rest of a tenant, the call bridge groups' load
-- balancing flags, outbound and forwarding dial plan rules, dial transforms, IVRs, and this
-- node's call bridge cluster settings (one row). Profile references of tenants are not here.

CREATE TABLE tenant_group (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         text NOT NULL UNIQUE,
    created_ms bigint NOT NULL,
    updated_ms bigint NOT NULL
);

ALTER TABLE tenant ADD COLUMN tenant_group text REFERENCES tenant_group(id) ON DELETE RESTRICT;
ALTER TABLE tenant ADD COLUMN participant_limit bigint;
CREATE INDEX tenant_tenant_group ON tenant(tenant_group);

ALTER TABLE call_bridge_group ADD COLUMN load_balancing_enabled bigint NOT NULL DEFAULT 0;
ALTER TABLE call_bridge_group ADD COLUMN load_balance_lync_calls bigint NOT NULL DEFAULT 0;
ALTER TABLE call_bridge_group ADD COLUMN load_balance_outgoing_calls bigint NOT NULL DEFAULT 0;
ALTER TABLE call_bridge_group ADD COLUMN load_balance_user_calls bigint NOT NULL DEFAULT 1;
ALTER TABLE call_bridge_group ADD COLUMN load_balance_indirect_calls bigint NOT NULL DEFAULT 0;

CREATE TABLE outbound_dial_plan_rule (
    seq                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                     text NOT NULL UNIQUE,
    domain                 text NOT NULL,
    priority               bigint NOT NULL DEFAULT 0,
    local_contact_domain   text,
    local_from_domain      text,
    sip_proxy              text,
    trunk_type             text NOT NULL DEFAULT 'sip',
    failure_action         text NOT NULL DEFAULT 'stop',
    sip_control_encryption text NOT NULL DEFAULT 'auto',
    scope                  text NOT NULL DEFAULT 'global',
    call_bridge            text REFERENCES call_bridge(id) ON DELETE RESTRICT,
    call_bridge_group      text REFERENCES call_bridge_group(id) ON DELETE RESTRICT,
    tenant                 text REFERENCES tenant(id) ON DELETE RESTRICT,
    call_routing           text NOT NULL DEFAULT 'default',
    created_ms             bigint NOT NULL,
    updated_ms             bigint NOT NULL
);

CREATE TABLE forwarding_dial_plan_rule (
    seq                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                 text NOT NULL UNIQUE,
    match_pattern      text,
    destination_domain text,
    action             text NOT NULL DEFAULT 'reject',
    caller_id_mode     text NOT NULL DEFAULT 'regenerate',
    priority           bigint NOT NULL DEFAULT 0,
    tenant             text REFERENCES tenant(id) ON DELETE RESTRICT,
    uri_parameters     text NOT NULL DEFAULT 'discard',
    created_ms         bigint NOT NULL,
    updated_ms         bigint NOT NULL
);

CREATE TABLE dial_transform (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         text NOT NULL UNIQUE,
    type       text NOT NULL DEFAULT 'raw',
    match      text,
    transform  text,
    priority   bigint NOT NULL DEFAULT 0,
    action     text NOT NULL DEFAULT 'accept',
    created_ms bigint NOT NULL,
    updated_ms bigint NOT NULL
);

CREATE TABLE ivr (
    seq                         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                          text NOT NULL UNIQUE,
    uri                         text,
    tenant                      text REFERENCES tenant(id) ON DELETE RESTRICT,
    tenant_group                text REFERENCES tenant_group(id) ON DELETE RESTRICT,
    ivr_branding_profile        text,
    resolve_cospace_call_ids    bigint NOT NULL DEFAULT 1,
    resolve_lync_conference_ids bigint NOT NULL DEFAULT 0,
    created_ms                  bigint NOT NULL,
    updated_ms                  bigint NOT NULL
);
CREATE INDEX ivr_uri ON ivr (lower(uri));

-- One row, whose id is fixed: /system/configuration/cluster is a singleton.
CREATE TABLE cluster_config (
    seq                                        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                                         text NOT NULL UNIQUE,
    unique_name                                text,
    peer_link_bit_rate                         bigint,
    participant_limit                          bigint,
    load_limit                                 bigint,
    new_conference_load_limit_basis_points     bigint NOT NULL DEFAULT 5000,
    existing_conference_load_limit_basis_points bigint NOT NULL DEFAULT 8000,
    max_peer_video_streams                     bigint,
    created_ms                                 bigint NOT NULL,
    updated_ms                                 bigint NOT NULL
);
INSERT INTO cluster_config (id, created_ms, updated_ms)
    VALUES ('00000000-0000-4000-8000-000000000000', 0, 0);
