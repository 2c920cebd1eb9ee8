package arn_test

import (
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/gatehouse-iam/gatehouse/arn"
)

type matchCase struct {
	Name    string `json:"name"`
	Source  string `json:"source"`
	Pattern string `json:"pattern"`
	ARN     string `json:"arn"`
	Want    bool   `json:"want"`
}

func loadMatchCases(tb testing.TB) []matchCase {
	tb.Helper()
	b, err := os.ReadFile("testdata/match.json")
	if err != nil {
		tb.Fatal(err)
	}
	var cases []matchCase
	if err := json.Unmarshal(b, &cases); err != nil {
		tb.Fatal(err)
	}
	return cases
}

func TestMatchCorpus(t *testing.T) {
	t.Parallel()
	for _, c := range loadMatchCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			if got := arn.Match(c.Pattern, c.ARN); got != c.Want {
				t.Errorf("Match(%q, %q) = %v, want %v (%s)", c.Pattern, c.ARN, got, c.Want, c.Source)
			}
		})
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    arn.ARN
		wantErr bool
	}{
		{name: "iam user", in: "arn:aws:iam::123456789012:user/division_abc/subdivision_xyz/Bob",
			want: arn.ARN{Partition: "aws", Service: "iam", Account: "123456789012", Resource: "user/division_abc/subdivision_xyz/Bob"}},
		{name: "s3 object", in: "arn:aws:s3:::my_corporate_bucket/exampleobject.png",
			want: arn.ARN{Partition: "aws", Service: "s3", Resource: "my_corporate_bucket/exampleobject.png"}},
		{name: "resource with colons", in: "arn:aws:logs:us-east-1:123456789012:log-group:g:log-stream:s",
			want: arn.ARN{Partition: "aws", Service: "logs", Region: "us-east-1", Account: "123456789012", Resource: "log-group:g:log-stream:s"}},
		{name: "assumed role", in: "arn:aws:sts::123456789012:assumed-role/R/session",
			want: arn.ARN{Partition: "aws", Service: "sts", Account: "123456789012", Resource: "assumed-role/R/session"}},
		{name: "china partition", in: "arn:aws-cn:iam::123456789012:root",
			want: arn.ARN{Partition: "aws-cn", Service: "iam", Account: "123456789012", Resource: "root"}},
		{name: "no prefix", in: "aws:iam::123456789012:root", wantErr: true},
		{name: "too few fields", in: "arn:aws:iam::123456789012", wantErr: true},
		{name: "empty partition", in: "arn::iam::123456789012:root", wantErr: true},
		{name: "empty service", in: "arn:aws:::123456789012:root", wantErr: true},
		{name: "empty resource", in: "arn:aws:iam::123456789012:", wantErr: true},
		{name: "empty", in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := arn.Parse(tt.in)
			if tt.wantErr {
				if !errors.Is(err, arn.ErrMalformed) {
					t.Fatalf("Parse(%q) error = %v, want ErrMalformed", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("Parse(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if s := got.String(); s != tt.in {
				t.Fatalf("String() = %q, want %q", s, tt.in)
			}
		})
	}
}

func TestGlob(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, pattern, s string
		fold, want       bool
	}{
		{name: "action star", pattern: "iam:*AccessKey*", s: "iam:CreateAccessKey", want: true},
		{name: "action case folded", pattern: "IAM:createaccesskey", s: "iam:CreateAccessKey", fold: true, want: true},
		{name: "action case kept", pattern: "IAM:createaccesskey", s: "iam:CreateAccessKey", want: false},
		{name: "question mark", pattern: "s3:Get?bject", s: "s3:GetObject", want: true},
		{name: "question mark needs a char", pattern: "s3:GetObject?", s: "s3:GetObject", want: false},
		{name: "many stars", pattern: "*a*b*c*", s: "xxaxxbxxcxx", want: true},
		{name: "many stars miss", pattern: "*a*b*c*", s: "xxaxxcxxbxx", want: false},
		{name: "empty matches empty", pattern: "", s: "", want: true},
		{name: "empty pattern", pattern: "", s: "a", want: false},
		{name: "star matches empty", pattern: "*", s: "", want: true},
		{name: "unicode question", pattern: "caf?", s: "café", want: true},
		{name: "unicode fold", pattern: "ÉTÉ", s: "été", fold: true, want: true},
		{name: "backtrack", pattern: "a*aab", s: "aaaaaab", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := arn.Glob(tt.pattern, tt.s, tt.fold); got != tt.want {
				t.Errorf("Glob(%q, %q, %v) = %v, want %v", tt.pattern, tt.s, tt.fold, got, tt.want)
			}
		})
	}
}

func TestGlobDoesNotAllocate(t *testing.T) {
	n := testing.AllocsPerRun(100, func() {
		arn.Glob("iam:*AccessKey*", "IAM:createaccesskey", true)
		arn.Match("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b")
	})
	if n != 0 {
		t.Fatalf("allocations = %v, want 0", n)
	}
}

func TestAccount(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"arn:aws:iam::123456789012:user/alice", "123456789012"},
		{"arn:aws:orders:eu-west-1:210987654321:order/a:b:c", "210987654321"},
		{"arn:aws:s3:::bucket/key", ""},
		{"arn:aws:iam::123456789012", ""}, // five fields: no resource
		{"not an arn", ""},
		{"", ""},
	} {
		if got := arn.Account(tc.in); got != tc.want {
			t.Errorf("Account(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
