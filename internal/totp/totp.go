package totp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // RFC 6238's default, and what every authenticator app computes
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"strings"
	"time"
)

// Algorithm is the HMAC hash function of a TOTP.
type Algorithm int

// The hash functions RFC 6238 names.
const (
	SHA1 Algorithm = iota
	SHA256
	SHA512
)

func (a Algorithm) hash() func() hash.Hash {
	switch a {
	case SHA256:
		return sha256.New
	case SHA512:
		return sha512.New
	default:
		return sha1.New
	}
}

// Params are the parameters of a TOTP.
type Params struct {
	Digits    int           // 6 to 9
	Period    time.Duration // the time step X
	Algorithm Algorithm
}

// Default is what virtual MFA devices use: six digits every 30 seconds with HMAC-SHA1.
var Default = Params{Digits: 6, Period: 30 * time.Second, Algorithm: SHA1}

// SeedSize is the length in bytes of the seeds NewSeed makes: 40 bytes, 64 Base32 characters,
// as AWS's virtual MFA seeds are.
const SeedSize = 40

// NewSeed returns a random seed of SeedSize bytes.
func NewSeed() ([]byte, error) {
	seed := make([]byte, SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, fmt.Errorf("totp: seed: %w", err)
	}
	return seed, nil
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// EncodeSeed is the Base32 form of seed, upper case and without padding, as apps take it.
func EncodeSeed(seed []byte) string { return b32.EncodeToString(seed) }

// ErrSeed is returned (wrapped) by DecodeSeed for text that is not a Base32 seed.
var ErrSeed = errors.New("totp: seed is not valid Base32")

// DecodeSeed reads a Base32 seed as people type it: case, spaces, hyphens and "=" padding
// do not matter.
func DecodeSeed(s string) ([]byte, error) {
	clean := strings.Map(func(r rune) rune {
		switch {
		case r == ' ' || r == '-' || r == '=' || r == '\t' || r == '\r' || r == '\n':
			return -1
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		}
		return r
	}, s)
	if clean == "" {
		return nil, fmt.Errorf("%w: it is empty", ErrSeed)
	}
	// Lengths 1, 3 and 6 (mod 8) cannot end a Base32 text; the decoder would drop them.
	if r := len(clean) % 8; r == 1 || r == 3 || r == 6 {
		return nil, fmt.Errorf("%w: %d characters cannot end a Base32 text", ErrSeed, r)
	}
	seed, err := b32.DecodeString(clean)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSeed, err)
	}
	if len(seed) == 0 {
		return nil, fmt.Errorf("%w: it is empty", ErrSeed)
	}
	return seed, nil
}

// Step is the time step that t falls in: floor(Unix time / Period).
func (p Params) Step(t time.Time) int64 {
	sec := t.Unix()
	period := int64(p.Period / time.Second)
	if sec < 0 {
		return (sec - period + 1) / period
	}
	return sec / period
}

// Code is the code of time t.
func (p Params) Code(seed []byte, t time.Time) string { return p.CodeAt(seed, p.Step(t)) }

// CodeAt is the code of time step step: HOTP (RFC 4226) with the step as counter.
func (p Params) CodeAt(seed []byte, step int64) string {
	mac := hmac.New(p.Algorithm.hash(), seed)
	var counter [8]byte
	binary.BigEndian.PutUint64(counter[:], uint64(step))
	mac.Write(counter[:])
	sum := mac.Sum(nil)
	// Dynamic truncation, RFC 4226 section 5.3.
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range p.Digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", p.Digits, bin%mod)
}

// equal compares codes in constant time, so timing tells nothing of the expected code.
func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// Verify looks for code among the steps from center-window to center+window that come after
// last, and returns the step it belongs to. Callers store that step as their new last, so the
// same code (or an older one) is refused next time.
func (p Params) Verify(seed []byte, code string, center, window, last int64) (int64, bool) {
	found, ok := int64(0), false
	// Every step is computed, match or not, so the time taken does not say which matched.
	for s := center - window; s <= center+window; s++ {
		if s > last && equal(p.CodeAt(seed, s), code) && !ok {
			found, ok = s, true
		}
	}
	return found, ok
}

// VerifyPair checks two consecutive codes, as enabling or resynchronising a device takes:
// code1 of some step s and code2 of s+1, with s+1 within window of center and s after last.
// It returns s+1, the step to remember as last.
func (p Params) VerifyPair(seed []byte, code1, code2 string, center, window, last int64) (int64, bool) {
	found, ok := int64(0), false
	for s := center - window - 1; s < center+window; s++ {
		match := s > last && equal(p.CodeAt(seed, s), code1) && equal(p.CodeAt(seed, s+1), code2)
		if match && !ok {
			found, ok = s+1, true
		}
	}
	return found, ok
}
