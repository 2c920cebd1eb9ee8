package console_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gatehouse-iam/gatehouse/internal/console"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/secret"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/sqlite"
	"github.com/gatehouse-iam/gatehouse/internal/totp"
)

// Console sessions in the store: two consoles ("nodes") over one SQLite database file, each
// with its own handle on it as separate processes would have, serve every session either of
// them started, on loopback servers.

// openSessionStore opens (creating) the SQLite database at path, closed when the test ends.
func openSessionStore(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path, nil)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// newTestBox is a box under a random master key.
func newTestBox(t testing.TB) *secret.Box {
	t.Helper()
	k := make([]byte, secret.KeySize)
	_, _ = rand.Read(k)
	b, err := secret.NewBox(k)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// issued remembers the temporary credentials a keyring issued for console sessions, which
// never reach the browser, so a test can look for them in the database.
type issued struct {
	inner console.Issuer
	mu    sync.Mutex
	creds []session.Credentials
}

func (i *issued) Issue(ctx context.Context, p *principal.Principal, minTokenSize int) (session.Credentials, error) {
	c, err := i.inner.Issue(ctx, p, minTokenSize)
	if err == nil {
		i.mu.Lock()
		i.creds = append(i.creds, c)
		i.mu.Unlock()
	}
	return c, err
}

func (i *issued) all() []session.Credentials {
	i.mu.Lock()
	defer i.mu.Unlock()
	return append([]session.Credentials(nil), i.creds...)
}

// fleet is two consoles of one deployment over one sessions database.
type fleet struct {
	e      *consoleEnv
	path   string // the sessions database file
	issued *issued
	A, B   *node
}

type node struct {
	URL   string
	store *sqlite.Store
}

func newFleet(t *testing.T, now func() time.Time, lim console.Limits) *fleet {
	t.Helper()
	e := newConsoleEnv(t)
	api, err := e.app.Handler()
	if err != nil {
		t.Fatalf("app handler: %v", err)
	}
	f := &fleet{e: e, path: filepath.Join(t.TempDir(), "sessions.db"), issued: &issued{inner: e.app.Sessions}}
	box := newTestBox(t) // the fleet's master key, shared by its nodes
	start := func() *node {
		st := openSessionStore(t, f.path)
		c, err := console.New(console.Options{API: api, Auth: e.app.IAM, Issuer: f.issued, Now: now, Logger: e.logger, Limits: lim,
			Account: e.app.IAM.AccountAlias, Store: st, Box: box})
		if err != nil {
			t.Fatalf("console.New: %v", err)
		}
		srv := httptest.NewServer(c)
		t.Cleanup(srv.Close)
		return &node{URL: srv.URL, store: st}
	}
	f.A, f.B = start(), start()
	return f
}

// count is the number of records of kind in the sessions database.
func (f *fleet) count(t *testing.T, kind store.Kind) int {
	t.Helper()
	var n int
	err := f.A.store.View(context.Background(), func(ctx context.Context, tx store.Tx) error {
		var err error
		n, err = tx.Count(ctx, kind, "", "")
		return err
	})
	if err != nil {
		t.Fatalf("count %s: %v", kind, err)
	}
	return n
}

// record is the stored session of the cookie's token.
func (f *fleet) record(t *testing.T, token string) store.Record {
	t.Helper()
	var rec store.Record
	err := f.A.store.View(context.Background(), func(ctx context.Context, tx store.Tx) error {
		var err error
		rec, err = tx.Get(ctx, console.KindSession, "", hashHex(token))
		return err
	})
	if err != nil {
		t.Fatalf("session record: %v", err)
	}
	return rec
}

// files is every byte SQLite keeps of the sessions database: the file, its WAL and index.
func (f *fleet) files(t *testing.T) []byte {
	t.Helper()
	var all []byte
	for _, p := range []string{f.path, f.path + "-wal", f.path + "-shm"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

func hashHex(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// at points v at node n; the cookie jar is shared, as one browser reaching either node.
func (v *visitor) at(n *node) *visitor {
	v.base = n.URL
	return v
}

// signedInOn reports whether n shows a signed-in page at path (no redirect followed).
func (v *visitor) signedInOn(n *node, path string) bool {
	v.t.Helper()
	r := v.at(n).rawGet(path)
	return r.Status == http.StatusOK && strings.Contains(r.Body, `id="identity"`)
}

func (v *visitor) rawGet(path string) response {
	v.t.Helper()
	req, err := http.NewRequest(http.MethodGet, v.base+path, nil)
	if err != nil {
		v.t.Fatal(err)
	}
	return v.do(v.raw, req)
}

// withCookie GETs path on n with only the given session cookie, as a replayed copy of it.
func withCookie(t *testing.T, n *node, path string, ck *http.Cookie) response {
	t.Helper()
	replay := newVisitor(t, n.URL, nil)
	req, _ := http.NewRequest(http.MethodGet, n.URL+path, nil)
	req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	return replay.do(replay.raw, req)
}

// mfaUser creates an IAM user with a console password and an enabled virtual MFA device, and
// returns the device's seed and the TOTP step whose code is still unused.
func (e *consoleEnv) mfaUser(t *testing.T, name, pw string) ([]byte, int64) {
	t.Helper()
	ctx := context.Background()
	e.userWithPassword(t, name, pw, false)
	out, err := e.IAM.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String(name)})
	if err != nil {
		t.Fatalf("CreateVirtualMFADevice: %v", err)
	}
	seed, err := totp.DecodeSeed(string(out.VirtualMFADevice.Base32StringSeed))
	if err != nil {
		t.Fatal(err)
	}
	step := totpStep()
	if _, err := e.IAM.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String(name), SerialNumber: out.VirtualMFADevice.SerialNumber,
		AuthenticationCode1: aws.String(totp.Default.CodeAt(seed, step-2)), AuthenticationCode2: aws.String(totp.Default.CodeAt(seed, step-1))}); err != nil {
		t.Fatalf("EnableMFADevice: %v", err)
	}
	return seed, step
}

var pendingField = regexp.MustCompile(`name="pending" value="([^"]+)"`)

// startMFA submits the password of an MFA user and returns the MFA step's page and token.
func (v *visitor) startMFA(account, user, pw string) (response, string) {
	v.t.Helper()
	r := v.signIn(account, user, pw)
	m := pendingField.FindStringSubmatch(r.Body)
	if r.Status != http.StatusOK || m == nil {
		v.t.Fatalf("sign in as %s: %d, no MFA step (error %q)", user, r.Status, pageError(r))
	}
	return r, html.UnescapeString(m[1])
}

var newKeySecret = regexp.MustCompile(`id="new-key-secret">([^<]+)<`)

// TestFleetSessions: a session started on node A works on node B, pages and CSRF-protected
// changes alike; what one node changes in the session (alias, message, new key, forced password
// change, switched role) the other sees; signing out on B revokes the session on A at once.
func TestFleetSessions(t *testing.T) {
	f := newFleet(t, time.Now, console.Limits{})
	e, ctx := f.e, context.Background()
	v := newVisitor(t, f.A.URL, nil)
	v.signedIn(e.Account, "", rootPassword)
	ck := v.sessionCookie()

	t.Run("pages on the other node", func(t *testing.T) {
		for _, p := range []string{"/iam/", "/iam/users", "/iam/account", "/iam/policies", "/iam/security-credentials"} {
			if !v.signedInOn(f.B, console.Prefix+p) {
				t.Errorf("GET %s on node B with node A's cookie is not signed in", p)
			}
		}
	})

	t.Run("CSRF-protected change on the other node", func(t *testing.T) {
		token := csrf(t, v.at(f.A).get(console.Prefix+"/iam/account"))
		if r := v.at(f.B).postRaw(console.Prefix+"/iam/account/alias", url.Values{"csrf": {"not-" + token}, "alias": {"refused-alias"}}); r.Status != http.StatusForbidden {
			t.Errorf("POST with a wrong CSRF token on B: %d, want 403", r.Status)
		}
		if r := v.at(f.B).postRaw(console.Prefix+"/iam/account/alias", url.Values{"csrf": {token}, "alias": {"fleet-alias"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("POST alias on B: %d", r.Status)
		}
		if out, err := e.IAM.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{}); err != nil || len(out.AccountAliases) != 1 || out.AccountAliases[0] != "fleet-alias" {
			t.Fatalf("aliases after B's change: %v %v", out, err)
		}
		// The session's alias, changed by B, is A's header.
		if r := v.at(f.A).get(console.Prefix + "/iam/"); !strings.Contains(r.Body, "fleet-alias ("+e.Account+")") {
			t.Errorf("node A's header does not show the alias node B stored in the session")
		}
	})

	t.Run("message shown once on any node", func(t *testing.T) {
		token := csrf(t, v.at(f.B).get(console.Prefix+"/iam/account"))
		r := v.at(f.B).postRaw(console.Prefix+"/iam/account/alias", url.Values{"csrf": {token}, "alias": {"Not_A_Valid_Alias!"}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("POST a bad alias on B: %d", r.Status)
		}
		first := v.at(f.A).get(r.Header.Get("Location"))
		if msg := pageError(first); !strings.Contains(msg, "ValidationError") {
			t.Fatalf("node A shows %q after B's refused change, want the ValidationError", msg)
		}
		for _, n := range []*node{f.B, f.A} {
			if msg := pageError(v.at(n).get(console.Prefix + "/iam/account")); msg != "" {
				t.Errorf("the message is shown again: %q", msg)
			}
		}
	})

	t.Run("new key shown once, CSV once, across nodes", func(t *testing.T) {
		if _, err := e.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("fleet-keys")}); err != nil {
			t.Fatal(err)
		}
		token := csrf(t, v.at(f.A).get(console.Prefix+"/iam/users/fleet-keys"))
		r := v.at(f.A).postRaw(console.Prefix+"/iam/users/fleet-keys/create-key", url.Values{"csrf": {token}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("create-key on A: %d", r.Status)
		}
		m := newKeySecret.FindStringSubmatch(v.at(f.B).get(r.Header.Get("Location")).Body)
		if m == nil {
			t.Fatal("node B's user page does not show the secret of the key created on A")
		}
		shown := html.UnescapeString(m[1])
		if again := v.at(f.A).get(console.Prefix + "/iam/users/fleet-keys"); strings.Contains(again.Body, `id="new-key-secret"`) {
			t.Error("the secret is shown a second time")
		}
		csv := v.at(f.A).post(console.Prefix+"/iam/keys.csv", url.Values{"csrf": {token}})
		if csv.Status != http.StatusOK || !strings.Contains(csv.Body, ","+shown+"\n") {
			t.Fatalf("CSV on A: %d %q, want the secret shown on B", csv.Status, csv.Body)
		}
		if again := v.at(f.B).post(console.Prefix+"/iam/keys.csv", url.Values{"csrf": {token}}); again.Status != http.StatusGone || strings.Contains(again.Body, shown) {
			t.Errorf("second CSV download, on B: %d, want 410 without the secret", again.Status)
		}
	})

	t.Run("forced password change on either node", func(t *testing.T) {
		e.userWithPassword(t, "fleet-reset", "Fleet-Reset-Passw0rd!", true)
		if _, err := e.IAM.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("fleet-reset"), PolicyArn: aws.String("arn:aws:iam::aws:policy/IAMUserChangePassword")}); err != nil {
			t.Fatal(err)
		}
		u := newVisitor(t, f.A.URL, nil)
		if r := u.signedIn(e.Account, "fleet-reset", "Fleet-Reset-Passw0rd!"); !strings.HasSuffix(r.URL, "/iam/password") {
			t.Fatalf("signed in to %s, want the password change", r.URL)
		}
		if r := u.at(f.B).rawGet(console.Prefix + "/iam/users"); r.Status != http.StatusSeeOther || r.Header.Get("Location") != console.Prefix+"/iam/password" {
			t.Fatalf("node B: GET users %d to %q, want the password change", r.Status, r.Header.Get("Location"))
		}
		page := u.at(f.B).get(console.Prefix + "/iam/password")
		r := u.at(f.B).postRaw(console.Prefix+"/iam/password", url.Values{"csrf": {csrf(t, page)}, "old": {"Fleet-Reset-Passw0rd!"}, "new": {"Fleet-New-Passw0rd!"}, "confirm": {"Fleet-New-Passw0rd!"}})
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != console.Prefix+"/iam/" {
			t.Fatalf("change password on B: %d to %q: %s", r.Status, r.Header.Get("Location"), pageError(r))
		}
		if !u.signedInOn(f.A, console.Prefix+"/iam/users/fleet-reset") {
			t.Error("node A still keeps the user on the password change")
		}
	})

	t.Run("switched role on either node", func(t *testing.T) {
		const pw = "Fleet-Switch-Passw0rd!"
		e.userWithPassword(t, "fleet-switch", pw, false)
		user, err := e.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("fleet-switch")})
		if err != nil {
			t.Fatal(err)
		}
		trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + aws.ToString(user.User.Arn) + `"},"Action":"sts:AssumeRole"}]}`
		if _, err := e.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("fleet-auditor"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.IAM.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("fleet-auditor"), PolicyArn: aws.String("arn:aws:iam::aws:policy/IAMReadOnlyAccess")}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("fleet-switch"), PolicyName: aws.String("switch"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::` + e.Account + `:role/fleet-auditor"}]}`)}); err != nil {
			t.Fatal(err)
		}
		u := newVisitor(t, f.A.URL, nil)
		token := csrf(t, u.signedIn(e.Account, "fleet-switch", pw))
		r := u.at(f.A).post(console.Prefix+"/iam/switch-role", url.Values{"csrf": {token}, "account": {e.Account}, "role": {"fleet-auditor"}, "display": {"Fleet auditor"}, "color": {"green"}})
		if msg := pageError(r); msg != "" || !strings.Contains(r.Body, `id="role"`) {
			t.Fatalf("switch role on A: %q", msg)
		}
		if r := u.at(f.B).get(console.Prefix + "/iam/"); !strings.Contains(r.Body, `id="role"`) || !strings.Contains(r.Body, "Fleet auditor") {
			t.Fatal("node B does not act as the role node A switched to")
		}
		u.at(f.B).post(console.Prefix+"/iam/switch-back", url.Values{"csrf": {token}})
		if r := u.at(f.A).get(console.Prefix + "/iam/"); strings.Contains(r.Body, `id="role"`) {
			t.Error("node A still acts as the role after Back on node B")
		}
	})

	t.Run("sign-out on B revokes on A at once", func(t *testing.T) {
		token := csrf(t, v.at(f.B).get(console.Prefix+"/iam/"))
		if r := v.at(f.B).postRaw(console.Prefix+"/iam/signout", url.Values{"csrf": {token}}); r.Status != http.StatusSeeOther {
			t.Fatalf("sign-out on B: %d", r.Status)
		}
		for _, n := range []*node{f.A, f.B} {
			if r := withCookie(t, n, console.Prefix+"/iam/", ck); r.Status != http.StatusSeeOther || r.Header.Get("Location") != console.Prefix {
				t.Errorf("the signed-out cookie on %s: %d to %q, want 303 to %s", n.URL, r.Status, r.Header.Get("Location"), console.Prefix)
			}
		}
		if err := f.A.store.View(ctx, func(ctx context.Context, tx store.Tx) error {
			_, err := tx.Get(ctx, console.KindSession, "", hashHex(ck.Value))
			return err
		}); err == nil {
			t.Error("the signed-out session's record is still stored")
		}
	})
}

// TestFleetPendingMFA: the MFA step started on node A (password right) completes on node B,
// once: the pending sign-in is taken by the node that completes it.
func TestFleetPendingMFA(t *testing.T) {
	f := newFleet(t, time.Now, console.Limits{})
	e := f.e
	seed, step := e.mfaUser(t, "fleet-mfa", "Fleet-Mfa-Passw0rd!")
	v := newVisitor(t, f.A.URL, nil)
	page, pending := v.startMFA(e.Account, "fleet-mfa", "Fleet-Mfa-Passw0rd!")
	if n := f.count(t, console.KindPendingSignIn); n != 1 {
		t.Fatalf("%d pending sign-ins stored, want 1", n)
	}
	form := url.Values{"csrf": {csrf(t, page)}, "pending": {pending}, "code": {totp.Default.CodeAt(seed, step)}}
	r := v.at(f.B).post(console.Prefix+"/mfa", form)
	if r.Status != http.StatusOK || !strings.Contains(r.Body, `id="identity"`) {
		t.Fatalf("MFA code on node B: %d %s error %q", r.Status, r.URL, pageError(r))
	}
	if !v.signedInOn(f.A, console.Prefix+"/iam/users/fleet-mfa") {
		t.Error("the session node B started is not signed in on node A")
	}
	if n := f.count(t, console.KindPendingSignIn); n != 0 {
		t.Errorf("%d pending sign-ins left after the MFA step, want 0", n)
	}
	replay := newVisitor(t, f.A.URL, nil)
	pre := csrf(t, replay.get(console.Prefix))
	again := replay.post(console.Prefix+"/mfa", url.Values{"csrf": {pre}, "pending": {pending}, "code": {totp.Default.CodeAt(seed, step)}})
	if again.Status != http.StatusUnauthorized || pageError(again) != "The sign-in took too long. Please sign in again." {
		t.Errorf("the used MFA step again on node A: %d %q", again.Status, pageError(again))
	}
}

// TestSessionsSealedAtRest: the sessions database holds no cookie token, session credential,
// CSRF token, password or new key secret in the clear, in the file or its WAL; it does hold the
// tokens' hashes (so the search looks at the right bytes).
func TestSessionsSealedAtRest(t *testing.T) {
	f := newFleet(t, time.Now, console.Limits{})
	e := f.e
	const userPw = "Fleet-Sealed-Passw0rd!"
	seed, step := e.mfaUser(t, "fleet-sealed", userPw)
	if _, err := e.IAM.CreateUser(context.Background(), &iam.CreateUserInput{UserName: aws.String("fleet-sealed-keys")}); err != nil {
		t.Fatal(err)
	}

	u := newVisitor(t, f.A.URL, nil)
	page, pending := u.startMFA(e.Account, "fleet-sealed", userPw)
	secrets := map[string]string{"user password (pending MFA step)": userPw}
	hashes := map[string]string{"pending token": hashHex(pending)}
	check := func(when string) {
		t.Helper()
		db := f.files(t)
		for what, s := range secrets {
			if bytes.Contains(db, []byte(s)) {
				t.Errorf("%s: the database holds the %s in the clear", when, what)
			}
		}
		for what, h := range hashes {
			if !bytes.Contains(db, []byte(h)) {
				t.Errorf("%s: the database lacks the %s's hash: is this the right file?", when, what)
			}
		}
	}
	check("MFA step pending")

	u.at(f.B).post(console.Prefix+"/mfa", url.Values{"csrf": {csrf(t, page)}, "pending": {pending}, "code": {totp.Default.CodeAt(seed, step)}})
	root := newVisitor(t, f.B.URL, nil)
	rootToken := csrf(t, root.signedIn(e.Account, "", rootPassword))
	r := root.post(console.Prefix+"/iam/users/fleet-sealed-keys/create-key", url.Values{"csrf": {rootToken}})
	key := newKeySecret.FindStringSubmatch(r.Body)
	if key == nil {
		t.Fatalf("no new key secret shown: %q", pageError(r))
	}
	delete(hashes, "pending token") // deleted, its bytes may be gone
	secrets["root password"] = rootPassword
	secrets["new access key secret"] = html.UnescapeString(key[1])
	secrets["root CSRF token"] = rootToken
	secrets["user CSRF token"] = csrf(t, u.at(f.A).get(console.Prefix+"/iam/"))
	for who, v := range map[string]*visitor{"user": u, "root": root} {
		ck := v.sessionCookie()
		if ck == nil {
			t.Fatalf("%s: no session cookie", who)
		}
		secrets[who+" cookie token"] = ck.Value
		hashes[who+" cookie token"] = hashHex(ck.Value)
	}
	creds := f.issued.all()
	if len(creds) != 2 {
		t.Fatalf("%d console sessions issued, want 2", len(creds))
	}
	for i, c := range creds {
		secrets["session "+string(rune('1'+i))+" secret access key"] = c.SecretAccessKey
		secrets["session "+string(rune('1'+i))+" session token"] = c.SessionToken
	}
	check("two sessions, a new key not downloaded yet")
}

// TestFleetLimits: the idle and absolute limits hold whichever node a request reaches; the
// last-seen time is written at most once a minute (a page view within the minute writes
// nothing), so the idle limit counts from the last written time: exact to a minute, never
// later. A session found ended is deleted.
func TestFleetLimits(t *testing.T) {
	const idle = 10 * time.Minute
	type step struct {
		advance  time.Duration
		onB      bool // the request goes to node B, else A
		signedIn bool
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"idle limit across nodes", []step{{9 * time.Minute, true, true}, {9 * time.Minute, false, true}, {idle + time.Second, true, false}}},
		{"absolute limit across nodes", []step{{9 * time.Minute, true, true}, {9 * time.Minute, false, true}, {9 * time.Minute, true, true},
			{9 * time.Minute, false, true}, {9 * time.Minute, true, true}, {9 * time.Minute, false, true}, {7 * time.Minute, true, false}}},
		// 50 seconds after sign-in the last-seen time is not written, so 9m11s later (10m01s
		// after the written time) the idle limit has passed.
		{"idle counts from the written time", []step{{50 * time.Second, false, true}, {idle - 50*time.Second + time.Second, true, false}}},
		// 61 seconds after sign-in it is written, and counts from then.
		{"last seen written after a minute", []step{{61 * time.Second, false, true}, {idle, true, true}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeClock{now: time.Now()}
			f := newFleet(t, clock.Now, console.Limits{Idle: idle, Absolute: time.Hour})
			v := newVisitor(t, f.A.URL, nil)
			v.signedIn(f.e.Account, "", rootPassword)
			for i, s := range tc.steps {
				clock.advance(s.advance)
				n := f.A
				if s.onB {
					n = f.B
				}
				if got := v.signedInOn(n, console.Prefix+"/iam/account"); got != s.signedIn {
					t.Fatalf("step %d (+%v on %s): signed in %v, want %v", i, s.advance, n.URL, got, s.signedIn)
				}
			}
			if last := tc.steps[len(tc.steps)-1]; !last.signedIn {
				if n := f.count(t, console.KindSession); n != 0 {
					t.Errorf("%d sessions stored after the session ended, want 0", n)
				}
			}
		})
	}

	t.Run("a page view within the minute writes nothing", func(t *testing.T) {
		clock := &fakeClock{now: time.Now()}
		f := newFleet(t, clock.Now, console.Limits{Idle: idle, Absolute: time.Hour})
		v := newVisitor(t, f.A.URL, nil)
		v.signedIn(f.e.Account, "", rootPassword)
		token := v.sessionCookie().Value
		before := f.record(t, token)
		for _, n := range []*node{f.A, f.B, f.A} {
			clock.advance(15 * time.Second)
			if !v.signedInOn(n, console.Prefix+"/iam/") {
				t.Fatal("signed out within the idle limit")
			}
		}
		if after := f.record(t, token); !bytes.Equal(before.Data, after.Data) {
			t.Errorf("page views within a minute of sign-in rewrote the session record")
		}
		clock.advance(20 * time.Second) // 65 seconds after sign-in
		if !v.signedInOn(f.B, console.Prefix+"/iam/") {
			t.Fatal("signed out within the idle limit")
		}
		var seen struct {
			Seen time.Time `json:"seen"`
		}
		if err := json.Unmarshal(f.record(t, token).Data, &seen); err != nil || !seen.Seen.Equal(clock.Now()) {
			t.Errorf("last seen %v (%v), want %v", seen.Seen, err, clock.Now())
		}
	})
}

// TestSweepAtSignIn: ended sessions and pending sign-ins nobody reads again are deleted by a
// later sign-in (all of them here: fewer than one sweep's batch), and live ones are kept.
func TestSweepAtSignIn(t *testing.T) {
	clock := &fakeClock{now: time.Now()}
	f := newFleet(t, clock.Now, console.Limits{Idle: 10 * time.Minute, Absolute: time.Hour})
	e := f.e
	e.mfaUser(t, "fleet-sweep", "Fleet-Sweep-Passw0rd!")
	for _, n := range []*node{f.A, f.B, f.A} {
		newVisitor(t, n.URL, nil).signedIn(e.Account, "", rootPassword)
	}
	newVisitor(t, f.B.URL, nil).startMFA(e.Account, "fleet-sweep", "Fleet-Sweep-Passw0rd!") // abandoned
	live := newVisitor(t, f.A.URL, nil)
	live.signedIn(e.Account, "", rootPassword)
	clock.advance(9 * time.Minute)
	if !live.signedInOn(f.B, console.Prefix+"/iam/") {
		t.Fatal("the live session ended")
	}
	clock.advance(2 * time.Minute) // the first three: 11 minutes idle; the MFA step: 11 minutes old
	if s, p := f.count(t, console.KindSession), f.count(t, console.KindPendingSignIn); s != 4 || p != 1 {
		t.Fatalf("before the sweep: %d sessions and %d pending sign-ins, want 4 and 1", s, p)
	}
	newVisitor(t, f.B.URL, nil).signedIn(e.Account, "", rootPassword)
	if s, p := f.count(t, console.KindSession), f.count(t, console.KindPendingSignIn); s != 2 || p != 0 {
		t.Errorf("after a sign-in: %d sessions and %d pending sign-ins, want 2 (the live one and the new one) and 0", s, p)
	}
	if !live.signedInOn(f.A, console.Prefix+"/iam/") {
		t.Error("the sweep ended the live session")
	}
}

// TestPendingMFAExpires: an MFA step older than five minutes is refused on any node, and its
// record deleted.
func TestPendingMFAExpires(t *testing.T) {
	clock := &fakeClock{now: time.Now()}
	f := newFleet(t, clock.Now, console.Limits{})
	e := f.e
	seed, step := e.mfaUser(t, "fleet-slow", "Fleet-Slow-Passw0rd!")
	v := newVisitor(t, f.A.URL, nil)
	page, pending := v.startMFA(e.Account, "fleet-slow", "Fleet-Slow-Passw0rd!")
	clock.advance(5*time.Minute + time.Second)
	r := v.at(f.B).post(console.Prefix+"/mfa", url.Values{"csrf": {csrf(t, page)}, "pending": {pending}, "code": {totp.Default.CodeAt(seed, step)}})
	if r.Status != http.StatusUnauthorized || pageError(r) != "The sign-in took too long. Please sign in again." || v.sessionCookie() != nil {
		t.Errorf("MFA code after 5 minutes: %d %q, session %v", r.Status, pageError(r), v.sessionCookie())
	}
	if n := f.count(t, console.KindPendingSignIn); n != 0 {
		t.Errorf("%d pending sign-ins stored, want 0", n)
	}
}

// TestStoreUnavailable: when a node cannot read the sessions database it answers 503, and the
// session is not signed out: the other node still serves it.
func TestStoreUnavailable(t *testing.T) {
	f := newFleet(t, time.Now, console.Limits{})
	v := newVisitor(t, f.A.URL, nil)
	token := csrf(t, v.signedIn(f.e.Account, "", rootPassword))
	if err := f.A.store.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method, path string
	}{
		{http.MethodGet, "/iam/"},
		{http.MethodGet, "/iam/users"},
		{http.MethodGet, ""}, // the sign-in page looks for a session first
		{http.MethodPost, "/iam/account/alias"},
		{http.MethodPost, "/iam/signout"},
	} {
		var r response
		if tc.method == http.MethodGet {
			r = v.at(f.A).rawGet(console.Prefix + tc.path)
		} else {
			r = v.at(f.A).postRaw(console.Prefix+tc.path, url.Values{"csrf": {token}, "alias": {"while-down"}})
		}
		if r.Status != http.StatusServiceUnavailable || !strings.Contains(r.Body, "database") {
			t.Errorf("%s %s with the store closed: %d %q, want 503", tc.method, tc.path, r.Status, r.Body)
		}
		if len(r.Header.Values("Set-Cookie")) != 0 {
			t.Errorf("%s %s with the store closed set cookies %q", tc.method, tc.path, r.Header.Values("Set-Cookie"))
		}
	}
	if !v.signedInOn(f.B, console.Prefix+"/iam/") {
		t.Error("the session ended while node A could not read the store")
	}
}
