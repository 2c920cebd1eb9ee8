package policy

import "fmt"

// Type is the kind of policy a document is; IAM validates each differently.
//
//   - Identity: managed and inline policies of users, groups and roles, and permissions
//     boundaries. Version must be 2012-10-17; Principal and NotPrincipal are prohibited;
//     statements need Action (or NotAction) and Resource (or NotResource).
//   - Resource: resource-based policies. Version may be 2008-10-17 (policy variables are then
//     literal text) or missing; every statement needs Principal or NotPrincipal.
//   - Trust: a role's trust (assume-role) policy: a resource policy whose statements need a
//     Principal, may not have Resource or NotResource, and may only name the STS actions that
//     start or tag a role session.
//   - SCP: AWS Organizations service control policies: validated as Identity.
//   - RCP: resource control policies: version 2012-10-17 and a Principal of "*".
//   - Session: session policies passed to AssumeRole and GetFederationToken: validated as
//     Identity.
type Type int

// Policy types.
const (
	Identity Type = iota
	Resource
	Trust
	SCP
	RCP
	Session
)

func (t Type) String() string {
	switch t {
	case Identity:
		return "Identity"
	case Resource:
		return "Resource"
	case Trust:
		return "Trust"
	case SCP:
		return "SCP"
	case RCP:
		return "RCP"
	case Session:
		return "Session"
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// needsPrincipal reports whether every statement of a t policy must name a principal.
func (t Type) needsPrincipal() bool { return t == Resource || t == Trust || t == RCP }

// Effect is a statement's Effect element.
type Effect uint8

// Effects.
const (
	Allow Effect = iota + 1
	Deny
)

func (e Effect) String() string {
	switch e {
	case Allow:
		return "Allow"
	case Deny:
		return "Deny"
	}
	return "Effect(0)"
}

// Decision is the outcome of evaluating a request against a policy or a set of policies.
type Decision uint8

// Decisions. Denied is an explicit deny; NotApplicable means no statement matched (an implicit
// deny, unless another policy allows).
const (
	NotApplicable Decision = iota
	Allowed
	Denied
)

func (d Decision) String() string {
	switch d {
	case Allowed:
		return "Allowed"
	case Denied:
		return "Denied"
	}
	return "NotApplicable"
}

// Position locates a byte in a policy document; Line and Column count from 1, Column in bytes.
type Position struct {
	Offset int
	Line   int
	Column int
}

func (p Position) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Column) }

// Error is a policy document that IAM rejects. Message is AWS's MalformedPolicyDocument message,
// e.g. "Syntax errors in policy." or "Policy statement must contain actions.".
type Error struct {
	Message   string
	Statement int      // index of the offending statement, or -1
	Pos       Position // where the problem is, when known (Line 0 otherwise)
}

func (e *Error) Error() string {
	if e.Pos.Line > 0 {
		return fmt.Sprintf("%s (at %s)", e.Message, e.Pos)
	}
	return e.Message
}
