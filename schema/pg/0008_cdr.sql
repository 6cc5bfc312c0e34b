-- 0008: CDR receivers (/system/cdrReceivers) and the outbox of CDR records (api/cdr.c).
-- Each receiver keeps how far it was delivered (delivered: the last record_index it acknowledged)
-- so that a restart resumes there; a record is deleted once every receiver has it.
-- AUTOINCREMENT: a record index is never reused, even after the outbox was emptied.
-- PostgreSQL: an identity column, whose sequence never hands out a value twice either; the
-- index of a new record comes back with INSERT ... RETURNING record_index.

CREATE TABLE cdr_receiver (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         text NOT NULL UNIQUE,
    uri        text,
    delivered  bigint NOT NULL DEFAULT 0,
    created_ms bigint NOT NULL,
    updated_ms bigint NOT NULL
);

CREATE TABLE cdr_record (
    record_index bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session      text NOT NULL,
    type         text NOT NULL,
    time         text NOT NULL,
    correlator   bigint NOT NULL,
    body         text NOT NULL
);
