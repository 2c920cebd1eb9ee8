package iam

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/entity"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// Role quotas and defaults (IAM and AWS STS quotas; CreateRole's MaxSessionDuration default).
const (
	maxRolesPerAccount        = 1000
	defaultMaxSessionDuration = 3600
)

// roleView says which members of the Role element an operation returns: AWS leaves some out.
type roleView int

const (
	roleCreated roleView = iota // CreateRole: no MaxSessionDuration, no RoleLastUsed
	roleListed                  // ListRoles: no PermissionsBoundary, RoleLastUsed or Tags
	roleFull                    // GetRole, UpdateRoleDescription: everything
)

// sdkRole is the Role element; the trust policy is URL-encoded as IAM returns documents.
func sdkRole(account string, r *store.Role, view roleView) types.Role {
	out := types.Role{
		Arn:                      aws.String(entity.RoleARN(account, r)),
		AssumeRolePolicyDocument: aws.String(awsquery.EncodeDocument(r.AssumeRolePolicyDocument)),
		CreateDate:               aws.Time(r.CreateDate),
		Path:                     aws.String(r.Path),
		RoleId:                   aws.String(r.ID),
		RoleName:                 aws.String(r.Name),
	}
	if r.Description != "" {
		out.Description = aws.String(r.Description)
	}
	if view != roleCreated {
		out.MaxSessionDuration = aws.Int32(r.MaxSessionDuration)
	}
	if view != roleListed {
		out.PermissionsBoundary = sdkBoundary(r.PermissionsBoundary)
		out.Tags = sdkTags(r.Tags)
	}
	if view == roleFull {
		// GetRole always has the element, empty while the role was never used.
		out.RoleLastUsed = &types.RoleLastUsed{LastUsedDate: r.LastUsedDate}
		if r.LastUsedRegion != "" {
			out.RoleLastUsed.Region = aws.String(r.LastUsedRegion)
		}
	}
	return out
}

func noSuchRole(name string) error {
	return awsquery.NoSuchEntity("The role with name %s cannot be found.", name)
}

// loadRole reads a role by name, answering NoSuchEntity when there is none.
func loadRole(ctx context.Context, tx store.Tx, account, name string) (*store.Role, error) {
	r, err := store.Load[store.Role](ctx, tx, store.KindRole, account, store.NameKey(name))
	if isNotFound(err) {
		return nil, noSuchRole(name)
	}
	return r, err
}

func roleRecord(account string, r *store.Role) store.Record {
	return store.Record{Account: account, Kind: store.KindRole, Key: store.NameKey(r.Name), ID: r.ID, Path: r.Path, Data: store.Encode(r)}
}

// validateTrustPolicy checks an assume-role policy document and the trust policy size quota,
// which AWS reports under its internal name ACLSizePerRole.
func validateTrustPolicy(doc string) error {
	if err := validateDocument(doc, docTrust); err != nil {
		return err
	}
	if policySize(doc) > maxTrustPolicySize {
		return awsquery.LimitExceeded("Cannot exceed quota for ACLSizePerRole: %d", maxTrustPolicySize)
	}
	return nil
}

func (s *Service) roleOperations() []operation {
	return []operation{
		{"CreateRole", awsquery.Handle(s.CreateRole)},
		{"GetRole", awsquery.Handle(s.GetRole)},
		{"UpdateRole", awsquery.Handle(s.UpdateRole)},
		{"UpdateRoleDescription", awsquery.Handle(s.UpdateRoleDescription)},
		{"UpdateAssumeRolePolicy", awsquery.Handle(s.UpdateAssumeRolePolicy)},
		{"DeleteRole", awsquery.Handle(s.DeleteRole)},
		{"ListRoles", awsquery.Handle(s.ListRoles)},
	}
}

// CreateRole creates a role with its trust policy.
func (s *Service) CreateRole(ctx context.Context, in *iam.CreateRoleInput) (*iam.CreateRoleOutput, error) {
	account := caller(ctx).Account
	if err := validatePath(in.Path); err != nil {
		return nil, err
	}
	if strings.HasPrefix(aws.ToString(in.Path), slrPathPrefix) {
		return nil, awsquery.InvalidInput("Path prefix '%s' can only be used for AWS Service linked Roles", slrPathPrefix)
	}
	if err := validateTrustPolicy(*in.AssumeRolePolicyDocument); err != nil {
		return nil, err
	}
	tags, err := tagsFromInput(in.Tags)
	if err != nil {
		return nil, err
	}
	r := &store.Role{
		ID:                       s.ids.UniqueID("AROA"),
		Name:                     *in.RoleName,
		Path:                     defaultPath(in.Path),
		CreateDate:               s.timestamp(),
		AssumeRolePolicyDocument: *in.AssumeRolePolicyDocument,
		Description:              aws.ToString(in.Description),
		MaxSessionDuration:       defaultMaxSessionDuration,
		Tags:                     tags,
	}
	if in.MaxSessionDuration != nil {
		r.MaxSessionDuration = *in.MaxSessionDuration
	}
	exists := func() error { return awsquery.EntityAlreadyExists("Role with name %s already exists.", r.Name) }
	var shown string
	err = s.create(ctx, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.Get(ctx, store.KindRole, account, store.NameKey(r.Name)); err == nil {
			return exists()
		} else if !isNotFound(err) {
			return err
		}
		n, err := tx.Count(ctx, store.KindRole, account, "")
		if err != nil {
			return err
		}
		if n >= maxRolesPerAccount {
			return awsquery.LimitExceeded("Cannot exceed quota for RolesPerAccount: %d", maxRolesPerAccount)
		}
		if r.PermissionsBoundary, err = boundaryFor(ctx, tx, account, in.PermissionsBoundary); err != nil {
			return err
		}
		if r.AssumeRolePolicyDocument, err = bindPrincipals(ctx, tx, r.AssumeRolePolicyDocument); err != nil {
			return err
		}
		err = tx.Insert(ctx, roleRecord(account, r))
		if isExists(err) {
			return exists()
		}
		if err != nil {
			return err
		}
		shown, err = showPrincipals(ctx, tx, r.AssumeRolePolicyDocument)
		return err
	})
	if err != nil {
		return nil, err
	}
	r.AssumeRolePolicyDocument = shown
	out := sdkRole(account, r, roleCreated)
	return &iam.CreateRoleOutput{Role: &out}, nil
}

// GetRole returns a role with its trust policy and last use.
func (s *Service) GetRole(ctx context.Context, in *iam.GetRoleInput) (*iam.GetRoleOutput, error) {
	account := caller(ctx).Account
	var r *store.Role
	err := s.view(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		if r, err = loadRole(ctx, tx, account, *in.RoleName); err != nil {
			return err
		}
		r.AssumeRolePolicyDocument, err = showPrincipals(ctx, tx, r.AssumeRolePolicyDocument)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := sdkRole(account, r, roleFull)
	return &iam.GetRoleOutput{Role: &out}, nil
}

// changeRole loads a role, applies change and stores it, all in one transaction. It returns
// the role as IAM shows it (see showPrincipals).
func (s *Service) changeRole(ctx context.Context, name string, change func(ctx context.Context, tx store.Tx, r *store.Role) error) (*store.Role, error) {
	account := caller(ctx).Account
	var r *store.Role
	err := s.update(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		if r, err = loadRole(ctx, tx, account, name); err != nil {
			return err
		}
		if err := change(ctx, tx, r); err != nil {
			return err
		}
		if err := tx.Replace(ctx, roleRecord(account, r)); err != nil {
			return err
		}
		r.AssumeRolePolicyDocument, err = showPrincipals(ctx, tx, r.AssumeRolePolicyDocument)
		return err
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// UpdateRole changes a role's description or maximum session duration.
func (s *Service) UpdateRole(ctx context.Context, in *iam.UpdateRoleInput) (*iam.UpdateRoleOutput, error) {
	_, err := s.changeRole(ctx, *in.RoleName, func(_ context.Context, _ store.Tx, r *store.Role) error {
		if in.MaxSessionDuration != nil {
			// A service-linked role's description may change, nothing else.
			if err := modifiableRole(r); err != nil {
				return err
			}
		}
		if in.Description != nil {
			r.Description = *in.Description
		}
		if in.MaxSessionDuration != nil {
			r.MaxSessionDuration = *in.MaxSessionDuration
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iam.UpdateRoleOutput{}, nil
}

// UpdateRoleDescription changes a role's description and returns the role.
func (s *Service) UpdateRoleDescription(ctx context.Context, in *iam.UpdateRoleDescriptionInput) (*iam.UpdateRoleDescriptionOutput, error) {
	r, err := s.changeRole(ctx, *in.RoleName, func(_ context.Context, _ store.Tx, r *store.Role) error {
		r.Description = *in.Description
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := sdkRole(caller(ctx).Account, r, roleFull)
	return &iam.UpdateRoleDescriptionOutput{Role: &out}, nil
}

// UpdateAssumeRolePolicy replaces a role's trust policy.
func (s *Service) UpdateAssumeRolePolicy(ctx context.Context, in *iam.UpdateAssumeRolePolicyInput) (*iam.UpdateAssumeRolePolicyOutput, error) {
	if err := validateTrustPolicy(*in.PolicyDocument); err != nil {
		return nil, err
	}
	_, err := s.changeRole(ctx, *in.RoleName, func(ctx context.Context, tx store.Tx, r *store.Role) (err error) {
		if err := modifiableRole(r); err != nil {
			return err
		}
		r.AssumeRolePolicyDocument, err = bindPrincipals(ctx, tx, *in.PolicyDocument)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iam.UpdateAssumeRolePolicyOutput{}, nil
}

// DeleteRole deletes a role that no longer has policies or instance profiles; a
// service-linked role goes through DeleteServiceLinkedRole.
func (s *Service) DeleteRole(ctx context.Context, in *iam.DeleteRoleInput) (*iam.DeleteRoleOutput, error) {
	account := caller(ctx).Account
	err := s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		r, err := loadRole(ctx, tx, account, *in.RoleName)
		if err != nil {
			return err
		}
		if err := modifiableRole(r); err != nil {
			return err
		}
		if l, err := tx.LinksFrom(ctx, account, store.LinkAttached, store.PrincipalRef(store.KindRole, r.ID)); err != nil || len(l) > 0 {
			return conflictOr(err, "Cannot delete entity, must detach all policies first.")
		}
		if n, err := tx.Count(ctx, store.KindInlinePolicy, account, store.ChildKey(r.ID, "")); err != nil || n > 0 {
			return conflictOr(err, "Cannot delete entity, must delete policies first.")
		}
		if p, err := instanceProfilesOfRole(ctx, tx, account, r.ID); err != nil || len(p) > 0 {
			return conflictOr(err, "Cannot delete entity, must remove roles from instance profile first.")
		}
		return tx.Delete(ctx, store.KindRole, account, store.NameKey(r.Name))
	})
	if err != nil {
		return nil, err
	}
	return &iam.DeleteRoleOutput{}, nil
}

// ListRoles lists roles, optionally under a path prefix.
func (s *Service) ListRoles(ctx context.Context, in *iam.ListRolesInput) (*iam.ListRolesOutput, error) {
	account := caller(ctx).Account
	roles, truncated, marker, err := listByPath(ctx, s, store.KindRole, account, in.Marker, in.MaxItems, in.PathPrefix,
		func(ctx context.Context, tx store.Tx, r *store.Role) (types.Role, error) {
			var err error
			r.AssumeRolePolicyDocument, err = showPrincipals(ctx, tx, r.AssumeRolePolicyDocument)
			return sdkRole(account, r, roleListed), err
		})
	if err != nil {
		return nil, err
	}
	return &iam.ListRolesOutput{Roles: roles, IsTruncated: truncated, Marker: marker}, nil
}

// RecordRoleUse stores that a role was assumed at the given time in region, for GetRole's
// RoleLastUsed. STS calls it after a successful AssumeRole*; a deleted role is not an error.
func (s *Service) RecordRoleUse(ctx context.Context, account, roleID, region string, at time.Time) error {
	return s.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		r, rec, err := store.LoadByID[store.Role](ctx, tx, store.KindRole, roleID)
		if isNotFound(err) || (err == nil && rec.Account != account) {
			return nil
		}
		if err != nil {
			return err
		}
		when := at.UTC().Truncate(time.Second)
		r.LastUsedDate, r.LastUsedRegion = &when, region
		rec.Data = store.Encode(r)
		return tx.Replace(ctx, rec)
	})
}
