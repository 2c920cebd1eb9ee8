package iam

import (
	"cmp"
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/entity"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// Quotas of groups (IAM and AWS STS quotas, default values).
const (
	maxGroupsPerAccount = 300
	maxGroupsPerUser    = 10
)

// sdkGroup is the Group element; it has the same members in every operation.
func sdkGroup(account string, g *store.Group) types.Group {
	return types.Group{
		Arn:        aws.String(entity.GroupARN(account, g)),
		CreateDate: aws.Time(g.CreateDate),
		GroupId:    aws.String(g.ID),
		GroupName:  aws.String(g.Name),
		Path:       aws.String(g.Path),
	}
}

func noSuchGroup(name string) error {
	return awsquery.NoSuchEntity("The group with name %s cannot be found.", name)
}

func groupExists(name string) error {
	return awsquery.EntityAlreadyExists("Group with name %s already exists.", name)
}

// loadGroup reads a group by name, answering NoSuchEntity when there is none.
func loadGroup(ctx context.Context, tx store.Tx, account, name string) (*store.Group, error) {
	g, err := store.Load[store.Group](ctx, tx, store.KindGroup, account, store.NameKey(name))
	if isNotFound(err) {
		return nil, noSuchGroup(name)
	}
	return g, err
}

func groupRecord(account string, g *store.Group) store.Record {
	return store.Record{Account: account, Kind: store.KindGroup, Key: store.NameKey(g.Name), ID: g.ID, Path: g.Path, Data: store.Encode(g)}
}

func (s *Service) groupOperations() []operation {
	return []operation{
		{"CreateGroup", awsquery.Handle(s.CreateGroup)},
		{"GetGroup", awsquery.Handle(s.GetGroup)},
		{"UpdateGroup", awsquery.Handle(s.UpdateGroup)},
		{"DeleteGroup", awsquery.Handle(s.DeleteGroup)},
		{"ListGroups", awsquery.Handle(s.ListGroups)},
		{"AddUserToGroup", awsquery.Handle(s.AddUserToGroup)},
		{"RemoveUserFromGroup", awsquery.Handle(s.RemoveUserFromGroup)},
		{"ListGroupsForUser", awsquery.Handle(s.ListGroupsForUser)},
	}
}

// CreateGroup creates an IAM group.
func (s *Service) CreateGroup(ctx context.Context, in *iam.CreateGroupInput) (*iam.CreateGroupOutput, error) {
	account := caller(ctx).Account
	if err := validatePath(in.Path); err != nil {
		return nil, err
	}
	g := &store.Group{
		ID:         s.ids.UniqueID("AGPA"),
		Name:       *in.GroupName,
		Path:       defaultPath(in.Path),
		CreateDate: s.timestamp(),
	}
	err := s.create(ctx, func(ctx context.Context, tx store.Tx) error {
		// A taken name is reported before the quota, as it is the more specific problem.
		if _, err := tx.Get(ctx, store.KindGroup, account, store.NameKey(g.Name)); err == nil {
			return groupExists(g.Name)
		} else if !isNotFound(err) {
			return err
		}
		n, err := tx.Count(ctx, store.KindGroup, account, "")
		if err != nil {
			return err
		}
		if n >= maxGroupsPerAccount {
			return awsquery.LimitExceeded("Cannot exceed quota for GroupsPerAccount: %d", maxGroupsPerAccount)
		}
		err = tx.Insert(ctx, groupRecord(account, g))
		if isExists(err) {
			return groupExists(g.Name)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	out := sdkGroup(account, g)
	return &iam.CreateGroupOutput{Group: &out}, nil
}

// GetGroup returns a group and a page of its members.
func (s *Service) GetGroup(ctx context.Context, in *iam.GetGroupInput) (*iam.GetGroupOutput, error) {
	account := caller(ctx).Account
	pg, err := pageOf(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iam.GetGroupOutput{Users: []types.User{}}
	err = s.view(ctx, func(ctx context.Context, tx store.Tx) error {
		g, err := loadGroup(ctx, tx, account, *in.GroupName)
		if err != nil {
			return err
		}
		members, err := groupMembers(ctx, tx, account, g.ID)
		if err != nil {
			return err
		}
		members, truncated, marker, err := cut(after(members, pg.after, userKey), pg.limit, userKey)
		if err != nil {
			return err
		}
		for _, u := range members {
			out.Users = append(out.Users, sdkUser(account, u, false))
		}
		grp := sdkGroup(account, g)
		out.Group, out.IsTruncated, out.Marker = &grp, truncated, marker
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func userKey(u *store.User) string   { return store.NameKey(u.Name) }
func groupKey(g *store.Group) string { return store.NameKey(g.Name) }

// after keeps the items whose key sorts after marker; items must be sorted by key.
func after[T any](items []T, marker string, key func(T) string) []T {
	if marker == "" {
		return items
	}
	i, found := slices.BinarySearchFunc(items, marker, func(it T, m string) int { return cmp.Compare(key(it), m) })
	if found {
		i++
	}
	return items[i:]
}

// groupMembers loads the users of a group, ordered by name as IAM lists them.
func groupMembers(ctx context.Context, tx store.Tx, account, groupID string) ([]*store.User, error) {
	links, err := tx.LinksFrom(ctx, account, store.LinkMember, groupID)
	if err != nil {
		return nil, err
	}
	users := make([]*store.User, 0, len(links))
	for _, l := range links {
		u, _, err := store.LoadByID[store.User](ctx, tx, store.KindUser, l.To)
		if err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	slices.SortFunc(users, func(a, b *store.User) int { return cmp.Compare(userKey(a), userKey(b)) })
	return users, nil
}

// userGroups loads the groups a user belongs to, ordered by name.
func userGroups(ctx context.Context, tx store.Tx, account, userID string) ([]*store.Group, error) {
	links, err := tx.LinksTo(ctx, account, store.LinkMember, userID)
	if err != nil {
		return nil, err
	}
	groups := make([]*store.Group, 0, len(links))
	for _, l := range links {
		g, _, err := store.LoadByID[store.Group](ctx, tx, store.KindGroup, l.From)
		if err != nil {
			return nil, err
		}
		groups = append(groups, g)
	}
	slices.SortFunc(groups, func(a, b *store.Group) int { return cmp.Compare(groupKey(a), groupKey(b)) })
	return groups, nil
}

// UpdateGroup renames a group or moves it to another path. Memberships and policies follow it,
// as they refer to the group's id.
func (s *Service) UpdateGroup(ctx context.Context, in *iam.UpdateGroupInput) (*iam.UpdateGroupOutput, error) {
	account := caller(ctx).Account
	if err := validatePath(in.NewPath); err != nil {
		return nil, err
	}
	err := s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		g, err := loadGroup(ctx, tx, account, *in.GroupName)
		if err != nil {
			return err
		}
		oldKey := store.NameKey(g.Name)
		if in.NewPath != nil {
			g.Path = *in.NewPath
		}
		if in.NewGroupName != nil {
			g.Name = *in.NewGroupName
		}
		return renameRecord(ctx, tx, groupRecord(account, g), oldKey, func() error { return groupExists(g.Name) })
	})
	if err != nil {
		return nil, err
	}
	return &iam.UpdateGroupOutput{}, nil
}

// DeleteGroup deletes a group that no longer has members or policies.
func (s *Service) DeleteGroup(ctx context.Context, in *iam.DeleteGroupInput) (*iam.DeleteGroupOutput, error) {
	account := caller(ctx).Account
	err := s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		g, err := loadGroup(ctx, tx, account, *in.GroupName)
		if err != nil {
			return err
		}
		if l, err := tx.LinksFrom(ctx, account, store.LinkMember, g.ID); err != nil || len(l) > 0 {
			return conflictOr(err, "Cannot delete entity, must remove users from group first.")
		}
		if n, err := tx.Count(ctx, store.KindInlinePolicy, account, store.ChildKey(g.ID, "")); err != nil || n > 0 {
			return conflictOr(err, "Cannot delete entity, must delete policies first.")
		}
		if l, err := tx.LinksFrom(ctx, account, store.LinkAttached, store.PrincipalRef(store.KindGroup, g.ID)); err != nil || len(l) > 0 {
			return conflictOr(err, "Cannot delete entity, must detach all policies first.")
		}
		return tx.Delete(ctx, store.KindGroup, account, store.NameKey(g.Name))
	})
	if err != nil {
		return nil, err
	}
	return &iam.DeleteGroupOutput{}, nil
}

// ListGroups lists groups, optionally under a path prefix.
func (s *Service) ListGroups(ctx context.Context, in *iam.ListGroupsInput) (*iam.ListGroupsOutput, error) {
	account := caller(ctx).Account
	groups, truncated, marker, err := listByPath(ctx, s, store.KindGroup, account, in.Marker, in.MaxItems, in.PathPrefix,
		func(_ context.Context, _ store.Tx, g *store.Group) (types.Group, error) {
			return sdkGroup(account, g), nil
		})
	if err != nil {
		return nil, err
	}
	return &iam.ListGroupsOutput{Groups: groups, IsTruncated: truncated, Marker: marker}, nil
}

// AddUserToGroup makes a user a member of a group. Adding a member again succeeds and changes
// nothing, as in AWS.
func (s *Service) AddUserToGroup(ctx context.Context, in *iam.AddUserToGroupInput) (*iam.AddUserToGroupOutput, error) {
	account := caller(ctx).Account
	err := s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		u, g, err := loadMembership(ctx, tx, account, *in.UserName, *in.GroupName)
		if err != nil {
			return err
		}
		links, err := tx.LinksTo(ctx, account, store.LinkMember, u.ID)
		if err != nil {
			return err
		}
		for _, l := range links {
			if l.From == g.ID {
				return nil
			}
		}
		if len(links) >= maxGroupsPerUser {
			return awsquery.LimitExceeded("Cannot exceed quota for GroupsPerUser: %d", maxGroupsPerUser)
		}
		return tx.AddLink(ctx, store.Link{Account: account, Kind: store.LinkMember, From: g.ID, To: u.ID})
	})
	if err != nil {
		return nil, err
	}
	return &iam.AddUserToGroupOutput{}, nil
}

// loadMembership reads the user and the group of AddUserToGroup and RemoveUserFromGroup. The
// user comes first: when neither exists AWS reports the user (LocalStack's recordings of AWS,
// test_iam_groups.snapshot.json remove-from-unknown-group).
func loadMembership(ctx context.Context, tx store.Tx, account, userName, groupName string) (*store.User, *store.Group, error) {
	u, err := loadUser(ctx, tx, account, userName)
	if err != nil {
		return nil, nil, err
	}
	g, err := loadGroup(ctx, tx, account, groupName)
	if err != nil {
		return nil, nil, err
	}
	return u, g, nil
}

// RemoveUserFromGroup removes a user from a group. Both must exist; removing a user that is not
// a member succeeds, as AWS answers it.
func (s *Service) RemoveUserFromGroup(ctx context.Context, in *iam.RemoveUserFromGroupInput) (*iam.RemoveUserFromGroupOutput, error) {
	account := caller(ctx).Account
	err := s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		u, g, err := loadMembership(ctx, tx, account, *in.UserName, *in.GroupName)
		if err != nil {
			return err
		}
		err = tx.RemoveLink(ctx, store.Link{Account: account, Kind: store.LinkMember, From: g.ID, To: u.ID})
		if isNotFound(err) {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iam.RemoveUserFromGroupOutput{}, nil
}

// ListGroupsForUser lists the groups a user belongs to.
func (s *Service) ListGroupsForUser(ctx context.Context, in *iam.ListGroupsForUserInput) (*iam.ListGroupsForUserOutput, error) {
	account := caller(ctx).Account
	pg, err := pageOf(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iam.ListGroupsForUserOutput{Groups: []types.Group{}}
	err = s.view(ctx, func(ctx context.Context, tx store.Tx) error {
		u, err := loadUser(ctx, tx, account, *in.UserName)
		if err != nil {
			return err
		}
		groups, err := userGroups(ctx, tx, account, u.ID)
		if err != nil {
			return err
		}
		groups, truncated, marker, err := cut(after(groups, pg.after, groupKey), pg.limit, groupKey)
		if err != nil {
			return err
		}
		for _, g := range groups {
			out.Groups = append(out.Groups, sdkGroup(account, g))
		}
		out.IsTruncated, out.Marker = truncated, marker
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
