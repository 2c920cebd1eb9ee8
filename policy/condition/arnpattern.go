package condition

import "strings"

// ARNPattern is a compiled ARN pattern of a Resource element or an Arn* condition value. IAM
// matches it field by field: a wildcard in the partition, service, region or account field
// never spans a colon; in the resource field it may.
type ARNPattern struct {
	raw    string
	any    bool      // the pattern is "*"
	prefix string    // literal text every matching ARN starts with, for a quick reject
	fields []Pattern // up to six; the last covers the rest of the ARN
}

// CompileARN compiles an ARN pattern. With vars, policy variables are substituted (they may
// contain colons, as in ${aws:username}, without splitting a field).
func CompileARN(s string, vars bool) ARNPattern {
	p := ARNPattern{raw: s}
	if s == "*" {
		p.any = true
		return p
	}
	p.prefix = s
	if i := strings.IndexAny(s, "*?"); i >= 0 {
		p.prefix = s[:i]
	}
	if i := strings.Index(p.prefix, "${"); vars && i >= 0 {
		p.prefix = p.prefix[:i]
	}
	o := PatternOptions{Variables: vars, Wildcards: true}
	for _, f := range splitFields(s, vars) {
		p.fields = append(p.fields, Compile(f, o))
	}
	return p
}

// splitFields splits s at its first five colons, skipping colons inside ${...}.
func splitFields(s string, vars bool) []string {
	var out []string
	start, depth := 0, 0
	for i := 0; i < len(s) && len(out) < 5; i++ {
		switch {
		case vars && s[i] == '$' && i+1 < len(s) && s[i+1] == '{':
			depth++
			i++
		case depth > 0 && s[i] == '}':
			depth--
		case depth == 0 && s[i] == ':':
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// String returns the pattern as written.
func (p *ARNPattern) String() string { return p.raw }

// Prefix is the literal text every ARN the pattern matches starts with (case-sensitively; ""
// for "*" and for patterns that start with a wildcard or a variable): Match refuses any other
// ARN first, so an index may skip the pattern for ARNs that do not start with it.
func (p *ARNPattern) Prefix() string { return p.prefix }

// IsAny reports whether the pattern is "*".
func (p *ARNPattern) IsAny() bool { return p.any }

// Variables appends the variable keys the pattern uses to dst.
func (p *ARNPattern) Variables(dst []string) []string {
	for i := range p.fields {
		dst = p.fields[i].Variables(dst)
	}
	return dst
}

// Match reports whether the ARN s matches; variables take their values from ctx.
func (p *ARNPattern) Match(s string, ctx *Context) bool {
	if p.any {
		return true
	}
	if !strings.HasPrefix(s, p.prefix) {
		return false
	}
	for i := range p.fields {
		if i == len(p.fields)-1 {
			return p.fields[i].Match(s, ctx, false)
		}
		j := strings.IndexByte(s, ':')
		if j < 0 || !p.fields[i].Match(s[:j], ctx, false) {
			return false
		}
		s = s[j+1:]
	}
	return false
}
