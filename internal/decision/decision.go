// Package decision is Gatehouse's decision API for trusted services: a SigV4-signed call of
// AWS's JSON 1.1 protocol (X-Amz-Target: Gatehouse_20261201.Authorize or .BatchAuthorize,
// signing name "gatehouse"), itself allowed by the caller's policy (gatehouse:Authorize,
// gatehouse:BatchAuthorize), that asks whether a principal may perform an action on a
// resource. The principal is named by its ARN, or proved by the client's own signed request
// (which the service passes on as it received it). The answer is the decision with the
// statements behind it, the principal's identity and the context keys the policies needed
// and the question lacked.
package decision

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/enforce"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/services"
	"github.com/gatehouse-iam/gatehouse/internal/sigv4"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// TargetPrefix and SigningName identify the API on the shared endpoint.
const (
	TargetPrefix = "Gatehouse_20261201"
	SigningName  = "gatehouse"
)

// MaxBatch is the most questions one BatchAuthorize takes.
const MaxBatch = 100

// Authenticator verifies a client's signed request; *server.Server implements it.
type Authenticator interface {
	AuthenticateProxied(ctx context.Context, r *http.Request) (context.Context, *sigv4.Signed, *principal.Principal, error)
}

// Enforcer answers the questions; *enforce.Enforcer implements it.
type Enforcer interface {
	Explain(ctx context.Context, p *principal.Principal, acc enforce.Access) (*enforce.Explanation, error)
	PrincipalByARN(ctx context.Context, arn string) (*principal.Principal, error)
	// ResourcePolicy is the stored policy of a protected service's resource (respolicy).
	ResourcePolicy(ctx context.Context, account, arn string) (*authz.Policies, error)
	// Authorize and SigningContext serve GetSigningContext (signing.go).
	Authorize(ctx context.Context, acc enforce.Access) error
	SigningContext(ctx context.Context, sessions enforce.SessionOpener, scope enforce.SigningScope) (*enforce.SigningContext, error)
}

// Service is the decision API.
type Service struct {
	Auth     Authenticator
	Enforcer Enforcer
	Services func() *services.Set // the protected services, for routing signed requests
	// Sessions opens session tokens for GetSigningContext (*session.Keyring); nil answers
	// every temporary credential as InvalidClientTokenId.
	Sessions enforce.SessionOpener
}

// JSON returns the API for server.WithJSON.
func (s *Service) JSON() *server.JSONService {
	return &server.JSONService{TargetPrefix: TargetPrefix, SigningName: SigningName,
		Operations: []string{"Authorize", "BatchAuthorize", "GetSigningContext"}, Handle: s.handle}
}

// Question is one authorization question.
type Question struct {
	// PrincipalArn names the principal: an IAM user or role (asked about as a session of the
	// role without session policies) of the caller's account, or its root user.
	PrincipalArn string `json:",omitempty"`
	// SignedRequest is the client's request as the service received it: Gatehouse verifies
	// its signature and asks about the principal that signed. Its payload hash is its
	// X-Amz-Content-Sha256 header, or an empty body's.
	SignedRequest *SignedRequest `json:",omitempty"`
	// Action and Resource are the question; with a SignedRequest and no Action, the routes of
	// the signature's service (--services) give them.
	Action          string `json:",omitempty"`
	Resource        string `json:",omitempty"`
	ResourceAccount string `json:",omitempty"`
	// Context are condition keys and their values; the global keys aws:SourceIp,
	// aws:SecureTransport and aws:UserAgent describe the client's request.
	Context map[string][]string `json:",omitempty"`
	// ResourcePolicy is the resource's policy document, if it has one.
	ResourcePolicy string `json:",omitempty"`
}

// SignedRequest is an HTTP request as its client signed it.
type SignedRequest struct {
	Method  string
	URI     string // path and query, as sent: /orders/17?view=full
	Host    string
	Headers map[string][]string
}

// Answer is the decision on one question.
type Answer struct {
	Decision           string // allowed, explicitDeny or implicitDeny; "" when Error is set
	Allowed            bool
	Action             string      `json:",omitempty"`
	Resource           string      `json:",omitempty"`
	Principal          *Identity   `json:",omitempty"`
	MatchedStatements  []Statement `json:",omitempty"`
	MissingContextKeys []string    `json:",omitempty"`
	// Message is AWS's AccessDenied text for a denial.
	Message string    `json:",omitempty"`
	Error   *ErrorOut `json:",omitempty"`
}

// Identity is who a principal is.
type Identity struct {
	Arn         string
	Account     string
	UserId      string //nolint:revive // AWS's spelling
	SessionName string `json:",omitempty"`
}

// Statement is a statement behind a decision.
type Statement struct {
	SourcePolicyId   string //nolint:revive // AWS's spelling, as the simulator's
	SourcePolicyType string
	Effect           string
	Sid              string `json:",omitempty"`
	StartLine        int
	StartColumn      int
}

// ErrorOut is why a question could not be decided.
type ErrorOut struct {
	Code    string
	Message string
}

func (s *Service) handle(ctx context.Context, op string, body []byte) ([]byte, error) {
	caller := principal.FromContext(ctx)
	switch op {
	case "Authorize":
		var q Question
		if err := decode(body, &q); err != nil {
			return nil, err
		}
		a, err := s.answer(ctx, caller, &q)
		if err != nil {
			return nil, err
		}
		return json.Marshal(a)
	case "BatchAuthorize":
		var in struct{ Questions []Question }
		if err := decode(body, &in); err != nil {
			return nil, err
		}
		if len(in.Questions) == 0 || len(in.Questions) > MaxBatch {
			return nil, validation("Questions must hold between 1 and %d questions; it holds %d.", MaxBatch, len(in.Questions))
		}
		out := struct{ Answers []*Answer }{make([]*Answer, len(in.Questions))}
		for i := range in.Questions {
			a, err := s.answer(ctx, caller, &in.Questions[i])
			if err != nil {
				e := awsquery.AsError(err)
				if e == nil {
					return nil, err // the store, not the question
				}
				a = &Answer{Error: &ErrorOut{Code: server.JSONCode(e.Code), Message: e.Message}}
			}
			out.Answers[i] = a
		}
		return json.Marshal(out)
	case "GetSigningContext":
		var in SigningContextInput
		if err := decode(body, &in); err != nil {
			return nil, err
		}
		out, err := s.signingContext(ctx, caller, &in)
		if err != nil {
			return nil, err
		}
		return json.Marshal(out)
	}
	return nil, fmt.Errorf("decision: unknown operation %s", op)
}

func decode(body []byte, v any) error {
	return server.DecodeJSON(body, v, "The request body is not a valid question")
}

func validation(format string, args ...any) error {
	return awsquery.Errorf(http.StatusBadRequest, "ValidationException", format, args...)
}

// answer decides one question asked by caller.
func (s *Service) answer(ctx context.Context, caller *principal.Principal, q *Question) (*Answer, error) {
	var p *principal.Principal
	facts := enforce.RequestFacts{}
	acc := enforce.Access{Action: q.Action, Resource: q.Resource, ResourceAccount: q.ResourceAccount}
	switch {
	case (q.PrincipalArn == "") == (q.SignedRequest == nil):
		return nil, validation("A question names its principal by exactly one of PrincipalArn and SignedRequest.")
	case q.PrincipalArn != "":
		var err error
		if p, err = s.Enforcer.PrincipalByARN(ctx, q.PrincipalArn); err != nil {
			return nil, err
		}
		if p.Account != caller.Account {
			// Questions about another account's principals would disclose its permissions.
			return nil, awsquery.AccessDenied("User: %s is not authorized to ask about %s, a principal of another account", caller.ARN, q.PrincipalArn)
		}
	default:
		r, err := q.SignedRequest.httpRequest(ctx)
		if err != nil {
			return nil, err
		}
		_, signed, signer, err := s.Auth.AuthenticateProxied(ctx, r)
		if err != nil {
			return nil, err
		}
		p = signer
		facts.Region, facts.UserAgent = signed.Region, r.UserAgent()
		if acc.Action == "" {
			svc, ok := s.Services().Service(signed.Service)
			if !ok {
				return nil, validation("The question gives no Action, and %s is not a service of --services whose routes would give it.", signed.Service)
			}
			m, err := svc.Match(r, signed.Region, p.Account)
			if err != nil {
				return nil, validation("The question gives no Action, and the routes of %s do not map the request: %v.", signed.Service, err)
			}
			acc.Action, acc.Resource, acc.ResourceAccount = m.Action, m.Resource, m.ResourceAccount
			for _, c := range m.Context {
				acc.Keys = append(acc.Keys, enforce.ContextKey{Name: c.Key, Values: c.Values, Multi: len(c.Values) > 1})
			}
		}
	}
	if acc.Action == "" || !strings.Contains(acc.Action, ":") {
		return nil, validation("Action must be a service prefix and an action, such as orders:GetOrder.")
	}
	for key, vals := range q.Context {
		switch strings.ToLower(key) {
		case "aws:sourceip":
			facts.SourceIP = first(vals)
		case "aws:securetransport":
			facts.SecureTransport = strings.EqualFold(first(vals), "true")
		case "aws:useragent":
			facts.UserAgent = first(vals)
		default:
			acc.Keys = append(acc.Keys, enforce.ContextKey{Name: key, Values: vals, Multi: len(vals) > 1})
		}
	}
	if q.ResourcePolicy != "" {
		rp, err := policy.Parse([]byte(q.ResourcePolicy), policy.Resource)
		if err != nil {
			return nil, awsquery.Errorf(http.StatusBadRequest, "MalformedPolicyDocument", "ResourcePolicy: %v", err)
		}
		acc.ResourcePolicy = authz.NewPolicies([]*policy.Policy{rp}, []authz.Source{{Type: authz.ResourcePolicy, ID: "ResourcePolicy"}})
	} else if err := s.storedResourcePolicy(ctx, p, &acc); err != nil {
		return nil, err
	}
	ex, err := s.Enforcer.Explain(enforce.WithRequestFacts(ctx, facts), p, acc)
	if err != nil {
		return nil, err
	}
	a := &Answer{Decision: string(ex.Decision), Allowed: ex.Decision == authz.Allowed, Action: acc.Action, Resource: acc.Resource,
		Principal: identity(p), MissingContextKeys: ex.Missing, Message: ex.Message}
	if a.Resource == "" {
		a.Resource = "*"
	}
	for _, m := range ex.Matched {
		a.MatchedStatements = append(a.MatchedStatements, Statement{SourcePolicyId: m.Source.ID, SourcePolicyType: string(m.Source.Type),
			Effect: m.Effect.String(), Sid: m.Sid, StartLine: m.Start.Line, StartColumn: m.Start.Column})
	}
	return a, nil
}

func first(vals []string) string {
	if len(vals) == 0 {
		return ""
	}
	return vals[0]
}

func identity(p *principal.Principal) *Identity {
	id := &Identity{Arn: p.ARN, Account: p.Account, UserId: p.UserID}
	if p.Session != nil {
		id.SessionName = p.Session.SessionName
	}
	return id
}

// httpRequest is the signed request as net/http would have received it.
func (sr *SignedRequest) httpRequest(ctx context.Context) (*http.Request, error) {
	if sr.Method == "" || !strings.HasPrefix(sr.URI, "/") || sr.Host == "" {
		return nil, validation("SignedRequest needs its Method, its URI (a path with its query, such as /orders/17) and its Host.")
	}
	u, err := url.ParseRequestURI(sr.URI)
	if err != nil {
		return nil, validation("SignedRequest.URI %q is not a valid request URI.", sr.URI)
	}
	h := http.Header{}
	for k, vs := range sr.Headers {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	r := &http.Request{Method: strings.ToUpper(sr.Method), URL: u, RequestURI: sr.URI, Host: sr.Host, Header: h, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	return r.WithContext(ctx), nil
}

// storedResourcePolicy adds to acc the stored policy of its resource (respolicy), when the
// resource is one of a service of --services, as forward-auth decides: the policy of the
// account that owns it (the ARN's account, else the service's, else the principal's), which
// then is acc's ResourceAccount.
func (s *Service) storedResourcePolicy(ctx context.Context, p *principal.Principal, acc *enforce.Access) error {
	parts := strings.SplitN(acc.Resource, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || s.Services == nil {
		return nil
	}
	set := s.Services()
	if set == nil {
		return nil
	}
	svc, ok := set.Service(parts[2])
	if !ok {
		return nil
	}
	owner := cmp.Or(parts[4], acc.ResourceAccount, svc.Account, p.Account)
	rp, err := s.Enforcer.ResourcePolicy(ctx, owner, acc.Resource)
	if err != nil || rp == nil {
		return err
	}
	acc.ResourcePolicy = rp
	if owner != p.Account {
		acc.ResourceAccount = owner
	}
	return nil
}
