package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

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

// BenchmarkAppendEvents measures AppendEvents of batches shaped like the audit recorder's
// (events of about a kilobyte, as CloudTrail records of IAM calls are); one op is one event.
func BenchmarkAppendEvents(b *testing.B, open func(b *testing.B) store.Store) {
	for _, batch := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			log, ok := open(b).(store.EventLog)
			if !ok {
				b.Skip("the store is not a store.EventLog")
			}
			data := []byte(`{"eventVersion":"1.11","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::123456789012:user/alice","accountId":"123456789012","accessKeyId":"AKIAEXAMPLE","userName":"alice"},"eventTime":"2026-01-02T03:04:05Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.1","userAgent":"aws-cli/2.15.0 Python/3.11.6 Linux/6.1.0 exe/x86_64.debian.12","requestParameters":{"userName":"bob","path":"/"},"responseElements":{"user":{"path":"/","userName":"bob","userId":"AIDAEXAMPLEBOB","arn":"arn:aws:iam::123456789012:user/bob","createDate":"Jan 2, 2026, 3:04:05 AM"}},"requestID":"0d7a5c4e-3f1b-4a8e-9f60-1b2c3d4e5f60","eventID":"5b6c7d8e-9f01-4234-8567-89abcdef0123","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management"}`)
			events := make([]store.Event, batch)
			base := time.Now()
			var n int64
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			b.ResetTimer()
			cpu0 := ProcessCPU()
			var srv0 time.Duration
			if ServerCPU != nil {
				srv0 = ServerCPU()
			}
			defer func() {
				b.ReportMetric(float64(ProcessCPU()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-µs/event")
				if ServerCPU != nil {
					b.ReportMetric(float64(ServerCPU()-srv0)/float64(time.Microsecond)/float64(b.N), "server-cpu-µs/event")
				}
			}()
			for i := 0; i < b.N; i += batch {
				for j := range events {
					n++
					events[j] = store.Event{
						ID: fmt.Sprintf("ev-%016d", n), Account: "123456789012", Time: base.Add(time.Duration(n)),
						Name: "CreateUser", Source: "iam.amazonaws.com", Username: "alice", AccessKeyID: "AKIAEXAMPLE",
						Resources: []store.EventResource{{Type: "AWS::IAM::User", Name: fmt.Sprintf("user-%d", n)}}, Data: data,
					}
				}
				if err := log.AppendEvents(context.Background(), events); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEventsPage measures one page of Events (50 events, LookupEvents' default) of an
// account whose trail holds 100,000 events (and another account's 10,000 beside them):
// unfiltered, the first page and a page deep in the trail (by cursor); filtered on an
// attribute whose value a quarter of the events have ("common"), one event in a thousand
// ("rare", spread over the whole trail) and one event of the trail ("needle", far back); and
// by EventId.
func BenchmarkEventsPage(b *testing.B, open func(b *testing.B) store.Store) {
	const events, page = 100000, 50
	log, ok := open(b).(store.EventLog)
	if !ok {
		b.Skip("the store is not a store.EventLog")
	}
	ctx := context.Background()
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	names := []string{"GetUser", "CreateUser", "ListUsers", "GetRole"}
	ev := func(acct string, n int) store.Event {
		user := fmt.Sprintf("user-%d", n%97)
		if n%1000 == 500 {
			user = "rare"
		}
		res := fmt.Sprintf("res-%d", n%5000)
		if n == 1234 {
			res = "needle"
		}
		id := fmt.Sprintf("ev-%s-%08d", acct, n)
		return store.Event{
			ID: id, Account: acct, Time: base.Add(time.Duration(n) * time.Millisecond),
			Name: names[n%len(names)], Source: "iam.amazonaws.com", Username: user, AccessKeyID: "AKIAEXAMPLE",
			ReadOnly: n%4 != 1, Resources: []store.EventResource{{Type: "AWS::IAM::User", Name: res}},
			Data: []byte(`{"eventVersion":"1.09","eventID":"` + id + `","userIdentity":{"type":"IAMUser","userName":"` + user +
				`"},"eventSource":"iam.amazonaws.com","eventName":"` + names[n%len(names)] + `","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.1","userAgent":"aws-cli/2.15.0 Python/3.11.6 Linux/6.1.0 exe/x86_64.debian.12","requestParameters":{"userName":"` + res + `"},"responseElements":null,"requestID":"0d7a5c4e-3f1b-4a8e-9f60-1b2c3d4e5f60","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"` + acct + `","eventCategory":"Management"}`),
		}
	}
	const acct, other = "123456789012", "210987654321"
	for i := 0; i < events; i += 1000 {
		batch := make([]store.Event, 0, 1100)
		for j := i; j < i+1000; j++ {
			batch = append(batch, ev(acct, j))
			if j%10 == 0 {
				batch = append(batch, ev(other, j))
			}
		}
		if err := log.AppendEvents(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	deep := ev(acct, events/2)
	for _, c := range []struct {
		name string
		q    store.EventQuery
		want int
	}{
		{"all", store.EventQuery{Account: acct, Limit: page}, page},
		{"all-deep", store.EventQuery{Account: acct, Limit: page, Before: &store.EventCursor{Time: deep.Time, ID: deep.ID}}, page},
		{"common", store.EventQuery{Account: acct, Attribute: store.EventAttrEventName, Value: "GetUser", Limit: page}, page},
		{"rare", store.EventQuery{Account: acct, Attribute: store.EventAttrUsername, Value: "rare", Limit: page}, page},
		{"needle", store.EventQuery{Account: acct, Attribute: store.EventAttrResourceName, Value: "needle", Limit: page}, 1},
		{"eventid", store.EventQuery{Account: acct, Attribute: store.EventAttrEventID, Value: ev(acct, 4321).ID, Limit: page}, 1},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				evs, err := log.Events(ctx, c.q)
				if err != nil {
					b.Fatal(err)
				}
				if len(evs) != c.want {
					b.Fatalf("%d events, want %d", len(evs), c.want)
				}
			}
		})
	}
}

// ServerCPU, when set (by a backend whose database is a server of its own), is the CPU time
// the database server has used, reported per event by BenchmarkAppendEvents.
var ServerCPU func() time.Duration

// ProcessCPU is the CPU time (user and system) this process has used: with SQLite, the whole
// cost of an append; with PostgreSQL, the client's share only.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
