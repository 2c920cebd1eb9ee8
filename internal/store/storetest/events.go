package storetest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// The cases of store.EventLog; a store that is not one skips them.
var eventCases = []struct {
	name string
	run  func(t *testing.T, s store.Store, log store.EventLog)
}{
	{"round trip", testEventRoundTrip},
	{"newest first, paged by cursor across equal times", testEventPaging},
	{"attribute filters", testEventAttributes},
	{"time range", testEventTimeRange},
	{"accounts apart", testEventAccounts},
	{"duplicate id skipped", testEventDuplicate},
	{"retention", testEventRetention},
	{"not a change, not dumped", testEventNotRecords},
	{"pages across appends whose times overlap", testEventOverlap},
}

func init() {
	for _, c := range eventCases {
		cases = append(cases, struct {
			name string
			run  func(t *testing.T, s store.Store)
		}{"events " + c.name, func(t *testing.T, s store.Store) {
			log, ok := s.(store.EventLog)
			if !ok {
				t.Skip("the store is not a store.EventLog")
			}
			c.run(t, s, log)
		}})
	}
}

// eventBase is the time of the test events: whole seconds plus nanoseconds, to see that the
// backends keep the time exactly.
var eventBase = time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC)

// testEvent is an event of acct1 at eventBase + sec seconds.
func testEvent(id string, sec int) store.Event {
	return store.Event{
		ID: id, Account: acct1, Time: eventBase.Add(time.Duration(sec) * time.Second),
		Name: "CreateUser", Source: "iam.amazonaws.com", Username: "alice", AccessKeyID: "AKIAEXAMPLE",
		Resources: []store.EventResource{{Type: "AWS::IAM::User", Name: "bob"}},
		Data:      []byte(`{"eventID":"` + id + `"}`),
	}
}

// appendEvents appends events and fails the test on error.
func appendEvents(t *testing.T, log store.EventLog, events ...store.Event) {
	t.Helper()
	if err := log.AppendEvents(t.Context(), events); err != nil {
		t.Fatalf("AppendEvents: %v", err)
	}
}

// eventIDs runs q and returns the ids it found, in order.
func eventIDs(t *testing.T, log store.EventLog, q store.EventQuery) []string {
	t.Helper()
	evs, err := log.Events(t.Context(), q)
	if err != nil {
		t.Fatalf("Events(%+v): %v", q, err)
	}
	ids := make([]string, len(evs))
	for i, ev := range evs {
		ids[i] = ev.ID
	}
	return ids
}

func testEventRoundTrip(t *testing.T, _ store.Store, log store.EventLog) {
	want := store.Event{
		ID: "ev-1", Account: acct1, Time: eventBase, Name: "AttachUserPolicy", Source: "iam.amazonaws.com",
		Username: "alice", AccessKeyID: "ASIAEXAMPLE", ReadOnly: true,
		Resources: []store.EventResource{{Type: "AWS::IAM::User", Name: "bob"}, {Type: "AWS::IAM::Policy", Name: "arn:aws:iam::aws:policy/ReadOnlyAccess"}},
		Data:      []byte("{\"eventVersion\":\"1.11\",\"x\":\"\u00e9\\u0000\"}"),
	}
	bare := store.Event{ID: "ev-2", Account: acct1, Time: eventBase.Add(-time.Hour), Name: "GetCallerIdentity", Source: "sts.amazonaws.com"}
	appendEvents(t, log, want, bare)
	got, err := log.Events(t.Context(), store.EventQuery{Account: acct1})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d events, want 2", len(got))
	}
	if !sameEvent(got[0], want) {
		t.Errorf("event = %+v\nwant    %+v", got[0], want)
	}
	bare.Data = []byte{}
	if !sameEvent(got[1], bare) {
		t.Errorf("event = %+v\nwant    %+v", got[1], bare)
	}
	if got[0].Time.Location() != time.UTC {
		t.Errorf("time %v is not in UTC", got[0].Time)
	}
	if err := log.AppendEvents(t.Context(), nil); err != nil {
		t.Errorf("AppendEvents(nil) = %v", err)
	}
	if _, err := log.Events(t.Context(), store.EventQuery{Account: acct1, Attribute: "Bogus", Value: "x"}); err == nil {
		t.Error("an unknown attribute was accepted")
	}
}

// sameEvent compares events field by field (times as instants).
func sameEvent(a, b store.Event) bool {
	return a.ID == b.ID && a.Account == b.Account && a.Time.Equal(b.Time) && a.Name == b.Name && a.Source == b.Source &&
		a.Username == b.Username && a.AccessKeyID == b.AccessKeyID && a.ReadOnly == b.ReadOnly &&
		slices.Equal(a.Resources, b.Resources) && bytes.Equal(a.Data, b.Data)
}

func testEventPaging(t *testing.T, _ store.Store, log store.EventLog) {
	// 5 events at second 0, 3 at second 1, 2 at second 2, appended out of order over batches.
	var evs []store.Event
	for i, sec := range []int{0, 1, 0, 2, 0, 1, 0, 2, 1, 0} {
		evs = append(evs, testEvent(fmt.Sprintf("id-%02d", i), sec))
	}
	appendEvents(t, log, evs[:4]...)
	appendEvents(t, log, evs[4:]...)
	want := []string{"id-07", "id-03", "id-08", "id-05", "id-01", "id-09", "id-06", "id-04", "id-02", "id-00"}
	if got := eventIDs(t, log, store.EventQuery{Account: acct1}); !slices.Equal(got, want) {
		t.Fatalf("all = %q, want %q", got, want)
	}
	for _, attr := range []string{"", store.EventAttrEventName} {
		for _, size := range []int{1, 2, 3, 4, 10, 11} {
			var got []string
			var cur *store.EventCursor
			for range 20 {
				q := store.EventQuery{Account: acct1, Before: cur, Limit: size}
				if attr != "" {
					q.Attribute, q.Value = attr, "CreateUser"
				}
				page, err := log.Events(t.Context(), q)
				if err != nil {
					t.Fatal(err)
				}
				for _, ev := range page {
					got = append(got, ev.ID)
				}
				if len(page) < size {
					break
				}
				last := page[len(page)-1]
				cur = &store.EventCursor{Time: last.Time, ID: last.ID}
			}
			if !slices.Equal(got, want) {
				t.Errorf("attribute %q, pages of %d = %q, want %q", attr, size, got, want)
			}
		}
	}
}

func testEventAttributes(t *testing.T, _ store.Store, log store.EventLog) {
	a := testEvent("a", 0)
	b := testEvent("b", 1)
	b.Name, b.Source, b.Username, b.AccessKeyID, b.ReadOnly = "GetUser", "iam.amazonaws.com", "carol", "AKIAOTHER", true
	b.Resources = []store.EventResource{{Type: "AWS::IAM::User", Name: "carol"}}
	c := testEvent("c", 2)
	c.Name, c.Source, c.Username, c.AccessKeyID = "AssumeRole", "sts.amazonaws.com", "", ""
	c.Resources = []store.EventResource{{Type: "AWS::IAM::Role", Name: "arn:aws:iam::111111111111:role/r"}, {Type: "AWS::STS::AssumedRole", Name: "bob"}}
	d := testEvent("d", 3)
	d.Resources = nil
	appendEvents(t, log, a, b, c, d)
	for _, tc := range []struct {
		attr, value string
		want        []string
	}{
		{store.EventAttrEventID, "b", []string{"b"}},
		{store.EventAttrEventID, "B", nil},
		{store.EventAttrEventName, "CreateUser", []string{"d", "a"}},
		{store.EventAttrEventName, "createuser", nil},
		{store.EventAttrReadOnly, "true", []string{"b"}},
		{store.EventAttrReadOnly, "false", []string{"d", "c", "a"}},
		{store.EventAttrUsername, "alice", []string{"d", "a"}},
		{store.EventAttrUsername, "", nil},
		{store.EventAttrResourceType, "AWS::IAM::User", []string{"b", "a"}},
		{store.EventAttrResourceType, "AWS::STS::AssumedRole", []string{"c"}},
		{store.EventAttrResourceName, "bob", []string{"c", "a"}},
		{store.EventAttrResourceName, "arn:aws:iam::111111111111:role/r", []string{"c"}},
		{store.EventAttrEventSource, "sts.amazonaws.com", []string{"c"}},
		{store.EventAttrEventSource, "iam.amazonaws.com", []string{"d", "b", "a"}},
		{store.EventAttrAccessKeyID, "AKIAOTHER", []string{"b"}},
		{store.EventAttrAccessKeyID, "AKIA", nil},
	} {
		got := eventIDs(t, log, store.EventQuery{Account: acct1, Attribute: tc.attr, Value: tc.value})
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s=%q: %q, want %q", tc.attr, tc.value, got, tc.want)
		}
	}
	// A filtered query keeps the time range and the limit.
	got := eventIDs(t, log, store.EventQuery{Account: acct1, Attribute: store.EventAttrEventSource, Value: "iam.amazonaws.com",
		Start: eventBase.Add(time.Second), Limit: 1})
	if !slices.Equal(got, []string{"d"}) {
		t.Errorf("filtered, from second 1, limit 1: %q", got)
	}
	got = eventIDs(t, log, store.EventQuery{Account: acct1, Attribute: store.EventAttrEventID, Value: "a", End: eventBase.Add(-time.Second)})
	if len(got) != 0 {
		t.Errorf("EventId outside the time range: %q", got)
	}
}

func testEventTimeRange(t *testing.T, _ store.Store, log store.EventLog) {
	for i := range 5 {
		appendEvents(t, log, testEvent(fmt.Sprint(i), i))
	}
	at := func(sec int) time.Time { return eventBase.Add(time.Duration(sec) * time.Second) }
	for _, tc := range []struct {
		name       string
		start, end time.Time
		want       []string
	}{
		{"open", time.Time{}, time.Time{}, []string{"4", "3", "2", "1", "0"}},
		{"inclusive both", at(1), at(3), []string{"3", "2", "1"}},
		{"from", at(3), time.Time{}, []string{"4", "3"}},
		{"until", time.Time{}, at(1), []string{"1", "0"}},
		{"one instant", at(2), at(2), []string{"2"}},
		{"a nanosecond short", at(2).Add(time.Nanosecond), at(3).Add(-time.Nanosecond), nil},
		{"empty", at(3), at(1), nil},
	} {
		if got := eventIDs(t, log, store.EventQuery{Account: acct1, Start: tc.start, End: tc.end}); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func testEventAccounts(t *testing.T, _ store.Store, log store.EventLog) {
	a := testEvent("mine", 0)
	b := testEvent("theirs", 1)
	b.Account = acct2
	appendEvents(t, log, a, b)
	if got := eventIDs(t, log, store.EventQuery{Account: acct1}); !slices.Equal(got, []string{"mine"}) {
		t.Errorf("account 1: %q", got)
	}
	if got := eventIDs(t, log, store.EventQuery{Account: acct2, Attribute: store.EventAttrUsername, Value: "alice"}); !slices.Equal(got, []string{"theirs"}) {
		t.Errorf("account 2 by user: %q", got)
	}
	if got := eventIDs(t, log, store.EventQuery{Account: acct1, Attribute: store.EventAttrEventID, Value: "theirs"}); len(got) != 0 {
		t.Errorf("another account's event by id: %q", got)
	}
}

func testEventDuplicate(t *testing.T, _ store.Store, log store.EventLog) {
	a := testEvent("same", 0)
	appendEvents(t, log, a)
	again := testEvent("same", 5)
	again.Name = "DeleteUser"
	appendEvents(t, log, again, testEvent("other", 1))
	evs, err := log.Events(t.Context(), store.EventQuery{Account: acct1})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[1].ID != "same" || evs[1].Name != "CreateUser" || !evs[1].Time.Equal(a.Time) {
		t.Fatalf("events = %+v, want other, then the first same", evs)
	}
	if got := eventIDs(t, log, store.EventQuery{Account: acct1, Attribute: store.EventAttrEventName, Value: "DeleteUser"}); len(got) != 0 {
		t.Errorf("the skipped duplicate left attribute rows: %q", got)
	}
}

func testEventRetention(t *testing.T, _ store.Store, log store.EventLog) {
	var evs []store.Event
	for i := range 30 {
		ev := testEvent(fmt.Sprintf("%02d", i), i/3) // three events a second
		if i%2 == 1 {
			ev.Account = acct2
		}
		evs = append(evs, ev)
	}
	appendEvents(t, log, evs...)
	n, err := log.DeleteEventsBefore(t.Context(), eventBase.Add(4*time.Second))
	if err != nil || n != 12 {
		t.Fatalf("DeleteEventsBefore = %d, %v; want 12", n, err)
	}
	left := len(eventIDs(t, log, store.EventQuery{Account: acct1})) + len(eventIDs(t, log, store.EventQuery{Account: acct2}))
	if left != 18 {
		t.Errorf("%d events left, want 18", left)
	}
	if got := eventIDs(t, log, store.EventQuery{Account: acct1, Attribute: store.EventAttrEventName, Value: "CreateUser", Start: eventBase}); len(got) != 9 {
		t.Errorf("attribute query after retention: %d events, want 9", len(got))
	}
	if n, err := log.DeleteEventsBefore(t.Context(), eventBase.Add(4*time.Second)); err != nil || n != 0 {
		t.Errorf("again: %d, %v", n, err)
	}
	if n, err := log.DeleteEventsBefore(t.Context(), eventBase.Add(time.Hour)); err != nil || n != 18 {
		t.Errorf("all: %d, %v", n, err)
	}
}

func testEventNotRecords(t *testing.T, s store.Store, log store.EventLog) {
	counter, counts := s.(store.ChangeCounter)
	var before uint64
	if counts {
		var err error
		if before, err = counter.Changes(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	appendEvents(t, log, testEvent("x", 0))
	if _, err := log.DeleteEventsBefore(t.Context(), eventBase.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if counts {
		after, err := counter.Changes(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if after != before {
			t.Errorf("appending events moved the change count from %d to %d", before, after)
		}
	}
	if d, ok := s.(store.Dumper); ok {
		n := 0
		err := d.Dump(t.Context(), func(store.Record) error { n++; return nil }, func(store.Link) error { n++; return nil })
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("Dump of a store with only events returned %d items", n)
		}
	}
	// Records and events live side by side: an Update after an append works as ever.
	update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.Insert(ctx, user(acct1, "u", "AIDAU")) })
}

// testEventOverlap appends events in many appends of one or two accounts whose time ranges
// overlap (as events of concurrent requests arrive nearly, not exactly, in time order, with
// equal times too), then reads every page size, with and without filters and time ranges,
// and compares with the events sorted.
func testEventOverlap(t *testing.T, _ store.Store, log store.EventLog) {
	const n = 600
	users := []string{"alice", "bob", "carol"}
	var all []store.Event
	var batch []store.Event
	for i := range n {
		sec := i/10 + (i*7)%13 - 6 // jitter across appends
		ev := testEvent(fmt.Sprintf("o-%04d", (i*389)%1000), sec)
		ev.Username = users[i%len(users)]
		if i%50 == 0 {
			ev.Username = "dave"
		}
		ev.ReadOnly = i%3 == 0
		if i%4 == 0 {
			ev.Account = acct2
		}
		batch = append(batch, ev)
		if ev.Account == acct1 {
			all = append(all, ev)
		}
		if len(batch) == 1+i%37 {
			appendEvents(t, log, batch...)
			batch = nil
		}
	}
	appendEvents(t, log, batch...)
	slices.SortFunc(all, func(a, b store.Event) int {
		if c := b.Time.Compare(a.Time); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	for _, f := range []struct{ attr, value string }{
		{"", ""}, {store.EventAttrUsername, "dave"}, {store.EventAttrUsername, "bob"}, {store.EventAttrReadOnly, "true"},
		{store.EventAttrResourceName, "bob"}, {store.EventAttrUsername, "nobody"},
	} {
		for _, rng := range [][2]int{{0, 0}, {10, 40}} {
			var want []string
			var start, end time.Time
			if rng[1] > 0 {
				start, end = eventBase.Add(time.Duration(rng[0])*time.Second), eventBase.Add(time.Duration(rng[1])*time.Second)
			}
			for _, ev := range all {
				if !start.IsZero() && (ev.Time.Before(start) || ev.Time.After(end)) {
					continue
				}
				if f.attr == "" || f.attr == store.EventAttrUsername && ev.Username == f.value ||
					f.attr == store.EventAttrReadOnly && ev.ReadOnly == (f.value == "true") ||
					f.attr == store.EventAttrResourceName && ev.Resources[0].Name == f.value {
					want = append(want, ev.ID)
				}
			}
			for _, size := range []int{1, 7, 50, 1000} {
				var got []string
				var cur *store.EventCursor
				for range n + 1 {
					page, err := log.Events(t.Context(), store.EventQuery{Account: acct1, Attribute: f.attr, Value: f.value, Start: start, End: end, Before: cur, Limit: size})
					if err != nil {
						t.Fatal(err)
					}
					for _, ev := range page {
						got = append(got, ev.ID)
					}
					if len(page) < size {
						break
					}
					last := page[len(page)-1]
					cur = &store.EventCursor{Time: last.Time, ID: last.ID}
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s=%q, range %v, pages of %d:\n%q\nwant\n%q", f.attr, f.value, rng, size, got, want)
				}
			}
		}
	}
	// Every event's record comes back with it.
	evs, err := log.Events(t.Context(), store.EventQuery{Account: acct1})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if string(ev.Data) != `{"eventID":"`+ev.ID+`"}` {
			t.Fatalf("event %s has the record %s", ev.ID, ev.Data)
		}
	}
}
