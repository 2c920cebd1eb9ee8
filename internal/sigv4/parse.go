package sigv4

import (
	"net/url"
	"strings"
	"time"
)

const (
	algorithmHMAC   = "AWS4-HMAC-SHA256"
	algorithmSigV4a = "AWS4-ECDSA-P256-SHA256"
	scopeTerminator = "aws4_request"
	amzDateLayout   = "20060102T150405Z"
	scopeDateLayout = "20060102"
)

// authHeader is what an Authorization header carries. Its strings are substrings of the header.
type authHeader struct {
	credential    string
	signedHeaders string
	signature     string
	missing       uint8 // missCredential, missSignature, missSignedHeaders
}

// parseAuthorization parses an Authorization header value. Like AWS, it splits the parameters
// on commas and whitespace (so "Credential= AKID/..." reports "AKID/..." as a pair without an
// equal sign), lets a repeated parameter's last value win and ignores parameters it does not
// know. A header that is not SigV4 at all (SigV2's "AWS AKID:sig", a bearer token) is reported
// as missing every parameter, which is what AWS answers; another AWS4 algorithm is named as
// unsupported.
func parseAuthorization(header string) (authHeader, *Error) {
	// Only the separators are trimmed (HTTP's optional whitespace): other control characters
	// stay part of a value, as they would in the middle of the header.
	header = strings.Trim(header, " \t")
	alg, rest := header, ""
	if i := indexSeparator(header, false); i >= 0 {
		alg, rest = header[:i], header[i+1:]
	}
	if alg != algorithmHMAC {
		if strings.HasPrefix(alg, "AWS4-") {
			return authHeader{}, errUnsupportedAlgorithm(alg)
		}
		return authHeader{missing: missCredential | missSignature | missSignedHeaders}, nil
	}
	var a authHeader
	var seen uint8
	for rest != "" {
		i := indexSeparator(rest, true)
		part := rest
		if i >= 0 {
			part, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		if part == "" {
			continue
		}
		key, value, ok := strings.Cut(part, "=")
		if !ok {
			return authHeader{}, errIncomplete("'" + part + "' not a valid key=value pair (missing equal-sign) in Authorization header: '" + header + "'.")
		}
		switch key {
		case "Credential":
			a.credential, seen = value, seen|missCredential
		case "Signature":
			a.signature, seen = value, seen|missSignature
		case "SignedHeaders":
			a.signedHeaders, seen = value, seen|missSignedHeaders
		}
	}
	a.missing = (missCredential | missSignature | missSignedHeaders) &^ seen
	return a, nil
}

// indexSeparator returns the index of the first space or tab in s (or comma, if comma), or -1.
// strings.IndexAny builds a set on every call; this runs once per parameter.
func indexSeparator(s string, comma bool) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == ' ' || c == '\t' || comma && c == ',' {
			return i
		}
	}
	return -1
}

// credential is a parsed credential "AKID/20240101/us-east-1/iam/aws4_request". Its strings are
// substrings of the credential.
type credential struct {
	accessKeyID string
	date        string
	region      string
	service     string
	terminator  string
	scope       string // everything after the access key id
}

// parseCredential splits a credential into its five parts; any other count is AWS's
// IncompleteSignature. The values themselves are checked against the request by checkScope.
func parseCredential(s string) (credential, *Error) {
	var c credential
	var parts [5]string
	rest := s
	for i := range parts {
		if i == len(parts)-1 {
			if strings.IndexByte(rest, '/') >= 0 {
				return credential{}, errIncomplete(msgCredentialParts + s + "'")
			}
			parts[i] = rest
			break
		}
		p, r, ok := strings.Cut(rest, "/")
		if !ok {
			return credential{}, errIncomplete(msgCredentialParts + s + "'")
		}
		parts[i], rest = p, r
	}
	c.accessKeyID, c.date, c.region, c.service, c.terminator = parts[0], parts[1], parts[2], parts[3], parts[4]
	c.scope = s[len(c.accessKeyID)+1:]
	return c, nil
}

// checkScope checks the credential scope against the request time. Any region is accepted, but
// not an empty one; the service is the caller's to check, since only it knows which one was
// called. Every problem found goes into one message, as AWS does.
func checkScope(c credential, reqTime time.Time) *Error {
	var msgs []string
	if c.region == "" {
		msgs = append(msgs, "Credential should be scoped to a valid region, not ''.")
	}
	if c.terminator != scopeTerminator {
		msgs = append(msgs, "Credential should be scoped with a valid terminator: '"+scopeTerminator+"', not '"+c.terminator+"'.")
	}
	var buf [8]byte
	want := reqTime.AppendFormat(buf[:0], scopeDateLayout)
	if c.date != string(want) {
		msgs = append(msgs, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '"+
			c.date+"' != '"+string(want)+"', from '"+reqTime.Format(amzDateLayout)+"'.")
	}
	if len(msgs) == 0 {
		return nil
	}
	return errMismatch(strings.Join(msgs, " "))
}

// parseAmzDate parses the ISO 8601 basic format of X-Amz-Date, "20240101T000000Z".
func parseAmzDate(s string) (time.Time, bool) {
	if len(s) != len(amzDateLayout) {
		return time.Time{}, false
	}
	t, err := time.Parse(amzDateLayout, s)
	return t, err == nil
}

// hasSignedHeader reports whether name is in a semicolon-separated signed-header list.
func hasSignedHeader(list, name string) bool {
	for list != "" {
		var h string
		h, list, _ = strings.Cut(list, ";")
		if strings.EqualFold(h, name) {
			return true
		}
	}
	return false
}

// qparam is one query-string parameter, decoded.
type qparam struct {
	key, value string
}

// parseQuery decodes a raw query string into dst, keeping repeated keys and their order. As in
// url.ParseQuery, which is how the server reads the same parameters, '+' means a space and empty
// segments are skipped; the signature thus covers what the request is taken to mean.
func parseQuery(raw string, dst []qparam) ([]qparam, *Error) {
	for raw != "" {
		var seg string
		seg, raw, _ = strings.Cut(raw, "&")
		if seg == "" {
			continue
		}
		k, v, _ := strings.Cut(seg, "=")
		k, err := unescapeQuery(k)
		if err != nil {
			return dst, err
		}
		v, err = unescapeQuery(v)
		if err != nil {
			return dst, err
		}
		dst = append(dst, qparam{key: k, value: v})
	}
	return dst, nil
}

func unescapeQuery(s string) (string, *Error) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, nil // nothing to decode: no allocation
	}
	u, err := url.QueryUnescape(s)
	if err != nil {
		return "", errMalformedQuery("The query string is not valid URL encoding: " + err.Error())
	}
	return u, nil
}

// firstParam returns the first value of key in params.
func firstParam(params []qparam, key string) (string, bool) {
	for _, p := range params {
		if p.key == key {
			return p.value, true
		}
	}
	return "", false
}
