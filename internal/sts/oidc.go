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
const (
	jwksTTL        = time.Hour
	jwksRefetchMin = 30 * time.Second
	oidcFetchLimit = 1 << 20 // bytes of a discovery document or key set
	oidcTimeout    = 10 * time.Second
)

// errIDPUnreachable is a failure to fetch an issuer's discovery document or keys.
var errIDPUnreachable = errors.New("sts: identity provider unreachable")

type oidcKeys struct {
	client *http.Client // nil: one per fetch that trusts system roots and the thumbprints
	dial   func(ctx context.Context, network, addr string) (net.Conn, error)
	now    func() time.Time

	mu      sync.Mutex
	byIssue map[string]*jwksEntry
}

type jwksEntry struct {
	keys        jose.JSONWebKeySet
	fetched     time.Time
	thumbprints string // the provider's thumbprints the keys were fetched under
}

func newOIDCKeys(client *http.Client, dial func(ctx context.Context, network, addr string) (net.Conn, error), now func() time.Time) *oidcKeys {
	if dial == nil {
		dial = (&net.Dialer{Timeout: oidcTimeout}).DialContext
	}
	return &oidcKeys{client: client, dial: dial, now: now, byIssue: map[string]*jwksEntry{}}
}

// keys returns the issuer's keys that may have signed a token with key id kid (every key when
// kid is empty), fetching the key set when the cache has none that fits.
func (o *oidcKeys) keys(ctx context.Context, issuer string, thumbprints []string, kid string) ([]jose.JSONWebKey, error) {
	tp := strings.Join(thumbprints, ",")
	now := o.now()
	o.mu.Lock()
	e := o.byIssue[issuer]
	o.mu.Unlock()
	if e != nil && e.thumbprints == tp && now.Sub(e.fetched) < jwksTTL {
		if ks := pick(e.keys, kid); len(ks) > 0 || now.Sub(e.fetched) < jwksRefetchMin {
			return ks, nil
		}
	}
	set, err := o.fetch(ctx, issuer, thumbprints)
	if err != nil {
		return nil, err
	}
	o.mu.Lock()
	if len(o.byIssue) > 1024 {
		o.byIssue = map[string]*jwksEntry{}
	}
	o.byIssue[issuer] = &jwksEntry{keys: set, fetched: now, thumbprints: tp}
	o.mu.Unlock()
	return pick(set, kid), nil
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
		client = thumbprintClient(thumbprints, o.dial)
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
	ctx, cancel := context.WithTimeout(ctx, oidcTimeout)
	defer cancel()
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
// that chains to the system roots, or to a certificate of the presented chain whose SHA-1
// thumbprint the provider lists (the top intermediate or the root, as the provider's
// ThumbprintList documents, or a self-signed server certificate itself).
func thumbprintClient(thumbprints []string, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Client {
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		// The standard verification is replaced, not skipped: VerifyConnection below checks
		// the chain and the host name.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			return verifyChain(cs, thumbprints)
		},
	}
	return &http.Client{
		Timeout: oidcTimeout,
		Transport: &http.Transport{
			TLSClientConfig:     cfg,
			DialContext:         dial,
			TLSHandshakeTimeout: oidcTimeout,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Scheme != "https" || len(via) >= 3 {
				return errors.New("refusing redirect")
			}
			return nil
		},
	}
}

func verifyChain(cs tls.ConnectionState, thumbprints []string) error {
	certs := cs.PeerCertificates
	if len(certs) == 0 {
		return errors.New("no server certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	opts := x509.VerifyOptions{DNSName: cs.ServerName, Intermediates: inter}
	if _, err := certs[0].Verify(opts); err == nil {
		return nil
	}
	for _, c := range certs {
		sum := sha1.Sum(c.Raw)
		if !slices.Contains(thumbprints, hex.EncodeToString(sum[:])) {
			continue
		}
		roots := x509.NewCertPool()
		roots.AddCert(c)
		opts.Roots = roots
		if _, err := certs[0].Verify(opts); err == nil {
			return nil
		}
	}
	return errors.New("the identity provider's certificate chains neither to a trusted root nor to a certificate of the provider's thumbprint list")
}
