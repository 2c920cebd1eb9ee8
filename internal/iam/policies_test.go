package iam

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/enforce"
	"github.com/gatehouse-iam/gatehouse/internal/entity"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// polFixture is a Service over a real SQLite file, and a context in which the root user of its
// account calls.
type polFixture struct {
	svc     *Service
	account string
	ctx     context.Context
}

// polIDs numbers ids so that tests are deterministic.
type polIDs struct{ n int }

func (p *polIDs) next() string                     { p.n++; return strconv.Itoa(p.n) }
func (p *polIDs) UniqueID(prefix string) string    { return prefix + polPad(p.next(), 17) }
func (p *polIDs) AccessKeyID(prefix string) string { return prefix + polPad(p.next(), 16) }
func (p *polIDs) SecretAccessKey() string          { return "secret" + polPad(p.next(), 34) }
func (p *polIDs) AccountID() string                { return "1" + polPad(p.next(), 11) }

func polPad(s string, n int) string {
	for len(s) < n {
		s = "0" + s
	}
	return s
}

func newPolFixture(t testing.TB) *polFixture {
	t.Helper()
	ctx := context.Background()
	st, box, logger := testBackend(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	svc := New(st, box, func() time.Time { return now }, &polIDs{}, logger, enforce.New(st, box, func() time.Time { return now }, logger))
	creds, err := svc.CreateAccount(ctx, AccountCredentials{})
	if err != nil {
		t.Fatalf("create account: %v", err)
	}
	return &polFixture{svc: svc, account: creds.AccountID, ctx: principal.NewContext(ctx, &principal.Principal{
		Type: principal.Root, Account: creds.AccountID, ARN: "arn:aws:iam::" + creds.AccountID + ":root", UserID: creds.AccountID, AccessKeyID: creds.AccessKeyID,
	})}
}

func polCode(t testing.TB, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var e *awsquery.Error
	if !errors.As(err, &e) {
		t.Fatalf("not an AWS error: %v", err)
	}
	return e.Code
}

func TestParsePolicyARN(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in                  string
		account, path, name string
		ok                  bool
	}{
		{"arn:aws:iam::123456789012:policy/P", "123456789012", "/", "P", true},
		{"arn:aws:iam::123456789012:policy/a/b/P.x", "123456789012", "/a/b/", "P.x", true},
		{"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", "aws", "/service-role/", "AWSLambdaBasicExecutionRole", true},
		{"arn:aws:iam::123456789012:policy/", "", "", "", false},
		{"arn:aws:iam::123456789012:policyX/P", "", "", "", false},
		{"arn:aws:iam::123456789012:role/P", "", "", "", false},
		{"arn:aws:iam:::policy/P", "", "", "", false},
		{"arn:aws:s3:::bucket", "", "", "", false},
		{"arn:aws:iam::123456789012", "", "", "", false},
		{"P", "", "", "", false},
	} {
		t.Run("arn="+tc.in, func(t *testing.T) {
			account, path, name, ok := entity.ParsePolicyARN(tc.in)
			if ok != tc.ok || account != tc.account || path != tc.path || name != tc.name {
				t.Errorf("parsePolicyARN = %q %q %q %v", account, path, name, ok)
			}
		})
	}
}

// FuzzParsePolicyARN checks that whatever parsePolicyARN accepts rebuilds the same ARN.
func FuzzParsePolicyARN(f *testing.F) {
	for _, s := range []string{"arn:aws:iam::123456789012:policy/a/b/P", "arn:aws:iam::aws:policy/P", "arn:aws:iam::1:policy//", "arn:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		account, path, name, ok := entity.ParsePolicyARN(s)
		if !ok {
			return
		}
		if got := "arn:aws:iam::" + account + ":policy" + path + name; got != s {
			t.Fatalf("entity.ParsePolicyARN(%q) rebuilds %q", s, got)
		}
		if name == "" || account == "" || path[0] != '/' || path[len(path)-1] != '/' {
			t.Fatalf("entity.ParsePolicyARN(%q) = %q %q %q", s, account, path, name)
		}
	})
}

func TestVersionOrder(t *testing.T) {
	t.Parallel()
	ids := []string{"v1", "v10", "v2", "v9", "v100"}
	slices.SortFunc(ids, func(a, b string) int {
		switch x, y := versionOrder(a), versionOrder(b); {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
	if want := []string{"v100", "v10", "v9", "v2", "v1"}; !slices.Equal(ids, want) {
		t.Errorf("order = %v, want %v (newest first)", ids, want)
	}
}

func TestSDKPolicyViews(t *testing.T) {
	t.Parallel()
	p := &store.Policy{ID: "ANPAX", Name: "P", Path: "/p/", Description: "d", DefaultVersionID: "v2", Tags: []store.Tag{{Key: "k", Value: "v"}}}
	m := &entity.ManagedPolicy{ARN: "arn:aws:iam::123456789012:policy/p/P", Local: p}
	for _, tc := range []struct {
		name              string
		view              policyView
		description, tags bool
	}{
		// ListPolicies leaves out Description and Tags; CreatePolicy has Tags; GetPolicy both.
		{"view=listed", policyListed, false, false},
		{"view=created", policyCreated, false, true},
		{"view=full", policyFull, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := sdkPolicy(m, 3, 2, tc.view)
			if (got.Description != nil) != tc.description || (got.Tags != nil) != tc.tags {
				t.Errorf("Description=%v Tags=%v", got.Description, got.Tags)
			}
			if *got.AttachmentCount != 3 || *got.PermissionsBoundaryUsageCount != 2 || !got.IsAttachable || *got.DefaultVersionId != "v2" || *got.Arn != m.ARN {
				t.Errorf("policy = %+v", got)
			}
		})
	}
}

// TestListPoliciesTieAtPageEdge checks the marker between an account's policy and the
// AWS-managed policy of the same name, whichever side of it a page ends on.
func TestListPoliciesTieAtPageEdge(t *testing.T) {
	t.Parallel()
	f := newPolFixture(t)
	for _, name := range []string{"AdministratorAccess", "A"} {
		_, err := f.svc.CreatePolicy(f.ctx, &iam.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)})
		if err != nil {
			t.Fatal(err)
		}
	}
	mine := "arn:aws:iam::" + f.account + ":policy/AdministratorAccess"
	first := func(in *iam.ListPoliciesInput) *iam.ListPoliciesOutput {
		out, err := f.svc.ListPolicies(f.ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	full := first(&iam.ListPoliciesInput{MaxItems: aws.Int32(1000)})
	i := slices.IndexFunc(full.Policies, func(p types.Policy) bool { return *p.Arn == mine })
	if i < 0 || *full.Policies[i+1].Arn != "arn:aws:iam::aws:policy/AdministratorAccess" {
		t.Fatalf("local AdministratorAccess at %d not followed by AWS's", i)
	}
	for _, size := range []int{i + 1, i + 2} {
		t.Run("page="+strconv.Itoa(size), func(t *testing.T) {
			p1 := first(&iam.ListPoliciesInput{MaxItems: aws.Int32(int32(size))})
			p2 := first(&iam.ListPoliciesInput{MaxItems: aws.Int32(3), Marker: p1.Marker})
			got := []string{*p1.Policies[size-1].Arn, *p2.Policies[0].Arn}
			want := []string{*full.Policies[size-1].Arn, *full.Policies[size].Arn}
			if !slices.Equal(got, want) {
				t.Errorf("page edge %v, want %v", got, want)
			}
		})
	}
}

// TestBoundaryUses checks the scan behind PermissionsBoundaryUsageCount: only real boundaries
// count, whatever else a record's text contains.
func TestBoundaryUses(t *testing.T) {
	t.Parallel()
	f := newPolFixture(t)
	admin := "arn:aws:iam::aws:policy/AdministratorAccess"
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":"ec2.amazonaws.com"}}]}`
	steps := []error{
		// A user whose tag spells what a boundary looks like in a record has no boundary.
		func() error {
			_, err := f.svc.CreateUser(f.ctx, &iam.CreateUserInput{UserName: aws.String("decoy"), Tags: []types.Tag{{Key: aws.String(`"boundary":"`), Value: aws.String(admin)}}})
			return err
		}(),
		func() error {
			_, err := f.svc.CreateUser(f.ctx, &iam.CreateUserInput{UserName: aws.String("u"), PermissionsBoundary: aws.String(admin)})
			return err
		}(),
		func() error {
			_, err := f.svc.CreateRole(f.ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trust), PermissionsBoundary: aws.String(admin)})
			return err
		}(),
	}
	for _, err := range steps {
		if err != nil {
			t.Fatal(err)
		}
	}
	var uses map[string][]entityRef
	err := f.svc.view(f.ctx, func(ctx context.Context, tx store.Tx) (err error) {
		uses, err = boundaryUses(ctx, tx, f.account)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range uses[admin] {
		got = append(got, string(e.kind)+":"+e.name)
	}
	if want := []string{"role:r", "user:u"}; !slices.Equal(got, want) || len(uses) != 1 {
		t.Errorf("boundary uses = %v (%d policies), want %v", got, len(uses), want)
	}
}

// TestPolicyQuotas checks the account-wide quota of customer-managed policies and that a
// refused request stores nothing.
func TestPolicyQuotas(t *testing.T) {
	t.Parallel()
	f := newPolFixture(t)
	doc := aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)
	for i := range maxPoliciesPerAccount {
		if _, err := f.svc.CreatePolicy(f.ctx, &iam.CreatePolicyInput{PolicyName: aws.String("p" + strconv.Itoa(i)), PolicyDocument: doc}); err != nil {
			t.Fatalf("policy %d: %v", i, err)
		}
	}
	_, err := f.svc.CreatePolicy(f.ctx, &iam.CreatePolicyInput{PolicyName: aws.String("one-too-many"), PolicyDocument: doc})
	if code := polCode(t, err); code != "LimitExceeded" || err.Error() != "LimitExceeded: Cannot exceed quota for PoliciesPerAccount: 1500" {
		t.Errorf("policy 1501: %v", err)
	}
	_, err = f.svc.GetPolicy(f.ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::" + f.account + ":policy/one-too-many")})
	if polCode(t, err) != "NoSuchEntity" {
		t.Errorf("refused policy exists: %v", err)
	}
}
