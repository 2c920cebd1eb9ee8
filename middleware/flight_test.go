package middleware

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// TestFetchShared: the requests that need a signing context, or a resource's stored policy,
// at the same time share one call to Gatehouse, and a request that gives up while it is in
// flight ends alone: the others still get its answer.
func TestFetchShared(t *testing.T) {
	g := startGatehouse(t)
	svcKey := g.user(t, "orders-service", serviceKeyPolicy)
	userKey := g.user(t, "alice", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"orders:*","Resource":"*"}]}`)

	// Gatehouse behind a proxy that counts the calls and holds each until the test lets one go.
	target, err := url.Parse(g.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var mu sync.Mutex
	calls := map[string]int{}
	started, release := make(chan string, 16), make(chan struct{}, 16)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := r.Header.Get("X-Amz-Target")
		op = op[strings.LastIndexByte(op, '.')+1:]
		mu.Lock()
		calls[op]++
		mu.Unlock()
		started <- op
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	m, err := New(Config{Endpoint: front.URL, Credentials: staticProvider(svcKey), Service: "orders", Logger: testLogger(), CacheTTL: time.Hour,
		Routes: func(*http.Request, *Identity) (Route, error) { return Route{}, ErrNoRoute }})
	if err != nil {
		t.Fatal(err)
	}

	k := scopeKey{accessKeyID: userKey.AccessKeyID, date: time.Now().UTC().Format("20060102"), region: "us-east-1"}
	arn := "arn:aws:orders:us-east-1:" + g.Account + ":order/17"
	for _, tc := range []struct {
		op  string
		get func(ctx context.Context) (any, error)
		// check is the answer all the requests share.
		check func(v any) bool
	}{
		{"GetSigningContext", func(ctx context.Context) (any, error) { return m.cache.get(ctx, k, m.now(), false) },
			func(v any) bool { e := v.(*entry); return e.ident.Arn == "arn:aws:iam::"+g.Account+":user/alice" }},
		// The resource has no stored policy: its absence is what they share.
		{"GetResourcePolicy", func(ctx context.Context) (any, error) { return m.cache.resourcePolicy(ctx, arn, m.now(), false) },
			func(v any) bool { e := v.(*resEntry); return e.policies == nil && !e.remote }},
	} {
		t.Run(tc.op, func(t *testing.T) {
			const n = 8
			type answer struct {
				v   any
				err error
			}
			answers := make(chan answer, n)
			for range n {
				go func() {
					v, err := tc.get(context.Background())
					answers <- answer{v, err}
				}()
			}
			if op := <-started; op != tc.op {
				t.Fatalf("the middleware called %s", op)
			}
			ctx, cancel := context.WithCancel(context.Background())
			quit := make(chan error, 1)
			go func() {
				_, err := tc.get(ctx)
				quit <- err
			}()
			cancel()
			if err := <-quit; !errors.Is(err, context.Canceled) {
				t.Errorf("a request that gave up: %v", err)
			}
			release <- struct{}{}
			var first any
			for range n {
				a := <-answers
				if a.err != nil {
					t.Fatalf("answer: %v", a.err)
				}
				if first == nil {
					first = a.v
				}
				if a.v != first || !tc.check(a.v) {
					t.Errorf("answer %+v, not the shared %+v", a.v, first)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if calls[tc.op] != 1 {
				t.Errorf("%d calls of %s, want 1", calls[tc.op], tc.op)
			}
		})
	}
}

// TestRefusedCredentials: credentials Gatehouse refused are refused again without asking it
// for RefusedTTL, so that a client retrying an unknown key costs Gatehouse one call each
// RefusedTTL; past it the middleware asks again.
func TestRefusedCredentials(t *testing.T) {
	g := startGatehouse(t)
	svcKey := g.user(t, "orders-service", serviceKeyPolicy)
	target, err := url.Parse(g.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var mu sync.Mutex
	calls := 0
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".GetSigningContext") {
			mu.Lock()
			calls++
			mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	var clock struct {
		sync.Mutex
		skew time.Duration
	}
	now := func() time.Time { clock.Lock(); defer clock.Unlock(); return time.Now().Add(clock.skew) }
	_, srv := protect(t, g, svcKey, func(c *Config) { c.Endpoint, c.Now = front.URL, now })
	unknown := aws.Credentials{AccessKeyID: "AKIAUNKNOWNKEY123456", SecretAccessKey: "secret"}
	asked := func() int { mu.Lock(); defer mu.Unlock(); return calls }

	for i := range 5 {
		res := call(t, srv, "GET", "/orders/17", unknown, "", nil)
		if res.Status != 403 || res.Type != "InvalidClientTokenId" || res.Message != "The security token included in the request is invalid." {
			t.Fatalf("request %d with an unknown key = %+v", i, res)
		}
	}
	if n := asked(); n != 1 {
		t.Errorf("5 requests with an unknown key asked Gatehouse %d times, want 1", n)
	}
	clock.Lock()
	clock.skew = RefusedTTL + time.Second
	clock.Unlock()
	if res := call(t, srv, "GET", "/orders/17", unknown, "", nil); res.Status != 403 || res.Type != "InvalidClientTokenId" {
		t.Fatalf("after RefusedTTL = %+v", res)
	}
	if n := asked(); n != 2 {
		t.Errorf("after RefusedTTL Gatehouse was asked %d times in all, want 2", n)
	}
}
