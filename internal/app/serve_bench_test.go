package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/gatehouse-iam/gatehouse/internal/config"
	"github.com/gatehouse-iam/gatehouse/internal/server"
)

// The whole request path below net/http (routing, reading the form, SigV4, the key lookup,
// authorization, the operation, XML encoding, the log line and the metrics), driven with
// requests signed by aws-sdk-go-v2's signer. These benchmarks and TestAllocationBudget keep
// the per-request cost that the load generator measures end to end from creeping back.

var benchRoot = config.Credentials{AccountID: "123456789012", AccessKeyID: "AKIAGATEHOUSEBENCH00", SecretAccessKey: "gatehouseBenchSecret0123456789abcdefghij"}

// servedApp is a bootstrapped deployment on a fresh SQLite file and its routed API handler.
// logLevel is the server's log level; the log goes to io.Discard through the JSON handler
// `serve` uses, so that formatting a line is counted. audit turns the audit trail on.
func servedApp(tb testing.TB, logLevel slog.Level, audit bool) http.Handler {
	tb.Helper()
	return openServed(tb, logLevel, audit, true)
}

// openServed is servedApp; without runTrail the trail's writer does not run, and events stay
// queued: what is left is the request path's own cost of recording.
func openServed(tb testing.TB, logLevel slog.Level, audit, runTrail bool) http.Handler {
	tb.Helper()
	logger := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: logLevel}))
	a, err := Open(context.Background(), config.Config{DataDir: tb.TempDir(), Bootstrap: benchRoot, Audit: audit}, logger)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	var trailDone <-chan struct{}
	if runTrail {
		trailDone = a.runTrail(ctx) // as Serve runs it: the writer's work is counted too
	} else {
		stopped := make(chan struct{})
		close(stopped)
		trailDone = stopped
	}
	tb.Cleanup(func() { stop(); <-trailDone; a.Close() })
	if _, _, err := a.Bootstrap(context.Background()); err != nil {
		tb.Fatal(err)
	}
	h, err := a.Handler()
	if err != nil {
		tb.Fatal(err)
	}
	routed, err := a.routes(h)
	if err != nil {
		tb.Fatal(err)
	}
	return server.ClientAddress(nil, routed) // as serveFunc wraps it
}

// signedRequest is a POST of form to service, signed once by the SDK's signer; each call of
// the returned function rewinds its body, so the same signed request can be served again.
func signedRequest(tb testing.TB, service string, form url.Values) func() *http.Request {
	tb.Helper()
	body := []byte(form.Encode())
	req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1/", bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.RemoteAddr = "127.0.0.1:40000"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("User-Agent", "aws-sdk-go-v2/1.47.7 benchmark")
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: benchRoot.AccessKeyID, SecretAccessKey: benchRoot.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, "us-east-1", time.Now()); err != nil {
		tb.Fatal(err)
	}
	rd := &rewindBody{}
	return func() *http.Request {
		rd.Reset(body)
		req.Body = rd
		return req
	}
}

type rewindBody struct{ bytes.Reader }

func (*rewindBody) Close() error { return nil }

// discardResponse is an http.ResponseWriter that keeps only the status.
type discardResponse struct {
	header http.Header
	status int
}

func (w *discardResponse) Header() http.Header         { return w.header }
func (w *discardResponse) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardResponse) WriteHeader(status int)      { w.status = status }

// serveOnce serves req and fails unless it succeeded.
func serveOnce(tb testing.TB, h http.Handler, w *discardResponse, req *http.Request) {
	w.status = 0
	h.ServeHTTP(w, req)
	if w.status != http.StatusOK {
		tb.Fatalf("%s answered %d", req.URL, w.status)
	}
}

// benchRequests are the requests of the load generator's read phases.
func benchRequests(tb testing.TB, h http.Handler) map[string]func() *http.Request {
	tb.Helper()
	create := signedRequest(tb, "iam", url.Values{"Action": {"CreateUser"}, "Version": {"2010-05-08"}, "UserName": {"bench"}})
	serveOnce(tb, h, &discardResponse{header: http.Header{}}, create())
	return map[string]func() *http.Request{
		"GetUser":           signedRequest(tb, "iam", url.Values{"Action": {"GetUser"}, "Version": {"2010-05-08"}, "UserName": {"bench"}}),
		"GetCallerIdentity": signedRequest(tb, "sts", url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2011-06-15"}}),
	}
}

func BenchmarkServe(b *testing.B) {
	for _, v := range []struct {
		level slog.Level
		audit bool
	}{{slog.LevelWarn, false}, {slog.LevelInfo, false}, {slog.LevelWarn, true}} {
		h := servedApp(b, v.level, v.audit)
		requests := benchRequests(b, h)
		for _, op := range []string{"GetUser", "GetCallerIdentity"} {
			next := requests[op]
			b.Run(fmt.Sprintf("%s/log=%s/audit=%t", op, v.level, v.audit), func(b *testing.B) {
				w := &discardResponse{header: http.Header{}}
				b.ReportAllocs()
				for b.Loop() {
					serveOnce(b, h, w, next())
				}
			})
		}
	}
}

// allocationBudget is the most heap allocations one request may make below net/http, at the
// default log level. Raise it only with a reason in the commit message.
var allocationBudget = map[string]float64{
	"GetUser":           24,
	"GetCallerIdentity": 19,
}

// auditAllocationBudget is allocationBudget with the audit trail on, counting the request path
// only (the event and what it keeps for the writer; the writer does not run here). Raise it only
// with a reason in the commit message.
var auditAllocationBudget = map[string]float64{
	"GetUser":           26,
	"GetCallerIdentity": 21,
}

func TestAllocationBudget(t *testing.T) {
	t.Run("audit=false", func(t *testing.T) { checkAllocations(t, openServed(t, slog.LevelInfo, false, true), allocationBudget) })
	t.Run("audit=true", func(t *testing.T) {
		checkAllocations(t, openServed(t, slog.LevelInfo, true, false), auditAllocationBudget)
	})
}

func checkAllocations(t *testing.T, h http.Handler, budgets map[string]float64) {
	t.Helper()
	requests := benchRequests(t, h)
	for op, budget := range budgets {
		w := &discardResponse{header: http.Header{}}
		next := requests[op]
		serveOnce(t, h, w, next()) // warm the caches
		got := testing.AllocsPerRun(200, func() { serveOnce(t, h, w, next()) })
		t.Logf("%s: %.0f allocations per request (budget %.0f)", op, got, budget)
		if got > budget {
			t.Errorf("%s makes %.0f heap allocations per request, over its budget of %.0f", op, got, budget)
		}
	}
}
