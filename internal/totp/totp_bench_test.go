package totp_test

import (
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/totp"
)

func BenchmarkVerifyPair(b *testing.B) {
	seed := []byte("1234567890123456789012345678901234567890")
	p := totp.Default
	c1, c2 := p.CodeAt(seed, 999), p.CodeAt(seed, 1000)
	for b.Loop() {
		if _, ok := p.VerifyPair(seed, c1, c2, 1000, 2, 0); !ok {
			b.Fatal("pair refused")
		}
	}
}
