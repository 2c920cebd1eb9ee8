package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/schema"
)

// openTest opens a store in a new temporary directory and closes it when t ends.
func openTest(t testing.TB) *Store {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "gatehouse.db"), nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestPrefixEnd(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		want     string
		ok       bool
	}{
		{"empty has no end", "", "", false},
		{"ascii", "abc", "abd", true},
		{"percent is literal", "a%", "a&", true},
		{"trailing 0xff carries", "a\xff", "b", true},
		{"all 0xff has no end", "\xff\xff", "", false},
		{"multi-byte", "é", "\xc3\xaa", true},
		{"emoji", "\U0001F600", "\xf0\x9f\x98\x81", true},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := prefixEnd(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Errorf("prefixEnd(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

// FuzzPrefixEnd checks the property List relies on: a key starts with p exactly when it lies
// in [p, prefixEnd(p)).
func FuzzPrefixEnd(f *testing.F) {
	for _, seed := range [][2]string{{"", ""}, {"a", "ab"}, {"a\xff", "b"}, {"\xff", "\xff\x00"}, {"é", "ê"}, {"a%", "a_"}} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, p, key string) {
		end, ok := prefixEnd(p)
		inRange := key >= p && (!ok || key < end)
		if inRange != strings.HasPrefix(key, p) {
			t.Fatalf("prefix %q, end %q (%v): key %q in range = %v, has prefix = %v", p, end, ok, key, inRange, !inRange)
		}
		if ok && end <= p {
			t.Fatalf("end %q is not after prefix %q", end, p)
		}
	})
}

// TestEmbeddedMigrations checks that the shipped migrations load, and that a new database ends
// at the last one with every migration recorded once.
func TestEmbeddedMigrations(t *testing.T) {
	t.Parallel()
	ms, err := schema.Load(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	s := openTest(t)
	rows, err := s.wconn.sql.QueryContext(t.Context(), `SELECT version, name FROM schema_version ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var v int
		var name string
		if err := rows.Scan(&v, &name); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d %s", v, name))
	}
	var want []string
	for _, m := range ms {
		want = append(want, fmt.Sprintf("%d %s", m.Version, m.Name))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("schema_version = %q, want %q", got, want)
	}
}

// TestMigrateIncrementally applies a first migration set, then a longer one to the same file,
// then a broken one; each step applies only what is new, and a failed migration changes nothing.
func TestMigrateIncrementally(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "m.db")
	s, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := s.wconn.sql
	base, err := schema.Load(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	latest := len(base)
	next := append(base, schema.Migration{Version: latest + 1, Name: "x_extra.sql", SQL: `CREATE TABLE extra (a TEXT); INSERT INTO extra VALUES ('one');`})
	for _, tc := range []struct {
		name        string
		ms          []schema.Migration
		wantVersion int
		wantErr     string
	}{
		{"nothing to do", base, latest, ""},
		{"one new", next, latest + 1, ""},
		{"again nothing", next, latest + 1, ""},
		{"broken", append(next[:len(next):len(next)], schema.Migration{Version: latest + 2, Name: "y_broken.sql", SQL: `CREATE TABLE extra2 (a TEXT); NOT SQL;`}), 0, "y_broken.sql"},
		{"newer database", base, 0, "newer than this program"},
	} {
		v, err := migrate(ctx, c, tc.ms, s.logger)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("%s: err = %v, want one containing %q", tc.name, err, tc.wantErr)
			}
		} else if err != nil || v != tc.wantVersion {
			t.Fatalf("%s: migrate = %d, %v; want %d", tc.name, v, err, tc.wantVersion)
		}
	}
	// The extra migration ran exactly once; the broken one left neither its table nor its version.
	var n int
	if err := c.QueryRowContext(ctx, `SELECT COUNT(*) FROM extra`).Scan(&n); err != nil || n != 1 {
		t.Errorf("extra has %d rows (%v), want 1", n, err)
	}
	if err := c.QueryRowContext(ctx, `SELECT COUNT(*) FROM extra2`).Scan(&n); err == nil {
		t.Error("table of the failed migration exists")
	}
	if err := c.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_version`).Scan(&n); err != nil || n != latest+1 {
		t.Errorf("schema version = %d (%v), want %d", n, err, latest+1)
	}
	// Open refuses the file now: its schema is newer than the embedded migrations.
	if s2, err := Open(ctx, path, nil); err == nil {
		s2.Close()
		t.Error("Open of a database with a newer schema succeeded")
	} else if !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open of a newer database: %v", err)
	}
}

// TestDurabilitySettings checks the settings durability depends on, on every connection.
func TestDurabilitySettings(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := t.Context()
	check := func(name string, c *conn, queryOnly int) {
		var mode string
		var sync, busy, qo int
		if err := c.sql.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if err := c.sql.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
			t.Fatal(err)
		}
		if err := c.sql.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy); err != nil {
			t.Fatal(err)
		}
		if err := c.sql.QueryRowContext(ctx, "PRAGMA query_only").Scan(&qo); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" || sync != 2 || busy != busyTimeoutMillis || qo != queryOnly {
			t.Errorf("%s: journal_mode=%s synchronous=%d busy_timeout=%d query_only=%d; want wal 2 %d %d",
				name, mode, sync, busy, qo, busyTimeoutMillis, queryOnly)
		}
	}
	check("writer", s.wconn, 0)
	c, err := s.acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	check("reader", c, 1)
	s.release(ctx, c, false)
}

// TestReaderIsQueryOnly checks the second line of defence: SQL that writes fails on a read
// connection even if it got past the read-only tx.
func TestReaderIsQueryOnly(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	err := s.View(t.Context(), func(ctx context.Context, stx store.Tx) error {
		_, err := stx.(*tx).c.sql.ExecContext(ctx, `INSERT INTO records (account, kind, key, path, data) VALUES ('a', 'user', 'k', '/', x'')`)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "readonly") {
		t.Errorf("INSERT on a read connection: err = %v, want a readonly error", err)
	}
}

// blockWriter starts an Update whose fn waits until release is called, so that Updates made
// meanwhile queue up; they join its batch when it goes on. release returns its error.
func blockWriter(t *testing.T, s *Store) (release func() error) {
	t.Helper()
	running, unblock, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- s.Update(context.Background(), func(context.Context, store.Tx) error {
			close(running)
			<-unblock
			return nil
		})
	}()
	<-running
	return func() error {
		close(unblock)
		return <-done
	}
}

// waitQueued waits until n requests wait in the writer's queue.
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.writer.Queued() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests queued, want %d", s.writer.Queued(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestGroupCommit checks that Updates queued while the writer is busy are committed together,
// in the transaction of the batch that was running when they came (one commit, one fsync).
func TestGroupCommit(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	release := blockWriter(t, s)
	const n = 50
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = s.Update(context.Background(), func(ctx context.Context, tx store.Tx) error {
				return tx.Insert(ctx, store.Record{Account: "111111111111", Kind: store.KindUser, Key: fmt.Sprint(i), Data: []byte("{}")})
			})
		})
	}
	waitQueued(t, s, n)
	before := s.writer.Commits()
	if err := release(); err != nil {
		t.Errorf("blocking Update: %v", err)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Update %d: %v", i, err)
		}
	}
	// All n join the blocked one's batch (groupcommit.DefaultMaxBatch is above n).
	if got := s.writer.Commits() - before; got != 1 {
		t.Errorf("%d Updates took %d commits, want 1", n, got)
	}
}

// TestCommitFailureFailsBatch makes COMMIT itself fail, with a deferred foreign key that only
// COMMIT checks, and checks that every request of the batch gets the error and none is stored.
func TestCommitFailureFailsBatch(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := t.Context()
	// The writer is idle, so the test may use its connection between batches.
	for _, q := range []string{
		`PRAGMA foreign_keys = ON`,
		`CREATE TABLE parent (id TEXT PRIMARY KEY)`,
		`CREATE TABLE child (parent TEXT REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)`,
	} {
		if _, err := s.wconn.sql.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	release := blockWriter(t, s)
	const n = 6
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = s.Update(context.Background(), func(ctx context.Context, stx store.Tx) error {
				if i == n-1 {
					_, err := stx.(*tx).c.sql.ExecContext(ctx, `INSERT INTO child VALUES ('no such parent')`)
					return err
				}
				return stx.Insert(ctx, store.Record{Account: "111111111111", Kind: store.KindUser, Key: fmt.Sprint(i), Data: []byte("{}")})
			})
		})
	}
	waitQueued(t, s, n)
	// The n join the blocked Update's batch: all of them, the blocked one too, fail with it.
	if err := release(); err == nil || !strings.Contains(err.Error(), "FOREIGN KEY") {
		t.Errorf("blocking Update: err = %v, want the failed COMMIT's error", err)
	}
	wg.Wait()
	for i, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "FOREIGN KEY") {
			t.Errorf("Update %d: err = %v, want the failed COMMIT's error", i, err)
		}
	}
	err := s.View(ctx, func(ctx context.Context, tx store.Tx) error {
		n, err := tx.Count(ctx, store.KindUser, "111111111111", "")
		if err == nil && n != 0 {
			err = fmt.Errorf("%d records of a failed batch are stored", n)
		}
		return err
	})
	if err != nil {
		t.Error(err)
	}
	// The writer goes on working after the failure.
	if err := s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.Insert(ctx, store.Record{Account: "111111111111", Kind: store.KindUser, Key: "after", Data: []byte("{}")})
	}); err != nil {
		t.Errorf("Update after a failed batch: %v", err)
	}
}

// TestBrokenTransactionStopsFn checks that after a failure that may have ended the transaction,
// fn cannot run more statements (they could run outside the batch) and its Update fails even
// if fn ignores the error.
func TestBrokenTransactionStopsFn(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := t.Context()
	errSwallowed := errors.New("unexpected")
	err := s.Update(ctx, func(ctx context.Context, stx store.Tx) error {
		tt := stx.(*tx)
		_ = tt.fail(errSwallowed) // as if a statement had failed with an I/O error
		if err := stx.Insert(ctx, store.Record{Account: "1", Kind: store.KindUser, Key: "k", Data: []byte("{}")}); !errors.Is(err, errSwallowed) {
			t.Errorf("Insert after the failure: err = %v, want the failure", err)
		}
		return nil
	})
	if !errors.Is(err, errSwallowed) {
		t.Errorf("Update = %v, want the swallowed failure", err)
	}
}
