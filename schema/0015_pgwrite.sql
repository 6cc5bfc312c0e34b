-- 0015 (pgwrite): an IVR's uri is neither a coSpace's uri nor its secondaryUri (any case) that the
-- IVR's tenant reaches (a coSpace of that tenant; an IVR of no tenant: any coSpace), held by the
-- database as 0011 holds the other "taken" rules, not only by the API's check (ivrUriConflict,
-- api/res/tenant.c): an IVR written while such a coSpace exists is refused with a unique
-- violation (-EEXIST: the API runs the request again and its check names the reason). The rule
-- goes one way, as the check does: a coSpace may take an IVR's uri.
-- SQLite: the refusal inserts the coSpace's claim of the uri (space_address, 0011) a second time,
-- a primary key violation (RAISE would be a trigger constraint, -EINVAL); SQLite's one writer at
-- a time already orders the IVR after any coSpace written before it.
CREATE TRIGGER ivr_uri_not_cospace_insert BEFORE INSERT ON ivr
WHEN NEW.uri IS NOT NULL AND EXISTS (
    SELECT 1 FROM cospace
    WHERE (uri = NEW.uri COLLATE NOCASE OR secondary_uri = NEW.uri COLLATE NOCASE)
      AND (NEW.tenant IS NULL OR tenant = NEW.tenant))
BEGIN
    INSERT INTO space_address (kind, value, cospace, refs) VALUES ('uri', lower(NEW.uri), '', 0);
    SELECT RAISE(ABORT, 'this IVR uri is a coSpace''s');
END;

CREATE TRIGGER ivr_uri_not_cospace_update BEFORE UPDATE OF uri, tenant ON ivr
WHEN NEW.uri IS NOT NULL AND EXISTS (
    SELECT 1 FROM cospace
    WHERE (uri = NEW.uri COLLATE NOCASE OR secondary_uri = NEW.uri COLLATE NOCASE)
      AND (NEW.tenant IS NULL OR tenant = NEW.tenant))
BEGIN
    INSERT INTO space_address (kind, value, cospace, refs) VALUES ('uri', lower(NEW.uri), '', 0);
    SELECT RAISE(ABORT, 'this IVR uri is a coSpace''s');
END;
