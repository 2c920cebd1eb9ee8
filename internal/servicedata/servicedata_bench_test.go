package servicedata

import (
	"runtime"
	"testing"
)

// BenchmarkParse measures the one-time parse of the embedded reference (Load runs it once per
// process): time and allocations per parse, and the heap the parsed reference keeps
// (retained-B).
func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	var ref *Reference
	for b.Loop() {
		var err error
		if ref, err = parse(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	var before, after runtime.MemStats
	ref = nil
	runtime.GC()
	runtime.ReadMemStats(&before)
	ref, _ = parse()
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc), "retained-B")
	runtime.KeepAlive(ref)
}
