package arn_test

import (
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/arn"
)

func FuzzParse(f *testing.F) {
	for _, c := range loadMatchCases(f) {
		f.Add(c.ARN)
		f.Add(c.Pattern)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := arn.Parse(s)
		if err != nil {
			return
		}
		// Round trip: a parsed ARN prints back to its input.
		if got := a.String(); got != s {
			t.Fatalf("String() = %q, want %q", got, s)
		}
		// Every ARN matches itself once wildcards in it are taken literally by their own pattern.
		if !strings.ContainsAny(s, "*?") && !arn.Match(s, s) {
			t.Fatalf("Match(%q, itself) = false", s)
		}
	})
}

func FuzzGlob(f *testing.F) {
	for _, c := range loadMatchCases(f) {
		f.Add(c.Pattern, c.ARN, false)
	}
	f.Add("iam:*AccessKey*", "iam:CreateAccessKey", true)
	f.Fuzz(func(t *testing.T, pattern, s string, fold bool) {
		got := arn.Glob(pattern, s, fold)
		if !strings.ContainsAny(pattern, "*?") && !fold && got != (pattern == s) {
			t.Fatalf("Glob(%q, %q) = %v for a literal pattern", pattern, s, got)
		}
		if arn.Glob("*", s, fold) != true {
			t.Fatalf("Glob(*, %q) = false", s)
		}
		arn.Match(pattern, s)
	})
}
