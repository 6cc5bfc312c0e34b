-- 0011: every "this value is taken" rule of the API held by a constraint, so that it holds when
-- several call bridges write one database at once (PostgreSQL, READ COMMITTED), not only because
-- SQLite has one writer at a time. The API still checks first, for its precise reason; the
-- constraint decides (api/res/resource.c retries a write refused by one, and the retry's check
-- names the reason).
--
-- A coSpace's dialable addresses: a uri (uri and secondaryUri of coSpaces, uri of access
-- methods: one namespace, compared without regard to ASCII case as the checks' COLLATE NOCASE
-- does) and a callId (coSpaces' and access methods': one namespace, exact) belong to at most one
-- coSpace; within that space several rows may hold it (an access method with the space's callId
-- and another passcode, a space whose uri is also its secondaryUri). One value space spans three
-- columns of two tables, which no UNIQUE index can cover, so a claim table does: space_address
-- holds one row per (kind, value) with the space that owns it and how many of that space's
-- columns hold it (refs). Triggers keep it in the statement that writes the row, so a claim
-- cannot be forgotten by a writer that is not the API (bulk syncs, LDAP syncs, cbctl, a restore),
-- and a second space claiming a value fails with a primary key violation (-EEXIST). The store
-- could keep it in the same transaction instead, but every writer would have to remember it.
-- SQLite: the trigger bodies change claims through the view space_address_change, whose
-- INSTEAD OF trigger adds or removes one holder (delta 1 or -1).
--
-- Existing rows: the claims are filled from them. A value already held by two spaces (only
-- possible if two nodes wrote before this migration) makes the INSERT below fail, so the
-- migration, and the daemon's start, fail with a unique constraint error on space_address:
-- give one of the spaces another uri or callId with the old version, then start again
-- (docs/operations.md).

CREATE TABLE space_address (
    kind    TEXT NOT NULL, -- 'uri' or 'callId'
    value   TEXT NOT NULL, -- a uri lower-cased, a callId as given
    cospace TEXT NOT NULL, -- the owner's id
    refs    INTEGER NOT NULL,
    PRIMARY KEY (kind, value)
) STRICT;

INSERT INTO space_address (kind, value, cospace, refs)
SELECT kind, value, cospace, count(*) FROM (
    SELECT 'uri' AS kind, lower(uri) AS value, id AS cospace FROM cospace WHERE uri IS NOT NULL
    UNION ALL SELECT 'uri', lower(secondary_uri), id FROM cospace WHERE secondary_uri IS NOT NULL
    UNION ALL SELECT 'callId', call_id, id FROM cospace WHERE call_id IS NOT NULL
    UNION ALL SELECT 'uri', lower(uri), cospace FROM access_method WHERE uri IS NOT NULL
    UNION ALL SELECT 'callId', call_id, cospace FROM access_method WHERE call_id IS NOT NULL
) AS holders GROUP BY kind, value, cospace;

CREATE VIEW space_address_change (kind, value, cospace, delta) AS
    SELECT kind, value, cospace, refs FROM space_address WHERE 0;

CREATE TRIGGER space_address_change INSTEAD OF INSERT ON space_address_change BEGIN
    UPDATE space_address SET refs = refs + NEW.delta
        WHERE kind = NEW.kind AND value = NEW.value AND cospace = NEW.cospace;
    INSERT INTO space_address (kind, value, cospace, refs)
        SELECT NEW.kind, NEW.value, NEW.cospace, 1 WHERE NEW.delta > 0 AND NOT EXISTS (
            SELECT 1 FROM space_address
            WHERE kind = NEW.kind AND value = NEW.value AND cospace = NEW.cospace);
    DELETE FROM space_address WHERE kind = NEW.kind AND value = NEW.value AND refs <= 0;
END;

CREATE TRIGGER cospace_address_insert AFTER INSERT ON cospace BEGIN
    INSERT INTO space_address_change
        SELECT 'uri', lower(NEW.uri), NEW.id, 1 WHERE NEW.uri IS NOT NULL;
    INSERT INTO space_address_change
        SELECT 'uri', lower(NEW.secondary_uri), NEW.id, 1 WHERE NEW.secondary_uri IS NOT NULL;
    INSERT INTO space_address_change
        SELECT 'callId', NEW.call_id, NEW.id, 1 WHERE NEW.call_id IS NOT NULL;
END;

CREATE TRIGGER cospace_address_delete AFTER DELETE ON cospace BEGIN
    INSERT INTO space_address_change
        SELECT 'uri', lower(OLD.uri), OLD.id, -1 WHERE OLD.uri IS NOT NULL;
    INSERT INTO space_address_change
        SELECT 'uri', lower(OLD.secondary_uri), OLD.id, -1 WHERE OLD.secondary_uri IS NOT NULL;
    INSERT INTO space_address_change
        SELECT 'callId', OLD.call_id, OLD.id, -1 WHERE OLD.call_id IS NOT NULL;
END;

-- the old values are released before the new ones are claimed, so a space may swap its uri and
-- secondaryUri or take back a value it held
CREATE TRIGGER cospace_address_update AFTER UPDATE OF uri, secondary_uri, call_id ON cospace BEGIN
    INSERT INTO space_address_change SELECT 'uri', lower(OLD.uri), OLD.id, -1
        WHERE OLD.uri IS NOT NULL AND OLD.uri IS NOT NEW.uri;
    INSERT INTO space_address_change SELECT 'uri', lower(OLD.secondary_uri), OLD.id, -1
        WHERE OLD.secondary_uri IS NOT NULL AND OLD.secondary_uri IS NOT NEW.secondary_uri;
    INSERT INTO space_address_change SELECT 'callId', OLD.call_id, OLD.id, -1
        WHERE OLD.call_id IS NOT NULL AND OLD.call_id IS NOT NEW.call_id;
    INSERT INTO space_address_change SELECT 'uri', lower(NEW.uri), NEW.id, 1
        WHERE NEW.uri IS NOT NULL AND OLD.uri IS NOT NEW.uri;
    INSERT INTO space_address_change SELECT 'uri', lower(NEW.secondary_uri), NEW.id, 1
        WHERE NEW.secondary_uri IS NOT NULL AND OLD.secondary_uri IS NOT NEW.secondary_uri;
    INSERT INTO space_address_change SELECT 'callId', NEW.call_id, NEW.id, 1
        WHERE NEW.call_id IS NOT NULL AND OLD.call_id IS NOT NEW.call_id;
END;

CREATE TRIGGER access_method_address_insert AFTER INSERT ON access_method BEGIN
    INSERT INTO space_address_change
        SELECT 'uri', lower(NEW.uri), NEW.cospace, 1 WHERE NEW.uri IS NOT NULL;
    INSERT INTO space_address_change
        SELECT 'callId', NEW.call_id, NEW.cospace, 1 WHERE NEW.call_id IS NOT NULL;
END;

CREATE TRIGGER access_method_address_delete AFTER DELETE ON access_method BEGIN
    INSERT INTO space_address_change
        SELECT 'uri', lower(OLD.uri), OLD.cospace, -1 WHERE OLD.uri IS NOT NULL;
    INSERT INTO space_address_change
        SELECT 'callId', OLD.call_id, OLD.cospace, -1 WHERE OLD.call_id IS NOT NULL;
END;

CREATE TRIGGER access_method_address_update AFTER UPDATE OF uri, call_id, cospace
    ON access_method BEGIN
    INSERT INTO space_address_change SELECT 'uri', lower(OLD.uri), OLD.cospace, -1
        WHERE OLD.uri IS NOT NULL AND (OLD.uri IS NOT NEW.uri OR OLD.cospace IS NOT NEW.cospace);
    INSERT INTO space_address_change SELECT 'callId', OLD.call_id, OLD.cospace, -1
        WHERE OLD.call_id IS NOT NULL
          AND (OLD.call_id IS NOT NEW.call_id OR OLD.cospace IS NOT NEW.cospace);
    INSERT INTO space_address_change SELECT 'uri', lower(NEW.uri), NEW.cospace, 1
        WHERE NEW.uri IS NOT NULL AND (OLD.uri IS NOT NEW.uri OR OLD.cospace IS NOT NEW.cospace);
    INSERT INTO space_address_change SELECT 'callId', NEW.call_id, NEW.cospace, 1
        WHERE NEW.call_id IS NOT NULL
          AND (OLD.call_id IS NOT NEW.call_id OR OLD.cospace IS NOT NEW.cospace);
END;

-- IVR uris are unique without regard to case (ivrUriConflict; the check is AF_NOCASE): the index
-- of 0005 becomes a unique one.
DROP INDEX ivr_uri;
CREATE UNIQUE INDEX ivr_uri ON ivr(uri COLLATE NOCASE);

-- Call bridge names are unique without regard to case (duplicateCallBridgeName, AF_NOCASE); 0001's
-- UNIQUE compares bytes.
CREATE UNIQUE INDEX call_bridge_name_nocase ON call_bridge(name COLLATE NOCASE);
