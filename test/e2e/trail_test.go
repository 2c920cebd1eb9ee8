package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
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

// trailEvent is what the tests read of a CloudTrail record.
type trailEvent struct {
	EventSource  string `json:"eventSource"`
	EventName    string `json:"eventName"`
	ErrorCode    string `json:"errorCode"`
	ReadOnly     bool   `json:"readOnly"`
	UserIdentity struct {
		Type        string `json:"type"`
		ARN         string `json:"arn"`
		AccessKeyID string `json:"accessKeyId"`
	} `json:"userIdentity"`
	RequestParameters map[string]any `json:"requestParameters"`
	ResponseElements  map[string]any `json:"responseElements"`
	Resources         []struct {
		ARN string `json:"ARN"`
	} `json:"resources"`
}

// lookupEvents runs `aws cloudtrail lookup-events` against e with root's key and returns the
// events it printed.
func lookupEvents(t *testing.T, e *env, args ...string) []map[string]any {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command("aws", append([]string{"cloudtrail", "lookup-events", "--endpoint-url", e.URL, "--output", "json"}, args...)...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+e.Root.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+e.Root.SecretAccessKey,
		"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE="+filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "c"), "AWS_PAGER=", "HOME="+home)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aws cloudtrail lookup-events %v: %v\n%s", args, err, out)
	}
	var got struct{ Events []map[string]any }
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("lookup-events output %q: %v", out, err)
	}
	return got.Events
}

func record(t *testing.T, ev map[string]any) trailEvent {
	t.Helper()
	var te trailEvent
	if err := json.Unmarshal([]byte(ev["CloudTrailEvent"].(string)), &te); err != nil {
		t.Fatalf("CloudTrailEvent %v: %v", ev["CloudTrailEvent"], err)
	}
	return te
}

// waitForEvents polls lookup-events until it lists at least n events for args.
func waitForEvents(t *testing.T, e *env, n int, args ...string) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		evs := lookupEvents(t, e, args...)
		if len(evs) >= n || time.Now().After(deadline) {
			return evs
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestAuditTrail records IAM, STS and forward-auth calls and reads them back with the aws
// CLI's `cloudtrail lookup-events`: attribute filters, the record's fields (userIdentity,
// requestParameters with secrets hidden, responseElements of writes, errorCode of denials,
// readOnly, resources), and pages. Field names follow "CloudTrail record contents" (CloudTrail
// User Guide, cloudtrail-event-reference-record-contents).
func TestAuditTrail(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the aws CLI is not installed")
	}
	servicesFile, err := filepath.Abs("testdata/services.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, nil, func(c *config.Config) { c.ServicesFile, c.Audit = servicesFile, true })
	ctx := context.Background()
	clerk := userWithPolicy(t, e, "clerk", fmt.Sprintf(ordersPolicy, e.Account))
	if _, err := e.IAM.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("clerk"), Password: aws.String("Trail-Pa55word!")}); err != nil {
		t.Fatal(err)
	}
	clerkIAM, clerkSTS := e.clients(clerk.AccessKeyID, clerk.SecretAccessKey, "")
	if _, err := clerkIAM.ListUsers(ctx, &iam.ListUsersInput{}); err == nil {
		t.Fatal("clerk may list users")
	}
	if _, err := clerkSTS.GetCallerIdentity(ctx, nil); err != nil {
		t.Fatal(err)
	}
	// A protected service's decision, asked as Envoy asks.
	req := httptest.NewRequest(http.MethodGet, e.URL+"/orders/17", nil)
	req.RequestURI = ""
	if err := v4.NewSigner().SignHTTP(ctx, clerk, req, sigv4.EmptyPayloadHash, "orders", "eu-west-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	req.URL.Path = "/forward-auth/orders/orders/17"
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("forward-auth: %v %v", err, resp)
	}
	resp.Body.Close()

	// A decision API call, its signed request's Authorization header among the parameters.
	root := aws.Credentials{AccessKeyID: e.Root.AccessKeyID, SecretAccessKey: e.Root.SecretAccessKey}
	if status, out := callDecision(t, e, root, "Authorize", map[string]any{"SignedRequest": signedOrderRequest(t, clerk, "GET", "/orders/17")}); status != 200 {
		t.Fatalf("Authorize: %d %v", status, out)
	}

	t.Run("case=a decision API call, its signature hidden", func(t *testing.T) {
		evs := waitForEvents(t, e, 1, "--lookup-attributes", "AttributeKey=EventSource,AttributeValue=gatehouse.amazonaws.com")
		if len(evs) != 1 || evs[0]["EventName"] != "Authorize" {
			t.Fatalf("gatehouse events %v", evs)
		}
		rec := evs[0]["CloudTrailEvent"].(string)
		if !strings.Contains(rec, `"Authorization":"HIDDEN_DUE_TO_SECURITY_REASONS"`) || strings.Contains(rec, "Signature=") {
			t.Fatalf("record %s", rec)
		}
	})
	t.Run("case=a write by root, its secrets hidden", func(t *testing.T) {
		evs := waitForEvents(t, e, 1, "--lookup-attributes", "AttributeKey=EventName,AttributeValue=CreateLoginProfile")
		if len(evs) != 1 {
			t.Fatalf("%d CreateLoginProfile events", len(evs))
		}
		te := record(t, evs[0])
		if te.EventSource != "iam.amazonaws.com" || te.UserIdentity.Type != "Root" || te.ReadOnly {
			t.Errorf("record %+v", te)
		}
		if te.RequestParameters["userName"] != "clerk" || te.RequestParameters["password"] != "HIDDEN_DUE_TO_SECURITY_REASONS" {
			t.Errorf("requestParameters %v", te.RequestParameters)
		}
		if strings.Contains(evs[0]["CloudTrailEvent"].(string), "Trail-Pa55word!") {
			t.Error("the password is in the trail")
		}
	})
	t.Run("case=a new access key's secret is not in the trail", func(t *testing.T) {
		evs := waitForEvents(t, e, 1, "--lookup-attributes", "AttributeKey=EventName,AttributeValue=CreateAccessKey")
		if len(evs) != 1 || strings.Contains(evs[0]["CloudTrailEvent"].(string), clerk.SecretAccessKey) {
			t.Fatalf("CreateAccessKey events %v", evs)
		}
		if key := record(t, evs[0]).ResponseElements["accessKey"].(map[string]any); key["accessKeyId"] != clerk.AccessKeyID {
			t.Errorf("responseElements %v", key)
		}
	})
	t.Run("case=a denial, by the user's key", func(t *testing.T) {
		evs := waitForEvents(t, e, 1, "--lookup-attributes", "AttributeKey=AccessKeyId,AttributeValue="+clerk.AccessKeyID)
		var denied *trailEvent
		for _, ev := range evs {
			if te := record(t, ev); te.EventName == "ListUsers" {
				denied = &te
			}
		}
		if denied == nil || denied.ErrorCode != "AccessDenied" || !denied.ReadOnly || denied.UserIdentity.ARN != "arn:aws:iam::"+e.Account+":user/clerk" {
			t.Fatalf("ListUsers event %+v among %d", denied, len(evs))
		}
	})
	t.Run("case=STS", func(t *testing.T) {
		evs := waitForEvents(t, e, 1, "--lookup-attributes", "AttributeKey=EventSource,AttributeValue=sts.amazonaws.com")
		if len(evs) == 0 || evs[0]["EventName"] != "GetCallerIdentity" || evs[0]["Username"] != "clerk" {
			t.Fatalf("STS events %v", evs)
		}
	})
	t.Run("case=a protected service's decision", func(t *testing.T) {
		evs := waitForEvents(t, e, 1, "--lookup-attributes", "AttributeKey=EventSource,AttributeValue=orders.amazonaws.com")
		if len(evs) != 1 {
			t.Fatalf("%d orders events", len(evs))
		}
		te := record(t, evs[0])
		if te.EventName != "GetOrder" || !te.ReadOnly || te.ErrorCode != "" || len(te.Resources) != 1 || te.Resources[0].ARN != "arn:aws:orders:eu-west-1:"+e.Account+":order/17" {
			t.Fatalf("record %+v", te)
		}
	})
	t.Run("case=pages", func(t *testing.T) {
		// root's CreateUser, PutUserPolicy, CreateAccessKey and CreateLoginProfile, and clerk's
		// ListUsers (root's lookups are CloudTrail's events, and are recorded too).
		all := waitForEvents(t, e, 5, "--lookup-attributes", "AttributeKey=EventSource,AttributeValue=iam.amazonaws.com")
		paged := lookupEvents(t, e, "--lookup-attributes", "AttributeKey=EventSource,AttributeValue=iam.amazonaws.com", "--page-size", "1")
		if len(all) != 5 || len(paged) != len(all) {
			t.Fatalf("%d events, %d when read 2 a page", len(all), len(paged))
		}
		for i := range all {
			if all[i]["EventId"] != paged[i]["EventId"] {
				t.Fatalf("page order differs at %d", i)
			}
		}
	})
	t.Run("case=export as JSON lines", func(t *testing.T) {
		if onPostgreSQL() {
			t.Skip("the export reads the data directory's SQLite file here")
		}
		out, err := exec.Command(gatehouseBinary(t), "trail", "export", "--account", e.Account, "--data-dir", e.DataDir).Output()
		if err != nil {
			t.Fatalf("gatehouse trail export: %v", err)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		names := map[string]bool{}
		for _, l := range lines {
			var te trailEvent
			if err := json.Unmarshal([]byte(l), &te); err != nil {
				t.Fatalf("line %q: %v", l, err)
			}
			names[te.EventName] = true
		}
		for _, want := range []string{"CreateUser", "CreateLoginProfile", "ListUsers", "GetCallerIdentity", "GetOrder"} {
			if !names[want] {
				t.Errorf("the export (%d lines) has no %s event", len(lines), want)
			}
		}
	})
	t.Run("case=time range", func(t *testing.T) {
		if evs := lookupEvents(t, e, "--end-time", time.Now().Add(-time.Hour).Format(time.RFC3339)); len(evs) != 0 {
			t.Fatalf("%d events before an hour ago", len(evs))
		}
	})
}
