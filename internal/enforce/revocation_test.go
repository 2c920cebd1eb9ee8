package enforce_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamapi "github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/enforce"
	"github.com/gatehouse-iam/gatehouse/internal/iam"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/secret"
	"github.com/gatehouse-iam/gatehouse/internal/store/sqlite"
)

// revFixture is an Enforcer and the IAM service that writes what it reads, over a real SQLite
// file; the IAM handlers only set the scene, every check asks the Enforcer.
type revFixture struct {
	enf  *enforce.Enforcer
	iam  *iam.Service
	root context.Context
	now  time.Time
}

func newRevFixture(t *testing.T) *revFixture {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "gatehouse.db"), logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	box, err := secret.NewBox(make([]byte, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	f := &revFixture{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return f.now }
	f.enf = enforce.New(st, box, clock, logger)
	f.iam = iam.New(st, box, clock, iam.RandomIDs{}, logger, f.enf)
	acct, err := f.iam.CreateAccount(context.Background(), iam.AccountCredentials{})
	if err != nil {
		t.Fatal(err)
	}
	f.root = principal.NewContext(context.Background(), &principal.Principal{
		Type: principal.Root, Account: acct.AccountID, ARN: "arn:aws:iam::" + acct.AccountID + ":root", UserID: acct.AccountID, AccessKeyID: acct.AccessKeyID,
	})
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func isAccessDenied(err error) bool {
	e := awsquery.AsError(err)
	return e != nil && e.Code == "AccessDenied"
}

const readOnly = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"

// TestRevocation checks that what the enforcer caches never outlives what it came from: a
// deleted access key is unknown, a detached policy no longer allows, and the session of a
// deleted role no longer has a principal, at the next request after a write of this process;
// and that DropCaches (another node wrote) and CacheTTL end what the grants cache serves.
func TestRevocation(t *testing.T) {
	t.Parallel()
	f := newRevFixture(t)
	ctx := context.Background()

	_, err := f.iam.CreateUser(f.root, &iamapi.CreateUserInput{UserName: aws.String("alice")})
	must(t, err)
	_, err = f.iam.AttachUserPolicy(f.root, &iamapi.AttachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String(readOnly)})
	must(t, err)
	key, err := f.iam.CreateAccessKey(f.root, &iamapi.CreateAccessKeyInput{UserName: aws.String("alice")})
	must(t, err)
	keyID := *key.AccessKey.AccessKeyId

	cred, err := f.enf.LookupAccessKey(ctx, keyID)
	must(t, err)
	if cred.Principal.UserName != "alice" || cred.Secret != *key.AccessKey.SecretAccessKey {
		t.Fatalf("credential = %+v, want alice's key", cred.Principal)
	}
	alice := principal.NewContext(ctx, &cred.Principal)
	list := enforce.Access{Action: "iam:ListUsers"}
	if err := f.enf.Authorize(alice, list); err != nil {
		t.Fatalf("attached: %v", err)
	}

	t.Run("case=detached policy", func(t *testing.T) {
		_, err := f.iam.DetachUserPolicy(f.root, &iamapi.DetachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String(readOnly)})
		must(t, err)
		if err := f.enf.Authorize(alice, list); !isAccessDenied(err) {
			t.Fatalf("after detach: %v, want AccessDenied", err)
		}
		_, err = f.iam.AttachUserPolicy(f.root, &iamapi.AttachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String(readOnly)})
		must(t, err)
		if err := f.enf.Authorize(alice, list); err != nil {
			t.Fatalf("re-attached: %v", err)
		}
	})

	t.Run("case=DropCaches and CacheTTL", func(t *testing.T) {
		// DropCaches is how a fleet's change watcher tells of another node's write; without it
		// the cached grants serve for at most CacheTTL.
		if err := f.enf.Authorize(alice, list); err != nil {
			t.Fatal(err)
		}
		hits := func() uint64 {
			for _, s := range f.enf.CacheStats() {
				if s.Name == "grants" {
					return s.Hits
				}
			}
			t.Fatal("no grants cache in CacheStats")
			return 0
		}
		before := hits()
		must(t, f.enf.Authorize(alice, list))
		if hits() != before+1 {
			t.Fatalf("grants hits %d -> %d, want one more", before, hits())
		}
		f.enf.DropCaches()
		must(t, f.enf.Authorize(alice, list))
		if hits() != before+1 {
			t.Fatal("DropCaches left the grants cached")
		}
		f.now = f.now.Add(enforce.CacheTTL)
		must(t, f.enf.Authorize(alice, list))
		if hits() != before+1 {
			t.Fatal("grants served past CacheTTL")
		}
	})

	t.Run("case=deleted key", func(t *testing.T) {
		if _, err := f.enf.LookupAccessKey(ctx, keyID); err != nil { // cached now
			t.Fatal(err)
		}
		_, err := f.iam.DeleteAccessKey(f.root, &iamapi.DeleteAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String(keyID)})
		must(t, err)
		if _, err := f.enf.LookupAccessKey(ctx, keyID); !errors.Is(err, enforce.ErrUnknownKey) {
			t.Fatalf("deleted key: %v, want ErrUnknownKey", err)
		}
	})

	t.Run("case=deleted role", func(t *testing.T) {
		out, err := f.iam.CreateRole(f.root, &iamapi.CreateRoleInput{RoleName: aws.String("worker"),
			AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + cred.Principal.Account + `"},"Action":"sts:AssumeRole"}]}`)})
		must(t, err)
		sess := &principal.Principal{
			Type: principal.AssumedRole, Account: cred.Principal.Account, ARN: "arn:aws:sts::" + cred.Principal.Account + ":assumed-role/worker/s1",
			UserID: *out.Role.RoleId + ":s1", AccessKeyID: "ASIAWORKER",
			Session: &principal.Session{RoleID: *out.Role.RoleId, RoleARN: *out.Role.Arn, RoleName: "worker", SessionName: "s1", IssuedAt: f.now},
		}
		if ok, err := f.enf.SessionPrincipalExists(ctx, sess); err != nil || !ok {
			t.Fatalf("live role: %v, %v; want true", ok, err)
		}
		_, err = f.iam.DeleteRole(f.root, &iamapi.DeleteRoleInput{RoleName: aws.String("worker")})
		must(t, err)
		if ok, err := f.enf.SessionPrincipalExists(ctx, sess); err != nil || ok {
			t.Fatalf("deleted role: %v, %v; want false", ok, err)
		}
	})
}
