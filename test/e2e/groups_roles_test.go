package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
)

// gkErr checks that err is the AWS error code with message msg ("" skips the message check).
func gkErr(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s error, got %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("want error code %s, got %s: %s", code, ae.ErrorCode(), ae.ErrorMessage())
	}
	if msg != "" && ae.ErrorMessage() != msg {
		t.Fatalf("want message %q, got %q", msg, ae.ErrorMessage())
	}
}

// gkImplemented skips the test when the server answers that op is not implemented yet; other
// engineers' operations (managed policies, STS) are used where they exist.
func gkImplemented(t *testing.T, err error) {
	t.Helper()
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "NotImplemented" {
		t.Skipf("depends on an operation the server does not implement yet: %s", ae.ErrorMessage())
	}
}

// gkResult carries an operation's output and error so that gkR(op(...)).must(t) reads in one line.
type gkResult[T any] struct {
	v   T
	err error
}

func gkR[T any](v T, err error) gkResult[T] { return gkResult[T]{v, err} }

func (r gkResult[T]) must(t *testing.T) T {
	t.Helper()
	gkNoErr(t, r.err)
	return r.v
}

func gkNoErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// gkDoc is a valid identity policy whose size, white space excluded, is exactly size characters
// (size must be at least gkDocMin).
func gkDoc(size int) string {
	head := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/`
	tail := `"}]}`
	return head + strings.Repeat("x", size-len(head)-len(tail)) + tail
}

const gkDocMin = 120

// gkTrust is a trust policy letting service assume a role; pad adds characters to its size.
func gkTrust(service string, pad int) string {
	return fmt.Sprintf(`{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "%s%s"}, "Action": "sts:AssumeRole"}]}`,
		service, strings.Repeat("x", pad))
}

// gkDecode undoes the URL encoding IAM applies to documents (aws-sdk-go-v2 returns them raw).
func gkDecode(t *testing.T, s *string) string {
	t.Helper()
	doc, err := url.QueryUnescape(aws.ToString(s))
	if err != nil {
		t.Fatalf("document %q is not URL-encoded: %v", aws.ToString(s), err)
	}
	return doc
}

// gkGroupState is everything observable about a group, to check that failed requests change
// nothing.
func gkGroupState(t *testing.T, c *iam.Client, name string) string {
	t.Helper()
	ctx := context.Background()
	g, err := c.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String(name)})
	if err != nil {
		return "error: " + err.Error()
	}
	var users []string
	for _, u := range g.Users {
		users = append(users, *u.UserName)
	}
	pols := gkR(c.ListGroupPolicies(ctx, &iam.ListGroupPoliciesInput{GroupName: aws.String(name)})).must(t)
	return fmt.Sprintf("%s %s %s users=%v policies=%v", *g.Group.GroupName, *g.Group.Path, *g.Group.Arn, users, pols.PolicyNames)
}

func gkGroupNames(t *testing.T, c *iam.Client, prefix string) []string {
	t.Helper()
	names := []string{}
	p := iam.NewListGroupsPaginator(c, &iam.ListGroupsInput{PathPrefix: aws.String(prefix), MaxItems: aws.Int32(1000)})
	for p.HasMorePages() {
		out := gkR(p.NextPage(context.Background())).must(t)
		for _, g := range out.Groups {
			names = append(names, *g.GroupName)
		}
	}
	return names
}

func TestGroupsLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.IAM

	created := gkR(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("Admins"), Path: aws.String("/team/")})).must(t)
	g := created.Group
	if want := "arn:aws:iam::" + e.Account + ":group/team/Admins"; aws.ToString(g.Arn) != want {
		t.Errorf("Arn = %s, want %s", aws.ToString(g.Arn), want)
	}
	if id := aws.ToString(g.GroupId); !strings.HasPrefix(id, "AGPA") || len(id) != 21 {
		t.Errorf("GroupId = %s, want AGPA and 17 characters", id)
	}
	if aws.ToString(g.Path) != "/team/" || aws.ToString(g.GroupName) != "Admins" || g.CreateDate == nil {
		t.Errorf("group = %+v", g)
	}
	gkR(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("Readers")})).must(t)
	for _, u := range []string{"carol", "alice", "bob"} {
		gkR(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u)})).must(t)
	}

	t.Run("case=errors change nothing", func(t *testing.T) {
		before := gkGroupState(t, c, "Admins")
		beforeList := gkGroupNames(t, c, "/")
		cases := []struct {
			name      string
			call      func() error
			code, msg string
		}{
			{"name taken ignoring case", func() error {
				_, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("admins")})
				return err
			}, "EntityAlreadyExists", "Group with name admins already exists."},
			{"path without slashes", func() error {
				_, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("x"), Path: aws.String("team")})
				return err
			}, "ValidationError", ""},
			{"get missing", func() error {
				_, err := c.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("nope")})
				return err
			}, "NoSuchEntity", "The group with name nope cannot be found."},
			{"delete missing", func() error {
				_, err := c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("nope")})
				return err
			}, "NoSuchEntity", "The group with name nope cannot be found."},
			{"rename onto another group", func() error {
				_, err := c.UpdateGroup(ctx, &iam.UpdateGroupInput{GroupName: aws.String("Admins"), NewGroupName: aws.String("READERS"), NewPath: aws.String("/x/")})
				return err
			}, "EntityAlreadyExists", "Group with name READERS already exists."},
			{"rename missing", func() error {
				_, err := c.UpdateGroup(ctx, &iam.UpdateGroupInput{GroupName: aws.String("nope"), NewGroupName: aws.String("other")})
				return err
			}, "NoSuchEntity", "The group with name nope cannot be found."},
			{"add missing user", func() error {
				_, err := c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("Admins"), UserName: aws.String("ghost")})
				return err
			}, "NoSuchEntity", "The user with name ghost cannot be found."},
			{"add to missing group", func() error {
				_, err := c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("nope"), UserName: aws.String("alice")})
				return err
			}, "NoSuchEntity", "The group with name nope cannot be found."},
			{"remove from missing group", func() error {
				_, err := c.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("nope"), UserName: aws.String("alice")})
				return err
			}, "NoSuchEntity", "The group with name nope cannot be found."},
			{"remove missing user", func() error {
				_, err := c.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("Admins"), UserName: aws.String("ghost")})
				return err
			}, "NoSuchEntity", "The user with name ghost cannot be found."},
			{"groups of missing user", func() error {
				_, err := c.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("ghost")})
				return err
			}, "NoSuchEntity", "The user with name ghost cannot be found."},
			{"bad marker", func() error {
				_, err := c.ListGroups(ctx, &iam.ListGroupsInput{Marker: aws.String("!!not-a-marker!!")})
				return err
			}, "ValidationError", ""},
			{"max items out of range", func() error {
				_, err := c.ListGroups(ctx, &iam.ListGroupsInput{MaxItems: aws.Int32(1001)})
				return err
			}, "ValidationError", ""},
		}
		for _, tc := range cases {
			t.Run("error="+tc.name, func(t *testing.T) {
				gkErr(t, tc.call(), tc.code, tc.msg)
				if after := gkGroupState(t, c, "Admins"); after != before {
					t.Errorf("group changed:\n before %s\n after  %s", before, after)
				}
				if after := gkGroupNames(t, c, "/"); !reflect.DeepEqual(after, beforeList) {
					t.Errorf("groups changed: %v -> %v", beforeList, after)
				}
			})
		}
	})

	t.Run("case=membership", func(t *testing.T) {
		for _, u := range []string{"carol", "alice", "bob", "alice"} { // adding again is accepted
			gkR(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("admins"), UserName: aws.String(u)})).must(t)
		}
		first := gkR(c.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("Admins"), MaxItems: aws.Int32(2)})).must(t)
		if !first.IsTruncated || first.Marker == nil || len(first.Users) != 2 {
			t.Fatalf("first page: truncated=%v marker=%v users=%d", first.IsTruncated, first.Marker, len(first.Users))
		}
		second := gkR(c.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("Admins"), MaxItems: aws.Int32(2), Marker: first.Marker})).must(t)
		if second.IsTruncated || second.Marker != nil || len(second.Users) != 1 {
			t.Fatalf("second page: truncated=%v marker=%v users=%d", second.IsTruncated, second.Marker, len(second.Users))
		}
		var names []string
		for _, u := range append(first.Users, second.Users...) {
			names = append(names, *u.UserName)
			if u.Arn == nil || u.UserId == nil || u.CreateDate == nil {
				t.Errorf("member %s lacks Arn, UserId or CreateDate", *u.UserName)
			}
		}
		if want := []string{"alice", "bob", "carol"}; !reflect.DeepEqual(names, want) {
			t.Errorf("members = %v, want %v", names, want)
		}
		if aws.ToString(second.Group.GroupName) != "Admins" {
			t.Errorf("Group = %+v", second.Group)
		}

		gkR(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("Readers"), UserName: aws.String("alice")})).must(t)
		groups := gkR(c.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("ALICE"), MaxItems: aws.Int32(1)})).must(t)
		if !groups.IsTruncated || len(groups.Groups) != 1 || *groups.Groups[0].GroupName != "Admins" {
			t.Fatalf("ListGroupsForUser page 1 = %+v", groups)
		}
		groups = gkR(c.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("alice"), Marker: groups.Marker})).must(t)
		if groups.IsTruncated || len(groups.Groups) != 1 || *groups.Groups[0].GroupName != "Readers" {
			t.Fatalf("ListGroupsForUser page 2 = %+v", groups)
		}
		none := gkR(c.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("bob")})).must(t)
		if len(none.Groups) != 1 {
			t.Errorf("bob's groups = %d, want 1", len(none.Groups))
		}

		// A user in a group cannot be deleted (users.go), and neither can the group.
		gkErr(t, gkErrOnly(c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("bob")})), "DeleteConflict", "Cannot delete entity, must remove users from group first.")
		before := gkGroupState(t, c, "Admins")
		gkErr(t, gkErrOnly(c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("Admins")})), "DeleteConflict", "Cannot delete entity, must remove users from group first.")
		if after := gkGroupState(t, c, "Admins"); after != before {
			t.Errorf("failed DeleteGroup changed the group: %s -> %s", before, after)
		}
	})

	t.Run("case=rename keeps members", func(t *testing.T) {
		gkR(c.UpdateGroup(ctx, &iam.UpdateGroupInput{GroupName: aws.String("Admins"), NewGroupName: aws.String("Operators"), NewPath: aws.String("/ops/")})).must(t)
		gkErr(t, gkErrOnly(c.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("Admins")})), "NoSuchEntity", "The group with name Admins cannot be found.")
		g := gkR(c.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("operators")})).must(t)
		if want := "arn:aws:iam::" + e.Account + ":group/ops/Operators"; *g.Group.Arn != want || len(g.Users) != 3 {
			t.Errorf("renamed group = %s with %d users, want %s with 3", *g.Group.Arn, len(g.Users), want)
		}
		if *g.Group.GroupId != *created.Group.GroupId {
			t.Errorf("GroupId changed on rename: %s -> %s", *created.Group.GroupId, *g.Group.GroupId)
		}
		// A rename that changes only the case of the name is allowed.
		gkR(c.UpdateGroup(ctx, &iam.UpdateGroupInput{GroupName: aws.String("Operators"), NewGroupName: aws.String("OPERATORS")})).must(t)
		gkR(c.UpdateGroup(ctx, &iam.UpdateGroupInput{GroupName: aws.String("operators"), NewGroupName: aws.String("Operators")})).must(t)
	})

	t.Run("case=list by path prefix", func(t *testing.T) {
		for _, tc := range []struct {
			prefix string
			want   []string
		}{
			{"/", []string{"Operators", "Readers"}},
			{"/ops/", []string{"Operators"}},
			{"/op", []string{"Operators"}},
			{"/nothing/", []string{}},
		} {
			t.Run("prefix="+tc.prefix, func(t *testing.T) {
				if got := gkGroupNames(t, c, tc.prefix); !reflect.DeepEqual(got, tc.want) {
					t.Errorf("ListGroups(%s) = %v, want %v", tc.prefix, got, tc.want)
				}
			})
		}
		page := gkR(c.ListGroups(ctx, &iam.ListGroupsInput{MaxItems: aws.Int32(1)})).must(t)
		if !page.IsTruncated || len(page.Groups) != 1 || page.Marker == nil {
			t.Errorf("ListGroups MaxItems=1: truncated=%v groups=%d", page.IsTruncated, len(page.Groups))
		}
	})

	t.Run("case=delete needs an empty group", func(t *testing.T) {
		for _, u := range []string{"alice", "bob", "carol"} {
			gkR(c.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("Operators"), UserName: aws.String(u)})).must(t)
		}
		// Removing a user that is not a member is accepted, as AWS does.
		gkR(c.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("Operators"), UserName: aws.String("alice")})).must(t)

		gkR(c.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("Operators"), PolicyName: aws.String("p"), PolicyDocument: aws.String(gkDoc(200))})).must(t)
		before := gkGroupState(t, c, "Operators")
		gkErr(t, gkErrOnly(c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("Operators")})), "DeleteConflict", "Cannot delete entity, must delete policies first.")
		if after := gkGroupState(t, c, "Operators"); after != before {
			t.Errorf("failed DeleteGroup changed the group: %s -> %s", before, after)
		}
		gkR(c.DeleteGroupPolicy(ctx, &iam.DeleteGroupPolicyInput{GroupName: aws.String("Operators"), PolicyName: aws.String("p")})).must(t)

		gkR(c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("operators")})).must(t)
		gkErr(t, gkErrOnly(c.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("Operators")})), "NoSuchEntity", "The group with name Operators cannot be found.")
		// Memberships went with the group.
		if g := gkR(c.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("bob")})).must(t); len(g.Groups) != 0 {
			t.Errorf("bob still in %d groups", len(g.Groups))
		}
		if got := gkGroupNames(t, c, "/"); !reflect.DeepEqual(got, []string{"Readers"}) {
			t.Errorf("groups = %v", got)
		}
	})

	t.Run("case=delete with attached policy", func(t *testing.T) {
		gkR(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("Attached")})).must(t)
		p, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("gk-group-pol"), PolicyDocument: aws.String(gkDoc(200))})
		gkImplemented(t, err)
		gkNoErr(t, err)
		_, err = c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("Attached"), PolicyArn: p.Policy.Arn})
		gkImplemented(t, err)
		gkNoErr(t, err)
		gkErr(t, gkErrOnly(c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("Attached")})), "DeleteConflict", "Cannot delete entity, must detach all policies first.")
		gkR(c.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("Attached")})).must(t)
	})
}

// gkErrOnly drops an operation's output, keeping its error.
func gkErrOnly[T any](_ T, err error) error { return err }

func TestGroupsQuotas(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.IAM

	t.Run("quota=GroupsPerUser", func(t *testing.T) {
		gkR(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("joiner")})).must(t)
		for i := range 11 {
			gkR(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(fmt.Sprintf("g%02d", i)), Path: aws.String("/quota/")})).must(t)
		}
		for i := range 10 {
			gkR(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String(fmt.Sprintf("g%02d", i)), UserName: aws.String("joiner")})).must(t)
		}
		// Adding to a group the user is already in does not count against the quota.
		gkR(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("g00"), UserName: aws.String("joiner")})).must(t)
		_, err := c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("g10"), UserName: aws.String("joiner")})
		gkErr(t, err, "LimitExceeded", "Cannot exceed quota for GroupsPerUser: 10")
		if g := gkR(c.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("joiner")})).must(t); len(g.Groups) != 10 {
			t.Errorf("joiner is in %d groups, want 10", len(g.Groups))
		}
		if g := gkR(c.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("g10")})).must(t); len(g.Users) != 0 {
			t.Errorf("g10 has %d members after the refused add", len(g.Users))
		}
	})

	t.Run("quota=GroupsPerAccount", func(t *testing.T) {
		have := len(gkGroupNames(t, c, "/"))
		for i := have; i < 300; i++ {
			gkR(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(fmt.Sprintf("fill%03d", i))})).must(t)
		}
		_, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("one-too-many")})
		gkErr(t, err, "LimitExceeded", "Cannot exceed quota for GroupsPerAccount: 300")
		names := gkGroupNames(t, c, "/")
		if len(names) != 300 {
			t.Errorf("%d groups after the refused create, want 300", len(names))
		}
		// Pagination walks all 300 in order, 100 at a time by default.
		page := gkR(c.ListGroups(ctx, &iam.ListGroupsInput{})).must(t)
		if len(page.Groups) != 100 || !page.IsTruncated {
			t.Errorf("default page: %d groups, truncated=%v", len(page.Groups), page.IsTruncated)
		}
		// The quota is per account: another account still has room.
		_, other, _ := e.newAccount(t)
		gkR(other.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("one-too-many")})).must(t)
	})
}

// gkRoleState is everything observable about a role.
func gkRoleState(t *testing.T, c *iam.Client, name string) string {
	t.Helper()
	ctx := context.Background()
	r, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if err != nil {
		return "error: " + err.Error()
	}
	pols := gkR(c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(name)})).must(t)
	x := r.Role
	return fmt.Sprintf("%s %s %s desc=%q max=%d trust=%s boundary=%v tags=%v policies=%v", *x.RoleName, *x.Path, *x.Arn,
		aws.ToString(x.Description), aws.ToInt32(x.MaxSessionDuration), aws.ToString(x.AssumeRolePolicyDocument), x.PermissionsBoundary != nil, gkTagMap(x.Tags), pols.PolicyNames)
}

func gkRoleNames(t *testing.T, c *iam.Client, prefix string) []string {
	t.Helper()
	names := []string{}
	p := iam.NewListRolesPaginator(c, &iam.ListRolesInput{PathPrefix: aws.String(prefix), MaxItems: aws.Int32(1000)})
	for p.HasMorePages() {
		out := gkR(p.NextPage(context.Background())).must(t)
		for _, r := range out.Roles {
			names = append(names, *r.RoleName)
		}
	}
	return names
}

func TestRolesLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.IAM
	trust := gkTrust("lambda.amazonaws.com", 0)

	created := gkR(c.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 aws.String("Deployer"),
		Path:                     aws.String("/ci/"),
		AssumeRolePolicyDocument: aws.String(trust),
		Description:              aws.String("deploys things"),
		MaxSessionDuration:       aws.Int32(7200),
		Tags:                     []types.Tag{{Key: aws.String("team"), Value: aws.String("infra")}},
	})).must(t).Role
	t.Run("case=create output", func(t *testing.T) {
		if want := "arn:aws:iam::" + e.Account + ":role/ci/Deployer"; aws.ToString(created.Arn) != want {
			t.Errorf("Arn = %s, want %s", aws.ToString(created.Arn), want)
		}
		if id := aws.ToString(created.RoleId); !strings.HasPrefix(id, "AROA") || len(id) != 21 {
			t.Errorf("RoleId = %s", id)
		}
		if got := gkDecode(t, created.AssumeRolePolicyDocument); got != trust {
			t.Errorf("trust policy = %s, want %s", got, trust)
		}
		if aws.ToString(created.Description) != "deploys things" || len(created.Tags) != 1 || created.CreateDate == nil {
			t.Errorf("role = %+v", created)
		}
		// AWS's CreateRole answer has neither MaxSessionDuration nor RoleLastUsed.
		if created.MaxSessionDuration != nil || created.RoleLastUsed != nil {
			t.Errorf("CreateRole returned MaxSessionDuration=%v RoleLastUsed=%v", created.MaxSessionDuration, created.RoleLastUsed)
		}
	})

	t.Run("case=get", func(t *testing.T) {
		r := gkR(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("deployer")})).must(t).Role
		if aws.ToInt32(r.MaxSessionDuration) != 7200 || aws.ToString(r.Description) != "deploys things" {
			t.Errorf("MaxSessionDuration=%d Description=%q", aws.ToInt32(r.MaxSessionDuration), aws.ToString(r.Description))
		}
		if r.RoleLastUsed == nil || r.RoleLastUsed.LastUsedDate != nil || r.RoleLastUsed.Region != nil {
			t.Errorf("RoleLastUsed of an unused role = %+v, want an empty element", r.RoleLastUsed)
		}
		if len(r.Tags) != 1 || *r.Tags[0].Key != "team" || *r.Tags[0].Value != "infra" {
			t.Errorf("Tags = %v", r.Tags)
		}
		if gkDecode(t, r.AssumeRolePolicyDocument) != trust || *r.RoleId != *created.RoleId {
			t.Errorf("role = %+v", r)
		}
		d := gkR(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("Defaults"), AssumeRolePolicyDocument: aws.String(trust)})).must(t)
		if aws.ToString(d.Role.Path) != "/" || d.Role.Description != nil || d.Role.Tags != nil {
			t.Errorf("defaults = %+v", d.Role)
		}
		g := gkR(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("Defaults")})).must(t)
		if aws.ToInt32(g.Role.MaxSessionDuration) != 3600 {
			t.Errorf("default MaxSessionDuration = %d, want 3600", aws.ToInt32(g.Role.MaxSessionDuration))
		}
	})

	t.Run("case=errors change nothing", func(t *testing.T) {
		before := gkRoleState(t, c, "Deployer")
		beforeList := gkRoleNames(t, c, "/")
		create := func(in iam.CreateRoleInput) func() error {
			return func() error { _, err := c.CreateRole(ctx, &in); return err }
		}
		bigTrust := gkTrust("s", 2048) // over 2,048 characters without white space
		cases := []struct {
			name      string
			call      func() error
			code, msg string
		}{
			{"name taken ignoring case", create(iam.CreateRoleInput{RoleName: aws.String("DEPLOYER"), AssumeRolePolicyDocument: aws.String(trust)}),
				"EntityAlreadyExists", "Role with name DEPLOYER already exists."},
			{"malformed trust policy", create(iam.CreateRoleInput{RoleName: aws.String("x"), AssumeRolePolicyDocument: aws.String(`{"Statement": [`)}),
				"MalformedPolicyDocument", ""},
			{"trust policy too large", create(iam.CreateRoleInput{RoleName: aws.String("x"), AssumeRolePolicyDocument: aws.String(bigTrust)}),
				"LimitExceeded", "Cannot exceed quota for ACLSizePerRole: 2048"},
			{"session too short", create(iam.CreateRoleInput{RoleName: aws.String("x"), AssumeRolePolicyDocument: aws.String(trust), MaxSessionDuration: aws.Int32(3599)}),
				"ValidationError", ""},
			{"session too long", create(iam.CreateRoleInput{RoleName: aws.String("x"), AssumeRolePolicyDocument: aws.String(trust), MaxSessionDuration: aws.Int32(43201)}),
				"ValidationError", ""},
			{"path without trailing slash", create(iam.CreateRoleInput{RoleName: aws.String("x"), Path: aws.String("/ci"), AssumeRolePolicyDocument: aws.String(trust)}),
				"ValidationError", ""},
			{"missing boundary", create(iam.CreateRoleInput{RoleName: aws.String("x"), AssumeRolePolicyDocument: aws.String(trust),
				PermissionsBoundary: aws.String("arn:aws:iam::" + e.Account + ":policy/none")}),
				"NoSuchEntity", "Scope ARN: arn:aws:iam::" + e.Account + ":policy/none does not exist or is not attachable."},
			{"duplicate tag keys", create(iam.CreateRoleInput{RoleName: aws.String("x"), AssumeRolePolicyDocument: aws.String(trust),
				Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("A"), Value: aws.String("2")}}}),
				"InvalidInput", ""},
			{"get missing", func() error { _, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("nope")}); return err },
				"NoSuchEntity", "The role with name nope cannot be found."},
			{"delete missing", func() error {
				_, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("nope")})
				return err
			},
				"NoSuchEntity", "The role with name nope cannot be found."},
			{"update missing", func() error {
				_, err := c.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String("nope"), Description: aws.String("d")})
				return err
			}, "NoSuchEntity", "The role with name nope cannot be found."},
			{"update session out of range", func() error {
				_, err := c.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String("Deployer"), Description: aws.String("new"), MaxSessionDuration: aws.Int32(60)})
				return err
			}, "ValidationError", ""},
			{"update description missing", func() error {
				_, err := c.UpdateRoleDescription(ctx, &iam.UpdateRoleDescriptionInput{RoleName: aws.String("nope"), Description: aws.String("d")})
				return err
			}, "NoSuchEntity", "The role with name nope cannot be found."},
			{"trust update malformed", func() error {
				_, err := c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("Deployer"), PolicyDocument: aws.String("not json")})
				return err
			}, "MalformedPolicyDocument", ""},
			{"trust update too large", func() error {
				_, err := c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("Deployer"), PolicyDocument: aws.String(bigTrust)})
				return err
			}, "LimitExceeded", "Cannot exceed quota for ACLSizePerRole: 2048"},
			{"trust update missing role", func() error {
				_, err := c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("nope"), PolicyDocument: aws.String(trust)})
				return err
			}, "NoSuchEntity", "The role with name nope cannot be found."},
			{"list with bad prefix", func() error {
				_, err := c.ListRoles(ctx, &iam.ListRolesInput{PathPrefix: aws.String("ci")})
				return err
			}, "ValidationError", ""},
		}
		for _, tc := range cases {
			t.Run("error="+tc.name, func(t *testing.T) {
				gkErr(t, tc.call(), tc.code, tc.msg)
				if after := gkRoleState(t, c, "Deployer"); after != before {
					t.Errorf("role changed:\n before %s\n after  %s", before, after)
				}
				if after := gkRoleNames(t, c, "/"); !reflect.DeepEqual(after, beforeList) {
					t.Errorf("roles changed: %v -> %v", beforeList, after)
				}
			})
		}
	})

	t.Run("case=trust policy at the size quota", func(t *testing.T) {
		// White space does not count: a document of exactly 2,048 other characters is accepted.
		doc := gkTrust("s", 0)
		doc = gkTrust("s", 2048-(len(strings.Join(strings.Fields(doc), ""))))
		gkR(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("AtQuota"), AssumeRolePolicyDocument: aws.String(doc)})).must(t)
		gkR(c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("AtQuota")})).must(t)
	})

	t.Run("case=updates", func(t *testing.T) {
		gkR(c.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String("Deployer"), MaxSessionDuration: aws.Int32(43200)})).must(t)
		r := gkR(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("Deployer")})).must(t).Role
		if aws.ToInt32(r.MaxSessionDuration) != 43200 || aws.ToString(r.Description) != "deploys things" {
			t.Errorf("after UpdateRole(MaxSessionDuration): max=%d desc=%q", aws.ToInt32(r.MaxSessionDuration), aws.ToString(r.Description))
		}
		gkR(c.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String("Deployer"), Description: aws.String("ships code")})).must(t)
		r = gkR(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("Deployer")})).must(t).Role
		if aws.ToInt32(r.MaxSessionDuration) != 43200 || aws.ToString(r.Description) != "ships code" {
			t.Errorf("after UpdateRole(Description): max=%d desc=%q", aws.ToInt32(r.MaxSessionDuration), aws.ToString(r.Description))
		}

		out := gkR(c.UpdateRoleDescription(ctx, &iam.UpdateRoleDescriptionInput{RoleName: aws.String("deployer"), Description: aws.String("third")})).must(t)
		if aws.ToString(out.Role.Description) != "third" || aws.ToString(out.Role.RoleName) != "Deployer" || aws.ToInt32(out.Role.MaxSessionDuration) != 43200 {
			t.Errorf("UpdateRoleDescription returned %+v", out.Role)
		}
		if gkDecode(t, out.Role.AssumeRolePolicyDocument) != trust {
			t.Errorf("UpdateRoleDescription trust = %s", gkDecode(t, out.Role.AssumeRolePolicyDocument))
		}

		newTrust := gkTrust("ec2.amazonaws.com", 0)
		gkR(c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("Deployer"), PolicyDocument: aws.String(newTrust)})).must(t)
		r = gkR(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("Deployer")})).must(t).Role
		if gkDecode(t, r.AssumeRolePolicyDocument) != newTrust {
			t.Errorf("trust after update = %s", gkDecode(t, r.AssumeRolePolicyDocument))
		}
	})

	t.Run("case=list", func(t *testing.T) {
		for _, tc := range []struct {
			prefix string
			want   []string
		}{
			{"/", []string{"Defaults", "Deployer"}},
			{"/ci/", []string{"Deployer"}},
			{"/other/", []string{}},
		} {
			t.Run("prefix="+tc.prefix, func(t *testing.T) {
				if got := gkRoleNames(t, c, tc.prefix); !reflect.DeepEqual(got, tc.want) {
					t.Errorf("ListRoles(%s) = %v, want %v", tc.prefix, got, tc.want)
				}
			})
		}
		page := gkR(c.ListRoles(ctx, &iam.ListRolesInput{MaxItems: aws.Int32(1)})).must(t)
		if !page.IsTruncated || len(page.Roles) != 1 || *page.Roles[0].RoleName != "Defaults" {
			t.Fatalf("page 1 = %+v", page)
		}
		page = gkR(c.ListRoles(ctx, &iam.ListRolesInput{MaxItems: aws.Int32(1), Marker: page.Marker})).must(t)
		if page.IsTruncated || len(page.Roles) != 1 || *page.Roles[0].RoleName != "Deployer" {
			t.Fatalf("page 2 = %+v", page)
		}
		r := page.Roles[0]
		// ListRoles leaves out PermissionsBoundary, RoleLastUsed and Tags, but has the rest.
		if r.Tags != nil || r.RoleLastUsed != nil || r.PermissionsBoundary != nil {
			t.Errorf("listed role has Tags=%v RoleLastUsed=%v PermissionsBoundary=%v", r.Tags, r.RoleLastUsed, r.PermissionsBoundary)
		}
		if aws.ToInt32(r.MaxSessionDuration) != 43200 || aws.ToString(r.Description) != "third" || r.AssumeRolePolicyDocument == nil {
			t.Errorf("listed role = %+v", r)
		}
	})

	t.Run("case=delete needs no policies", func(t *testing.T) {
		gkR(c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("Deployer"), PolicyName: aws.String("inline"), PolicyDocument: aws.String(gkDoc(300))})).must(t)
		before := gkRoleState(t, c, "Deployer")
		gkErr(t, gkErrOnly(c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("Deployer")})), "DeleteConflict", "Cannot delete entity, must delete policies first.")
		if after := gkRoleState(t, c, "Deployer"); after != before {
			t.Errorf("failed DeleteRole changed the role: %s -> %s", before, after)
		}
		gkR(c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("Deployer"), PolicyName: aws.String("inline")})).must(t)
		gkR(c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("DEPLOYER")})).must(t)
		gkErr(t, gkErrOnly(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("Deployer")})), "NoSuchEntity", "The role with name Deployer cannot be found.")
		// The name is free again.
		gkR(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("Deployer"), AssumeRolePolicyDocument: aws.String(trust)})).must(t)
	})

	t.Run("case=managed policies", func(t *testing.T) {
		p, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("gk-role-pol"), PolicyDocument: aws.String(gkDoc(200))})
		gkImplemented(t, err)
		gkNoErr(t, err)
		r := gkR(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("Bounded"), AssumeRolePolicyDocument: aws.String(trust), PermissionsBoundary: p.Policy.Arn})).must(t)
		if r.Role.PermissionsBoundary == nil || aws.ToString(r.Role.PermissionsBoundary.PermissionsBoundaryArn) != *p.Policy.Arn ||
			r.Role.PermissionsBoundary.PermissionsBoundaryType != types.PermissionsBoundaryAttachmentTypePolicy {
			t.Errorf("PermissionsBoundary = %+v", r.Role.PermissionsBoundary)
		}
		g := gkR(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("Bounded")})).must(t)
		if g.Role.PermissionsBoundary == nil || aws.ToString(g.Role.PermissionsBoundary.PermissionsBoundaryArn) != *p.Policy.Arn {
			t.Errorf("GetRole PermissionsBoundary = %+v", g.Role.PermissionsBoundary)
		}
		_, err = c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("Bounded"), PolicyArn: p.Policy.Arn})
		gkImplemented(t, err)
		gkNoErr(t, err)
		gkErr(t, gkErrOnly(c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("Bounded")})), "DeleteConflict", "Cannot delete entity, must detach all policies first.")
		gkR(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("Bounded")})).must(t)
	})
}

func TestRolesQuota(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.IAM
	trust := aws.String(gkTrust("lambda.amazonaws.com", 0))
	for i := range 1000 {
		gkR(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(fmt.Sprintf("r%04d", i)), AssumeRolePolicyDocument: trust})).must(t)
	}
	_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("one-too-many"), AssumeRolePolicyDocument: trust})
	gkErr(t, err, "LimitExceeded", "Cannot exceed quota for RolesPerAccount: 1000")
	// A taken name is still reported as such at the quota.
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("R0000"), AssumeRolePolicyDocument: trust})
	gkErr(t, err, "EntityAlreadyExists", "Role with name R0000 already exists.")
	if n := len(gkRoleNames(t, c, "/")); n != 1000 {
		t.Errorf("%d roles after the refused create, want 1000", n)
	}
	gkR(c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("r0000")})).must(t)
	gkR(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("one-too-many"), AssumeRolePolicyDocument: trust})).must(t)
}

// gkTagged abstracts the tag operations of users and roles for one table.
type gkTagged struct {
	kind   string
	create func(ctx context.Context, c *iam.Client, name string) error
	tag    func(ctx context.Context, c *iam.Client, name string, tags []types.Tag) error
	untag  func(ctx context.Context, c *iam.Client, name string, keys []string) error
	list   func(ctx context.Context, c *iam.Client, name string, marker *string, max *int32) (*iam.ListUserTagsOutput, error)
	get    func(ctx context.Context, c *iam.Client, name string) ([]types.Tag, error)
}

func gkTaggedKinds() []gkTagged {
	return []gkTagged{
		{
			kind: "user",
			create: func(ctx context.Context, c *iam.Client, name string) error {
				_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)})
				return err
			},
			tag: func(ctx context.Context, c *iam.Client, name string, tags []types.Tag) error {
				_, err := c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String(name), Tags: tags})
				return err
			},
			untag: func(ctx context.Context, c *iam.Client, name string, keys []string) error {
				_, err := c.UntagUser(ctx, &iam.UntagUserInput{UserName: aws.String(name), TagKeys: keys})
				return err
			},
			list: func(ctx context.Context, c *iam.Client, name string, marker *string, max *int32) (*iam.ListUserTagsOutput, error) {
				return c.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String(name), Marker: marker, MaxItems: max})
			},
			get: func(ctx context.Context, c *iam.Client, name string) ([]types.Tag, error) {
				out, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(name)})
				if err != nil {
					return nil, err
				}
				return out.User.Tags, nil
			},
		},
		{
			kind: "role",
			create: func(ctx context.Context, c *iam.Client, name string) error {
				_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(gkTrust("ec2.amazonaws.com", 0))})
				return err
			},
			tag: func(ctx context.Context, c *iam.Client, name string, tags []types.Tag) error {
				_, err := c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String(name), Tags: tags})
				return err
			},
			untag: func(ctx context.Context, c *iam.Client, name string, keys []string) error {
				_, err := c.UntagRole(ctx, &iam.UntagRoleInput{RoleName: aws.String(name), TagKeys: keys})
				return err
			},
			list: func(ctx context.Context, c *iam.Client, name string, marker *string, max *int32) (*iam.ListUserTagsOutput, error) {
				out, err := c.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: aws.String(name), Marker: marker, MaxItems: max})
				if err != nil {
					return nil, err
				}
				return &iam.ListUserTagsOutput{Tags: out.Tags, IsTruncated: out.IsTruncated, Marker: out.Marker}, nil
			},
			get: func(ctx context.Context, c *iam.Client, name string) ([]types.Tag, error) {
				out, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
				if err != nil {
					return nil, err
				}
				return out.Role.Tags, nil
			},
		},
	}
}

func gkTagMap(tags []types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[*t.Key] = *t.Value
	}
	return m
}

func gkTags(kv ...string) []types.Tag {
	var out []types.Tag
	for i := 0; i < len(kv); i += 2 {
		out = append(out, types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return out
}

func TestTagsUsersRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.IAM
	for _, k := range gkTaggedKinds() {
		t.Run("kind="+k.kind, func(t *testing.T) {
			name := "tagged-" + k.kind
			gkNoErr(t, k.create(ctx, c, name))

			empty := gkR(k.list(ctx, c, name, nil, nil)).must(t)
			if empty.Tags == nil || len(empty.Tags) != 0 || empty.IsTruncated {
				t.Errorf("tags of an untagged %s = %#v", k.kind, empty.Tags)
			}

			gkNoErr(t, k.tag(ctx, c, name, gkTags("env", "prod", "Team", "a", "cost", "1")))
			// Keys compare ignoring case: "team" overwrites "Team".
			gkNoErr(t, k.tag(ctx, c, name, gkTags("team", "b")))
			got := gkR(k.list(ctx, c, name, nil, nil)).must(t)
			if want := map[string]string{"env": "prod", "team": "b", "cost": "1"}; !reflect.DeepEqual(gkTagMap(got.Tags), want) {
				t.Errorf("tags = %v, want %v", gkTagMap(got.Tags), want)
			}
			var keys []string
			for _, tg := range got.Tags {
				keys = append(keys, *tg.Key)
			}
			if want := []string{"cost", "env", "team"}; !reflect.DeepEqual(keys, want) {
				t.Errorf("tag order = %v, want sorted %v", keys, want)
			}
			fromGet := gkR(k.get(ctx, c, name)).must(t)
			if !reflect.DeepEqual(gkTagMap(fromGet), gkTagMap(got.Tags)) {
				t.Errorf("Get%s tags = %v, List tags = %v", k.kind, gkTagMap(fromGet), gkTagMap(got.Tags))
			}

			p1 := gkR(k.list(ctx, c, name, nil, aws.Int32(2))).must(t)
			if !p1.IsTruncated || len(p1.Tags) != 2 || p1.Marker == nil {
				t.Fatalf("page 1 = %+v", p1)
			}
			p2 := gkR(k.list(ctx, c, name, p1.Marker, aws.Int32(2))).must(t)
			if p2.IsTruncated || len(p2.Tags) != 1 || *p2.Tags[0].Key != "team" {
				t.Fatalf("page 2 = %+v", p2)
			}

			gkNoErr(t, k.untag(ctx, c, name, []string{"ENV", "no-such-key"}))
			got = gkR(k.list(ctx, c, name, nil, nil)).must(t)
			if want := map[string]string{"team": "b", "cost": "1"}; !reflect.DeepEqual(gkTagMap(got.Tags), want) {
				t.Errorf("after untag: %v, want %v", gkTagMap(got.Tags), want)
			}

			before := gkTagMap(got.Tags)
			var many []string
			for i := range 49 {
				many = append(many, fmt.Sprintf("k%02d", i), "v")
			}
			cases := []struct {
				name      string
				call      func() error
				code, msg string
			}{
				{"over 50 tags", func() error { return k.tag(ctx, c, name, gkTags(many...)) }, "LimitExceeded", ""},
				{"duplicate keys", func() error { return k.tag(ctx, c, name, gkTags("x", "1", "X", "2")) }, "InvalidInput", ""},
				{"reserved prefix", func() error { return k.tag(ctx, c, name, gkTags("aws:x", "1")) }, "InvalidInput", ""},
				{"tag missing entity", func() error { return k.tag(ctx, c, "ghost", gkTags("a", "b")) }, "NoSuchEntity", "The " + k.kind + " with name ghost cannot be found."},
				{"untag missing entity", func() error { return k.untag(ctx, c, "ghost", []string{"a"}) }, "NoSuchEntity", "The " + k.kind + " with name ghost cannot be found."},
				{"list missing entity", func() error { _, err := k.list(ctx, c, "ghost", nil, nil); return err }, "NoSuchEntity", "The " + k.kind + " with name ghost cannot be found."},
			}
			for _, tc := range cases {
				t.Run("error="+tc.name, func(t *testing.T) {
					gkErr(t, tc.call(), tc.code, tc.msg)
					after := gkTagMap(gkR(k.list(ctx, c, name, nil, nil)).must(t).Tags)
					if !reflect.DeepEqual(after, before) {
						t.Errorf("tags changed: %v -> %v", before, after)
					}
				})
			}
			// Exactly 50 is within the quota (48 new keys beside team and cost).
			gkNoErr(t, k.tag(ctx, c, name, gkTags(many[:96]...)))
			if n := len(gkR(k.list(ctx, c, name, nil, nil)).must(t).Tags); n != 50 {
				t.Errorf("%d tags, want 50", n)
			}
		})
	}
}
