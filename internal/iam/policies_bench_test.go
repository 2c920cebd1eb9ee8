package iam

import (
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// polBenchFixture is an account with 50 customer-managed policies, 100 users (10 with a
// boundary) and AdministratorAccess attached to one of them.
func polBenchFixture(b *testing.B) *polFixture {
	f := newPolFixture(b)
	for i := range 50 {
		if _, err := f.svc.CreatePolicy(f.ctx, &iam.CreatePolicyInput{PolicyName: aws.String("p" + strconv.Itoa(i)), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)}); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 100 {
		in := &iam.CreateUserInput{UserName: aws.String("u" + strconv.Itoa(i))}
		if i%10 == 0 {
			in.PermissionsBoundary = aws.String("arn:aws:iam::" + f.account + ":policy/p1")
		}
		if _, err := f.svc.CreateUser(f.ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := f.svc.AttachUserPolicy(f.ctx, &iam.AttachUserPolicyInput{UserName: aws.String("u1"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}); err != nil {
		b.Fatal(err)
	}
	return f
}

// BenchmarkListPolicies measures the first page of the merged list, the aws CLI's default call.
func BenchmarkListPolicies(b *testing.B) {
	f := polBenchFixture(b)
	for b.Loop() {
		if _, err := f.svc.ListPolicies(f.ctx, &iam.ListPoliciesInput{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkListPoliciesOnlyAttached measures the worst case: every AWS-managed policy is
// checked for attachments to fill one page.
func BenchmarkListPoliciesOnlyAttached(b *testing.B) {
	f := polBenchFixture(b)
	for b.Loop() {
		if _, err := f.svc.ListPolicies(f.ctx, &iam.ListPoliciesInput{OnlyAttached: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetPolicy measures GetPolicy of an AWS-managed policy, counts included.
func BenchmarkGetPolicy(b *testing.B) {
	f := polBenchFixture(b)
	in := &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}
	for b.Loop() {
		if _, err := f.svc.GetPolicy(f.ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}
