package authz_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
)

// corpusFiles returns the evaluation-logic corpus: testdata/*.json, each an array of requests
// in `policy eval --request` form with the decision AWS documents for them.
func corpusFiles(tb testing.TB) map[string][]authz.RequestJSON {
	tb.Helper()
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string][]authz.RequestJSON{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		rs, err := authz.DecodeRequests(b)
		if err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = rs
	}
	return out
}

// TestCorpus runs every case of the corpus through Evaluate and Explain: the decision must be
// the documented one, both must agree, and the policy type AWS's message names must match
// when the case gives it.
func TestCorpus(t *testing.T) {
	t.Parallel()
	total := 0
	for file, cases := range corpusFiles(t) {
		seen := map[string]bool{}
		for _, c := range cases {
			total++
			if c.Name == "" || c.Source == "" || c.Want == "" {
				t.Fatalf("file=%s: a case lacks name, source or want: %+v", file, c)
			}
			if seen[c.Name] {
				t.Fatalf("file=%s: duplicate case name %q", file, c.Name)
			}
			seen[c.Name] = true
			t.Run("file="+file+"/case="+c.Name, func(t *testing.T) {
				t.Parallel()
				req, err := c.Build()
				if err != nil {
					t.Fatalf("Build: %v", err)
				}
				got := authz.Evaluate(req)
				if string(got.Decision) != c.Want {
					t.Fatalf("Evaluate = %s (denied by %q), want %s (%s)", got.Decision, got.DeniedBy, c.Want, c.Source)
				}
				ex := authz.Explain(req)
				if ex.Decision != got.Decision || ex.DeniedBy != got.DeniedBy {
					t.Fatalf("Explain = %s/%q, Evaluate = %s/%q", ex.Decision, ex.DeniedBy, got.Decision, got.DeniedBy)
				}
				if c.DeniedBy != "" && string(got.DeniedBy) != c.DeniedBy {
					t.Fatalf("denied by %q, want %q (%s)", got.DeniedBy, c.DeniedBy, c.Source)
				}
				if got.Decision == authz.Allowed && got.DeniedBy != "" {
					t.Fatalf("allowed with DeniedBy %q", got.DeniedBy)
				}
				if got.Decision != authz.Allowed && got.DeniedBy == "" {
					t.Fatalf("%s without DeniedBy", got.Decision)
				}
				for _, m := range ex.Matched {
					if (m.Effect.String() == "Deny") != (ex.Decision == authz.ExplicitDeny) {
						t.Fatalf("decision %s reports a matched %s statement", ex.Decision, m.Effect)
					}
				}
				if ex.Decision == authz.ExplicitDeny && len(ex.Matched) == 0 {
					t.Fatal("explicit deny without the Deny statement that decided")
				}
			})
		}
	}
	if total < 150 {
		t.Fatalf("%d cases, want at least 150", total)
	}
	t.Logf("%d evaluation-logic cases", total)
}
