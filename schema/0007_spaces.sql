-- 0005: what hangs off a coSpace (its access methods and members), coSpace templates with their
-- access method templates, and the bulk parameter sets and syncs that create coSpaces in ranges.
-- A child row keeps its parent's id and goes with it (ON DELETE CASCADE), as in CMS. An access
-- method may share its coSpace's callId or uri with another passcode (host and guest PINs), so
-- neither is UNIQUE here: api/res/access.c checks them in the write transaction.

CREATE TABLE access_method (
    seq                      INTEGER PRIMARY KEY,
    id                       TEXT NOT NULL UNIQUE,
    cospace                  TEXT NOT NULL REFERENCES cospace(id) ON DELETE CASCADE,
    uri                      TEXT,
    call_id                  TEXT,
    passcode                 TEXT,
    name                     TEXT,
    call_leg_profile         TEXT,
    secret                   TEXT,
    scope                    TEXT,
    importance               INTEGER,
    dial_in_security_profile TEXT,
    created_ms               INTEGER NOT NULL,
    updated_ms               INTEGER NOT NULL
) STRICT;
CREATE INDEX access_method_cospace ON access_method(cospace);
CREATE INDEX access_method_uri ON access_method(uri COLLATE NOCASE);
CREATE INDEX access_method_call_id ON access_method(call_id);

CREATE TABLE cospace_user (
    seq                                  INTEGER PRIMARY KEY,
    id                                   TEXT NOT NULL UNIQUE,
    cospace                              TEXT NOT NULL REFERENCES cospace(id) ON DELETE CASCADE,
    user_jid                             TEXT NOT NULL,
    auto_generated                       INTEGER NOT NULL DEFAULT 0,
    call_leg_profile                     TEXT,
    can_destroy                          INTEGER,
    can_add_remove_member                INTEGER,
    can_change_name                      INTEGER,
    can_change_uri                       INTEGER,
    can_change_call_id                   INTEGER,
    can_change_passcode                  INTEGER,
    can_post_message                     INTEGER,
    can_remove_self                      INTEGER,
    can_delete_all_messages              INTEGER,
    can_change_non_member_access_allowed INTEGER,
    created_ms                           INTEGER NOT NULL,
    updated_ms                           INTEGER NOT NULL,
    UNIQUE (cospace, user_jid)
) STRICT;

CREATE TABLE cospace_template (
    seq                      INTEGER PRIMARY KEY,
    id                       TEXT NOT NULL UNIQUE,
    name                     TEXT,
    description              TEXT,
    call_profile             TEXT,
    call_leg_profile         TEXT,
    dial_in_security_profile TEXT,
    created_ms               INTEGER NOT NULL,
    updated_ms               INTEGER NOT NULL
) STRICT;

CREATE TABLE access_method_template (
    seq                      INTEGER PRIMARY KEY,
    id                       TEXT NOT NULL UNIQUE,
    cospace_template         TEXT NOT NULL REFERENCES cospace_template(id) ON DELETE CASCADE,
    name                     TEXT,
    uri_generator            TEXT,
    call_leg_profile         TEXT,
    generate_unique_call_id  INTEGER NOT NULL DEFAULT 0,
    dial_in_security_profile TEXT,
    created_ms               INTEGER NOT NULL,
    updated_ms               INTEGER NOT NULL
) STRICT;
CREATE INDEX access_method_template_parent ON access_method_template(cospace_template);

CREATE TABLE cospace_bulk_set (
    seq                   INTEGER PRIMARY KEY,
    id                    TEXT NOT NULL UNIQUE,
    start_index           INTEGER NOT NULL,
    end_index             INTEGER NOT NULL,
    cospace_uri_mapping   TEXT,
    cospace_name_mapping  TEXT,
    cospace_call_id_mapping TEXT,
    tenant                TEXT REFERENCES tenant(id) ON DELETE RESTRICT,
    call_profile          TEXT,
    call_branding_profile TEXT,
    non_member_access     INTEGER NOT NULL DEFAULT 1,
    created_ms            INTEGER NOT NULL,
    updated_ms            INTEGER NOT NULL
) STRICT;

-- Which coSpaces a parameter set's syncs made (id: the coSpace's), so that the next sync updates
-- them and removeAll finds them.
CREATE TABLE cospace_bulk_member (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE REFERENCES cospace(id) ON DELETE CASCADE,
    bulk_set   TEXT NOT NULL REFERENCES cospace_bulk_set(id) ON DELETE CASCADE,
    idx        INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    UNIQUE (bulk_set, idx)
) STRICT;

-- A sync names its set by id without a reference: its record outlives the set
-- (failedNoSuchParameterSet is a status, not a refusal).
CREATE TABLE cospace_bulk_sync (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    bulk_set   TEXT NOT NULL,
    status     TEXT NOT NULL,
    remove_all INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
) STRICT;
