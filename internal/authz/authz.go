// Package authz runs AWS's policy evaluation logic over every policy type that applies to a
// request: explicit deny wins everywhere; resource control policies and service control
// policies (per organization level); identity-based policies; resource-based policies (role
// trust policies for sts:AssumeRole*, any other service's through the same input); permissions
// boundaries; session policies; the root user; same-account and cross-account rules.
//
// It knows nothing of HTTP or storage: callers gather the policies (the server from the store,
// `gatehouse policy eval` from files, the simulator from its parameters) and pass them in.
package authz

import (
	"github.com/gatehouse-iam/gatehouse/policy"
)

// PrincipalType is the kind of caller, with the names aws:PrincipalType uses.
type PrincipalType string

// Principal types.
const (
	Root          PrincipalType = "Account"
	User          PrincipalType = "User"
	AssumedRole   PrincipalType = "AssumedRole"
	FederatedUser PrincipalType = "FederatedUser"
	Service       PrincipalType = "Service" // a service principal such as s3.amazonaws.com
	Anonymous     PrincipalType = "Anonymous"
)

// Caller is who makes the request.
type Caller struct {
	Type PrincipalType
	// Principal is the caller as Principal elements of resource policies match it. For a
	// role session RoleARN is the role's ARN; for a federated user (GetFederationToken) set
	// RoleARN to the ARN of the IAM user who federated, since a resource policy naming that
	// user matches the session too (and is then limited by the session's policies). RoleID
	// is likewise the role's (or the federating user's) unique id.
	policy.Principal
}

// PolicyType says where a policy comes from; decisions and matched statements name it.
type PolicyType string

// Policy types, with the simulator's names where it has them.
const (
	IdentityPolicy PolicyType = "IAM Policy"
	ResourcePolicy PolicyType = "Resource Policy"
	BoundaryPolicy PolicyType = "Permissions Boundary Policy"
	SessionPolicy  PolicyType = "Session Policy"
	SCPPolicy      PolicyType = "SCP"
	RCPPolicy      PolicyType = "RCP"
)

// Source names one policy, for matched statements: e.g. a managed policy ARN, "user alice
// inline policy p", or a file name.
type Source struct {
	Type PolicyType
	ID   string
}

// Policies is a compiled set of policies with their sources; Sources[i] describes
// Set.Policy(i). Build it once and reuse it across requests (it is immutable).
type Policies struct {
	Set     *policy.Set
	Sources []Source
}

// NewPolicies compiles ps (already parsed) with their sources into a Policies.
func NewPolicies(ps []*policy.Policy, sources []Source) *Policies {
	return &Policies{Set: policy.NewSet(ps...), Sources: sources}
}

// Request is one authorization question with every policy that applies to it.
type Request struct {
	Caller   *Caller // nil for an anonymous request
	Action   string  // "service:Action"
	Resource string  // the resource ARN, "*" when the action has none
	// ResourceAccount owns the resource; "" means the caller's account.
	ResourceAccount string
	Context         *policy.Context

	Identity *Policies // the caller's identity-based policies (user, its groups; role)
	// ResourcePolicy is the resource's policy (a role's trust policy for sts:AssumeRole*).
	ResourcePolicy *Policies
	// Boundary is the caller's permissions boundary; nil when it has none.
	Boundary *Policies
	// Session holds session policies (AssumeRole, GetFederationToken); nil when none.
	Session *Policies
	// SCPs and RCPs are the organization's policies per level, root first; nil means the
	// account is in no organization. An empty level means nothing is attached there.
	SCPs []*Policies
	RCPs []*Policies
}

// Decision is the outcome, in the simulator's words.
type Decision string

// Decisions.
const (
	Allowed      Decision = "allowed"
	ExplicitDeny Decision = "explicitDeny"
	ImplicitDeny Decision = "implicitDeny"
)

// Matched is a statement that applied, with the policy it came from.
type Matched struct {
	Source Source
	policy.Match
}

// Result is a decision with the reasons for it. Evaluate fills Decision and DeniedBy;
// Explain fills every field.
type Result struct {
	Decision Decision
	// DeniedBy is the policy type whose (explicit or implicit) deny decided, for AWS's
	// AccessDenied messages: e.g. BoundaryPolicy for "because no permissions boundary allows".
	// It is "" when the request is allowed.
	DeniedBy PolicyType
	// Matched are the statements behind the decision: the Deny statements that matched when
	// the decision is an explicit deny, else the Allow statements that matched (which, for an
	// implicit deny, did not suffice), in the order of the policy types in Details.
	Matched []Matched
	// Missing lists context keys that matching statements needed and the request lacked.
	Missing []string
	// Details is each policy type's own decision, for the policy types the request has (as
	// the simulator's EvalDecisionDetails, PermissionsBoundaryDecisionDetail and
	// OrganizationsDecisionDetail report them). SCPPolicy is allowed only when every level
	// allows; RCPPolicy counts each level's full-access RCP.
	Details []Detail
}

// Detail is one policy type's decision on its own.
type Detail struct {
	Type     PolicyType
	Decision Decision
}

// Detail returns the decision of policy type t and whether the request had policies of it.
func (r *Result) Detail(t PolicyType) (Decision, bool) {
	for _, d := range r.Details {
		if d.Type == t {
			return d.Decision, true
		}
	}
	return "", false
}
