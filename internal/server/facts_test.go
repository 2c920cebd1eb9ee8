package server

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
)

func TestRequestFacts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		remote     string
		tls        bool
		wantIP     string
		wantSecure bool
	}{
		{"IPv4 over HTTP", "192.0.2.7:51234", false, "192.0.2.7", false},
		{"IPv6 over TLS", "[2001:db8::1]:443", true, "2001:db8::1", true},
		{"no port", "198.51.100.2", false, "198.51.100.2", false},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", nil)
			r.RemoteAddr = tc.remote
			r.Header.Set("User-Agent", "aws-cli/2.15.0")
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			f := requestFacts(r, "us-east-1")
			if f.SourceIP != tc.wantIP || f.SecureTransport != tc.wantSecure || f.UserAgent != "aws-cli/2.15.0" || f.Region != "us-east-1" || f.Time.IsZero() {
				t.Errorf("requestFacts = %+v", f)
			}
		})
	}
}

func TestMediaType(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"application/x-www-form-urlencoded", "application/x-www-form-urlencoded"},
		{"application/x-www-form-urlencoded; charset=utf-8", "application/x-www-form-urlencoded"},
		{" Application/X-WWW-Form-URLEncoded ;charset=UTF-8", "application/x-www-form-urlencoded"},
		{"text/XML", "text/xml"},
		{"", ""},
	} {
		if got := mediaType(tc.in); got != tc.want {
			t.Errorf("mediaType(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNewRequestID(t *testing.T) {
	t.Parallel()
	uuid4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 100 {
		id := newRequestID()
		if !uuid4.MatchString(id) {
			t.Fatalf("request id %q is not a version 4 UUID", id)
		}
		if seen[id] {
			t.Fatalf("request id %q repeated", id)
		}
		seen[id] = true
	}
}
