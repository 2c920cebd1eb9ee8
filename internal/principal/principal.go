// Package principal describes who is making a request, as authentication established it, and
// carries it through a request's context.
package principal

import (
	"context"
	"time"
)

// Type is the kind of principal, with the names aws:PrincipalType uses.
type Type string

// Principal types.
const (
	Root          Type = "Account"
	User          Type = "User"
	AssumedRole   Type = "AssumedRole"
	FederatedUser Type = "FederatedUser"
)

// Principal is an authenticated caller.
type Principal struct {
	Type    Type
	Account string // 12-digit account id
	// ARN is arn:aws:iam::ACCOUNT:root, a user's ARN, an assumed-role session ARN
	// (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION) or a federated user's ARN
	// (arn:aws:sts::ACCOUNT:federated-user/NAME).
	ARN string
	// UserID is aws:userid: the account id for root, AIDA... for users, AROA...:SESSION for
	// role sessions, ACCOUNT:NAME for federated users.
	UserID      string
	UserName    string // aws:username, for IAM users (also in their GetSessionToken sessions)
	AccessKeyID string // the key that signed the request
	// Session is set when the request was signed with temporary credentials.
	Session *Session
}

// Session describes temporary credentials: what STS sealed into the session token.
type Session struct {
	// IssuedAt and Expires bound the session; aws:TokenIssueTime is IssuedAt.
	IssuedAt, Expires time.Time
	// Role is set for role sessions (AssumeRole*): the role's unique id, ARN (with path) and
	// name, and the session name.
	RoleID, RoleARN, RoleName, SessionName string
	// UserID is set for sessions of an IAM user (GetSessionToken, GetFederationToken): the
	// user whose policies apply.
	UserID string
	// Policies and PolicyARNs are the session policies passed when the session was created;
	// they narrow what the role's or user's policies allow.
	Policies   []string
	PolicyARNs []string
	// Tags are the session tags (aws:PrincipalTag/KEY), TransitiveKeys those that pass to
	// chained role sessions.
	Tags           map[string]string
	TransitiveKeys []string
	SourceIdentity string
	// MFA is set when the session was created with a valid MFA code, at MFAAt.
	MFA   bool
	MFAAt time.Time
	// Chained is set when the session came from assuming a role with role credentials.
	Chained bool
	// Console is set for the web console's session of a signed-in IAM user or root user: it
	// acts as that user, as a console sign-in does in AWS, without the limits of
	// GetSessionToken's credentials.
	Console bool
	// Federated is the identity provider for AssumeRoleWithWebIdentity/SAML sessions.
	Federated string
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
