-- The same logical schema as the SQLite backend's. Keys and paths compare byte-wise (COLLATE
-- "C": UTF-8 bytes in code point order), which List's ordering and prefix ranges rely on.
-- An empty Record.ID is stored as NULL, and NULLs never collide in a UNIQUE index.
CREATE TABLE records (
    account TEXT NOT NULL COLLATE "C",
    kind    TEXT NOT NULL COLLATE "C",
    key     TEXT NOT NULL COLLATE "C",
    id      TEXT COLLATE "C",
    path    TEXT NOT NULL COLLATE "C",
    data    BYTEA NOT NULL,
    PRIMARY KEY (account, kind, key)
);

CREATE UNIQUE INDEX records_kind_id ON records (kind, id);

CREATE TABLE links (
    account TEXT NOT NULL COLLATE "C",
    kind    TEXT NOT NULL COLLATE "C",
    src     TEXT NOT NULL COLLATE "C",
    dst     TEXT NOT NULL COLLATE "C",
    PRIMARY KEY (account, kind, src, dst)
);

CREATE INDEX links_dst ON links (account, kind, dst, src);

-- One row: every write transaction locks it first, so that the writers of all nodes take turns
-- (as SQLite's one writer does), and counts itself in version when it commits, so that every node
-- learns that another one wrote (store.ChangeCounter).
CREATE TABLE changes (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);

INSERT INTO changes (id, version) VALUES (1, 0);
