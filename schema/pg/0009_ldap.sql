-- 0009: LDAP: servers, field mappings, sources (a server + a mapping + where to look), external
-- directory search locations, coSpace template sources, syncs, and the users a sync imports
-- (api/res/ldap.c describes the objects, api/ldap_sync.c fills ldap_user and its coSpaces).
-- A source's server and mapping are not foreign keys: CMS lets either be deleted while a source
-- names it, and the sync that meets such a source ends failed (ldapError).

CREATE TABLE ldap_server (
    seq               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                text NOT NULL UNIQUE,
    address           text NOT NULL,
    name              text,
    port_number       bigint NOT NULL,
    username          text,
    password          bytea, -- sealed (api/secret.c), never shown
    secure            bigint NOT NULL,
    use_paged_results bigint,
    created_ms        bigint NOT NULL,
    updated_ms        bigint NOT NULL
);

CREATE TABLE ldap_mapping (
    seq                           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                            text NOT NULL UNIQUE,
    jid_mapping                   text,
    name_mapping                  text,
    cdr_tag_mapping               text,
    authentication_id_mapping     text,
    cospace_uri_mapping           text,
    cospace_secondary_uri_mapping text,
    cospace_name_mapping          text,
    cospace_call_id_mapping       text,
    created_ms                    bigint NOT NULL,
    updated_ms                    bigint NOT NULL
);

CREATE TABLE ldap_source (
    seq               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                text NOT NULL UNIQUE,
    server            text NOT NULL,
    mapping           text NOT NULL,
    base_dn           text NOT NULL,
    filter            text,
    tenant            text REFERENCES tenant(id) ON DELETE RESTRICT,
    user_profile      text REFERENCES user_profile(id) ON DELETE SET NULL,
    non_member_access bigint,
    created_ms        bigint NOT NULL,
    updated_ms        bigint NOT NULL
);
CREATE INDEX ldap_source_tenant ON ldap_source(tenant);

CREATE TABLE directory_search_location (
    seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id            text NOT NULL UNIQUE,
    ldap_server   text NOT NULL,
    tenant        text REFERENCES tenant(id) ON DELETE RESTRICT,
    base_dn       text,
    filter_format text,
    label         text,
    priority      bigint NOT NULL DEFAULT 0,
    first_name    text,
    last_name     text,
    display_name  text,
    phone         text,
    mobile        text,
    email         text,
    sip           text,
    organisation  text,
    created_ms    bigint NOT NULL,
    updated_ms    bigint NOT NULL
);

CREATE TABLE ldap_user_cospace_template_source (
    seq              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id               text NOT NULL UNIQUE,
    cospace_template text REFERENCES cospace_template(id) ON DELETE CASCADE,
    ldap_source      text REFERENCES ldap_source(id) ON DELETE CASCADE,
    filter           text,
    created_ms       bigint NOT NULL,
    updated_ms       bigint NOT NULL
);

-- state: pending -> inProgress -> complete | failed (api/ldap_sync.c moves it)
CREATE TABLE ldap_sync (
    seq                       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                        text NOT NULL UNIQUE,
    tenant                    text,
    ldap_source               text,
    remove_when_finished      bigint NOT NULL DEFAULT 1,
    state                     text NOT NULL DEFAULT 'pending',
    failure_reason            text,
    num_users_imported        bigint,
    num_ldap_sources_complete bigint,
    created_ms                bigint NOT NULL,
    updated_ms                bigint NOT NULL
);
CREATE INDEX ldap_sync_state ON ldap_sync(state);

-- CMS users (GET /users): only a sync writes them. entry is the directory entry's DN, which
-- tells a later sync of the same source which user an entry already is.
CREATE TABLE ldap_user (
    seq               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                text NOT NULL UNIQUE,
    user_jid          text NOT NULL, -- PostgreSQL: unique by lower(user_jid), below
    name              text,
    email             text,
    authentication_id text,
    cdr_tag           text,
    tenant            text,
    user_profile      text,
    ldap_source       text NOT NULL,
    entry             text NOT NULL,
    cospace           text REFERENCES cospace(id) ON DELETE SET NULL,
    created_ms        bigint NOT NULL,
    updated_ms        bigint NOT NULL
);
-- PostgreSQL: SQLite's "UNIQUE COLLATE NOCASE" of user_jid: unique without regard to case.
CREATE UNIQUE INDEX ldap_user_user_jid ON ldap_user (lower(user_jid));
CREATE INDEX ldap_user_source ON ldap_user(ldap_source, entry);
CREATE INDEX ldap_user_tenant ON ldap_user(tenant);
CREATE INDEX ldap_user_cospace ON ldap_user(cospace);
