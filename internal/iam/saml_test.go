package iam

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/samlmeta"
)

func TestSAMLValidUntil(t *testing.T) {
	t.Parallel()
	created := time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		until time.Time
		want  time.Time
	}{
		// Without validUntil, a hundred years on (2124 has a 29 February).
		{"no validUntil", time.Time{}, time.Date(2124, 2, 29, 12, 0, 0, 0, time.UTC)},
		{"validUntil, to the second", time.Date(2030, 6, 1, 12, 0, 0, 500, time.UTC), time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := validUntil(&samlmeta.Metadata{ValidUntil: tc.until}, created); !got.Equal(tc.want) {
				t.Fatalf("validUntil = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSAMLPrivateKey(t *testing.T) {
	t.Parallel()
	f := newIDPFixture(t)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	sec1, _ := x509.MarshalECPrivateKey(ecKey)
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not a key")})
	for _, tc := range []struct {
		name string
		pem  string
		ok   bool
	}{
		{"PKCS#8", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})), true},
		{"PKCS#1 RSA", string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)})), true},
		{"SEC 1 EC", string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})), true},
		{"a certificate", string(cert), false},
		{"PKCS#8 label on PKCS#1 bytes", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)})), false},
		{"not PEM", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := f.svc.samlPrivateKey(tc.pem)
			if !tc.ok {
				if idpCode(t, err) != "InvalidInput" {
					t.Fatalf("samlPrivateKey error %v, want InvalidInput", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			der, err := f.box.Open(k.Ciphertext, []byte(k.ID))
			if err != nil {
				t.Fatalf("open sealed key: %v", err)
			}
			if _, err := x509.ParsePKCS8PrivateKey(der); err != nil {
				t.Fatalf("sealed key is not PKCS#8: %v", err)
			}
			if bytes.Contains(k.Ciphertext, der) || len(k.ID) != 22 {
				t.Fatalf("key id %q, or the key is stored in the clear", k.ID)
			}
		})
	}
}
