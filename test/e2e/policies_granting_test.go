package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// pgAnswer renders ListPoliciesGrantingServiceAccess as "ns: NAME/TYPE[/ARN|/ENTITY:NAME], ...".
func pgAnswer(out *iam.ListPoliciesGrantingServiceAccessOutput) string {
	var lines []string
	for _, e := range out.PoliciesGrantingServiceAccess {
		var ps []string
		for _, p := range e.Policies {
			s := aws.ToString(p.PolicyName) + "/" + string(p.PolicyType)
			if p.PolicyArn != nil {
				s += "/" + aws.ToString(p.PolicyArn)
			}
			if p.EntityName != nil {
				s += "/" + string(p.EntityType) + ":" + aws.ToString(p.EntityName)
			}
			ps = append(ps, s)
		}
		lines = append(lines, aws.ToString(e.ServiceNamespace)+": "+strings.Join(ps, ", "))
	}
	return strings.Join(lines, "\n")
}

// TestPoliciesGrantingServiceAccessSDK: through aws-sdk-go-v2, a user's answer has its own
// inline and managed policies and its group's, a group's only its own (IAM API Reference,
// ListPoliciesGrantingServiceAccess); inline policies name their entity as in the AWS CLI's
// example (PolicyType INLINE, EntityType USER, EntityName sofia); the errors of bad input; and
// the caller needs iam:ListPoliciesGrantingServiceAccess on the identity.
func TestPoliciesGrantingServiceAccessSDK(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.IAM
	doc := func(stmt string) *string { return aws.String(`{"Version":"2012-10-17","Statement":[` + stmt + `]}`) }
	pmMust[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("sofia")}))
	pmMust[*iam.PutUserPolicyOutput](t)(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("sofia"), PolicyName: aws.String("Grant-Sofia-Access-To-CodeCommit"),
		PolicyDocument: doc(`{"Effect":"Allow","Action":"codecommit:*","Resource":"*"}`)}))
	pol := pmMust[*iam.CreatePolicyOutput](t)(c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("AllButIAM"),
		PolicyDocument: doc(`{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}`)}))
	pmMust[*iam.AttachUserPolicyOutput](t)(c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("sofia"), PolicyArn: pol.Policy.Arn}))
	pmMust[*iam.CreateGroupOutput](t)(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("auditors")}))
	pmMust[*iam.AddUserToGroupOutput](t)(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("auditors"), UserName: aws.String("sofia")}))
	pmMust[*iam.PutGroupPolicyOutput](t)(c.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("auditors"), PolicyName: aws.String("ReadIAM"),
		PolicyDocument: doc(`{"Effect":"Allow","Action":["iam:Get*","iam:List*"],"Resource":"*"}`)}))
	pmMust[*iam.AttachGroupPolicyOutput](t)(c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("auditors"), PolicyArn: aws.String("arn:aws:iam::aws:policy/IAMReadOnlyAccess")}))

	list := func(cl *iam.Client, arn string, namespaces ...string) (*iam.ListPoliciesGrantingServiceAccessOutput, error) {
		return cl.ListPoliciesGrantingServiceAccess(ctx, &iam.ListPoliciesGrantingServiceAccessInput{Arn: aws.String(arn), ServiceNamespaces: namespaces})
	}
	userARN := "arn:aws:iam::" + e.Account + ":user/sofia"
	groupARN := "arn:aws:iam::" + e.Account + ":group/auditors"
	allButIAM := "AllButIAM/MANAGED/" + aws.ToString(pol.Policy.Arn)
	iamRO := "IAMReadOnlyAccess/MANAGED/arn:aws:iam::aws:policy/IAMReadOnlyAccess"
	for _, tc := range []struct{ name, arn, want string }{
		{"user", userARN, "codecommit: Grant-Sofia-Access-To-CodeCommit/INLINE/USER:sofia, " + allButIAM + "\n" +
			"iam: ReadIAM/INLINE/GROUP:auditors, " + iamRO + "\n" +
			"s3: " + allButIAM},
		{"group", groupARN, "codecommit: \niam: ReadIAM/INLINE/GROUP:auditors, " + iamRO + "\ns3: "},
	} {
		out := pmMust[*iam.ListPoliciesGrantingServiceAccessOutput](t)(list(c, tc.arn, "codecommit", "iam", "s3"))
		if got := pgAnswer(out); got != tc.want || out.IsTruncated {
			t.Errorf("%s:\n%s\nwant:\n%s", tc.name, got, tc.want)
		}
	}

	// More than 100 namespaces come in pages.
	var many []string
	for i := range 120 {
		many = append(many, fmt.Sprintf("svc%d", i))
	}
	first := pmMust[*iam.ListPoliciesGrantingServiceAccessOutput](t)(c.ListPoliciesGrantingServiceAccess(ctx, &iam.ListPoliciesGrantingServiceAccessInput{Arn: aws.String(userARN), ServiceNamespaces: many}))
	second := pmMust[*iam.ListPoliciesGrantingServiceAccessOutput](t)(c.ListPoliciesGrantingServiceAccess(ctx, &iam.ListPoliciesGrantingServiceAccessInput{Arn: aws.String(userARN), ServiceNamespaces: many, Marker: first.Marker}))
	if len(first.PoliciesGrantingServiceAccess) != 100 || !first.IsTruncated || len(second.PoliciesGrantingServiceAccess) != 20 || second.IsTruncated ||
		aws.ToString(second.PoliciesGrantingServiceAccess[0].ServiceNamespace) != "svc100" {
		t.Errorf("pages of %d and %d, truncated %v %v", len(first.PoliciesGrantingServiceAccess), len(second.PoliciesGrantingServiceAccess), first.IsTruncated, second.IsTruncated)
	}

	nobody, _ := e.newUser(t, "nobody")
	auditor := certPolicyUser(t, e, "auditor", `{"Effect":"Allow","Action":"iam:ListPoliciesGrantingServiceAccess","Resource":"arn:aws:iam::*:user/*"}`)
	_, other, _ := e.newAccount(t)
	failing := func(cl *iam.Client, arn string, namespaces ...string) func() error {
		return func() error { _, err := list(cl, arn, namespaces...); return err }
	}
	pmFailNoChange(t, func() string {
		out := pmMust[*iam.ListPoliciesGrantingServiceAccessOutput](t)(list(c, userARN, "codecommit", "iam", "s3"))
		return pgAnswer(out)
	}, []pmCase{
		// The model's Arn is 20 to 2048 characters; a shorter value is a ValidationError.
		{"too short for an ARN", "ValidationError", "Value 'sofia' at 'arn' failed to satisfy constraint", failing(c, "sofia", "s3")},
		{"not an ARN", "InvalidInput", "ARN users/sofia/in/the/account is not valid.", failing(c, "users/sofia/in/the/account", "s3")},
		{"a policy ARN", "InvalidInput", "takes the ARN of an IAM user, group or role", failing(c, aws.ToString(pol.Policy.Arn), "s3")},
		{"a missing user", "NoSuchEntity", "The user with name ghost cannot be found.", failing(c, "arn:aws:iam::"+e.Account+":user/ghost", "s3")},
		{"a missing role", "NoSuchEntity", "The role with name ghost cannot be found.", failing(c, "arn:aws:iam::"+e.Account+":role/ghost", "s3")},
		{"more than 200 namespaces", "ValidationError", "serviceNamespaces", failing(c, userARN, append(many, many...)...)},
		{"a namespace with bad characters", "ValidationError", "serviceNamespaces", failing(c, userARN, "s3!")},
		{"a marker not issued", "ValidationError", "Invalid Marker.", func() error {
			_, err := c.ListPoliciesGrantingServiceAccess(ctx, &iam.ListPoliciesGrantingServiceAccessInput{Arn: aws.String(userARN), ServiceNamespaces: []string{"s3"}, Marker: aws.String("bogus!")})
			return err
		}},
		{"without permission", "AccessDenied", "User: arn:aws:iam::" + e.Account + ":user/nobody is not authorized to perform: iam:ListPoliciesGrantingServiceAccess on resource: " + userARN, failing(nobody, userARN, "s3")},
		{"a group outside the policy's Resource", "AccessDenied", "on resource: " + groupARN, failing(auditor, groupARN, "s3")},
		{"another account's user", "AccessDenied", "", failing(other, userARN, "s3")},
	})
	out := pmMust[*iam.ListPoliciesGrantingServiceAccessOutput](t)(list(auditor, userARN, "codecommit"))
	if got := pgAnswer(out); !strings.HasPrefix(got, "codecommit: Grant-Sofia-Access-To-CodeCommit/INLINE/USER:sofia") {
		t.Errorf("as the auditor: %s", got)
	}
}
