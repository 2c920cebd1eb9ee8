package app

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/arn"
	"github.com/gatehouse-iam/gatehouse/internal/audit"
	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/cloudtrail"
	"github.com/gatehouse-iam/gatehouse/internal/config"
	"github.com/gatehouse-iam/gatehouse/internal/console"
	"github.com/gatehouse-iam/gatehouse/internal/forwardauth"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// newTrail is the audit trail's recorder over st, or nil when cfg turns the trail off or the
// backend keeps no events.
func (a *App) newTrail(cfg config.Config) *audit.Recorder {
	log, ok := a.store.(store.EventLog)
	if !cfg.Audit || !ok {
		return nil
	}
	return audit.NewRecorder(log, a.logger, audit.Options{Retention: cfg.AuditRetention})
}

// EventLog is the deployment's audit trail, for the commands that read it offline; false when
// the backend keeps none.
func (a *App) EventLog() (store.EventLog, bool) {
	log, ok := a.store.(store.EventLog)
	return log, ok
}

// runTrail writes the recorder's events until ctx is done and the last ones are written; the
// returned channel is closed then.
func (a *App) runTrail(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	if a.trail == nil {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		a.trail.Run(ctx)
	}()
	return done
}

// recordDecision is the CloudTrail event of a forward-auth decision: the protected service's
// call, by its caller, on its resource, allowed or AccessDenied.
func (a *App) recordDecision(_ context.Context, d *forwardauth.Decision) {
	if a.trail == nil || d.Principal == nil || d.Match == nil {
		return // not authenticated, or no operation: no principal made a call
	}
	// Resources are named as CloudTrail names AWS's types (AWS::S3::Bucket):
	// Gatehouse::SERVICE::TYPE.
	service, action, _ := strings.Cut(d.Match.Action, ":")
	ev := &audit.Event{
		EventSource:     service + ".amazonaws.com",
		EventName:       action,
		AWSRegion:       d.Signed.Region,
		SourceIPAddress: server.SourceIP(d.Request),
		UserAgent:       d.Request.UserAgent(),
		UserIdentity:    audit.Identity(d.Principal),
		ReadOnly:        a.readOnlyProtected(service, action),
		AdditionalEventData: map[string]any{
			"httpMethod": d.Request.Method, "path": d.Request.URL.Path,
		},
	}
	if d.Match.Resource != "*" {
		ev.Resources = []audit.Resource{{ARN: d.Match.Resource, AccountID: arn.Account(d.Match.Resource), Type: "Gatehouse::" + service + "::" + d.Match.Route.Resource.Name}}
	}
	if d.Err != nil {
		ev.ErrorCode, ev.ErrorMessage = server.JSONCode(d.Err.Code), d.Err.Message
	}
	a.trail.Record(ev)
}

// readOnlyProtected says whether a protected service's action only reads: its access level
// in the services file is Read or List.
func (a *App) readOnlyProtected(service, action string) bool {
	svc, ok := a.protected.Current().Service(service)
	if !ok {
		return false
	}
	act, ok := svc.Action(action)
	return ok && (act.AccessLevel == "Read" || act.AccessLevel == "List")
}

// cloudTrailAPI is CloudTrail's JSON API (LookupEvents) on the shared endpoint, under both
// forms of its target prefix: botocore's (the aws CLI) and aws-sdk-go-v2's.
func (a *App) cloudTrailAPI() []*server.JSONService {
	log, ok := a.EventLog()
	if !ok {
		return nil
	}
	ct := cloudtrail.New(log, a.logger, time.Now)
	handle := func(ctx context.Context, op string, body []byte) ([]byte, error) {
		status, resp := ct.Handle(ctx, principal.FromContext(ctx).Account, op, body)
		if status == http.StatusOK {
			return resp, nil
		}
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(resp, &e)
		return nil, &awsquery.Error{Code: e.Type, Message: e.Message, Status: status, Sender: status < 500}
	}
	var out []*server.JSONService
	for _, prefix := range []string{cloudtrail.TargetPrefix, cloudtrail.ShortTargetPrefix} {
		out = append(out, &server.JSONService{TargetPrefix: prefix, SigningName: "cloudtrail", Handle: handle})
	}
	return out
}

// RecordSignIn implements console.SignInTrail: CloudTrail's ConsoleLogin event, from
// signin.amazonaws.com, with responseElements {"ConsoleLogin": "Success"} or "Failure" and
// "Failed authentication" as errorMessage, as CloudTrail records console sign-ins ("AWS
// Management Console sign-in events", CloudTrail User Guide). A sign-in to an account that does
// not exist belongs to no account's trail and is not recorded.
func (a *App) RecordSignIn(_ context.Context, s console.SignInAttempt) {
	if a.trail == nil || s.Account == "" {
		return
	}
	id := &audit.UserIdentity{Type: "IAMUser", AccountID: s.Account, UserName: s.UserName, ARN: s.ARN, PrincipalID: s.UserID}
	if s.Root {
		id = &audit.UserIdentity{Type: "Root", AccountID: s.Account, ARN: "arn:aws:iam::" + s.Account + ":root", PrincipalID: s.Account}
	}
	outcome, mfa := "Failure", "No"
	if s.Success {
		outcome = "Success"
	}
	if s.MFA {
		mfa = "Yes"
	}
	ev := &audit.Event{
		EventType: audit.EventTypeConsoleSignIn, EventSource: "signin.amazonaws.com", EventName: "ConsoleLogin",
		AWSRegion: "us-east-1", SourceIPAddress: s.SourceIP, UserAgent: s.UserAgent, UserIdentity: id,
		RecipientAccountID: s.Account,
		ResponseElements:   map[string]any{"ConsoleLogin": outcome},
		AdditionalEventData: map[string]any{
			"LoginTo": console.Prefix, "MobileVersion": "No", "MFAUsed": mfa,
		},
	}
	if !s.Success {
		ev.ErrorMessage = "Failed authentication"
	}
	a.trail.Record(ev)
}

// signInTrail is the console's SignInTrail: a, or none without the trail.
func (a *App) signInTrail() console.SignInTrail {
	if a.trail == nil {
		return nil
	}
	return a
}
