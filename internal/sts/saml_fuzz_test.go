package sts

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/gatehouse-iam/gatehouse/internal/samlmeta"
)

// signedResponse builds a SAML response for AWS whose assertion is signed with key.
func signedResponse(tb testing.TB, cert tls.Certificate, entityID string, now time.Time) string {
	tb.Helper()
	return editedResponse(tb, cert, entityID, now, nil)
}

// editedResponse is signedResponse with the assertion changed by edit before it is signed.
func editedResponse(tb testing.TB, cert tls.Certificate, entityID string, now time.Time, edit func(as *etree.Element)) string {
	tb.Helper()
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	doc := etree.NewDocument()
	resp := doc.CreateElement("samlp:Response")
	resp.CreateAttr("xmlns:samlp", nsProtocol)
	resp.CreateAttr("ID", "_r1")
	resp.CreateElement("samlp:Status").CreateElement("samlp:StatusCode").CreateAttr("Value", statusSuccess)
	as := etree.NewElement("saml:Assertion")
	as.CreateAttr("xmlns:saml", nsAssertion)
	as.CreateAttr("ID", "_a1")
	as.CreateAttr("IssueInstant", ts(now))
	as.CreateElement("saml:Issuer").SetText(entityID)
	subj := as.CreateElement("saml:Subject")
	subj.CreateElement("saml:NameID").SetText("alice")
	sc := subj.CreateElement("saml:SubjectConfirmation")
	sc.CreateAttr("Method", bearerMethod)
	d := sc.CreateElement("saml:SubjectConfirmationData")
	d.CreateAttr("Recipient", "https://signin.aws.amazon.com/saml")
	d.CreateAttr("NotOnOrAfter", ts(now.Add(5*time.Minute)))
	cond := as.CreateElement("saml:Conditions")
	cond.CreateAttr("NotOnOrAfter", ts(now.Add(5*time.Minute)))
	cond.CreateElement("saml:AudienceRestriction").CreateElement("saml:Audience").SetText("https://signin.aws.amazon.com/saml")
	attr := as.CreateElement("saml:AttributeStatement").CreateElement("saml:Attribute")
	attr.CreateAttr("Name", attrSessionName)
	attr.CreateElement("saml:AttributeValue").SetText("alice")
	if edit != nil {
		edit(as)
	}
	ctx := dsig.NewDefaultSigningContext(dsig.TLSCertKeyStore(cert))
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	signed, err := ctx.SignEnveloped(as)
	if err != nil {
		tb.Fatal(err)
	}
	resp.AddChild(signed)
	out, err := doc.WriteToBytes()
	if err != nil {
		tb.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(out)
}

// testProviderID is the SAMLProviderUUID of the provider the tests verify for.
const testProviderID = "SAMLTESTPROVIDER000001"

func testIdPCert(tb testing.TB) (tls.Certificate, *x509.Certificate) {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "idp"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, c
}

// FuzzVerifySAML checks that verifying a SAML response never panics, and that whatever it
// accepts was issued by the provider, names a subject and is addressed to AWS.
func FuzzVerifySAML(f *testing.F) {
	cert, x := testIdPCert(f)
	now := time.Now()
	meta := &samlmeta.Metadata{EntityID: "https://idp.example/meta", SigningCertificates: []*x509.Certificate{x}}
	good := signedResponse(f, cert, meta.EntityID, now)
	f.Add(good)
	raw, _ := base64.StdEncoding.DecodeString(good)
	f.Add(base64.StdEncoding.EncodeToString(raw[:len(raw)/2]))
	f.Add(base64.StdEncoding.EncodeToString([]byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"><saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"/></samlp:Response>`)))
	f.Add("")
	f.Fuzz(func(t *testing.T, in string) {
		a, err := verifySAML(in, meta, testProviderID, now)
		if err != nil {
			return
		}
		if a.issuer != meta.EntityID || a.subject == "" || !isAWSRecipient(a.recipient, testProviderID) || !now.Before(a.notOnOrAfter) {
			t.Fatalf("accepted an assertion of issuer %q subject %q recipient %q until %v", a.issuer, a.subject, a.recipient, a.notOnOrAfter)
		}
	})
}

func TestVerifySAML(t *testing.T) {
	t.Parallel()
	cert, x := testIdPCert(t)
	other, _ := testIdPCert(t)
	now := time.Now()
	meta := &samlmeta.Metadata{EntityID: "https://idp.example/meta", SigningCertificates: []*x509.Certificate{x}}
	cases := []struct {
		name, in string
		ok       bool
	}{
		{"case=signed by the provider", signedResponse(t, cert, meta.EntityID, now), true},
		{"case=signed by another key", signedResponse(t, other, meta.EntityID, now), false},
		{"case=other issuer", signedResponse(t, cert, "https://evil.example", now), false},
		{"case=empty", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := verifySAML(c.in, meta, testProviderID, now)
			if (err == nil) != c.ok {
				t.Fatalf("verifySAML = %+v, %v; want ok=%v", a, err, c.ok)
			}
			if c.ok && (a.subject != "alice" || a.attrs[attrSessionName][0] != "alice") {
				t.Errorf("assertion %+v", a)
			}
		})
	}
}

func TestSessionTags(t *testing.T) {
	t.Parallel()
	tag := func(k, v string) []string { return []string{k, v} }
	from := map[string]string{"team": "blue", "cost": "7"}
	cases := []struct {
		name       string
		tags       [][]string
		transitive []string
		inherit    bool
		want       string // sorted "k=v" list and transitive keys, or the error's text
	}{
		{"case=none", nil, nil, false, "|"},
		{"case=simple", [][]string{tag("a", "1"), tag("b", "2")}, []string{"a"}, false, "a=1,b=2|a"},
		{"case=duplicate ignoring case", [][]string{tag("a", "1"), tag("A", "2")}, nil, false, "Duplicate tag keys"},
		{"case=reserved prefix", [][]string{tag("aws:x", "1")}, nil, false, "reserved prefix"},
		{"case=transitive not requested", [][]string{tag("a", "1")}, []string{"b"}, false, "must be one of the session tags"},
		{"case=inherited transitive", [][]string{tag("a", "1")}, nil, true, "a=1,team=blue|team"},
		{"case=override inherited", [][]string{tag("TEAM", "red")}, nil, true, "can't be overridden"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var in []ststypesTag
			for _, kv := range c.tags {
				in = append(in, newTag(kv[0], kv[1]))
			}
			var sess *principalSession
			if c.inherit {
				sess = &principalSession{Tags: from, TransitiveKeys: []string{"team"}}
			}
			tags, trans, _, err := sessionTags(in, c.transitive, sess)
			got := ""
			if err != nil {
				got = err.Error()
				if !contains(got, c.want) {
					t.Fatalf("error %q, want %q", got, c.want)
				}
				return
			}
			got = render(tags) + "|" + join(trans)
			if got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}
