package middleware

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/gatehouse-iam/gatehouse/internal/decision"
	"github.com/gatehouse-iam/gatehouse/internal/enforce"
)

// sampleAnswer is a GetSigningContext answer with every field the decision API sends.
func sampleAnswer() decision.SigningContextOutput {
	at := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	return decision.SigningContextOutput{
		SigningKey: "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		Principal: decision.SigningPrincipal{Arn: "arn:aws:sts::123456789012:assumed-role/r/s", Account: "123456789012", UserId: "AROAEXAMPLE:s",
			Type: "AssumedRole", AccessKeyId: "ASIAEXAMPLE", PrincipalArn: "arn:aws:iam::123456789012:role/r", CallerRoleArn: "arn:aws:iam::123456789012:role/r",
			CallerRoleId: "AROAEXAMPLE", CallerId: "x", UserName: "u",
			Session: &decision.SigningSession{IssuedAt: at, Expiration: at.Add(time.Hour), RoleArn: "arn:aws:iam::123456789012:role/r", RoleId: "AROAEXAMPLE",
				RoleName: "r", SessionName: "s", UserId: "AIDA", SourceIdentity: "si", MFA: true, MFAAt: at, FederatedProvider: "p"}},
		Policies: []decision.SigningPolicy{
			{PolicyId: "read", PolicyType: "IAM Policy", Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"orders:Get*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"a"}}}]}`},
			{PolicyId: "arn:aws:iam::123456789012:policy/b", PolicyType: "Permissions Boundary Policy", Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"orders:*","Resource":"*"}]}`},
			{PolicyId: "Policy.1", PolicyType: "Session Policy", Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`},
		},
		SessionPolicies: true, DecideRemotely: false,
		Tags:   []decision.Tag{{Key: "team", Value: "a"}},
		MaxAge: 2,
	}
}

func testMiddleware(t testing.TB) *Middleware {
	m, err := New(Config{Endpoint: "http://127.0.0.1:1", Credentials: credentials.NewStaticCredentialsProvider("AKIA", "s", ""), Service: "orders",
		Routes: func(*http.Request, *Identity) (Route, error) { return Route{}, ErrNoRoute }, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestWireShapes decodes the decision API's answer strictly: a field the middleware does not
// know would be dropped silently otherwise.
func TestWireShapes(t *testing.T) {
	data, err := json.Marshal(sampleAnswer())
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var out signingContextOutput
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("the middleware does not know a field of the answer: %v", err)
	}
	m := testMiddleware(t)
	e, err := m.cache.compile(&out, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if e.ttl != 2*time.Second || e.session == nil || e.boundary == nil || e.identityPolicies == nil || !e.usesKeys ||
		e.principalARN != "arn:aws:iam::123456789012:role/r" || e.caller.RoleID != "AROAEXAMPLE" || e.ident.SessionName != "s" {
		t.Errorf("entry = %+v", e)
	}
	route := Route{Action: "orders:GetOrder", Resource: "arn:aws:orders:us-east-1:123456789012:order/1"}
	facts := enforce.RequestFacts{Time: time.Now(), Region: "us-east-1"}
	if ok, msg := e.decide(&route, &facts, nil); !ok {
		t.Errorf("denied: %s", msg)
	}
	route.Action = "orders:DeleteOrder"
	if ok, msg := e.decide(&route, &facts, nil); ok || msg != "User: arn:aws:sts::123456789012:assumed-role/r/s is not authorized to perform: orders:DeleteOrder on resource: arn:aws:orders:us-east-1:123456789012:order/1 because no identity-based policy allows the orders:DeleteOrder action" {
		t.Errorf("DeleteOrder = %v %q", ok, msg)
	}
	// A session capped by session policies, none of which is left, allows nothing.
	out.Policies = out.Policies[:2]
	e, _ = m.cache.compile(&out, time.Now())
	route.Action = "orders:GetOrder"
	if ok, msg := e.decide(&route, &facts, nil); ok {
		t.Errorf("capped by no session policy, allowed")
	} else if msg == "" {
		t.Error("no message")
	}
}

// TestDecisionAllocations: the decision over policies without condition keys allocates nothing.
func TestDecisionAllocations(t *testing.T) {
	a := sampleAnswer()
	a.Policies = a.Policies[1:2] // no condition keys
	a.Policies[0].PolicyType = "IAM Policy"
	a.SessionPolicies = false
	data, _ := json.Marshal(a)
	var out signingContextOutput
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	e, err := testMiddleware(t).cache.compile(&out, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	route := Route{Action: "orders:GetOrder", Resource: "arn:aws:orders:us-east-1:123456789012:order/1"}
	facts := enforce.RequestFacts{Time: time.Now()}
	if n := testing.AllocsPerRun(100, func() {
		if ok, _ := e.decide(&route, &facts, nil); !ok {
			t.Fatal("denied")
		}
	}); n != 0 {
		t.Errorf("the decision allocates %v times", n)
	}
}

// FuzzSigningContext feeds compile (and a decision) any answer: a damaged one fails, never
// panics, and never allows without policies.
func FuzzSigningContext(f *testing.F) {
	data, _ := json.Marshal(sampleAnswer())
	f.Add(data)
	f.Add([]byte(`{"SigningKey":"00","Principal":{"Type":"User"}}`))
	f.Add([]byte(`{"DecideRemotely":true,"Principal":{"Account":"123456789012"},"MaxAge":-5}`))
	m := testMiddleware(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var out signingContextOutput
		if json.Unmarshal(data, &out) != nil {
			return
		}
		e, err := m.cache.compile(&out, time.Now())
		if err != nil || e.remote {
			return
		}
		if e.ttl <= 0 || e.ttl > m.cfg.CacheTTL {
			t.Fatalf("ttl %v", e.ttl)
		}
		route := Route{Action: "orders:GetOrder", Resource: "*", Context: map[string][]string{"orders:Status": {"a", "b"}}}
		facts := enforce.RequestFacts{Time: time.Now()}
		ok, _ := e.decide(&route, &facts, nil)
		if ok && len(out.Policies) == 0 && out.Principal.Type != "Account" {
			t.Fatalf("allowed without policies: %s", data)
		}
	})
}

func TestCheckedBody(t *testing.T) {
	sum := func(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }
	good := &checkedBody{r: io.NopCloser(strings.NewReader("body")), h: sha256.New(), want: sum("body")}
	if b, err := io.ReadAll(good); err != nil || string(b) != "body" {
		t.Errorf("matching body = %q, %v", b, err)
	}
	bad := &checkedBody{r: io.NopCloser(strings.NewReader("tampered")), h: sha256.New(), want: sum("body")}
	if _, err := io.ReadAll(bad); !errors.Is(err, ErrBodyMismatch) {
		t.Errorf("tampered body: %v", err)
	}
	if _, err := bad.Read(make([]byte, 1)); !errors.Is(err, ErrBodyMismatch) {
		t.Errorf("read after the mismatch: %v", err)
	}
}
