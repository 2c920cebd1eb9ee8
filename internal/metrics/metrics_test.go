package metrics

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/gatehouse-iam/gatehouse/internal/enforce"
	"github.com/gatehouse-iam/gatehouse/internal/iam"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/sqlite"
)

// scrape reads m's handler in the text format, as Prometheus would.
func scrape(t *testing.T, m *Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", "text/plain")
	m.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: status %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("scrape: Content-Type %q, want the text format", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("parse scrape: %v", err)
	}
	return fams
}

// value is the counter, gauge or histogram sample count of name with exactly labels.
func value(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		for _, l := range m.GetLabel() {
			if labels[l.GetName()] != l.GetValue() {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

func TestObservations(t *testing.T) {
	m := New()
	m.Request("iam", "GetUser", "success", 3*time.Millisecond)
	m.Request("iam", "GetUser", "success", 4*time.Millisecond)
	m.Request("iam", "GetUser", "AccessDenied", time.Millisecond)
	m.Denied("iam", "GetUser")
	m.Request("sts", "unknown", "SignatureDoesNotMatch", time.Millisecond)
	m.AuthenticationFailed("SignatureDoesNotMatch")
	m.SignIn("success")
	m.SignIn(string(iam.SignInWrongPassword))
	m.SignIn(string(iam.SignInWrongPassword))
	fams := scrape(t, m)

	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"gatehouse_requests_total", map[string]string{"service": "iam", "action": "GetUser", "outcome": "success"}, 2},
		{"gatehouse_requests_total", map[string]string{"service": "iam", "action": "GetUser", "outcome": "AccessDenied"}, 1},
		{"gatehouse_requests_total", map[string]string{"service": "sts", "action": "unknown", "outcome": "SignatureDoesNotMatch"}, 1},
		{"gatehouse_request_duration_seconds", map[string]string{"service": "iam", "action": "GetUser"}, 3},
		{"gatehouse_authorization_denials_total", map[string]string{"service": "iam", "action": "GetUser"}, 1},
		{"gatehouse_authentication_failures_total", map[string]string{"reason": "SignatureDoesNotMatch"}, 1},
		{"gatehouse_console_signins_total", map[string]string{"outcome": "success"}, 1},
		{"gatehouse_console_signins_total", map[string]string{"outcome": "wrong password"}, 2},
	} {
		got, ok := value(fams, c.name, c.labels)
		if !ok || got != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	// The runtime and process collectors are on the registry too.
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if fams[name] == nil {
			t.Errorf("%s missing from the scrape", name)
		}
	}
}

// Two Metrics share nothing: the registry is per instance, not the global default.
func TestRegistriesAreIndependent(t *testing.T) {
	a, b := New(), New()
	a.Request("iam", "GetUser", "success", time.Millisecond)
	if _, ok := value(scrape(t, b), "gatehouse_requests_total", map[string]string{"service": "iam", "action": "GetUser", "outcome": "success"}); ok {
		t.Fatal("a request observed by one Metrics shows in another's scrape")
	}
}

func TestCaches(t *testing.T) {
	m := New()
	m.WatchCaches(func() []enforce.CacheStat {
		return []enforce.CacheStat{{Name: "credentials", Hits: 7, Misses: 2}, {Name: "grants", Hits: 1, Misses: 0}}
	})
	fams := scrape(t, m)
	for _, c := range []struct {
		name, cache string
		want        float64
	}{
		{"gatehouse_cache_hits_total", "credentials", 7},
		{"gatehouse_cache_misses_total", "credentials", 2},
		{"gatehouse_cache_hits_total", "grants", 1},
		{"gatehouse_cache_misses_total", "grants", 0},
	} {
		if got, ok := value(fams, c.name, map[string]string{"cache": c.cache}); !ok || got != c.want {
			t.Errorf("%s{cache=%s} = %v (present %v), want %v", c.name, c.cache, got, ok, c.want)
		}
	}
}

// The store wrapper times every Update of a real SQLite store and counts it by result; the
// store's own group-commit and pool counters come through WatchStore.
func TestStore(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "g.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m := New()
	m.WatchStore(st.ObserveBatches, func() PoolStats {
		s := st.Stats()
		return PoolStats{Idle: s.ReadersIdle, Total: s.ReadersTotal}
	})
	timed := m.Store(st)
	refused := errors.New("refused")
	for i, fail := range []bool{false, false, true} {
		err := timed.Update(ctx, func(ctx context.Context, tx store.Tx) error {
			if fail {
				return refused
			}
			return nil
		})
		if fail != errors.Is(err, refused) {
			t.Fatalf("update %d: %v", i, err)
		}
	}
	if err := timed.View(ctx, func(context.Context, store.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	fams := scrape(t, m)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"gatehouse_store_updates_total", map[string]string{"result": "ok"}, 2},
		{"gatehouse_store_updates_total", map[string]string{"result": "error"}, 1},
		{"gatehouse_store_update_duration_seconds", map[string]string{}, 3},
		{"gatehouse_store_read_connections", map[string]string{}, float64(st.Stats().ReadersTotal)},
		{"gatehouse_store_read_connections_idle", map[string]string{}, float64(st.Stats().ReadersTotal)},
	} {
		if got, ok := value(fams, c.name, c.labels); !ok || got != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	// The Updates ran one after the other, each in a batch of its own; the refused one, alone
	// in its batch, committed nothing (the batch rolled back), so two batches of one committed.
	f := fams["gatehouse_store_commit_batch_size"]
	if f == nil || len(f.GetMetric()) != 1 {
		t.Fatalf("gatehouse_store_commit_batch_size: %v", f)
	}
	h := f.GetMetric()[0].GetHistogram()
	if n := h.GetSampleCount(); n != 2 || h.GetSampleSum() != 2 {
		t.Errorf("gatehouse_store_commit_batch_size: %d batches carrying %v Updates, want 2 carrying 2", n, h.GetSampleSum())
	}
}

// Concurrent Updates are committed together, and the histogram sees the batches.
func TestStoreBatches(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "g.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m := New()
	m.WatchStore(st.ObserveBatches, func() PoolStats {
		s := st.Stats()
		return PoolStats{Idle: s.ReadersIdle, Total: s.ReadersTotal}
	})
	timed := m.Store(st)
	const n = 64
	// The first Update holds the writer until all the others are queued behind it.
	release := make(chan struct{})
	errs := make(chan error, n)
	go func() {
		errs <- timed.Update(ctx, func(context.Context, store.Tx) error { <-release; return nil })
	}()
	for range n - 1 {
		go func() { errs <- timed.Update(ctx, func(context.Context, store.Tx) error { return nil }) }()
	}
	time.Sleep(200 * time.Millisecond) // let the other Updates queue
	close(release)
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	h := scrape(t, m)["gatehouse_store_commit_batch_size"].GetMetric()[0].GetHistogram()
	if h.GetSampleSum() != n || h.GetSampleCount() >= n {
		t.Errorf("%d Updates in %d batches, want %d in fewer batches", int(h.GetSampleSum()), h.GetSampleCount(), n)
	}
}
