-- List walks an account's records of one kind in key order. With a PathPrefix filter it must
-- test each row's path; this index carries the path beside the key, so rows whose path does not
-- match are skipped without reading the table. The PathPrefix queries name it (INDEXED BY).
CREATE INDEX records_list ON records (account, kind, key, path);
