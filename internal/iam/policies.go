package iam

import (
	"bytes"
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/entity"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// Quotas of managed policies (IAM and AWS STS quotas, default values).
const (
	maxPoliciesPerAccount = 1500 // customer-managed policies in an account
	maxPolicyVersions     = 5    // stored versions of one managed policy
	maxAttachedPolicies   = 10   // managed policies attached to one user, group or role
)

func (s *Service) policyOperations() []operation {
	return []operation{
		{"CreatePolicy", awsquery.Handle(s.CreatePolicy)},
		{"GetPolicy", awsquery.Handle(s.GetPolicy)},
		{"DeletePolicy", awsquery.Handle(s.DeletePolicy)},
		{"ListPolicies", awsquery.Handle(s.ListPolicies)},
		{"CreatePolicyVersion", awsquery.Handle(s.CreatePolicyVersion)},
		{"GetPolicyVersion", awsquery.Handle(s.GetPolicyVersion)},
		{"ListPolicyVersions", awsquery.Handle(s.ListPolicyVersions)},
		{"DeletePolicyVersion", awsquery.Handle(s.DeletePolicyVersion)},
		{"SetDefaultPolicyVersion", awsquery.Handle(s.SetDefaultPolicyVersion)},
		{"AttachUserPolicy", awsquery.Handle(s.AttachUserPolicy)},
		{"DetachUserPolicy", awsquery.Handle(s.DetachUserPolicy)},
		{"AttachGroupPolicy", awsquery.Handle(s.AttachGroupPolicy)},
		{"DetachGroupPolicy", awsquery.Handle(s.DetachGroupPolicy)},
		{"AttachRolePolicy", awsquery.Handle(s.AttachRolePolicy)},
		{"DetachRolePolicy", awsquery.Handle(s.DetachRolePolicy)},
		{"ListAttachedUserPolicies", awsquery.Handle(s.ListAttachedUserPolicies)},
		{"ListAttachedGroupPolicies", awsquery.Handle(s.ListAttachedGroupPolicies)},
		{"ListAttachedRolePolicies", awsquery.Handle(s.ListAttachedRolePolicies)},
		{"ListEntitiesForPolicy", awsquery.Handle(s.ListEntitiesForPolicy)},
		{"PutUserPermissionsBoundary", awsquery.Handle(s.PutUserPermissionsBoundary)},
		{"DeleteUserPermissionsBoundary", awsquery.Handle(s.DeleteUserPermissionsBoundary)},
		{"PutRolePermissionsBoundary", awsquery.Handle(s.PutRolePermissionsBoundary)},
		{"DeleteRolePermissionsBoundary", awsquery.Handle(s.DeleteRolePermissionsBoundary)},
		{"TagPolicy", awsquery.Handle(s.TagPolicy)},
		{"UntagPolicy", awsquery.Handle(s.UntagPolicy)},
		{"ListPolicyTags", awsquery.Handle(s.ListPolicyTags)},
	}
}

// loadPolicy finds the policy that an operation on a policy resource names. Another account's
// policy is AccessDenied, as is changing (write) an AWS-managed one: the caller's account owns
// neither. A missing policy is NoSuchEntity.
func loadPolicy(ctx context.Context, tx store.Tx, policyARN, action string, write bool) (*entity.ManagedPolicy, error) {
	p := caller(ctx)
	if err := entity.CheckARN(policyARN); err != nil {
		return nil, err
	}
	if owner, _, _, ok := entity.ParsePolicyARN(policyARN); ok && owner != p.Account && (owner != "aws" || write) {
		return nil, awsquery.AccessDenied("User: %s is not authorized to perform: iam:%s on resource: policy %s", p.ARN, action, policyARN)
	}
	m, err := entity.FindPolicy(ctx, tx, p.Account, policyARN)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, awsquery.NoSuchEntity("Policy %s was not found.", policyARN)
	}
	return m, nil
}

// policyRecord is the store record of a customer-managed policy.
func policyRecord(account string, p *store.Policy) store.Record {
	return store.Record{Account: account, Kind: store.KindPolicy, Key: store.NameKey(p.Name), ID: p.ID, Path: p.Path, Data: store.Encode(p)}
}

// versionRecord is the store record of one version of a customer-managed policy.
func versionRecord(account string, v *store.PolicyVersion) store.Record {
	return store.Record{Account: account, Kind: store.KindPolicyVersion, Key: store.ChildKey(v.PolicyID, v.VersionID), Data: store.Encode(v)}
}

// validateManagedDocument checks a managed policy document and the managed policy size quota.
func validateManagedDocument(doc string) error {
	if err := validateDocument(doc, docIdentity); err != nil {
		return err
	}
	if policySize(doc) > maxManagedPolicySize {
		return awsquery.LimitExceeded("Cannot exceed quota for PolicySize: %d", maxManagedPolicySize)
	}
	return nil
}

// attachmentCount is how many users, groups and roles have the policy attached, counted from
// the links themselves so that it can never drift.
func attachmentCount(ctx context.Context, tx store.Tx, account, policyARN string) (int, error) {
	links, err := tx.LinksTo(ctx, account, store.LinkAttached, policyARN)
	return len(links), err
}

// entityRef names a user, group or role that uses a policy.
type entityRef struct {
	kind           store.Kind
	id, name, path string
}

// boundaryNeedle is how a stored user or role record spells a permissions boundary; records
// without it are skipped without being decoded.
const boundaryNeedle = `"boundary":"`

// boundaryUses maps each policy ARN used as a permissions boundary in account to the users and
// roles that use it. It reads every user and role record: boundaries are fields of those
// records (set by CreateUser and CreateRole too), so the answer is always true without any
// bookkeeping elsewhere; records without a boundary are not decoded.
func boundaryUses(ctx context.Context, tx store.Tx, account string) (map[string][]entityRef, error) {
	out := map[string][]entityRef{}
	needle := []byte(boundaryNeedle)
	for _, kind := range []store.Kind{store.KindRole, store.KindUser} {
		recs, err := tx.List(ctx, kind, account, store.Query{})
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			if !bytes.Contains(r.Data, needle) {
				continue
			}
			var ref entityRef
			var boundary string
			if kind == store.KindUser {
				var u store.User
				if err := store.Decode(r, &u); err != nil {
					return nil, err
				}
				ref, boundary = entityRef{store.KindUser, u.ID, u.Name, u.Path}, u.PermissionsBoundary
			} else {
				var ro store.Role
				if err := store.Decode(r, &ro); err != nil {
					return nil, err
				}
				ref, boundary = entityRef{store.KindRole, ro.ID, ro.Name, ro.Path}, ro.PermissionsBoundary
			}
			if boundary != "" {
				out[boundary] = append(out[boundary], ref)
			}
		}
	}
	return out, nil
}

// policyView says which members of the Policy element an operation returns.
type policyView int

const (
	policyListed  policyView = iota // ListPolicies: no Description, no Tags
	policyCreated                   // CreatePolicy: Tags, no Description
	policyFull                      // GetPolicy: everything
)

// sdkPolicy is the Policy element with the given usage counts.
func sdkPolicy(m *entity.ManagedPolicy, attached, boundaries int, view policyView) types.Policy {
	out := types.Policy{
		Arn:                           aws.String(m.ARN),
		AttachmentCount:               aws.Int32(int32(attached)),
		DefaultVersionId:              aws.String(m.DefaultVersion()),
		IsAttachable:                  true,
		Path:                          aws.String(m.Path()),
		PermissionsBoundaryUsageCount: aws.Int32(int32(boundaries)),
		PolicyName:                    aws.String(m.Name()),
	}
	if p := m.Local; p != nil {
		out.PolicyId, out.CreateDate, out.UpdateDate = aws.String(p.ID), aws.Time(p.CreateDate), aws.Time(p.UpdateDate)
		if view != policyListed {
			out.Tags = sdkTags(p.Tags)
		}
		if view == policyFull && p.Description != "" {
			out.Description = aws.String(p.Description)
		}
	} else {
		out.PolicyId, out.CreateDate, out.UpdateDate = aws.String(m.AWS.ID), aws.Time(m.AWS.CreateDate), aws.Time(m.AWS.UpdateDate)
	}
	if view == policyFull && out.Tags == nil {
		// GetPolicy writes an empty Tags element for an untagged policy, customer- or
		// AWS-managed (LocalStack's recordings of AWS: test_iam_policies.snapshot.json
		// get-without-tags, test_iam_managed_policies.snapshot.json); CreatePolicy leaves it out.
		out.Tags = []types.Tag{}
	}
	return out
}

// CreatePolicy creates a customer-managed policy with its first version, v1.
func (s *Service) CreatePolicy(ctx context.Context, in *iam.CreatePolicyInput) (*iam.CreatePolicyOutput, error) {
	account := caller(ctx).Account
	if err := validatePath(in.Path); err != nil {
		return nil, err
	}
	if err := validateManagedDocument(*in.PolicyDocument); err != nil {
		return nil, err
	}
	tags, err := tagsFromInput(in.Tags)
	if err != nil {
		return nil, err
	}
	now := s.timestamp()
	p := &store.Policy{
		ID:               s.ids.UniqueID("ANPA"),
		Name:             *in.PolicyName,
		Path:             defaultPath(in.Path),
		Description:      aws.ToString(in.Description),
		CreateDate:       now,
		UpdateDate:       now,
		DefaultVersionID: "v1",
		NextVersion:      2,
		Tags:             tags,
	}
	v := &store.PolicyVersion{PolicyID: p.ID, VersionID: "v1", Document: *in.PolicyDocument, CreateDate: now}
	err = s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		n, err := tx.Count(ctx, store.KindPolicy, account, "")
		if err != nil {
			return err
		}
		if n >= maxPoliciesPerAccount {
			return awsquery.LimitExceeded("Cannot exceed quota for PoliciesPerAccount: %d", maxPoliciesPerAccount)
		}
		err = tx.Insert(ctx, policyRecord(account, p))
		if isExists(err) {
			return awsquery.EntityAlreadyExists("A policy called %s already exists. Duplicate names are not allowed.", p.Name)
		}
		if err != nil {
			return err
		}
		return tx.Insert(ctx, versionRecord(account, v))
	})
	if err != nil {
		return nil, err
	}
	out := sdkPolicy(&entity.ManagedPolicy{ARN: entity.PolicyARN(account, p), Local: p}, 0, 0, policyCreated)
	return &iam.CreatePolicyOutput{Policy: &out}, nil
}

// GetPolicy describes a managed policy, customer- or AWS-managed, with its usage counts in the
// caller's account.
func (s *Service) GetPolicy(ctx context.Context, in *iam.GetPolicyInput) (*iam.GetPolicyOutput, error) {
	var out types.Policy
	err := s.view(ctx, func(ctx context.Context, tx store.Tx) error {
		m, err := loadPolicy(ctx, tx, *in.PolicyArn, "GetPolicy", false)
		if err != nil {
			return err
		}
		account := caller(ctx).Account
		attached, err := attachmentCount(ctx, tx, account, m.ARN)
		if err != nil {
			return err
		}
		uses, err := boundaryUses(ctx, tx, account)
		if err != nil {
			return err
		}
		out = sdkPolicy(m, attached, len(uses[m.ARN]), policyFull)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iam.GetPolicyOutput{Policy: &out}, nil
}

// DeletePolicy deletes a customer-managed policy that nothing uses and that has no version
// besides the default one, which goes with it.
func (s *Service) DeletePolicy(ctx context.Context, in *iam.DeletePolicyInput) (*iam.DeletePolicyOutput, error) {
	err := s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		m, err := loadPolicy(ctx, tx, *in.PolicyArn, "DeletePolicy", true)
		if err != nil {
			return err
		}
		account, p := caller(ctx).Account, m.Local
		attached, err := attachmentCount(ctx, tx, account, m.ARN)
		if err != nil {
			return err
		}
		uses, err := boundaryUses(ctx, tx, account)
		if err != nil {
			return err
		}
		if attached > 0 || len(uses[m.ARN]) > 0 {
			return awsquery.DeleteConflict("Cannot delete a policy attached to entities.")
		}
		versions, err := tx.List(ctx, store.KindPolicyVersion, account, store.Query{Prefix: store.ChildKey(p.ID, "")})
		if err != nil {
			return err
		}
		if len(versions) > 1 {
			return awsquery.DeleteConflict("This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")
		}
		for _, v := range versions {
			if err := tx.Delete(ctx, store.KindPolicyVersion, account, v.Key); err != nil {
				return err
			}
		}
		return tx.Delete(ctx, store.KindPolicy, account, store.NameKey(p.Name))
	})
	if err != nil {
		return nil, err
	}
	return &iam.DeletePolicyOutput{}, nil
}

// policyTags makes the tags of a customer-managed policy available to the shared TagX/UntagX/
// ListXTags code; the "name" it is given is the policy ARN. AWS-managed policies have no tags
// and cannot be tagged.
func policyTags(action string, write bool) tagged {
	return tagged{load: func(ctx context.Context, tx store.Tx, account, policyARN string) ([]store.Tag, func([]store.Tag) store.Record, error) {
		m, err := loadPolicy(ctx, tx, policyARN, action, write)
		if err != nil {
			return nil, nil, err
		}
		p := m.Local
		if p == nil {
			return nil, nil, nil
		}
		return p.Tags, func(tags []store.Tag) store.Record {
			p.Tags = tags
			return policyRecord(account, p)
		}, nil
	}}
}

// TagPolicy adds tags to a customer-managed policy or overwrites the values of keys it has.
func (s *Service) TagPolicy(ctx context.Context, in *iam.TagPolicyInput) (*iam.TagPolicyOutput, error) {
	err := s.retag(ctx, policyTags("TagPolicy", true), *in.PolicyArn, func(have []store.Tag) ([]store.Tag, error) { return mergeTags(have, in.Tags) })
	if err != nil {
		return nil, err
	}
	return &iam.TagPolicyOutput{}, nil
}

// UntagPolicy removes tags from a customer-managed policy; keys it does not have are ignored.
func (s *Service) UntagPolicy(ctx context.Context, in *iam.UntagPolicyInput) (*iam.UntagPolicyOutput, error) {
	err := s.retag(ctx, policyTags("UntagPolicy", true), *in.PolicyArn, func(have []store.Tag) ([]store.Tag, error) { return removeTags(have, in.TagKeys), nil })
	if err != nil {
		return nil, err
	}
	return &iam.UntagPolicyOutput{}, nil
}

// ListPolicyTags lists a managed policy's tags (none for AWS-managed policies).
func (s *Service) ListPolicyTags(ctx context.Context, in *iam.ListPolicyTagsInput) (*iam.ListPolicyTagsOutput, error) {
	tags, truncated, marker, err := s.listTags(ctx, policyTags("ListPolicyTags", false), *in.PolicyArn, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iam.ListPolicyTagsOutput{Tags: tags, IsTruncated: truncated, Marker: marker}, nil
}
