-- PostgreSQL's migration set, in lockstep with schema/*.sql (SQLite): one file per SQLite
-- migration, same number and name, same tables, columns (in the same order), NOT NULL, defaults,
-- UNIQUE constraints, indexes, foreign keys and checks; the lockstep test (tests/test_pg.c)
-- compares the two. Where SQLite has something PostgreSQL has not:
-- - INTEGER -> bigint, TEXT -> text, BLOB -> bytea; STRICT is PostgreSQL's behaviour already.
-- - seq INTEGER PRIMARY KEY (SQLite's rowid, creation order) -> bigint GENERATED ALWAYS AS
--   IDENTITY PRIMARY KEY: the database numbers rows, no code ever writes seq, and a sequence is
--   safe when several nodes insert at once (values increase; gaps after a rollback are harmless).
-- - COLLATE NOCASE: the queries compare "lower(x) = lower(?N)" on PostgreSQL (store/db.h,
--   dialect difference 1), so each SQLite index on "x COLLATE NOCASE" is an index on lower(x)
--   here, and ldap_user's case-insensitive UNIQUE user_jid a unique index on lower(user_jid).
--   The collation nocase below, a nondeterministic ICU collation at strength 2 (case-insensitive,
--   accent-sensitive, as SQLite's NOCASE for ASCII), exists so that a query that still says
--   "COLLATE NOCASE" parses (an unquoted name folds to nocase) and compares the same; no column
--   uses it, as PostgreSQL 15 refuses LIKE and ILIKE on a nondeterministic collation.
-- Uniqueness holds by constraint (UNIQUE, PRIMARY KEY), never by a check before an insert, so two
-- nodes writing at once get one success and one unique_violation (23505).

CREATE COLLATION IF NOT EXISTS nocase (provider = icu, locale = 'und-u-ks-level2',
    deterministic = false);

-- 0001: API users, call bridges and groups (referenced by TURN servers), TURN servers.
-- seq gives creation order, so list pages are stable; id is the public lowercase UUID.

CREATE TABLE api_user (
    -- PostgreSQL: COLLATE "C", so that users list in SQLite's byte order (store/q_user.c
    -- "ORDER BY name") whatever the database's locale; equality is the same either way.
    name       text COLLATE "C" PRIMARY KEY NOT NULL,
    hash       text NOT NULL,              -- pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>
    created_ms bigint NOT NULL
);

CREATE TABLE call_bridge_group (
    seq  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id   text NOT NULL UNIQUE,
    name text
);

CREATE TABLE call_bridge (
    seq               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                text NOT NULL UNIQUE,
    name              text UNIQUE,
    address           text,
    sip_domain        text,
    call_bridge_group text REFERENCES call_bridge_group(id) ON DELETE RESTRICT
);

CREATE TABLE turn_server (
    seq                        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                         text NOT NULL UNIQUE,
    server_address             text,
    client_address             text,
    username                   text,
    password                   bytea,       -- AES-256-GCM, see api/secret.c
    type                       text NOT NULL DEFAULT 'standard',
    num_registrations          bigint,
    tcp_port_number_override   bigint,
    call_bridge                text REFERENCES call_bridge(id) ON DELETE RESTRICT,
    call_bridge_group          text REFERENCES call_bridge_group(id) ON DELETE RESTRICT,
    use_short_term_credentials bigint NOT NULL DEFAULT 0,
    shared_secret              bytea,       -- AES-256-GCM, see api/secret.c
    created_ms                 bigint NOT NULL,
    updated_ms                 bigint NOT NULL
);
