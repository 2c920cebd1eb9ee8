package sts

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// testCA is a certificate authority for the tests' identity providers.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key}
}

// leaf issues a server certificate for the given names: IP addresses become IP SANs, anything
// else a DNS name.
func (ca *testCA) leaf(t *testing.T, names ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: names[0]},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der, ca.cert.Raw}, PrivateKey: key}
}

func (ca *testCA) thumbprint() string {
	sum := sha1.Sum(ca.cert.Raw)
	return hex.EncodeToString(sum[:])
}

func (ca *testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

func parseChain(t *testing.T, c tls.Certificate) []*x509.Certificate {
	t.Helper()
	var out []*x509.Certificate
	for _, der := range c.Certificate {
		x, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, x)
	}
	return out
}

// TestVerifyChainHost checks that the issuer's certificate must name the host dialed, in both
// the trusted-roots and the thumbprint paths: an IP SAN for an address (a DNS name spelling the
// address does not count), a DNS name for a name.
func TestVerifyChainHost(t *testing.T) {
	t.Parallel()
	ca, other := newTestCA(t), newTestCA(t)
	noRoots := x509.NewCertPool() // the thumbprint path alone, whatever the system trusts
	cases := []struct {
		name        string
		cert        tls.Certificate
		host        string
		thumbprints []string
		roots       *x509.CertPool
		ok          bool
	}{
		{"case=trusted root, IP SAN of the host", ca.leaf(t, "127.0.0.9"), "127.0.0.9", nil, ca.pool(), true},
		{"case=trusted root, IP SAN of another address", ca.leaf(t, "127.0.0.10"), "127.0.0.9", nil, ca.pool(), false},
		{"case=trusted root, the address only as a DNS name", ca.leaf(t, "127.0.0.9.nip.test", "localhost"), "127.0.0.9", nil, ca.pool(), false},
		{"case=trusted root, DNS name of the host", ca.leaf(t, "idp.example.test"), "idp.example.test", nil, ca.pool(), true},
		{"case=trusted root, DNS name of another host", ca.leaf(t, "idp.example.test"), "evil.example.test", nil, ca.pool(), false},
		{"case=trusted root, wildcard DNS name", ca.leaf(t, "*.example.test"), "idp.example.test", nil, ca.pool(), true},
		{"case=thumbprint, IP SAN of the host", ca.leaf(t, "127.0.0.9"), "127.0.0.9", []string{ca.thumbprint()}, noRoots, true},
		{"case=thumbprint, IP SAN of another address", ca.leaf(t, "127.0.0.10"), "127.0.0.9", []string{ca.thumbprint()}, noRoots, false},
		{"case=thumbprint, DNS name of another host", ca.leaf(t, "idp.example.test"), "evil.example.test", []string{ca.thumbprint()}, noRoots, false},
		{"case=thumbprint of another CA", ca.leaf(t, "127.0.0.9"), "127.0.0.9", []string{other.thumbprint()}, noRoots, false},
		{"case=untrusted root, no thumbprint", ca.leaf(t, "127.0.0.9"), "127.0.0.9", nil, other.pool(), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := verifyChain(parseChain(t, c.cert), c.host, c.thumbprints, c.roots)
			if (err == nil) != c.ok {
				t.Fatalf("verifyChain = %v, want ok=%v", err, c.ok)
			}
		})
	}
}

// testIssuer is an OpenID Connect issuer over TLS on loopback that answers for any host the
// tests dial it as (https://NAME.idp.test), optionally slowly or with an error.
type testIssuer struct {
	srv    *httptest.Server
	ca     *testCA
	hits   atomic.Int32 // discovery documents served
	status atomic.Int32 // 0: 200 with the documents
	gate   chan struct{}
	set    jose.JSONWebKeySet
}

func newTestIssuer(t *testing.T, slow bool) *testIssuer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ti := &testIssuer{ca: newTestCA(t), set: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}}}
	if slow {
		ti.gate = make(chan struct{})
	}
	ti.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := "https://" + r.Host
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			ti.hits.Add(1)
			if ti.gate != nil {
				select {
				case <-ti.gate:
				case <-r.Context().Done():
					return
				}
			}
			if s := ti.status.Load(); s != 0 {
				w.WriteHeader(int(s))
				return
			}
			json.NewEncoder(w).Encode(map[string]string{"issuer": host, "jwks_uri": host + "/keys"})
		case "/keys":
			json.NewEncoder(w).Encode(ti.set)
		}
	}))
	ti.srv.TLS = &tls.Config{Certificates: []tls.Certificate{ti.ca.leaf(t, "*.idp.test")}}
	ti.srv.StartTLS()
	t.Cleanup(func() {
		if ti.gate != nil {
			select {
			case <-ti.gate:
			default:
				close(ti.gate)
			}
		}
		ti.srv.Close()
	})
	return ti
}

// keys returns an oidcKeys that trusts the issuer's CA by thumbprint and dials every host at
// the issuer, on a clock the test sets.
func (ti *testIssuer) keys(clock *testClock) *oidcKeys {
	addr := ti.srv.Listener.Addr().String()
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	o := newOIDCKeys(Options{DialIDP: dial}, clock.Now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	o.roots = x509.NewCertPool() // the thumbprint alone
	return o
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestOIDCKeysCoalesceConcurrentFetches(t *testing.T) {
	t.Parallel()
	ti := newTestIssuer(t, true)
	o := ti.keys(&testClock{t: time.Now()})
	tp := []string{ti.ca.thumbprint()}
	const callers = 20
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			ks, err := o.keys(context.Background(), "https://a.idp.test", tp, "k1")
			if err == nil && len(ks) != 1 {
				err = errors.New("no key k1")
			}
			errs <- err
		})
	}
	// Every caller waits on the one fetch the first started.
	for deadline := time.Now().Add(5 * time.Second); ti.hits.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	close(ti.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("keys: %v", err)
		}
	}
	if n := ti.hits.Load(); n != 1 {
		t.Errorf("%d callers made %d fetches, want 1", callers, n)
	}
}

func TestOIDCKeysBackOffAfterFailure(t *testing.T) {
	t.Parallel()
	ti := newTestIssuer(t, false)
	ti.status.Store(http.StatusServiceUnavailable)
	clock := &testClock{t: time.Now()}
	o := ti.keys(clock)
	tp := []string{ti.ca.thumbprint()}
	get := func() error {
		_, err := o.keys(context.Background(), "https://b.idp.test", tp, "k1")
		return err
	}
	steps := []struct {
		name    string
		advance time.Duration
		fixed   bool // the issuer answers again from this step on
		ok      bool
		hits    int32 // fetches so far
	}{
		{"first call fetches and fails", 0, false, false, 1},
		{"within the back-off no fetch", time.Second, false, false, 1},
		{"after the back-off a fetch", idpBackoffMin, false, false, 2},
		{"the back-off doubled", idpBackoffMin + time.Second, false, false, 2},
		{"after the doubled back-off", 2 * idpBackoffMin, true, true, 3},
		{"keys cached after recovery", time.Minute, true, true, 3},
	}
	for _, s := range steps {
		clock.Add(s.advance)
		if s.fixed {
			ti.status.Store(0)
		}
		err := get()
		if (err == nil) != s.ok || (err != nil && !errors.Is(err, errIDPUnreachable)) {
			t.Fatalf("%s: keys = %v, want ok=%v", s.name, err, s.ok)
		}
		if n := ti.hits.Load(); n != s.hits {
			t.Fatalf("%s: %d fetches, want %d", s.name, n, s.hits)
		}
	}
	// A change of thumbprints (UpdateOpenIDConnectProviderThumbprint) is a new provider to ask.
	ti.status.Store(http.StatusServiceUnavailable)
	clock.Add(2 * jwksTTL)
	if get() == nil || get() == nil {
		t.Fatal("keys served after their TTL from a failing issuer")
	}
	if _, err := o.keys(context.Background(), "https://b.idp.test", append(tp, strings.Repeat("0", 40)), "k1"); err == nil || ti.hits.Load() != 5 {
		t.Fatalf("new thumbprints: %v after %d fetches, want a fifth fetch", err, ti.hits.Load())
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]time.Duration{1: idpBackoffMin, 2: 2 * idpBackoffMin, 3: 4 * idpBackoffMin, 100: idpBackoffMax} {
		if got := backoff(n); got != want {
			t.Errorf("backoff(%d) = %v, want %v", n, got, want)
		}
	}
}

// TestOIDCKeysFetchesBounded checks that no more than maxIDPFetches fetches run at once: the
// next issuer is refused at once instead of adding a fetch, and a failing issuer being probed
// again answers at once too.
func TestOIDCKeysFetchesBounded(t *testing.T) {
	t.Parallel()
	ti := newTestIssuer(t, true)
	o := ti.keys(&testClock{t: time.Now()})
	tp := []string{ti.ca.thumbprint()}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range maxIDPFetches {
		wg.Go(func() { o.keys(ctx, "https://slow"+string(rune('a'+i))+".idp.test", tp, "k1") })
	}
	for deadline := time.Now().Add(5 * time.Second); ti.hits.Load() < maxIDPFetches && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	_, err := o.keys(context.Background(), "https://one-more.idp.test", tp, "k1")
	if !errors.Is(err, errIDPUnreachable) || !strings.Contains(err.Error(), "in flight") {
		t.Fatalf("keys with %d fetches in flight = %v", maxIDPFetches, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("refused after %v, want at once", d)
	}
	// Callers that stop waiting leave the fetches running for the next ones.
	cancel()
	wg.Wait()
	o.mu.Lock()
	inFlight := o.fetching
	o.mu.Unlock()
	if inFlight != maxIDPFetches {
		t.Errorf("%d fetches in flight after the callers left, want %d", inFlight, maxIDPFetches)
	}
	if n := ti.hits.Load(); n != maxIDPFetches {
		t.Errorf("%d fetches, want %d", n, maxIDPFetches)
	}
}

// TestOIDCKeysWaitersBounded checks that at most maxFetchWaiters callers wait on one fetch:
// the next is answered at once, so a slow issuer cannot hold a connection open per caller.
func TestOIDCKeysWaitersBounded(t *testing.T) {
	t.Parallel()
	ti := newTestIssuer(t, true)
	o := ti.keys(&testClock{t: time.Now()})
	tp := []string{ti.ca.thumbprint()}
	const issuer = "https://crowded.idp.test"
	var wg sync.WaitGroup
	errs := make(chan error, maxFetchWaiters)
	for range maxFetchWaiters {
		wg.Go(func() {
			_, err := o.keys(context.Background(), issuer, tp, "k1")
			errs <- err
		})
	}
	waiting := func() int {
		o.mu.Lock()
		defer o.mu.Unlock()
		if e := o.byIssuer[issuer]; e != nil {
			return e.waiters
		}
		return 0
	}
	for deadline := time.Now().Add(5 * time.Second); waiting() < maxFetchWaiters && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	_, err := o.keys(context.Background(), issuer, tp, "k1")
	if !errors.Is(err, errIDPUnreachable) || !strings.Contains(err.Error(), "wait on a fetch") {
		t.Fatalf("keys with %d callers waiting = %v", maxFetchWaiters, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("refused after %v, want at once", d)
	}
	close(ti.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("a waiting caller: %v", err)
		}
	}
	if n := ti.hits.Load(); n != 1 {
		t.Errorf("%d fetches, want 1", n)
	}
}
