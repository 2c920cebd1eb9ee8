package iam

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// Data migrations bring what older versions stored to what this one expects. Each runs once
// per database, in one transaction with the record that marks it done, so a crash part-way
// leaves the database as it was and the next start runs it again.

// migrationPrincipalsByID names the migration that binds the principals of stored trust
// policies to unique ids (earlier versions kept the ARNs, which matched whoever took the name).
const migrationPrincipalsByID = "trust-principals-by-id"

// Migrate runs the data migrations this database has not had yet.
func (s *Service) Migrate(ctx context.Context) error {
	bound := 0
	err := s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		bound = 0
		if _, err := tx.Get(ctx, store.KindMigration, "", migrationPrincipalsByID); err == nil {
			return nil
		} else if !isNotFound(err) {
			return err
		}
		accounts, err := tx.List(ctx, store.KindAccount, "", store.Query{})
		if err != nil {
			return err
		}
		for _, acct := range accounts {
			n, err := s.bindStoredTrust(ctx, tx, acct.Key)
			if err != nil {
				return fmt.Errorf("account %s: %w", acct.Key, err)
			}
			bound += n
		}
		return tx.Insert(ctx, store.Record{Kind: store.KindMigration, Key: migrationPrincipalsByID, Data: []byte("{}")})
	})
	if err != nil {
		return fmt.Errorf("migrate %s: %w", migrationPrincipalsByID, err)
	}
	if bound > 0 {
		s.logger.InfoContext(ctx, "bound trust policy principals to unique ids", slog.Int("roles", bound))
	}
	return nil
}

// bindStoredTrust binds the trust policies of account's roles and returns how many changed. A
// user or role a policy names that no longer exists gets a fresh unique id, which no principal
// has: the policy keeps showing it, as AWS shows a deleted principal's id, and never matches
// anyone who takes the name later.
func (s *Service) bindStoredTrust(ctx context.Context, tx store.Tx, account string) (int, error) {
	recs, err := tx.List(ctx, store.KindRole, account, store.Query{})
	if err != nil {
		return 0, err
	}
	gone := func(kind store.Kind, v string) (string, error) {
		if !strings.HasPrefix(v, "arn:") {
			return v, nil // an id already
		}
		if kind == store.KindUser {
			return s.ids.UniqueID("AIDA"), nil
		}
		return s.ids.UniqueID("AROA"), nil
	}
	changed := 0
	for _, rec := range recs {
		var r store.Role
		if err := store.Decode(rec, &r); err != nil {
			return 0, err
		}
		doc, err := rebindPrincipals(ctx, tx, r.AssumeRolePolicyDocument, gone)
		if err != nil {
			return 0, fmt.Errorf("role %s: %w", r.Name, err)
		}
		if doc == r.AssumeRolePolicyDocument {
			continue
		}
		r.AssumeRolePolicyDocument = doc
		if err := tx.Replace(ctx, roleRecord(account, &r)); err != nil {
			return 0, err
		}
		changed++
	}
	return changed, nil
}
