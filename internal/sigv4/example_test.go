package sigv4_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/gatehouse-iam/gatehouse/internal/sigv4"
)

// A server authenticates a request in two steps: Parse checks everything that needs no secret,
// the server looks up the secret of the access key, and Verify checks the signature.
func ExampleVerifier() {
	at := time.Date(2024, 5, 17, 10, 30, 0, 0, time.UTC)
	secrets := map[string]string{"AKIAIOSFODNN7EXAMPLE": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}

	// A client signs an IAM request (here with aws-sdk-go-v2's signer).
	body := "Action=ListUsers&Version=2010-05-08"
	r := httptest.NewRequest("POST", "http://127.0.0.1:8080/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: secrets["AKIAIOSFODNN7EXAMPLE"]}
	_ = v4.NewSigner().SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]), "iam", "us-east-1", at)

	// The server, whose clock reads one minute later.
	v := sigv4.NewVerifier(func() time.Time { return at.Add(time.Minute) })
	signed, err := v.Parse(r, []byte(body))
	if err != nil {
		fmt.Println(err)
		return
	}
	secret, ok := secrets[signed.AccessKeyID]
	if !ok {
		fmt.Println(sigv4.ErrInvalidClientTokenID())
		return
	}
	fmt.Println(signed.AccessKeyID, signed.Service, signed.Region, signed.Verify(secret))
	fmt.Println(signed.Verify("another secret"))
	// Output:
	// AKIAIOSFODNN7EXAMPLE iam us-east-1 <nil>
	// SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.
}
