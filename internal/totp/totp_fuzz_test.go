package totp_test

import (
	"bytes"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/totp"
)

// FuzzDecodeSeed checks that DecodeSeed never panics and that what it accepts survives a round
// trip through EncodeSeed.
func FuzzDecodeSeed(f *testing.F) {
	for _, s := range []string{"", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "gezd gnbv", "MZXW6===", "A", "====", "ABC1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		seed, err := totp.DecodeSeed(s)
		if err != nil {
			return
		}
		again, err := totp.DecodeSeed(totp.EncodeSeed(seed))
		if err != nil || !bytes.Equal(again, seed) {
			t.Fatalf("round trip of %q: %x, %v; want %x", s, again, err, seed)
		}
	})
}
