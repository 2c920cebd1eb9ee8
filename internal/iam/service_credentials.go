package iam

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// maxServiceCredentialsPerService is IAM's quota of service-specific credentials per user and
// service.
const maxServiceCredentialsPerService = 2

// credentialService reports whether IAM makes service-specific credentials for service and
// whether they are a long-term API key (an alias and a secret) rather than a user name and a
// password.
func credentialService(service string) (apiKey, ok bool) {
	switch service {
	case "codecommit.amazonaws.com", "cassandra.amazonaws.com":
		return false, true
	case "bedrock.amazonaws.com":
		return true, true
	}
	return false, false
}

// noSuchCredentialService is AWS's answer for a service without service-specific credentials:
// NoSuchEntity, not the model's NotSupportedService.
func noSuchCredentialService(service string) error {
	return awsquery.NoSuchEntity("No such service %s is supported for Service Specific Credentials", service)
}

func noSuchServiceCredential(id string) error {
	return awsquery.NoSuchEntity("No such credential %s exists", id)
}

func serviceCredentialRecord(account string, c *store.ServiceCredential) store.Record {
	return store.Record{Account: account, Kind: store.KindServiceCredential, Key: store.ChildKey(c.UserID, c.ID), ID: c.ID, Data: store.Encode(c)}
}

// credentialStatus is a credential's status as IAM reports it: Expired once an API key is past
// its expiration date.
func credentialStatus(c *store.ServiceCredential, now time.Time) types.StatusType {
	if c.Expires != nil && !now.Before(*c.Expires) {
		return types.StatusTypeExpired
	}
	return types.StatusType(c.Status)
}

// newServiceSecret makes a credential's secret, which IAM shows only when it is made: a
// password of 44 random bytes in base64 (60 characters, as AWS's), or for an API key the
// ABSK-prefixed base64 of the alias and such a password.
func newServiceSecret(apiKey bool, alias string) (string, error) {
	b := make([]byte, 44)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random service credential: %w", err)
	}
	secret := base64.StdEncoding.EncodeToString(b)
	if apiKey {
		secret = "ABSK" + base64.StdEncoding.EncodeToString([]byte(alias+":"+secret))
	}
	return secret, nil
}

// setSecret seals secret into c, bound to the credential's id.
func (s *Service) setSecret(c *store.ServiceCredential, secret string) (err error) {
	if c.SealedPassword, err = s.box.Seal([]byte(secret), []byte(c.ID)); err != nil {
		return fmt.Errorf("seal service credential %s: %w", c.ID, err)
	}
	return nil
}

func sdkServiceCredentialMetadata(c *store.ServiceCredential, userName string, now time.Time) types.ServiceSpecificCredentialMetadata {
	out := types.ServiceSpecificCredentialMetadata{
		CreateDate:                  aws.Time(c.CreateDate),
		ExpirationDate:              c.Expires,
		ServiceName:                 aws.String(c.ServiceName),
		ServiceSpecificCredentialId: aws.String(c.ID),
		Status:                      credentialStatus(c, now),
		UserName:                    aws.String(userName),
	}
	if apiKey, _ := credentialService(c.ServiceName); apiKey {
		out.ServiceCredentialAlias = aws.String(c.ServiceUser)
	} else {
		out.ServiceUserName = aws.String(c.ServiceUser)
	}
	return out
}

// sdkServiceCredential is the element that shows the secret, after a create or reset.
func sdkServiceCredential(c *store.ServiceCredential, userName, secret string, now time.Time) *types.ServiceSpecificCredential {
	m := sdkServiceCredentialMetadata(c, userName, now)
	out := &types.ServiceSpecificCredential{
		CreateDate: m.CreateDate, ExpirationDate: m.ExpirationDate, ServiceName: m.ServiceName, ServiceSpecificCredentialId: m.ServiceSpecificCredentialId,
		Status: m.Status, UserName: m.UserName, ServiceUserName: m.ServiceUserName, ServiceCredentialAlias: m.ServiceCredentialAlias,
	}
	if m.ServiceCredentialAlias != nil {
		out.ServiceCredentialSecret = aws.String(secret)
	} else {
		out.ServicePassword = aws.String(secret)
	}
	return out
}

func (s *Service) serviceCredentialOperations() []operation {
	return []operation{
		{"CreateServiceSpecificCredential", awsquery.Handle(s.CreateServiceSpecificCredential)},
		{"ListServiceSpecificCredentials", awsquery.Handle(s.ListServiceSpecificCredentials)},
		{"ResetServiceSpecificCredential", awsquery.Handle(s.ResetServiceSpecificCredential)},
		{"UpdateServiceSpecificCredential", awsquery.Handle(s.UpdateServiceSpecificCredential)},
		{"DeleteServiceSpecificCredential", awsquery.Handle(s.DeleteServiceSpecificCredential)},
	}
}

// CreateServiceSpecificCredential makes an active credential of a user for one service. The
// password (or API key secret) is returned only here and by a reset; it is stored sealed.
func (s *Service) CreateServiceSpecificCredential(ctx context.Context, in *iam.CreateServiceSpecificCredentialInput) (*iam.CreateServiceSpecificCredentialOutput, error) {
	account := caller(ctx).Account
	now := s.timestamp()
	c := &store.ServiceCredential{ID: s.ids.UniqueID("ACCA"), ServiceName: *in.ServiceName, Status: string(types.StatusTypeActive), CreateDate: now}
	var u *store.User
	var secret string
	err := s.update(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		// AWS names an unknown user before an unknown service.
		if u, err = loadUser(ctx, tx, account, *in.UserName); err != nil {
			return err
		}
		apiKey, ok := credentialService(c.ServiceName)
		if !ok {
			return noSuchCredentialService(c.ServiceName)
		}
		if in.CredentialAgeDays != nil {
			if !apiKey {
				return awsquery.InvalidInput("CredentialAgeDays is only valid for services that support long-term API keys.")
			}
			c.Expires = aws.Time(now.AddDate(0, 0, int(*in.CredentialAgeDays)))
		}
		c.UserID = u.ID
		recs, err := tx.List(ctx, store.KindServiceCredential, account, store.Query{Prefix: store.ChildKey(u.ID, "")})
		if err != nil {
			return err
		}
		taken := map[string]bool{}
		for _, r := range recs {
			var have store.ServiceCredential
			if err := store.Decode(r, &have); err != nil {
				return err
			}
			if have.ServiceName == c.ServiceName {
				taken[have.ServiceUser] = true
			}
		}
		if len(taken) >= maxServiceCredentialsPerService {
			return awsquery.LimitExceeded("Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: %d", maxServiceCredentialsPerService)
		}
		// The first credential is USER-at-ACCOUNT, the second USER+1-at-ACCOUNT, as AWS names them.
		c.ServiceUser = u.Name + "-at-" + account
		if taken[c.ServiceUser] {
			c.ServiceUser = u.Name + "+1-at-" + account
		}
		if secret, err = newServiceSecret(apiKey, c.ServiceUser); err != nil {
			return err
		}
		if err := s.setSecret(c, secret); err != nil {
			return err
		}
		return tx.Insert(ctx, serviceCredentialRecord(account, c))
	})
	if err != nil {
		return nil, err
	}
	return &iam.CreateServiceSpecificCredentialOutput{ServiceSpecificCredential: sdkServiceCredential(c, u.Name, secret, now)}, nil
}

// ListServiceSpecificCredentials lists the credentials of a user, the caller or, with AllUsers,
// the whole account, optionally of one service. Passwords are never listed.
func (s *Service) ListServiceSpecificCredentials(ctx context.Context, in *iam.ListServiceSpecificCredentialsInput) (*iam.ListServiceSpecificCredentialsOutput, error) {
	p := caller(ctx)
	allUsers := aws.ToBool(in.AllUsers)
	if allUsers && in.UserName != nil {
		return nil, awsquery.InvalidInput("AllUsers cannot be specified together with UserName.")
	}
	pg, err := pageOf(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	now := s.timestamp()
	type item struct {
		key  string
		meta types.ServiceSpecificCredentialMetadata
	}
	var items []item
	err = s.view(ctx, func(ctx context.Context, tx store.Tx) error {
		names := map[string]string{} // user id -> name
		prefix := ""
		if !allUsers {
			owner, err := resolveKeyOwner(ctx, tx, p, in.UserName)
			if err != nil || owner.userName == "" {
				return err // the root user has no service-specific credentials
			}
			prefix, names[owner.id] = store.ChildKey(owner.id, ""), owner.userName
		}
		if in.ServiceName != nil {
			if _, ok := credentialService(*in.ServiceName); !ok {
				return noSuchCredentialService(*in.ServiceName)
			}
		}
		recs, err := tx.List(ctx, store.KindServiceCredential, p.Account, store.Query{Prefix: prefix})
		if err != nil {
			return err
		}
		for _, r := range recs {
			var c store.ServiceCredential
			if err := store.Decode(r, &c); err != nil {
				return err
			}
			if in.ServiceName != nil && c.ServiceName != *in.ServiceName {
				continue
			}
			name, ok := names[c.UserID]
			if !ok {
				u, _, err := store.LoadByID[store.User](ctx, tx, store.KindUser, c.UserID)
				if err != nil {
					return fmt.Errorf("owner of service credential %s: %w", c.ID, err)
				}
				name, names[c.UserID] = u.Name, u.Name
			}
			items = append(items, item{r.Key, sdkServiceCredentialMetadata(&c, name, now)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	key := func(it item) string { return it.key }
	page, truncated, marker, err := cut(after(items, pg.after, key), pg.limit, key)
	if err != nil {
		return nil, err
	}
	out := &iam.ListServiceSpecificCredentialsOutput{ServiceSpecificCredentials: []types.ServiceSpecificCredentialMetadata{}, IsTruncated: truncated, Marker: marker}
	for _, it := range page {
		out.ServiceSpecificCredentials = append(out.ServiceSpecificCredentials, it.meta)
	}
	return out, nil
}

// loadServiceCredential reads a credential of a user or the caller, with its owner.
func loadServiceCredential(ctx context.Context, tx store.Tx, p *principal.Principal, userName *string, id string) (*store.ServiceCredential, keyOwner, error) {
	owner, err := resolveKeyOwner(ctx, tx, p, userName)
	if err != nil {
		return nil, owner, err
	}
	if owner.userName == "" {
		return nil, owner, noSuchServiceCredential(id) // the root user has none
	}
	c, err := store.Load[store.ServiceCredential](ctx, tx, store.KindServiceCredential, p.Account, store.ChildKey(owner.id, id))
	if isNotFound(err) {
		return nil, owner, noSuchServiceCredential(id)
	}
	return c, owner, err
}

// ResetServiceSpecificCredential replaces a credential's password (or API key secret) with a
// new one, returned only here.
func (s *Service) ResetServiceSpecificCredential(ctx context.Context, in *iam.ResetServiceSpecificCredentialInput) (*iam.ResetServiceSpecificCredentialOutput, error) {
	p := caller(ctx)
	var c *store.ServiceCredential
	var owner keyOwner
	var secret string
	err := s.update(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		if c, owner, err = loadServiceCredential(ctx, tx, p, in.UserName, *in.ServiceSpecificCredentialId); err != nil {
			return err
		}
		apiKey, _ := credentialService(c.ServiceName)
		if secret, err = newServiceSecret(apiKey, c.ServiceUser); err != nil {
			return err
		}
		if err := s.setSecret(c, secret); err != nil {
			return err
		}
		return tx.Replace(ctx, serviceCredentialRecord(p.Account, c))
	})
	if err != nil {
		return nil, err
	}
	return &iam.ResetServiceSpecificCredentialOutput{ServiceSpecificCredential: sdkServiceCredential(c, owner.userName, secret, s.timestamp())}, nil
}

// UpdateServiceSpecificCredential activates or deactivates a credential.
func (s *Service) UpdateServiceSpecificCredential(ctx context.Context, in *iam.UpdateServiceSpecificCredentialInput) (*iam.UpdateServiceSpecificCredentialOutput, error) {
	p := caller(ctx)
	if err := validStatus(in.Status); err != nil {
		return nil, err
	}
	err := s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		c, _, err := loadServiceCredential(ctx, tx, p, in.UserName, *in.ServiceSpecificCredentialId)
		if err != nil {
			return err
		}
		c.Status = string(in.Status)
		return tx.Replace(ctx, serviceCredentialRecord(p.Account, c))
	})
	if err != nil {
		return nil, err
	}
	return &iam.UpdateServiceSpecificCredentialOutput{}, nil
}

// DeleteServiceSpecificCredential deletes a credential.
func (s *Service) DeleteServiceSpecificCredential(ctx context.Context, in *iam.DeleteServiceSpecificCredentialInput) (*iam.DeleteServiceSpecificCredentialOutput, error) {
	p := caller(ctx)
	err := s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		c, _, err := loadServiceCredential(ctx, tx, p, in.UserName, *in.ServiceSpecificCredentialId)
		if err != nil {
			return err
		}
		return tx.Delete(ctx, store.KindServiceCredential, p.Account, store.ChildKey(c.UserID, c.ID))
	})
	if err != nil {
		return nil, err
	}
	return &iam.DeleteServiceSpecificCredentialOutput{}, nil
}
