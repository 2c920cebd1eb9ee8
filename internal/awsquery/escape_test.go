package awsquery

import (
	"bytes"
	"encoding/xml"
	"testing"
)

// FuzzEscape checks escape against encoding/xml.EscapeText, which it replaces on the response
// path: the same bytes for any string, valid UTF-8 or not.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", "plain", `a"b'c&d<e>f`, "tab\there\nnew\rline", "\x00\x1f\uFFFE", "\xff\xfe", "ümlaut ✓ 𝄞", "\uFFFD"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got, want bytes.Buffer
		escape(&got, s)
		if err := xml.EscapeText(&want, []byte(s)); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("escape(%q) = %q, encoding/xml writes %q", s, got.Bytes(), want.Bytes())
		}
	})
}
