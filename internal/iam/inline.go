package iam

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// inlineOwner describes the kind of entity (user, group or role) that embeds inline policies.
type inlineOwner struct {
	word    string // "user", "group" or "role", as AWS's messages name it
	maxSize int    // aggregate size quota of the entity's inline policies
	// load finds the entity by name and returns its id and stored name.
	load func(ctx context.Context, tx store.Tx, account, name string) (id, stored string, err error)
}

// The three kinds of owner; functions rather than package variables, so nothing global is mutable.
func userPolicyOwner() inlineOwner {
	return inlineOwner{word: "user", maxSize: maxUserInlinePolicySize,
		load: func(ctx context.Context, tx store.Tx, account, name string) (string, string, error) {
			u, err := loadUser(ctx, tx, account, name)
			if err != nil {
				return "", "", err
			}
			return u.ID, u.Name, nil
		}}
}

func groupPolicyOwner() inlineOwner {
	return inlineOwner{word: "group", maxSize: maxGroupInlinePolicySize,
		load: func(ctx context.Context, tx store.Tx, account, name string) (string, string, error) {
			g, err := loadGroup(ctx, tx, account, name)
			if err != nil {
				return "", "", err
			}
			return g.ID, g.Name, nil
		}}
}

func rolePolicyOwner() inlineOwner {
	return inlineOwner{word: "role", maxSize: maxRoleInlinePolicySize,
		load: func(ctx context.Context, tx store.Tx, account, name string) (string, string, error) {
			r, err := loadRole(ctx, tx, account, name)
			if err != nil {
				return "", "", err
			}
			return r.ID, r.Name, nil
		}}
}

// editableRolePolicyOwner is rolePolicyOwner for changes: a service-linked role's policies
// belong to its service.
func editableRolePolicyOwner() inlineOwner {
	o := rolePolicyOwner()
	o.load = func(ctx context.Context, tx store.Tx, account, name string) (string, string, error) {
		r, err := loadRole(ctx, tx, account, name)
		if err == nil {
			err = modifiableRole(r)
		}
		if err != nil {
			return "", "", err
		}
		return r.ID, r.Name, nil
	}
	return o
}

// inlineKey is the store key of an inline policy: IAM compares policy names ignoring case, so
// putting "Admin" over "admin" replaces it.
func inlineKey(ownerID, policyName string) string {
	return store.ChildKey(ownerID, store.NameKey(policyName))
}

func (o inlineOwner) noSuchPolicy(name string) error {
	return awsquery.NoSuchEntity("The %s policy with name %s cannot be found.", o.word, name)
}

func (s *Service) inlinePolicyOperations() []operation {
	return []operation{
		{"PutUserPolicy", awsquery.Handle(s.PutUserPolicy)},
		{"GetUserPolicy", awsquery.Handle(s.GetUserPolicy)},
		{"DeleteUserPolicy", awsquery.Handle(s.DeleteUserPolicy)},
		{"ListUserPolicies", awsquery.Handle(s.ListUserPolicies)},
		{"PutGroupPolicy", awsquery.Handle(s.PutGroupPolicy)},
		{"GetGroupPolicy", awsquery.Handle(s.GetGroupPolicy)},
		{"DeleteGroupPolicy", awsquery.Handle(s.DeleteGroupPolicy)},
		{"ListGroupPolicies", awsquery.Handle(s.ListGroupPolicies)},
		{"PutRolePolicy", awsquery.Handle(s.PutRolePolicy)},
		{"GetRolePolicy", awsquery.Handle(s.GetRolePolicy)},
		{"DeleteRolePolicy", awsquery.Handle(s.DeleteRolePolicy)},
		{"ListRolePolicies", awsquery.Handle(s.ListRolePolicies)},
	}
}

// putInline adds or replaces an inline policy within the owner's aggregate size quota.
func (s *Service) putInline(ctx context.Context, o inlineOwner, ownerName, policyName, doc string) error {
	account := caller(ctx).Account
	if err := validateDocument(doc, docIdentity); err != nil {
		return err
	}
	return s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		id, stored, err := o.load(ctx, tx, account, ownerName)
		if err != nil {
			return err
		}
		key := inlineKey(id, policyName)
		recs, err := tx.List(ctx, store.KindInlinePolicy, account, store.Query{Prefix: store.ChildKey(id, "")})
		if err != nil {
			return err
		}
		size, replace := policySize(doc), false
		for _, r := range recs {
			if r.Key == key {
				replace = true // the new document takes this one's place in the quota
				continue
			}
			var p store.InlinePolicy
			if err := store.Decode(r, &p); err != nil {
				return err
			}
			size += policySize(p.Document)
		}
		if size > o.maxSize {
			return awsquery.LimitExceeded("Maximum policy size of %d bytes exceeded for %s %s", o.maxSize, o.word, stored)
		}
		rec := store.Record{Account: account, Kind: store.KindInlinePolicy, Key: key,
			Data: store.Encode(store.InlinePolicy{OwnerID: id, Name: policyName, Document: doc})}
		if replace {
			return tx.Replace(ctx, rec)
		}
		return tx.Insert(ctx, rec)
	})
}

// getInline returns the owner's stored name and the policy.
func (s *Service) getInline(ctx context.Context, o inlineOwner, ownerName, policyName string) (string, *store.InlinePolicy, error) {
	account := caller(ctx).Account
	var stored string
	var p *store.InlinePolicy
	err := s.view(ctx, func(ctx context.Context, tx store.Tx) error {
		id, name, err := o.load(ctx, tx, account, ownerName)
		if err != nil {
			return err
		}
		stored = name
		p, err = store.Load[store.InlinePolicy](ctx, tx, store.KindInlinePolicy, account, inlineKey(id, policyName))
		if isNotFound(err) {
			return o.noSuchPolicy(policyName)
		}
		return err
	})
	return stored, p, err
}

// deleteInline removes an inline policy.
func (s *Service) deleteInline(ctx context.Context, o inlineOwner, ownerName, policyName string) error {
	account := caller(ctx).Account
	return s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		id, _, err := o.load(ctx, tx, account, ownerName)
		if err != nil {
			return err
		}
		err = tx.Delete(ctx, store.KindInlinePolicy, account, inlineKey(id, policyName))
		if isNotFound(err) {
			return o.noSuchPolicy(policyName)
		}
		return err
	})
}

// listInline returns one page of the names of the owner's inline policies, in key order.
func (s *Service) listInline(ctx context.Context, o inlineOwner, ownerName string, marker *string, maxItems *int32) ([]string, bool, *string, error) {
	account := caller(ctx).Account
	pg, err := pageOf(marker, maxItems)
	if err != nil {
		return nil, false, nil, err
	}
	names := []string{}
	var truncated bool
	var next *string
	err = s.view(ctx, func(ctx context.Context, tx store.Tx) error {
		id, _, err := o.load(ctx, tx, account, ownerName)
		if err != nil {
			return err
		}
		var recs []store.Record
		recs, truncated, next, err = list(ctx, tx, store.KindInlinePolicy, account, store.Query{Prefix: store.ChildKey(id, "")}, pg)
		if err != nil {
			return err
		}
		for _, r := range recs {
			var p store.InlinePolicy
			if err := store.Decode(r, &p); err != nil {
				return err
			}
			names = append(names, p.Name)
		}
		return nil
	})
	if err != nil {
		return nil, false, nil, err
	}
	return names, truncated, next, nil
}

// PutUserPolicy adds or replaces an inline policy of a user.
func (s *Service) PutUserPolicy(ctx context.Context, in *iam.PutUserPolicyInput) (*iam.PutUserPolicyOutput, error) {
	if err := s.putInline(ctx, userPolicyOwner(), *in.UserName, *in.PolicyName, *in.PolicyDocument); err != nil {
		return nil, err
	}
	return &iam.PutUserPolicyOutput{}, nil
}

// GetUserPolicy returns an inline policy of a user, its document URL-encoded.
func (s *Service) GetUserPolicy(ctx context.Context, in *iam.GetUserPolicyInput) (*iam.GetUserPolicyOutput, error) {
	owner, p, err := s.getInline(ctx, userPolicyOwner(), *in.UserName, *in.PolicyName)
	if err != nil {
		return nil, err
	}
	return &iam.GetUserPolicyOutput{UserName: aws.String(owner), PolicyName: aws.String(p.Name),
		PolicyDocument: aws.String(awsquery.EncodeDocument(p.Document))}, nil
}

// DeleteUserPolicy deletes an inline policy of a user.
func (s *Service) DeleteUserPolicy(ctx context.Context, in *iam.DeleteUserPolicyInput) (*iam.DeleteUserPolicyOutput, error) {
	if err := s.deleteInline(ctx, userPolicyOwner(), *in.UserName, *in.PolicyName); err != nil {
		return nil, err
	}
	return &iam.DeleteUserPolicyOutput{}, nil
}

// ListUserPolicies lists the names of a user's inline policies.
func (s *Service) ListUserPolicies(ctx context.Context, in *iam.ListUserPoliciesInput) (*iam.ListUserPoliciesOutput, error) {
	names, truncated, marker, err := s.listInline(ctx, userPolicyOwner(), *in.UserName, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iam.ListUserPoliciesOutput{PolicyNames: names, IsTruncated: truncated, Marker: marker}, nil
}

// PutGroupPolicy adds or replaces an inline policy of a group.
func (s *Service) PutGroupPolicy(ctx context.Context, in *iam.PutGroupPolicyInput) (*iam.PutGroupPolicyOutput, error) {
	if err := s.putInline(ctx, groupPolicyOwner(), *in.GroupName, *in.PolicyName, *in.PolicyDocument); err != nil {
		return nil, err
	}
	return &iam.PutGroupPolicyOutput{}, nil
}

// GetGroupPolicy returns an inline policy of a group, its document URL-encoded.
func (s *Service) GetGroupPolicy(ctx context.Context, in *iam.GetGroupPolicyInput) (*iam.GetGroupPolicyOutput, error) {
	owner, p, err := s.getInline(ctx, groupPolicyOwner(), *in.GroupName, *in.PolicyName)
	if err != nil {
		return nil, err
	}
	return &iam.GetGroupPolicyOutput{GroupName: aws.String(owner), PolicyName: aws.String(p.Name),
		PolicyDocument: aws.String(awsquery.EncodeDocument(p.Document))}, nil
}

// DeleteGroupPolicy deletes an inline policy of a group.
func (s *Service) DeleteGroupPolicy(ctx context.Context, in *iam.DeleteGroupPolicyInput) (*iam.DeleteGroupPolicyOutput, error) {
	if err := s.deleteInline(ctx, groupPolicyOwner(), *in.GroupName, *in.PolicyName); err != nil {
		return nil, err
	}
	return &iam.DeleteGroupPolicyOutput{}, nil
}

// ListGroupPolicies lists the names of a group's inline policies.
func (s *Service) ListGroupPolicies(ctx context.Context, in *iam.ListGroupPoliciesInput) (*iam.ListGroupPoliciesOutput, error) {
	names, truncated, marker, err := s.listInline(ctx, groupPolicyOwner(), *in.GroupName, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iam.ListGroupPoliciesOutput{PolicyNames: names, IsTruncated: truncated, Marker: marker}, nil
}

// PutRolePolicy adds or replaces an inline policy of a role.
func (s *Service) PutRolePolicy(ctx context.Context, in *iam.PutRolePolicyInput) (*iam.PutRolePolicyOutput, error) {
	if err := s.putInline(ctx, editableRolePolicyOwner(), *in.RoleName, *in.PolicyName, *in.PolicyDocument); err != nil {
		return nil, err
	}
	return &iam.PutRolePolicyOutput{}, nil
}

// GetRolePolicy returns an inline policy of a role, its document URL-encoded.
func (s *Service) GetRolePolicy(ctx context.Context, in *iam.GetRolePolicyInput) (*iam.GetRolePolicyOutput, error) {
	owner, p, err := s.getInline(ctx, rolePolicyOwner(), *in.RoleName, *in.PolicyName)
	if err != nil {
		return nil, err
	}
	return &iam.GetRolePolicyOutput{RoleName: aws.String(owner), PolicyName: aws.String(p.Name),
		PolicyDocument: aws.String(awsquery.EncodeDocument(p.Document))}, nil
}

// DeleteRolePolicy deletes an inline policy of a role.
func (s *Service) DeleteRolePolicy(ctx context.Context, in *iam.DeleteRolePolicyInput) (*iam.DeleteRolePolicyOutput, error) {
	if err := s.deleteInline(ctx, editableRolePolicyOwner(), *in.RoleName, *in.PolicyName); err != nil {
		return nil, err
	}
	return &iam.DeleteRolePolicyOutput{}, nil
}

// ListRolePolicies lists the names of a role's inline policies.
func (s *Service) ListRolePolicies(ctx context.Context, in *iam.ListRolePoliciesInput) (*iam.ListRolePoliciesOutput, error) {
	names, truncated, marker, err := s.listInline(ctx, rolePolicyOwner(), *in.RoleName, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iam.ListRolePoliciesOutput{PolicyNames: names, IsTruncated: truncated, Marker: marker}, nil
}
