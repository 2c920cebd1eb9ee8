package sigv4_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/gatehouse-iam/gatehouse/internal/sigv4"
)

// TestParsePayloadHash verifies requests whose body the verifier does not see, signed by
// aws-sdk-go-v2's signer: with the payload hash sent in X-Amz-Content-Sha256 (a body's hash
// or UNSIGNED-PAYLOAD), and without it for an empty body.
func TestParsePayloadHash(t *testing.T) {
	t.Parallel()
	const bodyHash = "a591a6d40bf420404a011733cfb7b190d62c65bf0bcda32b57b277d9ad9f146e" // "Hello World"
	for _, tc := range []struct {
		name      string
		signed    string // the payload hash the client signed
		header    string // X-Amz-Content-Sha256 sent, "" for none
		wantValid bool
	}{
		{"unsigned payload", "UNSIGNED-PAYLOAD", "UNSIGNED-PAYLOAD", true},
		{"body hash in header", bodyHash, bodyHash, true},
		{"empty body, no header", sigv4.EmptyPayloadHash, "", true},
		{"body signed, header missing", bodyHash, "", false},
		{"header differs from what was signed", bodyHash, "UNSIGNED-PAYLOAD", false},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			r, err := http.NewRequest(http.MethodGet, "http://orders.example:8080/orders/17?view=full", nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.header != "" {
				r.Header.Set("X-Amz-Content-Sha256", tc.signed)
			}
			creds := aws.Credentials{AccessKeyID: testCreds.AccessKeyID, SecretAccessKey: testCreds.SecretAccessKey}
			if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, tc.signed, "orders", "eu-west-1", time.Now()); err != nil {
				t.Fatal(err)
			}
			if tc.header != "" {
				r.Header.Set("X-Amz-Content-Sha256", tc.header)
			} else {
				r.Header.Del("X-Amz-Content-Sha256")
			}
			r.RequestURI = r.URL.RequestURI()
			s, err := sigv4.NewVerifier(nil).ParsePayloadHash(r)
			if err != nil {
				t.Fatalf("ParsePayloadHash: %v", err)
			}
			if s.Service != "orders" || s.Region != "eu-west-1" {
				t.Errorf("scope %s/%s, want orders/eu-west-1", s.Service, s.Region)
			}
			err = s.Verify(testCreds.SecretAccessKey)
			if (err == nil) != tc.wantValid {
				t.Errorf("Verify = %v, want valid %v", err, tc.wantValid)
			}
		})
	}
}
