package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/sqlite"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// openAt opens the store at path and closes it when t ends.
func openAt(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path, nil)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// openTemp opens a new store in a temporary directory.
func openTemp(t testing.TB) *sqlite.Store {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "gatehouse.db"))
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

// rec is a small user record.
func rec(key string) store.Record {
	return store.Record{Account: "111111111111", Kind: store.KindUser, Key: key, ID: "AIDA" + key, Path: "/", Data: []byte(`{}`)}
}

// insertOne commits one record.
func insertOne(ctx context.Context, s store.Store, r store.Record) error {
	return s.Update(ctx, func(ctx context.Context, tx store.Tx) error { return tx.Insert(ctx, r) })
}

// keysOf lists every user key of the test account.
func keysOf(t *testing.T, s store.Store) map[string]bool {
	t.Helper()
	got := map[string]bool{}
	err := s.View(t.Context(), func(ctx context.Context, tx store.Tx) error {
		recs, err := tx.List(ctx, store.KindUser, "111111111111", store.Query{})
		for _, r := range recs {
			got[r.Key] = true
		}
		return err
	})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return got
}

func TestOpenCreatesFileAndDirectory(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "a", "b")
	path := filepath.Join(dir, "gatehouse.db")
	s := openAt(t, path)
	if err := insertOne(t.Context(), s, rec("alice")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want os.FileMode
	}{
		{dir, 0o700 | os.ModeDir},
		{path, 0o600},
		{path + "-wal", 0o600}, // SQLite copies the database file's mode
	} {
		fi, err := os.Stat(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != tc.want {
			t.Errorf("mode of %s = %v, want %v", tc.path, fi.Mode(), tc.want)
		}
	}
	if s.Path() != path {
		t.Errorf("Path() = %q, want %q", s.Path(), path)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notDB := filepath.Join(dir, "not-a-db")
	if err := os.WriteFile(notDB, []byte(strings.Repeat("this is not a database file ", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, path string }{
		{"not a database", notDB},
		{"directory is a file", filepath.Join(blocker, "x.db")},
		{"path is a directory", dir},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			s, err := sqlite.Open(t.Context(), tc.path, nil)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) succeeded", tc.path)
			}
			if !strings.Contains(err.Error(), tc.path) && !strings.Contains(err.Error(), filepath.Dir(tc.path)) {
				t.Errorf("error %q does not name the path", err)
			}
		})
	}
}

func TestReopenKeepsData(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	s, err := sqlite.Open(t.Context(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b", "c"} {
		if err := insertOne(t.Context(), s, rec(k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := keysOf(t, openAt(t, path)); len(got) != 3 {
		t.Errorf("after reopen: %v, want a b c", got)
	}
}

// TestClose checks that Close refuses new calls, is idempotent, and leaves no goroutine behind.
func TestClose(t *testing.T) {
	// Not parallel: it counts goroutines.
	before := runtime.NumGoroutine()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "gatehouse.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if err := insertOne(t.Context(), s, rec(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.View(t.Context(), func(context.Context, store.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := insertOne(t.Context(), s, rec("late")); !errors.Is(err, sqlite.ErrClosed) {
		t.Errorf("Update after Close: err = %v, want ErrClosed", err)
	}
	if err := s.View(t.Context(), func(context.Context, store.Tx) error { return nil }); !errors.Is(err, sqlite.ErrClosed) {
		t.Errorf("View after Close: err = %v, want ErrClosed", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines before Open, %d after Close:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestCloseDuringLoad closes the store while Updates and Views run: each call either finishes
// normally or is refused with ErrClosed, and whatever was acknowledged is in the file.
func TestCloseDuringLoad(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	s, err := sqlite.Open(t.Context(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				key := fmt.Sprintf("g%d-%d", g, i)
				err := insertOne(context.Background(), s, rec(key))
				if errors.Is(err, sqlite.ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("Update: %v", err)
					return
				}
				mu.Lock()
				acked[key] = true
				mu.Unlock()
				err = s.View(context.Background(), func(ctx context.Context, tx store.Tx) error {
					_, err := tx.Get(ctx, store.KindUser, "111111111111", key)
					return err
				})
				if err != nil && !errors.Is(err, sqlite.ErrClosed) {
					t.Errorf("View: %v", err)
					return
				}
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	wg.Wait()
	got := keysOf(t, openAt(t, path))
	for k := range acked {
		if !got[k] {
			t.Errorf("acknowledged %q missing after Close", k)
		}
	}
	if len(acked) == 0 {
		t.Error("no Update finished before Close")
	}
}

// TestUpdatePanic checks that a panic in fn reaches the caller, undoes fn's writes and leaves
// the writer working.
func TestUpdatePanic(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	func() {
		defer func() {
			if v := recover(); v != "boom" {
				t.Errorf("recovered %v, want the panic of fn", v)
			}
		}()
		_ = s.Update(t.Context(), func(ctx context.Context, tx store.Tx) error {
			if err := tx.Insert(ctx, rec("panicky")); err != nil {
				return err
			}
			panic("boom")
		})
		t.Error("Update returned after fn panicked")
	}()
	if err := insertOne(t.Context(), s, rec("after")); err != nil {
		t.Fatalf("Update after a panic: %v", err)
	}
	if got := keysOf(t, s); got["panicky"] || !got["after"] {
		t.Errorf("keys = %v, want only after", got)
	}
}

// TestViewPanic checks that a panic in a View's fn reaches the caller and gives the connection
// back: more Views than connections still run afterwards.
func TestViewPanic(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	for range 3 * runtime.GOMAXPROCS(0) * 4 {
		func() {
			defer func() { _ = recover() }()
			_ = s.View(t.Context(), func(ctx context.Context, tx store.Tx) error {
				_, _ = tx.Count(ctx, store.KindUser, "1", "")
				panic("boom")
			})
		}()
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := s.View(ctx, func(context.Context, store.Tx) error { return nil }); err != nil {
		t.Errorf("View after panics: %v", err)
	}
}

func TestNestedUpdate(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	done := make(chan error, 1)
	go func() {
		done <- s.Update(t.Context(), func(ctx context.Context, tx store.Tx) error {
			return insertOne(ctx, s, rec("inner"))
		})
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Error("nested Update succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("nested Update deadlocked")
	}
	// A View inside an Update works, and sees the last committed state.
	if err := insertOne(t.Context(), s, rec("outer")); err != nil {
		t.Fatal(err)
	}
	err := s.Update(t.Context(), func(ctx context.Context, tx store.Tx) error {
		return s.View(ctx, func(ctx context.Context, vtx store.Tx) error {
			_, err := vtx.Get(ctx, store.KindUser, "111111111111", "outer")
			return err
		})
	})
	if err != nil {
		t.Errorf("View inside Update: %v", err)
	}
}

// TestQueuedUpdateCancelled checks that an Update waiting behind a busy writer returns as soon
// as its context ends, and its fn never runs.
func TestQueuedUpdateCancelled(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	running, unblock := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- s.Update(context.Background(), func(context.Context, store.Tx) error {
			close(running)
			<-unblock
			return nil
		})
	}()
	<-running
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	ran := make(chan struct{}, 1)
	start := time.Now()
	err := s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		ran <- struct{}{}
		return tx.Insert(ctx, rec("late"))
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("queued Update: err = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("queued Update returned after %v", d)
	}
	close(unblock)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	// Let the writer reach the cancelled request, then make sure it skipped it.
	if err := insertOne(t.Context(), s, rec("next")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ran:
		t.Error("fn of a cancelled Update ran")
	default:
	}
	if keysOf(t, s)["late"] {
		t.Error("cancelled Update was committed")
	}
}

// TestTwoStoresOneFile runs two Store instances on one file, writing at the same time, as the
// server and a CLI command in one process would: no SQLITE_BUSY may surface.
func TestTwoStoresOneFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	stores := []*sqlite.Store{openAt(t, path), openAt(t, path)}
	const perWorker, workers = 100, 4
	var wg sync.WaitGroup
	for si, s := range stores {
		for w := range workers {
			wg.Go(func() {
				for i := range perWorker {
					if err := insertOne(context.Background(), s, rec(fmt.Sprintf("s%d-w%d-%d", si, w, i))); err != nil {
						t.Errorf("store %d: %v", si, err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	for si, s := range stores {
		if got := len(keysOf(t, s)); got != len(stores)*workers*perWorker {
			t.Errorf("store %d sees %d records, want %d", si, got, len(stores)*workers*perWorker)
		}
	}
}
