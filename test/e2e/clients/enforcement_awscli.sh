#!/usr/bin/env bash
# Checks with the stock aws CLI that Gatehouse enforces IAM policies: a user without policies
# can do nothing (get-user on itself included), a read-only user cannot write, an explicit Deny
# on one user beats AdministratorAccess, and a permissions boundary caps AdministratorAccess.
# Denied requests answer AccessDenied with AWS's message and change nothing. Needs
# GATEHOUSE_ENDPOINT and root credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
set -euo pipefail

source "$(dirname "$0")/lib.sh"
# as_user NAME aws-args...: runs the CLI with the access key made for user NAME.
as_user() {
  local name=$1; shift
  AWS_ACCESS_KEY_ID=${keys[$name]% *} AWS_SECRET_ACCESS_KEY=${keys[$name]#* } "$@"
}
# denied NAME MESSAGE aws-args...: the call as user NAME must fail with AccessDenied and
# AWS's message MESSAGE.
denied() {
  local name=$1 msg=$2; shift 2
  local out
  if out=$(as_user "$name" awsx "$@" 2>&1); then fail "$name: aws $*: succeeded, want AccessDenied"; fi
  [[ "$out" == *"(AccessDenied)"* ]] || fail "$name: aws $*: want AccessDenied, got: $out"
  # AWS's message alone: IAM appends no encoded authorization message.
  [[ "$out" == *": $msg" ]] || fail "$name: aws $*: message: $out
want: $msg"
  echo "ok  $name: $1 $2 denied"
}
allowed() { # allowed NAME aws-args...
  local name=$1; shift
  as_user "$name" awsx "$@" >/dev/null || fail "$name: aws $* failed"
  echo "ok  $name: $1 $2 allowed"
}

account=$(awsx sts get-caller-identity --query Account)
arn() { echo "arn:aws:iam::$account:user/$1"; }
readonly_arn=arn:aws:iam::aws:policy/IAMReadOnlyAccess
admin_arn=arn:aws:iam::aws:policy/AdministratorAccess

declare -A keys
for u in cli-nobody cli-reader cli-admin cli-capped; do
  awsx iam create-user --user-name "$u" >/dev/null
  keys[$u]=$(awsx iam create-access-key --user-name "$u" --query 'AccessKey.[AccessKeyId,SecretAccessKey]' | tr '\t' ' ')
done
for u in cli-bob cli-carol; do awsx iam create-user --user-name "$u" >/dev/null; done
users_before=$(awsx iam list-users --query 'Users[].UserName' | tr '\t' '\n' | sort | tr '\n' ' ')

# A user with no policies can do nothing, not even get-user on itself; it can still ask STS
# who it is.
denied cli-nobody "User: $(arn cli-nobody) is not authorized to perform: iam:GetUser on resource: user cli-nobody because no identity-based policy allows the iam:GetUser action" \
  iam get-user
eq "get-caller-identity without policies" "$(as_user cli-nobody awsx sts get-caller-identity --query Arn)" "$(arn cli-nobody)"

# A read-only user reads but cannot write.
awsx iam attach-user-policy --user-name cli-reader --policy-arn "$readonly_arn"
allowed cli-reader iam list-users
allowed cli-reader iam get-user --user-name cli-bob
allowed cli-reader iam list-attached-user-policies --user-name cli-reader
denied cli-reader "User: $(arn cli-reader) is not authorized to perform: iam:CreateUser on resource: $(arn cli-eve) because no identity-based policy allows the iam:CreateUser action" \
  iam create-user --user-name cli-eve
denied cli-reader "User: $(arn cli-reader) is not authorized to perform: iam:DeleteUser on resource: user cli-bob because no identity-based policy allows the iam:DeleteUser action" \
  iam delete-user --user-name cli-bob
denied cli-reader "User: $(arn cli-reader) is not authorized to perform: iam:AttachUserPolicy on resource: user cli-reader because no identity-based policy allows the iam:AttachUserPolicy action" \
  iam attach-user-policy --user-name cli-reader --policy-arn "$admin_arn"
eq "reader's policies after the denied attach" "$(awsx iam list-attached-user-policies --user-name cli-reader --query 'AttachedPolicies[].PolicyArn')" "$readonly_arn"

# An explicit Deny on one user beats AdministratorAccess.
awsx iam attach-user-policy --user-name cli-admin --policy-arn "$admin_arn"
cat >"$tmp/deny.json" <<JSON
{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"$(arn cli-bob)"}]}
JSON
awsx iam put-user-policy --user-name cli-admin --policy-name protect-bob --policy-document "file://$tmp/deny.json"
denied cli-admin "User: $(arn cli-admin) is not authorized to perform: iam:DeleteUser on resource: user cli-bob with an explicit deny in an identity-based policy" \
  iam delete-user --user-name cli-bob
denied cli-admin "User: $(arn cli-admin) is not authorized to perform: iam:TagUser on resource: user cli-bob with an explicit deny in an identity-based policy" \
  iam tag-user --user-name cli-bob --tags Key=k,Value=v
allowed cli-admin iam tag-user --user-name cli-carol --tags Key=k,Value=v
eq "bob's tags after the denied tag-user" "$(awsx iam list-user-tags --user-name cli-bob --query 'length(Tags)')" "0"

# A permissions boundary caps AdministratorAccess.
awsx iam attach-user-policy --user-name cli-capped --policy-arn "$admin_arn"
awsx iam put-user-permissions-boundary --user-name cli-capped --permissions-boundary "$readonly_arn"
allowed cli-capped iam list-users
denied cli-capped "User: $(arn cli-capped) is not authorized to perform: iam:CreateUser on resource: $(arn cli-eve) because no permissions boundary allows the iam:CreateUser action" \
  iam create-user --user-name cli-eve
denied cli-capped "User: $(arn cli-capped) is not authorized to perform: iam:DeleteUserPermissionsBoundary on resource: user cli-capped because no permissions boundary allows the iam:DeleteUserPermissionsBoundary action" \
  iam delete-user-permissions-boundary --user-name cli-capped
eq "capped user's boundary after the denied delete" "$(awsx iam get-user --user-name cli-capped --query 'User.PermissionsBoundary.PermissionsBoundaryArn')" "$readonly_arn"

# Denied requests changed nothing: the same users as before.
eq "users after the denied requests" "$(awsx iam list-users --query 'Users[].UserName' | tr '\t' '\n' | sort | tr '\n' ' ')" "$users_before"

# Once root lifts the boundary, the admin policy applies in full.
awsx iam delete-user-permissions-boundary --user-name cli-capped
allowed cli-capped iam create-user --user-name cli-eve
echo "all enforcement checks passed"
