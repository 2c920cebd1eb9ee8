package sigv4_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/gatehouse-iam/gatehouse/internal/sigv4"
)

// authServer is a real HTTP server on 127.0.0.1 that authenticates every request as Gatehouse's
// server does (Parse, look the key up, Verify) and answers with a minimal AWS Query response.
type authServer struct {
	srv     *httptest.Server
	secrets map[string]string
	v       *sigv4.Verifier

	mu   sync.Mutex
	seen []*sigv4.Signed
}

func newAuthServer(t *testing.T) *authServer {
	t.Helper()
	a := &authServer{
		secrets: map[string]string{testCreds.AccessKeyID: testCreds.SecretAccessKey, "ASIAIOSFODNN7EXAMPLE": "tempsecret"},
		v:       sigv4.NewVerifier(nil),
	}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serveHTTP))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *authServer) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s, err := a.v.Parse(r, body)
	if err == nil {
		if secret, ok := a.secrets[s.AccessKeyID]; !ok {
			err = sigv4.ErrInvalidClientTokenID()
		} else {
			err = s.Verify(secret)
		}
	}
	var e *sigv4.Error
	if errors.As(err, &e) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(e.Status)
		fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>r</RequestId></ErrorResponse>`, e.Code, e.Message)
		return
	}
	a.mu.Lock()
	a.seen = append(a.seen, s)
	a.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	switch s.Service {
	case "sts":
		fmt.Fprintf(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/alice</Arn><UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>`)
	default:
		fmt.Fprintf(w, `<ListUsersResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListUsersResult><Users/><IsTruncated>false</IsTruncated></ListUsersResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></ListUsersResponse>`)
	}
}

func (a *authServer) last(t *testing.T) *sigv4.Signed {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.seen) == 0 {
		t.Fatal("no request was authenticated")
	}
	return a.seen[len(a.seen)-1]
}

func sdkConfig(region string, creds aws.Credentials) aws.Config {
	return aws.Config{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken),
		RetryMaxAttempts: 1,
	}
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// TestSDKClientsOverHTTP drives the server with the real IAM and STS clients of aws-sdk-go-v2 over
// HTTP on 127.0.0.1, so everything the SDK adds (content-length, amz-sdk-* headers, the port in
// Host) goes through the verifier as it would in production.
func TestSDKClientsOverHTTP(t *testing.T) {
	t.Parallel()
	a := newAuthServer(t)
	ctx := context.Background()
	tokenCreds := aws.Credentials{AccessKeyID: "ASIAIOSFODNN7EXAMPLE", SecretAccessKey: "tempsecret", SessionToken: "FwoGZXIvYXdzEBYaDH+/=token"}
	endpoint := func(o *iam.Options) { o.BaseEndpoint = aws.String(a.srv.URL) }
	stsEndpoint := func(o *sts.Options) { o.BaseEndpoint = aws.String(a.srv.URL) }

	tests := []struct {
		name    string
		call    func() error
		code    string
		service string
		region  string
		token   string
		presign bool
	}{
		{name: "client=iam ListUsers", service: "iam", region: "us-east-1", call: func() error {
			_, err := iam.NewFromConfig(sdkConfig("us-east-1", testCreds), endpoint).ListUsers(ctx, &iam.ListUsersInput{PathPrefix: aws.String("/division abc/"), MaxItems: aws.Int32(5)})
			return err
		}},
		{name: "client=sts GetCallerIdentity eu-west-1 session token", service: "sts", region: "eu-west-1", token: tokenCreds.SessionToken, call: func() error {
			_, err := sts.NewFromConfig(sdkConfig("eu-west-1", tokenCreds), stsEndpoint).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			return err
		}},
		{name: "client=sts presigned GetCallerIdentity", service: "sts", region: "ap-southeast-2", presign: true, call: func() error {
			p := sts.NewPresignClient(sts.NewFromConfig(sdkConfig("ap-southeast-2", testCreds), stsEndpoint))
			req, err := p.PresignGetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				return err
			}
			hr, err := http.NewRequestWithContext(ctx, req.Method, req.URL, nil)
			if err != nil {
				return err
			}
			for k, v := range req.SignedHeader {
				hr.Header[k] = v
			}
			resp, err := a.srv.Client().Do(hr)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("presigned request: %d %s", resp.StatusCode, b)
			}
			return nil
		}},
		{name: "client=iam wrong secret", code: sigv4.CodeSignatureDoesNotMatch, call: func() error {
			bad := testCreds
			bad.SecretAccessKey = "not-the-secret"
			_, err := iam.NewFromConfig(sdkConfig("us-east-1", bad), endpoint).ListUsers(ctx, &iam.ListUsersInput{})
			return err
		}},
		{name: "client=iam unknown key", code: sigv4.CodeInvalidClientTokenID, call: func() error {
			unknown := testCreds
			unknown.AccessKeyID = "AKIAUNKNOWNEXAMPLE00"
			_, err := iam.NewFromConfig(sdkConfig("us-east-1", unknown), endpoint).ListUsers(ctx, &iam.ListUsersInput{})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Not parallel: each case reads the server's last authenticated request.
			err := tt.call()
			if tt.code != "" {
				if got := apiCode(err); got != tt.code {
					t.Fatalf("error = %v (code %q), want %s", err, got, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s := a.last(t)
			if s.Service != tt.service || s.Region != tt.region || s.SessionToken != tt.token || s.Presigned != tt.presign {
				t.Errorf("Signed = %+v", s)
			}
		})
	}
}
