package middleware

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gatehouse-iam/gatehouse/internal/config"
	"github.com/gatehouse-iam/gatehouse/internal/sigv4"
)

// protect wraps the orders service in a middleware for g and serves it on loopback.
func protect(t *testing.T, g *gatehouse, svcKey aws.Credentials, adjust func(*Config)) (*Middleware, string) {
	t.Helper()
	routes, err := RoutesFromServices([]byte(ordersFile), "orders")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Endpoint: g.URL, Credentials: credentials.StaticCredentialsProvider{Value: svcKey}, Service: "orders", Routes: routes, Logger: testLogger()}
	if adjust != nil {
		adjust(&cfg)
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Wrap(ordersHandler()))
	t.Cleanup(srv.Close)
	return m, srv.URL
}

func TestMiddleware(t *testing.T) {
	g := startGatehouse(t)
	ctx := context.Background()
	acct := g.Account
	svcKey := g.user(t, "orders-service", serviceKeyPolicy)
	alice := g.user(t, "alice", `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Action":"orders:GetOrder","Resource":"arn:aws:orders:*:`+acct+`:order/1*"},
	 {"Effect":"Allow","Action":"orders:CreateOrder","Resource":"*","Condition":{"StringEquals":{"orders:Status":"open"}}}]}`)
	const cacheTTL = 300 * time.Millisecond
	_, url := protect(t, g, svcKey, func(c *Config) { c.CacheTTL = cacheTTL })

	t.Run("allowed", func(t *testing.T) {
		res := call(t, url, "GET", "/orders/17", alice, "", nil)
		if res.Status != 200 || res.Identity == nil {
			t.Fatalf("GET /orders/17 = %+v", res)
		}
		id := res.Identity
		if id.Arn != "arn:aws:iam::"+acct+":user/alice" || id.Account != acct || id.Type != "User" || id.UserName != "alice" ||
			id.Action != "orders:GetOrder" || id.Resource != "arn:aws:orders:us-east-1:"+acct+":order/17" || id.Remote || id.AccessKeyId != alice.AccessKeyID {
			t.Errorf("identity = %+v", id)
		}
	})
	t.Run("denied", func(t *testing.T) {
		res := call(t, url, "GET", "/orders/27", alice, "", nil)
		want := "User: arn:aws:iam::" + acct + ":user/alice is not authorized to perform: orders:GetOrder on resource: arn:aws:orders:us-east-1:" +
			acct + ":order/27 because no identity-based policy allows the orders:GetOrder action"
		if res.Status != 403 || res.Type != "AccessDeniedException" || res.Message != want {
			t.Errorf("GET /orders/27 = %+v, want 403 AccessDeniedException %q", res, want)
		}
		res = call(t, url, "GET", "/orders", alice, "", nil)
		if res.Status != 403 || !strings.Contains(res.Message, "perform: orders:ListOrders because no identity-based policy") {
			t.Errorf("GET /orders = %+v", res)
		}
	})
	t.Run("condition keys and signed body", func(t *testing.T) {
		res := call(t, url, "POST", "/orders", alice, `{"Item":"book"}`, map[string]string{"X-Order-Status": "open"})
		if res.Status != 200 || res.Body != `{"Item":"book"}` {
			t.Errorf("POST open = %+v", res)
		}
		res = call(t, url, "POST", "/orders", alice, `{"Item":"book"}`, map[string]string{"X-Order-Status": "closed"})
		if res.Status != 403 || res.Type != "AccessDeniedException" {
			t.Errorf("POST closed = %+v", res)
		}
	})
	t.Run("bad signature", func(t *testing.T) {
		bad := alice
		bad.SecretAccessKey = "x" + bad.SecretAccessKey[1:]
		res := call(t, url, "GET", "/orders/17", bad, "", nil)
		if res.Status != 403 || res.Type != "SignatureDoesNotMatch" {
			t.Errorf("bad secret = %+v", res)
		}
		req, _ := http.NewRequest("GET", url+"/orders/17", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 || resp.Header.Get("X-Amzn-Errortype") != "MissingAuthenticationToken" {
			t.Errorf("unsigned = %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"))
		}
	})
	t.Run("unknown key", func(t *testing.T) {
		res := call(t, url, "GET", "/orders/17", aws.Credentials{AccessKeyID: "AKIAUNKNOWNKEY123456", SecretAccessKey: "secret"}, "", nil)
		if res.Status != 403 || res.Type != "InvalidClientTokenId" || res.Message != "The security token included in the request is invalid." {
			t.Errorf("unknown key = %+v", res)
		}
	})
	t.Run("role session", func(t *testing.T) {
		bob := g.user(t, "bob", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)
		trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:user/bob"},"Action":"sts:AssumeRole"}]}`
		if _, err := g.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("reader"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
			t.Fatal(err)
		}
		if _, err := g.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("reader"), PolicyName: aws.String("read"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"orders:GetOrder","Resource":"*"}]}`)}); err != nil {
			t.Fatal(err)
		}
		_, bobSTS := g.clients(bob.AccessKeyID, bob.SecretAccessKey, "")
		out, err := bobSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + acct + ":role/reader"), RoleSessionName: aws.String("s1"),
			Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"orders:GetOrder","Resource":"arn:aws:orders:*:*:order/9*"}]}`)})
		if err != nil {
			t.Fatal(err)
		}
		sess := aws.Credentials{AccessKeyID: *out.Credentials.AccessKeyId, SecretAccessKey: *out.Credentials.SecretAccessKey, SessionToken: *out.Credentials.SessionToken}
		res := call(t, url, "GET", "/orders/99", sess, "", nil)
		if res.Status != 200 || res.Identity == nil || res.Identity.SessionName != "s1" || res.Identity.Type != "AssumedRole" ||
			res.Identity.Arn != "arn:aws:sts::"+acct+":assumed-role/reader/s1" {
			t.Fatalf("role session = %+v %+v", res, res.Identity)
		}
		// The session policy caps the role's.
		res = call(t, url, "GET", "/orders/17", sess, "", nil)
		if res.Status != 403 || !strings.HasSuffix(res.Message, "because no session policy allows the orders:GetOrder action") {
			t.Errorf("beyond the session policy = %+v", res)
		}
		// A genuine token with another key id is not valid for it.
		forged := sess
		forged.AccessKeyID = "ASIAOTHERKEY12345678"
		if res := call(t, url, "GET", "/orders/99", forged, "", nil); res.Status != 403 || res.Type != "InvalidClientTokenId" {
			t.Errorf("token with another key id = %+v", res)
		}
	})
	t.Run("revocation within CacheTTL", func(t *testing.T) {
		carol := g.user(t, "carol")
		if _, err := g.IAM.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("orders-read"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"orders:*","Resource":"*"}]}`)}); err != nil {
			t.Fatal(err)
		}
		arn := "arn:aws:iam::" + acct + ":policy/orders-read"
		if _, err := g.IAM.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("carol"), PolicyArn: aws.String(arn)}); err != nil {
			t.Fatal(err)
		}
		if res := call(t, url, "GET", "/orders/5", carol, "", nil); res.Status != 200 {
			t.Fatalf("before detaching = %+v", res)
		}
		if _, err := g.IAM.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("carol"), PolicyArn: aws.String(arn)}); err != nil {
			t.Fatal(err)
		}
		detached := time.Now()
		for {
			res := call(t, url, "GET", "/orders/5", carol, "", nil)
			if res.Status == 403 {
				if res.Type != "AccessDeniedException" {
					t.Errorf("after detaching = %+v", res)
				}
				break
			}
			if time.Since(detached) > cacheTTL+200*time.Millisecond {
				t.Fatalf("still allowed %v after the detach (CacheTTL %v)", time.Since(detached), cacheTTL)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if d := time.Since(detached); d > cacheTTL+200*time.Millisecond {
			t.Errorf("denied only after %v", d)
		}
	})
	t.Run("grant seen within CacheTTL", func(t *testing.T) {
		dave := g.user(t, "dave")
		if res := call(t, url, "GET", "/orders/1", dave, "", nil); res.Status != 403 {
			t.Fatalf("before the grant = %+v", res)
		}
		if _, err := g.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("dave"), PolicyName: aws.String("read"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"orders:GetOrder","Resource":"*"}]}`)}); err != nil {
			t.Fatal(err)
		}
		// A denial comes from data younger than enforce.CacheTTL; older data is fetched again.
		deadline := time.Now().Add(cacheTTL + 200*time.Millisecond)
		for call(t, url, "GET", "/orders/1", dave, "", nil).Status != 200 {
			if time.Now().After(deadline) {
				t.Fatal("the new grant is not used within CacheTTL")
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	t.Run("resource policy decided by Gatehouse", func(t *testing.T) {
		m, err := New(Config{Endpoint: g.URL, Credentials: credentials.StaticCredentialsProvider{Value: svcKey}, Service: "orders", Logger: testLogger(),
			Routes: func(r *http.Request, caller *Identity) (Route, error) {
				return Route{Action: "orders:GetOrder", Resource: "arn:aws:orders:us-east-1:" + acct + ":order/shared",
					ResourcePolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct +
						`:user/alice"},"Action":"orders:GetOrder","Resource":"*"}]}`}, nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(m.Wrap(ordersHandler()))
		defer srv.Close()
		res := call(t, srv.URL, "GET", "/shared", alice, "", nil)
		if res.Status != 200 || res.Identity == nil || !res.Identity.Remote || res.Identity.Arn != "arn:aws:iam::"+acct+":user/alice" {
			t.Errorf("resource policy = %+v %+v", res, res.Identity)
		}
		bad := alice
		bad.SecretAccessKey = "x" + bad.SecretAccessKey[1:]
		if res := call(t, srv.URL, "GET", "/shared", bad, "", nil); res.Status != 403 || res.Type != "SignatureDoesNotMatch" {
			t.Errorf("resource policy, bad signature = %+v", res)
		}
	})
	t.Run("stored resource policy", func(t *testing.T) {
		root := aws.Credentials{AccessKeyID: g.Root.AccessKeyID, SecretAccessKey: g.Root.SecretAccessKey}
		put := func(arn, doc string) {
			t.Helper()
			var out struct{}
			if err := g.jsonCall(t, root, "PutResourcePolicy", map[string]string{"ResourceArn": arn, "Policy": doc}, &out); err != nil {
				t.Fatalf("PutResourcePolicy %s: %v", arn, err)
			}
		}
		order := func(id string) string { return "arn:aws:orders:us-east-1:" + acct + ":order/" + id }
		// A grant to alice on an order her identity policy does not cover.
		put(order("55"), `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+acct+`:user/alice"},"Action":"orders:GetOrder","Resource":"*"}]}`)
		res := call(t, url, "GET", "/orders/55", alice, "", nil)
		if res.Status != 200 || res.Identity == nil || res.Identity.Remote {
			t.Errorf("granted by the resource policy = %+v %+v", res, res.Identity)
		}
		// An explicit deny on an order she may read: seen within CacheTTL.
		if res := call(t, url, "GET", "/orders/17", alice, "", nil); res.Status != 200 {
			t.Fatalf("before the deny = %+v", res)
		}
		put(order("17"), `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"orders:*","Resource":"*"}]}`)
		deadline := time.Now().Add(cacheTTL + 200*time.Millisecond)
		for {
			res := call(t, url, "GET", "/orders/17", alice, "", nil)
			if res.Status == 403 {
				if !strings.Contains(res.Message, "with an explicit deny in a resource-based policy") {
					t.Errorf("denied = %+v", res)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the resource policy's deny is not used within CacheTTL")
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	t.Run("another account's principal decided by Gatehouse", func(t *testing.T) {
		c, err := g.app.CreateAccount(ctx, config.Credentials{})
		if err != nil {
			t.Fatal(err)
		}
		other := &gatehouse{URL: g.URL, Account: c.AccountID}
		other.IAM, other.STS = g.clients(c.AccessKeyID, c.SecretAccessKey, "")
		frank := other.user(t, "frank", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"orders:GetOrder","Resource":"arn:aws:orders:*:*:order/7*"}]}`)
		res := call(t, url, "GET", "/orders/71", frank, "", nil)
		if res.Status != 200 || res.Identity == nil || !res.Identity.Remote || res.Identity.Arn != "arn:aws:iam::"+c.AccountID+":user/frank" ||
			res.Identity.Resource != "arn:aws:orders:us-east-1:"+c.AccountID+":order/71" {
			t.Errorf("another account's user = %+v %+v", res, res.Identity)
		}
		res = call(t, url, "GET", "/orders/81", frank, "", nil)
		if res.Status != 403 || res.Type != "AccessDeniedException" || !strings.HasPrefix(res.Message, "User: arn:aws:iam::"+c.AccountID+":user/frank is not authorized") {
			t.Errorf("another account's user, denied = %+v", res)
		}
		bad := frank
		bad.SecretAccessKey = "x" + bad.SecretAccessKey[1:]
		if res := call(t, url, "GET", "/orders/71", bad, "", nil); res.Status != 403 || res.Type != "SignatureDoesNotMatch" {
			t.Errorf("another account's user, bad signature = %+v", res)
		}
	})
	t.Run("GetSigningContext", func(t *testing.T) {
		date := time.Now().UTC().Format("20060102")
		var out signingContextOutput
		in := signingContextInput{AccessKeyId: alice.AccessKeyID, Date: date, Region: "eu-west-1", Service: "orders"}
		if err := g.jsonCall(t, svcKey, "GetSigningContext", &in, &out); err != nil {
			t.Fatal(err)
		}
		want := sigv4.DeriveSigningKey(alice.SecretAccessKey, date, "eu-west-1", "orders")
		if out.SigningKey != hex.EncodeToString(want[:]) || strings.Contains(string(mustJSON(out)), alice.SecretAccessKey) {
			t.Errorf("SigningKey = %s, want %x", out.SigningKey, want)
		}
		if out.Principal.Arn != "arn:aws:iam::"+acct+":user/alice" || len(out.Policies) != 1 || out.Policies[0].PolicyType != "IAM Policy" || out.MaxAge != 2 {
			t.Errorf("answer = %+v", out)
		}
		for _, c := range []struct {
			in   signingContextInput
			code string
		}{
			{signingContextInput{AccessKeyId: alice.AccessKeyID, Date: date, Region: "us-east-1", Service: "iam"}, "AccessDeniedException"},
			{signingContextInput{AccessKeyId: alice.AccessKeyID, Date: date, Region: "us-east-1", Service: "GATEHOUSE"}, "AccessDeniedException"},
			{signingContextInput{AccessKeyId: alice.AccessKeyID, Date: date, Region: "us-east-1", Service: "billing"}, "AccessDeniedException"},
			{signingContextInput{AccessKeyId: alice.AccessKeyID, Date: "20200101", Region: "us-east-1", Service: "orders"}, "ValidationException"},
			{signingContextInput{AccessKeyId: alice.AccessKeyID, Date: date, Region: "a/b", Service: "orders"}, "ValidationException"},
			{signingContextInput{AccessKeyId: "AKIANOSUCHKEY0000000", Date: date, Region: "us-east-1", Service: "orders"}, "InvalidClientTokenId"},
			{signingContextInput{AccessKeyId: "ASIANOSUCHKEY0000000", Date: date, Region: "us-east-1", Service: "orders"}, "InvalidClientTokenId"},
			{signingContextInput{AccessKeyId: "ASIANOSUCHKEY0000000", SessionToken: "garbage", Date: date, Region: "us-east-1", Service: "orders"}, "InvalidClientTokenId"},
		} {
			err := g.jsonCall(t, svcKey, "GetSigningContext", &c.in, &out)
			if ce, ok := err.(*callError); !ok || ce.Code != c.code {
				t.Errorf("GetSigningContext %+v: %v, want %s", c.in, err, c.code)
			}
		}
		// Alice may not ask at all.
		if err := g.jsonCall(t, alice, "GetSigningContext", &in, &out); err == nil || !strings.Contains(err.Error(), "AccessDeniedException") {
			t.Errorf("GetSigningContext by alice: %v", err)
		}
	})
	t.Run("scoped service key", func(t *testing.T) {
		_, other := protect(t, g, svcKey, func(c *Config) {
			c.Service = "billing"
		})
		res := callService(t, other, "billing", alice)
		if res.Status != 500 || res.Type != "InternalFailure" {
			t.Errorf("a service key asking for another signing name = %+v", res)
		}
	})

	t.Run("a burst asks once", func(t *testing.T) {
		var calls atomic.Int32
		_, url := protect(t, g, svcKey, func(c *Config) {
			c.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".GetSigningContext") {
					calls.Add(1)
				}
				return http.DefaultTransport.RoundTrip(r)
			})}
		})
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				if res := call(t, url, "GET", "/orders/12", alice, "", nil); res.Status != 200 {
					t.Errorf("burst = %+v", res)
				}
			})
		}
		wg.Wait()
		if n := calls.Load(); n != 1 {
			t.Errorf("20 requests at once asked GetSigningContext %d times", n)
		}
	})

	// Last: Gatehouse stops.
	t.Run("Gatehouse unreachable", func(t *testing.T) {
		const cache, stale = 200 * time.Millisecond, 1500 * time.Millisecond
		_, url := protect(t, g, svcKey, func(c *Config) { c.CacheTTL, c.StaleTTL = cache, stale })
		erin := g.user(t, "erin", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"orders:GetOrder","Resource":"*"}]}`)
		if res := call(t, url, "GET", "/orders/1", alice, "", nil); res.Status != 200 {
			t.Fatalf("alice = %+v", res)
		}
		fetched := time.Now()
		g.stop()
		time.Sleep(cache + 50*time.Millisecond)
		if res := call(t, url, "GET", "/orders/1", alice, "", nil); res.Status != 200 {
			t.Errorf("a cached principal past CacheTTL while Gatehouse is down = %+v", res)
		}
		// A denial from old data would be wrong if Gatehouse now allowed: 503.
		if res := call(t, url, "GET", "/orders/2", alice, "", nil); res.Status != 503 || res.Type != "ServiceUnavailableException" {
			t.Errorf("a denial from stale data = %+v", res)
		}
		if res := call(t, url, "GET", "/orders/1", erin, "", nil); res.Status != 503 || res.Type != "ServiceUnavailableException" {
			t.Errorf("a principal not cached while Gatehouse is down = %+v", res)
		}
		time.Sleep(time.Until(fetched.Add(stale + 50*time.Millisecond)))
		if res := call(t, url, "GET", "/orders/1", alice, "", nil); res.Status != 503 {
			t.Errorf("a cached principal past StaleTTL = %+v", res)
		}
	})
}

// callService calls a service of another signing name.
func callService(t *testing.T, url, service string, creds aws.Credentials) result {
	t.Helper()
	return callSigned(t, url, "GET", "/orders/17", service, creds)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
