package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// SigningKey is a SigV4 derived signing key: kSigning, the HMAC chain of the secret over the
// credential scope's date, region and service and "aws4_request". It verifies the signatures
// of one access key for one day, region and service, and reveals nothing of the secret.
type SigningKey [sha256.Size]byte

// DeriveSigningKey derives the signing key of secret for a credential scope (date YYYYMMDD).
func DeriveSigningKey(secret, date, region, service string) SigningKey {
	return deriveKey(secret, date, region, service)
}

// Date is the credential scope's date (YYYYMMDD): with AccessKeyID, Region and Service it
// names the signing key that verifies the request.
func (s *Signed) Date() string {
	if s == nil {
		return ""
	}
	return s.date
}

// VerifyKey is Verify for a caller that holds the derived signing key of the request's
// credential scope rather than the secret (a service that learns signing keys from
// Gatehouse). It compares in constant time and returns nil or an *Error with AWS's
// SignatureDoesNotMatch. It does not touch the Verifier's key cache.
func (s *Signed) VerifyKey(key *SigningKey) error {
	if s == nil || s.sts == nil || key == nil {
		return errMismatch(msgSignatureMismatch)
	}
	mac := hmacSHA256(key[:], s.sts)
	var want [2 * sha256.Size]byte
	hex.Encode(want[:], mac[:])
	if s.sigLen != len(want) || !hmac.Equal(want[:], s.signature[:]) {
		return errMismatch(msgSignatureMismatch)
	}
	return nil
}
