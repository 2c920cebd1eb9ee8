package sqlite_test

import (
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// BenchmarkStore runs the backend-independent store benchmarks on SQLite files (the results
// are comparable with internal/store/postgres's BenchmarkStore).
func BenchmarkStore(b *testing.B) {
	storetest.Benchmark(b, func(b *testing.B) store.Store { return openTemp(b) })
}
