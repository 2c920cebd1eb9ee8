package policy_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/policy"
)

// evalCase is one case of the evaluation corpus under testdata/eval: a policy, a request and
// the decision AWS documents for it, with the page it comes from.
type evalCase struct {
	Name    string          `json:"name"`
	Source  string          `json:"source"`
	Type    string          `json:"type"`
	Policy  json.RawMessage `json:"policy"`
	Request evalRequest     `json:"request"`
	Want    string          `json:"want"`
	Matches []string        `json:"matches"` // Sids of the statements that apply, when given
	Missing []string        `json:"missing"` // missing context keys, when given
}

type evalRequest struct {
	Action    string                     `json:"action"`
	Resource  string                     `json:"resource"`
	Principal *policy.Principal          `json:"principal"`
	Context   map[string]json.RawMessage `json:"context"`
}

func (r evalRequest) build(tb testing.TB) *policy.Request {
	tb.Helper()
	req := &policy.Request{Action: r.Action, Resource: r.Resource, Principal: r.Principal, Context: &policy.Context{}}
	for k, raw := range r.Context {
		var one string
		if err := json.Unmarshal(raw, &one); err == nil {
			req.Context.Set(k, one)
			continue
		}
		var many []string
		if err := json.Unmarshal(raw, &many); err != nil {
			tb.Fatalf("context key %s: %v", k, err)
		}
		req.Context.SetMulti(k, many...)
	}
	return req
}

func loadEvalCases(tb testing.TB) map[string][]evalCase {
	tb.Helper()
	files, err := filepath.Glob("testdata/eval/*.json")
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string][]evalCase{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		var cases []evalCase
		if err := json.Unmarshal(b, &cases); err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = cases
	}
	return out
}

// TestEvaluationCorpus runs every case of testdata/eval through Policy.Evaluate, Policy.Decide,
// and a Set holding the policy among unrelated ones.
func TestEvaluationCorpus(t *testing.T) {
	t.Parallel()
	filler := policy.MustParse(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Deny","Action":"zzz:*","Resource":"*"},
		{"Effect":"Allow","Action":"yyy:Get*","Resource":"*"}]}`, policy.Identity)
	total := 0
	for file, cases := range loadEvalCases(t) {
		for _, c := range cases {
			total++
			t.Run("file="+file+"/case="+c.Name, func(t *testing.T) {
				t.Parallel()
				typ := policy.Identity
				if c.Type != "" {
					typ = typeNames[c.Type]
				}
				p, err := policy.Parse(docBytes(t, c.Policy), typ)
				if err != nil {
					t.Fatalf("Parse: %v (%s)", err, c.Source)
				}
				req := c.Request.build(t)
				r := p.Evaluate(req)
				if got := r.Decision.String(); got != c.Want {
					t.Fatalf("Evaluate = %s, want %s (%s)", got, c.Want, c.Source)
				}
				if d := p.Decide(req); d != r.Decision {
					t.Fatalf("Decide = %s, Evaluate = %s", d, r.Decision)
				}
				if c.Matches != nil {
					var sids []string
					for _, m := range r.Matches {
						sids = append(sids, m.Sid)
					}
					if !slices.Equal(sids, c.Matches) && !(len(sids) == 0 && len(c.Matches) == 0) {
						t.Fatalf("matched statements %q, want %q", sids, c.Matches)
					}
				}
				if c.Missing != nil && !slices.Equal(r.Missing, c.Missing) && !(len(r.Missing) == 0 && len(c.Missing) == 0) {
					t.Fatalf("missing keys %q, want %q", r.Missing, c.Missing)
				}
				set := policy.NewSet(filler, p, filler)
				sr := set.Evaluate(req)
				if sr.Decision != r.Decision || len(sr.Matches) != len(r.Matches) {
					t.Fatalf("Set.Evaluate = %s with %d matches, Policy.Evaluate = %s with %d",
						sr.Decision, len(sr.Matches), r.Decision, len(r.Matches))
				}
				for _, m := range sr.Matches {
					if m.Policy != 1 {
						t.Fatalf("Set match from policy %d, want 1", m.Policy)
					}
				}
				if d := set.Decide(req); d != r.Decision {
					t.Fatalf("Set.Decide = %s, want %s", d, r.Decision)
				}
			})
		}
	}
	t.Logf("%d evaluation cases", total)
}
