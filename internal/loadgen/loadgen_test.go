package loadgen_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/gatehouse-iam/gatehouse/internal/loadgen"
)

const (
	testKeyID  = "AKIALOADGENTEST00001"
	testSecret = "loadgenTestSecret0123456789abcdefghijklm"
	testRegion = "us-west-2"
)

// record is what the recording server saw of one request.
type record struct {
	seq      int
	action   string
	userName string
	maxItems string
	keyID    string
	region   string
	service  string
	// sigErr says why the signature did not check out; empty when it did.
	sigErr string
	status int
	remote string
}

// recorder is a real HTTP server on 127.0.0.1 that answers every request and records it. It
// checks nothing beyond recomputing each request's signature. GetUser takes 1ms, and every 20th
// takes 40ms, to give the percentiles something to find; every 10th ListUsers fails with 400.
type recorder struct {
	srv *httptest.Server
	// onAction, when set before the first request, is called with each request's action.
	onAction func(action string)
	mu       sync.Mutex
	records  []record
	inFlight atomic.Int64
	maxIn    atomic.Int64
	getUsers atomic.Int64
	lists    atomic.Int64
}

func newRecorder(t *testing.T) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.srv = httptest.NewServer(http.HandlerFunc(rec.serve))
	t.Cleanup(rec.srv.Close)
	return rec
}

func (rec *recorder) serve(w http.ResponseWriter, r *http.Request) {
	n := rec.inFlight.Add(1)
	defer rec.inFlight.Add(-1)
	for m := rec.maxIn.Load(); n > m && !rec.maxIn.CompareAndSwap(m, n); m = rec.maxIn.Load() {
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	form, _ := url.ParseQuery(string(body))
	rr := record{action: form.Get("Action"), userName: form.Get("UserName"), maxItems: form.Get("MaxItems"), remote: r.RemoteAddr, status: http.StatusOK}
	rr.keyID, rr.region, rr.service, rr.sigErr = checkSignature(r, body)
	if rec.onAction != nil {
		rec.onAction(rr.action)
	}

	switch rr.action {
	case "GetUser":
		d := time.Millisecond
		if rec.getUsers.Add(1)%20 == 0 {
			d = 40 * time.Millisecond
		}
		time.Sleep(d)
	case "ListUsers":
		if rec.lists.Add(1)%10 == 0 {
			rr.status = http.StatusBadRequest
		}
	}
	rec.mu.Lock()
	rr.seq = len(rec.records)
	rec.records = append(rec.records, rr)
	rec.mu.Unlock()

	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(rr.status)
	if rr.status != http.StatusOK {
		fmt.Fprint(w, "<ErrorResponse>\n  <Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error>\n</ErrorResponse>")
		return
	}
	fmt.Fprintf(w, "<%sResponse><ResponseMetadata><RequestId>x</RequestId></ResponseMetadata></%sResponse>", rr.action, rr.action)
}

var authRE = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=[0-9a-f]{64}$`)

// checkSignature parses the Authorization header and signs the request again with the headers
// it names, the body as received and the secret; it returns the credential scope's parts and
// why the signatures differ, or "" when they match.
func checkSignature(r *http.Request, body []byte) (keyID, region, service, problem string) {
	auth := r.Header.Get("Authorization")
	m := authRE.FindStringSubmatch(auth)
	if m == nil {
		return "", "", "", fmt.Sprintf("Authorization header %q is not SigV4", auth)
	}
	keyID, region, service = m[1], m[3], m[4]
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return keyID, region, service, fmt.Sprintf("X-Amz-Date: %v", err)
	}
	if at.Format("20060102") != m[2] {
		return keyID, region, service, "scope date is not X-Amz-Date's"
	}
	again := &http.Request{Method: r.Method, URL: &url.URL{Path: r.URL.Path, RawQuery: r.URL.RawQuery}, Host: r.Host, Header: http.Header{}, ContentLength: r.ContentLength}
	for _, h := range strings.Split(m[5], ";") {
		if h != "host" && h != "content-length" {
			again.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: keyID, SecretAccessKey: testSecret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, again, hex.EncodeToString(sum[:]), service, region, at); err != nil {
		return keyID, region, service, err.Error()
	}
	if got := again.Header.Get("Authorization"); got != auth {
		return keyID, region, service, fmt.Sprintf("signature mismatch: sent %q, expected %q", auth, got)
	}
	return keyID, region, service, ""
}

func (rec *recorder) snapshot() []record {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]record(nil), rec.records...)
}

func TestRunAgainstRecorder(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t)
	const concurrency = 4
	cfg := loadgen.Config{
		Endpoint:        rec.srv.URL,
		AccessKeyID:     testKeyID,
		SecretAccessKey: testSecret,
		Region:          testRegion,
		Concurrency:     concurrency,
		Duration:        time.Second,
		// No warm-up: every request the server sees then belongs to the measured window
		// except the last of each client, which completes after it.
		Warmup: 0,
	}
	g, err := loadgen.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := g.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	records := rec.snapshot()

	if len(rep.Results) != 4 {
		t.Fatalf("got %d results, want 4: %+v", len(rep.Results), rep.Results)
	}
	for i, op := range loadgen.DefaultOps() {
		if rep.Results[i].Op != op {
			t.Errorf("result %d is %s, want %s", i, rep.Results[i].Op, op)
		}
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}$`).MatchString(rep.RunID) || rep.TargetUser != "bench-target-"+rep.RunID {
		t.Errorf("run id %q, target user %q", rep.RunID, rep.TargetUser)
	}

	// What the server saw, by action; the target user's creation is set apart.
	seen := map[string]int{}
	failed := map[string]int{}
	targetSeq, firstGetUser := -1, -1
	names := map[string]bool{}
	nameRE := regexp.MustCompile(`^bench-` + rep.RunID + `-\d+-\d+$`)
	// The IAM API model's userNameType: 1 to 64 characters of [\w+=,.@-].
	awsUserName := regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	conns := map[string]bool{}
	for _, r := range records {
		conns[r.remote] = true
		if r.userName != "" && !awsUserName.MatchString(r.userName) {
			t.Errorf("%s with UserName %q, which AWS would reject", r.action, r.userName)
		}
		if r.sigErr != "" {
			t.Errorf("%s request #%d: %s", r.action, r.seq, r.sigErr)
		}
		wantService := "iam"
		if r.action == "GetCallerIdentity" {
			wantService = "sts"
		}
		if r.service != wantService || r.region != testRegion || r.keyID != testKeyID {
			t.Errorf("%s request #%d signed for %s/%s by %s, want %s/%s by %s", r.action, r.seq, r.service, r.region, r.keyID, wantService, testRegion, testKeyID)
		}
		switch {
		case r.action == "CreateUser" && r.userName == rep.TargetUser:
			targetSeq = r.seq
			continue
		case r.action == "CreateUser":
			if !nameRE.MatchString(r.userName) || names[r.userName] {
				t.Errorf("CreateUser name %q: not of the form bench-%s-N-N or repeated", r.userName, rep.RunID)
			}
			names[r.userName] = true
		case r.action == "GetUser":
			if firstGetUser < 0 {
				firstGetUser = r.seq
			}
			if r.userName != rep.TargetUser {
				t.Errorf("GetUser of %q, want the target %q", r.userName, rep.TargetUser)
			}
		case r.action == "ListUsers" && r.maxItems != "100":
			t.Errorf("ListUsers MaxItems = %q, want 100", r.maxItems)
		}
		seen[r.action]++
		if r.status != http.StatusOK {
			failed[r.action]++
		}
	}
	if targetSeq < 0 || firstGetUser < targetSeq {
		t.Errorf("target user created at request #%d, first GetUser at #%d: want it created first", targetSeq, firstGetUser)
	}
	if got, want := rep.UsersCreated, uint64(1+len(names)); got != want {
		t.Errorf("UsersCreated = %d, server saw %d CreateUser", got, want)
	}
	// One kept-alive connection per client, reused from phase to phase. The transport may
	// dial a spare when a connection frees up while a dial is under way, so allow twice that;
	// connections that are closed and redialled would number in the hundreds.
	if len(conns) > 2*concurrency {
		t.Errorf("server saw %d connections, want at most %d (about one per client)", len(conns), 2*concurrency)
	}
	// The clients run concurrently (all of them at once, unless the machine is too busy to
	// schedule them).
	if got := rec.maxIn.Load(); got < 2 || got > concurrency {
		t.Errorf("at most %d requests were in flight at once, want 2 to %d", got, concurrency)
	}

	for _, res := range rep.Results {
		t.Run("op="+string(res.Op), func(t *testing.T) {
			action := string(res.Op)
			// The server sees every counted request, plus at most one per client that
			// completed after the window closed.
			if d := seen[action] - int(res.Requests); d < 0 || d > concurrency {
				t.Errorf("server saw %d %s requests, report counts %d: difference %d not in [0, %d]", seen[action], action, res.Requests, d, concurrency)
			}
			if d := failed[action] - int(res.Errors); d < 0 || d > concurrency {
				t.Errorf("server failed %d, report counts %d errors", failed[action], res.Errors)
			}
			if res.Requests == 0 || res.Errors >= res.Requests {
				t.Fatalf("requests %d, errors %d: want successful requests", res.Requests, res.Errors)
			}
			if res.Concurrency != concurrency || res.Elapsed != cfg.Duration || res.Service != res.Op.Service() {
				t.Errorf("concurrency %d, elapsed %v, service %q", res.Concurrency, res.Elapsed, res.Service)
			}
			if want := float64(res.Requests-res.Errors) / cfg.Duration.Seconds(); math.Abs(res.RPS-want) > 1e-9*want {
				t.Errorf("RPS = %v, want ok/elapsed = %v", res.RPS, want)
			}
			if res.P50 <= 0 || res.P50 > res.P99 || res.P99 > res.Max {
				t.Errorf("p50 %v, p99 %v, max %v: want 0 < p50 <= p99 <= max", res.P50, res.P99, res.Max)
			}
			switch res.Op {
			case loadgen.GetUser:
				// 1 in 20 takes 40ms, so p99 is one of them and p50 is not.
				if res.P50 < time.Millisecond || res.P50 >= 40*time.Millisecond || res.P99 < 40*time.Millisecond {
					t.Errorf("p50 %v, p99 %v: want 1ms <= p50 < 40ms <= p99", res.P50, res.P99)
				}
			case loadgen.ListUsers:
				if res.Errors == 0 || !strings.Contains(res.FirstError, "HTTP 400") || !strings.Contains(res.FirstError, "<Code>Throttling</Code>") {
					t.Errorf("errors %d, first error %q: want the server's 400 Throttling", res.Errors, res.FirstError)
				}
			}
			if res.Op != loadgen.ListUsers && (res.Errors != 0 || res.FirstError != "") {
				t.Errorf("errors %d, first error %q: want none", res.Errors, res.FirstError)
			}
		})
	}
}

// TestWarmupNotCounted checks that the warm-up's requests are sent but left out of the counts.
func TestWarmupNotCounted(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t)
	const concurrency = 2
	g, err := loadgen.New(loadgen.Config{
		Endpoint: rec.srv.URL, AccessKeyID: testKeyID, SecretAccessKey: testSecret, Region: testRegion,
		Concurrency: concurrency, Duration: 200 * time.Millisecond, Warmup: 200 * time.Millisecond,
		Ops: []loadgen.Op{loadgen.GetCallerIdentity},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := g.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	res := rep.Results[0]
	sent := len(rec.snapshot())
	if rep.TargetUser != "" || rep.UsersCreated != 0 {
		t.Errorf("target user %q, users created %d without GetUser or CreateUser", rep.TargetUser, rep.UsersCreated)
	}
	// Requests take well under a millisecond here, so a 200ms warm-up sends many.
	if uint64(sent) <= res.Requests+concurrency {
		t.Errorf("server saw %d requests, report counts %d: the warm-up's were not left out", sent, res.Requests)
	}
	if res.Requests == 0 {
		t.Error("no request counted")
	}
}

// TestUnreachable checks that transport errors are counted and described.
func TestUnreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now

	cfg := loadgen.Config{
		Endpoint: "http://" + addr, AccessKeyID: testKeyID, SecretAccessKey: testSecret,
		Concurrency: 2, Duration: 100 * time.Millisecond,
	}
	t.Run("case=phase", func(t *testing.T) {
		cfg := cfg
		cfg.Ops = []loadgen.Op{loadgen.GetCallerIdentity}
		g, err := loadgen.New(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := g.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		res := rep.Results[0]
		if res.Errors == 0 || res.Errors != res.Requests || res.RPS != 0 || !strings.Contains(res.FirstError, "connection refused") {
			t.Errorf("requests %d, errors %d, rps %v, first error %q: want every request refused", res.Requests, res.Errors, res.RPS, res.FirstError)
		}
	})
	t.Run("case=GetUser setup", func(t *testing.T) {
		g, err := loadgen.New(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = g.Run(context.Background())
		if err == nil || !strings.Contains(err.Error(), "for GetUser") {
			t.Errorf("Run error = %v, want the target user's creation to fail", err)
		}
	})
}

// TestRunCanceled checks that Run stops when its context ends and keeps the phases done.
func TestRunCanceled(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The second phase's first request ends the run.
	rec.onAction = func(action string) {
		if action == "ListUsers" {
			cancel()
		}
	}
	g, err := loadgen.New(loadgen.Config{
		Endpoint: rec.srv.URL, AccessKeyID: testKeyID, SecretAccessKey: testSecret,
		Concurrency: 2, Duration: 100 * time.Millisecond,
		Ops: []loadgen.Op{loadgen.GetCallerIdentity, loadgen.ListUsers},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := g.Run(ctx)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "ListUsers phase") {
		t.Fatalf("Run error = %v, want the ListUsers phase canceled", err)
	}
	if len(rep.Results) != 1 || rep.Results[0].Op != loadgen.GetCallerIdentity {
		t.Errorf("results %+v, want the finished GetCallerIdentity phase only", rep.Results)
	}
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	good := loadgen.Config{Endpoint: "http://127.0.0.1:7400", AccessKeyID: "AKID", SecretAccessKey: "secret", Concurrency: 1, Duration: time.Second}
	tests := []struct {
		name    string
		change  func(*loadgen.Config)
		wantErr string
	}{
		{"no endpoint", func(c *loadgen.Config) { c.Endpoint = "" }, "no endpoint"},
		{"not a URL", func(c *loadgen.Config) { c.Endpoint = "127.0.0.1:7400" }, "http:// or https://"},
		{"ftp", func(c *loadgen.Config) { c.Endpoint = "ftp://127.0.0.1" }, "http:// or https://"},
		{"query", func(c *loadgen.Config) { c.Endpoint = "http://127.0.0.1/?a=b" }, "query"},
		{"no key id", func(c *loadgen.Config) { c.AccessKeyID = "" }, "no credentials"},
		{"no secret", func(c *loadgen.Config) { c.SecretAccessKey = "" }, "no credentials"},
		{"zero concurrency", func(c *loadgen.Config) { c.Concurrency = 0 }, "concurrency 0"},
		{"zero duration", func(c *loadgen.Config) { c.Duration = 0 }, "duration 0s"},
		{"negative warmup", func(c *loadgen.Config) { c.Warmup = -time.Second }, "warmup -1s"},
		{"MaxItems too large", func(c *loadgen.Config) { c.ListMaxItems = 1001 }, "MaxItems 1001"},
		{"unknown op", func(c *loadgen.Config) { c.Ops = []loadgen.Op{"DeleteUser"} }, "unknown or repeated"},
		{"repeated op", func(c *loadgen.Config) { c.Ops = []loadgen.Op{loadgen.GetUser, loadgen.GetUser} }, "unknown or repeated"},
	}
	if _, err := loadgen.New(good, nil); err != nil {
		t.Fatalf("New(good) = %v", err)
	}
	for _, tt := range tests {
		t.Run("case="+tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := good
			tt.change(&cfg)
			if _, err := loadgen.New(cfg, nil); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("New error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestHeadersAndBodyInOneWrite checks that a request's headers and body reach the server
// together. net/http flushes the headers on their own unless the body is a reader it knows to
// be in memory, which costs the server an extra read and wake-up per request; with one write,
// the server's first read holds the whole request.
func TestHeadersAndBodyInOneWrite(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	firstReads := make(chan string, 16)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				buf := make([]byte, 64<<10)
				for {
					n, err := conn.Read(buf)
					if err != nil {
						return
					}
					select {
					case firstReads <- string(buf[:n]):
					default:
					}
					const resp = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/xml\r\n\r\nok"
					if _, err := io.WriteString(conn, resp); err != nil {
						return
					}
				}
			}()
		}
	}()
	g, err := loadgen.New(loadgen.Config{
		Endpoint: "http://" + ln.Addr().String(), AccessKeyID: testKeyID, SecretAccessKey: testSecret,
		Concurrency: 1, Duration: 50 * time.Millisecond, Ops: []loadgen.Op{loadgen.GetCallerIdentity},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := g.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res := rep.Results[0]; res.Errors != 0 || res.Requests == 0 {
		t.Fatalf("requests %d, errors %d (%s)", res.Requests, res.Errors, res.FirstError)
	}
	// Every response follows a read, so the reads are all in the channel by now.
	n := len(firstReads)
	if n == 0 {
		t.Fatal("the server read nothing")
	}
	for range n {
		got := <-firstReads
		if !strings.HasSuffix(got, "\r\n\r\nAction=GetCallerIdentity&Version=2011-06-15") {
			t.Fatalf("a read of the server got %q: want the headers and the whole body at once", got)
		}
	}
}
