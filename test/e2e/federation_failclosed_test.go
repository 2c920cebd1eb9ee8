package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/beevik/etree"
)

// idpCA is a certificate authority that issues identity providers' server certificates.
type idpCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newIDPCA(t *testing.T) *idpCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	stsOK(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Gatehouse test IdP CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	stsOK(t, err)
	cert, err := x509.ParseCertificate(der)
	stsOK(t, err)
	return &idpCA{cert: cert, key: key}
}

// issue makes a server certificate for the IP addresses ips, with the CA in its chain.
func (ca *idpCA) issue(t *testing.T, ips ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	stsOK(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: ips[0]},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, ip := range ips {
		tmpl.IPAddresses = append(tmpl.IPAddresses, net.ParseIP(ip))
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	stsOK(t, err)
	return tls.Certificate{Certificate: [][]byte{der, ca.cert.Raw}, PrivateKey: key}
}

// webProvider registers iss as an OIDC provider with client id gatehouse-app (and extra ones)
// and the given thumbprints, and returns a role its tokens may assume.
func webProvider(t *testing.T, e *env, iss *oidcIssuer, roleName string, thumbprints []string, clientIDs ...string) string {
	t.Helper()
	p, err := e.IAM.CreateOpenIDConnectProvider(context.Background(), &iam.CreateOpenIDConnectProviderInput{
		Url: aws.String(iss.URL), ClientIDList: append([]string{"gatehouse-app"}, clientIDs...), ThumbprintList: thumbprints,
	})
	stsOK(t, err)
	return stsRole(t, e.IAM, roleName, trustDoc(`{"Federated":"`+aws.ToString(p.OpenIDConnectProviderArn)+`"}`, `"sts:AssumeRoleWithWebIdentity"`, ""), "", 0)
}

// anonymousOnce is anonymousSTS without the SDK's retries, which IDPCommunicationError gets
// (it is retryable), so that each call is one request.
func (e *env) anonymousOnce() *sts.Client {
	return sts.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(e.URL), Retryer: func() aws.Retryer { return aws.NopRetryer{} }})
}

func assumeWeb(anon *sts.Client, role, token string) (*sts.AssumeRoleWithWebIdentityOutput, error) {
	return anon.AssumeRoleWithWebIdentity(context.Background(), &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(role), RoleSessionName: aws.String("web"), WebIdentityToken: aws.String(token)})
}

// TestWebIdentityCertificateNamesIssuer checks, through the thumbprint path, that an issuer's
// certificate must name the issuer's host: for https://127.0.x.y, an IP SAN of that address.
// A certificate of the trusted CA that names only another address was accepted before,
// because crypto/tls leaves the server name empty for IP addresses.
func TestWebIdentityCertificateNamesIssuer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ca := newIDPCA(t)
	good := newOIDCIssuerWith(t, issuerOpts{cert: func(ip string) (tls.Certificate, string) { return ca.issue(t, ip), thumbprint(ca.cert) }})
	bad := newOIDCIssuerWith(t, issuerOpts{cert: func(string) (tls.Certificate, string) { return ca.issue(t, good.Host), thumbprint(ca.cert) }})
	anon := e.anonymousOnce()
	claims := map[string]any{"sub": "s", "aud": "gatehouse-app"}

	_, err := assumeWeb(anon, webProvider(t, e, good, "web-good", []string{good.Thumbprint}), good.token(t, claims, nil, ""))
	stsOK(t, err)
	_, err = assumeWeb(anon, webProvider(t, e, bad, "web-bad", []string{bad.Thumbprint}), bad.token(t, claims, nil, ""))
	stsErr(t, err, "IDPCommunicationError", "Couldn't retrieve verification key from your identity provider")
	if bad.jwksHits.Load() != 0 {
		t.Error("the key set was fetched from an issuer whose certificate names another address")
	}
}

// rootsChildEnv carries the setup of TestWebIdentitySystemRootsNameIssuer's child process.
const rootsChildEnv = "GATEHOUSE_E2E_SYSTEM_ROOTS_CHILD"

type rootsChild struct {
	Addrs   map[string]string // as idps.addrs
	Issuers []rootsIssuer
}

type rootsIssuer struct {
	URL, Token, Want string // Want: "" for success, or the error code
}

// TestWebIdentitySystemRootsNameIssuer checks the system-roots path: an issuer whose
// certificate chains to a root the system trusts, with no thumbprint listed. The trusted root
// is a test CA given to a child process of this test binary by SSL_CERT_FILE (the variable Go
// reads its system roots from), which runs the server; the issuers run here.
func TestWebIdentitySystemRootsNameIssuer(t *testing.T) {
	if cfg := os.Getenv(rootsChildEnv); cfg != "" {
		systemRootsChild(t, cfg)
		return
	}
	t.Parallel()
	ca := newIDPCA(t)
	good := newOIDCIssuerWith(t, issuerOpts{cert: func(ip string) (tls.Certificate, string) { return ca.issue(t, ip), "" }})
	bad := newOIDCIssuerWith(t, issuerOpts{cert: func(string) (tls.Certificate, string) { return ca.issue(t, good.Host), "" }})
	claims := map[string]any{"sub": "s", "aud": "gatehouse-app"}
	setup := rootsChild{Addrs: map[string]string{}, Issuers: []rootsIssuer{
		{good.URL, good.token(t, claims, nil, ""), ""},
		{bad.URL, bad.token(t, claims, nil, ""), "IDPCommunicationError"},
	}}
	idps.mu.Lock()
	for _, iss := range []*oidcIssuer{good, bad} {
		setup.Addrs[iss.Host+":443"] = idps.addrs[iss.Host+":443"]
	}
	idps.mu.Unlock()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	stsOK(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw}), 0o600))
	data, err := json.Marshal(setup)
	stsOK(t, err)

	cmd := exec.Command(os.Args[0], "-test.run=^TestWebIdentitySystemRootsNameIssuer$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), rootsChildEnv+"="+string(data), "SSL_CERT_FILE="+caFile)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "system roots: 2 issuers checked") {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if bad.jwksHits.Load() != 0 || good.jwksHits.Load() != 1 {
		t.Errorf("key sets fetched: %d from the issuer with a certificate for another address, %d from the good one", bad.jwksHits.Load(), good.jwksHits.Load())
	}
}

func systemRootsChild(t *testing.T, cfg string) {
	var setup rootsChild
	stsOK(t, json.Unmarshal([]byte(cfg), &setup))
	idps.mu.Lock()
	idps.addrs = setup.Addrs
	idps.mu.Unlock()
	e := newEnv(t)
	anon := e.anonymousOnce()
	for i, iss := range setup.Issuers {
		p, err := e.IAM.CreateOpenIDConnectProvider(context.Background(), &iam.CreateOpenIDConnectProviderInput{
			Url: aws.String(iss.URL), ClientIDList: []string{"gatehouse-app"}})
		stsOK(t, err)
		role := stsRole(t, e.IAM, fmt.Sprintf("roots-%d", i), trustDoc(`{"Federated":"`+aws.ToString(p.OpenIDConnectProviderArn)+`"}`, `"sts:AssumeRoleWithWebIdentity"`, ""), "", 0)
		_, err = assumeWeb(anon, role, iss.Token)
		if iss.Want == "" {
			stsOK(t, err)
		} else {
			stsErr(t, err, iss.Want, "")
		}
	}
	t.Logf("system roots: %d issuers checked", len(setup.Issuers))
}

// TestWebIdentityAZP checks that azp, which is the audience when a token has several
// (IAM User Guide, "Available keys for AWS web identity federation"), must be a client id of
// the provider, as a single aud must.
func TestWebIdentityAZP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	iss := newOIDCIssuer(t)
	role := webProvider(t, e, iss, "web-azp", []string{iss.Thumbprint}, "mobile-app")
	anon := e.anonymousOnce()
	cases := []struct {
		name      string
		aud       any
		azp       string
		code, got string // the error code, or the Audience answered
	}{
		{"case=azp a client id", []string{"gatehouse-app", "api"}, "mobile-app", "", "mobile-app"},
		{"case=azp not a client id", []string{"gatehouse-app", "api"}, "someone-else", "InvalidIdentityToken", "Incorrect token audience"},
		{"case=one aud, azp not used", "gatehouse-app", "someone-else", "", "gatehouse-app"},
		{"case=no aud a client id", []string{"api", "other"}, "mobile-app", "InvalidIdentityToken", "Incorrect token audience"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := assumeWeb(anon, role, iss.token(t, map[string]any{"sub": "s", "aud": c.aud, "azp": c.azp}, nil, ""))
			if c.code != "" {
				stsErr(t, err, c.code, c.got)
				return
			}
			stsOK(t, err)
			if got := aws.ToString(out.Audience); got != c.got {
				t.Errorf("Audience %q, want %q", got, c.got)
			}
		})
	}
}

// TestWebIdentityIssuerOutage checks what a failing or slow issuer costs: calls naming an
// issuer that fails are answered IDPCommunicationError without asking it again during the
// back-off, and concurrent calls naming a slow issuer share one fetch.
func TestWebIdentityIssuerOutage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	anon := e.anonymousOnce()
	claims := map[string]any{"sub": "s", "aud": "gatehouse-app"}

	t.Run("case=failing issuer", func(t *testing.T) {
		down := newOIDCIssuerWith(t, issuerOpts{status: http.StatusServiceUnavailable})
		role := webProvider(t, e, down, "web-down", []string{down.Thumbprint})
		for range 20 {
			_, err := assumeWeb(anon, role, down.token(t, claims, nil, ""))
			stsErr(t, err, "IDPCommunicationError", "")
		}
		// Twenty calls within the 2 s back-off (tens of milliseconds) asked once.
		if n := down.discoveryHits.Load(); n != 1 {
			t.Errorf("the failing issuer was asked %d times, want once", n)
		}
	})
	t.Run("case=slow issuer", func(t *testing.T) {
		slow := newOIDCIssuerWith(t, issuerOpts{delay: time.Second})
		role := webProvider(t, e, slow, "web-slow", []string{slow.Thumbprint})
		forger, err := rsa.GenerateKey(rand.Reader, 2048)
		stsOK(t, err)
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for range 20 {
			wg.Go(func() {
				_, err := assumeWeb(anon, role, slow.token(t, claims, forger, "k1"))
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			stsErr(t, err, "InvalidIdentityToken", "signature")
		}
		if n := slow.discoveryHits.Load(); n != 1 {
			t.Errorf("20 concurrent calls asked the slow issuer %d times, want once", n)
		}
	})
}

// TestAssumeRoleWithSAMLFailsClosed drives AssumeRoleWithSAML with assertions a loopback IdP
// signs, and checks that times which do not parse, a missing or doubled SubjectConfirmation,
// stale or future IssueInstants and an expired provider are refused, and that AWS's documented
// recipients are accepted (IAM User Guide, "Configure SAML assertions for the authentication
// response").
func TestAssumeRoleWithSAMLFailsClosed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	idp := newSAMLIdP(t)
	p, err := e.IAM.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String("strict-idp"), SAMLMetadataDocument: aws.String(idp.Metadata)})
	stsOK(t, err)
	provARN := aws.ToString(p.SAMLProviderArn)
	role := stsRole(t, e.IAM, "saml-strict", trustDoc(`{"Federated":"`+provARN+`"}`, `"sts:AssumeRoleWithSAML"`, ""), "", 0)
	anon := e.anonymousOnce()
	assume := func(o samlOpts) error {
		o.Sub, o.SessionName, o.Roles = "alice@corp.test", "alice", []string{role + "," + provARN}
		_, err := anon.AssumeRoleWithSAML(ctx, &sts.AssumeRoleWithSAMLInput{RoleArn: aws.String(role), PrincipalArn: aws.String(provARN), SAMLAssertion: aws.String(idp.response(t, o))})
		return err
	}
	ts := func(d time.Duration) string { return time.Now().Add(d).UTC().Format("2006-01-02T15:04:05Z") }
	attr := func(path, name, value string) func(*etree.Element) {
		return func(as *etree.Element) {
			el := as
			if path != "" {
				el = as.FindElement(path)
			}
			el.CreateAttr(name, value)
		}
	}
	const scd = "./Subject/SubjectConfirmation/SubjectConfirmationData"
	cases := []struct {
		name      string
		o         samlOpts
		code, msg string
	}{
		{"case=valid", samlOpts{}, "", ""},
		{"case=static recipient", samlOpts{Recipient: "https://signin.aws.amazon.com/static/saml"}, "", ""},
		{"case=regional recipient and audience", samlOpts{Recipient: "https://eu-west-1.signin.aws.amazon.com/saml", Audience: "https://eu-west-1.signin.aws.amazon.com/saml"}, "", ""},
		{"case=entity id audience", samlOpts{Audience: "urn:amazon:webservices"}, "", ""},
		// The example of the issue: without Z, in the past, it was taken as absent.
		{"case=NotOnOrAfter without a time zone", samlOpts{Edit: attr(scd, "NotOnOrAfter", time.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:04:05"))},
			"InvalidIdentityToken", "is not an xs:dateTime"},
		{"case=Conditions NotOnOrAfter not a time", samlOpts{Edit: attr("./Conditions", "NotOnOrAfter", "never")}, "InvalidIdentityToken", "Conditions NotOnOrAfter"},
		{"case=IssueInstant not a time", samlOpts{Edit: attr("", "IssueInstant", "yesterday")}, "InvalidIdentityToken", "IssueInstant"},
		{"case=no NotOnOrAfter on the SubjectConfirmationData", samlOpts{Edit: func(as *etree.Element) { as.FindElement(scd).RemoveAttr("NotOnOrAfter") }},
			"InvalidIdentityToken", "exactly one SubjectConfirmation"},
		{"case=two SubjectConfirmations", samlOpts{Edit: func(as *etree.Element) {
			subj := as.FindElement("./Subject")
			subj.AddChild(subj.FindElement("./SubjectConfirmation").Copy())
		}}, "InvalidIdentityToken", "exactly one SubjectConfirmation"},
		{"case=issued 6 minutes ago", samlOpts{Edit: attr("", "IssueInstant", ts(-6*time.Minute))}, "ExpiredTokenException", "Token must be redeemed within 5 minutes of issuance"},
		{"case=issued 10 minutes ahead", samlOpts{Edit: attr("", "IssueInstant", ts(10*time.Minute))}, "InvalidIdentityToken", "not yet valid"},
		{"case=SubjectConfirmationData NotBefore 10 minutes ahead", samlOpts{Edit: attr(scd, "NotBefore", ts(10*time.Minute))}, "InvalidIdentityToken", "not yet valid"},
		{"case=recipient with another provider's id", samlOpts{Recipient: "https://signin.aws.amazon.com/saml/acs/SAMLNOTTHISPROVIDER001"}, "InvalidIdentityToken", "Recipient"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := assume(c.o)
			if c.code == "" {
				stsOK(t, err)
				return
			}
			stsErr(t, err, c.code, c.msg)
		})
	}

	t.Run("case=recipient with the provider's id", func(t *testing.T) {
		got, err := e.IAM.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: aws.String(provARN)})
		stsOK(t, err)
		stsOK(t, assume(samlOpts{Recipient: "https://signin.aws.amazon.com/saml/acs/" + aws.ToString(got.SAMLProviderUUID)}))
	})
	t.Run("case=provider past its validUntil", func(t *testing.T) {
		expired := strings.Replace(idp.Metadata, "entityID=", `validUntil="`+ts(-time.Hour)+`" entityID=`, 1)
		_, err := e.IAM.UpdateSAMLProvider(ctx, &iam.UpdateSAMLProviderInput{SAMLProviderArn: aws.String(provARN), SAMLMetadataDocument: aws.String(expired)})
		stsOK(t, err)
		stsErr(t, assume(samlOpts{}), "InvalidIdentityToken", "expired")
		// Current metadata makes it usable again.
		_, err = e.IAM.UpdateSAMLProvider(ctx, &iam.UpdateSAMLProviderInput{SAMLProviderArn: aws.String(provARN), SAMLMetadataDocument: aws.String(idp.Metadata)})
		stsOK(t, err)
		stsOK(t, assume(samlOpts{}))
	})
}
