package e2e

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
)

const ipEC2Trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// ipState is what the instance profile tests observe of an account: every profile with its
// path, roles and tags, and the account's roles.
func ipState(t *testing.T, c *iam.Client) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	pages := iam.NewListInstanceProfilesPaginator(c, &iam.ListInstanceProfilesInput{})
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		pmOK(t, err)
		for _, p := range out.InstanceProfiles {
			tags, err := c.ListInstanceProfileTags(ctx, &iam.ListInstanceProfileTagsInput{InstanceProfileName: p.InstanceProfileName})
			pmOK(t, err)
			var roles []string
			for _, r := range p.Roles {
				roles = append(roles, aws.ToString(r.RoleName))
			}
			fmt.Fprintf(&b, "%s roles=%v tags=%s; ", aws.ToString(p.Arn), roles, pmTagString(tags.Tags))
		}
	}
	roles, err := c.ListRoles(ctx, &iam.ListRolesInput{})
	pmOK(t, err)
	for _, r := range roles.Roles {
		b.WriteString(aws.ToString(r.Arn) + " ")
	}
	return b.String()
}

// TestInstanceProfilesSDK drives instance profiles through aws-sdk-go-v2: create with a path
// and tags, get, list by path prefix in pages, the one-role limit, ListInstanceProfilesForRole,
// tags, removal and deletion, with AWS's errors (sources of the texts in internal/iam's
// instance_profiles_test.go: moto#6404 for the quota, 99designs/iamy#47 and #68 for the
// DeleteConflict text), none of which changes anything.
func TestInstanceProfilesSDK(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.IAM
	for _, r := range []string{"web", "other"} {
		pmMust[*iam.CreateRoleOutput](t)(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(r), AssumeRolePolicyDocument: aws.String(ipEC2Trust)}))
	}
	for i := range 5 {
		pmMust[*iam.CreateInstanceProfileOutput](t)(c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{
			InstanceProfileName: aws.String(fmt.Sprintf("team-%d", i)), Path: aws.String("/team/")}))
	}
	created := pmMust[*iam.CreateInstanceProfileOutput](t)(c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{
		InstanceProfileName: aws.String("WebProfile"), Path: aws.String("/app/"), Tags: pmTags("team", "web", "Env", "prod")}))
	p := created.InstanceProfile
	if aws.ToString(p.Arn) != "arn:aws:iam::"+e.Account+":instance-profile/app/WebProfile" || !strings.HasPrefix(aws.ToString(p.InstanceProfileId), "AIPA") ||
		p.Roles == nil || len(p.Roles) != 0 || pmTagString(p.Tags) != "Env=prod,team=web" {
		t.Fatalf("created %+v roles %v tags %s", p, p.Roles, pmTagString(p.Tags))
	}

	// ListInstanceProfiles under a path prefix, two at a time through the SDK's paginator.
	var names []string
	pages := iam.NewListInstanceProfilesPaginator(c, &iam.ListInstanceProfilesInput{PathPrefix: aws.String("/team/"), MaxItems: aws.Int32(2)})
	for n := 0; pages.HasMorePages(); n++ {
		out, err := pages.NextPage(ctx)
		pmOK(t, err)
		if len(out.InstanceProfiles) > 2 || (out.IsTruncated != (n < 2)) {
			t.Fatalf("page %d: %d profiles, IsTruncated %v", n, len(out.InstanceProfiles), out.IsTruncated)
		}
		for _, ip := range out.InstanceProfiles {
			names = append(names, aws.ToString(ip.InstanceProfileName))
		}
	}
	if got := strings.Join(names, ","); got != "team-0,team-1,team-2,team-3,team-4" {
		t.Fatalf("ListInstanceProfiles /team/: %s", got)
	}

	pmMust[*iam.AddRoleToInstanceProfileOutput](t)(c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("webprofile"), RoleName: aws.String("WEB")}))
	got := pmMust[*iam.GetInstanceProfileOutput](t)(c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("WebProfile")}))
	if r := got.InstanceProfile.Roles; len(r) != 1 || aws.ToString(r[0].RoleName) != "web" || aws.ToString(r[0].Arn) != "arn:aws:iam::"+e.Account+":role/web" {
		t.Fatalf("roles after add: %+v", r)
	}
	if doc, _ := url.QueryUnescape(aws.ToString(got.InstanceProfile.Roles[0].AssumeRolePolicyDocument)); doc != ipEC2Trust {
		t.Errorf("role's trust policy in the profile: %s", doc)
	}

	add := func(profile, role string) func() error {
		return func() error {
			_, err := c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(profile), RoleName: aws.String(role)})
			return err
		}
	}
	quota := "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1"
	conflict := "Cannot delete entity, must remove roles from instance profile first."
	pmFailNoChange(t, func() string { return ipState(t, c) }, []pmCase{
		{"a second role", "LimitExceeded", quota, add("WebProfile", "other")},
		{"the same role again", "LimitExceeded", quota, add("WebProfile", "web")},
		{"a missing role", "NoSuchEntity", "The role with name ghost cannot be found.", add("WebProfile", "ghost")},
		{"to a missing profile", "NoSuchEntity", "Instance Profile nope cannot be found.", add("nope", "web")},
		{"delete the profile with its role", "DeleteConflict", conflict, func() error {
			_, err := c.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("WebProfile")})
			return err
		}},
		{"delete the role in the profile", "DeleteConflict", conflict, func() error {
			_, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("web")})
			return err
		}},
		{"remove a role not in the profile", "NoSuchEntity", "The role with name other is not in instance profile WebProfile.", func() error {
			_, err := c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("WebProfile"), RoleName: aws.String("other")})
			return err
		}},
		{"create a taken name", "EntityAlreadyExists", "Instance Profile WEBPROFILE already exists.", func() error {
			_, err := c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("WEBPROFILE")})
			return err
		}},
		{"create with a bad path", "ValidationError", "The specified value for path is invalid.", func() error {
			_, err := c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("x"), Path: aws.String("/no-end")})
			return err
		}},
		{"tag with a reserved key", "InvalidInput", "", func() error {
			_, err := c.TagInstanceProfile(ctx, &iam.TagInstanceProfileInput{InstanceProfileName: aws.String("WebProfile"), Tags: pmTags("aws:x", "1")})
			return err
		}},
		{"tags of a missing profile", "NoSuchEntity", "Instance Profile ghost cannot be found.", func() error {
			_, err := c.ListInstanceProfileTags(ctx, &iam.ListInstanceProfileTagsInput{InstanceProfileName: aws.String("ghost")})
			return err
		}},
		{"profiles of a missing role", "NoSuchEntity", "The role with name ghost cannot be found.", func() error {
			_, err := c.ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String("ghost")})
			return err
		}},
		{"a marker not issued", "ValidationError", "Invalid Marker.", func() error {
			_, err := c.ListInstanceProfiles(ctx, &iam.ListInstanceProfilesInput{Marker: aws.String("bogus!")})
			return err
		}},
	})

	// ListInstanceProfilesForRole, one at a time; its entries leave tags out.
	pmOK(t, add("team-1", "web")())
	pmOK(t, add("team-3", "web")())
	names = nil
	roles := iam.NewListInstanceProfilesForRolePaginator(c, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String("web"), MaxItems: aws.Int32(1)})
	for roles.HasMorePages() {
		out, err := roles.NextPage(ctx)
		pmOK(t, err)
		for _, ip := range out.InstanceProfiles {
			if ip.Tags != nil {
				t.Errorf("%s listed with tags", aws.ToString(ip.InstanceProfileName))
			}
			names = append(names, aws.ToString(ip.InstanceProfileName))
		}
	}
	if got := strings.Join(names, ","); got != "team-1,team-3,WebProfile" { // in name order, case-insensitively
		t.Fatalf("ListInstanceProfilesForRole: %s", got)
	}

	// Tags: sorted by key, case-sensitively; a key differing only in case overwrites.
	pmMust[*iam.TagInstanceProfileOutput](t)(c.TagInstanceProfile(ctx, &iam.TagInstanceProfileInput{InstanceProfileName: aws.String("WebProfile"), Tags: pmTags("TEAM", "ops", "a", "1")}))
	pmMust[*iam.UntagInstanceProfileOutput](t)(c.UntagInstanceProfile(ctx, &iam.UntagInstanceProfileInput{InstanceProfileName: aws.String("WebProfile"), TagKeys: []string{"env", "missing"}}))
	tags := pmMust[*iam.ListInstanceProfileTagsOutput](t)(c.ListInstanceProfileTags(ctx, &iam.ListInstanceProfileTagsInput{InstanceProfileName: aws.String("WebProfile")}))
	if got := pmTagString(tags.Tags); got != "TEAM=ops,a=1" {
		t.Errorf("tags: %s", got)
	}

	// Remove, then both can go.
	for _, name := range []string{"WebProfile", "team-1", "team-3"} {
		pmMust[*iam.RemoveRoleFromInstanceProfileOutput](t)(c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String(name), RoleName: aws.String("web")}))
	}
	pmMust[*iam.DeleteInstanceProfileOutput](t)(c.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("WebProfile")}))
	pmMust[*iam.DeleteRoleOutput](t)(c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("web")}))
	_, err := c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("WebProfile")})
	pmErr(t, err, "NoSuchEntity", "Instance Profile WebProfile cannot be found.")
}

// TestInstanceProfilesAuthorizationSDK: a user needs iam:AddRoleToInstanceProfile on the
// profile and iam:PassRole on the role, passed to EC2 (AddRoleToInstanceProfile: "The caller
// of this operation must be granted the PassRole permission on the IAM role by a permissions
// policy"); AccessDenied names "instance profile NAME" as AWS does; denied calls change
// nothing.
func TestInstanceProfilesAuthorizationSDK(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.IAM
	pmMust[*iam.CreateRoleOutput](t)(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("app"), Path: aws.String("/svc/"), AssumeRolePolicyDocument: aws.String(ipEC2Trust)}))
	pmMust[*iam.CreateInstanceProfileOutput](t)(c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("p")}))
	roleARN := "arn:aws:iam::" + e.Account + ":role/svc/app"
	profileARN := "arn:aws:iam::" + e.Account + ":instance-profile/p"
	userARN := "arn:aws:iam::" + e.Account + ":user/"

	nobody, _ := e.newUser(t, "nobody")
	noPass := certPolicyUser(t, e, "nopass", `{"Effect":"Allow","Action":"iam:AddRoleToInstanceProfile","Resource":"`+profileARN+`"}`)
	lambdaOnly := certPolicyUser(t, e, "lambda", `{"Effect":"Allow","Action":"iam:AddRoleToInstanceProfile","Resource":"*"},`+
		`{"Effect":"Allow","Action":"iam:PassRole","Resource":"`+roleARN+`","Condition":{"StringEquals":{"iam:PassedToService":"lambda.amazonaws.com"}}}`)
	ops := certPolicyUser(t, e, "ops", `{"Effect":"Allow","Action":["iam:AddRoleToInstanceProfile","iam:RemoveRoleFromInstanceProfile","iam:GetInstanceProfile"],"Resource":"*"},`+
		`{"Effect":"Allow","Action":"iam:PassRole","Resource":"`+roleARN+`","Condition":{"StringEquals":{"iam:PassedToService":"ec2.amazonaws.com"}}}`)
	add := func(cl *iam.Client) func() error {
		return func() error {
			_, err := cl.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("p"), RoleName: aws.String("app")})
			return err
		}
	}
	denied := func(user, action, resource string) string {
		return "User: " + userARN + user + " is not authorized to perform: " + action + " on resource: " + resource + " because no identity-based policy allows the " + action + " action"
	}
	pmFailNoChange(t, func() string { return ipState(t, c) }, []pmCase{
		{"add without any policy", "AccessDenied", denied("nobody", "iam:AddRoleToInstanceProfile", "instance profile p"), add(nobody)},
		{"add without PassRole", "AccessDenied", denied("nopass", "iam:PassRole", roleARN), add(noPass)},
		{"add with PassRole for Lambda only", "AccessDenied", "iam:PassRole on resource: " + roleARN, add(lambdaOnly)},
		{"create without permission", "AccessDenied", denied("nobody", "iam:CreateInstanceProfile", "arn:aws:iam::"+e.Account+":instance-profile/q"), func() error {
			_, err := nobody.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("q")})
			return err
		}},
		{"delete without permission", "AccessDenied", denied("ops", "iam:DeleteInstanceProfile", "instance profile p"), func() error {
			_, err := ops.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("p")})
			return err
		}},
		{"tag without permission", "AccessDenied", "iam:TagInstanceProfile", func() error {
			_, err := ops.TagInstanceProfile(ctx, &iam.TagInstanceProfileInput{InstanceProfileName: aws.String("p"), Tags: pmTags("k", "v")})
			return err
		}},
	})
	pmOK(t, add(ops)())
	got := pmMust[*iam.GetInstanceProfileOutput](t)(ops.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("p")}))
	if r := got.InstanceProfile.Roles; len(r) != 1 || aws.ToString(r[0].Arn) != roleARN {
		t.Fatalf("roles after the allowed add: %+v", r)
	}
	_, err := nobody.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("p"), RoleName: aws.String("app")})
	pmErr(t, err, "AccessDenied", denied("nobody", "iam:RemoveRoleFromInstanceProfile", "instance profile p"))
	pmMust[*iam.RemoveRoleFromInstanceProfileOutput](t)(ops.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("p"), RoleName: aws.String("app")}))
}

// slrState is every role of the account with its trust policy, attached and inline policies.
func slrState(t *testing.T, c *iam.Client) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	roles, err := c.ListRoles(ctx, &iam.ListRolesInput{})
	pmOK(t, err)
	for _, r := range roles.Roles {
		att, err := c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: r.RoleName})
		pmOK(t, err)
		in, err := c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: r.RoleName})
		pmOK(t, err)
		var attached []string
		for _, a := range att.AttachedPolicies {
			attached = append(attached, aws.ToString(a.PolicyArn))
		}
		fmt.Fprintf(&b, "%s %s %v %v; ", aws.ToString(r.Arn), aws.ToString(r.AssumeRolePolicyDocument), attached, in.PolicyNames)
	}
	return b.String()
}

// TestServiceLinkedRolesSDK drives service-linked roles through aws-sdk-go-v2: the role at
// /aws-service-role/SERVICE/ trusted by the service with its policy, CustomSuffix rules,
// ordinary edits refused (UnmodifiableEntity), DeleteServiceLinkedRole and its deletion task;
// and the refusals change nothing. AWS's texts and their sources are in internal/iam's
// service_linked_roles_test.go.
func TestServiceLinkedRolesSDK(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.IAM
	out := pmMust[*iam.CreateServiceLinkedRoleOutput](t)(c.CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("autoscaling.amazonaws.com"), Description: aws.String("scales")}))
	r := out.Role
	if aws.ToString(r.Arn) != "arn:aws:iam::"+e.Account+":role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling" ||
		aws.ToString(r.Path) != "/aws-service-role/autoscaling.amazonaws.com/" || aws.ToString(r.Description) != "scales" {
		t.Fatalf("created %+v", r)
	}
	doc, _ := url.QueryUnescape(aws.ToString(r.AssumeRolePolicyDocument))
	if doc != `{"Version":"2012-10-17","Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":"autoscaling.amazonaws.com"}}]}` {
		t.Errorf("trust policy %s", doc)
	}
	att := pmMust[*iam.ListAttachedRolePoliciesOutput](t)(c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: r.RoleName}))
	if len(att.AttachedPolicies) != 1 || aws.ToString(att.AttachedPolicies[0].PolicyArn) != "arn:aws:iam::aws:policy/aws-service-role/AutoScalingServiceRolePolicy" {
		t.Errorf("attached %+v", att.AttachedPolicies)
	}
	sfx := pmMust[*iam.CreateServiceLinkedRoleOutput](t)(c.CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("autoscaling.amazonaws.com"), CustomSuffix: aws.String("web")}))
	if aws.ToString(sfx.Role.RoleName) != "AWSServiceRoleForAutoScaling_web" {
		t.Errorf("with a suffix: %s", aws.ToString(sfx.Role.RoleName))
	}
	pmMust[*iam.CreateRoleOutput](t)(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("plain"), AssumeRolePolicyDocument: aws.String(ipEC2Trust)}))
	pmMust[*iam.CreateInstanceProfileOutput](t)(c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("p")}))

	name := aws.String("AWSServiceRoleForAutoScaling")
	protected := "Cannot perform the operation on the protected role 'AWSServiceRoleForAutoScaling' - this role is only modifiable by AWS"
	create := func(service, suffix string) func() error {
		return func() error {
			in := &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String(service)}
			if suffix != "" {
				in.CustomSuffix = aws.String(suffix)
			}
			_, err := c.CreateServiceLinkedRole(ctx, in)
			return err
		}
	}
	pmFailNoChange(t, func() string { return slrState(t, c) + ipState(t, c) }, []pmCase{
		{"create a taken role", "InvalidInput", "Service role name AWSServiceRoleForAutoScaling has been taken in this account, please try a different suffix.", create("autoscaling.amazonaws.com", "")},
		{"a suffix the service refuses", "InvalidInput", "Custom suffix is not allowed for es.amazonaws.com", create("es.amazonaws.com", "x")},
		{"not a service principal", "InvalidInput", "example.com is not the service principal of an AWS service", create("example.com", "")},
		{"a name too long", "InvalidInput", "is longer than 64 characters", create("autoscaling.amazonaws.com", strings.Repeat("s", 40))},
		{"CreateRole under /aws-service-role/", "InvalidInput", "Path prefix '/aws-service-role/' can only be used for AWS Service linked Roles", func() error {
			_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("fake"), Path: aws.String("/aws-service-role/ecs.amazonaws.com/"), AssumeRolePolicyDocument: aws.String(ipEC2Trust)})
			return err
		}},
		{"DeleteRole", "UnmodifiableEntity", protected, func() error {
			_, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: name})
			return err
		}},
		{"UpdateAssumeRolePolicy", "UnmodifiableEntity", protected, func() error {
			_, err := c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: name, PolicyDocument: aws.String(ipEC2Trust)})
			return err
		}},
		{"PutRolePolicy", "UnmodifiableEntity", protected, func() error {
			_, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: name, PolicyName: aws.String("x"),
				PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)})
			return err
		}},
		{"AttachRolePolicy", "UnmodifiableEntity", protected, func() error {
			_, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: name, PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")})
			return err
		}},
		{"AddRoleToInstanceProfile", "UnmodifiableEntity", protected, func() error {
			_, err := c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("p"), RoleName: name})
			return err
		}},
		{"DeleteServiceLinkedRole of an ordinary role", "InvalidInput", "The role plain is not a service-linked role; delete it with DeleteRole.", func() error {
			_, err := c.DeleteServiceLinkedRole(ctx, &iam.DeleteServiceLinkedRoleInput{RoleName: aws.String("plain")})
			return err
		}},
		{"DeleteServiceLinkedRole of a missing role", "NoSuchEntity", "The role with name ghost cannot be found.", func() error {
			_, err := c.DeleteServiceLinkedRole(ctx, &iam.DeleteServiceLinkedRoleInput{RoleName: aws.String("ghost")})
			return err
		}},
	})
	// The description and tags of a service-linked role may change.
	pmMust[*iam.UpdateRoleDescriptionOutput](t)(c.UpdateRoleDescription(ctx, &iam.UpdateRoleDescriptionInput{RoleName: name, Description: aws.String("new")}))
	pmMust[*iam.TagRoleOutput](t)(c.TagRole(ctx, &iam.TagRoleInput{RoleName: name, Tags: pmTags("k", "v")}))

	del := pmMust[*iam.DeleteServiceLinkedRoleOutput](t)(c.DeleteServiceLinkedRole(ctx, &iam.DeleteServiceLinkedRoleInput{RoleName: name}))
	task := aws.ToString(del.DeletionTaskId)
	if !regexp.MustCompile(`^task/aws-service-role/autoscaling\.amazonaws\.com/AWSServiceRoleForAutoScaling/[0-9a-f-]{36}$`).MatchString(task) {
		t.Fatalf("DeletionTaskId %s", task)
	}
	st := pmMust[*iam.GetServiceLinkedRoleDeletionStatusOutput](t)(c.GetServiceLinkedRoleDeletionStatus(ctx, &iam.GetServiceLinkedRoleDeletionStatusInput{DeletionTaskId: aws.String(task)}))
	if st.Status != types.DeletionTaskStatusTypeSucceeded {
		t.Errorf("status %s", st.Status)
	}
	_, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: name})
	pmErr(t, err, "NoSuchEntity", "The role with name AWSServiceRoleForAutoScaling cannot be found.")
	_, err = c.GetServiceLinkedRoleDeletionStatus(ctx, &iam.GetServiceLinkedRoleDeletionStatusInput{DeletionTaskId: aws.String("task/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling/00000000-0000-4000-8000-000000000000")})
	pmErr(t, err, "NoSuchEntity", "does not exist")
	_, err = c.GetServiceLinkedRoleDeletionStatus(ctx, &iam.GetServiceLinkedRoleDeletionStatusInput{DeletionTaskId: aws.String("not-a-task")})
	pmErr(t, err, "InvalidInput", "task/aws-service-role/SERVICE/ROLE/ID")
	// Created again after the deletion, under the same name.
	pmMust[*iam.CreateServiceLinkedRoleOutput](t)(c.CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("autoscaling.amazonaws.com")}))
}

// TestServiceLinkedRolesAuthorizationSDK: CreateServiceLinkedRole is authorized on the role it
// would create, with iam:AWSServiceName (Service Authorization Reference); DeleteServiceLinkedRole
// and GetServiceLinkedRoleDeletionStatus on the role; denied calls change nothing.
func TestServiceLinkedRolesAuthorizationSDK(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.IAM
	u := certPolicyUser(t, e, "builder", `{"Effect":"Allow","Action":"iam:CreateServiceLinkedRole","Resource":"*","Condition":{"StringEquals":{"iam:AWSServiceName":"ecs.amazonaws.com"}}},`+
		`{"Effect":"Allow","Action":"iam:GetServiceLinkedRoleDeletionStatus","Resource":"arn:aws:iam::*:role/aws-service-role/ecs.amazonaws.com/*"}`)
	pmMust[*iam.CreateServiceLinkedRoleOutput](t)(c.CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("rds.amazonaws.com")}))
	slrARN := func(svc, name string) string {
		return "arn:aws:iam::" + e.Account + ":role/aws-service-role/" + svc + "/" + name
	}
	denied := func(action, resource string) string {
		return "User: arn:aws:iam::" + e.Account + ":user/builder is not authorized to perform: " + action + " on resource: " + resource + " because no identity-based policy allows the " + action + " action"
	}
	pmFailNoChange(t, func() string { return slrState(t, c) }, []pmCase{
		{"create for another service", "AccessDenied", denied("iam:CreateServiceLinkedRole", slrARN("elasticbeanstalk.amazonaws.com", "AWSServiceRoleForElasticBeanstalk")), func() error {
			_, err := u.CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("elasticbeanstalk.amazonaws.com")})
			return err
		}},
		{"delete without permission", "AccessDenied", "iam:DeleteServiceLinkedRole on resource: role AWSServiceRoleForRDS", func() error {
			_, err := u.DeleteServiceLinkedRole(ctx, &iam.DeleteServiceLinkedRoleInput{RoleName: aws.String("AWSServiceRoleForRDS")})
			return err
		}},
	})
	out := pmMust[*iam.CreateServiceLinkedRoleOutput](t)(u.CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("ecs.amazonaws.com")}))
	if aws.ToString(out.Role.Arn) != slrARN("ecs.amazonaws.com", "AWSServiceRoleForECS") {
		t.Fatalf("created %s", aws.ToString(out.Role.Arn))
	}
	ecs := pmMust[*iam.DeleteServiceLinkedRoleOutput](t)(c.DeleteServiceLinkedRole(ctx, &iam.DeleteServiceLinkedRoleInput{RoleName: aws.String("AWSServiceRoleForECS")}))
	rds := pmMust[*iam.DeleteServiceLinkedRoleOutput](t)(c.DeleteServiceLinkedRole(ctx, &iam.DeleteServiceLinkedRoleInput{RoleName: aws.String("AWSServiceRoleForRDS")}))
	pmMust[*iam.GetServiceLinkedRoleDeletionStatusOutput](t)(u.GetServiceLinkedRoleDeletionStatus(ctx, &iam.GetServiceLinkedRoleDeletionStatusInput{DeletionTaskId: ecs.DeletionTaskId}))
	_, err := u.GetServiceLinkedRoleDeletionStatus(ctx, &iam.GetServiceLinkedRoleDeletionStatusInput{DeletionTaskId: rds.DeletionTaskId})
	pmErr(t, err, "AccessDenied", "iam:GetServiceLinkedRoleDeletionStatus on resource: "+slrARN("rds.amazonaws.com", "AWSServiceRoleForRDS"))
}
