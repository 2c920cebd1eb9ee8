package policy

import (
	"sort"
	"strings"

	"github.com/gatehouse-iam/gatehouse/policy/condition"
)

// Context holds a request's condition keys; see condition.Context.
type Context = condition.Context

// Request is what a policy is evaluated against.
type Request struct {
	// Principal is the caller, for Principal and NotPrincipal elements; nil is anonymous.
	// Identity policies have no Principal element and ignore it.
	Principal *Principal
	// Action is "service:Action", e.g. "iam:CreateUser"; matched without regard to case.
	Action string
	// Resource is the ARN of the resource the action acts on ("*" for actions without one).
	Resource string
	// Context holds the condition keys, which also give policy variables their values.
	Context *Context
}

// Match is a statement that applied to a request.
type Match struct {
	Policy    int // index of the policy in its Set (0 for Policy.Evaluate)
	Statement int // index of the statement in its policy
	Sid       string
	Effect    Effect
	Principal PrincipalMatch
	Start     Position // the statement's place in its document
	End       Position
}

// Result is the outcome of an evaluation with its diagnostics.
type Result struct {
	Decision Decision
	// Matches are the statements that applied, in policy and document order.
	Matches []Match
	// Missing are the context keys that statements matching the action and resource read
	// (in conditions or as policy variables) but the request did not have, sorted.
	Missing []string
}

// Reset empties r, keeping its storage for reuse.
func (r *Result) Reset() {
	r.Decision = NotApplicable
	r.Matches = r.Matches[:0]
	r.Missing = r.Missing[:0]
}

// Allowed reports whether a statement allows and none denies.
func (r *Result) Allowed() bool { return r.Decision == Allowed }

// ExplicitDeny reports whether a Deny statement applied.
func (r *Result) ExplicitDeny() bool { return r.Decision == Denied }

// evalStmt reports whether s applies to req. With missing not nil, it evaluates every
// condition of a statement that matches action, resource and principal, and records the keys
// the request lacks.
func evalStmt(s *stmt, req *Request, missing *[]string) (PrincipalMatch, bool) {
	return evalIndexed(s, req, missing, false)
}

// evalIndexed is evalStmt for a statement an index found by the request's exact action, which
// therefore matches the action (actionKnown).
func evalIndexed(s *stmt, req *Request, missing *[]string, actionKnown bool) (PrincipalMatch, bool) {
	if !actionKnown && !s.matchAction(req.Action) {
		return PrincipalNone, false
	}
	pm := PrincipalNone
	if s.principal != nil {
		var ok bool
		if pm, ok = s.principal.match(req.Principal); !ok {
			return PrincipalNone, false
		}
	}
	if !s.matchResource(req.Resource, req.Context) {
		if missing != nil {
			s.recordVars(req.Context, missing)
		}
		return PrincipalNone, false
	}
	if missing != nil {
		s.recordVars(req.Context, missing)
	}
	if len(s.cond) > 0 && !s.cond.Eval(req.Context, missing) {
		return PrincipalNone, false
	}
	return pm, true
}

func (s *stmt) recordVars(ctx *Context, missing *[]string) {
	for _, k := range s.vars {
		if _, ok := ctx.Get(k); !ok {
			*missing = append(*missing, k)
		}
	}
}

// Evaluate evaluates req against every statement of the policy.
func (p *Policy) Evaluate(req *Request) Result {
	var r Result
	p.EvaluateTo(req, &r)
	return r
}

// EvaluateTo is Evaluate into r, reusing r's storage; with a reused Result it does not allocate
// for statements without conditions or variables.
func (p *Policy) EvaluateTo(req *Request, r *Result) {
	r.Reset()
	for i := range p.compiled {
		s := &p.compiled[i]
		if pm, ok := evalStmt(s, req, &r.Missing); ok {
			r.add(0, s, pm)
		}
	}
	r.finish()
}

// Decide returns the decision alone, stopping at the first Deny; it does not allocate for
// statements without conditions or variables.
func (p *Policy) Decide(req *Request) Decision {
	d := NotApplicable
	for i := range p.compiled {
		s := &p.compiled[i]
		if _, ok := evalStmt(s, req, nil); ok {
			if s.effect == Deny {
				return Denied
			}
			d = Allowed
		}
	}
	return d
}

func (r *Result) add(policy int, s *stmt, pm PrincipalMatch) {
	r.Matches = append(r.Matches, Match{
		Policy: policy, Statement: s.index, Sid: s.sid, Effect: s.effect, Principal: pm,
		Start: s.start, End: s.end,
	})
	switch {
	case s.effect == Deny:
		r.Decision = Denied
	case r.Decision == NotApplicable:
		r.Decision = Allowed
	}
}

// finish sorts and de-duplicates the missing keys, ignoring case.
func (r *Result) finish() {
	if len(r.Missing) < 2 {
		return
	}
	sort.Slice(r.Missing, func(i, j int) bool {
		return strings.ToLower(r.Missing[i]) < strings.ToLower(r.Missing[j])
	})
	out := r.Missing[:1]
	for _, k := range r.Missing[1:] {
		if !strings.EqualFold(k, out[len(out)-1]) {
			out = append(out, k)
		}
	}
	r.Missing = out
}
