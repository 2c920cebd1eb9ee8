package console_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/console"
)

// trailOfSignIns keeps what the console tells its SignInTrail.
type trailOfSignIns struct {
	mu       sync.Mutex
	attempts []console.SignInAttempt
}

func (t *trailOfSignIns) RecordSignIn(_ context.Context, a console.SignInAttempt) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.attempts = append(t.attempts, a)
}

// Every console sign-in, refused or not, is told to Options.Trail with who tried, from where,
// and how it ended (the audit trail's ConsoleLogin events).
func TestSignInsRecorded(t *testing.T) {
	e := newConsoleEnv(t)
	api, err := e.app.Handler()
	if err != nil {
		t.Fatal(err)
	}
	trail := &trailOfSignIns{}
	c, err := console.New(console.Options{API: api, Auth: e.app.IAM, Issuer: e.app.Sessions, Now: time.Now, Logger: e.logger, Account: e.app.IAM.AccountAlias,
		Trail: trail, Store: openSessionStore(t, filepath.Join(t.TempDir(), "sessions.db")), Box: newTestBox(t)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	e.userWithPassword(t, "recorded-user", "Recorded-Passw0rd!", false)

	newVisitor(t, srv.URL, nil).signIn(e.Account, "recorded-user", "not-the-password")
	newVisitor(t, srv.URL, nil).signIn("999999999999", "recorded-user", "not-the-password")
	newVisitor(t, srv.URL, nil).signedIn(e.Account, "recorded-user", "Recorded-Passw0rd!")
	newVisitor(t, srv.URL, nil).signedIn(e.Account, "", rootPassword)

	trail.mu.Lock()
	defer trail.mu.Unlock()
	if len(trail.attempts) != 4 {
		t.Fatalf("%d sign-ins recorded, want 4: %+v", len(trail.attempts), trail.attempts)
	}
	userARN := "arn:aws:iam::" + e.Account + ":user/recorded-user"
	for i, want := range []struct {
		account, user, arn string
		root, success      bool
	}{
		{e.Account, "recorded-user", "", false, false},
		{"", "recorded-user", "", false, false}, // no such account
		{e.Account, "recorded-user", userARN, false, true},
		{e.Account, "", "arn:aws:iam::" + e.Account + ":root", true, true},
	} {
		got := trail.attempts[i]
		if got.Account != want.account || got.UserName != want.user || got.ARN != want.arn || got.Root != want.root || got.Success != want.success || got.SourceIP != "127.0.0.1" || got.UserAgent == "" {
			t.Errorf("sign-in %d: %+v, want %+v", i, got, want)
		}
		if want.success && got.UserID == "" {
			t.Errorf("sign-in %d has no user id", i)
		}
	}
}
