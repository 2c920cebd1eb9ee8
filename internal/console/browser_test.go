package console_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/gatehouse-iam/gatehouse/internal/totp"
)

// The console in a real browser: Debian's Chromium, headless, driven through the DevTools
// protocol by chromedp. Each page is saved as a full-page PNG under the test's artifact
// directory (kept with `go test -artifacts -outputdir DIR`), numbered in the order of the flow.

// chromiumPath is Debian's chromium package's browser; .ci/run installs it when missing.
const chromiumPath = "/usr/bin/chromium"

// stepTimeout bounds one browser step, so a page that never comes fails the test quickly.
const stepTimeout = 20 * time.Second

// tab is one browser tab on the console of a running server.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string
	dir  string // the test's artifact directory, where the screenshots go
	shot int    // screenshots taken
	// shots are the screenshot files, in order, for the log.
	shots []string
}

// newTab starts Chromium with a fresh profile, or skips the test when it is not installed.
func newTab(t *testing.T, base string) *tab {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("skipping the browser test: Debian's chromium is not installed (%s missing; .ci/run installs it)", chromiumPath)
	}
	// The flags without which Chromium tries to reach Google's hosts on this machine's closed
	// network at every start (background networking, component updates, sync, QUIC).
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox, // as root, Chromium refuses to start with its sandbox
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	// The first run starts the browser and lives as long as ctx: no timeout on it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &tab{t: t, ctx: ctx, base: base, dir: t.ArtifactDir()}
}

// do runs steps within stepTimeout.
func (b *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// open loads a console page.
func (b *tab) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.base+path))
}

// submit clicks the button and waits for the page it leads to.
func (b *tab) submit(id string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID(id))); err != nil {
		b.t.Fatalf("click #%s: %v", id, err)
	}
}

// fill sets the inputs' (and selects') values, by id, as typing would.
func (b *tab) fill(values ...string) {
	b.t.Helper()
	for i := 0; i+1 < len(values); i += 2 {
		id, v := values[i], values[i+1]
		js, _ := json.Marshal(v)
		if got := b.eval(fmt.Sprintf(`(e => e ? (e.value = %s, e.value) : "no such element")(document.getElementById(%q))`, js, id)); got != v {
			b.t.Fatalf("on %s, fill #%s with %q: %s", b.location(), id, v, got)
		}
	}
}

// check sets a checkbox.
func (b *tab) check(id string, on bool) {
	b.t.Helper()
	if got := b.eval(fmt.Sprintf(`String((e => (e.checked = %v, e.checked))(document.getElementById(%q)))`, on, id)); got != fmt.Sprint(on) {
		b.t.Fatalf("checkbox #%s: %s", id, got)
	}
}

func (b *tab) eval(expr string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// text is the text of the element with the id, "" when the page has none.
func (b *tab) text(id string) string {
	b.t.Helper()
	return b.eval(fmt.Sprintf(`(e => e ? e.textContent.trim() : "")(document.getElementById(%q))`, id))
}

// has reports whether the page has an element with the id.
func (b *tab) has(id string) bool {
	b.t.Helper()
	return b.eval(fmt.Sprintf(`String(document.getElementById(%q) !== null)`, id)) == "true"
}

func (b *tab) value(id string) string {
	b.t.Helper()
	return b.eval(fmt.Sprintf(`(e => e ? e.value : "")(document.getElementById(%q))`, id))
}

func (b *tab) location() string {
	b.t.Helper()
	return b.eval(`document.location.pathname`)
}

// wantText fails unless the element's text contains each of want.
func (b *tab) wantText(id string, want ...string) {
	b.t.Helper()
	got := b.text(id)
	for _, w := range want {
		if !strings.Contains(got, w) {
			b.t.Fatalf("on %s, #%s is %q; want it to contain %q", b.location(), id, got, w)
		}
	}
}

// wantNoError fails when the page shows an error.
func (b *tab) wantNoError() {
	b.t.Helper()
	if msg := b.text("error"); msg != "" {
		b.t.Fatalf("on %s: error %q", b.location(), msg)
	}
}

// screenshot saves the whole page as NN-name.png.
func (b *tab) screenshot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	b.shot++
	file := fmt.Sprintf("%02d-%s.png", b.shot, name)
	if err := os.WriteFile(filepath.Join(b.dir, file), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.shots = append(b.shots, file)
}

// step runs part of the flow as a subtest, so that it can be skipped alone; a failed step
// ends the flow.
func (b *tab) step(name string, f func(t *testing.T)) {
	parent := b.t
	ok := parent.Run(name, func(t *testing.T) {
		b.t = t
		defer func() { b.t = parent }()
		f(t)
	})
	if !ok {
		parent.FailNow()
	}
}

// signIn fills in the sign-in form on the page and submits it; user "" is the root user.
func (b *tab) signIn(account, user, pw string) {
	b.t.Helper()
	b.fill("account", account, "username", user, "password", pw)
	b.check("root", user == "")
	b.submit("signin")
}

// download clicks a button whose answer is a file and returns the file's content, saved by
// the browser into a fresh directory.
func (b *tab) download(id, name string) string {
	b.t.Helper()
	dir := b.t.TempDir()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	progress := chromedp.Events(ctx, browser.DownloadProgress)
	err := chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			events := true
			_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir, EventsEnabled: &events,
			})
			return err
		}),
		chromedp.Click(chromedp.ID(id)),
	)
	if err != nil {
		b.t.Fatalf("download with #%s: %v", id, err)
	}
	for ev, err := range progress {
		if err != nil {
			b.t.Fatalf("download with #%s: %v", id, err)
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			b.t.Fatalf("download with #%s was canceled", id)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			break
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		entries, _ := os.ReadDir(dir)
		b.t.Fatalf("downloaded file: %v (the folder holds %v)", err, entries)
	}
	return string(data)
}

// totpStep is the current TOTP step, after waiting out a step about to end so that codes
// computed from it stay valid while the browser types them.
func totpStep() int64 {
	if left := 30 - time.Now().Unix()%30; left < 8 {
		time.Sleep(time.Duration(left)*time.Second + 100*time.Millisecond)
	}
	return totp.Default.Step(time.Now())
}

// TestBrowserFlow walks the console as the root user and then as an IAM user the root user
// creates, as issue 10 lists it: sign-in errors, the alias and sign-in URL, a user with a
// console password, "reset required" and a group, the forced password change under the
// password policy, a denied action with AWS's message, an access key and its CSV, and the
// MFA step, switching role and back, and the policy editor's validation. Each page's
// screenshot is in the artifact directory.
func TestBrowserFlow(t *testing.T) {
	e := newConsoleEnv(t)
	b := newTab(t, e.URL)
	ctx := context.Background()
	defer func() { t.Logf("screenshots in %s: %s", b.dir, strings.Join(b.shots, " ")) }()
	const (
		alias     = "gatehouse-browser"
		user      = "carol"
		firstPw   = "First-Passw0rd-1"
		secondPw  = "Second-Passw0rd-2"
		groupName = "developers"
	)
	userARN := "arn:aws:iam::" + e.Account + ":user/" + user

	// Root signs in: a wrong password first, then an unknown user, both with the same answer.
	b.open("/console")
	b.screenshot("signin")
	b.signIn(e.Account, "", rootPassword+"x")
	b.wantText("error", badSignIn)
	b.screenshot("signin-wrong-password")
	b.signIn(e.Account, "nobody", rootPassword)
	b.wantText("error", badSignIn)
	b.screenshot("signin-unknown-user")
	b.signIn(e.Account, "", rootPassword)
	b.wantNoError()
	b.wantText("identity", "root user", e.Account)
	b.screenshot("dashboard-root")

	// The alias, and the sign-in URL the account page shows for it.
	b.open("/console/iam/account")
	b.wantText("signin-url", e.URL+"/console/"+e.Account)
	b.screenshot("account")
	b.fill("alias", alias)
	b.submit("save-alias")
	b.wantNoError()
	b.wantText("signin-url", e.URL+"/console/"+alias)
	if got := b.value("alias"); got != alias {
		t.Errorf("#alias is %q after saving, want %q", got, alias)
	}
	b.screenshot("account-alias")
	if out, err := e.IAM.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{}); err != nil || len(out.AccountAliases) != 1 || out.AccountAliases[0] != alias {
		t.Fatalf("ListAccountAliases after the console saved one: %v %v", out, err)
	}

	// A group (the console has no groups page yet) and a password policy, through the API.
	if _, err := e.IAM.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(groupName)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.IAM.UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{
		MinimumPasswordLength: aws.Int32(14), RequireNumbers: true, RequireSymbols: true,
		RequireUppercaseCharacters: true, RequireLowercaseCharacters: true, AllowUsersToChangePassword: true,
	}); err != nil {
		t.Fatal(err)
	}

	// A user with a console password that must be changed, in the group.
	b.open("/console/iam/users")
	b.wantNoError()
	b.fill("name", user, "new-password", firstPw, "group", groupName)
	b.check("reset", true)
	b.screenshot("users-create")
	b.submit("create")
	b.wantNoError()
	b.wantText("arn", userARN)
	b.wantText("console-access", "Enabled", "must change password")
	b.wantText("groups", groupName)
	b.screenshot("user-created")
	if lp, err := e.IAM.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String(user)}); err != nil || !lp.LoginProfile.PasswordResetRequired {
		t.Fatalf("GetLoginProfile: %v %v", lp, err)
	}
	if g, err := e.IAM.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String(user)}); err != nil || len(g.Groups) != 1 || *g.Groups[0].GroupName != groupName {
		t.Fatalf("ListGroupsForUser: %v %v", g, err)
	}
	b.open("/console/iam/users?search=CAR")
	b.wantText("users", user)
	b.screenshot("users-search")

	// Sign out; the user signs in at the account's sign-in URL.
	b.submit("signout")
	if got := b.location(); got != "/console" {
		t.Fatalf("after sign-out the browser is at %s", got)
	}
	b.open("/console/" + alias)
	if got := b.value("account"); got != alias {
		t.Fatalf("the sign-in URL's form has account %q, want %q", got, alias)
	}
	b.screenshot("signin-alias")
	b.fill("username", user, "password", firstPw)
	b.check("root", false)
	b.submit("signin")

	// The forced password change, with the policy shown and enforced.
	if got := b.location(); got != "/console/iam/password" {
		t.Fatalf("after signing in with a password to reset the browser is at %s", got)
	}
	b.wantText("policy", "At least 14 characters", "uppercase", "lowercase", "number", "symbol")
	b.screenshot("password-forced")
	b.open("/console/iam/users") // nothing else is reachable until the password is changed
	if got := b.location(); got != "/console/iam/password" {
		t.Fatalf("before the password change the users page went to %s", got)
	}
	b.fill("old", firstPw, "new", "Short-1!", "confirm", "Short-1!")
	b.submit("change")
	b.wantText("error", "PasswordPolicyViolation")
	b.screenshot("password-policy-violation")
	b.fill("old", firstPw, "new", secondPw, "confirm", secondPw)
	b.submit("change")
	if got := b.location(); got != "/console/iam/" {
		t.Fatalf("after the password change the browser is at %s", got)
	}
	b.wantText("identity", user, alias)
	b.screenshot("dashboard-user")

	// A denied action shows AWS's AccessDenied message and changes nothing.
	b.step("denied-create-user", func(t *testing.T) {
		b.open("/console/iam/users")
		b.fill("name", "mallory")
		b.submit("create")
		b.screenshot("users-create-denied")
		if err := wantNoSuchEntity(func() error {
			_, err := e.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("mallory")})
			return err
		}()); err != nil {
			t.Fatalf("GetUser mallory after the denied CreateUser: %v", err)
		}
		b.wantText("error", "AccessDenied", "User: "+userARN+" is not authorized to perform: iam:CreateUser")
	})

	// Root grants the user its own password and keys (AWS's IAMUserChangePassword and a
	// self-management policy on ${aws:username}); the user creates a key and downloads it.
	if _, err := e.IAM.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(user), PolicyArn: aws.String("arn:aws:iam::aws:policy/IAMUserChangePassword")}); err != nil {
		t.Fatal(err)
	}
	self := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GetUser","iam:ListGroupsForUser","iam:ListAttachedUserPolicies","iam:ListUserPolicies","iam:ListAccessKeys","iam:CreateAccessKey","iam:UpdateAccessKey","iam:DeleteAccessKey","iam:GetLoginProfile","iam:ListMFADevices","iam:EnableMFADevice"],"Resource":"arn:aws:iam::*:user/${aws:username}"},` +
		`{"Effect":"Allow","Action":["iam:CreateVirtualMFADevice","iam:DeleteVirtualMFADevice"],"Resource":"arn:aws:iam::*:mfa/${aws:username}"}]}`
	if _, err := e.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String("self-keys"), PolicyDocument: aws.String(self)}); err != nil {
		t.Fatal(err)
	}
	b.open("/console/iam/users/" + user)
	b.wantNoError()
	b.wantText("arn", userARN)
	b.wantText("groups", groupName)
	b.screenshot("user-self")
	b.submit("create-key")
	b.wantNoError()
	keyID, secret := b.text("new-key-id"), b.text("new-key-secret")
	if !strings.HasPrefix(keyID, "AKIA") || len(secret) != 40 {
		t.Fatalf("new key %q secret of %d characters", keyID, len(secret))
	}
	b.wantText("keys", keyID)
	b.screenshot("access-key-created")
	data := b.download("download-csv", user+"_accessKeys.csv")
	rows, err := csv.NewReader(strings.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("CSV %q: %v", data, err)
	}
	if len(rows) != 2 || strings.Join(rows[0], ",") != "Access key ID,Secret access key" || rows[1][0] != keyID || rows[1][1] != secret {
		t.Fatalf("CSV %q, want the header and %s with the secret shown", data, keyID)
	}
	keys, err := e.IAM.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(user)})
	if err != nil || len(keys.AccessKeyMetadata) != 1 || *keys.AccessKeyMetadata[0].AccessKeyId != keyID {
		t.Fatalf("ListAccessKeys: %v %v, want only %s", keys, err, keyID)
	}
	_, keySTS := e.clients(keyID, secret, "")
	who, err := keySTS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(who.Arn) != userARN {
		t.Fatalf("GetCallerIdentity with the downloaded key: %v %v", who, err)
	}

	// MFA: the user assigns itself a virtual device on its page (the QR code and the secret
	// key, then two consecutive codes computed from it), then signs in with a third code (a
	// wrong one first).
	b.open("/console/iam/users/" + user)
	b.submit("assign-mfa-button")
	b.wantNoError()
	if !b.has("qr") {
		t.Fatalf("no QR code on the MFA page %s", b.location())
	}
	b.screenshot("mfa-assign")
	seed, err := totp.DecodeSeed(b.text("seed"))
	if err != nil {
		t.Fatalf("the page's secret key %q: %v", b.text("seed"), err)
	}
	step := totpStep()
	b.fill("code1", totp.Default.CodeAt(seed, step-2), "code2", totp.Default.CodeAt(seed, step-1))
	b.submit("enable-mfa-button")
	b.wantNoError()
	b.wantText("mfa-devices", "arn:aws:iam::"+e.Account+":mfa/"+user)
	b.screenshot("mfa-enabled")
	b.submit("signout")
	b.open("/console/" + alias)
	b.fill("username", user, "password", secondPw)
	b.check("root", false)
	b.submit("signin")
	b.wantNoError()
	if !b.has("code") || !b.has("verify") {
		t.Fatalf("the MFA step is not shown: the browser is at %s", b.location())
	}
	b.screenshot("mfa")
	good := totp.Default.CodeAt(seed, step)
	wrong := fmt.Sprintf("%06d", (atoi(good)+1)%1000000)
	b.fill("code", wrong)
	b.submit("verify")
	b.wantText("error", badSignIn)
	b.screenshot("mfa-wrong-code")
	b.fill("username", user, "password", secondPw)
	b.check("root", false)
	b.submit("signin")
	b.fill("code", good)
	b.submit("verify")
	if got := b.location(); got != "/console/iam/" {
		t.Fatalf("after the MFA step the browser is at %s", got)
	}
	b.wantText("identity", user, alias)
	b.screenshot("dashboard-mfa")

	// Switch role into a read-only role that trusts the user, and back.
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + userARN + `"},"Action":"sts:AssumeRole"}]}`
	if _, err := e.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("auditor"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.IAM.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("auditor"), PolicyArn: aws.String("arn:aws:iam::aws:policy/IAMReadOnlyAccess")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String("assume-auditor"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::` + e.Account + `:role/auditor"}]}`)}); err != nil {
		t.Fatal(err)
	}
	b.step("switch-role", func(t *testing.T) {
		b.open("/console/iam/switch-role")
		b.fill("sr-role", "auditor", "sr-display", "Auditor")
		b.screenshot("switch-role")
		b.submit("switch-role")
		b.wantNoError()
		b.wantText("role", "Auditor")
		// As the role, the users list is readable (IAMReadOnlyAccess), and a change is refused
		// with AWS's message naming the role session.
		b.open("/console/iam/users")
		b.wantNoError()
		b.wantText("users", user)
		b.fill("name", "eve")
		b.submit("create")
		b.wantText("error", "AccessDenied", "assumed-role/auditor/"+user, "iam:CreateUser")
		b.screenshot("switched-role-denied")
		b.submit("switch-back")
		if b.has("role") {
			t.Fatalf("still acting as the role after Back")
		}
		b.wantText("identity", user)
	})

	// Root edits a policy: a syntax error is shown as the person types (the editor's script)
	// and again, with its line and column, when the document is sent.
	b.submit("signout")
	b.open("/console")
	b.signIn(e.Account, "", rootPassword)
	b.step("policy-editor", func(t *testing.T) {
		b.open("/console/iam/policies/new?service=dynamodb")
		b.fill("policy-name", "table-reader", "document", "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Allow\" \"Action\": \"dynamodb:GetItem\", \"Resource\": \"*\"}]\n}")
		b.eval(`(document.getElementById("document").dispatchEvent(new Event("input")), "")`)
		live := ""
		for range 50 {
			// The script validated the editor's first document on load; wait for the answer
			// to the typed one.
			if live = b.text("document-live"); strings.Contains(live, "Syntax") {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if !strings.Contains(live, "line 3:") || !strings.Contains(live, "Syntax errors in policy.") {
			t.Fatalf("validation as you type shows %q", live)
		}
		b.screenshot("policy-editor-live-error")
		b.submit("create-policy")
		b.wantText("error", "MalformedPolicyDocument", "line 3:", "Syntax errors in policy.")
		if _, err := e.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::" + e.Account + ":policy/table-reader")}); err == nil {
			t.Fatalf("the invalid policy was created")
		}
		b.fill("document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:Query"],"Resource":"*"}]}`)
		b.submit("create-policy")
		b.wantNoError()
		b.wantText("policy-summary", "Amazon DynamoDB", "Limited: Read")
		b.screenshot("policy-created")
	})

	// Root deletes the user: its key, password, group, policies and MFA device go first.
	b.step("delete-user", func(t *testing.T) {
		b.open("/console/iam/users/" + user)
		b.submit("delete-user")
		b.wantNoError()
		if got := b.location(); got != "/console/iam/users" {
			t.Fatalf("after deleting, the browser is at %s", got)
		}
		if err := wantNoSuchEntity(func() error {
			_, err := e.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(user)})
			return err
		}()); err != nil {
			t.Fatalf("GetUser after the console deleted it: %v", err)
		}
		mfa, err := e.IAM.ListVirtualMFADevices(ctx, &iam.ListVirtualMFADevicesInput{})
		if err != nil || len(mfa.VirtualMFADevices) != 0 {
			t.Fatalf("virtual MFA devices left: %v %v", mfa, err)
		}
		b.screenshot("user-deleted")
	})

	// The dashboard's finding about root's MFA leads to root's security credentials, where
	// root assigns itself a device; the next sign-in asks for its code, and the finding is gone.
	b.step("root-mfa", func(t *testing.T) {
		b.open("/console/iam/")
		b.wantText("findings", "The root user has no MFA device.")
		if got := b.eval(`document.querySelector('#findings a[href="/console/iam/security-credentials"]') ? "link" : "none"`); got != "link" {
			t.Fatalf("the finding does not link to the root user's security credentials")
		}
		b.open("/console/iam/security-credentials")
		b.submit("assign-mfa-button")
		b.wantNoError()
		seed, err := totp.DecodeSeed(b.text("seed"))
		if err != nil {
			t.Fatalf("the page's secret key %q: %v", b.text("seed"), err)
		}
		step := totpStep()
		b.fill("code1", totp.Default.CodeAt(seed, step-2), "code2", totp.Default.CodeAt(seed, step-1))
		b.submit("enable-mfa-button")
		b.wantNoError()
		b.wantText("mfa-devices", "arn:aws:iam::"+e.Account+":mfa/root-account-mfa-device")
		b.screenshot("root-security-credentials")
		b.submit("signout")
		b.open("/console/" + alias)
		b.signIn(alias, "", rootPassword)
		if !b.has("code") {
			t.Fatalf("root's sign-in does not ask for the MFA code: %s", b.location())
		}
		b.fill("code", totp.Default.CodeAt(seed, step))
		b.submit("verify")
		b.wantNoError()
		if b.has("findings") && strings.Contains(b.text("findings"), "no MFA device") {
			t.Fatalf("the dashboard still finds root without MFA: %s", b.text("findings"))
		}
		b.screenshot("dashboard-root-mfa")
	})

	// The other pages, for the record.
	b.step("pages", func(t *testing.T) {
		for _, pg := range []struct{ path, name string }{
			{"/console/iam/groups", "groups"}, {"/console/iam/groups/" + groupName, "group"}, {"/console/iam/roles", "roles"},
			{"/console/iam/roles/auditor", "role"}, {"/console/iam/policies?scope=AWS&search=IAM", "policies"},
			{"/console/iam/policy?arn=arn:aws:iam::aws:policy/IAMReadOnlyAccess", "policy"}, {"/console/iam/switch-role", "switch-role-root"},
			{"/console/iam/account", "account-settings"},
		} {
			b.open(pg.path)
			b.wantNoError()
			b.screenshot(pg.name)
		}
		b.open("/console/iam/simulator")
		b.fill("sim-principal", "arn:aws:iam::"+e.Account+":role/auditor", "sim-actions", "iam:GetRole\niam:DeleteRole")
		b.submit("simulate")
		b.wantNoError()
		b.wantText("simulation", "allowed", "implicitDeny")
		b.screenshot("simulator")
	})

	// On a phone's screen the pages fit its width: nothing scrolls sideways.
	b.step("phone", func(t *testing.T) {
		b.do("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
		for _, page := range []string{"/console/iam/", "/console/iam/users", "/console/iam/roles/auditor", "/console/iam/policies?scope=AWS&search=ReadOnly", "/console/iam/account"} {
			b.open(page)
			if w := b.eval(`String(document.documentElement.scrollWidth)`); atoi(w) > 390 {
				t.Errorf("%s is %s pixels wide on a 390-pixel screen", page, w)
			}
		}
		b.open("/console/iam/users")
		b.screenshot("phone-users")
	})
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}
