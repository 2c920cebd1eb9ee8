package cloudtrail

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

func TestTokenRoundTrip(t *testing.T) {
	req := &lookupRequest{Attribute: "Username", Value: "bob", Start: time.Unix(100, 0)}
	fp := fingerprint("123456789012", req)
	for _, cur := range []store.EventCursor{
		{Time: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), ID: "5b6c7d8e-9f01-4234-8567-89abcdef0123"},
		{Time: time.Unix(0, 0).UTC(), ID: "x"},
		{Time: time.Unix(0, -1).UTC(), ID: "é"},
	} {
		tok := encodeToken(cur, fp)
		got, ok := decodeToken(tok, fp)
		if !ok || !got.Time.Equal(cur.Time) || got.ID != cur.ID {
			t.Errorf("round trip of %+v: %+v, %v", cur, got, ok)
		}
		for _, other := range []*lookupRequest{
			{Attribute: "Username", Value: "bob"},
			{Attribute: "Username", Value: "bo", Start: time.Unix(100, 0)},
			{Attribute: "EventName", Value: "bob", Start: time.Unix(100, 0)},
			{Attribute: "Username", Value: "bob", Start: time.Unix(100, 0), Insight: true},
		} {
			if _, ok := decodeToken(tok, fingerprint("123456789012", other)); ok {
				t.Errorf("token accepted for %+v", other)
			}
		}
		if _, ok := decodeToken(tok, fingerprint("210987654321", req)); ok {
			t.Error("token accepted for another account")
		}
	}
	for _, bad := range []string{"", "AQ", "!!!!", strings.Repeat("A", 1000), encodeToken(store.EventCursor{Time: time.Now()}, fp)} {
		if _, ok := decodeToken(bad, fp); ok {
			t.Errorf("decodeToken(%q) accepted", bad)
		}
	}
}

// FuzzNextToken checks that decoding any token never panics, and that what decodes encodes
// back to the same token.
func FuzzNextToken(f *testing.F) {
	fp := fingerprint("123456789012", &lookupRequest{})
	f.Add(encodeToken(store.EventCursor{Time: time.Unix(1700000000, 5), ID: "abc"}, fp))
	f.Add("")
	f.Add("AQ")
	f.Add("AQAAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, token string) {
		cur, ok := decodeToken(token, fp)
		if !ok {
			return
		}
		if again := encodeToken(cur, fp); again != token {
			t.Fatalf("token %q decodes to %+v, which encodes to %q", token, cur, again)
		}
	})
}
