package sigv4

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// seedHeaders returns every Authorization header in the testdata fixtures.
func seedHeaders(tb testing.TB) []string {
	tb.Helper()
	var seeds []string
	for _, c := range loadSuite(tb).Cases {
		for _, line := range strings.Split(c.Request, "\n") {
			if v, ok := strings.CutPrefix(line, "Authorization: "); ok {
				seeds = append(seeds, v)
			}
		}
	}
	raw, err := os.ReadFile("testdata/malformed.json")
	if err != nil {
		tb.Fatal(err)
	}
	var f struct {
		Cases []struct {
			Target  string            `json:"target"`
			Headers map[string]string `json:"headers"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		tb.Fatal(err)
	}
	for _, c := range f.Cases {
		if v, ok := c.Headers["Authorization"]; ok {
			seeds = append(seeds, v)
		}
	}
	return seeds
}

// FuzzParseAuthorization: the header parser never panics, and what it accepts renders back to a
// header that parses to the same values.
func FuzzParseAuthorization(f *testing.F) {
	for _, s := range seedHeaders(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		a, err := parseAuthorization(header)
		if err != nil {
			if err.Code != CodeIncompleteSignature || err.Status != http.StatusBadRequest || err.Message == "" {
				t.Fatalf("error %+v", err)
			}
			return
		}
		if a.missing != 0 {
			return
		}
		for _, v := range []string{a.credential, a.signedHeaders, a.signature} {
			if strings.ContainsAny(v, ", \t") {
				t.Fatalf("value %q holds a separator", v)
			}
		}
		again, err := parseAuthorization(algorithmHMAC + " Credential=" + a.credential + ", SignedHeaders=" + a.signedHeaders + ", Signature=" + a.signature)
		if err != nil || again != a {
			t.Fatalf("round trip of %q: %+v, %v; first parse %+v", header, again, err, a)
		}
	})
}

// FuzzParseCredential: the credential-scope parser never panics, and what it accepts is exactly
// its five parts joined by slashes.
func FuzzParseCredential(f *testing.F) {
	for _, s := range []string{
		"AKIDEXAMPLE/20150830/us-east-1/service/aws4_request",
		"AKIAIOSFODNN7EXAMPLE/20240517//iam/aws4_request",
		"a/b/c/d", "a/b/c/d/e/f", "", "/////", "AKID/20240517/us-east-1/sts/aws4_request/",
	} {
		f.Add(s)
	}
	for _, h := range seedHeaders(f) {
		if a, err := parseAuthorization(h); err == nil {
			f.Add(a.credential)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseCredential(s)
		if err != nil {
			if err.Code != CodeIncompleteSignature || !strings.Contains(err.Message, s) {
				t.Fatalf("error %+v", err)
			}
			return
		}
		if got := strings.Join([]string{c.accessKeyID, c.date, c.region, c.service, c.terminator}, "/"); got != s {
			t.Fatalf("parts join to %q, want %q", got, s)
		}
		if c.accessKeyID+"/"+c.scope != s {
			t.Fatalf("scope %q does not follow %q in %q", c.scope, c.accessKeyID, s)
		}
		_ = checkScope(c, time.Date(2024, 5, 17, 0, 0, 0, 0, time.UTC))
	})
}

// FuzzParse runs whole requests through Parse and Verify: never a panic, and every failure is
// an *Error with an AWS status.
func FuzzParse(f *testing.F) {
	for _, h := range seedHeaders(f) {
		f.Add(h, "20150830T123600Z", "", "Param1=value1", "example.amazonaws.com")
	}
	f.Add("", "", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00", "", "h")
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date;x-custom, Signature=00", "20150830T123600Z", "a=%zz", "", "h:1")
	now := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	v := NewVerifier(func() time.Time { return now })
	f.Fuzz(func(t *testing.T, authz, date, query, body, host string) {
		r := &http.Request{
			Method: http.MethodPost,
			URL:    &url.URL{Path: "/", RawQuery: query},
			Host:   host,
			Header: http.Header{"X-Custom": {" a  b ", "c"}},
		}
		if authz != "" {
			r.Header.Set("Authorization", authz)
		}
		if date != "" {
			r.Header.Set("X-Amz-Date", date)
		}
		s, err := v.Parse(r, []byte(body))
		if err != nil {
			var e *Error
			if s != nil || !errors.As(err, &e) || e.Code == "" || (e.Status != 400 && e.Status != 403) {
				t.Fatalf("Parse = %v, %v", s, err)
			}
			return
		}
		if err := s.Verify("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"); err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeSignatureDoesNotMatch {
				t.Fatalf("Verify = %v", err)
			}
		}
	})
}
