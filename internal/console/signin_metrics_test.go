package console_test

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/gatehouse-iam/gatehouse/internal/console"
	"github.com/gatehouse-iam/gatehouse/internal/metrics"
)

// Each console sign-in reports its outcome to Options.SignIns: success, or the fixed failure
// reason, never the account or user name.
func TestSignInsObserved(t *testing.T) {
	e := newConsoleEnv(t)
	api, err := e.app.Handler()
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	c, err := console.New(console.Options{API: api, Auth: e.app.IAM, Issuer: e.app.Sessions, Now: time.Now, Logger: e.logger, Account: e.app.IAM.AccountAlias, SignIns: m,
		Store: openSessionStore(t, filepath.Join(t.TempDir(), "sessions.db")), Box: newTestBox(t)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	e.userWithPassword(t, "observed-user", "Observed-Passw0rd!", false)

	newVisitor(t, srv.URL, nil).signIn(e.Account, "observed-user", "not-the-password")
	newVisitor(t, srv.URL, nil).signIn(e.Account, "nobody-by-this-name", "not-the-password")
	newVisitor(t, srv.URL, nil).signedIn(e.Account, "observed-user", "Observed-Passw0rd!")
	newVisitor(t, srv.URL, nil).signedIn(e.Account, "", rootPassword)

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, s := range fams["gatehouse_console_signins_total"].GetMetric() {
		for _, l := range s.GetLabel() {
			if strings.Contains(l.GetValue(), "observed") || strings.Contains(l.GetValue(), e.Account) {
				t.Errorf("label %s=%q carries a name", l.GetName(), l.GetValue())
			}
			got[l.GetValue()] += s.GetCounter().GetValue()
		}
	}
	// An unknown user fails like a wrong password (iam.SignInUnknownUser is logged, the page
	// shows one message): both are reasons of their own here.
	want := map[string]float64{"success": 2, "wrong password": 1, "unknown user": 1}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("sign-ins %q = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("sign-in outcomes %v, want %v", got, want)
	}
}
