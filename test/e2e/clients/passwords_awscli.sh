#!/usr/bin/env bash
# Drives console passwords and the account password policy with the stock aws CLI: every
# operation, their errors, and state read back after each refusal. AWS's texts as LocalStack
# recorded them against AWS (tests/aws/services/iam/test_iam_users.snapshot.json,
# test_iam_account_password_policy.snapshot.json). Needs GATEHOUSE_ENDPOINT and root
# credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
set -euo pipefail

source "$(dirname "$0")/lib.sh"
account=$(awsx sts get-caller-identity --query Account)
# as_user aws-args...: runs the CLI with the user's key.
as_user() { AWS_ACCESS_KEY_ID=$ukey AWS_SECRET_ACCESS_KEY=$usecret "$@"; }
# expect_message CODE TEXT aws-args...: the call fails with CODE and a message containing TEXT.
expect_message() {
  local code=$1 text=$2; shift 2
  if out=$(awsx "$@" 2>&1); then fail "aws $*: succeeded, want $code"; fi
  [[ "$out" == *"($code)"*"$text"* ]] || fail "aws $*: want $code with '$text', got: $out"
  echo "ok  error $code from $1 $2: $text"
}

# No policy yet.
expect_message NoSuchEntity "The Password Policy with domain name $account cannot be found." iam get-account-password-policy
expect_message NoSuchEntity "The account policy with name PasswordPolicy cannot be found." iam delete-account-password-policy
expect_message ValidationError "maxPasswordAge" iam update-account-password-policy --max-password-age 1096
expect_error NoSuchEntity iam get-account-password-policy

awsx iam update-account-password-policy --minimum-password-length 12 --require-uppercase-characters --require-numbers \
  --password-reuse-prevention 3 --max-password-age 30 --hard-expiry --allow-users-to-change-password
eq "policy" "$(awsx iam get-account-password-policy --query 'PasswordPolicy.[MinimumPasswordLength,RequireUppercaseCharacters,RequireLowercaseCharacters,RequireNumbers,RequireSymbols,PasswordReusePrevention,MaxPasswordAge,ExpirePasswords,HardExpiry,AllowUsersToChangePassword]' | tr '\t' ' ')" \
  "12 True False True False 3 30 True True True"

awsx iam create-user --user-name cli-pw >/dev/null
read -r ukey usecret < <(awsx iam create-access-key --user-name cli-pw --query 'AccessKey.[AccessKeyId,SecretAccessKey]')
expect_message PasswordPolicyViolation "it must have at least 12 characters" iam create-login-profile --user-name cli-pw --password 'Short1x'
expect_message PasswordPolicyViolation "uppercase character" iam create-login-profile --user-name cli-pw --password 'no-uppercase-12'
expect_message NoSuchEntity "The user with name cli-nobody cannot be found." iam create-login-profile --user-name cli-nobody --password 'Long-enough-123'
expect_message NoSuchEntity "Login Profile for User cli-pw cannot be found." iam get-login-profile --user-name cli-pw

eq "create-login-profile" "$(awsx iam create-login-profile --user-name cli-pw --password 'First-pass-123' --password-reset-required --query 'LoginProfile.[UserName,PasswordResetRequired]' | tr '\t' ' ')" "cli-pw True"
expect_message EntityAlreadyExists "Login Profile for user cli-pw already exists." iam create-login-profile --user-name cli-pw --password 'Other-pass-123'
expect_message DeleteConflict "Cannot delete entity, must delete login profile first." iam delete-user --user-name cli-pw
eq "get-login-profile" "$(awsx iam get-login-profile --user-name cli-pw --query 'LoginProfile.PasswordResetRequired')" "True"

# change-password by the user itself, allowed by the account-level grant; --cli-input-json as
# the CLI's own example recommends for passwords.
change() { printf '{"OldPassword":"%s","NewPassword":"%s"}' "$1" "$2" >"$tmp/cp.json"; as_user awsx iam change-password --cli-input-json "file://$tmp/cp.json"; }
if out=$(change 'Wrong-pass-123' 'Second-pass-123' 2>&1); then fail "a wrong old password was accepted"; fi
[[ "$out" == *"(AccessDenied)"*"The old password is incorrect."* ]] || fail "wrong old password: $out"
echo "ok  error AccessDenied for a wrong old password"
if out=$(change 'First-pass-123' 'First-pass-123' 2>&1); then fail "the current password was accepted again"; fi
[[ "$out" == *"(PasswordPolicyViolation)"*"3 most recent passwords"* ]] || fail "reuse: $out"
echo "ok  error PasswordPolicyViolation for a reused password"
eq "profile unchanged by refused changes" "$(awsx iam get-login-profile --user-name cli-pw --query 'LoginProfile.PasswordResetRequired')" "True"
change 'First-pass-123' 'Second-pass-123'
echo "ok  change-password"
eq "change-password clears PasswordResetRequired" "$(awsx iam get-login-profile --user-name cli-pw --query 'LoginProfile.PasswordResetRequired')" "False"
expect_message InvalidUserType "Only IAM users" iam change-password --old-password 'Second-pass-123' --new-password 'Third-pass-123'
eq "the user reads the password policy" "$(as_user awsx iam get-account-password-policy --query 'PasswordPolicy.MinimumPasswordLength')" "12"
if out=$(as_user awsx iam get-login-profile 2>&1); then fail "the grant let the user call GetLoginProfile"; fi
[[ "$out" == *"(AccessDenied)"* ]] || fail "get-login-profile as the user: $out"
echo "ok  the account-level grant covers ChangePassword and GetAccountPasswordPolicy only"

# update-login-profile: the flag, then a password; a weak one changes nothing.
awsx iam update-login-profile --user-name cli-pw --password-reset-required
eq "update-login-profile --password-reset-required" "$(awsx iam get-login-profile --user-name cli-pw --query 'LoginProfile.PasswordResetRequired')" "True"
expect_message PasswordPolicyViolation "at least 12 characters" iam update-login-profile --user-name cli-pw --password 'Tiny1'
awsx iam update-login-profile --user-name cli-pw --password 'Fourth-pass-123' --no-password-reset-required
eq "update-login-profile --no-password-reset-required" "$(awsx iam get-login-profile --user-name cli-pw --query 'LoginProfile.PasswordResetRequired')" "False"
change 'Fourth-pass-123' 'Fifth-pass-123'
echo "ok  the administrator's new password is the user's current one"

# Without the grant the user needs a policy.
awsx iam update-account-password-policy --minimum-password-length 12
if out=$(change 'Fifth-pass-123' 'Sixth-pass-123' 2>&1); then fail "change-password without permission"; fi
[[ "$out" == *"(AccessDenied)"*"iam:ChangePassword"* ]] || fail "change-password without the grant: $out"
echo "ok  error AccessDenied for change-password without the grant"
awsx iam attach-user-policy --user-name cli-pw --policy-arn arn:aws:iam::aws:policy/IAMUserChangePassword
change 'Fifth-pass-123' 'Sixth-pass-123'
echo "ok  change-password with IAMUserChangePassword"

# Clean up.
awsx iam delete-login-profile --user-name cli-pw
expect_message NoSuchEntity "Login Profile for User cli-pw cannot be found." iam delete-login-profile --user-name cli-pw
awsx iam detach-user-policy --user-name cli-pw --policy-arn arn:aws:iam::aws:policy/IAMUserChangePassword
awsx iam delete-access-key --user-name cli-pw --access-key-id "$ukey"
awsx iam delete-user --user-name cli-pw
awsx iam delete-account-password-policy
expect_error NoSuchEntity iam get-account-password-policy
echo "PASS passwords aws-cli"
