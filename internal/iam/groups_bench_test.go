package iam

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// BenchmarkGetGroupPage measures one page of a group with many members: GetGroup loads every
// member to order them by name, so its cost grows with the group.
func BenchmarkGetGroupPage(b *testing.B) {
	for _, members := range []int{10, 200} {
		b.Run(fmt.Sprintf("members=%d", members), func(b *testing.B) {
			f := gkNewFixture(b)
			if _, err := f.svc.CreateGroup(f.ctx, &iam.CreateGroupInput{GroupName: aws.String("g")}); err != nil {
				b.Fatal(err)
			}
			for i := range members {
				name := aws.String(fmt.Sprintf("user%04d", i))
				if _, err := f.svc.CreateUser(f.ctx, &iam.CreateUserInput{UserName: name}); err != nil {
					b.Fatal(err)
				}
				if _, err := f.svc.AddUserToGroup(f.ctx, &iam.AddUserToGroupInput{GroupName: aws.String("g"), UserName: name}); err != nil {
					b.Fatal(err)
				}
			}
			in := &iam.GetGroupInput{GroupName: aws.String("g"), MaxItems: aws.Int32(10)}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.svc.GetGroup(f.ctx, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPutRolePolicy measures replacing an inline policy of a role that has several, which
// sums the sizes of the others for the aggregate quota.
func BenchmarkPutRolePolicy(b *testing.B) {
	f := gkNewFixture(b)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	if _, err := f.svc.CreateRole(f.ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		b.Fatal(err)
	}
	for i := range 9 {
		in := &iam.PutRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String(fmt.Sprintf("p%d", i)), PolicyDocument: aws.String(gkPolicy(1000))}
		if _, err := f.svc.PutRolePolicy(f.ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	in := &iam.PutRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("p0"), PolicyDocument: aws.String(gkPolicy(1000))}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.svc.PutRolePolicy(f.ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}
