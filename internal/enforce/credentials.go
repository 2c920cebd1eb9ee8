package enforce

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/entity"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// ErrUnknownKey is returned by LookupAccessKey for a key that does not exist or is inactive;
// the caller answers InvalidClientTokenId either way, as AWS does.
var ErrUnknownKey = fmt.Errorf("iam: unknown or inactive access key")

// KeyUseInterval is how stale a key's recorded last use may get before a request records it
// again; it bounds the writes that authentication causes to one per key per interval.
const KeyUseInterval = time.Minute

// Credential is what authentication learns from an access key id.
type Credential struct {
	Principal principal.Principal
	Secret    string
	// LastUsed is the recorded last use, to decide whether RecordKeyUse is due.
	LastUsed *time.Time
}

// LookupAccessKey finds the active access key id and its owner. It reads, never writes; a
// result may come from the credential cache (see CacheTTL). The Credential is shared: the
// caller must not modify it.
func (e *Enforcer) LookupAccessKey(ctx context.Context, accessKeyID string) (*Credential, error) {
	now := e.now()
	if cred := e.creds.get(accessKeyID, now); cred != nil {
		return cred, nil
	}
	epoch := e.creds.principals.Load()
	var cred *Credential
	err := e.store.View(ctx, func(ctx context.Context, tx store.Tx) error {
		key, rec, err := store.LoadByID[store.AccessKey](ctx, tx, store.KindAccessKey, accessKeyID)
		if isNotFound(err) {
			return ErrUnknownKey
		}
		if err != nil {
			return err
		}
		if key.Status != "Active" {
			return ErrUnknownKey
		}
		secret, err := e.box.Open(key.SecretCiphertext, []byte(key.ID))
		if err != nil {
			return fmt.Errorf("iam: open secret of %s: %w", key.ID, err)
		}
		cred = &Credential{Secret: string(secret), LastUsed: key.LastUsedDate}
		p := &cred.Principal
		p.Account, p.AccessKeyID = rec.Account, key.ID
		if key.OwnerID == rec.Account {
			p.Type, p.ARN, p.UserID = principal.Root, "arn:aws:iam::"+rec.Account+":root", rec.Account
			return nil
		}
		u, _, err := store.LoadByID[store.User](ctx, tx, store.KindUser, key.OwnerID)
		if err != nil {
			return fmt.Errorf("iam: owner of access key %s: %w", key.ID, err)
		}
		p.Type, p.ARN, p.UserID, p.UserName = principal.User, entity.UserARN(rec.Account, u), u.ID, u.Name
		return nil
	})
	if err != nil {
		return nil, err
	}
	e.creds.put(accessKeyID, cred, epoch, now)
	return cred, nil
}

// KeyUseDue reports whether a request with cred should record the key's use; it claims the
// recording, so requests running at the same time don't all record it.
func (e *Enforcer) KeyUseDue(cred *Credential) bool {
	return e.creds.claimUse(cred.Principal.AccessKeyID, cred.LastUsed, e.now())
}

// RecordKeyUse stores when, where and for which service an access key was last used.
func (e *Enforcer) RecordKeyUse(ctx context.Context, account, accessKeyID, service, region string) error {
	return e.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		key, rec, err := store.LoadByID[store.AccessKey](ctx, tx, store.KindAccessKey, accessKeyID)
		if isNotFound(err) {
			return nil // deleted meanwhile: nothing to record
		}
		if err != nil {
			return err
		}
		now := e.now().UTC().Truncate(time.Second) // IAM reports times in seconds
		key.LastUsedDate, key.LastUsedService, key.LastUsedRegion = &now, service, region
		rec.Data = store.Encode(key)
		return tx.Replace(ctx, rec)
	})
}
