package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

const (
	enfReadOnly = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
	enfAdmin    = "arn:aws:iam::aws:policy/AdministratorAccess"
)

// enfDenied checks that err is AWS's AccessDenied (HTTP 403) with message msg ("" for any).
func enfDenied(t *testing.T, err error, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v, want AccessDenied", err)
	}
	if ae.ErrorCode() != "AccessDenied" {
		t.Fatalf("code %s (%s), want AccessDenied", ae.ErrorCode(), ae.ErrorMessage())
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() != http.StatusForbidden {
		t.Errorf("status %d, want 403", re.HTTPStatusCode())
	}
	// AWS's message alone: IAM appends no encoded authorization message.
	if got := ae.ErrorMessage(); msg != "" && got != msg {
		t.Errorf("message\n got %q\nwant %q", ae.ErrorMessage(), msg)
	}
}

func enfOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// enfUsers lists the account's user names as root sees them.
func enfUsers(t *testing.T, e *env) []string {
	t.Helper()
	var names []string
	p := iam.NewListUsersPaginator(e.IAM, &iam.ListUsersInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		enfOK(t, err)
		for _, u := range out.Users {
			names = append(names, *u.UserName)
		}
	}
	return names
}

func enfUserARN(e *env, name string) string { return "arn:aws:iam::" + e.Account + ":user/" + name }

// enfNotAuthorized is AWS's AccessDenied message; resource is as AWS's IAM messages show it:
// the ARN of an entity being created, "user NAME" for an existing user named in the request.
func enfNotAuthorized(e *env, caller, action, resource, reason string) string {
	msg := "User: " + enfUserARN(e, caller) + " is not authorized to perform: " + action
	if resource != "" {
		msg += " on resource: " + resource
	}
	return msg + " " + reason
}

// TestEnforcementReadOnly: a user with IAMReadOnlyAccess reads but cannot write, and a denied
// write changes nothing.
func TestEnforcementReadOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	reader, readerSTS := e.newUser(t, "reader")
	_, err := e.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")})
	enfOK(t, err)

	// With no policy the user can do nothing, GetUser on itself included; it may still ask
	// who it is.
	_, err = reader.GetUser(ctx, &iam.GetUserInput{})
	enfDenied(t, err, enfNotAuthorized(e, "reader", "iam:GetUser", "user reader", "because no identity-based policy allows the iam:GetUser action"))
	who, err := readerSTS.GetCallerIdentity(ctx, nil)
	enfOK(t, err)
	if *who.Arn != enfUserARN(e, "reader") {
		t.Errorf("GetCallerIdentity: %s", *who.Arn)
	}

	_, err = e.IAM.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("reader"), PolicyArn: aws.String(enfReadOnly)})
	enfOK(t, err)

	reads := []struct {
		name string
		call func() error
	}{
		{"GetUser self", func() error { _, err := reader.GetUser(ctx, &iam.GetUserInput{}); return err }},
		{"GetUser bob", func() error {
			_, err := reader.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("bob")})
			return err
		}},
		{"ListUsers", func() error { _, err := reader.ListUsers(ctx, &iam.ListUsersInput{}); return err }},
		{"ListAttachedUserPolicies", func() error {
			_, err := reader.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("reader")})
			return err
		}},
		{"GetPolicy", func() error {
			_, err := reader.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(enfReadOnly)})
			return err
		}},
	}
	for _, r := range reads {
		t.Run("read="+r.name, func(t *testing.T) { enfOK(t, r.call()) })
	}

	writes := []struct {
		name     string
		action   string
		resource string
		call     func() error
	}{
		{"CreateUser", "iam:CreateUser", enfUserARN(e, "eve"), func() error {
			_, err := reader.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("eve")})
			return err
		}},
		{"DeleteUser", "iam:DeleteUser", "user bob", func() error {
			_, err := reader.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("bob")})
			return err
		}},
		{"AttachUserPolicy", "iam:AttachUserPolicy", "user reader", func() error {
			_, err := reader.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("reader"), PolicyArn: aws.String(enfAdmin)})
			return err
		}},
		{"PutUserPolicy", "iam:PutUserPolicy", "user reader", func() error {
			_, err := reader.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("reader"), PolicyName: aws.String("all"),
				PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)})
			return err
		}},
		{"CreateAccessKey", "iam:CreateAccessKey", "user bob", func() error {
			_, err := reader.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bob")})
			return err
		}},
		{"ListUsers is not enough to tag", "iam:TagUser", "user bob", func() error {
			_, err := reader.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("bob"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			return err
		}},
	}
	for _, w := range writes {
		t.Run("write="+w.name, func(t *testing.T) {
			enfDenied(t, w.call(), enfNotAuthorized(e, "reader", w.action, w.resource, "because no identity-based policy allows the "+w.action+" action"))
		})
	}

	// Nothing changed: no new user, bob has no keys or tags, reader has one policy.
	if got := enfUsers(t, e); !slices.Equal(got, []string{"bob", "reader"}) {
		t.Errorf("users after denied writes: %v", got)
	}
	keys, err := e.IAM.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("bob")})
	enfOK(t, err)
	tags, err := e.IAM.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String("bob")})
	enfOK(t, err)
	attached, err := e.IAM.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("reader")})
	enfOK(t, err)
	inline, err := e.IAM.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String("reader")})
	enfOK(t, err)
	if len(keys.AccessKeyMetadata) != 0 || len(tags.Tags) != 0 || len(attached.AttachedPolicies) != 1 || len(inline.PolicyNames) != 0 {
		t.Errorf("state after denied writes: %d keys, %d tags, %d attached, %d inline", len(keys.AccessKeyMetadata), len(tags.Tags), len(attached.AttachedPolicies), len(inline.PolicyNames))
	}
}

// TestEnforcementExplicitDeny: an explicit Deny on one user beats AdministratorAccess.
func TestEnforcementExplicitDeny(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	admin, _ := e.newUser(t, "admin")
	for _, n := range []string{"bob", "carol"} {
		_, err := e.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(n)})
		enfOK(t, err)
	}
	_, err := e.IAM.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("admin"), PolicyArn: aws.String(enfAdmin)})
	enfOK(t, err)
	_, err = e.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("admin"), PolicyName: aws.String("protect-bob"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"` + enfUserARN(e, "bob") + `"}]}`)})
	enfOK(t, err)

	for _, tc := range []struct {
		name   string
		call   func() error
		action string
		denied bool
	}{
		{"delete bob", func() error {
			_, err := admin.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("bob")})
			return err
		}, "iam:DeleteUser", true},
		{"tag bob", func() error {
			_, err := admin.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("bob"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			return err
		}, "iam:TagUser", true},
		{"get bob", func() error { _, err := admin.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("bob")}); return err }, "iam:GetUser", true},
		{"get carol", func() error {
			_, err := admin.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("carol")})
			return err
		}, "", false},
		{"delete carol", func() error {
			_, err := admin.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("carol")})
			return err
		}, "", false},
		{"create dave", func() error {
			_, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("dave")})
			return err
		}, "", false},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			err := tc.call()
			if !tc.denied {
				enfOK(t, err)
				return
			}
			enfDenied(t, err, enfNotAuthorized(e, "admin", tc.action, "user bob", "with an explicit deny in an identity-based policy"))
		})
	}
	if got := enfUsers(t, e); !slices.Equal(got, []string{"admin", "bob", "dave"}) {
		t.Errorf("users: %v", got)
	}
	tags, err := e.IAM.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String("bob")})
	enfOK(t, err)
	if len(tags.Tags) != 0 {
		t.Errorf("bob was tagged: %v", tags.Tags)
	}
}

// TestEnforcementBoundary: a permissions boundary caps AdministratorAccess, and the caller's
// boundary is named in the message.
func TestEnforcementBoundary(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	capped, _ := e.newUser(t, "capped")
	_, err := e.IAM.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("capped"), PolicyArn: aws.String(enfAdmin)})
	enfOK(t, err)
	_, err = e.IAM.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("capped"), PermissionsBoundary: aws.String(enfReadOnly)})
	enfOK(t, err)

	_, err = capped.ListUsers(ctx, &iam.ListUsersInput{})
	enfOK(t, err)
	_, err = capped.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("eve")})
	enfDenied(t, err, enfNotAuthorized(e, "capped", "iam:CreateUser", enfUserARN(e, "eve"), "because no permissions boundary allows the iam:CreateUser action"))
	// The boundary also keeps the user from lifting itself out of it.
	_, err = capped.DeleteUserPermissionsBoundary(ctx, &iam.DeleteUserPermissionsBoundaryInput{UserName: aws.String("capped")})
	enfDenied(t, err, enfNotAuthorized(e, "capped", "iam:DeleteUserPermissionsBoundary", "user capped", "because no permissions boundary allows the iam:DeleteUserPermissionsBoundary action"))
	u, err := e.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("capped")})
	enfOK(t, err)
	if u.User.PermissionsBoundary == nil || *u.User.PermissionsBoundary.PermissionsBoundaryArn != enfReadOnly {
		t.Errorf("boundary after the denied delete: %+v", u.User.PermissionsBoundary)
	}
	if got := enfUsers(t, e); !slices.Equal(got, []string{"capped"}) {
		t.Errorf("users: %v", got)
	}

	// Once the boundary is gone (root removes it), the admin policy applies in full.
	_, err = e.IAM.DeleteUserPermissionsBoundary(ctx, &iam.DeleteUserPermissionsBoundaryInput{UserName: aws.String("capped")})
	enfOK(t, err)
	_, err = capped.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("eve")})
	enfOK(t, err)
}

// TestEnforcementConditions: condition keys of the request (aws:RequestTag, aws:TagKeys,
// iam:PermissionsBoundary, iam:PolicyARN, iam:ResourceTag) and global keys (aws:SourceIp,
// aws:SecureTransport, aws:username, aws:RequestedRegion) as the server fills them.
func TestEnforcementConditions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	u, _ := e.newUser(t, "cond")
	_, err := e.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("dev1"), Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("dev")}}})
	enfOK(t, err)
	_, err = e.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("prod1"), Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}})
	enfOK(t, err)
	doc := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Action":"iam:CreateUser","Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/team":"blue"},"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}},
	 {"Effect":"Allow","Action":"iam:AttachUserPolicy","Resource":"*","Condition":{"ArnEquals":{"iam:PolicyARN":%q}}},
	 {"Effect":"Allow","Action":"iam:TagUser","Resource":"*","Condition":{"StringEquals":{"iam:ResourceTag/env":"dev"}}},
	 {"Effect":"Allow","Action":"iam:ListUsers","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"},"Bool":{"aws:SecureTransport":"false"},"StringEquals":{"aws:RequestedRegion":"us-east-1"}}},
	 {"Effect":"Allow","Action":"iam:ListGroups","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}},
	 {"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::%s:user/${aws:username}"}]}`, enfReadOnly, e.Account)
	_, err = e.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("cond"), PolicyName: aws.String("c"), PolicyDocument: aws.String(doc)})
	enfOK(t, err)

	tag := func(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }
	for _, tc := range []struct {
		name string
		call func() error
		ok   bool
	}{
		{"create with team=blue", func() error {
			_, err := u.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("b1"), Tags: []types.Tag{tag("team", "blue")}})
			return err
		}, true},
		{"create with team=red", func() error {
			_, err := u.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("r1"), Tags: []types.Tag{tag("team", "red")}})
			return err
		}, false},
		{"create with an extra tag key", func() error {
			_, err := u.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("x1"), Tags: []types.Tag{tag("team", "blue"), tag("cost", "1")}})
			return err
		}, false},
		{"attach the allowed policy", func() error {
			_, err := u.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("dev1"), PolicyArn: aws.String(enfReadOnly)})
			return err
		}, true},
		{"attach another policy", func() error {
			_, err := u.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("dev1"), PolicyArn: aws.String(enfAdmin)})
			return err
		}, false},
		{"tag a dev user", func() error {
			_, err := u.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("dev1"), Tags: []types.Tag{tag("k", "v")}})
			return err
		}, true},
		{"tag a prod user", func() error {
			_, err := u.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("prod1"), Tags: []types.Tag{tag("k", "v")}})
			return err
		}, false},
		{"list users from loopback over HTTP", func() error { _, err := u.ListUsers(ctx, &iam.ListUsersInput{}); return err }, true},
		{"list groups from loopback, allowed only from 10/8", func() error { _, err := u.ListGroups(ctx, &iam.ListGroupsInput{}); return err }, false},
		{"get itself through ${aws:username}", func() error { _, err := u.GetUser(ctx, &iam.GetUserInput{}); return err }, true},
		{"get another user", func() error {
			_, err := u.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("dev1")})
			return err
		}, false},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			err := tc.call()
			if tc.ok {
				enfOK(t, err)
			} else {
				enfDenied(t, err, "")
			}
		})
	}
	if got := enfUsers(t, e); !slices.Equal(got, []string{"b1", "cond", "dev1", "prod1"}) {
		t.Errorf("users: %v", got)
	}
	prodTags, err := e.IAM.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String("prod1")})
	enfOK(t, err)
	if len(prodTags.Tags) != 1 {
		t.Errorf("prod1 tags: %v", prodTags.Tags)
	}
}

// TestEnforcementPolicyChangesApply: a grant or revocation takes effect on the next request.
func TestEnforcementPolicyChangesApply(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	u, _ := e.newUser(t, "alice")
	_, err := u.ListUsers(ctx, &iam.ListUsersInput{})
	enfDenied(t, err, "")
	_, err = e.IAM.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("readers")})
	enfOK(t, err)
	_, err = e.IAM.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("readers"), PolicyArn: aws.String(enfReadOnly)})
	enfOK(t, err)
	_, err = e.IAM.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("readers"), UserName: aws.String("alice")})
	enfOK(t, err)
	_, err = u.ListUsers(ctx, &iam.ListUsersInput{})
	enfOK(t, err)
	_, err = e.IAM.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("readers"), UserName: aws.String("alice")})
	enfOK(t, err)
	_, err = u.ListUsers(ctx, &iam.ListUsersInput{})
	enfDenied(t, err, "")
}

// TestEnforcementRoleSession: a role session through STS has the role's permissions, capped
// by the session policy passed to AssumeRole, and is denied with the session's ARN.
func TestEnforcementRoleSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	_, aliceSTS := e.newUser(t, "alice")
	_, err := e.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("assume"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)})
	enfOK(t, err)
	_, err = e.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("lister"), Path: aws.String("/ops/"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + e.Account + `"},"Action":"sts:AssumeRole"}]}`)})
	enfOK(t, err)
	_, err = e.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("lister"), PolicyName: aws.String("lists"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListUsers","iam:ListRoles"],"Resource":"*"},` +
			`{"Effect":"Allow","Action":"iam:ListGroups","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalArn":"arn:aws:iam::` + e.Account + `:role/ops/lister"}}}]}`)})
	enfOK(t, err)

	assume := func(session, policy string) (*iam.Client, string) {
		in := &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + e.Account + ":role/ops/lister"), RoleSessionName: aws.String(session)}
		if policy != "" {
			in.Policy = aws.String(policy)
		}
		out, err := aliceSTS.AssumeRole(ctx, in)
		enfOK(t, err)
		c, _ := e.clients(*out.Credentials.AccessKeyId, *out.Credentials.SecretAccessKey, *out.Credentials.SessionToken)
		return c, *out.AssumedRoleUser.Arn
	}
	full, fullARN := assume("full", "")
	capped, cappedARN := assume("capped", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}]}`)

	_, err = full.ListRoles(ctx, &iam.ListRolesInput{})
	enfOK(t, err)
	_, err = full.ListGroups(ctx, &iam.ListGroupsInput{})
	enfOK(t, err) // aws:PrincipalArn of a role session is the role's ARN
	_, err = full.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("eve")})
	enfDenied(t, err, "User: "+fullARN+" is not authorized to perform: iam:CreateUser on resource: "+enfUserARN(e, "eve")+" because no identity-based policy allows the iam:CreateUser action")
	_, err = capped.ListUsers(ctx, &iam.ListUsersInput{})
	enfOK(t, err)
	_, err = capped.ListRoles(ctx, &iam.ListRolesInput{})
	enfDenied(t, err, "User: "+cappedARN+" is not authorized to perform: iam:ListRoles on resource: arn:aws:iam::"+e.Account+":role/ because no session policy allows the iam:ListRoles action")
}

// TestEnforcementSimulatePrincipalPolicy: the simulator decides as enforcement does, for the
// policies of a user with its group, and reports its errors.
func TestEnforcementSimulatePrincipalPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	alice, _ := e.newUser(t, "alice")
	_, err := e.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")})
	enfOK(t, err)
	_, err = e.IAM.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("readers")})
	enfOK(t, err)
	_, err = e.IAM.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("readers"), PolicyArn: aws.String(enfReadOnly)})
	enfOK(t, err)
	_, err = e.IAM.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("readers"), UserName: aws.String("alice")})
	enfOK(t, err)
	_, err = e.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("no-bob"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:GetUser","Resource":"` + enfUserARN(e, "bob") + `"},` +
			`{"Effect":"Allow","Action":"iam:TagUser","Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/team":"blue"}}}]}`)})
	enfOK(t, err)

	out, err := e.IAM.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String(enfUserARN(e, "alice")),
		ActionNames:     []string{"iam:GetUser", "iam:ListUsers", "iam:CreateUser", "iam:TagUser"},
		ResourceArns:    []string{enfUserARN(e, "bob")},
	})
	enfOK(t, err)
	got := map[string]types.PolicyEvaluationDecisionType{}
	for _, r := range out.EvaluationResults {
		got[*r.EvalActionName] = r.EvalDecision
		if *r.EvalActionName == "iam:GetUser" && (len(r.MatchedStatements) != 1 || *r.MatchedStatements[0].SourcePolicyId != "no-bob" || r.MatchedStatements[0].SourcePolicyType != types.PolicySourceTypeUser) {
			t.Errorf("GetUser matched statements: %+v", r.MatchedStatements)
		}
		if *r.EvalActionName == "iam:TagUser" && (len(r.ResourceSpecificResults) != 1 || !slices.Equal(r.ResourceSpecificResults[0].MissingContextValues, []string{"aws:RequestTag/team"})) {
			t.Errorf("TagUser missing context values: %+v", r.ResourceSpecificResults)
		}
	}
	want := map[string]types.PolicyEvaluationDecisionType{
		"iam:GetUser": types.PolicyEvaluationDecisionTypeExplicitDeny, "iam:ListUsers": types.PolicyEvaluationDecisionTypeAllowed,
		"iam:CreateUser": types.PolicyEvaluationDecisionTypeImplicitDeny, "iam:TagUser": types.PolicyEvaluationDecisionTypeImplicitDeny,
	}
	for a, d := range want {
		if got[a] != d {
			t.Errorf("%s: simulated %s, want %s", a, got[a], d)
		}
	}
	// Enforcement agrees.
	_, err = alice.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("bob")})
	enfDenied(t, err, enfNotAuthorized(e, "alice", "iam:GetUser", "user bob", "with an explicit deny in an identity-based policy"))
	_, err = alice.ListUsers(ctx, &iam.ListUsersInput{})
	enfOK(t, err)
	_, err = alice.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("bob"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}})
	enfOK(t, err)

	// Pages, context keys, the caller's own permission, and errors.
	p1, err := e.IAM.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(enfUserARN(e, "alice")), ActionNames: []string{"iam:GetUser", "iam:ListUsers"}, MaxItems: aws.Int32(1)})
	enfOK(t, err)
	if !p1.IsTruncated || len(p1.EvaluationResults) != 1 {
		t.Fatalf("first page: %+v", p1)
	}
	p2, err := e.IAM.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(enfUserARN(e, "alice")), ActionNames: []string{"iam:GetUser", "iam:ListUsers"}, MaxItems: aws.Int32(1), Marker: p1.Marker})
	enfOK(t, err)
	if p2.IsTruncated || len(p2.EvaluationResults) != 1 || *p2.EvaluationResults[0].EvalActionName != "iam:ListUsers" {
		t.Fatalf("second page: %+v", p2)
	}
	keys, err := e.IAM.GetContextKeysForPrincipalPolicy(ctx, &iam.GetContextKeysForPrincipalPolicyInput{PolicySourceArn: aws.String(enfUserARN(e, "alice"))})
	enfOK(t, err)
	if !slices.Equal(keys.ContextKeyNames, []string{"aws:RequestTag/team"}) {
		t.Errorf("context keys: %v", keys.ContextKeyNames)
	}
	// alice's read-only policy allows iam:SimulatePrincipalPolicy; bob has no policy at all.
	_, err = alice.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(enfUserARN(e, "alice")), ActionNames: []string{"iam:GetUser"}})
	enfOK(t, err)
	bobKey, err := e.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bob")})
	enfOK(t, err)
	bob, _ := e.clients(*bobKey.AccessKey.AccessKeyId, *bobKey.AccessKey.SecretAccessKey, "")
	_, err = bob.GetContextKeysForPrincipalPolicy(ctx, &iam.GetContextKeysForPrincipalPolicyInput{PolicySourceArn: aws.String(enfUserARN(e, "alice"))})
	enfDenied(t, err, enfNotAuthorized(e, "bob", "iam:GetContextKeysForPrincipalPolicy", enfUserARN(e, "alice"), "because no identity-based policy allows the iam:GetContextKeysForPrincipalPolicy action"))

	for _, tc := range []struct {
		name, arn, code, msg string
	}{
		{"missing user", enfUserARN(e, "ghost"), "NoSuchEntity", "The user with name ghost cannot be found."},
		{"missing role", "arn:aws:iam::" + e.Account + ":role/ghost", "NoSuchEntity", "The role with name ghost cannot be found."},
		{"not a user, group or role", "arn:aws:iam::" + e.Account + ":policy/x", "InvalidInput", ""},
	} {
		t.Run("error="+tc.name, func(t *testing.T) {
			_, err := e.IAM.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(tc.arn), ActionNames: []string{"iam:GetUser"}})
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tc.code || (tc.msg != "" && ae.ErrorMessage() != tc.msg) {
				t.Fatalf("got %v, want %s %q", err, tc.code, tc.msg)
			}
		})
	}
}
