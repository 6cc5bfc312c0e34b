-- 0002: tenants, coSpaces and the inbound dial plan; call bridges get their API.
-- URIs and domains compare without regard to case, as administrators expect.

CREATE TABLE tenant (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         text NOT NULL UNIQUE,
    name       text,
    created_ms bigint NOT NULL,
    updated_ms bigint NOT NULL
);

CREATE TABLE cospace (
    seq                               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                                text NOT NULL UNIQUE,
    name                              text,
    auto_generated                    bigint NOT NULL DEFAULT 0,
    uri                               text,
    secondary_uri                     text,
    call_id                           text UNIQUE,
    cdr_tag                           text,
    passcode                          text,
    default_layout                    text,
    tenant                            text REFERENCES tenant(id) ON DELETE RESTRICT,
    call_leg_profile                  text,
    call_profile                      text,
    call_branding_profile             text,
    dial_in_security_profile          text,
    secret                            text,
    non_member_access                 bigint NOT NULL DEFAULT 1,
    owner_jid                         text,
    stream_url                        text,
    owner_ad_guid                     text,
    meeting_scheduler                 text,
    pane_placement_highest_importance bigint,
    pane_placement_self_pane_mode     text,
    created_ms                        bigint NOT NULL,
    updated_ms                        bigint NOT NULL
);
CREATE INDEX cospace_uri ON cospace (lower(uri));
CREATE INDEX cospace_secondary_uri ON cospace (lower(secondary_uri));
CREATE INDEX cospace_tenant ON cospace(tenant);

CREATE TABLE inbound_dial_plan_rule (
    seq                          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                           text NOT NULL UNIQUE,
    domain                       text NOT NULL,
    priority                     bigint NOT NULL DEFAULT 0,
    resolve_to_users             bigint NOT NULL DEFAULT 1,
    resolve_to_cospaces          bigint NOT NULL DEFAULT 1,
    resolve_to_ivrs              bigint NOT NULL DEFAULT 1,
    resolve_to_lync_conferences  bigint NOT NULL DEFAULT 0,
    resolve_to_lync_simplejoin   bigint NOT NULL DEFAULT 0,
    tenant                       text REFERENCES tenant(id) ON DELETE RESTRICT,
    created_ms                   bigint NOT NULL,
    updated_ms                   bigint NOT NULL
);
CREATE INDEX inbound_rule_domain ON inbound_dial_plan_rule (lower(domain), priority);

ALTER TABLE call_bridge_group ADD COLUMN created_ms bigint NOT NULL DEFAULT 0;
ALTER TABLE call_bridge_group ADD COLUMN updated_ms bigint NOT NULL DEFAULT 0;
ALTER TABLE call_bridge ADD COLUMN created_ms bigint NOT NULL DEFAULT 0;
ALTER TABLE call_bridge ADD COLUMN updated_ms bigint NOT NULL DEFAULT 0;
