package policy

import (
	"slices"
	"strings"
)

// A resource index narrows an action's candidate statements by the request's resource, so that
// statements about other buckets, tables or instances of the same service cost nothing: each
// statement is filed under the literal prefixes of its Resource patterns (the text before the
// first wildcard or variable, which every matching ARN must start with; condition.ARNPattern
// checks it first), and a request looks up only the prefixes its resource starts with. Only
// Decide uses it; Evaluate walks every candidate, in order, for its matches.

// resIndex is the statements of one candidate list, by resource.
type resIndex struct {
	// any are the statements a request for any resource may reach: NotResource, no Resource,
	// or a pattern without a literal prefix ("*", "arn:*", "${aws:username}...").
	any []ref
	// byPrefix files every other statement under its patterns' prefixes, keeping of two
	// prefixes of one statement only the shorter when it begins the longer, so that no resource
	// reaches a statement twice.
	byPrefix map[string][]ref
	// lengths are the distinct lengths of byPrefix's keys, ascending.
	lengths []int
}

// newResIndex indexes the statements of refs.
func (set *Set) newResIndex(refs []ref) *resIndex {
	x := &resIndex{}
	for _, r := range refs {
		prefixes, ok := resourcePrefixes(&set.policies[r.p].compiled[r.s])
		if !ok {
			x.any = append(x.any, r)
			continue
		}
		if x.byPrefix == nil {
			x.byPrefix = map[string][]ref{}
		}
		for _, p := range prefixes {
			if len(x.byPrefix[p]) == 0 {
				x.lengths = append(x.lengths, len(p))
			}
			x.byPrefix[p] = append(x.byPrefix[p], r)
		}
	}
	slices.Sort(x.lengths)
	x.lengths = slices.Compact(x.lengths)
	return x
}

// resourcePrefixes returns the prefixes to file s under, or false when any resource may reach
// it.
func resourcePrefixes(s *stmt) ([]string, bool) {
	if !s.hasResource || s.notResource {
		return nil, false
	}
	var ps []string
	for i := range s.resources {
		p := s.resources[i].Prefix()
		if p == "" {
			return nil, false
		}
		ps = append(ps, p)
	}
	// Shortest first; drop each prefix that an earlier one begins: every ARN with the longer
	// prefix also has the shorter, and reaches the statement through it.
	slices.SortFunc(ps, func(a, b string) int { return len(a) - len(b) })
	kept := ps[:0]
	for _, p := range ps {
		if !slices.ContainsFunc(kept, func(k string) bool { return strings.HasPrefix(p, k) }) {
			kept = append(kept, p)
		}
	}
	return kept, true
}

// decide evaluates the statements of x that resource may reach, and reports whether one denied
// and whether one allowed. exact says the list's statements name the action literally.
func (x *resIndex) decide(set *Set, req *Request, exact bool) (denied, allowed bool) {
	for _, r := range x.any {
		if d, a := set.decideOne(r, req, exact); d {
			return true, false
		} else if a {
			allowed = true
		}
	}
	res := req.Resource
	for _, n := range x.lengths {
		if n > len(res) {
			break
		}
		for _, r := range x.byPrefix[res[:n]] {
			if d, a := set.decideOne(r, req, exact); d {
				return true, false
			} else if a {
				allowed = true
			}
		}
	}
	return false, allowed
}

// decideOne evaluates one statement: whether it denies, or allows.
func (set *Set) decideOne(r ref, req *Request, exact bool) (denied, allowed bool) {
	s := &set.policies[r.p].compiled[r.s]
	if _, ok := evalIndexed(s, req, nil, exact); !ok {
		return false, false
	}
	return s.effect == Deny, s.effect != Deny
}
