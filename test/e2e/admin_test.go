package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/gatehouse-iam/gatehouse/internal/config"
)

// newAdminEnv is newEnv with the health and metrics listener on a random loopback port; it
// returns the env and the listener's base URL.
func newAdminEnv(t *testing.T) (*env, string) {
	t.Helper()
	e := newEnvWith(t, nil, func(c *config.Config) { c.AdminListen = "127.0.0.1:0" })
	deadline := time.Now().Add(10 * time.Second)
	for e.app.AdminAddr() == nil {
		if time.Now().After(deadline) {
			t.Fatal("the admin listener did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return e, "http://" + e.app.AdminAddr().String()
}

func adminGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

// scrapeMetrics reads /metrics in Prometheus's text format and parses it as Prometheus does.
func scrapeMetrics(t *testing.T, admin string) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, admin+"/metrics", nil)
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("scrape: status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse scrape: %v", err)
	}
	return fams
}

// sample is the value of name's series with exactly labels (a histogram's sample count); 0
// when the series does not exist yet.
func sample(fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
next:
	for _, m := range fams[name].GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		for _, l := range m.GetLabel() {
			if labels[l.GetName()] != l.GetValue() {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		}
	}
	return 0
}

// total sums every series of a counter family.
func total(fams map[string]*dto.MetricFamily, name string) float64 {
	var n float64
	for _, m := range fams[name].GetMetric() {
		n += m.GetCounter().GetValue()
	}
	return n
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// One success, one denial, one bad signature and one unsigned unknown action through the API
// move the request, denial and authentication-failure counters by exactly those amounts, and
// no label carries a name, ARN or key id.
func TestAdminMetrics(t *testing.T) {
	t.Parallel()
	e, admin := newAdminEnv(t)
	ctx := context.Background()
	userIAM, _ := e.newUser(t, "metrics-watcher")
	noRetry := func(o *sts.Options) { o.RetryMaxAttempts = 1 }
	noRetryIAM := func(o *iam.Options) { o.RetryMaxAttempts = 1 }

	before := scrapeMetrics(t, admin)

	if _, err := e.IAM.GetUser(ctx, &iam.GetUserInput{}, noRetryIAM); err != nil {
		t.Fatalf("GetUser as root: %v", err)
	}
	// A user with no policy may not list users.
	if _, err := userIAM.ListUsers(ctx, &iam.ListUsersInput{}, noRetryIAM); apiCode(err) != "AccessDenied" {
		t.Fatalf("ListUsers without a policy: %v, want AccessDenied", err)
	}
	_, badSTS := e.clients(e.Root.AccessKeyID, "not-the-secret-access-key-of-this-root-user", "")
	if _, err := badSTS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}, noRetry); apiCode(err) != "SignatureDoesNotMatch" {
		t.Fatalf("GetCallerIdentity with a wrong secret: %v, want SignatureDoesNotMatch", err)
	}
	// An unsigned request naming an action of no model: its Action must not become a label.
	resp, err := http.PostForm(e.URL, url.Values{"Action": {"ListUsers-AKIAIOSFODNN7EXAMPLE"}, "Version": {"2010-05-08"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("unsigned request: status %d, want 403", resp.StatusCode)
	}

	after := scrapeMetrics(t, admin)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"gatehouse_requests_total", map[string]string{"service": "iam", "action": "GetUser", "outcome": "success"}, 1},
		{"gatehouse_requests_total", map[string]string{"service": "iam", "action": "ListUsers", "outcome": "AccessDenied"}, 1},
		{"gatehouse_requests_total", map[string]string{"service": "sts", "action": "GetCallerIdentity", "outcome": "SignatureDoesNotMatch"}, 1},
		{"gatehouse_requests_total", map[string]string{"service": "iam", "action": "unknown", "outcome": "MissingAuthenticationToken"}, 1},
		{"gatehouse_request_duration_seconds", map[string]string{"service": "iam", "action": "GetUser"}, 1},
		{"gatehouse_request_duration_seconds", map[string]string{"service": "iam", "action": "ListUsers"}, 1},
		{"gatehouse_authorization_denials_total", map[string]string{"service": "iam", "action": "ListUsers"}, 1},
		{"gatehouse_authentication_failures_total", map[string]string{"reason": "SignatureDoesNotMatch"}, 1},
		{"gatehouse_authentication_failures_total", map[string]string{"reason": "MissingAuthenticationToken"}, 1},
	} {
		if got := sample(after, c.name, c.labels) - sample(before, c.name, c.labels); got != c.want {
			t.Errorf("%s%v moved by %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	for name, want := range map[string]float64{
		"gatehouse_requests_total":                4,
		"gatehouse_authorization_denials_total":   1,
		"gatehouse_authentication_failures_total": 2,
	} {
		if got := total(after, name) - total(before, name); got != want {
			t.Errorf("%s moved by %v in all, want %v", name, got, want)
		}
	}
	// Authentication read the keys through the credential cache; newUser's writes went
	// through the timed store.
	if sample(after, "gatehouse_cache_hits_total", map[string]string{"cache": "credentials"})+sample(after, "gatehouse_cache_misses_total", map[string]string{"cache": "credentials"}) == 0 {
		t.Error("the credential cache counted no lookups")
	}
	if sample(after, "gatehouse_store_updates_total", map[string]string{"result": "ok"}) == 0 || sample(after, "gatehouse_store_update_duration_seconds", map[string]string{}) == 0 {
		t.Error("no store update was counted or timed")
	}
	if after["go_goroutines"] == nil || after["process_cpu_seconds_total"] == nil {
		t.Error("the Go and process collectors are missing")
	}

	// No label value is an ARN, an access key id, an account id or a name.
	secretish := regexp.MustCompile(`arn:|\b(AKIA|ASIA)[A-Z0-9]{12,}|\b\d{12}\b|metrics-watcher`)
	for name, f := range after {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if secretish.MatchString(l.GetValue()) {
					t.Errorf("%s has label %s=%q", name, l.GetName(), l.GetValue())
				}
			}
		}
	}
}

// /healthz answers while the process is up; /readyz while the store answers reads with the
// current schema, and 503 once the store is closed.
func TestAdminHealth(t *testing.T) {
	t.Parallel()
	e, admin := newAdminEnv(t)
	if code, body := adminGet(t, admin+"/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz: %d %q", code, body)
	}
	if code, body := adminGet(t, admin+"/readyz"); code != http.StatusOK || strings.TrimSpace(body) != "ready" {
		t.Fatalf("/readyz: %d %q", code, body)
	}
	if err := e.app.Close(); err != nil {
		t.Fatal(err)
	}
	code, body := adminGet(t, admin+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "store") {
		t.Fatalf("/readyz after the store closed: %d %q, want 503 naming the store", code, body)
	}
	if code, body := adminGet(t, admin+"/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz after the store closed: %d %q", code, body)
	}
	if code, _ := adminGet(t, admin+"/nothing-here"); code != http.StatusNotFound {
		t.Fatalf("/nothing-here: %d, want 404", code)
	}
}

// adminAddrFromLogs finds the address of the "admin listening" log line of p (JSON logs).
func adminAddrFromLogs(t *testing.T, p *proc) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, raw := range p.Logs() {
			var l struct{ Msg, Address string }
			if json.Unmarshal([]byte(raw), &l) == nil && l.Msg == "admin listening" {
				return l.Address
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no admin listening log line:\n%s", strings.Join(p.Logs(), "\n"))
	return ""
}

// `gatehouse serve --admin-listen` serves the admin endpoints from the real binary, counting
// its requests; `--admin-listen off` serves none; a busy admin port stops serve at start.
func TestAdminProcess(t *testing.T) {
	t.Parallel()
	p := startProcess(t, t.TempDir(), "--log-level", "info")
	admin := "http://" + adminAddrFromLogs(t, p)
	if code, _ := adminGet(t, admin+"/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz: %d", code)
	}
	if code, body := adminGet(t, admin+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz: %d %q", code, body)
	}
	if code, _ := adminGet(t, admin+"/debug/pprof/"); code != http.StatusNotFound {
		t.Fatalf("/debug/pprof/ without --pprof: %d, want 404", code)
	}
	_, stsClient := procClients(p, testRoot.KeyID, testRoot.Secret)
	if _, err := stsClient.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	got := sample(scrapeMetrics(t, admin), "gatehouse_requests_total", map[string]string{"service": "sts", "action": "GetCallerIdentity", "outcome": "success"})
	if got != 1 {
		t.Fatalf("gatehouse_requests_total{sts,GetCallerIdentity,success} = %v, want 1", got)
	}

	off := startProcess(t, t.TempDir(), "--log-level", "info", "--admin-listen", "off")
	// Once it answers a request, Serve (which starts the admin listener) is running.
	_, offSTS := procClients(off, testRoot.KeyID, testRoot.Secret)
	if _, err := offSTS.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	for _, raw := range off.Logs() {
		if strings.Contains(raw, "admin listening") {
			t.Fatalf("--admin-listen off still listens: %s", raw)
		}
	}

	// The first process holds its admin port: a second serve asked for it refuses to start.
	busy := exec.Command(gatehouseBinary(t), "serve", "--listen", "127.0.0.1:0", "--admin-listen", strings.TrimPrefix(admin, "http://"), "--data-dir", t.TempDir())
	busy.Env = withoutGatehouseEnv(os.Environ())
	out, err := busy.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "admin listen") {
		t.Fatalf("serve on a busy admin port: %v\n%s", err, out)
	}
}

// TestAdminPprof: with --pprof the admin listener also serves Go's profiles (what
// scripts/profile.sh takes), and the API listener does not.
func TestAdminPprof(t *testing.T) {
	t.Parallel()
	p := startProcess(t, t.TempDir(), "--log-level", "info", "--pprof")
	admin := "http://" + adminAddrFromLogs(t, p)
	if code, body := adminGet(t, admin+"/debug/pprof/"); code != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Fatalf("/debug/pprof/: %d %.200q", code, body)
	}
	if code, body := adminGet(t, admin+"/debug/pprof/goroutine?debug=1"); code != http.StatusOK || !strings.Contains(body, "goroutine profile") {
		t.Fatalf("/debug/pprof/goroutine: %d %.200q", code, body)
	}
	if code, _ := adminGet(t, p.URL+"/debug/pprof/"); code == http.StatusOK {
		t.Fatalf("the API listener serves /debug/pprof/")
	}
}
