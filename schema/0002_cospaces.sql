-- 0002: tenants, coSpaces and the inbound dial plan; call bridges get their API.
-- URIs and domains compare without regard to case, as administrators expect.

CREATE TABLE tenant (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    name       TEXT,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE cospace (
    seq                               INTEGER PRIMARY KEY,
    id                                TEXT NOT NULL UNIQUE,
    name                              TEXT,
    auto_generated                    INTEGER NOT NULL DEFAULT 0,
    uri                               TEXT,
    secondary_uri                     TEXT,
    call_id                           TEXT UNIQUE,
    cdr_tag                           TEXT,
    passcode                          TEXT,
    default_layout                    TEXT,
    tenant                            TEXT REFERENCES tenant(id) ON DELETE RESTRICT,
    call_leg_profile                  TEXT,
    call_profile                      TEXT,
    call_branding_profile             TEXT,
    dial_in_security_profile          TEXT,
    secret                            TEXT,
    non_member_access                 INTEGER NOT NULL DEFAULT 1,
    owner_jid                         TEXT,
    stream_url                        TEXT,
    owner_ad_guid                     TEXT,
    meeting_scheduler                 TEXT,
    pane_placement_highest_importance INTEGER,
    pane_placement_self_pane_mode     TEXT,
    created_ms                        INTEGER NOT NULL,
    updated_ms                        INTEGER NOT NULL
) STRICT;
CREATE INDEX cospace_uri ON cospace(uri COLLATE NOCASE);
CREATE INDEX cospace_secondary_uri ON cospace(secondary_uri COLLATE NOCASE);
CREATE INDEX cospace_tenant ON cospace(tenant);

CREATE TABLE inbound_dial_plan_rule (
    seq                          INTEGER PRIMARY KEY,
    id                           TEXT NOT NULL UNIQUE,
    domain                       TEXT NOT NULL,
    priority                     INTEGER NOT NULL DEFAULT 0,
    resolve_to_users             INTEGER NOT NULL DEFAULT 1,
    resolve_to_cospaces          INTEGER NOT NULL DEFAULT 1,
    resolve_to_ivrs              INTEGER NOT NULL DEFAULT 1,
    resolve_to_lync_conferences  INTEGER NOT NULL DEFAULT 0,
    resolve_to_lync_simplejoin   INTEGER NOT NULL DEFAULT 0,
    tenant                       TEXT REFERENCES tenant(id) ON DELETE RESTRICT,
    created_ms                   INTEGER NOT NULL,
    updated_ms                   INTEGER NOT NULL
) STRICT;
CREATE INDEX inbound_rule_domain ON inbound_dial_plan_rule(domain COLLATE NOCASE, priority);

ALTER TABLE call_bridge_group ADD COLUMN created_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE call_bridge_group ADD COLUMN updated_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE call_bridge ADD COLUMN created_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE call_bridge ADD COLUMN updated_ms INTEGER NOT NULL DEFAULT 0;
