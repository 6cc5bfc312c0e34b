-- 0005: CDR receivers (/system/cdrReceivers) and the outbox of CDR records (api/cdr.c).
-- Each receiver keeps how far it was delivered (delivered: the last record_index it acknowledged)
-- so that a restart resumes there; a record is deleted once every receiver has it.
-- AUTOINCREMENT: a record index is never reused, even after the outbox was emptied.

CREATE TABLE cdr_receiver (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    uri        TEXT,
    delivered  INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE cdr_record (
    record_index INTEGER PRIMARY KEY AUTOINCREMENT,
    session      TEXT NOT NULL,
    type         TEXT NOT NULL,
    time         TEXT NOT NULL,
    correlator   INTEGER NOT NULL,
    body         TEXT NOT NULL
) STRICT;
