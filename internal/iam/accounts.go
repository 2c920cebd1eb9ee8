package iam

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// AccountCredentials are a new account's id and its root user's access key.
type AccountCredentials struct {
	AccountID       string
	AccessKeyID     string
	SecretAccessKey string
}

// ErrAccountExists is returned when creating an account whose id or root key id is taken.
var ErrAccountExists = errors.New("account or access key already exists")

var (
	accountIDPattern   = regexp.MustCompile(`^[0-9]{12}$`)
	accessKeyIDPattern = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)
)

// CreateAccount creates an account with a root access key. Empty fields of want are generated.
func (s *Service) CreateAccount(ctx context.Context, want AccountCredentials) (AccountCredentials, error) {
	return s.createAccount(ctx, want, false)
}

// errNotFirst stops CreateFirstAccount's transaction when the deployment has an account.
var errNotFirst = errors.New("the deployment already has an account")

// CreateFirstAccount is CreateAccount when the deployment has no account yet, and false
// otherwise. The check and the creation are one transaction, so nodes of a fleet that start
// together on an empty database create one first account between them, not one each.
func (s *Service) CreateFirstAccount(ctx context.Context, want AccountCredentials) (AccountCredentials, bool, error) {
	c, err := s.createAccount(ctx, want, true)
	if errors.Is(err, errNotFirst) {
		return AccountCredentials{}, false, nil
	}
	return c, err == nil, err
}

func (s *Service) createAccount(ctx context.Context, want AccountCredentials, onlyFirst bool) (AccountCredentials, error) {
	c := want
	if c.AccountID == "" {
		c.AccountID = s.ids.AccountID()
	}
	if c.AccessKeyID == "" {
		c.AccessKeyID = s.ids.AccessKeyID("AKIA")
	}
	if c.SecretAccessKey == "" {
		c.SecretAccessKey = s.ids.SecretAccessKey()
	}
	switch {
	case !accountIDPattern.MatchString(c.AccountID):
		return c, fmt.Errorf("account id %q must be 12 digits", c.AccountID)
	case !accessKeyIDPattern.MatchString(c.AccessKeyID):
		return c, fmt.Errorf("access key id %q must be 16 to 128 upper-case letters and digits", c.AccessKeyID)
	case len(c.SecretAccessKey) < 16 || len(c.SecretAccessKey) > 128:
		return c, fmt.Errorf("secret access key must be 16 to 128 characters")
	}
	sealed, err := s.box.Seal([]byte(c.SecretAccessKey), []byte(c.AccessKeyID))
	if err != nil {
		return c, err
	}
	now := s.timestamp()
	err = s.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if onlyFirst {
			if n, err := tx.Count(ctx, store.KindAccount, "", ""); err != nil || n > 0 {
				return cmp.Or(err, errNotFirst)
			}
		}
		acct := store.Account{ID: c.AccountID, CreateDate: now}
		if err := tx.Insert(ctx, store.Record{Kind: store.KindAccount, Key: acct.ID, ID: acct.ID, Data: store.Encode(acct)}); err != nil {
			return err
		}
		key := store.AccessKey{ID: c.AccessKeyID, OwnerID: c.AccountID, Status: "Active", SecretCiphertext: sealed, CreateDate: now}
		return tx.Insert(ctx, store.Record{Account: c.AccountID, Kind: store.KindAccessKey, Key: store.ChildKey(c.AccountID, key.ID), ID: key.ID, Data: store.Encode(key)})
	})
	if isExists(err) {
		return c, fmt.Errorf("create account %s: %w", c.AccountID, ErrAccountExists)
	}
	if err != nil && !errors.Is(err, errNotFirst) {
		return c, fmt.Errorf("create account %s: %w", c.AccountID, err)
	}
	return c, err
}

// ListAccounts returns every account of the deployment, ordered by id.
func (s *Service) ListAccounts(ctx context.Context) ([]store.Account, error) {
	var out []store.Account
	err := s.store.View(ctx, func(ctx context.Context, tx store.Tx) error {
		recs, err := tx.List(ctx, store.KindAccount, "", store.Query{})
		if err != nil {
			return err
		}
		for _, r := range recs {
			var a store.Account
			if err := store.Decode(r, &a); err != nil {
				return err
			}
			out = append(out, a)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return out, nil
}
