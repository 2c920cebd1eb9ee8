package policy_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/policy"
)

// TestDuplicateKeyPosition checks that a document with a repeated key is refused with IAM's
// syntax error pointing at the first repeated key in document order, in objects of any size
// (large ones are indexed rather than searched). testdata/validate.json has the cases AWS's
// documentation names; the IAM User Guide says a policy "must not contain multiple instances
// of the same key" (policy grammar notes).
func TestDuplicateKeyPosition(t *testing.T) {
	t.Parallel()
	manyKeys := func(n, repeat int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, `"k:%d":"v",`, i)
		}
		if repeat >= 0 {
			fmt.Fprintf(&b, `"k:%d":"v",`, repeat)
		}
		return strings.TrimSuffix(b.String(), ",")
	}
	stmt := `"Effect":"Allow","Action":"s3:*","Resource":"*"`
	tests := []struct {
		name string
		doc  string
		want string // the text at the reported position; "" for a valid document
	}{
		{"case=statement member", `{"Version":"2012-10-17","Statement":{` + stmt + `,"Effect":"Deny"}}`, `"Effect":"Deny"`},
		{"case=inner duplicate before outer one",
			`{"Version":"2012-10-17","Statement":{` + stmt + `,"Action":"iam:*"},"Version":"2012-10-17"}`, `"Action":"iam:*"`},
		{"case=outer duplicate before inner one",
			`{"Version":"2012-10-17","Version":"2012-10-17","Statement":{` + stmt + `,"Action":"iam:*"}}`, `"Version":"2012-10-17","Statement"`},
		{"case=key with escaped quote", `{"Version":"2012-10-17","Statement":{` + stmt + `,"Condition":{"StringEquals":{"a\"b":"x","a\"b":"y"}}}}`, `"a\"b":"y"`},
		{"case=small condition block", `{"Version":"2012-10-17","Statement":{` + stmt + `,"Condition":{"StringEquals":{` + manyKeys(5, 2) + `}}}}`, `"k:2":"v"}`},
		{"case=large condition block", `{"Version":"2012-10-17","Statement":{` + stmt + `,"Condition":{"StringEquals":{` + manyKeys(200, 3) + `}}}}`, `"k:3":"v"}`},
		{"case=large condition block without repeats", `{"Version":"2012-10-17","Statement":{` + stmt + `,"Condition":{"StringEquals":{` + manyKeys(200, -1) + `}}}}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := policy.Parse([]byte(tt.doc), policy.Identity)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Parse: %v, want a valid policy", err)
				}
				return
			}
			var pe *policy.Error
			if !errors.As(err, &pe) || pe.Message != "Syntax errors in policy." {
				t.Fatalf("Parse = %v, want MalformedPolicyDocument %q", err, "Syntax errors in policy.")
			}
			if at := tt.doc[pe.Pos.Offset:]; !strings.HasPrefix(at, tt.want) {
				t.Fatalf("reported at %s: %.40q..., want at %q", pe.Pos, at, tt.want)
			}
		})
	}
}

// TestConditionKeyCaseLargeBlock checks that condition keys repeated in another capitalization
// are found in a block large enough to be indexed too.
func TestConditionKeyCaseLargeBlock(t *testing.T) {
	t.Parallel()
	var keys []string
	for i := range 100 {
		keys = append(keys, fmt.Sprintf(`"aws:PrincipalTag/t%d":"v"`, i))
	}
	keys = append(keys, `"AWS:principaltag/T42":"v"`)
	doc := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{` + strings.Join(keys, ",") + `}}}}`
	_, err := policy.Parse([]byte(doc), policy.Identity)
	want := "The condition key AWS:principaltag/T42 appears more than once with different capitalization in the same condition block StringEquals. Remove the duplicate condition keys."
	var pe *policy.Error
	if !errors.As(err, &pe) || pe.Message != want {
		t.Fatalf("Parse = %v, want %q", err, want)
	}
}

// TestParseStored: a document stored before the checks for repeated keys and out-of-range
// numbers still parses for evaluation, the last repeated key winning as it did when it was
// stored; new documents are refused.
func TestParseStored(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, doc, action string
		want              policy.Decision
	}{
		{"case=repeated Effect, the last wins",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Effect":"Deny"}}`,
			"s3:GetObject", policy.Denied},
		{"case=repeated Statement, the last wins",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},"Statement":{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}}`,
			"s3:GetObject", policy.NotApplicable},
		{"case=number out of range",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":1e999}}}}`,
			"s3:GetObject", policy.NotApplicable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := policy.Parse([]byte(tt.doc), policy.Identity); err == nil {
				t.Fatal("Parse accepted the document")
			}
			p, err := policy.ParseStored([]byte(tt.doc), policy.Identity)
			if err != nil {
				t.Fatalf("ParseStored: %v", err)
			}
			r := p.Evaluate(&policy.Request{Action: tt.action, Resource: "arn:aws:s3:::b/k", Context: &policy.Context{}})
			if r.Decision != tt.want {
				t.Errorf("decision = %v, want %v", r.Decision, tt.want)
			}
		})
	}
}
