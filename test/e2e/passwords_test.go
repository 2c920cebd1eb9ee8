package e2e

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	iamsvc "github.com/gatehouse-iam/gatehouse/internal/iam"
)

// TestPasswords drives console passwords and the account password policy through
// aws-sdk-go-v2: every operation, its errors (AWS's texts as LocalStack recorded them against
// AWS, tests/aws/services/iam/test_iam_users.snapshot.json and
// test_iam_account_password_policy.snapshot.json), state read back after each refusal, the
// account-level AllowUsersToChangePassword grant and the IAMUserChangePassword managed policy,
// and the console's Go sign-in API recording PasswordLastUsed.
func TestPasswords(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	must := pmMust[*iam.GetLoginProfileOutput](t)

	// No policy yet.
	_, err := e.IAM.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
	pmErr(t, err, "NoSuchEntity", "The Password Policy with domain name "+e.Account+" cannot be found.")
	_, err = e.IAM.DeleteAccountPasswordPolicy(ctx, &iam.DeleteAccountPasswordPolicyInput{})
	pmErr(t, err, "NoSuchEntity", "The account policy with name PasswordPolicy cannot be found.")
	// The model's ranges (LocalStack's recording: "Value at 'minimumPasswordLength' failed to
	// satisfy constraint: Member must have value less than or equal to 128").
	_, err = e.IAM.UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{MinimumPasswordLength: aws.Int32(129)})
	pmErr(t, err, "ValidationError", "minimumPasswordLength")
	_, err = e.IAM.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
	pmErr(t, err, "NoSuchEntity", "")

	alice, _ := e.newUser(t, "alice")
	// With no policy, AWS's default one applies: 8 characters, three classes.
	_, err = e.IAM.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("alllowercase")})
	pmErr(t, err, "PasswordPolicyViolation", "Password does not conform to the account password policy")
	_, err = e.IAM.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("alice")})
	pmErr(t, err, "NoSuchEntity", "Login Profile for User alice cannot be found.")

	pmOK(t, ignore(e.IAM.UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{
		MinimumPasswordLength: aws.Int32(10), RequireNumbers: true, RequireSymbols: true, PasswordReusePrevention: aws.Int32(2),
		MaxPasswordAge: aws.Int32(90), AllowUsersToChangePassword: true,
	})))
	pp, err := e.IAM.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
	pmOK(t, err)
	if p := pp.PasswordPolicy; aws.ToInt32(p.MinimumPasswordLength) != 10 || !p.RequireNumbers || !p.RequireSymbols || p.RequireUppercaseCharacters ||
		aws.ToInt32(p.PasswordReusePrevention) != 2 || aws.ToInt32(p.MaxPasswordAge) != 90 || !p.ExpirePasswords || !p.AllowUsersToChangePassword || p.HardExpiry != nil {
		t.Fatalf("GetAccountPasswordPolicy = %+v", p)
	}

	for _, tc := range []pmCase{
		{"too short", "PasswordPolicyViolation", "it must have at least 10 characters", func() error {
			return ignore(e.IAM.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("short1!")}))
		}},
		{"no symbol", "PasswordPolicyViolation", "non-alphanumeric characters", func() error {
			return ignore(e.IAM.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("longenough1")}))
		}},
		{"unknown user", "NoSuchEntity", "The user with name nobody cannot be found.", func() error {
			return ignore(e.IAM.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("nobody"), Password: aws.String("long-enough-1")}))
		}},
		{"alice may not create her own", "AccessDenied", "is not authorized to perform: iam:CreateLoginProfile", func() error {
			return ignore(alice.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{Password: aws.String("long-enough-1")}))
		}},
	} {
		pmErr(t, tc.call(), tc.code, tc.msg)
		_, err := e.IAM.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("alice")})
		pmErr(t, err, "NoSuchEntity", "Login Profile for User alice cannot be found.")
	}

	created, err := e.IAM.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("first-pass-1"), PasswordResetRequired: true})
	pmOK(t, err)
	if aws.ToString(created.LoginProfile.UserName) != "alice" || !created.LoginProfile.PasswordResetRequired || created.LoginProfile.CreateDate == nil {
		t.Fatalf("CreateLoginProfile = %+v", created.LoginProfile)
	}
	_, err = e.IAM.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("other-pass-1")})
	pmErr(t, err, "EntityAlreadyExists", "Login Profile for user alice already exists.")
	_, err = e.IAM.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")})
	pmErr(t, err, "DeleteConflict", "Cannot delete entity, must delete login profile first.")
	// alice reads her own profile with the account-level grant? No: it covers ChangePassword
	// and GetAccountPasswordPolicy only.
	_, err = alice.GetLoginProfile(ctx, &iam.GetLoginProfileInput{})
	pmErr(t, err, "AccessDenied", "iam:GetLoginProfile")
	_, err = alice.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
	pmOK(t, err)

	// ChangePassword by alice herself, allowed by AllowUsersToChangePassword alone.
	change := func(c *iam.Client, old, new string) error {
		return ignore(c.ChangePassword(ctx, &iam.ChangePasswordInput{OldPassword: aws.String(old), NewPassword: aws.String(new)}))
	}
	signIn := func(pw string) error {
		_, err := e.app.IAM.SignInWithPassword(ctx, iamsvc.PasswordSignIn{Account: e.Account, UserName: "alice", Password: pw, SourceIP: "127.0.0.1"})
		return err
	}
	for _, tc := range []pmCase{
		{"wrong old password", "AccessDenied", "The old password is incorrect.", func() error { return change(alice, "first-pass-0", "second-pass-2") }},
		{"the current password again", "PasswordPolicyViolation", "2 most recent passwords", func() error { return change(alice, "first-pass-1", "first-pass-1") }},
		{"a weak new password", "PasswordPolicyViolation", "at least 10 characters", func() error { return change(alice, "first-pass-1", "x-1") }},
		// aws-cli's change-password example: root credentials get InvalidUserType.
		{"root", "InvalidUserType", "Only IAM users", func() error { return change(e.IAM, "first-pass-1", "second-pass-2") }},
	} {
		pmErr(t, tc.call(), tc.code, tc.msg)
		pmOK(t, signIn("first-pass-1"))
	}
	pmOK(t, change(alice, "first-pass-1", "second-pass-2"))
	if got := must(e.IAM.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("alice")})); got.LoginProfile.PasswordResetRequired {
		t.Fatal("ChangePassword left PasswordResetRequired set")
	}
	var se *iamsvc.SignInError
	if err := signIn("first-pass-1"); !errors.As(err, &se) || se.Reason != iamsvc.SignInWrongPassword {
		t.Fatalf("the old password signs in: %v", err)
	}
	pmOK(t, signIn("second-pass-2"))
	u, err := e.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("alice")})
	pmOK(t, err)
	if u.User.PasswordLastUsed == nil || time.Since(*u.User.PasswordLastUsed) > time.Minute {
		t.Fatalf("GetUser PasswordLastUsed = %v", u.User.PasswordLastUsed)
	}
	users, err := e.IAM.ListUsers(ctx, &iam.ListUsersInput{})
	pmOK(t, err)
	if len(users.Users) != 1 || users.Users[0].PasswordLastUsed == nil {
		t.Fatalf("ListUsers = %+v", users.Users)
	}

	// Without the account-level grant, only a policy allows it: the AWS managed
	// IAMUserChangePassword (ChangePassword on the user itself, GetAccountPasswordPolicy).
	pmOK(t, ignore(e.IAM.UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{MinimumPasswordLength: aws.Int32(10)})))
	pmErr(t, change(alice, "second-pass-2", "third-pass-3"), "AccessDenied", "iam:ChangePassword")
	_, err = alice.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
	pmErr(t, err, "AccessDenied", "iam:GetAccountPasswordPolicy")
	pmOK(t, signIn("second-pass-2"))
	pmOK(t, ignore(e.IAM.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String("arn:aws:iam::aws:policy/IAMUserChangePassword")})))
	pmOK(t, change(alice, "second-pass-2", "third-pass-3"))
	_, err = alice.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
	pmOK(t, err)

	// UpdateLoginProfile by the administrator: the flag alone, then a password.
	pmOK(t, ignore(e.IAM.UpdateLoginProfile(ctx, &iam.UpdateLoginProfileInput{UserName: aws.String("alice"), PasswordResetRequired: aws.Bool(true)})))
	if got := must(e.IAM.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("alice")})); !got.LoginProfile.PasswordResetRequired {
		t.Fatal("UpdateLoginProfile did not set PasswordResetRequired")
	}
	_, err = e.IAM.UpdateLoginProfile(ctx, &iam.UpdateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("tiny")})
	pmErr(t, err, "PasswordPolicyViolation", "at least 10 characters")
	pmOK(t, signIn("third-pass-3"))
	pmOK(t, ignore(e.IAM.UpdateLoginProfile(ctx, &iam.UpdateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("fourth-pass-4")})))
	pmOK(t, signIn("fourth-pass-4"))
	_, err = e.IAM.UpdateLoginProfile(ctx, &iam.UpdateLoginProfileInput{UserName: aws.String("nobody"), PasswordResetRequired: aws.Bool(true)})
	pmErr(t, err, "NoSuchEntity", "The user with name nobody cannot be found.")

	// Delete everything.
	pmOK(t, ignore(e.IAM.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String("alice")})))
	_, err = e.IAM.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String("alice")})
	pmErr(t, err, "NoSuchEntity", "Login Profile for User alice cannot be found.")
	if err := signIn("fourth-pass-4"); !errors.As(err, &se) || se.Reason != iamsvc.SignInNoPassword {
		t.Fatalf("sign-in after DeleteLoginProfile: %v", err)
	}
	pmOK(t, ignore(e.IAM.DeleteAccountPasswordPolicy(ctx, &iam.DeleteAccountPasswordPolicyInput{})))
	_, err = e.IAM.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
	pmErr(t, err, "NoSuchEntity", "cannot be found.")
}

// TestPasswordsChangeLimit: wrong old passwords to ChangePassword count toward the user's
// sign-in limit: after 5 free ones each blocks the user, and then even the right password gets
// LimitExceeded (one of ChangePassword's documented errors) and changes nothing; the console
// sign-in of that user waits too.
func TestPasswordsChangeLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	bob, _ := e.newUser(t, "bob")
	pmOK(t, ignore(e.IAM.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String("arn:aws:iam::aws:policy/IAMUserChangePassword")})))
	pmOK(t, ignore(e.IAM.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("bob"), Password: aws.String("Bob-pass-1!")})))
	for range 6 {
		_, err := bob.ChangePassword(ctx, &iam.ChangePasswordInput{OldPassword: aws.String("Bob-pass-0!"), NewPassword: aws.String("Bob-pass-2!")})
		pmErr(t, err, "AccessDenied", "The old password is incorrect.")
	}
	_, err := bob.ChangePassword(ctx, &iam.ChangePasswordInput{OldPassword: aws.String("Bob-pass-1!"), NewPassword: aws.String("Bob-pass-2!")})
	pmErr(t, err, "LimitExceeded", "Too many wrong passwords for user bob; try again in 1 second.")
	var se *iamsvc.SignInError
	_, err = e.app.IAM.SignInWithPassword(ctx, iamsvc.PasswordSignIn{Account: e.Account, UserName: "bob", Password: "Bob-pass-1!", SourceIP: "127.0.0.1"})
	if !errors.As(err, &se) || se.Reason != iamsvc.SignInThrottled {
		t.Fatalf("sign-in while bob is blocked: %v", err)
	}
	time.Sleep(se.RetryAfter)
	// Nothing changed: the old password is still the one.
	if _, err := e.app.IAM.SignInWithPassword(ctx, iamsvc.PasswordSignIn{Account: e.Account, UserName: "bob", Password: "Bob-pass-1!", SourceIP: "127.0.0.1"}); err != nil {
		t.Fatalf("sign-in after the back-off: %v", err)
	}
	pmOK(t, ignore(bob.ChangePassword(ctx, &iam.ChangePasswordInput{OldPassword: aws.String("Bob-pass-1!"), NewPassword: aws.String("Bob-pass-2!")})))
}

// ignore drops an operation's output, for calls checked only for their error.
func ignore[T any](_ T, err error) error { return err }

// benchPasswordUsers creates n users for the password benchmarks, with access keys when keys.
func benchPasswordUsers(b *testing.B, e *env, prefix string, n int, keys bool) []*iam.Client {
	b.Helper()
	ctx := context.Background()
	var clients []*iam.Client
	for i := range n {
		name := fmt.Sprintf("%s%d", prefix, i)
		if _, err := e.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
			b.Fatal(err)
		}
		if !keys {
			continue
		}
		k, err := e.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
		if err != nil {
			b.Fatal(err)
		}
		c, _ := e.clients(aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey), "")
		clients = append(clients, c)
	}
	return clients
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportRate reports req/s and the CPU time per request. Server and client share the process;
// the client's part (signing, XML) is small beside the server's argon2id.
func reportRate(b *testing.B, start time.Time, cpu0 time.Duration) {
	elapsed, cpu := time.Since(start), cpuTime(b)-cpu0
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/req")
}

// BenchmarkCreateLoginProfile measures CreateLoginProfile over loopback HTTP with
// aws-sdk-go-v2, one argon2id hash each, with as many clients as cores.
func BenchmarkCreateLoginProfile(b *testing.B) {
	e := benchEnv(b)
	benchPasswordUsers(b, e, "clp", b.N, false)
	ctx := context.Background()
	var next atomic.Int64
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			name := fmt.Sprintf("clp%d", next.Add(1)-1)
			if _, err := e.IAM.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String(name), Password: aws.String("Bench-pass-1!")}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportRate(b, start, cpu0)
}

// BenchmarkChangePassword measures ChangePassword over loopback HTTP with aws-sdk-go-v2: two
// argon2id computations each (the old password checked, the new one hashed), one user per
// client, as many clients as cores.
func BenchmarkChangePassword(b *testing.B) {
	e := benchEnv(b)
	ctx := context.Background()
	if _, err := e.IAM.UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{AllowUsersToChangePassword: true}); err != nil {
		b.Fatal(err)
	}
	clients := benchPasswordUsers(b, e, "cp", 16, true)
	for i := range clients {
		if _, err := e.IAM.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String(fmt.Sprintf("cp%d", i)), Password: aws.String("Bench-pass-0!")}); err != nil {
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime(b)
	b.RunParallel(func(pb *testing.PB) {
		c := clients[next.Add(1)-1]
		pw := []string{"Bench-pass-0!", "Bench-pass-1!"}
		for i := 0; pb.Next(); i++ {
			if _, err := c.ChangePassword(ctx, &iam.ChangePasswordInput{OldPassword: aws.String(pw[i%2]), NewPassword: aws.String(pw[(i+1)%2])}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportRate(b, start, cpu0)
}
