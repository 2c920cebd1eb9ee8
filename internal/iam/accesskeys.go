package iam

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// maxAccessKeysPerUser is IAM's quota of access keys, active or not, per user and for root.
const maxAccessKeysPerUser = 2

// notUsed is what GetAccessKeyLastUsed reports as service and region of a key never used.
const notUsed = "N/A"

// keyOwner is whose access keys an operation acts on.
type keyOwner struct {
	id       string // user id, or the account id for the root user
	userName string // "" for the root user, whose keys carry no user name
}

func (o keyOwner) sdkUserName() *string {
	if o.userName == "" {
		return nil
	}
	return aws.String(o.userName)
}

// resolveKeyOwner finds the user named by userName, or the caller when it is absent: root
// callers act on the root user's keys, as AWS does. A role session must name the user:
// ValidationError "Must specify userName when calling with non-User credentials"
// (LocalStack's recordings of AWS, test_iam_users.snapshot.json
// delete-access-key-without-username-error).
func resolveKeyOwner(ctx context.Context, tx store.Tx, p *principal.Principal, userName *string) (keyOwner, error) {
	if name := aws.ToString(userName); name != "" {
		u, err := loadUser(ctx, tx, p.Account, name)
		if err != nil {
			return keyOwner{}, err
		}
		return keyOwner{id: u.ID, userName: u.Name}, nil
	}
	switch p.Type {
	case principal.Root:
		return keyOwner{id: p.Account}, nil
	case principal.AssumedRole, principal.FederatedUser:
		return keyOwner{}, awsquery.ValidationError("Must specify userName when calling with non-User credentials")
	}
	u, _, err := store.LoadByID[store.User](ctx, tx, store.KindUser, p.UserID)
	if isNotFound(err) {
		return keyOwner{}, noSuchUser(p.UserName)
	}
	if err != nil {
		return keyOwner{}, err
	}
	return keyOwner{id: u.ID, userName: u.Name}, nil
}

func noSuchAccessKey(id string) error {
	return awsquery.NoSuchEntity("The Access Key with id %s cannot be found.", id)
}

func (s *Service) accessKeyOperations() []operation {
	return []operation{
		{"CreateAccessKey", awsquery.Handle(s.CreateAccessKey)},
		{"ListAccessKeys", awsquery.Handle(s.ListAccessKeys)},
		{"UpdateAccessKey", awsquery.Handle(s.UpdateAccessKey)},
		{"DeleteAccessKey", awsquery.Handle(s.DeleteAccessKey)},
		{"GetAccessKeyLastUsed", awsquery.Handle(s.GetAccessKeyLastUsed)},
	}
}

// CreateAccessKey makes a new active key for a user or the caller. The secret is returned only
// here; it is stored sealed under the master key.
func (s *Service) CreateAccessKey(ctx context.Context, in *iam.CreateAccessKeyInput) (*iam.CreateAccessKeyOutput, error) {
	p := caller(ctx)
	secret := s.ids.SecretAccessKey()
	key := store.AccessKey{ID: s.ids.AccessKeyID("AKIA"), Status: string(types.StatusTypeActive), CreateDate: s.timestamp()}
	sealed, err := s.box.Seal([]byte(secret), []byte(key.ID))
	if err != nil {
		return nil, s.internal(ctx, fmt.Errorf("seal secret of %s: %w", key.ID, err))
	}
	key.SecretCiphertext = sealed
	var owner keyOwner
	err = s.update(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		if owner, err = resolveKeyOwner(ctx, tx, p, in.UserName); err != nil {
			return err
		}
		n, err := tx.Count(ctx, store.KindAccessKey, p.Account, store.ChildKey(owner.id, ""))
		if err != nil {
			return err
		}
		if n >= maxAccessKeysPerUser {
			return awsquery.LimitExceeded("Cannot exceed quota for AccessKeysPerUser: %d", maxAccessKeysPerUser)
		}
		key.OwnerID = owner.id
		return tx.Insert(ctx, store.Record{Account: p.Account, Kind: store.KindAccessKey, Key: store.ChildKey(owner.id, key.ID), ID: key.ID, Data: store.Encode(key)})
	})
	if err != nil {
		return nil, err
	}
	return &iam.CreateAccessKeyOutput{AccessKey: &types.AccessKey{
		AccessKeyId:     aws.String(key.ID),
		CreateDate:      aws.Time(key.CreateDate),
		SecretAccessKey: aws.String(secret),
		Status:          types.StatusTypeActive,
		UserName:        owner.sdkUserName(),
	}}, nil
}

// ListAccessKeys lists the keys of a user or the caller, without secrets.
func (s *Service) ListAccessKeys(ctx context.Context, in *iam.ListAccessKeysInput) (*iam.ListAccessKeysOutput, error) {
	p := caller(ctx)
	pg, err := pageOf(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iam.ListAccessKeysOutput{AccessKeyMetadata: []types.AccessKeyMetadata{}}
	err = s.view(ctx, func(ctx context.Context, tx store.Tx) error {
		owner, err := resolveKeyOwner(ctx, tx, p, in.UserName)
		if err != nil {
			return err
		}
		recs, truncated, marker, err := list(ctx, tx, store.KindAccessKey, p.Account, store.Query{Prefix: store.ChildKey(owner.id, "")}, pg)
		if err != nil {
			return err
		}
		for _, r := range recs {
			var k store.AccessKey
			if err := store.Decode(r, &k); err != nil {
				return err
			}
			out.AccessKeyMetadata = append(out.AccessKeyMetadata, types.AccessKeyMetadata{
				AccessKeyId: aws.String(k.ID),
				CreateDate:  aws.Time(k.CreateDate),
				Status:      types.StatusType(k.Status),
				UserName:    owner.sdkUserName(),
			})
		}
		out.IsTruncated, out.Marker = truncated, marker
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateAccessKey activates or deactivates a key of a user or the caller.
func (s *Service) UpdateAccessKey(ctx context.Context, in *iam.UpdateAccessKeyInput) (*iam.UpdateAccessKeyOutput, error) {
	p := caller(ctx)
	// The model's status enum also has Expired, which only IAM itself sets.
	if in.Status != types.StatusTypeActive && in.Status != types.StatusTypeInactive {
		return nil, awsquery.ValidationError("Invalid value for parameter Status: %q; valid values are Active and Inactive.", string(in.Status))
	}
	err := s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		owner, err := resolveKeyOwner(ctx, tx, p, in.UserName)
		if err != nil {
			return err
		}
		rec, err := tx.Get(ctx, store.KindAccessKey, p.Account, store.ChildKey(owner.id, *in.AccessKeyId))
		if isNotFound(err) {
			return noSuchAccessKey(*in.AccessKeyId)
		}
		if err != nil {
			return err
		}
		var k store.AccessKey
		if err := store.Decode(rec, &k); err != nil {
			return err
		}
		k.Status = string(in.Status)
		rec.Data = store.Encode(k)
		return tx.Replace(ctx, rec)
	})
	if err != nil {
		return nil, err
	}
	return &iam.UpdateAccessKeyOutput{}, nil
}

// DeleteAccessKey deletes a key of a user or the caller.
func (s *Service) DeleteAccessKey(ctx context.Context, in *iam.DeleteAccessKeyInput) (*iam.DeleteAccessKeyOutput, error) {
	p := caller(ctx)
	err := s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		owner, err := resolveKeyOwner(ctx, tx, p, in.UserName)
		if err != nil {
			return err
		}
		err = tx.Delete(ctx, store.KindAccessKey, p.Account, store.ChildKey(owner.id, *in.AccessKeyId))
		if isNotFound(err) {
			return noSuchAccessKey(*in.AccessKeyId)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iam.DeleteAccessKeyOutput{}, nil
}

// GetAccessKeyLastUsed reports when, where and with which service any key of the caller's
// account was last used; "N/A" service and region, and no date, for a key never used.
func (s *Service) GetAccessKeyLastUsed(ctx context.Context, in *iam.GetAccessKeyLastUsedInput) (*iam.GetAccessKeyLastUsedOutput, error) {
	p := caller(ctx)
	out := &iam.GetAccessKeyLastUsedOutput{}
	err := s.view(ctx, func(ctx context.Context, tx store.Tx) error {
		k, rec, err := store.LoadByID[store.AccessKey](ctx, tx, store.KindAccessKey, *in.AccessKeyId)
		// Keys of other accounts are as unknown as keys that do not exist.
		if isNotFound(err) || (err == nil && rec.Account != p.Account) {
			return noSuchAccessKey(*in.AccessKeyId)
		}
		if err != nil {
			return err
		}
		if k.OwnerID != p.Account {
			u, _, err := store.LoadByID[store.User](ctx, tx, store.KindUser, k.OwnerID)
			if err != nil {
				return fmt.Errorf("owner of access key %s: %w", k.ID, err)
			}
			out.UserName = aws.String(u.Name)
		}
		used := &types.AccessKeyLastUsed{ServiceName: aws.String(notUsed), Region: aws.String(notUsed)}
		if k.LastUsedDate != nil {
			used.LastUsedDate = aws.Time(*k.LastUsedDate)
			used.ServiceName, used.Region = aws.String(k.LastUsedService), aws.String(k.LastUsedRegion)
		}
		out.AccessKeyLastUsed = used
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
