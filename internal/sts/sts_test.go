package sts_test

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamapi "github.com/aws/aws-sdk-go-v2/service/iam"
	stsapi "github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/enforce"
	"github.com/gatehouse-iam/gatehouse/internal/iam"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/secret"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store/sqlite"
	"github.com/gatehouse-iam/gatehouse/internal/sts"
	"github.com/gatehouse-iam/gatehouse/internal/totp"
)

// clock is a settable clock for the services of a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture is an IAM and an STS service over one real SQLite store, with one account.
type fixture struct {
	clk     *clock
	iam     *iam.Service
	sts     *sts.Service
	keys    *session.Keyring
	account string
	root    context.Context // signed as the account's root user
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "gatehouse.db"), logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key := make([]byte, secret.KeySize)
	rand.Read(key)
	box, err := secret.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Now().UTC().Truncate(time.Second)}
	enf := enforce.New(st, box, clk.Now, logger)
	iamSvc := iam.New(st, box, clk.Now, iam.RandomIDs{}, logger, enf)
	keys := session.NewKeyring(st, box, clk.Now, logger, session.Options{})
	f := &fixture{clk: clk, iam: iamSvc, keys: keys, sts: sts.New(st, iamSvc, enf, keys, clk.Now, logger, sts.Options{})}
	creds, err := iamSvc.CreateAccount(ctx, iam.AccountCredentials{})
	if err != nil {
		t.Fatal(err)
	}
	f.account = creds.AccountID
	f.root = principal.NewContext(ctx, &principal.Principal{Type: principal.Root, Account: f.account, ARN: "arn:aws:iam::" + f.account + ":root", UserID: f.account})
	return f
}

// user creates an IAM user and returns a context signed as it.
func (f *fixture) user(t *testing.T, name string) context.Context {
	t.Helper()
	out, err := f.iam.CreateUser(f.root, &iamapi.CreateUserInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	u := out.User
	return principal.NewContext(context.Background(), &principal.Principal{Type: principal.User, Account: f.account, ARN: aws.ToString(u.Arn), UserID: aws.ToString(u.UserId), UserName: name})
}

func (f *fixture) role(t *testing.T, name, trust string) string {
	t.Helper()
	out, err := f.iam.CreateRole(f.root, &iamapi.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Role.Arn)
}

func wantCode(t *testing.T, err error, code, msg string) {
	t.Helper()
	e := awsquery.AsError(err)
	if e == nil || e.Code != code || !strings.Contains(e.Message, msg) {
		t.Fatalf("want %s %q, got %v", code, msg, err)
	}
}

// TestAssumeRoleMFA checks the handler's own decision for a trust policy that requires MFA:
// the TokenCode is verified first and then counts as aws:MultiFactorAuthPresent.
func TestAssumeRoleMFA(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	alice := f.user(t, "alice")
	aliceARN := principal.FromContext(alice).ARN
	role := f.role(t, "needs-mfa", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"`+aliceARN+`"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`)
	dev, err := f.iam.CreateVirtualMFADevice(f.root, &iamapi.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	seed, err := totp.DecodeSeed(string(dev.VirtualMFADevice.Base32StringSeed))
	if err != nil {
		t.Fatal(err)
	}
	serial := aws.ToString(dev.VirtualMFADevice.SerialNumber)
	step := totp.Default.Step(f.clk.Now())
	if _, err := f.iam.EnableMFADevice(f.root, &iamapi.EnableMFADeviceInput{UserName: aws.String("alice"), SerialNumber: aws.String(serial),
		AuthenticationCode1: aws.String(totp.Default.CodeAt(seed, step-2)), AuthenticationCode2: aws.String(totp.Default.CodeAt(seed, step-1))}); err != nil {
		t.Fatal(err)
	}
	in := func(code string) *stsapi.AssumeRoleInput {
		r := &stsapi.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("alice")}
		if code != "" {
			r.SerialNumber, r.TokenCode = aws.String(serial), aws.String(code)
		}
		return r
	}
	good := totp.Default.CodeAt(seed, step)
	bad := "000000"
	if bad == good {
		bad = "111111"
	}
	cases := []struct {
		name, code, wantCode, msg string
	}{
		{"case=no code", "", "AccessDenied", "sts:AssumeRole"},
		{"case=wrong code", bad, "AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code."},
		{"case=right code", good, "", ""},
		{"case=code used again", good, "AccessDenied", "MultiFactorAuthentication failed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := f.sts.AssumeRole(alice, in(c.code))
			if c.wantCode != "" {
				wantCode(t, err, c.wantCode, c.msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			claims, err := f.keys.Open(context.Background(), aws.ToString(out.Credentials.SessionToken))
			if err != nil {
				t.Fatal(err)
			}
			if s := claims.Principal.Session; !s.MFA || s.MFAAt.IsZero() {
				t.Errorf("session MFA %v at %v, want true", s.MFA, s.MFAAt)
			}
		})
	}
	t.Run("case=serial without code", func(t *testing.T) {
		_, err := f.sts.AssumeRole(alice, &stsapi.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("alice"), SerialNumber: aws.String(serial)})
		wantCode(t, err, "AccessDenied", "must provide both MFA serial number and one time pass code")
	})
}

// TestSessionContents checks what AssumeRole seals into the session token.
func TestSessionContents(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	bob := f.user(t, "bob")
	bobARN := principal.FromContext(bob).ARN
	role := f.role(t, "tagged", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"`+bobARN+`"},"Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"]}]}`)
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","sts:*"],"Resource":"*"}]}`
	out, err := f.sts.AssumeRole(bob, &stsapi.AssumeRoleInput{
		RoleArn: aws.String(role), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(900), Policy: aws.String(policy),
		Tags: []ststypes.Tag{{Key: aws.String("team"), Value: aws.String("blue")}, {Key: aws.String("cost"), Value: aws.String("7")}}, TransitiveTagKeys: []string{"team"},
		SourceIdentity: aws.String("bob@example.com"),
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.keys.Open(context.Background(), aws.ToString(out.Credentials.SessionToken))
	if err != nil {
		t.Fatal(err)
	}
	p, s := c.Principal, c.Principal.Session
	checks := []struct {
		name      string
		got, want any
	}{
		{"field=type", p.Type, principal.AssumedRole},
		{"field=arn", p.ARN, "arn:aws:sts::" + f.account + ":assumed-role/tagged/s1"},
		{"field=user id", p.UserID, s.RoleID + ":s1"},
		{"field=role arn", s.RoleARN, role},
		{"field=duration", s.Expires.Sub(s.IssuedAt), 900 * time.Second},
		{"field=policy", strings.Join(s.Policies, ""), policy},
		{"field=tags", s.Tags["team"] + "," + s.Tags["cost"], "blue,7"},
		{"field=transitive", strings.Join(s.TransitiveKeys, ","), "team"},
		{"field=source identity", s.SourceIdentity, "bob@example.com"},
		{"field=chained", s.Chained, false},
		{"field=access key", p.AccessKeyID, aws.ToString(out.Credentials.AccessKeyId)},
		{"field=expiration", out.Credentials.Expiration.Equal(s.Expires), true},
	}
	for _, ch := range checks {
		t.Run(ch.name, func(t *testing.T) {
			if ch.got != ch.want {
				t.Errorf("got %v, want %v", ch.got, ch.want)
			}
		})
	}

	// Chaining from this session: the transitive tag and the source identity carry over; the
	// source identity cannot change.
	chainRole := f.role(t, "next", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"`+role+`"},"Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"]}]}`)
	if _, err := f.iam.PutRolePolicy(f.root, &iamapi.PutRolePolicyInput{RoleName: aws.String("tagged"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	sessCtx := principal.NewContext(context.Background(), &c.Principal)
	_, err = f.sts.AssumeRole(sessCtx, &stsapi.AssumeRoleInput{RoleArn: aws.String(chainRole), RoleSessionName: aws.String("s2"), SourceIdentity: aws.String("mallory")})
	wantCode(t, err, "AccessDenied", "source identity")
	_, err = f.sts.AssumeRole(sessCtx, &stsapi.AssumeRoleInput{RoleArn: aws.String(chainRole), RoleSessionName: aws.String("s2"), DurationSeconds: aws.Int32(3601)})
	wantCode(t, err, "ValidationError", "role chaining")
	// A session policy does not carry over: the chained session only has the role's (here a
	// role without permissions) — but its tags and source identity do.
	next, err := f.sts.AssumeRole(sessCtx, &stsapi.AssumeRoleInput{RoleArn: aws.String(chainRole), RoleSessionName: aws.String("s2")})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := f.keys.Open(context.Background(), aws.ToString(next.Credentials.SessionToken))
	if err != nil {
		t.Fatal(err)
	}
	ns := nc.Principal.Session
	if !ns.Chained || ns.SourceIdentity != "bob@example.com" || ns.Tags["team"] != "blue" || ns.Tags["cost"] != "" || len(ns.Policies) != 0 {
		t.Errorf("chained session: chained=%v si=%q tags=%v policies=%d", ns.Chained, ns.SourceIdentity, ns.Tags, len(ns.Policies))
	}
}

// TestPackedPolicyTooLarge checks that session policies and tags that do not fit are refused.
func TestPackedPolicyTooLarge(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.user(t, "packer")
	role := f.role(t, "packed", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"`+principal.FromContext(u).ARN+`"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`)
	var tags []ststypes.Tag
	for i := 0; i < 50; i++ {
		b := make([]byte, 96)
		rand.Read(b)
		v := strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
				return r
			}
			return 'x'
		}, string(b))
		tags = append(tags, ststypes.Tag{Key: aws.String("k" + v[:40]), Value: aws.String(v)})
	}
	_, err := f.sts.AssumeRole(u, &stsapi.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("p1"), Tags: tags})
	wantCode(t, err, "PackedPolicyTooLarge", "of allotted space")
	out, err := f.sts.AssumeRole(u, &stsapi.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("p1"), Tags: tags[:3]})
	if err != nil {
		t.Fatal(err)
	}
	if p := aws.ToInt32(out.PackedPolicySize); p < 1 || p > 100 {
		t.Errorf("PackedPolicySize %d", p)
	}
}

// TestGetFederationTokenRoot checks the root user's federation sessions: an hour at most.
func TestGetFederationTokenRoot(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	out, err := f.sts.GetFederationToken(f.root, &stsapi.GetFederationTokenInput{Name: aws.String("ops"), DurationSeconds: aws.Int32(7200)})
	if err != nil {
		t.Fatal(err)
	}
	if d := aws.ToTime(out.Credentials.Expiration).Sub(f.clk.Now()); d != time.Hour {
		t.Errorf("root federation session lasts %v, want 1h", d)
	}
	c, err := f.keys.Open(context.Background(), aws.ToString(out.Credentials.SessionToken))
	if err != nil {
		t.Fatal(err)
	}
	if c.Principal.Type != principal.FederatedUser || c.Principal.Session.UserID != f.account {
		t.Errorf("federated principal %+v", c.Principal)
	}
	// The session expires with the clock.
	f.clk.Add(time.Hour)
	if _, err := f.keys.Open(context.Background(), aws.ToString(out.Credentials.SessionToken)); !errors.Is(err, session.ErrExpired) {
		t.Errorf("after an hour: %v, want ErrExpired", err)
	}
}
