package iam

import (
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/enforce"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
)

// BenchmarkAuthorizeOperation measures the server's authorization step for GetUser, the
// project's throughput target, with the caller's policies cached: root (no evaluation), an
// IAM user on itself (no store read) and on another user (one read for the target's path and
// tags), and a user whose policies read condition keys (the request context is built).
func BenchmarkAuthorizeOperation(b *testing.B) {
	f := azNew(b)
	f.user("target", "/team/", types.Tag{Key: aws.String("env"), Value: aws.String("dev")})
	plain := f.user("plain", "")
	f.inline("plain", allow("iam:GetUser", "*", ""))
	cond := f.user("cond", "")
	f.inline("cond", allow("iam:GetUser", "*", `{"StringEquals":{"iam:ResourceTag/env":"dev"},"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}`))
	grouped := f.user("grouped", "")
	_, err := f.svc.CreateGroup(f.root, &iam.CreateGroupInput{GroupName: aws.String("g")})
	f.must(err)
	_, err = f.svc.AddUserToGroup(f.root, &iam.AddUserToGroupInput{GroupName: aws.String("g"), UserName: aws.String("grouped")})
	f.must(err)
	for _, p := range []string{azReadOnly, azAdmin} {
		_, err = f.svc.AttachGroupPolicy(f.root, &iam.AttachGroupPolicyInput{GroupName: aws.String("g"), PolicyArn: aws.String(p)})
		f.must(err)
	}
	facts := &enforce.RequestFacts{SourceIP: "127.0.0.1", Region: "us-east-1", UserAgent: "bench", Time: f.now}
	target := url.Values{"UserName": {"target"}}
	for _, bc := range []struct {
		name   string
		caller *principal.Principal
		form   url.Values
	}{
		{"caller=root", principal.FromContext(f.root), target},
		{"caller=user/target=self", plain, nil},
		{"caller=user/target=other", plain, target},
		{"caller=user-with-conditions/target=other", cond, target},
		{"caller=group-member/target=other", grouped, target},
	} {
		b.Run(bc.name, func(b *testing.B) {
			if err := f.authorize(bc.caller, facts, "iam:GetUser", bc.form); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := f.authorize(bc.caller, facts, "iam:GetUser", bc.form); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
