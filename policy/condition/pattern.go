package condition

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

type tokKind uint8

const (
	tokLit  tokKind = iota // literal text
	tokStar                // * wildcard
	tokOne                 // ? wildcard
	tokVar                 // ${key} or ${key, 'default'}
)

type token struct {
	kind tokKind
	text string // literal text, or the variable's default value
	key  string // variable key, lower case
	name string // variable key as written
	def  bool   // the variable has a default value
}

// Pattern is a compiled policy string: literal text, optionally "*" and "?" wildcards, and
// policy variables. Compile it once; Match does not allocate.
type Pattern struct {
	raw   string
	toks  []token
	vars  bool // has at least one ${key} variable
	wild  bool // has at least one wildcard
	plain bool // a single literal (or nothing): compare directly
}

// PatternOptions say how Compile reads a policy string.
type PatternOptions struct {
	// Variables enables ${...} policy variables (policy language version 2012-10-17). Without it
	// "${aws:username}" is literal text, as in version 2008-10-17.
	Variables bool
	// Wildcards makes "*" and "?" wildcards (StringLike, ArnLike, Resource, Action) instead of
	// literal characters (StringEquals).
	Wildcards bool
}

// Compile parses s. It never fails: text that is not a well-formed variable is literal.
//
// A variable is "${key}" or "${key, 'default'}": the key is trimmed and matched without regard
// to case; the default is used when the key is missing or multivalued, and a doubled single quote inside it stands
// for one quote. "${*}", "${?}" and "${$}" stand for a literal "*", "?" and "$". Substitution
// happens once: a value or default containing "${" is not expanded again.
func Compile(s string, o PatternOptions) Pattern {
	p := Pattern{raw: s}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			p.toks = append(p.toks, token{kind: tokLit, text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		if o.Variables && c == '$' && strings.HasPrefix(s[i:], "${") {
			if t, n, ok := parseVar(s[i:]); ok {
				if t.kind == tokLit {
					lit.WriteString(t.text)
				} else {
					flush()
					p.toks = append(p.toks, t)
					p.vars = true
				}
				i += n
				continue
			}
		}
		if o.Wildcards && (c == '*' || c == '?') {
			flush()
			k := tokStar
			if c == '?' {
				k = tokOne
			}
			// Consecutive stars are one star.
			if k == tokStar && len(p.toks) > 0 && p.toks[len(p.toks)-1].kind == tokStar {
				i++
				continue
			}
			p.toks = append(p.toks, token{kind: k})
			p.wild = true
			i++
			continue
		}
		lit.WriteByte(c)
		i++
	}
	flush()
	p.plain = len(p.toks) == 0 || (len(p.toks) == 1 && p.toks[0].kind == tokLit)
	return p
}

// parseVar reads a variable at the start of s ("${..."). It returns the token, the bytes used,
// and false when s does not start with a well-formed variable.
func parseVar(s string) (token, int, bool) {
	end := -1
	inQuote := false
	for i := 2; i < len(s); i++ {
		switch s[i] {
		case '\'':
			inQuote = !inQuote // '' inside a default toggles twice: net no change
		case '}':
			if !inQuote {
				end = i
			}
		}
		if end >= 0 {
			break
		}
	}
	if end < 0 {
		return token{}, 0, false
	}
	body := s[2:end]
	switch body {
	case "*", "?", "$":
		return token{kind: tokLit, text: body}, end + 1, true
	}
	name, def, hasDef := strings.Cut(body, ",")
	name = strings.TrimSpace(name)
	if name == "" || strings.ContainsFunc(name, unicode.IsSpace) || strings.ContainsAny(name, "'${") {
		return token{}, 0, false
	}
	t := token{kind: tokVar, key: strings.ToLower(name), name: name}
	if hasDef {
		def = strings.TrimSpace(def)
		if len(def) < 2 || def[0] != '\'' || def[len(def)-1] != '\'' {
			return token{}, 0, false
		}
		inner := def[1 : len(def)-1]
		// Every quote inside must be doubled.
		unq := strings.ReplaceAll(inner, "''", "")
		if strings.Contains(unq, "'") {
			return token{}, 0, false
		}
		t.text = strings.ReplaceAll(inner, "''", "'")
		t.def = true
	}
	return t, end + 1, true
}

// String returns the pattern as written in the policy.
func (p *Pattern) String() string { return p.raw }

// HasVariables reports whether the pattern contains a policy variable.
func (p *Pattern) HasVariables() bool { return p.vars }

// HasWildcards reports whether the pattern contains a "*" or "?" wildcard.
func (p *Pattern) HasWildcards() bool { return p.wild }

// Literal returns the pattern's text when it has neither wildcards nor variables.
func (p *Pattern) Literal() (string, bool) {
	if !p.plain {
		return "", false
	}
	if len(p.toks) == 0 {
		return "", true
	}
	return p.toks[0].text, true
}

// Variables appends the variable keys the pattern uses, as written, to dst.
func (p *Pattern) Variables(dst []string) []string {
	for _, t := range p.toks {
		if t.kind == tokVar {
			dst = append(dst, t.name)
		}
	}
	return dst
}

// resolve returns the value a variable token stands for in ctx.
func (t *token) resolve(ctx *Context) (string, bool) {
	if v, ok := ctx.lookup(t.key); ok && !v.Multi && len(v.Values) == 1 {
		return v.Values[0], true
	}
	if t.def {
		return t.text, true
	}
	return "", false
}

// Resolved reports whether every variable of the pattern has a value in ctx.
func (p *Pattern) Resolved(ctx *Context) bool {
	if !p.vars {
		return true
	}
	for i := range p.toks {
		if p.toks[i].kind == tokVar {
			if _, ok := p.toks[i].resolve(ctx); !ok {
				return false
			}
		}
	}
	return true
}

// Expand returns the pattern with its variables replaced by their values in ctx, and false if a
// variable has no value. Wildcards are returned as "*" and "?"; literal "${*}" and the like
// become the bare character, so Expand is meant for reporting, not for matching.
func (p *Pattern) Expand(ctx *Context) (string, bool) {
	var b strings.Builder
	for i := range p.toks {
		t := &p.toks[i]
		switch t.kind {
		case tokLit:
			b.WriteString(t.text)
		case tokStar:
			b.WriteByte('*')
		case tokOne:
			b.WriteByte('?')
		case tokVar:
			v, ok := t.resolve(ctx)
			if !ok {
				return "", false
			}
			b.WriteString(v)
		}
	}
	return b.String(), true
}

// Match reports whether s matches the pattern. Variables take their values from ctx; a variable
// without a value makes the pattern match nothing. Substituted values are literal text: a "*" in
// a user name is not a wildcard. With fold, letters match regardless of case.
func (p *Pattern) Match(s string, ctx *Context, fold bool) bool {
	if p.plain {
		lit := ""
		if len(p.toks) == 1 {
			lit = p.toks[0].text
		}
		if fold {
			return strings.EqualFold(lit, s)
		}
		return lit == s
	}
	ti, si := 0, 0
	starT, starS := -1, 0
	for {
		if ti < len(p.toks) {
			t := &p.toks[ti]
			switch t.kind {
			case tokStar:
				starT, starS = ti, si
				ti++
				continue
			case tokOne:
				if si < len(s) {
					_, n := utf8.DecodeRuneInString(s[si:])
					si += n
					ti++
					continue
				}
			case tokLit, tokVar:
				text := t.text
				if t.kind == tokVar {
					v, ok := t.resolve(ctx)
					if !ok {
						return false
					}
					text = v
				}
				if n, ok := hasPrefix(s[si:], text, fold); ok {
					si += n
					ti++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		if starT < 0 || starS >= len(s) {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starS:])
		starS += n
		ti, si = starT+1, starS
	}
}

// hasPrefix reports whether s starts with prefix and how many bytes of s the prefix covers.
func hasPrefix(s, prefix string, fold bool) (int, bool) {
	if !fold {
		if strings.HasPrefix(s, prefix) {
			return len(prefix), true
		}
		return 0, false
	}
	// Case folding may change byte lengths, so walk rune by rune.
	si := 0
	for pi := 0; pi < len(prefix); {
		if si >= len(s) {
			return 0, false
		}
		pr, pn := utf8.DecodeRuneInString(prefix[pi:])
		sr, n := utf8.DecodeRuneInString(s[si:])
		// Compare bytes first, so that distinct invalid bytes (both RuneError) differ.
		if prefix[pi:pi+pn] != s[si:si+n] && (pr == utf8.RuneError || !foldEq(sr, pr)) {
			return 0, false
		}
		pi += pn
		si += n
	}
	return si, true
}

func foldEq(a, b rune) bool {
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return false
}
