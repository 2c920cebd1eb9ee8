package policy_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/policy"
)

// reference decides req statement by statement, without the Set's indexes: each policy's own
// Evaluate, combined as Decide promises (any Deny wins, else any Allow).
func reference(ps []*policy.Policy, req *policy.Request) policy.Decision {
	d := policy.NotApplicable
	for _, p := range ps {
		switch p.Evaluate(req).Decision {
		case policy.Denied:
			return policy.Denied
		case policy.Allowed:
			d = policy.Allowed
		}
	}
	return d
}

// TestSetIndexMatchesReference asks the scenario's 1,000 policies about resources near the
// ones they name (their own, a character more or less, other case, other buckets) and compares
// the indexed Set.Decide with the statement-by-statement reference.
func TestSetIndexMatchesReference(t *testing.T) {
	var ps []*policy.Policy
	for i := range 1000 {
		ps = append(ps, scenarioPolicy(t, i))
	}
	set := policy.NewSet(ps...)
	rng := rand.New(rand.NewPCG(3, 5))
	resources := []string{
		"arn:aws:s3:::bucket-3/x", "arn:aws:s3:::bucket-3", "arn:aws:s3:::bucket-", "arn:aws:s3:::BUCKET-3/x",
		"arn:aws:s3:::bucket-17-4/a/b", "arn:aws:s3:::bucket-170-9/k", "arn:aws:s3:::team-3/x", "arn:aws:s3:::x/protected/y",
		"arn:aws:s3:::bucket-3-shared/q", "arn:aws:dynamodb:us-east-1:111122223333:table/t-21-4",
		"arn:aws:dynamodb:us-east-1:111122223333:table/t-21-4x", "arn:aws:ec2:us-east-1:111122223333:instance/i-124",
		"arn:aws:logs:eu-west-1:111122223333:log-group:/app-3/s", "*", "", "arn", "arn:aws:s3:::",
	}
	actions := []string{"s3:GetObject", "s3:PutObject", "S3:getobject", "s3:DeleteObject", "s3:ListBucket", "s3:GetObjectAcl",
		"dynamodb:PutItem", "dynamodb:GetItem", "ec2:StartInstances", "ec2:DescribeImages", "logs:PutLogEvents", "iam:GetUser"}
	for range 5000 {
		r := scenarioRequest{action: actions[rng.IntN(len(actions))], resource: resources[rng.IntN(len(resources))]}
		switch rng.IntN(3) {
		case 0:
			r.context = map[string]string{"aws:PrincipalTag/team": "red"}
		case 1:
			r.context = map[string]string{"aws:SourceIp": "198.51.100.1"}
		}
		req := r.request()
		if got, want := set.Decide(req), reference(ps, req); got != want {
			t.Fatalf("Decide(%s on %q, %v) = %s, want %s", r.action, r.resource, r.context, got, want)
		}
	}
}

// FuzzSetIndex is the differential test of the resource index: for any policy (beside two of
// the scenario's) and any action and resource, the indexed Set.Decide equals the
// statement-by-statement reference.
func FuzzSetIndex(f *testing.F) {
	for _, cases := range loadEvalCases(f) {
		for _, c := range cases {
			f.Add(docBytes(f, c.Policy), "s3:GetObject", "arn:aws:s3:::bucket-3/reports/q1.csv")
		}
	}
	for _, r := range scenarioRequests {
		f.Add(scenarioPolicy(f, 3).Document(), r.action, r.resource)
	}
	f.Add([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":["arn:aws:s3:::a*","arn:aws:s3:::ab/${aws:username}"]}]}`), "s3:GetObject", "arn:aws:s3:::ab/alice")
	f.Add([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","NotResource":"arn:aws:s3:::x/*"}]}`), "ec2:RunInstances", "arn:aws:s3:::x/y")
	others := []*policy.Policy{scenarioPolicy(f, 0), scenarioPolicy(f, 14)}
	f.Fuzz(func(t *testing.T, doc []byte, action, resource string) {
		p, err := policy.Parse(doc, policy.Identity)
		if err != nil || strings.ContainsRune(action, 0) {
			return
		}
		ps := append([]*policy.Policy{p}, others...)
		r := scenarioRequest{action: action, resource: resource}
		req := r.request()
		req.Context.Set("aws:username", "alice")
		if got, want := policy.NewSet(ps...).Decide(req), reference(ps, req); got != want {
			t.Fatalf("Decide(%s on %q) = %s, want %s; policy %s", action, resource, got, want, doc)
		}
	})
}
