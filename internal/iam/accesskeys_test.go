package iam

import (
	"bytes"
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/enforce"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

func TestAccessKeySecretIsSealed(t *testing.T) {
	t.Parallel()
	f := gkNewFixture(t)
	_, err := f.svc.CreateUser(f.ctx, &iam.CreateUserInput{UserName: aws.String("alice")})
	gkCheck(t, err)
	out, err := f.svc.CreateAccessKey(f.ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	gkCheck(t, err)
	id, secret := *out.AccessKey.AccessKeyId, *out.AccessKey.SecretAccessKey

	var rec store.Record
	gkCheck(t, f.store.View(context.Background(), func(ctx context.Context, tx store.Tx) (err error) {
		rec, err = tx.GetByID(ctx, store.KindAccessKey, id)
		return err
	}))
	if bytes.Contains(rec.Data, []byte(secret)) {
		t.Fatalf("the stored record contains the plaintext secret")
	}

	// Authentication finds the key, its owner and the secret it was created with.
	cred, err := f.svc.enforcer.LookupAccessKey(context.Background(), id)
	gkCheck(t, err)
	if cred.Secret != secret || cred.Principal.Type != principal.User || cred.Principal.UserName != "alice" || cred.Principal.Account != f.account {
		t.Errorf("credential = %+v", cred.Principal)
	}

	// Deactivated keys do not authenticate; reactivated ones do again.
	_, err = f.svc.UpdateAccessKey(f.ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String(id), Status: types.StatusTypeInactive})
	gkCheck(t, err)
	if _, err := f.svc.enforcer.LookupAccessKey(context.Background(), id); err != enforce.ErrUnknownKey {
		t.Errorf("inactive key: LookupAccessKey error = %v, want ErrUnknownKey", err)
	}
	_, err = f.svc.UpdateAccessKey(f.ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String(id), Status: types.StatusTypeActive})
	gkCheck(t, err)
	if _, err := f.svc.enforcer.LookupAccessKey(context.Background(), id); err != nil {
		t.Errorf("reactivated key: %v", err)
	}
}

func TestAccessKeyOwner(t *testing.T) {
	t.Parallel()
	f := gkNewFixture(t)
	_, err := f.svc.CreateUser(f.ctx, &iam.CreateUserInput{UserName: aws.String("bob")})
	gkCheck(t, err)
	bob := f.as(t, "bob")
	for _, tc := range []struct {
		name     string
		ctx      context.Context
		userName *string
		wantUser string // "" for the root user
	}{
		{"caller=root name=absent", f.ctx, nil, ""},
		{"caller=root name=bob", f.ctx, aws.String("BOB"), "bob"},
		{"caller=bob name=absent", bob, nil, "bob"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := f.svc.CreateAccessKey(tc.ctx, &iam.CreateAccessKeyInput{UserName: tc.userName})
			gkCheck(t, err)
			if aws.ToString(out.AccessKey.UserName) != tc.wantUser {
				t.Errorf("UserName = %q, want %q", aws.ToString(out.AccessKey.UserName), tc.wantUser)
			}
			cred, err := f.svc.enforcer.LookupAccessKey(context.Background(), *out.AccessKey.AccessKeyId)
			gkCheck(t, err)
			if cred.Principal.UserName != tc.wantUser {
				t.Errorf("key authenticates as %q, want %q", cred.Principal.UserName, tc.wantUser)
			}
			used, err := f.svc.GetAccessKeyLastUsed(tc.ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: out.AccessKey.AccessKeyId})
			gkCheck(t, err)
			if aws.ToString(used.UserName) != tc.wantUser || aws.ToString(used.AccessKeyLastUsed.ServiceName) != notUsed {
				t.Errorf("GetAccessKeyLastUsed = %q %+v", aws.ToString(used.UserName), used.AccessKeyLastUsed)
			}
			// Recorded use shows up in GetAccessKeyLastUsed.
			gkCheck(t, f.svc.enforcer.RecordKeyUse(context.Background(), f.account, *out.AccessKey.AccessKeyId, "iam", "us-west-2"))
			used, err = f.svc.GetAccessKeyLastUsed(tc.ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: out.AccessKey.AccessKeyId})
			gkCheck(t, err)
			if lu := used.AccessKeyLastUsed; lu.LastUsedDate == nil || !lu.LastUsedDate.Equal(f.now) || *lu.ServiceName != "iam" || *lu.Region != "us-west-2" {
				t.Errorf("after use: %+v", lu)
			}
		})
	}
	// Root had its bootstrap key and now one more; bob two. Both are at the quota.
	for _, ctx := range []context.Context{f.ctx, bob} {
		_, err := f.svc.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{})
		if gkCode(t, err) != "LimitExceeded" {
			t.Errorf("third key: %v", err)
		}
	}
	keys, err := f.svc.ListAccessKeys(bob, &iam.ListAccessKeysInput{})
	gkCheck(t, err)
	if len(keys.AccessKeyMetadata) != 2 {
		t.Errorf("bob lists %d keys of his own, want 2", len(keys.AccessKeyMetadata))
	}
}
