package iam

import (
	"crypto/rand"
	"math/big"
)

// IDSource makes the identifiers IAM hands out. Tests may substitute a deterministic one.
type IDSource interface {
	// UniqueID returns prefix followed by 17 characters, as IAM's unique ids (AIDA..., AROA...).
	UniqueID(prefix string) string
	// AccessKeyID returns a 20-character access key id starting with prefix (AKIA, ASIA).
	AccessKeyID(prefix string) string
	// SecretAccessKey returns a 40-character secret.
	SecretAccessKey() string
	// AccountID returns 12 decimal digits.
	AccountID() string
}

// RandomIDs draws identifiers from crypto/rand.
type RandomIDs struct{}

const (
	idAlphabet     = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" // base32, as AWS ids use
	secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

func randomString(alphabet string, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error()) // the OS random source does not fail on Linux
	}
	for i := range b {
		// Both alphabets have a power-of-two size, so masking keeps the draw uniform.
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// UniqueID implements IDSource.
func (RandomIDs) UniqueID(prefix string) string { return prefix + randomString(idAlphabet, 17) }

// AccessKeyID implements IDSource.
func (RandomIDs) AccessKeyID(prefix string) string { return prefix + randomString(idAlphabet, 16) }

// SecretAccessKey implements IDSource.
func (RandomIDs) SecretAccessKey() string { return randomString(secretAlphabet, 40) }

// AccountID implements IDSource.
func (RandomIDs) AccountID() string {
	n, err := rand.Int(rand.Reader, big.NewInt(900_000_000_000))
	if err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	// A leading digit of 1-9 keeps every id 12 digits long without zero padding surprises.
	return new(big.Int).Add(n, big.NewInt(100_000_000_000)).String()
}
