package policy

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Set is a compiled index over many policies. It finds the statements that may match an action
// by the action's service and name, so policies about other actions cost nothing. A Set is
// immutable and safe for concurrent use.
type Set struct {
	policies []*Policy
	exact    map[string][]ref // "s3:getobject": statements naming that action literally
	service  map[string][]ref // "s3": statements with a wildcard action in that service
	global   []ref            // NotAction statements and actions with a wildcard service

	// The same lists indexed by resource, for Decide (resindex.go).
	exactRes, serviceRes map[string]*resIndex
	globalRes            *resIndex
}

type ref struct {
	p, s int32
}

func (a ref) less(b ref) bool { return a.p < b.p || a.p == b.p && a.s < b.s }

// NewSet indexes ps. The index of a policy in ps is the Policy field of its Matches.
func NewSet(ps ...*Policy) *Set {
	set := &Set{
		policies: append([]*Policy(nil), ps...),
		exact:    map[string][]ref{},
		service:  map[string][]ref{},
	}
	for pi, p := range set.policies {
		for si := range p.compiled {
			set.index(ref{int32(pi), int32(si)}, &p.compiled[si])
		}
	}
	set.exactRes = make(map[string]*resIndex, len(set.exact))
	for k, refs := range set.exact {
		set.exactRes[k] = set.newResIndex(refs)
	}
	set.serviceRes = make(map[string]*resIndex, len(set.service))
	for k, refs := range set.service {
		set.serviceRes[k] = set.newResIndex(refs)
	}
	set.globalRes = set.newResIndex(set.global)
	return set
}

// index files a statement under each key a request can reach it by, exactly once per key, and
// so that no request reaches it by two keys.
func (set *Set) index(r ref, s *stmt) {
	if s.notAction {
		set.global = append(set.global, r)
		return
	}
	wildServices := map[string]bool{}
	for _, a := range s.actions {
		if a.service == "" {
			set.global = append(set.global, r)
			return
		}
		if !a.literal {
			wildServices[a.service] = true
		}
	}
	done := map[string]bool{}
	for _, a := range s.actions {
		key := a.service
		m := set.service
		if !wildServices[a.service] {
			key, m = strings.ToLower(a.raw), set.exact
		}
		if !done[key] {
			done[key] = true
			m[key] = append(m[key], r)
		}
	}
}

// Len returns the number of policies in the set.
func (set *Set) Len() int { return len(set.policies) }

// Policy returns the i'th policy.
func (set *Set) Policy(i int) *Policy { return set.policies[i] }

// candidates returns the three sorted lists of statements that may match action.
func (set *Set) candidates(action string) (exact, service, global []ref) {
	var buf [128]byte
	b := appendLower(buf[:0], action)
	exact = set.exact[string(b)] // no allocation: the compiler reads the map with the bytes
	if i := strings.IndexByte(action, ':'); i >= 0 {
		service = set.service[string(b[:i])]
	}
	return exact, service, set.global
}

// walk calls f for every candidate statement in policy and document order, until f returns
// false.
func (set *Set) walk(action string, f func(r ref, s *stmt, exact bool) bool) {
	a, b, c := set.candidates(action)
	for len(a)+len(b)+len(c) > 0 {
		var next ref
		var from *[]ref
		for _, l := range []*[]ref{&a, &b, &c} {
			if len(*l) > 0 && (from == nil || (*l)[0].less(next)) {
				next, from = (*l)[0], l
			}
		}
		exact := from == &a
		*from = (*from)[1:]
		if !f(next, &set.policies[next.p].compiled[next.s], exact) {
			return
		}
	}
}

// Evaluate evaluates req against every policy of the set.
func (set *Set) Evaluate(req *Request) Result {
	var r Result
	set.EvaluateTo(req, &r)
	return r
}

// EvaluateTo is Evaluate into r, reusing r's storage.
func (set *Set) EvaluateTo(req *Request, r *Result) {
	r.Reset()
	set.walk(req.Action, func(ref ref, s *stmt, exact bool) bool {
		if pm, ok := evalIndexed(s, req, &r.Missing, exact); ok {
			r.add(int(ref.p), s, pm)
		}
		return true
	})
	r.finish()
}

// Decide returns the set's decision alone: Denied if any statement denies, else Allowed if any
// allows, else NotApplicable. It evaluates only the statements the action and the resource may
// reach (by the indexes), stops at the first Deny and does not allocate for statements without
// conditions or variables.
func (set *Set) Decide(req *Request) Decision {
	var buf [128]byte
	b := appendLower(buf[:0], req.Action)
	var service *resIndex
	if i := strings.IndexByte(req.Action, ':'); i >= 0 {
		service = set.serviceRes[string(b[:i])] // no allocation: the map is read with the bytes
	}
	allowed := false
	for i, x := range [3]*resIndex{set.exactRes[string(b)], service, set.globalRes} {
		if x == nil {
			continue
		}
		denied, a := x.decide(set, req, i == 0)
		if denied {
			return Denied
		}
		allowed = allowed || a
	}
	if allowed {
		return Allowed
	}
	return NotApplicable
}

// appendLower appends s in lower case to dst.
func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
		i += n
	}
	return dst
}
