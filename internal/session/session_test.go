package session_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/secret"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/sqlite"
)

// clock is a settable clock shared by the keyrings of a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// openStore opens a real SQLite store in the test's directory.
func openStore(t testing.TB) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "gatehouse.db"), discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newBox(t testing.TB) *secret.Box {
	t.Helper()
	key := make([]byte, secret.KeySize)
	rand.Read(key)
	box, err := secret.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	return box
}

// principals are sessions of every kind STS issues.
func principals(now time.Time) map[string]principal.Principal {
	exp := now.Add(time.Hour)
	return map[string]principal.Principal{
		"kind=root session token": {
			Type: principal.Root, Account: "123456789012", ARN: "arn:aws:iam::123456789012:root", UserID: "123456789012",
			Session: &principal.Session{IssuedAt: now, Expires: exp, UserID: "123456789012", MFA: true, MFAAt: now},
		},
		"kind=user session token": {
			Type: principal.User, Account: "123456789012", ARN: "arn:aws:iam::123456789012:user/eng/alice", UserID: "AIDAEXAMPLEEXAMPLE01", UserName: "alice",
			Session: &principal.Session{IssuedAt: now, Expires: now.Add(36 * time.Hour), UserID: "AIDAEXAMPLEEXAMPLE01"},
		},
		"kind=role session": {
			Type: principal.AssumedRole, Account: "210987654321", ARN: "arn:aws:sts::210987654321:assumed-role/deployer/ci-run-7", UserID: "AROAEXAMPLEEXAMPLE01:ci-run-7",
			Session: &principal.Session{
				IssuedAt: now, Expires: exp,
				RoleID: "AROAEXAMPLEEXAMPLE01", RoleARN: "arn:aws:iam::210987654321:role/ops/deployer", RoleName: "deployer", SessionName: "ci-run-7",
				Policies:       []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`},
				PolicyARNs:     []string{"arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::210987654321:policy/p"},
				Tags:           map[string]string{"team": "blue", "project": "", "cost-center": "1234"},
				TransitiveKeys: []string{"team"},
				SourceIdentity: "alice@example.com",
				Chained:        true,
			},
		},
		"kind=console session": {
			Type: principal.User, Account: "210987654321", ARN: "arn:aws:iam::210987654321:user/alice", UserID: "AIDAEXAMPLEEXAMPLE01", UserName: "alice",
			Session: &principal.Session{IssuedAt: now, Expires: exp, UserID: "AIDAEXAMPLEEXAMPLE01", MFA: true, MFAAt: now, Console: true},
		},
		"kind=web identity session": {
			Type: principal.AssumedRole, Account: "210987654321", ARN: "arn:aws:sts::210987654321:assumed-role/web/app", UserID: "AROAEXAMPLEEXAMPLE02:app",
			Session: &principal.Session{
				IssuedAt: now, Expires: exp, RoleID: "AROAEXAMPLEEXAMPLE02", RoleARN: "arn:aws:iam::210987654321:role/web", RoleName: "web", SessionName: "app",
				Federated: "arn:aws:iam::210987654321:oidc-provider/127.0.0.1:4443/issuer",
			},
		},
		"kind=federated user": {
			Type: principal.FederatedUser, Account: "123456789012", ARN: "arn:aws:sts::123456789012:federated-user/bob", UserID: "123456789012:bob",
			Session: &principal.Session{IssuedAt: now, Expires: exp, UserID: "AIDAEXAMPLEEXAMPLE01", Policies: []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`}},
		},
	}
}

func TestIssueOpenRoundTrip(t *testing.T) {
	t.Parallel()
	clk := newClock()
	kr := session.NewKeyring(openStore(t), newBox(t), clk.Now, discard, session.Options{})
	ctx := context.Background()
	for name, p := range principals(clk.Now()) {
		t.Run(name, func(t *testing.T) {
			p := p
			creds, err := kr.Issue(ctx, &p, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(creds.AccessKeyID, "ASIA") || len(creds.AccessKeyID) != 20 {
				t.Errorf("access key id %q: want ASIA and 16 more characters", creds.AccessKeyID)
			}
			if acct, ok := session.AccountOfAccessKeyID(creds.AccessKeyID); !ok || acct != p.Account {
				t.Errorf("account of %s = %q, %v; want %s", creds.AccessKeyID, acct, ok, p.Account)
			}
			if len(creds.SecretAccessKey) != 40 {
				t.Errorf("secret has %d characters, want 40", len(creds.SecretAccessKey))
			}
			if !creds.Expiration.Equal(p.Session.Expires) {
				t.Errorf("expiration %v, want %v", creds.Expiration, p.Session.Expires)
			}
			if strings.Contains(creds.SessionToken, creds.SecretAccessKey) || strings.Contains(creds.SessionToken, p.ARN) {
				t.Errorf("the token shows its content in the clear: %s", creds.SessionToken)
			}
			got, err := kr.Open(ctx, creds.SessionToken)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if got.SecretAccessKey != creds.SecretAccessKey {
				t.Errorf("secret %q, want %q", got.SecretAccessKey, creds.SecretAccessKey)
			}
			if p.AccessKeyID != creds.AccessKeyID {
				t.Errorf("Issue set AccessKeyID %q, want %q", p.AccessKeyID, creds.AccessKeyID)
			}
			if !reflect.DeepEqual(got.Principal, p) {
				t.Errorf("principal:\n got %+v %+v\nwant %+v %+v", got.Principal, *got.Principal.Session, p, *p.Session)
			}
		})
	}
}

func TestOpenRejects(t *testing.T) {
	t.Parallel()
	clk := newClock()
	st, box := openStore(t), newBox(t)
	kr := session.NewKeyring(st, box, clk.Now, discard, session.Options{})
	ctx := context.Background()
	p := principals(clk.Now())["kind=role session"]
	creds, err := kr.Issue(ctx, &p, 0)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(creds.SessionToken)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) string {
		b := append([]byte(nil), raw...)
		b[i] ^= 0x01
		return base64.RawURLEncoding.EncodeToString(b)
	}
	msg, err := kr.EncodeAuthorizationMessage(ctx, &session.AuthorizationMessage{})
	if err != nil {
		t.Fatal(err)
	}
	otherKeyring := session.NewKeyring(openStore(t), newBox(t), clk.Now, discard, session.Options{})
	otherCreds, err := otherKeyring.Issue(ctx, &p, 0)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		token string
	}{
		{"case=empty", ""},
		{"case=not base64", "!!!!" + creds.SessionToken[4:]},
		{"case=padded base64", creds.SessionToken + "="},
		{"case=truncated", creds.SessionToken[:len(creds.SessionToken)-4]},
		{"case=too short", creds.SessionToken[:20]},
		{"case=format byte changed", flip(0)},
		{"case=key id changed", flip(3)},
		{"case=nonce changed", flip(12)},
		{"case=ciphertext changed", flip(40)},
		{"case=tag changed", flip(len(raw) - 1)},
		{"case=authorization message as token", msg},
		{"case=another deployment's token", otherCreds.SessionToken},
		{"case=extra bytes", base64.RawURLEncoding.EncodeToString(append(append([]byte(nil), raw...), 0))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := kr.Open(ctx, tc.token); !errors.Is(err, session.ErrInvalid) {
				t.Errorf("Open = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestExpiry(t *testing.T) {
	t.Parallel()
	clk := newClock()
	kr := session.NewKeyring(openStore(t), newBox(t), clk.Now, discard, session.Options{})
	ctx := context.Background()
	p := principals(clk.Now())["kind=role session"] // one hour
	creds, err := kr.Issue(ctx, &p, 0)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name    string
		advance time.Duration
		want    error
	}{
		{"at=issue", 0, nil},
		{"at=one second before expiry", time.Hour - time.Second, nil},
		{"at=expiry", time.Second, session.ErrExpired},
		{"at=a day later", 24 * time.Hour, session.ErrExpired},
	}
	for _, s := range steps {
		clk.Add(s.advance)
		t.Run(s.name, func(t *testing.T) {
			_, err := kr.Open(ctx, creds.SessionToken)
			if !errors.Is(err, s.want) {
				t.Errorf("Open = %v, want %v", err, s.want)
			}
		})
	}
}

// TestRotation follows one deployment through key rotations: tokens sealed under an old key
// verify until their sessions end, and the key is pruned after that.
func TestRotation(t *testing.T) {
	t.Parallel()
	clk := newClock()
	st, box := openStore(t), newBox(t)
	kr := session.NewKeyring(st, box, clk.Now, discard, session.Options{RotateAfter: 24 * time.Hour})
	ctx := context.Background()
	long := principals(clk.Now())["kind=user session token"] // 36 hours
	oldCreds, err := kr.Issue(ctx, &long, 0)
	if err != nil {
		t.Fatal(err)
	}
	countKeys := func() int {
		var n int
		err := st.View(ctx, func(ctx context.Context, tx store.Tx) error {
			recs, err := tx.List(ctx, session.KindKey, "", store.Query{})
			n = len(recs)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := countKeys(); n != 1 {
		t.Fatalf("%d keys after the first token, want 1", n)
	}

	// 25 hours on, sealing rotates to a new key; the old token still verifies.
	clk.Add(25 * time.Hour)
	short := principals(clk.Now())["kind=role session"]
	newCreds, err := kr.Issue(ctx, &short, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n := countKeys(); n != 2 {
		t.Fatalf("%d keys after rotation, want 2", n)
	}
	if keyID(t, newCreds.SessionToken) == keyID(t, oldCreds.SessionToken) {
		t.Fatal("the token after RotateAfter was sealed with the old key")
	}
	if _, err := kr.Open(ctx, oldCreds.SessionToken); err != nil {
		t.Fatalf("old token after rotation: %v", err)
	}
	// A node started now (another process on the same store) verifies both.
	node2 := session.NewKeyring(st, box, clk.Now, discard, session.Options{})
	for _, tok := range []string{oldCreds.SessionToken, newCreds.SessionToken} {
		if _, err := node2.Open(ctx, tok); err != nil {
			t.Fatalf("second node: %v", err)
		}
	}

	// Three days on, the next rotation prunes the first key: its sessions have all ended.
	clk.Add(72 * time.Hour)
	p := principals(clk.Now())["kind=role session"]
	if _, err := kr.Issue(ctx, &p, 0); err != nil {
		t.Fatal(err)
	}
	if n := countKeys(); n != 1 {
		t.Errorf("%d keys after the third rotation, want 1 (older ones pruned)", n)
	}
	clk.Add(2 * time.Second) // past the reload interval
	if _, err := kr.Open(ctx, oldCreds.SessionToken); !errors.Is(err, session.ErrInvalid) {
		t.Errorf("token of a pruned key: %v, want ErrInvalid", err)
	}
}

// TestReloadRateLimit checks that a node learns another node's new key from the store, but
// reloads at most once per ReloadInterval however many unknown key ids arrive.
func TestReloadRateLimit(t *testing.T) {
	t.Parallel()
	clk := newClock()
	st, box := openStore(t), newBox(t)
	ctx := context.Background()
	nodeA := session.NewKeyring(st, box, clk.Now, discard, session.Options{ReloadInterval: time.Second})
	nodeB := session.NewKeyring(st, box, clk.Now, discard, session.Options{ReloadInterval: time.Second})
	if err := nodeB.Load(ctx); err != nil { // B loads an empty key set at t0
		t.Fatal(err)
	}
	p := principals(clk.Now())["kind=role session"]
	creds, err := nodeA.Issue(ctx, &p, 0) // A makes the first key, after B's load
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nodeB.Open(ctx, creds.SessionToken); !errors.Is(err, session.ErrInvalid) {
		t.Fatalf("within the reload interval B must not read the store again: %v", err)
	}
	clk.Add(time.Second)
	if _, err := nodeB.Open(ctx, creds.SessionToken); err != nil {
		t.Fatalf("after the reload interval B must find A's key: %v", err)
	}
}

func TestMasterKeyMismatch(t *testing.T) {
	t.Parallel()
	clk := newClock()
	st := openStore(t)
	ctx := context.Background()
	kr := session.NewKeyring(st, newBox(t), clk.Now, discard, session.Options{})
	p := principals(clk.Now())["kind=role session"]
	creds, err := kr.Issue(ctx, &p, 0)
	if err != nil {
		t.Fatal(err)
	}
	// A process with the wrong master key cannot open the stored server keys.
	wrong := session.NewKeyring(st, newBox(t), clk.Now, discard, session.Options{})
	if _, err := wrong.Open(ctx, creds.SessionToken); !errors.Is(err, session.ErrInvalid) {
		t.Errorf("Open with the wrong master key = %v, want ErrInvalid", err)
	}
}

func TestAccountOfAccessKeyID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, id, want string
		ok             bool
	}{
		// The published example of AWS's layout: ASIAY34FZKBOKMUTVV7A belongs to 609629065308.
		{"case=aws example", "ASIAY34FZKBOKMUTVV7A", "609629065308", true},
		{"case=lower case", "asiay34fzkbokmutvv7a", "609629065308", true},
		{"case=too short", "ASIAY34FZKBOKMUTVV7", "", false},
		{"case=not base32", "ASIAY34FZKBOKMUTVV71", "", false},
		{"case=account over 12 digits", "ASIA7777777777777777", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := session.AccountOfAccessKeyID(tc.id)
			if got != tc.want || ok != tc.ok {
				t.Errorf("AccountOfAccessKeyID(%q) = %q, %v; want %q, %v", tc.id, got, ok, tc.want, tc.ok)
			}
		})
	}
	for _, acct := range []string{"000000000000", "123456789012", "999999999999", "609629065308"} {
		id, err := session.NewAccessKeyID(acct)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := session.AccountOfAccessKeyID(id); !ok || got != acct {
			t.Errorf("NewAccessKeyID(%s) = %s decodes to %q, %v", acct, id, got, ok)
		}
	}
	if _, err := session.NewAccessKeyID("12345"); err == nil {
		t.Error("NewAccessKeyID accepted a 5-digit account")
	}
}

// keyID returns the key id part of a token, to tell which key sealed it.
func keyID(t *testing.T, token string) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) < 9 {
		t.Fatalf("token %q: %v", token, err)
	}
	return string(raw[1:9])
}

// TestMinimumTokenSize checks that a token padded to a minimum size still opens to the same
// claims.
func TestMinimumTokenSize(t *testing.T) {
	t.Parallel()
	clk := newClock()
	kr := session.NewKeyring(openStore(t), newBox(t), clk.Now, discard, session.Options{})
	ctx := context.Background()
	for _, min := range []int{0, 100, 1000, 4096} {
		t.Run("min="+itoa(min), func(t *testing.T) {
			p := principals(clk.Now())["kind=web identity session"]
			creds, err := kr.Issue(ctx, &p, min)
			if err != nil {
				t.Fatal(err)
			}
			if len(creds.SessionToken) < min {
				t.Errorf("token of %d characters, want at least %d", len(creds.SessionToken), min)
			}
			got, err := kr.Open(ctx, creds.SessionToken)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Principal, p) {
				t.Errorf("padded token opened to %+v", got.Principal)
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
