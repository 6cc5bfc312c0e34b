-- 0015 (pgwrite): an IVR's uri is neither a coSpace's uri nor its secondaryUri (any case) that the
-- IVR's tenant reaches (a coSpace of that tenant; an IVR of no tenant: any coSpace), held by the
-- database as 0011 holds the other "taken" rules, not only by the API's check (ivrUriConflict,
-- api/res/tenant.c): an IVR written while such a coSpace exists is refused with a unique
-- violation (23505, -EEXIST: the API runs the request again and its check names the reason). The
-- rule goes one way, as the check does: a coSpace may take an IVR's uri.
-- PostgreSQL (READ COMMITTED): a coSpace another node is writing is not visible yet, so the
-- trigger first claims the uri in space_address (0011) and drops the claim again: that insert
-- waits for a transaction that claimed the same uri (the coSpace's) and then sees its outcome;
-- the coSpaces are read after it. A coSpace claiming the uri meanwhile waits for the IVR's
-- transaction in turn, and comes after it (allowed).
CREATE FUNCTION ivr_uri_not_cospace() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v text := lower(NEW.uri);
BEGIN
    IF v IS NULL THEN
        RETURN NEW;
    END IF;
    INSERT INTO space_address (kind, value, cospace, refs) VALUES ('uri', v, '', 0)
        ON CONFLICT (kind, value) DO NOTHING;
    IF FOUND THEN
        DELETE FROM space_address WHERE kind = 'uri' AND value = v AND cospace = '' AND refs = 0;
    END IF;
    IF EXISTS (SELECT 1 FROM cospace
               WHERE (lower(uri) = v OR lower(secondary_uri) = v)
                 AND (NEW.tenant IS NULL OR tenant = NEW.tenant)) THEN
        RAISE EXCEPTION 'this IVR uri is a coSpace''s' USING ERRCODE = 'unique_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER ivr_uri_not_cospace BEFORE INSERT OR UPDATE OF uri, tenant ON ivr
    FOR EACH ROW EXECUTE FUNCTION ivr_uri_not_cospace();
