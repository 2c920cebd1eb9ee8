package iam

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/enforce"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// TestMigrateTrustPrincipals opens a database as an older version left it: a trust policy
// that names users by ARN, one of whom no longer exists. Migrate binds the living one to its
// id and gives the missing one an id no one has, so a user who takes its name later does not
// inherit the trust; it runs once.
func TestMigrateTrustPrincipals(t *testing.T) {
	t.Parallel()
	f := azNew(t)
	ctx := context.Background()
	alice := f.user("alice", "/team/")
	acct := f.account
	legacy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["` + alice.ARN +
		`","arn:aws:iam::` + acct + `:user/ghost"],"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	_, err := f.svc.CreateRole(f.root, &iam.CreateRoleInput{RoleName: aws.String("legacy"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	f.must(err)
	writeTrust := func(doc string) {
		t.Helper()
		f.must(f.svc.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
			r, err := store.Load[store.Role](ctx, tx, store.KindRole, acct, "legacy")
			if err != nil {
				return err
			}
			r.AssumeRolePolicyDocument = doc
			return tx.Replace(ctx, roleRecord(acct, r))
		}))
	}
	stored := func() string {
		t.Helper()
		var doc string
		f.must(f.svc.store.View(ctx, func(ctx context.Context, tx store.Tx) error {
			r, err := store.Load[store.Role](ctx, tx, store.KindRole, acct, "legacy")
			if r != nil {
				doc = r.AssumeRolePolicyDocument
			}
			return err
		}))
		return doc
	}
	writeTrust(legacy)

	f.must(f.svc.Migrate(ctx))
	doc := stored()
	if strings.Contains(doc, "arn:aws:iam::"+acct+":user/") || !strings.Contains(doc, alice.UserID) || !strings.Contains(doc, `"Service":"ec2.amazonaws.com"`) {
		t.Fatalf("stored after the migration: %s", doc)
	}
	out, err := f.svc.GetRole(f.root, &iam.GetRoleInput{RoleName: aws.String("legacy")})
	f.must(err)
	shown, _ := url.QueryUnescape(*out.Role.AssumeRolePolicyDocument)
	p, err := policy.Parse([]byte(shown), policy.Trust)
	f.must(err)
	named := p.Statements()[0].Principal.AWS
	if len(named) != 2 || named[0] != alice.ARN || !policy.IsPrincipalID(named[1]) || !strings.HasPrefix(named[1], "AIDA") {
		t.Fatalf("GetRole shows the principals %q, want alice's ARN and a bare user id", named)
	}

	// Whoever takes the missing user's name is not trusted; alice still is.
	ghost := f.user("ghost", "")
	trust, err := policy.Parse([]byte(doc), policy.Trust)
	f.must(err)
	assume := func(p *principal.Principal) error {
		return f.svc.enforcer.Authorize(principal.NewContext(ctx, p), enforce.Access{
			Action: "sts:AssumeRole", Resource: "arn:aws:iam::" + acct + ":role/legacy", ResourceAccount: acct,
			ResourcePolicy: authz.NewPolicies([]*policy.Policy{trust}, nil),
		})
	}
	f.inline("alice", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)
	f.inline("ghost", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)
	if err := assume(alice); err != nil {
		t.Errorf("alice after the migration: %v", err)
	}
	if err := assume(ghost); azCode(err) != "AccessDenied" {
		t.Errorf("a new user named ghost: %v, want AccessDenied", err)
	}

	// The migration runs once: a later ARN (written by an older version still running, say)
	// is left for the handlers, not rebound at every start.
	writeTrust(legacy)
	f.must(f.svc.Migrate(ctx))
	if got := stored(); got != legacy {
		t.Errorf("second migration changed the document: %s", got)
	}
}
