package loadgen

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Defaults for the settings of Config.
const (
	DefaultConcurrency    = 32
	DefaultDuration       = 10 * time.Second
	DefaultWarmup         = time.Second
	DefaultRegion         = "us-east-1"
	DefaultListMaxItems   = 100
	DefaultRequestTimeout = 30 * time.Second
)

const (
	formContentType = "application/x-www-form-urlencoded; charset=utf-8"
	userAgent       = "gatehouse-bench/1"
	// maxErrorBody bounds how much of a failed response is kept for the report.
	maxErrorBody = 2048
)

// Config is what to drive and how hard.
type Config struct {
	// Endpoint is the server's URL, e.g. http://127.0.0.1:7400.
	Endpoint string
	// AccessKeyID, SecretAccessKey and SessionToken (for temporary credentials) sign requests.
	AccessKeyID, SecretAccessKey, SessionToken string
	// Region is the SigV4 signing region; empty means DefaultRegion.
	Region string
	// Concurrency is the number of clients, each with at most one request in flight.
	Concurrency int
	// Duration is the measured time of each operation's phase.
	Duration time.Duration
	// Warmup is sent before each phase's measured window and not counted.
	Warmup time.Duration
	// Ops are the operations to run, one phase each, in this order; empty means DefaultOps.
	Ops []Op
	// ListMaxItems is ListUsers' MaxItems, 1 to 1000 as in the IAM API model; 0 means
	// DefaultListMaxItems, which is also AWS's default page size.
	ListMaxItems int
	// RequestTimeout bounds the wait for a response's headers; 0 means DefaultRequestTimeout.
	RequestTimeout time.Duration
}

// Result is the outcome of one operation's phase.
type Result struct {
	Op Op
	// Service is the signing name the requests were signed for.
	Service     string
	Concurrency int
	// Requests counts the responses (successful or not) and transport errors that completed
	// inside the measured window.
	Requests uint64
	// Errors counts those of Requests that were not HTTP 200.
	Errors uint64
	// Elapsed is the measured window.
	Elapsed time.Duration
	// RPS is the number of successful requests per second of Elapsed.
	RPS float64
	// P50, P99, Mean and Max are the latencies of the successful requests.
	P50, P99, Mean, Max time.Duration
	// FirstError describes the first failed request of the window, with the start of its body.
	FirstError string
}

// Report is the outcome of a run.
type Report struct {
	Endpoint    string
	RunID       string
	Concurrency int
	Duration    time.Duration
	Warmup      time.Duration
	// TargetUser is the user GetUser reads, created before the phases; empty without GetUser.
	TargetUser string
	// UsersCreated counts the users the run created (CreateUser answered 200), warm-up and
	// the target user included. They are not deleted.
	UsersCreated uint64
	Results      []Result
}

// Generator drives one endpoint. Create it with New.
type Generator struct {
	cfg       Config
	endpoint  *url.URL
	transport *http.Transport
	client    *http.Client
	logger    *slog.Logger
	// role is the AssumeRole phase's role and caller, made by Run before the phases.
	role *roleCaller
}

// New validates cfg, fills its defaults and returns a generator for it. logger receives a line
// per phase.
func New(cfg Config, logger *slog.Logger) (*Generator, error) {
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if cfg.ListMaxItems == 0 {
		cfg.ListMaxItems = DefaultListMaxItems
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if len(cfg.Ops) == 0 {
		cfg.Ops = DefaultOps()
	}
	u, err := url.Parse(cfg.Endpoint)
	switch {
	case cfg.Endpoint == "":
		return nil, errors.New("no endpoint: give the server's URL, e.g. http://127.0.0.1:7400")
	case err != nil:
		return nil, fmt.Errorf("endpoint %q: want an http:// or https:// URL: %w", cfg.Endpoint, err)
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		return nil, fmt.Errorf("endpoint %q: want an http:// or https:// URL with a host", cfg.Endpoint)
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("endpoint %q: must not have a query or fragment", cfg.Endpoint)
	case cfg.AccessKeyID == "" || cfg.SecretAccessKey == "":
		return nil, errors.New("no credentials: give an access key id and a secret access key")
	case cfg.Concurrency < 1:
		return nil, fmt.Errorf("concurrency %d: must be at least 1", cfg.Concurrency)
	case cfg.Duration <= 0:
		return nil, fmt.Errorf("duration %v: must be positive", cfg.Duration)
	case cfg.Warmup < 0:
		return nil, fmt.Errorf("warmup %v: must not be negative", cfg.Warmup)
	case cfg.ListMaxItems < 1 || cfg.ListMaxItems > 1000:
		return nil, fmt.Errorf("ListUsers MaxItems %d: must be 1 to 1000", cfg.ListMaxItems)
	case cfg.RequestTimeout < 0:
		return nil, fmt.Errorf("request timeout %v: must not be negative", cfg.RequestTimeout)
	}
	if u.Path == "" {
		u.Path = "/"
	}
	seen := map[Op]bool{}
	for _, op := range cfg.Ops {
		if _, ok := lookupOp(string(op)); !ok || seen[op] {
			return nil, fmt.Errorf("operations %q: unknown or repeated", joinOps(cfg.Ops))
		}
		seen[op] = true
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	t := &http.Transport{
		Proxy:       nil, // measure the server, never a proxy named in the environment
		DialContext: (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		// Every client keeps its own connection alive between requests; with fewer idle
		// slots, connections would be closed and redialled and the run would measure TCP setup.
		MaxIdleConns:          0,
		MaxIdleConnsPerHost:   cfg.Concurrency,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: cfg.RequestTimeout,
		// Responses are small XML; compression would cost both sides CPU for nothing.
		DisableCompression: true,
	}
	return &Generator{
		cfg:       cfg,
		endpoint:  u,
		transport: t,
		client: &http.Client{
			Transport:     t,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		logger: logger,
	}, nil
}

// Run creates GetUser's target user when GetUser is among the operations, then runs each
// operation's phase in turn. When ctx ends, Run stops and returns the phases finished so far
// with ctx's error.
func (g *Generator) Run(ctx context.Context) (*Report, error) {
	defer g.transport.CloseIdleConnections()
	var idBytes [4]byte
	_, _ = rand.Read(idBytes[:]) // crypto/rand.Read does not fail
	rep := &Report{
		Endpoint:    g.endpoint.String(),
		RunID:       hex.EncodeToString(idBytes[:]),
		Concurrency: g.cfg.Concurrency,
		Duration:    g.cfg.Duration,
		Warmup:      g.cfg.Warmup,
	}
	if slices.Contains(g.cfg.Ops, GetUser) {
		rep.TargetUser = "bench-target-" + rep.RunID
		if err := g.createTarget(ctx, rep.TargetUser); err != nil {
			return rep, err
		}
		rep.UsersCreated++
	}
	if slices.Contains(g.cfg.Ops, AssumeRole) {
		rc, err := g.setUpAssumeRole(ctx, rep.RunID)
		if err != nil {
			return rep, err
		}
		g.role = rc
		rep.UsersCreated++
	}
	for _, op := range g.cfg.Ops {
		g.logger.InfoContext(ctx, "phase start", slog.String("op", string(op)), slog.Int("concurrency", g.cfg.Concurrency),
			slog.Duration("warmup", g.cfg.Warmup), slog.Duration("duration", g.cfg.Duration))
		res, created, err := g.phase(ctx, op, rep)
		rep.UsersCreated += created
		if err != nil {
			return rep, err
		}
		rep.Results = append(rep.Results, res)
		g.logger.InfoContext(ctx, "phase done", slog.String("op", string(op)), slog.Uint64("requests", res.Requests),
			slog.Uint64("errors", res.Errors), slog.Float64("rps", res.RPS), slog.Duration("p50", res.P50), slog.Duration("p99", res.P99))
	}
	return rep, nil
}

// createTarget creates the user GetUser reads.
func (g *Generator) createTarget(ctx context.Context, name string) error {
	c := g.newClient(ctx, 0, "")
	body := []byte("Action=CreateUser&Version=" + iamVersion + "&UserName=" + name)
	status, errBody, _, err := c.send(ctx, body, payloadHash(body), CreateUser.Service(), time.Now())
	switch {
	case err != nil:
		return fmt.Errorf("create user %s for GetUser: %w", name, err)
	case status != http.StatusOK:
		return fmt.Errorf("create user %s for GetUser: HTTP %d: %s", name, status, errBody)
	}
	return nil
}

// phase runs op with every client for the warm-up and the measured window. It also returns how
// many users the phase created, counted even when ctx ends early.
func (g *Generator) phase(ctx context.Context, op Op, rep *Report) (Result, uint64, error) {
	clients := make([]*client, g.cfg.Concurrency)
	for i := range clients {
		clients[i] = g.newClient(ctx, i, rep.RunID)
		if op == AssumeRole {
			clients[i].creds = g.role.creds
		}
	}
	start := time.Now()
	w := window{from: start.Add(g.cfg.Warmup)}
	w.to = w.from.Add(g.cfg.Duration)
	fixed := g.fixedBody(op, rep.TargetUser)
	fixedHash := payloadHash(fixed)
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() { c.loop(ctx, op, w, fixed, fixedHash) })
	}
	wg.Wait()

	res := Result{Op: op, Service: op.Service(), Concurrency: g.cfg.Concurrency, Elapsed: g.cfg.Duration}
	hist := NewHistogram()
	var created uint64
	var firstAt time.Time
	for _, c := range clients {
		created += c.created
		res.Requests += c.ok + c.errors
		res.Errors += c.errors
		hist.Merge(c.hist)
		if c.firstError != "" && (firstAt.IsZero() || c.firstErrorAt.Before(firstAt)) {
			res.FirstError, firstAt = c.firstError, c.firstErrorAt
		}
	}
	if err := ctx.Err(); err != nil {
		return Result{}, created, fmt.Errorf("%s phase: %w", op, err)
	}
	res.RPS = float64(hist.Count()) / res.Elapsed.Seconds()
	res.P50, res.P99, res.Mean, res.Max = hist.Percentile(50), hist.Percentile(99), hist.Mean(), hist.Max()
	return res, created, nil
}

// window is a phase's measured interval [from, to).
type window struct{ from, to time.Time }

// client is one closed-loop client: it sends its next request when the previous one is done.
// Only its own goroutine touches it.
type client struct {
	g      *Generator
	signer *v4.Signer
	creds  aws.Credentials
	req    *http.Request
	// curBody is the body of the request being sent, for GetBody.
	curBody []byte
	// lastBody is the last answer's body, kept for the setup calls that read it.
	lastBody []byte
	// namePrefix is CreateUser's body up to the per-request counter.
	namePrefix []byte
	seq        int

	hist         *Histogram
	ok, errors   uint64
	created      uint64
	firstError   string
	firstErrorAt time.Time
}

// newClient returns client id of run runID.
func (g *Generator) newClient(ctx context.Context, id int, runID string) *client {
	c := &client{
		g: g,
		// A signer per client: the signer caches derived keys behind a lock.
		signer: v4.NewSigner(),
		creds:  aws.Credentials{AccessKeyID: g.cfg.AccessKeyID, SecretAccessKey: g.cfg.SecretAccessKey, SessionToken: g.cfg.SessionToken},
		hist:   NewHistogram(),
	}
	c.namePrefix = fmt.Appendf(nil, "Action=CreateUser&Version=%s&UserName=bench-%s-%d-", iamVersion, runID, id)
	c.resetRequest(ctx)
	return c
}

// resetRequest gives the client a fresh request. The request and its header map are reused
// from one send to the next, which is safe once the response body is closed; after a
// transport error the transport may still hold the old one, so it is replaced.
func (c *client) resetRequest(ctx context.Context) {
	u := *c.g.endpoint // the signer writes the request's URL, so each client has its own
	c.req = (&http.Request{
		Method:     http.MethodPost,
		URL:        &u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     http.Header{"Content-Type": {formContentType}, "User-Agent": {userAgent}},
		Host:       u.Host,
	}).WithContext(ctx)
	// GetBody lets the transport resend a request that met a connection the server had just
	// closed as idle, instead of failing it.
	c.req.GetBody = c.getBody
}

// getBody returns the current body as a reader net/http knows to be in memory: for those it
// writes headers and body in one TCP segment, where for any other reader it flushes the
// headers first, costing both sides a system call and the server a wake-up per request.
func (c *client) getBody() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(c.curBody)), nil
}

// body returns op's request body and its payload hash for the client's next request.
func (c *client) body(op Op, fixed []byte, fixedHash string) ([]byte, string) {
	if op != CreateUser {
		return fixed, fixedHash
	}
	c.seq++
	b := make([]byte, 0, len(c.namePrefix)+20) // new each time: the transport may still read the last
	b = strconv.AppendInt(append(b, c.namePrefix...), int64(c.seq), 10)
	return b, payloadHash(b)
}

// fixedBody returns the body of op when it is the same for every request, or nil.
func (g *Generator) fixedBody(op Op, target string) []byte {
	switch op {
	case GetUser:
		return []byte("Action=GetUser&Version=" + iamVersion + "&UserName=" + url.QueryEscape(target))
	case ListUsers:
		return []byte("Action=ListUsers&Version=" + iamVersion + "&MaxItems=" + strconv.Itoa(g.cfg.ListMaxItems))
	case GetCallerIdentity:
		return []byte("Action=GetCallerIdentity&Version=" + stsVersion)
	case AssumeRole:
		return []byte("Action=AssumeRole&Version=" + stsVersion + "&RoleSessionName=bench&RoleArn=" + url.QueryEscape(g.role.roleARN))
	}
	return nil
}

// loop sends op's requests until the window closes, counting those that complete inside it.
// fixed and fixedHash are the body and payload hash of ops whose body never changes.
func (c *client) loop(ctx context.Context, op Op, w window, fixed []byte, fixedHash string) {
	service := op.Service()
	for ctx.Err() == nil {
		now := time.Now()
		if !now.Before(w.to) {
			return
		}
		body, hash := c.body(op, fixed, fixedHash)
		status, errBody, sent, err := c.send(ctx, body, hash, service, now)
		done := time.Now()
		if err == nil && status == http.StatusOK && op == CreateUser {
			c.created++
		}
		if done.Before(w.from) || !done.Before(w.to) {
			continue
		}
		switch {
		case err != nil:
			c.fail(done, err.Error())
		case status != http.StatusOK:
			c.fail(done, fmt.Sprintf("HTTP %d: %s", status, errBody))
		default:
			c.ok++
			c.hist.Record(done.Sub(sent))
		}
	}
}

// send signs body for service at signTime, sends it and reads the whole response. It returns
// the status, the start of the body when the status is not 200, and when the request was sent.
func (c *client) send(ctx context.Context, body []byte, hash, service string, signTime time.Time) (status int, errBody string, sent time.Time, err error) {
	return c.sendFull(ctx, body, hash, service, signTime, false)
}

// sendFull is send that, with keep, also keeps a 200 answer's body in c.lastBody.
func (c *client) sendFull(ctx context.Context, body []byte, hash, service string, signTime time.Time, keep bool) (status int, errBody string, sent time.Time, err error) {
	c.curBody = body
	c.req.Body, _ = c.getBody()
	c.req.ContentLength = int64(len(body))
	if err := c.signer.SignHTTP(ctx, c.creds, c.req, hash, service, c.g.cfg.Region, signTime); err != nil {
		return 0, "", signTime, fmt.Errorf("sign: %w", err)
	}
	sent = time.Now()
	resp, err := c.g.client.Do(c.req)
	if err != nil {
		c.resetRequest(ctx)
		return 0, "", sent, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		// Reading to the end lets the transport reuse the connection.
		if keep {
			c.lastBody, err = io.ReadAll(resp.Body)
		} else {
			_, err = io.Copy(io.Discard, resp.Body)
		}
		if err != nil {
			c.resetRequest(ctx)
			return 0, "", sent, fmt.Errorf("read response: %w", err)
		}
		return resp.StatusCode, "", sent, nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
	}
	if err != nil {
		c.resetRequest(ctx)
		return 0, "", sent, fmt.Errorf("read HTTP %d response: %w", resp.StatusCode, err)
	}
	return resp.StatusCode, string(bytes.TrimSpace(b)), sent, nil
}

// payloadHash returns the hex SHA-256 of body, SigV4's payload hash.
func payloadHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

func (c *client) fail(at time.Time, msg string) {
	c.errors++
	if c.firstError == "" {
		c.firstError, c.firstErrorAt = msg, at
	}
}
