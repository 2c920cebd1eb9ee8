package sigv4

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Error codes AWS IAM and STS answer when a request cannot be authenticated.
const (
	CodeIncompleteSignature        = "IncompleteSignature"
	CodeInvalidClientTokenID       = "InvalidClientTokenId"
	CodeMalformedQueryString       = "MalformedQueryString"
	CodeMissingAuthenticationToken = "MissingAuthenticationToken"
	CodeSignatureDoesNotMatch      = "SignatureDoesNotMatch"
)

// Messages AWS sends, word for word where AWS's own text is known.
const (
	msgMissingAuthToken   = "Request is missing Authentication Token"
	msgInvalidClientToken = "The security token included in the request is invalid."
	msgSignatureMismatch  = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgHostNotSigned      = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
	msgTwoMechanisms      = "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified."
	msgReqCredential      = "Authorization header requires 'Credential' parameter."
	msgReqSignature       = "Authorization header requires 'Signature' parameter."
	msgReqSignedHeaders   = "Authorization header requires 'SignedHeaders' parameter."
	msgReqDate            = "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
	msgQueryCredential    = "AWS query-string parameters must include 'X-Amz-Credential'."
	msgQuerySignature     = "AWS query-string parameters must include 'X-Amz-Signature'."
	msgQuerySignedHeaders = "AWS query-string parameters must include 'X-Amz-SignedHeaders'."
	msgQueryDate          = "AWS query-string parameters must include 'X-Amz-Date'."
	msgReexamineQuery     = "Re-examine the query-string parameters."
	msgCredentialParts    = "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '"
)

// Error is an authentication failure in AWS's terms: the error code, the message and the HTTP
// status AWS answers with.
type Error struct {
	Code    string
	Message string
	Status  int
}

// Error implements error.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// ErrInvalidClientTokenID is the error for an access key that does not exist. Parse cannot know
// that, so the caller returns it when its lookup of Signed.AccessKeyID finds nothing.
func ErrInvalidClientTokenID() *Error {
	return &Error{Code: CodeInvalidClientTokenID, Message: msgInvalidClientToken, Status: http.StatusForbidden}
}

func errMissingAuthToken() *Error {
	return &Error{Code: CodeMissingAuthenticationToken, Message: msgMissingAuthToken, Status: http.StatusForbidden}
}

// errIncomplete is a malformed signature: AWS's IAM and STS references give 400 for it.
func errIncomplete(msg string) *Error {
	return &Error{Code: CodeIncompleteSignature, Message: msg, Status: http.StatusBadRequest}
}

func errMismatch(msg string) *Error {
	return &Error{Code: CodeSignatureDoesNotMatch, Message: msg, Status: http.StatusForbidden}
}

func errMalformedQuery(msg string) *Error {
	return &Error{Code: CodeMalformedQueryString, Message: msg, Status: http.StatusBadRequest}
}

// Bits of the Authorization header and its request that can be missing, in the order AWS lists
// them in its IncompleteSignature message.
const (
	missCredential uint8 = 1 << iota
	missSignature
	missSignedHeaders
	missDate
)

// errMissingAuthParts lists every missing part in one message and echoes the header, as AWS does:
// "Authorization header requires 'Signature' parameter. ... Authorization=AWS4-HMAC-SHA256 ...".
func errMissingAuthParts(missing uint8, header string) *Error {
	var b strings.Builder
	add := func(bit uint8, msg string) {
		if missing&bit != 0 {
			b.WriteString(msg)
			b.WriteByte(' ')
		}
	}
	add(missCredential, msgReqCredential)
	add(missSignature, msgReqSignature)
	add(missSignedHeaders, msgReqSignedHeaders)
	add(missDate, msgReqDate)
	b.WriteString("Authorization=")
	b.WriteString(header)
	return errIncomplete(b.String())
}

func errMissingQueryParts(missing uint8) *Error {
	var b strings.Builder
	add := func(bit uint8, msg string) {
		if missing&bit != 0 {
			b.WriteString(msg)
			b.WriteByte(' ')
		}
	}
	add(missCredential, msgQueryCredential)
	add(missSignature, msgQuerySignature)
	add(missSignedHeaders, msgQuerySignedHeaders)
	add(missDate, msgQueryDate)
	b.WriteString(msgReexamineQuery)
	return errIncomplete(b.String())
}

// errUnsupportedAlgorithm names the algorithm; SigV4a gets a sentence of its own because a client
// configured for multi-region signing would otherwise not know what to change.
func errUnsupportedAlgorithm(alg string) *Error {
	msg := "Unsupported AWS 'algorithm': '" + alg + "'."
	if alg == algorithmSigV4a {
		msg += " SigV4a (" + algorithmSigV4a + ") is not supported; sign requests with SigV4 (" + algorithmHMAC + ")."
	}
	return errIncomplete(msg)
}

func errBadDate(value string) *Error {
	return errIncomplete("Date must be in ISO-8601 'basic format'. Got '" + value + "'. See http://en.wikipedia.org/wiki/ISO_8601")
}

// errExpired is AWS's "Signature expired: 20240101T000000Z is now earlier than 20240101T001600Z
// (20240101T003100Z - 15 min.)".
func errExpired(reqTime, limit, now time.Time, window time.Duration) *Error {
	return errMismatch("Signature expired: " + reqTime.Format(amzDateLayout) + " is now earlier than " +
		limit.Format(amzDateLayout) + " (" + now.Format(amzDateLayout) + " - " + formatWindow(window) + ")")
}

// errNotYetCurrent is AWS's "Signature not yet current: 20240101T003200Z is still later than
// 20240101T001600Z (20240101T000100Z + 15 min.)".
func errNotYetCurrent(reqTime, limit, now time.Time, window time.Duration) *Error {
	return errMismatch("Signature not yet current: " + reqTime.Format(amzDateLayout) + " is still later than " +
		limit.Format(amzDateLayout) + " (" + now.Format(amzDateLayout) + " + " + formatWindow(window) + ")")
}

// formatWindow writes a duration the way AWS's expiry messages do ("15 min."), falling back to
// seconds for presign windows that are not whole minutes.
func formatWindow(d time.Duration) string {
	s := int64(d / time.Second)
	if s%60 == 0 {
		return strconv.FormatInt(s/60, 10) + " min."
	}
	return strconv.FormatInt(s, 10) + " sec."
}
