#!/usr/bin/env bash
# Drives the account alias, GetAccountSummary and SetSecurityTokenServicePreferences with the
# stock aws CLI: every operation, their errors, and state read back after each refusal. AWS's
# rules: one alias per account, a new one overwriting the old (IAM User Guide, "Your AWS
# account ID and its alias"); "The account alias NAME already exists." (AWS's text quoted in
# aws-nuke issue 697); the pattern ^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$ (IAM API
# Reference, CreateAccountAlias), refused with IAM's own text (AWS's answer quoted in
# app-sre/qontract-schemas PR 824). Needs GATEHOUSE_ENDPOINT and root credentials in
# AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
set -euo pipefail

source "$(dirname "$0")/lib.sh"
# expect_message CODE TEXT aws-args...: the call fails with CODE and a message containing TEXT.
expect_message() {
  local code=$1 text=$2; shift 2
  if out=$(awsx "$@" 2>&1); then fail "aws $*: succeeded, want $code"; fi
  [[ "$out" == *"($code)"*"$text"* ]] || fail "aws $*: want $code with '$text', got: $out"
  echo "ok  error $code from $1 $2: $text"
}
aliases() { awsx iam list-account-aliases --query 'AccountAliases' | tr '\t' ' '; }
summary() { awsx iam get-account-summary --query "SummaryMap.$1"; }

# Aliases: none, one, overwritten, refused, deleted.
eq "no alias" "$(aliases)" ""
awsx iam create-account-alias --account-alias cli-first-alias
eq "create-account-alias" "$(aliases)" "cli-first-alias"
awsx iam create-account-alias --account-alias cli-second-alias
eq "a new alias overwrites the old" "$(aliases)" "cli-second-alias"
expect_message EntityAlreadyExists "The account alias cli-second-alias already exists." iam create-account-alias --account-alias cli-second-alias
invalid="The specified value for accountAlias is invalid. It must be a minimum length of 3 characters and maximum length of 63 characters, contain only digits, lowercase letters, and hyphens (-), but cannot begin or end with a hyphen."
expect_message ValidationError "$invalid" iam create-account-alias --account-alias Upper-Case
expect_message ValidationError "$invalid" iam create-account-alias --account-alias two--dashes
expect_message ValidationError "at 'accountAlias' failed to satisfy constraint: Member must have length less than or equal to 63" iam create-account-alias --account-alias "$(printf 'a%.0s' {1..64})"
expect_message ValidationError "cannot be a 12-digit number" iam create-account-alias --account-alias 123456789012
expect_message NoSuchEntity "The account alias cli-first-alias cannot be found." iam delete-account-alias --account-alias cli-first-alias
eq "refusals change nothing" "$(aliases)" "cli-second-alias"
eq "max-items 1" "$(awsx iam list-account-aliases --max-items 1 --query 'AccountAliases' | tr '\t' ' ')" "cli-second-alias"

# A user without policies is denied, and nothing changes.
awsx iam create-user --user-name cli-nobody >/dev/null
read -r ukey usecret < <(awsx iam create-access-key --user-name cli-nobody --query 'AccessKey.[AccessKeyId,SecretAccessKey]')
as_user() { AWS_ACCESS_KEY_ID=$ukey AWS_SECRET_ACCESS_KEY=$usecret "$@"; }
for args in "create-account-alias --account-alias cli-user-alias" "delete-account-alias --account-alias cli-second-alias" \
  "list-account-aliases" "get-account-summary" "set-security-token-service-preferences --global-endpoint-token-version v2Token"; do
  # shellcheck disable=SC2086
  if out=$(as_user awsx iam $args 2>&1); then fail "the user without policies ran $args"; fi
  [[ "$out" == *"(AccessDenied)"*"is not authorized to perform: iam:"* ]] || fail "$args as the user: $out"
  echo "ok  error AccessDenied for ${args%% *}"
done
eq "denied calls change the alias not" "$(aliases)" "cli-second-alias"
eq "denied calls change the token version not" "$(summary GlobalEndpointTokenVersion)" "1"

# The summary: true counts as entities appear.
eq "Users" "$(summary Users)" "1"
eq "quotas" "$(awsx iam get-account-summary --query 'SummaryMap.[UsersQuota,RolesQuota,GroupsQuota,PoliciesQuota,AccessKeysPerUserQuota,PolicySizeQuota]' | tr '\t' ' ')" \
  "5000 1000 300 1500 2 6144"
eq "root access key present" "$(summary AccountAccessKeysPresent)" "1"
eq "no AccountPasswordPresent without a root password" "$(summary AccountPasswordPresent)" "None"
awsx iam create-role --role-name cli-app --assume-role-policy-document \
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}' >/dev/null
awsx iam create-group --group-name cli-devs >/dev/null
arn=$(awsx iam create-policy --policy-name cli-read --policy-document \
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:Get*","Resource":"*"}]}' --query Policy.Arn)
awsx iam attach-group-policy --group-name cli-devs --policy-arn "$arn"
awsx iam attach-role-policy --role-name cli-app --policy-arn arn:aws:iam::aws:policy/ReadOnlyAccess
eq "counts" "$(awsx iam get-account-summary --query 'SummaryMap.[Users,Roles,Groups,Policies,PolicyVersionsInUse]' | tr '\t' ' ')" "1 1 1 1 2"
awsx iam create-virtual-mfa-device --virtual-mfa-device-name cli-phone --outfile "$tmp/qr.png" --bootstrap-method QRCodePNG >/dev/null
eq "MFADevices" "$(summary MFADevices)" "1"
eq "MFADevicesInUse" "$(summary MFADevicesInUse)" "0"

# SetSecurityTokenServicePreferences: the version GetAccountSummary shows.
awsx iam set-security-token-service-preferences --global-endpoint-token-version v2Token
eq "v2Token" "$(summary GlobalEndpointTokenVersion)" "2"
expect_message ValidationError "Member must satisfy enum value set: [v1Token, v2Token]" iam set-security-token-service-preferences --global-endpoint-token-version v3Token
eq "a refused version changes nothing" "$(summary GlobalEndpointTokenVersion)" "2"
awsx iam set-security-token-service-preferences --global-endpoint-token-version v1Token
eq "v1Token" "$(summary GlobalEndpointTokenVersion)" "1"

awsx iam delete-account-alias --account-alias cli-second-alias
eq "delete-account-alias" "$(aliases)" ""
echo "account flows passed"
