-- 0009: LDAP: servers, field mappings, sources (a server + a mapping + where to look), external
-- directory search locations, coSpace template sources, syncs, and the users a sync imports
-- (api/res/ldap.c describes the objects, api/ldap_sync.c fills ldap_user and its coSpaces).
-- A source's server and mapping are not foreign keys: CMS lets either be deleted while a source
-- names it, and the sync that meets such a source ends failed (ldapError).

CREATE TABLE ldap_server (
    seq               INTEGER PRIMARY KEY,
    id                TEXT NOT NULL UNIQUE,
    address           TEXT NOT NULL,
    name              TEXT,
    port_number       INTEGER NOT NULL,
    username          TEXT,
    password          BLOB, -- sealed (api/secret.c), never shown
    secure            INTEGER NOT NULL,
    use_paged_results INTEGER,
    created_ms        INTEGER NOT NULL,
    updated_ms        INTEGER NOT NULL
) STRICT;

CREATE TABLE ldap_mapping (
    seq                           INTEGER PRIMARY KEY,
    id                            TEXT NOT NULL UNIQUE,
    jid_mapping                   TEXT,
    name_mapping                  TEXT,
    cdr_tag_mapping               TEXT,
    authentication_id_mapping     TEXT,
    cospace_uri_mapping           TEXT,
    cospace_secondary_uri_mapping TEXT,
    cospace_name_mapping          TEXT,
    cospace_call_id_mapping       TEXT,
    created_ms                    INTEGER NOT NULL,
    updated_ms                    INTEGER NOT NULL
) STRICT;

CREATE TABLE ldap_source (
    seq               INTEGER PRIMARY KEY,
    id                TEXT NOT NULL UNIQUE,
    server            TEXT NOT NULL,
    mapping           TEXT NOT NULL,
    base_dn           TEXT NOT NULL,
    filter            TEXT,
    tenant            TEXT REFERENCES tenant(id) ON DELETE RESTRICT,
    user_profile      TEXT REFERENCES user_profile(id) ON DELETE SET NULL,
    non_member_access INTEGER,
    created_ms        INTEGER NOT NULL,
    updated_ms        INTEGER NOT NULL
) STRICT;
CREATE INDEX ldap_source_tenant ON ldap_source(tenant);

CREATE TABLE directory_search_location (
    seq           INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    ldap_server   TEXT NOT NULL,
    tenant        TEXT REFERENCES tenant(id) ON DELETE RESTRICT,
    base_dn       TEXT,
    filter_format TEXT,
    label         TEXT,
    priority      INTEGER NOT NULL DEFAULT 0,
    first_name    TEXT,
    last_name     TEXT,
    display_name  TEXT,
    phone         TEXT,
    mobile        TEXT,
    email         TEXT,
    sip           TEXT,
    organisation  TEXT,
    created_ms    INTEGER NOT NULL,
    updated_ms    INTEGER NOT NULL
) STRICT;

CREATE TABLE ldap_user_cospace_template_source (
    seq              INTEGER PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    cospace_template TEXT REFERENCES cospace_template(id) ON DELETE CASCADE,
    ldap_source      TEXT REFERENCES ldap_source(id) ON DELETE CASCADE,
    filter           TEXT,
    created_ms       INTEGER NOT NULL,
    updated_ms       INTEGER NOT NULL
) STRICT;

-- state: pending -> inProgress -> complete | failed (api/ldap_sync.c moves it)
CREATE TABLE ldap_sync (
    seq                       INTEGER PRIMARY KEY,
    id                        TEXT NOT NULL UNIQUE,
    tenant                    TEXT,
    ldap_source               TEXT,
    remove_when_finished      INTEGER NOT NULL DEFAULT 1,
    state                     TEXT NOT NULL DEFAULT 'pending',
    failure_reason            TEXT,
    num_users_imported        INTEGER,
    num_ldap_sources_complete INTEGER,
    created_ms                INTEGER NOT NULL,
    updated_ms                INTEGER NOT NULL
) STRICT;
CREATE INDEX ldap_sync_state ON ldap_sync(state);

-- CMS users (GET /users): only a sync writes them. entry is the directory entry's DN, which
-- tells a later sync of the same source which user an entry already is.
CREATE TABLE ldap_user (
    seq               INTEGER PRIMARY KEY,
    id                TEXT NOT NULL UNIQUE,
    user_jid          TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name              TEXT,
    email             TEXT,
    authentication_id TEXT,
    cdr_tag           TEXT,
    tenant            TEXT,
    user_profile      TEXT,
    ldap_source       TEXT NOT NULL,
    entry             TEXT NOT NULL,
    cospace           TEXT REFERENCES cospace(id) ON DELETE SET NULL,
    created_ms        INTEGER NOT NULL,
    updated_ms        INTEGER NOT NULL
) STRICT;
CREATE INDEX ldap_user_source ON ldap_user(ldap_source, entry);
CREATE INDEX ldap_user_tenant ON ldap_user(tenant);
CREATE INDEX ldap_user_cospace ON ldap_user(cospace);
