package policy_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/gatehouse-iam/gatehouse/policy"
)

func TestErrorPosition(t *testing.T) {
	t.Parallel()
	doc := "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\"},\n    {\"Effect\": \"Allow\", \"Resource\": \"*\"}\n  ]\n}"
	_, err := policy.Parse([]byte(doc), policy.Identity)
	var pe *policy.Error
	if !errors.As(err, &pe) {
		t.Fatalf("Parse error = %v, want *policy.Error", err)
	}
	if pe.Message != "Policy statement must contain actions." || pe.Statement != 1 {
		t.Fatalf("error = %q in statement %d", pe.Message, pe.Statement)
	}
	if pe.Pos.Line != 5 || pe.Pos.Column != 5 {
		t.Fatalf("position = %s, want 5:5", pe.Pos)
	}
}

func TestStatementPositions(t *testing.T) {
	t.Parallel()
	doc := "{\"Version\":\"2012-10-17\",\"Statement\":[\n{\"Sid\":\"A\",\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"},\n  {\"Sid\":\"B\",\"Effect\":\"Deny\",\"Action\":\"s3:Delete*\",\"Resource\":\"*\"}]}"
	p, err := policy.Parse([]byte(doc), policy.Identity)
	if err != nil {
		t.Fatal(err)
	}
	r := p.Evaluate(&policy.Request{Action: "s3:DeleteObject", Resource: "arn:aws:s3:::b/k"})
	if r.Decision != policy.Denied || len(r.Matches) != 2 {
		t.Fatalf("result = %+v", r)
	}
	tests := []struct {
		name       string
		m          policy.Match
		line, col  int
		text       string
		wantEffect policy.Effect
	}{
		{name: "first", m: r.Matches[0], line: 2, col: 1, text: `{"Sid":"A","Effect":"Allow","Action":"s3:*","Resource":"*"}`, wantEffect: policy.Allow},
		{name: "second", m: r.Matches[1], line: 3, col: 3, text: `{"Sid":"B","Effect":"Deny","Action":"s3:Delete*","Resource":"*"}`, wantEffect: policy.Deny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.m.Start.Line != tt.line || tt.m.Start.Column != tt.col {
				t.Errorf("start = %s, want %d:%d", tt.m.Start, tt.line, tt.col)
			}
			if got := doc[tt.m.Start.Offset:tt.m.End.Offset]; got != tt.text {
				t.Errorf("statement text = %q, want %q", got, tt.text)
			}
			if tt.m.Effect != tt.wantEffect {
				t.Errorf("effect = %s", tt.m.Effect)
			}
		})
	}
}

func TestContextKeys(t *testing.T) {
	t.Parallel()
	p := policy.MustParse(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b","Condition":{"StringLike":{"s3:prefix":"home/${aws:username}/*"}}},
		{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:PrincipalTag/team}/${*}","Condition":{"Bool":{"AWS:SecureTransport":"true"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}},
		{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:username":"root"}}}]}`, policy.Identity)
	got := policy.ContextKeys(p)
	want := []string{"aws:PrincipalTag/team", "AWS:SecureTransport", "aws:SourceIp", "aws:username", "s3:prefix"}
	if !slices.Equal(got, want) {
		t.Fatalf("ContextKeys = %q, want %q", got, want)
	}
}

func TestSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		want int
	}{
		{name: "compact", doc: `{"a":"b"}`, want: 9},
		{name: "white space outside strings", doc: "{ \"a\" :\n\t\"b\" }", want: 9},
		{name: "white space inside strings counts", doc: `{"a":"b c"}`, want: 11},
		{name: "escaped quote", doc: `{"a":"b\" c"}`, want: 13},
		{name: "multibyte characters count once", doc: `{"a":"é"}`, want: 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := policy.Size([]byte(tt.doc)); got != tt.want {
				t.Fatalf("Size(%q) = %d, want %d", tt.doc, got, tt.want)
			}
		})
	}
}

func TestDecideDoesNotAllocate(t *testing.T) {
	set := policy.NewSet(benchPolicies(t, 10)...)
	req := benchRequest()
	var r policy.Result
	set.EvaluateTo(req, &r) // grow r once
	tests := []struct {
		name string
		f    func()
	}{
		{name: "Set.Decide", f: func() { set.Decide(req) }},
		{name: "Set.EvaluateTo", f: func() { set.EvaluateTo(req, &r) }},
		{name: "Policy.Decide", f: func() { set.Policy(3).Decide(req) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n := testing.AllocsPerRun(200, tt.f); n != 0 {
				t.Fatalf("%s allocates %v times per run", tt.name, n)
			}
		})
	}
}

func TestSetMatchesCarryPolicyIndex(t *testing.T) {
	t.Parallel()
	allow := policy.MustParse(`{"Version":"2012-10-17","Statement":{"Sid":"S3","Effect":"Allow","Action":"s3:*","Resource":"*"}}`, policy.Identity)
	deny := policy.MustParse(`{"Version":"2012-10-17","Statement":[
		{"Sid":"Other","Effect":"Deny","Action":"ec2:*","Resource":"*"},
		{"Sid":"NoDelete","Effect":"Deny","Action":["s3:DeleteObject","s3:DeleteBucket"],"Resource":"*"},
		{"Sid":"All","Effect":"Deny","NotAction":"iam:*","Resource":"arn:aws:s3:::locked/*"}]}`, policy.Identity)
	set := policy.NewSet(allow, deny)
	r := set.Evaluate(&policy.Request{Action: "S3:DeleteObject", Resource: "arn:aws:s3:::locked/k"})
	type pm struct {
		p   int
		sid string
	}
	var got []pm
	for _, m := range r.Matches {
		got = append(got, pm{m.Policy, m.Sid})
	}
	want := []pm{{0, "S3"}, {1, "NoDelete"}, {1, "All"}}
	if r.Decision != policy.Denied || !slices.Equal(got, want) {
		t.Fatalf("result %s %v, want Denied %v", r.Decision, got, want)
	}
}

func TestPrincipalMatchKinds(t *testing.T) {
	t.Parallel()
	p := policy.MustParse(`{"Version":"2012-10-17","Statement":[
		{"Sid":"Acct","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:GetObject","Resource":"*"},
		{"Sid":"User","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"s3:GetObject","Resource":"*"},
		{"Sid":"Not","Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:user/bob"},"Action":"s3:PutObject","Resource":"*"}]}`, policy.Resource)
	alice := &policy.Principal{Account: "111122223333", ARN: "arn:aws:iam::111122223333:user/alice"}
	r := p.Evaluate(&policy.Request{Principal: alice, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"})
	if len(r.Matches) != 2 || r.Matches[0].Principal != policy.PrincipalAccount || r.Matches[1].Principal != policy.PrincipalExact {
		t.Fatalf("matches = %+v", r.Matches)
	}
	r = p.Evaluate(&policy.Request{Principal: alice, Action: "s3:PutObject", Resource: "arn:aws:s3:::b/k"})
	if r.Decision != policy.Denied || r.Matches[0].Principal != policy.PrincipalNotListed {
		t.Fatalf("NotPrincipal result = %+v", r)
	}
}
