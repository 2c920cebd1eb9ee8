package iam

import (
	"context"
	"fmt"
	"net/url"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

const ipTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// ipState is everything observable about an instance profile, to check that failed requests
// change nothing.
func ipState(t *testing.T, f *gkFixture, name string) string {
	t.Helper()
	out, err := f.svc.GetInstanceProfile(f.ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(name)})
	if err != nil {
		return "error: " + gkCode(t, err)
	}
	p := out.InstanceProfile
	var roles []string
	for _, r := range p.Roles {
		roles = append(roles, *r.RoleName)
	}
	return fmt.Sprintf("%s %s %s roles=%v tags=%d", *p.InstanceProfileName, *p.Path, *p.Arn, roles, len(p.Tags))
}

func ipCreate(t *testing.T, f *gkFixture, name, path string) *types.InstanceProfile {
	t.Helper()
	in := &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(name)}
	if path != "" {
		in.Path = aws.String(path)
	}
	out, err := f.svc.CreateInstanceProfile(f.ctx, in)
	gkCheck(t, err)
	return out.InstanceProfile
}

func ipRole(t *testing.T, f *gkFixture, name, trust string) *types.Role {
	t.Helper()
	out, err := f.svc.CreateRole(f.ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust), Description: aws.String("d")})
	gkCheck(t, err)
	return out.Role
}

func ipAdd(f *gkFixture, ctx context.Context, profile, role string) error {
	_, err := f.svc.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(profile), RoleName: aws.String(role)})
	return err
}

// TestInstanceProfileLifecycle: a profile holds one role, shown in the Role shape instance
// profiles use, and neither the role nor the profile can be deleted while they are joined.
func TestInstanceProfileLifecycle(t *testing.T) {
	t.Parallel()
	f := gkNewFixture(t)
	_, err := f.svc.CreateUser(f.ctx, &iam.CreateUserInput{UserName: aws.String("alice")})
	gkCheck(t, err)
	trustAlice := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:user/alice"},"Action":"sts:AssumeRole"}]}`, f.account)
	web := ipRole(t, f, "web", trustAlice)
	ipRole(t, f, "other", ipTrust)

	created := ipCreate(t, f, "WebProfile", "/app/")
	if got, want := *created.Arn, "arn:aws:iam::"+f.account+":instance-profile/app/WebProfile"; got != want {
		t.Errorf("Arn = %s, want %s", got, want)
	}
	if created.Roles == nil || len(created.Roles) != 0 || (*created.InstanceProfileId)[:4] != "AIPA" {
		t.Errorf("created profile: roles %v, id %s", created.Roles, *created.InstanceProfileId)
	}
	gkCheck(t, ipAdd(f, f.ctx, "webprofile", "WEB"))

	got, err := f.svc.GetInstanceProfile(f.ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("WebProfile")})
	gkCheck(t, err)
	doc, _ := url.QueryUnescape(aws.ToString(got.InstanceProfile.Roles[0].AssumeRolePolicyDocument))
	want := types.Role{
		Arn: web.Arn, RoleId: web.RoleId, RoleName: aws.String("web"), Path: aws.String("/"), CreateDate: web.CreateDate,
		AssumeRolePolicyDocument: got.InstanceProfile.Roles[0].AssumeRolePolicyDocument,
	}
	if !reflect.DeepEqual(got.InstanceProfile.Roles, []types.Role{want}) {
		t.Errorf("roles = %+v, want only path, name, id, ARN, date and trust policy", got.InstanceProfile.Roles)
	}
	if doc != trustAlice {
		t.Errorf("trust policy = %s, want the user's ARN as written (bound by id, shown by ARN)", doc)
	}

	// Errors, each leaving the profile as it was. AWS's texts: "Cannot exceed quota for
	// InstanceSessionsPerInstanceProfile: 1" (moto issue 6404, checked against AWS), also for
	// the role already there (karpenter's test helpers ignore that error when re-adding);
	// "Instance Profile X cannot be found." and "Cannot delete entity, must remove roles from
	// instance profile first." (for DeleteRole and DeleteInstanceProfile, AWS errors quoted in
	// 99designs/iamy#68 and #47).
	before := ipState(t, f, "WebProfile")
	for _, tc := range []struct {
		name, code, msg string
		call            func() error
	}{
		{"op=add second role", "LimitExceeded", "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1", func() error { return ipAdd(f, f.ctx, "WebProfile", "other") }},
		{"op=add same role", "LimitExceeded", "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1", func() error { return ipAdd(f, f.ctx, "WebProfile", "web") }},
		{"op=add missing role", "NoSuchEntity", "The role with name ghost cannot be found.", func() error { return ipAdd(f, f.ctx, "WebProfile", "ghost") }},
		{"op=add to missing profile", "NoSuchEntity", "Instance Profile nope cannot be found.", func() error { return ipAdd(f, f.ctx, "nope", "web") }},
		{"op=delete role in profile", "DeleteConflict", "Cannot delete entity, must remove roles from instance profile first.", func() error {
			_, err := f.svc.DeleteRole(f.ctx, &iam.DeleteRoleInput{RoleName: aws.String("web")})
			return err
		}},
		{"op=delete profile with role", "DeleteConflict", "Cannot delete entity, must remove roles from instance profile first.", func() error {
			_, err := f.svc.DeleteInstanceProfile(f.ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("WebProfile")})
			return err
		}},
		{"op=remove role not in profile", "NoSuchEntity", "The role with name other is not in instance profile WebProfile.", func() error {
			_, err := f.svc.RemoveRoleFromInstanceProfile(f.ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("WebProfile"), RoleName: aws.String("other")})
			return err
		}},
		{"op=create existing", "EntityAlreadyExists", "Instance Profile WEBPROFILE already exists.", func() error {
			_, err := f.svc.CreateInstanceProfile(f.ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("WEBPROFILE")})
			return err
		}},
		{"op=create bad path", "ValidationError", "", func() error {
			_, err := f.svc.CreateInstanceProfile(f.ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("x"), Path: aws.String("/no-end")})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if gkCode(t, err) != tc.code || (tc.msg != "" && err.(interface{ Error() string }).Error() != tc.code+": "+tc.msg) {
				t.Errorf("got %v, want %s: %s", err, tc.code, tc.msg)
			}
			if after := ipState(t, f, "WebProfile"); after != before {
				t.Errorf("state changed: %s -> %s", before, after)
			}
		})
	}

	_, err = f.svc.RemoveRoleFromInstanceProfile(f.ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("WebProfile"), RoleName: aws.String("web")})
	gkCheck(t, err)
	gkCheck(t, ipAdd(f, f.ctx, "WebProfile", "other")) // the slot is free again
	_, err = f.svc.DeleteRole(f.ctx, &iam.DeleteRoleInput{RoleName: aws.String("web")})
	gkCheck(t, err)
	_, err = f.svc.RemoveRoleFromInstanceProfile(f.ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("WebProfile"), RoleName: aws.String("other")})
	gkCheck(t, err)
	_, err = f.svc.DeleteInstanceProfile(f.ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("webprofile")})
	gkCheck(t, err)
	if got := ipState(t, f, "WebProfile"); got != "error: NoSuchEntity" {
		t.Errorf("after delete: %s", got)
	}
}

// TestInstanceProfileLists pages ListInstanceProfiles under a path prefix and
// ListInstanceProfilesForRole, whose entries leave tags out as AWS's listings do.
func TestInstanceProfileLists(t *testing.T) {
	t.Parallel()
	f := gkNewFixture(t)
	ipRole(t, f, "r", ipTrust)
	for i := range 5 {
		name := fmt.Sprintf("p%d", i)
		_, err := f.svc.CreateInstanceProfile(f.ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(name), Path: aws.String("/team/"),
			Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
		gkCheck(t, err)
		if i%2 == 0 {
			gkCheck(t, ipAdd(f, f.ctx, name, "r"))
		}
	}
	ipCreate(t, f, "elsewhere", "/other/")

	var names []string
	var marker *string
	for {
		out, err := f.svc.ListInstanceProfiles(f.ctx, &iam.ListInstanceProfilesInput{PathPrefix: aws.String("/team/"), MaxItems: aws.Int32(2), Marker: marker})
		gkCheck(t, err)
		for _, p := range out.InstanceProfiles {
			if p.Tags != nil {
				t.Errorf("listed %s with tags %v", *p.InstanceProfileName, p.Tags)
			}
			names = append(names, *p.InstanceProfileName)
		}
		if !out.IsTruncated {
			break
		}
		marker = out.Marker
	}
	if want := []string{"p0", "p1", "p2", "p3", "p4"}; !reflect.DeepEqual(names, want) {
		t.Errorf("ListInstanceProfiles = %v, want %v", names, want)
	}

	names, marker = nil, nil
	for {
		out, err := f.svc.ListInstanceProfilesForRole(f.ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String("R"), MaxItems: aws.Int32(1), Marker: marker})
		gkCheck(t, err)
		for _, p := range out.InstanceProfiles {
			names = append(names, *p.InstanceProfileName+"/"+*p.Roles[0].RoleName)
		}
		if !out.IsTruncated {
			break
		}
		marker = out.Marker
	}
	if want := []string{"p0/r", "p2/r", "p4/r"}; !reflect.DeepEqual(names, want) {
		t.Errorf("ListInstanceProfilesForRole = %v, want %v", names, want)
	}
	_, err := f.svc.ListInstanceProfilesForRole(f.ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String("ghost")})
	if gkCode(t, err) != "NoSuchEntity" {
		t.Errorf("ListInstanceProfilesForRole of a missing role: %v", err)
	}
	_, err = f.svc.ListInstanceProfiles(f.ctx, &iam.ListInstanceProfilesInput{Marker: aws.String("bogus!")})
	if gkCode(t, err) != "ValidationError" {
		t.Errorf("ListInstanceProfiles with a foreign marker: %v", err)
	}
}

// TestInstanceProfileQuota: the 1001st profile of an account is LimitExceeded with AWS's text
// ("Cannot exceed quota for InstanceProfilesPerAccount: 1000", ansible/workshops#1801).
func TestInstanceProfileQuota(t *testing.T) {
	t.Parallel()
	f := gkNewFixture(t)
	// The first 999 go straight into the store in one transaction; the 1000th through the handler.
	err := f.store.Update(f.ctx, func(ctx context.Context, tx store.Tx) error {
		for i := range maxInstanceProfilesPerAccount - 1 {
			p := &store.InstanceProfile{ID: fmt.Sprintf("AIPAQUOTA%012d", i), Name: fmt.Sprintf("q%d", i), Path: "/", CreateDate: f.now}
			if err := tx.Insert(ctx, instanceProfileRecord(f.account, p)); err != nil {
				return err
			}
		}
		return nil
	})
	gkCheck(t, err)
	ipCreate(t, f, "last", "")
	_, err = f.svc.CreateInstanceProfile(f.ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("one-too-many")})
	if gkCode(t, err) != "LimitExceeded" || err.Error() != "LimitExceeded: Cannot exceed quota for InstanceProfilesPerAccount: 1000" {
		t.Fatalf("1001st profile: %v", err)
	}
	if got := ipState(t, f, "one-too-many"); got != "error: NoSuchEntity" {
		t.Errorf("refused profile exists: %s", got)
	}
}

// TestInstanceProfileTags: tags given on create, TagInstanceProfile, UntagInstanceProfile and
// ListInstanceProfileTags, with the errors of bad tags leaving the tags as they were.
func TestInstanceProfileTags(t *testing.T) {
	t.Parallel()
	f := gkNewFixture(t)
	_, err := f.svc.CreateInstanceProfile(f.ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("p"),
		Tags: []types.Tag{{Key: aws.String("b"), Value: aws.String("1")}}})
	gkCheck(t, err)
	tag := func(kv ...string) error {
		var tags []types.Tag
		for i := 0; i < len(kv); i += 2 {
			tags = append(tags, types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
		}
		_, err := f.svc.TagInstanceProfile(f.ctx, &iam.TagInstanceProfileInput{InstanceProfileName: aws.String("p"), Tags: tags})
		return err
	}
	list := func() string {
		out, err := f.svc.ListInstanceProfileTags(f.ctx, &iam.ListInstanceProfileTagsInput{InstanceProfileName: aws.String("p")})
		gkCheck(t, err)
		s := ""
		for _, tg := range out.Tags {
			s += *tg.Key + "=" + *tg.Value + " "
		}
		return s
	}
	gkCheck(t, tag("c", "2", "B", "3")) // B overwrites b: keys compare without case
	if got := list(); got != "B=3 c=2 " {
		t.Errorf("tags = %q", got)
	}
	for _, tc := range []struct {
		name, code string
		kv         []string
	}{
		{"tags=duplicate keys", "InvalidInput", []string{"x", "1", "X", "2"}},
		{"tags=reserved prefix", "InvalidInput", []string{"aws:x", "1"}},
	} {
		if got := gkCode(t, tag(tc.kv...)); got != tc.code {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.code)
		}
	}
	var many []string
	for i := range 49 {
		many = append(many, fmt.Sprintf("k%d", i), "v")
	}
	if got := gkCode(t, tag(many...)); got != "LimitExceeded" {
		t.Errorf("51 tags: %s, want LimitExceeded", got)
	}
	if got := list(); got != "B=3 c=2 " {
		t.Errorf("refused tagging changed the tags: %q", got)
	}
	_, err = f.svc.UntagInstanceProfile(f.ctx, &iam.UntagInstanceProfileInput{InstanceProfileName: aws.String("p"), TagKeys: []string{"C", "none"}})
	gkCheck(t, err)
	if got := list(); got != "B=3 " {
		t.Errorf("after untag: %q", got)
	}
	_, err = f.svc.ListInstanceProfileTags(f.ctx, &iam.ListInstanceProfileTagsInput{InstanceProfileName: aws.String("ghost")})
	if gkCode(t, err) != "NoSuchEntity" {
		t.Errorf("tags of a missing profile: %v", err)
	}
}

// TestAddRoleToInstanceProfilePassRole: the caller needs iam:PassRole on the role
// (AddRoleToInstanceProfile: "The caller of this operation must be granted the PassRole
// permission on the IAM role by a permissions policy"), with the role passed to EC2 and
// iam:AssociatedResourceArn arn:aws:ec2:*:ACCOUNT:instance/* as the API reference says; a
// refusal adds nothing.
func TestAddRoleToInstanceProfilePassRole(t *testing.T) {
	t.Parallel()
	f := azNew(t)
	_, roleARN := f.role("app", fmt.Sprintf(azTrustAccount, f.account))
	_, err := f.svc.CreateInstanceProfile(f.root, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("p")})
	f.must(err)
	u := f.user("alice", "")
	ctx := principal.NewContext(context.Background(), u)
	add := func() error {
		_, err := f.svc.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("p"), RoleName: aws.String("app")})
		return err
	}
	roles := func() int {
		out, err := f.svc.GetInstanceProfile(f.root, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("p")})
		f.must(err)
		return len(out.InstanceProfile.Roles)
	}

	err = add()
	want := "User: " + u.ARN + " is not authorized to perform: iam:PassRole on resource: " + roleARN + " because no identity-based policy allows the iam:PassRole action"
	if azCode(err) != "AccessDenied" || azMessage(err) != want {
		t.Fatalf("without PassRole: %v, want AccessDenied %q", err, want)
	}
	if roles() != 0 {
		t.Fatal("a denied request added the role")
	}

	f.inline("alice", allow("iam:PassRole", roleARN, `{"StringEquals":{"iam:PassedToService":"lambda.amazonaws.com"}}`))
	if azCode(add()) != "AccessDenied" || roles() != 0 {
		t.Fatal("PassRole for Lambda let the role go to an instance profile")
	}
	f.inline("alice", allow("iam:PassRole", roleARN,
		`{"StringEquals":{"iam:PassedToService":"ec2.amazonaws.com"},"ArnLike":{"iam:AssociatedResourceArn":"arn:aws:ec2:*:`+f.account+`:instance/*"}}`))
	f.must(add())
	if roles() != 1 {
		t.Fatal("role not added")
	}
}

// TestAuthorizeInstanceProfileTarget: the server authorizes instance profile operations on the
// profile's real ARN (its path) with its tags as aws:ResourceTag, and names it "instance
// profile NAME" in AccessDenied as AWS does ("... is not authorized to perform:
// iam:GetInstanceProfile on resource: instance profile cg-ec2-instance-profile-lab because no
// identity-based policy allows the iam:GetInstanceProfile action", a CloudGoat walkthrough).
func TestAuthorizeInstanceProfileTarget(t *testing.T) {
	t.Parallel()
	f := azNew(t)
	_, err := f.svc.CreateInstanceProfile(f.root, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("blue"), Path: aws.String("/web/"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}})
	f.must(err)
	_, err = f.svc.CreateInstanceProfile(f.root, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("red"), Path: aws.String("/web/")})
	f.must(err)
	u := f.user("bob", "")
	get := func(name string) error {
		return f.authorize(u, nil, "iam:GetInstanceProfile", url.Values{"InstanceProfileName": {name}})
	}
	err = get("blue")
	want := "User: " + u.ARN + " is not authorized to perform: iam:GetInstanceProfile on resource: instance profile blue because no identity-based policy allows the iam:GetInstanceProfile action"
	if azMessage(err) != want {
		t.Fatalf("no policy: %v\nwant %s", err, want)
	}
	f.inline("bob", allow("iam:GetInstanceProfile", "arn:aws:iam::"+f.account+":instance-profile/web/*", `{"StringEquals":{"aws:ResourceTag/team":"blue"}}`))
	if err := get("blue"); err != nil {
		t.Errorf("tagged profile under /web/: %v", err)
	}
	if azCode(get("red")) != "AccessDenied" {
		t.Error("untagged profile allowed")
	}
}
