package policy_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/policy"
)

// benchPolicies returns n policies of 10 statements each, like a principal's attached policies:
// wildcards of several shapes, one Deny (in the first policy), and a few conditions.
func benchPolicies(tb testing.TB, n int) []*policy.Policy {
	tb.Helper()
	var ps []*policy.Policy
	for i := 0; i < n; i++ {
		stmts := []string{
			fmt.Sprintf(`{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::bucket-%d/*"}`, i),
			`{"Effect":"Allow","Action":"s3:List*","Resource":"arn:aws:s3:::bucket-*"}`,
			`{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}`,
			`{"Effect":"Allow","Action":["iam:Get*","iam:List*"],"Resource":"arn:aws:iam::111122223333:user/${aws:username}"}`,
			`{"Effect":"Allow","Action":"dynamodb:*","Resource":"arn:aws:dynamodb:*:111122223333:table/app-*"}`,
			`{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-east-1:111122223333:queue-?"}`,
			`{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"s3.us-east-1.amazonaws.com"}}}`,
			`{"Effect":"Allow","Action":"ec2:RunInstances","Resource":"*","Condition":{"StringLikeIfExists":{"ec2:InstanceType":["t3.*","m5.*"]}}}`,
			`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::shared/*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}`,
			`{"Effect":"Allow","Action":"logs:*","Resource":"arn:aws:logs:*:111122223333:log-group:/app/*"}`,
		}
		if i == 0 {
			stmts[9] = `{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}`
		}
		doc := `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
		p, err := policy.Parse([]byte(doc), policy.Identity)
		if err != nil {
			tb.Fatal(err)
		}
		ps = append(ps, p)
	}
	return ps
}

// unrelatedPolicies returns n policies of 10 statements about services a request for s3 never
// reaches.
func unrelatedPolicies(tb testing.TB, n int) []*policy.Policy {
	tb.Helper()
	var ps []*policy.Policy
	for i := 0; i < n; i++ {
		var stmts []string
		for j := 0; j < 10; j++ {
			stmts = append(stmts, fmt.Sprintf(`{"Effect":"Allow","Action":["svc%d:Get*","svc%d:Put%d"],"Resource":"*"}`, i*10+j, i*10+j, j))
		}
		doc := `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
		p, err := policy.Parse([]byte(doc), policy.Identity)
		if err != nil {
			tb.Fatal(err)
		}
		ps = append(ps, p)
	}
	return ps
}

func benchRequest() *policy.Request {
	ctx := &policy.Context{}
	ctx.Set("aws:username", "alice")
	ctx.Set("aws:SourceIp", "198.51.100.7")
	return &policy.Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::bucket-3/reports/q1.csv", Context: ctx}
}

func benchDecide(b *testing.B, unrelated int) {
	set := policy.NewSet(append(benchPolicies(b, 10), unrelatedPolicies(b, unrelated)...)...)
	req := benchRequest()
	if d := set.Decide(req); d != policy.Allowed {
		b.Fatalf("Decide = %s, want Allowed", d)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		set.Decide(req)
	}
}

// BenchmarkDecide10 decides for a principal with 10 attached policies of 10 statements.
func BenchmarkDecide10(b *testing.B) { benchDecide(b, 0) }

// BenchmarkDecide100 adds 90 policies that cannot match the action.
func BenchmarkDecide100(b *testing.B) { benchDecide(b, 90) }

// BenchmarkDecide1000 adds 990 policies that cannot match the action.
func BenchmarkDecide1000(b *testing.B) { benchDecide(b, 990) }

// BenchmarkEvaluateTo10 is BenchmarkDecide10 with diagnostics, into a reused Result.
func BenchmarkEvaluateTo10(b *testing.B) {
	set := policy.NewSet(benchPolicies(b, 10)...)
	req := benchRequest()
	var r policy.Result
	b.ReportAllocs()
	for b.Loop() {
		set.EvaluateTo(req, &r)
	}
}

// BenchmarkDecideDeny10 hits the explicit Deny.
func BenchmarkDecideDeny10(b *testing.B) {
	set := policy.NewSet(benchPolicies(b, 10)...)
	req := benchRequest()
	req.Action, req.Resource = "s3:DeleteBucket", "arn:aws:s3:::bucket-3"
	b.ReportAllocs()
	for b.Loop() {
		set.Decide(req)
	}
}

// BenchmarkParse measures parsing, validating and compiling a 10-statement policy.
func BenchmarkParse(b *testing.B) {
	doc := benchPolicies(b, 1)[0].Document()
	b.ReportAllocs()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, err := policy.Parse(doc, policy.Identity); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewSet measures indexing 100 policies.
func BenchmarkNewSet(b *testing.B) {
	ps := append(benchPolicies(b, 10), unrelatedPolicies(b, 90)...)
	b.ReportAllocs()
	for b.Loop() {
		policy.NewSet(ps...)
	}
}
