// Package password hashes console passwords with argon2id and limits how often failed
// attempts may be retried. Hashes are PHC strings
// ($argon2id$v=19$m=19456,t=2,p=1$SALT$KEY), so a stored hash names its own parameters and
// stays verifiable when the defaults change.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters.
type Params struct {
	Time      uint32 // passes over the memory
	MemoryKiB uint32
	Threads   uint8
	KeyLen    uint32
}

// Default is the OWASP Password Storage Cheat Sheet's first argon2id configuration: 19 MiB, two
// passes, one lane. One lane keeps a check on one core, so on a 2-core machine a check costs
// ~25-30 ms (BenchmarkHash) and the other core stays free for other requests; 19 MiB makes
// each guess of an offline attacker cost that memory too.
var Default = Params{Time: 2, MemoryKiB: 19 * 1024, Threads: 1, KeyLen: 32}

// SaltLen is the length of generated salts (RFC 9106 recommends 16 bytes).
const SaltLen = 16

// Limits on parameters read from a stored hash, so that a corrupt or hostile record cannot make
// a check allocate gigabytes or run for minutes.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 16
	maxKeyLen    = 64
)

// ErrMalformed is returned for a stored hash that is not an argon2id PHC string this package
// can verify.
var ErrMalformed = errors.New("password: malformed argon2id hash")

var b64 = base64.RawStdEncoding.Strict()

// Hash is a decoded PHC string.
type Hash struct {
	Params Params
	Salt   []byte
	Key    []byte
}

// NewSalt returns a random salt.
func NewSalt() ([]byte, error) {
	salt := make([]byte, SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("password: salt: %w", err)
	}
	return salt, nil
}

// Derive hashes pw with p and salt.
func Derive(pw string, salt []byte, p Params) Hash {
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.MemoryKiB, p.Threads, p.KeyLen)
	return Hash{Params: p, Salt: salt, Key: key}
}

// String encodes h as a PHC string.
func (h Hash) String() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, h.Params.MemoryKiB, h.Params.Time, h.Params.Threads,
		b64.EncodeToString(h.Salt), b64.EncodeToString(h.Key))
}

// Matches reports whether pw hashes to h, comparing in constant time.
func (h Hash) Matches(pw string) bool {
	return h.Equal(Derive(pw, h.Salt, h.Params))
}

// Equal reports whether h and o are the same hash, comparing the keys in constant time.
func (h Hash) Equal(o Hash) bool {
	return h.Params == o.Params && subtle.ConstantTimeCompare(h.Salt, o.Salt) == 1 && subtle.ConstantTimeCompare(h.Key, o.Key) == 1
}

// Parse decodes a PHC string written by Hash.String.
func Parse(s string) (Hash, error) {
	// Even a strict base64 decoder skips CR and LF, which would give a hash two spellings.
	if strings.ContainsAny(s, "\r\n") {
		return Hash{}, ErrMalformed
	}
	parts := strings.Split(s, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return Hash{}, ErrMalformed
	}
	var h Hash
	var m, t, p uint64
	fields := strings.Split(parts[3], ",")
	if len(fields) != 3 {
		return Hash{}, ErrMalformed
	}
	for i, dst := range []*uint64{&m, &t, &p} {
		name, val, ok := strings.Cut(fields[i], "=")
		if !ok || name != "mtp"[i:i+1] {
			return Hash{}, ErrMalformed
		}
		n, err := strconv.ParseUint(val, 10, 32)
		if err != nil || strconv.FormatUint(n, 10) != val {
			return Hash{}, ErrMalformed
		}
		*dst = n
	}
	if t < 1 || t > maxTime || p < 1 || p > 255 || m < 8*p || m > maxMemoryKiB {
		return Hash{}, ErrMalformed
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return Hash{}, ErrMalformed
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > maxKeyLen {
		return Hash{}, ErrMalformed
	}
	h.Params = Params{Time: uint32(t), MemoryKiB: uint32(m), Threads: uint8(p), KeyLen: uint32(len(key))}
	h.Salt, h.Key = salt, key
	return h, nil
}

// Hasher runs argon2id with at most a fixed number of computations at once: each takes
// Params.MemoryKiB of memory and a core, so a burst of sign-ins queues instead of exhausting
// the machine. It is safe for concurrent use.
type Hasher struct {
	Params Params
	slots  chan struct{}
}

// NewHasher returns a Hasher for p that runs at most concurrent computations at once.
func NewHasher(p Params, concurrent int) *Hasher {
	return &Hasher{Params: p, slots: make(chan struct{}, max(concurrent, 1))}
}

// run calls fn in a slot, waiting for one until ctx ends.
func (h *Hasher) run(ctx context.Context, fn func()) error {
	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-h.slots }()
	fn()
	return nil
}

// Derive is Derive in a slot, with the Hasher's parameters.
func (h *Hasher) Derive(ctx context.Context, pw string, salt []byte) (Hash, error) {
	var out Hash
	err := h.run(ctx, func() { out = Derive(pw, salt, h.Params) })
	return out, err
}

// Verify reports whether pw matches the stored PHC string, in a slot.
func (h *Hasher) Verify(ctx context.Context, pw, stored string) (bool, error) {
	parsed, err := Parse(stored)
	if err != nil {
		return false, err
	}
	var ok bool
	err = h.run(ctx, func() { ok = parsed.Matches(pw) })
	return ok, err
}
