package iam

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/entity"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

func noSuchVersion(policyARN, versionID string) error {
	return awsquery.NoSuchEntity("Policy %s version %s does not exist or is not attachable.", policyARN, versionID)
}

// loadVersionedPolicy is loadPolicy for GetPolicyVersion and SetDefaultPolicyVersion, which
// report a missing policy as the missing version: "Policy ARN version vN does not exist or is
// not attachable." (LocalStack's recordings of AWS, test_iam_policies.snapshot.json
// err-get-version-nonexistent-policy, err-set-default-nonexistent-policy).
func loadVersionedPolicy(ctx context.Context, tx store.Tx, policyARN, versionID, action string, write bool) (*entity.ManagedPolicy, error) {
	m, err := loadPolicy(ctx, tx, policyARN, action, write)
	if e := awsquery.AsError(err); e != nil && e.Code == "NoSuchEntity" {
		return nil, noSuchVersion(policyARN, versionID)
	}
	return m, err
}

// loadVersion reads one version of a customer-managed policy.
func loadVersion(ctx context.Context, tx store.Tx, account string, m *entity.ManagedPolicy, versionID string) (*store.PolicyVersion, error) {
	v, err := store.Load[store.PolicyVersion](ctx, tx, store.KindPolicyVersion, account, store.ChildKey(m.Local.ID, versionID))
	if isNotFound(err) {
		return nil, noSuchVersion(m.ARN, versionID)
	}
	return v, err
}

// versionNumber is N of a version id vN; 0 for ids Gatehouse never makes.
func versionNumber(id string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(id, "v"))
	if err != nil || !strings.HasPrefix(id, "v") {
		return 0
	}
	return n
}

// versionOrder is the ListPolicyVersions marker key of a version: IAM lists the newest version
// first, so keys ascend as version numbers descend.
func versionOrder(id string) string { return fmt.Sprintf("%010d", 1<<30-versionNumber(id)) }

// CreatePolicyVersion adds a version to a customer-managed policy, optionally making it the
// default. Version ids are never reused, even after DeletePolicyVersion.
func (s *Service) CreatePolicyVersion(ctx context.Context, in *iam.CreatePolicyVersionInput) (*iam.CreatePolicyVersionOutput, error) {
	if err := entity.CheckARN(*in.PolicyArn); err != nil {
		return nil, err
	}
	if err := validateManagedDocument(*in.PolicyDocument); err != nil {
		return nil, err
	}
	var v *store.PolicyVersion
	err := s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		m, err := loadPolicy(ctx, tx, *in.PolicyArn, "CreatePolicyVersion", true)
		if err != nil {
			return err
		}
		account, p := caller(ctx).Account, m.Local
		n, err := tx.Count(ctx, store.KindPolicyVersion, account, store.ChildKey(p.ID, ""))
		if err != nil {
			return err
		}
		if n >= maxPolicyVersions {
			return awsquery.LimitExceeded("A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", maxPolicyVersions)
		}
		now := s.timestamp()
		v = &store.PolicyVersion{PolicyID: p.ID, VersionID: "v" + strconv.Itoa(p.NextVersion), Document: *in.PolicyDocument, CreateDate: now}
		p.NextVersion++
		// UpdateDate is when the most recent version was created (GetPolicy's documentation).
		p.UpdateDate = now
		if in.SetAsDefault {
			p.DefaultVersionID = v.VersionID
		}
		if err := tx.Replace(ctx, policyRecord(account, p)); err != nil {
			return err
		}
		return tx.Insert(ctx, versionRecord(account, v))
	})
	if err != nil {
		return nil, err
	}
	return &iam.CreatePolicyVersionOutput{PolicyVersion: &types.PolicyVersion{
		CreateDate:       aws.Time(v.CreateDate),
		IsDefaultVersion: in.SetAsDefault,
		VersionId:        aws.String(v.VersionID),
	}}, nil
}

// GetPolicyVersion returns one version of a managed policy with its document, URL-encoded as
// IAM returns documents. AWS-managed policies have their default version only.
func (s *Service) GetPolicyVersion(ctx context.Context, in *iam.GetPolicyVersionInput) (*iam.GetPolicyVersionOutput, error) {
	var out *types.PolicyVersion
	err := s.view(ctx, func(ctx context.Context, tx store.Tx) error {
		m, err := loadVersionedPolicy(ctx, tx, *in.PolicyArn, *in.VersionId, "GetPolicyVersion", false)
		if err != nil {
			return err
		}
		if m.AWS != nil {
			if *in.VersionId != m.AWS.DefaultVersionID {
				return noSuchVersion(m.ARN, *in.VersionId)
			}
			out = &types.PolicyVersion{
				CreateDate:       aws.Time(m.AWS.UpdateDate), // the default version is the latest one
				Document:         aws.String(awsquery.EncodeDocument(m.AWS.Document)),
				IsDefaultVersion: true,
				VersionId:        aws.String(m.AWS.DefaultVersionID),
			}
			return nil
		}
		v, err := loadVersion(ctx, tx, caller(ctx).Account, m, *in.VersionId)
		if err != nil {
			return err
		}
		out = &types.PolicyVersion{
			CreateDate:       aws.Time(v.CreateDate),
			Document:         aws.String(awsquery.EncodeDocument(v.Document)),
			IsDefaultVersion: v.VersionID == m.Local.DefaultVersionID,
			VersionId:        aws.String(v.VersionID),
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iam.GetPolicyVersionOutput{PolicyVersion: out}, nil
}

// ListPolicyVersions lists the versions of a managed policy, newest first, without documents.
func (s *Service) ListPolicyVersions(ctx context.Context, in *iam.ListPolicyVersionsInput) (*iam.ListPolicyVersionsOutput, error) {
	pg, err := pageOf(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	var versions []types.PolicyVersion
	err = s.view(ctx, func(ctx context.Context, tx store.Tx) error {
		m, err := loadPolicy(ctx, tx, *in.PolicyArn, "ListPolicyVersions", false)
		if err != nil {
			return err
		}
		if m.AWS != nil {
			versions = []types.PolicyVersion{{CreateDate: aws.Time(m.AWS.UpdateDate), IsDefaultVersion: true, VersionId: aws.String(m.AWS.DefaultVersionID)}}
			return nil
		}
		recs, err := tx.List(ctx, store.KindPolicyVersion, caller(ctx).Account, store.Query{Prefix: store.ChildKey(m.Local.ID, "")})
		if err != nil {
			return err
		}
		for _, r := range recs {
			var v store.PolicyVersion
			if err := store.Decode(r, &v); err != nil {
				return err
			}
			versions = append(versions, types.PolicyVersion{CreateDate: aws.Time(v.CreateDate), IsDefaultVersion: v.VersionID == m.Local.DefaultVersionID, VersionId: aws.String(v.VersionID)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	key := func(v types.PolicyVersion) string { return versionOrder(*v.VersionId) }
	slices.SortFunc(versions, func(a, b types.PolicyVersion) int { return cmp.Compare(key(a), key(b)) })
	page, truncated, marker, err := cut(after(versions, pg.after, key), pg.limit, key)
	if err != nil {
		return nil, err
	}
	return &iam.ListPolicyVersionsOutput{Versions: append([]types.PolicyVersion{}, page...), IsTruncated: truncated, Marker: marker}, nil
}

// DeletePolicyVersion deletes a version that is not the policy's default.
func (s *Service) DeletePolicyVersion(ctx context.Context, in *iam.DeletePolicyVersionInput) (*iam.DeletePolicyVersionOutput, error) {
	err := s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		m, err := loadPolicy(ctx, tx, *in.PolicyArn, "DeletePolicyVersion", true)
		if err != nil {
			return err
		}
		account := caller(ctx).Account
		v, err := loadVersion(ctx, tx, account, m, *in.VersionId)
		if err != nil {
			return err
		}
		if v.VersionID == m.Local.DefaultVersionID {
			return awsquery.DeleteConflict("Cannot delete the default version of a policy.")
		}
		return tx.Delete(ctx, store.KindPolicyVersion, account, store.ChildKey(m.Local.ID, v.VersionID))
	})
	if err != nil {
		return nil, err
	}
	return &iam.DeletePolicyVersionOutput{}, nil
}

// SetDefaultPolicyVersion makes an existing version the one in effect.
func (s *Service) SetDefaultPolicyVersion(ctx context.Context, in *iam.SetDefaultPolicyVersionInput) (*iam.SetDefaultPolicyVersionOutput, error) {
	err := s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		m, err := loadVersionedPolicy(ctx, tx, *in.PolicyArn, *in.VersionId, "SetDefaultPolicyVersion", true)
		if err != nil {
			return err
		}
		account := caller(ctx).Account
		v, err := loadVersion(ctx, tx, account, m, *in.VersionId)
		if err != nil {
			return err
		}
		m.Local.DefaultVersionID = v.VersionID
		return tx.Replace(ctx, policyRecord(account, m.Local))
	})
	if err != nil {
		return nil, err
	}
	return &iam.SetDefaultPolicyVersionOutput{}, nil
}
