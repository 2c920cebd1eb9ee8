package iam

import (
	"context"
	"fmt"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// CheckMasterKey opens one sealed access key secret with the master key, so that a deployment
// restored with another key is refused before it serves requests it cannot verify. It returns
// nil when the deployment has no access key yet (nothing to check).
func (s *Service) CheckMasterKey(ctx context.Context) error {
	accounts, err := s.ListAccounts(ctx)
	if err != nil {
		return err
	}
	return s.store.View(ctx, func(ctx context.Context, tx store.Tx) error {
		for _, a := range accounts {
			recs, err := tx.List(ctx, store.KindAccessKey, a.ID, store.Query{Limit: 1})
			if err != nil {
				return err
			}
			if len(recs) > 0 {
				return s.CheckSealedAccessKey(recs[0]) // one key tells
			}
		}
		return nil
	})
}

// CheckSealedAccessKey opens the secret of an access key record with the master key.
func (s *Service) CheckSealedAccessKey(rec store.Record) error {
	var key store.AccessKey
	if err := store.Decode(rec, &key); err != nil {
		return err
	}
	if _, err := s.box.Open(key.SecretCiphertext, []byte(key.ID)); err != nil {
		return fmt.Errorf("the master key does not open the secret of access key %s: it is not this deployment's key", key.ID)
	}
	return nil
}
