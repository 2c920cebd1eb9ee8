package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	iamsvc "github.com/gatehouse-iam/gatehouse/internal/iam"
)

// TestTerraformPasswords applies aws_iam_user_login_profile with the provider's defaults (it
// generates a 20-character password with every character class and sends it with
// CreateLoginProfile) and aws_iam_account_password_policy, re-plans expecting no changes,
// checks that the generated password signs in, and destroys both. The policy is strict enough
// that the provider's password must satisfy every rule of it.
func TestTerraformPasswords(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tf := newTerraform(t, e)
	tf.write(`
resource "aws_iam_account_password_policy" "strict" {
  minimum_password_length        = 14
  require_lowercase_characters   = true
  require_uppercase_characters   = true
  require_numbers                = true
  require_symbols                = true
  allow_users_to_change_password = true
  max_password_age               = 90
  password_reuse_prevention      = 5
  hard_expiry                    = false
}
resource "aws_iam_user" "pw" { name = "tf-pw" }
resource "aws_iam_user_login_profile" "pw" {
  user       = aws_iam_user.pw.name
  depends_on = [aws_iam_account_password_policy.strict]
}
output "password" {
  value     = aws_iam_user_login_profile.pw.password
  sensitive = true
}
`)
	tf.must("init")
	tf.must("apply", "-auto-approve")
	if code, out := tf.run("plan", "-detailed-exitcode"); code != 0 {
		t.Fatalf("plan after apply exited %d, want 0 (no drift):\n%s", code, out)
	}
	ctx := context.Background()
	pp, err := e.IAM.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
	pmOK(t, err)
	if p := pp.PasswordPolicy; aws.ToInt32(p.MinimumPasswordLength) != 14 || aws.ToInt32(p.PasswordReusePrevention) != 5 || aws.ToInt32(p.MaxPasswordAge) != 90 || !p.ExpirePasswords {
		t.Fatalf("the applied policy reads back as %+v", p)
	}
	pw := strings.TrimSpace(tf.must("output", "-raw", "password"))
	if len(pw) != 20 {
		t.Fatalf("the provider's password has %d characters, want its default 20", len(pw))
	}
	if _, err := e.app.IAM.SignInWithPassword(ctx, iamsvc.PasswordSignIn{Account: e.Account, UserName: "tf-pw", Password: pw, SourceIP: "127.0.0.1"}); err != nil {
		t.Fatalf("the generated password does not sign in: %v", err)
	}

	tf.must("destroy", "-auto-approve")
	_, err = e.IAM.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
	pmErr(t, err, "NoSuchEntity", "")
	_, err = e.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("tf-pw")})
	pmErr(t, err, "NoSuchEntity", "")
}
