package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// An identity provider under test listens on its own loopback address on port 443, because
// IAM OIDC provider URLs cannot carry a port (AWS's rule, which CreateOpenIDConnectProvider
// enforces). Each one takes a free address of 127.0.0.0/8.
var idpAddrs struct {
	mu   sync.Mutex
	next int
}

// listenIDP listens on port 443 of a loopback address no other identity provider of this test
// process uses.
func listenIDP(t *testing.T) (net.Listener, string) {
	t.Helper()
	idpAddrs.mu.Lock()
	defer idpAddrs.mu.Unlock()
	if idpAddrs.next == 0 {
		idpAddrs.next = 20 + int(time.Now().UnixNano()%150)
	}
	for tries := 0; tries < 60; tries++ {
		idpAddrs.next++
		ip := fmt.Sprintf("127.0.%d.%d", 100+idpAddrs.next/250, 1+idpAddrs.next%250)
		ln, err := net.Listen("tcp", ip+":443")
		if errors.Is(err, syscall.EACCES) {
			t.Skip("binding port 443 needs root or CAP_NET_BIND_SERVICE; IAM OIDC provider URLs cannot carry a port")
		}
		if err == nil {
			return ln, ip
		}
	}
	t.Fatal("no free loopback address for an identity provider")
	return nil, ""
}

// selfSigned makes a self-signed CA certificate for ip, as a small identity provider might use;
// its SHA-1 thumbprint is what the IAM provider lists.
func selfSigned(t *testing.T, ip string) (tls.Certificate, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	stsOK(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: ip},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.ParseIP(ip)},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	stsOK(t, err)
	cert, err := x509.ParseCertificate(der)
	stsOK(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, cert
}

func thumbprint(c *x509.Certificate) string {
	sum := sha1.Sum(c.Raw)
	return hex.EncodeToString(sum[:])
}

// oidcIssuer is an OpenID Connect issuer on loopback: a discovery document, a JWKS and a
// signing key.
type oidcIssuer struct {
	URL        string // https://127.0.x.y
	Host       string // the provider URL without https://
	Thumbprint string
	key        *rsa.PrivateKey
	kid        string
	jwksHits   atomic.Int32
	mu         sync.Mutex
	published  []jose.JSONWebKey
}

func newOIDCIssuer(t *testing.T) *oidcIssuer {
	t.Helper()
	ln, ip := listenIDP(t)
	cert, x := selfSigned(t, ip)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	stsOK(t, err)
	iss := &oidcIssuer{URL: "https://" + ip, Host: ip, Thumbprint: thumbprint(x), key: key, kid: "k1"}
	iss.published = []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"issuer": iss.URL, "jwks_uri": iss.URL + "/keys", "id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, _ *http.Request) {
		iss.jwksHits.Add(1)
		iss.mu.Lock()
		set := jose.JSONWebKeySet{Keys: iss.published}
		iss.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(set)
	})
	srv := &http.Server{Handler: mux, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}, ReadHeaderTimeout: 5 * time.Second}
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
	return iss
}

// token signs claims (iss, iat and a 10-minute exp are added unless given) with the issuer's
// key, or with key when not nil.
func (i *oidcIssuer) token(t *testing.T, claims map[string]any, key *rsa.PrivateKey, kid string) string {
	t.Helper()
	if key == nil {
		key, kid = i.key, i.kid
	}
	full := map[string]any{"iss": i.URL, "iat": time.Now().Unix(), "exp": time.Now().Add(10 * time.Minute).Unix()}
	for k, v := range claims {
		full[k] = v
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	stsOK(t, err)
	tok, err := jwt.Signed(signer).Claims(full).Serialize()
	stsOK(t, err)
	return tok
}

// anonymousSTS is an STS client without credentials: the SDK sends the unsigned calls
// (AssumeRoleWithWebIdentity, AssumeRoleWithSAML) as they are.
func (e *env) anonymousSTS() *sts.Client {
	return sts.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(e.URL)})
}

func TestAssumeRoleWithWebIdentity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	iss := newOIDCIssuer(t)
	prov, err := e.IAM.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
		Url: aws.String(iss.URL), ClientIDList: []string{"gatehouse-app"}, ThumbprintList: []string{iss.Thumbprint},
	})
	stsOK(t, err)
	provARN := aws.ToString(prov.OpenIDConnectProviderArn)
	role := stsRole(t, e.IAM, "web-deployer", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"`+provARN+`"},
		"Action":["sts:AssumeRoleWithWebIdentity","sts:TagSession"],
		"Condition":{"StringEquals":{"`+iss.Host+`:aud":"gatehouse-app"},"StringLike":{"`+iss.Host+`:sub":"repo:acme/*"}}}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListRoles","Resource":"*"},
		{"Effect":"Allow","Action":"iam:GetRole","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/env":"prod"}}}]}`, 0)
	anon := e.anonymousSTS()
	assume := func(tok string) (*sts.AssumeRoleWithWebIdentityOutput, error) {
		return anon.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(role), RoleSessionName: aws.String("ci-run"), WebIdentityToken: aws.String(tok)})
	}

	t.Run("case=valid token", func(t *testing.T) {
		out, err := assume(iss.token(t, map[string]any{"sub": "repo:acme/app", "aud": "gatehouse-app"}, nil, ""))
		stsOK(t, err)
		wantARN := "arn:aws:sts::" + e.Account + ":assumed-role/web-deployer/ci-run"
		if aws.ToString(out.AssumedRoleUser.Arn) != wantARN || aws.ToString(out.SubjectFromWebIdentityToken) != "repo:acme/app" ||
			aws.ToString(out.Audience) != "gatehouse-app" || aws.ToString(out.Provider) != iss.URL {
			t.Errorf("output: %s sub=%s aud=%s provider=%s", aws.ToString(out.AssumedRoleUser.Arn), aws.ToString(out.SubjectFromWebIdentityToken), aws.ToString(out.Audience), aws.ToString(out.Provider))
		}
		ri, rs := e.sessionClients(out.Credentials)
		id, err := rs.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		stsOK(t, err)
		if aws.ToString(id.Arn) != wantARN {
			t.Errorf("caller %s", aws.ToString(id.Arn))
		}
		_, err = ri.ListRoles(ctx, &iam.ListRolesInput{})
		stsOK(t, err)
	})
	t.Run("case=session tags from the token", func(t *testing.T) {
		out, err := assume(iss.token(t, map[string]any{"sub": "repo:acme/app", "aud": "gatehouse-app",
			"https://aws.amazon.com/tags": map[string]any{"principal_tags": map[string][]string{"env": {"prod"}}}}, nil, ""))
		stsOK(t, err)
		ri, _ := e.sessionClients(out.Credentials)
		_, err = ri.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("web-deployer")})
		stsOK(t, err)
	})
	// The key set is cached: those two calls fetched it once.
	if n := iss.jwksHits.Load(); n != 1 {
		t.Errorf("the JWKS was fetched %d times, want once", n)
	}

	other, err := rsa.GenerateKey(rand.Reader, 2048)
	stsOK(t, err)
	cases := []struct {
		name, token, code, msg string
	}{
		{"case=subject the trust policy does not allow", iss.token(t, map[string]any{"sub": "repo:evil/app", "aud": "gatehouse-app"}, nil, ""), "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity"},
		{"case=audience not a client id", iss.token(t, map[string]any{"sub": "repo:acme/app", "aud": "someone-else"}, nil, ""), "InvalidIdentityToken", "Incorrect token audience"},
		{"case=expired", iss.token(t, map[string]any{"sub": "repo:acme/app", "aud": "gatehouse-app", "exp": time.Now().Add(-time.Minute).Unix()}, nil, ""), "ExpiredTokenException", "Token expired"},
		{"case=signed by another key with the issuer's key id", iss.token(t, map[string]any{"sub": "repo:acme/app", "aud": "gatehouse-app"}, other, "k1"), "InvalidIdentityToken", "signature"},
		{"case=tampered payload", tamperJWT(t, iss.token(t, map[string]any{"sub": "repo:acme/app", "aud": "gatehouse-app"}, nil, "")), "InvalidIdentityToken", ""},
		{"case=not a JWT", "not.a.jwt", "InvalidIdentityToken", ""},
		{"case=issuer without IAM provider", func() string {
			tok := iss.token(t, map[string]any{"sub": "repo:acme/app", "aud": "gatehouse-app", "iss": "https://unknown.example.com"}, nil, "")
			return tok
		}(), "InvalidIdentityToken", "No OpenIDConnect provider found in your account for https://unknown.example.com"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := assume(c.token)
			stsErr(t, err, c.code, c.msg)
		})
	}

	t.Run("case=provider thumbprint does not match", func(t *testing.T) {
		iss2 := newOIDCIssuer(t)
		p2, err := e.IAM.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
			Url: aws.String(iss2.URL), ClientIDList: []string{"gatehouse-app"}, ThumbprintList: []string{"0000000000000000000000000000000000000000"},
		})
		stsOK(t, err)
		r2 := stsRole(t, e.IAM, "web-untrusted", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"`+aws.ToString(p2.OpenIDConnectProviderArn)+`"},"Action":"sts:AssumeRoleWithWebIdentity"}]}`, "", 0)
		_, err = anon.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(r2), RoleSessionName: aws.String("x1"),
			WebIdentityToken: aws.String(iss2.token(t, map[string]any{"sub": "s", "aud": "gatehouse-app"}, nil, ""))})
		stsErr(t, err, "IDPCommunicationError", "")
	})

	t.Run("case=stscreds web identity provider", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "token")
		stsOK(t, os.WriteFile(file, []byte(iss.token(t, map[string]any{"sub": "repo:acme/sdk", "aud": "gatehouse-app"}, nil, "")), 0o600))
		provider := stscreds.NewWebIdentityRoleProvider(anon, role, stscreds.IdentityTokenFile(file), func(o *stscreds.WebIdentityRoleOptions) {
			o.RoleSessionName = "sdk-web"
		})
		cfg := aws.Config{Region: "us-east-1", Credentials: aws.NewCredentialsCache(provider), BaseEndpoint: aws.String(e.URL)}
		id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		stsOK(t, err)
		if got, want := aws.ToString(id.Arn), "arn:aws:sts::"+e.Account+":assumed-role/web-deployer/sdk-web"; got != want {
			t.Errorf("caller %s, want %s", got, want)
		}
		_, err = iam.NewFromConfig(cfg).ListRoles(ctx, &iam.ListRolesInput{})
		stsOK(t, err)
	})
}

// tamperJWT changes the payload of a JWT, keeping its signature.
func tamperJWT(t *testing.T, tok string) string {
	t.Helper()
	parts := splitDots(tok)
	if len(parts) != 3 {
		t.Fatalf("token %q has %d parts", tok, len(parts))
	}
	payload, err := jwtDecode(parts[1])
	stsOK(t, err)
	var m map[string]any
	stsOK(t, json.Unmarshal(payload, &m))
	m["sub"] = "repo:acme/admin"
	changed, err := json.Marshal(m)
	stsOK(t, err)
	return parts[0] + "." + jwtEncode(changed) + "." + parts[2]
}

func splitDots(s string) []string { return strings.Split(s, ".") }

func jwtDecode(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

func jwtEncode(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
