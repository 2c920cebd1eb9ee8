// Package principal describes who is making a request, as authentication established it, and
// carries it through a request's context.
package principal

import "context"

// Type is the kind of principal, with the names aws:PrincipalType uses.
type Type string

// Principal types.
const (
	Root Type = "Account"
	User Type = "User"
)

// Principal is an authenticated caller.
type Principal struct {
	Type        Type
	Account     string // 12-digit account id
	ARN         string // arn:aws:iam::ACCOUNT:root or the user's ARN
	UserID      string // the account id for root, AIDA... for users
	UserName    string // "" for root
	AccessKeyID string // the key that signed the request
}

type ctxKey struct{}

// NewContext returns ctx carrying p.
func NewContext(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the principal in ctx, or nil for an unauthenticated context.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}
