-- 0011: every "this value is taken" rule of the API held by a constraint, so that it holds when
-- several call bridges write one database at once (READ COMMITTED), not only because SQLite has
-- one writer at a time. The API still checks first, for its precise reason; the constraint
-- decides (api/res/resource.c retries a write refused by one, and the retry's check names the
-- reason).
--
-- A coSpace's dialable addresses: a uri (uri and secondaryUri of coSpaces, uri of access
-- methods: one namespace, compared as lower(x), as the checks do on PostgreSQL) and a callId
-- (coSpaces' and access methods': one namespace, exact) belong to at most one coSpace; within
-- that space several rows may hold it (an access method with the space's callId and another
-- passcode, a space whose uri is also its secondaryUri). One value space spans three columns of
-- two tables, which no UNIQUE index can cover, so a claim table does: space_address holds one
-- row per (kind, value) with the space that owns it and how many of that space's columns hold it
-- (refs). Triggers keep it in the statement that writes the row, so a claim cannot be forgotten
-- by a writer that is not the API (bulk syncs, LDAP syncs, cbctl, a restore). The store could
-- keep it in the same transaction instead, but every writer would have to remember it.
-- PostgreSQL: a claim is INSERT ... ON CONFLICT DO UPDATE of refs when the owner is the same
-- space. That statement waits for a concurrent transaction that inserted or changed the same
-- (kind, value) and then sees its outcome, so of two nodes claiming one value for two spaces at
-- once, the second fails with unique_violation (23505, -EEXIST) after the first commits, or
-- succeeds if the first rolled back.
--
-- Existing rows: the claims are filled from them. A value already held by two spaces (possible
-- only if two nodes wrote at once before this migration) makes the INSERT below fail, so the
-- migration, and the daemon's start, fail with a unique violation on space_address: give one of
-- the spaces another uri or callId with the old version, then start again (docs/operations.md).

CREATE TABLE space_address (
    kind    text NOT NULL, -- 'uri' or 'callId'
    value   text NOT NULL, -- a uri lower-cased, a callId as given
    cospace text NOT NULL, -- the owner's id
    refs    bigint NOT NULL,
    PRIMARY KEY (kind, value)
);

INSERT INTO space_address (kind, value, cospace, refs)
SELECT kind, value, cospace, count(*) FROM (
    SELECT 'uri' AS kind, lower(uri) AS value, id AS cospace FROM cospace WHERE uri IS NOT NULL
    UNION ALL SELECT 'uri', lower(secondary_uri), id FROM cospace WHERE secondary_uri IS NOT NULL
    UNION ALL SELECT 'callId', call_id, id FROM cospace WHERE call_id IS NOT NULL
    UNION ALL SELECT 'uri', lower(uri), cospace FROM access_method WHERE uri IS NOT NULL
    UNION ALL SELECT 'callId', call_id, cospace FROM access_method WHERE call_id IS NOT NULL
) AS holders GROUP BY kind, value, cospace;

-- One more holder of (k, v) in space s; NULL v holds nothing.
CREATE FUNCTION space_address_claim(k text, v text, s text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF v IS NULL THEN
        RETURN;
    END IF;
    INSERT INTO space_address AS a (kind, value, cospace, refs) VALUES (k, v, s, 1)
        ON CONFLICT (kind, value) DO UPDATE SET refs = a.refs + 1 WHERE a.cospace = EXCLUDED.cospace;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'this coSpace % is another coSpace''s', k USING ERRCODE = 'unique_violation';
    END IF;
END $$;

-- One holder fewer; the claim goes with the last.
CREATE FUNCTION space_address_release(k text, v text, s text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF v IS NULL THEN
        RETURN;
    END IF;
    UPDATE space_address SET refs = refs - 1 WHERE kind = k AND value = v AND cospace = s;
    DELETE FROM space_address WHERE kind = k AND value = v AND refs <= 0;
END $$;

-- The old values are released before the new ones are claimed, so a space may swap its uri and
-- secondaryUri or take back a value it held.
CREATE FUNCTION cospace_address() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM space_address_claim('uri', lower(NEW.uri), NEW.id);
        PERFORM space_address_claim('uri', lower(NEW.secondary_uri), NEW.id);
        PERFORM space_address_claim('callId', NEW.call_id, NEW.id);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM space_address_release('uri', lower(OLD.uri), OLD.id);
        PERFORM space_address_release('uri', lower(OLD.secondary_uri), OLD.id);
        PERFORM space_address_release('callId', OLD.call_id, OLD.id);
    ELSE
        IF OLD.uri IS DISTINCT FROM NEW.uri THEN
            PERFORM space_address_release('uri', lower(OLD.uri), OLD.id);
        END IF;
        IF OLD.secondary_uri IS DISTINCT FROM NEW.secondary_uri THEN
            PERFORM space_address_release('uri', lower(OLD.secondary_uri), OLD.id);
        END IF;
        IF OLD.call_id IS DISTINCT FROM NEW.call_id THEN
            PERFORM space_address_release('callId', OLD.call_id, OLD.id);
        END IF;
        IF OLD.uri IS DISTINCT FROM NEW.uri THEN
            PERFORM space_address_claim('uri', lower(NEW.uri), NEW.id);
        END IF;
        IF OLD.secondary_uri IS DISTINCT FROM NEW.secondary_uri THEN
            PERFORM space_address_claim('uri', lower(NEW.secondary_uri), NEW.id);
        END IF;
        IF OLD.call_id IS DISTINCT FROM NEW.call_id THEN
            PERFORM space_address_claim('callId', NEW.call_id, NEW.id);
        END IF;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER cospace_address AFTER INSERT OR DELETE OR UPDATE OF uri, secondary_uri, call_id
    ON cospace FOR EACH ROW EXECUTE FUNCTION cospace_address();

CREATE FUNCTION access_method_address() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM space_address_claim('uri', lower(NEW.uri), NEW.cospace);
        PERFORM space_address_claim('callId', NEW.call_id, NEW.cospace);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM space_address_release('uri', lower(OLD.uri), OLD.cospace);
        PERFORM space_address_release('callId', OLD.call_id, OLD.cospace);
    ELSE
        IF OLD.uri IS DISTINCT FROM NEW.uri OR OLD.cospace IS DISTINCT FROM NEW.cospace THEN
            PERFORM space_address_release('uri', lower(OLD.uri), OLD.cospace);
        END IF;
        IF OLD.call_id IS DISTINCT FROM NEW.call_id OR OLD.cospace IS DISTINCT FROM NEW.cospace THEN
            PERFORM space_address_release('callId', OLD.call_id, OLD.cospace);
        END IF;
        IF OLD.uri IS DISTINCT FROM NEW.uri OR OLD.cospace IS DISTINCT FROM NEW.cospace THEN
            PERFORM space_address_claim('uri', lower(NEW.uri), NEW.cospace);
        END IF;
        IF OLD.call_id IS DISTINCT FROM NEW.call_id OR OLD.cospace IS DISTINCT FROM NEW.cospace THEN
            PERFORM space_address_claim('callId', NEW.call_id, NEW.cospace);
        END IF;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER access_method_address AFTER INSERT OR DELETE OR UPDATE OF uri, call_id, cospace
    ON access_method FOR EACH ROW EXECUTE FUNCTION access_method_address();

-- IVR uris are unique without regard to case (ivrUriConflict; the check is AF_NOCASE): the index
-- of 0005 becomes a unique one.
DROP INDEX ivr_uri;
CREATE UNIQUE INDEX ivr_uri ON ivr (lower(uri));

-- Call bridge names are unique without regard to case (duplicateCallBridgeName, AF_NOCASE); 0001's
-- UNIQUE compares bytes.
CREATE UNIQUE INDEX call_bridge_name_nocase ON call_bridge (lower(name));
