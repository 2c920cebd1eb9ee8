// Package sqlite is the embedded store.Store backend: one SQLite database file, opened with
// modernc.org/sqlite (pure Go, no cgo).
//
// Durability: the file runs in WAL mode with synchronous=FULL, so COMMIT returns only after the
// WAL is on disk, and Update returns only after its COMMIT.
//
// Throughput: one writer goroutine owns the only write connection. Concurrent Updates queue for
// it; it takes everything queued as one batch, runs each request's function inside its own
// SAVEPOINT of one BEGIN IMMEDIATE transaction (a failing function rolls back to its savepoint
// and changes nothing), and commits the batch with one COMMIT: one fsync for many writes.
//
// Several processes: every connection waits up to busy_timeout for locks, and writers take the
// write lock up front with BEGIN IMMEDIATE, so a second process (gatehouse account create next
// to a running server) queues behind the server's batches instead of failing with SQLITE_BUSY.
//
// Reads: Views run concurrently on a pool of query_only connections, each inside a read
// transaction (one WAL snapshot), with statements prepared once per connection.
//
// The schema is created and upgraded at Open by the numbered migrations embedded from
// migrations/; schema_version records which are applied. The queries are portable SQL, and the
// SQLite-specific parts are isolated in dialect.go.
package sqlite
