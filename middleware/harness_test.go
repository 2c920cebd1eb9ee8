package middleware

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gatehouse-iam/gatehouse/internal/app"
	"github.com/gatehouse-iam/gatehouse/internal/config"
	"github.com/gatehouse-iam/gatehouse/internal/decision"
	"github.com/gatehouse-iam/gatehouse/internal/services"
)

// gatehouse is an in-process Gatehouse on loopback over a real SQLite file.
type gatehouse struct {
	URL     string
	Account string
	Root    config.Credentials
	IAM     *iam.Client
	STS     *sts.Client
	app     *app.App
	stop    func()
}

// testLogger discards, unless GATEHOUSE_TEST_LOG is set.
func testLogger() *slog.Logger {
	out := io.Discard
	if os.Getenv("GATEHOUSE_TEST_LOG") != "" {
		out = os.Stderr
	}
	return slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// startGatehouse starts Gatehouse's API (app.Handler, with the orders service of ordersFile
// protected) with the decision API's Sessions wired (GetSigningContext of temporary
// credentials), which app.Handler does not do yet; stop ends it before the test does.
func startGatehouse(t testing.TB) *gatehouse {
	t.Helper()
	ctx := context.Background()
	logger := testLogger()
	dir := t.TempDir()
	servicesFile := filepath.Join(dir, "services.yaml")
	if err := os.WriteFile(servicesFile, []byte(ordersFile), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := app.Open(ctx, config.Config{DataDir: filepath.Join(dir, "data"), LogLevel: slog.LevelWarn, ServicesFile: servicesFile}, logger)
	if err != nil {
		t.Fatalf("open app: %v", err)
	}
	root, _, err := a.Bootstrap(ctx)
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	srv, err := a.Handler()
	if err != nil {
		t.Fatal(err)
	}
	set, err := services.Parse([]byte(ordersFile))
	if err != nil {
		t.Fatal(err)
	}
	// The decision API again, with Sessions: it serves the operations the one before serves.
	dec := &decision.Service{Auth: srv, Enforcer: a.Enforcer, Sessions: a.Sessions, Services: func() *services.Set { return set }}
	srv.WithJSON(a.Enforcer, dec.JSON())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() { _ = hs.Serve(srv.Listener(ln)); close(done) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = hs.Close()
		<-done
	}
	t.Cleanup(func() {
		stop()
		if err := a.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	g := &gatehouse{URL: "http://" + ln.Addr().String(), Account: root.AccountID, Root: root, app: a, stop: stop}
	g.IAM, g.STS = g.clients(root.AccessKeyID, root.SecretAccessKey, "")
	return g
}

func (g *gatehouse) clients(keyID, secret, token string) (*iam.Client, *sts.Client) {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(keyID, secret, token), BaseEndpoint: aws.String(g.URL)}
	return iam.NewFromConfig(cfg), sts.NewFromConfig(cfg)
}

// user creates an IAM user with the inline policies docs and returns its access key.
func (g *gatehouse) user(t testing.TB, name string, docs ...string) aws.Credentials {
	t.Helper()
	ctx := context.Background()
	if _, err := g.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		t.Fatalf("CreateUser %s: %v", name, err)
	}
	for i, doc := range docs {
		if _, err := g.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("p" + itoa(i)),
			PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatalf("PutUserPolicy %s: %v", name, err)
		}
	}
	out, err := g.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatalf("CreateAccessKey %s: %v", name, err)
	}
	return aws.Credentials{AccessKeyID: *out.AccessKey.AccessKeyId, SecretAccessKey: *out.AccessKey.SecretAccessKey}
}

func itoa(i int) string { return string(rune('0'+i/10)) + string(rune('0'+i%10)) }

// serviceKeyPolicy is what the protected service's own key needs.
const serviceKeyPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["gatehouse:GetSigningContext","gatehouse:Authorize","gatehouse:GetResourcePolicy"],"Resource":"*",
 "Condition":{"StringEqualsIfExists":{"gatehouse:SigningService":"orders"}}}]}`

// ordersFile declares the sample orders service as a services file does.
const ordersFile = `
services:
  - prefix: orders
    resourceTypes:
      order: {arn: "arn:${Partition}:orders:${Region}:${Account}:order/${OrderId}"}
    conditionKeys:
      orders:Status: String
    actions:
      GetOrder: {accessLevel: Read, resourceTypes: [order]}
      ListOrders: {accessLevel: List}
      CreateOrder: {accessLevel: Write, conditionKeys: [orders:Status]}
    routes:
      - {route: "GET /orders/{OrderId}", action: GetOrder, resource: order}
      - {route: "GET /orders", action: ListOrders}
      - route: POST /orders
        action: CreateOrder
        context: {orders:Status: "header:X-Order-Status"}
`

// ordersHandler is the service: it answers with the caller and the body it read.
func ordersHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := IdentityFrom(r.Context())
		if !ok {
			http.Error(w, "no identity", http.StatusInternalServerError)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"Identity": id, "Body": string(body)})
	})
}

// result is a response of the service.
type result struct {
	Status   int
	Type     string `json:"__type"`
	Message  string `json:"message"`
	Identity *Identity
	Body     string
}

// call sends a request signed by aws-sdk-go-v2's signer for "orders" in us-east-1, the body
// hash signed without X-Amz-Content-Sha256 (as the SDKs sign the JSON protocols' requests).
func call(t testing.TB, baseURL, method, path string, creds aws.Credentials, body string, hdr map[string]string) result {
	t.Helper()
	return callScoped(t, baseURL, method, path, "orders", creds, body, hdr)
}

func callSigned(t testing.TB, baseURL, method, path, service string, creds aws.Credentials) result {
	t.Helper()
	return callScoped(t, baseURL, method, path, service, creds, "", nil)
}

func callScoped(t testing.TB, baseURL, method, path, service string, creds aws.Credentials, body string, hdr map[string]string) result {
	t.Helper()
	req, err := http.NewRequest(method, baseURL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == "" {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	res := result{Status: resp.StatusCode}
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&res); err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	return res
}

func staticProvider(c aws.Credentials) aws.CredentialsProvider {
	return credentials.StaticCredentialsProvider{Value: c}
}

// jsonCall calls an operation of the decision API's endpoint signed with creds.
func (g *gatehouse) jsonCall(t testing.TB, creds aws.Credentials, op string, in, out any) error {
	t.Helper()
	c := &client{endpoint: g.URL + "/", creds: staticProvider(creds), region: "us-east-1", http: http.DefaultClient, now: time.Now}
	return c.call(context.Background(), op, in, out)
}
