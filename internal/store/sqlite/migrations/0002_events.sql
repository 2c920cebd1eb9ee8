-- The audit trail (store.EventLog), apart from the records: events are appended by a connection
-- of their own, outside the group-committed Updates, and Dump does not read these tables.
--
-- Events are stored in batches (internal/store/eventbatch): one row per appended chunk of one
-- account's events (up to 1,000), holding the events (the fields LookupEvents filters on and
-- each CloudTrail record) and a summary that lets an attribute query skip the batch (a Bloom
-- filter of the events' attribute values). Times are Unix nanoseconds (UTC).
CREATE TABLE event_batches (
    seq      INTEGER PRIMARY KEY,
    account  TEXT NOT NULL,
    min_time INTEGER NOT NULL,
    max_time INTEGER NOT NULL,
    count    INTEGER NOT NULL,
    summary  BLOB NOT NULL,
    header   BLOB NOT NULL -- the fields LookupEvents filters on, of every event
);

-- A page of an account's trail walks its batches newest first.
CREATE INDEX event_batches_account_time ON event_batches (account, max_time DESC);
-- Retention finds the batches holding events older than its bound.
CREATE INDEX event_batches_min_time ON event_batches (min_time);

-- The CloudTrail records of a batch, in parts of 64 events (eventbatch.PartEvents), so that a page
-- reads the records it returns, not a whole batch's: key is seq * 65536 + the part's number.
CREATE TABLE event_data (
    key  INTEGER PRIMARY KEY,
    data BLOB NOT NULL
);

-- Every stored event's id (unique across accounts) and its batch: an append skips the ids
-- stored already, and the EventId lookup reads the one batch.
CREATE TABLE event_ids (
    id    TEXT PRIMARY KEY,
    batch INTEGER NOT NULL
) WITHOUT ROWID;
