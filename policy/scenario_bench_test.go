package policy_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/policy"
)

// The decision scenario of issue 12 point 1: N attached identity policies of 10 statements
// that look like real ones. The first ten mix literal and wildcard actions, resources with
// wildcards, one explicit Deny (s3:Delete* on */protected/*, in the first policy) and three
// conditional Allows (aws:PrincipalTag/team StringEquals, aws:SourceIp IpAddress,
// aws:CurrentTime DateLessThan). From the eleventh on, four statements in five grant other
// services' actions and one in five grants S3, DynamoDB or EC2 actions on other buckets, tables
// and instances: the statements a resource index must skip.

const scenarioAccount = "111122223333"

// scenarioPolicy returns the i'th policy of the scenario.
func scenarioPolicy(tb testing.TB, i int) *policy.Policy {
	tb.Helper()
	var stmts []string
	if i < 10 {
		stmts = []string{
			fmt.Sprintf(`{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::bucket-%d/*"}`, i),
			fmt.Sprintf(`{"Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::bucket-%d-shared/*"}`, i),
			fmt.Sprintf(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::bucket-%d"}`, i),
			fmt.Sprintf(`{"Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:Query"],"Resource":"arn:aws:dynamodb:us-east-1:%s:table/orders-%d"}`, scenarioAccount, i),
			`{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}`,
			fmt.Sprintf(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::team-%d/*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"blue"}}}`, i),
			fmt.Sprintf(`{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::upload-%d/*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}`, i),
			fmt.Sprintf(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::temp-%d/*","Condition":{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}}`, i),
			fmt.Sprintf(`{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-east-1:%s:queue-%d"}`, scenarioAccount, i),
			fmt.Sprintf(`{"Effect":"Allow","Action":"logs:*","Resource":"arn:aws:logs:*:%s:log-group:/app-%d/*"}`, scenarioAccount, i),
		}
		if i == 0 {
			stmts[9] = `{"Effect":"Deny","Action":"s3:Delete*","Resource":"arn:aws:s3:::*/protected/*"}`
		}
	} else {
		others := []string{
			`{"Effect":"Allow","Action":"sns:Publish","Resource":"arn:aws:sns:us-east-1:%s:topic-%d-%d"}`,
			`{"Effect":"Allow","Action":["lambda:InvokeFunction","lambda:Get*"],"Resource":"arn:aws:lambda:us-east-1:%s:function:fn-%d-%d"}`,
			`{"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:us-east-1:%s:key/k-%d-%d"}`,
			`{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:%s:secret:s-%d-%d-*"}`,
		}
		sameServices := []string{
			`{"Effect":"Allow","Action":["s3:GetObject","s3:Put*"],"Resource":"arn:aws:s3:::bucket-%[2]d-%[3]d/*"}`,
			`{"Effect":"Allow","Action":"dynamodb:*","Resource":"arn:aws:dynamodb:us-east-1:%[1]s:table/t-%[2]d-%[3]d"}`,
			`{"Effect":"Allow","Action":"ec2:StartInstances","Resource":"arn:aws:ec2:us-east-1:%[1]s:instance/i-%[2]d%[3]d"}`,
		}
		for j := range 10 {
			if j%5 == 4 {
				stmts = append(stmts, fmt.Sprintf(sameServices[(i+j)%len(sameServices)], scenarioAccount, i, j))
			} else {
				stmts = append(stmts, fmt.Sprintf(others[j%5], scenarioAccount, i, j))
			}
		}
	}
	doc := `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
	p, err := policy.Parse([]byte(doc), policy.Identity)
	if err != nil {
		tb.Fatalf("policy %d: %v", i, err)
	}
	return p
}

// scenarioRequest is one request class: what is asked, the context that differs from the
// default one, and the decision it must get.
type scenarioRequest struct {
	class, action, resource string
	context                 map[string]string
	want                    policy.Decision
}

var scenarioRequests = []scenarioRequest{
	{"allowed", "s3:GetObject", "arn:aws:s3:::bucket-3/reports/q1.csv", nil, policy.Allowed},
	{"allowed-wildcard-action", "s3:GetObjectTagging", "arn:aws:s3:::bucket-7-shared/x", nil, policy.Allowed},
	{"allowed-conditional", "s3:GetObject", "arn:aws:s3:::team-3/x", nil, policy.Allowed},
	{"denied", "s3:DeleteObject", "arn:aws:s3:::bucket-3/protected/x", nil, policy.Denied},
	{"implicit-no-such-bucket", "s3:GetObject", "arn:aws:s3:::no-such-bucket/x", nil, policy.NotApplicable},
	{"implicit-no-such-action", "s3:PutBucketPolicy", "arn:aws:s3:::bucket-3", nil, policy.NotApplicable},
	{"implicit-tag-false", "s3:GetObject", "arn:aws:s3:::team-3/x", map[string]string{"aws:PrincipalTag/team": "red"}, policy.NotApplicable},
	{"implicit-ip-false", "s3:PutObject", "arn:aws:s3:::upload-3/x", map[string]string{"aws:SourceIp": "198.51.100.1"}, policy.NotApplicable},
	{"implicit-time-false", "s3:GetObject", "arn:aws:s3:::temp-3/x", map[string]string{"aws:CurrentTime": "2031-01-01T00:00:00Z"}, policy.NotApplicable},
}

func (r scenarioRequest) request() *policy.Request {
	ctx := &policy.Context{}
	ctx.Set("aws:PrincipalTag/team", "blue")
	ctx.Set("aws:SourceIp", "203.0.113.9")
	ctx.Set("aws:CurrentTime", "2026-12-04T00:00:00Z")
	for k, v := range r.context {
		ctx.Set(k, v)
	}
	return &policy.Request{Action: r.action, Resource: r.resource, Context: ctx}
}

// BenchmarkScenario decides each request class for N = 10, 100, 1,000 and 10,000 policies;
// each class's decision is checked before it is timed.
func BenchmarkScenario(b *testing.B) {
	var ps []*policy.Policy
	for _, n := range []int{10, 100, 1000, 10000} {
		for i := len(ps); i < n; i++ {
			ps = append(ps, scenarioPolicy(b, i))
		}
		set := policy.NewSet(ps...)
		for _, r := range scenarioRequests {
			b.Run(fmt.Sprintf("N=%d/class=%s", n, r.class), func(b *testing.B) {
				req := r.request()
				if d := set.Decide(req); d != r.want {
					b.Fatalf("Decide(%s %s) = %s, want %s", r.action, r.resource, d, r.want)
				}
				b.ReportAllocs()
				for b.Loop() {
					set.Decide(req)
				}
			})
		}
	}
}
