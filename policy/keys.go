package policy

import (
	"sort"
	"strings"
	"unicode"
)

// ContextKeys returns the condition keys and policy variables the policy uses, sorted and
// without duplicates (keys are compared without regard to case; the first spelling is kept), as
// GetContextKeysForCustomPolicy reports them. The special variables ${*}, ${?} and ${$} are not
// keys.
func ContextKeys(ps ...*Policy) []string {
	seen := map[string]bool{}
	var out []string
	add := func(k string) {
		l := strings.ToLower(k)
		if !seen[l] {
			seen[l] = true
			out = append(out, k)
		}
	}
	for _, p := range ps {
		for i := range p.compiled {
			s := &p.compiled[i]
			for _, c := range s.cond {
				add(c.Key)
			}
			for _, v := range s.vars {
				add(v)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i]) < strings.ToLower(out[j]) })
	return out
}

// Size returns the size of a policy document as IAM counts it against its quotas: the number
// of characters, not counting white space outside JSON strings. (White space inside a string is
// part of a value and counts.)
func Size(doc []byte) int {
	n := 0
	inString, escaped := false, false
	for _, r := range string(doc) {
		switch {
		case inString:
			n++
			switch {
			case escaped:
				escaped = false
			case r == '\\':
				escaped = true
			case r == '"':
				inString = false
			}
		case r == '"':
			inString = true
			n++
		case unicode.IsSpace(r):
		default:
			n++
		}
	}
	return n
}
