package condition_test

import (
	"testing"

	"github.com/gatehouse-iam/gatehouse/policy/condition"
)

func FuzzPattern(f *testing.F) {
	for _, s := range []string{"home/${aws:username}/*", "${aws:userid, 'anonymous'}", "a${*}b${?}c${$}",
		"${x:y,'a''b'}", "${", "${}", "*?*", "arn:aws:iam::*:user/${aws:username}"} {
		f.Add(s, "home/bob/x", true, true)
	}
	f.Fuzz(func(t *testing.T, pattern, s string, vars, wild bool) {
		ctx := &condition.Context{}
		ctx.Set("aws:username", "bob")
		p := condition.Compile(pattern, condition.PatternOptions{Variables: vars, Wildcards: wild})
		p.Match(s, ctx, false)
		p.Match(s, ctx, true)
		// A pattern without variables or wildcards matches exactly its own text.
		if lit, ok := p.Literal(); ok && !p.Match(lit, ctx, false) {
			t.Fatalf("literal %q does not match itself", lit)
		}
		a := condition.CompileARN(pattern, vars)
		a.Match(s, ctx)
	})
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2020-01-01T00:00:01Z", "1609459200", "2016-12-13t2:00:00.593194+23", "01T", "-292275054", "2020-01-01T10:00:00-05:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		condition.ParseDate(s)
	})
}
