package postgres_test

import (
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// BenchmarkAppendEvents measures durable appends of the audit trail to PostgreSQL (the server
// on the same machine).
func BenchmarkAppendEvents(b *testing.B) {
	storetest.BenchmarkAppendEvents(b, func(b *testing.B) store.Store { return openTest(b) })
}

// BenchmarkEventsPage measures a page of LookupEvents over a trail of 100,000 events.
func BenchmarkEventsPage(b *testing.B) {
	storetest.BenchmarkEventsPage(b, func(b *testing.B) store.Store { return openTest(b) })
}
