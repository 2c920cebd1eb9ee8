package postgres

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPrefixEnd(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"", "", false},
		{"a", "b", true},
		{"user/", "user0", true},
		{"é", "ê", true},
		{"a\U0010FFFF", "b", true},
		{"\U0010FFFF", "", false},
		{"x\uD7FF", "x\uE000", true},
		{"\U0001F600", "\U0001F601", true},
	} {
		got, ok := prefixEnd(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("prefixEnd(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzPrefixEnd checks the bound's promise on valid UTF-8: every string that starts with the
// prefix sorts below it, and the bound itself does not start with the prefix.
func FuzzPrefixEnd(f *testing.F) {
	f.Add("abc", "def")
	f.Add("\U0010FFFF", "x")
	f.Fuzz(func(t *testing.T, p, suffix string) {
		if !utf8.ValidString(p) || !utf8.ValidString(suffix) {
			return
		}
		end, ok := prefixEnd(p)
		if !ok {
			return
		}
		if !utf8.ValidString(end) {
			t.Fatalf("prefixEnd(%q) = %q, not valid UTF-8", p, end)
		}
		if s := p + suffix; s >= end {
			t.Fatalf("%q starts with %q but is not below its bound %q", s, p, end)
		}
		if strings.HasPrefix(end, p) && p != "" {
			t.Fatalf("bound %q starts with %q", end, p)
		}
	})
}
