package server

import (
	"cmp"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gatehouse-iam/gatehouse/arn"
	"github.com/gatehouse-iam/gatehouse/internal/audit"
)

// Trail receives the audit event of every answered call; *audit.Recorder implements it. Its
// Record must not block: it runs on the request's goroutine after the answer is written.
type Trail interface {
	Record(ev *audit.Event)
}

// WithTrail makes s record every call it answers in t; it returns s. Call it before serving.
func (s *Server) WithTrail(t Trail) *Server {
	s.trail = t
	return s
}

// record writes the CloudTrail event of a Query call: who (the authenticated caller, or the
// web identity or SAML user of the unsigned STS calls), what (the action, its parameters with
// secrets hidden, and for a call that changes something its response), and the outcome.
// Requests that name no operation of the service are not recorded, nor are those whose
// signature did not verify: no principal made them.
func (s *Server) record(r *http.Request, requestID string, o *outcome) {
	if s.trail == nil || o.op == nil {
		return
	}
	ev := &audit.Event{
		EventName:       o.op.Name,
		AWSRegion:       cmp.Or(o.region, "us-east-1"),
		SourceIPAddress: sourceIP(r),
		UserAgent:       r.UserAgent(),
		RequestID:       requestID,
	}
	if o.principal == nil {
		if !unsignedAction(o.action) {
			return
		}
		// AssumeRoleWithWebIdentity and AssumeRoleWithSAML: the event belongs to the role's
		// account, and CloudTrail names the caller by its kind.
		kind := "WebIdentityUser"
		if o.action == "AssumeRoleWithSAML" {
			kind = "SAMLUser"
		}
		ev.UserIdentity = &audit.UserIdentity{Type: kind}
		ev.RecipientAccountID = arnAccount(o.form.Get("RoleArn"))
		if ev.RecipientAccountID == "" {
			return
		}
	}
	if o.err != nil {
		ev.ErrorCode, ev.ErrorMessage = o.err.Code, o.err.Message
	}
	// What costs building (strings included) is built by the trail's writer, off the request
	// path: the form, the output and the principal are not changed once the answer is written.
	op, form, out, p, failed, service := o.op, o.form, o.out, o.principal, o.err != nil, o.svc.SigningName
	ev.Deferred = func(ev *audit.Event) {
		ev.EventSource = service + ".amazonaws.com"
		if p != nil {
			ev.UserIdentity = audit.Identity(p)
		}
		ev.ReadOnly = audit.ReadOnly(service + ":" + op.Name)
		ev.RequestParameters = audit.Parameters(op, form)
		if !failed && !ev.ReadOnly {
			ev.ResponseElements = audit.ResponseElements(op, out)
		}
	}
	s.trail.Record(ev)
}

// recordJSON writes the CloudTrail event of a JSON-protocol call (the decision API, resource
// policies, LookupEvents): its parameters are the request's JSON members as sent, with session
// tokens hidden; as the calls that change something answer nothing worth keeping (or, as
// GetSigningContext, a key), no response elements are kept.
func (s *Server) recordJSON(r *http.Request, requestID string, o *outcome, body []byte) {
	if s.trail == nil || o.jsonService == nil || o.principal == nil {
		return
	}
	ev := &audit.Event{
		EventSource:     o.jsonService.SigningName + ".amazonaws.com",
		EventName:       o.action,
		AWSRegion:       cmp.Or(o.region, "us-east-1"),
		SourceIPAddress: sourceIP(r),
		UserAgent:       r.UserAgent(),
		RequestID:       requestID,
		UserIdentity:    audit.Identity(o.principal),
		ReadOnly:        !strings.HasPrefix(o.action, "Put") && !strings.HasPrefix(o.action, "Delete"),
	}
	var params map[string]any
	if json.Unmarshal(body, &params) == nil && len(params) > 0 {
		hideTokens(params)
		ev.RequestParameters = params
	}
	if o.err != nil {
		ev.ErrorCode, ev.ErrorMessage = JSONCode(o.err.Code), o.err.Message
	}
	s.trail.Record(ev)
}

// hideTokens replaces session tokens and signatures in JSON parameters (a signed request
// passed to the decision API carries its Authorization and security token headers).
func hideTokens(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			switch strings.ToLower(k) {
			case "sessiontoken", "authorization", "x-amz-security-token", "signingkey":
				x[k] = audit.Hidden
			default:
				hideTokens(val)
			}
		}
	case []any:
		for _, e := range x {
			hideTokens(e)
		}
	}
}

// arnAccount is the account field of an ARN, "" when it has none or one not 12 long.
func arnAccount(s string) string {
	if a := arn.Account(s); len(a) == 12 {
		return a
	}
	return ""
}
