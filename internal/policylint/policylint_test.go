package policylint

import (
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/servicedata"
	"github.com/gatehouse-iam/gatehouse/policy"
)

func TestCheck(t *testing.T) {
	ref, err := servicedata.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, doc string
		valid     bool
		want      []string // substrings of the findings, in order
		line      int      // of the first finding, 0 to skip
	}{
		{"clean", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`, true, nil, 0},
		{"syntax error located", "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [ {\"Effect\": \"Allow\" \"Action\": \"s3:GetObject\"} ]\n}", false,
			[]string{"Syntax errors in policy."}, 3},
		{"unknown action", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObjekt","Resource":"*"}]}`, true,
			[]string{`unknown action "s3:GetObjekt"`}, 1},
		{"full wildcard", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, true,
			[]string{"full wildcard"}, 1},
		{"missing action is AWS's error", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*"}]}`, false,
			[]string{"Policy statement must contain actions."}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, valid := Check([]byte(tc.doc), policy.Identity, ref)
			if valid != tc.valid {
				t.Fatalf("valid = %v, want %v (%+v)", valid, tc.valid, fs)
			}
			if len(fs) != len(tc.want) {
				t.Fatalf("findings %+v, want %d", fs, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(fs[i].Message, w) {
					t.Errorf("finding %d %q, want it to contain %q", i, fs[i].Message, w)
				}
			}
			if tc.line > 0 && fs[0].Pos.Line != tc.line {
				t.Errorf("finding at line %d, want %d", fs[0].Pos.Line, tc.line)
			}
		})
	}
}
