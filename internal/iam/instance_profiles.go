package iam

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/enforce"
	"github.com/gatehouse-iam/gatehouse/internal/entity"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// Instance profile quotas (IAM User Guide, "IAM object quotas": instance profiles per account
// 1000; roles in an instance profile 1, which cannot be increased).
const (
	maxInstanceProfilesPerAccount = 1000
	maxRolesPerInstanceProfile    = 1
)

func (s *Service) instanceProfileOperations() []operation {
	return []operation{
		{"CreateInstanceProfile", awsquery.Handle(s.CreateInstanceProfile)},
		{"GetInstanceProfile", awsquery.Handle(s.GetInstanceProfile)},
		{"DeleteInstanceProfile", awsquery.Handle(s.DeleteInstanceProfile)},
		{"ListInstanceProfiles", awsquery.Handle(s.ListInstanceProfiles)},
		{"ListInstanceProfilesForRole", awsquery.Handle(s.ListInstanceProfilesForRole)},
		{"AddRoleToInstanceProfile", awsquery.Handle(s.AddRoleToInstanceProfile)},
		{"RemoveRoleFromInstanceProfile", awsquery.Handle(s.RemoveRoleFromInstanceProfile)},
		{"TagInstanceProfile", awsquery.Handle(s.TagInstanceProfile)},
		{"UntagInstanceProfile", awsquery.Handle(s.UntagInstanceProfile)},
		{"ListInstanceProfileTags", awsquery.Handle(s.ListInstanceProfileTags)},
	}
}

func noSuchInstanceProfile(name string) error {
	return awsquery.NoSuchEntity("Instance Profile %s cannot be found.", name)
}

func loadInstanceProfile(ctx context.Context, tx store.Tx, account, name string) (*store.InstanceProfile, error) {
	p, err := store.Load[store.InstanceProfile](ctx, tx, store.KindInstanceProfile, account, store.NameKey(name))
	if isNotFound(err) {
		return nil, noSuchInstanceProfile(name)
	}
	return p, err
}

func instanceProfileRecord(account string, p *store.InstanceProfile) store.Record {
	return store.Record{Account: account, Kind: store.KindInstanceProfile, Key: store.NameKey(p.Name), ID: p.ID, Path: p.Path, Data: store.Encode(p)}
}

// sdkInstanceProfile is the InstanceProfile element with its roles. The listing operations
// leave tags out ("IAM resource-listing operations return a subset of the available
// attributes ... this operation does not return tags", ListInstanceProfiles).
func sdkInstanceProfile(ctx context.Context, tx store.Tx, account string, p *store.InstanceProfile, withTags bool) (types.InstanceProfile, error) {
	out := types.InstanceProfile{
		Arn:                 aws.String(entity.ARN(account, "instance-profile", p.Path, p.Name)),
		CreateDate:          aws.Time(p.CreateDate),
		InstanceProfileId:   aws.String(p.ID),
		InstanceProfileName: aws.String(p.Name),
		Path:                aws.String(p.Path),
		Roles:               []types.Role{}, // a required member: <Roles/> when there is none
	}
	if withTags {
		out.Tags = sdkTags(p.Tags)
	}
	for _, id := range p.RoleIDs {
		r, _, err := store.LoadByID[store.Role](ctx, tx, store.KindRole, id)
		if isNotFound(err) {
			continue // DeleteRole refuses a role in a profile; a missing one is simply not shown
		}
		if err != nil {
			return out, err
		}
		role, err := profileRole(ctx, tx, account, r)
		if err != nil {
			return out, err
		}
		out.Roles = append(out.Roles, role)
	}
	return out, nil
}

// profileRole is a role as instance profiles show it: AWS's answers (the AWS CLI's
// list-instance-profiles example in the IAM documentation) have the role's path, name, id,
// ARN, creation date and trust policy, nothing more.
func profileRole(ctx context.Context, tx store.Tx, account string, r *store.Role) (types.Role, error) {
	doc, err := showPrincipals(ctx, tx, r.AssumeRolePolicyDocument)
	if err != nil {
		return types.Role{}, err
	}
	return types.Role{
		Arn:                      aws.String(entity.RoleARN(account, r)),
		AssumeRolePolicyDocument: aws.String(awsquery.EncodeDocument(doc)),
		CreateDate:               aws.Time(r.CreateDate),
		Path:                     aws.String(r.Path),
		RoleId:                   aws.String(r.ID),
		RoleName:                 aws.String(r.Name),
	}, nil
}

// instanceProfilesOfRole returns the account's instance profiles that hold the role, in name
// order. An account has at most maxInstanceProfilesPerAccount of them, so a scan is cheap.
func instanceProfilesOfRole(ctx context.Context, tx store.Tx, account, roleID string) ([]*store.InstanceProfile, error) {
	recs, err := tx.List(ctx, store.KindInstanceProfile, account, store.Query{})
	if err != nil {
		return nil, err
	}
	var out []*store.InstanceProfile
	for _, rec := range recs {
		p := new(store.InstanceProfile)
		if err := store.Decode(rec, p); err != nil {
			return nil, err
		}
		for _, id := range p.RoleIDs {
			if id == roleID {
				out = append(out, p)
				break
			}
		}
	}
	return out, nil
}

// CreateInstanceProfile creates an instance profile without roles.
func (s *Service) CreateInstanceProfile(ctx context.Context, in *iam.CreateInstanceProfileInput) (*iam.CreateInstanceProfileOutput, error) {
	account := caller(ctx).Account
	if err := validatePath(in.Path); err != nil {
		return nil, err
	}
	tags, err := tagsFromInput(in.Tags)
	if err != nil {
		return nil, err
	}
	p := &store.InstanceProfile{
		ID:         s.ids.UniqueID("AIPA"),
		Name:       *in.InstanceProfileName,
		Path:       defaultPath(in.Path),
		CreateDate: s.timestamp(),
		Tags:       tags,
	}
	exists := func() error {
		return awsquery.EntityAlreadyExists("Instance Profile %s already exists.", p.Name)
	}
	var out types.InstanceProfile
	// An instance profile grants nothing by itself: no caller's permissions change.
	err = s.create(ctx, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.Get(ctx, store.KindInstanceProfile, account, store.NameKey(p.Name)); err == nil {
			return exists()
		} else if !isNotFound(err) {
			return err
		}
		n, err := tx.Count(ctx, store.KindInstanceProfile, account, "")
		if err != nil {
			return err
		}
		if n >= maxInstanceProfilesPerAccount {
			return awsquery.LimitExceeded("Cannot exceed quota for InstanceProfilesPerAccount: %d", maxInstanceProfilesPerAccount)
		}
		if err := tx.Insert(ctx, instanceProfileRecord(account, p)); isExists(err) {
			return exists()
		} else if err != nil {
			return err
		}
		out, err = sdkInstanceProfile(ctx, tx, account, p, true)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iam.CreateInstanceProfileOutput{InstanceProfile: &out}, nil
}

// GetInstanceProfile returns an instance profile with its role and tags.
func (s *Service) GetInstanceProfile(ctx context.Context, in *iam.GetInstanceProfileInput) (*iam.GetInstanceProfileOutput, error) {
	account := caller(ctx).Account
	var out types.InstanceProfile
	err := s.view(ctx, func(ctx context.Context, tx store.Tx) error {
		p, err := loadInstanceProfile(ctx, tx, account, *in.InstanceProfileName)
		if err != nil {
			return err
		}
		out, err = sdkInstanceProfile(ctx, tx, account, p, true)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iam.GetInstanceProfileOutput{InstanceProfile: &out}, nil
}

// DeleteInstanceProfile deletes an instance profile that no longer has a role.
func (s *Service) DeleteInstanceProfile(ctx context.Context, in *iam.DeleteInstanceProfileInput) (*iam.DeleteInstanceProfileOutput, error) {
	account := caller(ctx).Account
	err := s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		p, err := loadInstanceProfile(ctx, tx, account, *in.InstanceProfileName)
		if err != nil {
			return err
		}
		if len(p.RoleIDs) > 0 {
			return awsquery.DeleteConflict("Cannot delete entity, must remove roles from instance profile first.")
		}
		return tx.Delete(ctx, store.KindInstanceProfile, account, store.NameKey(p.Name))
	})
	if err != nil {
		return nil, err
	}
	return &iam.DeleteInstanceProfileOutput{}, nil
}

// ListInstanceProfiles lists instance profiles, optionally under a path prefix.
func (s *Service) ListInstanceProfiles(ctx context.Context, in *iam.ListInstanceProfilesInput) (*iam.ListInstanceProfilesOutput, error) {
	account := caller(ctx).Account
	profiles, truncated, marker, err := listByPath(ctx, s, store.KindInstanceProfile, account, in.Marker, in.MaxItems, in.PathPrefix,
		func(ctx context.Context, tx store.Tx, p *store.InstanceProfile) (types.InstanceProfile, error) {
			return sdkInstanceProfile(ctx, tx, account, p, false)
		})
	if err != nil {
		return nil, err
	}
	return &iam.ListInstanceProfilesOutput{InstanceProfiles: profiles, IsTruncated: truncated, Marker: marker}, nil
}

// ListInstanceProfilesForRole lists the instance profiles that hold a role.
func (s *Service) ListInstanceProfilesForRole(ctx context.Context, in *iam.ListInstanceProfilesForRoleInput) (*iam.ListInstanceProfilesForRoleOutput, error) {
	account := caller(ctx).Account
	pg, err := pageOf(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := []types.InstanceProfile{}
	var truncated bool
	var next *string
	err = s.view(ctx, func(ctx context.Context, tx store.Tx) error {
		r, err := loadRole(ctx, tx, account, *in.RoleName)
		if err != nil {
			return err
		}
		all, err := instanceProfilesOfRole(ctx, tx, account, r.ID)
		if err != nil {
			return err
		}
		key := func(p *store.InstanceProfile) string { return store.NameKey(p.Name) }
		var page []*store.InstanceProfile
		if page, truncated, next, err = cut(after(all, pg.after, key), pg.limit, key); err != nil {
			return err
		}
		for _, p := range page {
			ip, err := sdkInstanceProfile(ctx, tx, account, p, false)
			if err != nil {
				return err
			}
			out = append(out, ip)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iam.ListInstanceProfilesForRoleOutput{InstanceProfiles: out, IsTruncated: truncated, Marker: next}, nil
}

// AddRoleToInstanceProfile puts a role into an instance profile, which holds at most one.
// The caller needs iam:PassRole on the role ("The caller of this operation must be granted
// the PassRole permission on the IAM role", AddRoleToInstanceProfile), decided like any other
// request with the condition keys of a role passed to EC2 for its instances.
func (s *Service) AddRoleToInstanceProfile(ctx context.Context, in *iam.AddRoleToInstanceProfileInput) (*iam.AddRoleToInstanceProfileOutput, error) {
	account := caller(ctx).Account
	// load checks the profile and the role; the same checks run again in the write, so a
	// change between the two transactions is not missed.
	load := func(ctx context.Context, tx store.Tx) (*store.InstanceProfile, *store.Role, error) {
		p, err := loadInstanceProfile(ctx, tx, account, *in.InstanceProfileName)
		if err != nil {
			return nil, nil, err
		}
		r, err := loadRole(ctx, tx, account, *in.RoleName)
		if err != nil {
			return nil, nil, err
		}
		if isServiceLinked(r) {
			return nil, nil, protectedRole(r.Name)
		}
		return p, r, nil
	}
	var passed string
	err := s.view(ctx, func(ctx context.Context, tx store.Tx) error {
		_, r, err := load(ctx, tx)
		if err == nil {
			passed = entity.RoleARN(account, r)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	err = s.enforcer.Authorize(ctx, enforce.Access{Action: "iam:PassRole", Resource: passed, Keys: []enforce.ContextKey{
		{Name: "iam:PassedToService", Values: []string{"ec2.amazonaws.com"}},
		// The API reference: for AddRoleToInstanceProfile the value is
		// arn:aws:ec2:*:CallerAccountId:instance/*.
		{Name: "iam:AssociatedResourceArn", Values: []string{"arn:aws:ec2:*:" + account + ":instance/*"}},
	}})
	if err != nil {
		return nil, err
	}
	err = s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		p, r, err := load(ctx, tx)
		if err != nil {
			return err
		}
		if len(p.RoleIDs) >= maxRolesPerInstanceProfile {
			// Also when the role is the one already there, as AWS answers.
			return awsquery.LimitExceeded("Cannot exceed quota for InstanceSessionsPerInstanceProfile: %d", maxRolesPerInstanceProfile)
		}
		p.RoleIDs = append(p.RoleIDs, r.ID)
		return tx.Replace(ctx, instanceProfileRecord(account, p))
	})
	if err != nil {
		return nil, err
	}
	return &iam.AddRoleToInstanceProfileOutput{}, nil
}

// RemoveRoleFromInstanceProfile takes a role out of an instance profile.
func (s *Service) RemoveRoleFromInstanceProfile(ctx context.Context, in *iam.RemoveRoleFromInstanceProfileInput) (*iam.RemoveRoleFromInstanceProfileOutput, error) {
	account := caller(ctx).Account
	err := s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		p, err := loadInstanceProfile(ctx, tx, account, *in.InstanceProfileName)
		if err != nil {
			return err
		}
		r, err := loadRole(ctx, tx, account, *in.RoleName)
		if err != nil {
			return err
		}
		if isServiceLinked(r) {
			return protectedRole(r.Name)
		}
		kept := p.RoleIDs[:0:0]
		for _, id := range p.RoleIDs {
			if id != r.ID {
				kept = append(kept, id)
			}
		}
		if len(kept) == len(p.RoleIDs) {
			return awsquery.NoSuchEntity("The role with name %s is not in instance profile %s.", r.Name, p.Name)
		}
		p.RoleIDs = kept
		return tx.Replace(ctx, instanceProfileRecord(account, p))
	})
	if err != nil {
		return nil, err
	}
	return &iam.RemoveRoleFromInstanceProfileOutput{}, nil
}

func instanceProfileTags() tagged {
	return tagged{load: func(ctx context.Context, tx store.Tx, account, name string) ([]store.Tag, func([]store.Tag) store.Record, error) {
		p, err := loadInstanceProfile(ctx, tx, account, name)
		if err != nil {
			return nil, nil, err
		}
		return p.Tags, func(tags []store.Tag) store.Record {
			p.Tags = tags
			return instanceProfileRecord(account, p)
		}, nil
	}}
}

// TagInstanceProfile adds tags to an instance profile or overwrites the values of keys it has.
func (s *Service) TagInstanceProfile(ctx context.Context, in *iam.TagInstanceProfileInput) (*iam.TagInstanceProfileOutput, error) {
	err := s.retag(ctx, instanceProfileTags(), *in.InstanceProfileName, func(have []store.Tag) ([]store.Tag, error) { return mergeTags(have, in.Tags) })
	if err != nil {
		return nil, err
	}
	return &iam.TagInstanceProfileOutput{}, nil
}

// UntagInstanceProfile removes tags from an instance profile; keys it does not have are ignored.
func (s *Service) UntagInstanceProfile(ctx context.Context, in *iam.UntagInstanceProfileInput) (*iam.UntagInstanceProfileOutput, error) {
	err := s.retag(ctx, instanceProfileTags(), *in.InstanceProfileName, func(have []store.Tag) ([]store.Tag, error) { return removeTags(have, in.TagKeys), nil })
	if err != nil {
		return nil, err
	}
	return &iam.UntagInstanceProfileOutput{}, nil
}

// ListInstanceProfileTags lists an instance profile's tags.
func (s *Service) ListInstanceProfileTags(ctx context.Context, in *iam.ListInstanceProfileTagsInput) (*iam.ListInstanceProfileTagsOutput, error) {
	tags, truncated, marker, err := s.listTags(ctx, instanceProfileTags(), *in.InstanceProfileName, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iam.ListInstanceProfileTagsOutput{Tags: tags, IsTruncated: truncated, Marker: marker}, nil
}
