package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse-iam/gatehouse/internal/enforce"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

var (
	cacheHitsDesc = prometheus.NewDesc(namespace+"_cache_hits_total",
		"Lookups answered from an in-memory cache, by cache (credentials: access keys; grants and targets: authorization).", []string{"cache"}, nil)
	cacheMissesDesc = prometheus.NewDesc(namespace+"_cache_misses_total",
		"Lookups an in-memory cache sent to the store, by cache.", []string{"cache"}, nil)
)

// cacheCollector reads enforce.Enforcer.CacheStats at each scrape, so the hot path only bumps an atomic.
type cacheCollector struct{ stats func() []enforce.CacheStat }

func (c cacheCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- cacheHitsDesc
	ch <- cacheMissesDesc
}

func (c cacheCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.stats() {
		ch <- prometheus.MustNewConstMetric(cacheHitsDesc, prometheus.CounterValue, float64(s.Hits), s.Name)
		ch <- prometheus.MustNewConstMetric(cacheMissesDesc, prometheus.CounterValue, float64(s.Misses), s.Name)
	}
}

// WatchCaches exports the hit and miss counts of the caches stats reports.
func (m *Metrics) WatchCaches(stats func() []enforce.CacheStat) {
	m.reg.MustRegister(cacheCollector{stats})
}

// batchBuckets are powers of two up to the SQLite writer's batch cap (256).
var batchBuckets = prometheus.ExponentialBuckets(1, 2, 9)

// PoolStats is a store's read connections at one moment.
type PoolStats struct {
	Idle, Total int
	Waits       int64 // acquisitions that waited for a connection (PostgreSQL only: 0 for SQLite)
}

// WatchStore exports the group-commit batch sizes (observe registers the callback) and the read
// pool (stats, read at each scrape) of a store, SQLite or PostgreSQL.
func (m *Metrics) WatchStore(observe func(fn func(requests int)), stats func() PoolStats) {
	batches := prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: namespace, Name: "store_commit_batch_size",
		Help:    "Store writes committed together in one group-commit transaction (one durable commit).",
		Buckets: batchBuckets,
	})
	observe(func(n int) { batches.Observe(float64(n)) })
	m.reg.MustRegister(
		batches,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Name: "store_read_connections_idle",
			Help: "Store read connections waiting in the pool.",
		}, func() float64 { return float64(stats().Idle) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Name: "store_read_connections",
			Help: "Store read connections open, idle or in use.",
		}, func() float64 { return float64(stats().Total) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: namespace, Name: "store_read_connection_waits_total",
			Help: "Reads that waited for a free connection of the pool (PostgreSQL).",
		}, func() float64 { return float64(stats().Waits) }),
	)
}

// Store returns st with every Update timed into store_update_duration_seconds and counted in
// store_updates_total by result. The wrapper is the one place every writer (IAM, STS, the
// session keyring) goes through.
func (m *Metrics) Store(st store.Store) store.Store {
	updates := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "store_updates_total",
		Help: "Store write transactions asked for, by result (ok or error; an error includes a refusal by the operation itself, which commits nothing).",
	}, []string{"result"})
	m.reg.MustRegister(updates)
	return timedStore{Store: st, m: m, ok: updates.WithLabelValues("ok"), failed: updates.WithLabelValues("error")}
}

type timedStore struct {
	store.Store
	m          *Metrics
	ok, failed prometheus.Counter
}

func (t timedStore) Update(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	start := time.Now()
	err := t.Store.Update(ctx, fn)
	t.m.StoreUpdate(time.Since(start))
	if err != nil {
		t.failed.Inc()
	} else {
		t.ok.Inc()
	}
	return err
}
