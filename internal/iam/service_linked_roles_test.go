package iam

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/entity"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

func TestServiceLinkedRoleName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ service, suffix, want string }{
		// AWS's names, from each service's "Using service-linked roles" page.
		{"autoscaling.amazonaws.com", "", "AWSServiceRoleForAutoScaling"},
		{"autoscaling.amazonaws.com", "web", "AWSServiceRoleForAutoScaling_web"},
		{"elasticloadbalancing.amazonaws.com", "", "AWSServiceRoleForElasticLoadBalancing"},
		{"ecs.amazonaws.com", "", "AWSServiceRoleForECS"},
		{"rds.amazonaws.com", "", "AWSServiceRoleForRDS"},
		{"es.amazonaws.com", "", "AWSServiceRoleForAmazonElasticsearchService"},
		{"dynamodb.application-autoscaling.amazonaws.com", "", "AWSServiceRoleForApplicationAutoScaling_DynamoDBTable"},
		// Services IAM has no name for: the labels from the most general, capitalized; the
		// first case is AWS's own name for Lambda@Edge's replicator.
		{"replicator.lambda.amazonaws.com", "", "AWSServiceRoleForLambdaReplicator"},
		{"media-tailor.amazonaws.com", "x", "AWSServiceRoleForMediaTailor_x"},
		// Authorization names a role even for input the handler refuses.
		{"", "", "AWSServiceRoleFor"},
		{"a..-b", "", "AWSServiceRoleForBA"},
	} {
		if got := serviceLinkedRoleName(tc.service, tc.suffix); got != tc.want {
			t.Errorf("serviceLinkedRoleName(%q, %q) = %q, want %q", tc.service, tc.suffix, got, tc.want)
		}
	}
}

// TestLinkedServicesPolicies: every service-linked role IAM creates has its service's policy
// attached, so each named policy must be a shipped AWS managed policy under /aws-service-role/.
func TestLinkedServicesPolicies(t *testing.T) {
	t.Parallel()
	set, err := entity.AWSPolicies()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, l := range linkedServices() {
		if seen[l.service] || !isServicePrincipal(l.service) || !strings.HasPrefix(l.role, "AWSServiceRoleFor") || len(l.role) > maxRoleNameLength {
			t.Errorf("entry %+v: duplicate, not a service principal or not a service-linked role name", l)
		}
		seen[l.service] = true
		if l.policy != "" && set.Lookup("arn:aws:iam::aws:policy/aws-service-role/"+l.policy) == nil {
			t.Errorf("%s: policy %s is not an AWS managed policy under /aws-service-role/", l.service, l.policy)
		}
	}
}

func TestIsServicePrincipal(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		"ec2.amazonaws.com": true, "replicator.lambda.amazonaws.com": true, "eks-nodegroup.amazonaws.com": true,
		"amazonaws.com": false, ".amazonaws.com": false, "a..amazonaws.com": false, "-x.amazonaws.com": false,
		"EC2.amazonaws.com": false, "ec2": false, "ec2.amazonaws.com.cn": false, "x_y.amazonaws.com": false,
	} {
		if got := isServicePrincipal(name); got != want {
			t.Errorf("isServicePrincipal(%q) = %v", name, got)
		}
	}
}

func slrCreate(f *gkFixture, service, suffix, description string) (*iam.CreateServiceLinkedRoleOutput, error) {
	in := &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String(service)}
	if suffix != "" {
		in.CustomSuffix = aws.String(suffix)
	}
	if description != "" {
		in.Description = aws.String(description)
	}
	return f.svc.CreateServiceLinkedRole(f.ctx, in)
}

func slrRoleCount(t *testing.T, f *gkFixture) int {
	t.Helper()
	out, err := f.svc.ListRoles(f.ctx, &iam.ListRolesInput{})
	gkCheck(t, err)
	return len(out.Roles)
}

// TestCreateServiceLinkedRole: the role at /aws-service-role/SERVICE/ trusted by the service
// with its policy attached, and the refusals, none of which creates a role.
func TestCreateServiceLinkedRole(t *testing.T) {
	t.Parallel()
	f := gkNewFixture(t)
	out, err := slrCreate(f, "autoscaling.amazonaws.com", "", "scales")
	gkCheck(t, err)
	r := out.Role
	if *r.RoleName != "AWSServiceRoleForAutoScaling" || *r.Path != "/aws-service-role/autoscaling.amazonaws.com/" ||
		*r.Arn != "arn:aws:iam::"+f.account+":role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling" ||
		aws.ToString(r.Description) != "scales" || !strings.HasPrefix(*r.RoleId, "AROA") {
		t.Errorf("role = %+v", r)
	}
	doc, _ := url.QueryUnescape(*r.AssumeRolePolicyDocument)
	if want := `{"Version":"2012-10-17","Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":"autoscaling.amazonaws.com"}}]}`; doc != want {
		t.Errorf("trust policy = %s", doc)
	}
	att, err := f.svc.ListAttachedRolePolicies(f.ctx, &iam.ListAttachedRolePoliciesInput{RoleName: r.RoleName})
	gkCheck(t, err)
	if len(att.AttachedPolicies) != 1 || *att.AttachedPolicies[0].PolicyArn != "arn:aws:iam::aws:policy/aws-service-role/AutoScalingServiceRolePolicy" {
		t.Errorf("attached = %+v", att.AttachedPolicies)
	}
	sfx, err := slrCreate(f, "autoscaling.amazonaws.com", "web", "")
	gkCheck(t, err)
	if *sfx.Role.RoleName != "AWSServiceRoleForAutoScaling_web" {
		t.Errorf("with suffix: %s", *sfx.Role.RoleName)
	}
	unknown, err := slrCreate(f, "replicator.lambda.amazonaws.com", "", "")
	gkCheck(t, err)
	if *unknown.Role.Path != "/aws-service-role/replicator.lambda.amazonaws.com/" || *unknown.Role.RoleName != "AWSServiceRoleForLambdaReplicator" {
		t.Errorf("service IAM does not know: %s%s", *unknown.Role.Path, *unknown.Role.RoleName)
	}

	count := slrRoleCount(t, f)
	for _, tc := range []struct {
		name, service, suffix, msg string
	}{
		// "InvalidInput: Service role name AWSServiceRoleForECS has been taken in this account,
		// please try a different suffix." (Rayraegah/terraform-aws-hasura#17)
		{"case=taken", "autoscaling.amazonaws.com", "", "Service role name AWSServiceRoleForAutoScaling has been taken in this account, please try a different suffix."},
		{"case=taken ignoring case", "autoscaling.amazonaws.com", "WEB", "Service role name AWSServiceRoleForAutoScaling_WEB has been taken in this account, please try a different suffix."},
		// "Custom suffix is not allowed for es.amazonaws.com", CloudFormation's relay of AWS's answer.
		{"case=suffix refused", "es.amazonaws.com", "x", "Custom suffix is not allowed for es.amazonaws.com"},
		{"case=not a service", "example.com", "", "example.com is not the service principal of an AWS service that supports service-linked roles, such as elasticbeanstalk.amazonaws.com."},
		{"case=name too long", "autoscaling.amazonaws.com", strings.Repeat("s", 40), "The role name AWSServiceRoleForAutoScaling_" + strings.Repeat("s", 40) + " is longer than 64 characters; use a shorter CustomSuffix."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := slrCreate(f, tc.service, tc.suffix, "")
			if gkCode(t, err) != "InvalidInput" || err.Error() != "InvalidInput: "+tc.msg {
				t.Errorf("got %v, want InvalidInput: %s", err, tc.msg)
			}
			if n := slrRoleCount(t, f); n != count {
				t.Errorf("roles %d -> %d", count, n)
			}
		})
	}

	// CreateRole keeps the path to service-linked roles: "InvalidInput: Path prefix
	// '/aws-service-role/' can only be used for AWS Service linked Roles" (tilfin/aws-iam-policy-tool#9).
	_, err = f.svc.CreateRole(f.ctx, &iam.CreateRoleInput{RoleName: aws.String("fake"), Path: aws.String("/aws-service-role/ecs.amazonaws.com/"), AssumeRolePolicyDocument: aws.String(ipTrust)})
	if gkCode(t, err) != "InvalidInput" || err.Error() != "InvalidInput: Path prefix '/aws-service-role/' can only be used for AWS Service linked Roles" {
		t.Errorf("CreateRole under /aws-service-role/: %v", err)
	}
}

// TestServiceLinkedRoleProtected: the operations whose API reference lists
// UnmodifiableEntity refuse a service-linked role with AWS's text ("Cannot perform the
// operation on the protected role 'AWSServiceRoleForAmazonGuardDuty' - this role is only
// modifiable by AWS", rebuy-de/aws-nuke#331, #441; DetachRolePolicy in
// gruntwork-io/cloud-nuke#880) and change nothing; its description and tags may change.
func TestServiceLinkedRoleProtected(t *testing.T) {
	t.Parallel()
	f := gkNewFixture(t)
	_, err := slrCreate(f, "ecs.amazonaws.com", "", "")
	gkCheck(t, err)
	ipCreate(t, f, "p", "")
	name := aws.String("AWSServiceRoleForECS")
	policyARN := "arn:aws:iam::aws:policy/ReadOnlyAccess"
	state := func() string {
		r, err := f.svc.GetRole(f.ctx, &iam.GetRoleInput{RoleName: name})
		gkCheck(t, err)
		att, err := f.svc.ListAttachedRolePolicies(f.ctx, &iam.ListAttachedRolePoliciesInput{RoleName: name})
		gkCheck(t, err)
		in, err := f.svc.ListRolePolicies(f.ctx, &iam.ListRolePoliciesInput{RoleName: name})
		gkCheck(t, err)
		return fmt.Sprintln(*r.Role.AssumeRolePolicyDocument, aws.ToString(r.Role.Description), *r.Role.MaxSessionDuration,
			*att.AttachedPolicies[0].PolicyArn, in.PolicyNames, ipState(t, f, "p"), boundaryOf(r.Role))
	}
	before := state()
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"DeleteRole", func() error { _, err := f.svc.DeleteRole(f.ctx, &iam.DeleteRoleInput{RoleName: name}); return err }},
		{"UpdateAssumeRolePolicy", func() error {
			_, err := f.svc.UpdateAssumeRolePolicy(f.ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: name, PolicyDocument: aws.String(ipTrust)})
			return err
		}},
		{"UpdateRole MaxSessionDuration", func() error {
			_, err := f.svc.UpdateRole(f.ctx, &iam.UpdateRoleInput{RoleName: name, MaxSessionDuration: aws.Int32(7200), Description: aws.String("x")})
			return err
		}},
		{"PutRolePolicy", func() error {
			_, err := f.svc.PutRolePolicy(f.ctx, &iam.PutRolePolicyInput{RoleName: name, PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)})
			return err
		}},
		{"DeleteRolePolicy", func() error {
			_, err := f.svc.DeleteRolePolicy(f.ctx, &iam.DeleteRolePolicyInput{RoleName: name, PolicyName: aws.String("p")})
			return err
		}},
		{"AttachRolePolicy", func() error {
			_, err := f.svc.AttachRolePolicy(f.ctx, &iam.AttachRolePolicyInput{RoleName: name, PolicyArn: aws.String(policyARN)})
			return err
		}},
		{"DetachRolePolicy", func() error {
			_, err := f.svc.DetachRolePolicy(f.ctx, &iam.DetachRolePolicyInput{RoleName: name, PolicyArn: aws.String("arn:aws:iam::aws:policy/aws-service-role/AmazonECSServiceRolePolicy")})
			return err
		}},
		{"PutRolePermissionsBoundary", func() error {
			_, err := f.svc.PutRolePermissionsBoundary(f.ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: name, PermissionsBoundary: aws.String(policyARN)})
			return err
		}},
		{"DeleteRolePermissionsBoundary", func() error {
			_, err := f.svc.DeleteRolePermissionsBoundary(f.ctx, &iam.DeleteRolePermissionsBoundaryInput{RoleName: name})
			return err
		}},
		{"AddRoleToInstanceProfile", func() error { return ipAdd(f, f.ctx, "p", *name) }},
		{"RemoveRoleFromInstanceProfile", func() error {
			_, err := f.svc.RemoveRoleFromInstanceProfile(f.ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("p"), RoleName: name})
			return err
		}},
	} {
		t.Run("op="+tc.name, func(t *testing.T) {
			err := tc.call()
			if want := "UnmodifiableEntity: Cannot perform the operation on the protected role 'AWSServiceRoleForECS' - this role is only modifiable by AWS"; gkCode(t, err) != "UnmodifiableEntity" || err.Error() != want {
				t.Errorf("got %v, want %s", err, want)
			}
			if after := state(); after != before {
				t.Errorf("state changed:\n%s\n%s", before, after)
			}
		})
	}

	// Allowed: the description (UpdateRoleDescription, UpdateRole with only a description) and tags.
	_, err = f.svc.UpdateRoleDescription(f.ctx, &iam.UpdateRoleDescriptionInput{RoleName: name, Description: aws.String("one")})
	gkCheck(t, err)
	_, err = f.svc.UpdateRole(f.ctx, &iam.UpdateRoleInput{RoleName: name, Description: aws.String("two")})
	gkCheck(t, err)
	_, err = f.svc.TagRole(f.ctx, &iam.TagRoleInput{RoleName: name, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	gkCheck(t, err)
	got, err := f.svc.GetRole(f.ctx, &iam.GetRoleInput{RoleName: name})
	gkCheck(t, err)
	if aws.ToString(got.Role.Description) != "two" || len(got.Role.Tags) != 1 {
		t.Errorf("description %q, tags %v", aws.ToString(got.Role.Description), got.Role.Tags)
	}
	_, err = f.svc.UntagRole(f.ctx, &iam.UntagRoleInput{RoleName: name, TagKeys: []string{"k"}})
	gkCheck(t, err)
}

func boundaryOf(r *types.Role) string {
	if r.PermissionsBoundary == nil {
		return "no-boundary"
	}
	return *r.PermissionsBoundary.PermissionsBoundaryArn
}

// TestDeleteServiceLinkedRole: the deletion task (task/aws-service-role/SERVICE/ROLE/UUID, as
// DeleteServiceLinkedRole documents it) SUCCEEDED, the role and its attachments gone; the
// refusals change nothing.
func TestDeleteServiceLinkedRole(t *testing.T) {
	t.Parallel()
	f := gkNewFixture(t)
	_, err := slrCreate(f, "elasticbeanstalk.amazonaws.com", "", "")
	gkCheck(t, err)
	ipRole(t, f, "plain", ipTrust)
	name := "AWSServiceRoleForElasticBeanstalk"
	policyARN := "arn:aws:iam::aws:policy/aws-service-role/AWSElasticBeanstalkServiceRolePolicy"

	_, err = f.svc.DeleteServiceLinkedRole(f.ctx, &iam.DeleteServiceLinkedRoleInput{RoleName: aws.String("plain")})
	if gkCode(t, err) != "InvalidInput" || err.Error() != "InvalidInput: The role plain is not a service-linked role; delete it with DeleteRole." {
		t.Errorf("ordinary role: %v", err)
	}
	_, err = f.svc.DeleteServiceLinkedRole(f.ctx, &iam.DeleteServiceLinkedRoleInput{RoleName: aws.String("ghost")})
	if gkCode(t, err) != "NoSuchEntity" {
		t.Errorf("missing role: %v", err)
	}
	if n := slrRoleCount(t, f); n != 2 {
		t.Fatalf("refusals deleted a role: %d left", n)
	}

	out, err := f.svc.DeleteServiceLinkedRole(f.ctx, &iam.DeleteServiceLinkedRoleInput{RoleName: aws.String(strings.ToLower(name))})
	gkCheck(t, err)
	task := *out.DeletionTaskId
	if !regexp.MustCompile(`^task/aws-service-role/elasticbeanstalk\.amazonaws\.com/AWSServiceRoleForElasticBeanstalk/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(task) {
		t.Errorf("DeletionTaskId = %s", task)
	}
	st, err := f.svc.GetServiceLinkedRoleDeletionStatus(f.ctx, &iam.GetServiceLinkedRoleDeletionStatusInput{DeletionTaskId: aws.String(task)})
	gkCheck(t, err)
	if st.Status != types.DeletionTaskStatusTypeSucceeded || st.Reason != nil {
		t.Errorf("status = %s, reason %+v", st.Status, st.Reason)
	}
	if _, err := f.svc.GetRole(f.ctx, &iam.GetRoleInput{RoleName: aws.String(name)}); gkCode(t, err) != "NoSuchEntity" {
		t.Errorf("role after deletion: %v", err)
	}
	err = f.store.View(f.ctx, func(ctx context.Context, tx store.Tx) error {
		links, err := tx.LinksTo(ctx, f.account, store.LinkAttached, policyARN)
		if err == nil && len(links) > 0 {
			t.Errorf("attachments left: %v", links)
		}
		return err
	})
	gkCheck(t, err)

	for _, tc := range []struct{ name, id, code string }{
		{"task=unknown", "task/aws-service-role/elasticbeanstalk.amazonaws.com/AWSServiceRoleForElasticBeanstalk/00000000-0000-4000-8000-000000000000", "NoSuchEntity"},
		{"task=malformed", "AWSServiceRoleForElasticBeanstalk", "InvalidInput"},
		{"task=empty part", "task/aws-service-role//x/1", "InvalidInput"},
	} {
		_, err := f.svc.GetServiceLinkedRoleDeletionStatus(f.ctx, &iam.GetServiceLinkedRoleDeletionStatusInput{DeletionTaskId: aws.String(tc.id)})
		if gkCode(t, err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
	// Another account does not see the task.
	creds, err := f.svc.CreateAccount(context.Background(), AccountCredentials{})
	gkCheck(t, err)
	otherRoot := principal.NewContext(context.Background(), &principal.Principal{Type: principal.Root, Account: creds.AccountID, ARN: "arn:aws:iam::" + creds.AccountID + ":root", UserID: creds.AccountID})
	if _, err := f.svc.GetServiceLinkedRoleDeletionStatus(otherRoot, &iam.GetServiceLinkedRoleDeletionStatusInput{DeletionTaskId: aws.String(task)}); gkCode(t, err) != "NoSuchEntity" {
		t.Errorf("another account's task: %v", err)
	}
}
