package awsquery

import (
	"slices"
	"testing"
)

// modelPatterns is every distinct pattern of the embedded models, compiled.
func modelPatterns(t testing.TB) map[string]*Pattern {
	t.Helper()
	out := map[string]*Pattern{}
	for _, svc := range []string{"iam", "sts"} {
		m, err := LoadModel(svc)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range m.Shapes {
			if s.Pattern != nil {
				out[s.RawPat] = s.Pattern
			}
		}
	}
	return out
}

// patternInputs are values near the edges of the models' classes: names, ARNs, paths, control
// characters, Latin-1 and beyond, an invalid byte, the empty string.
var patternInputs = []string{
	"", "alice", "bob+team=a,b.c@d-e", "user name", "a/b", "arn:aws:iam::123456789012:role/x",
	"/", "/division_abc/", "o-abcdefghij", "123456789012", "12345678901", "v1", "v2.beta-1",
	"\t\n\r", "\x00", "\x7f", "é", "ÿ", "Ā", "日本", "\U0001F600", "\xff", "a\xffb", "_", "-", "A_Z",
	"http://example.com/a?b=c#d", "p-abcdefgh", "a\u0085b", "\uFFFD", "\uD7FF", "\uE000",
}

// TestPatternMatchesRegexp checks every model pattern on the inputs against its regexp, and
// that the common IAM name patterns take the class scan.
func TestPatternMatchesRegexp(t *testing.T) {
	pats := modelPatterns(t)
	for raw, p := range pats {
		for _, in := range patternInputs {
			if got, want := p.MatchString(in), p.re.MatchString(in); got != want {
				t.Errorf("pattern %q on %q: %v, regexp %v", raw, in, got, want)
			}
		}
	}
	for _, raw := range []string{`[\w+=,.@-]+`, `[\w+=,.@-]*`, `[\u0009\u000A\u000D\u0020-\u00FF]+`, `[\w]+`, `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`} {
		if p := pats[raw]; p == nil || p.class == nil {
			t.Errorf("pattern %q does not take the class scan", raw)
		}
	}
	for _, raw := range []string{`^o-[a-z0-9]{10,32}$`, `\d{12}`} {
		if p := pats[raw]; p == nil || p.class != nil {
			t.Errorf("pattern %q should go to the regexp", raw)
		}
	}
}

// FuzzPatternMatch is the differential test of the class scan: on any input, every model
// pattern answers as its regexp does.
func FuzzPatternMatch(f *testing.F) {
	for _, in := range patternInputs {
		f.Add(in)
	}
	pats := modelPatterns(f)
	keys := make([]string, 0, len(pats))
	for k := range pats {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	f.Fuzz(func(t *testing.T, in string) {
		for _, k := range keys {
			p := pats[k]
			if got, want := p.MatchString(in), p.re.MatchString(in); got != want {
				t.Fatalf("pattern %q on %q: %v, regexp %v", k, in, got, want)
			}
		}
	})
}

// BenchmarkPattern is a user name against IAM's name pattern, by the class scan and by the
// regexp.
func BenchmarkPattern(b *testing.B) {
	p, err := compilePattern(`[\w+=,.@-]+`)
	if err != nil {
		b.Fatal(err)
	}
	name := "bench-target-98cc4a1f"
	b.Run("class", func(b *testing.B) {
		for b.Loop() {
			if !p.MatchString(name) {
				b.Fatal("no match")
			}
		}
	})
	b.Run("regexp", func(b *testing.B) {
		for b.Loop() {
			if !p.re.MatchString(name) {
				b.Fatal("no match")
			}
		}
	})
}
