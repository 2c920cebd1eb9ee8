package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
)

// The AWS behaviour pinned here comes from the IAM API Reference (operations, error codes,
// quotas: 10 managed policies per user/group/role, 5 versions per policy, 6,144 characters
// per managed policy, 1,500 customer-managed policies per account, 50 tags) and from error
// messages AWS returns as quoted in public issue trackers, e.g. "Policy arn:... was not found."
// (GetPolicy), "Policy arn:... does not exist or is not attachable." (AttachRolePolicy),
// "Cannot delete a policy attached to entities." (DeletePolicy, also for boundaries),
// "This policy has more than one version. Before you delete a policy, you must delete the
// policy's versions. The default version is deleted with the policy." (DeletePolicy),
// "Cannot exceed quota for PoliciesPerUser: 10", "Cannot exceed quota for PolicySize: 6144",
// "PolicyNotAttachable: Cannot attach a Service Role Policy to a Customer Role."

const polAdmin = "arn:aws:iam::aws:policy/AdministratorAccess"

// polErr checks that err is the AWS error code with message msg ("" skips the message check).
func polErr(t *testing.T, err error, code, msg string) {
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

// polMust returns v, failing the test on err: polMust(op(...))(t).
func polMust[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

// polDoc is a valid identity policy of exactly size characters, white space excluded.
func polDoc(size int) string {
	head := `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/`
	tail := `"}]}`
	pad := size - (len(strings.Join(strings.Fields(head), "")) + len(tail))
	return head + strings.Repeat("x", pad) + tail
}

func polARN(e *env, path, name string) string {
	return "arn:aws:iam::" + e.Account + ":policy" + path + name
}

func polCreate(t *testing.T, c *iam.Client, name, path string) *types.Policy {
	t.Helper()
	out := polMust(c.CreatePolicy(context.Background(), &iam.CreatePolicyInput{PolicyName: aws.String(name), Path: aws.String(path), PolicyDocument: aws.String(polDoc(200))}))(t)
	return out.Policy
}

// polState is everything observable about a customer-managed policy, to check that failed
// requests change nothing.
func polState(t *testing.T, c *iam.Client, arn string) string {
	t.Helper()
	ctx := context.Background()
	p, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil {
		return "error: " + err.Error()
	}
	vs := polMust(c.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(arn)}))(t)
	var versions []string
	for _, v := range vs.Versions {
		versions = append(versions, fmt.Sprintf("%s:%v", *v.VersionId, v.IsDefaultVersion))
	}
	ents := polMust(c.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(arn)}))(t)
	return fmt.Sprintf("default=%s attached=%d boundaries=%d updated=%s tags=%v versions=%v users=%d groups=%d roles=%d",
		*p.Policy.DefaultVersionId, *p.Policy.AttachmentCount, *p.Policy.PermissionsBoundaryUsageCount, aws.ToTime(p.Policy.UpdateDate),
		polTags(p.Policy.Tags), versions, len(ents.PolicyUsers), len(ents.PolicyGroups), len(ents.PolicyRoles))
}

func polTags(tags []types.Tag) []string {
	out := []string{}
	for _, t := range tags {
		out = append(out, *t.Key+"="+*t.Value)
	}
	return out
}

// polList pages through ListPolicies with pageSize and returns the ARNs.
func polList(t *testing.T, c *iam.Client, in iam.ListPoliciesInput, pageSize int32) []string {
	t.Helper()
	in.MaxItems = aws.Int32(pageSize)
	var arns []string
	for {
		out := polMust(c.ListPolicies(context.Background(), &in))(t)
		if out.Policies == nil {
			t.Fatal("ListPolicies returned no Policies element")
		}
		for _, p := range out.Policies {
			arns = append(arns, *p.Arn)
		}
		if !out.IsTruncated {
			return arns
		}
		if len(out.Policies) != int(pageSize) {
			t.Fatalf("truncated page has %d policies, want %d", len(out.Policies), pageSize)
		}
		in.Marker = out.Marker
	}
}

func TestPoliciesCustomerManaged(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.IAM

	out := polMust(c.CreatePolicy(ctx, &iam.CreatePolicyInput{
		PolicyName:     aws.String("ReadBucket"),
		Path:           aws.String("/team/"),
		Description:    aws.String("reads the bucket"),
		PolicyDocument: aws.String(polDoc(300)),
		Tags:           []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}},
	}))(t)
	p := out.Policy
	arn := polARN(e, "/team/", "ReadBucket")
	switch {
	case aws.ToString(p.Arn) != arn:
		t.Errorf("Arn = %s, want %s", aws.ToString(p.Arn), arn)
	case !strings.HasPrefix(aws.ToString(p.PolicyId), "ANPA") || len(*p.PolicyId) != 21:
		t.Errorf("PolicyId = %s", aws.ToString(p.PolicyId))
	case aws.ToString(p.DefaultVersionId) != "v1" || aws.ToInt32(p.AttachmentCount) != 0 || aws.ToInt32(p.PermissionsBoundaryUsageCount) != 0 || !p.IsAttachable:
		t.Errorf("counts/flags: %+v", p)
	case p.CreateDate == nil || !p.CreateDate.Equal(aws.ToTime(p.UpdateDate)):
		t.Errorf("CreateDate %v UpdateDate %v", p.CreateDate, p.UpdateDate)
	case !slices.Equal(polTags(p.Tags), []string{"env=prod"}):
		t.Errorf("Tags = %v", polTags(p.Tags))
	}
	got := polMust(c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)}))(t).Policy
	if aws.ToString(got.Description) != "reads the bucket" || aws.ToString(got.PolicyId) != aws.ToString(p.PolicyId) || !slices.Equal(polTags(got.Tags), []string{"env=prod"}) {
		t.Errorf("GetPolicy = %+v", got)
	}
	v1 := polMust(c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v1")}))(t).PolicyVersion
	doc, err := url.QueryUnescape(aws.ToString(v1.Document))
	if err != nil || doc != polDoc(300) || !v1.IsDefaultVersion {
		t.Errorf("GetPolicyVersion v1: default=%v doc=%q (%v); raw %q", v1.IsDefaultVersion, doc, err, aws.ToString(v1.Document))
	}
	if strings.Contains(aws.ToString(v1.Document), "{") {
		t.Errorf("document not URL-encoded: %s", aws.ToString(v1.Document))
	}

	before := polState(t, c, arn)
	localBefore := polList(t, c, iam.ListPoliciesInput{Scope: types.PolicyScopeTypeLocal}, 100)
	errCases := []struct {
		name      string
		in        iam.CreatePolicyInput
		code, msg string
	}{
		{"case=same name", iam.CreatePolicyInput{PolicyName: aws.String("ReadBucket"), PolicyDocument: aws.String(polDoc(200))},
			"EntityAlreadyExists", "A policy called ReadBucket already exists. Duplicate names are not allowed."},
		{"case=name differing in case", iam.CreatePolicyInput{PolicyName: aws.String("readbucket"), Path: aws.String("/other/"), PolicyDocument: aws.String(polDoc(200))},
			"EntityAlreadyExists", "A policy called readbucket already exists. Duplicate names are not allowed."},
		{"case=malformed document", iam.CreatePolicyInput{PolicyName: aws.String("Bad"), PolicyDocument: aws.String(`{"Version": "2012-10-17", "Statement": [`)},
			"MalformedPolicyDocument", ""},
		{"case=document over 6144", iam.CreatePolicyInput{PolicyName: aws.String("Big"), PolicyDocument: aws.String(polDoc(6145))},
			"LimitExceeded", "Cannot exceed quota for PolicySize: 6144"},
		{"case=path without trailing slash", iam.CreatePolicyInput{PolicyName: aws.String("P"), Path: aws.String("/a"), PolicyDocument: aws.String(polDoc(200))},
			"ValidationError", ""},
		{"case=reserved tag key", iam.CreatePolicyInput{PolicyName: aws.String("T"), PolicyDocument: aws.String(polDoc(200)), Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}}},
			"InvalidInput", ""},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.CreatePolicy(ctx, &tc.in)
			polErr(t, err, tc.code, tc.msg)
		})
	}
	if after := polState(t, c, arn); after != before {
		t.Errorf("failed creates changed the policy:\n%s\n%s", before, after)
	}
	if after := polList(t, c, iam.ListPoliciesInput{Scope: types.PolicyScopeTypeLocal}, 100); !slices.Equal(after, localBefore) {
		t.Errorf("failed creates changed the list: %v -> %v", localBefore, after)
	}
	// Exactly at the quota is fine: white space does not count.
	polMust(c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("Max"), PolicyDocument: aws.String(polDoc(6144))}))(t)

	missing := polARN(e, "/", "Nope")
	other := "arn:aws:iam::999999999999:policy/Theirs"
	lookups := []struct {
		name      string
		call      func() error
		code, msg string
	}{
		{"op=GetPolicy missing", func() error {
			_, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(missing)})
			return err
		},
			"NoSuchEntity", "Policy " + missing + " was not found."},
		{"op=GetPolicy wrong path", func() error {
			_, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(polARN(e, "/", "ReadBucket"))})
			return err
		}, "NoSuchEntity", ""},
		{"op=GetPolicy wrong case", func() error {
			_, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(polARN(e, "/team/", "readbucket"))})
			return err
		}, "NoSuchEntity", ""},
		{"op=GetPolicy not an ARN", func() error {
			_, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("policy/ReadBucket-not-an-arn")})
			return err
		}, "InvalidInput", "ARN policy/ReadBucket-not-an-arn is not valid."},
		{"op=GetPolicy other account", func() error {
			_, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(other)})
			return err
		},
			"AccessDenied", ""},
		{"op=DeletePolicy missing", func() error {
			_, err := c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(missing)})
			return err
		},
			"NoSuchEntity", "Policy " + missing + " was not found."},
		{"op=ListPolicyVersions missing", func() error {
			_, err := c.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(missing)})
			return err
		}, "NoSuchEntity", "Policy " + missing + " was not found."},
		{"op=ListEntitiesForPolicy missing", func() error {
			_, err := c.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(missing)})
			return err
		}, "NoSuchEntity", "Policy " + missing + " was not found."},
	}
	for _, tc := range lookups {
		t.Run(tc.name, func(t *testing.T) { polErr(t, tc.call(), tc.code, tc.msg) })
	}

	// Another account sees none of this account's policies.
	_, other2, _ := e.newAccount(t)
	_, err = other2.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	polErr(t, err, "AccessDenied", "")
	if l := polList(t, other2, iam.ListPoliciesInput{Scope: types.PolicyScopeTypeLocal}, 100); len(l) != 0 {
		t.Errorf("other account lists %v", l)
	}

	polMust(c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)}))(t)
	_, err = c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	polErr(t, err, "NoSuchEntity", "Policy "+arn+" was not found.")
	// The name is free again, and the new policy starts at v1 with a new id.
	again := polCreate(t, c, "ReadBucket", "/team/")
	if *again.DefaultVersionId != "v1" || *again.PolicyId == *p.PolicyId {
		t.Errorf("recreated policy: %+v", again)
	}
}

func TestPoliciesVersions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.IAM
	arn := *polCreate(t, c, "Versioned", "/").Arn
	newVersion := func(size int, def bool) (*types.PolicyVersion, error) {
		out, err := c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(polDoc(size)), SetAsDefault: def})
		if err != nil {
			return nil, err
		}
		return out.PolicyVersion, nil
	}
	versions := func() []string {
		out := polMust(c.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(arn)}))(t)
		var s []string
		for _, v := range out.Versions {
			if v.Document != nil {
				t.Errorf("ListPolicyVersions returned a document for %s", *v.VersionId)
			}
			d := ""
			if v.IsDefaultVersion {
				d = "*"
			}
			s = append(s, *v.VersionId+d)
		}
		return s
	}

	v2 := polMust(newVersion(201, false))(t)
	if *v2.VersionId != "v2" || v2.IsDefaultVersion {
		t.Errorf("v2 = %+v", v2)
	}
	time.Sleep(1100 * time.Millisecond) // UpdateDate has a resolution of one second
	v3 := polMust(newVersion(202, true))(t)
	if *v3.VersionId != "v3" || !v3.IsDefaultVersion {
		t.Errorf("v3 = %+v", v3)
	}
	pol := polMust(c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)}))(t).Policy
	if *pol.DefaultVersionId != "v3" || !pol.UpdateDate.After(*pol.CreateDate) {
		t.Errorf("after v3: default %s, created %v, updated %v", *pol.DefaultVersionId, pol.CreateDate, pol.UpdateDate)
	}
	if got := versions(); !slices.Equal(got, []string{"v3*", "v2", "v1"}) {
		t.Errorf("versions = %v, want newest first", got)
	}
	gv := polMust(c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v2")}))(t).PolicyVersion
	if doc, _ := url.QueryUnescape(*gv.Document); doc != polDoc(201) || gv.IsDefaultVersion {
		t.Errorf("v2 document %q default %v", doc, gv.IsDefaultVersion)
	}
	polMust(newVersion(203, false))(t)
	polMust(newVersion(204, false))(t)

	before := polState(t, c, arn)
	_, err := newVersion(205, true)
	polErr(t, err, "LimitExceeded", "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.")
	_, err = newVersion(6145, false)
	polErr(t, err, "LimitExceeded", "Cannot exceed quota for PolicySize: 6144")
	_, err = c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String("{nope")})
	polErr(t, err, "MalformedPolicyDocument", "")
	_, err = c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v3")})
	polErr(t, err, "DeleteConflict", "Cannot delete the default version of a policy.")
	for _, op := range []struct {
		name string
		call func() error
	}{
		{"GetPolicyVersion", func() error {
			_, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v9")})
			return err
		}},
		{"DeletePolicyVersion", func() error {
			_, err := c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v9")})
			return err
		}},
		{"SetDefaultPolicyVersion", func() error {
			_, err := c.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v9")})
			return err
		}},
	} {
		t.Run("op="+op.name+" missing version", func(t *testing.T) {
			polErr(t, op.call(), "NoSuchEntity", "Policy "+arn+" version v9 does not exist or is not attachable.")
		})
	}
	_, err = c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)})
	polErr(t, err, "DeleteConflict", "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")
	if after := polState(t, c, arn); after != before {
		t.Errorf("failed requests changed the policy:\n%s\n%s", before, after)
	}

	// Pagination, newest first.
	var paged []string
	in := &iam.ListPolicyVersionsInput{PolicyArn: aws.String(arn), MaxItems: aws.Int32(2)}
	for {
		out := polMust(c.ListPolicyVersions(ctx, in))(t)
		for _, v := range out.Versions {
			paged = append(paged, *v.VersionId)
		}
		if !out.IsTruncated {
			break
		}
		in.Marker = out.Marker
	}
	if !slices.Equal(paged, []string{"v5", "v4", "v3", "v2", "v1"}) {
		t.Errorf("paged versions = %v", paged)
	}

	// Version ids are never reused.
	polMust(c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v5")}))(t)
	v6 := polMust(newVersion(206, false))(t)
	if *v6.VersionId != "v6" {
		t.Errorf("after deleting v5 the next version is %s, want v6", *v6.VersionId)
	}
	polMust(c.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v1")}))(t)
	if got := versions(); !slices.Equal(got, []string{"v6", "v4", "v3", "v2", "v1*"}) {
		t.Errorf("versions = %v", got)
	}
	for _, v := range []string{"v2", "v3", "v4", "v6"} {
		polMust(c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String(v)}))(t)
	}
	polMust(c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)}))(t)
	// A missing policy is reported as its missing version (LocalStack's recordings of AWS,
	// test_iam_policies.snapshot.json err-get-version-nonexistent-policy).
	_, err = c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v1")})
	polErr(t, err, "NoSuchEntity", "Policy "+arn+" version v1 does not exist or is not attachable.")
}

// polTarget drives the attach operations of one entity kind.
type polTarget struct {
	kind, label, quota string
	create             func(ctx context.Context, c *iam.Client, name, path string) error
	attach, detach     func(ctx context.Context, c *iam.Client, name, arn string) error
	list               func(ctx context.Context, c *iam.Client, name, prefix string, marker *string, max int32) ([]types.AttachedPolicy, bool, *string, error)
}

func polTargets() []polTarget {
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return aws.String(s)
	}
	return []polTarget{
		{
			kind: "User", label: "user", quota: "PoliciesPerUser",
			create: func(ctx context.Context, c *iam.Client, name, path string) error {
				_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name), Path: aws.String(path)})
				return err
			},
			attach: func(ctx context.Context, c *iam.Client, name, arn string) error {
				_, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(name), PolicyArn: aws.String(arn)})
				return err
			},
			detach: func(ctx context.Context, c *iam.Client, name, arn string) error {
				_, err := c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String(name), PolicyArn: aws.String(arn)})
				return err
			},
			list: func(ctx context.Context, c *iam.Client, name, prefix string, marker *string, max int32) ([]types.AttachedPolicy, bool, *string, error) {
				out, err := c.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(name), PathPrefix: opt(prefix), Marker: marker, MaxItems: aws.Int32(max)})
				if err != nil {
					return nil, false, nil, err
				}
				return out.AttachedPolicies, out.IsTruncated, out.Marker, nil
			},
		},
		{
			kind: "Group", label: "group", quota: "PoliciesPerGroup",
			create: func(ctx context.Context, c *iam.Client, name, path string) error {
				_, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(name), Path: aws.String(path)})
				return err
			},
			attach: func(ctx context.Context, c *iam.Client, name, arn string) error {
				_, err := c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String(name), PolicyArn: aws.String(arn)})
				return err
			},
			detach: func(ctx context.Context, c *iam.Client, name, arn string) error {
				_, err := c.DetachGroupPolicy(ctx, &iam.DetachGroupPolicyInput{GroupName: aws.String(name), PolicyArn: aws.String(arn)})
				return err
			},
			list: func(ctx context.Context, c *iam.Client, name, prefix string, marker *string, max int32) ([]types.AttachedPolicy, bool, *string, error) {
				out, err := c.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String(name), PathPrefix: opt(prefix), Marker: marker, MaxItems: aws.Int32(max)})
				if err != nil {
					return nil, false, nil, err
				}
				return out.AttachedPolicies, out.IsTruncated, out.Marker, nil
			},
		},
		{
			kind: "Role", label: "role", quota: "PoliciesPerRole",
			create: func(ctx context.Context, c *iam.Client, name, path string) error {
				_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), Path: aws.String(path), AssumeRolePolicyDocument: aws.String(trust)})
				return err
			},
			attach: func(ctx context.Context, c *iam.Client, name, arn string) error {
				_, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(name), PolicyArn: aws.String(arn)})
				return err
			},
			detach: func(ctx context.Context, c *iam.Client, name, arn string) error {
				_, err := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(name), PolicyArn: aws.String(arn)})
				return err
			},
			list: func(ctx context.Context, c *iam.Client, name, prefix string, marker *string, max int32) ([]types.AttachedPolicy, bool, *string, error) {
				out, err := c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name), PathPrefix: opt(prefix), Marker: marker, MaxItems: aws.Int32(max)})
				if err != nil {
					return nil, false, nil, err
				}
				return out.AttachedPolicies, out.IsTruncated, out.Marker, nil
			},
		},
	}
}

// listAll pages through an entity's attached policies and returns "name arn" pairs.
func (tg polTarget) listAll(t *testing.T, c *iam.Client, name, prefix string, pageSize int32) []string {
	t.Helper()
	var out []string
	var marker *string
	for {
		page, truncated, next, err := tg.list(context.Background(), c, name, prefix, marker, pageSize)
		polMust(0, err)(t)
		if page == nil {
			t.Fatal("AttachedPolicies element missing")
		}
		for _, p := range page {
			out = append(out, *p.PolicyName+" "+*p.PolicyArn)
		}
		if !truncated {
			return out
		}
		marker = next
	}
}

func TestPoliciesAttach(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.IAM
	var local []string // 11 customer-managed policies, two of them under /ops/
	for i := range 11 {
		path := "/"
		if i < 2 {
			path = "/ops/"
		}
		local = append(local, *polCreate(t, c, fmt.Sprintf("P%02d", i), path).Arn)
	}
	serviceRole := "arn:aws:iam::aws:policy/aws-service-role/AmazonECSServiceRolePolicy"
	for _, tg := range polTargets() {
		t.Run("kind="+tg.kind, func(t *testing.T) {
			name := "Target" + tg.kind
			polMust(0, tg.create(ctx, c, name, "/app/"))(t)
			polMust(0, tg.attach(ctx, c, name, polAdmin))(t)
			polMust(0, tg.attach(ctx, c, name, polAdmin))(t) // attaching again changes nothing
			for _, a := range local[:9] {
				polMust(0, tg.attach(ctx, c, name, a))(t)
			}
			all := tg.listAll(t, c, name, "", 3)
			if len(all) != 10 {
				t.Fatalf("attached = %v", all)
			}
			if !slices.Contains(all, "AdministratorAccess "+polAdmin) || !slices.Contains(all, "P00 "+local[0]) {
				t.Errorf("attached = %v", all)
			}
			if got := tg.listAll(t, c, name, "/ops/", 100); len(got) != 2 {
				t.Errorf("PathPrefix /ops/ = %v", got)
			}
			if got := tg.listAll(t, c, name, "/", 1); !slices.Equal(got, all) {
				t.Errorf("page size 1 gives %v, want %v", got, all)
			}

			state := polState(t, c, local[9])
			errs := []struct {
				name      string
				err       error
				code, msg string
			}{
				{"quota", tg.attach(ctx, c, name, local[9]), "LimitExceeded", fmt.Sprintf("Cannot exceed quota for %s: 10", tg.quota)},
				{"missing policy", tg.attach(ctx, c, name, polARN(e, "/", "Nope")), "NoSuchEntity", "Policy " + polARN(e, "/", "Nope") + " does not exist or is not attachable."},
				{"missing AWS policy", tg.attach(ctx, c, name, "arn:aws:iam::aws:policy/NoSuchAWSPolicy"), "NoSuchEntity", "Policy arn:aws:iam::aws:policy/NoSuchAWSPolicy does not exist or is not attachable."},
				{"other account's policy", tg.attach(ctx, c, name, "arn:aws:iam::999999999999:policy/P00"), "NoSuchEntity", ""},
				{"not an ARN", tg.attach(ctx, c, name, "just-some-policy-name"), "InvalidInput", "ARN just-some-policy-name is not valid."},
				{"missing entity", tg.attach(ctx, c, "Nobody", local[0]), "NoSuchEntity", fmt.Sprintf("The %s with name Nobody cannot be found.", tg.label)},
				{"detach not attached", tg.detach(ctx, c, name, local[10]), "NoSuchEntity", "Policy " + local[10] + " was not found."},
				{"detach missing entity", tg.detach(ctx, c, "Nobody", local[0]), "NoSuchEntity", fmt.Sprintf("The %s with name Nobody cannot be found.", tg.label)},
			}
			for _, ec := range errs {
				t.Run("case="+ec.name, func(t *testing.T) { polErr(t, ec.err, ec.code, ec.msg) })
			}
			if got := tg.listAll(t, c, name, "", 100); !slices.Equal(got, all) {
				t.Errorf("failed attaches changed the list: %v", got)
			}
			if after := polState(t, c, local[9]); after != state {
				t.Errorf("failed attach changed the policy:\n%s\n%s", state, after)
			}
			// Service-linked role policies cannot be attached (under the quota now).
			polMust(0, tg.detach(ctx, c, name, local[8]))(t)
			polErr(t, tg.attach(ctx, c, name, serviceRole), "PolicyNotAttachable", "")
			if tg.kind == "Role" {
				polErr(t, tg.attach(ctx, c, name, serviceRole), "PolicyNotAttachable", "Cannot attach a Service Role Policy to a Customer Role.")
			}
			if got := tg.listAll(t, c, name, "", 100); len(got) != 9 {
				t.Errorf("after detach: %v", got)
			}
		})
	}

	// Every kind has P00 and AdministratorAccess attached.
	for _, arn := range []string{local[0], polAdmin} {
		p := polMust(c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)}))(t).Policy
		if aws.ToInt32(p.AttachmentCount) != 3 {
			t.Errorf("%s AttachmentCount = %d, want 3", arn, aws.ToInt32(p.AttachmentCount))
		}
	}
	_, err := c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(local[0])})
	polErr(t, err, "DeleteConflict", "Cannot delete a policy attached to entities.")
	// Deleting an entity that has attached policies is refused by its own Delete operation.
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("TargetUser")})
	polErr(t, err, "DeleteConflict", "Cannot delete entity, must detach all policies first.")

	// ListEntitiesForPolicy.
	ents := func(in iam.ListEntitiesForPolicyInput) []string {
		var out []string
		for {
			page := polMust(c.ListEntitiesForPolicy(ctx, &in))(t)
			if page.PolicyUsers == nil || page.PolicyGroups == nil || page.PolicyRoles == nil {
				t.Fatal("ListEntitiesForPolicy left out a list element")
			}
			for _, g := range page.PolicyGroups {
				out = append(out, "group:"+*g.GroupName+":"+(*g.GroupId)[:4])
			}
			for _, r := range page.PolicyRoles {
				out = append(out, "role:"+*r.RoleName+":"+(*r.RoleId)[:4])
			}
			for _, u := range page.PolicyUsers {
				out = append(out, "user:"+*u.UserName+":"+(*u.UserId)[:4])
			}
			if !page.IsTruncated {
				return out
			}
			in.Marker = page.Marker
		}
	}
	polMust(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("Elsewhere"), Path: aws.String("/other/")}))(t)
	polMust(c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("Elsewhere"), PolicyArn: aws.String(local[0])}))(t)
	all := []string{"group:TargetGroup:AGPA", "role:TargetRole:AROA", "user:Elsewhere:AIDA", "user:TargetUser:AIDA"}
	entCases := []struct {
		name string
		in   iam.ListEntitiesForPolicyInput
		want []string
	}{
		{"all", iam.ListEntitiesForPolicyInput{}, all},
		{"page size 1", iam.ListEntitiesForPolicyInput{MaxItems: aws.Int32(1)}, all},
		{"users", iam.ListEntitiesForPolicyInput{EntityFilter: types.EntityTypeUser}, all[2:]},
		{"roles", iam.ListEntitiesForPolicyInput{EntityFilter: types.EntityTypeRole}, all[1:2]},
		{"groups", iam.ListEntitiesForPolicyInput{EntityFilter: types.EntityTypeGroup}, all[:1]},
		{"policies", iam.ListEntitiesForPolicyInput{EntityFilter: types.EntityTypeLocalManagedPolicy}, nil},
		{"path", iam.ListEntitiesForPolicyInput{PathPrefix: aws.String("/app/")}, []string{all[0], all[1], all[3]}},
		{"boundaries only", iam.ListEntitiesForPolicyInput{PolicyUsageFilter: types.PolicyUsageTypePermissionsBoundary}, nil},
		{"permissions only", iam.ListEntitiesForPolicyInput{PolicyUsageFilter: types.PolicyUsageTypePermissionsPolicy}, all},
	}
	for _, tc := range entCases {
		t.Run("ListEntitiesForPolicy="+tc.name, func(t *testing.T) {
			tc.in.PolicyArn = aws.String(local[0])
			if got := ents(tc.in); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}

	// Detaching everywhere frees the policy for deletion.
	for _, tg := range polTargets() {
		polMust(0, tg.detach(ctx, c, "Target"+tg.kind, local[0]))(t)
	}
	polMust(c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("Elsewhere"), PolicyArn: aws.String(local[0])}))(t)
	polMust(c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(local[0])}))(t)
}

func TestPoliciesBoundaries(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.IAM
	boundary := *polCreate(t, c, "Boundary", "/b/").Arn
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	polMust(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")}))(t)
	polMust(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("worker"), AssumeRolePolicyDocument: aws.String(trust)}))(t)
	// A boundary given at creation counts as much as one put later.
	polMust(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob"), PermissionsBoundary: aws.String(boundary)}))(t)

	polMust(c.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("alice"), PermissionsBoundary: aws.String(boundary)}))(t)
	polMust(c.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String("worker"), PermissionsBoundary: aws.String(polAdmin)}))(t)
	u := polMust(c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("alice")}))(t).User
	if u.PermissionsBoundary == nil || *u.PermissionsBoundary.PermissionsBoundaryArn != boundary || u.PermissionsBoundary.PermissionsBoundaryType != types.PermissionsBoundaryAttachmentTypePolicy {
		t.Errorf("GetUser boundary = %+v", u.PermissionsBoundary)
	}
	r := polMust(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("worker")}))(t).Role
	if r.PermissionsBoundary == nil || *r.PermissionsBoundary.PermissionsBoundaryArn != polAdmin {
		t.Errorf("GetRole boundary = %+v", r.PermissionsBoundary)
	}
	counts := func(arn string) string {
		p := polMust(c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)}))(t).Policy
		return fmt.Sprintf("attached=%d boundaries=%d", *p.AttachmentCount, *p.PermissionsBoundaryUsageCount)
	}
	if got := counts(boundary); got != "attached=0 boundaries=2" {
		t.Errorf("boundary counts: %s", got)
	}
	if got := counts(polAdmin); got != "attached=0 boundaries=1" {
		t.Errorf("AdministratorAccess counts: %s", got)
	}
	ents := polMust(c.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(boundary), PolicyUsageFilter: types.PolicyUsageTypePermissionsBoundary}))(t)
	if len(ents.PolicyUsers) != 2 || *ents.PolicyUsers[0].UserName != "alice" || *ents.PolicyUsers[1].UserName != "bob" {
		t.Errorf("boundary users = %+v", ents.PolicyUsers)
	}
	ents = polMust(c.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(boundary), PolicyUsageFilter: types.PolicyUsageTypePermissionsPolicy}))(t)
	if len(ents.PolicyUsers) != 0 {
		t.Errorf("permissions-policy users = %+v", ents.PolicyUsers)
	}
	used := polList(t, c, iam.ListPoliciesInput{PolicyUsageFilter: types.PolicyUsageTypePermissionsBoundary}, 100)
	if !slices.Equal(used, []string{polAdmin, boundary}) {
		t.Errorf("ListPolicies PermissionsBoundary = %v", used)
	}

	state := polState(t, c, boundary)
	_, err := c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(boundary)})
	polErr(t, err, "DeleteConflict", "Cannot delete a policy attached to entities.")
	missing := polARN(e, "/", "Missing")
	_, err = c.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("alice"), PermissionsBoundary: aws.String(missing)})
	polErr(t, err, "NoSuchEntity", "Scope ARN: "+missing+" does not exist or is not attachable.")
	_, err = c.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String("worker"), PermissionsBoundary: aws.String(missing)})
	polErr(t, err, "NoSuchEntity", "Scope ARN: "+missing+" does not exist or is not attachable.")
	_, err = c.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("nobody"), PermissionsBoundary: aws.String(boundary)})
	polErr(t, err, "NoSuchEntity", "The user with name nobody cannot be found.")
	_, err = c.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String("nobody"), PermissionsBoundary: aws.String(boundary)})
	polErr(t, err, "NoSuchEntity", "The role with name nobody cannot be found.")
	_, err = c.DeleteUserPermissionsBoundary(ctx, &iam.DeleteUserPermissionsBoundaryInput{UserName: aws.String("nobody")})
	polErr(t, err, "NoSuchEntity", "The user with name nobody cannot be found.")
	_, err = c.DeleteRolePermissionsBoundary(ctx, &iam.DeleteRolePermissionsBoundaryInput{RoleName: aws.String("nobody")})
	polErr(t, err, "NoSuchEntity", "The role with name nobody cannot be found.")
	if after := polState(t, c, boundary); after != state {
		t.Errorf("failed requests changed the policy:\n%s\n%s", state, after)
	}
	if u := polMust(c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("alice")}))(t).User; *u.PermissionsBoundary.PermissionsBoundaryArn != boundary {
		t.Errorf("failed put changed alice's boundary to %s", *u.PermissionsBoundary.PermissionsBoundaryArn)
	}

	// Deleting the boundaries (and a user that had one) frees the policy.
	polMust(c.DeleteUserPermissionsBoundary(ctx, &iam.DeleteUserPermissionsBoundaryInput{UserName: aws.String("alice")}))(t)
	polMust(c.DeleteUserPermissionsBoundary(ctx, &iam.DeleteUserPermissionsBoundaryInput{UserName: aws.String("alice")}))(t) // none left: still fine
	polMust(c.DeleteRolePermissionsBoundary(ctx, &iam.DeleteRolePermissionsBoundaryInput{RoleName: aws.String("worker")}))(t)
	if u := polMust(c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("alice")}))(t).User; u.PermissionsBoundary != nil {
		t.Errorf("boundary still set: %+v", u.PermissionsBoundary)
	}
	if got := counts(polAdmin); got != "attached=0 boundaries=0" {
		t.Errorf("AdministratorAccess counts after delete: %s", got)
	}
	polMust(c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("bob")}))(t)
	if got := counts(boundary); got != "attached=0 boundaries=0" {
		t.Errorf("boundary counts after deletes: %s", got)
	}
	polMust(c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(boundary)}))(t)
}

func TestPoliciesAWSManaged(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.IAM

	p := polMust(c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(polAdmin)}))(t).Policy
	if *p.PolicyName != "AdministratorAccess" || *p.Path != "/" || *p.DefaultVersionId != "v1" || !p.IsAttachable ||
		!strings.HasPrefix(*p.PolicyId, "ANPA") || p.CreateDate.Format(time.RFC3339) != "2015-02-06T18:39:46Z" {
		t.Errorf("GetPolicy AdministratorAccess = %+v", p)
	}
	v := polMust(c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(polAdmin), VersionId: aws.String("v1")}))(t).PolicyVersion
	doc, err := url.QueryUnescape(*v.Document)
	if err != nil || !strings.Contains(doc, `"Action":"*"`) || !strings.Contains(doc, `"Resource":"*"`) || !v.IsDefaultVersion {
		t.Errorf("AdministratorAccess v1: %q (%v)", doc, err)
	}
	_, err = c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(polAdmin), VersionId: aws.String("v2")})
	polErr(t, err, "NoSuchEntity", "Policy "+polAdmin+" version v2 does not exist or is not attachable.")
	vs := polMust(c.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(polAdmin)}))(t)
	if len(vs.Versions) != 1 || *vs.Versions[0].VersionId != "v1" || !vs.Versions[0].IsDefaultVersion {
		t.Errorf("ListPolicyVersions = %+v", vs.Versions)
	}
	tags := polMust(c.ListPolicyTags(ctx, &iam.ListPolicyTagsInput{PolicyArn: aws.String(polAdmin)}))(t)
	if tags.Tags == nil || len(tags.Tags) != 0 {
		t.Errorf("ListPolicyTags = %+v", tags.Tags)
	}
	lambda := "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
	if p := polMust(c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(lambda)}))(t).Policy; *p.Path != "/service-role/" {
		t.Errorf("path = %s", *p.Path)
	}
	_, err = c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/NoSuchThing")})
	polErr(t, err, "NoSuchEntity", "Policy arn:aws:iam::aws:policy/NoSuchThing was not found.")

	// AWS-managed policies are read-only in every account.
	denied := "User: arn:aws:iam::" + e.Account + ":root is not authorized to perform: iam:%s on resource: policy " + polAdmin
	writes := []struct {
		op   string
		call func() error
	}{
		{"DeletePolicy", func() error {
			_, err := c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(polAdmin)})
			return err
		}},
		{"CreatePolicyVersion", func() error {
			_, err := c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(polAdmin), PolicyDocument: aws.String(polDoc(200)), SetAsDefault: true})
			return err
		}},
		{"DeletePolicyVersion", func() error {
			_, err := c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(polAdmin), VersionId: aws.String("v1")})
			return err
		}},
		{"SetDefaultPolicyVersion", func() error {
			_, err := c.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: aws.String(polAdmin), VersionId: aws.String("v1")})
			return err
		}},
		{"TagPolicy", func() error {
			_, err := c.TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: aws.String(polAdmin), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			return err
		}},
		{"UntagPolicy", func() error {
			_, err := c.UntagPolicy(ctx, &iam.UntagPolicyInput{PolicyArn: aws.String(polAdmin), TagKeys: []string{"k"}})
			return err
		}},
	}
	for _, w := range writes {
		t.Run("op="+w.op, func(t *testing.T) { polErr(t, w.call(), "AccessDenied", fmt.Sprintf(denied, w.op)) })
	}
	after := polMust(c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(polAdmin)}))(t).Policy
	if *after.DefaultVersionId != "v1" || len(after.Tags) != 0 {
		t.Errorf("AdministratorAccess changed: %+v", after)
	}

	// Attachment counts are per account.
	polMust(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("admins")}))(t)
	polMust(c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("admins"), PolicyArn: aws.String(polAdmin)}))(t)
	_, other, _ := e.newAccount(t)
	if p := polMust(other.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(polAdmin)}))(t).Policy; *p.AttachmentCount != 0 {
		t.Errorf("other account sees AttachmentCount %d", *p.AttachmentCount)
	}
	if p := polMust(c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(polAdmin)}))(t).Policy; *p.AttachmentCount != 1 {
		t.Errorf("AttachmentCount %d, want 1", *p.AttachmentCount)
	}
}

func TestPoliciesList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.IAM
	// Local policies that sort among the AWS ones, one with an AWS policy's name.
	for _, n := range []struct{ name, path string }{{"AdministratorAccess", "/mine/"}, {"aaa-first", "/"}, {"zzz-last", "/service-role/"}, {"Middle", "/"}} {
		polCreate(t, c, n.name, n.path)
	}
	mineAdmin := polARN(e, "/mine/", "AdministratorAccess")

	awsAll := polList(t, c, iam.ListPoliciesInput{Scope: types.PolicyScopeTypeAws}, 1000)
	if len(awsAll) != 1485 {
		t.Errorf("Scope AWS lists %d policies, want 1485", len(awsAll))
	}
	for _, a := range awsAll {
		if !strings.HasPrefix(a, "arn:aws:iam::aws:policy/") {
			t.Fatalf("Scope AWS lists %s", a)
		}
	}
	localAll := polList(t, c, iam.ListPoliciesInput{Scope: types.PolicyScopeTypeLocal}, 2)
	if want := []string{polARN(e, "/", "aaa-first"), mineAdmin, polARN(e, "/", "Middle"), polARN(e, "/service-role/", "zzz-last")}; !slices.Equal(localAll, want) {
		t.Errorf("Scope Local = %v, want %v", localAll, want)
	}
	all := polList(t, c, iam.ListPoliciesInput{}, 1000)
	if len(all) != 1489 {
		t.Fatalf("Scope All lists %d, want 1489", len(all))
	}
	lower := func(a string) string { return strings.ToLower(a[strings.LastIndex(a, "/")+1:]) }
	for i := 1; i < len(all); i++ {
		if lower(all[i-1]) > lower(all[i]) {
			t.Fatalf("Scope All out of order at %d: %s, %s", i, all[i-1], all[i])
		}
	}
	i := slices.Index(all, mineAdmin)
	if i < 0 || all[i+1] != polAdmin {
		t.Errorf("the account's AdministratorAccess should come just before AWS's: %v", all[max(i-1, 0):min(i+2, len(all))])
	}
	// Any page size gives the same list, without gaps or repeats around the name shared by both.
	for _, size := range []int32{1, 7, 100} {
		in := iam.ListPoliciesInput{}
		if size == 1 {
			in.PathPrefix = aws.String("/mine/")
		}
		got := polList(t, c, in, size)
		want := all
		if size == 1 {
			want = []string{mineAdmin}
		}
		if !slices.Equal(got, want) {
			t.Errorf("page size %d: %d entries, want %d", size, len(got), len(want))
		}
	}
	sr := polList(t, c, iam.ListPoliciesInput{PathPrefix: aws.String("/service-role/")}, 1000)
	if len(sr) != 219 || !slices.Contains(sr, polARN(e, "/service-role/", "zzz-last")) {
		t.Errorf("PathPrefix /service-role/ lists %d (want 218 AWS + 1 local)", len(sr))
	}

	// The Policy element of ListPolicies has counts but no Description or Tags.
	page := polMust(c.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: types.PolicyScopeTypeLocal, MaxItems: aws.Int32(1)}))(t)
	if p := page.Policies[0]; p.AttachmentCount == nil || p.PermissionsBoundaryUsageCount == nil || p.Description != nil || p.Tags != nil || !page.IsTruncated || page.Marker == nil {
		t.Errorf("listed policy = %+v, truncated %v", p, page.IsTruncated)
	}

	// OnlyAttached keeps attached policies of both scopes, and stays fast with the whole
	// AWS catalogue to go through.
	polMust(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("u")}))(t)
	for _, a := range []string{polAdmin, mineAdmin, "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"} {
		polMust(c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("u"), PolicyArn: aws.String(a)}))(t)
	}
	start := time.Now()
	attached := polList(t, c, iam.ListPoliciesInput{OnlyAttached: true}, 100)
	elapsed := time.Since(start)
	if want := []string{mineAdmin, polAdmin, "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"}; !slices.Equal(attached, want) {
		t.Errorf("OnlyAttached = %v, want %v", attached, want)
	}
	t.Logf("ListPolicies OnlyAttached over %d policies took %v", len(all), elapsed)
	if elapsed > 2*time.Second {
		t.Errorf("ListPolicies OnlyAttached took %v", elapsed)
	}
	if got := polList(t, c, iam.ListPoliciesInput{OnlyAttached: true, Scope: types.PolicyScopeTypeLocal}, 100); !slices.Equal(got, []string{mineAdmin}) {
		t.Errorf("OnlyAttached Local = %v", got)
	}
	if got := polList(t, c, iam.ListPoliciesInput{PolicyUsageFilter: types.PolicyUsageTypePermissionsPolicy, Scope: types.PolicyScopeTypeAws}, 1); len(got) != 2 {
		t.Errorf("PermissionsPolicy AWS = %v", got)
	}

	_, err := c.ListPolicies(ctx, &iam.ListPoliciesInput{Marker: aws.String("not-a-marker!")})
	polErr(t, err, "ValidationError", "")
	_, err = c.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: "Everything"})
	polErr(t, err, "ValidationError", "")
}

func TestPoliciesTags(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.IAM
	arn := *polCreate(t, c, "Tagged", "/").Arn
	tag := func(kv ...string) []types.Tag {
		var out []types.Tag
		for i := 0; i < len(kv); i += 2 {
			out = append(out, types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
		}
		return out
	}
	list := func(size int32) []string {
		var out []string
		in := &iam.ListPolicyTagsInput{PolicyArn: aws.String(arn), MaxItems: aws.Int32(size)}
		for {
			page := polMust(c.ListPolicyTags(ctx, in))(t)
			out = append(out, polTags(page.Tags)...)
			if !page.IsTruncated {
				return out
			}
			in.Marker = page.Marker
		}
	}
	polMust(c.TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: aws.String(arn), Tags: tag("b", "1", "a", "2", "C", "3")}))(t)
	polMust(c.TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: aws.String(arn), Tags: tag("B", "9")}))(t) // keys ignore case
	// Sorted by key case-sensitively, upper case first, as AWS lists tags.
	if got := list(2); !slices.Equal(got, []string{"B=9", "C=3", "a=2"}) {
		t.Errorf("tags = %v", got)
	}
	before := polState(t, c, arn)
	var many []string
	for i := range 48 {
		many = append(many, fmt.Sprintf("k%02d", i), "v")
	}
	_, err := c.TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: aws.String(arn), Tags: tag(many...)})
	polErr(t, err, "LimitExceeded", "")
	_, err = c.TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: aws.String(arn), Tags: tag("x", "1", "X", "2")})
	polErr(t, err, "InvalidInput", "")
	_, err = c.TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: aws.String(polARN(e, "/", "Nope")), Tags: tag("x", "1")})
	polErr(t, err, "NoSuchEntity", "Policy "+polARN(e, "/", "Nope")+" was not found.")
	if after := polState(t, c, arn); after != before {
		t.Errorf("failed tagging changed the policy:\n%s\n%s", before, after)
	}
	polMust(c.UntagPolicy(ctx, &iam.UntagPolicyInput{PolicyArn: aws.String(arn), TagKeys: []string{"a", "c", "missing"}}))(t)
	if got := list(100); !slices.Equal(got, []string{"B=9"}) {
		t.Errorf("after untag: %v", got)
	}
}
