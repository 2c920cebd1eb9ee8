package server

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseTrustedProxies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want, wantErr string
	}{
		{"", "", ""},
		{"127.0.0.1/32", "127.0.0.1/32", ""},
		{" 10.0.0.0/8 , 192.168.1.7 ,::1", "10.0.0.0/8 192.168.1.7/32 ::1/128", ""},
		{"10.1.2.3/8", "10.0.0.0/8", ""}, // masked, as a CIDR means
		{"::ffff:10.0.0.0/104", "10.0.0.0/8", ""},
		{"10.0.0.0/33", "", "is not a CIDR prefix"},
		{"proxy.internal", "", "neither a CIDR prefix"},
	} {
		t.Run("in="+tc.in, func(t *testing.T) {
			got, err := ParseTrustedProxies(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var s []string
			for _, p := range got {
				s = append(s, p.String())
			}
			if strings.Join(s, " ") != tc.want {
				t.Errorf("got %v, want %s", s, tc.want)
			}
		})
	}
}

func TestClientAddress(t *testing.T) {
	t.Parallel()
	trusted, err := ParseTrustedProxies("127.0.0.1/32,10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		trusted    bool // whether --trusted-proxies is set
		remote     string
		tls        bool
		xff        []string
		proto      string
		wantIP     string
		wantSecure bool
	}{
		{"direct, no headers", true, "192.0.2.7:5000", false, nil, "", "192.0.2.7", false},
		{"direct TLS", true, "192.0.2.7:5000", true, nil, "", "192.0.2.7", true},
		{"untrusted peer forges headers", true, "192.0.2.7:5000", false, []string{"203.0.113.9"}, "https", "192.0.2.7", false},
		{"untrusted peer cannot downgrade TLS", true, "192.0.2.7:5000", true, nil, "http", "192.0.2.7", true},
		{"no trusted proxies configured", false, "127.0.0.1:5000", false, []string{"203.0.113.9"}, "https", "127.0.0.1", false},
		{"trusted proxy", true, "127.0.0.1:5000", false, []string{"203.0.113.9"}, "https", "203.0.113.9", true},
		{"trusted proxy, plain HTTP client", true, "127.0.0.1:5000", true, []string{"203.0.113.9"}, "http", "203.0.113.9", false},
		{"trusted proxy, no proto", true, "127.0.0.1:5000", false, []string{"203.0.113.9"}, "", "203.0.113.9", false},
		// The client's own X-Forwarded-For entry is left of what the proxies appended.
		{"client-supplied entries are skipped", true, "127.0.0.1:5000", false, []string{"1.1.1.1, 203.0.113.9"}, "HTTPS", "203.0.113.9", true},
		{"chain of trusted proxies", true, "127.0.0.1:5000", false, []string{"1.1.1.1, 203.0.113.9, 10.1.1.1", "10.2.2.2"}, "https", "203.0.113.9", true},
		{"all hops trusted", true, "127.0.0.1:5000", false, []string{"10.3.3.3"}, "", "10.3.3.3", false},
		{"with ports", true, "127.0.0.1:5000", false, []string{"[2001:db8::5]:4711"}, "", "2001:db8::5", false},
		{"malformed right-most entry", true, "127.0.0.1:5000", false, []string{"203.0.113.9, unknown"}, "", "127.0.0.1", false},
		{"malformed entry stops the walk", true, "127.0.0.1:5000", false, []string{"203.0.113.9, bogus, 10.1.1.1"}, "", "10.1.1.1", false},
		{"IPv4-mapped peer", true, "[::ffff:127.0.0.1]:5000", false, []string{"203.0.113.9"}, "", "203.0.113.9", false},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			var gotIP string
			var gotSecure bool
			tp := trusted
			if !tc.trusted {
				tp = nil
			}
			h := ClientAddress(tp, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				f := requestFacts(r, "")
				gotIP, gotSecure = f.SourceIP, f.SecureTransport
			}))
			r := httptest.NewRequest(http.MethodPost, "/", nil)
			r.RemoteAddr = tc.remote
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if tc.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tc.proto)
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			if gotIP != tc.wantIP || gotSecure != tc.wantSecure {
				t.Errorf("SourceIp %q, SecureTransport %v; want %q, %v", gotIP, gotSecure, tc.wantIP, tc.wantSecure)
			}
			if r.RemoteAddr != tc.remote {
				t.Errorf("the caller's request was changed: RemoteAddr %q", r.RemoteAddr)
			}
		})
	}
}
