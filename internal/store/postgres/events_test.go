package postgres_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// BenchmarkAppendEvents measures durable appends of the audit trail to PostgreSQL (the server
// on the same machine).
func BenchmarkAppendEvents(b *testing.B) {
	storetest.ServerCPU = postgresCPU
	defer func() { storetest.ServerCPU = nil }()
	storetest.BenchmarkAppendEvents(b, func(b *testing.B) store.Store { return openTest(b) })
}

// BenchmarkEventsPage measures a page of LookupEvents over a trail of 100,000 events.
func BenchmarkEventsPage(b *testing.B) {
	storetest.BenchmarkEventsPage(b, func(b *testing.B) store.Store { return openTest(b) })
}

// postgresCPU is the CPU time (utime+stime, and that of exited children) of every process named
// postgres on the machine: the test cluster's, and any other cluster's running beside it.
func postgresCPU() time.Duration {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var ticks int64
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 || !strings.Contains(s[:i], "(postgres") {
			continue
		}
		f := strings.Fields(s[i+2:])
		if len(f) < 15 {
			continue
		}
		for _, k := range f[11:15] { // utime, stime, cutime, cstime
			n, _ := strconv.ParseInt(k, 10, 64)
			ticks += n
		}
	}
	return time.Duration(ticks) * (time.Second / 100) // USER_HZ
}
