package enforce

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// Authorize decides acc for the caller in ctx by AWS's evaluation logic, with the caller's
// identity-based policies, permissions boundary and session policies, acc's resource policy
// and condition keys, and the global condition keys. It returns nil or an AccessDenied error
// with AWS's message. Other services of Gatehouse (STS's AssumeRole, anything checking
// iam:PassRole) call it for the checks their operations make themselves.
func (e *Enforcer) Authorize(ctx context.Context, acc Access) error {
	p := principal.FromContext(ctx)
	if p == nil {
		return awsquery.AccessDenied("User: anonymous is not authorized to perform: %s", acc.Action)
	}
	return e.Decide(ctx, p, &acc)
}

// Decide is Authorize for p, the caller in ctx, already looked up: IAM's AuthorizeOperation
// asks it about each Access an operation needs. It may set acc.Resource to "*".
func (e *Enforcer) Decide(ctx context.Context, p *principal.Principal, acc *Access) error {
	if acc.Resource == "" {
		acc.Resource = "*"
	}
	sameAccount := acc.ResourceAccount == "" || acc.ResourceAccount == p.Account
	if p.Type == principal.Root && sameAccount && acc.ResourcePolicy == nil {
		return nil
	}
	gr, err := e.grantsFor(ctx, p)
	if err != nil {
		return err
	}
	req := e.request(ctx, p, gr, acc, false)
	res := authz.Evaluate(&req)
	if res.Decision == authz.Allowed || (acc.AccountGrant && res.Decision == authz.ImplicitDeny) {
		return nil
	}
	shown := req
	if acc.Display != "" {
		shown.Resource = acc.Display
	}
	msg := authz.DeniedMessage(&shown, res)
	if shown.Resource == "*" && strings.HasPrefix(req.Action, "iam:") {
		// IAM names the resource "*" in its messages (STS leaves it out).
		msg = strings.Replace(msg, "perform: "+req.Action, "perform: "+req.Action+" on resource: *", 1)
	}
	if e.denials != nil && encodesDenials(req.Action) {
		// The details go sealed into the message, for sts:DecodeAuthorizationMessage.
		enc, err := e.denials.EncodeDenial(ctx, p, &req)
		if err != nil {
			e.logger.WarnContext(ctx, "encode authorization message", slog.String("error", err.Error()))
		} else {
			msg += " Encoded authorization failure message: " + enc
		}
	}
	return awsquery.AccessDenied("%s", msg)
}

// encodesDenials reports whether the AccessDenied answers of action carry an encoded
// authorization message. "Only certain AWS operations return an encoded authorization
// message. The documentation for an individual operation indicates whether that operation
// returns an encoded message" (STS API Reference, DecodeAuthorizationMessage): EC2's do, IAM's
// and STS's do not, so theirs are AWS's text alone. The encoder is kept for the services
// Gatehouse protects later.
func encodesDenials(action string) bool {
	service, _, _ := strings.Cut(action, ":")
	return service != "iam" && service != "sts"
}

// DenialEncoder seals the details of a denied request (the decision, the statements that
// decided it, the context) into the encoded authorization message AccessDenied answers carry.
type DenialEncoder interface {
	EncodeDenial(ctx context.Context, p *principal.Principal, req *authz.Request) (string, error)
}

// request is the authz.Request of acc by p, whose grants are gr. Its condition keys are built
// only when a policy may read them (gr's use keys, or acc has a resource policy), unless
// allKeys: Explain reports the keys statements missed.
func (e *Enforcer) request(ctx context.Context, p *principal.Principal, gr *grants, acc *Access, allKeys bool) authz.Request {
	req := authz.Request{
		Caller:          &gr.caller,
		Action:          acc.Action,
		Resource:        acc.Resource,
		ResourceAccount: acc.ResourceAccount,
		ResourcePolicy:  acc.ResourcePolicy,
		Identity:        gr.identity,
		Boundary:        gr.boundary,
		Session:         gr.session,
	}
	if allKeys || gr.usesKeys || acc.ResourcePolicy != nil {
		req.Context = e.requestContext(ctx, p, gr, acc)
	}
	return req
}

// requestContext builds the condition keys of a request: AWS's global keys from the caller
// and the request facts, then acc's own (RequestContext).
func (e *Enforcer) requestContext(ctx context.Context, p *principal.Principal, gr *grants, acc *Access) *policy.Context {
	f, _ := RequestFactsFrom(ctx)
	if f.Time.IsZero() {
		f.Time = e.now()
	}
	return RequestContext(p, gr.principalARN, gr.tags, f, acc.ResourceAccount, acc.Keys)
}

// RequestContext builds the condition keys of a request by p: AWS's global keys from the
// principal (principalARN is aws:PrincipalArn, the role's ARN for a role session; tags are
// aws:PrincipalTag/*) and the request facts f (f.Time is aws:CurrentTime), aws:ResourceAccount
// (resourceAccount, "" for p's account), then the request's own keys. The enforcer and the Go
// middleware (package middleware) both build their contexts with it, so that a policy reads
// the same keys wherever it is evaluated.
func RequestContext(p *principal.Principal, principalARN string, tags []store.Tag, f RequestFacts, resourceAccount string, keys []ContextKey) *policy.Context {
	c := new(policy.Context)
	t := f.Time.UTC()
	c.Set("aws:CurrentTime", t.Format(time.RFC3339))
	c.Set("aws:EpochTime", strconv.FormatInt(t.Unix(), 10))
	c.Set("aws:SecureTransport", strconv.FormatBool(f.SecureTransport))
	if f.SourceIP != "" {
		c.Set("aws:SourceIp", f.SourceIP)
	}
	if f.UserAgent != "" {
		c.Set("aws:UserAgent", f.UserAgent)
	}
	if f.Region != "" {
		c.Set("aws:RequestedRegion", f.Region)
	}
	c.Set("aws:PrincipalArn", principalARN)
	c.Set("aws:PrincipalAccount", p.Account)
	c.Set("aws:PrincipalType", string(p.Type))
	c.Set("aws:PrincipalIsAWSService", "false")
	c.Set("aws:ViaAWSService", "false")
	if p.UserID != "" {
		c.Set("aws:userid", p.UserID)
	}
	if p.UserName != "" && (p.Type == principal.User) {
		c.Set("aws:username", p.UserName)
	}
	for _, t := range tags {
		c.Set("aws:PrincipalTag/"+t.Key, t.Value)
	}
	if sess := p.Session; sess != nil {
		c.Set("aws:MultiFactorAuthPresent", strconv.FormatBool(sess.MFA))
		if sess.MFA && !sess.MFAAt.IsZero() {
			age := max(int64(f.Time.Sub(sess.MFAAt)/time.Second), 0)
			c.Set("aws:MultiFactorAuthAge", strconv.FormatInt(age, 10))
		}
		if !sess.IssuedAt.IsZero() {
			c.Set("aws:TokenIssueTime", sess.IssuedAt.UTC().Format(time.RFC3339))
		}
		if sess.SourceIdentity != "" {
			c.Set("aws:SourceIdentity", sess.SourceIdentity)
		}
		if sess.Federated != "" {
			c.Set("aws:FederatedProvider", sess.Federated)
		}
	}
	if resourceAccount == "" {
		resourceAccount = p.Account
	}
	c.Set("aws:ResourceAccount", resourceAccount)
	for _, k := range keys {
		if k.Multi {
			c.SetMulti(k.Name, k.Values...)
		} else if len(k.Values) > 0 {
			c.Set(k.Name, k.Values[0])
		}
	}
	return c
}
