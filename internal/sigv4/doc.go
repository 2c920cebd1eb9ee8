// Package sigv4 verifies AWS Signature Version 4 request signatures the way AWS IAM and STS do.
//
// A request is authenticated in two steps, so that the caller can look up the secret between
// them:
//
//	signed, err := verifier.Parse(r, body) // everything that needs no secret
//	secret := lookup(signed.AccessKeyID)    // unknown key: ErrInvalidClientTokenID()
//	err = signed.Verify(secret)             // the signature itself, compared in constant time
//
// Parse accepts both forms AWS accepts: the Authorization header
// ("AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=...,
// Signature=...") and the presigned query string (X-Amz-Algorithm, X-Amz-Credential,
// X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Signature and, for temporary
// credentials, X-Amz-Security-Token). It checks the request time against the server clock
// (15 minutes either way for header-signed requests; for presigned ones, from X-Amz-Date less the
// same skew to X-Amz-Date + X-Amz-Expires, or + 15 minutes without it), the credential scope (any region; the scope date must be the date of the
// request time; the terminator must be aws4_request), and that the host header is signed. It
// then builds AWS's canonical request: the method, the request path as the client sent it,
// URI-encoded once more as the SDKs do for every service but S3, the query string with each name
// and value RFC 3986-encoded and sorted, the signed headers (lower-cased names, trimmed values
// with runs of spaces folded, repeated headers joined with commas, the host taken from the Host
// the client sent), the signed-header list and the SHA-256 of the body. IAM and STS hash the body
// themselves, so x-amz-content-sha256 (and UNSIGNED-PAYLOAD, which only S3 accepts) never
// replaces the hash of the body actually received.
//
// Failures are *Error values carrying the code, message and HTTP status AWS answers with:
// MissingAuthenticationToken, IncompleteSignature, SignatureDoesNotMatch (including "Signature
// expired"), MalformedQueryString, and InvalidClientTokenId for the caller to return when the
// key is unknown.
//
// Derived signing keys are cached inside each Verifier per (secret, date, region, service), only
// after a signature verified, so a caller without the secret cannot fill the cache. The package
// never logs and keeps no global state.
package sigv4
