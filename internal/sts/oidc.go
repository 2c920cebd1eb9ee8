package sts

import (
	"context"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Caching of OpenID Connect key sets: AssumeRoleWithWebIdentity verifies each token against
// the issuer's JSON Web Key Set, found through the issuer's discovery document. Key sets are
// cached for jwksTTL; a token signed with a key id the cached set lacks (the issuer rotated its
// keys) makes a fresh fetch, at most once per jwksRefetchMin per issuer.
//
// The calls are unsigned, so anyone can make the server fetch from a registered issuer by
// naming it in a forged token. What that costs is bounded: concurrent callers share one fetch
// per issuer, a fetch (discovery document and key set together) ends after oidcTimeout, an
// issuer whose fetch failed is not asked again before a back-off (idpBackoffMin, doubling up to
// idpBackoffMax) and meanwhile callers get IDPCommunicationError at once, at most
// maxIDPFetches fetches run at a time, and at most maxFetchWaiters callers wait on one (the
// others are answered at once, so a slow issuer cannot hold thousands of connections open).
const (
	jwksTTL         = time.Hour
	jwksRefetchMin  = 30 * time.Second
	oidcFetchLimit  = 1 << 20 // bytes of a discovery document or key set
	oidcTimeout     = 10 * time.Second
	idpBackoffMin   = 2 * time.Second
	idpBackoffMax   = 5 * time.Minute
	maxIDPFetches   = 16
	maxFetchWaiters = 64
	maxIssuers      = 1024 // cached issuers; registered providers bound them in practice
)

// errIDPUnreachable is a failure to fetch an issuer's discovery document or keys.
var errIDPUnreachable = errors.New("sts: identity provider unreachable")

type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

type oidcKeys struct {
	client *http.Client // nil: one per fetch that trusts roots and the thumbprints
	dial   dialFunc
	roots  *x509.CertPool // nil: the system roots (tests set others)
	now    func() time.Time
	logger *slog.Logger

	mu       sync.Mutex
	byIssuer map[string]*issuerKeys
	fetching int // fetches in flight
}

// issuerKeys is what is known of one issuer, under the thumbprints of its provider.
type issuerKeys struct {
	thumbprints string
	keys        jose.JSONWebKeySet
	fetched     time.Time // of the keys; zero before the first successful fetch
	failures    int       // consecutive failed fetches
	retryAt     time.Time // after a failure, no fetch before then
	err         error     // the last failure
	inflight    chan struct{}
	waiters     int // callers waiting on inflight
}

func newOIDCKeys(opts Options, now func() time.Time, logger *slog.Logger) *oidcKeys {
	dial := opts.DialIDP
	if dial == nil {
		dial = (&net.Dialer{Timeout: oidcTimeout}).DialContext
	}
	return &oidcKeys{client: opts.HTTPClient, dial: dial, now: now, logger: logger, byIssuer: map[string]*issuerKeys{}}
}

// keys returns the issuer's keys that may have signed a token with key id kid (every key when
// kid is empty), fetching the key set when the cache has none that fits. Errors wrap
// errIDPUnreachable, or are ctx's.
func (o *oidcKeys) keys(ctx context.Context, issuer string, thumbprints []string, kid string) ([]jose.JSONWebKey, error) {
	tp := strings.Join(thumbprints, ",")
	for {
		o.mu.Lock()
		e := o.entry(issuer, tp)
		now := o.now()
		if ks, ok := e.cached(now, kid); ok {
			o.mu.Unlock()
			return ks, nil
		}
		if e.inflight == nil {
			if now.Before(e.retryAt) {
				err := e.err
				o.mu.Unlock()
				return nil, err
			}
			if o.fetching >= maxIDPFetches {
				o.mu.Unlock()
				return nil, fmt.Errorf("%w: %d fetches from identity providers are in flight already", errIDPUnreachable, maxIDPFetches)
			}
			o.fetching++
			e.inflight = make(chan struct{})
			// The fetch is shared, so it must outlive the caller that starts it.
			go o.refresh(context.WithoutCancel(ctx), issuer, thumbprints, e)
		} else if e.failures > 0 {
			// The issuer is failing and being probed again: do not wait on the probe.
			err := e.err
			o.mu.Unlock()
			return nil, err
		} else if e.waiters >= maxFetchWaiters {
			o.mu.Unlock()
			return nil, fmt.Errorf("%w: %d callers wait on a fetch from %s already", errIDPUnreachable, maxFetchWaiters, issuer)
		}
		wait := e.inflight
		e.waiters++
		o.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
		}
		o.mu.Lock()
		e.waiters--
		o.mu.Unlock()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

// entry returns the cache entry of issuer under thumbprints tp, making a new one when there is
// none or the provider's thumbprints have changed. o.mu is held.
func (o *oidcKeys) entry(issuer, tp string) *issuerKeys {
	e := o.byIssuer[issuer]
	if e != nil && e.thumbprints == tp {
		return e
	}
	if len(o.byIssuer) >= maxIssuers {
		for k, v := range o.byIssuer {
			if v.inflight == nil {
				delete(o.byIssuer, k)
			}
		}
	}
	e = &issuerKeys{thumbprints: tp}
	o.byIssuer[issuer] = e
	return e
}

// cached returns the keys for kid when the cached set answers: it is fresh and has the key,
// or was fetched so recently that a refetch for a missing key id is not due yet.
func (e *issuerKeys) cached(now time.Time, kid string) ([]jose.JSONWebKey, bool) {
	if e.fetched.IsZero() || now.Sub(e.fetched) >= jwksTTL {
		return nil, false
	}
	ks := pick(e.keys, kid)
	return ks, len(ks) > 0 || now.Sub(e.fetched) < jwksRefetchMin
}

// refresh fetches the issuer's keys into e and wakes the callers waiting on it.
func (o *oidcKeys) refresh(ctx context.Context, issuer string, thumbprints []string, e *issuerKeys) {
	ctx, cancel := context.WithTimeout(ctx, oidcTimeout)
	set, err := o.fetch(ctx, issuer, thumbprints)
	cancel()
	if err != nil {
		o.logger.WarnContext(ctx, "oidc keys", slog.String("issuer", issuer), slog.String("error", err.Error()))
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.fetching--
	now := o.now()
	if err != nil {
		e.failures++
		e.err = err
		e.retryAt = now.Add(backoff(e.failures))
	} else {
		e.keys, e.fetched = set, now
		e.failures, e.err, e.retryAt = 0, nil, time.Time{}
	}
	close(e.inflight)
	e.inflight = nil
}

// backoff is how long an issuer that failed n times in a row is left alone.
func backoff(n int) time.Duration {
	d := idpBackoffMin
	for i := 1; i < n && d < idpBackoffMax; i++ {
		d *= 2
	}
	return min(d, idpBackoffMax)
}

func pick(set jose.JSONWebKeySet, kid string) []jose.JSONWebKey {
	if kid == "" {
		return set.Keys
	}
	return set.Key(kid)
}

// fetch reads the issuer's discovery document and then its key set.
func (o *oidcKeys) fetch(ctx context.Context, issuer string, thumbprints []string) (jose.JSONWebKeySet, error) {
	client := o.client
	if client == nil {
		client = thumbprintClient(thumbprints, o.dial, o.roots)
		defer client.CloseIdleConnections()
	}
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := getJSON(ctx, client, strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration", &disc); err != nil {
		return jose.JSONWebKeySet{}, err
	}
	if strings.TrimSuffix(disc.Issuer, "/") != strings.TrimSuffix(issuer, "/") {
		return jose.JSONWebKeySet{}, fmt.Errorf("%w: the discovery document of %s names the issuer %q", errIDPUnreachable, issuer, disc.Issuer)
	}
	if !strings.HasPrefix(disc.JWKSURI, "https://") {
		return jose.JSONWebKeySet{}, fmt.Errorf("%w: jwks_uri %q is not https", errIDPUnreachable, disc.JWKSURI)
	}
	var set jose.JSONWebKeySet
	if err := getJSON(ctx, client, disc.JWKSURI, &set); err != nil {
		return jose.JSONWebKeySet{}, err
	}
	return set, nil
}

func getJSON(ctx context.Context, client *http.Client, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", errIDPUnreachable, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %v", errIDPUnreachable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: GET %s: %s", errIDPUnreachable, url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, oidcFetchLimit))
	if err != nil {
		return fmt.Errorf("%w: GET %s: %v", errIDPUnreachable, url, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: GET %s: %v", errIDPUnreachable, url, err)
	}
	return nil
}

// thumbprintClient trusts what AWS trusts for an IAM OIDC provider: a server certificate
// for the host that chains to the roots (nil: the system's), or to a certificate of the
// presented chain whose SHA-1 thumbprint the provider lists (the top intermediate or the root,
// as the provider's ThumbprintList documents, or a self-signed server certificate itself).
// The TLS handshake is made here rather than by the transport so that the check knows the
// host dialed: crypto/tls leaves ConnectionState.ServerName empty for an IP address, and an
// issuer https://127.0.0.9 must still present a certificate naming 127.0.0.9.
func thumbprintClient(thumbprints []string, dial dialFunc, roots *x509.CertPool) *http.Client {
	dialTLS := func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		raw, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		conn := tls.Client(raw, &tls.Config{
			MinVersion: tls.VersionTLS12,
			ServerName: host, // sent as SNI for names; crypto/tls omits it for addresses
			// The standard verification is replaced, not skipped: VerifyConnection checks
			// the chain and the host.
			InsecureSkipVerify: true,
			VerifyConnection: func(cs tls.ConnectionState) error {
				return verifyChain(cs.PeerCertificates, host, thumbprints, roots)
			},
		})
		if err := conn.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, err
		}
		return conn, nil
	}
	return &http.Client{
		Timeout:   oidcTimeout,
		Transport: &http.Transport{DialTLSContext: dialTLS},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Scheme != "https" || len(via) >= 3 {
				return errors.New("refusing redirect")
			}
			return nil
		},
	}
}

// verifyChain accepts a server certificate valid for host (its IP SANs when host is an
// address, its DNS names otherwise) that chains to roots (nil: the system roots) or to a
// certificate of the chain whose thumbprint is listed.
func verifyChain(certs []*x509.Certificate, host string, thumbprints []string, roots *x509.CertPool) error {
	if len(certs) == 0 {
		return errors.New("no server certificate")
	}
	// An address is checked against the IP SANs only, a name against the DNS names. (Checked
	// once here, so VerifyOptions has no DNSName.)
	if err := certs[0].VerifyHostname(host); err != nil {
		return fmt.Errorf("the identity provider's certificate is not valid for %s: %w", host, err)
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	opts := x509.VerifyOptions{Intermediates: inter, Roots: roots}
	if _, err := certs[0].Verify(opts); err == nil {
		return nil
	}
	for _, c := range certs {
		sum := sha1.Sum(c.Raw)
		if !slices.Contains(thumbprints, hex.EncodeToString(sum[:])) {
			continue
		}
		pinned := x509.NewCertPool()
		pinned.AddCert(c)
		opts.Roots = pinned
		if _, err := certs[0].Verify(opts); err == nil {
			return nil
		}
	}
	return errors.New("the identity provider's certificate chains neither to a trusted root nor to a certificate of the provider's thumbprint list")
}
