package samlmeta_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/samlmeta"
)

func TestParseGood(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file        string
		entityID    string
		validUntil  time.Time
		signing     []string // subject common names, in order
		ssoServices int
	}{
		{"good-okta.xml", "http://www.okta.example/exk1example", time.Time{}, []string{"idp.example.com"}, 2},
		// The encryption key is not a signing key; a KeyDescriptor without use is both.
		{"good-default-namespace.xml", "https://idp.example.com/saml", time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC), []string{"idp.example.com"}, 1},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			m, err := samlmeta.Parse(read(t, tc.file))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if m.EntityID != tc.entityID || !m.ValidUntil.Equal(tc.validUntil) || len(m.SingleSignOnServices) != tc.ssoServices {
				t.Fatalf("Parse = entityID %q, validUntil %v, %d SSO services; want %q, %v, %d",
					m.EntityID, m.ValidUntil, len(m.SingleSignOnServices), tc.entityID, tc.validUntil, tc.ssoServices)
			}
			var names []string
			for _, c := range m.SigningCertificates {
				names = append(names, c.Subject.CommonName)
			}
			if strings.Join(names, ",") != strings.Join(tc.signing, ",") {
				t.Fatalf("signing certificates %v, want %v", names, tc.signing)
			}
		})
	}
}

func TestParseBad(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file string
		why  string // a phrase the error must contain
	}{
		{"bad-truncated.xml", "not well-formed XML"},
		{"bad-namespace.xml", "root element must be an EntityDescriptor"},
		{"bad-no-entity-id.xml", "no entityID"},
		{"bad-sp-only.xml", "no IDPSSODescriptor"},
		{"bad-protocol.xml", "no IDPSSODescriptor"},
		{"bad-encryption-only.xml", "no KeyDescriptor with a signing X509Certificate"},
		{"bad-certificate-base64.xml", "not base64"},
		{"bad-certificate-der.xml", "not a valid certificate"},
		{"bad-valid-until.xml", "not an xs:dateTime"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			_, err := samlmeta.Parse(read(t, tc.file))
			if !errors.Is(err, samlmeta.ErrInvalid) || !strings.Contains(err.Error(), tc.why) {
				t.Fatalf("Parse error = %v, want ErrInvalid saying %q", err, tc.why)
			}
		})
	}
}

func TestParseInline(t *testing.T) {
	t.Parallel()
	good := string(read(t, "good-okta.xml"))
	for name, doc := range map[string]string{
		"empty":               "",
		"not XML":             "this is not metadata",
		"two roots":           good + "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\"/>",
		"text after the root": good + "trailing words",
		"external entity": `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>` +
			`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&x;"/>`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := samlmeta.Parse([]byte(doc)); !errors.Is(err, samlmeta.ErrInvalid) {
				t.Fatalf("Parse error = %v, want ErrInvalid", err)
			}
		})
	}
}

func read(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}
