package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// Benchmark runs the store benchmarks, the same for every backend, so that backends compare
// side by side: durable writes from concurrent callers (UpdateParallel), point reads (ViewGet)
// and a page of List by path (ListPathPrefix). open must return a new, empty store.
func Benchmark(b *testing.B, open func(b *testing.B) store.Store) {
	b.Run("UpdateParallel", func(b *testing.B) { benchUpdateParallel(b, open) })
	b.Run("ViewGet", func(b *testing.B) { benchViewGet(b, open) })
	b.Run("ListPathPrefix", func(b *testing.B) { benchListPathPrefix(b, open) })
}

// userRecord is a record shaped like an IAM user's.
func userRecord(i int64) store.Record {
	key := fmt.Sprintf("user-%08d", i)
	return store.Record{
		Account: "123456789012", Kind: store.KindUser, Key: key, ID: fmt.Sprintf("AIDA%016d", i), Path: "/",
		Data: []byte(`{"id":"AIDA` + key + `","name":"` + key + `","path":"/","created":"2026-01-02T03:04:05Z"}`),
	}
}

// insertUsers stores users records shaped like IAM users, keys user-00000000 onwards, in one
// write.
func insertUsers(b *testing.B, s store.Store, users int64) {
	b.Helper()
	err := s.Update(context.Background(), func(ctx context.Context, tx store.Tx) error {
		for i := range users {
			if err := tx.Insert(ctx, userRecord(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// benchUpdateParallel measures durable inserts (each its own Update, as one CreateUser) from
// many concurrent callers, which group commit turns into few fsyncs. clients is the number of
// concurrent callers.
func benchUpdateParallel(b *testing.B, open func(b *testing.B) store.Store) {
	for _, clients := range []int{1, 16, 64, 256} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			s := open(b)
			var next atomic.Int64
			b.SetParallelism(max(1, clients/runtime.GOMAXPROCS(0)))
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for pb.Next() {
					rec := userRecord(next.Add(1))
					if err := s.Update(ctx, func(ctx context.Context, tx store.Tx) error { return tx.Insert(ctx, rec) }); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
		})
	}
}

// benchViewGet measures point reads by key from concurrent callers: one View with one Get,
// and one View with two (an authenticated GetUser reads the access key and the user).
func benchViewGet(b *testing.B, open func(b *testing.B) store.Store) {
	const users = 10000
	s := open(b)
	insertUsers(b, s, users)
	for _, gets := range []int{1, 2} {
		b.Run(fmt.Sprintf("gets=%d", gets), func(b *testing.B) {
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
				for pb.Next() {
					err := s.View(ctx, func(ctx context.Context, tx store.Tx) error {
						for range gets {
							want := userRecord(rng.Int64N(users))
							got, err := tx.Get(ctx, want.Kind, want.Account, want.Key)
							if err != nil {
								return err
							}
							if got.ID != want.ID {
								return fmt.Errorf("Get(%q).ID = %q, want %q", want.Key, got.ID, want.ID)
							}
						}
						return nil
					})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "views/s")
		})
	}
}

// benchListPathPrefix measures one page of List over an account of 30,000 users with a
// PathPrefix that matches every user ("dense") or one user ("sparse"). No index holds the path:
// a sparse prefix reads every row of the kind. An index on (account, kind, key, path) made the
// sparse case 2x faster here (24x through the server) but cost every durable write 10-17%.
func benchListPathPrefix(b *testing.B, open func(b *testing.B) store.Store) {
	const users = 30000
	s := open(b)
	insertUsers(b, s, users)
	sparse := userRecord(users)
	sparse.Path = "/sparse/"
	if err := s.Update(context.Background(), func(ctx context.Context, tx store.Tx) error { return tx.Insert(ctx, sparse) }); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		prefix string
		want   int
	}{{"dense", "/", 101}, {"sparse", "/sparse/", 1}} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				err := s.View(ctx, func(ctx context.Context, tx store.Tx) error {
					recs, err := tx.List(ctx, store.KindUser, "123456789012", store.Query{PathPrefix: c.prefix, Limit: 101})
					if err == nil && len(recs) != c.want {
						err = fmt.Errorf("listed %d records, want %d", len(recs), c.want)
					}
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
