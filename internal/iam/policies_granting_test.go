package iam

import (
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gatehouse-iam/gatehouse/internal/servicedata"
	"github.com/gatehouse-iam/gatehouse/policy"
)

func pgDoc(statements ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`
}

// pgAnswer renders an answer as "ns: NAME/TYPE[/ENTITYTYPE:ENTITYNAME|/ARN], ..." lines.
func pgAnswer(out *iam.ListPoliciesGrantingServiceAccessOutput) []string {
	var lines []string
	for _, e := range out.PoliciesGrantingServiceAccess {
		var ps []string
		for _, p := range e.Policies {
			s := *p.PolicyName + "/" + string(p.PolicyType)
			if p.PolicyArn != nil {
				s += "/" + *p.PolicyArn
			}
			if p.EntityName != nil {
				s += "/" + string(p.EntityType) + ":" + *p.EntityName
			}
			ps = append(ps, s)
		}
		lines = append(lines, *e.ServiceNamespace+": "+strings.Join(ps, ", "))
	}
	return lines
}

// TestPoliciesGrantingServiceAccess: a user's answer has its own inline and managed policies
// and its groups' (IAM API Reference, ListPoliciesGrantingServiceAccess: "User – ... also
// includes any additional managed and inline policies that are attached to the group to which
// the user belongs"; inline policies name their entity, as in the AWS CLI's example, managed
// ones their ARN); a group's and a role's only their own; boundaries are never listed.
func TestPoliciesGrantingServiceAccess(t *testing.T) {
	t.Parallel()
	f := gkNewFixture(t)
	ctx := f.ctx
	must := func(_ any, err error) { t.Helper(); gkCheck(t, err) }
	must(f.svc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("sofia"), Path: aws.String("/eng/")}))
	must(f.svc.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("sofia"), PolicyName: aws.String("Grant-Sofia-Access-To-CodeCommit"),
		PolicyDocument: aws.String(pgDoc(`{"Effect":"Allow","Action":"codecommit:*","Resource":"*"}`))}))
	must(f.svc.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("sofia"), PolicyName: aws.String("DenyOnly"),
		PolicyDocument: aws.String(pgDoc(`{"Effect":"Deny","Action":"s3:*","Resource":"*"}`))}))
	s3Read, err := f.svc.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("S3Read"),
		PolicyDocument: aws.String(pgDoc(`{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}`))})
	gkCheck(t, err)
	s3ARN := *s3Read.Policy.Arn
	notIAM, err := f.svc.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("AllButIAM"), Path: aws.String("/team/"),
		PolicyDocument: aws.String(pgDoc(`{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}`))})
	gkCheck(t, err)
	notIAMARN := *notIAM.Policy.Arn
	must(f.svc.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("sofia"), PolicyArn: aws.String(s3ARN)}))
	boundary, err := f.svc.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("Boundary"), PolicyDocument: aws.String(pgDoc(`{"Effect":"Allow","Action":"*","Resource":"*"}`))})
	gkCheck(t, err)
	must(f.svc.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("sofia"), PermissionsBoundary: boundary.Policy.Arn}))

	must(f.svc.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")}))
	must(f.svc.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String("sofia")}))
	must(f.svc.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("devs"), PolicyName: aws.String("IAMSelf"),
		PolicyDocument: aws.String(pgDoc(`{"Effect":"Allow","Action":"IAM:getuser","Resource":"*"}`, `{"Effect":"Allow","Action":"s3:Nope*","Resource":"*"}`))}))
	must(f.svc.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: aws.String(s3ARN)})) // listed once
	must(f.svc.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}))
	must(f.svc.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("admins")}))
	must(f.svc.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("admins"), UserName: aws.String("sofia")}))
	must(f.svc.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("admins"), PolicyArn: aws.String(notIAMARN)}))

	must(f.svc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("app"), AssumeRolePolicyDocument: aws.String(ipTrust)}))
	must(f.svc.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("app"), PolicyName: aws.String("Everything"),
		PolicyDocument: aws.String(pgDoc(`{"Effect":"Allow","Action":"*","Resource":"*"}`))}))

	user := "arn:aws:iam::" + f.account + ":user/eng/sofia"
	group := "arn:aws:iam::" + f.account + ":group/devs"
	role := "arn:aws:iam::" + f.account + ":role/app"
	ro := "ReadOnlyAccess/MANAGED/arn:aws:iam::aws:policy/ReadOnlyAccess"
	for _, tc := range []struct {
		name       string
		arn        string
		namespaces []string
		want       []string
	}{
		{"user", user, []string{"codecommit", "s3", "iam", "notaservice"}, []string{
			"codecommit: Grant-Sofia-Access-To-CodeCommit/INLINE/USER:sofia, AllButIAM/MANAGED/" + notIAMARN + ", " + ro,
			"s3: S3Read/MANAGED/" + s3ARN + ", AllButIAM/MANAGED/" + notIAMARN + ", " + ro,
			"iam: IAMSelf/INLINE/GROUP:devs, " + ro,
			"notaservice: AllButIAM/MANAGED/" + notIAMARN,
		}},
		{"group", group, []string{"s3", "iam", "codecommit"}, []string{
			"s3: S3Read/MANAGED/" + s3ARN + ", " + ro,
			"iam: IAMSelf/INLINE/GROUP:devs, " + ro,
			"codecommit: " + ro,
		}},
		{"role", role, []string{"ec2", "EC2", "made-up"}, []string{
			"ec2: Everything/INLINE/ROLE:app", "EC2: Everything/INLINE/ROLE:app", "made-up: Everything/INLINE/ROLE:app",
		}},
		{"nothing", role, []string{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := f.svc.ListPoliciesGrantingServiceAccess(ctx, &iam.ListPoliciesGrantingServiceAccessInput{Arn: aws.String(tc.arn), ServiceNamespaces: tc.namespaces})
			gkCheck(t, err)
			if got := pgAnswer(out); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("answer:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if out.IsTruncated || out.Marker != nil {
				t.Errorf("IsTruncated %v, Marker %v", out.IsTruncated, out.Marker)
			}
		})
	}
}

// TestPoliciesGrantingServiceAccessErrors: NoSuchEntity and InvalidInput are the errors the
// API reference lists. "ARN x is not valid." is AWS's text for a value that is not an ARN (as
// IAM answers for policy ARNs); the NoSuchEntity texts are AWS's for a missing user, group or
// role.
func TestPoliciesGrantingServiceAccessErrors(t *testing.T) {
	t.Parallel()
	f := gkNewFixture(t)
	_, err := f.svc.CreateUser(f.ctx, &iam.CreateUserInput{UserName: aws.String("bob"), Path: aws.String("/p/")})
	gkCheck(t, err)
	acct := "arn:aws:iam::" + f.account + ":"
	for _, tc := range []struct {
		arn, code, msg string
	}{
		{"bob", "InvalidInput", "ARN bob is not valid."},
		{acct + "policy/x", "InvalidInput", "Invalid ARN " + acct + "policy/x: ListPoliciesGrantingServiceAccess takes the ARN of an IAM user, group or role (arn:aws:iam::ACCOUNT:user/NAME)."},
		{"arn:aws:s3:::bucket", "InvalidInput", ""},
		{"arn:aws:iam::12:user/bob", "InvalidInput", ""},
		{acct + "user/", "InvalidInput", ""},
		{acct + "user/nobody", "NoSuchEntity", "The user with name nobody cannot be found."},
		{acct + "user/bob", "NoSuchEntity", "The user with name bob cannot be found."}, // its path is /p/
		{acct + "group/g", "NoSuchEntity", "The group with name g cannot be found."},
		{acct + "role/r", "NoSuchEntity", "The role with name r cannot be found."},
		{"arn:aws:iam::999999999999:user/p/bob", "NoSuchEntity", ""},
	} {
		t.Run(tc.arn, func(t *testing.T) {
			_, err := f.svc.ListPoliciesGrantingServiceAccess(f.ctx, &iam.ListPoliciesGrantingServiceAccessInput{Arn: aws.String(tc.arn), ServiceNamespaces: []string{"s3"}})
			if got := gkCode(t, err); got != tc.code {
				t.Fatalf("code %q (%v), want %s", got, err, tc.code)
			}
			if tc.msg != "" && !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("message %q, want %q", err.Error(), tc.msg)
			}
		})
	}
	_, err = f.svc.ListPoliciesGrantingServiceAccess(f.ctx, &iam.ListPoliciesGrantingServiceAccessInput{Arn: aws.String(acct + "user/p/bob"), ServiceNamespaces: []string{"s3"}})
	gkCheck(t, err)
}

// TestPoliciesGrantingServiceAccessPaging: more than 100 namespaces come in pages; a Marker
// this server did not issue is "Invalid Marker." (ValidationError).
func TestPoliciesGrantingServiceAccessPaging(t *testing.T) {
	t.Parallel()
	f := gkNewFixture(t)
	_, err := f.svc.CreateRole(f.ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(ipTrust)})
	gkCheck(t, err)
	roleARN := "arn:aws:iam::" + f.account + ":role/r"
	var all []string
	for i := range 150 {
		all = append(all, fmt.Sprintf("svc%03d", i))
	}
	var got []string
	var marker *string
	for page := 0; ; page++ {
		out, err := f.svc.ListPoliciesGrantingServiceAccess(f.ctx, &iam.ListPoliciesGrantingServiceAccessInput{Arn: aws.String(roleARN), ServiceNamespaces: all, Marker: marker})
		gkCheck(t, err)
		for _, e := range out.PoliciesGrantingServiceAccess {
			if e.Policies == nil || len(e.Policies) != 0 {
				t.Errorf("%s: policies %v, want an empty list", *e.ServiceNamespace, e.Policies)
			}
			got = append(got, *e.ServiceNamespace)
		}
		if wantTrunc := page == 0; out.IsTruncated != wantTrunc || (out.Marker != nil) != wantTrunc {
			t.Fatalf("page %d: IsTruncated %v Marker %v", page, out.IsTruncated, out.Marker)
		}
		if !out.IsTruncated {
			break
		}
		marker = out.Marker
	}
	if !reflect.DeepEqual(got, all) {
		t.Errorf("namespaces over the pages: %d, want %d in order", len(got), len(all))
	}
	for _, m := range []string{"bogus!", *encodeMarker("0"), *encodeMarker("150"), *encodeMarker("007"), *encodeMarker("x")} {
		_, err := f.svc.ListPoliciesGrantingServiceAccess(f.ctx, &iam.ListPoliciesGrantingServiceAccessInput{Arn: aws.String(roleARN), ServiceNamespaces: all, Marker: aws.String(m)})
		if gkCode(t, err) != "ValidationError" || !strings.Contains(err.Error(), "Invalid Marker.") {
			t.Errorf("marker %q: %v, want ValidationError Invalid Marker.", m, err)
		}
	}
}

// TestGrantsService is the rule for a statement, one case each.
func TestGrantsService(t *testing.T) {
	t.Parallel()
	ref, err := servicedata.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		stmt string
		ns   string
		want bool
	}{
		{`"Effect":"Allow","Action":"*"`, "s3", true},
		{`"Effect":"Allow","Action":"*"`, "unknownsvc", true},
		{`"Effect":"Allow","Action":"s3:*"`, "s3", true},
		{`"Effect":"Allow","Action":"s3:*"`, "s3express", false},
		{`"Effect":"Allow","Action":"S3:getobject"`, "s3", true},
		{`"Effect":"Allow","Action":"s3:GetObj?ct"`, "s3", true},
		{`"Effect":"Allow","Action":"s3:Nope*"`, "s3", false},
		{`"Effect":"Allow","Action":"ec2:*"`, "s3", false},
		{`"Effect":"Allow","Action":"unknownsvc:Do"`, "unknownsvc", false},
		{`"Effect":"Allow","Action":"unknownsvc:**"`, "unknownsvc", true},
		{`"Effect":"Deny","Action":"*"`, "s3", false},
		{`"Effect":"Allow","NotAction":"iam:*"`, "s3", true},
		{`"Effect":"Allow","NotAction":"iam:*"`, "iam", false},
		{`"Effect":"Allow","NotAction":"*"`, "iam", false},
		{`"Effect":"Allow","NotAction":["s3:Get*","s3:Put*"]`, "s3", true},
		{`"Effect":"Allow","NotAction":"unknownsvc:Do"`, "unknownsvc", true},
		{`"Effect":"Allow","NotAction":"unknownsvc:*"`, "unknownsvc", false},
		{`"Effect":"Deny","NotAction":"iam:*"`, "s3", false},
	} {
		t.Run(tc.stmt+" "+tc.ns, func(t *testing.T) {
			p := policy.MustParse(pgDoc(`{`+tc.stmt+`,"Resource":"*"}`), policy.Identity)
			if got := grantsService(p, tc.ns, serviceActions(ref, tc.ns)); got != tc.want {
				t.Errorf("grants %s = %v, want %v", tc.ns, got, tc.want)
			}
		})
	}
}

// TestPoliciesGrantingServiceAccessAuthorization: the caller needs
// iam:ListPoliciesGrantingServiceAccess on the identity's ARN (Service Authorization
// Reference: resource types user, group and role).
func TestPoliciesGrantingServiceAccessAuthorization(t *testing.T) {
	t.Parallel()
	f := azNew(t)
	p := f.user("auditor", "")
	f.user("target", "/x/")
	form := url.Values{"Arn": {"arn:aws:iam::" + f.account + ":user/x/target"}, "ServiceNamespaces.member.1": {"s3"}}
	if err := f.authorize(p, nil, "iam:ListPoliciesGrantingServiceAccess", form); azCode(err) != "AccessDenied" ||
		!strings.Contains(err.Error(), "iam:ListPoliciesGrantingServiceAccess on resource: arn:aws:iam::"+f.account+":user/x/target") {
		t.Fatalf("without a policy: %v, want AccessDenied naming the action and the user's ARN", err)
	}
	f.inline("auditor", pgDoc(`{"Effect":"Allow","Action":"iam:ListPoliciesGrantingServiceAccess","Resource":"arn:aws:iam::*:user/x/*"}`))
	f.must(f.authorize(p, nil, "iam:ListPoliciesGrantingServiceAccess", form))
	other := url.Values{"Arn": {"arn:aws:iam::" + f.account + ":role/r"}, "ServiceNamespaces.member.1": {"s3"}}
	if err := f.authorize(p, nil, "iam:ListPoliciesGrantingServiceAccess", other); azCode(err) != "AccessDenied" {
		t.Fatalf("a role outside the Resource: %v, want AccessDenied", err)
	}
}

// BenchmarkPoliciesGrantingServiceAccess: 200 namespaces against AWS's ReadOnlyAccess, which
// names most services' actions.
func BenchmarkPoliciesGrantingServiceAccess(b *testing.B) {
	f := gkNewFixture(b)
	_, err := f.svc.CreateRole(f.ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(ipTrust)})
	if err != nil {
		b.Fatal(err)
	}
	_, err = f.svc.AttachRolePolicy(f.ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")})
	if err != nil {
		b.Fatal(err)
	}
	namespaces := []string{"ec2", "s3", "iam", "dynamodb", "lambda", "rds", "sts", "kms", "sqs", "sns"}
	for len(namespaces) < 200 {
		namespaces = append(namespaces, namespaces[len(namespaces)%10])
	}
	in := &iam.ListPoliciesGrantingServiceAccessInput{Arn: aws.String("arn:aws:iam::" + f.account + ":role/r"), ServiceNamespaces: namespaces}
	for b.Loop() {
		out, err := f.svc.ListPoliciesGrantingServiceAccess(f.ctx, in)
		if err != nil || len(out.PoliciesGrantingServiceAccess[0].Policies) != 1 {
			b.Fatalf("%v %v", out, err)
		}
	}
}
