package authz_test

import (
	"fmt"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// benchRequest is a user with n identity policies (one of them allowing iam:GetUser, the rest
// about other services) calling iam:GetUser in its own account.
func benchRequest(b *testing.B, n int) *authz.Request {
	b.Helper()
	var ps []*policy.Policy
	for i := range n - 1 {
		ps = append(ps, policy.MustParse(fmt.Sprintf(`{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["svc%d:Get*","svc%d:List*"],"Resource":"*"},
			{"Effect":"Deny","Action":"svc%d:Delete*","Resource":"*"}]}`, i, i, i), policy.Identity))
	}
	ps = append(ps, policy.MustParse(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["iam:GetUser","iam:ListUsers"],"Resource":"arn:aws:iam::111122223333:user/*"}]}`, policy.Identity))
	c, err := authz.ParseCaller("arn:aws:iam::111122223333:user/alice")
	if err != nil {
		b.Fatal(err)
	}
	return &authz.Request{Caller: c, Action: "iam:GetUser", Resource: "arn:aws:iam::111122223333:user/bob",
		Context: &policy.Context{}, Identity: authz.NewPolicies(ps, nil)}
}

func BenchmarkEvaluateIdentityAllowed(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("policies=%d", n), func(b *testing.B) {
			req := benchRequest(b, n)
			b.ReportAllocs()
			for b.Loop() {
				if authz.Evaluate(req).Decision != authz.Allowed {
					b.Fatal("not allowed")
				}
			}
		})
	}
}

func BenchmarkEvaluateImplicitDeny(b *testing.B) {
	req := benchRequest(b, 10)
	req.Action = "iam:DeleteUser"
	b.ReportAllocs()
	for b.Loop() {
		if authz.Evaluate(req).Decision != authz.ImplicitDeny {
			b.Fatal("not denied")
		}
	}
}

// BenchmarkEvaluateFull has every policy type: boundary, session, resource policy, three SCP
// levels and an RCP level.
func BenchmarkEvaluateFull(b *testing.B) {
	req := benchRequest(b, 10)
	full := policy.MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, policy.Identity)
	one := func(p *policy.Policy) *authz.Policies { return authz.NewPolicies([]*policy.Policy{p}, nil) }
	req.Boundary = one(policy.MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}`, policy.Identity))
	req.Session = one(full)
	req.ResourcePolicy = one(policy.MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"iam:Get*","Resource":"*"}]}`, policy.Resource))
	req.SCPs = []*authz.Policies{one(full), one(full), one(full)}
	req.RCPs = []*authz.Policies{one(policy.MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}`, policy.RCP))}
	b.ReportAllocs()
	for b.Loop() {
		if authz.Evaluate(req).Decision != authz.Allowed {
			b.Fatal("not allowed")
		}
	}
}

func BenchmarkExplain(b *testing.B) {
	req := benchRequest(b, 10)
	b.ReportAllocs()
	for b.Loop() {
		if authz.Explain(req).Decision != authz.Allowed {
			b.Fatal("not allowed")
		}
	}
}
