-- 0003: a trigram index over the coSpace fields that ?filter= searches (name, uri,
-- secondaryUri, callId), so that a case-insensitive substring of 3 characters or more is found
-- from the index instead of a scan of every space. Kept in step by triggers.

CREATE VIRTUAL TABLE cospace_search USING fts5(
    name, uri, secondary_uri, call_id,
    content = 'cospace', content_rowid = 'seq', tokenize = 'trigram');

CREATE TRIGGER cospace_search_insert AFTER INSERT ON cospace BEGIN
    INSERT INTO cospace_search (rowid, name, uri, secondary_uri, call_id)
    VALUES (new.seq, new.name, new.uri, new.secondary_uri, new.call_id);
END;

CREATE TRIGGER cospace_search_delete AFTER DELETE ON cospace BEGIN
    INSERT INTO cospace_search (cospace_search, rowid, name, uri, secondary_uri, call_id)
    VALUES ('delete', old.seq, old.name, old.uri, old.secondary_uri, old.call_id);
END;

CREATE TRIGGER cospace_search_update AFTER UPDATE ON cospace BEGIN
    INSERT INTO cospace_search (cospace_search, rowid, name, uri, secondary_uri, call_id)
    VALUES ('delete', old.seq, old.name, old.uri, old.secondary_uri, old.call_id);
    INSERT INTO cospace_search (rowid, name, uri, secondary_uri, call_id)
    VALUES (new.seq, new.name, new.uri, new.secondary_uri, new.call_id);
END;

INSERT INTO cospace_search (cospace_search) VALUES ('rebuild');
