-- The audit trail (store.EventLog), apart from the records: events are appended by a connection
-- of their own, outside the group-committed Updates, and Dump does not read these tables.
-- time is Unix nanoseconds (UTC). resources is a JSON array of [type, name] pairs.
CREATE TABLE events (
    account       TEXT NOT NULL,
    time          INTEGER NOT NULL,
    id            TEXT NOT NULL,
    name          TEXT NOT NULL,
    source        TEXT NOT NULL,
    username      TEXT NOT NULL,
    access_key_id TEXT NOT NULL,
    read_only     INTEGER NOT NULL,
    resources     TEXT NOT NULL,
    data          BLOB NOT NULL
);

-- An event id is unique across accounts (it serves the EventId lookup too).
CREATE UNIQUE INDEX events_id ON events (id);
-- A page of an account's trail, newest first, from any cursor.
CREATE INDEX events_account_time ON events (account, time DESC, id DESC);
-- Retention deletes the oldest events of every account.
CREATE INDEX events_time ON events (time);

-- One row per (attribute, value) of an event that LookupEvents can filter on (EventId apart),
-- each once: the primary key answers any attribute query newest first from a cursor, a page
-- at a time, however rare or common the value.
CREATE TABLE event_attributes (
    account  TEXT NOT NULL,
    attr     TEXT NOT NULL,
    value    TEXT NOT NULL,
    time     INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    PRIMARY KEY (account, attr, value, time, event_id)
) WITHOUT ROWID;

CREATE INDEX event_attributes_time ON event_attributes (time);
