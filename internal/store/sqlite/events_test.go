package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/sqlite"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// event is a test event of the test account.
func event(i int, at time.Time) store.Event {
	return store.Event{
		ID: fmt.Sprintf("ev-%06d", i), Account: "111111111111", Time: at, Name: "CreateUser", Source: "iam.amazonaws.com",
		Username: "alice", Resources: []store.EventResource{{Type: "AWS::IAM::User", Name: fmt.Sprint("u", i)}},
		Data: []byte(`{"n":` + fmt.Sprint(i) + `}`),
	}
}

// TestEventsDurable appends events, closes the store and reads them from the reopened file.
func TestEventsDurable(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	s, err := sqlite.Open(t.Context(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	if err := s.AppendEvents(t.Context(), []store.Event{event(1, base), event(2, base.Add(time.Second))}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendEvents(t.Context(), []store.Event{event(3, base)}); err == nil {
		t.Error("AppendEvents after Close succeeded")
	}
	r := openAt(t, path)
	evs, err := r.Events(t.Context(), store.EventQuery{Account: "111111111111"})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].ID != "ev-000002" || string(evs[1].Data) != `{"n":1}` || !evs[1].Time.Equal(base) || evs[1].Resources[0].Name != "u1" {
		t.Fatalf("after reopening: %+v", evs)
	}
}

// TestEventsBesideUpdates appends events while Updates commit: the two writers of the file
// take turns, and neither fails.
func TestEventsBesideUpdates(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	base := time.Now()
	for w := range 4 {
		wg.Go(func() {
			for i := range 20 {
				n := w*100 + i
				errs <- s.AppendEvents(t.Context(), []store.Event{event(n, base.Add(time.Duration(n)))})
				errs <- insertOne(t.Context(), s, rec(fmt.Sprint("user", n)))
			}
		})
	}
	go func() { wg.Wait(); close(errs) }()
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	evs, err := s.Events(t.Context(), store.EventQuery{Account: "111111111111"})
	if err != nil || len(evs) != 80 {
		t.Fatalf("Events: %d, %v", len(evs), err)
	}
	if n := len(keysOf(t, s)); n != 80 {
		t.Errorf("%d users, want 80", n)
	}
}

// TestEventsRetentionChunks deletes more events than one retention transaction takes.
func TestEventsRetentionChunks(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var evs []store.Event
	for i := range 5000 {
		evs = append(evs, event(i, base.Add(time.Duration(i/2)*time.Millisecond)))
	}
	if err := s.AppendEvents(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
	n, err := s.DeleteEventsBefore(t.Context(), base.Add(2400*time.Millisecond))
	if err != nil || n != 4800 {
		t.Fatalf("DeleteEventsBefore = %d, %v; want 4800", n, err)
	}
	left, err := s.Events(t.Context(), store.EventQuery{Account: "111111111111", Attribute: store.EventAttrUsername, Value: "alice"})
	if err != nil || len(left) != 200 || left[len(left)-1].ID != "ev-004800" {
		t.Fatalf("left %d, %v", len(left), err)
	}
}

// BenchmarkAppendEvents measures durable appends of the audit trail to a SQLite file.
func BenchmarkAppendEvents(b *testing.B) {
	storetest.BenchmarkAppendEvents(b, func(b *testing.B) store.Store { return openTemp(b) })
}

// BenchmarkUpdateBesideAppends is the latency of an Update (one insert) while the audit trail
// appends batches of 1,000 events beside it without pause, the worst case of the two writers of
// one SQLite file taking turns; it reports the slowest Update too.
func BenchmarkUpdateBesideAppends(b *testing.B) {
	s := openTemp(b)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		base := time.Now()
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			evs := make([]store.Event, 1000)
			for i := range evs {
				evs[i] = event(n*1000+i, base.Add(time.Duration(n*1000+i)))
			}
			if err := s.AppendEvents(context.Background(), evs); err != nil {
				b.Error(err)
				return
			}
		}
	}()
	var worst time.Duration
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		if err := insertOne(context.Background(), s, rec(fmt.Sprint("u", i))); err != nil {
			b.Fatal(err)
		}
		worst = max(worst, time.Since(start))
	}
	close(stop)
	<-done
	b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
}

// BenchmarkEventsPage measures a page of LookupEvents over a trail of 100,000 events.
func BenchmarkEventsPage(b *testing.B) {
	storetest.BenchmarkEventsPage(b, func(b *testing.B) store.Store { return openTemp(b) })
}
