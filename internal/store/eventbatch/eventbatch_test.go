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

// TestGroup: one group per account, in the events' order, the first of a repeated id kept;
// the recorder's usual batch (one account, ascending ids) is one group of the events as given.
func TestGroup(t *testing.T) {
	ev := func(id, account string) store.Event { return store.Event{ID: id, Account: account} }
	ids := func(groups [][]store.Event) [][]string {
		var out [][]string
		for _, g := range groups {
			var s []string
			for _, e := range g {
				s = append(s, e.ID+"@"+e.Account[:1])
			}
			out = append(out, s)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		in   []store.Event
		want [][]string
	}{
		{"ascending, one account", []store.Event{ev("a", "1"), ev("b", "1"), ev("c", "1")}, [][]string{{"a@1", "b@1", "c@1"}}},
		{"descending, one account", []store.Event{ev("c", "1"), ev("b", "1"), ev("a", "1")}, [][]string{{"c@1", "b@1", "a@1"}}},
		{"repeated id", []store.Event{ev("a", "1"), ev("b", "1"), ev("a", "1")}, [][]string{{"a@1", "b@1"}}},
		{"adjacent repeat", []store.Event{ev("a", "1"), ev("a", "1"), ev("b", "1")}, [][]string{{"a@1", "b@1"}}},
		{"two accounts", []store.Event{ev("a", "1"), ev("b", "2"), ev("c", "1")}, [][]string{{"a@1", "c@1"}, {"b@2"}}},
		{"none", nil, nil},
	} {
		if got := ids(Group(tc.in)); !slices.EqualFunc(got, tc.want, slices.Equal) {
			t.Errorf("%s: Group = %v, want %v", tc.name, got, tc.want)
		}
	}
}
