package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/groupcommit"
)

// ErrClosed is returned by Update and View once Close has begun.
var ErrClosed = errors.New("postgres: store is closed")

// statementTimeout bounds one statement of a write transaction, so that a database that stops
// answering (a network partition, not a refused connection) fails the batch instead of holding
// the writer for ever.
const statementTimeout = 30 * time.Second

// maxBatch caps the requests of one write transaction. Each request runs in a savepoint, a
// subtransaction that gets its own transaction id when it writes; PostgreSQL keeps 64 of them per
// transaction in shared memory (PGPROC_MAX_CACHED_SUBXIDS), and past that every other session's
// visibility checks consult pg_subtrans while the transaction is open.
const maxBatch = 64

// Options change how Open treats the database.
type Options struct {
	// NoMigrate refuses a database whose schema is older than this program's instead of
	// upgrading it (for deployments that run `gatehouse migrate` as a separate step).
	NoMigrate bool
	// MustExist refuses a database that holds no Gatehouse schema yet (ErrNoSchema) instead of
	// creating one, for the commands that must not start a new, empty deployment.
	MustExist bool
}

// ErrNoSchema is returned by Open with Options.MustExist for a database without a deployment.
var ErrNoSchema = errors.New("the database holds no Gatehouse deployment")

// Store is a store.Store on a PostgreSQL database.
type Store struct {
	cfg    *pgx.ConnConfig // of the write connection
	pool   *pgxpool.Pool   // the read connections
	logger *slog.Logger
	// wconn is the write connection, used by the writer goroutine only; nil after it was
	// dropped for being unusable, until the next batch reconnects.
	wconn  *pgx.Conn
	writer *groupcommit.Writer
	// notify says the server has NOTIFY: commits then tell the nodes that LISTEN (Listen).
	notify bool

	gate      groupcommit.Gate
	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at dsn (a postgres:// URL or key=value string), applies any
// pending migrations (unless opts.NoMigrate) and starts the writer. A nil logger discards logs.
func Open(ctx context.Context, dsn string, logger *slog.Logger, opts Options) (_ *Store, err error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse the database URL: %w", err)
	}
	s := &Store{cfg: cfg, logger: logger.With(slog.String("db", Redact(dsn)))}
	defer func() {
		if err != nil {
			_ = s.closeConns()
		}
	}()
	if s.wconn, err = pgx.ConnectConfig(ctx, cfg); err != nil {
		return nil, fmt.Errorf("postgres: connect to %s: %w", Redact(dsn), unavailable(err))
	}
	if err := checkDurable(ctx, s.wconn); err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", Redact(dsn), err)
	}
	if opts.MustExist {
		var exists bool
		if err := s.wconn.QueryRow(ctx, `SELECT to_regclass('schema_version') IS NOT NULL`).Scan(&exists); err != nil {
			return nil, fmt.Errorf("postgres: %s: %w", Redact(dsn), unavailable(err))
		}
		if !exists {
			return nil, fmt.Errorf("postgres: %s: %w", Redact(dsn), ErrNoSchema)
		}
	}
	version, err := migrate(ctx, s.wconn, !opts.NoMigrate, s.logger)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", Redact(dsn), err)
	}
	// PostgreSQL-protocol databases without NOTIFY (CockroachDB, for one) are used by polling.
	_, nerr := s.wconn.Exec(ctx, `SELECT pg_notify($1, '')`, changesChannel)
	s.notify = nerr == nil
	pcfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse the database URL: %w", err)
	}
	pcfg.MaxConns = int32(readPoolSize())
	if s.pool, err = pgxpool.NewWithConfig(ctx, pcfg); err != nil {
		return nil, fmt.Errorf("postgres: connect to %s: %w", Redact(dsn), unavailable(err))
	}
	s.writer = groupcommit.New(ctx, "postgres", s, s.logger, maxBatch)
	s.logger.InfoContext(ctx, "opened store", slog.Int("schema_version", version), slog.Int("readers", int(pcfg.MaxConns)))
	return s, nil
}

// readPoolSize is the most read connections: reads wait on the network and the server, so a
// few more than processors keep both busy.
func readPoolSize() int { return max(8, 4*runtime.GOMAXPROCS(0)) }

// checkDurable refuses a server that acknowledges commits before they are on disk: an
// acknowledged write must survive the server's crash.
func checkDurable(ctx context.Context, c *pgx.Conn) error {
	for _, setting := range []string{"fsync", "synchronous_commit"} {
		var v string
		if err := c.QueryRow(ctx, "SHOW "+setting).Scan(&v); err != nil {
			return fmt.Errorf("read %s: %w", setting, unavailable(err))
		}
		if v == "off" {
			return fmt.Errorf("%s is off: commits would be acknowledged before they are durable; turn it on", setting)
		}
	}
	return nil
}

// Redact returns dsn without its password, for logs and errors.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return "the configured database"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.Redacted()
}

// View runs fn in a read-only transaction that sees one snapshot of the database. fn's error
// is returned unchanged.
func (s *Store) View(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	if !s.gate.Enter() {
		return ErrClosed
	}
	defer s.gate.Leave()
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: view: %w", unavailable(err))
	}
	v := &viewConn{c: c}
	defer func() {
		// Read-only: rolling back ends it as well as a commit would. A connection whose
		// transaction cannot be ended is closed rather than handed out again. A panic in fn
		// passes through.
		if err := v.end(context.WithoutCancel(ctx)); err != nil {
			_ = c.Conn().Close(context.WithoutCancel(ctx))
		}
		c.Release()
	}()
	return fn(ctx, &tx{q: v})
}

// Update runs fn in a write transaction and commits it, durably, when fn returns nil; fn's
// error is returned unchanged and undoes everything fn did. Concurrent Updates of this node are
// committed together; Updates of different nodes take turns. fn runs on the writer goroutine,
// must not call Update on the same store, and should not block.
func (s *Store) Update(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	if !s.gate.Enter() {
		return ErrClosed
	}
	defer s.gate.Leave()
	return s.writer.Update(ctx, fn)
}

// writeTxn is one batch's transaction on the write connection.
type writeTxn struct {
	s *Store
	c *pgx.Conn
	// released is false while the savepoint of the last request that kept its writes is still
	// open: its RELEASE goes out with the next request's SAVEPOINT (or the COMMIT), in the same
	// round trip, saving one per request.
	released *bool
}

// Begin implements groupcommit.Backend: it reconnects when the last connection was dropped,
// begins, and waits for the writers of other nodes.
func (s *Store) Begin(ctx context.Context) (groupcommit.Txn, error) {
	if s.wconn == nil {
		c, err := pgx.ConnectConfig(ctx, s.cfg)
		if err != nil {
			return nil, unavailable(err)
		}
		s.wconn = c
	}
	released := true
	w := writeTxn{s, s.wconn, &released}
	// One round trip: the simple protocol runs both statements.
	if err := w.exec(ctx, "BEGIN; "+sqlLockWriters); err != nil {
		w.Rollback(ctx)
		return nil, err
	}
	return w, nil
}

// exec runs statements of the transaction under statementTimeout, after the pending RELEASE.
func (w writeTxn) exec(ctx context.Context, sql string) error {
	if !*w.released {
		sql = sqlRelease + "; " + sql
		*w.released = true
	}
	ctx, cancel := context.WithTimeout(ctx, statementTimeout)
	defer cancel()
	if _, err := w.c.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, unavailable(err))
	}
	return nil
}

// Run runs one request's fn inside a savepoint.
func (w writeTxn) Run(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) (err, broken error) {
	if err := w.exec(ctx, sqlSavepoint); err != nil {
		return fmt.Errorf("postgres: update: %w", err), err
	}
	t := &tx{q: w.c, write: true, timeout: statementTimeout}
	err = fn(ctx, t)
	if err == nil && t.broken != nil {
		// fn swallowed a failure; PostgreSQL has aborted the transaction since.
		err = fmt.Errorf("postgres: update: %w", t.broken)
	}
	if err != nil {
		if rbErr := w.exec(ctx, sqlRollbackTo+"; "+sqlRelease); rbErr != nil {
			return err, rbErr
		}
		return err, nil
	}
	*w.released = false
	return nil, nil
}

// Commit counts the change, tells the listening nodes, and commits, in one round trip:
// PostgreSQL flushes the WAL before it answers, and delivers the NOTIFY when it commits.
func (w writeTxn) Commit(ctx context.Context) error {
	commit := sqlCountChange + "; COMMIT"
	if w.s.notify {
		commit = sqlCountChange + "; " + sqlNotify + "; COMMIT"
	}
	if err := w.exec(ctx, commit); err != nil {
		// The commit may or may not have happened; the connection is not to be trusted.
		w.drop(ctx, err)
		return err
	}
	return nil
}

// Rollback ends the transaction, dropping the connection when that fails.
func (w writeTxn) Rollback(ctx context.Context) {
	*w.released = true // ROLLBACK ends the savepoints too
	if err := w.exec(ctx, "ROLLBACK"); err != nil {
		w.drop(ctx, err)
	}
}

// drop closes the write connection after err; the next batch connects again.
func (w writeTxn) drop(ctx context.Context, err error) {
	w.s.logger.WarnContext(ctx, "dropping write connection", slog.String("error", err.Error()))
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	_ = w.c.Close(ctx)
	if w.s.wconn == w.c {
		w.s.wconn = nil
	}
}

// Close waits for the Updates and Views in progress, refuses new ones with ErrClosed, stops the
// writer and closes the connections. Calling Close again returns the first call's result.
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

func (s *Store) closeConns() error {
	if s.pool != nil {
		s.pool.Close()
	}
	if s.wconn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.wconn.Close(ctx); err != nil {
			return fmt.Errorf("postgres: close: %w", err)
		}
	}
	return nil
}

// unavailable wraps err with store.ErrUnavailable when it comes from losing the database rather
// than from a statement: no connection, a broken one, or a server shutting down or starting.
func unavailable(err error) error {
	if err == nil || errors.Is(err, store.ErrUnavailable) {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code[:2] == "08", // connection exception
			pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03", // shutdown, crash, starting
			pgErr.Code == "53300": // too many connections
			return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
		}
		return err
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	// Not an answer of the server: the network or the connection failed (or timed out).
	return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
}
