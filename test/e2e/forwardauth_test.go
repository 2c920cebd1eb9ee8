package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gatehouse-iam/gatehouse/internal/config"
	"github.com/gatehouse-iam/gatehouse/internal/sigv4"
)

// ordersService is the sample service behind nginx: it trusts the identity headers nginx sets
// from Gatehouse's answer, and checks a POST body against the payload hash the client signed
// (the part of SigV4 forward-auth leaves to the service, which alone sees the body).
func ordersService(t testing.TB) *httptest.Server {
	t.Helper()
	order := func(w http.ResponseWriter, r *http.Request, id, item string) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"OrderId": id, "Item": item,
			"Caller": r.Header.Get("X-Gatehouse-Principal-Arn"), "Session": r.Header.Get("X-Gatehouse-Session-Name")})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) { order(w, r, r.PathValue("id"), "book") })
	mux.HandleFunc("DELETE /orders/{id}", func(w http.ResponseWriter, r *http.Request) { order(w, r, r.PathValue("id"), "book") })
	mux.HandleFunc("GET /orders", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"Orders": []any{}, "Caller": r.Header.Get("X-Gatehouse-Principal-Arn")})
	})
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" && h != "UNSIGNED-PAYLOAD" {
			sum := sha256.Sum256(body)
			if hex.EncodeToString(sum[:]) != h {
				http.Error(w, `{"__type":"ValidationException","message":"the body does not match its signed hash"}`, http.StatusBadRequest)
				return
			}
		}
		var in struct{ Item string }
		_ = json.Unmarshal(body, &in)
		order(w, r, "new", in.Item)
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Gatehouse-Principal-Arn") == "" {
			http.Error(w, "reached without Gatehouse's identity headers", http.StatusInternalServerError)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// startForwardAuthNginx runs nginx in front of service, asking Gatehouse (gatehouse,
// host:port) about every request with auth_request for the service prefix, as
// docs/protecting-services.md shows.
func startForwardAuthNginx(t testing.TB, gatehouse, service, prefix string) string {
	t.Helper()
	return runNginx(t, func(addr string) string {
		return fmt.Sprintf(`
    upstream gatehouse { server %[2]s; keepalive 16; }
    upstream service { server %[3]s; keepalive 16; }
    server {
        listen %[1]s;
        # Keep connections to Gatehouse and the service open (HTTP/1.1 without
        # "Connection: close", set in each location, as proxy_set_header is not inherited
        # by a location that sets its own): a new one per subrequest costs more than the
        # decision.
        proxy_http_version 1.1;
        location = /_gatehouse {
            internal;
            proxy_pass http://gatehouse/forward-auth/%[4]s;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-Content-Length $content_length;
            proxy_set_header X-Original-Method $request_method;
            proxy_set_header X-Original-URI $request_uri;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header Connection "";
        }
        location @gatehouse_denied {
            default_type application/x-amz-json-1.1;
            add_header X-Amzn-ErrorType $gatehouse_error_type always;
            return 403 $gatehouse_error;
        }
        location / {
            auth_request /_gatehouse;
            auth_request_set $gatehouse_arn $upstream_http_x_gatehouse_principal_arn;
            auth_request_set $gatehouse_session $upstream_http_x_gatehouse_session_name;
            auth_request_set $gatehouse_error $upstream_http_x_gatehouse_error;
            auth_request_set $gatehouse_error_type $upstream_http_x_amzn_errortype;
            error_page 403 = @gatehouse_denied;
            proxy_pass http://service;
            proxy_set_header Connection "";
            proxy_set_header X-Gatehouse-Principal-Arn $gatehouse_arn;
            proxy_set_header X-Gatehouse-Session-Name $gatehouse_session;
        }
    }`, addr, gatehouse, service, prefix)
	})
}

const ordersPolicy = `{"Version":"2012-10-17","Statement":[
	{"Effect":"Allow","Action":"orders:GetOrder","Resource":"arn:aws:orders:*:%[1]s:order/1*"},
	{"Effect":"Allow","Action":"orders:ListOrders","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"127.0.0.2/32"}}},
	{"Effect":"Allow","Action":"orders:CreateOrder","Resource":"*","Condition":{"StringEquals":{"orders:Status":"open"}}}]}`

// userWithPolicy creates a user of e's first account with the inline policy doc (none when
// doc is "") and an access key, and returns the key.
func userWithPolicy(tb testing.TB, e *env, name, doc string) aws.Credentials {
	tb.Helper()
	ctx := context.Background()
	if _, err := e.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		tb.Fatal(err)
	}
	if doc != "" {
		if _, err := e.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("orders"), PolicyDocument: aws.String(doc)}); err != nil {
			tb.Fatal(err)
		}
	}
	k, err := e.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		tb.Fatal(err)
	}
	return aws.Credentials{AccessKeyID: *k.AccessKey.AccessKeyId, SecretAccessKey: *k.AccessKey.SecretAccessKey}
}

// forwardAuthEnv is a Gatehouse protecting the orders service behind nginx, with a user
// "clerk" allowed ordersPolicy; it returns nginx's URL and clerk's key.
func forwardAuthEnv(t *testing.T) (e *env, front string, key, secret string) {
	t.Helper()
	if nginxBinary() == "" {
		t.Skip("nginx is not installed (apt-get install nginx): skipping the forward-auth test")
	}
	servicesFile, err := filepath.Abs("testdata/services.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e = newEnvWith(t, nil, func(c *config.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} // nginx
		c.ServicesFile = servicesFile
	})
	svc := ordersService(t)
	front = "http://" + startForwardAuthNginx(t, strings.TrimPrefix(e.URL, "http://"), strings.TrimPrefix(svc.URL, "http://"), "orders")
	clerk := userWithPolicy(t, e, "clerk", fmt.Sprintf(ordersPolicy, e.Account))
	return e, front, clerk.AccessKeyID, clerk.SecretAccessKey
}

// signedCall sends a request signed by aws-sdk-go-v2's signer for service "orders" (or
// scope), from the local address from ("" any). A body is signed by its hash, sent in
// X-Amz-Content-Sha256 as S3-style clients do.
type signedCall struct {
	method, path, from, scope, token string
	body                             []byte
	header                           http.Header
}

func (c signedCall) do(t *testing.T, front string, creds aws.Credentials) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(c.method, front+c.path, bytes.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	hash := sigv4.EmptyPayloadHash
	if c.body != nil {
		sum := sha256.Sum256(c.body)
		hash = hex.EncodeToString(sum[:])
		req.Header.Set("X-Amz-Content-Sha256", hash)
	}
	scope := c.scope
	if scope == "" {
		scope = "orders"
	}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hash, scope, "eu-west-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if c.from != "" {
		tr.DialContext = (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(c.from)}}).DialContext
	}
	resp, err := (&http.Client{Transport: tr, Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, body
}

// awsError is AWS's JSON error body.
type awsError struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

// TestForwardAuthNginx protects the orders service behind a real nginx (auth_request) with
// Gatehouse policies, and calls it signed by aws-sdk-go-v2's signer: allowed and denied
// requests by resource, a condition key from a header, aws:SourceIp through the trusted
// proxy, a role session, unknown routes and bad signatures. A denial is AWS's JSON error with
// AWS's message text (IAM User Guide, "Troubleshoot access denied error messages": "User: ARN
// is not authorized to perform: ACTION on resource: ARN because no identity-based policy
// allows the ACTION action") and the encoded authorization message, which
// sts:DecodeAuthorizationMessage opens.
func TestForwardAuthNginx(t *testing.T) {
	t.Parallel()
	e, front, key, secret := forwardAuthEnv(t)
	clerk := aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}
	clerkARN := "arn:aws:iam::" + e.Account + ":user/clerk"
	// Without a resource (Resource "*") the message names none, as STS's and EC2's do.
	denied := func(action, resource string) string {
		on := ""
		if resource != "*" {
			on = " on resource: " + resource
		}
		return "User: " + clerkARN + " is not authorized to perform: " + action + on +
			" because no identity-based policy allows the " + action + " action"
	}
	orderARN := func(id string) string { return "arn:aws:orders:eu-west-1:" + e.Account + ":order/" + id }
	for _, tc := range []struct {
		name       string
		call       signedCall
		creds      *aws.Credentials
		wantStatus int
		wantCaller string // allowed: the caller the service saw
		wantType   string // denied: the error type
		wantPrefix string // denied: the message's start
	}{
		{name: "allowed by resource", call: signedCall{method: "GET", path: "/orders/17"}, wantStatus: 200, wantCaller: clerkARN},
		{name: "other resource", call: signedCall{method: "GET", path: "/orders/27"}, wantStatus: 403,
			wantType: "AccessDeniedException", wantPrefix: denied("orders:GetOrder", orderARN("27"))},
		{name: "action not granted", call: signedCall{method: "DELETE", path: "/orders/17"}, wantStatus: 403,
			wantType: "AccessDeniedException", wantPrefix: denied("orders:DeleteOrder", orderARN("17"))},
		{name: "condition key from a header", call: signedCall{method: "POST", path: "/orders", body: []byte(`{"Item":"pen"}`), header: http.Header{"X-Order-Status": {"open"}}},
			wantStatus: 200, wantCaller: clerkARN},
		{name: "condition key false", call: signedCall{method: "POST", path: "/orders", body: []byte(`{"Item":"pen"}`), header: http.Header{"X-Order-Status": {"closed"}}},
			wantStatus: 403, wantType: "AccessDeniedException", wantPrefix: denied("orders:CreateOrder", "*")},
		{name: "source IP through the trusted proxy", call: signedCall{method: "GET", path: "/orders", from: "127.0.0.2"}, wantStatus: 200, wantCaller: clerkARN},
		{name: "other source IP", call: signedCall{method: "GET", path: "/orders", from: "127.0.0.1"}, wantStatus: 403,
			wantType: "AccessDeniedException", wantPrefix: denied("orders:ListOrders", "*")},
		{name: "no route", call: signedCall{method: "PUT", path: "/orders/17"}, wantStatus: 403,
			wantType: "UnknownOperationException", wantPrefix: "No operation of Orders matches PUT /orders/17."},
		{name: "wrong secret", call: signedCall{method: "GET", path: "/orders/17"}, creds: &aws.Credentials{AccessKeyID: key, SecretAccessKey: "wrong"},
			wantStatus: 403, wantType: "SignatureDoesNotMatch", wantPrefix: "The request signature we calculated does not match the signature you provided."},
		{name: "unknown key", call: signedCall{method: "GET", path: "/orders/17"}, creds: &aws.Credentials{AccessKeyID: "AKIAUNKNOWNKEY000000", SecretAccessKey: secret},
			wantStatus: 403, wantType: "InvalidClientTokenId", wantPrefix: "The security token included in the request is invalid"},
		{name: "scoped to another service", call: signedCall{method: "GET", path: "/orders/17", scope: "s3"}, wantStatus: 403,
			wantType: "SignatureDoesNotMatch", wantPrefix: "Credential should be scoped to correct service: 'orders'."},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			creds := clerk
			if tc.creds != nil {
				creds = *tc.creds
			}
			status, _, body := tc.call.do(t, front, creds)
			if status != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", status, tc.wantStatus, body)
			}
			if status == 200 {
				var got struct{ Caller string }
				if err := json.Unmarshal(body, &got); err != nil || got.Caller != tc.wantCaller {
					t.Fatalf("the service saw caller %q (%v), want %q: %s", got.Caller, err, tc.wantCaller, body)
				}
				return
			}
			var ae awsError
			if err := json.Unmarshal(body, &ae); err != nil {
				t.Fatalf("error body %q is not AWS's JSON error: %v", body, err)
			}
			if ae.Type != tc.wantType || !strings.HasPrefix(ae.Message, tc.wantPrefix) {
				t.Fatalf("error %s: %q, want %s: %q...", ae.Type, ae.Message, tc.wantType, tc.wantPrefix)
			}
		})
	}

	t.Run("case=unsigned", func(t *testing.T) {
		resp, err := http.Get(front + "/orders/17")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 403 || !strings.Contains(string(body), "MissingAuthenticationToken") {
			t.Fatalf("unsigned request: %d %s", resp.StatusCode, body)
		}
	})

	t.Run("case=encoded authorization message", func(t *testing.T) {
		_, _, body := signedCall{method: "DELETE", path: "/orders/17"}.do(t, front, clerk)
		var ae awsError
		if err := json.Unmarshal(body, &ae); err != nil {
			t.Fatal(err)
		}
		_, encoded, ok := strings.Cut(ae.Message, "Encoded authorization failure message: ")
		if !ok {
			t.Fatalf("no encoded message in %q", ae.Message)
		}
		out, err := e.STS.DecodeAuthorizationMessage(context.Background(), &sts.DecodeAuthorizationMessageInput{EncodedMessage: aws.String(encoded)})
		if err != nil {
			t.Fatal(err)
		}
		var msg struct {
			Allowed bool `json:"allowed"`
			Context struct {
				Action   string `json:"action"`
				Resource string `json:"resource"`
			} `json:"context"`
		}
		if err := json.Unmarshal([]byte(*out.DecodedMessage), &msg); err != nil {
			t.Fatal(err)
		}
		if msg.Allowed || msg.Context.Action != "orders:DeleteOrder" || msg.Context.Resource != orderARN("17") {
			t.Fatalf("decoded message %s", *out.DecodedMessage)
		}
	})

	t.Run("case=role session", func(t *testing.T) {
		ctx := context.Background()
		trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"sts:AssumeRole"}]}`, e.Account)
		role, err := e.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("order-reader"), AssumeRolePolicyDocument: aws.String(trust)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("order-reader"), PolicyName: aws.String("read"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"orders:GetOrder","Resource":"*"}]}`)}); err != nil {
			t.Fatal(err)
		}
		// AWS refuses root's AssumeRole: a user with sts:AssumeRole assumes it.
		lead := userWithPolicy(t, e, "shift-lead", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)
		_, leadSTS := e.clients(lead.AccessKeyID, lead.SecretAccessKey, "")
		sess, err := leadSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("night-shift")})
		if err != nil {
			t.Fatal(err)
		}
		c := sess.Credentials
		status, _, body := signedCall{method: "GET", path: "/orders/99"}.do(t, front,
			aws.Credentials{AccessKeyID: *c.AccessKeyId, SecretAccessKey: *c.SecretAccessKey, SessionToken: *c.SessionToken})
		var got struct{ Caller, Session string }
		if err := json.Unmarshal(body, &got); status != 200 || err != nil {
			t.Fatalf("role session: %d %s", status, body)
		}
		if want := "arn:aws:sts::" + e.Account + ":assumed-role/order-reader/night-shift"; got.Caller != want || got.Session != "night-shift" {
			t.Fatalf("the service saw %q session %q, want %q session night-shift", got.Caller, got.Session, want)
		}
	})
}

// TestForwardAuthClients calls the orders service behind nginx with the aws CLI and boto3,
// signing as they do for any AWS service, from the service model in testdata/models (the
// CLI's and botocore's own way to add a service: AWS_DATA_PATH).
func TestForwardAuthClients(t *testing.T) {
	t.Parallel()
	e, front, key, secret := forwardAuthEnv(t)
	models, err := filepath.Abs("testdata/models")
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	clientEnv := append(os.Environ(), "AWS_DATA_PATH="+models, "AWS_ACCESS_KEY_ID="+key, "AWS_SECRET_ACCESS_KEY="+secret,
		"AWS_DEFAULT_REGION=eu-west-1", "AWS_CONFIG_FILE="+filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"), "AWS_PAGER=", "HOME="+home)
	clerkARN := "arn:aws:iam::" + e.Account + ":user/clerk"

	t.Run("client=aws-cli", func(t *testing.T) {
		if _, err := exec.LookPath("aws"); err != nil {
			t.Skip("the aws CLI is not installed")
		}
		cli := func(args ...string) (string, error) {
			cmd := exec.Command("aws", append([]string{"--endpoint-url", front, "--output", "json", "orders"}, args...)...)
			cmd.Env = clientEnv
			out, err := cmd.CombinedOutput()
			return string(out), err
		}
		out, err := cli("get-order", "--order-id", "17")
		if err != nil || !strings.Contains(out, `"Caller": "`+clerkARN+`"`) {
			t.Fatalf("aws orders get-order: %v\n%s", err, out)
		}
		out, err = cli("create-order", "--item", "pen", "--status", "open")
		if err != nil || !strings.Contains(out, `"Item": "pen"`) {
			t.Fatalf("aws orders create-order (its body unsigned, UNSIGNED-PAYLOAD): %v\n%s", err, out)
		}
		out, err = cli("delete-order", "--order-id", "17")
		if err == nil || !strings.Contains(out, "An error occurred (AccessDeniedException) when calling the DeleteOrder operation: User: "+clerkARN+
			" is not authorized to perform: orders:DeleteOrder on resource: arn:aws:orders:eu-west-1:"+e.Account+":order/17") {
			t.Fatalf("aws orders delete-order: %v\n%s", err, out)
		}
	})

	t.Run("client=boto3", func(t *testing.T) {
		script := `
import sys, boto3, botocore.exceptions
front, caller, account = sys.argv[1], sys.argv[2], sys.argv[3]
c = boto3.client("orders", endpoint_url=front)
got = c.get_order(OrderId="12")
assert got["Caller"] == caller and got["OrderId"] == "12", got
got = c.create_order(Item="ink", Status="open")
assert got["Item"] == "ink", got
for call in (lambda: c.get_order(OrderId="27"), lambda: c.create_order(Item="ink", Status="closed")):
    try:
        call()
        raise SystemExit("a denied call succeeded")
    except botocore.exceptions.ClientError as e:
        err = e.response["Error"]
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 403, e.response
        assert err["Code"] == "AccessDeniedException", err
        assert err["Message"].startswith("User: " + caller + " is not authorized to perform: orders:"), err
print("ok")
`
		cmd := exec.Command("python3", "-c", script, front, clerkARN, e.Account)
		cmd.Env = clientEnv
		out, err := cmd.CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "ok" {
			t.Fatalf("boto3: %v\n%s", err, out)
		}
	})
}
