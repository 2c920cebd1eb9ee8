package policy_test

import (
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/gatehouse-iam/gatehouse/policy"
)

type validateCase struct {
	Name     string          `json:"name"`
	Source   string          `json:"source"`
	Type     string          `json:"type"`
	Document json.RawMessage `json:"document"`
	Error    string          `json:"error"`
}

var typeNames = map[string]policy.Type{
	"Identity": policy.Identity, "Resource": policy.Resource, "Trust": policy.Trust,
	"SCP": policy.SCP, "RCP": policy.RCP, "Session": policy.Session,
}

// docBytes returns a case's document: a JSON string holds the raw text (for documents that are
// not JSON), anything else is the document itself.
func docBytes(tb testing.TB, raw json.RawMessage) []byte {
	tb.Helper()
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return []byte(s)
	}
	return raw
}

func loadValidateCases(tb testing.TB) []validateCase {
	tb.Helper()
	b, err := os.ReadFile("testdata/validate.json")
	if err != nil {
		tb.Fatal(err)
	}
	var cases []validateCase
	if err := json.Unmarshal(b, &cases); err != nil {
		tb.Fatal(err)
	}
	return cases
}

// TestParseValidation runs testdata/validate.json: documents with the MalformedPolicyDocument
// message AWS answers for them ("" for a valid document).
func TestParseValidation(t *testing.T) {
	t.Parallel()
	for _, c := range loadValidateCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			typ, ok := typeNames[c.Type]
			if !ok {
				t.Fatalf("unknown type %q", c.Type)
			}
			p, err := policy.Parse(docBytes(t, c.Document), typ)
			if c.Error == "" {
				if err != nil {
					t.Fatalf("Parse: %v, want a valid policy (%s)", err, c.Source)
				}
				if len(p.Statements()) == 0 {
					t.Fatal("valid policy without statements")
				}
				return
			}
			var pe *policy.Error
			if !errors.As(err, &pe) {
				t.Fatalf("Parse error = %v, want *policy.Error %q (%s)", err, c.Error, c.Source)
			}
			if pe.Message != c.Error {
				t.Fatalf("Parse message = %q, want %q (%s)", pe.Message, c.Error, c.Source)
			}
		})
	}
}
