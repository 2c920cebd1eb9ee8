package iam

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gatehouse-iam/gatehouse/internal/totp"
)

// incorrect is the console's one answer for an unknown account, a root user without a
// password, and a wrong password.
const incorrect = "Your authentication information is incorrect. Please try again."

func (f *azFixture) signInRoot(account, pw string) (*SignedIn, error) {
	return f.svc.SignInRoot(context.Background(), RootSignIn{Account: account, Password: pw, SourceIP: "192.0.2.1"})
}

// TestRootPasswordRules: AWS's rules for the root user's password (AWS Account Management
// Reference Guide, creating an account: 8 to 128 characters, at least three of uppercase,
// lowercase, numbers and "! @ # $ % ^ & * () <> [] {} | _+-=" symbols, not the account's name
// or e-mail address, for which Gatehouse has the id and the alias). A refused password, or an
// unknown account, changes nothing.
func TestRootPasswordRules(t *testing.T) {
	f := pwFixture(t)
	_, err := f.svc.CreateAccountAlias(f.root, &iam.CreateAccountAliasInput{AccountAlias: aws.String("corp-42-prod")})
	f.must(err)
	for _, tc := range []struct {
		name, pw string
		rule     string // "" when accepted
	}{
		{"three classes", "Lowercase123", ""},
		{"lower, number and symbol", "lower-case-123", ""},
		{"angle brackets are root symbols", "Lower<case>x", ""},
		{"8 characters", "Abcdef1!", ""},
		{"128 characters", strings.Repeat("a", 125) + "A1-", ""},
		{"length counts characters, not bytes", strings.Repeat("ä", 125) + "A1-", ""},
		{"a space is allowed", "Correct horse 1", ""},
		{"7 characters", "Abcde1!", "it must have from 8 to 128 characters; this one has 7"},
		{"129 characters", strings.Repeat("a", 126) + "A1-", "it must have from 8 to 128 characters; this one has 129"},
		{"empty", "", "it must have from 8 to 128 characters; this one has 0"},
		{"one class", "alllowercase", "it must contain at least three of: uppercase letters (A to Z), lowercase letters (a to z), numbers (0 to 9) and the symbols ! @ # $ % ^ & * ( ) < > [ ] { } | _ + - ="},
		{"two classes", "lowercase123", "it must contain at least three of"},
		{"an apostrophe is not a root symbol", "Lower'case'x", "it must contain at least three of"},
		{"a tab", "Tab\tPassword1", "it must not contain control characters"},
		{"the alias", "corp-42-prod", "it must not be the account's id or alias"},
		{"the alias in upper case", "CORP-42-PROD", "it must not be the account's id or alias"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := f.svc.SetRootPassword(context.Background(), f.account, tc.pw)
			if tc.rule == "" {
				f.must(err)
				if _, err := f.signInRoot(f.account, tc.pw); err != nil {
					t.Fatalf("sign in with the new password: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrRootPasswordRules) || !strings.Contains(err.Error(), tc.rule) {
				t.Fatalf("got %v, want the rule %q", err, tc.rule)
			}
		})
	}
	// The last accepted password still signs in: refusals changed nothing.
	f.must(f.svc.SetRootPassword(context.Background(), f.account, "Root-pw-123"))
	if err := f.svc.SetRootPassword(context.Background(), f.account, "short"); !errors.Is(err, ErrRootPasswordRules) {
		t.Fatalf("a short password: %v", err)
	}
	if _, err := f.signInRoot(f.account, "Root-pw-123"); err != nil {
		t.Fatalf("after a refused password: %v", err)
	}
	for _, account := range []string{"000000000000", "not-an-id", ""} {
		if err := f.svc.SetRootPassword(context.Background(), account, "Root-pw-123"); !errors.Is(err, ErrNoSuchAccount) {
			t.Fatalf("account %q: %v", account, err)
		}
	}
}

// TestSignInRoot: SignInWithPassword's semantics for the root user: one console message for an
// unknown account, no password and a wrong password; the identity signed in; the limits per
// account root user and per source; the MFA step with a device enabled for the root user.
func TestSignInRoot(t *testing.T) {
	f := pwFixture(t)
	other := f.newAccount()
	if _, err := f.signInRoot(f.account, "Root-pw-123"); !isSignIn(err, SignInNoPassword) {
		t.Fatalf("before a password is set: %v", err)
	}
	f.must(f.svc.SetRootPassword(context.Background(), f.account, "Root-pw-123"))
	f.must(f.svc.SetRootPassword(context.Background(), other, "Other-pw-123"))
	for _, tc := range []struct {
		name, account, pw string
		want              SignInFailure
	}{
		{"unknown account", "000000000000", "Root-pw-123", SignInUnknownUser},
		{"not an account id", "corp", "Root-pw-123", SignInUnknownUser},
		{"wrong password", f.account, "Root-pw-124", SignInWrongPassword},
		{"password of another case", f.account, "root-PW-123", SignInWrongPassword},
		{"another account's password", f.account, "Other-pw-123", SignInWrongPassword},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.signInRoot(tc.account, tc.pw)
			if !isSignIn(err, tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if msg := err.(*SignInError).Message(); msg != incorrect {
				t.Fatalf("console message %q", msg)
			}
		})
	}
	in, err := f.signInRoot(f.account, "Root-pw-123")
	f.must(err)
	if *in != (SignedIn{UserID: f.account, ARN: "arn:aws:iam::" + f.account + ":root"}) {
		t.Fatalf("SignedIn = %+v", in)
	}
	// A new password replaces the old one.
	f.must(f.svc.SetRootPassword(context.Background(), f.account, "Root-pw-456"))
	if _, err := f.signInRoot(f.account, "Root-pw-123"); !isSignIn(err, SignInWrongPassword) {
		t.Fatalf("the replaced password: %v", err)
	}
	f.must2(f.signInRoot(f.account, "Root-pw-456"))

	// Per account root user: 5 free failures, then 1 s doubling; the right password is
	// refused while it lasts, another account's root user and the account's IAM users are not.
	f.user("erin", "")
	f.createProfile("erin", "Erin-pw-1")
	for range 6 {
		f.signInRoot(f.account, "bad")
	}
	_, err = f.signInRoot(f.account, "Root-pw-456")
	var se *SignInError
	if !errors.As(err, &se) || se.Reason != SignInThrottled || se.RetryAfter != time.Second || !strings.Contains(se.Message(), "1 second.") {
		t.Fatalf("while throttled: %v", err)
	}
	f.must2(f.signInRoot(other, "Other-pw-123"))
	f.must2(f.signIn("erin", "Erin-pw-1"))
	f.now = f.now.Add(time.Second)
	f.must2(f.signInRoot(f.account, "Root-pw-456"))
	// Per source: 20 free failures from one address over any accounts, then it waits.
	for i := range 21 {
		f.svc.SignInRoot(context.Background(), RootSignIn{Account: strings.Repeat("0", 11) + string(rune('0'+i%10)), Password: "x", SourceIP: "203.0.113.9"})
	}
	if _, err := f.svc.SignInRoot(context.Background(), RootSignIn{Account: f.account, Password: "Root-pw-456", SourceIP: "203.0.113.9"}); !isSignIn(err, SignInThrottled) {
		t.Fatalf("from the guessing address: %v", err)
	}
	f.must2(f.signInRoot(f.account, "Root-pw-456"))

	// MFA: a device enabled for the root user asks for a code (not a failure).
	device := func(name string) (string, []byte) {
		out, err := f.svc.CreateVirtualMFADevice(f.root, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String(name)})
		f.must(err)
		seed, err := totp.DecodeSeed(string(out.VirtualMFADevice.Base32StringSeed))
		f.must(err)
		return *out.VirtualMFADevice.SerialNumber, seed
	}
	rootSerial, rootSeed := device("root-phone")
	erinSerial, erinSeed := device("erin-phone")
	step := mfaCode.Step(f.now)
	f.must(f.svc.EnableRootMFADevice(f.root, f.account, rootSerial, mfaCode.CodeAt(rootSeed, step-1), mfaCode.CodeAt(rootSeed, step)))
	_, err = f.svc.EnableMFADevice(f.root, &iam.EnableMFADeviceInput{UserName: aws.String("erin"), SerialNumber: aws.String(erinSerial),
		AuthenticationCode1: aws.String(mfaCode.CodeAt(erinSeed, step-1)), AuthenticationCode2: aws.String(mfaCode.CodeAt(erinSeed, step))})
	f.must(err)
	_, err = f.signInRoot(f.account, "Root-pw-456")
	if !isSignIn(err, SignInMFARequired) || err.(*SignInError).Message() != "Enter the code from your MFA device." {
		t.Fatalf("without a code: %v", err)
	}
	withCode := func(serial, code string) (*SignedIn, error) {
		return f.svc.SignInRoot(context.Background(), RootSignIn{Account: f.account, Password: "Root-pw-456", MFACode: code, MFASerialNumber: serial, SourceIP: "192.0.2.1"})
	}
	f.now = f.now.Add(30 * time.Second)
	if _, err := withCode("", mfaCode.CodeAt(rootSeed, step)); !isSignIn(err, SignInWrongMFACode) {
		t.Fatalf("a used code: %v", err)
	}
	if _, err := withCode(erinSerial, mfaCode.Code(erinSeed, f.now)); !isSignIn(err, SignInWrongMFACode) {
		t.Fatalf("a code of a user's device: %v", err)
	}
	if _, err := withCode("", "12345"); !isSignIn(err, SignInWrongMFACode) {
		t.Fatalf("a malformed code: %v", err)
	}
	in, err = withCode(rootSerial, mfaCode.Code(rootSeed, f.now))
	f.must(err)
	if !in.MFA || in.ARN != "arn:aws:iam::"+f.account+":root" {
		t.Fatalf("signed in with a code: %+v", in)
	}
	// A wrong password is a wrong password, before any code is asked for.
	if _, err := f.signInRoot(f.account, "bad"); !isSignIn(err, SignInWrongPassword) {
		t.Fatalf("wrong password with MFA enabled: %v", err)
	}
}

// must2 fails the test on a call's error.
func (f *azFixture) must2(_ *SignedIn, err error) {
	f.t.Helper()
	f.must(err)
}

// TestAccountForSignIn: a sign-in page's account, named by its id or its alias (in any case);
// an id that is no account, an alias that is none, and garbage are not found.
func TestAccountForSignIn(t *testing.T) {
	f := pwFixture(t)
	alias, err := f.svc.AccountAlias(context.Background(), f.account)
	f.must(err)
	if alias != "" {
		t.Fatalf("alias before one is created = %q", alias)
	}
	_, err = f.svc.CreateAccountAlias(f.root, &iam.CreateAccountAliasInput{AccountAlias: aws.String("corp-prod")})
	f.must(err)
	alias, err = f.svc.AccountAlias(context.Background(), f.account)
	f.must(err)
	if alias != "corp-prod" {
		t.Fatalf("alias = %q, want corp-prod", alias)
	}
	other := f.newAccount()
	for _, tc := range []struct {
		in, want string
	}{
		{f.account, f.account},
		{other, other},
		{"corp-prod", f.account},
		{"Corp-Prod", f.account},
		{"000000000000", ""},
		{"corp-test", ""},
		{"", ""},
		{"a", ""},
		{"../" + f.account, ""},
		{strings.Repeat("a", 100), ""},
	} {
		got, ok, err := f.svc.AccountForSignIn(context.Background(), tc.in)
		f.must(err)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("AccountForSignIn(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
}
