package iam

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

func (s *Service) tagOperations() []operation {
	return []operation{
		{"TagUser", awsquery.Handle(s.TagUser)},
		{"UntagUser", awsquery.Handle(s.UntagUser)},
		{"ListUserTags", awsquery.Handle(s.ListUserTags)},
		{"TagRole", awsquery.Handle(s.TagRole)},
		{"UntagRole", awsquery.Handle(s.UntagRole)},
		{"ListRoleTags", awsquery.Handle(s.ListRoleTags)},
	}
}

// tagged is an entity whose tags the TagX, UntagX and ListXTags operations manage.
type tagged struct {
	// load reads the entity's tags and returns save, which makes its record with new tags.
	load func(ctx context.Context, tx store.Tx, account, name string) (tags []store.Tag, save func([]store.Tag) store.Record, err error)
}

func userTags() tagged {
	return tagged{load: func(ctx context.Context, tx store.Tx, account, name string) ([]store.Tag, func([]store.Tag) store.Record, error) {
		u, err := loadUser(ctx, tx, account, name)
		if err != nil {
			return nil, nil, err
		}
		return u.Tags, func(tags []store.Tag) store.Record {
			u.Tags = tags
			return store.Record{Account: account, Kind: store.KindUser, Key: store.NameKey(u.Name), ID: u.ID, Path: u.Path, Data: store.Encode(u)}
		}, nil
	}}
}

func roleTags() tagged {
	return tagged{load: func(ctx context.Context, tx store.Tx, account, name string) ([]store.Tag, func([]store.Tag) store.Record, error) {
		r, err := loadRole(ctx, tx, account, name)
		if err != nil {
			return nil, nil, err
		}
		return r.Tags, func(tags []store.Tag) store.Record {
			r.Tags = tags
			return roleRecord(account, r)
		}, nil
	}}
}

// retag loads an entity's tags, changes them and stores the entity, in one transaction.
func (s *Service) retag(ctx context.Context, t tagged, name string, change func([]store.Tag) ([]store.Tag, error)) error {
	account := caller(ctx).Account
	return s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		have, save, err := t.load(ctx, tx, account, name)
		if err != nil {
			return err
		}
		tags, err := change(have)
		if err != nil {
			return err
		}
		return tx.Replace(ctx, save(tags))
	})
}

// listTags returns one page of an entity's tags, sorted by key as IAM lists them (sortedTags).
func (s *Service) listTags(ctx context.Context, t tagged, name string, marker *string, maxItems *int32) ([]types.Tag, bool, *string, error) {
	account := caller(ctx).Account
	pg, err := pageOf(marker, maxItems)
	if err != nil {
		return nil, false, nil, err
	}
	var tags []store.Tag
	err = s.view(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		tags, _, err = t.load(ctx, tx, account, name)
		return err
	})
	if err != nil {
		return nil, false, nil, err
	}
	key := func(t store.Tag) string { return t.Key }
	page, truncated, next, err := cut(after(sortedTags(tags), pg.after, key), pg.limit, key)
	if err != nil {
		return nil, false, nil, err
	}
	out := sdkTags(page)
	if out == nil {
		out = []types.Tag{} // Tags is a required member: an empty list, never absent
	}
	return out, truncated, next, nil
}

// TagUser adds tags to a user or overwrites the values of keys it has.
func (s *Service) TagUser(ctx context.Context, in *iam.TagUserInput) (*iam.TagUserOutput, error) {
	err := s.retag(ctx, userTags(), *in.UserName, func(have []store.Tag) ([]store.Tag, error) { return mergeTags(have, in.Tags) })
	if err != nil {
		return nil, err
	}
	return &iam.TagUserOutput{}, nil
}

// UntagUser removes tags from a user; keys it does not have are ignored.
func (s *Service) UntagUser(ctx context.Context, in *iam.UntagUserInput) (*iam.UntagUserOutput, error) {
	err := s.retag(ctx, userTags(), *in.UserName, func(have []store.Tag) ([]store.Tag, error) { return removeTags(have, in.TagKeys), nil })
	if err != nil {
		return nil, err
	}
	return &iam.UntagUserOutput{}, nil
}

// ListUserTags lists a user's tags.
func (s *Service) ListUserTags(ctx context.Context, in *iam.ListUserTagsInput) (*iam.ListUserTagsOutput, error) {
	tags, truncated, marker, err := s.listTags(ctx, userTags(), *in.UserName, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iam.ListUserTagsOutput{Tags: tags, IsTruncated: truncated, Marker: marker}, nil
}

// TagRole adds tags to a role or overwrites the values of keys it has.
func (s *Service) TagRole(ctx context.Context, in *iam.TagRoleInput) (*iam.TagRoleOutput, error) {
	err := s.retag(ctx, roleTags(), *in.RoleName, func(have []store.Tag) ([]store.Tag, error) { return mergeTags(have, in.Tags) })
	if err != nil {
		return nil, err
	}
	return &iam.TagRoleOutput{}, nil
}

// UntagRole removes tags from a role; keys it does not have are ignored.
func (s *Service) UntagRole(ctx context.Context, in *iam.UntagRoleInput) (*iam.UntagRoleOutput, error) {
	err := s.retag(ctx, roleTags(), *in.RoleName, func(have []store.Tag) ([]store.Tag, error) { return removeTags(have, in.TagKeys), nil })
	if err != nil {
		return nil, err
	}
	return &iam.UntagRoleOutput{}, nil
}

// ListRoleTags lists a role's tags.
func (s *Service) ListRoleTags(ctx context.Context, in *iam.ListRoleTagsInput) (*iam.ListRoleTagsOutput, error) {
	tags, truncated, marker, err := s.listTags(ctx, roleTags(), *in.RoleName, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iam.ListRoleTagsOutput{Tags: tags, IsTruncated: truncated, Marker: marker}, nil
}
