package iam

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/entity"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// sdkUser is the User element; full adds what GetUser shows and ListUsers leaves out.
func sdkUser(account string, u *store.User, full bool) types.User {
	out := types.User{
		Arn:        aws.String(entity.UserARN(account, u)),
		CreateDate: aws.Time(u.CreateDate),
		Path:       aws.String(u.Path),
		UserId:     aws.String(u.ID),
		UserName:   aws.String(u.Name),
	}
	if full {
		out.PermissionsBoundary = sdkBoundary(u.PermissionsBoundary)
		out.Tags = sdkTags(u.Tags)
	}
	return out
}

func noSuchUser(name string) error {
	return awsquery.NoSuchEntity("The user with name %s cannot be found.", name)
}

// loadUser reads a user by name, answering NoSuchEntity when there is none.
func loadUser(ctx context.Context, tx store.Tx, account, name string) (*store.User, error) {
	u, err := store.Load[store.User](ctx, tx, store.KindUser, account, store.NameKey(name))
	if isNotFound(err) {
		return nil, noSuchUser(name)
	}
	return u, err
}

func (s *Service) userOperations() []operation {
	return []operation{
		{"CreateUser", awsquery.Handle(s.CreateUser)},
		{"GetUser", awsquery.Handle(s.GetUser)},
		{"UpdateUser", awsquery.Handle(s.UpdateUser)},
		{"DeleteUser", awsquery.Handle(s.DeleteUser)},
		{"ListUsers", awsquery.Handle(s.ListUsers)},
	}
}

// CreateUser creates an IAM user.
func (s *Service) CreateUser(ctx context.Context, in *iam.CreateUserInput) (*iam.CreateUserOutput, error) {
	account := caller(ctx).Account
	if err := validatePath(in.Path); err != nil {
		return nil, err
	}
	tags, err := tagsFromInput(in.Tags)
	if err != nil {
		return nil, err
	}
	u := &store.User{
		ID:         s.ids.UniqueID("AIDA"),
		Name:       *in.UserName,
		Path:       defaultPath(in.Path),
		CreateDate: s.timestamp(),
		Tags:       tags,
	}
	err = s.create(ctx, func(ctx context.Context, tx store.Tx) error {
		if u.PermissionsBoundary, err = boundaryFor(ctx, tx, account, in.PermissionsBoundary); err != nil {
			return err
		}
		err := tx.Insert(ctx, store.Record{Account: account, Kind: store.KindUser, Key: store.NameKey(u.Name), ID: u.ID, Path: u.Path, Data: store.Encode(u)})
		if isExists(err) {
			return awsquery.EntityAlreadyExists("User with name %s already exists.", u.Name)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	out := sdkUser(account, u, true)
	return &iam.CreateUserOutput{User: &out}, nil
}

// GetUser returns a user, or the caller when no name is given.
func (s *Service) GetUser(ctx context.Context, in *iam.GetUserInput) (*iam.GetUserOutput, error) {
	p := caller(ctx)
	name := aws.ToString(in.UserName)
	if name == "" {
		if p.Type == principal.Root {
			return s.getRootUser(ctx, p)
		}
		name = p.UserName
	}
	u, err := s.cachedUser(ctx, p.Account, name)
	if err != nil {
		return nil, err
	}
	return &iam.GetUserOutput{User: u}, nil
}

// cachedUser answers GetUser for a user, the API's most frequent read, from the node's cache
// when no write has committed since it was read (on this node, or on another node of a fleet,
// which the change watcher reports), and for at most enforce.CacheTTL: the same bound as the
// authorization caches, within IAM's eventual consistency. The cached answer is shared by
// concurrent requests and never modified (the XML encoder only reads it).
func (s *Service) cachedUser(ctx context.Context, account, name string) (*types.User, error) {
	key := account + "\x00" + store.NameKey(name)
	now, epoch := s.now(), s.enforcer.Epoch()
	if u, ok := s.users.Get(key, epoch, now); ok {
		return u, nil
	}
	var u *store.User
	err := s.view(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		u, err = loadUser(ctx, tx, account, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := sdkUser(account, u, true)
	out.PasswordLastUsed = u.PasswordLastUsed
	s.users.Put(key, &out, epoch, now)
	return &out, nil
}

// getRootUser describes the account's root user, as GetUser does for root credentials.
func (s *Service) getRootUser(ctx context.Context, p *principal.Principal) (*iam.GetUserOutput, error) {
	var acct *store.Account
	err := s.view(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		acct, err = store.Load[store.Account](ctx, tx, store.KindAccount, "", p.Account)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iam.GetUserOutput{User: &types.User{
		Arn:        aws.String(p.ARN),
		CreateDate: aws.Time(acct.CreateDate),
		UserId:     aws.String(p.Account),
	}}, nil
}

// UpdateUser renames a user or moves it to another path.
func (s *Service) UpdateUser(ctx context.Context, in *iam.UpdateUserInput) (*iam.UpdateUserOutput, error) {
	account := caller(ctx).Account
	if err := validatePath(in.NewPath); err != nil {
		return nil, err
	}
	err := s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		u, err := loadUser(ctx, tx, account, *in.UserName)
		if err != nil {
			return err
		}
		oldKey := store.NameKey(u.Name)
		if in.NewPath != nil {
			u.Path = *in.NewPath
		}
		if in.NewUserName != nil {
			u.Name = *in.NewUserName
		}
		return renameRecord(ctx, tx, store.Record{Account: account, Kind: store.KindUser, Key: store.NameKey(u.Name), ID: u.ID, Path: u.Path, Data: store.Encode(u)}, oldKey,
			func() error { return awsquery.EntityAlreadyExists("User with name %s already exists.", u.Name) })
	})
	if err != nil {
		return nil, err
	}
	return &iam.UpdateUserOutput{}, nil
}

// renameRecord stores rec, which was stored under oldKey; taken is the error for a name in use.
// Links and child records refer to ids, so they survive the rename.
func renameRecord(ctx context.Context, tx store.Tx, rec store.Record, oldKey string, taken func() error) error {
	if rec.Key == oldKey {
		return tx.Replace(ctx, rec)
	}
	if err := tx.Delete(ctx, rec.Kind, rec.Account, oldKey); err != nil {
		return err
	}
	err := tx.Insert(ctx, rec)
	if isExists(err) {
		return taken()
	}
	return err
}

// DeleteUser deletes a user that no longer has keys, policies or group memberships.
func (s *Service) DeleteUser(ctx context.Context, in *iam.DeleteUserInput) (*iam.DeleteUserOutput, error) {
	account := caller(ctx).Account
	err := s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		u, err := loadUser(ctx, tx, account, *in.UserName)
		if err != nil {
			return err
		}
		if ok, err := hasLoginProfile(ctx, tx, account, u.ID); err != nil || ok {
			return conflictOr(err, "Cannot delete entity, must delete login profile first.")
		}
		if n, err := tx.Count(ctx, store.KindAccessKey, account, store.ChildKey(u.ID, "")); err != nil || n > 0 {
			return conflictOr(err, "Cannot delete entity, must delete access keys first.")
		}
		if n, err := tx.Count(ctx, store.KindInlinePolicy, account, store.ChildKey(u.ID, "")); err != nil || n > 0 {
			return conflictOr(err, "Cannot delete entity, must delete policies first.")
		}
		if l, err := tx.LinksFrom(ctx, account, store.LinkAttached, store.PrincipalRef(store.KindUser, u.ID)); err != nil || len(l) > 0 {
			return conflictOr(err, "Cannot delete entity, must detach all policies first.")
		}
		if l, err := tx.LinksTo(ctx, account, store.LinkMember, u.ID); err != nil || len(l) > 0 {
			return conflictOr(err, "Cannot delete entity, must remove users from group first.")
		}
		if n, err := countMFADevices(ctx, tx, account, u.ID); err != nil || n > 0 {
			return conflictOr(err, "Cannot delete entity, must delete MFA device first.")
		}
		if n, err := tx.Count(ctx, store.KindSigningCertificate, account, store.ChildKey(u.ID, "")); err != nil || n > 0 {
			return conflictOr(err, "Cannot delete entity, must delete certificates first.")
		}
		// AWS's text for SSH public keys and service-specific credentials.
		for _, kind := range []store.Kind{store.KindSSHPublicKey, store.KindServiceCredential} {
			if n, err := tx.Count(ctx, kind, account, store.ChildKey(u.ID, "")); err != nil || n > 0 {
				return conflictOr(err, "Cannot delete entity, must remove referenced objects first.")
			}
		}
		if err := deletePasswordHistory(ctx, tx, account, u.ID); err != nil {
			return err
		}
		return tx.Delete(ctx, store.KindUser, account, store.NameKey(u.Name))
	})
	if err != nil {
		return nil, err
	}
	return &iam.DeleteUserOutput{}, nil
}

// conflictOr returns err when the check itself failed, else a DeleteConflict with msg.
func conflictOr(err error, msg string) error {
	if err != nil {
		return err
	}
	return awsquery.DeleteConflict("%s", msg)
}

// ListUsers lists users, optionally under a path prefix.
func (s *Service) ListUsers(ctx context.Context, in *iam.ListUsersInput) (*iam.ListUsersOutput, error) {
	account := caller(ctx).Account
	users, truncated, marker, err := listByPath(ctx, s, store.KindUser, account, in.Marker, in.MaxItems, in.PathPrefix,
		func(_ context.Context, _ store.Tx, u *store.User) (types.User, error) {
			out := sdkUser(account, u, false)
			out.PasswordLastUsed = u.PasswordLastUsed // only GetUser and ListUsers show it (IAM API Reference, User)
			return out, nil
		})
	if err != nil {
		return nil, err
	}
	return &iam.ListUsersOutput{Users: users, IsTruncated: truncated, Marker: marker}, nil
}
