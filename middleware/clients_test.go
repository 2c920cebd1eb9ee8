package middleware

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBoto3 calls the protected orders service with boto3, which learns the service from the
// model the e2e suite keeps (test/e2e/testdata/models, through AWS_DATA_PATH) and signs as for
// any AWS service: CreateOrder's body unsigned (UNSIGNED-PAYLOAD), GetOrder's empty body
// without X-Amz-Content-Sha256.
func TestBoto3(t *testing.T) {
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		t.Skip("boto3 is not installed")
	}
	g := startGatehouse(t)
	svcKey := g.user(t, "orders-service", serviceKeyPolicy)
	clerk := g.user(t, "clerk", `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Action":"orders:GetOrder","Resource":"arn:aws:orders:*:`+g.Account+`:order/1*"},
	 {"Effect":"Allow","Action":"orders:CreateOrder","Resource":"*","Condition":{"StringEquals":{"orders:Status":"open"}}}]}`)
	routes, err := RoutesFromServices([]byte(ordersFile), "orders")
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(Config{Endpoint: g.URL, Credentials: staticProvider(svcKey), Service: "orders", Routes: routes, Logger: testLogger(), CacheTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	order := func(w http.ResponseWriter, r *http.Request, id, item string) {
		caller, _ := IdentityFrom(r.Context())
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"OrderId": id, "Item": item, "Caller": caller.Arn})
	}
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) { order(w, r, r.PathValue("id"), "book") })
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Item string }
		body, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(body, &in)
		order(w, r, "new", in.Item)
	})
	srv := httptest.NewServer(m.Wrap(mux))
	defer srv.Close()

	models, err := filepath.Abs("../test/e2e/testdata/models")
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	script := `
import sys, boto3, botocore.exceptions
front, caller = sys.argv[1], sys.argv[2]
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
	cmd := exec.Command("python3", "-c", script, srv.URL, "arn:aws:iam::"+g.Account+":user/clerk")
	cmd.Env = append(os.Environ(), "AWS_DATA_PATH="+models, "AWS_ACCESS_KEY_ID="+clerk.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+clerk.SecretAccessKey,
		"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE="+filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"), "HOME="+home)
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
}
