package policy_test

import (
	"errors"
	"testing"

	"github.com/gatehouse-iam/gatehouse/policy"
)

// FuzzParse feeds documents seeded from testdata to Parse under every policy type. Invariants:
// never panic; an error is always a *policy.Error with a message; a parsed policy evaluates
// and its context keys list without panicking.
func FuzzParse(f *testing.F) {
	for _, c := range loadValidateCases(f) {
		f.Add(docBytes(f, c.Document), uint8(typeNames[c.Type]))
	}
	for _, cases := range loadEvalCases(f) {
		for _, c := range cases {
			f.Add(docBytes(f, c.Policy), uint8(typeNames[c.Type]))
		}
	}
	req := benchRequest()
	req.Principal = &policy.Principal{Account: "111122223333", ARN: "arn:aws:iam::111122223333:user/alice"}
	f.Fuzz(func(t *testing.T, doc []byte, typ uint8) {
		p, err := policy.Parse(doc, policy.Type(typ%6))
		if err != nil {
			var pe *policy.Error
			if !errors.As(err, &pe) || pe.Message == "" {
				t.Fatalf("Parse error %v is not a *policy.Error with a message", err)
			}
			return
		}
		r := p.Evaluate(req)
		if d := p.Decide(req); d != r.Decision {
			t.Fatalf("Decide = %s, Evaluate = %s", d, r.Decision)
		}
		if d := policy.NewSet(p).Decide(req); d != r.Decision {
			t.Fatalf("Set.Decide = %s, Evaluate = %s", d, r.Decision)
		}
		policy.ContextKeys(p)
		policy.Size(doc)
	})
}
