package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/gatehouse-iam/gatehouse/internal/config"
)

// TestForwardAuthCrossAccount protects a ledger whose entries belong to another account
// (210987654321), behind a real nginx: that account grants a user of the first account with a
// resource-based policy stored through PutResourcePolicy. As AWS's evaluation logic has it
// for cross-account requests (IAM User Guide, "Cross-account policy evaluation logic"), the
// caller's identity policy and the resource's policy must both allow; either alone is not
// enough.
func TestForwardAuthCrossAccount(t *testing.T) {
	t.Parallel()
	if nginxBinary() == "" {
		t.Skip("nginx is not installed (apt-get install nginx): skipping the forward-auth test")
	}
	servicesFile, err := filepath.Abs("testdata/ledger-services.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, nil, func(c *config.Config) { c.ServicesFile = servicesFile })
	const owner = "210987654321"
	ownerRoot, err := e.app.CreateAccount(context.Background(), config.Credentials{AccountID: owner})
	if err != nil {
		t.Fatal(err)
	}
	ledger := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"Caller": r.Header.Get("X-Gatehouse-Principal-Arn"), "Path": r.URL.Path})
	}))
	t.Cleanup(ledger.Close)
	front := "http://" + startForwardAuthNginx(t, strings.TrimPrefix(e.URL, "http://"), strings.TrimPrefix(ledger.URL, "http://"), "ledger")

	auditor := userWithPolicy(t, e, "auditor", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ledger:GetEntry","Resource":"arn:aws:ledger::`+owner+`:entry/*"}]}`)
	intern := userWithPolicy(t, e, "intern", "") // no identity policy: the resource policy alone must not do
	auditorARN := "arn:aws:iam::" + e.Account + ":user/auditor"
	internARN := "arn:aws:iam::" + e.Account + ":user/intern"
	entry := func(book, id string) string { return "arn:aws:ledger::" + owner + ":entry/" + book + "/" + id }
	grant := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"Auditors","Effect":"Allow","Principal":{"AWS":["%s","%s"]},"Action":"ledger:GetEntry","Resource":"%s"}]}`,
		auditorARN, internARN, entry("main", "e-1"))

	ownerCreds := aws.Credentials{AccessKeyID: ownerRoot.AccessKeyID, SecretAccessKey: ownerRoot.SecretAccessKey}
	firstRoot := aws.Credentials{AccessKeyID: e.Root.AccessKeyID, SecretAccessKey: e.Root.SecretAccessKey}
	for _, tc := range []struct {
		name      string
		creds     aws.Credentials
		op        string
		in        map[string]any
		wantCode  int
		wantError string
	}{
		{"another account may not set the policy", firstRoot, "PutResourcePolicy", map[string]any{"ResourceArn": entry("main", "e-1"), "Policy": grant}, 403, "AccessDeniedException"},
		{"malformed policy", ownerCreds, "PutResourcePolicy", map[string]any{"ResourceArn": entry("main", "e-1"), "Policy": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ledger:GetEntry","Resource":"*"}]}`}, 400, "MalformedPolicyDocumentException"},
		{"not a protected service", ownerCreds, "PutResourcePolicy", map[string]any{"ResourceArn": "arn:aws:vault::" + owner + ":secret/x", "Policy": grant}, 400, "ValidationException"},
		{"no policy yet", ownerCreds, "GetResourcePolicy", map[string]any{"ResourceArn": entry("main", "e-1")}, 404, "ResourceNotFoundException"},
		{"the owner sets it", ownerCreds, "PutResourcePolicy", map[string]any{"ResourceArn": entry("main", "e-1"), "Policy": grant}, 200, ""},
		{"and reads it back", ownerCreds, "GetResourcePolicy", map[string]any{"ResourceArn": entry("main", "e-1")}, 200, ""},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			status, out := callDecision(t, e, tc.creds, tc.op, tc.in)
			if status != tc.wantCode || (tc.wantError != "" && out["__type"] != tc.wantError) {
				t.Fatalf("%s: %d %v, want %d %s", tc.op, status, out, tc.wantCode, tc.wantError)
			}
			if tc.op == "GetResourcePolicy" && status == 200 && out["Policy"] != grant {
				t.Fatalf("policy read back %v", out["Policy"])
			}
		})
	}

	get := func(creds aws.Credentials, book, id string) (int, string) {
		status, _, body := signedCall{method: "GET", path: "/books/" + book + "/entries/" + id, scope: "ledger"}.do(t, front, creds)
		return status, string(body)
	}
	if status, body := get(auditor, "main", "e-1"); status != 200 || !strings.Contains(body, auditorARN) {
		t.Fatalf("identity policy and resource policy allow: %d %s", status, body)
	}
	if status, body := get(auditor, "main", "e-2"); status != 403 || !strings.Contains(body, "AccessDeniedException") {
		t.Fatalf("no resource policy for e-2: %d %s", status, body)
	}
	if status, body := get(intern, "main", "e-1"); status != 403 || !strings.Contains(body, "is not authorized to perform: ledger:GetEntry") {
		t.Fatalf("resource policy without an identity policy: %d %s", status, body)
	}
	if status, out := callDecision(t, e, ownerCreds, "DeleteResourcePolicy", map[string]any{"ResourceArn": entry("main", "e-1")}); status != 200 {
		t.Fatalf("DeleteResourcePolicy: %d %v", status, out)
	}
	if status, body := get(auditor, "main", "e-1"); status != 403 {
		t.Fatalf("after the policy was deleted: %d %s", status, body)
	}
	if status, out := callDecision(t, e, ownerCreds, "ListResourcePolicies", map[string]any{}); status != 200 || fmt.Sprint(out["ResourceArns"]) != "[]" {
		t.Fatalf("ListResourcePolicies: %d %v", status, out)
	}
}
