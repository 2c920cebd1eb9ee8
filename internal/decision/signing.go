package decision

import (
	"context"
	"encoding/hex"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/enforce"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
)

// SigningServiceKey is the condition key of GetSigningContext naming the signing service
// asked about: a policy scopes a service's key to its own name with
// {"StringEqualsIfExists": {"gatehouse:SigningService": "orders"}} (IfExists, because the
// server's first check of gatehouse:GetSigningContext, before the input is read, has no value
// for it).
const SigningServiceKey = "gatehouse:SigningService"

// reservedSigningNames are the signing names of Gatehouse's own APIs: a signing key for them
// would let its holder sign requests to Gatehouse as the principal, so none is ever handed out.
var reservedSigningNames = []string{"iam", "sts", SigningName, "cloudtrail", "signin"}

// SigningContextInput asks for the signing context of a client's access key in one
// credential scope: the key id, the session token of temporary credentials, and the scope's
// date (YYYYMMDD), region and service, as the client's signature names them.
type SigningContextInput struct {
	AccessKeyId  string //nolint:revive // AWS's spelling
	SessionToken string `json:",omitempty"`
	Date         string
	Region       string
	Service      string
}

// SigningContextOutput is what a service needs to verify the client's signatures in that scope
// and decide its requests itself.
type SigningContextOutput struct {
	// SigningKey is the hex SigV4 signing key of the scope (kSigning: the HMAC chain of the
	// secret over date, region, service and "aws4_request"); the secret itself never leaves.
	SigningKey string
	Principal  SigningPrincipal
	// Policies are the identity-based policies, the permissions boundary and the session
	// policies that apply to the principal's requests; SessionPolicies says session policies
	// cap them (then none listed means nothing is allowed).
	Policies        []SigningPolicy `json:",omitempty"`
	SessionPolicies bool            `json:",omitempty"`
	// Tags are the principal's tags (aws:PrincipalTag/*), session tags merged.
	Tags []Tag `json:",omitempty"`
	// DecideRemotely is set, with Principal.Account alone, for a principal of another
	// account than the caller's: its requests are for Authorize to decide.
	DecideRemotely bool `json:",omitempty"`
	// MaxAge is how long, in seconds, the answer may be used without asking again.
	MaxAge int
}

// SigningPrincipal is the principal of a signing context, with what its requests' global
// condition keys report.
type SigningPrincipal struct {
	Arn         string
	Account     string
	UserId      string //nolint:revive // AWS's spelling
	UserName    string `json:",omitempty"`
	Type        string // Account, User, AssumedRole or FederatedUser (aws:PrincipalType)
	AccessKeyId string //nolint:revive // AWS's spelling
	// PrincipalArn is aws:PrincipalArn: the role's ARN for a role session, else Arn.
	PrincipalArn string
	// CallerRoleArn, CallerRoleId and CallerId are the caller as resource policies match it:
	// the role (or federating user) of a session and the IAM user's unique id.
	CallerRoleArn string `json:",omitempty"`
	CallerRoleId  string `json:",omitempty"` //nolint:revive // AWS's spelling
	CallerId      string `json:",omitempty"` //nolint:revive // AWS's spelling
	// Session describes temporary credentials.
	Session *SigningSession `json:",omitempty"`
}

// SigningSession is the session of temporary credentials.
type SigningSession struct {
	IssuedAt          time.Time
	Expiration        time.Time
	RoleArn           string    `json:",omitempty"`
	RoleId            string    `json:",omitempty"` //nolint:revive // AWS's spelling
	RoleName          string    `json:",omitempty"`
	SessionName       string    `json:",omitempty"`
	UserId            string    `json:",omitempty"` //nolint:revive // AWS's spelling
	SourceIdentity    string    `json:",omitempty"`
	MFA               bool      `json:",omitempty"`
	MFAAt             time.Time `json:",omitzero"`
	FederatedProvider string    `json:",omitempty"`
}

// SigningPolicy is one policy of a signing context.
type SigningPolicy struct {
	PolicyId   string //nolint:revive // AWS's spelling
	PolicyType string // "IAM Policy", "Permissions Boundary Policy" or "Session Policy"
	Document   string
}

// Tag is a principal tag.
type Tag struct {
	Key, Value string
}

func (s *Service) signingContext(ctx context.Context, caller *principal.Principal, in *SigningContextInput) (*SigningContextOutput, error) {
	for _, r := range reservedSigningNames {
		if strings.EqualFold(in.Service, r) {
			return nil, awsquery.AccessDenied("User: %s is not authorized to perform: %s:GetSigningContext for the signing name %s, which is Gatehouse's own", caller.ARN, SigningName, in.Service)
		}
	}
	err := s.Enforcer.Authorize(ctx, enforce.Access{Action: SigningName + ":GetSigningContext",
		Keys: []enforce.ContextKey{{Name: SigningServiceKey, Values: []string{in.Service}}}})
	if err != nil {
		return nil, err
	}
	sc, err := s.Enforcer.SigningContext(ctx, s.Sessions, enforce.SigningScope{AccessKeyID: in.AccessKeyId, SessionToken: in.SessionToken,
		Date: in.Date, Region: in.Region, Service: in.Service})
	if err != nil {
		return nil, err
	}
	p := &sc.Principal
	if p.Account != caller.Account {
		// Another account's policies and signing keys are not the caller's to read: the
		// answer names the principal's account only (as sts:GetAccessKeyInfo would), and its
		// requests are decided by Authorize with their signed request.
		return &SigningContextOutput{Principal: SigningPrincipal{Account: p.Account}, DecideRemotely: true, MaxAge: int(enforce.CacheTTL / time.Second)}, nil
	}
	out := &SigningContextOutput{SigningKey: hex.EncodeToString(sc.Key[:]), SessionPolicies: sc.SessionPolicies,
		MaxAge: int(enforce.CacheTTL / time.Second)}
	out.Principal = SigningPrincipal{Arn: p.ARN, Account: p.Account, UserId: p.UserID, UserName: p.UserName, Type: string(p.Type),
		AccessKeyId: p.AccessKeyID, PrincipalArn: sc.PrincipalARN,
		CallerRoleArn: sc.Caller.RoleARN, CallerRoleId: sc.Caller.RoleID, CallerId: sc.Caller.ID}
	if ss := p.Session; ss != nil {
		out.Principal.Session = &SigningSession{IssuedAt: ss.IssuedAt.UTC(), Expiration: ss.Expires.UTC(), RoleArn: ss.RoleARN, RoleId: ss.RoleID,
			RoleName: ss.RoleName, SessionName: ss.SessionName, UserId: ss.UserID, SourceIdentity: ss.SourceIdentity, MFA: ss.MFA,
			MFAAt: ss.MFAAt.UTC(), FederatedProvider: ss.Federated}
		if ss.MFAAt.IsZero() {
			out.Principal.Session.MFAAt = time.Time{}
		}
	}
	for _, l := range [][]enforce.PolicyDocument{sc.Identity, sc.Boundary, sc.Session} {
		for _, d := range l {
			out.Policies = append(out.Policies, SigningPolicy{PolicyId: d.Source.ID, PolicyType: string(d.Source.Type), Document: d.Document})
		}
	}
	for _, t := range sc.Tags {
		out.Tags = append(out.Tags, Tag{Key: t.Key, Value: t.Value})
	}
	return out, nil
}
