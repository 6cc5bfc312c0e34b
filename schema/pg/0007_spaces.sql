-- 0007: what hangs off a coSpace (its access methods and members), coSpace templates with their
-- access method templates, and the bulk parameter sets and syncs that create coSpaces in ranges.
-- A child row keeps its parent's id and goes with it (ON DELETE CASCADE), as in CMS. An access
-- method may share its coSpace's callId or uri with another passcode (host and guest PINs), so
-- neither is UNIQUE here: api/res/access.c checks them in the write transaction.

CREATE TABLE access_method (
    seq                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                       text NOT NULL UNIQUE,
    cospace                  text NOT NULL REFERENCES cospace(id) ON DELETE CASCADE,
    uri                      text,
    call_id                  text,
    passcode                 text,
    name                     text,
    call_leg_profile         text,
    secret                   text,
    scope                    text,
    importance               bigint,
    dial_in_security_profile text,
    created_ms               bigint NOT NULL,
    updated_ms               bigint NOT NULL
);
CREATE INDEX access_method_cospace ON access_method(cospace);
CREATE INDEX access_method_uri ON access_method (lower(uri));
CREATE INDEX access_method_call_id ON access_method(call_id);

CREATE TABLE cospace_user (
    seq                                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                                   text NOT NULL UNIQUE,
    cospace                              text NOT NULL REFERENCES cospace(id) ON DELETE CASCADE,
    user_jid                             text NOT NULL,
    auto_generated                       bigint NOT NULL DEFAULT 0,
    call_leg_profile                     text,
    can_destroy                          bigint,
    can_add_remove_member                bigint,
    can_change_name                      bigint,
    can_change_uri                       bigint,
    can_change_call_id                   bigint,
    can_change_passcode                  bigint,
    can_post_message                     bigint,
    can_remove_self                      bigint,
    can_delete_all_messages              bigint,
    can_change_non_member_access_allowed bigint,
    created_ms                           bigint NOT NULL,
    updated_ms                           bigint NOT NULL,
    UNIQUE (cospace, user_jid)
);

CREATE TABLE cospace_template (
    seq                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                       text NOT NULL UNIQUE,
    name                     text,
    description              text,
    call_profile             text,
    call_leg_profile         text,
    dial_in_security_profile text,
    created_ms               bigint NOT NULL,
    updated_ms               bigint NOT NULL
);

CREATE TABLE access_method_template (
    seq                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                       text NOT NULL UNIQUE,
    cospace_template         text NOT NULL REFERENCES cospace_template(id) ON DELETE CASCADE,
    name                     text,
    uri_generator            text,
    call_leg_profile         text,
    generate_unique_call_id  bigint NOT NULL DEFAULT 0,
    dial_in_security_profile text,
    created_ms               bigint NOT NULL,
    updated_ms               bigint NOT NULL
);
CREATE INDEX access_method_template_parent ON access_method_template(cospace_template);

CREATE TABLE cospace_bulk_set (
    seq                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                    text NOT NULL UNIQUE,
    start_index           bigint NOT NULL,
    end_index             bigint NOT NULL,
    cospace_uri_mapping   text,
    cospace_name_mapping  text,
    cospace_call_id_mapping text,
    tenant                text REFERENCES tenant(id) ON DELETE RESTRICT,
    call_profile          text,
    call_branding_profile text,
    non_member_access     bigint NOT NULL DEFAULT 1,
    created_ms            bigint NOT NULL,
    updated_ms            bigint NOT NULL
);

-- Which coSpaces a parameter set's syncs made (id: the coSpace's), so that the next sync updates
-- them and removeAll finds them.
CREATE TABLE cospace_bulk_member (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         text NOT NULL UNIQUE REFERENCES cospace(id) ON DELETE CASCADE,
    bulk_set   text NOT NULL REFERENCES cospace_bulk_set(id) ON DELETE CASCADE,
    idx        bigint NOT NULL,
    created_ms bigint NOT NULL,
    updated_ms bigint NOT NULL,
    UNIQUE (bulk_set, idx)
);

-- A sync names its set by id without a reference: its record outlives the set
-- (failedNoSuchParameterSet is a status, not a refusal).
CREATE TABLE cospace_bulk_sync (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         text NOT NULL UNIQUE,
    bulk_set   text NOT NULL,
    status     text NOT NULL,
    remove_all bigint NOT NULL DEFAULT 0,
    created_ms bigint NOT NULL,
    updated_ms bigint NOT NULL
);
