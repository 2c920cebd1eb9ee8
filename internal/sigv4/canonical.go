package sigv4

import (
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
)

const upperHex = "0123456789ABCDEF"

// appendCanonicalRequest appends AWS's canonical request for r to b:
//
//	METHOD \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n PayloadHash
//
// params is the decoded query string; for a presigned request X-Amz-Signature is left out of it.
func appendCanonicalRequest(b []byte, r *http.Request, params []qparam, presigned bool, signedHeaders string, payloadHash []byte) []byte {
	b = append(b, r.Method...)
	b = append(b, '\n')
	b = appendEscaped(b, requestPath(r), true)
	b = append(b, '\n')
	b = appendCanonicalQuery(b, params, presigned)
	b = append(b, '\n')
	for list := signedHeaders; list != ""; {
		var name string
		name, list, _ = strings.Cut(list, ";")
		b = appendCanonicalHeader(b, r, name)
	}
	b = append(b, '\n')
	b = appendLower(b, signedHeaders)
	b = append(b, '\n')
	return append(b, payloadHash...)
}

// requestPath is the path as the client sent it, still percent-encoded: the request target up to
// the query. The SDKs sign that wire form URI-encoded once more (every service but S3), so the
// verifier must start from the same bytes, not from a decoded and re-encoded url.URL.Path.
func requestPath(r *http.Request) string {
	if u := r.RequestURI; u != "" && u[0] == '/' {
		if i := strings.IndexByte(u, '?'); i >= 0 {
			u = u[:i]
		}
		return u
	}
	// A request built in-process, or an absolute-form target sent to a proxy.
	if p := r.URL.EscapedPath(); p != "" {
		return p
	}
	return "/"
}

// unreserved reports whether c is an RFC 3986 unreserved character, the only ones SigV4 leaves
// unencoded.
func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

// appendEscaped appends s with every byte outside the unreserved set (and '/', if keepSlash)
// percent-encoded with upper-case hex.
func appendEscaped(b []byte, s string, keepSlash bool) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || keepSlash && c == '/' {
			b = append(b, c)
			continue
		}
		b = append(b, '%', upperHex[c>>4], upperHex[c&15])
	}
	return b
}

// escapeQuery returns s encoded for the canonical query string, without allocating when s needs
// no encoding, which is the usual case (Action=ListUsers&Version=2010-05-08).
func escapeQuery(s string) string {
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			return string(appendEscaped(make([]byte, 0, len(s)+16), s, false))
		}
	}
	return s
}

// appendCanonicalQuery appends the parameters encoded and sorted by name, then value; AWS sorts
// after encoding, and the two orders differ ('%' sorts before '-').
func appendCanonicalQuery(b []byte, params []qparam, presigned bool) []byte {
	var buf [16]qparam
	enc := buf[:0]
	for _, p := range params {
		if presigned && p.key == "X-Amz-Signature" {
			continue
		}
		enc = append(enc, qparam{key: escapeQuery(p.key), value: escapeQuery(p.value)})
	}
	if len(enc) > 1 {
		slices.SortFunc(enc, func(x, y qparam) int {
			if c := strings.Compare(x.key, y.key); c != 0 {
				return c
			}
			return strings.Compare(x.value, y.value)
		})
	}
	for i, p := range enc {
		if i > 0 {
			b = append(b, '&')
		}
		b = append(b, p.key...)
		b = append(b, '=')
		b = append(b, p.value...)
	}
	return b
}

// appendCanonicalHeader appends "name:value1,value2\n" for one signed header. A signed header the
// request does not carry gets no line, as in AWS's canonical form; the signature then fails.
func appendCanonicalHeader(b []byte, r *http.Request, name string) []byte {
	if strings.EqualFold(name, "host") {
		// Go moves Host out of the header map; r.Host is the value the client sent (":authority"
		// over HTTP/2), port included, whatever proxy or forward it came through.
		b = appendLower(b, name)
		b = append(b, ':')
		b = appendHeaderValue(b, r.Host)
		return append(b, '\n')
	}
	values := headerValues(r.Header, name)
	if len(values) == 0 {
		if strings.EqualFold(name, "content-length") && r.ContentLength > 0 {
			// HTTP/2 carries the length outside the header map.
			b = append(b, "content-length:"...)
			b = strconv.AppendInt(b, r.ContentLength, 10)
			return append(b, '\n')
		}
		return b
	}
	b = appendLower(b, name)
	b = append(b, ':')
	for i, v := range values {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendHeaderValue(b, v)
	}
	return append(b, '\n')
}

// headerValues looks a header up by its lower-case signed name without allocating for the
// headers SDKs sign; keys Go left uncanonicalized are found by a case-insensitive scan.
func headerValues(h http.Header, name string) []string {
	if v, ok := h[canonicalKey(name)]; ok {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

func canonicalKey(name string) string {
	switch name {
	case "content-type":
		return "Content-Type"
	case "content-length":
		return "Content-Length"
	case "x-amz-date":
		return "X-Amz-Date"
	case "x-amz-security-token":
		return "X-Amz-Security-Token"
	case "x-amz-content-sha256":
		return "X-Amz-Content-Sha256"
	case "x-amz-user-agent":
		return "X-Amz-User-Agent"
	case "x-amz-target":
		return "X-Amz-Target"
	case "amz-sdk-invocation-id":
		return "Amz-Sdk-Invocation-Id"
	case "amz-sdk-request":
		return "Amz-Sdk-Request"
	case "date":
		return "Date"
	}
	return textproto.CanonicalMIMEHeaderKey(name)
}

// appendHeaderValue appends v trimmed, with each run of spaces folded into one.
func appendHeaderValue(b []byte, v string) []byte {
	v = strings.TrimSpace(v)
	space := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b = append(b, c)
	}
	return b
}

func appendLower(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}
