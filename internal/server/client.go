package server

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ParseTrustedProxies parses --trusted-proxies: comma-separated CIDR prefixes or single
// addresses (a /32 or /128).
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q is neither a CIDR prefix (such as 10.0.0.0/8) nor an IP address", f)
			}
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q is not a CIDR prefix such as 10.0.0.0/8: %w", f, err)
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

type secureKey struct{}

// WithSecureTransport returns ctx recording whether the client's own connection used TLS.
func WithSecureTransport(ctx context.Context, secure bool) context.Context {
	return context.WithValue(ctx, secureKey{}, secure)
}

// SecureTransport reports whether the client reached Gatehouse over TLS: as ClientAddress
// resolved it, or else whether r itself came over TLS. The console's in-memory calls to the
// API carry the browser's request context, so they report the browser's transport.
func SecureTransport(r *http.Request) bool {
	if v, ok := r.Context().Value(secureKey{}).(bool); ok {
		return v
	}
	return r.TLS != nil
}

// ClientAddress resolves, once and before anything else sees the request, who the client is:
// r.RemoteAddr becomes the client's address and the context records whether the client's
// connection used TLS (SecureTransport). Only when the connection's peer is in trusted do
// X-Forwarded-For (the right-most address that is not itself a trusted proxy) and
// X-Forwarded-Proto ("https" or "http") count; from anyone else they are ignored, since any
// client can send them.
func ClientAddress(trusted []netip.Prefix, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secure := r.TLS != nil
		if peer, ok := remoteIP(r.RemoteAddr); ok && inAny(trusted, peer) {
			if client, ok := forwardedFor(r.Header.Values("X-Forwarded-For"), trusted); ok {
				// The client's port is not forwarded; 0 keeps RemoteAddr's host:port form.
				r2 := *r
				r2.RemoteAddr = netip.AddrPortFrom(client, 0).String()
				r = &r2
			}
			switch strings.ToLower(lastValue(r.Header.Values("X-Forwarded-Proto"))) {
			case "https":
				secure = true
			case "http":
				secure = false
			}
		}
		if !secure && r.TLS == nil {
			// Plain HTTP from the client, as SecureTransport reports without a mark: the
			// common case costs no copy of the request.
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithSecureTransport(r.Context(), secure)))
	})
}

// forwardedFor walks the X-Forwarded-For chain from the right (the entry the nearest proxy
// appended) past trusted proxies to the first address that is not one. A malformed entry
// ends the walk: what lies left of it cannot be trusted, so the last good address stands.
func forwardedFor(values []string, trusted []netip.Prefix) (netip.Addr, bool) {
	var hops []string
	for _, v := range values {
		hops = append(hops, strings.Split(v, ",")...)
	}
	var client netip.Addr
	found := false
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(strings.TrimSpace(hops[i]))
		if !ok {
			break
		}
		client, found = a, true
		if !inAny(trusted, a) {
			break
		}
	}
	return client, found
}

// parseHop reads one X-Forwarded-For entry: an address, optionally with a port (1.2.3.4:5,
// [::1]:5).
func parseHop(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

func remoteIP(remoteAddr string) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

func inAny(prefixes []netip.Prefix, a netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func lastValue(values []string) string {
	if len(values) == 0 {
		return ""
	}
	v := values[len(values)-1]
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return strings.TrimSpace(v)
}
