package iam

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/entity"
	"github.com/gatehouse-iam/gatehouse/internal/iam/awsmanaged"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// GetAccountAuthorizationDetails lists the account's users, groups, roles and managed policies
// with their policies, as one listing paged by Marker and MaxItems: users first, then groups,
// roles, customer-managed policies and AWS-managed policies, each by name. Documents are
// URL-encoded as everywhere in IAM.
//
// AWS-managed policies are only those the account uses: attached to a user, group or role, or
// a permissions boundary of one. The API Reference does not say; the AWS CLI's example answer
// (awscli/examples/iam/get-account-authorization-details.rst) lists an AWS-managed policy with
// AttachmentCount 1 after the customer-managed ones, and the boundary case is Gatehouse's
// choice, so that every policy the listed entities name has its document here.

func (s *Service) authorizationDetailsOperations() []operation {
	return []operation{
		{"GetAccountAuthorizationDetails", awsquery.Handle(s.GetAccountAuthorizationDetails)},
	}
}

// Sections of the combined listing; an item's key is its section and its key within it, so
// one marker orders every item.
const (
	detailUser      = "1"
	detailGroup     = "2"
	detailRole      = "3"
	detailLocal     = "4"
	detailAWSPolicy = "5"
)

// detailItem is one entry of the listing: a stored user, group, role or policy, or an
// AWS-managed policy.
type detailItem struct {
	key string
	rec store.Record
	aws *awsmanaged.Policy
}

func detailKey(it detailItem) string { return it.key }

// GetAccountAuthorizationDetails returns one page of the account's authorization details.
func (s *Service) GetAccountAuthorizationDetails(ctx context.Context, in *iam.GetAccountAuthorizationDetailsInput) (*iam.GetAccountAuthorizationDetailsOutput, error) {
	account := caller(ctx).Account
	pg, err := pageOf(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	want := map[types.EntityType]bool{}
	for _, f := range in.Filter {
		want[f] = true
	}
	all := len(want) == 0
	out := &iam.GetAccountAuthorizationDetailsOutput{
		UserDetailList:  []types.UserDetail{},
		GroupDetailList: []types.GroupDetail{},
		RoleDetailList:  []types.RoleDetail{},
		Policies:        []types.ManagedPolicyDetail{},
	}
	err = s.view(ctx, func(ctx context.Context, tx store.Tx) error {
		var items []detailItem
		for _, sec := range []struct {
			typ    types.EntityType
			kind   store.Kind
			prefix string
		}{
			{types.EntityTypeUser, store.KindUser, detailUser},
			{types.EntityTypeGroup, store.KindGroup, detailGroup},
			{types.EntityTypeRole, store.KindRole, detailRole},
			{types.EntityTypeLocalManagedPolicy, store.KindPolicy, detailLocal},
		} {
			if !all && !want[sec.typ] {
				continue
			}
			recs, err := tx.List(ctx, sec.kind, account, store.Query{})
			if err != nil {
				return err
			}
			for _, r := range recs {
				items = append(items, detailItem{key: sec.prefix + r.Key, rec: r})
			}
		}
		var uses map[string][]entityRef // boundaries, read once when a policy needs them
		// AWS-managed policies come last: finding those in use reads every entity's
		// attachments, so it is skipped when the page ends before them.
		if (all || want[types.EntityTypeAWSManagedPolicy]) && len(after(items, pg.after, detailKey)) <= pg.limit {
			var err error
			if uses, err = boundaryUses(ctx, tx, account); err != nil {
				return err
			}
			used, err := awsPoliciesInUse(ctx, tx, account, uses)
			if err != nil {
				return err
			}
			for _, p := range used {
				items = append(items, detailItem{key: detailAWSPolicy + p.SortKey(), aws: p})
			}
		}
		page, truncated, next, err := cut(after(items, pg.after, detailKey), pg.limit, detailKey)
		if err != nil {
			return err
		}
		out.IsTruncated, out.Marker = truncated, next
		for _, it := range page {
			switch it.key[:1] {
			case detailUser:
				d, err := userDetail(ctx, tx, account, it.rec)
				if err != nil {
					return err
				}
				out.UserDetailList = append(out.UserDetailList, d)
			case detailGroup:
				d, err := groupDetail(ctx, tx, account, it.rec)
				if err != nil {
					return err
				}
				out.GroupDetailList = append(out.GroupDetailList, d)
			case detailRole:
				d, err := roleDetail(ctx, tx, account, it.rec)
				if err != nil {
					return err
				}
				out.RoleDetailList = append(out.RoleDetailList, d)
			default:
				if uses == nil {
					if uses, err = boundaryUses(ctx, tx, account); err != nil {
						return err
					}
				}
				d, err := policyDetail(ctx, tx, account, it, uses)
				if err != nil {
					return err
				}
				out.Policies = append(out.Policies, d)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// awsPoliciesInUse are the AWS-managed policies attached to the account's users, groups and
// roles or used as their permissions boundaries, in SortKey order.
func awsPoliciesInUse(ctx context.Context, tx store.Tx, account string, boundaries map[string][]entityRef) ([]*awsmanaged.Policy, error) {
	set, err := entity.AWSPolicies()
	if err != nil {
		return nil, err
	}
	arns := map[string]bool{}
	for a := range boundaries {
		arns[a] = true
	}
	attached, err := accountAttachments(ctx, tx, account)
	if err != nil {
		return nil, err
	}
	for _, a := range attached {
		arns[a] = true
	}
	var out []*awsmanaged.Policy
	for a := range arns {
		if p := set.Lookup(a); p != nil {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b *awsmanaged.Policy) int { return cmp.Compare(a.SortKey(), b.SortKey()) })
	return out, nil
}

// attachedDetails are the managed policies attached to an entity, by ARN.
func attachedDetails(ctx context.Context, tx store.Tx, account, ref string) ([]types.AttachedPolicy, error) {
	links, err := tx.LinksFrom(ctx, account, store.LinkAttached, ref)
	if err != nil {
		return nil, err
	}
	arns := make([]string, 0, len(links))
	for _, l := range links {
		arns = append(arns, l.To)
	}
	slices.Sort(arns)
	out := make([]types.AttachedPolicy, 0, len(arns))
	for _, a := range arns {
		_, _, name, _ := entity.ParsePolicyARN(a)
		out = append(out, types.AttachedPolicy{PolicyArn: aws.String(a), PolicyName: aws.String(name)})
	}
	return out, nil
}

// inlineDetails are the inline policies of an entity, by name, with their documents.
func inlineDetails(ctx context.Context, tx store.Tx, account, ownerID string) ([]types.PolicyDetail, error) {
	recs, err := tx.List(ctx, store.KindInlinePolicy, account, store.Query{Prefix: store.ChildKey(ownerID, "")})
	if err != nil {
		return nil, err
	}
	out := make([]types.PolicyDetail, 0, len(recs))
	for _, r := range recs {
		var p store.InlinePolicy
		if err := store.Decode(r, &p); err != nil {
			return nil, err
		}
		out = append(out, types.PolicyDetail{PolicyName: aws.String(p.Name), PolicyDocument: aws.String(awsquery.EncodeDocument(p.Document))})
	}
	return out, nil
}

func userDetail(ctx context.Context, tx store.Tx, account string, rec store.Record) (types.UserDetail, error) {
	u := new(store.User)
	if err := store.Decode(rec, u); err != nil {
		return types.UserDetail{}, err
	}
	base := sdkUser(account, u, true)
	d := types.UserDetail{Arn: base.Arn, CreateDate: base.CreateDate, Path: base.Path, PermissionsBoundary: base.PermissionsBoundary,
		Tags: base.Tags, UserId: base.UserId, UserName: base.UserName, GroupList: []string{}}
	groups, err := userGroups(ctx, tx, account, u.ID)
	if err != nil {
		return d, err
	}
	for _, g := range groups {
		d.GroupList = append(d.GroupList, g.Name)
	}
	if d.UserPolicyList, err = inlineDetails(ctx, tx, account, u.ID); err != nil {
		return d, err
	}
	d.AttachedManagedPolicies, err = attachedDetails(ctx, tx, account, store.PrincipalRef(store.KindUser, u.ID))
	return d, err
}

func groupDetail(ctx context.Context, tx store.Tx, account string, rec store.Record) (types.GroupDetail, error) {
	g := new(store.Group)
	if err := store.Decode(rec, g); err != nil {
		return types.GroupDetail{}, err
	}
	base := sdkGroup(account, g)
	d := types.GroupDetail{Arn: base.Arn, CreateDate: base.CreateDate, GroupId: base.GroupId, GroupName: base.GroupName, Path: base.Path}
	var err error
	if d.GroupPolicyList, err = inlineDetails(ctx, tx, account, g.ID); err != nil {
		return d, err
	}
	d.AttachedManagedPolicies, err = attachedDetails(ctx, tx, account, store.PrincipalRef(store.KindGroup, g.ID))
	return d, err
}

func roleDetail(ctx context.Context, tx store.Tx, account string, rec store.Record) (types.RoleDetail, error) {
	r := new(store.Role)
	if err := store.Decode(rec, r); err != nil {
		return types.RoleDetail{}, err
	}
	var err error
	// The trust policy as IAM shows it: principals bound by id appear by ARN (GetRole does this).
	if r.AssumeRolePolicyDocument, err = showPrincipals(ctx, tx, r.AssumeRolePolicyDocument); err != nil {
		return types.RoleDetail{}, err
	}
	base := sdkRole(account, r, roleFull)
	d := types.RoleDetail{Arn: base.Arn, AssumeRolePolicyDocument: base.AssumeRolePolicyDocument, CreateDate: base.CreateDate,
		Path: base.Path, PermissionsBoundary: base.PermissionsBoundary, RoleId: base.RoleId, RoleLastUsed: base.RoleLastUsed,
		RoleName: base.RoleName, Tags: base.Tags, InstanceProfileList: []types.InstanceProfile{}}
	profiles, err := instanceProfilesOfRole(ctx, tx, account, r.ID)
	if err != nil {
		return d, err
	}
	for _, p := range profiles {
		ip, err := sdkInstanceProfile(ctx, tx, account, p, false)
		if err != nil {
			return d, err
		}
		d.InstanceProfileList = append(d.InstanceProfileList, ip)
	}
	if d.RolePolicyList, err = inlineDetails(ctx, tx, account, r.ID); err != nil {
		return d, err
	}
	d.AttachedManagedPolicies, err = attachedDetails(ctx, tx, account, store.PrincipalRef(store.KindRole, r.ID))
	return d, err
}

// policyDetail is a managed policy with every version and its document, built on sdkPolicy.
func policyDetail(ctx context.Context, tx store.Tx, account string, it detailItem, boundaries map[string][]entityRef) (types.ManagedPolicyDetail, error) {
	m := &entity.ManagedPolicy{AWS: it.aws}
	if it.aws != nil {
		m.ARN = it.aws.ARN
	} else {
		m.Local = new(store.Policy)
		if err := store.Decode(it.rec, m.Local); err != nil {
			return types.ManagedPolicyDetail{}, err
		}
		m.ARN = entity.PolicyARN(account, m.Local)
	}
	attached, err := attachmentCount(ctx, tx, account, m.ARN)
	if err != nil {
		return types.ManagedPolicyDetail{}, err
	}
	base := sdkPolicy(m, attached, len(boundaries[m.ARN]), policyFull)
	d := types.ManagedPolicyDetail{Arn: base.Arn, AttachmentCount: base.AttachmentCount, CreateDate: base.CreateDate,
		DefaultVersionId: base.DefaultVersionId, Description: base.Description, IsAttachable: base.IsAttachable, Path: base.Path,
		PermissionsBoundaryUsageCount: base.PermissionsBoundaryUsageCount, PolicyId: base.PolicyId, PolicyName: base.PolicyName,
		UpdateDate: base.UpdateDate}
	if m.AWS != nil {
		// The catalogue has the default version only, as GetPolicyVersion serves it.
		d.PolicyVersionList = []types.PolicyVersion{{CreateDate: aws.Time(m.AWS.UpdateDate), Document: aws.String(awsquery.EncodeDocument(m.AWS.Document)),
			IsDefaultVersion: true, VersionId: aws.String(m.AWS.DefaultVersionID)}}
		return d, nil
	}
	recs, err := tx.List(ctx, store.KindPolicyVersion, account, store.Query{Prefix: store.ChildKey(m.Local.ID, "")})
	if err != nil {
		return d, err
	}
	d.PolicyVersionList = make([]types.PolicyVersion, 0, len(recs))
	for _, r := range recs {
		var v store.PolicyVersion
		if err := store.Decode(r, &v); err != nil {
			return d, err
		}
		d.PolicyVersionList = append(d.PolicyVersionList, types.PolicyVersion{CreateDate: aws.Time(v.CreateDate),
			Document: aws.String(awsquery.EncodeDocument(v.Document)), IsDefaultVersion: v.VersionID == m.Local.DefaultVersionID,
			VersionId: aws.String(v.VersionID)})
	}
	// Newest first, as ListPolicyVersions lists them.
	slices.SortFunc(d.PolicyVersionList, func(a, b types.PolicyVersion) int {
		return strings.Compare(versionOrder(*a.VersionId), versionOrder(*b.VersionId))
	})
	return d, nil
}
