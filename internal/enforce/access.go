package enforce

import (
	"context"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
)

// ContextKey is one condition key of a request with its values.
type ContextKey struct {
	Name   string
	Values []string
	// Multi marks a multivalued key (aws:TagKeys), which ForAllValues/ForAnyValue read as a set.
	Multi bool
}

// Access is one authorization question about the authenticated caller: may it perform
// Action on Resource, given the request's own condition keys?
type Access struct {
	Action   string // "iam:PassRole"
	Resource string // the resource ARN; "" or "*" for actions without one
	// ResourceAccount owns the resource; "" means the caller's account.
	ResourceAccount string
	// ResourcePolicy is the resource's policy (a role's trust policy for sts:AssumeRole*).
	ResourcePolicy *authz.Policies
	// Keys are the action's and the resource's condition keys (aws:RequestTag/..., iam:PolicyARN,
	// iam:PassedToService, aws:ResourceTag/...). Authorize adds the global keys.
	Keys []ContextKey

	// Display names the resource in the AccessDenied message when AWS does not show its ARN
	// there ("user bob", "policy ARN"); "" shows Resource. IAM's target resolution sets it.
	Display string
	// AccountGrant says the account's password policy allows the action (IAM's
	// selfServiceGrant), so only an explicit Deny refuses it.
	AccountGrant bool
}

// RequestFacts is what the HTTP layer knows about a request that AWS's global condition keys
// report.
type RequestFacts struct {
	SourceIP        string    // aws:SourceIp
	UserAgent       string    // aws:UserAgent
	SecureTransport bool      // aws:SecureTransport
	Region          string    // aws:RequestedRegion: the region of the signature's credential scope
	Time            time.Time // aws:CurrentTime and aws:EpochTime
}

type factsKey struct{}

// WithRequestFacts returns ctx carrying f, for the condition keys of every authorization made
// while serving the request.
func WithRequestFacts(ctx context.Context, f RequestFacts) context.Context {
	return context.WithValue(ctx, factsKey{}, f)
}

// RequestFactsFrom returns the facts in ctx and whether there were any.
func RequestFactsFrom(ctx context.Context) (RequestFacts, bool) {
	f, ok := ctx.Value(factsKey{}).(RequestFacts)
	return f, ok
}
