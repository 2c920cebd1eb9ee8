package console_test

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/gatehouse-iam/gatehouse/internal/app"
	"github.com/gatehouse-iam/gatehouse/internal/config"
	"github.com/gatehouse-iam/gatehouse/internal/console"
	"github.com/gatehouse-iam/gatehouse/internal/totp"
)

// The console's HTTP handlers, driven with net/http and a cookie jar against a real server
// (app.Open, Bootstrap, Serve on loopback), as a browser without script would.

// rootPassword is the root user's console password in every test; it meets AWS's root
// password rules (8 to 128 characters, three of the four kinds).
const rootPassword = "Root-Passw0rd!"

// badSignIn is the one answer to an unknown account, an unknown user and a wrong password.
const badSignIn = "Your authentication information is incorrect. Please try again."

// consoleEnv is one running server with the root password of its first account set and
// aws-sdk-go-v2 clients signed as that root user.
type consoleEnv struct {
	URL     string
	Account string
	app     *app.App
	logger  *slog.Logger
	logs    *lockedBuffer // everything the server logged
	IAM     *iam.Client
	STS     *sts.Client
}

func newConsoleEnv(t testing.TB) *consoleEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logOut := io.Discard
	if os.Getenv("GATEHOUSE_TEST_LOG") != "" {
		logOut = os.Stderr
	}
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(io.MultiWriter(logs, logOut), &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := app.Open(ctx, config.Config{DataDir: t.TempDir(), LogLevel: slog.LevelWarn}, logger)
	if err != nil {
		t.Fatalf("open app: %v", err)
	}
	root, _, err := a.Bootstrap(ctx)
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	if err := a.IAM.SetRootPassword(ctx, root.AccountID, rootPassword); err != nil {
		t.Fatalf("SetRootPassword: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		if err := a.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	e := &consoleEnv{URL: "http://" + ln.Addr().String(), Account: root.AccountID, app: a, logger: logger, logs: logs}
	e.IAM, e.STS = e.clients(root.AccessKeyID, root.SecretAccessKey, "")
	return e
}

// clients returns IAM and STS clients that sign with the given credentials.
func (e *consoleEnv) clients(keyID, secret, token string) (*iam.Client, *sts.Client) {
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(keyID, secret, token),
		BaseEndpoint: aws.String(e.URL),
	}
	return iam.NewFromConfig(cfg), sts.NewFromConfig(cfg)
}

// userWithPassword creates an IAM user with a console password through the API, as root.
func (e *consoleEnv) userWithPassword(t *testing.T, name, pw string, reset bool) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		t.Fatalf("CreateUser %s: %v", name, err)
	}
	if _, err := e.IAM.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String(name), Password: aws.String(pw), PasswordResetRequired: reset}); err != nil {
		t.Fatalf("CreateLoginProfile %s: %v", name, err)
	}
}

// lockedBuffer collects a server's log lines, written from its goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fakeClock is a console's clock that a test moves forward.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// ownConsole serves a console of e's deployment with the given clock and limits on its own
// loopback server (TLS when tls is set), for what the app's console does not let a test reach.
func (e *consoleEnv) ownConsole(t *testing.T, now func() time.Time, lim console.Limits, tls bool) *httptest.Server {
	t.Helper()
	api, err := e.app.Handler()
	if err != nil {
		t.Fatalf("app handler: %v", err)
	}
	c, err := console.New(console.Options{API: api, Auth: e.app.IAM, Issuer: e.app.Sessions, Now: now, Logger: e.logger, Limits: lim, Account: e.app.IAM.AccountAlias,
		Store: openSessionStore(t, filepath.Join(t.TempDir(), "sessions.db")), Box: newTestBox(t)})
	if err != nil {
		t.Fatalf("console.New: %v", err)
	}
	var srv *httptest.Server
	if tls {
		srv = httptest.NewTLSServer(c)
	} else {
		srv = httptest.NewServer(c)
	}
	t.Cleanup(srv.Close)
	return srv
}

// visitor is a browser without script: a cookie jar, following redirects as a browser does.
type visitor struct {
	t    *testing.T
	base string
	jar  *cookiejar.Jar
	c    *http.Client // follows redirects
	raw  *http.Client // does not
}

func newVisitor(t *testing.T, base string, transport http.RoundTripper) *visitor {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	if transport == nil {
		transport = http.DefaultTransport
	}
	return &visitor{t: t, base: base, jar: jar,
		c: &http.Client{Jar: jar, Transport: transport, Timeout: 30 * time.Second},
		raw: &http.Client{Jar: jar, Transport: transport, Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// response is a read answer.
type response struct {
	Status int
	Header http.Header
	Body   string
	URL    string // after redirects
}

func (v *visitor) do(c *http.Client, req *http.Request) response {
	v.t.Helper()
	res, err := c.Do(req)
	if err != nil {
		v.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		v.t.Fatalf("%s %s: read: %v", req.Method, req.URL, err)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: string(b), URL: res.Request.URL.String()}
}

func (v *visitor) get(path string) response {
	v.t.Helper()
	req, err := http.NewRequest(http.MethodGet, v.base+path, nil)
	if err != nil {
		v.t.Fatal(err)
	}
	return v.do(v.c, req)
}

func (v *visitor) post(path string, form url.Values) response {
	v.t.Helper()
	return v.do(v.c, v.postRequest(path, form))
}

// postRaw posts without following the redirect.
func (v *visitor) postRaw(path string, form url.Values) response {
	v.t.Helper()
	return v.do(v.raw, v.postRequest(path, form))
}

func (v *visitor) postRequest(path string, form url.Values) *http.Request {
	req, err := http.NewRequest(http.MethodPost, v.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		v.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the first CSRF token of a page.
func csrf(t *testing.T, r response) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no csrf field on %s (%d): %.400s", r.URL, r.Status, r.Body)
	}
	return html.UnescapeString(m[1])
}

var errorPara = regexp.MustCompile(`(?s)<p class="error" role="alert" id="error">(.*?)</p>`)

// pageError is the text of the page's #error paragraph, "" when it has none.
func pageError(r response) string {
	m := errorPara.FindStringSubmatch(r.Body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// signIn fills in the sign-in form of /console and submits it.
func (v *visitor) signIn(account, user, pw string) response {
	v.t.Helper()
	form := url.Values{"csrf": {csrf(v.t, v.get(console.Prefix))}, "account": {account}, "username": {user}, "password": {pw}}
	if user == "" {
		form.Set("root", "on")
	}
	return v.post(console.Prefix, form)
}

// signedIn signs in and fails the test unless the dashboard (or the forced password change)
// is shown; it returns that page.
func (v *visitor) signedIn(account, user, pw string) response {
	v.t.Helper()
	r := v.signIn(account, user, pw)
	if r.Status != http.StatusOK || !strings.Contains(r.Body, `id="identity"`) {
		v.t.Fatalf("sign in as %q at %s: %d %s error %q", user, account, r.Status, r.URL, pageError(r))
	}
	return r
}

func (v *visitor) sessionCookie() *http.Cookie {
	u, _ := url.Parse(v.base + console.Prefix + "/iam/")
	for _, c := range v.jar.Cookies(u) {
		if c.Name == "gatehouse-console" {
			return c
		}
	}
	return nil
}

// checkHeaders checks the security headers every console answer carries.
func checkHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "form-action 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("%s: Content-Security-Policy %q lacks %q", what, csp, want)
		}
	}
	for _, bad := range []string{"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "data:"} {
		for _, d := range strings.Split(csp, ";") {
			// Scripts (vendored files) may come from the console itself only, never inline.
			if f := strings.Fields(d); len(f) > 0 && (f[0] == "script-src" || f[0] == "default-src") && slices.Contains(f[1:], bad) {
				t.Errorf("%s: Content-Security-Policy %q allows %s in %s", what, csp, bad, f[0])
			}
		}
	}
	if strings.Contains(csp, "'unsafe-inline'") {
		t.Errorf("%s: Content-Security-Policy %q allows something inline", what, csp)
	}
	for name, want := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"} {
		if got := h.Get(name); got != want {
			t.Errorf("%s: %s is %q, want %q", what, name, got, want)
		}
	}
}

// TestSecurityHeaders: every console answer, signed in or not, page or asset or refusal,
// forbids framing, inline script and caching.
func TestSecurityHeaders(t *testing.T) {
	e := newConsoleEnv(t)
	e.userWithPassword(t, "hdr-user", "Hdr-Passw0rd!", false)
	v := newVisitor(t, e.URL, nil)
	for _, p := range []string{console.Prefix, console.Prefix + "/" + e.Account, console.Prefix + "/static/console.css", console.Prefix + "/no-such-page/x"} {
		checkHeaders(t, "GET "+p, v.get(p).Header)
	}
	checkHeaders(t, "POST /console without a token", v.post(console.Prefix, url.Values{"account": {e.Account}}).Header)
	checkHeaders(t, "sign-in", v.signedIn(e.Account, "", rootPassword).Header)
	for _, p := range []string{"/iam/", "/iam/users", "/iam/users/hdr-user", "/iam/users/nobody", "/iam/account", "/iam/password"} {
		r := v.get(console.Prefix + p)
		if r.Status != http.StatusOK {
			t.Errorf("GET %s: %d", p, r.Status)
		}
		checkHeaders(t, "GET "+p, r.Header)
	}
	checkHeaders(t, "POST with a wrong token", v.post(console.Prefix+"/iam/users", url.Values{"csrf": {"wrong"}, "name": {"x"}}).Header)
}

// checkCookie checks a Set-Cookie of the console: HttpOnly, SameSite=Strict, the console's
// path, Secure exactly when served over TLS.
func checkCookie(t *testing.T, h http.Header, name string, secure bool) {
	t.Helper()
	res := http.Response{Header: h}
	for _, c := range res.Cookies() {
		if c.Name != name {
			continue
		}
		if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != console.Prefix || c.Secure != secure {
			t.Errorf("cookie %s: HttpOnly %v SameSite %v Path %q Secure %v, want HttpOnly, Strict, %q, Secure %v", name, c.HttpOnly, c.SameSite, c.Path, c.Secure, console.Prefix, secure)
		}
		return
	}
	t.Errorf("no cookie %s set (Set-Cookie %q)", name, h.Values("Set-Cookie"))
}

// TestCookies: the pre-session (CSRF) cookie and the session cookie are HttpOnly and
// SameSite=Strict, and Secure over TLS only.
func TestCookies(t *testing.T) {
	e := newConsoleEnv(t)
	tlsSrv := e.ownConsole(t, time.Now, console.Limits{}, true)
	for _, c := range []struct {
		name      string
		base      string
		transport http.RoundTripper
		secure    bool
	}{
		{"http", e.URL, nil, false},
		{"tls", tlsSrv.URL, tlsSrv.Client().Transport, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := newVisitor(t, c.base, c.transport)
			first := v.get(console.Prefix)
			checkCookie(t, first.Header, "gatehouse-console-pre", c.secure)
			r := v.postRaw(console.Prefix, url.Values{"csrf": {csrf(t, first)}, "account": {e.Account}, "root": {"on"}, "password": {rootPassword}})
			if r.Status != http.StatusSeeOther {
				t.Fatalf("sign-in: %d, error %q", r.Status, pageError(r))
			}
			checkCookie(t, r.Header, "gatehouse-console", c.secure)
		})
	}
}

// TestCSRF: a state-changing POST without the form's token, or with another one, is refused
// with 403 and changes nothing.
func TestCSRF(t *testing.T) {
	e := newConsoleEnv(t)
	ctx := context.Background()
	v := newVisitor(t, e.URL, nil)
	good := csrf(t, v.signedIn(e.Account, "", rootPassword))
	// Another visitor's token is a wrong token too.
	other := newVisitor(t, e.URL, nil)
	othersToken := csrf(t, other.signedIn(e.Account, "", rootPassword))
	aliases := func() string {
		out, err := e.IAM.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{})
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(out.AccountAliases, ",")
	}
	users := func() string {
		out, err := e.IAM.ListUsers(ctx, &iam.ListUsersInput{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, u := range out.Users {
			names = append(names, *u.UserName)
		}
		return strings.Join(names, ",")
	}
	for _, c := range []struct {
		name, path string
		form       url.Values
		state      func() string
	}{
		{"alias without token", "/iam/account/alias", url.Values{"alias": {"csrf-alias"}}, aliases},
		{"alias with a wrong token", "/iam/account/alias", url.Values{"alias": {"csrf-alias"}, "csrf": {"x" + good}}, aliases},
		{"alias with another session's token", "/iam/account/alias", url.Values{"alias": {"csrf-alias"}, "csrf": {othersToken}}, aliases},
		{"create user without token", "/iam/users", url.Values{"name": {"csrf-user"}}, users},
		{"create user with an empty token", "/iam/users", url.Values{"name": {"csrf-user"}, "csrf": {""}}, users},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := c.state()
			r := v.postRaw(console.Prefix+c.path, c.form)
			if r.Status != http.StatusForbidden {
				t.Errorf("status %d, want 403", r.Status)
			}
			if after := c.state(); after != before {
				t.Errorf("state changed from %q to %q", before, after)
			}
		})
	}
	t.Run("sign-out without token", func(t *testing.T) {
		if r := v.postRaw(console.Prefix+"/iam/signout", url.Values{}); r.Status != http.StatusForbidden {
			t.Errorf("status %d, want 403", r.Status)
		}
		if r := v.get(console.Prefix + "/iam/"); !strings.Contains(r.Body, `id="identity"`) {
			t.Errorf("the session ended: %s", r.URL)
		}
	})
	t.Run("sign-in without the pre-session token", func(t *testing.T) {
		fresh := newVisitor(t, e.URL, nil)
		r := fresh.postRaw(console.Prefix, url.Values{"account": {e.Account}, "root": {"on"}, "password": {rootPassword}})
		if r.Status != http.StatusForbidden || fresh.sessionCookie() != nil {
			t.Errorf("status %d, session cookie %v; want 403 and none", r.Status, fresh.sessionCookie())
		}
	})
	// The good token works: the refusals above were for the token alone.
	if r := v.post(console.Prefix+"/iam/account/alias", url.Values{"alias": {"csrf-alias"}, "csrf": {good}}); r.Status != http.StatusOK || pageError(r) != "" {
		t.Fatalf("alias with the token: %d %q", r.Status, pageError(r))
	}
	if got := aliases(); got != "csrf-alias" {
		t.Errorf("aliases %q after the good POST", got)
	}
}

// TestSignInErrorsAlike: an unknown account, an unknown user, a user without a console
// password and a wrong password get the same status and text, and no session.
func TestSignInErrorsAlike(t *testing.T) {
	e := newConsoleEnv(t)
	ctx := context.Background()
	e.userWithPassword(t, "alike", "Alike-Passw0rd!", false)
	if _, err := e.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("no-password")}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, account, user, pw string }{
		{"unknown account", "999999999999", "alike", "Alike-Passw0rd!"},
		{"unknown alias", "no-such-alias", "alike", "Alike-Passw0rd!"},
		{"unknown user", e.Account, "nobody", "Alike-Passw0rd!"},
		{"user without console password", e.Account, "no-password", "Alike-Passw0rd!"},
		{"wrong password", e.Account, "alike", "Alike-Passw0rd?"},
		{"user name in another case", e.Account, "ALIKE", "Alike-Passw0rd?"},
		{"root, wrong password", e.Account, "", rootPassword + "x"},
		{"root of an unknown account", "999999999999", "", rootPassword},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := newVisitor(t, e.URL, nil)
			r := v.signIn(c.account, c.user, c.pw)
			if r.Status != http.StatusUnauthorized || pageError(r) != badSignIn {
				t.Errorf("%d %q, want 401 %q", r.Status, pageError(r), badSignIn)
			}
			if v.sessionCookie() != nil {
				t.Errorf("a session cookie was set")
			}
		})
	}
	// None of the failures counts as a use of the password.
	if last := passwordLastUsed(t, e, "alike"); last != nil {
		t.Fatalf("PasswordLastUsed %v after failed sign-ins only", last)
	}
	// The right passwords sign in, so the refusals above were for what each case changed; the
	// user's sign-in is its PasswordLastUsed.
	before := time.Now().Add(-time.Second)
	newVisitor(t, e.URL, nil).signedIn(e.Account, "alike", "Alike-Passw0rd!")
	newVisitor(t, e.URL, nil).signedIn(e.Account, "", rootPassword)
	if last := passwordLastUsed(t, e, "alike"); last == nil || last.Before(before) {
		t.Errorf("PasswordLastUsed %v after the sign-in, want after %v", last, before)
	}
}

func passwordLastUsed(t *testing.T, e *consoleEnv, name string) *time.Time {
	t.Helper()
	u, err := e.IAM.GetUser(context.Background(), &iam.GetUserInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatalf("GetUser %s: %v", name, err)
	}
	return u.User.PasswordLastUsed
}

// TestUnknownAccountSignsIntoNone: a name that is no account's id or alias signs in nowhere,
// whatever accounts the deployment has (an account id may be chosen, 000000000000 too).
func TestUnknownAccountSignsIntoNone(t *testing.T) {
	e := newConsoleEnv(t)
	ctx := context.Background()
	const zeros = "000000000000"
	if _, err := e.app.CreateAccount(ctx, config.Credentials{AccountID: zeros}); err != nil {
		t.Fatalf("create account %s: %v", zeros, err)
	}
	if err := e.app.IAM.SetRootPassword(ctx, zeros, rootPassword); err != nil {
		t.Fatal(err)
	}
	v := newVisitor(t, e.URL, nil)
	r := v.signIn("no-such-alias", "", rootPassword)
	if v.sessionCookie() != nil {
		t.Fatalf("\"no-such-alias\" signed in to account %s (%s)", zeros, r.URL)
	}
	if pageError(r) != badSignIn {
		t.Errorf("%d %q, want %q", r.Status, pageError(r), badSignIn)
	}
}

// TestLockout: five wrong passwords for a user are free; the sixth blocks the user for a
// second (doubling with each further failure), and attempts meanwhile are refused without
// checking, the right password too, with the back-off message.
func TestLockout(t *testing.T) {
	e := newConsoleEnv(t)
	e.userWithPassword(t, "locked", "Locked-Passw0rd!", false)
	v := newVisitor(t, e.URL, nil)
	for i := range 6 {
		if r := v.signIn(e.Account, "locked", "wrong-"+string(rune('a'+i))); pageError(r) != badSignIn {
			t.Fatalf("attempt %d: %q", i+1, pageError(r))
		}
	}
	for _, pw := range []string{"wrong-g", "Locked-Passw0rd!"} {
		r := v.signIn(e.Account, "locked", pw)
		if msg := pageError(r); !strings.HasPrefix(msg, "Too many failed sign-in attempts. Try again in ") || v.sessionCookie() != nil {
			t.Errorf("password %q: %d %q, session %v; want the lock-out message and no session", pw, r.Status, msg, v.sessionCookie())
		}
	}
	// The root user of the same account is counted apart.
	newVisitor(t, e.URL, nil).signedIn(e.Account, "", rootPassword)
}

// TestSignOutRevokes: after sign-out the old session cookie opens nothing.
func TestSignOutRevokes(t *testing.T) {
	e := newConsoleEnv(t)
	v := newVisitor(t, e.URL, nil)
	token := csrf(t, v.signedIn(e.Account, "", rootPassword))
	old := v.sessionCookie()
	if old == nil {
		t.Fatal("no session cookie")
	}
	r := v.postRaw(console.Prefix+"/iam/signout", url.Values{"csrf": {token}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != console.Prefix {
		t.Fatalf("sign-out: %d to %q", r.Status, r.Header.Get("Location"))
	}
	checkCookie(t, r.Header, "gatehouse-console", false)
	// A copy of the old cookie, as an attacker who stole it would replay it.
	replay := newVisitor(t, e.URL, nil)
	for _, p := range []string{"/iam/", "/iam/users", "/iam/account"} {
		req, _ := http.NewRequest(http.MethodGet, e.URL+console.Prefix+p, nil)
		req.AddCookie(&http.Cookie{Name: old.Name, Value: old.Value})
		if r := replay.do(replay.raw, req); r.Status != http.StatusSeeOther || r.Header.Get("Location") != console.Prefix {
			t.Errorf("GET %s with the old cookie: %d to %q, want 303 to %s", p, r.Status, r.Header.Get("Location"), console.Prefix)
		}
	}
	req := replay.postRequest(console.Prefix+"/iam/account/alias", url.Values{"csrf": {token}, "alias": {"after-signout"}})
	req.AddCookie(&http.Cookie{Name: old.Name, Value: old.Value})
	replay.do(replay.raw, req)
	if out, err := e.IAM.ListAccountAliases(context.Background(), &iam.ListAccountAliasesInput{}); err != nil || len(out.AccountAliases) != 0 {
		t.Errorf("aliases after a POST with the old cookie: %v %v", out, err)
	}
}

// TestSignOutWhileChangingPassword: a person kept on the forced password change can still
// sign out, and the session ends.
func TestSignOutWhileChangingPassword(t *testing.T) {
	e := newConsoleEnv(t)
	e.userWithPassword(t, "must-change", "Must-Change-Passw0rd!", true)
	v := newVisitor(t, e.URL, nil)
	r := v.signedIn(e.Account, "must-change", "Must-Change-Passw0rd!")
	if !strings.HasSuffix(r.URL, "/iam/password") {
		t.Fatalf("a user whose password must change signed in to %s", r.URL)
	}
	v.post(console.Prefix+"/iam/signout", url.Values{"csrf": {csrf(t, r)}})
	if after := v.get(console.Prefix + "/iam/password"); strings.Contains(after.Body, `id="identity"`) {
		t.Fatalf("a session that must change its password is still signed in after signing out")
	}
}

// TestSessionLimits: a session unused for longer than the idle limit, or older than the
// absolute limit, is refused and forgotten.
func TestSessionLimits(t *testing.T) {
	e := newConsoleEnv(t)
	clock := &fakeClock{now: time.Now()}
	srv := e.ownConsole(t, clock.Now, console.Limits{Idle: 10 * time.Minute, Absolute: time.Hour}, false)
	signedIn := func(v *visitor) bool {
		r := v.get(console.Prefix + "/iam/account")
		return r.Status == http.StatusOK && strings.Contains(r.Body, `id="identity"`)
	}
	t.Run("idle", func(t *testing.T) {
		v := newVisitor(t, srv.URL, nil)
		v.signedIn(e.Account, "", rootPassword)
		clock.advance(9 * time.Minute)
		if !signedIn(v) {
			t.Fatal("signed out after 9 minutes idle, within the 10-minute limit")
		}
		clock.advance(9 * time.Minute) // 18 minutes since sign-in, 9 since the last request
		if !signedIn(v) {
			t.Fatal("signed out although each request came within the idle limit")
		}
		clock.advance(10*time.Minute + time.Second)
		if signedIn(v) {
			t.Fatal("still signed in after the idle limit")
		}
		if r := v.get(console.Prefix + "/iam/"); !strings.HasSuffix(r.URL, console.Prefix) {
			t.Errorf("after the idle limit the dashboard went to %s, want the sign-in page", r.URL)
		}
	})
	t.Run("absolute", func(t *testing.T) {
		v := newVisitor(t, srv.URL, nil)
		v.signedIn(e.Account, "", rootPassword)
		for range 6 {
			clock.advance(9 * time.Minute)
			if !signedIn(v) {
				t.Fatal("signed out before the absolute limit")
			}
		}
		clock.advance(7 * time.Minute) // 61 minutes since sign-in
		if signedIn(v) {
			t.Fatal("still signed in after the absolute limit")
		}
	})
}

// TestDeniedActionChangesNothing: a user without permissions gets AWS's AccessDenied text on
// the page, and nothing is created.
func TestDeniedActionChangesNothing(t *testing.T) {
	e := newConsoleEnv(t)
	ctx := context.Background()
	e.userWithPassword(t, "weak", "Weak-Passw0rd!", false)
	v := newVisitor(t, e.URL, nil)
	token := csrf(t, v.signedIn(e.Account, "weak", "Weak-Passw0rd!"))
	userARN := "arn:aws:iam::" + e.Account + ":user/weak"
	for _, c := range []struct {
		name, path string
		form       url.Values
		action     string
		check      func() error
	}{
		{"create user", "/iam/users", url.Values{"name": {"made-by-weak"}, "password": {"Made-Passw0rd!"}}, "iam:CreateUser", func() error {
			_, err := e.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("made-by-weak")})
			return wantNoSuchEntity(err)
		}},
		{"create alias", "/iam/account/alias", url.Values{"alias": {"weak-alias"}}, "iam:CreateAccountAlias", func() error {
			out, err := e.IAM.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{})
			if err == nil && len(out.AccountAliases) > 0 {
				return errors.New("alias created: " + strings.Join(out.AccountAliases, ","))
			}
			return err
		}},
		{"create own access key", "/iam/users/weak/create-key", url.Values{}, "iam:CreateAccessKey", func() error {
			out, err := e.IAM.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("weak")})
			if err == nil && len(out.AccessKeyMetadata) > 0 {
				return errors.New("a key was created")
			}
			return err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.form.Set("csrf", token)
			r := v.post(console.Prefix+c.path, c.form)
			// AWS's text (IAM User Guide, troubleshooting access denied): "User: ARN is not
			// authorized to perform: ACTION on resource: ARN because no identity-based
			// policy allows the ACTION action".
			if err := c.check(); err != nil {
				t.Error(err)
			}
			msg := pageError(r)
			if !strings.Contains(msg, "AccessDenied: User: "+userARN+" is not authorized to perform: "+c.action) {
				t.Errorf("page error %q, want AWS's AccessDenied for %s", msg, c.action)
			}
		})
	}
}

func wantNoSuchEntity(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "NoSuchEntity" {
		return nil
	}
	if err == nil {
		return errors.New("the entity exists")
	}
	return err
}

// TestAccessKeyCSVOnce: a new key's secret downloads once, as AWS's console's
// "Access key ID,Secret access key" CSV named USER_accessKeys.csv; then it is gone.
func TestAccessKeyCSVOnce(t *testing.T) {
	e := newConsoleEnv(t)
	ctx := context.Background()
	if _, err := e.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("csv-user")}); err != nil {
		t.Fatal(err)
	}
	v := newVisitor(t, e.URL, nil)
	token := csrf(t, v.signedIn(e.Account, "", rootPassword))
	page := v.post(console.Prefix+"/iam/users/csv-user/create-key", url.Values{"csrf": {token}})
	if msg := pageError(page); msg != "" || !strings.Contains(page.Body, `id="new-key-secret"`) {
		t.Fatalf("after create-key: error %q, secret shown %v", msg, strings.Contains(page.Body, `id="new-key-secret"`))
	}
	keys, err := e.IAM.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("csv-user")})
	if err != nil || len(keys.AccessKeyMetadata) != 1 {
		t.Fatalf("ListAccessKeys: %v %v", keys, err)
	}
	id := *keys.AccessKeyMetadata[0].AccessKeyId
	r := v.post(console.Prefix+"/iam/keys.csv", url.Values{"csrf": {token}})
	if r.Status != http.StatusOK || r.Header.Get("Content-Disposition") != `attachment; filename="csv-user_accessKeys.csv"` {
		t.Fatalf("CSV: %d, Content-Disposition %q", r.Status, r.Header.Get("Content-Disposition"))
	}
	lines := strings.Split(strings.TrimSpace(r.Body), "\n")
	if len(lines) != 2 || strings.TrimSpace(lines[0]) != "Access key ID,Secret access key" || !strings.HasPrefix(lines[1], id+",") {
		t.Fatalf("CSV %q, want the header and key %s", r.Body, id)
	}
	secret := strings.TrimSpace(strings.TrimPrefix(lines[1], id+","))
	_, keySTS := e.clients(id, secret, "")
	if who, err := keySTS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil || !strings.HasSuffix(aws.ToString(who.Arn), ":user/csv-user") {
		t.Fatalf("GetCallerIdentity with the CSV's key: %v %v", who, err)
	}
	if again := v.post(console.Prefix+"/iam/keys.csv", url.Values{"csrf": {token}}); again.Status != http.StatusGone || strings.Contains(again.Body, secret) {
		t.Errorf("second download: %d %q, want 410 without the secret", again.Status, again.Body)
	}
	if after := v.get(console.Prefix + "/iam/users/csv-user"); strings.Contains(after.Body, secret) {
		t.Error("the user page shows the secret after its download")
	}
}

// TestNothingSecretLogged: sign-ins, failed ones too, and a key's creation and download are
// logged with the person's ARN, and no password, secret key, cookie or CSRF token is.
func TestNothingSecretLogged(t *testing.T) {
	e := newConsoleEnv(t)
	const userPw = "Logged-Passw0rd!"
	e.userWithPassword(t, "logged", userPw, false)
	v := newVisitor(t, e.URL, nil)
	v.signIn(e.Account, "logged", "Wrong-"+userPw)
	token := csrf(t, v.signedIn(e.Account, "", rootPassword))
	cookie := v.sessionCookie().Value
	v.post(console.Prefix+"/iam/users/logged/create-key", url.Values{"csrf": {token}})
	r := v.post(console.Prefix+"/iam/keys.csv", url.Values{"csrf": {token}})
	lines := strings.Split(strings.TrimSpace(r.Body), "\n")
	if len(lines) != 2 {
		t.Fatalf("CSV %q", r.Body)
	}
	keyID, secret, _ := strings.Cut(strings.TrimSpace(lines[1]), ",")
	user := newVisitor(t, e.URL, nil)
	user.signedIn(e.Account, "logged", userPw)
	logs := e.logs.String()
	for what, s := range map[string]string{"root password": rootPassword, "user password": userPw, "wrong password": "Wrong-" + userPw,
		"secret access key": secret, "session cookie": cookie, "CSRF token": token, "user's session cookie": user.sessionCookie().Value} {
		if strings.Contains(logs, s) {
			t.Errorf("the log holds the %s", what)
		}
	}
	for _, want := range []string{
		`msg="console sign-in" caller=arn:aws:iam::` + e.Account + `:root`,
		`msg="console sign-in" caller=arn:aws:iam::` + e.Account + `:user/logged`,
		`msg="console sign-in refused" account=` + e.Account + ` user=logged reason="wrong password"`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %q", want)
		}
	}
	// The console's CreateAccessKey is an API request logged with the person's ARN.
	logged := false
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "action=CreateAccessKey caller=arn:aws:iam::"+e.Account+":root ") && strings.Contains(line, "outcome=success") {
			logged = true
		}
	}
	if !logged {
		t.Errorf("no request log line of the console's CreateAccessKey by the root user")
	}
	if keyID == "" || !strings.Contains(logs, "CreateAccessKey") {
		t.Errorf("no key was created (%q)", keyID)
	}
}

// TestRoleTrustPolicyPage: the role page shows the trust policy decoded (IAM answers it
// URL-encoded), lists whom it trusts, and saves an edited one; an invalid one is refused with
// its line and column and changes nothing.
func TestRoleTrustPolicyPage(t *testing.T) {
	e := newConsoleEnv(t)
	ctx := context.Background()
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	if _, err := e.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("web"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	v := newVisitor(t, e.URL, nil)
	v.signedIn(e.Account, "", rootPassword)
	page := v.get(console.Prefix + "/iam/roles/web")
	if strings.Contains(page.Body, "%22") || !strings.Contains(page.Body, "service: ec2.amazonaws.com") {
		t.Fatalf("role page does not show the decoded trust policy and its service:\n%s", page.Body)
	}
	bad := v.post(console.Prefix+"/iam/roles/web/trust", url.Values{"csrf": {csrf(t, page)}, "trust": {"{\n\"Version\": \"2012-10-17\",\n\"Statement\": [}"}})
	if msg := pageError(bad); !strings.Contains(msg, "MalformedPolicyDocument: line 3:") {
		t.Errorf("invalid trust policy: page error %q", msg)
	}
	role, err := e.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("web")})
	if err != nil || !strings.Contains(aws.ToString(role.Role.AssumeRolePolicyDocument), "ec2.amazonaws.com") {
		t.Fatalf("after the refused edit: %v %v", role, err)
	}
	next := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	if r := v.post(console.Prefix+"/iam/roles/web/trust", url.Values{"csrf": {csrf(t, page)}, "trust": {next}}); pageError(r) != "" {
		t.Fatalf("saving the trust policy: %q", pageError(r))
	}
	role, err = e.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("web")})
	if err != nil || !strings.Contains(aws.ToString(role.Role.AssumeRolePolicyDocument), "lambda.amazonaws.com") {
		t.Fatalf("after saving: %v %v", role, err)
	}
}

// TestSimulatorHighlightsStatements: the policy simulator shows each decision and the
// statement that made it, marked inside its policy's document from the positions
// SimulatePrincipalPolicy reports.
func TestSimulatorHighlightsStatements(t *testing.T) {
	e := newConsoleEnv(t)
	ctx := context.Background()
	e.userWithPassword(t, "sim", "Sim-Passw0rd-1!", false)
	doc := "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Sid\": \"Reads\", \"Effect\": \"Allow\", \"Action\": \"iam:Get*\", \"Resource\": \"*\"},\n    {\"Sid\": \"NoUsers\", \"Effect\": \"Deny\", \"Action\": \"iam:CreateUser\", \"Resource\": \"*\"}\n  ]\n}"
	if _, err := e.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("sim"), PolicyName: aws.String("reads"), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	v := newVisitor(t, e.URL, nil)
	page := v.signedIn(e.Account, "", rootPassword)
	r := v.post(console.Prefix+"/iam/simulator", url.Values{"csrf": {csrf(t, page)}, "principal": {"arn:aws:iam::" + e.Account + ":user/sim"},
		"actions": {"iam:GetUser\niam:CreateUser"}})
	if msg := pageError(r); msg != "" {
		t.Fatalf("simulator: %s", msg)
	}
	for _, want := range []string{
		`class="decision-allowed">allowed`, `class="decision-explicitDeny">explicitDeny`,
		`<mark class="statement">{&#34;Sid&#34;: &#34;Reads&#34;, &#34;Effect&#34;: &#34;Allow&#34;, &#34;Action&#34;: &#34;iam:Get*&#34;, &#34;Resource&#34;: &#34;*&#34;}</mark>`,
		`<mark class="statement">{&#34;Sid&#34;: &#34;NoUsers&#34;, &#34;Effect&#34;: &#34;Deny&#34;, &#34;Action&#34;: &#34;iam:CreateUser&#34;, &#34;Resource&#34;: &#34;*&#34;}</mark>`,
	} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("simulator page lacks %s", want)
		}
	}
}

// TestEveryPageRenders: as the root user, each page of the console answers 200 without an
// error, and the account page saves a password policy that the API then returns, while an
// invalid one gets IAM's error and changes nothing.
func TestEveryPageRenders(t *testing.T) {
	e := newConsoleEnv(t)
	ctx := context.Background()
	e.userWithPassword(t, "pages", "Pages-Passw0rd-1!", false)
	if _, err := e.IAM.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("team")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("app"), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)}); err != nil {
		t.Fatal(err)
	}
	v := newVisitor(t, e.URL, nil)
	first := v.signedIn(e.Account, "", rootPassword)
	for _, path := range []string{"/iam/", "/iam/users", "/iam/users?search=pag", "/iam/users/pages", "/iam/groups", "/iam/groups/team", "/iam/roles", "/iam/roles/app",
		"/iam/policies", "/iam/policies?scope=Local", "/iam/policy?arn=arn:aws:iam::aws:policy/ReadOnlyAccess", "/iam/policies/new", "/iam/policies/new?service=s3",
		"/iam/simulator", "/iam/switch-role", "/iam/account", "/iam/security-credentials"} {
		r := v.get(console.Prefix + path)
		if r.Status != http.StatusOK || pageError(r) != "" {
			t.Errorf("GET %s: %d %q", path, r.Status, pageError(r))
		}
	}
	token := csrf(t, first)
	bad := v.post(console.Prefix+"/iam/account/password-policy", url.Values{"csrf": {token}, "min-length": {"3"}})
	if msg := pageError(bad); !strings.Contains(msg, "minimumPasswordLength") {
		t.Errorf("a 3-character minimum: page error %q, want IAM's validation error", msg)
	}
	if _, err := e.IAM.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{}); err == nil {
		t.Errorf("the refused password policy was stored")
	}
	ok := v.post(console.Prefix+"/iam/account/password-policy", url.Values{"csrf": {token}, "min-length": {"14"}, "symbols": {"on"}, "max-age": {"90"}, "users-change": {"on"}})
	if msg := pageError(ok); msg != "" {
		t.Fatalf("saving the password policy: %q", msg)
	}
	pp, err := e.IAM.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
	if err != nil || aws.ToInt32(pp.PasswordPolicy.MinimumPasswordLength) != 14 || !pp.PasswordPolicy.RequireSymbols || aws.ToInt32(pp.PasswordPolicy.MaxPasswordAge) != 90 ||
		!pp.PasswordPolicy.AllowUsersToChangePassword || pp.PasswordPolicy.RequireNumbers {
		t.Fatalf("password policy after saving: %+v %v", pp, err)
	}
}

// TestPageActions: the changes the pages offer, each checked through the API afterwards:
// paging of the users list, a key deactivated, a user's MFA device removed, a group's policy
// attached and detached, a policy's new version, default version and deleted version, and the
// credential report downloaded as AWS's CSV.
func TestPageActions(t *testing.T) {
	e := newConsoleEnv(t)
	ctx := context.Background()
	for i := range 55 {
		if _, err := e.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(fmt.Sprintf("u%02d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	v := newVisitor(t, e.URL, nil)
	token := csrf(t, v.signedIn(e.Account, "", rootPassword))
	post := func(path string, form url.Values) response {
		t.Helper()
		form.Set("csrf", token)
		r := v.post(console.Prefix+path, form)
		if msg := pageError(r); msg != "" {
			t.Fatalf("POST %s: %s", path, msg)
		}
		return r
	}

	t.Run("users paging", func(t *testing.T) {
		first := v.get(console.Prefix + "/iam/users")
		next := regexp.MustCompile(`id="next" href="([^"]+)"`).FindStringSubmatch(first.Body)
		if next == nil || !strings.Contains(first.Body, ">u49<") || strings.Contains(first.Body, ">u50<") {
			t.Fatalf("the first page should hold u00..u49 and link to the next")
		}
		second := v.get(html.UnescapeString(next[1]))
		if !strings.Contains(second.Body, ">u54<") || strings.Contains(second.Body, ">u49<") {
			t.Fatalf("the second page should hold u50..u54")
		}
	})

	t.Run("access key deactivated", func(t *testing.T) {
		post("/iam/users/u00/create-key", url.Values{})
		keys, err := e.IAM.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("u00")})
		if err != nil || len(keys.AccessKeyMetadata) != 1 {
			t.Fatalf("ListAccessKeys: %v %v", keys, err)
		}
		id := aws.ToString(keys.AccessKeyMetadata[0].AccessKeyId)
		post("/iam/users/u00/deactivate-key", url.Values{"key": {id}})
		keys, err = e.IAM.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("u00")})
		if err != nil || keys.AccessKeyMetadata[0].Status != types.StatusTypeInactive {
			t.Fatalf("after deactivating: %v %v", keys, err)
		}
	})

	t.Run("MFA device removed", func(t *testing.T) {
		page := post("/iam/users/u01/mfa", url.Values{"device": {"u01"}})
		m := regexp.MustCompile(`id="seed">([A-Z2-7]+)<`).FindStringSubmatch(page.Body)
		serial := regexp.MustCompile(`name="serial" value="([^"]+)"`).FindStringSubmatch(page.Body)
		if m == nil || serial == nil {
			t.Fatalf("no seed or serial on the MFA page")
		}
		seed, err := totp.DecodeSeed(m[1])
		if err != nil {
			t.Fatal(err)
		}
		step := totpStep()
		post("/iam/users/u01/enable-mfa", url.Values{"serial": {html.UnescapeString(serial[1])}, "code1": {totp.Default.CodeAt(seed, step-2)}, "code2": {totp.Default.CodeAt(seed, step-1)}})
		post("/iam/users/u01/remove-mfa", url.Values{"serial": {html.UnescapeString(serial[1])}})
		devs, err := e.IAM.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String("u01")})
		virtual, err2 := e.IAM.ListVirtualMFADevices(ctx, &iam.ListVirtualMFADevicesInput{})
		if err != nil || err2 != nil || len(devs.MFADevices) != 0 || len(virtual.VirtualMFADevices) != 0 {
			t.Fatalf("after removing: %v %v %v %v", devs, err, virtual, err2)
		}
	})

	t.Run("group policy attached and detached", func(t *testing.T) {
		post("/iam/groups", url.Values{"name": {"ops"}})
		const ro = "arn:aws:iam::aws:policy/ReadOnlyAccess"
		post("/iam/groups/ops/attach", url.Values{"policy": {ro}})
		if a, err := e.IAM.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String("ops")}); err != nil || len(a.AttachedPolicies) != 1 {
			t.Fatalf("after attaching: %v %v", a, err)
		}
		post("/iam/groups/ops/detach", url.Values{"policy": {ro}})
		if a, err := e.IAM.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String("ops")}); err != nil || len(a.AttachedPolicies) != 0 {
			t.Fatalf("after detaching: %v %v", a, err)
		}
	})

	t.Run("policy versions", func(t *testing.T) {
		doc := func(action string) string {
			return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + action + `","Resource":"*"}]}`
		}
		post("/iam/policies/new", url.Values{"do": {"create"}, "name": {"versions"}, "document": {doc("s3:GetObject")}})
		arn := "arn:aws:iam::" + e.Account + ":policy/versions"
		post("/iam/policy/version", url.Values{"arn": {arn}, "document": {doc("s3:PutObject")}})
		post("/iam/policy/default", url.Values{"arn": {arn}, "version": {"v1"}})
		post("/iam/policy/delete-version", url.Values{"arn": {arn}, "version": {"v2"}})
		vs, err := e.IAM.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(arn)})
		if err != nil || len(vs.Versions) != 1 || aws.ToString(vs.Versions[0].VersionId) != "v1" || !vs.Versions[0].IsDefaultVersion {
			t.Fatalf("versions: %+v %v", vs, err)
		}
	})

	t.Run("credential report", func(t *testing.T) {
		form := url.Values{"csrf": {token}}
		r := v.post(console.Prefix+"/iam/credential-report", form)
		if r.Status != http.StatusOK || !strings.HasPrefix(r.Body, "user,arn,user_creation_time,password_enabled,") ||
			!strings.Contains(r.Header.Get("Content-Disposition"), "attachment") || !strings.Contains(r.Body, "\nu54,arn:aws:iam::"+e.Account+":user/u54,") {
			t.Fatalf("credential report: %d %q\n%.300s", r.Status, r.Header.Get("Content-Disposition"), r.Body)
		}
	})
}

// The policy editor groups a service's actions by access level; actions the Service
// Authorization Reference gives two levels ("Tagging, Write") are under their first, so that
// none falls out of the page.
func TestPolicyEditorLevels(t *testing.T) {
	t.Parallel()
	e := newConsoleEnv(t)
	v := newVisitor(t, e.URL, nil)
	v.signedIn(e.Account, "", rootPassword)
	r := v.get(console.Prefix + "/iam/policies/new?service=dynamodb")
	if r.Status != http.StatusOK {
		t.Fatalf("editor: %d", r.Status)
	}
	for _, action := range []string{"dynamodb:TagResource", "dynamodb:GetItem", "dynamodb:DeleteTable"} {
		if !strings.Contains(r.Body, action) {
			t.Errorf("the editor does not offer %s", action)
		}
	}
}
