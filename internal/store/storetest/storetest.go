package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// Run runs every behaviour of the store.Store interface as a subtest named "case=...". open must
// return a new, empty store for each call and close it when t ends (t.Cleanup). Subtests run in
// parallel.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	for _, c := range cases {
		t.Run("case="+c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, open(t))
		})
	}
}

// A suite case. Each gets its own empty store.
var cases = []struct {
	name string
	run  func(t *testing.T, s store.Store)
}{
	{"insert and get", testInsertGet},
	{"get missing", testGetMissing},
	{"duplicate key", testDuplicateKey},
	{"duplicate id across accounts", testDuplicateID},
	{"same key in another account or kind", testSameKeyElsewhere},
	{"same id in another kind", testSameIDOtherKind},
	{"id-less records", testIDLess},
	{"data round trip", testDataRoundTrip},
	{"replace", testReplace},
	{"replace missing", testReplaceMissing},
	{"replace onto a taken id", testReplaceTakenID},
	{"delete", testDelete},
	{"list byte order", testListByteOrder},
	{"list prefix", testListPrefix},
	{"list path prefix", testListPathPrefix},
	{"list after and limit", testListAfterLimit},
	{"list scope", testListScope},
	{"list matches a reference", testListReference},
	{"count", testCount},
	{"links", testLinks},
	{"links ordering and scope", testLinksOrdering},
	{"rollback on fn error", testRollback},
	{"fn reads its own writes", testOwnWrites},
	{"constraint failure inside fn is recoverable", testRecoverInsideFn},
	{"view cannot write", testViewReadOnly},
	{"view returns fn error", testViewError},
	{"view sees one snapshot", testViewSnapshot},
	{"reads see committed writes", testReadAfterWrite},
	{"concurrent updates some failing", testConcurrentUpdates},
	{"concurrent views", testConcurrentViews},
	{"cancelled update changes nothing", testCancelledUpdate},
	{"errors name the record not its data", testErrorText},
}

// Accounts used by the cases.
const (
	acct1 = "111111111111"
	acct2 = "222222222222"
)

// update runs fn in an Update and fails the test on error.
func update(t *testing.T, s store.Store, fn func(ctx context.Context, tx store.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// view runs fn in a View and fails the test on error.
func view(t *testing.T, s store.Store, fn func(ctx context.Context, tx store.Tx) error) {
	t.Helper()
	if err := s.View(t.Context(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// insert commits recs in one Update.
func insert(t *testing.T, s store.Store, recs ...store.Record) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, r := range recs {
			if err := tx.Insert(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
}

// get reads one record in a View; the error is the Get's.
func get(t *testing.T, s store.Store, kind store.Kind, account, key string) (store.Record, error) {
	t.Helper()
	var rec store.Record
	var getErr error
	view(t, s, func(ctx context.Context, tx store.Tx) error {
		rec, getErr = tx.Get(ctx, kind, account, key)
		return nil
	})
	return rec, getErr
}

// mustGet reads a record that must exist.
func mustGet(t *testing.T, s store.Store, kind store.Kind, account, key string) store.Record {
	t.Helper()
	rec, err := get(t, s, kind, account, key)
	if err != nil {
		t.Fatalf("Get(%s, %q, %q): %v", kind, account, key, err)
	}
	return rec
}

// mustBeMissing checks that a record does not exist.
func mustBeMissing(t *testing.T, s store.Store, kind store.Kind, account, key string) {
	t.Helper()
	if rec, err := get(t, s, kind, account, key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get(%s, %q, %q) = %+v, %v; want ErrNotFound", kind, account, key, rec, err)
	}
}

// list runs one List in a View.
func list(t *testing.T, s store.Store, kind store.Kind, account string, q store.Query) []store.Record {
	t.Helper()
	var recs []store.Record
	view(t, s, func(ctx context.Context, tx store.Tx) error {
		var err error
		recs, err = tx.List(ctx, kind, account, q)
		return err
	})
	return recs
}

// keys returns the keys of recs in order.
func keys(recs []store.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Key
	}
	return out
}

// sameRecord compares records, treating nil and empty Data alike.
func sameRecord(a, b store.Record) bool {
	return a.Account == b.Account && a.Kind == b.Kind && a.Key == b.Key && a.ID == b.ID &&
		a.Path == b.Path && bytes.Equal(a.Data, b.Data)
}

// user is a user record with the given key and id.
func user(account, key, id string) store.Record {
	return store.Record{Account: account, Kind: store.KindUser, Key: key, ID: id, Path: "/", Data: []byte(`{"name":"` + key + `"}`)}
}

func testInsertGet(t *testing.T, s store.Store) {
	want := store.Record{Account: acct1, Kind: store.KindUser, Key: "alice", ID: "AIDAALICE", Path: "/eng/", Data: []byte(`{"name":"Alice"}`)}
	insert(t, s, want)
	if got := mustGet(t, s, store.KindUser, acct1, "alice"); !sameRecord(got, want) {
		t.Errorf("Get = %+v, want %+v", got, want)
	}
	view(t, s, func(ctx context.Context, tx store.Tx) error {
		got, err := tx.GetByID(ctx, store.KindUser, "AIDAALICE")
		if err != nil {
			return err
		}
		if !sameRecord(got, want) {
			t.Errorf("GetByID = %+v, want %+v", got, want)
		}
		return nil
	})
}

func testGetMissing(t *testing.T, s store.Store) {
	insert(t, s, user(acct1, "alice", "AIDAALICE"))
	view(t, s, func(ctx context.Context, tx store.Tx) error {
		for name, call := range map[string]func() error{
			"Get other key":     func() error { _, err := tx.Get(ctx, store.KindUser, acct1, "bob"); return err },
			"Get other account": func() error { _, err := tx.Get(ctx, store.KindUser, acct2, "alice"); return err },
			"Get other kind":    func() error { _, err := tx.Get(ctx, store.KindRole, acct1, "alice"); return err },
			"Get other case":    func() error { _, err := tx.Get(ctx, store.KindUser, acct1, "Alice"); return err },
			"GetByID other id":  func() error { _, err := tx.GetByID(ctx, store.KindUser, "AIDABOB"); return err },
			"GetByID other kind": func() error {
				_, err := tx.GetByID(ctx, store.KindRole, "AIDAALICE")
				return err
			},
			"GetByID empty": func() error { _, err := tx.GetByID(ctx, store.KindUser, ""); return err },
		} {
			if err := call(); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: err = %v, want ErrNotFound", name, err)
			}
		}
		return nil
	})
}

func testDuplicateKey(t *testing.T, s store.Store) {
	first := user(acct1, "alice", "AIDA1")
	insert(t, s, first)
	dup := user(acct1, "alice", "AIDA2")
	dup.Data = []byte(`{"second":true}`)
	err := s.Update(t.Context(), func(ctx context.Context, tx store.Tx) error { return tx.Insert(ctx, dup) })
	if !errors.Is(err, store.ErrExists) {
		t.Fatalf("Insert duplicate key: err = %v, want ErrExists", err)
	}
	if got := mustGet(t, s, store.KindUser, acct1, "alice"); !sameRecord(got, first) {
		t.Errorf("after failed duplicate, Get = %+v, want %+v", got, first)
	}
	view(t, s, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.GetByID(ctx, store.KindUser, "AIDA2"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetByID of the rejected id: err = %v, want ErrNotFound", err)
		}
		return nil
	})
}

func testDuplicateID(t *testing.T, s store.Store) {
	insert(t, s, user(acct1, "alice", "AIDASAME"))
	err := s.Update(t.Context(), func(ctx context.Context, tx store.Tx) error {
		return tx.Insert(ctx, user(acct2, "bob", "AIDASAME"))
	})
	if !errors.Is(err, store.ErrExists) {
		t.Fatalf("Insert duplicate id in another account: err = %v, want ErrExists", err)
	}
	mustBeMissing(t, s, store.KindUser, acct2, "bob")
}

func testSameKeyElsewhere(t *testing.T, s store.Store) {
	recs := []store.Record{
		user(acct1, "alice", "AIDA1"),
		user(acct2, "alice", "AIDA2"),
		{Account: acct1, Kind: store.KindRole, Key: "alice", ID: "AROA1", Path: "/", Data: []byte("{}")},
	}
	insert(t, s, recs...)
	for _, want := range recs {
		if got := mustGet(t, s, want.Kind, want.Account, want.Key); !sameRecord(got, want) {
			t.Errorf("Get = %+v, want %+v", got, want)
		}
	}
}

func testSameIDOtherKind(t *testing.T, s store.Store) {
	u := user(acct1, "alice", "SAMEID")
	g := store.Record{Account: acct1, Kind: store.KindGroup, Key: "admins", ID: "SAMEID", Path: "/", Data: []byte("{}")}
	insert(t, s, u, g)
	view(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, want := range []store.Record{u, g} {
			got, err := tx.GetByID(ctx, want.Kind, "SAMEID")
			if err != nil {
				return err
			}
			if !sameRecord(got, want) {
				t.Errorf("GetByID(%s) = %+v, want %+v", want.Kind, got, want)
			}
		}
		return nil
	})
}

func testIDLess(t *testing.T, s store.Store) {
	var recs []store.Record
	for _, acct := range []string{acct1, acct2} {
		for i := range 5 {
			recs = append(recs, store.Record{Account: acct, Kind: store.KindInlinePolicy, Key: fmt.Sprintf("AIDA1/policy%d", i), Data: []byte("{}")})
		}
	}
	insert(t, s, recs...)
	for _, want := range recs {
		if got := mustGet(t, s, want.Kind, want.Account, want.Key); !sameRecord(got, want) {
			t.Errorf("Get = %+v, want %+v", got, want)
		}
	}
	if got := list(t, s, store.KindInlinePolicy, acct1, store.Query{}); len(got) != 5 {
		t.Errorf("List = %d records, want 5", len(got))
	}
	// Replacing an id-less record keeps it id-less and still unique by key only.
	update(t, s, func(ctx context.Context, tx store.Tx) error {
		r := recs[0]
		r.Data = []byte(`{"v":2}`)
		return tx.Replace(ctx, r)
	})
	view(t, s, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.GetByID(ctx, store.KindInlinePolicy, ""); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetByID(\"\"): err = %v, want ErrNotFound", err)
		}
		return nil
	})
}

func testDataRoundTrip(t *testing.T, s store.Store) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 64<<10/16) // 64 KiB, more than a page
	recs := []store.Record{
		{Account: acct1, Kind: store.KindAccessKey, Key: "every byte", Data: all},
		{Account: acct1, Kind: store.KindAccessKey, Key: "empty", Data: []byte{}},
		{Account: acct1, Kind: store.KindAccessKey, Key: "nil", Data: nil},
		{Account: acct1, Kind: store.KindAccessKey, Key: "big", Data: big},
		{Account: "", Kind: store.KindAccount, Key: acct1, Data: []byte(`{"id":"` + acct1 + `"}`)},
	}
	insert(t, s, recs...)
	for _, want := range recs {
		if got := mustGet(t, s, want.Kind, want.Account, want.Key); !sameRecord(got, want) {
			t.Errorf("Get(%q) = %d bytes, want %d bytes (equal: %v)", want.Key, len(got.Data), len(want.Data), bytes.Equal(got.Data, want.Data))
		}
	}
}

func testReplace(t *testing.T, s store.Store) {
	insert(t, s, user(acct1, "alice", "AIDAOLD"))
	want := store.Record{Account: acct1, Kind: store.KindUser, Key: "alice", ID: "AIDANEW", Path: "/new/", Data: []byte(`{"v":2}`)}
	update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.Replace(ctx, want) })
	if got := mustGet(t, s, store.KindUser, acct1, "alice"); !sameRecord(got, want) {
		t.Errorf("Get after Replace = %+v, want %+v", got, want)
	}
	view(t, s, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.GetByID(ctx, store.KindUser, "AIDAOLD"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetByID(old id): err = %v, want ErrNotFound", err)
		}
		got, err := tx.GetByID(ctx, store.KindUser, "AIDANEW")
		if err != nil || !sameRecord(got, want) {
			t.Errorf("GetByID(new id) = %+v, %v; want %+v", got, err, want)
		}
		return nil
	})
	// The old id is free again.
	insert(t, s, user(acct1, "bob", "AIDAOLD"))
}

func testReplaceMissing(t *testing.T, s store.Store) {
	err := s.Update(t.Context(), func(ctx context.Context, tx store.Tx) error {
		return tx.Replace(ctx, user(acct1, "ghost", "AIDAGHOST"))
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Replace missing: err = %v, want ErrNotFound", err)
	}
	mustBeMissing(t, s, store.KindUser, acct1, "ghost")
}

func testReplaceTakenID(t *testing.T, s store.Store) {
	alice, bob := user(acct1, "alice", "AIDA1"), user(acct2, "bob", "AIDA2")
	insert(t, s, alice, bob)
	err := s.Update(t.Context(), func(ctx context.Context, tx store.Tx) error {
		r := bob
		r.ID = "AIDA1"
		return tx.Replace(ctx, r)
	})
	if !errors.Is(err, store.ErrExists) {
		t.Fatalf("Replace onto a taken id: err = %v, want ErrExists", err)
	}
	if got := mustGet(t, s, store.KindUser, acct2, "bob"); !sameRecord(got, bob) {
		t.Errorf("after failed Replace, Get = %+v, want %+v", got, bob)
	}
}

func testDelete(t *testing.T, s store.Store) {
	insert(t, s, user(acct1, "alice", "AIDA1"), user(acct1, "bob", "AIDA2"))
	update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.Delete(ctx, store.KindUser, acct1, "alice") })
	mustBeMissing(t, s, store.KindUser, acct1, "alice")
	mustGet(t, s, store.KindUser, acct1, "bob")
	err := s.Update(t.Context(), func(ctx context.Context, tx store.Tx) error {
		return tx.Delete(ctx, store.KindUser, acct1, "alice")
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Delete twice: err = %v, want ErrNotFound", err)
	}
	err = s.Update(t.Context(), func(ctx context.Context, tx store.Tx) error {
		return tx.Delete(ctx, store.KindUser, acct2, "bob")
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Delete in the wrong account: err = %v, want ErrNotFound", err)
	}
	// Key and id are free for a new record.
	insert(t, s, user(acct1, "alice", "AIDA1"))
}

// orderKeys exercise byte-wise ordering: case, punctuation, LIKE wildcards and multi-byte UTF-8.
var orderKeys = []string{
	"a", "B", "b", "A", "a_b", "a%b", "ab", "a-b", "a.b", "a/b", "a+b", "a=b", "a,b", "a@b",
	"é", "z", "Z", "0", "9", "~", "\u00ff", "\u0100", "\U0001F600", "\uffee", "aa", "a", "",
}

func testListByteOrder(t *testing.T, s store.Store) {
	uniq := slices.Compact(slices.Sorted(slices.Values(orderKeys)))
	shuffled := slices.Clone(uniq)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for _, k := range shuffled {
		insert(t, s, store.Record{Account: acct1, Kind: store.KindPolicy, Key: k, Data: []byte("{}")})
	}
	got := keys(list(t, s, store.KindPolicy, acct1, store.Query{}))
	// Go compares strings byte-wise, which is the order List promises.
	if !slices.Equal(got, uniq) {
		t.Fatalf("List order = %q, want %q", got, uniq)
	}
	// Byte order is not a case-insensitive or locale order: upper case sorts before lower case,
	// and multi-byte characters after all of ASCII.
	before := func(a, b string) {
		if slices.Index(got, a) > slices.Index(got, b) {
			t.Errorf("%q listed after %q", a, b)
		}
	}
	before("B", "a")
	before("Z", "a")
	before("z", "é")
	before("~", "é")
	before("\uffee", "\U0001F600")
}

func testListPrefix(t *testing.T, s store.Store) {
	for _, k := range slices.Compact(slices.Sorted(slices.Values(orderKeys))) {
		insert(t, s, store.Record{Account: acct1, Kind: store.KindPolicy, Key: k, Data: []byte("{}")})
	}
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"a%", []string{"a%b"}}, // % is literal, not a wildcard
		{"a_", []string{"a_b"}}, // _ is literal, not a wildcard
		{"a", []string{"a", "a%b", "a+b", "a,b", "a-b", "a.b", "a/b", "a=b", "a@b", "a_b", "aa", "ab"}},
		{"A", []string{"A"}},
		{"é", []string{"é"}},
		{"\U0001F601", nil},
		{"", slices.Compact(slices.Sorted(slices.Values(orderKeys)))},
		{"\U0001F600", []string{"\U0001F600"}},
		{"zz", nil},
		{"~", []string{"~"}},
	} {
		got := keys(list(t, s, store.KindPolicy, acct1, store.Query{Prefix: tc.prefix}))
		if !slices.Equal(got, tc.want) {
			t.Errorf("List(Prefix %q) = %q, want %q", tc.prefix, got, tc.want)
		}
	}
}

func testListPathPrefix(t *testing.T, s store.Store) {
	paths := map[string]string{"root": "/", "a": "/a/", "ab": "/a/b/", "abx": "/ab/", "b": "/b/", "pct": "/a%/", "none": ""}
	for k, p := range paths {
		insert(t, s, store.Record{Account: acct1, Kind: store.KindRole, Key: k, Path: p, Data: []byte("{}")})
	}
	for _, tc := range []struct {
		pathPrefix string
		want       []string
	}{
		{"", []string{"a", "ab", "abx", "b", "none", "pct", "root"}}, // no filter
		{"/", []string{"a", "ab", "abx", "b", "pct", "root"}},
		{"/a/", []string{"a", "ab"}},
		{"/a", []string{"a", "ab", "abx", "pct"}},
		{"/a%", []string{"pct"}},
		{"/a/b/", []string{"ab"}},
		{"/c/", nil},
	} {
		got := keys(list(t, s, store.KindRole, acct1, store.Query{PathPrefix: tc.pathPrefix}))
		if !slices.Equal(got, tc.want) {
			t.Errorf("List(PathPrefix %q) = %q, want %q", tc.pathPrefix, got, tc.want)
		}
	}
}

func testListAfterLimit(t *testing.T, s store.Store) {
	all := []string{"k1", "k2", "k3", "k4", "k5"}
	for _, k := range all {
		insert(t, s, store.Record{Account: acct1, Kind: store.KindGroup, Key: k, Data: []byte("{}")})
	}
	// Page through with Limit 2, as the IAM List operations do with Marker.
	var seen []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > len(all) {
			t.Fatalf("pagination does not end; seen %q", seen)
		}
		page := keys(list(t, s, store.KindGroup, acct1, store.Query{After: after, Limit: 2}))
		if len(page) > 2 {
			t.Fatalf("page of %d records with Limit 2", len(page))
		}
		if len(page) == 0 {
			break
		}
		seen = append(seen, page...)
		after = page[len(page)-1]
	}
	if !slices.Equal(seen, all) {
		t.Errorf("pages = %q, want %q", seen, all)
	}
	for _, tc := range []struct {
		q    store.Query
		want []string
	}{
		{store.Query{Limit: 0}, all},
		{store.Query{Limit: 5}, all},
		{store.Query{Limit: 6}, all},
		{store.Query{Limit: 1}, all[:1]},
		{store.Query{After: "k3"}, all[3:]},
		{store.Query{After: "k2x"}, all[2:]}, // After need not be an existing key
		{store.Query{After: "k5"}, nil},
		{store.Query{After: "a"}, all},
		{store.Query{Prefix: "k", After: "k4", Limit: 10}, all[4:]},
		{store.Query{Prefix: "k4", After: "k1"}, all[3:4]},
		{store.Query{Prefix: "k2", After: "k3"}, nil},
	} {
		got := keys(list(t, s, store.KindGroup, acct1, tc.q))
		if !slices.Equal(got, tc.want) {
			t.Errorf("List(%+v) = %q, want %q", tc.q, got, tc.want)
		}
	}
}

func testListScope(t *testing.T, s store.Store) {
	insert(t, s,
		user(acct1, "alice", "AIDA1"),
		user(acct2, "bob", "AIDA2"),
		store.Record{Account: acct1, Kind: store.KindGroup, Key: "admins", ID: "AGPA1", Path: "/", Data: []byte("{}")},
	)
	for _, tc := range []struct {
		kind    store.Kind
		account string
		want    []string
	}{
		{store.KindUser, acct1, []string{"alice"}},
		{store.KindUser, acct2, []string{"bob"}},
		{store.KindGroup, acct1, []string{"admins"}},
		{store.KindGroup, acct2, nil},
		{store.KindRole, acct1, nil},
		{store.KindUser, "", nil},
	} {
		recs := list(t, s, tc.kind, tc.account, store.Query{})
		if got := keys(recs); !slices.Equal(got, tc.want) {
			t.Errorf("List(%s, %q) = %q, want %q", tc.kind, tc.account, got, tc.want)
		}
		for _, r := range recs {
			if r.Account != tc.account || r.Kind != tc.kind {
				t.Errorf("List(%s, %q) returned a record of %s in %q", tc.kind, tc.account, r.Kind, r.Account)
			}
		}
	}
}

// testListReference checks List against a direct computation over the inserted keys, for many
// combinations of Prefix, PathPrefix, After and Limit.
func testListReference(t *testing.T, s store.Store) {
	rng := rand.New(rand.NewPCG(7, 11))
	alphabet := []string{"a", "b", "%", "_", "/", "é", "\U0001F600", "A"}
	word := func(most int) string {
		var b strings.Builder
		for range rng.IntN(most + 1) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	type entry struct{ key, path string }
	byKey := map[string]entry{}
	for range 200 {
		k := word(4)
		byKey[k] = entry{k, "/" + word(2) + "/"}
	}
	var entries []entry
	update(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, e := range byKey {
			entries = append(entries, e)
			if err := tx.Insert(ctx, store.Record{Account: acct1, Kind: store.KindPolicy, Key: e.key, Path: e.path, Data: []byte("{}")}); err != nil {
				return err
			}
		}
		return nil
	})
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	reference := func(q store.Query) []string {
		var out []string
		for _, e := range entries {
			if !strings.HasPrefix(e.key, q.Prefix) || !strings.HasPrefix(e.path, q.PathPrefix) {
				continue
			}
			if q.After != "" && e.key <= q.After {
				continue
			}
			if q.Limit > 0 && len(out) == q.Limit {
				break
			}
			out = append(out, e.key)
		}
		return out
	}
	view(t, s, func(ctx context.Context, tx store.Tx) error {
		for range 500 {
			q := store.Query{Prefix: word(2), After: word(3), Limit: rng.IntN(4)}
			if rng.IntN(2) == 0 {
				q.PathPrefix = "/" + word(1)
			}
			recs, err := tx.List(ctx, store.KindPolicy, acct1, q)
			if err != nil {
				return err
			}
			if got, want := keys(recs), reference(q); !slices.Equal(got, want) {
				t.Errorf("List(%#v) = %q, want %q", q, got, want)
			}
			n, err := tx.Count(ctx, store.KindPolicy, acct1, q.Prefix)
			if err != nil {
				return err
			}
			if want := len(reference(store.Query{Prefix: q.Prefix})); n != want {
				t.Errorf("Count(%q) = %d, want %d", q.Prefix, n, want)
			}
		}
		return nil
	})
}

func testCount(t *testing.T, s store.Store) {
	for _, k := range []string{"AIDA1/k1", "AIDA1/k2", "AIDA10/k1", "AIDA2/k1", "a%b", "axb"} {
		insert(t, s, store.Record{Account: acct1, Kind: store.KindAccessKey, Key: k, Data: []byte("{}")})
	}
	insert(t, s, store.Record{Account: acct2, Kind: store.KindAccessKey, Key: "AIDA1/k9", Data: []byte("{}")})
	view(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, tc := range []struct {
			kind          store.Kind
			account, pref string
			want          int
		}{
			{store.KindAccessKey, acct1, "", 6},
			{store.KindAccessKey, acct1, "AIDA1/", 2},
			{store.KindAccessKey, acct1, "AIDA1", 3},
			{store.KindAccessKey, acct1, "AIDA3/", 0},
			{store.KindAccessKey, acct1, "a%", 1},
			{store.KindAccessKey, acct1, "a_", 0},
			{store.KindAccessKey, acct2, "", 1},
			{store.KindUser, acct1, "", 0},
		} {
			n, err := tx.Count(ctx, tc.kind, tc.account, tc.pref)
			if err != nil {
				return err
			}
			if n != tc.want {
				t.Errorf("Count(%s, %q, %q) = %d, want %d", tc.kind, tc.account, tc.pref, n, tc.want)
			}
		}
		return nil
	})
}

func testLinks(t *testing.T, s store.Store) {
	l := store.Link{Account: acct1, Kind: store.LinkMember, From: "AGPA1", To: "AIDA1"}
	update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.AddLink(ctx, l) })
	err := s.Update(t.Context(), func(ctx context.Context, tx store.Tx) error { return tx.AddLink(ctx, l) })
	if !errors.Is(err, store.ErrExists) {
		t.Errorf("AddLink twice: err = %v, want ErrExists", err)
	}
	view(t, s, func(ctx context.Context, tx store.Tx) error {
		from, err := tx.LinksFrom(ctx, acct1, store.LinkMember, "AGPA1")
		if err != nil {
			return err
		}
		to, err := tx.LinksTo(ctx, acct1, store.LinkMember, "AIDA1")
		if err != nil {
			return err
		}
		if !slices.Equal(from, []store.Link{l}) || !slices.Equal(to, []store.Link{l}) {
			t.Errorf("LinksFrom = %+v, LinksTo = %+v; want [%+v] both", from, to, l)
		}
		return nil
	})
	update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.RemoveLink(ctx, l) })
	err = s.Update(t.Context(), func(ctx context.Context, tx store.Tx) error { return tx.RemoveLink(ctx, l) })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RemoveLink twice: err = %v, want ErrNotFound", err)
	}
	view(t, s, func(ctx context.Context, tx store.Tx) error {
		from, err := tx.LinksFrom(ctx, acct1, store.LinkMember, "AGPA1")
		if err != nil {
			return err
		}
		if len(from) != 0 {
			t.Errorf("LinksFrom after RemoveLink = %+v, want none", from)
		}
		return nil
	})
}

func testLinksOrdering(t *testing.T, s store.Store) {
	members := []string{"AIDA9", "AIDA1", "AIDA5", "AIDA10", "aida0", "AIDA%"}
	groups := []string{"AGPAz", "AGPAb", "AGPAa"}
	update(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, g := range groups {
			for _, m := range members {
				if err := tx.AddLink(ctx, store.Link{Account: acct1, Kind: store.LinkMember, From: g, To: m}); err != nil {
					return err
				}
			}
		}
		// Noise that must not show up: another account, another kind.
		if err := tx.AddLink(ctx, store.Link{Account: acct2, Kind: store.LinkMember, From: "AGPAa", To: "AIDAX"}); err != nil {
			return err
		}
		return tx.AddLink(ctx, store.Link{Account: acct1, Kind: store.LinkAttached, From: "AGPAa", To: "arn:aws:iam::aws:policy/X"})
	})
	view(t, s, func(ctx context.Context, tx store.Tx) error {
		from, err := tx.LinksFrom(ctx, acct1, store.LinkMember, "AGPAa")
		if err != nil {
			return err
		}
		wantTo := slices.Sorted(slices.Values(members))
		var gotTo []string
		for _, l := range from {
			gotTo = append(gotTo, l.To)
			if l.Account != acct1 || l.Kind != store.LinkMember || l.From != "AGPAa" {
				t.Errorf("LinksFrom returned %+v", l)
			}
		}
		if !slices.Equal(gotTo, wantTo) {
			t.Errorf("LinksFrom ends = %q, want %q", gotTo, wantTo)
		}
		to, err := tx.LinksTo(ctx, acct1, store.LinkMember, "AIDA5")
		if err != nil {
			return err
		}
		var gotFrom []string
		for _, l := range to {
			gotFrom = append(gotFrom, l.From)
			if l.Account != acct1 || l.Kind != store.LinkMember || l.To != "AIDA5" {
				t.Errorf("LinksTo returned %+v", l)
			}
		}
		if want := slices.Sorted(slices.Values(groups)); !slices.Equal(gotFrom, want) {
			t.Errorf("LinksTo ends = %q, want %q", gotFrom, want)
		}
		attached, err := tx.LinksFrom(ctx, acct1, store.LinkAttached, "AGPAa")
		if err != nil {
			return err
		}
		if len(attached) != 1 || attached[0].To != "arn:aws:iam::aws:policy/X" {
			t.Errorf("LinksFrom(attached) = %+v", attached)
		}
		none, err := tx.LinksTo(ctx, acct2, store.LinkMember, "AIDA5")
		if err != nil {
			return err
		}
		if len(none) != 0 {
			t.Errorf("LinksTo in another account = %+v, want none", none)
		}
		return nil
	})
}

func testRollback(t *testing.T, s store.Store) {
	keep := user(acct1, "keep", "AIDAKEEP")
	gone := user(acct1, "gone", "AIDAGONE")
	insert(t, s, keep, gone)
	update(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.AddLink(ctx, store.Link{Account: acct1, Kind: store.LinkMember, From: "G", To: "AIDAKEEP"})
	})
	errBoom := errors.New("boom")
	err := s.Update(t.Context(), func(ctx context.Context, tx store.Tx) error {
		if err := tx.Insert(ctx, user(acct1, "new", "AIDANEW")); err != nil {
			return err
		}
		r := keep
		r.Data = []byte(`{"changed":true}`)
		if err := tx.Replace(ctx, r); err != nil {
			return err
		}
		if err := tx.Delete(ctx, store.KindUser, acct1, "gone"); err != nil {
			return err
		}
		if err := tx.AddLink(ctx, store.Link{Account: acct1, Kind: store.LinkMember, From: "G", To: "AIDANEW"}); err != nil {
			return err
		}
		if err := tx.RemoveLink(ctx, store.Link{Account: acct1, Kind: store.LinkMember, From: "G", To: "AIDAKEEP"}); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update returned %v, want fn's error", err)
	}
	mustBeMissing(t, s, store.KindUser, acct1, "new")
	if got := mustGet(t, s, store.KindUser, acct1, "keep"); !sameRecord(got, keep) {
		t.Errorf("replaced record not rolled back: %+v", got)
	}
	mustGet(t, s, store.KindUser, acct1, "gone")
	view(t, s, func(ctx context.Context, tx store.Tx) error {
		links, err := tx.LinksFrom(ctx, acct1, store.LinkMember, "G")
		if err != nil {
			return err
		}
		if len(links) != 1 || links[0].To != "AIDAKEEP" {
			t.Errorf("links not rolled back: %+v", links)
		}
		return nil
	})
}

func testOwnWrites(t *testing.T, s store.Store) {
	insert(t, s, user(acct1, "old", "AIDAOLD"))
	update(t, s, func(ctx context.Context, tx store.Tx) error {
		want := user(acct1, "new", "AIDANEW")
		if err := tx.Insert(ctx, want); err != nil {
			return err
		}
		got, err := tx.Get(ctx, store.KindUser, acct1, "new")
		if err != nil || !sameRecord(got, want) {
			t.Errorf("Get own insert = %+v, %v", got, err)
		}
		if got, err := tx.GetByID(ctx, store.KindUser, "AIDANEW"); err != nil || got.Key != "new" {
			t.Errorf("GetByID own insert = %+v, %v", got, err)
		}
		if err := tx.Delete(ctx, store.KindUser, acct1, "old"); err != nil {
			return err
		}
		if _, err := tx.Get(ctx, store.KindUser, acct1, "old"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get own delete: err = %v, want ErrNotFound", err)
		}
		recs, err := tx.List(ctx, store.KindUser, acct1, store.Query{})
		if err != nil {
			return err
		}
		if got := keys(recs); !slices.Equal(got, []string{"new"}) {
			t.Errorf("List inside fn = %q, want [new]", got)
		}
		if n, err := tx.Count(ctx, store.KindUser, acct1, ""); err != nil || n != 1 {
			t.Errorf("Count inside fn = %d, %v; want 1", n, err)
		}
		if err := tx.AddLink(ctx, store.Link{Account: acct1, Kind: store.LinkMember, From: "G", To: "AIDANEW"}); err != nil {
			return err
		}
		if links, err := tx.LinksTo(ctx, acct1, store.LinkMember, "AIDANEW"); err != nil || len(links) != 1 {
			t.Errorf("LinksTo own link = %+v, %v", links, err)
		}
		return nil
	})
}

// testRecoverInsideFn checks that a constraint failure inside fn fails only that call: fn can
// handle ErrExists and go on, and what it does afterwards commits.
func testRecoverInsideFn(t *testing.T, s store.Store) {
	insert(t, s, user(acct1, "alice", "AIDA1"))
	update(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.Insert(ctx, user(acct1, "bob", "AIDA2")); err != nil {
			return err
		}
		err := tx.Insert(ctx, user(acct1, "alice", "AIDA3"))
		if !errors.Is(err, store.ErrExists) {
			return fmt.Errorf("duplicate Insert: err = %v, want ErrExists", err)
		}
		r := user(acct1, "alice", "AIDA1")
		r.Data = []byte(`{"v":2}`)
		return tx.Replace(ctx, r)
	})
	if got := mustGet(t, s, store.KindUser, acct1, "alice"); string(got.Data) != `{"v":2}` {
		t.Errorf("Replace after a failed Insert not committed: %q", got.Data)
	}
	mustGet(t, s, store.KindUser, acct1, "bob")
}

func testViewReadOnly(t *testing.T, s store.Store) {
	alice := user(acct1, "alice", "AIDA1")
	insert(t, s, alice)
	l := store.Link{Account: acct1, Kind: store.LinkMember, From: "G", To: "AIDA1"}
	update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.AddLink(ctx, l) })
	_ = s.View(t.Context(), func(ctx context.Context, tx store.Tx) error {
		changed := alice
		changed.Data = []byte(`{"changed":true}`)
		for name, err := range map[string]error{
			"Insert":     tx.Insert(ctx, user(acct1, "bob", "AIDA2")),
			"Replace":    tx.Replace(ctx, changed),
			"Delete":     tx.Delete(ctx, store.KindUser, acct1, "alice"),
			"AddLink":    tx.AddLink(ctx, store.Link{Account: acct1, Kind: store.LinkMember, From: "G", To: "AIDA2"}),
			"RemoveLink": tx.RemoveLink(ctx, l),
		} {
			if err == nil {
				t.Errorf("%s inside View succeeded", name)
			}
		}
		return nil
	})
	mustBeMissing(t, s, store.KindUser, acct1, "bob")
	if got := mustGet(t, s, store.KindUser, acct1, "alice"); !sameRecord(got, alice) {
		t.Errorf("record changed by a View: %+v", got)
	}
	view(t, s, func(ctx context.Context, tx store.Tx) error {
		links, err := tx.LinksFrom(ctx, acct1, store.LinkMember, "G")
		if err != nil {
			return err
		}
		if len(links) != 1 || links[0] != l {
			t.Errorf("links changed by a View: %+v", links)
		}
		return nil
	})
}

func testViewError(t *testing.T, s store.Store) {
	errBoom := errors.New("boom")
	if err := s.View(t.Context(), func(context.Context, store.Tx) error { return errBoom }); !errors.Is(err, errBoom) {
		t.Errorf("View returned %v, want fn's error", err)
	}
}

// testViewSnapshot checks that a View keeps seeing the state it started reading, while an Update
// commits in the middle of it.
func testViewSnapshot(t *testing.T, s store.Store) {
	insert(t, s, user(acct1, "alice", "AIDA1"))
	started, committed := make(chan struct{}), make(chan error, 1)
	go func() {
		<-started
		committed <- s.Update(t.Context(), func(ctx context.Context, tx store.Tx) error {
			if err := tx.Insert(ctx, user(acct1, "bob", "AIDA2")); err != nil {
				return err
			}
			return tx.Delete(ctx, store.KindUser, acct1, "alice")
		})
	}()
	view(t, s, func(ctx context.Context, tx store.Tx) error {
		if n, err := tx.Count(ctx, store.KindUser, acct1, ""); err != nil || n != 1 {
			return fmt.Errorf("Count before = %d, %v", n, err)
		}
		close(started)
		if err := <-committed; err != nil {
			return fmt.Errorf("Update during a View: %w", err)
		}
		if _, err := tx.Get(ctx, store.KindUser, acct1, "bob"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("View sees a record committed after it began: err = %v", err)
		}
		if _, err := tx.Get(ctx, store.KindUser, acct1, "alice"); err != nil {
			t.Errorf("View misses a record deleted after it began: %v", err)
		}
		if recs, err := tx.List(ctx, store.KindUser, acct1, store.Query{}); err != nil || !slices.Equal(keys(recs), []string{"alice"}) {
			t.Errorf("List in the View = %q, %v; want [alice]", keys(recs), err)
		}
		return nil
	})
	mustGet(t, s, store.KindUser, acct1, "bob")
	mustBeMissing(t, s, store.KindUser, acct1, "alice")
}

func testReadAfterWrite(t *testing.T, s store.Store) {
	for i := range 50 {
		key := fmt.Sprintf("user%03d", i)
		insert(t, s, user(acct1, key, "AIDA"+key))
		got := make(chan error, 1)
		go func() {
			got <- s.View(t.Context(), func(ctx context.Context, tx store.Tx) error {
				_, err := tx.Get(ctx, store.KindUser, acct1, key)
				return err
			})
		}()
		if err := <-got; err != nil {
			t.Fatalf("View after Update of %q returned: %v", key, err)
		}
	}
}

// testConcurrentUpdates runs many Updates at once, so that a batching backend commits them
// together: a third fail in fn after writing, a third hit ErrExists, and a third succeed. Only
// the successful ones may leave a trace.
func testConcurrentUpdates(t *testing.T, s store.Store) {
	insert(t, s, user(acct1, "taken", "AIDATAKEN"))
	const n = 300
	errBoom := errors.New("boom")
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			key := fmt.Sprintf("u%03d", i)
			errs[i] = s.Update(context.Background(), func(ctx context.Context, tx store.Tx) error {
				if err := tx.Insert(ctx, user(acct1, key, "AIDA"+key)); err != nil {
					return err
				}
				if err := tx.AddLink(ctx, store.Link{Account: acct1, Kind: store.LinkMember, From: "G", To: "AIDA" + key}); err != nil {
					return err
				}
				switch i % 3 {
				case 0:
					return errBoom
				case 1:
					return tx.Insert(ctx, user(acct2, "other"+key, "AIDATAKEN"))
				}
				return nil
			})
		})
	}
	wg.Wait()
	var want []string
	for i, err := range errs {
		key := fmt.Sprintf("u%03d", i)
		switch i % 3 {
		case 0:
			if !errors.Is(err, errBoom) {
				t.Errorf("Update %d: err = %v, want fn's error", i, err)
			}
		case 1:
			if !errors.Is(err, store.ErrExists) {
				t.Errorf("Update %d: err = %v, want ErrExists", i, err)
			}
		default:
			if err != nil {
				t.Errorf("Update %d: %v", i, err)
			}
			want = append(want, key)
		}
	}
	got := keys(list(t, s, store.KindUser, acct1, store.Query{Prefix: "u"}))
	if !slices.Equal(got, want) {
		t.Errorf("committed users = %q (%d), want %q (%d)", got, len(got), want, len(want))
	}
	if other := list(t, s, store.KindUser, acct2, store.Query{}); len(other) != 0 {
		t.Errorf("failed Updates left %d records in %s", len(other), acct2)
	}
	view(t, s, func(ctx context.Context, tx store.Tx) error {
		links, err := tx.LinksFrom(ctx, acct1, store.LinkMember, "G")
		if err != nil {
			return err
		}
		var ends []string
		for _, l := range links {
			ends = append(ends, strings.TrimPrefix(l.To, "AIDA"))
		}
		if !slices.Equal(ends, want) {
			t.Errorf("committed links = %d, want %d", len(ends), len(want))
		}
		return nil
	})
}

func testConcurrentViews(t *testing.T, s store.Store) {
	var recs []store.Record
	for i := range 100 {
		recs = append(recs, user(acct1, fmt.Sprintf("user%03d", i), fmt.Sprintf("AIDA%03d", i)))
	}
	insert(t, s, recs...)
	var wg sync.WaitGroup
	var inside, most atomic.Int32
	for g := range 16 {
		wg.Go(func() {
			for i := range 50 {
				err := s.View(context.Background(), func(ctx context.Context, tx store.Tx) error {
					now := inside.Add(1)
					defer inside.Add(-1)
					for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
					}
					want := recs[(g*50+i)%len(recs)]
					got, err := tx.Get(ctx, store.KindUser, acct1, want.Key)
					if err != nil {
						return err
					}
					if !sameRecord(got, want) {
						return fmt.Errorf("Get = %+v, want %+v", got, want)
					}
					all, err := tx.List(ctx, store.KindUser, acct1, store.Query{})
					if err != nil {
						return err
					}
					if len(all) != len(recs) {
						return fmt.Errorf("List = %d records, want %d", len(all), len(recs))
					}
					time.Sleep(100 * time.Microsecond) // overlap with other Views
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if most.Load() < 2 {
		t.Errorf("at most %d Views ran at once; Views must run concurrently", most.Load())
	}
}

func testCancelledUpdate(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.Insert(ctx, user(acct1, "alice", "AIDA1"))
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Update with a cancelled context: err = %v, want context.Canceled", err)
	}
	mustBeMissing(t, s, store.KindUser, acct1, "alice")
}

// testErrorText checks that errors say which record failed, and never carry Data, which can
// hold sealed secrets.
func testErrorText(t *testing.T, s store.Store) {
	const secret = "SEALED-SECRET-abc123"
	rec := store.Record{Account: acct1, Kind: store.KindAccessKey, Key: "AIDA1/AKIAEXAMPLE", ID: "AKIAEXAMPLE", Data: []byte(secret)}
	insert(t, s, rec)
	err := s.Update(t.Context(), func(ctx context.Context, tx store.Tx) error { return tx.Insert(ctx, rec) })
	if !errors.Is(err, store.ErrExists) {
		t.Fatalf("duplicate Insert: err = %v, want ErrExists", err)
	}
	check := func(op string, err error) {
		t.Helper()
		if !strings.Contains(err.Error(), rec.Key) && !strings.Contains(err.Error(), rec.ID) {
			t.Errorf("%s error %q names neither the key nor the id", op, err)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%s error %q contains the record's data", op, err)
		}
	}
	check("Insert", err)
	err = s.Update(t.Context(), func(ctx context.Context, tx store.Tx) error {
		r := rec
		r.Key = "AIDA1/AKIAOTHER"
		return tx.Replace(ctx, r)
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Replace missing: err = %v, want ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), "AIDA1/AKIAOTHER") {
		t.Errorf("Replace error %q does not name the key", err)
	}
	_, err = get(t, s, store.KindAccessKey, acct1, "AIDA1/AKIAMISSING")
	if !strings.Contains(err.Error(), "AIDA1/AKIAMISSING") {
		t.Errorf("Get error %q does not name the key", err)
	}
}
