package sigv4_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/gatehouse-iam/gatehouse/internal/sigv4"
)

func TestVerifyKey(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	r, _ := http.NewRequest(http.MethodGet, "https://orders.example/orders/17?view=full", nil)
	creds := aws.Credentials{AccessKeyID: "AKIAEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	if err := v4.NewSigner().SignHTTP(t.Context(), creds, r, sigv4.EmptyPayloadHash, "orders", "eu-west-1", now); err != nil {
		t.Fatal(err)
	}
	v := sigv4.NewVerifier(func() time.Time { return now })
	signed, err := v.ParsePayloadHash(r)
	if err != nil {
		t.Fatal(err)
	}
	if signed.Date() != "20261204" {
		t.Errorf("Date = %q", signed.Date())
	}
	key := sigv4.DeriveSigningKey(creds.SecretAccessKey, signed.Date(), signed.Region, signed.Service)
	if err := signed.VerifyKey(&key); err != nil {
		t.Errorf("VerifyKey: %v", err)
	}
	if err := signed.Verify(creds.SecretAccessKey); err != nil {
		t.Errorf("Verify: %v", err)
	}
	other := sigv4.DeriveSigningKey(creds.SecretAccessKey, signed.Date(), "us-east-1", signed.Service)
	if err := signed.VerifyKey(&other); err == nil {
		t.Error("VerifyKey with another region's key succeeded")
	}
	if err := (*sigv4.Signed)(nil).VerifyKey(&key); err == nil {
		t.Error("VerifyKey on nil succeeded")
	}
	if n := testing.AllocsPerRun(100, func() { _ = signed.VerifyKey(&key) }); n != 0 {
		t.Errorf("VerifyKey allocates %v times", n)
	}
}
