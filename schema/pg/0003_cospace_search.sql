-- 0003: a trigram index over the coSpace fields that ?filter= searches (name, uri,
-- secondaryUri, callId), so that a case-insensitive substring of 3 characters or more is found
-- from the index instead of a scan of every space. (SQLite: kept in step by triggers.)

-- PostgreSQL: pg_trgm (postgresql-contrib; a trusted extension, so the database's owner may
-- create it) and one GIN trigram index per searched column instead of FTS5's trigram table; the
-- index follows the table by itself, so the triggers have no counterpart. A filter is then
-- "name ILIKE ?1 OR uri ILIKE ?1 OR secondary_uri ILIKE ?1 OR call_id ILIKE ?1" (pattern
-- '%' value '%'), which the planner answers with a BitmapOr of these indexes.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX cospace_search_name ON cospace USING gin (name gin_trgm_ops);
CREATE INDEX cospace_search_uri ON cospace USING gin (uri gin_trgm_ops);
CREATE INDEX cospace_search_secondary_uri ON cospace USING gin (secondary_uri gin_trgm_ops);
CREATE INDEX cospace_search_call_id ON cospace USING gin (call_id gin_trgm_ops);
