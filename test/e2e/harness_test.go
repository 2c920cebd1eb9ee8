// Package e2e drives a real Gatehouse server over HTTP on loopback with the stock AWS clients:
// aws-sdk-go-v2 here, the aws CLI and boto3 through the scripts under clients/.
package e2e

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gatehouse-iam/gatehouse/internal/app"
	"github.com/gatehouse-iam/gatehouse/internal/config"
	"github.com/gatehouse-iam/gatehouse/internal/pgtest"
	"github.com/gatehouse-iam/gatehouse/internal/tlsreload/testcert"
)

// env is one running server with a fresh data directory and clients signed as the first
// account's root user.
type env struct {
	URL     string
	Account string
	DataDir string
	Root    config.Credentials
	IAM     *iam.Client
	STS     *sts.Client
	app     *app.App
}

// newEnv starts an in-process server on a random loopback port over a real SQLite file; it
// stops when the test ends.
func newEnv(t *testing.T) *env { return newEnvWith(t, nil, nil) }

// newEnvWith is newEnv with the configuration adjusted by adjust (nil: none); its URL is https
// when a certificate is configured, and its clients trust ca (nil: the system's roots).
func newEnvWith(t *testing.T, ca *testcert.CA, adjust func(*config.Config)) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cfg := config.Config{DataDir: t.TempDir(), LogLevel: slog.LevelWarn, DialIDP: dialIDP}
	if onPostgreSQL() {
		cfg.DatabaseURL = pgtest.Database(t)
	}
	if adjust != nil {
		adjust(&cfg)
	}
	logOut := io.Discard
	if os.Getenv("GATEHOUSE_TEST_LOG") != "" {
		logOut = os.Stderr
	}
	a, err := app.Open(ctx, cfg, slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatalf("open app: %v", err)
	}
	root, _, err := a.Bootstrap(ctx)
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		if err := a.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	e := &env{URL: scheme + "://" + ln.Addr().String(), Account: root.AccountID, DataDir: cfg.DataDir, Root: root, app: a}
	if ca != nil {
		e.IAM, e.STS = sdkClients(clientOpts{url: e.URL, ca: ca}, root.AccessKeyID, root.SecretAccessKey)
	} else {
		e.IAM, e.STS = e.clients(root.AccessKeyID, root.SecretAccessKey, "") // the SDK's defaults, retries included
	}
	return e
}

// envBackend selects the store of the servers the suite starts: "postgres" runs the whole suite
// on PostgreSQL (scripts/test.sh does, after the run on SQLite, the default).
const envBackend = "GATEHOUSE_E2E_BACKEND"

func onPostgreSQL() bool { return os.Getenv(envBackend) == "postgres" }

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// clients returns aws-sdk-go-v2 IAM and STS clients that sign with the given credentials.
func (e *env) clients(keyID, secret, token string) (*iam.Client, *sts.Client) {
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(keyID, secret, token),
		BaseEndpoint: aws.String(e.URL),
	}
	return iam.NewFromConfig(cfg), sts.NewFromConfig(cfg)
}

// newAccount creates a further account and returns clients signed as its root user.
func (e *env) newAccount(t *testing.T) (config.Credentials, *iam.Client, *sts.Client) {
	t.Helper()
	c, err := e.app.CreateAccount(context.Background(), config.Credentials{})
	if err != nil {
		t.Fatalf("create account: %v", err)
	}
	i, s := e.clients(c.AccessKeyID, c.SecretAccessKey, "")
	return c, i, s
}

// newUser creates an IAM user with an access key in e's first account and returns clients
// signed as that user.
func (e *env) newUser(t *testing.T, name string) (*iam.Client, *sts.Client) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		t.Fatalf("CreateUser %s: %v", name, err)
	}
	out, err := e.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatalf("CreateAccessKey %s: %v", name, err)
	}
	i, s := e.clients(*out.AccessKey.AccessKeyId, *out.AccessKey.SecretAccessKey, "")
	return i, s
}
