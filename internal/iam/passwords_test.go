package iam

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gatehouse-iam/gatehouse/internal/enforce"
	"github.com/gatehouse-iam/gatehouse/internal/password"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/totp"
)

// pwFixture is azNew with cheap argon2id parameters: these tests are about the rules, not the
// hash's cost (BenchmarkHash and the e2e benchmarks measure that).
func pwFixture(t *testing.T) *azFixture {
	f := azNew(t)
	f.svc.passwords = passwordGuardFor(password.Params{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 32})
	return f
}

func (f *azFixture) as(p *principal.Principal) context.Context {
	return principal.NewContext(context.Background(), p)
}

func (f *azFixture) createProfile(user, pw string) {
	f.t.Helper()
	_, err := f.svc.CreateLoginProfile(f.root, &iam.CreateLoginProfileInput{UserName: aws.String(user), Password: aws.String(pw)})
	f.must(err)
}

// storedProfile reads a user's login profile record as it is stored.
func (f *azFixture) storedProfile(userID string) *store.LoginProfile {
	f.t.Helper()
	var lp *store.LoginProfile
	f.must(f.svc.store.View(context.Background(), func(ctx context.Context, tx store.Tx) (err error) {
		lp, err = loadLoginProfile(ctx, tx, f.account, userID)
		return err
	}))
	return lp
}

func (f *azFixture) signIn(user, pw string) (*SignedIn, error) {
	return f.svc.SignInWithPassword(context.Background(), PasswordSignIn{Account: f.account, UserName: user, Password: pw, SourceIP: "192.0.2.1"})
}

// TestLoginProfiles: the four operations and their errors, with AWS's texts as LocalStack
// recorded them (tests/aws/services/iam/test_iam_users.snapshot.json); a refused request
// leaves the stored profile as it was, and the password is stored only as an argon2id hash.
func TestLoginProfiles(t *testing.T) {
	f := pwFixture(t)
	alice := f.user("alice", "")
	const pw = "TestPassword123!"
	out, err := f.svc.CreateLoginProfile(f.root, &iam.CreateLoginProfileInput{UserName: aws.String("ALICE"), Password: aws.String(pw), PasswordResetRequired: true})
	f.must(err)
	if *out.LoginProfile.UserName != "alice" || !out.LoginProfile.PasswordResetRequired || !out.LoginProfile.CreateDate.Equal(f.now) {
		t.Fatalf("CreateLoginProfile = %s", awsString(out.LoginProfile))
	}
	before := f.storedProfile(alice.UserID)
	if !strings.HasPrefix(before.Hash, "$argon2id$") || strings.Contains(before.Hash, pw) {
		t.Fatalf("stored hash %q", before.Hash)
	}

	for _, tc := range []struct {
		name, code, msg string
		call            func() error
	}{
		{"create again", "EntityAlreadyExists", "Login Profile for user alice already exists.", func() error {
			_, err := f.svc.CreateLoginProfile(f.root, &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("AnotherPassword123!")})
			return err
		}},
		{"create for an unknown user", "NoSuchEntity", "The user with name nobody cannot be found.", func() error {
			_, err := f.svc.CreateLoginProfile(f.root, &iam.CreateLoginProfileInput{UserName: aws.String("nobody"), Password: aws.String(pw)})
			return err
		}},
		{"create without a password", "ValidationError", "Value null at 'password' failed to satisfy constraint: Member must not be null", func() error {
			_, err := f.svc.CreateLoginProfile(f.root, &iam.CreateLoginProfileInput{UserName: aws.String("alice")})
			return err
		}},
		{"root omits the user name", "ValidationError", "Must specify userName when calling with non-User credentials", func() error {
			_, err := f.svc.GetLoginProfile(f.root, &iam.GetLoginProfileInput{})
			return err
		}},
		{"update with a weak password", "PasswordPolicyViolation", "at least 8 characters", func() error {
			_, err := f.svc.UpdateLoginProfile(f.root, &iam.UpdateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("Ab1!"), PasswordResetRequired: aws.Bool(false)})
			return err
		}},
		{"delete the user first", "DeleteConflict", "Cannot delete entity, must delete login profile first.", func() error {
			_, err := f.svc.DeleteUser(f.root, &iam.DeleteUserInput{UserName: aws.String("alice")})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if azCode(err) != tc.code || !strings.Contains(azMessage(err), tc.msg) {
				t.Fatalf("got %v, want %s %q", err, tc.code, tc.msg)
			}
			if after := f.storedProfile(alice.UserID); *after != *before {
				t.Fatalf("the refused request changed the profile: %+v, was %+v", after, before)
			}
		})
	}

	// The user reads its own profile without naming itself.
	got, err := f.svc.GetLoginProfile(f.as(alice), &iam.GetLoginProfileInput{})
	f.must(err)
	if *got.LoginProfile.UserName != "alice" || !got.LoginProfile.PasswordResetRequired {
		t.Fatalf("GetLoginProfile = %s", awsString(got.LoginProfile))
	}
	// Only the flag: the password stays.
	f.now = f.now.Add(time.Hour)
	_, err = f.svc.UpdateLoginProfile(f.root, &iam.UpdateLoginProfileInput{UserName: aws.String("alice"), PasswordResetRequired: aws.Bool(false)})
	f.must(err)
	if lp := f.storedProfile(alice.UserID); lp.PasswordResetRequired || lp.Hash != before.Hash || !lp.ChangedAt.Equal(before.ChangedAt) {
		t.Fatalf("after clearing the flag: %+v", lp)
	}
	// A new password: ChangedAt moves, CreateDate stays, the flag stays unless given.
	_, err = f.svc.UpdateLoginProfile(f.root, &iam.UpdateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("NewPassword456!")})
	f.must(err)
	lp := f.storedProfile(alice.UserID)
	if lp.Hash == before.Hash || !lp.ChangedAt.Equal(f.now) || !lp.CreateDate.Equal(before.CreateDate) || lp.PasswordResetRequired {
		t.Fatalf("after a new password: %+v (was %+v)", lp, before)
	}
	if _, err := f.signIn("alice", "NewPassword456!"); err != nil {
		t.Fatalf("sign-in with the new password: %v", err)
	}
	if _, err := f.signIn("alice", pw); !isSignIn(err, SignInWrongPassword) {
		t.Fatalf("sign-in with the old password: %v", err)
	}

	_, err = f.svc.DeleteLoginProfile(f.root, &iam.DeleteLoginProfileInput{UserName: aws.String("alice")})
	f.must(err)
	_, err = f.svc.DeleteLoginProfile(f.root, &iam.DeleteLoginProfileInput{UserName: aws.String("alice")})
	if azCode(err) != "NoSuchEntity" || azMessage(err) != "Login Profile for User alice cannot be found." {
		t.Fatalf("second delete: %v", err)
	}
	_, err = f.svc.GetLoginProfile(f.root, &iam.GetLoginProfileInput{UserName: aws.String("alice")})
	if azCode(err) != "NoSuchEntity" || azMessage(err) != "Login Profile for User alice cannot be found." {
		t.Fatalf("get after delete: %v", err)
	}
	_, err = f.svc.DeleteUser(f.root, &iam.DeleteUserInput{UserName: aws.String("alice")})
	f.must(err)
	// The history went with the user.
	f.must(f.svc.store.View(context.Background(), func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.Get(ctx, store.KindPasswordHistory, f.account, alice.UserID); !isNotFound(err) {
			t.Errorf("password history of a deleted user: %v", err)
		}
		return nil
	}))
}

func isSignIn(err error, r SignInFailure) bool {
	var se *SignInError
	return errors.As(err, &se) && se.Reason == r
}

// TestPasswordReusePrevention: the policy remembers the current password and the ones before
// it, for CreateLoginProfile (a deleted profile's passwords stay remembered), UpdateLoginProfile
// and ChangePassword; a refused password changes nothing.
func TestPasswordReusePrevention(t *testing.T) {
	f := pwFixture(t)
	bob := f.user("bob", "")
	_, err := f.svc.UpdateAccountPasswordPolicy(f.root, &iam.UpdateAccountPasswordPolicyInput{PasswordReusePrevention: aws.Int32(2), MinimumPasswordLength: aws.Int32(6)})
	f.must(err)
	set := func(pw string) error {
		_, err := f.svc.UpdateLoginProfile(f.root, &iam.UpdateLoginProfileInput{UserName: aws.String("bob"), Password: aws.String(pw)})
		return err
	}
	f.createProfile("bob", "first-pw")
	if err := set("first-pw"); azCode(err) != "PasswordPolicyViolation" || !strings.Contains(azMessage(err), "2 most recent passwords") {
		t.Fatalf("the current password again: %v", err)
	}
	f.must(set("second-pw"))
	before := f.storedProfile(bob.UserID)
	if err := set("first-pw"); azCode(err) != "PasswordPolicyViolation" {
		t.Fatalf("the previous password: %v", err)
	}
	if lp := f.storedProfile(bob.UserID); *lp != *before {
		t.Fatalf("a refused password changed the profile")
	}
	f.must(set("third-pw"))
	f.must(set("first-pw")) // three back: no longer remembered

	// ChangePassword as bob, and a re-created profile.
	_, err = f.svc.ChangePassword(f.as(bob), &iam.ChangePasswordInput{OldPassword: aws.String("first-pw"), NewPassword: aws.String("third-pw")})
	if azCode(err) != "PasswordPolicyViolation" {
		t.Fatalf("ChangePassword to a remembered password: %v", err)
	}
	_, err = f.svc.DeleteLoginProfile(f.root, &iam.DeleteLoginProfileInput{UserName: aws.String("bob")})
	f.must(err)
	_, err = f.svc.CreateLoginProfile(f.root, &iam.CreateLoginProfileInput{UserName: aws.String("bob"), Password: aws.String("first-pw")})
	if azCode(err) != "PasswordPolicyViolation" {
		t.Fatalf("CreateLoginProfile with the deleted profile's password: %v", err)
	}
}

// TestChangePassword: only IAM users (aws-cli's change-password example: root credentials get
// InvalidUserType), the old password checked, wrong ones limited, PasswordResetRequired cleared.
func TestChangePassword(t *testing.T) {
	f := pwFixture(t)
	carol := f.user("carol", "")
	dave := f.user("dave", "")
	_, err := f.svc.CreateLoginProfile(f.root, &iam.CreateLoginProfileInput{UserName: aws.String("carol"), Password: aws.String("Carol-pw-1"), PasswordResetRequired: true})
	f.must(err)
	change := func(p *principal.Principal, old, new string) error {
		ctx := enforce.WithRequestFacts(f.as(p), enforce.RequestFacts{SourceIP: "198.51.100.7"})
		_, err := f.svc.ChangePassword(ctx, &iam.ChangePasswordInput{OldPassword: aws.String(old), NewPassword: aws.String(new)})
		return err
	}
	role := &principal.Principal{Type: principal.AssumedRole, Account: f.account, ARN: "arn:aws:sts::" + f.account + ":assumed-role/r/s", UserID: "AROAX:s"}
	for _, tc := range []struct {
		name, code, msg string
		p               *principal.Principal
		old, new        string
	}{
		{"root", "InvalidUserType", "Only IAM users", &principal.Principal{Type: principal.Root, Account: f.account, UserID: f.account}, "x", "Carol-pw-2"},
		{"a role session", "InvalidUserType", "Only IAM users", role, "x", "Carol-pw-2"},
		{"a user without a password", "NoSuchEntity", "Login Profile for User dave cannot be found.", dave, "x", "Carol-pw-2"},
		{"a weak new password", "PasswordPolicyViolation", "at least three of", carol, "Carol-pw-1", "carolcarol"},
		{"a wrong old password", "AccessDenied", "The old password is incorrect.", carol, "Carol-pw-0", "Carol-pw-2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.storedProfile(carol.UserID)
			err := change(tc.p, tc.old, tc.new)
			if azCode(err) != tc.code || !strings.Contains(azMessage(err), tc.msg) {
				t.Fatalf("got %v, want %s %q", err, tc.code, tc.msg)
			}
			if after := f.storedProfile(carol.UserID); *after != *before {
				t.Fatalf("the refused request changed the profile")
			}
		})
	}
	f.must(change(carol, "Carol-pw-1", "Carol-pw-2"))
	if lp := f.storedProfile(carol.UserID); lp.PasswordResetRequired || !lp.ChangedAt.Equal(f.now) {
		t.Fatalf("after ChangePassword: %+v", lp)
	}
	// Wrong old passwords: 5 free, then each blocks the user for 1 s, doubling; while blocked,
	// even the right one gets LimitExceeded without being checked.
	for i := range 6 {
		if err := change(carol, "wrong", "Carol-pw-3"); azCode(err) != "AccessDenied" {
			t.Fatalf("wrong old password %d: %v", i+1, err)
		}
	}
	err = change(carol, "Carol-pw-2", "Carol-pw-3")
	if azCode(err) != "LimitExceeded" || !strings.Contains(azMessage(err), "try again in 1 second.") {
		t.Fatalf("after 6 wrong passwords: %v", err)
	}
	f.now = f.now.Add(time.Second)
	f.must(change(carol, "Carol-pw-2", "Carol-pw-3"))
}

// TestSignInWithPassword: every reason a sign-in fails, the limits per user and per source, MFA,
// expiry (HardExpiry refuses, otherwise the console must have the user change it), and
// PasswordLastUsed recorded by a success and shown by GetUser and ListUsers.
func TestSignInWithPassword(t *testing.T) {
	f := pwFixture(t)
	erin := f.user("erin", "/staff/")
	f.user("nopass", "")
	f.createProfile("erin", "Erin-pw-1")
	for _, tc := range []struct {
		name, user, pw string
		want           SignInFailure
	}{
		{"unknown user", "nobody", "Erin-pw-1", SignInUnknownUser},
		{"no console password", "nopass", "Erin-pw-1", SignInNoPassword},
		{"wrong password", "erin", "Erin-pw-2", SignInWrongPassword},
		{"password of another case", "erin", "erin-PW-1", SignInWrongPassword},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.signIn(tc.user, tc.pw)
			if !isSignIn(err, tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			// One answer for all of these on the console.
			if msg := err.(*SignInError).Message(); msg != "Your authentication information is incorrect. Please try again." {
				t.Fatalf("console message %q", msg)
			}
		})
	}
	get := func() *time.Time {
		out, err := f.svc.GetUser(f.root, &iam.GetUserInput{UserName: aws.String("erin")})
		f.must(err)
		return out.User.PasswordLastUsed
	}
	if get() != nil {
		t.Fatal("PasswordLastUsed before any sign-in")
	}
	in, err := f.svc.SignInWithPassword(context.Background(), PasswordSignIn{Account: f.account, UserName: "ERIN", Password: "Erin-pw-1", SourceIP: "192.0.2.1"})
	f.must(err)
	if in.UserID != erin.UserID || in.UserName != "erin" || in.ARN != "arn:aws:iam::"+f.account+":user/staff/erin" || in.MFA || in.PasswordExpired || in.PasswordResetRequired {
		t.Fatalf("SignedIn = %+v", in)
	}
	if got := get(); got == nil || !got.Equal(f.now) {
		t.Fatalf("PasswordLastUsed = %v, want %v", got, f.now)
	}
	list, err := f.svc.ListUsers(f.root, &iam.ListUsersInput{PathPrefix: aws.String("/staff/")})
	f.must(err)
	if len(list.Users) != 1 || list.Users[0].PasswordLastUsed == nil || !list.Users[0].PasswordLastUsed.Equal(f.now) {
		t.Fatalf("ListUsers does not show PasswordLastUsed: %+v", list.Users)
	}

	// The per-user limit: 5 free failures, then 1 s, 2 s, ... from the 6th; the right password is refused
	// too while it lasts. A success forgets the user's failures.
	for range 5 {
		f.signIn("erin", "bad")
	}
	if _, err := f.signIn("erin", "bad"); !isSignIn(err, SignInWrongPassword) {
		t.Fatalf("6th failure: %v", err)
	}
	_, err = f.signIn("erin", "Erin-pw-1")
	var se *SignInError
	if !errors.As(err, &se) || se.Reason != SignInThrottled || se.RetryAfter != time.Second || !strings.Contains(se.Message(), "1 second.") {
		t.Fatalf("while throttled: %v", err)
	}
	f.now = f.now.Add(time.Second)
	if _, err := f.signIn("erin", "Erin-pw-1"); err != nil {
		t.Fatalf("after the back-off: %v", err)
	}
	// The per-source limit: 20 free failures from one address, over any names, then that
	// address waits, and others do not.
	for i := range 21 {
		f.svc.SignInWithPassword(context.Background(), PasswordSignIn{Account: f.account, UserName: "guess" + strings.Repeat("x", i), Password: "x", SourceIP: "203.0.113.9"})
	}
	if _, err := f.svc.SignInWithPassword(context.Background(), PasswordSignIn{Account: f.account, UserName: "erin", Password: "Erin-pw-1", SourceIP: "203.0.113.9"}); !isSignIn(err, SignInThrottled) {
		t.Fatalf("from the guessing address: %v", err)
	}
	if _, err := f.signIn("erin", "Erin-pw-1"); err != nil {
		t.Fatalf("from another address: %v", err)
	}

	// MFA: with a device enabled, the right password asks for a code (not a failure).
	out, err := f.svc.CreateVirtualMFADevice(f.root, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("erin-phone")})
	f.must(err)
	seed, err := totp.DecodeSeed(string(out.VirtualMFADevice.Base32StringSeed))
	f.must(err)
	step := mfaCode.Step(f.now)
	_, err = f.svc.EnableMFADevice(f.root, &iam.EnableMFADeviceInput{UserName: aws.String("erin"), SerialNumber: out.VirtualMFADevice.SerialNumber,
		AuthenticationCode1: aws.String(mfaCode.CodeAt(seed, step-1)), AuthenticationCode2: aws.String(mfaCode.CodeAt(seed, step))})
	f.must(err)
	if _, err := f.signIn("erin", "Erin-pw-1"); !isSignIn(err, SignInMFARequired) {
		t.Fatalf("without a code: %v", err)
	}
	withCode := func(code string) (*SignedIn, error) {
		return f.svc.SignInWithPassword(context.Background(), PasswordSignIn{Account: f.account, UserName: "erin", Password: "Erin-pw-1", MFACode: code, SourceIP: "192.0.2.1"})
	}
	if _, err := withCode(mfaCode.CodeAt(seed, step)); !isSignIn(err, SignInWrongMFACode) {
		t.Fatalf("a used code: %v", err)
	}
	f.now = f.now.Add(30 * time.Second)
	in, err = withCode(mfaCode.Code(seed, f.now))
	f.must(err)
	if !in.MFA {
		t.Fatal("signed in with a code but MFA is false")
	}

	// Expiry: without HardExpiry the sign-in succeeds and says so; with it, it fails.
	_, err = f.svc.DeactivateMFADevice(f.root, &iam.DeactivateMFADeviceInput{UserName: aws.String("erin"), SerialNumber: out.VirtualMFADevice.SerialNumber})
	f.must(err)
	_, err = f.svc.UpdateAccountPasswordPolicy(f.root, &iam.UpdateAccountPasswordPolicyInput{MaxPasswordAge: aws.Int32(30)})
	f.must(err)
	f.now = f.now.AddDate(0, 0, 31)
	in, err = f.signIn("erin", "Erin-pw-1")
	f.must(err)
	if !in.PasswordExpired {
		t.Fatalf("an expired password signs in without PasswordExpired: %+v", in)
	}
	_, err = f.svc.UpdateAccountPasswordPolicy(f.root, &iam.UpdateAccountPasswordPolicyInput{MaxPasswordAge: aws.Int32(30), HardExpiry: aws.Bool(true)})
	f.must(err)
	if _, err := f.signIn("erin", "Erin-pw-1"); !isSignIn(err, SignInPasswordExpired) {
		t.Fatalf("expired under HardExpiry: %v", err)
	}
	// An administrator's new password signs in again.
	_, err = f.svc.UpdateLoginProfile(f.root, &iam.UpdateLoginProfileInput{UserName: aws.String("erin"), Password: aws.String("Erin-pw-2")})
	f.must(err)
	if _, err := f.signIn("erin", "Erin-pw-2"); err != nil {
		t.Fatalf("after the reset: %v", err)
	}
}

// TestSelfServiceGrant: AllowUsersToChangePassword lets every IAM user call ChangePassword and
// GetAccountPasswordPolicy with no policy of its own (IAM API Reference, PasswordPolicy:
// "applied at the account-level for all users by IAM"), but not other actions, not role
// sessions, and not against an explicit Deny. The AWS managed policy IAMUserChangePassword
// grants the same to the users it is attached to (ChangePassword on their own user only).
func TestSelfServiceGrant(t *testing.T) {
	f := pwFixture(t)
	frank := f.user("frank", "/eng/")
	gina := f.user("gina", "")
	hal := f.user("hal", "")
	f.inline("gina", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:ChangePassword","Resource":"*"}]}`)
	f.attach("hal", "arn:aws:iam::aws:policy/IAMUserChangePassword")
	role := &principal.Principal{Type: principal.AssumedRole, Account: f.account, ARN: "arn:aws:sts::" + f.account + ":assumed-role/r/s", UserID: "AROAX:s"}
	cases := []struct {
		p      *principal.Principal
		action string
		form   url.Values
		off    string // the code while AllowUsersToChangePassword is false
		on     string // ... and true
	}{
		{frank, "iam:ChangePassword", url.Values{"OldPassword": {"a"}, "NewPassword": {"b"}}, "AccessDenied", ""},
		{frank, "iam:GetAccountPasswordPolicy", nil, "AccessDenied", ""},
		{frank, "iam:GetLoginProfile", nil, "AccessDenied", "AccessDenied"},
		{gina, "iam:ChangePassword", url.Values{"OldPassword": {"a"}, "NewPassword": {"b"}}, "AccessDenied", "AccessDenied"},
		{hal, "iam:ChangePassword", url.Values{"OldPassword": {"a"}, "NewPassword": {"b"}}, "", ""},
		{hal, "iam:GetAccountPasswordPolicy", nil, "", ""},
		{hal, "iam:GetLoginProfile", nil, "AccessDenied", "AccessDenied"},
		{role, "iam:GetAccountPasswordPolicy", nil, "AccessDenied", "AccessDenied"},
	}
	for _, allow := range []bool{false, true} {
		_, err := f.svc.UpdateAccountPasswordPolicy(f.root, &iam.UpdateAccountPasswordPolicyInput{AllowUsersToChangePassword: allow})
		f.must(err)
		for _, tc := range cases {
			want := tc.off
			if allow {
				want = tc.on
			}
			if got := azCode(f.authorize(tc.p, nil, tc.action, tc.form)); got != want {
				t.Errorf("AllowUsersToChangePassword=%v: %s %s = %q, want %q", allow, tc.p.ARN, tc.action, got, want)
			}
		}
	}
}
