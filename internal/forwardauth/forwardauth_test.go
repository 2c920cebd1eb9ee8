package forwardauth

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestOriginalRequest rebuilds the client's request from what each proxy sends.
func TestOriginalRequest(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, target, pinned          string
		header                        http.Header
		wantMethod, wantURI, wantHost string
		wantLength                    string
	}{
		{name: "nginx auth_request", target: "/forward-auth/orders", pinned: "orders",
			header:     http.Header{"X-Original-Method": {"DELETE"}, "X-Original-Uri": {"/orders/17?force=1"}, "X-Original-Content-Length": {"12"}},
			wantMethod: "DELETE", wantURI: "/orders/17?force=1", wantHost: "front.example:8443", wantLength: "12"},
		{name: "Traefik ForwardAuth", target: "/forward-auth",
			header:     http.Header{"X-Forwarded-Method": {"PUT"}, "X-Forwarded-Uri": {"/orders/9"}, "X-Forwarded-Host": {"orders.example"}},
			wantMethod: "PUT", wantURI: "/orders/9", wantHost: "orders.example"},
		{name: "Envoy ext_authz, path under the prefix", target: "/forward-auth/orders/orders/5?x=y", pinned: "orders",
			wantMethod: "GET", wantURI: "/orders/5?x=y", wantHost: "front.example:8443"},
		{name: "Envoy, the root", target: "/forward-auth", wantMethod: "GET", wantURI: "/", wantHost: "front.example:8443"},
		{name: "X-Forwarded-Host without Traefik's URI is not the client's host", target: "/forward-auth",
			header:     http.Header{"X-Original-Method": {"GET"}, "X-Original-Uri": {"/a"}, "X-Forwarded-Host": {"evil.example"}},
			wantMethod: "GET", wantURI: "/a", wantHost: "front.example:8443"},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tc.target, nil)
			r.Host = "front.example:8443"
			for k, v := range tc.header {
				r.Header[k] = v
			}
			orig, err := originalRequest(r, tc.pinned)
			if err != nil {
				t.Fatal(err)
			}
			if orig.Method != tc.wantMethod || orig.RequestURI != tc.wantURI || orig.Host != tc.wantHost {
				t.Errorf("got %s %s host %s, want %s %s host %s", orig.Method, orig.RequestURI, orig.Host, tc.wantMethod, tc.wantURI, tc.wantHost)
			}
			if got := orig.Header.Get("Content-Length"); got != tc.wantLength {
				t.Errorf("Content-Length %q, want %q", got, tc.wantLength)
			}
			for _, h := range []string{"X-Original-Method", "X-Original-Uri", "X-Original-Content-Length"} {
				if orig.Header.Get(h) != "" {
					t.Errorf("%s left in the client's headers", h)
				}
			}
		})
	}
	r := httptest.NewRequest(http.MethodGet, "/forward-auth", nil)
	r.Header.Set("X-Original-Uri", "orders/1")
	if _, err := originalRequest(r, ""); err == nil || !strings.Contains(err.Error(), "not a path") {
		t.Errorf("a target that is not a path: %v", err)
	}
}

// FuzzOriginalRequest checks that any proxy headers are refused or give a request whose
// target is a path.
func FuzzOriginalRequest(f *testing.F) {
	f.Add("GET", "/orders/17?x=1", "")
	f.Add("", "", "/forward-auth/orders/%zz")
	f.Add("post", "//a/../b", "")
	f.Fuzz(func(t *testing.T, method, uri, path string) {
		r := httptest.NewRequest(http.MethodGet, "/forward-auth", nil)
		if strings.HasPrefix(path, "/") && !strings.ContainsAny(path, " \t\r\n#") {
			r.URL.Path, r.URL.RawPath = path, ""
		}
		if method != "" && !strings.ContainsAny(method, "\r\n") {
			r.Header.Set("X-Original-Method", method)
		}
		if uri != "" && !strings.ContainsAny(uri, "\r\n") {
			r.Header.Set("X-Original-Uri", uri)
		}
		orig, err := originalRequest(r, "orders")
		if err != nil {
			return
		}
		if !strings.HasPrefix(orig.RequestURI, "/") || orig.URL == nil {
			t.Fatalf("target %q", orig.RequestURI)
		}
	})
}
