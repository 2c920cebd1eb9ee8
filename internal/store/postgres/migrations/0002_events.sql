-- The audit trail (store.EventLog), the same logical schema as the SQLite backend's. Events are
-- appended in transactions of their own that neither lock nor count in changes, so appending
-- never makes a node drop its caches; Dump does not read these tables.
-- time is Unix nanoseconds (UTC). resources is a JSON array of [type, name] pairs.
CREATE TABLE events (
    account       TEXT NOT NULL COLLATE "C",
    time          BIGINT NOT NULL,
    id            TEXT NOT NULL COLLATE "C",
    name          TEXT NOT NULL COLLATE "C",
    source        TEXT NOT NULL COLLATE "C",
    username      TEXT NOT NULL COLLATE "C",
    access_key_id TEXT NOT NULL COLLATE "C",
    read_only     BOOLEAN NOT NULL,
    resources     TEXT NOT NULL,
    data          BYTEA NOT NULL
);

CREATE UNIQUE INDEX events_id ON events (id);
CREATE INDEX events_account_time ON events (account, time DESC, id DESC);
CREATE INDEX events_time ON events (time);

CREATE TABLE event_attributes (
    account  TEXT NOT NULL COLLATE "C",
    attr     TEXT NOT NULL COLLATE "C",
    value    TEXT NOT NULL COLLATE "C",
    time     BIGINT NOT NULL,
    event_id TEXT NOT NULL COLLATE "C",
    PRIMARY KEY (account, attr, value, time, event_id)
);

CREATE INDEX event_attributes_time ON event_attributes (time);
