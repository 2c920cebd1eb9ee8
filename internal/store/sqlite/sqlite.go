package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/groupcommit"
	"github.com/gatehouse-iam/gatehouse/internal/store/schema"
)

// ErrClosed is returned by Update and View once Close has begun.
var ErrClosed = errors.New("sqlite: store is closed")

// Store is a store.Store on one SQLite database file. Updates are group-committed by one
// writer goroutine; Views run concurrently on a pool of read-only connections.
type Store struct {
	path    string
	logger  *slog.Logger
	writeDB *sql.DB
	readDB  *sql.DB
	// wconn is the write connection, used by the writer goroutine only (and by Open before the
	// writer starts); nil after it was dropped for being unusable.
	wconn *conn
	// readers is the pool of read connections; a nil entry stands for one to open on demand,
	// after a connection was dropped for being unusable.
	readers chan *conn
	writer  *groupcommit.Writer
	// events appends the audit trail (events.go).
	events eventWriter
	// writeLock is held by each write transaction of this process, the group-committed
	// Updates' and the audit trail's, so that they take turns in order here rather than by
	// SQLite's busy handler, which sleeps, and can starve one of them behind the other.
	writeLock sync.Mutex

	gate      groupcommit.Gate
	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// Open opens the database at path, creating it and its directory (mode 0700) when missing, and
// applies any pending schema migrations. The file is created with mode 0600: it holds sealed
// secrets. A nil logger discards logs.
func Open(ctx context.Context, path string, logger *slog.Logger) (_ *Store, err error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}
	if err := createFile(abs); err != nil {
		return nil, err
	}
	s := &Store{
		path:   abs,
		logger: logger.With(slog.String("db", abs)),
	}
	defer func() {
		if err != nil {
			_ = s.closeConns()
		}
	}()

	if s.writeDB, err = sql.Open(driverName, dsn(abs, false)); err != nil {
		return nil, fmt.Errorf("sqlite: open %q: %w", abs, err)
	}
	s.writeDB.SetMaxOpenConns(1)
	s.writeDB.SetMaxIdleConns(1)
	if s.wconn, err = openConn(ctx, s.writeDB); err != nil {
		return nil, fmt.Errorf("sqlite: open %q: %w", abs, err)
	}
	if err := checkDurable(ctx, s.wconn.sql); err != nil {
		return nil, fmt.Errorf("sqlite: open %q: %w", abs, err)
	}
	ms, err := schema.Load(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	version, err := migrate(ctx, s.wconn.sql, ms, s.logger)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %q: %w", abs, err)
	}
	if err := s.wconn.prepare(ctx); err != nil {
		return nil, fmt.Errorf("sqlite: open %q: %w", abs, err)
	}

	n := readPoolSize()
	if s.readDB, err = sql.Open(driverName, dsn(abs, true)); err != nil {
		return nil, fmt.Errorf("sqlite: open %q: %w", abs, err)
	}
	s.readDB.SetMaxOpenConns(n)
	s.readDB.SetMaxIdleConns(n)
	s.readers = make(chan *conn, n)
	for range n {
		c, err := s.openReader(ctx)
		if err != nil {
			return nil, fmt.Errorf("sqlite: open %q: %w", abs, err)
		}
		s.readers <- c
	}

	s.writer = groupcommit.New(ctx, "sqlite", s, s.logger, 0)
	s.logger.InfoContext(ctx, "opened store", slog.Int("schema_version", version), slog.Int("readers", n))
	return s, nil
}

// createFile creates the database file with mode 0600 and its directory with mode 0700 when
// they are missing. SQLite gives its -wal and -shm files the mode of the database file.
//
// An existing file is left unopened: closing any descriptor of a file drops every POSIX lock
// this process holds on it, including SQLite's, should another Store have it open.
func createFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("sqlite: create directory of %q: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sqlite: create %q: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("sqlite: create %q: %w", path, err)
	}
	return nil
}

// checkDurable verifies that the writer really runs in WAL mode with synchronous=FULL: SQLite
// silently keeps another journal mode where WAL is impossible (some network file systems), and
// durability of acknowledged writes depends on both settings.
func checkDurable(ctx context.Context, c *sql.Conn) error {
	var mode string
	if err := c.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("read journal_mode: %w", err)
	}
	if mode != "wal" {
		return fmt.Errorf("journal_mode is %q, want wal (is the file on a local file system?)", mode)
	}
	var sync int
	if err := c.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
		return fmt.Errorf("read synchronous: %w", err)
	}
	if sync < 2 {
		return fmt.Errorf("synchronous is %d, want 2 (FULL) or more", sync)
	}
	return nil
}

// readPoolSize is the number of read connections. SQLite reads here are CPU-bound Go code, so a
// few more connections than processors keep every processor busy.
func readPoolSize() int {
	return max(4, 2*runtime.GOMAXPROCS(0))
}

// openReader opens and prepares a read connection.
func (s *Store) openReader(ctx context.Context) (*conn, error) {
	c, err := openConn(ctx, s.readDB)
	if err != nil {
		return nil, err
	}
	if err := c.prepare(ctx); err != nil {
		return nil, errors.Join(err, c.close())
	}
	return c, nil
}

// Path returns the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// View runs fn in a read-only transaction that sees one snapshot of the database. Views run
// concurrently with each other and with Updates. fn's error is returned unchanged.
func (s *Store) View(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) (err error) {
	if !s.gate.Enter() {
		return ErrClosed
	}
	defer s.gate.Leave()
	c, err := s.acquire(ctx)
	if err != nil {
		return err
	}
	if err := c.exec(ctx, stmtBeginRead); err != nil {
		s.release(ctx, c, false)
		return fmt.Errorf("sqlite: view: %w", err)
	}
	ended := false
	defer func() {
		if !ended {
			// fn panicked: end the transaction and keep the pool whole before the panic goes on.
			s.release(ctx, c, true)
		}
	}()
	err = fn(ctx, &tx{c: c})
	ended = true
	s.release(ctx, c, true)
	return err
}

// acquire takes a read connection from the pool, opening a new one for a dropped one.
func (s *Store) acquire(ctx context.Context) (*conn, error) {
	var c *conn
	select {
	case c = <-s.readers:
	case <-ctx.Done():
		return nil, fmt.Errorf("sqlite: view: waiting for a connection: %w", ctx.Err())
	}
	if c != nil {
		return c, nil
	}
	c, err := s.openReader(ctx)
	if err != nil {
		s.readers <- nil
		return nil, fmt.Errorf("sqlite: view: %w", err)
	}
	return c, nil
}

// release ends the read transaction of c, when one was begun, and puts c back in the pool. A
// connection whose transaction cannot be ended is dropped, so that the next View does not
// inherit an old snapshot.
func (s *Store) release(ctx context.Context, c *conn, inTx bool) {
	if inTx {
		if err := c.exec(context.WithoutCancel(ctx), stmtRollback); err != nil && !noTransaction(c) {
			s.logger.ErrorContext(ctx, "dropping read connection", slog.String("error", err.Error()))
			c.discard()
			c = nil
		}
	}
	s.readers <- c
}

// noTransaction reports whether c is outside any transaction (SQLite's autocommit mode). After
// an interrupted read SQLite may already have ended the transaction, and ROLLBACK then fails
// harmlessly.
func noTransaction(c *conn) bool {
	// BEGIN fails inside a transaction and succeeds outside one; undo it straight away.
	if _, err := c.stmt(stmtBeginRead).ExecContext(context.Background()); err != nil {
		return false
	}
	_, err := c.stmt(stmtRollback).ExecContext(context.Background())
	return err == nil
}

// Update runs fn in a write transaction and commits it, durably, when fn returns nil; fn's error
// is returned unchanged and undoes everything fn did. Concurrent Updates are committed together
// (group commit), each isolated from the others' failures. fn runs on the writer goroutine, must
// not call Update on the same store, and should not block: the whole batch waits for it.
// A panic in fn is re-raised in the caller after its changes are undone.
func (s *Store) Update(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	if !s.gate.Enter() {
		return ErrClosed
	}
	defer s.gate.Leave()
	return s.writer.Update(ctx, fn)
}

// writeTxn is a batch's BEGIN IMMEDIATE transaction on the write connection.
type writeTxn struct {
	s *Store
	c *conn
	// held is true until the transaction has ended and given s.writeLock back.
	held *bool
}

// unlock gives the write lock back, once.
func (w writeTxn) unlock() {
	if *w.held {
		*w.held = false
		w.s.writeLock.Unlock()
	}
}

// Begin implements groupcommit.Backend: it takes the write lock, reconnecting first when the
// last connection was dropped.
func (s *Store) Begin(ctx context.Context) (_ groupcommit.Txn, err error) {
	s.writeLock.Lock()
	defer func() {
		if err != nil {
			s.writeLock.Unlock()
		}
	}()
	if s.wconn == nil {
		w, err := openConn(ctx, s.writeDB)
		if err != nil {
			return nil, err
		}
		if err := w.prepare(ctx); err != nil {
			w.discard()
			return nil, err
		}
		s.wconn = w
	}
	if err := s.wconn.exec(ctx, stmtBeginWrite); err != nil {
		return nil, err
	}
	held := true
	return writeTxn{s, s.wconn, &held}, nil
}

// Run runs one request's fn inside a savepoint.
func (w writeTxn) Run(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) (err, broken error) {
	if err := w.c.exec(ctx, stmtSavepoint); err != nil {
		return fmt.Errorf("sqlite: update: %w", err), err
	}
	t := &tx{c: w.c, write: true, wctx: ctx}
	err = fn(ctx, t)
	if err == nil && t.broken != nil {
		// fn swallowed a failure after which its own writes cannot be trusted.
		err = fmt.Errorf("sqlite: update: %w", t.broken)
	}
	if err != nil {
		if rbErr := w.c.exec(ctx, stmtRollbackTo); rbErr != nil {
			return err, rbErr
		}
	}
	if relErr := w.c.exec(ctx, stmtRelease); relErr != nil {
		return err, relErr
	}
	return err, nil
}

// Commit commits the batch: one fsync of the WAL.
func (w writeTxn) Commit(ctx context.Context) error {
	err := w.c.exec(ctx, stmtCommit)
	if err == nil {
		w.unlock()
	}
	return err // after a failed commit, groupcommit rolls back, which unlocks
}

// Rollback ends the transaction; still inside it, a new connection is the only way out.
func (w writeTxn) Rollback(ctx context.Context) {
	defer w.unlock()
	if err := w.c.exec(ctx, stmtRollback); err != nil && !noTransaction(w.c) {
		w.s.logger.ErrorContext(ctx, "dropping write connection", slog.String("error", err.Error()))
		w.c.discard()
		w.s.wconn = nil
	}
}

// Close waits for the Updates and Views in progress, refuses new ones with ErrClosed, stops the
// writer and closes the database. Calling Close again returns the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.gate.Close()
		if s.writer != nil {
			s.writer.Close()
		}
		s.closeErr = s.closeConns()
		s.logger.Info("closed store")
	})
	return s.closeErr
}

// closeConns closes the connections and databases that are open. Nothing may be using them.
func (s *Store) closeConns() error {
	errs := []error{s.closeEvents()}
	if s.readers != nil {
		for range cap(s.readers) {
			select {
			case c := <-s.readers:
				if c != nil {
					errs = append(errs, c.close())
				}
			default:
				// Open failed before filling the pool.
			}
		}
	}
	if s.wconn != nil {
		errs = append(errs, s.wconn.close())
	}
	if s.readDB != nil {
		errs = append(errs, s.readDB.Close())
	}
	if s.writeDB != nil {
		errs = append(errs, s.writeDB.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close %q: %w", s.path, err)
	}
	return nil
}
