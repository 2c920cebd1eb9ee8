package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxClockSkew is how far the time of a header-signed request may be from the server clock,
// either way, as at AWS.
const MaxClockSkew = 15 * time.Minute

// MaxPresignExpires is the longest X-Amz-Expires a presigned request may carry: one week, the
// life of a SigV4 signing key.
const MaxPresignExpires = 7 * 24 * time.Hour

// defaultPresignExpires applies to a presigned request without X-Amz-Expires. The parameter is
// optional for the query services, whose presigned requests AWS holds valid for about 15 minutes.
const defaultPresignExpires = 15 * time.Minute

// Verifier parses and verifies SigV4-signed requests. It is safe for concurrent use; it caches
// derived signing keys, so one Verifier should serve the whole server.
type Verifier struct {
	now  func() time.Time
	keys keyCache
}

// NewVerifier returns a Verifier that reads the time from now (time.Now if nil); tests pass a
// fixed clock.
func NewVerifier(now func() time.Time) *Verifier {
	if now == nil {
		now = time.Now
	}
	return &Verifier{now: now}
}

// Signed is a request whose signature parsed and whose time and credential scope are valid. Its
// signature is checked by Verify, once the caller has found the secret of AccessKeyID.
type Signed struct {
	// AccessKeyID is the access key the request claims to be signed with.
	AccessKeyID string
	// Region and Service are those of the credential scope. Any region is accepted; the
	// caller checks that Service is the one it serves.
	Region  string
	Service string
	// SessionToken is X-Amz-Security-Token, empty for long-term credentials.
	SessionToken string
	// Time is the request time (X-Amz-Date, or the Date header), in UTC.
	Time time.Time
	// Presigned reports a query-string signature; Expires is then its validity from Time.
	Presigned bool
	Expires   time.Duration

	v         *Verifier
	date      string // the credential scope date
	signature [2 * sha256.Size]byte
	sigLen    int
	sts       []byte // the string to sign
	stsBuf    [192]byte
}

// Parse reads the signature of r, whose body the caller has already read into body, and checks
// everything that needs no secret: the form of the Authorization header or of the presigned
// query parameters, the request time, the credential scope and that the host header is signed.
// It then computes the string to sign. Errors are *Error.
func (v *Verifier) Parse(r *http.Request, body []byte) (*Signed, error) {
	// The payload is always the hash of the body received: IAM and STS, unlike S3, take neither
	// x-amz-content-sha256 nor UNSIGNED-PAYLOAD in its place.
	bodySum := sha256.Sum256(body)
	var bodyHex [2 * sha256.Size]byte
	hex.Encode(bodyHex[:], bodySum[:])
	s, err := v.parse(r, bodyHex[:])
	if err != nil {
		return nil, err
	}
	return s, nil
}

// ParsePayloadHash is Parse for a request whose body the verifier does not see, as a reverse
// proxy's authorization subrequest carries none: the payload hash is the one the client sent
// in X-Amz-Content-Sha256 (its body's hex SHA-256, or UNSIGNED-PAYLOAD), as S3-style services
// sign, and otherwise the hash of an empty body. Whether a body matches that hash is for the
// service that receives it to check.
func (v *Verifier) ParsePayloadHash(r *http.Request) (*Signed, error) {
	hash := []byte(EmptyPayloadHash)
	if h := strings.TrimSpace(r.Header.Get("X-Amz-Content-Sha256")); h != "" {
		hash = []byte(h)
	}
	s, err := v.parse(r, hash)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// EmptyPayloadHash is the hex SHA-256 of an empty payload.
const EmptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

func (v *Verifier) parse(r *http.Request, payloadHash []byte) (*Signed, *Error) {
	var pbuf [16]qparam
	params, err := parseQuery(r.URL.RawQuery, pbuf[:0])
	if err != nil {
		return nil, err
	}
	authz := strings.TrimSpace(r.Header.Get("Authorization"))
	alg, presigned := firstParam(params, "X-Amz-Algorithm")
	now := v.now().UTC()

	s := &Signed{v: v}
	var a authHeader
	switch {
	case authz != "" && presigned:
		return nil, errMismatch(msgTwoMechanisms)
	case authz != "":
		a, err = s.fromHeader(r, authz, now)
	case presigned:
		a, err = s.fromQuery(params, alg, now)
	default:
		err = errMissingAuthToken()
	}
	if err != nil {
		return nil, err
	}

	c, err := parseCredential(a.credential)
	if err != nil {
		return nil, err
	}
	if err := checkScope(c, s.Time); err != nil {
		return nil, err
	}
	s.AccessKeyID, s.Region, s.Service, s.date = c.accessKeyID, c.region, c.service, c.date
	if len(a.signature) == len(s.signature) {
		s.sigLen = copy(s.signature[:], a.signature)
	}

	var creqBuf [1024]byte
	creq := appendCanonicalRequest(creqBuf[:0], r, params, s.Presigned, a.signedHeaders, payloadHash)
	creqSum := sha256.Sum256(creq)

	sts := append(s.stsBuf[:0], algorithmHMAC+"\n"...)
	sts = s.Time.AppendFormat(sts, amzDateLayout)
	sts = append(sts, '\n')
	sts = append(sts, c.scope...)
	sts = append(sts, '\n')
	sts = hex.AppendEncode(sts, creqSum[:])
	s.sts = sts
	return s, nil
}

// fromHeader reads an Authorization-header signature: its parameters, the request time from
// X-Amz-Date (or Date) within MaxClockSkew of now, and the session token.
func (s *Signed) fromHeader(r *http.Request, authz string, now time.Time) (authHeader, *Error) {
	a, err := parseAuthorization(authz)
	if err != nil {
		return a, err
	}
	dateValue := r.Header.Get("X-Amz-Date")
	fromDateHeader := false
	if dateValue == "" {
		dateValue, fromDateHeader = r.Header.Get("Date"), true
	}
	if dateValue == "" {
		a.missing |= missDate
	}
	if a.missing != 0 {
		return a, errMissingAuthParts(a.missing, authz)
	}
	if !hasSignedHeader(a.signedHeaders, "host") {
		return a, errMismatch(msgHostNotSigned)
	}
	t, ok := parseAmzDate(dateValue)
	if !ok && fromDateHeader {
		t, ok = parseHTTPDate(dateValue)
	}
	if !ok {
		return a, errBadDate(dateValue)
	}
	if t.Before(now.Add(-MaxClockSkew)) {
		return a, errExpired(t, now.Add(-MaxClockSkew), now, MaxClockSkew)
	}
	if t.After(now.Add(MaxClockSkew)) {
		return a, errNotYetCurrent(t, now.Add(MaxClockSkew), now, MaxClockSkew)
	}
	s.Time = t
	s.SessionToken = r.Header.Get("X-Amz-Security-Token")
	return a, nil
}

// fromQuery reads a presigned signature from the X-Amz-* query parameters. The request is valid
// from X-Amz-Date (less the clock skew AWS allows any request) until X-Amz-Date + X-Amz-Expires,
// and refused as expired after.
func (s *Signed) fromQuery(params []qparam, alg string, now time.Time) (authHeader, *Error) {
	var a authHeader
	if alg != algorithmHMAC {
		return a, errUnsupportedAlgorithm(alg)
	}
	var dateValue string
	var ok bool
	if a.credential, ok = firstParam(params, "X-Amz-Credential"); !ok {
		a.missing |= missCredential
	}
	if a.signature, ok = firstParam(params, "X-Amz-Signature"); !ok {
		a.missing |= missSignature
	}
	if a.signedHeaders, ok = firstParam(params, "X-Amz-SignedHeaders"); !ok {
		a.missing |= missSignedHeaders
	}
	if dateValue, ok = firstParam(params, "X-Amz-Date"); !ok {
		a.missing |= missDate
	}
	if a.missing != 0 {
		return a, errMissingQueryParts(a.missing)
	}
	if !hasSignedHeader(a.signedHeaders, "host") {
		return a, errMismatch(msgHostNotSigned)
	}
	t, ok := parseAmzDate(dateValue)
	if !ok {
		return a, errBadDate(dateValue)
	}
	expires := defaultPresignExpires
	if e, ok := firstParam(params, "X-Amz-Expires"); ok {
		var err *Error
		if expires, err = parseExpires(e); err != nil {
			return a, err
		}
	}
	if t.After(now.Add(MaxClockSkew)) {
		return a, errNotYetCurrent(t, now.Add(MaxClockSkew), now, MaxClockSkew)
	}
	if now.After(t.Add(expires)) {
		return a, errExpired(t, now.Add(-expires), now, expires)
	}
	s.Time, s.Presigned, s.Expires = t, true, expires
	s.SessionToken, _ = firstParam(params, "X-Amz-Security-Token")
	return a, nil
}

// parseHTTPDate parses a Date header: RFC 1123, or the older forms HTTP/1.1 allows.
func parseHTTPDate(s string) (time.Time, bool) {
	t, err := http.ParseTime(s)
	return t.UTC(), err == nil
}

// parseExpires parses X-Amz-Expires, a whole number of seconds from 1 to 604800. The messages
// are S3's, the one service that documents this parameter's errors.
func parseExpires(s string) (time.Duration, *Error) {
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case err != nil:
		return 0, errIncomplete("X-Amz-Expires should be a number")
	case n < 1:
		return 0, errIncomplete("X-Amz-Expires must be non-negative and at least 1 second")
	case n > int64(MaxPresignExpires/time.Second):
		return 0, errIncomplete("X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds")
	}
	return time.Duration(n) * time.Second, nil
}

// Verify checks the request signature against the secret access key of AccessKeyID, in constant
// time. It returns nil or an *Error with AWS's SignatureDoesNotMatch.
func (s *Signed) Verify(secret string) error {
	if s == nil || s.sts == nil {
		return errMismatch(msgSignatureMismatch)
	}
	ck := cacheKey{secret: secret, date: s.date, region: s.Region, service: s.Service}
	var key [sha256.Size]byte
	cached := false
	if s.v != nil {
		key, cached = s.v.keys.get(ck)
	}
	if !cached {
		key = deriveKey(secret, s.date, s.Region, s.Service)
	}
	mac := hmacSHA256(key[:], s.sts)
	var want [2 * sha256.Size]byte
	hex.Encode(want[:], mac[:])
	// AWS compares the lower-case hex it computed with the signature sent.
	if s.sigLen != len(want) || !hmac.Equal(want[:], s.signature[:]) {
		return errMismatch(msgSignatureMismatch)
	}
	if !cached && s.v != nil {
		s.v.keys.put(ck, key)
	}
	return nil
}
