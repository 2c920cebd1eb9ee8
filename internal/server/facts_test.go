package server

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestCredentialRegion(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		header string
		query  string
		want   string
	}{
		{"header", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc", "", "us-east-1"},
		{"header, other region", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-3/sts/aws4_request,SignedHeaders=host,Signature=abc", "", "eu-west-3"},
		{"presigned", "", "X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fap-south-1%2Fsts%2Faws4_request&X-Amz-Signature=abc", "ap-south-1"},
		{"header wins over query", "AWS4-HMAC-SHA256 Credential=A/20150830/us-west-2/iam/aws4_request, Signature=x", "X-Amz-Credential=A%2F20150830%2Feu-west-1%2Fiam%2Faws4_request", "us-west-2"},
		{"no credential", "", "", ""},
		{"malformed scope", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/us-east-1, Signature=abc", "", ""},
		{"header without credential", "Bearer xyz", "", ""},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/?"+tc.query, nil)
			if tc.header != "" {
				r.Header.Set("Authorization", tc.header)
			}
			if got := credentialRegion(r); got != tc.want {
				t.Errorf("credentialRegion = %q, want %q", got, tc.want)
			}
		})
	}
}

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
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=A/20150830/us-east-1/iam/aws4_request, Signature=x")
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			f := requestFacts(r)
			if f.SourceIP != tc.wantIP || f.SecureTransport != tc.wantSecure || f.UserAgent != "aws-cli/2.15.0" || f.Region != "us-east-1" || f.Time.IsZero() {
				t.Errorf("requestFacts = %+v", f)
			}
		})
	}
}

// FuzzCredentialRegion checks that any Authorization header is read without panicking and that
// a region, when found, is one segment of the credential scope.
func FuzzCredentialRegion(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=abc")
	f.Add("Credential=////")
	f.Add("Credential=a/b/c/d/e,")
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.Header["Authorization"] = []string{header}
		got := credentialRegion(r)
		for i := 0; i < len(got); i++ {
			if got[i] == '/' || got[i] == ',' {
				t.Fatalf("region %q of %q spans scope segments", got, header)
			}
		}
	})
}
