package middleware

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gatehouse-iam/gatehouse/internal/sigv4"
)

// discardWriter is a ResponseWriter that keeps nothing, so that a benchmark measures the
// middleware and not a recorder.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(s int)           { w.status = s }

// benchSetup is a principal with 10 managed policies of 10 statements each (the last
// statement of the last policy allows the request), its signed GET /orders/17 at a fixed
// time, and a middleware whose clock stands at that time.
func benchSetup(b *testing.B) (*Middleware, *http.Request, scopeKey) {
	g := startGatehouse(b)
	ctx := context.Background()
	svcKey := g.user(b, "orders-service", serviceKeyPolicy)
	if _, err := g.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bench")}); err != nil {
		b.Fatal(err)
	}
	for i := range 10 {
		var stmts []string
		for j := range 10 {
			action, resource := fmt.Sprintf("orders:Action%d%d", i, j), fmt.Sprintf("arn:aws:orders:*:%s:order/%d%d*", g.Account, i, j)
			if i == 9 && j == 9 {
				action, resource = "orders:GetOrder", "arn:aws:orders:*:"+g.Account+":order/1*"
			}
			stmts = append(stmts, fmt.Sprintf(`{"Sid":"S%d%d","Effect":"Allow","Action":["%s","orders:List%d%d"],"Resource":"%s"}`, i, j, action, i, j, resource))
		}
		doc := `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
		out, err := g.IAM.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(fmt.Sprintf("bench-%d", i)), PolicyDocument: aws.String(doc)})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := g.IAM.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bench"), PolicyArn: out.Policy.Arn}); err != nil {
			b.Fatal(err)
		}
	}
	key, err := g.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bench")})
	if err != nil {
		b.Fatal(err)
	}
	creds := aws.Credentials{AccessKeyID: *key.AccessKey.AccessKeyId, SecretAccessKey: *key.AccessKey.SecretAccessKey}
	t0 := time.Now().UTC()
	r, _ := http.NewRequest(http.MethodGet, "http://orders.example/orders/17", nil)
	r.RequestURI, r.RemoteAddr, r.Body = "/orders/17", "192.0.2.1:4711", http.NoBody
	if err := v4.NewSigner().SignHTTP(ctx, creds, r, sigv4.EmptyPayloadHash, "orders", "us-east-1", t0); err != nil {
		b.Fatal(err)
	}
	m, err := New(Config{Endpoint: g.URL, Credentials: credentials.StaticCredentialsProvider{Value: svcKey}, Service: "orders", Logger: testLogger(),
		CacheTTL: time.Hour, Now: func() time.Time { return t0 },
		Routes: func(r *http.Request, caller *Identity) (Route, error) {
			// A hand-written router, as a service with its own mux would map.
			id, ok := strings.CutPrefix(r.URL.Path, "/orders/")
			if !ok || r.Method != http.MethodGet {
				return Route{}, ErrNoRoute
			}
			return Route{Action: "orders:GetOrder", Resource: "arn:aws:orders:" + caller.Region + ":" + caller.Account + ":order/" + id}, nil
		}})
	if err != nil {
		b.Fatal(err)
	}
	// The first request fills the cache.
	w := &discardWriter{h: http.Header{}}
	h := m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	h.ServeHTTP(w, r)
	if w.status != 0 && w.status != http.StatusOK {
		b.Fatalf("first request: %d", w.status)
	}
	signed, err := m.verifier.ParsePayloadHash(r)
	if err != nil {
		b.Fatal(err)
	}
	return m, r, scopeKey{accessKeyID: signed.AccessKeyID, date: signed.Date(), region: signed.Region}
}

// BenchmarkMiddleware is the middleware's cost per request from a warm cache: SigV4 parsing
// and verification with the derived key, the route, the decision over 10 policies of 10
// statements, and the identity handed to the handler.
func BenchmarkMiddleware(b *testing.B) {
	m, r, _ := benchSetup(b)
	called := 0
	h := m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called++ }))
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
	b.StopTimer()
	if called == 0 || w.status != 0 {
		b.Fatalf("handler called %d times, status %d", called, w.status)
	}
}

// BenchmarkMiddlewareDecision is the decision alone, over the cached compiled policies.
func BenchmarkMiddlewareDecision(b *testing.B) {
	m, r, k := benchSetup(b)
	e, err := m.cache.get(context.Background(), k, m.now(), false)
	if err != nil {
		b.Fatal(err)
	}
	route := Route{Action: "orders:GetOrder", Resource: "arn:aws:orders:us-east-1:" + e.principal.Account + ":order/17"}
	facts := m.facts(r, "us-east-1", m.now())
	if ok, msg := e.decide(&route, &facts, nil); !ok {
		b.Fatal(msg)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if ok, _ := e.decide(&route, &facts, nil); !ok {
			b.Fatal("denied")
		}
	}
}
