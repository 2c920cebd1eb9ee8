package sts

import (
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/gatehouse-iam/gatehouse/internal/samlmeta"
)

// TestReadAssertionFailsClosed checks the rules AWS documents for an assertion's subject
// confirmation (IAM User Guide, "Configure SAML assertions for the authentication response":
// "There must be exactly one SubjectConfirmation element with a SubjectConfirmationData element
// that includes both the NotOnOrAfter attribute and a Recipient attribute") and that every time
// the assertion carries must parse: one that does not refuses the assertion rather than being
// taken as absent. Times not yet reached get clockLeeway; an assertion is redeemed within five
// minutes of its IssueInstant (AWS's ExpiredTokenException "Token must be redeemed within 5
// minutes of issuance", Nike-Inc/gimme-aws-creds#251).
func TestReadAssertionFailsClosed(t *testing.T) {
	t.Parallel()
	cert, x := testIdPCert(t)
	now := time.Now().UTC().Truncate(time.Second)
	meta := &samlmeta.Metadata{EntityID: "https://idp.example/meta", SigningCertificates: []*x509.Certificate{x}}
	ts := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
	data := func(as *etree.Element) *etree.Element {
		return as.FindElement("./Subject/SubjectConfirmation/SubjectConfirmationData")
	}
	cond := func(as *etree.Element) *etree.Element { return as.FindElement("./Conditions") }
	set := func(el func(*etree.Element) *etree.Element, attr, v string) func(*etree.Element) {
		return func(as *etree.Element) { el(as).CreateAttr(attr, v) }
	}
	remove := func(el func(*etree.Element) *etree.Element, attr string) func(*etree.Element) {
		return func(as *etree.Element) { el(as).RemoveAttr(attr) }
	}
	self := func(as *etree.Element) *etree.Element { return as }
	cases := []struct {
		name string
		edit func(as *etree.Element)
		code string // "" when the assertion is accepted
		msg  string
	}{
		{"case=as an IdP sends it", nil, "", ""},
		{"case=fractional seconds and an offset", set(data, "NotOnOrAfter", now.Add(5*time.Minute).In(time.FixedZone("", 2*3600)).Format("2006-01-02T15:04:05.000-07:00")), "", ""},
		{"case=NotOnOrAfter without a time zone, in the past", set(data, "NotOnOrAfter", now.Add(-time.Hour).Format("2006-01-02T15:04:05")), "InvalidIdentityToken", `SubjectConfirmationData NotOnOrAfter "`},
		{"case=NotOnOrAfter without a time zone, in the future", set(data, "NotOnOrAfter", now.Add(time.Hour).Format("2006-01-02T15:04:05")), "InvalidIdentityToken", "xs:dateTime"},
		{"case=NotOnOrAfter not a time", set(data, "NotOnOrAfter", "tomorrow"), "InvalidIdentityToken", "xs:dateTime"},
		{"case=SubjectConfirmationData NotBefore not a time", set(data, "NotBefore", "soon"), "InvalidIdentityToken", "SubjectConfirmationData NotBefore"},
		{"case=Conditions NotBefore not a time", set(cond, "NotBefore", "2026-13-01T00:00:00Z"), "InvalidIdentityToken", "Conditions NotBefore"},
		{"case=Conditions NotOnOrAfter not a time", set(cond, "NotOnOrAfter", "2026-12-03 10:16:21Z"), "InvalidIdentityToken", "Conditions NotOnOrAfter"},
		{"case=IssueInstant not a time", set(self, "IssueInstant", "2026-12-03T10:16:21"), "InvalidIdentityToken", "Assertion IssueInstant"},
		{"case=SessionNotOnOrAfter not a time", func(as *etree.Element) {
			as.CreateElement("saml:AuthnStatement").CreateAttr("SessionNotOnOrAfter", "later")
		}, "InvalidIdentityToken", "AuthnStatement SessionNotOnOrAfter"},
		{"case=no IssueInstant", remove(self, "IssueInstant"), "InvalidIdentityToken", "no IssueInstant"},
		{"case=no NotOnOrAfter on the SubjectConfirmationData", remove(data, "NotOnOrAfter"), "InvalidIdentityToken", "exactly one SubjectConfirmation"},
		{"case=no Recipient", remove(data, "Recipient"), "InvalidIdentityToken", "exactly one SubjectConfirmation"},
		{"case=no SubjectConfirmationData", func(as *etree.Element) {
			sc := as.FindElement("./Subject/SubjectConfirmation")
			sc.RemoveChild(data(as))
		}, "InvalidIdentityToken", "exactly one SubjectConfirmation"},
		{"case=two SubjectConfirmations", func(as *etree.Element) {
			subj := as.FindElement("./Subject")
			subj.AddChild(subj.FindElement("./SubjectConfirmation").Copy())
		}, "InvalidIdentityToken", "exactly one SubjectConfirmation"},
		{"case=two SubjectConfirmationData", func(as *etree.Element) {
			sc := as.FindElement("./Subject/SubjectConfirmation")
			sc.AddChild(data(as).Copy())
		}, "InvalidIdentityToken", "exactly one SubjectConfirmation"},
		{"case=holder-of-key confirmation", set(func(as *etree.Element) *etree.Element { return as.FindElement("./Subject/SubjectConfirmation") },
			"Method", "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key"), "InvalidIdentityToken", "exactly one SubjectConfirmation"},
		{"case=expired", set(data, "NotOnOrAfter", ts(-time.Second)), "ExpiredTokenException", "Response has expired"},
		{"case=Conditions expired", set(cond, "NotOnOrAfter", ts(0)), "ExpiredTokenException", "Response has expired"},
		{"case=issued 4 minutes ago", set(self, "IssueInstant", ts(-4*time.Minute)), "", ""},
		{"case=issued over 5 minutes ago", set(self, "IssueInstant", ts(-5*time.Minute)), "ExpiredTokenException", "Token must be redeemed within 5 minutes of issuance"},
		{"case=issued within the clock leeway ahead", set(self, "IssueInstant", ts(clockLeeway-time.Second)), "", ""},
		{"case=issued beyond the clock leeway ahead", set(self, "IssueInstant", ts(clockLeeway+time.Second)), "InvalidIdentityToken", "not yet valid"},
		{"case=SubjectConfirmationData NotBefore within the leeway", set(data, "NotBefore", ts(clockLeeway-time.Second)), "", ""},
		{"case=SubjectConfirmationData NotBefore beyond the leeway", set(data, "NotBefore", ts(clockLeeway+time.Second)), "InvalidIdentityToken", "not yet valid"},
		{"case=Conditions NotBefore beyond the leeway", set(cond, "NotBefore", ts(clockLeeway+time.Second)), "InvalidIdentityToken", "not yet valid"},
		{"case=regional recipient", set(data, "Recipient", "https://eu-west-1.signin.aws.amazon.com/saml"), "", ""},
		{"case=other recipient", set(data, "Recipient", "https://evil.example/saml"), "InvalidIdentityToken", "Recipient"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := verifySAML(editedResponse(t, cert, meta.EntityID, now, c.edit), meta, testProviderID, now)
			if c.code == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if a.subject != "alice" || a.recipient == "" || a.notOnOrAfter.IsZero() {
					t.Fatalf("assertion %+v", a)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted %+v, want %s", a, c.code)
			}
			if got := err.Error(); !strings.HasPrefix(got, c.code+": ") || !strings.Contains(got, c.msg) {
				t.Fatalf("error %q, want %s containing %q", got, c.code, c.msg)
			}
		})
	}
}

// TestAWSRecipient lists the recipients AWS documents (IAM User Guide, "Configure SAML
// assertions for the authentication response": https://region-code.signin.aws.amazon.com/saml,
// "you can also use https://signin.aws.amazon.com/static/saml", and .../saml/acs/IdP-ID when
// the provider encrypts assertions; region codes from "AWS Sign-In endpoints" in the AWS
// General Reference) and near misses.
func TestAWSRecipient(t *testing.T) {
	t.Parallel()
	cases := map[string]bool{
		"https://signin.aws.amazon.com/saml":                                 true,
		"https://signin.aws.amazon.com/static/saml":                          true,
		"https://us-east-2.signin.aws.amazon.com/saml":                       true,
		"https://ap-southeast-5.signin.aws.amazon.com/saml":                  true,
		"https://eu-central-1.signin.aws.amazon.com/saml":                    true,
		"https://signin.aws.amazon.com/saml/acs/" + testProviderID:           true,
		"https://eu-west-1.signin.aws.amazon.com/saml/acs/" + testProviderID: true,
		"https://signin.aws.amazon.com/saml/acs/SAMLOTHERPROVIDER00001":      false,
		"https://signin.aws.amazon.com/saml/acs/":                            false,
		"https://eu-west-1.signin.aws.amazon.com/static/saml":                false,
		"http://signin.aws.amazon.com/saml":                                  false,
		"https://signin.aws.amazon.com/saml/":                                false,
		"https://signin.aws.amazon.com/SAML":                                 false,
		"https://signin.aws.amazon.com.evil.example/saml":                    false,
		"https://evil.example/signin.aws.amazon.com/saml":                    false,
		"https://evil.signin.aws.amazon.com/saml":                            false,
		"https://a.b.signin.aws.amazon.com/saml":                             false,
		"https://.signin.aws.amazon.com/saml":                                false,
		"urn:amazon:webservices":                                             false,
		"":                                                                   false,
	}
	for r, want := range cases {
		if got := isAWSRecipient(r, testProviderID); got != want {
			t.Errorf("isAWSRecipient(%q) = %v, want %v", r, got, want)
		}
	}
}
