package e2e

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// latencies summarises request durations.
type latencies []time.Duration

func (l latencies) String() string {
	if len(l) == 0 {
		return "no requests"
	}
	s := slices.Clone(l)
	slices.Sort(s)
	at := func(q int) time.Duration { return s[min(len(s)-1, len(s)*q/100)] }
	return fmt.Sprintf("n=%d p50=%v p99=%v max=%v", len(s), at(50).Round(10*time.Microsecond), at(99).Round(10*time.Microsecond), s[len(s)-1].Round(10*time.Microsecond))
}

func (l latencies) p99() time.Duration {
	s := slices.Clone(l)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*99/100)]
}

// TestForgedTokenFloodLatency floods the server with forged web identity tokens that name a
// registered issuer which is slow (2 s) and then fails, at a fixed rate whatever the answers
// take (as an attacker sends), and measures signed requests of other callers
// (GetCallerIdentity and GetUser with aws-sdk-go-v2) without and then with the flood, in one
// run. The figures are logged (go test -run TestForgedTokenFloodLatency -v); the only latency
// bound is a generous one against the pathological case, other requests waiting on identity
// provider fetches (10 s each).
func TestForgedTokenFloodLatency(t *testing.T) {
	const (
		phase     = 3 * time.Second // each measurement phase
		rate      = 500             // forged calls a second
		maxFlight = 3000            // forged calls in flight at most (file descriptors)
		issuerLag = 2 * time.Second // before the issuer answers, with 503
	)
	e := newEnv(t)
	ctx := context.Background()
	slow := newOIDCIssuerWith(t, issuerOpts{delay: issuerLag, status: http.StatusServiceUnavailable})
	role := webProvider(t, e, slow, "flood-target", []string{slow.Thumbprint})
	_, err := e.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bystander")})
	stsOK(t, err)

	// Forged tokens: the issuer's name, an attacker's key, a different key id and subject each.
	forger, err := rsa.GenerateKey(rand.Reader, 2048)
	stsOK(t, err)
	tokens := make([]string, 128)
	for i := range tokens {
		tokens[i] = slow.token(t, map[string]any{"sub": fmt.Sprintf("forged-%d", i), "aud": "gatehouse-app"}, forger, fmt.Sprintf("kid-%d", i))
	}

	// Other requests, one after another, for a while.
	measure := func(d time.Duration) (gci, getUser latencies) {
		for end := time.Now().Add(d); time.Now().Before(end); {
			start := time.Now()
			_, err := e.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			stsOK(t, err)
			gci = append(gci, time.Since(start))
			start = time.Now()
			_, err = e.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("bystander")})
			stsOK(t, err)
			getUser = append(getUser, time.Since(start))
		}
		return gci, getUser
	}
	measure(300 * time.Millisecond) // warm the caches and connections
	baseGCI, baseGetUser := measure(phase)

	// The flood: unsigned AssumeRoleWithWebIdentity over plain HTTP, rate a second.
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: maxFlight}}
	var (
		wg                       sync.WaitGroup
		mu                       sync.Mutex
		flood                    latencies
		inFlight, peak, unexpect atomic.Int32
		skipped                  int
		firstBody                atomic.Value
	)
	forge := func(token string) {
		defer wg.Done()
		defer inFlight.Add(-1)
		form := url.Values{"Action": {"AssumeRoleWithWebIdentity"}, "Version": {"2011-06-15"}, "RoleArn": {role},
			"RoleSessionName": {"forged"}, "WebIdentityToken": {token}}
		start := time.Now()
		resp, err := client.Post(e.URL, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		if err != nil {
			unexpect.Add(1)
			firstBody.CompareAndSwap(nil, err.Error())
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "<Code>IDPCommunicationError</Code>") {
			unexpect.Add(1)
			firstBody.CompareAndSwap(nil, string(body))
		}
		mu.Lock()
		flood = append(flood, d)
		mu.Unlock()
	}
	stop := make(chan struct{})
	sent := 0
	generated := make(chan struct{})
	go func() {
		defer close(generated)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			for range rate / 100 {
				if inFlight.Load() >= maxFlight {
					skipped++
					continue
				}
				n := inFlight.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				wg.Add(1)
				go forge(tokens[sent%len(tokens)])
				sent++
			}
		}
	}()
	floodStart := time.Now()
	floodGCI, floodGetUser := measure(phase + issuerLag)
	close(stop)
	<-generated
	wg.Wait()
	floodTime := time.Since(floodStart)

	t.Logf("other requests without the flood: GetCallerIdentity %v; GetUser %v", baseGCI, baseGetUser)
	t.Logf("other requests during the flood:  GetCallerIdentity %v; GetUser %v", floodGCI, floodGetUser)
	t.Logf("flood: %d forged AssumeRoleWithWebIdentity sent at %d/s (%d not sent, %d in flight at the most) over %v: %v; the issuer was asked %d times",
		sent, rate, skipped, peak.Load(), floodTime.Round(time.Millisecond), flood, slow.discoveryHits.Load())

	if n := unexpect.Load(); n > 0 {
		t.Errorf("%d forged calls were not answered IDPCommunicationError; first: %v", n, firstBody.Load())
	}
	// The issuer is asked once, and again only after each back-off (2 s, then 4 s).
	if n := slow.discoveryHits.Load(); n > 3 {
		t.Errorf("the issuer was asked %d times during a %v flood", n, floodTime)
	}
	// Only the pathological case: others queued behind 10 s identity-provider fetches.
	for _, l := range []latencies{floodGCI, floodGetUser} {
		if p := l.p99(); p > 5*time.Second {
			t.Errorf("p99 latency of other requests during the flood is %v", p)
		}
	}
}
