package policy

import (
	"strings"

	"github.com/gatehouse-iam/gatehouse/arn"
	"github.com/gatehouse-iam/gatehouse/policy/condition"
)

// stmt is a compiled statement.
type stmt struct {
	index       int
	sid         string
	effect      Effect
	notAction   bool
	actions     []actionPattern
	hasResource bool
	notResource bool
	resources   []condition.ARNPattern
	principal   *compiledPrincipal
	cond        condition.Block
	vars        []string // variable keys the statement's Resource and Condition values use
	start, end  Position
}

type actionPattern struct {
	raw     string
	literal bool
	service string // lower case, "" when the service part has wildcards
}

func compileAction(a string) actionPattern {
	ap := actionPattern{raw: a, literal: !arn.HasWildcard(a)}
	if svc, _, ok := strings.Cut(a, ":"); ok && !arn.HasWildcard(svc) {
		ap.service = strings.ToLower(svc)
	}
	return ap
}

func (a *actionPattern) match(action string) bool {
	if a.literal {
		return strings.EqualFold(a.raw, action)
	}
	return arn.Glob(a.raw, action, true)
}

func (p *Policy) compile() {
	vars := p.version == V20121017
	p.compiled = make([]stmt, len(p.statements))
	for i := range p.statements {
		s := &p.statements[i]
		c := &p.compiled[i]
		c.index, c.sid, c.effect = i, s.Sid, s.Effect
		c.notAction = s.NotAction
		for _, a := range s.Action {
			c.actions = append(c.actions, compileAction(a))
		}
		c.hasResource, c.notResource = s.HasResource, s.NotResource
		for _, r := range s.Resource {
			rp := condition.CompileARN(r, vars)
			c.vars = rp.Variables(c.vars)
			c.resources = append(c.resources, rp)
		}
		if s.Principal != nil {
			c.principal = compilePrincipal(s.Principal, s.NotPrincipal)
		}
		for _, cs := range s.Condition {
			cc, err := condition.New(cs.Operator, cs.Key, cs.Values, vars)
			if err != nil {
				continue // validated by Parse; unknown empty operators are ignored
			}
			c.vars = cc.Variables(c.vars)
			c.cond = append(c.cond, cc)
		}
		c.start, c.end = s.Start, s.End
	}
}

func (s *stmt) matchAction(action string) bool {
	for i := range s.actions {
		if s.actions[i].match(action) {
			return !s.notAction
		}
	}
	return s.notAction
}

func (s *stmt) matchResource(resource string, ctx *condition.Context) bool {
	if !s.hasResource {
		return true
	}
	for i := range s.resources {
		if s.resources[i].Match(resource, ctx) {
			return !s.notResource
		}
	}
	return s.notResource
}
