package policy_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/policy"
)

// bind maps the ARNs of test principals to ids, as IAM stores them.
var bind = map[string]string{
	"arn:aws:iam::111122223333:user/alice":    "AIDAJQABLZS4A3QDU576Q",
	"arn:aws:iam::111122223333:role/deployer": "AROADBQP57FF2AEXAMPLE",
}

func bindFunc(v string) (string, error) {
	if id, ok := bind[v]; ok {
		return id, nil
	}
	return v, nil
}

func TestRewritePrincipals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, doc, want string
	}{
		{"case=one string",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"sts:AssumeRole"}}`,
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"AIDAJQABLZS4A3QDU576Q"},"Action":"sts:AssumeRole"}}`},
		{"case=list with others kept, layout kept",
			"{\n  \"Statement\": [ {\n    \"Principal\" : { \"AWS\" : [ \"111122223333\",\t\"arn:aws:iam::111122223333:role/deployer\" , \"*\" ],\n    \"Service\": \"arn:aws:iam::111122223333:user/alice\" } } ]\n}",
			"{\n  \"Statement\": [ {\n    \"Principal\" : { \"AWS\" : [ \"111122223333\",\t\"AROADBQP57FF2AEXAMPLE\" , \"*\" ],\n    \"Service\": \"arn:aws:iam::111122223333:user/alice\" } } ]\n}"},
		{"case=NotPrincipal",
			`{"Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:user/alice"]}}]}`,
			`{"Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":["AIDAJQABLZS4A3QDU576Q"]}}]}`},
		{"case=escaped slash",
			`{"Statement":{"Principal":{"AWS":"arn:aws:iam::111122223333:user\/alice"}}}`,
			`{"Statement":{"Principal":{"AWS":"AIDAJQABLZS4A3QDU576Q"}}}`},
		{"case=duplicate members all rewritten",
			`{"Statement":{"Principal":{"AWS":"arn:aws:iam::111122223333:user/alice","AWS":"arn:aws:iam::111122223333:role/deployer"}}}`,
			`{"Statement":{"Principal":{"AWS":"AIDAJQABLZS4A3QDU576Q","AWS":"AROADBQP57FF2AEXAMPLE"}}}`},
		{"case=principal star and no principal untouched",
			`{"Statement":[{"Principal":"*"},{"Action":"arn:aws:iam::111122223333:user/alice"}]}`,
			`{"Statement":[{"Principal":"*"},{"Action":"arn:aws:iam::111122223333:user/alice"}]}`},
		{"case=strings with escaped quotes before",
			`{"Statement":{"Sid":"a\"b\\","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"}}}`,
			`{"Statement":{"Sid":"a\"b\\","Principal":{"AWS":"AIDAJQABLZS4A3QDU576Q"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := policy.RewritePrincipals([]byte(tt.doc), bindFunc)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestRewritePrincipalsErrors(t *testing.T) {
	t.Parallel()
	refuse := errors.New("no such principal")
	_, err := policy.RewritePrincipals([]byte(`{"Statement":{"Principal":{"AWS":"x"}}}`), func(string) (string, error) { return "", refuse })
	if !errors.Is(err, refuse) {
		t.Errorf("error of f = %v, want it returned", err)
	}
	_, err = policy.RewritePrincipals([]byte(`{"Statement":`), bindFunc)
	var pe *policy.Error
	if !errors.As(err, &pe) || pe.Message != "Syntax errors in policy." {
		t.Errorf("malformed JSON: %v", err)
	}
}

// FuzzRewritePrincipals checks that rewriting changes the principals and nothing else: the
// result is JSON, each AWS principal becomes "X"+value, and rewriting back restores the
// document's meaning.
func FuzzRewritePrincipals(f *testing.F) {
	f.Add(`{"Statement":{"Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"}}}`)
	f.Add(`{"Statement":[{"NotPrincipal":{"AWS":["a","b\"c",""]}},{"Principal":"*"}]}`)
	f.Add(`{"Statement":{"Principal":{"AWS":"\u0041\\"}}, "x": "\"AWS\""}`)
	f.Fuzz(func(t *testing.T, doc string) {
		if !json.Valid([]byte(doc)) {
			return
		}
		var seen []string
		marked, err := policy.RewritePrincipals([]byte(doc), func(v string) (string, error) {
			seen = append(seen, v)
			return "X" + v, nil
		})
		if err != nil {
			return // valid JSON the policy decoder refuses (too deep)
		}
		if !json.Valid(marked) {
			t.Fatalf("rewritten document is not JSON: %q", marked)
		}
		i := 0
		restored, err := policy.RewritePrincipals(marked, func(v string) (string, error) {
			if i >= len(seen) || v != "X"+seen[i] {
				t.Fatalf("principal %d after rewriting = %q, want X + %q", i, v, seen)
			}
			i++
			return strings.TrimPrefix(v, "X"), nil
		})
		if err != nil || i != len(seen) {
			t.Fatalf("second pass: %v, %d of %d principals", err, i, len(seen))
		}
		// Values may come back spelled differently ("\u0041" as "A"), but mean the same.
		// Numbers are compared as written: valid JSON may hold numbers beyond float64 (1E1000).
		want, err1 := decodeWithNumbers([]byte(doc))
		got, err2 := decodeWithNumbers(restored)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("restored %q, want the meaning of %q", restored, doc)
		}
		if len(seen) == 0 && string(marked) != doc {
			t.Fatalf("document without principals changed: %q", marked)
		}
	})
}

// decodeWithNumbers decodes JSON keeping numbers as json.Number.
func decodeWithNumbers(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}
