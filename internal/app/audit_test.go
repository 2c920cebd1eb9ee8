package app

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/config"
	"github.com/gatehouse-iam/gatehouse/internal/console"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// A console sign-in becomes CloudTrail's ConsoleLogin record ("AWS Management Console sign-in
// events", CloudTrail User Guide: eventSource signin.amazonaws.com, eventType
// AwsConsoleSignIn, responseElements.ConsoleLogin Success or Failure, errorMessage "Failed
// authentication"); one to an account that does not exist is in no account's trail.
func TestRecordSignIn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, err := Open(ctx, config.Config{DataDir: t.TempDir(), Audit: true}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	const account = "123456789012"
	a.RecordSignIn(ctx, console.SignInAttempt{Account: account, UserName: "bob", SourceIP: "192.0.2.1", UserAgent: "Mozilla/5.0"})
	a.RecordSignIn(ctx, console.SignInAttempt{Account: account, UserName: "bob", ARN: "arn:aws:iam::" + account + ":user/bob", UserID: "AIDAEXAMPLE", Success: true, MFA: true, SourceIP: "192.0.2.1"})
	a.RecordSignIn(ctx, console.SignInAttempt{UserName: "bob", SourceIP: "192.0.2.1"})
	if err := a.trail.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	log, _ := a.EventLog()
	evs, err := log.Events(ctx, store.EventQuery{Account: account})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 {
		t.Fatalf("%d events, want 2", len(evs))
	}
	var rec struct {
		EventType, EventSource, EventName, SourceIPAddress string
		UserIdentity                                       struct{ Type, UserName string }
	}
	for _, ev := range evs { // newest first: the success, then the failure
		if err := json.Unmarshal(ev.Data, &rec); err != nil {
			t.Fatal(err)
		}
		if rec.EventType != "AwsConsoleSignIn" || rec.EventSource != "signin.amazonaws.com" || rec.EventName != "ConsoleLogin" ||
			rec.SourceIPAddress != "192.0.2.1" || rec.UserIdentity.Type != "IAMUser" || rec.UserIdentity.UserName != "bob" {
			t.Errorf("record %s", ev.Data)
		}
	}
	var success, failure map[string]any
	_ = json.Unmarshal(evs[0].Data, &success)
	_ = json.Unmarshal(evs[1].Data, &failure)
	if success["responseElements"].(map[string]any)["ConsoleLogin"] != "Success" || success["additionalEventData"].(map[string]any)["MFAUsed"] != "Yes" || success["errorMessage"] != nil {
		t.Errorf("success %s", evs[0].Data)
	}
	if failure["responseElements"].(map[string]any)["ConsoleLogin"] != "Failure" || failure["errorMessage"] != "Failed authentication" {
		t.Errorf("failure %s", evs[1].Data)
	}
}
