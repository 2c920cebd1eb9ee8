#!/usr/bin/env bash
# Drives Gatehouse's STS with the stock aws CLI: assume-role, then calls with the returned
# temporary credentials; get-session-token, get-federation-token, get-access-key-info and the
# errors of bad temporary credentials. Needs GATEHOUSE_ENDPOINT and root credentials in
# AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
set -euo pipefail

source "$(dirname "$0")/lib.sh"
# as_creds KEY SECRET TOKEN aws-args...: runs the CLI with the given credentials.
as_creds() {
  local k=$1 s=$2 tok=$3; shift 3
  AWS_ACCESS_KEY_ID=$k AWS_SECRET_ACCESS_KEY=$s AWS_SESSION_TOKEN=$tok "$@"
}

account=$(awsx sts get-caller-identity --query Account)

# A user with a key and a role that trusts it.
awsx iam create-user --user-name cli-sts-dev >/dev/null
read -r ukey usecret < <(awsx iam create-access-key --user-name cli-sts-dev --query 'AccessKey.[AccessKeyId,SecretAccessKey]')
cat >"$tmp/trust.json" <<JSON
{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::$account:user/cli-sts-dev"},"Action":["sts:AssumeRole","sts:TagSession"]}]}
JSON
cat >"$tmp/perms.json" <<JSON
{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListRoles","iam:GetRole"],"Resource":"*"}]}
JSON
awsx iam create-role --role-name cli-sts-reader --assume-role-policy-document "file://$tmp/trust.json" --max-session-duration 7200 >/dev/null
awsx iam put-role-policy --role-name cli-sts-reader --policy-name read --policy-document "file://$tmp/perms.json"
role_arn="arn:aws:iam::$account:role/cli-sts-reader"

# sts assume-role with the user's key; then the CLI uses the temporary credentials.
read -r akey asecret atoken aarn < <(as_creds "$ukey" "$usecret" "" awsx sts assume-role --role-arn "$role_arn" --role-session-name cli-session \
  --duration-seconds 3600 --tags Key=team,Value=blue --query '[Credentials.AccessKeyId,Credentials.SecretAccessKey,Credentials.SessionToken,AssumedRoleUser.Arn]')
[[ "$akey" == ASIA* ]] || fail "temporary key id $akey does not start with ASIA"
echo "ok  assume-role returned an ASIA key"
eq "assumed role user" "$aarn" "arn:aws:sts::$account:assumed-role/cli-sts-reader/cli-session"
eq "caller with role credentials" "$(as_creds "$akey" "$asecret" "$atoken" awsx sts get-caller-identity --query Arn)" "$aarn"
eq "role session lists roles" "$(as_creds "$akey" "$asecret" "$atoken" awsx iam list-roles --query 'Roles[?RoleName==`cli-sts-reader`].RoleName')" "cli-sts-reader"
if out=$(as_creds "$akey" "$asecret" "$atoken" awsx iam create-user --user-name cli-nope 2>&1); then fail "the role session created a user"; fi
[[ "$out" == *"(AccessDenied)"* ]] || fail "create-user with role credentials: $out"
echo "ok  role session is limited to the role's policy"

# The same flow through a CLI profile (role_arn + source_profile): the CLI assumes the role.
mkdir -p "$(dirname "$AWS_CONFIG_FILE")"
cat >>"$AWS_SHARED_CREDENTIALS_FILE" <<INI
[cli-sts-dev]
aws_access_key_id = $ukey
aws_secret_access_key = $usecret
INI
cat >>"$AWS_CONFIG_FILE" <<INI
[profile cli-sts-role]
role_arn = $role_arn
source_profile = cli-sts-dev
role_session_name = from-profile
region = us-east-1
INI
eq "caller through a role profile" "$(awsx --profile cli-sts-role sts get-caller-identity --query Arn)" "arn:aws:sts::$account:assumed-role/cli-sts-reader/from-profile"

# Errors of assume-role.
expect_error AccessDenied sts assume-role --role-arn "$role_arn" --role-session-name as-root
if out=$(as_creds "$ukey" "$usecret" "" awsx sts assume-role --role-arn "$role_arn" --role-session-name too-long --duration-seconds 7201 2>&1); then fail "7201 s accepted"; fi
[[ "$out" == *"(ValidationError)"*"MaxSessionDuration"* ]] || fail "duration over the role's maximum: $out"
echo "ok  error ValidationError for a duration over MaxSessionDuration"
if out=$(as_creds "$akey" "$asecret" "$atoken" awsx sts assume-role --role-arn "$role_arn" --role-session-name chained 2>&1); then fail "the role session assumed a role without permission"; fi
[[ "$out" == *"(AccessDenied)"* ]] || fail "chained assume-role: $out"
echo "ok  role session without sts:AssumeRole cannot chain"

# Tampered and unknown temporary credentials.
bad="${atoken:0:40}AAAA${atoken:44}"
if out=$(as_creds "$akey" "$asecret" "$bad" awsx sts get-caller-identity 2>&1); then fail "tampered token accepted"; fi
[[ "$out" == *"(InvalidClientTokenId)"* ]] || fail "tampered token: $out"
echo "ok  error InvalidClientTokenId for a tampered token"
if out=$(as_creds "$akey" "wrongsecretwrongsecretwrongsecretwrongse" "$atoken" awsx sts get-caller-identity 2>&1); then fail "wrong secret accepted"; fi
[[ "$out" == *"(SignatureDoesNotMatch)"* ]] || fail "wrong secret: $out"
echo "ok  error SignatureDoesNotMatch for the wrong secret"

# GetSessionToken as root: an hour at most; GetAccessKeyInfo.
read -r skey ssecret stoken < <(awsx sts get-session-token --duration-seconds 900 --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]')
eq "root session caller" "$(as_creds "$skey" "$ssecret" "$stoken" awsx sts get-caller-identity --query Arn)" "arn:aws:iam::$account:root"
eq "get-access-key-info of a temporary key" "$(awsx sts get-access-key-info --access-key-id "$akey" --query Account)" "$account"
eq "get-access-key-info of a user key" "$(awsx sts get-access-key-info --access-key-id "$ukey" --query Account)" "$account"

# GetFederationToken as root, with a session policy.
cat >"$tmp/fed.json" <<JSON
{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}
JSON
eq "federated user" "$(awsx sts get-federation-token --name cli-fed --policy "file://$tmp/fed.json" --query FederatedUser.Arn)" "arn:aws:sts::$account:federated-user/cli-fed"
echo "all sts aws-cli checks passed"
