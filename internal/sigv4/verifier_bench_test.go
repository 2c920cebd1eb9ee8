package sigv4_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/gatehouse-iam/gatehouse/internal/sigv4"
)

// typicalBody is a typical IAM form POST, about 300 bytes.
const typicalBody = "Action=CreateUser&Version=2010-05-08&UserName=alice.example&Path=%2Fengineering%2Fplatform%2F" +
	"&PermissionsBoundary=arn%3Aaws%3Aiam%3A%3A123456789012%3Apolicy%2FDeveloperBoundary" +
	"&Tags.member.1.Key=team&Tags.member.1.Value=platform&Tags.member.2.Key=cost-center&Tags.member.2.Value=cc-4711" +
	"&Tags.member.3.Key=owner&Tags.member.3.Value=bob"

// typicalRequest is that POST as aws-sdk-go-v2 sends it, signed, as the server receives it.
func typicalRequest(tb testing.TB) *http.Request {
	tb.Helper()
	r := httptest.NewRequest("POST", "http://127.0.0.1:8080/", strings.NewReader(typicalBody))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Content-Length", strconv.Itoa(len(typicalBody)))
	r.Header.Set("Amz-Sdk-Invocation-Id", "5d0a6b6e-1c3b-4e53-9d0f-2a1c3e0b9f11")
	r.Header.Set("Amz-Sdk-Request", "attempt=1; max=3")
	if err := v4.NewSigner().SignHTTP(context.Background(), testCreds, r, payloadHash(typicalBody), "iam", "us-east-1", signTime); err != nil {
		tb.Fatal(err)
	}
	r.Header.Set("User-Agent", "aws-sdk-go-v2/1.47.7 os/linux lang/go#1.26 api/iam#1.64.8")
	return r
}

// BenchmarkVerify is the per-request cost of authentication: Parse and Verify of a typical signed
// IAM POST, with the signing key cached as it is after a key's first request of the day.
func BenchmarkVerify(b *testing.B) {
	b.Run("case=header signed", func(b *testing.B) {
		r := typicalRequest(b)
		body := []byte(typicalBody)
		v := sigv4.NewVerifier(clockAt(signTime))
		benchVerify(b, v, r, body)
	})
	b.Run("case=presigned", func(b *testing.B) {
		r := presign(b, testCreds, "http://127.0.0.1:8080/?Action=GetCallerIdentity&Version=2011-06-15", "900", signTime)
		v := sigv4.NewVerifier(clockAt(signTime))
		benchVerify(b, v, r, nil)
	})
	b.Run("case=uncached key", func(b *testing.B) {
		// A new Verifier each time: the signing key is derived (four more HMACs) and cached.
		r := typicalRequest(b)
		body := []byte(typicalBody)
		b.ReportAllocs()
		for b.Loop() {
			s, err := sigv4.NewVerifier(clockAt(signTime)).Parse(r, body)
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Verify(testCreds.SecretAccessKey); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func benchVerify(b *testing.B, v *sigv4.Verifier, r *http.Request, body []byte) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		s, err := v.Parse(r, body)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Verify(testCreds.SecretAccessKey); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyParallel measures the key cache under concurrent use.
func BenchmarkVerifyParallel(b *testing.B) {
	r := typicalRequest(b)
	body := []byte(typicalBody)
	v := sigv4.NewVerifier(func() time.Time { return signTime })
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s, err := v.Parse(r, body)
			if err != nil {
				b.Error(err)
				return
			}
			if err := s.Verify(testCreds.SecretAccessKey); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
