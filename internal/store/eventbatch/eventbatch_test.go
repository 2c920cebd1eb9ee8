package eventbatch

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

func events(n int) []store.Event {
	base := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	evs := make([]store.Event, n)
	for i := range evs {
		evs[i] = store.Event{
			ID: fmt.Sprintf("id-%d", i), Account: "111111111111", Time: base.Add(time.Duration(i%17-8) * time.Millisecond),
			Name: []string{"GetUser", "CreateUser"}[i%2], Source: "iam.amazonaws.com", Username: fmt.Sprint("user", i%5),
			AccessKeyID: "AKIA", ReadOnly: i%2 == 0, Data: []byte(fmt.Sprintf(`{"n":%d}`, i)),
		}
		for j := range i % 3 {
			evs[i].Resources = append(evs[i].Resources, store.EventResource{Type: "AWS::IAM::User", Name: fmt.Sprint("r", i, j)})
		}
	}
	return evs
}

func TestRoundTripAndSummary(t *testing.T) {
	for _, n := range []int{1, 2, 63, 64, 65, 1000} {
		evs := events(n)
		b := Encode(evs)
		if b.Count != n || len(b.Parts) != (n+PartEvents-1)/PartEvents {
			t.Fatalf("%d events: count %d, %d parts", n, b.Count, len(b.Parts))
		}
		got, err := DecodeAll(b.Account, b.Header, b.Parts)
		if err != nil {
			t.Fatal(err)
		}
		for i := range evs {
			a, w := got[i], evs[i]
			if a.ID != w.ID || !a.Time.Equal(w.Time) || a.Name != w.Name || a.Username != w.Username || a.ReadOnly != w.ReadOnly ||
				!slices.Equal(a.Resources, w.Resources) || string(a.Data) != string(w.Data) || a.Time.Location() != time.UTC {
				t.Fatalf("event %d = %+v, want %+v", i, a, w)
			}
		}
		// No false negatives, and few false positives.
		for _, ev := range evs {
			for _, av := range store.EventAttributeValues(ev) {
				if !MayContain(b.Summary, av[0], av[1]) {
					t.Fatalf("%d events: the summary (%d bytes) misses %s=%q", n, len(b.Summary), av[0], av[1])
				}
			}
		}
		fp := 0
		for i := range 1000 {
			if MayContain(b.Summary, store.EventAttrResourceName, fmt.Sprint("absent", i)) {
				fp++
			}
		}
		if fp > 50 {
			t.Errorf("%d events: %d false positives in 1000 (summary of %d bytes)", n, fp, len(b.Summary))
		}
	}
}

func FuzzDecode(f *testing.F) {
	b := Encode(events(70))
	f.Add(b.Header)
	f.Add([]byte{version, 0, 1, 0})
	f.Fuzz(func(t *testing.T, hdr []byte) {
		_, _ = DecodeAll("a", hdr, b.Parts)
		p := NewPage(store.EventQuery{Account: "a", Attribute: store.EventAttrResourceName, Value: "r1", Limit: 3})
		if p.add(1, hdr) == nil {
			for i := range p.evs {
				_ = p.evs[i].event("a")
			}
		}
	})
}
