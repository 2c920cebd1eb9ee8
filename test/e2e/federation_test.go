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
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/beevik/etree"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	dsig "github.com/russellhaering/goxmldsig"
)

// An identity provider under test has its own loopback address, named in its URL without a
// port because IAM OIDC provider URLs cannot carry one (AWS's rule, which
// CreateOpenIDConnectProvider enforces). Binding port 443 needs privileges, so each provider
// listens on a free port and the server under test dials through dialIDP, which routes the
// provider's ADDRESS:443 there.
var idps struct {
	mu    sync.Mutex
	next  int
	addrs map[string]string // "127.0.x.y:443" -> where that provider listens
}

// listenIDP listens on a loopback address no other identity provider of this test process uses.
func listenIDP(t *testing.T) (net.Listener, string) {
	t.Helper()
	idps.mu.Lock()
	defer idps.mu.Unlock()
	if idps.addrs == nil {
		idps.addrs = map[string]string{}
	}
	idps.next++
	ip := fmt.Sprintf("127.0.%d.%d", 100+idps.next/250, 1+idps.next%250)
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatalf("listen for an identity provider: %v", err)
	}
	idps.addrs[ip+":443"] = ln.Addr().String()
	return ln, ip
}

// dialIDP is the server's dialer for OIDC fetches: a provider's ADDRESS:443 reaches the port
// it really listens on; any other address is dialed as given.
func dialIDP(ctx context.Context, network, addr string) (net.Conn, error) {
	idps.mu.Lock()
	if real, ok := idps.addrs[addr]; ok {
		addr = real
	}
	idps.mu.Unlock()
	return (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, addr)
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
	URL           string // https://127.0.x.y
	Host          string // the provider URL without https://
	Thumbprint    string
	key           *rsa.PrivateKey
	kid           string
	jwksHits      atomic.Int32
	discoveryHits atomic.Int32
	mu            sync.Mutex
	published     []jose.JSONWebKey
}

// issuerOpts shape an issuer: its TLS certificate and the thumbprint its IAM provider lists
// (nil: self-signed for its address), and a slow or failing discovery endpoint.
type issuerOpts struct {
	cert   func(ip string) (tls.Certificate, string)
	delay  time.Duration // before the discovery document is answered
	status int           // the discovery endpoint's answer when not 0 (200 with the document)
}

func newOIDCIssuer(t *testing.T) *oidcIssuer { return newOIDCIssuerWith(t, issuerOpts{}) }

func newOIDCIssuerWith(t *testing.T, o issuerOpts) *oidcIssuer {
	t.Helper()
	ln, ip := listenIDP(t)
	if o.cert == nil {
		o.cert = func(ip string) (tls.Certificate, string) {
			cert, x := selfSigned(t, ip)
			return cert, thumbprint(x)
		}
	}
	cert, tp := o.cert(ip)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	stsOK(t, err)
	iss := &oidcIssuer{URL: "https://" + ip, Host: ip, Thumbprint: tp, key: key, kid: "k1"}
	iss.published = []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		iss.discoveryHits.Add(1)
		select {
		case <-time.After(o.delay):
		case <-r.Context().Done():
			return
		}
		if o.status != 0 {
			w.WriteHeader(o.status)
			return
		}
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
	// ErrorLog: the handshakes Gatehouse refuses on purpose are not news.
	srv := &http.Server{Handler: mux, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}, ReadHeaderTimeout: 5 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
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

// samlIdP is a SAML 2.0 identity provider on loopback: an SSO endpoint that returns a signed
// SAML response (base64, as the HTTP-POST binding carries it) for the user it is asked about.
type samlIdP struct {
	URL      string
	EntityID string
	Metadata string
	cert     tls.Certificate
	mu       sync.Mutex
	next     samlOpts // what the SSO endpoint answers next
}

// samlOpts shape one response.
type samlOpts struct {
	Sub, SessionName  string
	Roles             []string // "role-arn,provider-arn" pairs
	Audience          string
	Recipient         string
	Issuer            string
	NotOnOrAfter      time.Time
	SessionNotOnAfter time.Time
	Attrs             map[string][]string
	SignResponse      bool                           // sign the Response instead of the Assertion
	Signer            *tls.Certificate               // another key than the IdP's
	Mutate            func(assertion *etree.Element) // after signing
	Edit              func(assertion *etree.Element) // before signing, as the IdP writes it
}

func newSAMLIdP(t *testing.T) *samlIdP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	stsOK(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "idp.gatehouse.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	stsOK(t, err)
	idp := &samlIdP{cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	idp.URL = srv.URL
	idp.EntityID = srv.URL + "/metadata"
	idp.Metadata = `<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="` + idp.EntityID + `">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>` +
		base64.StdEncoding.EncodeToString(der) + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="` + srv.URL + `/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`
	mux.HandleFunc("GET /metadata", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, idp.Metadata) })
	// The SSO endpoint answers with the HTTP-POST binding's auto-submitting form, which a
	// browser would post to AWS's sign-in endpoint.
	mux.HandleFunc("GET /sso", func(w http.ResponseWriter, _ *http.Request) {
		idp.mu.Lock()
		o := idp.next
		idp.mu.Unlock()
		resp, err := idp.build(o)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, `<html><body onload="document.forms[0].submit()"><form method="post" action="https://signin.aws.amazon.com/saml"><input type="hidden" name="SAMLResponse" value="%s"/></form></body></html>`, resp)
	})
	return idp
}

var samlResponseField = regexp.MustCompile(`name="SAMLResponse" value="([^"]+)"`)

// sso signs in at the IdP's SSO endpoint over HTTP and returns the SAML response of its form.
func (i *samlIdP) sso(t *testing.T, o samlOpts) string {
	t.Helper()
	i.mu.Lock()
	i.next = o
	i.mu.Unlock()
	resp, err := http.Get(i.URL + "/sso")
	stsOK(t, err)
	defer resp.Body.Close()
	page, err := io.ReadAll(resp.Body)
	stsOK(t, err)
	m := samlResponseField.FindSubmatch(page)
	if m == nil {
		t.Fatalf("no SAMLResponse in the IdP's page: %s", page)
	}
	return string(m[1])
}

// response builds and signs a SAML response for AWS.
func (i *samlIdP) response(t *testing.T, o samlOpts) string {
	t.Helper()
	r, err := i.build(o)
	stsOK(t, err)
	return r
}

func (i *samlIdP) build(o samlOpts) (string, error) {
	now := time.Now().UTC()
	if o.NotOnOrAfter.IsZero() {
		o.NotOnOrAfter = now.Add(5 * time.Minute)
	}
	if o.Audience == "" {
		o.Audience = "https://signin.aws.amazon.com/saml"
	}
	if o.Recipient == "" {
		o.Recipient = "https://signin.aws.amazon.com/saml"
	}
	if o.Issuer == "" {
		o.Issuer = i.EntityID
	}
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
	const nsA, nsP = "urn:oasis:names:tc:SAML:2.0:assertion", "urn:oasis:names:tc:SAML:2.0:protocol"
	doc := etree.NewDocument()
	resp := doc.CreateElement("samlp:Response")
	resp.CreateAttr("xmlns:samlp", nsP)
	resp.CreateAttr("xmlns:saml", nsA)
	resp.CreateAttr("ID", fmt.Sprintf("_r%d", now.UnixNano()))
	resp.CreateAttr("Version", "2.0")
	resp.CreateAttr("IssueInstant", ts(now))
	resp.CreateAttr("Destination", o.Recipient)
	resp.CreateElement("saml:Issuer").SetText(o.Issuer)
	resp.CreateElement("samlp:Status").CreateElement("samlp:StatusCode").CreateAttr("Value", "urn:oasis:names:tc:SAML:2.0:status:Success")

	as := etree.NewElement("saml:Assertion")
	as.CreateAttr("xmlns:saml", nsA)
	as.CreateAttr("ID", fmt.Sprintf("_a%d", now.UnixNano()))
	as.CreateAttr("Version", "2.0")
	as.CreateAttr("IssueInstant", ts(now))
	as.CreateElement("saml:Issuer").SetText(o.Issuer)
	subj := as.CreateElement("saml:Subject")
	nameID := subj.CreateElement("saml:NameID")
	nameID.CreateAttr("Format", "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent")
	nameID.SetText(o.Sub)
	scd := subj.CreateElement("saml:SubjectConfirmation")
	scd.CreateAttr("Method", "urn:oasis:names:tc:SAML:2.0:cm:bearer")
	data := scd.CreateElement("saml:SubjectConfirmationData")
	data.CreateAttr("NotOnOrAfter", ts(o.NotOnOrAfter))
	data.CreateAttr("Recipient", o.Recipient)
	cond := as.CreateElement("saml:Conditions")
	cond.CreateAttr("NotBefore", ts(now.Add(-time.Minute)))
	cond.CreateAttr("NotOnOrAfter", ts(o.NotOnOrAfter))
	cond.CreateElement("saml:AudienceRestriction").CreateElement("saml:Audience").SetText(o.Audience)
	authn := as.CreateElement("saml:AuthnStatement")
	authn.CreateAttr("AuthnInstant", ts(now))
	if !o.SessionNotOnAfter.IsZero() {
		authn.CreateAttr("SessionNotOnOrAfter", ts(o.SessionNotOnAfter))
	}
	authn.CreateElement("saml:AuthnContext").CreateElement("saml:AuthnContextClassRef").SetText("urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport")
	stmt := as.CreateElement("saml:AttributeStatement")
	attr := func(name string, values ...string) {
		a := stmt.CreateElement("saml:Attribute")
		a.CreateAttr("Name", name)
		for _, v := range values {
			a.CreateElement("saml:AttributeValue").SetText(v)
		}
	}
	attr("https://aws.amazon.com/SAML/Attributes/Role", o.Roles...)
	if o.SessionName != "" {
		attr("https://aws.amazon.com/SAML/Attributes/RoleSessionName", o.SessionName)
	}
	for k, vs := range o.Attrs {
		attr(k, vs...)
	}

	if o.Edit != nil {
		o.Edit(as)
	}
	signer := i.cert
	if o.Signer != nil {
		signer = *o.Signer
	}
	ctx := dsig.NewDefaultSigningContext(dsig.TLSCertKeyStore(signer))
	// Exclusive canonicalization, as SAML IdPs sign: the assertion is signed on its own and
	// then placed in the response.
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if o.SignResponse {
		resp.AddChild(as)
		signed, err := ctx.SignEnveloped(resp)
		if err != nil {
			return "", err
		}
		doc.SetRoot(signed)
	} else {
		signed, err := ctx.SignEnveloped(as)
		if err != nil {
			return "", err
		}
		resp.AddChild(signed)
		if o.Mutate != nil {
			o.Mutate(signed)
		}
	}
	out, err := doc.WriteToBytes()
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(out), nil
}

func TestAssumeRoleWithSAML(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	idp := newSAMLIdP(t)
	// The IAM provider is made from the metadata the IdP publishes on loopback.
	resp, err := http.Get(idp.URL + "/metadata")
	stsOK(t, err)
	meta, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	stsOK(t, err)
	p, err := e.IAM.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String("corp-idp"), SAMLMetadataDocument: aws.String(string(meta))})
	stsOK(t, err)
	provARN := aws.ToString(p.SAMLProviderArn)
	// AWS's usual SAML trust policy, narrowed to one subject.
	role := stsRole(t, e.IAM, "saml-admin", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"`+provARN+`"},
		"Action":["sts:AssumeRoleWithSAML","sts:TagSession"],"Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml","SAML:sub":"alice@corp.test"}}}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListRoles","Resource":"*"},
		{"Effect":"Allow","Action":"iam:GetRole","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/dept":"eng"}}}]}`, 0)
	pair := role + "," + provARN
	anon := e.anonymousSTS()
	assume := func(assertion string) (*sts.AssumeRoleWithSAMLOutput, error) {
		return anon.AssumeRoleWithSAML(ctx, &sts.AssumeRoleWithSAMLInput{RoleArn: aws.String(role), PrincipalArn: aws.String(provARN), SAMLAssertion: aws.String(assertion)})
	}

	t.Run("case=valid assertion", func(t *testing.T) {
		out, err := assume(idp.sso(t, samlOpts{Sub: "alice@corp.test", SessionName: "alice", Roles: []string{pair},
			Attrs: map[string][]string{"https://aws.amazon.com/SAML/Attributes/PrincipalTag:dept": {"eng"}}}))
		stsOK(t, err)
		wantARN := "arn:aws:sts::" + e.Account + ":assumed-role/saml-admin/alice"
		if aws.ToString(out.AssumedRoleUser.Arn) != wantARN || aws.ToString(out.Subject) != "alice@corp.test" || aws.ToString(out.SubjectType) != "persistent" ||
			aws.ToString(out.Issuer) != idp.EntityID || aws.ToString(out.Audience) != "https://signin.aws.amazon.com/saml" {
			t.Errorf("output: %s %s %s %s %s", aws.ToString(out.AssumedRoleUser.Arn), aws.ToString(out.Subject), aws.ToString(out.SubjectType), aws.ToString(out.Issuer), aws.ToString(out.Audience))
		}
		// SAML:namequalifier: base64(SHA-1(issuer + account id + "/" + provider name)).
		sum := sha1.Sum([]byte(idp.EntityID + e.Account + "/corp-idp"))
		if got := aws.ToString(out.NameQualifier); got != base64.StdEncoding.EncodeToString(sum[:]) {
			t.Errorf("NameQualifier %s", got)
		}
		ri, rs := e.sessionClients(out.Credentials)
		id, err := rs.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		stsOK(t, err)
		if aws.ToString(id.Arn) != wantARN {
			t.Errorf("caller %s", aws.ToString(id.Arn))
		}
		_, err = ri.ListRoles(ctx, &iam.ListRolesInput{})
		stsOK(t, err)
		_, err = ri.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("saml-admin")})
		stsOK(t, err)
	})
	t.Run("case=signed response", func(t *testing.T) {
		_, err := assume(idp.sso(t, samlOpts{Sub: "alice@corp.test", SessionName: "alice", Roles: []string{provARN + "," + role}, SignResponse: true}))
		stsOK(t, err)
	})
	t.Run("case=session ends with SessionNotOnOrAfter", func(t *testing.T) {
		end := time.Now().Add(20 * time.Minute).UTC().Truncate(time.Second)
		out, err := assume(idp.sso(t, samlOpts{Sub: "alice@corp.test", SessionName: "alice", Roles: []string{pair}, SessionNotOnAfter: end}))
		stsOK(t, err)
		if got := aws.ToTime(out.Credentials.Expiration); !got.Equal(end) {
			t.Errorf("expiration %v, want %v", got, end)
		}
	})

	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	stsOK(t, err)
	otherTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "evil"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	otherDER, err := x509.CreateCertificate(rand.Reader, otherTmpl, otherTmpl, &otherKey.PublicKey, otherKey)
	stsOK(t, err)
	evil := &tls.Certificate{Certificate: [][]byte{otherDER}, PrivateKey: otherKey}
	good := samlOpts{Sub: "alice@corp.test", SessionName: "alice", Roles: []string{pair}}
	with := func(f func(o *samlOpts)) samlOpts { o := good; f(&o); return o }
	cases := []struct {
		name      string
		assertion string
		code, msg string
	}{
		{"case=subject the trust policy does not allow", idp.response(t, with(func(o *samlOpts) { o.Sub = "mallory@corp.test" })), "AccessDenied", "Not authorized to perform sts:AssumeRoleWithSAML"},
		{"case=role not in the assertion", idp.response(t, with(func(o *samlOpts) { o.Roles = []string{"arn:aws:iam::" + e.Account + ":role/other," + provARN} })), "AccessDenied", "sts:AssumeRoleWithSAML"},
		{"case=signed by another key", idp.response(t, with(func(o *samlOpts) { o.Signer = evil })), "InvalidIdentityToken", "signature"},
		{"case=tampered after signing", idp.response(t, with(func(o *samlOpts) {
			o.Sub = "mallory@corp.test"
			o.Mutate = func(a *etree.Element) { a.FindElement("./Subject/NameID").SetText("alice@corp.test") }
		})), "InvalidIdentityToken", "signature"},
		{"case=wrapped second assertion", idp.response(t, with(func(o *samlOpts) {
			o.Mutate = func(a *etree.Element) {
				evilAssertion := a.Copy()
				evilAssertion.RemoveChildAt(len(evilAssertion.Child) - 1)
				a.Parent().AddChild(evilAssertion)
			}
		})), "InvalidIdentityToken", "exactly one assertion"},
		// AWS's message, as aws-sdk-go reports it in Versent/saml2aws#759.
		{"case=expired", idp.response(t, with(func(o *samlOpts) { o.NotOnOrAfter = time.Now().Add(-time.Minute) })), "ExpiredTokenException", "Response has expired"},
		{"case=wrong audience", idp.response(t, with(func(o *samlOpts) { o.Audience = "https://other.example/sp" })), "InvalidIdentityToken", "audience"},
		{"case=wrong recipient", idp.response(t, with(func(o *samlOpts) { o.Recipient = "https://other.example/acs" })), "InvalidIdentityToken", "Recipient"},
		{"case=wrong issuer", idp.response(t, with(func(o *samlOpts) { o.Issuer = "https://evil.example/idp" })), "InvalidIdentityToken", "issuer"},
		{"case=no session name", idp.response(t, with(func(o *samlOpts) { o.SessionName = "" })), "InvalidIdentityToken", "RoleSessionName"},
		{"case=not base64", "%%%%%", "InvalidIdentityToken", "base64"},
		{"case=not xml", base64.StdEncoding.EncodeToString([]byte("<samlp:Response")), "InvalidIdentityToken", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := assume(c.assertion)
			stsErr(t, err, c.code, c.msg)
		})
	}
	t.Run("case=unsigned", func(t *testing.T) {
		raw, err := base64.StdEncoding.DecodeString(idp.response(t, good))
		stsOK(t, err)
		doc := etree.NewDocument()
		stsOK(t, doc.ReadFromBytes(raw))
		for _, sig := range doc.FindElements("//Signature") {
			sig.Parent().RemoveChild(sig)
		}
		out, err := doc.WriteToBytes()
		stsOK(t, err)
		_, err = assume(base64.StdEncoding.EncodeToString(out))
		stsErr(t, err, "InvalidIdentityToken", "signature")
	})
	t.Run("case=unknown provider", func(t *testing.T) {
		_, err := anon.AssumeRoleWithSAML(ctx, &sts.AssumeRoleWithSAMLInput{RoleArn: aws.String(role), PrincipalArn: aws.String("arn:aws:iam::" + e.Account + ":saml-provider/nope"), SAMLAssertion: aws.String(idp.response(t, good))})
		stsErr(t, err, "InvalidIdentityToken", "does not exist")
	})
}
