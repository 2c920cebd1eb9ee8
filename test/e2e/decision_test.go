package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gatehouse-iam/gatehouse/internal/config"
	"github.com/gatehouse-iam/gatehouse/internal/sigv4"
)

// callDecision makes a decision-API call (AWS JSON 1.1, X-Amz-Target Gatehouse_20261201.op)
// signed by aws-sdk-go-v2's signer for the service "gatehouse".
func callDecision(t *testing.T, e *env, creds aws.Credentials, op string, in any) (int, map[string]any) {
	t.Helper()
	body, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, e.URL+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Gatehouse_20261201."+op)
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "gatehouse", "eu-west-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s answered %d %q: not JSON", op, resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

// signedOrderRequest is a client's request to the orders service, signed by the SDK's signer,
// as a service would pass it on to the decision API.
func signedOrderRequest(t *testing.T, creds aws.Credentials, method, uri string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(method, "https://orders.example"+uri, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, sigv4.EmptyPayloadHash, "orders", "eu-west-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	return map[string]any{"Method": method, "URI": uri, "Host": req.Host, "Headers": req.Header}
}

// TestDecisionAPI asks Gatehouse's decision API about principals by ARN and by their signed
// requests: decisions with the statements behind them, missing context keys, a cross-account
// resource policy, a batch, and the API's own authorization (gatehouse:Authorize).
func TestDecisionAPI(t *testing.T) {
	t.Parallel()
	servicesFile, err := filepath.Abs("testdata/services.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, nil, func(c *config.Config) { c.ServicesFile = servicesFile })
	ctx := context.Background()
	clerk := userWithPolicy(t, e, "clerk", fmt.Sprintf(ordersPolicy, e.Account))
	asker := userWithPolicy(t, e, "gateway", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["gatehouse:Authorize","gatehouse:BatchAuthorize"],"Resource":"*"}]}`)
	nobody := userWithPolicy(t, e, "nobody", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"orders:*","Resource":"*"}]}`)
	clerkARN := "arn:aws:iam::" + e.Account + ":user/clerk"
	other, _, _ := e.newAccount(t)
	partnerOrder := "arn:aws:orders:eu-west-1:" + other.AccountID + ":order/5"
	grantClerk := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"%s"},"Action":"orders:GetOrder","Resource":"%s"}]}`, clerkARN, partnerOrder)
	if _, err := e.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("clerk"), PolicyName: aws.String("partner"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Sid":"Partners","Effect":"Allow","Action":"orders:GetOrder","Resource":"arn:aws:orders:*:` + other.AccountID + `:order/*"}]}`)}); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name         string
		creds        aws.Credentials
		q            map[string]any
		wantStatus   int
		wantDecision string
		wantError    string // the error type of a refused call
		check        func(t *testing.T, out map[string]any)
	}{
		{name: "by ARN, allowed", creds: asker, q: map[string]any{"PrincipalArn": clerkARN, "Action": "orders:GetOrder", "Resource": "arn:aws:orders:eu-west-1:" + e.Account + ":order/17"},
			wantStatus: 200, wantDecision: "allowed", check: func(t *testing.T, out map[string]any) {
				st := out["MatchedStatements"].([]any)[0].(map[string]any)
				if st["SourcePolicyId"] != "orders" || st["Effect"] != "Allow" || st["SourcePolicyType"] == "" {
					t.Errorf("matched statement %v", st)
				}
				if p := out["Principal"].(map[string]any); p["Arn"] != clerkARN || p["Account"] != e.Account {
					t.Errorf("principal %v", p)
				}
			}},
		{name: "by ARN, denied", creds: asker, q: map[string]any{"PrincipalArn": clerkARN, "Action": "orders:GetOrder", "Resource": "arn:aws:orders:eu-west-1:" + e.Account + ":order/27"},
			wantStatus: 200, wantDecision: "implicitDeny", check: func(t *testing.T, out map[string]any) {
				if msg, _ := out["Message"].(string); !strings.HasPrefix(msg, "User: "+clerkARN+" is not authorized to perform: orders:GetOrder on resource: arn:aws:orders:eu-west-1:") {
					t.Errorf("message %q", msg)
				}
			}},
		{name: "missing context key", creds: asker, q: map[string]any{"PrincipalArn": clerkARN, "Action": "orders:CreateOrder"},
			wantStatus: 200, wantDecision: "implicitDeny", check: func(t *testing.T, out map[string]any) {
				if fmt.Sprint(out["MissingContextKeys"]) != "[orders:Status]" {
					t.Errorf("missing keys %v", out["MissingContextKeys"])
				}
			}},
		{name: "context given", creds: asker, q: map[string]any{"PrincipalArn": clerkARN, "Action": "orders:CreateOrder", "Context": map[string][]string{"orders:Status": {"open"}}},
			wantStatus: 200, wantDecision: "allowed"},
		{name: "signed request routed", creds: asker, q: map[string]any{"SignedRequest": signedOrderRequest(t, clerk, "GET", "/orders/17")},
			wantStatus: 200, wantDecision: "allowed", check: func(t *testing.T, out map[string]any) {
				if out["Action"] != "orders:GetOrder" || out["Resource"] != "arn:aws:orders:eu-west-1:"+e.Account+":order/17" {
					t.Errorf("routed to %v on %v", out["Action"], out["Resource"])
				}
			}},
		{name: "signed request, bad signature", creds: asker, q: map[string]any{"SignedRequest": signedOrderRequest(t, aws.Credentials{AccessKeyID: clerk.AccessKeyID, SecretAccessKey: "wrong"}, "GET", "/orders/17")},
			wantStatus: 403, wantError: "SignatureDoesNotMatch"},
		{name: "cross account without the resource policy", creds: asker, q: map[string]any{"PrincipalArn": clerkARN, "Action": "orders:GetOrder", "Resource": partnerOrder, "ResourceAccount": other.AccountID},
			wantStatus: 200, wantDecision: "implicitDeny"},
		{name: "cross account with the resource policy", creds: asker, q: map[string]any{"PrincipalArn": clerkARN, "Action": "orders:GetOrder", "Resource": partnerOrder, "ResourceAccount": other.AccountID, "ResourcePolicy": grantClerk},
			wantStatus: 200, wantDecision: "allowed"},
		{name: "another account's principal", creds: aws.Credentials{AccessKeyID: other.AccessKeyID, SecretAccessKey: other.SecretAccessKey}, q: map[string]any{"PrincipalArn": clerkARN, "Action": "orders:GetOrder"},
			wantStatus: 403, wantError: "AccessDeniedException"},
		{name: "caller without gatehouse:Authorize", creds: nobody, q: map[string]any{"PrincipalArn": clerkARN, "Action": "orders:GetOrder"},
			wantStatus: 403, wantError: "AccessDeniedException"},
		{name: "no principal", creds: asker, q: map[string]any{"Action": "orders:GetOrder"}, wantStatus: 400, wantError: "ValidationException"},
		{name: "unknown principal", creds: asker, q: map[string]any{"PrincipalArn": "arn:aws:iam::" + e.Account + ":user/ghost", "Action": "orders:GetOrder"}, wantStatus: 404, wantError: "NoSuchEntity"},
		{name: "unknown field", creds: asker, q: map[string]any{"PrincipalArn": clerkARN, "Action": "orders:GetOrder", "Colour": "red"}, wantStatus: 400, wantError: "ValidationException"},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			status, out := callDecision(t, e, tc.creds, "Authorize", tc.q)
			if status != tc.wantStatus {
				t.Fatalf("status %d, want %d: %v", status, tc.wantStatus, out)
			}
			if tc.wantError != "" {
				if out["__type"] != tc.wantError || out["message"] == "" {
					t.Fatalf("error %v, want %s", out, tc.wantError)
				}
				return
			}
			if out["Decision"] != tc.wantDecision || out["Allowed"] != (tc.wantDecision == "allowed") {
				t.Fatalf("decision %v, want %s: %v", out["Decision"], tc.wantDecision, out)
			}
			if tc.check != nil {
				tc.check(t, out)
			}
		})
	}

	t.Run("case=batch", func(t *testing.T) {
		status, out := callDecision(t, e, asker, "BatchAuthorize", map[string]any{"Questions": []map[string]any{
			{"PrincipalArn": clerkARN, "Action": "orders:GetOrder", "Resource": "arn:aws:orders:eu-west-1:" + e.Account + ":order/1"},
			{"PrincipalArn": clerkARN, "Action": "orders:DeleteOrder", "Resource": "arn:aws:orders:eu-west-1:" + e.Account + ":order/1"},
			{"PrincipalArn": "not-an-arn", "Action": "orders:GetOrder"},
		}})
		if status != 200 {
			t.Fatalf("BatchAuthorize: %d %v", status, out)
		}
		answers := out["Answers"].([]any)
		got := []string{}
		for _, a := range answers {
			m := a.(map[string]any)
			if e, ok := m["Error"].(map[string]any); ok {
				got = append(got, "error "+e["Code"].(string))
			} else {
				got = append(got, m["Decision"].(string))
			}
		}
		if strings.Join(got, ",") != "allowed,implicitDeny,error ValidationException" {
			t.Fatalf("answers %v", got)
		}
	})

	t.Run("client=boto3", func(t *testing.T) {
		models, err := filepath.Abs("testdata/models")
		if err != nil {
			t.Fatal(err)
		}
		script := `
import sys, boto3, botocore.exceptions
url, clerk, resource = sys.argv[1:4]
c = boto3.client("gatehouse", endpoint_url=url)
a = c.authorize(PrincipalArn=clerk, Action="orders:GetOrder", Resource=resource)
assert a["Decision"] == "allowed" and a["Allowed"] is True, a
assert a["MatchedStatements"][0]["SourcePolicyId"] == "orders", a
b = c.batch_authorize(Questions=[{"PrincipalArn": clerk, "Action": "orders:DeleteOrder", "Resource": resource}])
assert b["Answers"][0]["Decision"] == "implicitDeny", b
try:
    c.authorize(Action="orders:GetOrder")
    raise SystemExit("a question without a principal was answered")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "ValidationException", e.response
print("ok")
`
		home := t.TempDir()
		cmd := exec.Command("python3", "-c", script, e.URL, clerkARN, "arn:aws:orders:eu-west-1:"+e.Account+":order/17")
		cmd.Env = append(os.Environ(), "AWS_DATA_PATH="+models, "AWS_ACCESS_KEY_ID="+asker.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+asker.SecretAccessKey,
			"AWS_DEFAULT_REGION=eu-west-1", "AWS_CONFIG_FILE="+filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"), "HOME="+home)
		out, err := cmd.CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "ok" {
			t.Fatalf("boto3: %v\n%s", err, out)
		}
	})
}
