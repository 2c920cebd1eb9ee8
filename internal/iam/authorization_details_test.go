package iam

import (
	"net/url"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

const (
	adDoc1     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	adDoc2     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
	adInline   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:*","Resource":"*"}]}`
	adReadARN  = "arn:aws:iam::aws:policy/ReadOnlyAccess"
	adPowerARN = "arn:aws:iam::aws:policy/PowerUserAccess"
)

// adSetup makes an account with a user in a group, a role in an instance profile, a
// customer-managed policy with two versions and AWS-managed policies attached and as a boundary.
func adSetup(t *testing.T) (*gkFixture, string) {
	t.Helper()
	f := gkNewFixture(t)
	ctx := f.ctx
	do := func(_ any, err error) { t.Helper(); gkCheck(t, err) }
	do(f.svc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice"), Path: aws.String("/eng/"),
		PermissionsBoundary: aws.String(adPowerARN), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}}}))
	do(f.svc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")}))
	do(f.svc.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")}))
	do(f.svc.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String("alice")}))
	p, err := f.svc.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("Data"), PolicyDocument: aws.String(adDoc1), Description: aws.String("data access")})
	gkCheck(t, err)
	local := *p.Policy.Arn
	do(f.svc.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(local), PolicyDocument: aws.String(adDoc2), SetAsDefault: true}))
	do(f.svc.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("q"), PolicyDocument: aws.String(adInline)}))
	do(f.svc.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String(local)}))
	do(f.svc.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("devs"), PolicyName: aws.String("gq"), PolicyDocument: aws.String(adInline)}))
	do(f.svc.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: aws.String(adReadARN)}))
	do(f.svc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("web"), AssumeRolePolicyDocument: aws.String(ipTrust),
		Tags: []types.Tag{{Key: aws.String("app"), Value: aws.String("web")}}}))
	do(f.svc.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("web"), PolicyName: aws.String("rq"), PolicyDocument: aws.String(adInline)}))
	do(f.svc.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("web"), PolicyArn: aws.String(local)}))
	do(f.svc.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("webprof")}))
	gkCheck(t, ipAdd(f, ctx, "webprof", "web"))
	return f, local
}

func adDecode(t *testing.T, s *string) string {
	t.Helper()
	d, err := url.PathUnescape(aws.ToString(s))
	if err != nil {
		t.Fatalf("document %q is not URL-encoded: %v", aws.ToString(s), err)
	}
	return d
}

func adNames(out *iam.GetAccountAuthorizationDetailsOutput) []string {
	var names []string
	for _, u := range out.UserDetailList {
		names = append(names, "user:"+*u.UserName)
	}
	for _, g := range out.GroupDetailList {
		names = append(names, "group:"+*g.GroupName)
	}
	for _, r := range out.RoleDetailList {
		names = append(names, "role:"+*r.RoleName)
	}
	for _, p := range out.Policies {
		names = append(names, "policy:"+*p.PolicyName)
	}
	return names
}

// TestAccountAuthorizationDetails checks every element of GetAccountAuthorizationDetails (IAM
// API Reference: UserDetail, GroupDetail, RoleDetail, ManagedPolicyDetail; documents
// URL-encoded as IAM returns them), each Filter value, and paging over the combined lists.
func TestAccountAuthorizationDetails(t *testing.T) {
	t.Parallel()
	f, local := adSetup(t)
	out, err := f.svc.GetAccountAuthorizationDetails(f.ctx, &iam.GetAccountAuthorizationDetailsInput{})
	gkCheck(t, err)
	wantAll := []string{"user:alice", "user:bob", "group:devs", "role:web", "policy:Data", "policy:PowerUserAccess", "policy:ReadOnlyAccess"}
	if got := adNames(out); !reflect.DeepEqual(got, wantAll) || out.IsTruncated || out.Marker != nil {
		t.Fatalf("items = %v (truncated %v), want %v", got, out.IsTruncated, wantAll)
	}

	alice := out.UserDetailList[0]
	if *alice.Arn != "arn:aws:iam::"+f.account+":user/eng/alice" || *alice.Path != "/eng/" || !reflect.DeepEqual(alice.GroupList, []string{"devs"}) ||
		alice.PermissionsBoundary == nil || *alice.PermissionsBoundary.PermissionsBoundaryArn != adPowerARN ||
		len(alice.Tags) != 1 || *alice.Tags[0].Key != "team" || len(alice.UserPolicyList) != 1 || *alice.UserPolicyList[0].PolicyName != "q" ||
		adDecode(t, alice.UserPolicyList[0].PolicyDocument) != adInline ||
		len(alice.AttachedManagedPolicies) != 1 || *alice.AttachedManagedPolicies[0].PolicyArn != local || *alice.AttachedManagedPolicies[0].PolicyName != "Data" {
		t.Errorf("alice = %+v", alice)
	}
	if bob := out.UserDetailList[1]; bob.GroupList == nil || len(bob.GroupList) != 0 || bob.UserPolicyList == nil || bob.AttachedManagedPolicies == nil || bob.PermissionsBoundary != nil {
		t.Errorf("bob = %+v, want empty lists and no boundary", bob)
	}
	devs := out.GroupDetailList[0]
	if len(devs.GroupPolicyList) != 1 || adDecode(t, devs.GroupPolicyList[0].PolicyDocument) != adInline ||
		len(devs.AttachedManagedPolicies) != 1 || *devs.AttachedManagedPolicies[0].PolicyArn != adReadARN {
		t.Errorf("devs = %+v", devs)
	}
	web := out.RoleDetailList[0]
	if adDecode(t, web.AssumeRolePolicyDocument) != ipTrust || len(web.RolePolicyList) != 1 || len(web.AttachedManagedPolicies) != 1 ||
		len(web.Tags) != 1 || web.RoleLastUsed == nil || len(web.InstanceProfileList) != 1 ||
		*web.InstanceProfileList[0].InstanceProfileName != "webprof" || len(web.InstanceProfileList[0].Roles) != 1 ||
		*web.InstanceProfileList[0].Roles[0].RoleName != "web" {
		t.Errorf("web = %+v", web)
	}
	data := out.Policies[0]
	if *data.Arn != local || *data.AttachmentCount != 2 || *data.PermissionsBoundaryUsageCount != 0 || !data.IsAttachable ||
		*data.DefaultVersionId != "v2" || aws.ToString(data.Description) != "data access" || len(data.PolicyVersionList) != 2 {
		t.Fatalf("Data = %+v", data)
	}
	if v := data.PolicyVersionList; *v[0].VersionId != "v2" || !v[0].IsDefaultVersion || adDecode(t, v[0].Document) != adDoc2 ||
		*v[1].VersionId != "v1" || v[1].IsDefaultVersion || adDecode(t, v[1].Document) != adDoc1 {
		t.Errorf("Data versions = %+v", v)
	}
	power, read := out.Policies[1], out.Policies[2]
	if *power.AttachmentCount != 0 || *power.PermissionsBoundaryUsageCount != 1 || *read.AttachmentCount != 1 ||
		len(read.PolicyVersionList) != 1 || !read.PolicyVersionList[0].IsDefaultVersion || adDecode(t, read.PolicyVersionList[0].Document) == "" {
		t.Errorf("AWS-managed policies = %+v, %+v", power, read)
	}

	for _, tc := range []struct {
		filter []types.EntityType
		want   []string
	}{
		{[]types.EntityType{types.EntityTypeUser}, []string{"user:alice", "user:bob"}},
		{[]types.EntityType{types.EntityTypeGroup}, []string{"group:devs"}},
		{[]types.EntityType{types.EntityTypeRole}, []string{"role:web"}},
		{[]types.EntityType{types.EntityTypeLocalManagedPolicy}, []string{"policy:Data"}},
		{[]types.EntityType{types.EntityTypeAWSManagedPolicy}, []string{"policy:PowerUserAccess", "policy:ReadOnlyAccess"}},
		{[]types.EntityType{types.EntityTypeRole, types.EntityTypeUser}, []string{"user:alice", "user:bob", "role:web"}},
	} {
		got, err := f.svc.GetAccountAuthorizationDetails(f.ctx, &iam.GetAccountAuthorizationDetailsInput{Filter: tc.filter})
		gkCheck(t, err)
		if names := adNames(got); !reflect.DeepEqual(names, tc.want) {
			t.Errorf("Filter %v: %v, want %v", tc.filter, names, tc.want)
		}
		if got.UserDetailList == nil || got.GroupDetailList == nil || got.RoleDetailList == nil || got.Policies == nil {
			t.Errorf("Filter %v: a list is nil, want every list present", tc.filter)
		}
	}

	// Pages of two, across the lists, give the same items in the same order.
	var paged []string
	in := &iam.GetAccountAuthorizationDetailsInput{MaxItems: aws.Int32(2)}
	for pages := 0; ; pages++ {
		got, err := f.svc.GetAccountAuthorizationDetails(f.ctx, in)
		gkCheck(t, err)
		paged = append(paged, adNames(got)...)
		if !got.IsTruncated {
			if got.Marker != nil || pages != 3 {
				t.Errorf("last page %d has marker %v", pages, got.Marker)
			}
			break
		}
		in.Marker = got.Marker
	}
	if !reflect.DeepEqual(paged, wantAll) {
		t.Errorf("paged items = %v, want %v", paged, wantAll)
	}
	_, err = f.svc.GetAccountAuthorizationDetails(f.ctx, &iam.GetAccountAuthorizationDetailsInput{Marker: aws.String("not-a-marker!")})
	if gkCode(t, err) != "ValidationError" || err.Error() != "ValidationError: Invalid Marker." {
		t.Errorf("bad marker: %v", err)
	}
}
