-- The audit trail (store.EventLog), the same logical schema as the SQLite backend's. Events are
-- appended in transactions of their own that neither lock nor count in changes, so appending
-- never makes a node drop its caches; Dump does not read these tables.
--
-- Events are stored in batches (internal/store/eventbatch): one row per appended chunk of one
-- account's events (up to 1,000), holding the events (the fields LookupEvents filters on and
-- each CloudTrail record) and a summary that lets an attribute query skip the batch (a Bloom
-- filter of the events' attribute values). Times are Unix nanoseconds (UTC).
CREATE SEQUENCE event_batches_seq;

CREATE TABLE event_batches (
    seq      BIGINT PRIMARY KEY,
    account  TEXT NOT NULL COLLATE "C",
    min_time BIGINT NOT NULL,
    max_time BIGINT NOT NULL,
    count    INTEGER NOT NULL,
    summary  BYTEA NOT NULL,
    header   BYTEA NOT NULL -- the fields LookupEvents filters on, of every event
);
-- The CloudTrail records of a batch, in parts of 64 events (eventbatch.PartEvents), so that a page
-- reads the records it returns, not a whole batch's. TOAST keeps them uncompressed: pglz, the
-- default, would cost the server more CPU per event than the rest of an append.
CREATE TABLE event_data (
    seq  BIGINT NOT NULL,
    part INTEGER NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (seq, part)
);
ALTER TABLE event_data ALTER COLUMN data SET STORAGE EXTERNAL;

-- The header and summary are read whole and compress little: TOAST keeps them uncompressed.
ALTER TABLE event_batches ALTER COLUMN header SET STORAGE EXTERNAL, ALTER COLUMN summary SET STORAGE EXTERNAL;

-- A page of an account's trail walks its batches newest first.
CREATE INDEX event_batches_account_time ON event_batches (account, max_time DESC, seq);
-- Retention finds the batches holding events older than its bound.
CREATE INDEX event_batches_min_time ON event_batches (min_time);

-- Every stored event's id (unique across accounts) and its batch: an append skips the ids
-- stored already, and the EventId lookup reads the one batch.
CREATE TABLE event_ids (
    id    TEXT COLLATE "C" PRIMARY KEY,
    batch BIGINT NOT NULL
);
