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
	"runtime/debug"
	"sync"
	"sync/atomic"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// ErrClosed is returned by Update and View once Close has begun.
var ErrClosed = errors.New("sqlite: store is closed")

// errNestedUpdate is returned by an Update called from inside another Update's fn on the same
// store, which would otherwise wait forever for the writer that is running it.
var errNestedUpdate = errors.New("sqlite: Update called inside an Update of the same store")

const (
	// maxBatch caps the requests committed together, so that one batch's latency stays bounded
	// under a flood of writes.
	maxBatch = 256
	// queueSize is how many Updates may wait for the writer before callers block on sending.
	queueSize = 1024
)

// Store is a store.Store on one SQLite database file. Updates are group-committed by one
// writer goroutine; Views run concurrently on a pool of read-only connections.
type Store struct {
	path    string
	logger  *slog.Logger
	writeDB *sql.DB
	readDB  *sql.DB
	writer  *conn
	// readers is the pool of read connections; a nil entry stands for one to open on demand,
	// after a connection was dropped for being unusable.
	readers chan *conn

	queue      chan *request
	writerDone chan struct{}
	wctx       context.Context // the writer's statement context; never cancelled
	commits    atomic.Int64    // batches committed; tests check that batching happens

	// onBatch is told each committed batch's size, for the metrics (stats.go).
	onBatch atomic.Pointer[func(requests int)]

	gate      gate
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
		path:       abs,
		logger:     logger.With(slog.String("db", abs)),
		queue:      make(chan *request, queueSize),
		writerDone: make(chan struct{}),
		wctx:       context.WithoutCancel(ctx),
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
	if s.writer, err = openConn(ctx, s.writeDB); err != nil {
		return nil, fmt.Errorf("sqlite: open %q: %w", abs, err)
	}
	if err := checkDurable(ctx, s.writer.sql); err != nil {
		return nil, fmt.Errorf("sqlite: open %q: %w", abs, err)
	}
	ms, err := loadMigrations(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	version, err := migrate(ctx, s.writer.sql, ms, s.logger)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %q: %w", abs, err)
	}
	if err := s.writer.prepare(ctx); err != nil {
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

	go s.writeLoop()
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
	if !s.gate.enter() {
		return ErrClosed
	}
	defer s.gate.leave()
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

// request is one Update waiting for, or being run by, the writer.
type request struct {
	ctx   context.Context
	fn    func(ctx context.Context, tx store.Tx) error
	state atomic.Int32 // requestQueued, then requestTaken by the writer or requestCancelled
	done  chan result  // buffered: the writer never blocks on answering
}

// The states of a request. Once the writer has taken a request, its caller waits for the
// answer even when its context ends, because the request may already be committed.
const (
	requestQueued int32 = iota
	requestTaken
	requestCancelled
)

// result is the writer's answer to one request.
type result struct {
	err      error
	panicked bool
	panicVal any
}

// updateKey marks the context of an Update's fn, to refuse a nested Update of the same store.
type updateKey struct{}

// Update runs fn in a write transaction and commits it, durably, when fn returns nil; fn's error
// is returned unchanged and undoes everything fn did. Concurrent Updates are committed together
// (group commit), each isolated from the others' failures. fn runs on the writer goroutine, must
// not call Update on the same store, and should not block: the whole batch waits for it.
// A panic in fn is re-raised in the caller after its changes are undone.
func (s *Store) Update(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	if ctx.Value(updateKey{}) == s {
		return errNestedUpdate
	}
	if !s.gate.enter() {
		return ErrClosed
	}
	defer s.gate.leave()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlite: update: %w", err)
	}
	r := &request{ctx: ctx, fn: fn, done: make(chan result, 1)}
	select {
	case s.queue <- r:
	case <-ctx.Done():
		return fmt.Errorf("sqlite: update: waiting for the writer: %w", ctx.Err())
	}
	var res result
	select {
	case res = <-r.done:
	case <-ctx.Done():
		if r.state.CompareAndSwap(requestQueued, requestCancelled) {
			return fmt.Errorf("sqlite: update: waiting for the writer: %w", ctx.Err())
		}
		res = <-r.done
	}
	if res.panicked {
		panic(res.panicVal)
	}
	return res.err
}

// writeLoop is the writer goroutine: it takes whatever Updates are queued as one batch and
// commits them together, until Close closes the queue.
func (s *Store) writeLoop() {
	defer close(s.writerDone)
	batch := make([]*request, 0, maxBatch)
	for {
		r, ok := <-s.queue
		if !ok {
			return
		}
		batch = append(batch[:0], r)
	fill:
		for len(batch) < maxBatch {
			select {
			case r, ok := <-s.queue:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		s.runBatch(batch)
		clear(batch) // let the requests be collected while the writer waits
	}
}

// runBatch commits the requests of one batch that are still wanted.
func (s *Store) runBatch(batch []*request) {
	pending := batch[:0:0]
	for _, r := range batch {
		if r.state.CompareAndSwap(requestQueued, requestTaken) {
			pending = append(pending, r)
		}
	}
	for len(pending) > 0 {
		n := s.commit(pending)
		pending = pending[n:]
	}
}

// commit runs the requests of pending in one transaction, each inside its own savepoint, and
// commits them with one COMMIT (one fsync). It answers every request it ran and returns how
// many that was: all of them, unless the transaction broke part way, in which case the rest
// are left for a new transaction.
func (s *Store) commit(pending []*request) int {
	w, err := s.writerConn()
	if err == nil {
		err = w.exec(s.wctx, stmtBeginWrite)
	}
	if err != nil {
		err = fmt.Errorf("sqlite: update: %w", err)
		for _, r := range pending {
			r.done <- result{err: err}
		}
		return len(pending)
	}
	results := make([]result, len(pending))
	ran := len(pending)
	var broken error
	for i, r := range pending {
		if err := r.ctx.Err(); err != nil {
			results[i] = result{err: fmt.Errorf("sqlite: update: %w", err)}
			continue
		}
		res, err := s.runOne(w, r)
		results[i] = res
		if err != nil {
			broken, ran = err, i+1
			break
		}
	}
	if broken == nil {
		if err := w.exec(s.wctx, stmtCommit); err != nil {
			broken = err
		} else {
			s.commits.Add(1)
			s.batchCommitted(ran)
		}
	}
	if broken != nil {
		s.logger.ErrorContext(s.wctx, "write transaction failed", slog.Int("requests", ran), slog.String("error", broken.Error()))
		if err := w.exec(s.wctx, stmtRollback); err != nil && !noTransaction(w) {
			// Still inside the transaction: a new connection is the only way out of it.
			s.logger.ErrorContext(s.wctx, "dropping write connection", slog.String("error", err.Error()))
			w.discard()
			s.writer = nil
		}
		// Nothing of this transaction is committed: whoever was to succeed learns that it did not.
		for i := range results[:ran] {
			if results[i].err == nil && !results[i].panicked {
				results[i].err = fmt.Errorf("sqlite: update: transaction not committed: %w", broken)
			}
		}
	}
	for i, r := range pending[:ran] {
		r.done <- results[i]
	}
	return ran
}

// writerConn returns the write connection, opening a new one after the last was dropped.
func (s *Store) writerConn() (*conn, error) {
	if s.writer != nil {
		return s.writer, nil
	}
	w, err := openConn(s.wctx, s.writeDB)
	if err != nil {
		return nil, err
	}
	if err := w.prepare(s.wctx); err != nil {
		w.discard()
		return nil, err
	}
	s.writer = w
	return w, nil
}

// runOne runs one request's fn inside a savepoint. The result is the request's answer should
// the batch commit; the error, when not nil, means the batch transaction itself is broken.
func (s *Store) runOne(w *conn, r *request) (res result, broken error) {
	if err := w.exec(s.wctx, stmtSavepoint); err != nil {
		return result{err: fmt.Errorf("sqlite: update: %w", err)}, err
	}
	t := &tx{c: w, write: true, wctx: s.wctx}
	res = s.call(r, t)
	if res.err == nil && !res.panicked && t.broken != nil {
		// fn swallowed a failure after which its own writes cannot be trusted.
		res.err = fmt.Errorf("sqlite: update: %w", t.broken)
	}
	if res.err != nil || res.panicked {
		if err := w.exec(s.wctx, stmtRollbackTo); err != nil {
			return res, err
		}
	}
	if err := w.exec(s.wctx, stmtRelease); err != nil {
		return res, err
	}
	return res, nil
}

// call runs fn, catching a panic so that the writer survives it; Update re-raises it.
func (s *Store) call(r *request, t *tx) (res result) {
	defer func() {
		if v := recover(); v != nil {
			s.logger.ErrorContext(r.ctx, "panic in Update", slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
			res = result{panicked: true, panicVal: v}
		}
	}()
	return result{err: r.fn(context.WithValue(r.ctx, updateKey{}, s), t)}
}

// Close waits for the Updates and Views in progress, refuses new ones with ErrClosed, stops the
// writer and closes the database. Calling Close again returns the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.gate.close()
		close(s.queue)
		<-s.writerDone
		s.closeErr = s.closeConns()
		s.logger.Info("closed store")
	})
	return s.closeErr
}

// closeConns closes the connections and databases that are open. Nothing may be using them.
func (s *Store) closeConns() error {
	var errs []error
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
	if s.writer != nil {
		errs = append(errs, s.writer.close())
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

// gate admits calls until it is closed, and lets close wait for the calls inside to leave. Unlike
// a sync.RWMutex it may be entered again by a call already inside (a View inside an Update's fn).
type gate struct {
	mu     sync.Mutex
	closed bool
	inside int
	empty  chan struct{} // closed when closed and no call is inside
}

// enter admits a call unless the gate is closed.
func (g *gate) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.inside++
	return true
}

// leave marks the end of an admitted call.
func (g *gate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.inside--
	if g.closed && g.inside == 0 {
		close(g.empty)
	}
}

// close refuses new calls and waits for the admitted ones to leave.
func (g *gate) close() {
	g.mu.Lock()
	g.closed = true
	g.empty = make(chan struct{})
	if g.inside == 0 {
		close(g.empty)
	}
	empty := g.empty
	g.mu.Unlock()
	<-empty
}
