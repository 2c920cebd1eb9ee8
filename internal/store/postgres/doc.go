// Package postgres is the store.Store backend for a fleet: every node of a deployment keeps its
// state in one PostgreSQL database, through pgx v5.
//
// Writes: as in the SQLite backend, each node has one writer goroutine and one write connection,
// and commits the Updates queued on it together (internal/store/groupcommit), each inside its
// own savepoint. Every write transaction first locks the one row of the changes table, so the
// writers of all nodes take turns: an Update's reads see every write committed before it, on any
// node, and its check-then-write (a name still free, a sixth policy version, an MFA code not
// used yet) cannot race another node's. A committed batch increments changes.version, which each
// node polls (ChangeCounter) to drop what it caches; NOTIFY makes that faster where the server
// has it.
//
// Durability: COMMIT returns once PostgreSQL has flushed the WAL (synchronous_commit on, which
// Open checks), and Update returns only after its COMMIT.
//
// Reads: Views run concurrently on a pool of connections, each in a REPEATABLE READ READ ONLY
// transaction (one snapshot).
//
// Faults: errors that come from losing the database (connection refused or broken, the server
// shutting down) wrap store.ErrUnavailable, which the API answers with a retryable 503; the pool
// and the writer reconnect by themselves.
//
// The schema is created and upgraded by the numbered migrations embedded from migrations/ (the
// same logical schema as SQLite's); schema_version records which are applied.
package postgres
