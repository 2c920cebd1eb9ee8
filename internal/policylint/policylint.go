// Package policylint checks policy documents as IAM does and warns about what IAM accepts
// but is probably wrong: unknown services, actions and condition keys, Allow with NotAction
// or NotResource, full wildcards, statements a Deny makes unreachable. The CLI's policy
// validate and the console's policy editor share it.
package policylint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/gatehouse-iam/gatehouse/arn"
	"github.com/gatehouse-iam/gatehouse/internal/servicedata"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// Finding is one error or warning about a document, at a position when known.
type Finding struct {
	Pos     policy.Position
	Warning bool
	Message string
}

// Check parses doc as IAM does: an invalid document gives one error (AWS's
// MalformedPolicyDocument message, with the JSON decoder's description of a syntax error and
// its position), a valid one its warnings.
func Check(doc []byte, t policy.Type, ref *servicedata.Reference) (findings []Finding, valid bool) {
	p, err := policy.Parse(doc, t)
	if err == nil {
		return Lint(p, ref), true
	}
	f := Finding{Message: err.Error()}
	var pe *policy.Error
	if errors.As(err, &pe) {
		f = Finding{Pos: pe.Pos, Message: pe.Message}
	}
	if pos, detail, ok := SyntaxError(doc); ok && f.Pos.Line == 0 {
		f.Pos, f.Message = pos, f.Message+" ("+detail+")"
	}
	return []Finding{f}, false
}

// Lint returns the warnings for a valid policy, in document order.
func Lint(p *policy.Policy, ref *servicedata.Reference) []Finding {
	var out []Finding
	warn := func(s *policy.Statement, format string, a ...any) {
		out = append(out, Finding{Pos: s.Start, Warning: true, Message: fmt.Sprintf(format, a...)})
	}
	stmts := p.Statements()
	for i := range stmts {
		s := &stmts[i]
		for _, a := range s.Action {
			lintAction(ref, a, func(format string, args ...any) { warn(s, format, args...) })
		}
		for _, c := range s.Condition {
			lintConditionKey(ref, c.Key, func(format string, args ...any) { warn(s, format, args...) })
		}
		if s.Effect != policy.Allow {
			continue
		}
		if s.NotAction {
			warn(s, "Allow with NotAction allows every action not listed, including those of services added later")
		}
		if s.NotResource {
			warn(s, "Allow with NotResource allows every resource not listed")
		}
		if !s.NotAction && slices.Contains(s.Action, "*") && (!s.HasResource || !s.NotResource && slices.Contains(s.Resource, "*")) && len(s.Condition) == 0 {
			warn(s, "allows every action on every resource (full wildcard)")
		}
		if s.Principal != nil && s.Principal.Any && !s.NotPrincipal && len(s.Condition) == 0 {
			warn(s, "allows any principal, including anonymous callers, without a condition")
		}
		for j := range stmts {
			if j != i && denyCovers(&stmts[j], s) {
				warn(s, "statement is unreachable: statement %d (%s) denies everything it allows", j+1, sidOr(&stmts[j]))
				break
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Pos.Offset < out[j].Pos.Offset })
	return out
}

func sidOr(s *policy.Statement) string {
	if s.Sid != "" {
		return "Sid " + s.Sid
	}
	return "no Sid"
}

// lintAction warns about an unknown service prefix, an unknown action, or a wildcard that
// matches no action of its service.
func lintAction(ref *servicedata.Reference, a string, warn func(string, ...any)) {
	if a == "*" {
		return
	}
	prefix, name, ok := strings.Cut(a, ":")
	if !ok || strings.ContainsAny(prefix, "*?") {
		return
	}
	svc, ok := ref.Service(prefix)
	if !ok {
		warn("unknown service prefix %q in action %q", prefix, a)
		return
	}
	if !strings.ContainsAny(name, "*?") {
		if _, ok := ref.Action(a); !ok {
			warn("unknown action %q: %s has no action %s", a, svc.Name, name)
		}
		return
	}
	for _, n := range svc.Actions() {
		if arn.Glob(name, n, true) {
			return
		}
	}
	warn("action %q matches no action of %s", a, svc.Name)
}

// lintConditionKey warns about a condition key that is neither global nor one of its
// service's. Keys of identity providers (accounts.google.com:aud, saml:sub, ...) are not in
// the reference and are left alone.
func lintConditionKey(ref *servicedata.Reference, key string, warn func(string, ...any)) {
	prefix, _, ok := strings.Cut(key, ":")
	if !ok {
		warn("condition key %q has no service prefix", key)
		return
	}
	if strings.Contains(prefix, ".") || strings.EqualFold(prefix, "saml") {
		return
	}
	if _, ok := ref.ConditionKey(key); ok {
		return
	}
	if _, known := ref.Service(prefix); !known && !strings.EqualFold(prefix, "aws") {
		warn("unknown service prefix %q in condition key %q", prefix, key)
		return
	}
	warn("unknown condition key %q", key)
}

// denyCovers reports whether d is an unconditional Deny that applies to every request allow
// applies to: its actions cover allow's, its resources cover allow's, and it names everyone.
func denyCovers(d, allow *policy.Statement) bool {
	if d.Effect != policy.Deny || len(d.Condition) > 0 || d.NotAction || d.NotResource || allow.NotAction || allow.NotResource {
		return false
	}
	if d.Principal != nil && (d.NotPrincipal || !d.Principal.Any) {
		return false
	}
	for _, a := range allow.Action {
		if !anyGlob(d.Action, a, true) {
			return false
		}
	}
	if !d.HasResource {
		return !allow.HasResource
	}
	for _, r := range allow.Resource {
		if !anyGlob(d.Resource, r, false) {
			return false
		}
	}
	return true
}

// anyGlob reports whether a pattern matches s taken literally (so a wildcard in s is only
// covered by a wildcard that matches anything there).
func anyGlob(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if p == "*" || arn.Glob(p, s, fold) {
			return true
		}
	}
	return false
}

// SyntaxError locates the JSON syntax error of doc, which IAM reports only as "Syntax
// errors in policy.": the position of the offending character and the decoder's description.
// ok is false when doc is well-formed JSON.
func SyntaxError(doc []byte) (pos policy.Position, detail string, ok bool) {
	var v any
	var se *json.SyntaxError
	if err := json.Unmarshal(doc, &v); !errors.As(err, &se) {
		return policy.Position{}, "", false
	}
	// Offset counts the bytes read, the offending one included.
	off := min(max(int(se.Offset)-1, 0), len(doc))
	line := 1 + bytes.Count(doc[:off], []byte{'\n'})
	col := off - bytes.LastIndexByte(doc[:off], '\n')
	return policy.Position{Offset: off, Line: line, Column: col}, se.Error(), true
}
