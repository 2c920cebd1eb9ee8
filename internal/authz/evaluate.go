package authz

import (
	"sort"
	"strings"

	"github.com/gatehouse-iam/gatehouse/policy"
)

// Evaluate decides req by AWS's evaluation logic and returns the decision with DeniedBy; it
// leaves Matched, Missing and Details empty (see Explain). It is the server's hot path: an
// allowed decision from identity-based policies alone does not allocate for statements
// without conditions or variables.
//
// The rules, from the IAM User Guide ("Policy evaluation logic", "Cross-account policy
// evaluation logic", "Permissions boundaries for IAM entities", "Session policies") and the
// AWS Organizations guide (SCPs, RCPs):
//
//   - "An explicit deny in any policy overrides any allows": a Deny statement that applies in
//     any policy type that applies to the caller decides ExplicitDeny.
//   - SCPs "apply to principals of the account where the SCPs are attached", the root user
//     included: every level, root first, must have an applicable Allow. They do not apply to
//     service principals or anonymous callers.
//   - RCPs apply to the resource whatever the caller; each level carries RCPFullAWSAccess,
//     which "can't be detached", so an RCP only ever denies explicitly.
//   - "By default, all requests are implicitly denied with the exception of the AWS account
//     root user, which has full access": identity policies, boundaries and session policies
//     do not apply to the root user.
//   - Same account: "If an action is allowed by an identity-based policy, a resource-based
//     policy, or both, then AWS allows the action", where identity-based permissions are
//     capped by the permissions boundary and the session policies (the intersection). A
//     resource policy that names the IAM user, the role session or the federated user
//     session itself (or everyone, "*") grants on its own: "an implicit deny in an
//     identity-based policy, a permissions boundary, or a session policy does not impact the
//     final decision". One that names the role (or the IAM user who federated) is "limited by
//     an implicit deny in a permissions boundary or session policy". One that names the
//     account delegates to the account's identity-based policies.
//   - "IAM role trust policies and KMS key policies are exceptions", because "they must
//     explicitly allow access for principals": for sts:AssumeRole*, sts:TagSession,
//     sts:SetSourceIdentity and kms:* a given resource policy must allow, in any account.
//   - Cross account: "the identity-based policy in the trusted account and the resource-based
//     policy in the trusting account must both allow" (the former capped as above; for a root
//     caller, only SCPs).
//   - Service principals and anonymous callers have no identity: only the resource policy
//     can allow them.
func Evaluate(req *Request) Result {
	e := evaluation{req: req}
	return e.run()
}

// Explain is Evaluate with every diagnostic: the statements behind the decision with their
// policies, the missing context keys and each policy type's own decision. It is for the
// simulator and the CLI; it allocates.
func Explain(req *Request) Result {
	e := evaluation{req: req, explain: true}
	r := e.run()
	for _, m := range e.matched {
		if (r.Decision == ExplicitDeny) == (m.Effect == policy.Deny) {
			r.Matched = append(r.Matched, m)
		}
	}
	r.Missing = dedupKeys(e.missing)
	r.Details = e.details
	return r
}

// evaluation is the state of one Evaluate or Explain call.
type evaluation struct {
	req     *Request
	preq    policy.Request
	explain bool

	// Explain only.
	scratch policy.Result
	matched []Matched
	missing []string
	details []Detail
}

// grant says how a resource policy's Allow names the caller, which decides what an implicit
// deny elsewhere does to it in the same account.
type grant uint8

const (
	grantNone    grant = iota
	grantAccount       // names the caller's account: the account's identity policies decide
	grantRole          // names the caller's role (or federating user): capped by boundary and session
	grantDirect        // names the caller itself, or everyone: grants on its own
)

func (e *evaluation) run() Result {
	req := e.req
	c := req.Caller
	var p *policy.Principal
	if c != nil && c.Type != Anonymous {
		p = &c.Principal
	}
	e.preq = policy.Request{Principal: p, Action: req.Action, Resource: req.Resource, Context: req.Context}

	iamCaller := p != nil && c.Type != Service
	identityApplies := iamCaller && c.Type != Root

	// Each policy type's own decision. Evaluating all of them (rather than stopping at the
	// first Deny) keeps Explain's details complete; each Set costs only the statements
	// indexed under the action.
	var dID, dBound, dSess, dSCP policy.Decision
	if identityApplies {
		dID = e.decide(req.Identity, IdentityPolicy, true)
		if req.Boundary != nil {
			dBound = e.decide(req.Boundary, BoundaryPolicy, true)
		}
		if req.Session != nil {
			dSess = e.decide(req.Session, SessionPolicy, true)
		}
	}
	dRes := e.decide(req.ResourcePolicy, ResourcePolicy, req.ResourcePolicy != nil)
	scpApplies := iamCaller && req.SCPs != nil
	if scpApplies {
		dSCP = e.levels(req.SCPs, SCPPolicy, false)
	}
	dRCP := policy.NotApplicable
	if req.RCPs != nil {
		dRCP = e.levels(req.RCPs, RCPPolicy, true)
	}

	// Explicit deny anywhere wins. When several types deny, AWS names one of them.
	switch {
	case scpApplies && dSCP == policy.Denied:
		return denied(ExplicitDeny, SCPPolicy)
	case dRCP == policy.Denied:
		return denied(ExplicitDeny, RCPPolicy)
	case dID == policy.Denied:
		return denied(ExplicitDeny, IdentityPolicy)
	case dBound == policy.Denied:
		return denied(ExplicitDeny, BoundaryPolicy)
	case dSess == policy.Denied:
		return denied(ExplicitDeny, SessionPolicy)
	case dRes == policy.Denied:
		return denied(ExplicitDeny, ResourcePolicy)
	}
	if scpApplies && dSCP != policy.Allowed {
		return denied(ImplicitDeny, SCPPolicy)
	}
	resAllows := dRes == policy.Allowed
	if !iamCaller {
		// A service principal or an anonymous caller: only a resource policy can allow.
		if resAllows {
			return Result{Decision: Allowed}
		}
		return denied(ImplicitDeny, ResourcePolicy)
	}
	sameAccount := req.ResourceAccount == "" || req.ResourceAccount == c.Account
	if !resAllows && (!sameAccount || resourcePolicyRequired(req)) {
		if c.Type != Root {
			// The caller's own account speaks first in AWS's messages.
			if t := e.identityGap(dID, dBound, dSess); t != "" && !sameAccount {
				return denied(ImplicitDeny, t)
			}
		}
		return denied(ImplicitDeny, ResourcePolicy)
	}
	if c.Type == Root {
		return Result{Decision: Allowed}
	}
	gap := e.identityGap(dID, dBound, dSess)
	if gap == "" {
		return Result{Decision: Allowed}
	}
	if !sameAccount || !resAllows {
		return denied(ImplicitDeny, gap)
	}
	switch e.grant() {
	case grantDirect:
		// A trust policy naming the caller still leaves it inside its boundary and session
		// policies: "If a permissions boundary is set for the user, then it must allow the
		// sts:AssumeRole action" (IAM User Guide, "Update a role trust policy").
		if trustAction(req.Action) {
			if t := e.capGap(dBound, dSess); t != "" {
				return denied(ImplicitDeny, t)
			}
		}
		return Result{Decision: Allowed}
	case grantRole:
		if t := e.capGap(dBound, dSess); t != "" {
			return denied(ImplicitDeny, t)
		}
		return Result{Decision: Allowed}
	}
	return denied(ImplicitDeny, gap)
}

func denied(d Decision, t PolicyType) Result { return Result{Decision: d, DeniedBy: t} }

// identityGap returns the policy type that keeps the caller's identity-based permissions from
// allowing (identity policies, then the boundary, then session policies), or "".
func (e *evaluation) identityGap(dID, dBound, dSess policy.Decision) PolicyType {
	if dID != policy.Allowed {
		return IdentityPolicy
	}
	return e.capGap(dBound, dSess)
}

// capGap returns BoundaryPolicy or SessionPolicy when one is present and does not allow.
func (e *evaluation) capGap(dBound, dSess policy.Decision) PolicyType {
	if e.req.Boundary != nil && dBound != policy.Allowed {
		return BoundaryPolicy
	}
	if e.req.Session != nil && dSess != policy.Allowed {
		return SessionPolicy
	}
	return ""
}

// decide returns the decision of ps (NotApplicable when nil); with Explain it records the
// matches, the missing keys and, when report is set, the type's detail.
func (e *evaluation) decide(ps *Policies, t PolicyType, report bool) policy.Decision {
	if !e.explain {
		if ps == nil || ps.Set == nil {
			return policy.NotApplicable
		}
		return ps.Set.Decide(&e.preq)
	}
	d := policy.NotApplicable
	if ps != nil && ps.Set != nil {
		ps.Set.EvaluateTo(&e.preq, &e.scratch)
		for _, m := range e.scratch.Matches {
			e.matched = append(e.matched, Matched{Source: ps.source(m.Policy, t), Match: m})
		}
		e.missing = append(e.missing, e.scratch.Missing...)
		d = e.scratch.Decision
	}
	if report {
		e.details = append(e.details, Detail{Type: t, Decision: decisionOf(d)})
	}
	return d
}

// levels decides organization policies level by level: Denied if any level denies, Allowed
// if every level allows, else NotApplicable. With fullAccess (RCPs) every level also holds
// AWS's RCPFullAWSAccess, so a level without an Allow of its own still allows.
func (e *evaluation) levels(lv []*Policies, t PolicyType, fullAccess bool) policy.Decision {
	d := policy.Allowed
	for _, ps := range lv {
		switch e.decide(ps, t, false) {
		case policy.Denied:
			d = policy.Denied
		case policy.NotApplicable:
			if !fullAccess && d != policy.Denied {
				d = policy.NotApplicable
			}
		}
	}
	if e.explain {
		e.details = append(e.details, Detail{Type: t, Decision: decisionOf(d)})
	}
	return d
}

// grant classifies the strongest Allow of the resource policy for the caller.
func (e *evaluation) grant() grant {
	rp := e.req.ResourcePolicy
	var r policy.Result
	rp.Set.EvaluateTo(&e.preq, &r)
	g, exact := grantNone, false
	for _, m := range r.Matches {
		if m.Effect != policy.Allow {
			continue
		}
		switch m.Principal {
		case policy.PrincipalAny, policy.PrincipalNotListed:
			return grantDirect
		case policy.PrincipalExact:
			exact = true
		case policy.PrincipalAccount:
			g = grantAccount
		}
	}
	if !exact {
		return g
	}
	p := e.preq.Principal
	if p.RoleARN == "" && p.RoleID == "" {
		return grantDirect
	}
	// The exact match may be the role's ARN or id (or the federating user's) rather than the
	// session's own: look again without them.
	own := *p
	own.RoleARN, own.RoleID = "", ""
	preq := e.preq
	preq.Principal = &own
	rp.Set.EvaluateTo(&preq, &r)
	for _, m := range r.Matches {
		if m.Effect == policy.Allow && m.Principal == policy.PrincipalExact {
			return grantDirect
		}
	}
	return grantRole
}

// trustAction reports the STS actions a role trust policy governs.
func trustAction(a string) bool {
	return hasPrefixFold(a, "sts:AssumeRole") || strings.EqualFold(a, "sts:TagSession") ||
		strings.EqualFold(a, "sts:SetSourceIdentity")
}

// resourcePolicyRequired reports whether the request's resource policy must allow even in the
// caller's own account: role trust policies (the STS actions they govern) and KMS key policies.
func resourcePolicyRequired(req *Request) bool {
	if req.ResourcePolicy == nil {
		return false
	}
	return trustAction(req.Action) || hasPrefixFold(req.Action, "kms:")
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func decisionOf(d policy.Decision) Decision {
	switch d {
	case policy.Allowed:
		return Allowed
	case policy.Denied:
		return ExplicitDeny
	}
	return ImplicitDeny
}

// source returns the Source of policy i, or a generic one when the caller gave none.
func (ps *Policies) source(i int, t PolicyType) Source {
	if i < len(ps.Sources) {
		return ps.Sources[i]
	}
	return Source{Type: t}
}

// dedupKeys sorts keys ignoring case and drops duplicates, keeping the first spelling.
func dedupKeys(keys []string) []string {
	if len(keys) == 0 {
		return nil
	}
	sort.SliceStable(keys, func(i, j int) bool { return strings.ToLower(keys[i]) < strings.ToLower(keys[j]) })
	out := keys[:1]
	for _, k := range keys[1:] {
		if !strings.EqualFold(k, out[len(out)-1]) {
			out = append(out, k)
		}
	}
	return out
}
