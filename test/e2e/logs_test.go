package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// sentRequest is what a recordingClient saw of one request and its answer.
type sentRequest struct {
	requestID, userAgent, signature, token string
}

// recordingClient is the SDK's HTTP client, keeping each request's signature, session token and
// user agent with the request id of its answer, so the test can look for them in the logs.
type recordingClient struct {
	mu   sync.Mutex
	sent []sentRequest
}

func (c *recordingClient) Do(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		return nil, err
	}
	_, sig, _ := strings.Cut(r.Header.Get("Authorization"), "Signature=")
	c.mu.Lock()
	c.sent = append(c.sent, sentRequest{resp.Header.Get("x-amzn-RequestId"), r.Header.Get("User-Agent"), sig, r.Header.Get("X-Amz-Security-Token")})
	c.mu.Unlock()
	return resp, nil
}

func (c *recordingClient) last() sentRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sent[len(c.sent)-1]
}

func (c *recordingClient) clients(p *proc, keyID, secret, token string) (*iam.Client, *sts.Client) {
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(keyID, secret, token),
		BaseEndpoint: aws.String(p.URL),
		HTTPClient:   c,
		AppID:        "gatehouse-logs-test", // shows in the User-Agent header
	}
	return iam.NewFromConfig(cfg), sts.NewFromConfig(cfg)
}

// requestLine is a "request" log line in the JSON format.
type requestLine struct {
	Msg          string   `json:"msg"`
	RequestID    string   `json:"request_id"`
	Action       string   `json:"action"`
	Caller       string   `json:"caller"`
	AccessKeyID  string   `json:"access_key_id"`
	SourceIP     string   `json:"source_ip"`
	UserAgent    string   `json:"user_agent"`
	Outcome      string   `json:"outcome"`
	Status       int      `json:"status"`
	LatencyMS    *float64 `json:"latency_ms"`
	Latency      any      `json:"latency"`
	DenialReason *string  `json:"denial_reason"`
}

// TestRequestLogFields: the request log line of each call made with aws-sdk-go-v2 names the
// source IP, the access key id (also of an unknown key), the user agent and the latency in
// milliseconds; an AccessDenied line says why (no policy allowing it, an explicit deny), and
// no line carries a secret access key, a request signature or a session token.
func TestRequestLogFields(t *testing.T) {
	t.Parallel()
	p := startProcess(t, t.TempDir(), "--log-level", "info")
	rec := &recordingClient{}
	ctx := context.Background()
	root, _ := rec.clients(p, testRoot.KeyID, testRoot.Secret, "")
	mustUserKey := func(name, policy string) (string, string) {
		t.Helper()
		if _, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
		if policy != "" {
			if _, err := root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("p"), PolicyDocument: aws.String(policy)}); err != nil {
				t.Fatal(err)
			}
		}
		k, err := root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey)
	}
	plainID, plainSecret := mustUserKey("plain", "")
	denyID, denySecret := mustUserKey("denied", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["iam:*","sts:*"],"Resource":"*"},
		{"Effect":"Deny","Action":"iam:DeleteUser","Resource":"*"}]}`)

	type want struct {
		sent                  sentRequest
		action, caller, keyID string
		outcome, reason       string
	}
	var wants []want
	expect := func(err error, action, caller, keyID, outcome, reason string) {
		t.Helper()
		var ae smithy.APIError
		switch {
		case outcome == "success" && err != nil:
			t.Fatalf("%s: %v", action, err)
		case outcome != "success" && (!errors.As(err, &ae) || ae.ErrorCode() != outcome):
			t.Fatalf("%s: %v, want %s", action, err, outcome)
		}
		wants = append(wants, want{sent: rec.last(), action: action, caller: caller, keyID: keyID, outcome: outcome, reason: reason})
	}
	arn := func(name string) string { return "arn:aws:iam::" + testRoot.Account + ":user/" + name }

	plain, _ := rec.clients(p, plainID, plainSecret, "")
	_, err := plain.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("x")})
	expect(err, "CreateUser", arn("plain"), plainID, "AccessDenied", "no identity-based policy allows the iam:CreateUser action")

	denied, deniedSTS := rec.clients(p, denyID, denySecret, "")
	_, err = denied.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("plain")})
	expect(err, "DeleteUser", arn("denied"), denyID, "AccessDenied", "explicit deny in an identity-based policy")

	tok, err := deniedSTS.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	expect(err, "GetSessionToken", arn("denied"), denyID, "success", "")
	c := tok.Credentials
	_, session := rec.clients(p, aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	_, err = session.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	expect(err, "GetCallerIdentity", arn("denied"), aws.ToString(c.AccessKeyId), "success", "")

	_, unknown := rec.clients(p, "AKIAUNKNOWNKEY000001", "not-a-secret-of-ours-0123456789abcdefghij", "")
	_, err = unknown.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	expect(err, "GetCallerIdentity", "", "AKIAUNKNOWNKEY000001", "InvalidClientTokenId", "")

	if err := p.Stop(t); err != nil {
		t.Fatal(err)
	}
	secrets := []string{testRoot.Secret, plainSecret, denySecret, aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)}
	rec.mu.Lock()
	for _, s := range rec.sent {
		secrets = append(secrets, s.signature)
		if s.signature == "" {
			t.Errorf("request %s: no signature recorded", s.requestID)
		}
	}
	rec.mu.Unlock()
	byID := map[string]requestLine{}
	for _, raw := range p.Logs() {
		for _, s := range secrets {
			if s != "" && strings.Contains(raw, s) {
				t.Errorf("a log line carries a secret, signature or session token: %s", raw)
			}
		}
		var l requestLine
		if json.Unmarshal([]byte(raw), &l) == nil && l.Msg == "request" {
			byID[l.RequestID] = l
		}
	}
	for _, w := range wants {
		l, ok := byID[w.sent.requestID]
		if !ok {
			t.Errorf("%s (%s): no request log line", w.action, w.sent.requestID)
			continue
		}
		if l.Action != w.action || l.Caller != w.caller || l.AccessKeyID != w.keyID || l.Outcome != w.outcome || l.SourceIP != "127.0.0.1" {
			t.Errorf("%s: log line %+v, want caller %q, key %s, outcome %s from 127.0.0.1", w.action, l, w.caller, w.keyID, w.outcome)
		}
		if l.UserAgent != w.sent.userAgent || !strings.Contains(l.UserAgent, "app/gatehouse-logs-test") {
			t.Errorf("%s: user_agent %q, want the request's %q", w.action, l.UserAgent, w.sent.userAgent)
		}
		if l.LatencyMS == nil || *l.LatencyMS <= 0 || *l.LatencyMS > 10_000 || l.Latency != nil {
			t.Errorf("%s: latency_ms %v (latency %v), want a positive number of milliseconds only", w.action, l.LatencyMS, l.Latency)
		}
		switch {
		case w.reason == "" && l.DenialReason != nil:
			t.Errorf("%s: denial_reason %q on a request that was not denied", w.action, *l.DenialReason)
		case w.reason != "" && (l.DenialReason == nil || *l.DenialReason != w.reason):
			t.Errorf("%s: denial_reason %v, want %q", w.action, l.DenialReason, w.reason)
		}
	}
}

// TestRequestLogText: with --log-format text the request line is key=value text with the same
// fields.
func TestRequestLogText(t *testing.T) {
	t.Parallel()
	p := startProcess(t, t.TempDir(), "--log-level", "info", "--log-format", "text")
	_, client := procClients(p, testRoot.KeyID, testRoot.Secret)
	if _, err := client.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(t); err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, l := range p.Logs() {
		if !strings.Contains(l, " msg=request ") {
			continue
		}
		found = true
		for _, f := range []string{"action=GetCallerIdentity", "access_key_id=" + testRoot.KeyID, "source_ip=127.0.0.1", `user_agent="aws-sdk-go-v2/`, "outcome=success", "latency_ms="} {
			if !strings.Contains(l, f) {
				t.Errorf("text request line lacks %s: %s", f, l)
			}
		}
	}
	if !found || strings.HasPrefix(p.Logs()[0], "{") {
		t.Errorf("no text request line in:\n%s", strings.Join(p.Logs(), "\n"))
	}
}
