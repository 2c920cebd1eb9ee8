package awsquery

import (
	"regexp"
	"regexp/syntax"
	"unicode/utf8"
)

// Pattern is a member's pattern from the model. Most of IAM's are one character class repeated
// ([\w+=,.@-]+, a user or role name): those are matched by a scan of the value against the class,
// without the regexp machine, which cost about a microsecond per request (the profile of GetUser
// under load); the others go to the regexp. Both answer exactly as the regexp does
// (FuzzPatternMatch).
type Pattern struct {
	re    *regexp.Regexp
	class *repeatedClass // nil unless the pattern is one class repeated
}

// compilePattern compiles expr (RE2 syntax) to match whole values.
func compilePattern(expr string) (*Pattern, error) {
	full := "^(?:" + expr + ")$"
	re, err := regexp.Compile(full)
	if err != nil {
		return nil, err
	}
	return &Pattern{re: re, class: repeatedClassOf(full)}, nil
}

// MatchString reports whether the whole of s matches the pattern.
func (p *Pattern) MatchString(s string) bool {
	if p.class != nil {
		return p.class.match(s)
	}
	return p.re.MatchString(s)
}

// repeatedClass matches a string of at least min runes, each in the class.
type repeatedClass struct {
	ascii  [2]uint64 // the class's runes below 0x80, a bit each
	ranges []rune    // the class as syntax.Regexp.Rune holds it: pairs lo, hi
	min    int       // 0 (star) or 1 (plus)
}

// repeatedClassOf returns the matcher of full when it is ^(?:[class]+)$ or ^(?:[class]*)$ and
// nil otherwise.
func repeatedClassOf(full string) *repeatedClass {
	re, err := syntax.Parse(full, syntax.Perl)
	if err != nil {
		return nil
	}
	re = re.Simplify()
	if re.Op != syntax.OpConcat || len(re.Sub) != 3 || re.Sub[0].Op != syntax.OpBeginText || re.Sub[2].Op != syntax.OpEndText {
		return nil
	}
	rep := re.Sub[1]
	m := &repeatedClass{}
	switch rep.Op {
	case syntax.OpPlus:
		m.min = 1
	case syntax.OpStar:
	default:
		return nil
	}
	if rep.Flags&syntax.NonGreedy != 0 || len(rep.Sub) != 1 || rep.Sub[0].Op != syntax.OpCharClass {
		return nil
	}
	m.ranges = rep.Sub[0].Rune
	for c := rune(0); c < utf8.RuneSelf; c++ {
		if m.in(c) {
			m.ascii[c>>6] |= 1 << (c & 63)
		}
	}
	return m
}

// in reports whether r is in the class's ranges.
func (m *repeatedClass) in(r rune) bool {
	for i := 0; i+1 < len(m.ranges); i += 2 {
		if r < m.ranges[i] {
			return false
		}
		if r <= m.ranges[i+1] {
			return true
		}
	}
	return false
}

func (m *repeatedClass) match(s string) bool {
	if len(s) < m.min {
		return false
	}
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if m.ascii[c>>6]&(1<<(c&63)) == 0 {
				return false
			}
			i++
			continue
		}
		// As the regexp reads it: an invalid byte is U+FFFD, one byte long.
		r, size := utf8.DecodeRuneInString(s[i:])
		if !m.in(r) {
			return false
		}
		i += size
	}
	return true
}
