package iam

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/entity"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// attachTarget is a kind of entity managed policies attach to: users, groups or roles.
type attachTarget struct {
	kind  store.Kind
	label string // as AWS's messages name the kind: "user", "group", "role"
	quota string // the quota's name in LimitExceeded messages
	noun  string // for PolicyNotAttachable messages
}

func userTarget() attachTarget {
	return attachTarget{store.KindUser, "user", "PoliciesPerUser", "User"}
}
func groupTarget() attachTarget {
	return attachTarget{store.KindGroup, "group", "PoliciesPerGroup", "Group"}
}
func roleTarget() attachTarget {
	return attachTarget{store.KindRole, "role", "PoliciesPerRole", "Customer Role"}
}

// ref finds the named entity and returns its attached-policy link end.
func (t attachTarget) ref(ctx context.Context, tx store.Tx, account, name string) (string, error) {
	rec, err := tx.Get(ctx, t.kind, account, store.NameKey(name))
	if isNotFound(err) {
		return "", awsquery.NoSuchEntity("The %s with name %s cannot be found.", t.label, name)
	}
	if err != nil {
		return "", err
	}
	return store.PrincipalRef(t.kind, rec.ID), nil
}

// editableRef is ref for changes: a service-linked role's policies belong to its service.
func (t attachTarget) editableRef(ctx context.Context, tx store.Tx, account, name string) (string, error) {
	if t.kind != store.KindRole {
		return t.ref(ctx, tx, account, name)
	}
	r, err := loadRole(ctx, tx, account, name)
	if err == nil {
		err = modifiableRole(r)
	}
	if err != nil {
		return "", err
	}
	return store.PrincipalRef(store.KindRole, r.ID), nil
}

// attachPolicy attaches a managed policy to an entity; attaching it again changes nothing.
func (s *Service) attachPolicy(ctx context.Context, t attachTarget, name, policyARN string) error {
	account := caller(ctx).Account
	return s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		ref, err := t.editableRef(ctx, tx, account, name)
		if err != nil {
			return err
		}
		m, err := resolvePolicyARN(ctx, tx, account, policyARN)
		if err != nil {
			return err
		}
		// Service-linked role policies belong to roles that AWS services create for themselves.
		if m.AWS != nil && m.AWS.Path == "/aws-service-role/" {
			return awsquery.Errorf(http.StatusBadRequest, "PolicyNotAttachable", "Cannot attach a Service Role Policy to a %s.", t.noun)
		}
		links, err := tx.LinksFrom(ctx, account, store.LinkAttached, ref)
		if err != nil {
			return err
		}
		for _, l := range links {
			if l.To == m.ARN {
				return nil
			}
		}
		if len(links) >= maxAttachedPolicies {
			return awsquery.LimitExceeded("Cannot exceed quota for %s: %d", t.quota, maxAttachedPolicies)
		}
		return tx.AddLink(ctx, store.Link{Account: account, Kind: store.LinkAttached, From: ref, To: m.ARN})
	})
}

// detachPolicy removes an attachment; a policy that is not attached is NoSuchEntity.
func (s *Service) detachPolicy(ctx context.Context, t attachTarget, name, policyARN string) error {
	account := caller(ctx).Account
	return s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		ref, err := t.editableRef(ctx, tx, account, name)
		if err != nil {
			return err
		}
		if err := entity.CheckARN(policyARN); err != nil {
			return err
		}
		err = tx.RemoveLink(ctx, store.Link{Account: account, Kind: store.LinkAttached, From: ref, To: policyARN})
		if isNotFound(err) {
			return awsquery.NoSuchEntity("Policy %s was not found.", policyARN)
		}
		return err
	})
}

// listAttached returns one page of the managed policies attached to an entity, by ARN, with
// policy paths under prefix.
func (s *Service) listAttached(ctx context.Context, t attachTarget, name string, pathPrefix, marker *string, maxItems *int32) ([]types.AttachedPolicy, bool, *string, error) {
	account := caller(ctx).Account
	pg, err := pageOf(marker, maxItems)
	if err != nil {
		return nil, false, nil, err
	}
	prefix, err := validatePathPrefix(pathPrefix)
	if err != nil {
		return nil, false, nil, err
	}
	var arns []string
	err = s.view(ctx, func(ctx context.Context, tx store.Tx) error {
		ref, err := t.ref(ctx, tx, account, name)
		if err != nil {
			return err
		}
		links, err := tx.LinksFrom(ctx, account, store.LinkAttached, ref)
		if err != nil {
			return err
		}
		for _, l := range links {
			// The ARN spells the policy's path and name: no need to read the policy.
			if _, path, _, ok := entity.ParsePolicyARN(l.To); ok && strings.HasPrefix(path, prefix) {
				arns = append(arns, l.To)
			}
		}
		return nil
	})
	if err != nil {
		return nil, false, nil, err
	}
	slices.Sort(arns)
	page, truncated, next, err := cut(after(arns, pg.after, func(a string) string { return a }), pg.limit, func(a string) string { return a })
	if err != nil {
		return nil, false, nil, err
	}
	out := make([]types.AttachedPolicy, 0, len(page))
	for _, a := range page {
		_, _, policyName, _ := entity.ParsePolicyARN(a)
		out = append(out, types.AttachedPolicy{PolicyArn: aws.String(a), PolicyName: aws.String(policyName)})
	}
	return out, truncated, next, nil
}

// AttachUserPolicy attaches a managed policy to a user.
func (s *Service) AttachUserPolicy(ctx context.Context, in *iam.AttachUserPolicyInput) (*iam.AttachUserPolicyOutput, error) {
	if err := s.attachPolicy(ctx, userTarget(), *in.UserName, *in.PolicyArn); err != nil {
		return nil, err
	}
	return &iam.AttachUserPolicyOutput{}, nil
}

// DetachUserPolicy detaches a managed policy from a user.
func (s *Service) DetachUserPolicy(ctx context.Context, in *iam.DetachUserPolicyInput) (*iam.DetachUserPolicyOutput, error) {
	if err := s.detachPolicy(ctx, userTarget(), *in.UserName, *in.PolicyArn); err != nil {
		return nil, err
	}
	return &iam.DetachUserPolicyOutput{}, nil
}

// AttachGroupPolicy attaches a managed policy to a group.
func (s *Service) AttachGroupPolicy(ctx context.Context, in *iam.AttachGroupPolicyInput) (*iam.AttachGroupPolicyOutput, error) {
	if err := s.attachPolicy(ctx, groupTarget(), *in.GroupName, *in.PolicyArn); err != nil {
		return nil, err
	}
	return &iam.AttachGroupPolicyOutput{}, nil
}

// DetachGroupPolicy detaches a managed policy from a group.
func (s *Service) DetachGroupPolicy(ctx context.Context, in *iam.DetachGroupPolicyInput) (*iam.DetachGroupPolicyOutput, error) {
	if err := s.detachPolicy(ctx, groupTarget(), *in.GroupName, *in.PolicyArn); err != nil {
		return nil, err
	}
	return &iam.DetachGroupPolicyOutput{}, nil
}

// AttachRolePolicy attaches a managed policy to a role.
func (s *Service) AttachRolePolicy(ctx context.Context, in *iam.AttachRolePolicyInput) (*iam.AttachRolePolicyOutput, error) {
	if err := s.attachPolicy(ctx, roleTarget(), *in.RoleName, *in.PolicyArn); err != nil {
		return nil, err
	}
	return &iam.AttachRolePolicyOutput{}, nil
}

// DetachRolePolicy detaches a managed policy from a role.
func (s *Service) DetachRolePolicy(ctx context.Context, in *iam.DetachRolePolicyInput) (*iam.DetachRolePolicyOutput, error) {
	if err := s.detachPolicy(ctx, roleTarget(), *in.RoleName, *in.PolicyArn); err != nil {
		return nil, err
	}
	return &iam.DetachRolePolicyOutput{}, nil
}

// ListAttachedUserPolicies lists the managed policies attached to a user.
func (s *Service) ListAttachedUserPolicies(ctx context.Context, in *iam.ListAttachedUserPoliciesInput) (*iam.ListAttachedUserPoliciesOutput, error) {
	out, truncated, marker, err := s.listAttached(ctx, userTarget(), *in.UserName, in.PathPrefix, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iam.ListAttachedUserPoliciesOutput{AttachedPolicies: out, IsTruncated: truncated, Marker: marker}, nil
}

// ListAttachedGroupPolicies lists the managed policies attached to a group.
func (s *Service) ListAttachedGroupPolicies(ctx context.Context, in *iam.ListAttachedGroupPoliciesInput) (*iam.ListAttachedGroupPoliciesOutput, error) {
	out, truncated, marker, err := s.listAttached(ctx, groupTarget(), *in.GroupName, in.PathPrefix, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iam.ListAttachedGroupPoliciesOutput{AttachedPolicies: out, IsTruncated: truncated, Marker: marker}, nil
}

// ListAttachedRolePolicies lists the managed policies attached to a role.
func (s *Service) ListAttachedRolePolicies(ctx context.Context, in *iam.ListAttachedRolePoliciesInput) (*iam.ListAttachedRolePoliciesOutput, error) {
	out, truncated, marker, err := s.listAttached(ctx, roleTarget(), *in.RoleName, in.PathPrefix, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iam.ListAttachedRolePoliciesOutput{AttachedPolicies: out, IsTruncated: truncated, Marker: marker}, nil
}

// entityOrder lists groups, then roles, then users, each by name.
func entityOrder(e entityRef) string {
	rank := "2" // users
	switch e.kind {
	case store.KindGroup:
		rank = "0"
	case store.KindRole:
		rank = "1"
	}
	return rank + "/" + store.NameKey(e.name)
}

// loadEntity reads the name and path of the user, group or role an attached-policy link
// starts from.
func loadEntity(ctx context.Context, tx store.Tx, ref string) (entityRef, error) {
	kind, id, _ := strings.Cut(ref, ":")
	var e entityRef
	var err error
	switch store.Kind(kind) {
	case store.KindUser:
		var u *store.User
		if u, _, err = store.LoadByID[store.User](ctx, tx, store.KindUser, id); err == nil {
			e = entityRef{store.KindUser, u.ID, u.Name, u.Path}
		}
	case store.KindGroup:
		var g *store.Group
		if g, _, err = store.LoadByID[store.Group](ctx, tx, store.KindGroup, id); err == nil {
			e = entityRef{store.KindGroup, g.ID, g.Name, g.Path}
		}
	case store.KindRole:
		var r *store.Role
		if r, _, err = store.LoadByID[store.Role](ctx, tx, store.KindRole, id); err == nil {
			e = entityRef{store.KindRole, r.ID, r.Name, r.Path}
		}
	default:
		return e, store.ErrNotFound
	}
	return e, err
}

// ListEntitiesForPolicy lists the users, groups and roles that use a managed policy: attached
// to them (PermissionsPolicy) or as their permissions boundary (PermissionsBoundary).
func (s *Service) ListEntitiesForPolicy(ctx context.Context, in *iam.ListEntitiesForPolicyInput) (*iam.ListEntitiesForPolicyOutput, error) {
	pg, err := pageOf(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	prefix, err := validatePathPrefix(in.PathPrefix)
	if err != nil {
		return nil, err
	}
	want := func(kind store.Kind) bool {
		switch in.EntityFilter {
		case "":
			return true
		case types.EntityTypeUser:
			return kind == store.KindUser
		case types.EntityTypeGroup:
			return kind == store.KindGroup
		case types.EntityTypeRole:
			return kind == store.KindRole
		}
		return false // LocalManagedPolicy and AWSManagedPolicy: policies are not attached to policies
	}
	var entities []entityRef
	err = s.view(ctx, func(ctx context.Context, tx store.Tx) error {
		m, err := loadPolicy(ctx, tx, *in.PolicyArn, "ListEntitiesForPolicy", false)
		if err != nil {
			return err
		}
		account := caller(ctx).Account
		seen := map[string]bool{}
		add := func(e entityRef) {
			if key := entityOrder(e); want(e.kind) && strings.HasPrefix(e.path, prefix) && !seen[key] {
				seen[key] = true
				entities = append(entities, e)
			}
		}
		if in.PolicyUsageFilter != types.PolicyUsageTypePermissionsBoundary {
			links, err := tx.LinksTo(ctx, account, store.LinkAttached, m.ARN)
			if err != nil {
				return err
			}
			for _, l := range links {
				e, err := loadEntity(ctx, tx, l.From)
				if isNotFound(err) {
					continue // an entity's Delete refuses while policies are attached; never list a dangling link
				}
				if err != nil {
					return err
				}
				add(e)
			}
		}
		if in.PolicyUsageFilter != types.PolicyUsageTypePermissionsPolicy {
			uses, err := boundaryUses(ctx, tx, account)
			if err != nil {
				return err
			}
			for _, e := range uses[m.ARN] {
				add(e)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(entities, func(a, b entityRef) int { return cmp.Compare(entityOrder(a), entityOrder(b)) })
	page, truncated, marker, err := cut(after(entities, pg.after, entityOrder), pg.limit, entityOrder)
	if err != nil {
		return nil, err
	}
	out := &iam.ListEntitiesForPolicyOutput{
		PolicyGroups: []types.PolicyGroup{},
		PolicyRoles:  []types.PolicyRole{},
		PolicyUsers:  []types.PolicyUser{},
		IsTruncated:  truncated,
		Marker:       marker,
	}
	for _, e := range page {
		switch e.kind {
		case store.KindGroup:
			out.PolicyGroups = append(out.PolicyGroups, types.PolicyGroup{GroupId: aws.String(e.id), GroupName: aws.String(e.name)})
		case store.KindRole:
			out.PolicyRoles = append(out.PolicyRoles, types.PolicyRole{RoleId: aws.String(e.id), RoleName: aws.String(e.name)})
		case store.KindUser:
			out.PolicyUsers = append(out.PolicyUsers, types.PolicyUser{UserId: aws.String(e.id), UserName: aws.String(e.name)})
		}
	}
	return out, nil
}

// PutUserPermissionsBoundary sets or replaces a user's permissions boundary.
func (s *Service) PutUserPermissionsBoundary(ctx context.Context, in *iam.PutUserPermissionsBoundaryInput) (*iam.PutUserPermissionsBoundaryOutput, error) {
	if err := s.setUserBoundary(ctx, *in.UserName, in.PermissionsBoundary); err != nil {
		return nil, err
	}
	return &iam.PutUserPermissionsBoundaryOutput{}, nil
}

// DeleteUserPermissionsBoundary removes a user's permissions boundary, if it has one.
func (s *Service) DeleteUserPermissionsBoundary(ctx context.Context, in *iam.DeleteUserPermissionsBoundaryInput) (*iam.DeleteUserPermissionsBoundaryOutput, error) {
	if err := s.setUserBoundary(ctx, *in.UserName, nil); err != nil {
		return nil, err
	}
	return &iam.DeleteUserPermissionsBoundaryOutput{}, nil
}

// PutRolePermissionsBoundary sets or replaces a role's permissions boundary.
func (s *Service) PutRolePermissionsBoundary(ctx context.Context, in *iam.PutRolePermissionsBoundaryInput) (*iam.PutRolePermissionsBoundaryOutput, error) {
	if err := s.setRoleBoundary(ctx, *in.RoleName, in.PermissionsBoundary); err != nil {
		return nil, err
	}
	return &iam.PutRolePermissionsBoundaryOutput{}, nil
}

// DeleteRolePermissionsBoundary removes a role's permissions boundary, if it has one.
func (s *Service) DeleteRolePermissionsBoundary(ctx context.Context, in *iam.DeleteRolePermissionsBoundaryInput) (*iam.DeleteRolePermissionsBoundaryOutput, error) {
	if err := s.setRoleBoundary(ctx, *in.RoleName, nil); err != nil {
		return nil, err
	}
	return &iam.DeleteRolePermissionsBoundaryOutput{}, nil
}

// setUserBoundary stores boundaryARN (nil removes the boundary) on a user.
func (s *Service) setUserBoundary(ctx context.Context, name string, boundaryARN *string) error {
	account := caller(ctx).Account
	return s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		u, err := loadUser(ctx, tx, account, name)
		if err != nil {
			return err
		}
		if u.PermissionsBoundary, err = boundaryFor(ctx, tx, account, boundaryARN); err != nil {
			return err
		}
		return tx.Replace(ctx, store.Record{Account: account, Kind: store.KindUser, Key: store.NameKey(u.Name), ID: u.ID, Path: u.Path, Data: store.Encode(u)})
	})
}

// setRoleBoundary stores boundaryARN (nil removes the boundary) on a role.
func (s *Service) setRoleBoundary(ctx context.Context, name string, boundaryARN *string) error {
	account := caller(ctx).Account
	return s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		r, err := loadRole(ctx, tx, account, name)
		if err != nil {
			return err
		}
		if err := modifiableRole(r); err != nil {
			return err
		}
		if r.PermissionsBoundary, err = boundaryFor(ctx, tx, account, boundaryARN); err != nil {
			return err
		}
		return tx.Replace(ctx, roleRecord(account, r))
	})
}
