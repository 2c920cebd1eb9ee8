package session

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// TemporaryKeyPrefix starts every temporary access key id, as at AWS.
const TemporaryKeyPrefix = "ASIA"

// accountMask selects the account in the first 48 bits of a decoded access key id: AWS keeps
// it in the 40 bits after the first, so the account is (bits & mask) >> 7.
const accountMask = 0x7fffffffff80

var keyIDEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewAccessKeyID returns a new temporary access key id (ASIA and 16 base32 characters) that
// encodes account the way AWS's access key ids do; the other 40 bits are random.
func NewAccessKeyID(account string) (string, error) {
	n, err := strconv.ParseUint(account, 10, 64)
	if err != nil || len(account) != 12 {
		return "", fmt.Errorf("session: account %q is not 12 digits", account)
	}
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("session: access key id: %w", err)
	}
	var head [8]byte
	copy(head[2:], b[:6])
	z := binary.BigEndian.Uint64(head[:])
	z = z&^accountMask | n<<7&accountMask
	binary.BigEndian.PutUint64(head[:], z)
	copy(b[:6], head[2:])
	return TemporaryKeyPrefix + keyIDEncoding.EncodeToString(b[:]), nil
}

// AccountOfAccessKeyID returns the account an access key id in AWS's format encodes: the four
// character prefix, then 16 base32 characters whose decoded bits 1..40 are the account. It
// reports false for ids of another form.
func AccountOfAccessKeyID(id string) (string, bool) {
	if len(id) != 20 {
		return "", false
	}
	var b [10]byte
	if n, err := keyIDEncoding.Decode(b[:], []byte(strings.ToUpper(id[4:]))); err != nil || n != 10 {
		return "", false
	}
	var head [8]byte
	copy(head[2:], b[:6])
	acct := binary.BigEndian.Uint64(head[:]) & accountMask >> 7
	if acct > 999_999_999_999 {
		return "", false
	}
	return fmt.Sprintf("%012d", acct), true
}

// secretAlphabet has 64 characters, so six random bits pick one uniformly; AWS secrets use
// the same characters.
const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// newSecret returns a random 40-character secret access key.
func newSecret() string {
	var b [40]byte
	// crypto/rand.Read never fails on the platforms Go supports (it panics rather than
	// return short), so its error needs no path of its own.
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = secretAlphabet[b[i]&63]
	}
	return string(b[:])
}
