-- Records: every entity, one row each, unique on (account, kind, key) and on (kind, id) when id
-- is not NULL (an empty Record.ID is stored as NULL, and NULLs never collide in a UNIQUE index).
-- The default BINARY collation orders key byte-wise, which List relies on.
CREATE TABLE records (
    account TEXT NOT NULL,
    kind    TEXT NOT NULL,
    key     TEXT NOT NULL,
    id      TEXT,
    path    TEXT NOT NULL,
    data    BLOB NOT NULL,
    PRIMARY KEY (account, kind, key)
);

CREATE UNIQUE INDEX records_kind_id ON records (kind, id);

-- Links: directed relations inside one account. The primary key serves LinksFrom; the second
-- index serves LinksTo, both already in the order of the other end.
CREATE TABLE links (
    account TEXT NOT NULL,
    kind    TEXT NOT NULL,
    src     TEXT NOT NULL,
    dst     TEXT NOT NULL,
    PRIMARY KEY (account, kind, src, dst)
);

CREATE INDEX links_dst ON links (account, kind, dst, src);
