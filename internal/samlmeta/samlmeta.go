package samlmeta

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// XML namespaces and protocol names of SAML 2.0 metadata.
const (
	NamespaceMetadata = "urn:oasis:names:tc:SAML:2.0:metadata"
	NamespaceDSig     = "http://www.w3.org/2000/09/xmldsig#"
	ProtocolSAML2     = "urn:oasis:names:tc:SAML:2.0:protocol"
)

// Metadata is what IAM keeps from an identity provider's metadata.
type Metadata struct {
	// EntityID is the provider's entityID, the Issuer of its responses.
	EntityID string
	// ValidUntil is the document's validUntil attribute; zero when it has none.
	ValidUntil time.Time
	// SigningCertificates are the certificates of KeyDescriptors for signing (use="signing"
	// or no use), in document order.
	SigningCertificates []*x509.Certificate
	// SingleSignOnServices are the IdP's SSO endpoints.
	SingleSignOnServices []Endpoint
}

// Endpoint is a SAML protocol endpoint.
type Endpoint struct {
	Binding  string
	Location string
}

// ErrInvalid is wrapped by every error Parse returns for a document that is not acceptable
// metadata; the rest of the message says why.
var ErrInvalid = errors.New("invalid SAML metadata")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

type xmlEntity struct {
	XMLName    xml.Name
	EntityID   string   `xml:"entityID,attr"`
	ValidUntil string   `xml:"validUntil,attr"`
	IDPs       []xmlIDP `xml:"urn:oasis:names:tc:SAML:2.0:metadata IDPSSODescriptor"`
}

type xmlIDP struct {
	Protocols string        `xml:"protocolSupportEnumeration,attr"`
	Keys      []xmlKey      `xml:"urn:oasis:names:tc:SAML:2.0:metadata KeyDescriptor"`
	SSO       []xmlEndpoint `xml:"urn:oasis:names:tc:SAML:2.0:metadata SingleSignOnService"`
}

type xmlKey struct {
	Use     string       `xml:"use,attr"`
	KeyInfo []xmlKeyInfo `xml:"http://www.w3.org/2000/09/xmldsig# KeyInfo"`
}

type xmlKeyInfo struct {
	Data []xmlX509Data `xml:"http://www.w3.org/2000/09/xmldsig# X509Data"`
}

type xmlX509Data struct {
	Certificates []string `xml:"http://www.w3.org/2000/09/xmldsig# X509Certificate"`
}

type xmlEndpoint struct {
	Binding  string `xml:"Binding,attr"`
	Location string `xml:"Location,attr"`
}

// Parse reads an EntityDescriptor and checks it describes a SAML 2.0 identity provider with
// a signing certificate. Errors for bad documents wrap ErrInvalid.
func Parse(doc []byte) (*Metadata, error) {
	var e xmlEntity
	dec := xml.NewDecoder(bytes.NewReader(doc))
	if err := dec.Decode(&e); err != nil {
		return nil, invalid("the document is not well-formed XML: %v", err)
	}
	if err := trailing(dec); err != nil {
		return nil, err
	}
	if e.XMLName.Space != NamespaceMetadata || e.XMLName.Local != "EntityDescriptor" {
		return nil, invalid("the root element must be an EntityDescriptor in namespace %s, not %s in %q", NamespaceMetadata, e.XMLName.Local, e.XMLName.Space)
	}
	m := &Metadata{EntityID: strings.TrimSpace(e.EntityID)}
	if m.EntityID == "" {
		return nil, invalid("the EntityDescriptor has no entityID")
	}
	if e.ValidUntil != "" {
		t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(e.ValidUntil))
		if err != nil {
			return nil, invalid("validUntil %q is not an xs:dateTime", e.ValidUntil)
		}
		m.ValidUntil = t.UTC()
	}
	idps := slices.DeleteFunc(e.IDPs, func(d xmlIDP) bool {
		return !slices.Contains(strings.Fields(d.Protocols), ProtocolSAML2)
	})
	if len(idps) == 0 {
		return nil, invalid("there is no IDPSSODescriptor for the SAML 2.0 protocol (%s)", ProtocolSAML2)
	}
	for _, idp := range idps {
		for _, k := range idp.Keys {
			if k.Use != "" && k.Use != "signing" {
				continue
			}
			for _, info := range k.KeyInfo {
				for _, data := range info.Data {
					for _, text := range data.Certificates {
						cert, err := parseCertificate(text)
						if err != nil {
							return nil, err
						}
						m.SigningCertificates = append(m.SigningCertificates, cert)
					}
				}
			}
		}
		for _, s := range idp.SSO {
			m.SingleSignOnServices = append(m.SingleSignOnServices, Endpoint{Binding: s.Binding, Location: s.Location})
		}
	}
	if len(m.SigningCertificates) == 0 {
		return nil, invalid("the IDPSSODescriptor has no KeyDescriptor with a signing X509Certificate")
	}
	return m, nil
}

// trailing refuses anything but white space, comments and processing instructions after the
// root element, so two documents glued together are not read as the first.
func trailing(dec *xml.Decoder) error {
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // io.EOF, or garbage the decoder cannot even tokenise past the root
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return invalid("there is text after the EntityDescriptor")
			}
		case xml.StartElement:
			return invalid("there is a second root element, %s, after the EntityDescriptor", t.Name.Local)
		}
	}
}

// parseCertificate reads the base64 DER of an X509Certificate element; line breaks and
// spaces inside it are allowed, as metadata documents wrap it.
func parseCertificate(text string) (*x509.Certificate, error) {
	clean := strings.Join(strings.Fields(text), "")
	der, err := base64.StdEncoding.DecodeString(clean)
	if err != nil {
		return nil, invalid("an X509Certificate is not base64: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, invalid("an X509Certificate is not a valid certificate: %v", err)
	}
	return cert, nil
}
