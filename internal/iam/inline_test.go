package iam

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// gkPolicy is a valid identity policy of exactly size characters, none of them white space.
func gkPolicy(size int) string {
	head := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::`
	tail := `"}]}`
	return head + strings.Repeat("b", size-len(head)-len(tail)) + tail
}

func TestInlineAggregateQuota(t *testing.T) {
	t.Parallel()
	f := gkNewFixture(t)
	_, err := f.svc.CreateUser(f.ctx, &iam.CreateUserInput{UserName: aws.String("u")})
	gkCheck(t, err)
	_, err = f.svc.CreateGroup(f.ctx, &iam.CreateGroupInput{GroupName: aws.String("g")})
	gkCheck(t, err)
	_, err = f.svc.CreateRole(f.ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	gkCheck(t, err)
	put := map[string]func(name, doc string) error{
		"user": func(name, doc string) error {
			_, err := f.svc.PutUserPolicy(f.ctx, &iam.PutUserPolicyInput{UserName: aws.String("u"), PolicyName: aws.String(name), PolicyDocument: aws.String(doc)})
			return err
		},
		"group": func(name, doc string) error {
			_, err := f.svc.PutGroupPolicy(f.ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("g"), PolicyName: aws.String(name), PolicyDocument: aws.String(doc)})
			return err
		},
		"role": func(name, doc string) error {
			_, err := f.svc.PutRolePolicy(f.ctx, &iam.PutRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String(name), PolicyDocument: aws.String(doc)})
			return err
		},
	}
	for _, tc := range []struct {
		owner string
		quota int
	}{
		{"user", maxUserInlinePolicySize},
		{"group", maxGroupInlinePolicySize},
		{"role", maxRoleInlinePolicySize},
	} {
		t.Run("owner="+tc.owner, func(t *testing.T) {
			p := put[tc.owner]
			half := tc.quota / 2
			gkCheck(t, p("one", gkPolicy(half)))
			steps := []struct {
				name, policy, doc, code string
			}{
				{"fills the rest exactly", "two", gkPolicy(tc.quota - half), ""},
				{"one more character", "three", gkPolicy(gkDocMinSize), "LimitExceeded"},
				{"replacing with a larger document", "TWO", gkPolicy(tc.quota - half + 1), "LimitExceeded"},
				{"replacing with the same size", "TWO", gkPolicy(tc.quota - half), ""},
				{"replacing with a smaller one frees room", "two", gkPolicy(tc.quota - half - gkDocMinSize), ""},
				{"the freed room is usable", "three", gkPolicy(gkDocMinSize), ""},
			}
			for _, s := range steps {
				err := p(s.policy, s.doc)
				if got := gkCode(t, err); got != s.code {
					t.Fatalf("%s: error %q, want %q (%v)", s.name, got, s.code, err)
				}
				if s.code == "LimitExceeded" {
					stored := map[string]string{"user": "u", "group": "g", "role": "r"}[tc.owner]
					want := fmt.Sprintf("Maximum policy size of %d bytes exceeded for %s %s", tc.quota, tc.owner, stored)
					if !strings.Contains(err.Error(), want) {
						t.Errorf("%s: %v, want message %q", s.name, err, want)
					}
				}
			}
		})
	}
}

// gkDocMinSize is comfortably above gkPolicy's fixed part.
const gkDocMinSize = 120
