package authz_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
)

// FuzzRequest feeds the JSON request parser, seeded with every corpus case: it must never
// panic, and whatever it accepts Evaluate and Explain must decide alike.
func FuzzRequest(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		var cases []json.RawMessage
		if err := json.Unmarshal(b, &cases); err != nil {
			f.Fatal(err)
		}
		for _, c := range cases {
			f.Add(string(c))
		}
	}
	f.Fuzz(func(t *testing.T, in string) {
		rs, err := authz.DecodeRequests([]byte(in))
		if err != nil {
			return
		}
		for _, r := range rs {
			req, err := r.Build()
			if err != nil {
				continue
			}
			a, b := authz.Evaluate(req), authz.Explain(req)
			if a.Decision != b.Decision || a.DeniedBy != b.DeniedBy {
				t.Fatalf("Evaluate %v, Explain %v", a, b)
			}
			_ = authz.DeniedMessage(req, a)
		}
	})
}

// FuzzParseCaller checks that any string either parses to a caller of a known type or is
// refused, without panicking.
func FuzzParseCaller(f *testing.F) {
	for _, s := range []string{"", "arn:aws:iam::111122223333:root", "arn:aws:iam::111122223333:user/a/b",
		"arn:aws:sts::111122223333:assumed-role/r/s", "arn:aws:sts::111122223333:federated-user/f", "s3.amazonaws.com", "arn:::::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := authz.ParseCaller(s)
		if err != nil || c == nil {
			return
		}
		switch c.Type {
		case authz.Root, authz.User, authz.AssumedRole, authz.FederatedUser:
			if c.ARN != s || len(c.Account) != 12 {
				t.Fatalf("ParseCaller(%q) = %+v", s, c)
			}
		case authz.Service:
			if c.Service != s {
				t.Fatalf("ParseCaller(%q) = %+v", s, c)
			}
		default:
			t.Fatalf("ParseCaller(%q) has type %q", s, c.Type)
		}
	})
}
